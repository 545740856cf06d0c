"""Matched passages: which part of a neighbour sounds like which part of the query, with real edges.

Each track's timeline holds one vector per slice (MULE: a 3-s window every 2 s; MusiCNN: 3-s patches). Two
tracks' slices give a similarity matrix (cosines); a passage pair is a run along one diagonal of it (the
two passages advance together, slice for slice), of any length from MIN_PASSAGE_SECONDS to the whole of the
shorter track. The run is found on the doubly centred matrix (a slice like every slice of the other track,
a model's common component or a held chord, does not count as a match) less a threshold: the largest sum
wins, so the run grows while its cells stand above the threshold and its ends are trimmed where similarity
falls. The threshold is half the level of the best run of MIN_PASSAGE_SECONDS (halfway between the
matrix's background, 0 once centred, and its best match), so it follows each model's and pair's own scale.
The score is the run's mean cosine. Where the two tracks share the audio itself (a sample, a copy, an
edit), their fingerprints place the edges and the offset to a tenth of a second (storage.recordings.passage_edges).

Edges: times are clipped to [0, duration]; a passage spans its slices' starts plus one hop; the last,
partial slice counts like any other. Quiet slices (below SILENCE_DBFS, where the loudness was measured)
never start or join a passage while a run of sounding slices exists: every model maps silence to one fixed
vector, so silences match each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from storage.core.alignment import Run, best_run

MIN_PASSAGE_SECONDS = 6.0  # the shortest matched passage (three MULE slices, two MusiCNN patches)
SILENCE_DBFS = -60.0
QUIET_PENALTY = -8.0


@dataclass(frozen=True)
class Timeline:
    """A track's per-slice vectors (float32, any norm) and each slice's start in seconds."""

    vectors: np.ndarray
    starts: np.ndarray
    duration: float | None = None
    loudness: np.ndarray | None = None  # dBFS per slice, when measured
    compared: bool = False  # already in the stored timelines' comparison space (storage.core.timelines)

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
    shared_audio: bool = False  # edges and offset from the fingerprints: the same audio in both
    moment: bool = False  # the moment nearest to a description (storage.search.moments): no query passage

    @property
    def offset(self) -> float:
        """Seconds to add to a moment of the query's passage to find it in the neighbour's."""
        return self.start - self.query_start

    def as_dict(self) -> dict[str, float | bool]:
        if self.moment:
            return {
                "start": round(self.start, 2),
                "end": round(self.end, 2),
                "score": round(self.score, 6),
                "moment": True,
            }
        return {
            "query_start": round(self.query_start, 2),
            "query_end": round(self.query_end, 2),
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "offset": round(self.offset, 2),
            "score": round(self.score, 6),
            "shared_audio": self.shared_audio,
        }


def _inverse_norms(vectors: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    return 1.0 / np.where(norms > 0, norms, 1.0)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of every row of `a` with every row of `b` (one product, then the norms: no copies)."""
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    return (a @ b.T) * _inverse_norms(a)[:, None] * _inverse_norms(b)[None, :]


def passage_slices(hop: float, seconds: float = MIN_PASSAGE_SECONDS) -> int:
    return max(1, int(round(seconds / max(hop, 1e-6))))


def best_passage(query: Timeline, other: Timeline, shortest: float = MIN_PASSAGE_SECONDS) -> Passage:
    """The best-matching pair of passages of `query` and `other` (their aligned run, trimmed)."""
    similarity = cosines(query.vectors, other.vectors)
    n_query, n_other = similarity.shape
    contrast = similarity.copy()
    if n_other > 1:
        contrast -= similarity.mean(1, keepdims=True)
    if n_query > 1:
        contrast -= similarity.mean(0, keepdims=True)
    if n_other > 1 and n_query > 1:
        contrast += similarity.mean()  # doubly centred: 0 is the matrix's background
    contrast[query.quiet] = QUIET_PENALTY  # below any contrast of sounding slices (|contrast| <= 4)
    contrast[:, other.quiet] = QUIET_PENALTY
    run = _trimmed_run(contrast, passage_slices(query.hop, shortest))
    return _passage(query, np.arange(n_query), other, similarity, run)


def _trimmed_run(contrast: np.ndarray, shortest: int, longest: int | None = None) -> Run:
    """The diagonal run of at least `shortest` cells whose cells stand highest above half the level of the
    best run of exactly `shortest` cells."""
    shortest = max(1, min(shortest, *contrast.shape))
    probe = best_run(contrast, shortest, shortest)
    level = float(np.mean([contrast[probe.row + k, probe.col + k] for k in range(probe.length)]))
    return best_run(contrast - max(level, 0.0) / 2.0, shortest, longest)


def _passage(query: Timeline, rows: np.ndarray, other: Timeline, similarity: np.ndarray, run: Run) -> Passage:
    first, last = rows[run.row], rows[run.row + run.length - 1]
    cells = similarity[np.arange(run.row, run.row + run.length), np.arange(run.col, run.col + run.length)]
    return Passage(
        query_start=_clip(float(query.starts[first]), query),
        query_end=_clip(float(query.starts[last]) + query.hop, query),
        start=_clip(float(other.starts[run.col]), other),
        end=_clip(float(other.starts[run.col + run.length - 1]) + other.hop, other),
        score=float(cells.mean()),
        strip=tuple(similarity[run.row : run.row + run.length].max(axis=0).tolist()),
    )


def _clip(seconds: float, timeline: Timeline) -> float:
    upper = timeline.duration if timeline.duration else timeline.end()
    return float(min(max(seconds, 0.0), upper))


def clock(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def describe(passage: Passage) -> str:
    """ "0:45–1:15 here ↔ 1:02–1:32 in the query" ("0:45–1:15 fits the words" for a moment)."""
    if passage.moment:
        return f"{clock(passage.start)}–{clock(passage.end)} fits the words"
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
    """Where in `other` the query's region (its slices `rows`, consecutive) sounds most alike: the aligned run
    (at least half the region, at most all of it) whose cosines stand highest above half the best level,
    its ends trimmed where similarity falls (quiet slices of `other` join no run while a sounding one
    exists); the score is the run's mean cosine."""
    similarity = cosines(query.vectors[rows], other.vectors)
    ranked = similarity.copy()
    ranked[:, other.quiet] = QUIET_PENALTY
    ranked[query.quiet[rows]] = 0.0  # a quiet slice of the region says nothing about where it matches
    length = min(len(rows), similarity.shape[1])
    shortest = max(1, (length + 1) // 2)
    run = best_run(ranked - _region_threshold(ranked, length), shortest, length)
    return _passage(query, rows, other, similarity, run)


def _region_threshold(ranked: np.ndarray, length: int) -> float:
    """Halfway between the background (the median cosine) and the best run of the whole region's length."""
    probe = best_run(ranked, length, length)
    level = float(np.mean([ranked[probe.row + k, probe.col + k] for k in range(probe.length)]))
    background = float(np.median(ranked))
    return background + max(level - background, 0.0) / 2.0
