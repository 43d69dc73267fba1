"""What measuring gradient flow costs a training run (issue 17: at most 2%).

Trains the Fashion-MNIST MLP (784-256-128-10) and the CNN for a number of batches,
once plainly and once with ``training.gradient_flow.GradientFlow`` as a callback,
and prints: the cost of one measurement (weights kept before the step, norms after
it, the dead-unit forward pass), the cost of one training batch, how often the
callback measured, and the share of the run it took by its own clock.

Usage: ``.venv/bin/python benchmarks/gradient_flow_cost.py [--batches 300]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nndesk.document.examples import fashion_mnist_cnn, fashion_mnist_mlp
from nndesk.training.gradient_flow import GradientFlow
from nndesk.training.session import TrainingSession

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"


def run(doc, batches: int) -> None:
    session = TrainingSession(doc)
    data = session.prepare(session.load_dataset())
    bs = int(session.settings["batch_size"])
    n = batches * bs
    x, y = data.x_train[:n], data.y_train[:n]
    model = session.model
    flow = GradientFlow(model, data.x_train, bs)
    model.fit(x[: 3 * bs], y[: 3 * bs], epochs=1, batch_size=bs)  # warm up
    started = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=bs, shuffle=False)
    plain = time.perf_counter() - started
    started = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=bs, shuffle=False, callbacks=[flow])
    watched = time.perf_counter() - started
    per_batch = plain / batches
    cost = flow.spent / max(flow.measurements, 1)
    print(
        f"{model.name} ({doc.settings['batch_size']} per batch): batch "
        f"{per_batch * 1e3:.1f} ms, one measurement {cost * 1e3:.1f} ms "
        f"({cost / per_batch:.0%} of a batch), {flow.measurements} measurements "
        f"in {batches} batches, share {flow.share:.2%} by its clock, run "
        f"{plain:.2f} s plain vs {watched:.2f} s watched "
        f"({watched / plain - 1:+.1%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=300)
    args = parser.parse_args()
    for make in (fashion_mnist_mlp, fashion_mnist_cnn):
        run(make(str(DATA)), args.batches if make is fashion_mnist_mlp else 60)


if __name__ == "__main__":
    main()
