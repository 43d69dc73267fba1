"""The dataset of the network the main window shows: kept loaded as its settings
change, and dataset edits that carry the Input nodes' shape along.

``WindowDataset`` follows one document at a time. It asks its ``DatasetSource``
for the data the settings name (at once, or in the background for a big file),
tells the canvas what arrived, and reports through signals; the main window owns
the widgets (status label, busy bar, Problems list) and connects them; a failed
load is never told in a dialog.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand

from nndesk.document import events as ev
from nndesk.document.graph import Document
from nndesk.document.painted import PaintedPoints
from nndesk.document.text import counted
from nndesk.document.validate import Problem
from nndesk.engine.data import sample_fits_input
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Dataset
from nndesk.io.datasets.painted import is_painted_spec
from nndesk.io.datasets.spec import rebase_spec
from nndesk.io.project_file import Project

from .canvas.commands import MacroCommand, SetParamCommand, SetSettingCommand
from .canvas.editor import CanvasEditor
from .dataset_source import DatasetKey, DatasetSource

log = logging.getLogger(__name__)

DATASET_SETTINGS = ("dataset", "dataset_target", "seed")
# The settings whose change may change the Input shape (the seed does not).
DATASET_CHANGES = frozenset({"dataset", "dataset_target"})


class WindowDataset(QObject):
    """The dataset that the shown network's settings name.

    Parameters
    ----------
    editor
        The window's canvas editor: shows dataset info on the canvas and takes
        the undo steps of dataset edits.
    parent
        The owning QObject (the main window).

    Attributes
    ----------
    source : DatasetSource
        Loads and caches the datasets.
    dataset : Dataset or None
        The loaded dataset (None while none is chosen, loading, or after an error).
    error : str or None
        The one-sentence reason the last load failed.

    Signals
    -------
    sig_changed(object)
        ``dataset`` changed (a Dataset, or None).
    sig_status_changed()
        ``dataset`` or ``error`` was set (``describe`` may say something else);
        the source's ``sig_busy_changed`` tells when a background load starts or
        ends.
    sig_loaded(object)
        A background load brought the Dataset now shown.
    sig_error(str)
        A load failed; sent once per failure (finding it again is not news).
    """

    sig_changed = Signal(object)
    sig_status_changed = Signal()
    sig_loaded = Signal(object)
    sig_error = Signal(str)

    def __init__(self, editor: CanvasEditor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.source = DatasetSource(self)
        self.dataset: Dataset | None = None
        self.error: str | None = None
        self._doc: Document | None = None
        self._base_dir: Path | None = None
        self._reported_error: tuple[DatasetKey, str] | None = None
        # (the dataset edit's undo step, the key of the data it waits for)
        self._shape_follow_up: tuple[MacroCommand, DatasetKey] | None = None
        self.source.sig_loaded.connect(self._on_source_loaded)
        self.source.sig_failed.connect(self._on_source_failed)
        self.source.painted = self._painted

    @property
    def base_dir(self) -> Path | None:
        """The folder relative dataset paths are relative to (the network file's)."""
        return self._base_dir

    @property
    def loading(self) -> bool:
        """Whether the dataset the settings name is loading in the background."""
        return self.source.busy

    def set_document(self, doc: Document, base_dir: Path | None) -> None:
        """Follow ``doc``'s dataset settings (relative paths from ``base_dir``);
        call ``reload`` to load its data."""
        if self._doc is not None:
            self._doc.events.settings_changed.disconnect(self._on_settings_changed)
            self._doc.events.painted_changed.disconnect(self._on_painted_changed)
        self._doc = doc
        self._base_dir = base_dir
        self._shape_follow_up = None
        doc.events.settings_changed.connect(self._on_settings_changed)
        doc.events.painted_changed.connect(self._on_painted_changed)

    def rebased(self, project: Project, base_dir: Path) -> Project:
        """``project`` as it is saved in ``base_dir``: a relative dataset path is
        rewritten to name the same file from there (``rebase_spec``); the shown
        document is left as it is until ``set_base_dir``."""
        spec = project.document.settings.get("dataset", "")
        moved = rebase_spec(spec, self._base_dir, base_dir)
        if moved == spec:
            return project
        doc = project.document.copy()
        doc.set_setting("dataset", moved)
        return dataclasses.replace(project, document=doc)

    def set_base_dir(self, base_dir: Path | None) -> None:
        """The network file moved to ``base_dir`` (it was saved there): a relative
        dataset path is rewritten to name the same file from there, as ``rebased``
        wrote it, and the data already loaded is kept.

        The rewrite is no edit (no undo step): the network names the same data.
        """
        doc, old_dir = self._doc, self._base_dir
        if base_dir == old_dir:
            return
        self._base_dir = base_dir
        if doc is None or base_dir is None:
            self.reload()
            return
        self._rebase_undo_steps(old_dir, base_dir)
        spec = doc.settings.get("dataset", "")
        moved = rebase_spec(spec, old_dir, base_dir)
        if moved == spec:
            self.reload()  # a bare name may find another file in the new folder
            return
        settings = {**doc.settings, "dataset": moved}
        self.source.alias(
            self.source.key(doc.settings, old_dir), self.source.key(settings, base_dir)
        )
        doc.set_setting("dataset", moved)  # reloads: found under its new key

    def _rebase_undo_steps(self, old_dir: Path | None, base_dir: Path) -> None:
        """Dataset paths in the undo history name the same files from ``base_dir``
        (undo and redo after Save As would otherwise set paths of the old folder)."""

        def rewrite(value: Any) -> Any:
            return (
                rebase_spec(value, old_dir, base_dir)
                if isinstance(value, str)
                else value
            )

        def visit(command: QUndoCommand) -> None:
            if isinstance(command, MacroCommand):
                for child in command.commands:
                    visit(child)
            elif isinstance(command, SetSettingCommand) and command.name == "dataset":
                command.map_values(rewrite)

        stack = self.editor.undo_stack
        for i in range(stack.count()):
            visit(stack.command(i))

    def shutdown(self) -> None:
        """Wait for background loads and stop following the document."""
        self.source.shutdown()
        self._shape_follow_up = None
        if self._doc is not None:
            self._doc.events.settings_changed.disconnect(self._on_settings_changed)
            self._doc.events.painted_changed.disconnect(self._on_painted_changed)
            self._doc = None

    # -- loading ------------------------------------------------------------------------

    def reload(self, wait: bool = False) -> Dataset | None:
        """Load the dataset the settings name (cached); errors go to ``sig_error``.

        Small datasets (generators, small files) load at once. A big file loads in
        the background: this returns None, ``dataset`` is None and ``loading`` is
        True until ``sig_changed`` brings it. A newer reload supersedes one under
        way.

        Parameters
        ----------
        wait
            Load a big dataset before returning (blocks the window meanwhile).
        """
        doc = self._doc
        if doc is None:
            return None
        settings, base_dir = doc.settings, self._base_dir
        key = self.source.key(settings, base_dir)
        source = self.source
        try:
            if source.pending_key == key:
                return self.wait() if wait else None
            if wait or source.is_quick(settings, base_dir):
                dataset = source.load_now(settings, base_dir)
            else:
                hit, dataset = source.cached(settings, base_dir)
                if not hit:
                    source.request(settings, base_dir)
                    self._set_dataset(None, None)
                    return None
        except NNDeskError as exc:
            source.cancel()
            self._failed(key, str(exc))
            return None
        source.cancel()  # whatever still loads is no longer what the settings name
        self._set_dataset(dataset, None)
        return dataset

    def wait(self, timeout_ms: int = 60_000) -> Dataset | None:
        """Wait (running the event loop) until a background load ends; the dataset.

        Returns at once when nothing loads.
        """
        if self.source.busy:
            loop = QEventLoop(self)
            self.source.sig_busy_changed.connect(loop.quit)
            QTimer.singleShot(timeout_ms, loop.quit)
            if self.source.busy:
                loop.exec()
            self.source.sig_busy_changed.disconnect(loop.quit)
        return self.dataset

    def problems(self) -> tuple[Problem, ...]:
        """The Problems-list entry of a dataset that failed to load (else none)."""
        return (Problem(None, self.error),) if self.error else ()

    def describe(self) -> tuple[str, str]:
        """The status-bar text and its tooltip for what is loaded (or loading)."""
        if self.source.busy and self._doc is not None:
            spec = str(self._doc.settings.get("dataset", ""))
            return (
                f"Data: loading {Path(spec).name}…",
                f"Loading {spec} in the background.",
            )
        if self.dataset is not None:
            ds = self.dataset
            return f"Data: {ds.name} · {counted(len(ds), 'sample')}", ds.summary()
        if self.error:
            return "Data: error", self.error
        return "Data: none", "Choose a dataset in the network settings."

    def _set_dataset(self, dataset: Dataset | None, error: str | None) -> None:
        changed = dataset is not self.dataset
        self.dataset = dataset
        self.error = error
        if error is None:
            self._reported_error = None
        self.editor.scene.set_dataset_info(dataset)
        self.sig_status_changed.emit()
        if changed:
            self.sig_changed.emit(dataset)

    def _failed(self, key: DatasetKey, message: str) -> None:
        self._set_dataset(None, message)
        # The same failure found again (a reload after Save) is not news.
        if self._reported_error != (key, message):
            self._reported_error = (key, message)
            self.sig_error.emit(message)

    def _current_key(self) -> DatasetKey | None:
        if self._doc is None:
            return None
        return self.source.key(self._doc.settings, self._base_dir)

    def _on_source_loaded(self, key: DatasetKey, dataset: Dataset | None) -> None:
        if key != self._current_key():
            return
        self._set_dataset(dataset, None)
        follow_up, self._shape_follow_up = self._shape_follow_up, None
        if follow_up is not None and follow_up[1] == key and dataset is not None:
            self._follow_input_shape(follow_up[0], dataset.input_shape)
        if dataset is not None:
            self.sig_loaded.emit(dataset)

    def _on_source_failed(self, key: DatasetKey, message: str) -> None:
        if key == self._current_key():
            self._shape_follow_up = None
            self._failed(key, message)

    def _on_settings_changed(self, event: ev.SettingsChanged) -> None:
        if event.name in DATASET_SETTINGS:
            self.reload()

    def _on_painted_changed(self, _event: object) -> None:
        if self._doc is not None and is_painted_spec(self._doc.settings["dataset"]):
            self.reload()  # the painted points are the dataset: it changed

    def _painted(self) -> PaintedPoints | None:
        return self._doc.painted if self._doc is not None else None

    # -- editing ------------------------------------------------------------------------

    def edit_setting(self, name: str, value: Any) -> bool:
        """An edit of a network setting. Changing the dataset also sets the Input
        node's shape to the new data's, in the same undo step.

        A dataset that loads in the background gets its Input shape when it
        arrives, added to the same undo step (or as a step of its own when other
        edits came in between).
        """
        return self.edit_settings({name: value})

    def edit_settings(self, values: Mapping[str, Any], text: str = "") -> bool:
        """Several setting edits as one undo step (the Data panel's: a file and
        its target column), with the Input shape following the dataset as in
        ``edit_setting``. Settings already at their value are left out; False when
        the document refused the edit.

        Parameters
        ----------
        values
            Setting name -> new value.
        text
            The undo step's text (default: "Set <first name>").
        """
        doc = self._doc
        if doc is None:
            return False
        changed = {k: v for k, v in values.items() if doc.settings.get(k) != v}
        if not changed:
            return True
        if not set(changed) & DATASET_CHANGES and len(changed) == 1:
            [(name, value)] = changed.items()
            return self.editor.set_setting(name, value)
        trial = {**doc.settings, **changed}
        base_dir = self._base_dir
        at_hand, dataset = True, None
        if set(changed) & DATASET_CHANGES:
            try:
                # Through the cache: the reload after the edit finds it there.
                dataset = self.source.load(trial, base_dir)
                at_hand = dataset is not None or self.source.is_quick(trial, base_dir)
            except NNDeskError:
                dataset = None  # the reload after the edit reports it
        shape = dataset.input_shape if dataset is not None else None
        inputs = self._inputs_to_reshape(shape)
        first = next(iter(changed))
        title = text or f"Set {first.replace('_', ' ')}"

        def build(d: Document) -> QUndoCommand:
            if len(changed) == 1 and not inputs and at_hand:
                return SetSettingCommand(d, first, changed[first])
            command = MacroCommand(title)
            for name, value in changed.items():
                command.add(SetSettingCommand(d, name, value))
            for node_id in inputs:
                command.add(SetParamCommand(d, node_id, "shape", shape))
            return command

        command = self.editor.push(build)
        if command is not None and not at_hand and self.source.busy:
            assert isinstance(command, MacroCommand)
            self._shape_follow_up = (command, self.source.key(trial, base_dir))
        return command is not None

    def _inputs_to_reshape(self, shape: tuple[int, ...] | None) -> list[str]:
        if shape is None or self._doc is None:
            return []
        # An Input of (28, 28, 1) keeps its channel axis for (28, 28) images.
        return [
            n.id
            for n in self._doc.nodes_of_type("Input")
            if not sample_fits_input(shape, n.params["shape"])
        ]

    def _follow_input_shape(self, macro: MacroCommand, shape: tuple[int, ...]) -> None:
        """Give the Input nodes the shape of data that arrived after the edit."""
        doc, stack = self._doc, self.editor.undo_stack
        inputs = self._inputs_to_reshape(shape)
        if doc is None or not inputs:
            return
        top = stack.command(stack.count() - 1) if stack.count() else None
        if stack.index() != stack.count() or top is not macro:
            # Other edits came in between: a step of its own, undone separately.
            def build(d: Document) -> QUndoCommand:
                command = MacroCommand("Set input shape")
                for node_id in inputs:
                    command.add(SetParamCommand(d, node_id, "shape", shape))
                return command

            self.editor.push(build)
            return
        was_clean = stack.isClean()
        for node_id in inputs:
            command = SetParamCommand(doc, node_id, "shape", shape)
            try:
                command.redo()
            except NNDeskError as exc:
                self.editor.show_message(str(exc))
                continue
            macro.add(command)
        if was_clean:
            stack.resetClean()  # the document changed after it was saved
