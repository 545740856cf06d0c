"""The same recording twice (a FLAC and its MP3, a quieter copy, a trimmed one): found among a query's
candidates, so a result list names each recording once ("also in: ...") and never the query itself.

Two tracks are the same recording when their files have the same content hash, or when their vectors
are nearly identical and their durations within SAME_SECONDS. "Nearly identical" is measured against the
spread where it matters: a cosine distance of at most DUPLICATE_SHARE of the median distance among the
query's candidates (tracks that all sound alike), and of the median distance between any two tracks of
the catalog (its pair sample, storage.vectors); so one rule serves every model, and a tight cluster of
similar tracks stays a cluster of different tracks.

Measured by benchmarks/bench_duplicates.py (MULE with random weights: real ones cannot be downloaded
here): an MP3 at 128 kbit/s and a copy 6 dB quieter land at 0.09 of the median distance from their
original; different tracks no nearer than 0.53; a 64 kbit/s MP3 at 0.51 and a copy with 3 s cut at 0.70,
where random weights cannot tell them from different tracks. 0.1 keeps them apart there and keeps apart
tracks of one tight cluster (synthetic clusters at 0.26); hiding a different track would be worse than
showing a recording twice. For the same reason durations must agree within half a second: a copy with
a second or more cut is not recognised (it could not be told apart above). Files with the same content are
always one recording.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from storage.tracks import Neighbour

DUPLICATE_SHARE = 0.1
SAME_SECONDS = 0.5  # encoder padding and priming differ by a fraction of a second
FALLBACK_DISTANCE = 1e-3  # for an index without a pair sample (built before one was kept)


@dataclass(frozen=True)
class Recording:
    """What telling two recordings apart needs: the normalised vector, the duration, the file's hash."""

    vector: np.ndarray
    duration: float | None = None
    content_hash: str | None = None


def duplicate_distance(pairs: np.ndarray | None, near: list[Recording] | None = None) -> float:
    """The largest cosine distance at which two tracks count as one recording: a share of the catalog's
    median pair distance and, given `near` (candidates of one query), of their median distance too."""
    if pairs is None or len(pairs) == 0:
        return FALLBACK_DISTANCE
    scales = [1.0 - float(pairs[len(pairs) // 2])]
    if near is not None and len(near) >= 4:
        vectors = np.stack([r.vector for r in near])
        scales.append(float(np.median(1.0 - (vectors @ vectors.T)[np.triu_indices(len(near), 1)])))
    return DUPLICATE_SHARE * max(1e-9, min(scales))


def same_recording(a: Recording, b: Recording, distance: float) -> bool:
    if a.content_hash and a.content_hash == b.content_hash:
        return True
    if a.duration is not None and b.duration is not None and abs(a.duration - b.duration) > SAME_SECONDS:
        return False
    return 1.0 - float(a.vector @ b.vector) <= distance


def group(own: list[Recording], candidates: list[tuple[Neighbour, Recording]], distance: float) -> list[Neighbour]:
    """The candidates in order with each recording once: one that is a query's own recording (`own`: the
    query's, or each seed's) goes; one that is an earlier result's joins that result's `also_in`."""
    kept: list[tuple[Neighbour, Recording]] = []
    for neighbour, recording in candidates:
        if any(same_recording(query, recording, distance) for query in own):
            continue
        for i, (earlier, earlier_recording) in enumerate(kept):
            if same_recording(earlier_recording, recording, distance):
                kept[i] = (replace(earlier, also_in=(*earlier.also_in, str(neighbour.track.file))), earlier_recording)
                break
        else:
            kept.append((neighbour, recording))
    return [n for n, _ in kept]
