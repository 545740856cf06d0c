"""`indexer build`: lock -> scan -> plan -> (load model) -> apply -> engine (decode, embed) -> save -> index.

The builder plans, applies, saves and indexes; an engine only turns tracks into results (the local
process pool, indexer.local_engine, or a Ray cluster, indexer.ray_engine), both through the same steps
(indexer.engine_steps). Nothing is written until the model has loaded (an unknown model or missing weights change
nothing), and only the folders being built and the model being built are touched. Each embedded
track is committed with its vector in one transaction, so a crash loses at most the batch in
flight; the next run finds the tracks still lacking this model's vector and finishes them. The
FAISS index is rebuilt from the database at the end and swapped in atomically.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Protocol

import numpy as np

from indexer import models
from indexer.engine_steps import EmbedJob, TrackOutcome, commit_track, server_database
from indexer.errors import IndexerError, UsageError
from indexer.fingerprint import chromaprint_available
from indexer.local_engine import LocalEngine, fingerprint_files
from indexer.models import check_options
from indexer.models.base import Embedder, TrackEmbedding
from indexer.plan import plan_folder
from indexer.scan import scan
from indexer.stage_clock import StageClock
from indexer.tags import Tags
from storage.core.paths import DB_FILE, DEFAULT_MODEL, chosen_weights, resolve_data_dir
from storage.index.vectors import IndexMeta
from storage.recordings.fingerprints import Fingerprint
from storage.write.lock import LOCK_FILE
from storage.write.store import FolderInfo, Store
from storage.write.sync import FolderChanges

log = logging.getLogger(__name__)

COMPACT_EVERY = 64  # tracks saved between checks for enough slices to learn a model's timeline basis

DEFAULT_TIMEOUT = 300.0  # seconds to decode one file before it is declared hung


@dataclass
class BuildOptions:
    model: str = DEFAULT_MODEL
    weights: str | None = None  # None: $SOUNDALIKE_WEIGHTS, else what this model's last build used, else its repo
    model_options: dict[str, str] = field(default_factory=dict)  # the model's own options (registry), as given
    device: str = "auto"
    precision: str = "fp32"
    batch_size: int | None = None
    workers: int = max(1, min(4, (os.cpu_count() or 2) - 1))
    timeout: float = DEFAULT_TIMEOUT
    rebuild: bool = False
    progress: bool = True
    engine: str = "local"  # "ray": decode and embed on a Ray cluster (indexer/ray_engine.py)
    ray_address: str | None = None  # None: a local Ray started for the build


@dataclass
class BuildReport:
    model: str = DEFAULT_MODEL
    folders: list[str] = field(default_factory=list)  # built
    missing: list[tuple[str, int]] = field(default_factory=list)  # (folder, tracks kept) missing or unmounted
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
    stages: StageClock = field(default_factory=StageClock)  # where the time went (indexer.stage_clock)


@dataclass
class _FolderPlan:
    root: Path
    folder: FolderInfo | None  # None: not registered yet
    changes: FolderChanges


class Engine(Protocol):
    """Turns tracks into outcomes (indexer.engine_steps.TrackOutcome), in any order, as they are done."""

    def run(self, tracks: list[tuple[int, Path]], job: EmbedJob, embedder: Embedder) -> Iterator[TrackOutcome]: ...


class Builder:
    def __init__(
        self,
        store: Store,
        folders: list[Path],
        options: BuildOptions,
        embedder: Embedder | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.store = store
        self.engine = engine or LocalEngine()
        self.targets = folders  # empty: every registered folder
        self.options = options
        self._embedder = embedder
        self.report = BuildReport(model=options.model)

    def run(self) -> BuildReport:
        started = time.perf_counter()
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            with self.store.lock():
                self._build()
        except KeyboardInterrupt:
            self.report.interrupted = True
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.report.elapsed = time.perf_counter() - started
        return self.report

    def _build(self) -> None:
        model = self.options.model
        clock = self.report.stages
        with clock("scan"):
            plans = self._plan()
        known = [p.folder for p in plans if p.folder is not None]
        if (
            self.options.rebuild
            or any(p.changes.new or p.changes.changed for p in plans)
            or (known and self.store.to_embed(model, known, limit=1))
        ):
            self._check_revision()  # loads the model: missing weights stop the build before any write
        folders = []
        for plan in plans:
            folder = plan.folder or self.store.add_folder(plan.root)
            self.store.apply_changes(folder, plan.changes, model)
            folders.append(folder)
        if self.options.rebuild:
            self.store.drop_model(model)
        unreadable = sum(len(plan.changes.unreadable) for plan in plans)
        self.report.still_failed = self.store.failed_count(model, folders) - unreadable
        self.report.unchanged = self.store.indexed_count(model, folders)
        to_embed = self.store.to_embed(model, folders)
        if to_embed:
            self._embed(to_embed)
        with clock("fingerprints"):
            self._fingerprint(folders)
        with clock("compact"):
            self.store.compact_timelines(model)  # also what a migrated data directory needs: no re-embedding
        with clock("index"):
            self.report.index = self.store.refresh_index(model, centre=models.model_spec(model).centred)

    # -- planning: read-only ----------------------------------------------------------------------

    def _plan(self) -> list[_FolderPlan]:
        registered = self.store.folders()
        if not self.targets and not registered:
            raise UsageError("no catalog folder given, and none indexed yet: `indexer build CATALOG_DIR`")
        targets = self.targets or [f.path for f in registered]
        plans = []
        for root in targets:
            folder = self.store.find_folder(root, registered)
            if not root.is_dir():
                if folder is None:
                    raise UsageError(f"catalog folder {root} does not exist or is not a folder")
                self._missing(folder)
                continue
            if folder is None:
                self.store.check_new_folder(root, registered)  # refused before the model loads, not after
            plan = self._plan_folder(root.resolve(), folder)
            if plan is not None:
                plans.append(plan)
        return plans

    def _plan_folder(self, root: Path, folder: FolderInfo | None) -> _FolderPlan | None:
        found = scan(root)
        known = self.store.known_tracks(folder) if folder is not None else {}
        if known and not found.files and not found.problems:
            assert folder is not None
            self._missing(folder)  # an unmounted drive looks like an empty folder: keep its tracks
            return None
        self.report.folders.append(str(root))
        self.report.ignored += found.ignored
        self.report.failed += found.problems
        changes = plan_folder(root, found.files, known, [path for path, _ in found.problems])
        self.report.moved += len(changes.moved)
        self.report.removed += len(changes.gone)
        self.report.failed += [(u.file.path, u.reason) for u in changes.unreadable]
        return _FolderPlan(root, folder, changes)

    def _missing(self, folder: FolderInfo) -> None:
        log.warning("catalog folder %s is missing or unmounted: its %d track(s) are kept", folder.path, folder.tracks)
        self.report.missing.append((str(folder.path), folder.tracks))

    # -- the model --------------------------------------------------------------------------------

    def _settings(self) -> tuple[str | None, dict[str, str]]:
        """Weights and options for this build: the one weights rule (flag, $SOUNDALIKE_WEIGHTS, the last
        build's: storage.core.paths.chosen_weights), options given over those remembered."""
        o = self.options
        remembered = self.store.model_settings(o.model)
        weights = chosen_weights(o.weights, remembered.weights if remembered else None)
        return weights, {**(remembered.options if remembered else {}), **o.model_options}

    def embedder(self) -> Embedder:
        if self._embedder is None:
            o = self.options
            weights, options = self._settings()
            self._embedder = models.load_embedder(o.model, weights, o.device, o.precision, o.batch_size, **options)
        return self._embedder

    def _check_revision(self) -> None:
        revision = self.embedder().revision
        stored = [r for r in self.store.stored_revisions(self.options.model) if r != revision]
        if stored and not self.options.rebuild:
            raise IndexerError(
                f"the {self.options.model} vectors in {self.store.data_dir} come from weights {stored[0]}, "
                f"these weights are {revision}{revision_change(stored[0], revision)}; "
                "pass --rebuild to re-embed the whole catalog with them"
            )
        self.store.remember_settings(self.options.model, *self._settings())

    # -- embedding --------------------------------------------------------------------------------

    def _job(self) -> EmbedJob:
        o, embedder = self.options, self.embedder()
        weights, options = self._settings()
        return EmbedJob(
            o.model,
            weights,
            options,
            o.device,
            o.precision,
            o.batch_size,
            embedder.revision,
            embedder.sample_rate,
            o.timeout,
            o.workers,
            server_database(self.store),
        )

    def _embed(self, tracks: list[tuple[int, Path]]) -> None:
        from indexer.progress import Progress

        paths = dict(tracks)
        progress = Progress(len(tracks), enabled=self.options.progress)
        clock, started = self.report.stages, time.perf_counter()
        before = {stage: clock.seconds.get(stage, 0.0) for stage in ("write", "compact")}
        try:
            for outcome in self.engine.run(tracks, self._job(), self.embedder()):
                if outcome.error is not None or outcome.tags is None:
                    self._fail(outcome.track_id, paths[outcome.track_id], outcome.error or "no result")
                    continue
                with clock("write"):
                    if outcome.committed is None:
                        assert outcome.embedding is not None and outcome.loudness is not None
                        self._save(
                            outcome.track_id, outcome.tags, outcome.embedding, outcome.loudness, outcome.fingerprint
                        )
                    else:
                        self._saved(outcome.tags, outcome.committed)  # committed by the engine
                progress.advance(outcome.tags.duration or 0.0)
        finally:
            progress.close()
            # The loop's time less writing (compaction included) and the wait for decoders: the model's.
            waited = getattr(self.engine, "decode_wait", 0.0)
            clock.add("decode wait", waited)
            spent = sum(clock.seconds.get(stage, 0.0) - before[stage] for stage in before)
            clock.add("embed", max(0.0, time.perf_counter() - started - spent - waited))

    def _save(
        self, track_id: int, tags: Tags, result: TrackEmbedding, loudness: np.ndarray, fingerprint: Fingerprint | None
    ) -> None:
        revision = self.embedder().revision
        saved = commit_track(self.store, self.options.model, revision, track_id, tags, result, loudness, fingerprint)
        self._saved(tags, saved)

    def _saved(self, tags: Tags, saved: bool) -> None:
        """Count a committed track; a first build learns the timeline basis early on."""
        self.report.indexed += int(saved)
        self.report.audio_seconds += tags.duration or 0.0
        if self.report.indexed % COMPACT_EVERY == 0 and self.store.codec(self.options.model) is None:
            with self.report.stages("compact"):
                self.store.compact_timelines(self.options.model)

    def _fingerprint(self, folders: list[FolderInfo]) -> None:
        """Fingerprint the tracks that lack one (embedded before fingerprints, or on Ray), then group the new
        ones into recordings and copies. Without Chromaprint: nothing to do (said once)."""
        missing = self.store.to_fingerprint(folders) if chromaprint_available() else []
        if missing:
            log.info("fingerprinting %d track(s) indexed without one", len(missing))
            for track_id, found in fingerprint_files(missing, self.options.workers, self.options.timeout):
                if found is not None:
                    self.store.save_fingerprint(track_id, found)
        self.store.group_recordings()

    def _fail(self, track_id: int, path: Path, reason: str) -> None:
        log.warning("failed: %s: %s", path, reason)
        self.store.record_failure(track_id, self.options.model, reason)
        self.report.failed.append((self._shown(path), reason))

    def _shown(self, path: Path) -> str:
        """A file as reports show it: relative to its folder when one folder is built."""
        roots = [Path(f) for f in self.report.folders]
        return path.relative_to(roots[0]).as_posix() if len(roots) == 1 and path.is_relative_to(roots[0]) else str(path)


def revision_change(old: str, new: str) -> str:
    """What differs between two revisions, by their `;key=value` parts (" (frontend: none -> essentia)")."""

    def parts(revision: str) -> dict[str, str]:
        weights, *options = revision.split(";")
        return {"weights": weights} | dict(option.partition("=")[::2] for option in options)

    before, after = parts(old), parts(new)
    changed = [
        f"{key}: {before.get(key) or 'none'} -> {after.get(key) or 'none'}"
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
    return f" ({', '.join(changed)})" if changed else ""


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def build_catalog(
    catalog_dirs: Path | list[Path] | None,
    data_dir: Path | None = None,
    options: BuildOptions | None = None,
    embedder: Embedder | None = None,
) -> BuildReport:
    """Index catalog folders into `data_dir` (library entry point of `indexer build`); no folder: every
    folder the data directory already has. Raises UsageError before writing anything for a bad request."""
    options = options or BuildOptions()
    check_options(options.model, dict(options.model_options))  # before anything is written
    folders = [catalog_dirs] if isinstance(catalog_dirs, Path) else list(catalog_dirs or [])
    target = resolve_data_dir(data_dir)
    new = _missing_paths(target)
    store = Store(target)
    try:
        return Builder(store, folders, options, embedder, engine_for(options)).run()
    except BaseException:
        if new and not store.folders():  # failed before writing anything: leave no new files behind
            store.close()
            _remove(new)
        raise
    finally:
        store.close()


def engine_for(options: BuildOptions) -> Engine:
    """The engine the options name: local (this machine's process pool) or ray."""
    if options.engine == "ray":
        from indexer.ray_engine import RayEngine  # Ray itself is imported only once there is work for it

        return RayEngine(options.ray_address)
    if options.engine != "local":
        raise UsageError(f"unknown engine {options.engine!r}; use local or ray")
    return LocalEngine()


def _missing_paths(data_dir: Path) -> list[Path]:
    """What opening a store at `data_dir` would create: the folder itself, or the files in it."""
    if not data_dir.exists():
        return [data_dir]
    names = [f"{DB_FILE}{suffix}" for suffix in ("", "-wal", "-shm")] + [LOCK_FILE]
    return [data_dir / name for name in names if not (data_dir / name).exists()]


def _remove(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
