"""Dockable panels around the canvas: palette, inspector, problems."""
