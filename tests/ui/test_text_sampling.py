"""The Text Sampling panel driven like a user: a typed prompt, Enter, unknown
characters, generation in a pool thread that never stalls the window, and a run
whose epoch ends follow the typed prompt."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.examples import _chain
from nndesk.document.graph import Document
from nndesk.engine.layers import LSTM, Dense, Embedding, Input
from nndesk.engine.model import Model
from nndesk.training import sequence_views as sv
from nndesk.training.compile import compile_network
from nndesk.ui.panels.plots.text_sampling import TextSamplingPanel
from nndesk.ui.training.probes import Prober, describe_model

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

VOCAB = list("ab c.\n")


def char_model(vocab: int = len(VOCAB), window: int = 7, units: int = 6) -> Model:
    inp = Input((window,), dtype="int", name="ids")
    h = Embedding(vocab, 3, name="emb")(inp)
    h = LSTM(units, name="lstm")(h)
    out = Dense(vocab, activation="softmax", name="out")(h)
    return Model(inp, out, seed=1).build()


def setup(vocab=VOCAB, window: int = 7, units: int = 6):
    """A character model, a prober with a sampler (a model of its own), the data."""
    model = char_model(len(vocab), window, units)
    rng = np.random.default_rng(0)
    x = rng.integers(0, len(vocab), size=(30, window)).astype(np.float32)
    y = rng.integers(0, len(vocab), 30)
    sampler = sv.TextSampler(
        lambda: char_model(len(vocab), window, units), vocab, window
    )
    info = describe_model(model, class_names=vocab)
    prober = Prober(model, info, x, y, batch_size=30, vocabulary=vocab, sampler=sampler)
    return model, x, prober


def shown(qtbot, panel, width=900, height=460):
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def expected(probe, vocab, prompt_ids, length, seed):
    """``sample_text`` called directly on a model holding the probe's weights."""
    window = len(prompt_ids)
    model = char_model(len(vocab), window, probe.weights["lstm/kernel"].shape[1] // 4)
    model.set_weights(probe.weights)
    texts = sv.sample_text(
        model,
        vocab,
        prompt_ids,
        sv.TEMPERATURES,
        length,
        sv.sampling_rng(seed, probe.epoch),
    )
    return dict(zip(sv.TEMPERATURES, texts, strict=True))


def enter_prompt(qtbot, panel, text):
    panel.prompt_edit.clear()
    qtbot.mouseClick(panel.prompt_edit, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(panel.prompt_edit, text)
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return)


def test_enter_in_the_prompt_generates_text_starting_from_it(qtbot):
    model, x, prober = setup()
    panel = shown(qtbot, TextSamplingPanel())
    panel.set_structure(len(x))
    probe = prober.probe(3, 0, 0.0, gradients=False, samples=False)
    assert not probe.sequence.samples  # the window's probe draws no text itself
    with qtbot.waitSignal(panel.sig_generated, timeout=10_000):
        panel.set_probe(probe)  # between runs: sampled in the pool thread
    want = expected(probe, VOCAB, x[3], sv.SAMPLE_LENGTH, panel.seed)
    assert dict(panel.shown.samples) == want
    with qtbot.waitSignal(panel.sig_generated, timeout=10_000):
        enter_prompt(qtbot, panel, "ab a")
    assert panel.request.text == "ab a" and panel.seed == 1
    ids = sv.prompt_window("ab a", VOCAB, 7).ids
    np.testing.assert_array_equal(ids, [2, 2, 2, 0, 1, 2, 0])  # 3 spaces before
    want = expected(probe, VOCAB, ids, sv.SAMPLE_LENGTH, panel.seed)
    assert dict(panel.shown.samples) == want
    panel.flush()
    assert panel.text.toPlainText().endswith("ab a" + want[panel.temperature])
    assert "padded on the left with 3" in panel.status.text()
    # The Generate button draws again, with the next seed: other text.
    with qtbot.waitSignal(panel.sig_generated, timeout=10_000):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert panel.seed == 2
    assert dict(panel.shown.samples) == expected(probe, VOCAB, ids, 80, 2)
    # The length box asks for that many characters.
    with qtbot.waitSignal(panel.sig_generated, timeout=10_000):
        panel.length_box.setValue(12)
    assert all(len(t) == 12 for t in panel.shown.samples.values())


def test_unknown_characters_are_left_out_and_said_or_the_prompt_refused(qtbot):
    _, x, prober = setup()
    panel = shown(qtbot, TextSamplingPanel())
    panel.set_structure(len(x))
    with qtbot.waitSignal(panel.sig_generated, timeout=10_000):
        panel.set_probe(prober.probe(0, 0, 0.0, gradients=False, samples=False))
    with qtbot.waitSignal(panel.sig_generated, timeout=10_000):
        enter_prompt(qtbot, panel, "aXb Zb")
    status = panel.status.text()
    assert "Left out 'X', 'Z'" in status and "vocabulary of 6 characters" in status
    assert panel.shown.prompt == "ab b" and panel.request.text == "ab b"
    before = panel.shown
    enter_prompt(qtbot, panel, "XYZ")
    assert not panel.generating and panel.shown is before
    assert "None of the prompt's characters" in panel.status.text()
    assert panel.request.text == "ab b"  # the refused prompt asked nothing
    with qtbot.waitSignal(panel.sig_generated, timeout=10_000):
        enter_prompt(qtbot, panel, "ab. ab. ab.")
    assert "the last 7 of the prompt's 11" in panel.status.text()
    assert panel.shown.prompt == "ab. ab. ab."
    # Another network whose vocabulary lacks the prompt's characters: said, and
    # nothing sampled until the prompt changes.
    _, x2, other = setup(list("xyz-"))
    panel.set_structure(len(x2))
    panel.set_probe(other.probe(0, 0, 0.0, gradients=False, samples=False))
    assert not panel.generating and panel.shown is None
    assert "None of the prompt's characters" in panel.status.text()
    with qtbot.waitSignal(panel.sig_generated, timeout=10_000):
        enter_prompt(qtbot, panel, "xy")
    assert panel.shown.prompt == "xy" and "padded" in panel.status.text()


@pytest.mark.slow
def test_a_long_generation_never_stalls_the_event_loop_and_the_latest_wins(qtbot):
    vocab = [chr(c) for c in range(32, 92)]
    _, x, prober = setup(vocab, window=32, units=128)
    panel = shown(qtbot, TextSamplingPanel())
    panel.set_structure(len(x))
    panel.length_box.setValue(600)  # before a probe: nothing to sample yet
    assert not panel.generating
    probe = prober.probe(0, 0, 0.0, gradients=False, samples=False)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    started = time.perf_counter()
    timer.start()
    panel.set_probe(probe)
    assert panel.generating and "Generating 600 characters" in panel.status.text()
    qtbot.wait(200)
    # A newer prompt replaces the one under way: only its text is shown.
    with qtbot.waitSignal(panel.sig_generated, timeout=60_000) as blocker:
        enter_prompt(qtbot, panel, "HELLO")
        last[0] = time.perf_counter()  # key clicks are the test's own events
    qtbot.waitUntil(lambda: not panel.generating, timeout=60_000)
    took = time.perf_counter() - started
    timer.stop()
    assert blocker.signal_triggered
    assert panel.shown.prompt == "HELLO" and panel.shown.key[0] == "HELLO"
    assert all(len(t) == 600 for t in panel.shown.samples.values())
    assert took > 0.5, "the generation was too short to tell anything"
    assert len(gaps) > 20
    assert max(gaps) < 0.1, f"the GUI thread stalled {max(gaps) * 1000:.0f} ms"


def char_document(path, text: str) -> Document:
    vocab = len(set(text))
    doc = Document(
        {
            "dataset": f"text:path={path},window=8,step=3",
            "optimizer": "adam",
            "learning_rate": 0.01,
            "batch_size": 32,
            "epochs": 4,
            "metrics": ("accuracy",),
            "validation_split": 0.0,
        }
    )
    _chain(
        doc,
        [
            ("Input", {"shape": (8,), "dtype": "int"}),
            ("Embedding", {"input_dim": vocab, "output_dim": 4}),
            ("LSTM", {"units": 8}),
            ("Dense", {"units": vocab, "activation": "softmax"}),
            ("Output", {"loss": "sparse_categorical_crossentropy"}),
        ],
    )
    return doc


@pytest.mark.slow
def test_a_run_samples_the_typed_prompt_at_its_next_epoch_end(
    qtbot, main_window, tmp_path
):
    from nndesk.ui.training.controller import attach_training

    text = "the cat sat on the mat. " * 60
    path = tmp_path / "cats.txt"
    path.write_text(text, encoding="utf-8")
    main_window.set_document(char_document(path, text))
    training = getattr(main_window, "training", None) or attach_training(main_window)
    panel = training.view.text_sampling
    training.view.docks["text_sampling"].raise_()
    qtbot.waitUntil(lambda: panel.sampler is not None, timeout=20_000)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.last_probe is not None, timeout=20_000)
    training.actions.pause.trigger()
    qtbot.waitUntil(lambda: training.state == "paused", timeout=20_000)
    epoch = training.last_probe.epoch
    enter_prompt(qtbot, panel, "the mat")
    with qtbot.waitSignal(training.sig_run_finished, timeout=60_000) as blocker:
        training.actions.resume.trigger()
    assert blocker.args[0].status == "completed"
    seq = training.last_probe.sequence
    assert seq.sample_request is not None and seq.sample_request.text == "the mat"
    assert seq.sample_epoch >= epoch and seq.prompt == "the mat"
    # The worker's draw is sample_text on its weights at that epoch end (the
    # last: a completed run ends with them).
    probe = training.last_probe
    assert seq.sample_epoch == 3
    model = compile_network(main_window.document.snapshot()).model
    model.set_weights(probe.weights)
    vocab = probe.sampler.vocabulary
    texts = sv.sample_text(
        model,
        vocab,
        sv.prompt_window("the mat", vocab, 8).ids,
        sv.TEMPERATURES,
        80,
        sv.sampling_rng(panel.seed, seq.sample_epoch),
    )
    assert seq.samples == dict(zip(sv.TEMPERATURES, texts, strict=True))
    assert panel.shown.prompt == "the mat"
    assert panel.shown.key == ("the mat", 80, panel.seed)
    assert main_window.errors == []
