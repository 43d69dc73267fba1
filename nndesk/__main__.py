"""Entry point: ``nndesk`` / ``python -m nndesk``.

No arguments, or only file names, opens the desktop app (Qt is imported only then);
anything else is a command-line call handled by ``nndesk.cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

GUI_FLAGS = ("--self-test",)


def wants_gui(args: Sequence[str]) -> bool:
    """True when ``args`` asks for the window rather than a subcommand."""
    from nndesk.cli import SUBCOMMANDS

    if not args:
        return True
    if args[0] in SUBCOMMANDS:
        return False
    return all(a in GUI_FLAGS or not a.startswith("-") for a in args)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if wants_gui(args):
        from nndesk.ui.app import run_app

        return run_app(args)
    from nndesk.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
