"""The ``nndesk`` command line: headless subcommands on the same engine as the app."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nndesk import __version__

SUBCOMMANDS = ("summary", "train", "evaluate", "predict")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nndesk",
        description="nndesk: design, train and inspect neural networks.",
    )
    parser.add_argument("--version", action="version", version=f"nndesk {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        parser.print_help()
        return 0
    return 0
