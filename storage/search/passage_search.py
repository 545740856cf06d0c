"""Search by passage: the catalog passages nearest to a region of a query track or file.

1. Probes: up to PROBES sounding slices spread over the region.
2. Candidates: each probe's FETCH nearest segments (storage.index.segments); a track's vote is the sum, over
   probes, of its best hit for that probe; the CANDIDATES tracks with the most votes go on.
3. Ranking: each candidate's best aligned run against the whole region (storage.core.passages.match_region)
   on its stored timeline; results are ordered by that run's mean cosine, one passage per track.

The exhaustive answer (step 3 on every track) is what benchmarks/bench_passage_search.py measures recall
against.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from storage.core.errors import UsageError
from storage.core.passages import Passage, Timeline, match_region, region_slices
from storage.index.segments import SegmentIndex

PROBES = 8
FETCH = 1024  # per probe: consecutive slices of one track crowd a probe's hits (128: recall@10 0.51)
MIN_CANDIDATES = 40


def probe_rows(query: Timeline, rows: np.ndarray) -> np.ndarray:
    """Up to PROBES sounding slices of the region, evenly spread."""
    sounding = rows[~query.quiet[rows]]
    if sounding.size == 0:
        raise UsageError("that passage of the query is silent; choose a passage with sound")
    picks = np.linspace(0, sounding.size - 1, min(PROBES, sounding.size)).round().astype(int)
    return sounding[np.unique(picks)]


def candidate_tracks(segments: SegmentIndex, probes: np.ndarray, wanted: int, exclude: set[int]) -> np.ndarray:
    """The `wanted` tracks with the most votes (sum over probes of each probe's best hit in the track)."""
    scores, tracks, _ = segments.search(probes, FETCH)
    probe = np.repeat(np.arange(len(probes)), tracks.shape[1])
    tracks, scores = tracks.ravel(), scores.ravel()
    keep = tracks >= 0
    if exclude:
        keep &= ~np.isin(tracks, np.fromiter(exclude, np.int64))
    probe, tracks, scores = probe[keep], tracks[keep], scores[keep]
    if tracks.size == 0:
        return np.empty(0, np.int64)
    order = np.lexsort((-scores, tracks, probe))  # per (probe, track): best hit first
    probe, tracks, scores = probe[order], tracks[order], scores[order]
    first = np.ones(len(tracks), bool)
    first[1:] = (probe[1:] != probe[:-1]) | (tracks[1:] != tracks[:-1])
    ids, inverse = np.unique(tracks[first], return_inverse=True)
    votes = np.bincount(inverse, weights=scores[first])
    return ids[np.argsort(-votes, kind="stable")[:wanted]]


def search_passages(
    segments: SegmentIndex,
    timelines: Callable[[list[int]], dict[int, Timeline]],
    query: Timeline,
    start: float,
    end: float,
    k: int,
    exclude: set[int],
) -> list[tuple[int, Passage]]:
    """The k (track id, passage) nearest to the query's region [start, end), best first. `query` is in
    the stored timelines' comparison space; `timelines` reads stored ones."""
    rows = region_slices(query, start, end)
    probes = probe_rows(query, rows)
    candidates = candidate_tracks(segments, query.vectors[probes], max(4 * k, MIN_CANDIDATES), exclude)
    stored = timelines(candidates.tolist())
    found = [(i, match_region(query, rows, stored[i])) for i in candidates.tolist() if i in stored]
    return sorted(found, key=lambda pair: -pair[1].score)[:k]


def exhaustive(
    timelines: dict[int, Timeline], query: Timeline, start: float, end: float, k: int, exclude: set[int]
) -> list[tuple[int, Passage]]:
    """The same answer by ranking every track (the baseline the benchmark checks recall against)."""
    rows = region_slices(query, start, end)
    found = [(i, match_region(query, rows, t)) for i, t in timelines.items() if i not in exclude]
    return sorted(found, key=lambda pair: -pair[1].score)[:k]
