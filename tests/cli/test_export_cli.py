"""``nndesk export`` and ``nndesk import``: ONNX out and back, PyTorch fixtures in,
one-line errors and nothing half-written."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from nndesk import cli
from nndesk.io.project_file import load_project, save_project
from nndesk.training.examples import example_path
from nndesk.training.session import TrainingSession

FIXTURES = Path(__file__).resolve().parents[1] / "io" / "data" / "onnx"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def trained(tmp_path: Path) -> Path:
    project = load_project(Path(str(example_path("spiral"))))
    project.document.set_setting("dataset", "spiral:n=200,noise=0.1")
    path = tmp_path / "spiral.nndesk"
    save_project(path, project)
    code, _, err = run("train", str(path), "--epochs", "3", "-q")
    assert code == 0, err
    return path


def test_export_onnx_predicts_like_the_network(trained: Path, tmp_path: Path):
    target = tmp_path / "spiral.onnx"
    code, out, err = run(
        "export", str(trained), "--format", "onnx", "--out", str(target)
    )
    assert (code, err) == (0, "")
    assert out == f"Wrote {target}: ONNX model (opset 17).\n"
    onnx.checker.check_model(str(target), full_check=True)
    session = TrainingSession.open(trained)
    x = session.load_dataset().x[:40].astype(np.float32)
    runtime = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    got = runtime.run(None, {"input_1": x})[0]
    np.testing.assert_allclose(got, session.predict(x), rtol=1e-5, atol=1e-5)


def test_export_then_import_gives_the_same_network(trained: Path, tmp_path: Path):
    onnx_path = tmp_path / "spiral.onnx"
    back = tmp_path / "back.nndesk"
    assert (
        run("export", str(trained), "--format", "onnx", "--out", str(onnx_path))[0] == 0
    )
    code, out, err = run("import", str(onnx_path), "--out", str(back))
    assert (code, err) == (0, "")
    assert out == f"Imported spiral.onnx: 3 layers, 105 weights; saved {back}.\n"
    original, imported = load_project(trained), load_project(back)
    assert imported.document == original.document
    for key, value in original.weights.items():
        assert imported.weights[key].tobytes() == value.tobytes()


def test_untrained_export_says_so(tmp_path: Path):
    path = tmp_path / "xor.nndesk"
    save_project(path, load_project(Path(str(example_path("xor")))))
    code, out, _ = run(
        "export", str(path), "--format", "onnx", "--out", str(tmp_path / "x.onnx")
    )
    assert code == 0
    assert out.startswith(
        "Note: the network is untrained; it holds its initial weights."
    )


def test_import_pytorch_model_then_evaluate_runs(tmp_path: Path):
    target = tmp_path / "mlp.nndesk"
    code, out, err = run(
        "import", str(FIXTURES / "torch_mlp.onnx"), "--out", str(target)
    )
    assert (code, err) == (0, "")
    data = np.load(FIXTURES / "torch_mlp.npz")
    session = TrainingSession.open(target)
    np.testing.assert_allclose(session.predict(data["x"]), data["y"], atol=1e-5)
    code, out, _ = run("summary", str(target))
    assert code == 0 and "dense_3" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["import", "{tmp}/missing.onnx", "--out", "{tmp}/m.nndesk"], "missing.onnx"),
        (["import", "{spiral}", "--out", "{tmp}/m.nndesk"], "is not an ONNX model"),
        (["import", "{onnx}", "--out", "{tmp}/no/m.nndesk"], "does not exist"),
        (
            ["export", "{spiral}", "--format", "onnx", "--out", "{tmp}/no/s.onnx"],
            "does not exist",
        ),
        (
            ["export", "{spiral}", "--format", "tflite", "--out", "{tmp}/s"],
            "invalid choice",
        ),
        (["export", "{spiral}", "--out", "{tmp}/s.onnx"], "--format"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(trained, tmp_path, args, fragment):
    before = sorted(p.name for p in tmp_path.iterdir())
    subs = {
        "tmp": str(tmp_path),
        "spiral": str(trained),
        "onnx": str(FIXTURES / "torch_mlp.onnx"),
    }
    code, out, err = run(*(a.format(**subs) for a in args))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and fragment in err
    assert err.startswith(f"nndesk {args[0]}: error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unsupported_operators_are_listed_on_one_line(tmp_path: Path):
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("Cos", ["x"], ["a"], name="c1"),
            helper.make_node("Sin", ["a"], ["y"], name="s1"),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "trig.onnx"
    onnx.save(model, str(path))
    code, _, err = run("import", str(path), "--out", str(tmp_path / "t.nndesk"))
    assert code == 2
    assert err == (
        "nndesk import: error: Cannot import trig.onnx: nndesk has no layer for 2 ONNX "
        "nodes: 'c1' (Cos), 's1' (Sin).\n"
    )
    assert not (tmp_path / "t.nndesk").exists()
