"""Histograms over time: a layer's weight (or gradient) distribution epoch by epoch.

TensorBoard's *distributions* view shows how a layer's values spread as training
goes on; ``DistributionHistory`` keeps what it needs: one histogram per epoch
(the last one seen during that epoch), at most ``HISTORY_COLUMNS`` of them, and
``heatmap`` rebins them onto common value bins, one column per epoch.

Memory bound: a history holds at most ``HISTORY_COLUMNS`` histograms of
``probes.HIST_BINS`` (40) counts and 41 edges in float64, 648 bytes each: at most
130 kB per layer and kind (weights, gradients), whatever the number of epochs.
When it is full, every second histogram is dropped (the first and the latest
stay), so older epochs are kept more sparsely; the heatmap shows each kept
histogram until the next kept one's epoch.

No Qt here: the Weight Histograms panel draws the heatmap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HISTORY_COLUMNS", "HEATMAP_ROWS", "DistributionHistory", "Heatmap"]

HISTORY_COLUMNS = 200
"""Most histograms a history keeps (then every second one is dropped)."""
HEATMAP_ROWS = 48
"""Value bins of a heatmap column."""


@dataclass(frozen=True)
class Heatmap:
    """Histograms against epochs, on common value bins.

    Attributes
    ----------
    image : np.ndarray
        ``(rows, columns)`` float64 in [0, 1]: each column's counts divided by its
        largest count (row 0 is the lowest values).
    epochs : tuple of float
        ``(first, last)``: the columns span epochs ``first`` to ``last`` (column
        ``j`` covers ``first + j * (last - first) / columns`` onwards).
    values : tuple of float
        ``(low, high)``: the value range of the rows.
    """

    image: np.ndarray
    epochs: tuple[float, float]
    values: tuple[float, float]


class DistributionHistory:
    """The last histogram of each epoch, at most ``capacity`` of them.

    Parameters
    ----------
    capacity : int
        Most histograms kept (at least 2).
    """

    def __init__(self, capacity: int = HISTORY_COLUMNS) -> None:
        self.capacity = max(2, int(capacity))
        self.epochs: list[int] = []
        self.histograms: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return len(self.epochs)

    def record(self, epoch: int, edges: np.ndarray, counts: np.ndarray) -> bool:
        """Keep ``(edges, counts)`` as epoch ``epoch``'s histogram (replacing one
        recorded earlier in the same epoch). An epoch before the latest one (a
        look back at an earlier state) is not recorded; returns whether it was."""
        epoch = int(epoch)
        if self.epochs and epoch < self.epochs[-1]:
            return False
        hist = (np.array(edges, dtype=np.float64), np.array(counts, dtype=np.float64))
        if len(hist[0]) != len(hist[1]) + 1:
            return False
        if self.epochs and epoch == self.epochs[-1]:
            self.histograms[-1] = hist
            return True
        self.epochs.append(epoch)
        self.histograms.append(hist)
        if len(self.epochs) > self.capacity:
            keep = sorted({*range(0, len(self.epochs) - 1, 2), len(self.epochs) - 1})
            self.epochs = [self.epochs[i] for i in keep]
            self.histograms = [self.histograms[i] for i in keep]
        return True

    def clear(self) -> None:
        """Forget every histogram."""
        self.epochs, self.histograms = [], []

    @property
    def nbytes(self) -> int:
        """Bytes the kept histograms take."""
        return sum(e.nbytes + c.nbytes for e, c in self.histograms)

    def heatmap(self, rows: int = HEATMAP_ROWS) -> Heatmap | None:
        """The kept histograms as one image (None when there are none).

        Columns: one per epoch from the first kept to the latest (at most
        ``capacity`` columns; each shows the latest kept histogram at or before
        its epoch). Rows: ``rows`` equal bins over the range of every kept
        histogram, each histogram's counts spread over them in proportion to the
        overlap (counts are taken as even within a bin).
        """
        if not self.epochs:
            return None
        lo = min(float(e[0]) for e, _ in self.histograms)
        hi = max(float(e[-1]) for e, _ in self.histograms)
        if hi - lo < 1e-12:
            lo, hi = lo - 5e-4, hi + 5e-4
        common = np.linspace(lo, hi, rows + 1)
        rebinned = np.empty((rows, len(self.histograms)))
        for j, (edges, counts) in enumerate(self.histograms):
            cumulative = np.concatenate([[0.0], np.cumsum(counts)])
            column = np.diff(np.interp(common, edges, cumulative))
            top = column.max()
            rebinned[:, j] = column / top if top > 0 else column
        first, last = self.epochs[0], self.epochs[-1] + 1
        width = min(last - first, self.capacity)
        starts = first + np.arange(width) * ((last - first) / width)
        which = np.searchsorted(self.epochs, starts + 1e-9, side="right") - 1
        return Heatmap(rebinned[:, which], (float(first), float(last)), (lo, hi))
