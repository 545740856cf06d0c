"""Matched passages: which part of a neighbour sounds like which part of the query.

Each track's timeline holds one vector per slice (MULE: a 3-s window every 2 s). Two tracks'
slices give a similarity matrix (cosines); a passage pair is a run of PASSAGE_SECONDS of
consecutive slices in each, aligned slice for slice, and the best pair is the run whose mean
cosine is highest (a diagonal of the matrix). A passage spans its slices' starts plus one hop.

Edges: when either track is shorter than a passage, the passage is as long as the shorter one
(a one-slice track matches its one slice against the best slice of the other); times are
clipped to [0, duration]; the last, partial slice counts like any other. Quiet slices (below
SILENCE_DBFS, where the loudness was measured) never start or join a passage while a run of
sounding slices exists: every model maps silence to one fixed vector, so silences match each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

PASSAGE_SECONDS = 30.0
SILENCE_DBFS = -60.0
QUIET_PENALTY = -8.0


@dataclass(frozen=True)
class Timeline:
    """A track's per-slice vectors (float32, any norm) and each slice's start in seconds."""

    vectors: np.ndarray
    starts: np.ndarray
    duration: float | None = None
    loudness: np.ndarray | None = None  # dBFS per slice, when measured
    compared: bool = False  # already in the stored timelines' comparison space (storage.timelines)

    @cached_property
    def quiet(self) -> np.ndarray:
        """Which slices are silence (none known when the loudness was not measured)."""
        if self.loudness is None or len(self.loudness) != len(self.starts):
            return np.zeros(len(self.starts), bool)
        return self.loudness < SILENCE_DBFS

    @cached_property
    def hop(self) -> float:
        """Seconds between slice starts (the whole track for a single slice)."""
        if len(self.starts) > 1:
            return float(np.median(np.diff(self.starts)))
        return float(self.duration or 2.0)

    def end(self) -> float:
        last = float(self.starts[-1]) + self.hop
        return min(last, self.duration) if self.duration else last


@dataclass(frozen=True)
class Passage:
    query_start: float
    query_end: float
    start: float  # in the neighbour
    end: float
    score: float  # mean cosine of the aligned slices
    strip: tuple[float, ...] = ()  # per neighbour slice: its best cosine against the query's passage

    def as_dict(self) -> dict[str, float]:
        return {
            "query_start": round(self.query_start, 2),
            "query_end": round(self.query_end, 2),
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "score": round(self.score, 6),
        }


def _inverse_norms(vectors: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    return 1.0 / np.where(norms > 0, norms, 1.0)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of every row of `a` with every row of `b` (one product, then the norms: no copies)."""
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    return (a @ b.T) * _inverse_norms(a)[:, None] * _inverse_norms(b)[None, :]


def passage_slices(hop: float, seconds: float = PASSAGE_SECONDS) -> int:
    return max(1, int(round(seconds / max(hop, 1e-6))))


def best_passage(query: Timeline, other: Timeline, seconds: float = PASSAGE_SECONDS) -> Passage:
    """The best-matching pair of passages of `query` and `other`."""
    similarity = cosines(query.vectors, other.vectors)
    n_query, n_other = similarity.shape
    length = min(passage_slices(query.hop, seconds), n_query, n_other)
    # Runs are ranked on the doubly centred matrix: a slice that resembles every slice of the other
    # track (a model's common component, a held chord) does not win; what is alike *here* does.
    contrast = similarity.copy()
    if n_other > 1:
        contrast -= similarity.mean(1, keepdims=True)
    if n_query > 1:
        contrast -= similarity.mean(0, keepdims=True)
    contrast[query.quiet] = QUIET_PENALTY  # below any contrast of sounding slices (|contrast| <= 4)
    contrast[:, other.quiet] = QUIET_PENALTY
    i, j = _best_run(contrast, length)
    run = similarity[i : i + length, j : j + length]
    strip = similarity[i : i + length].max(axis=0)
    return Passage(
        query_start=_clip(float(query.starts[i]), query),
        query_end=_clip(float(query.starts[i + length - 1]) + query.hop, query),
        start=_clip(float(other.starts[j]), other),
        end=_clip(float(other.starts[j + length - 1]) + other.hop, other),
        score=float(np.trace(run) / length),
        strip=tuple(strip.tolist()),
    )


def _best_run(matrix: np.ndarray, length: int) -> tuple[int, int]:
    """Start (row, column) of the aligned run of `length` cells with the largest sum."""
    rows, cols = matrix.shape
    runs = np.zeros((rows - length + 1, cols - length + 1), np.float32)
    for step in range(length):  # shift along the diagonal and add
        runs += matrix[step : rows - length + 1 + step, step : cols - length + 1 + step]
    i, j = np.unravel_index(int(np.argmax(runs)), runs.shape)
    return int(i), int(j)


def _clip(seconds: float, timeline: Timeline) -> float:
    upper = timeline.duration if timeline.duration else timeline.end()
    return float(min(max(seconds, 0.0), upper))


def clock(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def describe(passage: Passage) -> str:
    """ "0:45–1:15 here ↔ 1:02–1:32 in the query"."""
    return (
        f"{clock(passage.start)}–{clock(passage.end)} here ↔ "
        f"{clock(passage.query_start)}–{clock(passage.query_end)} in the query"
    )


def region_slices(timeline: Timeline, start: float, end: float) -> np.ndarray:
    """Indexes of the slices that start inside [start, end) (at least the one nearest `start`)."""
    inside = np.flatnonzero((timeline.starts >= start - 1e-6) & (timeline.starts < end - 1e-6))
    if inside.size:
        return inside
    return np.array([int(np.argmin(np.abs(timeline.starts - start)))])


def match_region(query: Timeline, rows: np.ndarray, other: Timeline) -> Passage:
    """Where in `other` the query's region (its slices `rows`, consecutive) sounds most alike: the aligned
    run of as many slices with the highest mean cosine (quiet slices of `other` join no run while a
    sounding one exists); the score is that mean cosine."""
    similarity = cosines(query.vectors[rows], other.vectors)
    length = min(len(rows), similarity.shape[1])
    ranked = similarity.copy()
    ranked[:, other.quiet] = QUIET_PENALTY
    ranked[query.quiet[rows]] = 0.0  # a quiet slice of the region says nothing about where it matches
    i, j = _best_run(ranked, length)
    run = similarity[i : i + length, j : j + length]
    first, last = rows[i], rows[i + length - 1]
    return Passage(
        query_start=_clip(float(query.starts[first]), query),
        query_end=_clip(float(query.starts[last]) + query.hop, query),
        start=_clip(float(other.starts[j]), other),
        end=_clip(float(other.starts[j + length - 1]) + other.hop, other),
        score=float(np.trace(run) / length),
        strip=tuple(similarity[i : i + length].max(axis=0).tolist()),
    )
