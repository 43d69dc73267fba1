"""Frozen-app entry point: the same ``main`` as the ``nndesk`` command."""

import sys

from nndesk.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
