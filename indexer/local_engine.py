"""The in-process engine: decoding in worker processes (pebble: a hung or crashing decoder takes only
its file), embedding in this process with slices batched across tracks."""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from indexer.audio import second_levels, slice_loudness
from indexer.engine_steps import EmbedJob, TrackOutcome, failure_reason, fingerprint_file, load_track
from indexer.models.base import Embedder
from indexer.tags import Tags
from storage.recordings.fingerprints import Fingerprint

FINGERPRINT_RATE = 16000  # enough for Chromaprint (11,025 Hz) and the level bands (to 8 kHz)


class LocalEngine:
    """Turns tracks into outcomes on this machine."""

    def __init__(self) -> None:
        self.decode_wait = 0.0  # seconds this process waited for decoded audio (indexer.stage_clock)

    def _waited(self, seconds: float) -> None:
        self.decode_wait += seconds

    def run(self, tracks: list[tuple[int, Path]], job: EmbedJob, embedder: Embedder) -> Iterator[TrackOutcome]:
        from pebble import ProcessPool

        tags: dict[int, Tags] = {}
        levels: dict[int, np.ndarray] = {}
        prints: dict[int, Fingerprint | None] = {}
        failed: list[TrackOutcome] = []
        pool = ProcessPool(max_workers=job.workers)
        try:
            decoded = _decoded(pool, tracks, job, tags, levels, prints, failed, self._waited)
            for track_id, result in embedder.embed_stream(decoded):
                yield from _drain(failed)
                loudness = slice_loudness(levels.pop(track_id), result.starts)
                found = prints.pop(track_id, None)
                yield TrackOutcome(track_id, tags.pop(track_id), result, loudness, fingerprint=found)
            yield from _drain(failed)
        finally:
            pool.stop()
            pool.join()


def _drain(failed: list[TrackOutcome]) -> Iterator[TrackOutcome]:
    while failed:
        yield failed.pop(0)


def _decoded(
    pool: Any,
    tracks: list[tuple[int, Path]],
    job: EmbedJob,
    tags: dict[int, Tags],
    levels: dict[int, np.ndarray],
    prints: dict[int, Fingerprint | None],
    failed: list[TrackOutcome],
    waited: Callable[[float], None],
) -> Iterator[tuple[int, np.ndarray]]:
    """Decoded tracks as workers finish them (their tags, per-second levels and fingerprints kept on the way); failures
    queued in `failed` on the way."""
    paths = dict(tracks)
    queue = [track_id for track_id, _ in reversed(tracks)]
    window = 2 * job.workers + 2  # bounded in flight: memory does not grow with the catalog
    running: dict[cf.Future, int] = {}
    rate = job.sample_rate
    while queue or running:
        while queue and len(running) < window:
            track_id = queue.pop()
            running[pool.schedule(load_track, (str(paths[track_id]), rate), timeout=job.timeout)] = track_id
        started = time.perf_counter()
        done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
        waited(time.perf_counter() - started)
        for future in done:
            track_id = running.pop(future)
            try:
                wave, found_tags, prints[track_id] = future.result()
            except Exception as exc:  # noqa: BLE001 - any decoder failure is this file's failure
                failed.append(TrackOutcome(track_id, error=failure_reason(exc, job.timeout)))
                continue
            tags[track_id] = replace(found_tags, duration=wave.size / rate)  # decoded length is exact
            levels[track_id] = second_levels(wave, rate)
            yield track_id, wave


def fingerprint_files(
    tracks: list[tuple[int, Path]], workers: int, timeout: float
) -> Iterator[tuple[int, Fingerprint | None]]:
    """(track id, fingerprint) of each file, decoded in worker processes; a file that fails gives None (its
    failure, if it lasts, is the embedding pass's to record)."""
    from pebble import ProcessPool

    pool = ProcessPool(max_workers=workers)
    try:
        futures = [
            (track_id, pool.schedule(fingerprint_file, (str(path), FINGERPRINT_RATE), timeout=timeout))
            for track_id, path in tracks
        ]
        for track_id, future in futures:
            try:
                yield track_id, future.result()
            except Exception:  # noqa: BLE001 - the file's problem; the embedding pass names it
                yield track_id, None
    finally:
        pool.stop()
        pool.join()
