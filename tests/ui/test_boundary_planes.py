"""The decision boundary of networks with more than two inputs, on a chosen plane."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.examples import _chain
from nndesk.document.graph import Document
from nndesk.io.datasets import Dataset, load_dataset
from nndesk.training.compile import compile_network
from nndesk.training.data import prepare_data
from nndesk.ui.panels.plots.boundary import BoundaryPanel
from nndesk.ui.training.probes import PLANE_GRID_SIZE, Prober, describe_network

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

FASHION = Path("/work/shared/data/fashion-mnist")


def _network(input_shape: tuple[int, ...], classes: int, dataset: Dataset) -> Prober:
    doc = Document({"dataset": "", "seed": 3, "batch_size": 32})
    layers: list[tuple[str, dict]] = [("Input", {"shape": input_shape})]
    if len(input_shape) > 1:
        layers.append(("Flatten", {}))
    layers += [
        ("Dense", {"units": 6, "activation": "tanh"}),
        ("Dense", {"units": classes, "activation": "softmax"}),
        ("Output", {"loss": "sparse_categorical_crossentropy"}),
    ]
    _chain(doc, layers)
    net = compile_network(doc.snapshot(), dataset=dataset)
    data = prepare_data(net, dataset)
    return Prober(net.model, describe_network(net, dataset), data.x_train, data.y_train)


def _tabular() -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 5)).astype(np.float32) * [1, 2, 3, 0.5, 1]
    y = (x[:, 0] + x[:, 2] > 0).astype(np.int64) + (x[:, 4] > 1)
    return Dataset(
        x, y, "classification", ["low", "mid", "high"],
        feature_names=["alpha", "beta", "gamma", "delta", "eps"], name="five",
    )  # fmt: skip


class Wired:
    """A panel wired to a prober as the controller wires it to the preview."""

    def __init__(self, qtbot, prober: Prober) -> None:
        self.prober = prober
        self.panel = BoundaryPanel()
        qtbot.addWidget(self.panel)
        self.panel.resize(900, 520)
        self.panel.show()
        qtbot.waitExposed(self.panel)
        self.planes: list[object] = []
        self.panel.sig_plane_changed.connect(self._on_plane_changed)
        self.panel.set_structure(prober.info)
        self.panel.set_points(prober.x, prober.y)

    def _on_plane_changed(self, plane: object) -> None:
        self.planes.append(plane)
        probe = self.prober.probe(0, 0, 0.0, gradients=False, plane=plane)  # type: ignore[arg-type]
        self.panel.set_grid(probe.grid)
        self.panel.flush()


def test_two_features_held_at_the_mean_and_moved_by_a_slider(qtbot) -> None:
    wired = Wired(qtbot, _network((5,), 3, _tabular()))
    panel, chooser = wired.panel, wired.panel.chooser
    assert chooser.isVisible() and chooser.mode == "features"
    plane = panel.plane
    assert plane is not None and plane.labels == ("alpha", "beta")
    x = wired.prober.x
    np.testing.assert_allclose(plane.origin[2:], x.mean(axis=0)[2:], rtol=1e-6)
    grid = panel.grid
    assert grid is not None and grid.plane is plane
    assert panel.image.image.shape == (PLANE_GRID_SIZE, PLANE_GRID_SIZE, 3)
    assert panel.points.data.size == len(x)
    # The points are the two features' values.
    xs, ys = panel.points.getData()
    np.testing.assert_allclose(xs, x[:, 0], rtol=1e-6)
    np.testing.assert_allclose(ys, x[:, 1], rtol=1e-6)
    assert panel.plot.getAxis("bottom").labelText == "alpha"
    assert len(chooser.slider_rows) == 5
    assert not chooser.slider_rows[0][1].isEnabled()  # an axis: no slider

    # Choose gamma against alpha: the map follows; x=gamma separates the classes.
    chooser.y_box.setCurrentIndex(2)
    qtbot.waitUntil(lambda: panel.plane is not plane)
    assert panel.plane.labels == ("alpha", "gamma")
    before = panel.image.image.copy()

    # eps is held: moving its slider moves the plane and redraws the map.
    slider = chooser.slider_rows[4][1]
    count = len(wired.planes)
    slider.setValue(slider.maximum())
    qtbot.waitUntil(lambda: len(wired.planes) > count)
    moved = panel.plane
    assert moved.origin[4] == pytest.approx(float(x[:, 4].max()), rel=1e-6)
    np.testing.assert_allclose(moved.basis, wired.planes[count - 1].basis)
    assert not np.array_equal(panel.image.image, before)
    assert float(chooser.slider_rows[4][2].text()) == pytest.approx(
        float(x[:, 4].max()), rel=0.01
    )

    # Held at a sample: its values, and Reset puts a moved slider back.
    chooser.held_box.setCurrentIndex(1)
    chooser.held_sample.setValue(17)
    qtbot.waitUntil(lambda: panel.plane.origin[3] == pytest.approx(float(x[17, 3])))
    np.testing.assert_allclose(panel.plane.origin[3:], x[17, 3:], rtol=1e-6)
    chooser.set_held_value(3, 0.0)
    qtbot.waitUntil(lambda: abs(panel.plane.origin[3] - float(x[17, 3])) > 1e-3)
    chooser.reset_button.click()
    qtbot.waitUntil(lambda: panel.plane.origin[3] == pytest.approx(float(x[17, 3])))


def test_the_same_feature_twice_is_refused_and_the_plane_kept(qtbot) -> None:
    wired = Wired(qtbot, _network((5,), 3, _tabular()))
    panel, chooser = wired.panel, wired.panel.chooser
    plane = panel.plane
    chooser.y_box.setCurrentIndex(0)
    qtbot.waitUntil(lambda: chooser.message.isVisible())
    assert "two different features" in chooser.message.text()
    assert panel.plane is plane


def test_pca_plane_projects_the_data(qtbot) -> None:
    wired = Wired(qtbot, _network((5,), 3, _tabular()))
    panel, chooser = wired.panel, wired.panel.chooser
    chooser.mode_box.setCurrentIndex(chooser.mode_box.findData("pca"))
    qtbot.waitUntil(lambda: panel.plane is not None and panel.plane.kind == "pca")
    plane = panel.plane
    assert not chooser.sliders.isVisible() and not chooser.x_box.isVisible()
    x = wired.prober.x
    xs, ys = panel.points.getData()
    np.testing.assert_allclose(np.column_stack([xs, ys]), plane.project(x), atol=1e-9)
    # Most of the variance lies along the first axis.
    assert np.var(xs) > np.var(ys)
    assert "Principal components" in panel.note.text()
    assert panel.grid is not None and panel.grid.plane is plane
    assert panel.image.image is not None


def _fashion(n: int = 300) -> Dataset:
    full = load_dataset(str(FASHION), seed=0)
    return full.subset(np.arange(n), "fashion-300")


def test_three_images_from_fashion_mnist(qtbot) -> None:
    dataset = _fashion()
    wired = Wired(qtbot, _network((28, 28), 10, dataset))
    panel, chooser = wired.panel, wired.panel.chooser
    assert chooser.mode == "pca"  # images open on the PCA plane
    assert chooser.mode_box.itemText(chooser.mode_box.findData("points")) == (
        "Three images"
    )
    chooser.mode_box.setCurrentIndex(chooser.mode_box.findData("points"))
    qtbot.waitUntil(lambda: panel.plane is not None and panel.plane.kind == "points")
    x, y = wired.prober.x, wired.prober.y
    picked = [box.value() for box in chooser.point_boxes]
    # Three samples of three classes, shown as thumbnails.
    assert len({int(y[i]) for i in picked}) == 3
    for thumb in chooser.thumbs:
        assert thumb.isVisible() and not thumb.pixmap().isNull()
    assert dataset.class_names[int(y[picked[1]])] in chooser.thumbs[1].toolTip()
    # The three images sit at the plane's anchors, drawn as stars.
    plane = panel.plane
    np.testing.assert_allclose(plane.project(x[picked]), plane.anchors, atol=1e-4)
    assert panel.anchors.data.size == 3
    assert [label.textItem.toPlainText() for label in panel.anchor_labels] == list(
        "ABC"
    )
    # The grid was computed on the plane: its centre is an image of the plane.
    assert panel.grid is not None and panel.grid.plane is plane
    assert panel.image.image.shape[:2] == (PLANE_GRID_SIZE, PLANE_GRID_SIZE)
    # Another image for C: a new plane through it.
    chooser.point_boxes[2].setValue(picked[2] + 1)
    qtbot.waitUntil(lambda: panel.plane is not plane)
    np.testing.assert_allclose(
        panel.plane.project(x[picked[2] + 1 : picked[2] + 2]),
        panel.plane.anchors[2:],
        atol=1e-4,
    )
    # Clicking a point of the map picks it: A, then B, then C.
    plane = panel.plane
    coords = plane.project(x)
    # The point farthest out (not one of the three, under their stars).
    distance = np.linalg.norm(coords - coords.mean(axis=0), axis=1)
    distance[[box.value() for box in chooser.point_boxes]] = -1
    far = int(np.argmax(distance))
    view = panel.plot.getViewBox()
    spot = view.mapViewToScene(QPointF(*coords[far]))
    qtbot.mouseClick(
        panel.graphics.viewport(),
        Qt.MouseButton.LeftButton,
        pos=panel.graphics.mapFromScene(spot),
    )
    qtbot.waitUntil(lambda: panel.plane is not plane)
    picked_now = chooser.point_boxes[0].value()
    assert np.linalg.norm(coords[picked_now] - coords[far]) < 0.03 * np.ptp(coords)
    np.testing.assert_allclose(panel.plane.anchors[0], [0, 0])
    np.testing.assert_allclose(panel.plane.origin, x[picked_now].reshape(-1), atol=1e-5)
    # Two equal images: refused in one sentence, the plane stays.
    shown = panel.plane
    chooser.point_boxes[1].setValue(chooser.point_boxes[0].value())
    qtbot.waitUntil(lambda: chooser.message.isVisible())
    assert "same input" in chooser.message.text()
    assert panel.plane is shown


def test_a_sequence_model_gets_no_plane(qtbot) -> None:
    from dataclasses import replace

    prober = _network((5,), 3, _tabular())
    panel = BoundaryPanel()
    qtbot.addWidget(panel)
    info = replace(prober.info, sequence=True)
    panel.set_structure(info)
    panel.set_points(prober.x, prober.y)
    assert not panel.chooser.isVisibleTo(panel)
    assert panel.plane is None
    assert "sequence" in panel.note.text()


def test_two_inputs_are_drawn_as_before(qtbot) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 2)).astype(np.float32)
    dataset = Dataset(x, (x[:, 0] > 0).astype(np.int64), "classification", name="two")
    wired = Wired(qtbot, _network((2,), 2, dataset))
    panel = wired.panel
    assert wired.planes == [] and panel.plane is None
    assert not panel.chooser.isVisibleTo(panel)
    probe = wired.prober.probe(0, 0, 0.0, gradients=False)
    panel.set_grid(probe.grid)
    panel.flush()
    assert probe.grid is not None and probe.grid.plane is None
    assert panel.image.image.shape[:2] == (64, 64)
    xs, _ = panel.points.getData()
    np.testing.assert_allclose(xs, wired.prober.x[:, 0])


@pytest.mark.parametrize("conv", [False, True], ids=["dense", "conv"])
def test_the_grid_is_the_network_on_the_plane(conv: bool) -> None:
    from nndesk.training.planes import pca_plane
    from nndesk.ui.training.probes import PLANE_GRID_SIZE_SPATIAL

    dataset = _fashion(400)
    doc = Document({"dataset": "", "seed": 5, "batch_size": 32})
    layers: list[tuple[str, dict]] = [("Input", {"shape": (28, 28, 1)})]
    if conv:
        layers += [
            ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
            ("MaxPool2D", {"pool_size": 2}),
        ]
    layers += [
        ("Flatten", {}),
        ("Dense", {"units": 5, "activation": "tanh"}),
        ("Dense", {"units": 10, "activation": "softmax"}),
        ("Output", {"loss": "sparse_categorical_crossentropy"}),
    ]
    _chain(doc, layers)
    net = compile_network(doc.snapshot(), dataset=dataset)
    data = prepare_data(net, dataset)
    prober = Prober(net.model, describe_network(net, dataset), data.x_train)
    plane = pca_plane(data.x_train)
    grid = prober.probe(0, 0, 0.0, gradients=False, plane=plane).grid
    assert grid is not None and grid.plane is plane and grid.extent == plane.extent
    size = PLANE_GRID_SIZE_SPATIAL if conv else PLANE_GRID_SIZE
    # Computed in pieces for a convolutional network: the same numbers.
    want = net.model.predict(plane.grid(size)).reshape(size, size, 10)
    np.testing.assert_allclose(grid.output, want, rtol=1e-5, atol=1e-6)
    assert list(grid.hidden) == [c.name for c in prober.info.hidden if not c.is_spatial]


# --- the choice as data: saved with the network, restored with the data -------------------


def test_the_choice_round_trips_through_its_plain_form(qtbot) -> None:
    prober = _network((5,), 3, _tabular())
    first = Wired(qtbot, prober)
    chooser = first.panel.chooser
    assert chooser.choice() is None  # the default plane: nothing to keep
    edits: list[None] = []
    chooser.sig_choice_edited.connect(lambda: edits.append(None))
    chooser.y_box.setCurrentIndex(3)
    chooser.held_box.setCurrentIndex(1)
    chooser.held_sample.setValue(17)
    chooser.set_held_value(4, float(prober.x[:, 4].max()))
    qtbot.waitUntil(lambda: first.panel.plane.labels == ("alpha", "delta"))
    qtbot.waitUntil(lambda: first.panel.plane.origin[4] != prober.x[17, 4])
    choice = chooser.choice()
    assert edits  # the user changed it: the window counts an unsaved change
    assert choice is not None and choice["features"] == [0, 3]
    assert choice["held"] == "sample" and choice["held_sample"] == 17
    assert choice["held_values"][4] == pytest.approx(float(prober.x[:, 4].max()))

    # Another panel restores it with its data: the same plane, no edit reported.
    second = BoundaryPanel()
    qtbot.addWidget(second)
    again: list[None] = []
    second.chooser.sig_choice_edited.connect(lambda: again.append(None))
    second.chooser.restore(choice)
    assert second.chooser.choice() == choice  # waiting for data: Save keeps it
    second.set_structure(prober.info)
    second.set_points(prober.x, prober.y)
    plane, want = second.plane, first.panel.plane
    assert plane is not None and plane.labels == want.labels
    np.testing.assert_allclose(plane.origin, want.origin)
    np.testing.assert_allclose(plane.basis, want.basis)
    assert second.chooser.choice() == choice and not again

    # The PCA plane and three samples too.
    chooser.mode_box.setCurrentIndex(chooser.mode_box.findData("points"))
    for index in (4, 9, 30):
        chooser.pick_sample(index)
    qtbot.waitUntil(lambda: first.panel.plane.kind == "points")
    assert chooser.choice() == {"mode": "points", "points": [4, 9, 30]}
    chooser.mode_box.setCurrentIndex(chooser.mode_box.findData("pca"))
    assert chooser.choice() == {"mode": "pca"}


@pytest.mark.parametrize(
    ("choice", "said"),
    [
        ({"mode": "features", "features": [0, 7]}, "uses feature 7, but the data"),
        ({"mode": "points", "points": [0, 1, 900]}, "uses training sample 900"),
        ({"mode": "features", "held": "sample", "held_sample": 240}, "sample 240"),
        ({"mode": "features", "held_values": [1.0, 2.0]}, "holds 2 feature values"),
    ],
)
def test_a_choice_that_does_not_fit_the_data_gives_the_default_plane(
    qtbot, choice: dict, said: str
) -> None:
    prober = _network((5,), 3, _tabular())
    panel = BoundaryPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 520)
    panel.show()
    panel.chooser.restore(choice)
    panel.set_structure(prober.info)
    panel.set_points(prober.x, prober.y)
    assert panel.plane is not None and panel.plane.labels == ("alpha", "beta")
    text = panel.chooser.message.text()
    assert panel.chooser.message.isVisible() and said in text
    assert text.endswith("the default plane is shown.") and text.count(". ") == 0
    assert panel.chooser.choice() is None
    # The next choice clears the sentence.
    panel.chooser.y_box.setCurrentIndex(2)
    qtbot.waitUntil(lambda: panel.plane.labels == ("alpha", "gamma"))
    assert not panel.chooser.message.isVisible()


def test_a_feature_choice_for_images_gives_the_default_plane(qtbot) -> None:
    prober = _network((28, 28), 10, _fashion())
    panel = BoundaryPanel()
    qtbot.addWidget(panel)
    panel.chooser.restore({"mode": "features", "features": [0, 1]})
    panel.set_structure(prober.info)
    panel.set_points(prober.x, prober.y)
    assert panel.plane is not None and panel.plane.kind == "pca"
    assert "not a table of features" in panel.chooser.message.text()


def test_the_held_sliders_fold_into_one_row_in_a_narrow_panel(qtbot) -> None:
    """At 1280x800 the dock is about 250 px wide: the table of sliders is folded
    away and one row above the map moves a chosen held feature."""
    prober = _network((5,), 3, _tabular())
    wired = Wired(qtbot, prober)
    panel, chooser = wired.panel, wired.panel.chooser
    assert chooser.sliders.isVisible() and not chooser.move_row.isVisible()
    table_slider = chooser.slider_rows[2][1]
    assert table_slider.width() >= 60  # its own line, not squeezed beside the name
    panel.resize(250, 300)
    qtbot.waitUntil(lambda: chooser.move_row.isVisible())
    assert panel.splitter.sizes()[1] == 0  # the table is folded away
    # The axes (alpha, beta) move nothing: the row starts at gamma.
    assert chooser.move_box.currentText() == "gamma"
    assert not chooser.move_box.model().item(0).isEnabled()
    assert chooser.move_slider.width() >= 60
    for w in (chooser.move_box, chooser.move_slider, chooser.move_value):
        assert w.geometry().right() <= chooser.move_row.width()
    chooser.move_box.setCurrentIndex(3)  # delta
    count = len(wired.planes)
    chooser.move_slider.setValue(chooser.move_slider.maximum())
    qtbot.waitUntil(lambda: len(wired.planes) > count)
    assert panel.plane.origin[3] == pytest.approx(float(prober.x[:, 3].max()), rel=1e-6)
    assert chooser.slider_rows[3][1].value() == chooser.move_slider.maximum()
    assert chooser.move_value.text() == chooser.slider_rows[3][2].text()
    # Wide again: the table comes back and the row goes.
    panel.resize(900, 520)
    qtbot.waitUntil(lambda: not chooser.move_row.isVisible())
    assert chooser.sliders.isVisible() and panel.splitter.sizes()[1] >= 100


def _five_features_csv(folder: Path) -> Path:
    data = _tabular()
    path = folder / "five.csv"
    lines = [",".join([*data.feature_names, "kind"])]
    for row, k in zip(data.x, data.y, strict=True):
        lines.append(",".join(f"{v:.5f}" for v in row) + f",{'abc'[int(k)]}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow
def test_the_window_saves_the_plane_and_reopens_it(qtbot, main_window, tmp_path):
    """Save keeps the plane in view.json; Open brings it back with the data; a
    choice marks the network modified; a bad view.json costs only the view."""
    import json
    import zipfile

    from nndesk.ui.training.controller import attach_training

    window = main_window
    controller = window.training or attach_training(window)
    doc = Document({"dataset": str(_five_features_csv(tmp_path)), "seed": 1})
    _chain(doc, [
        ("Input", {"shape": (5,)}),
        ("Dense", {"units": 6, "activation": "tanh"}),
        ("Dense", {"units": 3, "activation": "softmax"}),
        ("Output", {"loss": "sparse_categorical_crossentropy"}),
    ])  # fmt: skip
    window.set_document(doc)
    chooser = controller.boundary.chooser
    qtbot.waitUntil(lambda: chooser.plane is not None, timeout=20_000)
    assert not window.is_modified()
    chooser.y_box.setCurrentIndex(4)
    chooser.set_held_value(2, 1.5)
    assert window.is_modified()  # saved with the file: an unsaved change
    qtbot.waitUntil(lambda: chooser.plane.origin[2] != 0.0)
    choice = chooser.choice()
    path = tmp_path / "planes.nndesk"
    assert window.save_as(path) and not window.is_modified()
    with zipfile.ZipFile(path) as zf:
        saved = json.loads(zf.read("view.json"))
    assert saved == {"boundary_plane": choice}

    window.new_document()
    assert chooser.choice() is None
    assert window.open_file(path)
    qtbot.waitUntil(lambda: chooser.plane is not None, timeout=20_000)
    assert chooser.choice() == choice
    assert controller.boundary.plane.labels[1] == "eps"
    assert not window.is_modified()  # restoring is no change

    # A hostile view.json: the network opens, the default plane, one sentence.
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["view.json"] = b'{"boundary_plane": {"features": [1, 1]}}'
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    window.new_document()
    assert window.open_file(path) and not window.errors
    qtbot.waitUntil(lambda: chooser.plane is not None, timeout=20_000)
    assert chooser.choice() is None
    assert "names feature 1 twice" in chooser.message.text()
    assert len(window.document.nodes) == 4


def test_new_data_of_the_same_document_keep_the_choice(qtbot) -> None:
    """The network edited (its data prepared again) keeps the plane; held values
    only on equal data; another document (``forget``) starts on the default."""
    prober = _network((5,), 3, _tabular())
    wired = Wired(qtbot, prober)
    panel, chooser = wired.panel, wired.panel.chooser
    chooser.y_box.setCurrentIndex(3)
    chooser.set_held_value(4, 1.0)
    qtbot.waitUntil(lambda: panel.plane.origin[4] == pytest.approx(1.0, abs=0.05))
    choice = chooser.choice()
    x, y = prober.x, prober.y
    panel.set_points(x.copy(), y)  # equal data, new arrays
    assert chooser.choice() == choice and panel.plane.labels == ("alpha", "delta")
    panel.set_points(x * 2.0, y)  # other data: the axes stay, the values go
    assert chooser.choice() == {"mode": "features", "features": [0, 3], "held": "mean"}
    panel.set_points(None, None)  # a network that does not compile for a while
    panel.set_points(x, y)
    assert panel.plane is not None and panel.plane.labels == ("alpha", "delta")
    assert not chooser.message.isVisible()
    chooser.forget()  # another document
    panel.set_points(x.copy(), y)
    assert chooser.choice() is None and panel.plane.labels == ("alpha", "beta")
