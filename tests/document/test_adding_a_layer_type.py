"""A new family of layers is two new source files and its tests, nothing else.

The test copies the ``nndesk`` package, adds an engine layer class in a new module
of ``engine/layers`` and its registry entry (with a palette category of its own)
in a new module of ``document/node_types``, edits no other file, and checks in a
fresh interpreter that the new type is in the palette, in shape inference and
the Problems list, compiles, trains and goes through a ``.nndesk`` file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nndesk

LAYER_MODULE = '''
"""A toy layer: each feature times a learned factor."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Layer


class ToyScale(Layer):
    type_name = "ToyScale"

    def __init__(self, init: float = 1.0, name: str | None = None) -> None:
        super().__init__(name)
        self.init = float(init)

    def output_shape(self, input_shapes):
        self.check_input_count(len(input_shapes))
        shape = tuple(input_shapes[0])
        if len(shape) != 1:
            raise self.shape_error(f"expects 1-D features but receives {shape}.")
        return shape

    def param_shapes(self, input_shapes):
        return {"scale": self.output_shape(input_shapes)}

    def init_params(self, input_shapes, rng):
        return {"scale": np.full(self.output_shape(input_shapes), self.init)}

    def forward(self, inputs, training):
        self._x = inputs[0]
        return inputs[0] * self.params["scale"]

    def backward(self, dy):
        self.grads["scale"][...] = (dy * self._x).sum(axis=0)
        return [dy * self.params["scale"]]

    def get_config(self) -> dict[str, Any]:
        return {"init": self.init, "name": self.name}
'''

NODE_TYPES_MODULE = '''
"""The toy family's node types."""

from __future__ import annotations

from ..params import ParamSpec
from .spec import CategorySpec, NodeSpec, layer_spec

CATEGORIES = (CategorySpec("Toys", after="Core"),)

NODE_TYPES: list[NodeSpec] = [
    layer_spec(
        "ToyScale",
        "Toys",
        "Multiplies each feature by a learned factor.",
        (ParamSpec("init", "float", 1.0, help="The factors before training."),),
        key_params=("init",),
    ),
]
'''

CHECKS = """
import os, sys
import numpy as np

import nndesk
assert nndesk.__file__.startswith(os.getcwd()), nndesk.__file__

from nndesk.document import Document, infer_shapes
from nndesk.document.registry import CATEGORIES, REGISTRY, get_spec, specs_in
from nndesk.engine.layers import LAYER_TYPES, ToyScale
from nndesk.io.project_file import Project, load_project, save_project
from nndesk.training.compile import check_network, compile_network

# engine and registry
assert LAYER_TYPES["ToyScale"] is ToyScale
# After Core and after the categories other modules insert there (Recurrent...).
assert (
    CATEGORIES.index("Core") < CATEGORIES.index("Toys") < CATEGORIES.index("Activations")
), CATEGORIES
assert [s.type_name for s in specs_in("Toys")] == ["ToyScale"]
types = list(REGISTRY)  # in palette order: after Core's and other families' types
assert types.index("Dense") < types.index("ToyScale") < types.index("Activation")

# the palette lists it under its category
from PySide6.QtWidgets import QApplication
app = QApplication([])
from nndesk.ui.panels.palette import PalettePanel
palette = PalettePanel()
item = palette.type_item("ToyScale")
assert item.text(0) == "ToyScale" and item.parent().text(0) == "Toys"

# shape inference, parameter count, the canvas text and the Problems list
doc = Document()
x = doc.add_node("Input", {"shape": (4,)})
toy = doc.add_node("ToyScale", {"init": 2.0})
d = doc.add_node("Dense", {"units": 3, "activation": "softmax"})
out = doc.add_node("Output")
doc.connect(x, "out", toy, "in")
doc.connect(toy, "out", d, "in")
doc.connect(d, "out", out, "in")
report = infer_shapes(doc)
assert report.ok and report[toy].output_shape == (4,) and report[toy].param_count == 4
assert get_spec("ToyScale").key_param_text({"init": 2.0}) == "2"
assert check_network(doc) == [], check_network(doc)
bad = Document()
bx = bad.add_node("Input", {"shape": (2, 2)})
bt = bad.add_node("ToyScale")
bad.connect(bx, "out", bt, "in")
assert "expects 1-D features" in infer_shapes(bad)[bt].message

# compile and train
net = compile_network(doc, seed=0)
assert np.all(net.model.get_weights()[toy + "/scale"] == 2.0)
rng = np.random.default_rng(0)
xs = rng.normal(size=(64, 4)).astype(np.float32)
ys = (xs[:, 0] > 0).astype(np.int64) + (xs[:, 1] > 0)
net.model.fit(xs, ys, epochs=3, batch_size=16, verbose=0)
weights = net.model.get_weights()
assert not np.all(weights[toy + "/scale"] == 2.0)

# file save and load
path = os.path.join(os.getcwd(), "toy.nndesk")
save_project(path, Project(document=doc, weights=weights))
again = load_project(path)
assert again.document == doc
assert again.document.node(toy).params["init"] == 2.0
assert set(again.weights) == set(weights)
for key, value in weights.items():
    np.testing.assert_array_equal(again.weights[key], value)
print("ok")
"""


def test_a_new_family_is_two_new_modules_and_nothing_else(tmp_path: Path) -> None:
    package = Path(nndesk.__file__).parent
    copy = tmp_path / "nndesk"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = {p: p.read_bytes() for p in copy.rglob("*.py")}
    (copy / "engine" / "layers" / "toy.py").write_text(LAYER_MODULE, "utf-8")
    (copy / "document" / "node_types" / "toy.py").write_text(NODE_TYPES_MODULE, "utf-8")
    assert {p: p.read_bytes() for p in before} == before  # no other file touched

    env = dict(os.environ, NNDESK_NUMBA="0", QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHECKS)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok")


def test_node_type_modules_do_not_import_the_registry() -> None:
    """They take their building blocks from node_types.spec, so the registry can
    import each of them (and any of them can be imported first)."""
    import ast

    folder = Path(nndesk.__file__).parent / "document" / "node_types"
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert "registry" not in (node.module or ""), path.name
                assert all(a.name != "registry" for a in node.names), path.name
