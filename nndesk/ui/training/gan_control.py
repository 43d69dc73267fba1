"""The training controller's GAN part (issue 16): which document is a GAN, its
sessions, the preview picture, and the GAN's own controls.

The ``TrainingController`` runs a GAN like any network (one worker thread, the
same Train, Pause, Resume, Stop and Step Batch); this part supplies what
differs: a ``GanSession`` instead of a ``TrainingSession``, a ``GanWorker``,
the steps of one network alone (Step Discriminator, Step Generator), Step Both
(the discriminator's k steps and the generator's step), slow motion, and the
GAN picture of the state the window shows when no run is under way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from nndesk.document.graph import Document, GraphView
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Dataset
from nndesk.io.project_file import Project
from nndesk.training.control import TrainingControl
from nndesk.training.gan import GanSession, GanState

from .gan_run import SLOW_STEPS_PER_SECOND, GanWorker, gan_session, is_gan, probe_now

if TYPE_CHECKING:
    from .docks import TrainingDocks

log = logging.getLogger(__name__)

__all__ = ["GAN_MODES", "GanPart"]

GAN_MODES = ("step_discriminator", "step_generator", "step_both")
"""Requests of the GAN's own step actions."""


class GanPart(QObject):
    """What the controller does differently for a GAN document.

    Attributes
    ----------
    active : bool
        Whether the window's document is a GAN.
    """

    def __init__(self, view: TrainingDocks, control: TrainingControl) -> None:
        super().__init__(view)
        self.view = view
        self.control = control
        self.active = False
        self.worker: GanWorker | None = None
        view.actions.slow_motion.toggled.connect(self._on_slow_motion_toggled)

    # --- the document ----------------------------------------------------------------
    def follow(self, doc: GraphView | None) -> bool:
        """The document is (still) a GAN or not: show the GAN controls and
        views; returns whether that changed."""
        gan = doc is not None and is_gan(doc)
        changed = gan != self.active
        self.active = gan
        if changed:
            self.view.set_gan(gan)
        return changed

    def session(
        self, source: object, view: GraphView, base_dir: Path | None
    ) -> GanSession:
        """The session a run (or the preview) of ``view`` trains, carrying on from
        ``source`` (the controller's kept state) where the shapes still fit.

        Raises
        ------
        NNDeskError
            When the GAN does not compile.
        """
        if isinstance(source, GanSession) and source.snapshot.same_content(view):
            return source
        return gan_session(source, view, base_dir)

    def preview(
        self, source: object, doc: Document, dataset: Dataset, base_dir: Path | None
    ) -> GanSession | None:
        """Show the GAN picture of the kept state (fresh weights before any
        training); returns the session shown (None: the GAN does not compile)."""
        try:
            session = self.session(source, doc.snapshot(), base_dir)
            picture = probe_now(session, dataset)
        except NNDeskError as exc:
            log.debug("no GAN preview: %s", exc)
            return None
        self.view.show_gan(picture)
        return session

    @staticmethod
    def restore(project: Project, base_dir: Path | None) -> GanSession | GanState:
        """The trained state of an opened GAN file: its session, or its state
        alone when its network does not compile now."""
        try:
            return GanSession.from_project(project, base_dir=base_dir)
        except NNDeskError as exc:
            log.info("the opened GAN does not compile: %s", exc)
            return GanState.from_project(project)

    # --- runs --------------------------------------------------------------------------
    def attach(self, worker: GanWorker) -> None:
        """A run starts on ``worker``: slow motion applies to it."""
        self.worker = worker
        worker.set_slow_motion(self._slow())

    def detach(self) -> None:
        """The run ended."""
        self.worker = None

    def prime(self, mode: str) -> None:
        """Before a new run's thread starts in ``mode`` (``GAN_MODES``): it
        starts paused and takes that step first."""
        self.control.pause()
        self.step(mode)

    def step(self, mode: str) -> None:
        """One discriminator step, one generator step, or one whole GAN step
        (the discriminator's remaining steps of the schedule, then the
        generator's), then pause."""
        worker = self.worker
        if worker is None:
            return
        if mode == "step_both":
            trainer = worker.job.session.trainer
            # An int read across threads: at worst one batch more or fewer.
            left = max(1, trainer.config.d_steps - trainer.since_generator_step)
            for _ in range(left):
                self.control.step_batch()
        else:
            worker.request_step(mode.removeprefix("step_"))

    def _slow(self) -> float:
        return (
            SLOW_STEPS_PER_SECOND if self.view.actions.slow_motion.isChecked() else 0.0
        )

    def _on_slow_motion_toggled(self, _on: bool) -> None:
        if self.worker is not None:
            self.worker.set_slow_motion(self._slow())
