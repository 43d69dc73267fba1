"""Write the PyTorch reference fixtures of the attention layers (attn_*.npz).

Run by hand with the reference venv (it has torch; the test suite never imports
it)::

    /work/refvenv/bin/python tests/engine/make_attention_fixtures.py

The file layout is ``make_conv_fixtures.py``'s: every file carries a JSON ``spec``
(a 0-d unicode array) from which ``test_attention_reference.py`` rebuilds each
case with nndesk alone, and a case is one float32 vector whose arrays
``spec[case]["arrays"]`` lists (name and shape, in order). Everything is computed
in float64 from fixed seeds; inputs and weights are rounded to float32 before
torch sees them, so the stored values are exact.

Per layer case:

- ``x`` (and ``x2``, the keys and values of cross-attention) the inputs, ``w/<param>``
  the weights in nndesk's layout (``to_torch`` maps them: ``in_kernel`` =
  ``in_proj_weight.T``, ``in_bias`` = ``in_proj_bias``, ``out_kernel`` =
  ``out_proj.weight.T``, ``out_bias`` = ``out_proj.bias``; LayerNorm ``gamma`` =
  ``weight``, ``beta`` = ``bias``);
- ``out`` the output, ``dy`` a random output gradient, and for the scalar
  ``sum(out * dy)``: ``dx`` (``dx2``) and ``g/<param>``;
- ``adam/<param>`` and ``adamw/<param>``: the weights after 5 steps on
  ``mean(out**2)`` with Adam (lr 0.01) and AdamW (lr 0.01, weight decay 0.1).

``attn_net.npz`` holds a small Transformer block on token ids (Embedding, learned
or sinusoidal positions, LayerNorm, causal attention, residual Adds, a GELU
feed-forward) trained on the MSE to a stored target.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parent / "fixtures"
torch.set_default_dtype(torch.float64)

ADAM = {"name": "adam", "kwargs": {"lr": 0.01}}
ADAMW = {"name": "adamw", "kwargs": {"lr": 0.01, "weight_decay": 0.1}}
STEPS = 5


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
MAPPING = {
    "MultiHeadAttention": {
        "in_kernel": ("in_proj_weight", True),  # (torch name, transposed?)
        "in_bias": ("in_proj_bias", False),
        "out_kernel": ("out_proj.weight", True),
        "out_bias": ("out_proj.bias", False),
    },
    "LayerNormalization": {"gamma": ("weight", False), "beta": ("bias", False)},
    "PositionalEmbedding": {"embeddings": ("weight", False)},
    "Embedding": {"embeddings": ("weight", False)},
    "Dense": {"kernel": ("weight", True), "bias": ("bias", False)},
}


def to_torch(type_name: str, module: torch.nn.Module, ours: dict) -> None:
    named = dict(module.named_parameters())
    with torch.no_grad():
        for k, (theirs, tr) in MAPPING[type_name].items():
            if k in ours:
                named[theirs].copy_(t(ours[k].T if tr else ours[k]))


def from_torch(type_name: str, module: torch.nn.Module, grads: bool = False) -> dict:
    named = dict(module.named_parameters())
    out = {}
    for k, (theirs, tr) in MAPPING[type_name].items():
        if theirs in named:
            p = named[theirs]
            v = n(p.grad if grads else p)
            out[k] = v.T.copy() if tr else v
    return out


class Attention(torch.nn.Module):
    """torch.nn.MultiheadAttention called as nndesk's layer is."""

    def __init__(self, kw: dict) -> None:
        super().__init__()
        d = kw["num_heads"] * kw["key_dim"]
        self.causal = kw.get("causal", False)
        self.mha = torch.nn.MultiheadAttention(
            d, kw["num_heads"], bias=kw.get("use_bias", True), batch_first=True
        )

    def forward(self, q, kv=None):
        kv = q if kv is None else kv
        mask = None
        if self.causal:
            mask = torch.triu(torch.ones(q.shape[1], kv.shape[1], dtype=torch.bool), 1)
        return self.mha(q, kv, kv, attn_mask=mask, need_weights=False)[0]


def torch_layer(type_name: str, kw: dict, features: int, ours: dict):
    if type_name == "MultiHeadAttention":
        module = Attention(kw)
        to_torch(type_name, module.mha, ours)
        return module, module.mha
    module = torch.nn.LayerNorm(features, eps=kw.get("epsilon", 1e-5))
    to_torch(type_name, module, ours)
    return module, module


