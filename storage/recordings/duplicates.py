"""The same recording twice (a FLAC and its MP3, a quieter copy, a trimmed one), and other versions of it:
decided among a query's candidates, so a result list names each recording once ("also in: ...") and never
the query's own copies, and says "other version" of a remaster instead of hiding it.

Two tracks are copies when their files have the same content hash, or when their acoustic fingerprints
match and their masters are one (storage.recordings.fingerprints: the build groups them, storage.recordings.groups).
Fingerprints that match on another master (a remaster's EQ) make an *other version*: listed, and labelled;
so does a cosine above the threshold a model's index fits on its catalog (storage.recordings.other_versions).
No embedding threshold decides a copy: measured on real music with real weights, different tracks of one
soundtrack lie nearer each other (cosine 0.989) than a copy 6 dB quieter does to its original (0.91-0.98).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.core.tracks import Neighbour

OTHER_VERSION = "other version"


@dataclass(frozen=True)
class Recording:
    """What telling two recordings apart needs: the file's hash and the track's fingerprint groups."""

    content_hash: str | None = None
    recording: int | None = None  # fingerprint group: the same performance, any master
    copy: int | None = None  # the same performance and master: a duplicate

    @property
    def known(self) -> bool:
        return bool(self.content_hash) or self.copy is not None


def same_recording(a: Recording, b: Recording) -> bool:
    if a.content_hash and a.content_hash == b.content_hash:
        return True
    return a.copy is not None and a.copy == b.copy


def other_version(a: Recording, b: Recording) -> bool:
    """The same performance on another master (fingerprints match, levels per band do not)."""
    return a.recording is not None and a.recording == b.recording and not same_recording(a, b)


def group(
    own: list[Recording], candidates: list[tuple[Neighbour, Recording]], version_at: float | None = None
) -> list[Neighbour]:
    """The candidates in order with each recording once: one that is a query's own recording (`own`: the
    query's, or each seed's) goes; one that is an earlier result's joins that result's `also_in`; another
    version of the query's own is labelled so: by fingerprint (another master), or by a cosine of at least
    `version_at` (the model's threshold on this catalog, storage.recordings.other_versions; None: none)."""
    kept: list[tuple[Neighbour, Recording]] = []
    for neighbour, recording in candidates:
        if any(same_recording(query, recording) for query in own):
            continue
        for i, (earlier, earlier_recording) in enumerate(kept):
            if same_recording(earlier_recording, recording):
                kept[i] = (replace(earlier, also_in=(*earlier.also_in, str(neighbour.track.file))), earlier_recording)
                break
        else:
            near = version_at is not None and neighbour.score >= version_at
            if near or any(other_version(query, recording) for query in own):
                neighbour = replace(neighbour, relation=OTHER_VERSION)
            kept.append((neighbour, recording))
    return [n for n, _ in kept]
