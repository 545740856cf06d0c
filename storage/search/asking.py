"""Asking well: which three tracks a listener hears next, and where in each track to start.

A triplet is informative when the metric in use cannot tell its odd one out: its two closest pairs are
nearly as close as each other. Anchors are drawn at random over the whole catalog (tracks nobody has
answered about first); the other two come from the anchor's NEIGHBOURS nearest, so the three are alike
enough for the question to mean something; of those pairs, the one whose triplet has the smallest gap
between its two most similar pairs is asked. A triplet a listener was asked already, in any order, is
never asked again.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from storage.index.vectors import normalise
from storage.read.catalog import Catalog
from storage.search.request import SearchRequest
from storage.search.service import SearchService

NEIGHBOURS = 10
ANCHOR_TRIES = 20


def uncertainty_gap(vectors: np.ndarray) -> float:
    """The gap between the two most similar of a triplet's three pairs (0: the metric cannot tell)."""
    unit = normalise(vectors)
    sims = sorted((float(unit[0] @ unit[1]), float(unit[0] @ unit[2]), float(unit[1] @ unit[2])), reverse=True)
    return sims[0] - sims[1]


def next_triplet(catalog: Catalog, listener: str, rng: np.random.Generator) -> tuple[int, int, int] | None:
    """Three track ids to ask `listener` about, in random order; None when the catalog has no new one."""
    index = catalog.index()
    ids = np.asarray(index.ids)
    if len(ids) < 3:
        return None
    service = SearchService(catalog)
    near_by = SearchRequest(NEIGHBOURS, allow_stale=True, passages=False)
    asked = catalog.asked(listener)
    fresh = np.setdiff1d(ids, np.fromiter({t for triplet in asked for t in triplet}, np.int64))
    for attempt in range(ANCHOR_TRIES):
        pool = fresh if len(fresh) and attempt < ANCHOR_TRIES // 2 else ids
        anchor = int(rng.choice(pool))
        vector = np.asarray(index.vectors[index.rows(np.array([anchor]))[0]], np.float32)
        # Each recording once, never the anchor's own copies: a copy makes no question (the search service's rule).
        near = np.array([n.track.id for n in service.by_track(anchor, near_by).neighbours], np.int64)
        best: tuple[float, tuple[int, int, int]] | None = None
        rows = {int(t): np.asarray(index.vectors[r], np.float32) for t, r in zip(near, index.rows(near), strict=True)}
        for b, c in combinations(rows, 2):
            triplet = (anchor, b, c)
            if frozenset(triplet) in asked:
                continue
            gap = uncertainty_gap(np.stack([vector, rows[b], rows[c]]))
            if best is None or gap < best[0]:
                best = (gap, triplet)
        if best is not None:
            order = rng.permutation(3)
            chosen = best[1]
            return (chosen[order[0]], chosen[order[1]], chosen[order[2]])
    return None


def representative_start(catalog: Catalog, track_id: int) -> float:
    """Where a track sounds most like itself as a whole: the start (s) of its slice nearest to its mean."""
    timeline = catalog.timelines([track_id]).get(track_id)
    if timeline is None or len(timeline.starts) == 0:
        return 0.0
    unit = normalise(timeline.vectors)
    return float(timeline.starts[int(np.argmax(unit @ normalise(unit.mean(0)[None])[0]))])
