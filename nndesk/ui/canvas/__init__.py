"""The node-editor canvas: a QGraphicsScene mirroring the document, its view, and editing."""
