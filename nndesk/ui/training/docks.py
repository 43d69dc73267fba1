"""The training views of the window: the training dock, the plot docks, the Training
menu and toolbar, and the status-bar progress; and how data reaches them.

``TrainingDocks`` owns the widgets and their layout; the controller decides what
to show and calls ``show_structure``, ``show_probe``, ``show_progress`` and
``show_epoch``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMenu, QToolBar

from nndesk.training.callbacks import format_duration
from nndesk.training.gan_views import GanPicture

from ..panels.plots.activations import ActivationsPanel
from ..panels.plots.attention_maps import AttentionMapsPanel
from ..panels.plots.boundary import BoundaryPanel
from ..panels.plots.evaluation import EvaluationPanel
from ..panels.plots.feature_maps import FeatureMapsPanel
from ..panels.plots.filters import FiltersPanel
from ..panels.plots.forecast import ForecastPanel
from ..panels.plots.gan_curves import GanCurvesPanel
from ..panels.plots.gan_picture import GanPicturePanel
from ..panels.plots.gan_samples import GanSamplesPanel
from ..panels.plots.gates import GatesPanel
from ..panels.plots.gradient_time import GradientTimePanel
from ..panels.plots.head_entropy import HeadEntropyPanel
from ..panels.plots.hidden_state import HiddenStatePanel
from ..panels.plots.histograms import HistogramsPanel
from ..panels.plots.importance import ImportancePanel
from ..panels.plots.loss import CurvesPanel
from ..panels.plots.network import NetworkPanel
from ..panels.plots.saliency import SaliencyPanel
from ..panels.plots.text_sampling import TextSamplingPanel
from ..panels.training_panel import ProgressBar, TrainingPanel
from .actions import TrainingActions
from .probes import ModelInfo, ProbeResult

if TYPE_CHECKING:
    from ..main_window import MainWindow

__all__ = ["PLOT_DOCKS", "TrainingDocks"]

PLOT_DOCKS = (
    "curves",
    "boundary",
    "network",
    "activations",
    "histograms",
    "evaluation",
    "feature_maps",
    "filters",
    "saliency",
    "importance",
    "hidden_state",
    "gates",
    "gradient_time",
    "text_sampling",
    "forecast",
    "attention_maps",
    "head_entropy",
    "gan_picture",
    "gan_samples",
    "gan_curves",
)
"""The plot docks, in the order "show all" lays them out."""

_SKIP_RESULTS = ("epoch", "epochs", "batch", "batches", "size", "samples_per_sec",
                 "eta", "epoch_time", "progress")  # fmt: skip


class TrainingDocks(QObject):
    """The panels, their docks, the Training menu and toolbar, the status progress.

    Attributes
    ----------
    panel : TrainingPanel
        Controls and progress.
    curves, boundary, network, activations, histograms, evaluation
        The plot panels.
    feature_maps, filters, saliency, importance
        The views that explain the network (``training.explain``).
    hidden_state, gates, gradient_time, text_sampling, forecast
        The recurrent views (``training.sequence_views``).
    attention_maps, head_entropy
        The attention views (``training.attention_views``).
    docks : dict[str, QDockWidget]
        ``"training"`` and the ``PLOT_DOCKS`` names.
    info : ModelInfo or None
        The structure the panels show.
    """

    def __init__(self, window: MainWindow, actions: TrainingActions) -> None:
        super().__init__(window)
        self.window = window
        self.actions = actions
        self.info: ModelInfo | None = None
        self._points_key: tuple[int, int] | None = None
        self._make_panels()
        self._make_menu_and_toolbar()
        self._make_status()
        self.default_sizes()

    # --- building ----------------------------------------------------------------------
    def _make_panels(self) -> None:
        w = self.window
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.panel = TrainingPanel(self.actions.controls())
        self.curves = CurvesPanel()
        self.boundary = BoundaryPanel()
        self.network = NetworkPanel()
        self.activations = ActivationsPanel()
        self.histograms = HistogramsPanel()
        self.evaluation = EvaluationPanel()
        self.feature_maps = FeatureMapsPanel()
        self.filters = FiltersPanel()
        self.saliency = SaliencyPanel()
        self.importance = ImportancePanel()
        self.hidden_state = HiddenStatePanel()
        self.gates = GatesPanel()
        self.gradient_time = GradientTimePanel()
        self.text_sampling = TextSamplingPanel()
        self.forecast = ForecastPanel()
        self.attention_maps = AttentionMapsPanel()
        self.head_entropy = HeadEntropyPanel()
        self.gan_picture = GanPicturePanel()
        self.gan_samples = GanSamplesPanel()
        self.gan_curves = GanCurvesPanel()
        self.docks: dict[str, QDockWidget] = {}
        self.docks["training"] = w.add_panel(
            self.panel,
            "Training",
            "training_dock",
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        for key, widget, title in (
            ("curves", self.curves, "Learning Curves"),
            ("boundary", self.boundary, "Decision Boundary"),
            ("network", self.network, "Network"),
        ):
            self.docks[key] = w.add_panel(widget, title, f"{key}_dock", bottom)
        for key, widget, title in (
            ("activations", self.activations, "Activations"),
            ("histograms", self.histograms, "Weight Histograms"),
            ("evaluation", self.evaluation, "Evaluation"),
        ):
            self.docks[key] = w.add_panel(
                widget, title, f"{key}_dock", bottom, tabify_with="network_dock"
            )
        # The explanation views share the boundary's place: a network they apply
        # to (images, convolutions) has no decision boundary to draw, and eight
        # tabs in one group leave each a few letters.
        for key, widget, title in (
            ("feature_maps", self.feature_maps, "Feature Maps"),
            ("filters", self.filters, "Filters"),
            ("saliency", self.saliency, "Saliency"),
            ("importance", self.importance, "Feature Importance"),
            # A recurrent network has no boundary or maps either; its views come
            # forward when its first probe arrives (show_probe).
            ("hidden_state", self.hidden_state, "Hidden State"),
            ("gates", self.gates, "Gates"),
            ("gradient_time", self.gradient_time, "Gradient Through Time"),
            ("text_sampling", self.text_sampling, "Text Sampling"),
            ("forecast", self.forecast, "Forecast"),
            ("attention_maps", self.attention_maps, "Attention Maps"),
            ("head_entropy", self.head_entropy, "Head Entropy"),
            # A GAN's views come forward when a GAN is shown (set_gan).
            ("gan_picture", self.gan_picture, "GAN Picture"),
            ("gan_samples", self.gan_samples, "GAN Samples"),
        ):
            self.docks[key] = w.add_panel(
                widget, title, f"{key}_dock", bottom, tabify_with="boundary_dock"
            )
        self.docks["gan_curves"] = w.add_panel(
            self.gan_curves,
            "GAN Curves",
            "gan_curves_dock",
            bottom,
            tabify_with="network_dock",
        )
        self.docks["boundary"].raise_()
        self.docks["network"].raise_()
        self.gan = self._gan_shown = False
        self._connect_explain_views()

    def _connect_explain_views(self) -> None:
        # One sample for every panel: the activations' box asks the controller.
        for view in (
            self.feature_maps,
            self.saliency,
            self.hidden_state,
            self.gates,
            self.text_sampling,
            self.forecast,
            self.attention_maps,
        ):
            view.sig_sample_requested.connect(self.activations.sample_box.setValue)
        self._sequence_shown = False
        self.evaluation.sig_cell_clicked.connect(self._on_evaluation_cell_clicked)
        self.evaluation.sig_evaluation_shown.connect(self._on_evaluation_shown)
        self.importance.sig_compute_requested.connect(self.actions.evaluate.trigger)
        self._last_pool: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._cell_turn: dict[tuple[int, int], int] = {}

    def _on_evaluation_shown(self, result: object) -> None:
        self.importance.set_importance(getattr(result, "importance", None))

    def _on_evaluation_cell_clicked(self, true: int, predicted: int) -> None:
        """Show a training sample of that true and predicted class, from the probe
        batch; clicking the cell again shows the next one."""
        names = class_names_of(self.info) if self.info is not None else ()
        label = (
            f"true {names[true]}, predicted {names[predicted]}"
            if max(true, predicted) < len(names)
            else f"true {true}, predicted {predicted}"
        )
        pool = self._last_pool
        matches = (
            pool[0][(pool[1] == true) & (pool[2] == predicted)]
            if pool is not None
            else np.zeros(0, np.int64)
        )
        if not len(matches):
            self.window.statusBar().showMessage(
                f"No training sample in the probe batch ({0 if pool is None else len(pool[0])} "
                f"samples) is {label}.",
                6000,
            )
            return
        turn = self._cell_turn.get((true, predicted), -1) + 1
        self._cell_turn[(true, predicted)] = turn
        index = int(matches[turn % len(matches)])
        self.window.statusBar().showMessage(
            f"Sample {index}: {label} ({turn % len(matches) + 1} of {len(matches)} "
            "in the probe batch), shown in Feature Maps, Saliency and Activations.",
            6000,
        )
        self.activations.sample_box.setValue(index)

    def _make_menu_and_toolbar(self) -> None:
        a = self.actions
        bar = self.window.menuBar()
        menu = QMenu("T&raining", bar)
        help_action = next(
            (act for act in bar.actions() if act.text().replace("&", "") == "Help"),
            None,
        )
        if help_action is None:
            bar.addMenu(menu)
        else:
            bar.insertMenu(help_action, menu)
        menu.addActions([a.train, a.pause, a.resume, a.stop])
        menu.addSeparator()
        menu.addActions([a.step_batch, a.step_epoch])
        menu.addActions(list(a.gan_controls()))
        menu.addSeparator()
        menu.addActions([a.evaluate, a.reset])
        menu.addSeparator()
        menu.addAction(a.show_all)
        self.menu = menu
        toolbar = QToolBar("Training toolbar", self.window)
        toolbar.setObjectName("training_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        toolbar.addActions(
            [a.train, a.pause, a.resume, a.stop, a.step_batch, a.step_epoch]
        )
        toolbar.addActions(list(a.gan_controls()))
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.toolbar = toolbar

    def _make_status(self) -> None:
        bar = self.window.statusBar()
        self.progress = ProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(32 * self.window.fontMetrics().averageCharWidth())
        self.progress.setFormat("")
        self.progress.hide()
        self.speed_label = QLabel("")
        self.speed_label.setContentsMargins(8, 0, 8, 0)
        # A fixed size: the text changes ten times a second, and a label whose
        # size may change makes the whole window lay itself out again each time.
        widest = self.speed_label.fontMetrics().horizontalAdvance(
            "9,999,999 samples/s · ETA 99:59:59"
        )
        self.speed_label.setFixedSize(
            widest + 16 + 4, self.speed_label.sizeHint().height()
        )
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.speed_label)
        # Showing the progress bar must not make the status bar taller: that would
        # resize, and repaint, every dock above it when a run starts.
        bar.setMinimumHeight(
            max(bar.sizeHint().height(), self.progress.sizeHint().height() + 4)
        )

    # --- layout ----------------------------------------------------------------------------
    def default_sizes(self) -> None:
        """Give the plots a useful share of the window unless a saved layout exists."""
        store = getattr(getattr(self.window, "settings", None), "store", None)
        if store is not None and store.contains("window/state"):
            return
        w = self.window
        vertical, horizontal = Qt.Orientation.Vertical, Qt.Orientation.Horizontal
        w.resizeDocks([self.docks["curves"]], [int(w.height() * 0.42)], vertical)
        # The plots take their height from the left column too: the palette keeps
        # it, the Problems dock (one line when there are none) gives it up. At
        # 1280x800 the palette had showed 9 of its 11 categories (issue 11).
        problems = w.docks.get("problems_dock")
        if problems is not None:
            w.resizeDocks([problems], [problems.minimumSizeHint().height()], vertical)
        # The training controls need little height; the inspector keeps the rest.
        w.resizeDocks(
            [self.docks["training"]], [self.panel.sizeHint().height()], vertical
        )
        plots = [self.docks[k] for k in ("curves", "boundary", "network")]
        # The right dock column runs the full height beside the plots.
        right = w.docks.get("inspector_dock")
        width = w.width() - (right.sizeHint().width() if right is not None else 0)
        shares = (0.36, 0.28, 0.36)
        w.resizeDocks(plots, [int(width * s) for s in shares], horizontal)

    def show_all(self) -> None:
        """Show every plot panel at once, side by side in the bottom area."""
        first = self.docks[PLOT_DOCKS[0]]
        self.window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, first)
        first.show()
        for prev, key in zip(PLOT_DOCKS, PLOT_DOCKS[1:], strict=False):
            dock = self.docks[key]
            dock.setFloating(False)
            self.window.splitDockWidget(
                self.docks[prev], dock, Qt.Orientation.Horizontal
            )
            dock.show()

    # --- data to the panels ---------------------------------------------------------------
    def show_structure(self, info: ModelInfo, x: np.ndarray, y: np.ndarray) -> None:
        """Rebuild the panels for a model (only when it changed) and its data."""
        if info != self.info:
            self.info = info
            self.network.set_structure(info)
            self.activations.set_structure(info, len(x))
            self.boundary.set_structure(info)
            self.histograms.set_structure(
                [c.name for c in info.layers if c.kernel or c.bias]
            )
            self.evaluation.prepare(info.task, class_names_of(info))
            self.feature_maps.set_structure(info)
            self.filters.set_structure(info)
            self.saliency.set_structure(info)
            self.importance.set_structure(info)
            for view in self._sequence_views():
                view.set_structure()
            self.attention_maps.set_structure()
            self.head_entropy.set_structure()
            self._sequence_shown = False
            self._points_key = None
        key = (id(x), len(x))
        if key != self._points_key:
            self._points_key = key
            self.boundary.set_points(x, y)  # projected on a plane beyond 2-D
            self.activations.sample_box.setMaximum(max(0, len(x) - 1))
            image_x = x if info.is_image else None
            self.feature_maps.set_samples(image_x)
            self.saliency.picker.set_samples(image_x)
            for view in (
                self.hidden_state,
                self.gates,
                self.text_sampling,
                self.forecast,
                self.attention_maps,
            ):
                view.chooser.setMaximum(max(0, len(x) - 1))

    def show_probe(self, probe: ProbeResult) -> None:
        """Hand a probe to every panel that shows part of it."""
        self.network.set_weights(probe.weights)
        self.activations.set_probe(probe)
        self.boundary.set_grid(probe.grid)
        self.histograms.set_histograms(probe.weight_hist, probe.grad_hist, probe.step)
        self.feature_maps.set_probe(probe)
        self.filters.set_probe(probe)
        self.saliency.set_probe(probe)
        for view in self._sequence_views():
            view.set_probe(probe)
        self.attention_maps.set_probe(probe)
        self.head_entropy.set_probe(probe)
        if probe.attention is not None and not self._sequence_shown:
            self._sequence_shown = True
            self.docks["attention_maps"].raise_()
        elif probe.sequence is not None and not self._sequence_shown:
            self._sequence_shown = True
            self.docks["hidden_state"].raise_()
        if probe.pool is not None:
            self._last_pool = probe.pool

    def set_gan(self, gan: bool) -> None:
        """The document is a GAN (True) or not: show its actions, and bring its
        picture (or samples) and curves forward once when it becomes one."""
        self.actions.set_gan(gan)
        if gan and not self.gan:
            self.docks["gan_curves"].raise_()
            self._gan_shown = False  # the first picture picks its panel
        self.gan = bool(gan)

    def show_gan(self, picture: GanPicture | None) -> None:
        """A GAN probe's picture: the picture, samples and modes covered (the
        losses and mean outputs come with the batches, ``show_progress``)."""
        if picture is None:
            return
        self.gan_picture.set_picture(picture)
        self.gan_samples.set_picture(picture)
        if picture.coverage is not None:
            self.gan_curves.add_modes(picture.step, *picture.coverage)
        if not self._gan_shown:
            self._gan_shown = True
            key = "gan_samples" if picture.image is not None else "gan_picture"
            self.docks[key].raise_()

    def _sequence_views(
        self,
    ) -> tuple[
        HiddenStatePanel,
        GatesPanel,
        GradientTimePanel,
        TextSamplingPanel,
        ForecastPanel,
    ]:
        return (
            self.hidden_state,
            self.gates,
            self.gradient_time,
            self.text_sampling,
            self.forecast,
        )

    def show_progress(self, chunk: Mapping[str, Any]) -> None:
        """Batch losses and progress: curves, progress bars, samples/s and ETA."""
        self.curves.add_batches(chunk["steps"], chunk["losses"])
        if self.gan:
            self.gan_curves.add_points(chunk["steps"], chunk)
        epoch, epochs = int(chunk.get("epoch", 0)), int(chunk.get("epochs", 0))
        batch, batches = int(chunk.get("batch", 0)), int(chunk.get("batches", 0))
        caption = f"Epoch {epoch + 1}/{epochs} · batch {batch + 1}/{batches}"
        fraction = float(chunk.get("progress", 0.0))
        self.progress.show_value(int(round(fraction * 1000)), caption)
        self.panel.set_progress(fraction, caption)
        rate = float(chunk.get("samples_per_sec", 0.0))
        eta = format_duration(float(chunk.get("eta", 0.0)))
        self.speed_label.setText(f"{rate:,.0f} samples/s · ETA {eta}")

    def show_epoch(self, logs: Mapping[str, Any]) -> None:
        """An epoch's results: the curves and table, and the panel's summary line."""
        epoch = int(logs["epoch"])
        self.curves.add_epoch(epoch, logs)
        parts = [f"epoch {epoch + 1}"]
        parts += [
            f"{k.replace('_', ' ')} {float(v):.4g}"
            for k, v in logs.items()
            if k not in _SKIP_RESULTS and isinstance(v, (int, float))
        ]
        self.panel.set_results(" · ".join(parts))

    def set_running(self, running: bool) -> None:
        """Show or hide the status-bar progress; bring the curves forward on start."""
        self.progress.setVisible(running)
        self.text_sampling.set_running(running)
        if running:
            self.docks["curves"].raise_()
        else:
            self.speed_label.setText("")
            self.curves.end_run()

    def clear(self) -> None:
        """Forget the network and the results shown (after Reset weights or another
        network): every panel is empty until ``show_structure`` draws a network."""
        self.info = None
        self._points_key = None
        self.network.set_structure(None)
        self.activations.set_structure(None)
        self.boundary.set_structure(None)
        self.boundary.set_points(None, None)
        self.histograms.set_structure([])
        self.evaluation.reset()
        self.feature_maps.set_structure(None)
        self.filters.set_structure(None)
        self.saliency.set_structure(None)
        self.importance.set_structure(None)
        for view in self._sequence_views():
            view.set_structure()
        self.attention_maps.set_structure()
        self.head_entropy.set_structure()
        self.gan_picture.clear()
        self.gan_samples.clear()
        self.gan_curves.clear()
        self._sequence_shown = False
        self._last_pool = None
        self._cell_turn = {}
        self.curves.clear()
        self.panel.set_message("")
        self.panel.set_results("")
        self.panel.set_progress(0.0, "")


def class_names_of(info: ModelInfo) -> tuple[str, ...]:
    """The classes an evaluation of ``info``'s model names (as ``evaluate_model`` does)."""
    if info.task != "classification":
        return ()
    k = max(2, info.output.units)
    names = info.class_names
    return names if len(names) == k else tuple(str(i) for i in range(k))
