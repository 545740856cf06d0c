"""`indexer build`: scan -> plan -> decode (worker processes) -> embed -> write -> index.

Each embedded track is committed with its vector in one transaction, so a crash
loses at most the batch in flight; tracks are created as `pending` before any work,
so the next run finds and finishes them. The FAISS index is rebuilt from the
database at the end and swapped in atomically.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from sqlalchemy import select

from indexer.audio import DecodeError, decode
from indexer.errors import EmbeddingInputError, IndexerError
from indexer.models.base import Embedder, check_waveform
from indexer.models.weights import WEIGHTS_ENV
from indexer.plan import apply_scan
from indexer.scan import scan
from indexer.tags import Tags, read_tags
from storage.catalog import read_meta, version_key
from storage.errors import StorageError
from storage.paths import INDEX_DIR
from storage.schema import Embedding, Track
from storage.vectors import IndexMeta, VectorIndex, current_build
from storage.writer import StoreWriter

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300.0  # seconds to decode one file before it is declared hung


@dataclass
class BuildOptions:
    model: str = "mule"
    weights: str | None = None
    layer: str | None = None  # MERT/MusicFM: transformer layer (1-based) or "mean"
    variant: str | None = None  # MAEST: which published variant
    styles_top: int | None = None  # MAEST: styles kept per track
    styles_min: float | None = None  # MAEST: least probability of a kept style
    device: str = "auto"
    precision: str = "fp32"
    batch_size: int | None = None
    workers: int = max(1, min(4, (os.cpu_count() or 2) - 1))
    timeout: float = DEFAULT_TIMEOUT
    rebuild: bool = False
    progress: bool = True

    @property
    def model_options(self) -> dict[str, str]:
        chosen = {"layer": self.layer, "variant": self.variant, "styles_top": self.styles_top}
        chosen["styles_min"] = self.styles_min
        return {k: str(v) for k, v in chosen.items() if v is not None}


@dataclass
class BuildReport:
    indexed: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    ignored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # new failures of this run
    still_failed: int = 0  # failed before, unchanged since
    audio_seconds: float = 0.0
    elapsed: float = 0.0
    interrupted: bool = False
    index: IndexMeta | None = None


def load_track(path: str, sample_rate: int) -> tuple[np.ndarray, Tags]:
    """Worker-process job: decoded mono audio and tags of one file."""
    wave = decode(path, sample_rate)
    check_waveform(wave)
    return wave, read_tags(Path(path))


def _failure_reason(exc: BaseException, timeout: float) -> str:
    from pebble import ProcessExpired

    if isinstance(exc, cf.TimeoutError | TimeoutError):
        return f"decoder timed out after {timeout:.0f} s"
    if isinstance(exc, ProcessExpired):
        return f"decoder crashed (exit code {exc.exitcode})"
    if isinstance(exc, DecodeError | EmbeddingInputError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Builder:
    def __init__(
        self, catalog_dir: Path, writer: StoreWriter, options: BuildOptions, embedder: Embedder | None = None
    ) -> None:
        self.root = catalog_dir.resolve()
        self.writer = writer
        self.options = options
        self._embedder = embedder
        self.report = BuildReport()

    def embedder(self) -> Embedder:
        if self._embedder is None:
            from indexer.models import load_embedder

            o = self.options
            self._embedder = load_embedder(o.model, o.weights, o.device, o.precision, o.batch_size, **o.model_options)
        return self._embedder

    def run(self) -> BuildReport:
        started = time.perf_counter()
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            to_embed = self._plan()
            if to_embed:
                self._embed(to_embed)
            self._refresh_index()
        except KeyboardInterrupt:
            self.report.interrupted = True
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.report.elapsed = time.perf_counter() - started
        return self.report

    def _plan(self) -> list[int]:
        found = scan(self.root)
        self.report.ignored = found.ignored
        self.report.failed += found.problems
        self.writer.set_catalog_root(self.root)
        model = self.options.model
        if self.options.rebuild:
            with self.writer.sessions.begin() as s:
                self.writer.drop_model_vectors(s, model)
                for track in s.execute(select(Track)).scalars():
                    track.state, track.error = "pending", None
        with self.writer.sessions.begin() as s:
            plan = apply_scan(s, self.root, found.files, model, self.writer)
        self.report.unchanged, self.report.moved, self.report.removed = plan.unchanged, plan.moved, plan.removed
        self.report.still_failed = plan.failed_unchanged
        self.report.failed += plan.unreadable
        if plan.to_embed:
            self._check_revision()
        return plan.to_embed

    def _check_revision(self) -> None:
        revision = self.embedder().revision
        spec = self.options.weights or os.environ.get(WEIGHTS_ENV)
        if spec and Path(spec).is_dir():
            spec = str(Path(spec).resolve())
        self.writer.set_query_hint(self.options.model, spec, self.options.model_options)
        stored = [r for r in self.writer.stored_revisions(self.options.model) if r != revision]
        if stored:
            raise IndexerError(
                f"the {self.options.model} vectors in {self.writer.data_dir} come from weights {stored[0]}, "
                f"these weights are {revision}; pass --rebuild to re-embed the whole catalog with them"
            )

    def _decoded(self, pool, track_ids: list[int], tags: dict[int, Tags]) -> Iterator[tuple[int, np.ndarray]]:  # type: ignore[no-untyped-def]
        """Decoded tracks as workers finish them; failures recorded on the way."""
        with self.writer.sessions() as s:
            paths = dict(s.execute(select(Track.id, Track.path).where(Track.id.in_(track_ids))).all())
        queue = list(reversed(track_ids))
        window = 2 * self.options.workers + 2  # bounded in flight: memory does not grow with the catalog
        running: dict[cf.Future, int] = {}
        rate = self.embedder().sample_rate
        while queue or running:
            while queue and len(running) < window:
                track_id = queue.pop()
                future = pool.schedule(
                    load_track, (str(self.root / paths[track_id]), rate), timeout=self.options.timeout
                )
                running[future] = track_id
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in done:
                track_id = running.pop(future)
                try:
                    wave, found_tags = future.result()
                except Exception as exc:  # noqa: BLE001 - any decoder failure is this file's failure
                    self._fail(track_id, paths[track_id], _failure_reason(exc, self.options.timeout))
                    continue
                tags[track_id] = replace(found_tags, duration=wave.size / rate)  # decoded length is exact
                yield track_id, wave

    def _embed(self, track_ids: list[int]) -> None:
        from pebble import ProcessPool

        from indexer.progress import Progress

        embedder = self.embedder()
        tags: dict[int, Tags] = {}
        progress = Progress(len(track_ids), enabled=self.options.progress)
        pool = ProcessPool(max_workers=self.options.workers)
        try:
            for track_id, result in embedder.embed_stream(self._decoded(pool, track_ids, tags)):
                track_tags = tags.pop(track_id)
                self._save(track_id, track_tags, result, embedder)
                self.report.audio_seconds += track_tags.duration or 0.0
                progress.advance(track_tags.duration or 0.0)
        finally:
            pool.stop()
            pool.join()
            progress.close()

    def _save(self, track_id: int, tags: Tags, result, embedder: Embedder) -> None:  # type: ignore[no-untyped-def]
        with self.writer.sessions.begin() as s:
            track = s.get(Track, track_id)
            if track is None:  # removed meanwhile
                return
            for name, value in tags.as_dict().items():
                setattr(track, name, value)
            track.state, track.error = "indexed", None
            self.writer.put_embedding(
                s,
                track_id,
                self.options.model,
                embedder.revision,
                result.vector,
                result.timeline,
                result.starts,
                result.styles,
            )
        self.report.indexed += 1

    def _fail(self, track_id: int, path: str, reason: str) -> None:
        log.warning("failed: %s: %s", path, reason)
        with self.writer.sessions.begin() as s:
            track = s.get(Track, track_id)
            if track is not None:
                track.state, track.error = "failed", reason
                s.execute(Embedding.__table__.delete().where(Embedding.track_id == track_id))
        self.report.failed.append((path, reason))

    def _refresh_index(self) -> None:
        """Rebuild the index when the stored vectors changed since it was built (or it is missing)."""
        model = self.options.model
        with self.writer.sessions() as s:
            version = int(read_meta(s, version_key(model)) or 0)
            has_vectors = s.execute(select(Embedding.track_id).where(Embedding.model == model).limit(1)).first()
        model_dir = self.writer.data_dir / INDEX_DIR / model
        if current_build(model_dir) is not None:
            try:
                if VectorIndex.open_current(model_dir).meta.vectors_version == version:
                    return
            except StorageError as exc:  # a corrupt index is simply rebuilt
                log.warning("%s; rebuilding it", exc)
        if has_vectors:
            self.report.index = self.writer.rebuild_index(model)


def _raise_interrupt(signum, frame) -> None:  # type: ignore[no-untyped-def]
    raise KeyboardInterrupt


def build_catalog(
    catalog_dir: Path,
    data_dir: Path | None = None,
    options: BuildOptions | None = None,
    embedder: Embedder | None = None,
) -> BuildReport:
    """Index `catalog_dir` into `data_dir` (library entry point of `indexer build`)."""
    if not catalog_dir.is_dir():
        raise IndexerError(f"catalog folder {catalog_dir} does not exist or is not a folder")
    writer = StoreWriter(data_dir)
    return Builder(catalog_dir, writer, options or BuildOptions(), embedder).run()
