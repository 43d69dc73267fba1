"""The Data panel with sequence data (issue 14): sequence generators, text and
CSV time series show their options as widgets; every change is one undo step."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_data_panel import field, panel_of
from ui_helpers import OFFSCREEN_NOISE

from nndesk.io.datasets.sequences import decode
from nndesk.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def test_sequence_generators_are_listed_with_their_options(
    qtbot, main_window: MainWindow
) -> None:
    panel = panel_of(main_window)
    index = panel.source_combo.findData("generator:digit-addition")
    assert index >= 0
    panel.source_combo.activated.emit(index)
    doc = main_window.document
    assert doc.settings["dataset"] == "digit-addition:n=2000,digits=3"
    assert [f.spec.name for f in panel._fields] == ["n", "digits"]
    field(panel, "digits").spin.setValue(2)
    assert doc.settings["dataset"] == "digit-addition:n=2000,digits=2"
    qtbot.waitUntil(
        lambda: (
            main_window.dataset is not None and main_window.dataset.input_shape == (9,)
        )
    )
    data = main_window.dataset
    assert decode(data.x[0], data.vocabulary)[2] == "+"


def test_text_source_shows_window_and_step(qtbot, main_window: MainWindow) -> None:
    panel = panel_of(main_window)
    doc, stack = main_window.document, main_window.undo_stack
    index = panel.source_combo.findText("Text (characters)")
    assert index >= 0
    count = stack.count()
    panel.source_combo.activated.emit(index)
    assert doc.settings["dataset"] == "text:window=40,step=1"
    assert stack.count() == count + 1
    assert panel.source_combo.currentIndex() == index
    assert [f.spec.name for f in panel._fields] == ["window", "step"]
    assert "Python documentation" in panel.description.text()
    field(panel, "window").spin.setValue(64)
    assert doc.settings["dataset"] == "text:window=64,step=1"
    qtbot.waitUntil(
        lambda: (
            main_window.dataset is not None and main_window.dataset.input_shape == (64,)
        )
    )
    assert len(main_window.dataset.vocabulary) > 50
    stack.undo()
    assert doc.settings["dataset"] == "text:window=40,step=1"
    assert field(panel, "window").value() == 40


def test_a_text_file_keeps_its_path_when_the_window_changes(
    main_window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "poem.txt"
    path.write_text("the cat sat on the mat\n" * 5, encoding="utf-8")
    panel = panel_of(main_window)
    panel.spec_edit.setText(f"text:path={path},window=5")
    panel.spec_edit.editingFinished.emit()
    assert str(path) in panel.description.text()
    field(panel, "step").spin.setValue(2)
    assert main_window.document.settings["dataset"] == (
        f"text:path={path},window=5,step=2"
    )


def test_a_csv_series_shows_window_and_horizon(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "weather.csv"
    rows = [f"{t},{t * 0.5},{t % 7}" for t in range(40)]
    path.write_text("hour,temp,wind\n" + "\n".join(rows) + "\n", encoding="utf-8")
    panel = panel_of(main_window)
    panel.spec_edit.setText(f"{path}:series=temp+wind,window=5")
    panel.spec_edit.editingFinished.emit()
    assert [f.spec.name for f in panel._fields] == ["window", "horizon"]
    assert "Time series of temp + wind" in panel.description.text()
    assert "next value(s) of temp" in panel.description.text()
    field(panel, "horizon").spin.setValue(3)
    spec = main_window.document.settings["dataset"]
    assert spec == f"{path}:series=temp+wind,window=5,horizon=3"
    qtbot.waitUntil(
        lambda: (
            main_window.dataset is not None
            and main_window.dataset.input_shape == (5, 2)
        )
    )
    assert main_window.dataset.y.shape == (40 - 5 - 3 + 1, 3)
    main_window.undo_stack.undo()
    assert main_window.document.settings["dataset"] == (
        f"{path}:series=temp+wind,window=5"
    )


def test_the_preview_draws_sequences_and_writes_tokens_out(
    qtbot, main_window: MainWindow
) -> None:
    panel = panel_of(main_window)
    preview = panel.preview
    panel.spec_edit.setText("sine-forecast:n=50,window=16,horizon=3")
    panel.spec_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: preview.mode == "sequences")
    lines = [i for i in preview._traces if hasattr(i, "getData")]
    # five traces of 16 steps, each followed by its 3 targets
    assert sorted(len(i.getData()[0]) for i in lines) == [3] * 5 + [16] * 5
    panel.spec_edit.setText("digit-addition:n=20,digits=2")
    panel.spec_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: preview.mode == "table")
    assert preview._traces == []  # the lines went with their dataset
    table = preview.table
    assert table.horizontalHeaderItem(0).text().startswith("sequence")
    question, answer = table.item(0, 0).text(), table.item(0, 1).text()
    a, b = question.rstrip("_=").split("+")
    assert int(answer.strip("_")) == int(a) + int(b)
    assert preview.note.text() == "20 samples of 9 token ids (13 tokens)."


def test_a_big_text_file_loads_in_the_background(tmp_path: Path) -> None:
    from nndesk.ui.dataset_source import DatasetSource

    source = DatasetSource()
    text = tmp_path / "book.txt"
    text.write_text("words and more words\n" * 100, encoding="utf-8")
    assert source.is_quick({"dataset": "text:window=40"}, None)  # Python's docs
    assert source.is_quick({"dataset": "text:path=book.txt,window=5"}, tmp_path)
    source.quick_bytes = text.stat().st_size - 1
    assert not source.is_quick({"dataset": "text:path=book.txt,window=5"}, tmp_path)
