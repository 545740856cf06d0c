"""The best run along one diagonal of a score matrix: where two timelines align, slice for slice, and how
far. All diagonals at once (no Python loop over them): each becomes a row of a skewed view, and the best
segment of each row with at least `shortest` cells is read off prefix sums."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

OUTSIDE = -1e6  # cells beyond a diagonal's ends: no run crosses them


@dataclass(frozen=True)
class Run:
    row: int  # first cell
    col: int
    length: int  # cells, along the diagonal


def diagonals(matrix: np.ndarray) -> np.ndarray:
    """(rows + cols - 1, rows) array: row k holds the diagonal col - row = k - (rows - 1), from its top;
    cells outside the matrix are OUTSIDE."""
    rows, cols = matrix.shape
    padded = np.full((rows, rows + cols + rows - 1), OUTSIDE, np.float64)
    padded[:, rows - 1 : rows - 1 + cols] = matrix
    step_row, step_col = padded.strides
    skewed = as_strided(padded, shape=(rows, rows + cols - 1), strides=(step_row + step_col, step_col))
    return np.ascontiguousarray(skewed.T)  # skewed[i, k] = padded[i, i + k]


def best_run(values: np.ndarray, shortest: int, longest: int | None = None) -> Run:
    """The diagonal run of `values` (already less any threshold) with the largest sum, at least `shortest`
    cells long and, given `longest`, at most that (a region's length)."""
    rows, cols = values.shape
    shortest = max(1, min(shortest, rows, cols))
    lines = diagonals(values)
    prefix = np.concatenate([np.zeros((lines.shape[0], 1)), np.cumsum(lines, axis=1)], axis=1)
    if longest is None or longest >= rows:
        lowest = np.minimum.accumulate(prefix[:, : rows + 1 - shortest], axis=1)  # best start before each end
        gains = prefix[:, shortest:] - lowest
        best_line, end_at = np.unravel_index(int(np.argmax(gains)), gains.shape)
        line, end = int(best_line), int(end_at) + shortest
        start = int(np.argmin(prefix[line, : end - shortest + 1]))
    else:
        start, end, line = _bounded(prefix, shortest, max(shortest, longest))
    row = int(start)
    col = row + int(line) - (rows - 1)
    return Run(row, col, end - start)


def _bounded(prefix: np.ndarray, shortest: int, longest: int) -> tuple[int, int, int]:
    """As best_run's search, with runs of at most `longest` cells (every length tried: regions are short)."""
    best, found = -np.inf, (0, shortest, 0)
    cells = prefix.shape[1] - 1
    for length in range(shortest, min(longest, cells) + 1):
        sums = prefix[:, length:] - prefix[:, :-length]
        line, start = np.unravel_index(int(np.argmax(sums)), sums.shape)
        if sums[line, start] > best:
            best, found = float(sums[line, start]), (int(start), int(start) + length, int(line))
    return found
