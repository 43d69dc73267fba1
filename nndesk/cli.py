"""The ``nndesk`` command line: headless subcommands on the same engine as the app.

``nndesk summary|train|evaluate|predict|export|import|race FILE ...``; see
``nndesk COMMAND --help`` and docs/cli.md. Each command exits with 0 on success and with 2 after printing one line
``nndesk COMMAND: error: ...`` for anything wrong with its input (a missing or corrupt
file, a bad dataset spec, a network that does not compile, a bad option).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from nndesk import __version__

SUBCOMMANDS = ("summary", "train", "evaluate", "predict", "export", "import", "race")

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

log = logging.getLogger(__name__)


class UsageError(Exception):
    """A command-line problem reported as one line and exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --- the parser ----------------------------------------------------------------------


def _add_split_option(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument(
        "--split", choices=("all", "train", "val", "test"), default="all", help=text
    )


def _add_data_options(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument(
        "--data",
        metavar="SPEC",
        required=required,
        help="dataset: a generator with options ('spiral:n=1000,noise=0.2'), a CSV or "
        "NPZ file, or an MNIST-style IDX folder; default: the dataset the file's "
        "settings name (relative paths there are relative to the file)",
    )
    p.add_argument(
        "--target",
        metavar="COL",
        help="CSV target column, by name or 0-based index (default: the last column)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``nndesk`` argument parser with its four subcommands."""
    parser = _Parser(
        prog="nndesk",
        description="nndesk: design, train and inspect neural networks. Without a "
        "command, opens the app (with FILE, opens that network).",
    )
    parser.add_argument("--version", action="version", version=f"nndesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("summary", help="print the layers, shapes and parameter counts")
    p.add_argument("file", metavar="FILE", help="a .nndesk network file")

    p = sub.add_parser(
        "train",
        help="train a network and save it",
        description="Train a network and save it, with its history, to --out or back "
        "to FILE. Training continues from the weights, optimizer state and history "
        "in the file.",
    )
    p.add_argument("file", metavar="FILE", help="a .nndesk network file")
    _add_data_options(p)
    p.add_argument("--epochs", type=int, metavar="N", help="epochs to train")
    p.add_argument("--batch-size", type=int, metavar="B", help="samples per step")
    p.add_argument("--lr", type=float, metavar="X", help="learning rate")
    p.add_argument(
        "--optimizer", metavar="NAME", help="sgd, adam, adamw, rmsprop, adagrad"
    )
    p.add_argument(
        "--seed", type=int, metavar="S", help="seed of weights, split, order"
    )
    p.add_argument("--out", metavar="FILE", help="where to save (default: FILE itself)")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-epoch lines")

    p = sub.add_parser(
        "evaluate",
        help="print the loss and metrics on a dataset",
        description="Print the loss and the metrics of the network on a dataset, one "
        "per line; the last line is one JSON object with all of them.",
    )
    p.add_argument("file", metavar="FILE", help="a .nndesk network file")
    _add_data_options(p)
    _add_split_option(
        p,
        "all of the dataset (default), the training or validation part of the "
        "settings' split, or the test part: the one the test_split setting holds "
        "out, else the dataset's own (IDX folders, NPZ files)",
    )

    p = sub.add_parser(
        "predict",
        help="write the predictions for a dataset to a CSV file",
        description="Write one CSV row per sample: the predicted class (or value), "
        "the class probabilities, and the true target.",
    )
    p.add_argument("file", metavar="FILE", help="a .nndesk network file")
    _add_data_options(p)
    _add_split_option(p, "which part of the dataset (see 'nndesk evaluate --help')")
    p.add_argument(
        "--out", metavar="FILE", required=True, help="the CSV file ('-': stdout)"
    )
    _add_exchange_commands(sub)
    _add_race_command(sub)
    return parser


def _add_race_command(sub: Any) -> None:
    """``race``: variants trained on identical batches in lockstep (docs/cli.md)."""
    p = sub.add_parser(
        "race",
        help="train 2-4 variants on identical batches and print a table",
        description="Train two to four network files on the same batches in the same "
        "order, epoch by epoch, each going on from what its file holds, and print "
        "their final and best loss and metrics and the time per epoch. The files "
        "are not changed (--out-dir saves the trained variants).",
    )
    p.add_argument("files", metavar="FILE", nargs="+", help="2 to 4 .nndesk files")
    _add_data_options(p)
    p.add_argument("--epochs", type=int, metavar="N", help="epochs to race")
    p.add_argument(
        "--out-dir", metavar="DIR", help="save each trained variant as DIR/NAME.nndesk"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no per-round lines")


def _add_exchange_commands(sub: Any) -> None:
    """``export`` and ``import``: ONNX files and PyTorch projects (docs/export.md)."""
    p = sub.add_parser(
        "export",
        help="write the network as an ONNX file or a PyTorch project",
        description="Write the network with its weights (and feature scaling) as an "
        "ONNX model (opset 17) or as a PyTorch project folder (model.py, weights.npz, "
        "train.py for one process or torchrun); see docs/export.md.",
    )
    p.add_argument("file", metavar="FILE", help="a .nndesk network file")
    p.add_argument("--format", choices=("onnx", "pytorch"), required=True)
    p.add_argument(
        "--out", metavar="PATH", required=True, help="the .onnx file or project folder"
    )
    p.add_argument(
        "--part",
        choices=("generator", "discriminator"),
        help="a GAN only, ONNX: write this network alone to --out (default: both, "
        "as NAME-generator.onnx and NAME-discriminator.onnx)",
    )
    p = sub.add_parser(
        "import",
        help="make a network file from an ONNX model",
        description="Read an ONNX model (one nndesk wrote, or PyTorch's "
        "torch.onnx.export) and save it as a network file, ready to train.",
    )
    p.add_argument("model", metavar="MODEL", help="an .onnx file")
    p.add_argument("--out", metavar="FILE", required=True, help="the .nndesk file")


# --- commands -------------------------------------------------------------------------


def _open(path: str) -> Any:
    from nndesk.training.session import TrainingSession

    return TrainingSession.open(path)


def _require_data(session: Any, args: argparse.Namespace) -> None:
    # The library's sentence names no flag (the window shows it too); here there is one.
    if args.data is None and not str(session.settings.get("dataset") or "").strip():
        raise UsageError(
            "No dataset is chosen: the network's settings name none; pass --data SPEC"
        )


def _dataset(session: Any, args: argparse.Namespace) -> Any:
    split = getattr(args, "split", "all")
    _require_data(session, args)
    dataset = session.load_dataset(
        args.data, target=args.target, split="test" if split == "test" else None
    )
    return session.part(dataset, split)


def cmd_summary(args: argparse.Namespace, out: IO[str]) -> int:
    from nndesk.document.gan import is_gan
    from nndesk.document.text import counted
    from nndesk.io.project_file import load_project
    from nndesk.training.gan import GanSession
    from nndesk.training.session import TrainingSession

    project = load_project(args.file)
    base_dir = Path(args.file).resolve().parent
    if is_gan(project.document):  # both networks and the GAN's setup
        print(GanSession.from_project(project, base_dir).summary(), file=out)
        return EXIT_OK
    session = TrainingSession.from_project(project, base_dir=base_dir)
    s = session.settings
    print(session.model.summary(), file=out)
    print(
        f"Loss: {session.net.loss}; optimizer {s['optimizer']}, learning rate "
        f"{s['learning_rate']:g}, batch size {s['batch_size']}, "
        f"{counted(s['epochs'], 'epoch')}.",
        file=out,
    )
    print(f"Dataset: {s['dataset'] or '(none chosen)'}", file=out)
    if session.history.epochs:
        last = session.history.last("loss")
        print(
            f"Trained: {counted(session.history.epochs, 'epoch')} "
            f"(last loss {last:.4f}).",
            file=out,
        )
    else:
        print("Trained: not yet.", file=out)
    return EXIT_OK


def _apply_overrides(args: argparse.Namespace) -> Any:
    """The file's project with the command-line settings written into its document."""
    from nndesk.io.project_file import load_project

    project = load_project(args.file)
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "optimizer": args.optimizer,
        "seed": args.seed,
    }
    for name, value in overrides.items():
        if value is not None:
            project.document.set_setting(name, value)
    return project


def cmd_train(args: argparse.Namespace, out: IO[str]) -> int:
    from nndesk.document.gan import is_gan
    from nndesk.document.text import counted
    from nndesk.training.callbacks import ProgressPrinter
    from nndesk.training.gan import GanSession
    from nndesk.training.session import TrainingSession

    project = _apply_overrides(args)
    base_dir = Path(args.file).resolve().parent
    gan = is_gan(project.document)  # a GAN trains both networks, labels unused
    session: Any = (
        GanSession.from_project(project, base_dir=base_dir)
        if gan
        else TrainingSession.from_project(project, base_dir=base_dir)
    )
    target = Path(args.out) if args.out else Path(args.file)
    if not target.parent.is_dir():
        raise UsageError(
            f"cannot save to {target}: the folder {target.parent} does not exist"
        )
    _require_data(session, args)
    if gan:
        dataset = session.load_dataset(args.data)
    else:
        dataset = session.load_dataset(args.data, target=args.target)
    print(dataset.summary(), file=out)
    callbacks = (
        []
        if args.quiet
        else [ProgressPrinter(lambda line: print(line, file=out, flush=True))]
    )
    history = session.fit(dataset, callbacks=callbacks)
    trainer = session.trainer
    if not gan and trainer is not None and trainer.status == "early_stopped":
        es = trainer.early_stopping
        print(
            f"Early stopping: {es.monitor} has not improved since epoch "
            f"{es.best_epoch + 1}; its weights were restored.",
            file=out,
        )
    session.save(target)
    trained = counted(history.epochs, "epoch")
    print(f"Saved {target} ({trained} trained in all).", file=out)
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace, out: IO[str]) -> int:
    session = _open(args.file)
    dataset = _dataset(session, args)
    results = session.evaluate(dataset)
    for key, value in results.items():
        print(f"{key} {value:.6g}", file=out)
    record = {"split": args.split, "samples": len(dataset), **results}
    print(json.dumps(record), file=out)
    return EXIT_OK


def cmd_predict(args: argparse.Namespace, out: IO[str]) -> int:
    from nndesk.document.text import counted

    session = _open(args.file)
    dataset = _dataset(session, args)
    preds = session.predict(dataset.x)
    text = _predictions_csv(session, dataset, preds)
    if args.out == "-":
        out.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8", newline="")
        written = counted(len(dataset), "prediction")
        print(f"Wrote {written} to {args.out}.", file=out)
    return EXIT_OK


def _predictions_csv(session: Any, dataset: Any, preds: Any) -> str:
    """Columns: predicted class (or values), class probabilities, the true target."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    units = preds.shape[1] if preds.ndim > 1 else 1
    names = dataset.class_names
    if session.net.is_classifier:
        if names is None or len(names) != max(units, 2):
            names = [str(i) for i in range(max(units, 2))]
        if units == 1:
            header = ["predicted", f"p_{names[1]}", "target"]
            rows = (
                [names[int(p[0] >= 0.5)], f"{p[0]:.6g}", names[int(t)]]
                for p, t in zip(preds, dataset.y, strict=True)
            )
        else:
            header = ["predicted", *(f"p_{n}" for n in names), "target"]
            rows = (
                [names[int(p.argmax())], *(f"{v:.6g}" for v in p), names[int(t)]]
                for p, t in zip(preds, dataset.y, strict=True)
            )
    else:
        flat = preds.reshape(len(preds), -1)
        cols = flat.shape[1]
        pred_names = (
            ["predicted"] if cols == 1 else [f"predicted_{j}" for j in range(cols)]
        )
        target_names = ["target"] if cols == 1 else [f"target_{j}" for j in range(cols)]
        header = pred_names + target_names
        targets = dataset.y.reshape(len(dataset.y), -1)
        rows = (
            [*(f"{v:.6g}" for v in p), *(f"{v:.6g}" for v in t)]
            for p, t in zip(flat, targets, strict=True)
        )
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _folder_of(target: Path) -> None:
    if not target.resolve().parent.is_dir():
        raise UsageError(
            f"cannot write {target}: the folder {target.resolve().parent} does not exist"
        )


def cmd_export(args: argparse.Namespace, out: IO[str]) -> int:
    from nndesk.document.gan import is_gan
    from nndesk.io.export import export_onnx, export_pytorch
    from nndesk.io.project_file import load_project
    from nndesk.training.session import TrainingSession

    target = Path(args.out)
    _folder_of(target)
    project = load_project(args.file)
    if is_gan(project.document):
        return _export_gan(args, project, target, out)
    if args.part is not None:
        raise UsageError("--part applies to a GAN, and this network is no GAN")
    session = TrainingSession.from_project(
        project, base_dir=Path(args.file).resolve().parent
    )
    if args.format == "onnx":
        export_onnx(
            session.model,
            target,
            preprocessing=session.preprocessing,
            document=session.snapshot,
        )
        what = "ONNX model (opset 17)"
    else:
        export_pytorch(
            session.model,
            session.snapshot,
            target,
            save_network=session.save,
            title=Path(args.file).name,
        )
        what = "PyTorch project (python train.py, or torchrun ... train.py)"
    if not session.trained:
        print("Note: the network is untrained; it holds its initial weights.", file=out)
    print(f"Wrote {target}: {what}.", file=out)
    return EXIT_OK


def _export_gan(
    args: argparse.Namespace, project: Any, target: Path, out: IO[str]
) -> int:
    """``export`` of a GAN: both networks (docs/export.md, GAN documents)."""
    from nndesk.io.export import GAN_PARTS, export_gan
    from nndesk.training.gan import GanSession

    session = GanSession.from_project(project, Path(args.file).resolve().parent)
    written = export_gan(
        session.gan,
        args.format,
        target,
        save_network=session.save,
        title=Path(args.file).name,
        parts=GAN_PARTS if args.part is None else (args.part,),
    )
    if not session.trained:
        print("Note: the GAN is untrained; it holds its initial weights.", file=out)
    if args.format == "onnx":
        parts = (args.part,) if args.part else GAN_PARTS
        for path, part in zip(written, parts, strict=True):
            print(f"Wrote {path}: the {part} as an ONNX model (opset 17).", file=out)
    else:
        print(
            f"Wrote {target}: PyTorch project of the generator and the discriminator "
            "(python train.py, or torchrun ... train.py).",
            file=out,
        )
    return EXIT_OK


def cmd_import(args: argparse.Namespace, out: IO[str]) -> int:
    from nndesk.document.text import counted
    from nndesk.io.export import import_onnx
    from nndesk.io.project_file import save_project

    target = Path(args.out)
    _folder_of(target)
    project = import_onnx(args.model)
    save_project(target, project)
    layers = sum(
        1 for n in project.document.nodes if n.spec.layer_type not in (None, "Input")
    )
    params = sum(int(w.size) for w in project.weights.values())
    print(
        f"Imported {Path(args.model).name}: {counted(layers, 'layer')}, "
        f"{counted(params, 'weight')}; "
        f"saved {target}.",
        file=out,
    )
    return EXIT_OK


def cmd_race(args: argparse.Namespace, out: IO[str]) -> int:
    from nndesk.training.race import open_race, race_table

    folder = Path(args.out_dir) if args.out_dir else None
    if folder is not None and not folder.is_dir():
        raise UsageError(f"cannot save to {folder}: the folder does not exist")
    race = open_race(args.files, data=args.data, target=args.target, epochs=args.epochs)
    print(race.dataset.summary(), file=out)
    for done in race.rounds():
        if not args.quiet:
            parts = [
                f"{s.name} {s.loss:.4f}" if s.loss is not None else f"{s.name} -"
                for s in race.standings()
            ]
            print(f"Round {done + 1}/{race.epochs}: loss " + ", ".join(parts), file=out)
    print(race_table(race.standings(), race.leader()), file=out)
    for standing in race.standings():
        if standing.message:
            print(f"{standing.name}: {standing.message}", file=out)
    if folder is not None:
        stems = [Path(runner.name).stem for runner in race.runners]
        for i, runner in enumerate(race.runners):
            # Two files of one name (from two folders) are saved as 1-NAME, 2-NAME.
            stem = stems[i] if stems.count(stems[i]) == 1 else f"{i + 1}-{stems[i]}"
            runner.session.save(folder / f"{stem}.nndesk")
        print(f"Saved {len(race.runners)} variants to {folder}.", file=out)
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, IO[str]], int]] = {
    "summary": cmd_summary,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "export": cmd_export,
    "import": cmd_import,
    "race": cmd_race,
}


def _error(command: str | None, message: str, err: IO[str]) -> int:
    prog = f"nndesk {command}" if command else "nndesk"
    line = " ".join(str(message).split())  # one line, whatever the message held
    print(f"{prog}: error: {line}", file=err)
    return EXIT_USAGE


def main(
    argv: Sequence[str] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """Run the command line; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).
    out, err : text streams, optional
        Where results and errors go (default: stdout and stderr).
    """
    from nndesk.engine.errors import NNDeskError

    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    command = args_list[0] if args_list and args_list[0] in SUBCOMMANDS else None
    try:
        args = parser.parse_args(args_list)
    except UsageError as exc:
        return _error(command, str(exc), err)
    except SystemExit as exc:  # --help and --version print, then exit
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(out)
        return EXIT_OK
    try:
        return COMMANDS[args.command](args, out)
    except (NNDeskError, UsageError) as exc:
        return _error(args.command, str(exc), err)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        return _error(args.command, f"{exc.strerror or exc}{where}", err)
    except KeyboardInterrupt:
        print(f"nndesk {args.command}: interrupted", file=err)
        return EXIT_INTERRUPTED
