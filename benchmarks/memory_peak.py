"""Peak memory of training the Fashion-MNIST example from the command line.

Copies the example network, runs ``nndesk train FILE --epochs 1 --out OUT`` in a
fresh process and reports its peak resident memory, read by ``/usr/bin/time -v``
(GNU time; the child's ``ru_maxrss`` from ``getrusage(RUSAGE_CHILDREN)`` where it
is missing), and how much of it is the data: the float32 features as loaded and
the one prepared (split, scaled) copy of them, plus their targets, as computed
from the sample count and as measured (a second run on the dataset's 10,000-image
test split: the peak's growth per sample, times the samples). Target: a peak
of at most 600 MB (MB = 2**20 bytes, as ``time -v`` counts kilobytes of 1,024
bytes). The last line is one JSON object.

Usage: ``python benchmarks/memory_peak.py [--data FOLDER] [--epochs 1]``; the
default dataset is the example's own (``fashion-mnist``, looked up in
``NNDESK_DATA`` and ``shared/data`` beside the checkout).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_MB = 600.0
GNU_TIME = "/usr/bin/time"
MB = 2**20

# "fashion-mnist (train): 60000 samples, input shape (28, 28), 10 classes"
SUMMARY = re.compile(r": (\d+) samples, input shape \(([\d, ]*)\)")


def train_command(network: Path, out: Path, epochs: int, data: str | None) -> list[str]:
    """The command line the benchmark measures."""
    cmd = [sys.executable, "-m", "nndesk", "train", str(network)]
    cmd += ["--epochs", str(epochs), "--out", str(out)]
    return cmd + (["--data", data] if data else [])


def run_measured(cmd: list[str]) -> tuple[str, float, str]:
    """Run ``cmd``; its stdout, its peak resident memory in MB and how it was read."""
    gnu_time = shutil.which(GNU_TIME)
    full = [gnu_time, "-v", *cmd] if gnu_time else cmd
    done = subprocess.run(full, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(
            f"nndesk train failed (exit {done.returncode}):\n{done.stdout}{done.stderr}"
        )
    if not gnu_time:
        # The largest peak of the children waited for: this one is the only child.
        kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
        return done.stdout, kib / 1024, "getrusage(RUSAGE_CHILDREN).ru_maxrss"
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"{GNU_TIME} -v printed no peak:\n{done.stderr}")
    return done.stdout, int(found.group(1)) / 1024, "/usr/bin/time -v"


def data_megabytes(stdout: str) -> tuple[int, float]:
    """Samples and MB of the data a run holds, from the dataset line it prints.

    The features as loaded (float32) and one prepared copy of them, each with its
    int64 labels.
    """
    found = SUMMARY.search(stdout)
    if found is None:
        raise SystemExit(f"nndesk train printed no dataset summary:\n{stdout}")
    samples = int(found.group(1))
    shape = [int(d) for d in found.group(2).replace(" ", "").split(",") if d]
    per_copy = samples * (4 * math.prod(shape) + 8)
    return samples, 2 * per_copy / MB


def test_split(spec: str) -> str:
    """The same dataset's test split (10,000 images for Fashion-MNIST)."""
    from nndesk.io.datasets.spec import format_spec, parse_spec

    head, options = parse_spec(spec)
    return format_spec(head, {**options, "split": "test"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="dataset spec (--data of train)")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args(argv)
    from nndesk.training.examples import copy_example, load_example

    spec = args.data or str(load_example("fashion_mnist").document.settings["dataset"])
    with tempfile.TemporaryDirectory() as tmp:
        network = copy_example("fashion_mnist", tmp)
        out = Path(tmp) / "out.nndesk"
        # The smaller run first: without GNU time the children's peak is a maximum.
        small = run_measured(train_command(network, out, args.epochs, test_split(spec)))
        stdout, peak_mb, how = run_measured(
            train_command(network, out, args.epochs, args.data)
        )
    samples, data_mb = data_megabytes(stdout)
    small_samples, _ = data_megabytes(small[0])
    # What the data costs, measured: the peak grows with the sample count.
    per_sample = (peak_mb - small[1]) / (samples - small_samples)
    measured_mb = per_sample * samples
    result = {
        "peak_mb": round(peak_mb, 1),
        "data_mb": round(data_mb, 1),
        "data_share": round(data_mb / peak_mb, 3),
        "rest_mb": round(peak_mb - data_mb, 1),
        "samples": samples,
        "peak_mb_test_split": round(small[1], 1),
        "samples_test_split": small_samples,
        "data_mb_measured": round(measured_mb, 1),
        "epochs": args.epochs,
        "measured_with": how,
        "target_mb": TARGET_MB,
        "targets_met": peak_mb <= TARGET_MB,
    }
    print(
        f"nndesk train fashion_mnist.nndesk --epochs {args.epochs}: peak resident "
        f"{peak_mb:.0f} MB ({how}); data {data_mb:.0f} MB of it "
        f"({100 * data_mb / peak_mb:.0f}%: {samples:,} float32 samples as loaded "
        f"and one prepared copy), the rest {peak_mb - data_mb:.0f} MB "
        f"(interpreter, NumPy, Numba, the network); target <= {TARGET_MB:.0f} MB"
    )
    print(
        f"the same on the {small_samples:,}-sample test split: {small[1]:.0f} MB, so "
        f"the data costs {measured_mb:.0f} MB measured "
        f"({per_sample * MB:,.0f} bytes a sample)"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
