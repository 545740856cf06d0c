"""A build's rows when changes lie on top of its base (storage.index.increments): the base's rows less the hidden
ones, plus the added ones, in track-id order, as if one file held them.

Kept apart from storage.index.vectors so the writer (storage.index.increments) and the reader (VectorIndex) order the
rows in one way: a build's map, hub statistics and every `rows()` answer index this merged order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ADDED_IDS = "added-ids.npy"  # sorted int64: tracks whose vectors lie outside the base (new or changed)
ADDED_VECTORS = "added-vectors.npy"  # float32 (added, dim): those vectors, in the build's space
HIDDEN = "hidden.npy"  # sorted int64: base tracks no longer in force (removed, or changed: their new vector is added)


def merge_rows(base_ids: np.ndarray, hidden: np.ndarray, added_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids in force, sorted; source of each: its base row if >= 0, else -(added row) - 1)."""
    kept = np.flatnonzero(~np.isin(base_ids, hidden)) if len(hidden) else np.arange(len(base_ids))
    ids = np.concatenate([np.asarray(base_ids)[kept], added_ids]).astype(np.int64)
    source = np.concatenate([kept, -np.arange(1, len(added_ids) + 1)]).astype(np.int64)
    order = np.argsort(ids, kind="stable")
    return ids[order], source[order]


def load_delta(directory: Path, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A build's (added ids, added vectors, hidden ids); empty for a build without changes on top."""
    if not (directory / ADDED_IDS).exists():
        return np.empty(0, np.int64), np.empty((0, dim), np.float32), np.empty(0, np.int64)
    return (
        np.load(directory / ADDED_IDS),
        np.load(directory / ADDED_VECTORS),
        np.load(directory / HIDDEN),
    )


def save_delta(directory: Path, added_ids: np.ndarray, added_vectors: np.ndarray, hidden: np.ndarray) -> None:
    np.save(directory / ADDED_IDS, np.asarray(added_ids, np.int64))
    np.save(directory / ADDED_VECTORS, np.ascontiguousarray(added_vectors, np.float32))
    np.save(directory / HIDDEN, np.asarray(hidden, np.int64))


class MergedRows:
    """Read-only rows of the merged order, indexed like an array: an int, a slice, or an array of positions."""

    def __init__(self, base: np.ndarray, added: np.ndarray, source: np.ndarray) -> None:
        self.base, self.added, self.source = base, added, source
        self.shape = (len(source), base.shape[1])
        self.dtype = np.dtype(np.float32)
        self.ndim = 2

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key: int | slice | np.ndarray) -> np.ndarray:
        if isinstance(key, int | np.integer):
            at = int(self.source[key])
            return np.asarray(self.base[at] if at >= 0 else self.added[-at - 1], np.float32)
        positions = np.arange(len(self))[key] if isinstance(key, slice) else np.asarray(key)
        if positions.dtype == bool:
            positions = np.flatnonzero(positions)
        source = self.source[positions]
        out = np.empty((len(source), self.shape[1]), np.float32)
        in_base = source >= 0
        out[in_base] = self.base[source[in_base]]
        out[~in_base] = self.added[-source[~in_base] - 1]
        return out

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        whole = self[np.arange(len(self))]
        return whole if dtype is None else whole.astype(dtype)
