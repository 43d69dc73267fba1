"""Training in the desktop app: the controller that wires the worker thread to the panels."""
