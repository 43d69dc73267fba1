"""The GAN panels (issue 16) driven like a user, on pictures of real engine GANs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from ui_helpers import OFFSCREEN_NOISE

from nndesk.engine.layers import Dense, Input
from nndesk.engine.model import Model, Sequential
from nndesk.training.gan_views import GanProber
from nndesk.ui.panels.plots.gan_curves import GanCurvesPanel
from nndesk.ui.panels.plots.gan_picture import (
    LAYERS,
    GanPicturePanel,
    arrow_segments,
    mesh_lines,
)
from nndesk.ui.panels.plots.gan_samples import GanSamplesPanel

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


class EngineGan:
    """Two engine models as ``GanNets`` (non-saturating generator loss)."""

    def __init__(self, generator: Model, discriminator: Model) -> None:
        self.generator, self.discriminator = generator, discriminator
        self.noise_dim = int(generator.input_shapes[0][0])
        self.noise = "normal"
        self.probabilities = True

    def sample(self, z: np.ndarray) -> np.ndarray:
        return self.generator.predict(np.asarray(z, np.float32))

    def discriminate(self, x: np.ndarray) -> np.ndarray:
        return self.discriminator.predict(np.asarray(x, np.float32))

    def sample_gradients(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # L_G = -log D(x): dL/dD = -1 / D.
        x = self.sample(z)
        d = self.discriminator.forward(x)[0]
        return x, self.discriminator.backward([-1.0 / np.maximum(d, 1e-7)])[0].copy()


def gan(noise_dim: int, out: int, seed: int = 0) -> EngineGan:
    g = Sequential(
        [Input((noise_dim,)), Dense(16, activation="relu"), Dense(out)], seed=seed
    )
    d = Sequential(
        [Input((out,)), Dense(16, activation="relu"), Dense(1, activation="sigmoid")],
        seed=seed,
    )
    return EngineGan(g, d)


def ring(n: int = 800) -> np.ndarray:
    angle = np.arange(n) % 8 * (2 * np.pi / 8)
    rng = np.random.default_rng(0)
    xy = np.stack([np.cos(angle), np.sin(angle)], axis=1) * 0.8
    return (xy + rng.normal(scale=0.05, size=xy.shape)).astype(np.float32)


def shown(qtbot, panel, width=900, height=600):
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def coverage_of(fake: np.ndarray) -> tuple[int, int, np.ndarray]:
    """Samples within 0.15 of each ring centre (a stand-in mixture's rule)."""
    angle = np.arange(8) * (2 * np.pi / 8)
    centres = np.stack([np.cos(angle), np.sin(angle)], axis=1) * 0.8
    near = np.linalg.norm(fake[:, None] - centres[None], axis=2) < 0.15
    counts = near.sum(axis=0)
    return int((counts > 0).sum()), 8, counts


def test_mesh_lines_and_arrow_segments() -> None:
    mesh = np.arange(12, dtype=float).reshape(2, 3, 2)
    x, y = mesh_lines(mesh)
    # 2 rows of 3 and 3 columns of 2, each followed by a NaN gap.
    assert len(x) == 2 * 4 + 3 * 3
    assert np.isnan(x[3]) and list(x[:3]) == [0.0, 2.0, 4.0]
    assert list(x[8:10]) == [0.0, 6.0]
    start = np.array([[0.0, 0.0], [1.0, 1.0]])
    vec = np.array([[2.0, 0.0], [0.0, 1.0]])
    ax, ay = arrow_segments(start, vec, length=1.0)
    # 95th percentile norm of (2, 1) is 1.95: everything scaled by 1 / 1.95.
    assert ax[1] == pytest.approx(2 / 1.95) and ay[3] == pytest.approx(1 + 1 / 1.95)


def test_picture_layers_toggle_and_follow_the_probe(qtbot) -> None:
    nets = gan(2, 2)
    prober = GanProber(nets, ring(), seed=1, coverage=coverage_of)
    panel = shown(qtbot, GanPicturePanel())
    assert panel.notice.isVisible()  # nothing to show yet
    picture = prober.probe(3.0)
    panel.set_picture(picture)
    panel.flush()
    assert not panel.notice.isVisible() and panel.plot.isVisible()
    assert not panel.hist_plot.isVisible()
    x, y = panel.fake.getData()
    assert np.allclose(x, picture.plane.fake[:, 0])
    assert panel.heatmap.image.shape == picture.plane.heatmap.shape
    assert np.count_nonzero(np.isnan(panel.mesh.getData()[0])) == 2 * 15
    assert panel.meter.isVisible()
    assert panel.meter.text == f"{picture.coverage[0]}/8 modes"
    assert "noise dimensions 1 and 2" in panel.caption.text()
    assert "others" not in panel.caption.text()  # 2-D noise: the whole square
    # Hiding the arrows hides the item; the others stay.
    qtbot.mouseClick(panel.toggles["arrows"], Qt.MouseButton.LeftButton)
    assert not panel.arrows.isVisible() and panel.fake.isVisible()
    # A later picture is not drawn into the hidden layer, and is when shown again.
    nets.generator.set_weights(
        {"dense_2/bias": np.array([5.0, 5.0], np.float32)}, strict=False
    )
    moved = prober.probe(4.0)
    panel.set_picture(moved)
    panel.flush()
    before = panel.arrows.getData()[0].copy()
    assert not np.allclose(before[0::2], moved.plane.fake[::4, 0])
    panel.toggles["arrows"].setChecked(True)
    panel.flush()
    assert np.allclose(panel.arrows.getData()[0][0::2], moved.plane.fake[::4, 0])
    assert [k for k, _, _ in LAYERS] == list(panel.toggles)


def test_picture_of_1d_data_shows_densities_and_d(qtbot) -> None:
    nets = gan(1, 1)
    real = np.random.default_rng(0).normal(size=(500, 1)).astype(np.float32)
    panel = shown(qtbot, GanPicturePanel())
    picture = GanProber(nets, real).probe()
    panel.set_picture(picture)
    panel.flush()
    assert panel.hist_plot.isVisible() and not panel.plot.isVisible()
    assert not panel.toggles["mesh"].isVisible()
    x, y = panel.d_curve.getData()
    assert np.allclose(y, picture.line.d)
    columns = panel.csv_columns()
    assert len(columns["real_density"]) == len(picture.line.real)


def test_picture_of_images_points_to_the_samples_panel(qtbot) -> None:
    nets = gan(4, 64)
    real = np.random.default_rng(0).uniform(size=(40, 64)).astype(np.float32)
    picture = GanProber(nets, real).probe()
    panel = shown(qtbot, GanPicturePanel())
    panel.set_picture(picture)
    assert panel.notice.isVisible() and "samples panel" in panel.notice.text()
    samples = shown(qtbot, GanSamplesPanel())
    samples.set_picture(picture)
    samples.flush()
    assert not samples.notice.isVisible()
    assert samples.grid_image.image.shape == picture.image.grid.shape
    assert samples.strip_image.image.shape == picture.image.strip.shape
    assert "D(fake)" in samples.caption.text()
    csv = samples.csv_columns()
    assert len(csv) == picture.image.grid.shape[0]


def test_samples_panel_says_points_are_elsewhere(qtbot) -> None:
    picture = GanProber(gan(2, 2), ring()).probe()
    panel = shown(qtbot, GanSamplesPanel())
    panel.set_picture(picture)
    assert panel.notice.isVisible() and "GAN picture" in panel.notice.text()


def test_curves_collect_losses_outputs_and_modes(qtbot) -> None:
    panel = shown(qtbot, GanCurvesPanel())
    assert not panel.plots["modes"].isVisible()
    steps = np.array([1.0, 2.0, 3.0])
    panel.add_points(
        steps,
        {
            "d_loss": np.array([1.4, np.nan, 1.2]),
            "g_loss": np.array([0.7, 0.8, 0.9]),
            "d_real": np.array([0.5, 0.6, 0.7]),
            "unknown": np.array([9.0, 9.0, 9.0]),
        },
    )
    panel.add_modes(3.0, 5, 8)
    panel.flush()
    x, y = panel.curves["d_loss"].getData()
    assert list(x) == [1.0, 3.0] and list(y) == [1.4, 1.2]  # the NaN dropped
    assert list(panel.series("g_loss")[1]) == [0.7, 0.8, 0.9]
    assert panel.plots["modes"].isVisible()
    assert list(panel.series("modes")[1]) == [5.0]
    columns = panel.csv_columns()
    assert set(columns) == {
        "d_loss_step", "d_loss", "g_loss_step", "g_loss", "d_real_step", "d_real",
        "modes_step", "modes",
    }  # fmt: skip
    panel.clear()
    panel.flush()
    assert not len(panel.series("d_loss")[0]) and not panel.plots["modes"].isVisible()


def test_curves_follow_raw_scores_outside_0_1(qtbot) -> None:
    panel = shown(qtbot, GanCurvesPanel())
    panel.add_points(np.array([1.0, 2.0]), {"d_real": np.array([0.4, 0.6])})
    panel.flush()
    assert panel.plots["outputs"].viewRange()[1][1] == pytest.approx(1.04)
    # A Wasserstein critic's scores: the plot frames them.
    panel.add_points(np.array([3.0]), {"d_fake": np.array([-3.0])})
    panel.flush()
    low, high = panel.plots["outputs"].viewRange()[1]
    assert low < -3.0 and high > 0.6


def test_curves_show_a_saved_history(qtbot) -> None:
    panel = shown(qtbot, GanCurvesPanel())
    panel.add_points(np.array([0.5]), {"d_loss": np.array([9.0])})
    panel.set_history({"d_loss": [1.3, 1.2], "g_loss": [0.7, 0.8], "lr": [0.1, 0.1]})
    panel.flush()
    assert list(panel.series("d_loss")[0]) == [1.0, 2.0]
    assert list(panel.series("d_loss")[1]) == [1.3, 1.2]
    assert list(panel.series("g_loss")[1]) == [0.7, 0.8]
