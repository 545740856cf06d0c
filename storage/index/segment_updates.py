"""Segment-index updates without a rebuild: the slices of new or changed tracks go on top of the build in
force as a layer (storage.index.segment_deltas), the base's files hard-linked, removed and changed tracks hidden.
Past LAYER_FRACTION of the base's rows (at least LAYER_MIN_ROWS, at most LAYER_MAX_ROWS: the layer is
scanned exactly for every probe) the caller rebuilds the segment index in full, which needs no trained
model of ours and costs a fraction of the track index's rebuild (docs/benchmarks.md)."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np

from storage.index.segment_deltas import SegmentLayer
from storage.index.segment_rows import ChangedSegments
from storage.index.segments import SegmentIndex, SegmentMeta
from storage.index.vectors import new_build

log = logging.getLogger(__name__)

LAYER_MIN_ROWS = 20_000
LAYER_FRACTION = 0.05
LAYER_MAX_ROWS = 100_000


def update_segments(
    segments_dir: Path,
    current: SegmentIndex,
    changed: ChangedSegments,
    stored: np.ndarray,
    version: int,
    min_rows: int = LAYER_MIN_ROWS,
) -> SegmentMeta | None:
    """A new build of `current` with `changed` on top and the tracks no longer `stored` hidden, swapped in;
    None (nothing written) when the layer would pass its bound."""
    started = time.perf_counter()
    base_tracks = np.unique(np.asarray(current.tracks))
    layer = current.layer
    in_force = np.union1d(np.setdiff1d(base_tracks, layer.hidden), layer.tracks)
    gone = np.union1d(np.setdiff1d(in_force, stored), changed.track_ids)
    keep = ~np.isin(layer.tracks, gone)
    new_tracks, new_slices, new_vectors = changed.rows
    if len(new_tracks) == 0:
        new_vectors = np.empty((0, current.meta.dim), np.float32)
    added = SegmentLayer(
        np.concatenate([layer.tracks[keep], new_tracks]).astype(np.int64),
        np.concatenate([layer.slices[keep], new_slices]).astype(np.int32),
        np.concatenate([layer.vectors[keep], new_vectors]).astype(np.float32),
        np.union1d(layer.hidden, np.intersect1d(base_tracks, gone)).astype(np.int64),
    )
    bound = min(LAYER_MAX_ROWS, max(min_rows, LAYER_FRACTION * len(current.tracks)))
    if len(added.tracks) > bound:
        log.info("segments of %s: %d slices would pass the layer's bound", segments_dir.name, len(added.tracks))
        return None
    base_in_force = int((~np.isin(current.tracks, added.hidden)).sum())
    with new_build(segments_dir) as tmp:
        for name in ("segments.faiss", "tracks.npy", "slices.npy"):
            os.link(current.directory / name, tmp / name)
        added.save(tmp)
        fields = {**current.meta.__dict__}
        fields.update(
            count=base_in_force + len(added.tracks),
            vectors_version=version,
            built_at=time.time(),
            build_seconds=time.perf_counter() - started,
        )
        info = SegmentMeta(**fields)
        (tmp / "meta.json").write_text(json.dumps(info.__dict__))
    log.info(
        "segments of %s updated: %d tracks changed, %d slices on top, %.1f s",
        segments_dir.name,
        len(gone),
        len(added.tracks),
        info.build_seconds,
    )
    return info
