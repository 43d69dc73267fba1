"""Live pyqtgraph panels of training: curves, network, activations, boundary, histograms, evaluation."""
