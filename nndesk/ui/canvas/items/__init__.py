"""Graphics items that display document nodes, ports and edges (display state only)."""
