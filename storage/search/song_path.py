"""A song path: `count` tracks that lead from one track to another smoothly.

Each step aims at a point on the great circle from the start's vector to the end's, evenly spaced, and
takes the nearest track not used yet among a pool: the POOL nearest tracks of a few ANCHORS spread along
that arc (a handful of index searches instead of one per step, with exact cosines in the pool): the path
drifts
from the start's sound to the end's, each step close to the one before. Similarities are cosines to the
start track (as OpenSubsonic's findSonicPath reports them).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from storage.core.errors import UsageError
from storage.core.tracks import TrackInfo
from storage.index.vectors import normalise
from storage.read.catalog import Catalog


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The point a fraction `t` of the way from unit vector a to unit vector b along the sphere."""
    angle = float(np.arccos(np.clip(a @ b, -1.0, 1.0)))
    if angle < 1e-6:
        return a
    return (np.sin((1 - t) * angle) * a + np.sin(t * angle) * b) / np.sin(angle)


ANCHORS = 4
POOL = 64


Nearest = Callable[[np.ndarray, int, tuple[int, ...]], list[int]]  # (point, k, left out) -> ids, nearest first


def _pool(nearest: Nearest, a: np.ndarray, b: np.ndarray, ends: set[int], count: int) -> np.ndarray:
    """Track ids near the arc from a to b: the nearest of a few points along it."""
    found: set[int] = set()
    anchors = min(ANCHORS, count - 2)
    for step in range(1, anchors + 1):
        found.update(nearest(slerp(a, b, step / (anchors + 1)), max(POOL, count), tuple(sorted(ends))))
    return np.array(sorted(found), np.int64)


def song_path(
    catalog: Catalog, nearest: Nearest, start: TrackInfo, end: TrackInfo, count: int = 25
) -> list[tuple[TrackInfo, float]]:
    """(track, cosine to the start) from `start` to `end`, at most `count` tracks, none twice. `nearest` is the
    search service's (each recording once: storage.search.service.SearchService.path)."""
    if count < 2:
        raise UsageError("a path has at least 2 songs: its start and its end")
    a, b = normalise(np.stack([catalog.vector(start), catalog.vector(end)]))
    index = catalog.index()
    chosen = [start.id]
    if count > 2:
        pool = _pool(nearest, a, b, {start.id, end.id}, count)
        if pool.size:
            vectors = normalise(np.asarray(index.vectors[index.rows(pool)]))
            # The arc runs between the model's vectors; its points are compared in the index's space.
            targets = index.prepare(np.stack([slerp(a, b, step / (count - 1)) for step in range(1, count - 1)]))
            closeness = targets @ vectors.T  # (steps, pool)
            free = np.ones(len(pool), bool)
            for row in closeness:  # in order: each step the nearest pool track not used yet
                if not free.any():
                    break
                best = int(np.argmax(np.where(free, row, -np.inf)))
                chosen.append(int(pool[best]))
                free[best] = False
    chosen.append(end.id)
    vectors = normalise(np.asarray(index.vectors[index.rows(np.array(chosen, np.int64))]))
    tracks = catalog.tracks(chosen)
    first = index.prepare(a[None])[0]
    return [(tracks[i], float(v @ first)) for i, v in zip(chosen, vectors, strict=True)]
