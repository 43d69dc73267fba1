"""Example network files (``*.nndesk``), written by ``python -m nndesk.training.examples``."""
