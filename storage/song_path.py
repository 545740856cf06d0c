"""A song path: `count` tracks that lead from one track to another smoothly.

Each step aims at a point on the great circle from the start's vector to the end's, evenly spaced, and
takes the nearest track not used yet: the path drifts
from the start's sound to the end's, each step close to the one before. Similarities are cosines to the
start track (as OpenSubsonic's findSonicPath reports them).
"""

from __future__ import annotations

import numpy as np

from storage.catalog import Catalog, TrackInfo
from storage.errors import UsageError
from storage.vectors import normalise


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The point a fraction `t` of the way from unit vector a to unit vector b along the sphere."""
    angle = float(np.arccos(np.clip(a @ b, -1.0, 1.0)))
    if angle < 1e-6:
        return a
    return (np.sin((1 - t) * angle) * a + np.sin(t * angle) * b) / np.sin(angle)


def song_path(catalog: Catalog, start: TrackInfo, end: TrackInfo, count: int = 25) -> list[tuple[TrackInfo, float]]:
    """(track, cosine to the start) from `start` to `end`, at most `count` tracks, none twice."""
    if count < 2:
        raise UsageError("a path has at least 2 songs: its start and its end")
    a, b = normalise(np.stack([catalog.vector(start), catalog.vector(end)]))
    index = catalog.index()
    targets = np.stack([slerp(a, b, step / (count - 1)) for step in range(1, count - 1)]) if count > 2 else None
    chosen = [start.id]
    if targets is not None:
        candidates, _ = index.search_many(targets, count + 8)  # all steps in one scan of the index
        used = {start.id, end.id}
        for row in candidates:  # in order: each step the nearest track not used yet
            pick = next((int(i) for i in row if i >= 0 and int(i) not in used), None)
            if pick is not None:
                chosen.append(pick)
                used.add(pick)
    chosen.append(end.id)
    vectors = normalise(np.asarray(index.vectors[index.rows(np.array(chosen, np.int64))]))
    tracks = catalog.tracks(chosen)
    return [(tracks[i], float(v @ a)) for i, v in zip(chosen, vectors, strict=True)]