def draw_weights(type_name: str, kw: dict, features: int, rng) -> dict:
    if type_name == "LayerNormalization":
        return {
            "gamma": f32(rng.uniform(0.5, 1.5, size=features)),
            "beta": f32(0.3 * rng.normal(size=features)),
        }
    d = features
    w = {"in_kernel": f32(rng.normal(size=(d, 3 * d)) / math.sqrt(d))}
    if kw.get("use_bias", True):
        w["in_bias"] = f32(0.3 * rng.normal(size=3 * d))
    w["out_kernel"] = f32(rng.normal(size=(d, d)) / math.sqrt(d))
    if kw.get("use_bias", True):
        w["out_bias"] = f32(0.3 * rng.normal(size=d))
    return w


def make_optimizer(spec: dict, params):
    kw = spec["kwargs"]
    if spec["name"] == "adam":
        return torch.optim.Adam(params, lr=kw["lr"])
    return torch.optim.AdamW(params, lr=kw["lr"], weight_decay=kw["weight_decay"])


def train(module, forward, inputs, target, opt_spec: dict) -> None:
    opt = make_optimizer(opt_spec, module.parameters())
    for _ in range(STEPS):
        opt.zero_grad()
        ((forward(*inputs) - target) ** 2).mean().backward()
        opt.step()


def layer_case(arrays, spec, case, type_name, kw, shapes, rng, batch=3):
    features = shapes[0][-1]
    xs = [f32(rng.normal(size=(batch, *s))) for s in shapes]
    ours = draw_weights(type_name, kw, features, rng)
    module, holder = torch_layer(type_name, kw, features, ours)
    xts = [t(x, grad=True) for x in xs]
    out = module(*xts)
    dy = f32(rng.normal(size=tuple(out.shape)))
    (out * t(dy)).sum().backward()
    a = {"x": xs[0]}
    if len(xs) == 2:
        a["x2"] = xs[1]
    a |= {"out": n(out), "dy": dy, "dx": n(xts[0].grad)}
    if len(xs) == 2:
        a["dx2"] = n(xts[1].grad)
    a |= {f"w/{k}": v for k, v in ours.items()}
    a |= {f"g/{k}": v for k, v in from_torch(type_name, holder, grads=True).items()}
    for label, opt in (("adam", ADAM), ("adamw", ADAMW)):
        fresh, fresh_holder = torch_layer(type_name, kw, features, ours)
        train(fresh, fresh, [t(x) for x in xs], 0.0, opt)
        a |= {f"{label}/{k}": v for k, v in from_torch(type_name, fresh_holder).items()}
    arrays |= {f"{case}/{k}": v for k, v in a.items()}
    spec[case] = {"type": type_name, "kwargs": kw, "input_shapes": shapes}


def make_layers() -> None:
    rng = np.random.default_rng(15)
    arrays: dict = {}
    spec: dict = {}
    for heads in (1, 2, 4):
        for causal in (False, True):
            kw = {"num_heads": heads, "key_dim": 8 // heads, "causal": causal}
            case = f"self_h{heads}{'_causal' if causal else ''}"
            layer_case(arrays, spec, case, "MultiHeadAttention", kw, [[5, 8]], rng)
    cross = {"num_heads": 2, "key_dim": 3}
    layer_case(
        arrays, spec, "cross_h2", "MultiHeadAttention", cross, [[4, 6], [7, 6]], rng
    )
    layer_case(
        arrays,
        spec,
        "cross_h4_causal",
        "MultiHeadAttention",
        {"num_heads": 4, "key_dim": 2, "causal": True},
        [[5, 8], [5, 8]],
        rng,
    )
    layer_case(
        arrays,
        spec,
        "self_h2_nobias",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 3, "use_bias": False},
        [[1, 6]],
        rng,
    )
    save("attn_mha", arrays, spec)

    arrays, spec = {}, {}
    for case, shape, kw in (
        ("seq", [5, 6], {}),
        ("flat", [7], {"epsilon": 1e-3}),
        ("image", [3, 2, 4], {}),
    ):
        layer_case(arrays, spec, case, "LayerNormalization", kw, [shape], rng)
    save("attn_layernorm", arrays, spec)


def sinusoids(steps: int, features: int) -> np.ndarray:
    tt = np.arange(steps, dtype=np.float64)[:, None]
    i = np.arange(0, features, 2, dtype=np.float64)
    angles = tt / np.power(10000.0, i / features)
    table = np.zeros((steps, features))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : features // 2])
    return table


