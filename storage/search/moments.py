"""Moments: the catalog passages nearest to a description (a text-capable model's text vector).

1. Candidates: the description's FETCH nearest segments (storage.index.segments); each track's best hit ranks it.
2. Each candidate's moment: on its stored timeline, the slice nearest to the description, widened over the
   neighbouring slices that stay close to it (within a quarter of the way from the peak down to the track's
   median), at most MAX_SECONDS long.
3. Results one per track, by the peak's cosine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from storage.core.passages import Passage, Timeline
from storage.index.segments import SegmentIndex
from storage.index.vectors import normalise

FETCH = 1024
MIN_CANDIDATES = 40
MAX_SECONDS = 40.0
WIDEN = 0.25  # a neighbouring slice joins while its cosine is above peak - WIDEN * (peak - median)


def moment(timeline: Timeline, probe: np.ndarray) -> Passage:
    """The passage of `timeline` nearest to `probe` (a unit vector in the timeline's comparison space)."""
    cosines = normalise(timeline.vectors) @ probe
    peak = int(np.argmax(cosines))
    floor = cosines[peak] - WIDEN * (cosines[peak] - float(np.median(cosines)))
    first = last = peak
    span = timeline.hop
    while (
        first > 0
        and cosines[first - 1] >= floor
        and timeline.starts[last] - timeline.starts[first - 1] < MAX_SECONDS - span
    ):
        first -= 1
    while (
        last + 1 < len(cosines)
        and cosines[last + 1] >= floor
        and timeline.starts[last + 1] - timeline.starts[first] < MAX_SECONDS - span
    ):
        last += 1
    end = float(timeline.starts[last]) + span
    if timeline.duration:
        end = min(end, float(timeline.duration))
    strip = tuple(round(float(c), 4) for c in cosines[first : last + 1])
    return Passage(0.0, 0.0, float(timeline.starts[first]), end, float(cosines[peak]), strip, moment=True)


def find_moments(
    segments: SegmentIndex,
    timelines: Callable[[list[int]], dict[int, Timeline]],
    probe: np.ndarray,
    k: int,
    exclude: set[int],
) -> list[tuple[int, Passage]]:
    """The k (track id, moment) nearest to `probe`, best first, at most one per track."""
    unit = normalise(np.asarray(probe, np.float32)[None])
    scores, tracks, _ = segments.search(unit, FETCH)
    best: dict[int, float] = {}
    for track, score in zip(tracks[0].tolist(), scores[0].tolist(), strict=True):
        if track >= 0 and track not in exclude and track not in best:
            best[track] = score  # hits come best first
    candidates = sorted(best, key=lambda t: -best[t])[: max(4 * k, MIN_CANDIDATES)]
    stored = timelines(candidates)
    found = [(t, moment(stored[t], unit[0])) for t in candidates if t in stored]
    return sorted(found, key=lambda pair: -pair[1].score)[:k]
