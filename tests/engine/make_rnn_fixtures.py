"""Write the PyTorch reference fixtures of the recurrent layers (rnn_*.npz).

Run by hand with the reference venv (it has torch; the test suite never imports
it)::

    /work/refvenv/bin/python tests/engine/make_rnn_fixtures.py

The file layout is ``make_conv_fixtures.py``'s: every file carries a JSON ``spec``
(a 0-d unicode array) from which ``test_recurrent_reference.py`` rebuilds each
case with nndesk alone, and a case is one float32 vector whose arrays
``spec[case]["arrays"]`` lists (name and shape, in order). Everything is computed
in float64 from fixed seeds; inputs and weights are rounded to float32 before
torch sees them, so the stored values are exact.

Per layer case (``rnn_simple``, ``rnn_lstm``, ``rnn_gru``: every combination of
``return_sequences``, ``bidirectional`` and sequence lengths 1, 2 and 17):

- ``x`` the input ``(batch, time, features)``, ``w/<param>`` the weights in
  nndesk's layout (mapped to torch as ``mapping()`` shows: ``kernel`` =
  ``weight_ih_l0.T``, ``recurrent_kernel`` = ``weight_hh_l0.T``, ``bias`` =
  ``bias_ih_l0``, ``recurrent_bias`` = ``bias_hh_l0``, ``_reverse`` alike);
- ``out`` the output (the sequence, or ``cat(h_n[0], h_n[1])``), ``dy`` a random
  output gradient, and for the scalar ``sum(out * dy)``: ``dx`` and
  ``g/<param>``;
- ``sgd/<param>`` and ``adam/<param>``: the weights after 5 steps on
  ``mean(out**2)`` with SGD (lr 0.05, momentum 0.9) and Adam (lr 0.01).

``rnn_embedding.npz`` holds Embedding cases (ids as float ``x``, no ``dx``) and
``rnn_net.npz`` small sequence networks given as nndesk layer lists, trained on
the MSE to a stored target.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parent / "fixtures"
torch.set_default_dtype(torch.float64)

SGD = {"name": "sgd", "kwargs": {"lr": 0.05, "momentum": 0.9}}
ADAM = {"name": "adam", "kwargs": {"lr": 0.01}}
STEPS = 5
TORCH_CLASS = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def save(name: str, arrays: dict[str, np.ndarray], spec: dict) -> None:
    """One float32 vector per case (see make_conv_fixtures.save)."""
    cases: dict[str, list[tuple[str, np.ndarray]]] = {}
    for key, value in arrays.items():
        case, _, array_name = key.partition("/")
        cases.setdefault(case, []).append((array_name, np.asarray(value)))
    stored = {}
    for case, items in cases.items():
        spec[case]["arrays"] = [[k, list(v.shape)] for k, v in items]
        stored[case] = np.concatenate([v.reshape(-1) for _, v in items]).astype(
            np.float32
        )
    stored["spec"] = np.array(json.dumps(spec, sort_keys=True))
    np.savez_compressed(OUT / f"{name}.npz", **stored)


def f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def t(a, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def n(x: torch.Tensor) -> np.ndarray:
    return x.detach().numpy().copy()


# --- the nndesk <-> torch weight mapping (docs/engine.md prints it too) ---------------
def mapping(bidirectional: bool, use_bias: bool = True) -> dict[str, tuple[str, bool]]:
    """nndesk weight name -> (torch parameter name, transposed?)."""
    pairs = {
        "kernel": ("weight_ih_l0", True),
        "recurrent_kernel": ("weight_hh_l0", True),
    }
    if use_bias:
        pairs |= {
            "bias": ("bias_ih_l0", False),
            "recurrent_bias": ("bias_hh_l0", False),
        }
    out = dict(pairs)
    if bidirectional:
        out |= {f"{k}_reverse": (f"{v}_reverse", tr) for k, (v, tr) in pairs.items()}
    return out


def to_torch(ours: dict[str, np.ndarray], bidirectional: bool) -> dict[str, np.ndarray]:
    return {
        theirs: (ours[k].T if tr else ours[k])
        for k, (theirs, tr) in mapping(bidirectional, "bias" in ours).items()
    }


def from_torch(module: torch.nn.Module, keys, bidirectional: bool) -> dict:
    params = dict(module.named_parameters())
    return {
        k: (n(params[theirs]).T if tr else n(params[theirs])).copy()
        for k, (theirs, tr) in mapping(bidirectional, "bias" in keys).items()
    }


def torch_layer(type_name: str, kw: dict, features: int, ours: dict) -> torch.nn.Module:
    extra = (
        {"nonlinearity": kw.get("activation", "tanh")}
        if type_name == "SimpleRNN"
        else {}
    )
    module = TORCH_CLASS[type_name](
        features,
        kw["units"],
        batch_first=True,
        bidirectional=kw.get("bidirectional", False),
        bias=kw.get("use_bias", True),
        **extra,
    )
    with torch.no_grad():
        named = dict(module.named_parameters())
        for theirs, value in to_torch(ours, kw.get("bidirectional", False)).items():
            named[theirs].copy_(t(value))
    return module


def run_layer(module: torch.nn.Module, x: torch.Tensor, kw: dict) -> torch.Tensor:
    seq, state = module(x)
    if kw.get("return_sequences", False):
        return seq
    h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
    return torch.cat(list(h_n), dim=1)  # (directions, batch, units) -> side by side


def draw_weights(type_name: str, kw: dict, features: int, rng) -> dict[str, np.ndarray]:
    u, gu = kw["units"], GATES[type_name] * kw["units"]
    shapes = {"kernel": (features, gu), "recurrent_kernel": (u, gu)}
    if kw.get("use_bias", True):
        shapes |= {"bias": (gu,), "recurrent_bias": (gu,)}
    suffixes = ("", "_reverse") if kw.get("bidirectional") else ("",)
    out = {}
    for suffix in suffixes:
        for k, shape in shapes.items():
            scale = 0.3 if "bias" in k else 1.0 / math.sqrt(shape[0])
            out[k + suffix] = f32(scale * rng.normal(size=shape))
    return out


def train(module: torch.nn.Module, forward, x, target, opt_spec: dict) -> None:
    kw = opt_spec["kwargs"]
    if opt_spec["name"] == "sgd":
        opt = torch.optim.SGD(module.parameters(), lr=kw["lr"], momentum=kw["momentum"])
    else:
        opt = torch.optim.Adam(module.parameters(), lr=kw["lr"])
    for _ in range(STEPS):
        opt.zero_grad()
        ((forward(x) - target) ** 2).mean().backward()
        opt.step()


def layer_case(arrays, spec, case, type_name, kw, steps, rng, batch=2, features=3):
    x = f32(rng.normal(size=(batch, steps, features)))
    ours = draw_weights(type_name, kw, features, rng)
    bi = kw.get("bidirectional", False)
    module = torch_layer(type_name, kw, features, ours)
    xt = t(x, grad=True)
    out = run_layer(module, xt, kw)
    dy = f32(rng.normal(size=tuple(out.shape)))
    (out * t(dy)).sum().backward()
    grads = {
        k: (n(p.grad).T if tr else n(p.grad))
        for k, (theirs, tr) in mapping(bi, "bias" in ours).items()
        for name, p in module.named_parameters()
        if name == theirs
    }
    a = {"x": x, "out": n(out), "dy": dy, "dx": n(xt.grad)}
    a |= {f"w/{k}": v for k, v in ours.items()}
    a |= {f"g/{k}": v for k, v in grads.items()}
    for label, opt in (("sgd", SGD), ("adam", ADAM)):
        fresh = torch_layer(type_name, kw, features, ours)
        train(fresh, lambda xx, m=fresh: run_layer(m, xx, kw), t(x), 0.0, opt)
        a |= {f"{label}/{k}": v for k, v in from_torch(fresh, ours, bi).items()}
    arrays |= {f"{case}/{k}": v for k, v in a.items()}
    spec[case] = {"type": type_name, "kwargs": kw, "input_shape": [steps, features]}


def make_layers() -> None:
    for stem, type_name, extra in (
        ("rnn_simple", "SimpleRNN", [{"activation": "tanh"}, {"activation": "relu"}]),
        ("rnn_lstm", "LSTM", [{}]),
        ("rnn_gru", "GRU", [{}]),
    ):
        rng = np.random.default_rng(sum(map(ord, stem)))
        arrays: dict = {}
        spec: dict = {}
        combos = itertools.product((False, True), (False, True), (1, 2, 17))
        for i, (seqs, bi, steps) in enumerate(combos):
            kw = {"units": 3, "return_sequences": seqs, "bidirectional": bi}
            kw |= extra[i % len(extra)]
            case = f"T{steps}_{'seq' if seqs else 'last'}{'_bi' if bi else ''}"
            layer_case(arrays, spec, case, type_name, kw, steps, rng)
        # Without biases, and a wider layer.
        layer_case(
            arrays,
            spec,
            "nobias",
            type_name,
            {"units": 2, "use_bias": False, "return_sequences": True, **extra[0]},
            4,
            rng,
        )
        layer_case(
            arrays,
            spec,
            "wide",
            type_name,
            {"units": 6, "bidirectional": True, **extra[-1]},
            5,
            rng,
            batch=3,
            features=4,
        )
        save(stem, arrays, spec)


def make_embedding(rng) -> None:
    arrays: dict = {}
    spec: dict = {}
    for case, (vocab, dim, shape) in {
        "e0": (7, 3, (5,)),
        "e1": (4, 2, (3, 2)),  # ids repeat within a sample: gradients add up
    }.items():
        x = rng.integers(0, vocab, size=(3, *shape))
        w = f32(rng.normal(size=(vocab, dim)))
        module = torch.nn.Embedding(vocab, dim)
        with torch.no_grad():
            module.weight.copy_(t(w))
        ids = torch.tensor(x, dtype=torch.long)
        out = module(ids)
        dy = f32(rng.normal(size=tuple(out.shape)))
        (out * t(dy)).sum().backward()
        a = {"x": x.astype(np.float64), "out": n(out), "dy": dy}
        a |= {"w/embeddings": w, "g/embeddings": n(module.weight.grad)}
        for label, opt in (("sgd", SGD), ("adam", ADAM)):
            fresh = torch.nn.Embedding(vocab, dim)
            with torch.no_grad():
                fresh.weight.copy_(t(w))
            train(fresh, lambda i, m=fresh: m(i), ids, 0.0, opt)
            a[f"{label}/embeddings"] = n(fresh.weight)
        arrays |= {f"{case}/{k}": v for k, v in a.items()}
        spec[case] = {
            "type": "Embedding",
            "kwargs": {"input_dim": vocab, "output_dim": dim},
            "input_shape": list(shape),
        }
    save("rnn_embedding", arrays, spec)


NETS = {
    # token ids -> embedding -> bidirectional GRU (final states) -> dense
    "tokens": {
        "input_shape": [6],
        "vocab": 5,
        "layers": [
            ["Embedding", "emb", {"input_dim": 5, "output_dim": 3}],
            ["GRU", "gru", {"units": 4, "bidirectional": True}],
            ["Dense", "out", {"units": 2}],
        ],
    },
    # a tagger: ids -> embedding -> bidirectional LSTM sequences -> dense per step
    "tagger": {
        "input_shape": [5],
        "vocab": 6,
        "layers": [
            ["Embedding", "emb", {"input_dim": 6, "output_dim": 3}],
            [
                "LSTM",
                "lstm",
                {"units": 3, "return_sequences": True, "bidirectional": True},
            ],
            ["Dense", "tag", {"units": 4}],
        ],
    },
    # stacked: LSTM sequences -> SimpleRNN final state -> dense
    "stacked": {
        "input_shape": [7, 2],
        "layers": [
            ["LSTM", "l1", {"units": 4, "return_sequences": True}],
            ["SimpleRNN", "r2", {"units": 3, "activation": "tanh"}],
            ["Dense", "out", {"units": 1}],
        ],
    },
}


class Net(torch.nn.Module):
    def __init__(self, net: dict, weights: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.spec = net["layers"]
        self.mods = torch.nn.ModuleDict()
        features = net["input_shape"][-1]
        for type_name, name, kw in self.spec:
            local = {
                k.split("/")[1]: v
                for k, v in weights.items()
                if k.startswith(name + "/")
            }
            if type_name == "Embedding":
                m = torch.nn.Embedding(kw["input_dim"], kw["output_dim"])
                with torch.no_grad():
                    m.weight.copy_(t(local["embeddings"]))
                features = kw["output_dim"]
            elif type_name == "Dense":
                m = torch.nn.Linear(features, kw["units"])
                with torch.no_grad():
                    m.weight.copy_(t(local["kernel"].T))
                    m.bias.copy_(t(local["bias"]))
            else:
                m = torch_layer(type_name, kw, features, local)
                features = kw["units"] * (2 if kw.get("bidirectional") else 1)
            self.mods[name] = m

    def forward(self, x):
        h = x
        for type_name, name, kw in self.spec:
            m = self.mods[name]
            h = run_layer(m, h, kw) if type_name in TORCH_CLASS else m(h)
        return h

    def ours(self) -> dict[str, np.ndarray]:
        out = {}
        for type_name, name, kw in self.spec:
            m = self.mods[name]
            if type_name == "Embedding":
                out[f"{name}/embeddings"] = n(m.weight)
            elif type_name == "Dense":
                out[f"{name}/kernel"] = n(m.weight).T.copy()
                out[f"{name}/bias"] = n(m.bias)
            else:
                keys = list(mapping(kw.get("bidirectional", False)))
                for k, v in from_torch(m, keys, kw.get("bidirectional", False)).items():
                    out[f"{name}/{k}"] = v
        return out


def make_nets(rng) -> None:
    arrays: dict = {}
    spec: dict = {}
    for case, net in NETS.items():
        weights: dict[str, np.ndarray] = {}
        features = net["input_shape"][-1]
        for type_name, name, kw in net["layers"]:
            if type_name == "Embedding":
                weights[f"{name}/embeddings"] = f32(
                    rng.normal(size=(kw["input_dim"], kw["output_dim"]))
                )
                features = kw["output_dim"]
            elif type_name == "Dense":
                weights[f"{name}/kernel"] = f32(
                    rng.normal(size=(features, kw["units"])) / math.sqrt(features)
                )
                weights[f"{name}/bias"] = f32(0.3 * rng.normal(size=kw["units"]))
            else:
                for k, v in draw_weights(type_name, kw, features, rng).items():
                    weights[f"{name}/{k}"] = v
                features = kw["units"] * (2 if kw.get("bidirectional") else 1)
        if "vocab" in net:
            x = rng.integers(0, net["vocab"], size=(3, *net["input_shape"]))
            xt = torch.tensor(x, dtype=torch.long)
        else:
            x = f32(rng.normal(size=(3, *net["input_shape"])))
            xt = t(x)
        model = Net(net, weights)
        out = model(xt)
        y = f32(rng.normal(size=tuple(out.shape)))
        dy = f32(rng.normal(size=tuple(out.shape)))
        (out * t(dy)).sum().backward()
        grads = {}  # in nndesk's layout, through the same mapping
        for type_name, name, kw in net["layers"]:
            m = model.mods[name]
            if type_name == "Embedding":
                grads[f"{name}/embeddings"] = n(m.weight.grad)
            elif type_name == "Dense":
                grads[f"{name}/kernel"] = n(m.weight.grad).T.copy()
                grads[f"{name}/bias"] = n(m.bias.grad)
            else:
                named = dict(m.named_parameters())
                for k, (theirs, tr) in mapping(kw.get("bidirectional", False)).items():
                    g = n(named[theirs].grad)
                    grads[f"{name}/{k}"] = g.T.copy() if tr else g
        a = {"x": np.asarray(x, dtype=np.float64), "y": y, "out": n(out), "dy": dy}
        a |= {f"w/{k}": v for k, v in weights.items()}
        a |= {f"g/{k}": v for k, v in grads.items()}
        for label, opt in (("sgd", SGD), ("adam", ADAM)):
            fresh = Net(net, weights)
            train(fresh, fresh, xt, t(y), opt)
            a |= {f"{label}/{k}": v for k, v in fresh.ours().items()}
        arrays |= {f"{case}/{k}": v for k, v in a.items()}
        spec[case] = net
    save("rnn_net", arrays, spec)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    make_layers()
    make_embedding(np.random.default_rng(21))
    make_nets(np.random.default_rng(22))
    files = sorted(OUT.glob("rnn_*.npz"))
    total = sum(p.stat().st_size for p in files)
    print(
        f"wrote {len(files)} fixtures, {total / 1024:.0f} KiB, torch {torch.__version__}"
    )


if __name__ == "__main__":
    main()