class Block(torch.nn.Module):
    """ids -> Embedding -> + positions -> pre-norm Transformer block -> Dense."""

    def __init__(self, net: dict, w: dict) -> None:
        super().__init__()
        vocab, steps, d = net["vocab"], net["steps"], net["d"]
        self.encoding = net["encoding"]
        self.emb = torch.nn.Embedding(vocab, d)
        to_torch("Embedding", self.emb, sub(w, "emb"))
        if self.encoding == "learned":
            self.pos = torch.nn.Embedding(steps, d)
            to_torch("PositionalEmbedding", self.pos, sub(w, "pos"))
        else:
            self.register_buffer("table", t(sinusoids(steps, d)))
        self.ln1 = torch.nn.LayerNorm(d)
        to_torch("LayerNormalization", self.ln1, sub(w, "ln1"))
        self.att = Attention(
            {"num_heads": net["heads"], "key_dim": d // net["heads"], "causal": True}
        )
        to_torch("MultiHeadAttention", self.att.mha, sub(w, "att"))
        self.ln2 = torch.nn.LayerNorm(d)
        to_torch("LayerNormalization", self.ln2, sub(w, "ln2"))
        self.ff1 = torch.nn.Linear(d, 2 * d)
        to_torch("Dense", self.ff1, sub(w, "ff1"))
        self.ff2 = torch.nn.Linear(2 * d, d)
        to_torch("Dense", self.ff2, sub(w, "ff2"))
        self.head = torch.nn.Linear(d, vocab)
        to_torch("Dense", self.head, sub(w, "head"))
        self.steps = steps

    def forward(self, ids):
        h = self.emb(ids)
        if self.encoding == "learned":
            h = h + self.pos(torch.arange(self.steps))
        else:
            h = h + self.table
        h = h + self.att(self.ln1(h))
        h = h + self.ff2(torch.nn.functional.gelu(self.ff1(self.ln2(h))))
        return self.head(h)

    def ours(self, grads: bool = False) -> dict:
        parts = {
            "emb": ("Embedding", self.emb),
            "ln1": ("LayerNormalization", self.ln1),
            "att": ("MultiHeadAttention", self.att.mha),
            "ln2": ("LayerNormalization", self.ln2),
            "ff1": ("Dense", self.ff1),
            "ff2": ("Dense", self.ff2),
            "head": ("Dense", self.head),
        }
        if self.encoding == "learned":
            parts["pos"] = ("PositionalEmbedding", self.pos)
        return {
            f"{name}/{k}": v
            for name, (type_name, m) in parts.items()
            for k, v in from_torch(type_name, m, grads).items()
        }


def sub(w: dict, name: str) -> dict:
    return {k.split("/")[1]: v for k, v in w.items() if k.startswith(name + "/")}


def make_nets(rng) -> None:
    arrays: dict = {}
    spec: dict = {}
    for case, encoding in (
        ("block_learned", "learned"),
        ("block_sinusoidal", "sinusoidal"),
    ):
        net = {"vocab": 5, "steps": 6, "d": 8, "heads": 2, "encoding": encoding}
        d, vocab, steps = net["d"], net["vocab"], net["steps"]
        w = {"emb/embeddings": f32(rng.normal(size=(vocab, d)))}
        if encoding == "learned":
            w["pos/embeddings"] = f32(0.3 * rng.normal(size=(steps, d)))
        for ln in ("ln1", "ln2"):
            w |= {
                f"{ln}/{k}": v
                for k, v in draw_weights("LayerNormalization", {}, d, rng).items()
            }
        w |= {
            f"att/{k}": v
            for k, v in draw_weights("MultiHeadAttention", {}, d, rng).items()
        }
        for name, (fin, fout) in (
            ("ff1", (d, 2 * d)),
            ("ff2", (2 * d, d)),
            ("head", (d, vocab)),
        ):
            w[f"{name}/kernel"] = f32(rng.normal(size=(fin, fout)) / math.sqrt(fin))
            w[f"{name}/bias"] = f32(0.3 * rng.normal(size=fout))
        x = rng.integers(0, vocab, size=(4, steps))
        ids = torch.tensor(x, dtype=torch.long)
        model = Block(net, w)
        out = model(ids)
        y = f32(rng.normal(size=tuple(out.shape)))
        dy = f32(rng.normal(size=tuple(out.shape)))
        (out * t(dy)).sum().backward()
        a = {"x": x.astype(np.float64), "y": y, "out": n(out), "dy": dy}
        a |= {f"w/{k}": v for k, v in w.items()}
        a |= {f"g/{k}": v for k, v in model.ours(grads=True).items()}
        for label, opt in (("adam", ADAM), ("adamw", ADAMW)):
            fresh = Block(net, w)
            train(fresh, fresh, [ids], t(y), opt)
            a |= {f"{label}/{k}": v for k, v in fresh.ours().items()}
        arrays |= {f"{case}/{k}": v for k, v in a.items()}
        spec[case] = net
    save("attn_net", arrays, spec)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    make_layers()
    make_nets(np.random.default_rng(16))
    files = sorted(OUT.glob("attn_*.npz"))
    total = sum(p.stat().st_size for p in files)
    print(
        f"wrote {len(files)} fixtures, {total / 1024:.0f} KiB, torch {torch.__version__}"
    )


if __name__ == "__main__":
    main()
