"""The store's write API: the one place that changes a data directory.

The indexer (and `indexer forget`, `storage.query --rebuild-index`) call these methods; nothing
outside `storage/` issues SQL or writes index files. Every change to a model's vectors bumps that
model's version in the same transaction; indexes are rebuilt from the database and swapped in
atomically; one writer at a time holds the data directory's lock.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.core import timelines
from storage.core.errors import CorruptIndexError, EmptyIndexError, FolderError, ModelMismatchError
from storage.core.paths import INDEX_DIR, database_url, resolve_data_dir
from storage.core.timelines import CODED, RAW, TimelineCodec, fit_codec, raw_timeline
from storage.db import reads
from storage.db.counters import bump_versions, ensure_model, vectors_version
from storage.db.engine import open_database
from storage.db.reads import folder_rows, load_codec
from storage.db.schema import Embedding, Failure, Folder, Model, Track, TrackFingerprint, TrackStyle
from storage.db.schema import TimelineCodec as CodecRow
from storage.index import increments, segment_updates
from storage.index.segment_rows import basis_key, count_segments, segment_chunks, segment_rows_since
from storage.index.segments import EXACT_SEGMENTS, SEGMENTS_DIR, SegmentIndex, SegmentMeta, write_segments
from storage.index.vectors import EXACT_MAX, IndexMeta, VectorIndex, current_build, write_index
from storage.listeners import answers
from storage.listeners import metrics as learned
from storage.recordings import groups as recording_groups
from storage.recordings.fingerprints import Fingerprint
from storage.write import sync
from storage.write.lock import build_lock

log = logging.getLogger(__name__)

CHUNK = 4096


@dataclass(frozen=True)
class FolderInfo:
    id: int
    path: Path
    tracks: int


@dataclass(frozen=True)
class ModelSettings:
    """What a model's last build used: a plain `indexer build` uses the same."""

    weights: str | None
    options: dict[str, str]


@dataclass(frozen=True)
class Forgotten:
    folder: Path
    tracks: int
    models: list[str]  # models whose vectors went with them (their indexes were rebuilt)
    answers: int = 0  # listeners' answers about those tracks, gone with them


class Store:
    """A data directory opened for writing (created when missing)."""

    def __init__(self, data_dir: str | Path | None = None, url: str | None = None) -> None:
        """`url`: the database, when not the one `data_dir` names (a Ray worker writing the driver's PostgreSQL)."""
        self.data_dir = resolve_data_dir(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.sessions: sessionmaker[Session] = open_database(url or database_url(self.data_dir), create=True)
        self._codecs: dict[str, TimelineCodec | None] = {}

    def close(self) -> None:
        """Close the database connections (the store can be opened again afterwards)."""
        self.sessions.kw["bind"].dispose()

    def lock(self, purpose: str = "build") -> AbstractContextManager[None]:
        """The data directory's writer lock: one build (or forget) at a time."""
        return build_lock(self.data_dir, purpose)

    # -- folders ------------------------------------------------------------------------------

    def folders(self) -> list[FolderInfo]:
        with self.sessions() as s:
            return [FolderInfo(i, path, n) for i, path, n in folder_rows(s)]

    def find_folder(self, path: Path, among: list[FolderInfo] | None = None) -> FolderInfo | None:
        """The registered folder at `path` (as given or resolved); `among`: the folders already read."""
        wanted = path.expanduser().absolute()
        return next((f for f in among or self.folders() if f.path in (wanted, _resolved(wanted))), None)

    def check_new_folder(self, path: Path, among: list[FolderInfo] | None = None) -> None:
        """FolderError when `path` lies inside (or around) a registered folder: its tracks would count twice."""
        resolved = _resolved(path)
        for other in among or self.folders():
            if resolved.is_relative_to(other.path) or other.path.is_relative_to(resolved):
                raise FolderError(
                    f"{resolved} and {other.path} overlap, and {other.path} is already in this data directory; "
                    f"build {other.path}, or `indexer forget {other.path}` first"
                )

    def add_folder(self, path: Path) -> FolderInfo:
        """Register a catalog folder (the one already registered at `path`, if any)."""
        registered = self.folders()
        known = self.find_folder(path, registered)
        if known is not None:
            return known
        self.check_new_folder(path, registered)
        resolved = _resolved(path)
        with self.sessions.begin() as s:
            folder = Folder(path=str(resolved))
            s.add(folder)
            s.flush()
            return FolderInfo(folder.id, resolved, 0)

    def relocate_folder(self, folder: FolderInfo, new_path: Path) -> FolderInfo:
        """The folder's files now live at `new_path` (a moved drive or copy): tracks and vectors are kept."""
        with self.sessions.begin() as s:
            row = s.get(Folder, folder.id)
            assert row is not None
            row.path = str(_resolved(new_path))
        return FolderInfo(folder.id, _resolved(new_path), folder.tracks)

    def forget_folder(self, folder: FolderInfo) -> Forgotten:
        """Remove a folder and its tracks with everything they own; update the indexes that had them."""
        with self.sessions.begin() as s:
            ids = list(s.execute(select(Track.id).where(Track.folder_id == folder.id)).scalars())
            models = sorted(
                s.execute(select(Embedding.model).join(Track).where(Track.folder_id == folder.id).distinct()).scalars()
            )
            answered = answers.about(s, ids)  # their rows cascade with the tracks'
            sync.delete_tracks(s, ids)
            s.execute(delete(Folder).where(Folder.id == folder.id))
        for model in models:
            self.refresh_index(model)
        return Forgotten(folder.path, len(ids), models, answered)

    # -- listeners' answers (storage.listeners.answers) ---------------------------------------------------------

    def add_triplet(self, listener: str, tracks: Sequence[int], odd: int | None) -> answers.Judgement:
        """Keep which of three tracks `listener` found the odd one out (None: can't say)."""
        with self.sessions.begin() as s:
            return answers.add_triplet(s, listener, tracks, odd)

    def add_thumb(self, listener: str, query: int, result: int, alike: bool) -> answers.Judgement:
        """Keep a thumb on a result: alike (up) or not (down)."""
        with self.sessions.begin() as s:
            return answers.add_thumb(s, listener, query, result, alike)

    # -- applying a scan ------------------------------------------------------------------------

    def known_tracks(self, folder: FolderInfo) -> dict[str, sync.KnownTrack]:
        with self.sessions() as s:
            return sync.known_tracks(s, folder.id)

    def apply_changes(self, folder: FolderInfo, changes: sync.FolderChanges, model: str) -> None:
        with self.sessions.begin() as s:
            sync.apply_changes(s, folder.id, changes, model)

    def to_embed(self, model: str, folders: list[FolderInfo], limit: int | None = None) -> list[tuple[int, Path]]:
        """(track id, file) of each track of `folders` that `model` has neither embedded nor failed on
        (the first `limit` of them, when given)."""
        has_vector = select(Embedding.track_id).where(Embedding.track_id == Track.id, Embedding.model == model)
        has_failed = select(Failure.track_id).where(Failure.track_id == Track.id, Failure.model == model)
        query = (
            select(Track.id, Folder.path, Track.path)
            .join(Folder)
            .where(Track.folder_id.in_([f.id for f in folders]), ~has_vector.exists(), ~has_failed.exists())
            .order_by(Track.id)
            .limit(limit)
        )
        with self.sessions() as s:
            return [(i, Path(root) / path) for i, root, path in s.execute(query)]

    def failed_count(self, model: str, folders: list[FolderInfo]) -> int:
        """Tracks of `folders` that `model` failed on."""
        return self._count(Failure, model, folders)

    def indexed_count(self, model: str, folders: list[FolderInfo]) -> int:
        """Tracks of `folders` that have `model`'s vector."""
        return self._count(Embedding, model, folders)

    def _count(self, table: type[Failure] | type[Embedding], model: str, folders: list[FolderInfo]) -> int:
        query = (
            select(func.count())
            .select_from(table)
            .join(Track, Track.id == table.track_id)
            .where(table.model == model, Track.folder_id.in_([f.id for f in folders]))
        )
        with self.sessions() as s:
            return int(s.execute(query).scalar() or 0)

    # -- models ---------------------------------------------------------------------------------

    def model_settings(self, model: str) -> ModelSettings | None:
        with self.sessions() as s:
            row = s.get(Model, model)
            return ModelSettings(row.weights, json.loads(row.options or "{}")) if row is not None else None

    def remember_settings(self, model: str, weights: str | None, options: dict[str, str]) -> None:
        with self.sessions.begin() as s:
            row = ensure_model(s, model)
            row.weights, row.options = weights, json.dumps(options, sort_keys=True)

    def stored_revisions(self, model: str) -> list[str]:
        with self.sessions() as s:
            return list(s.execute(select(Embedding.revision).where(Embedding.model == model).distinct()).scalars())

    def drop_model(self, model: str) -> None:
        """Forget `model`'s vectors, styles and failures (before re-embedding with other weights)."""
        with self.sessions.begin() as s:
            for table in (Embedding, TrackStyle, Failure, CodecRow):
                s.execute(delete(table).where(table.model == model))
            bump_versions(s, [model])
        self._codecs.pop(model, None)

    # -- one track's result -----------------------------------------------------------------------

    def save_embedding(
        self,
        track_id: int,
        model: str,
        revision: str,
        tags: dict[str, object],
        vector: np.ndarray,
        timeline: np.ndarray,
        starts: np.ndarray,
        styles: dict[str, float] | None = None,
        loudness: np.ndarray | None = None,
        fingerprint: Fingerprint | None = None,
    ) -> bool:
        """Store one track's tags, vector and timeline (compact once the model has its basis), per-slice
        loudness (dBFS) and its fingerprint (kept when it has one: the audio is the same) in one transaction;
        False if the track went meanwhile."""
        vector = np.asarray(vector, dtype="<f4")
        codec = self.codec(model)
        fmt, blob = (CODED, codec.encode(timeline)) if codec is not None else (RAW, _f16(timeline))
        with self.sessions.begin() as s:
            track = s.get(Track, track_id)
            if track is None:
                return False
            for name, value in tags.items():
                setattr(track, name, value)
            bump_versions(s, [model])
            s.merge(
                Embedding(
                    track_id=track_id,
                    model=model,
                    revision=revision,
                    dim=int(vector.shape[0]),
                    vector=vector.tobytes(),
                    timeline=blob,
                    timeline_format=fmt,
                    starts=np.asarray(starts, dtype="<f4").tobytes(),
                    loudness=None
                    if loudness is None
                    else np.clip(np.rint(loudness), -128, 0).astype(np.int8).tobytes(),
                    version=vectors_version(s, model),
                )
            )
            s.execute(delete(Failure).where(Failure.track_id == track_id, Failure.model == model))
            if styles is not None:
                s.execute(delete(TrackStyle).where(TrackStyle.track_id == track_id, TrackStyle.model == model))
                s.add_all(TrackStyle(track_id=track_id, model=model, label=k, probability=p) for k, p in styles.items())
            if fingerprint is not None and s.get(TrackFingerprint, track_id) is None:
                s.add(recording_groups.fingerprint_row(track_id, fingerprint))
        return True

    # -- fingerprints ------------------------------------------------------------------------------

    def to_fingerprint(self, folders: list[FolderInfo]) -> list[tuple[int, Path]]:
        """(track id, file) of each track of `folders` that some model embedded but that has no fingerprint
        (built before fingerprints, or by an engine that computes none)."""
        has_vector = select(Embedding.track_id).where(Embedding.track_id == Track.id)
        has_print = select(TrackFingerprint.track_id).where(TrackFingerprint.track_id == Track.id)
        query = (
            select(Track.id, Folder.path, Track.path)
            .join(Folder)
            .where(Track.folder_id.in_([f.id for f in folders]), has_vector.exists(), ~has_print.exists())
            .order_by(Track.id)
        )
        with self.sessions() as s:
            return [(i, Path(root) / path) for i, root, path in s.execute(query)]

    def save_fingerprint(self, track_id: int, fingerprint: Fingerprint) -> bool:
        """Store a track's fingerprint alone (False if the track went meanwhile)."""
        with self.sessions.begin() as s:
            if s.get(Track, track_id) is None:
                return False
            s.merge(recording_groups.fingerprint_row(track_id, fingerprint))
        return True

    def group_recordings(self) -> int:
        """Group the fingerprints not grouped yet into recordings and copies (storage.recordings.groups)."""
        with self.sessions.begin() as s:
            return recording_groups.group_new(s)

    def record_failure(self, track_id: int, model: str, reason: str) -> None:
        with self.sessions.begin() as s:
            if s.get(Track, track_id) is not None:
                sync.record_failure(s, track_id, model, reason)

    # -- timelines -------------------------------------------------------------------------------

    def codec(self, model: str) -> TimelineCodec | None:
        """`model`'s timeline basis, None until it has one."""
        if model not in self._codecs:
            with self.sessions() as s:
                self._codecs[model] = load_codec(s, model)
        return self._codecs[model]

    def compact_timelines(self, model: str, fit_slices: int | None = None) -> int:
        """Learn `model`'s basis once it has `fit_slices` float16 slices stored, then re-encode its float16
        timelines, a batch per transaction (a crash leaves each row in one format or the other, both
        readable). Returns the number of timelines re-encoded."""
        needed = timelines.FIT_SLICES if fit_slices is None else fit_slices
        codec = self.codec(model) or self._fit_codec(model, needed)
        if codec is None:
            return 0
        done = 0
        while True:
            with self.sessions.begin() as s:
                rows = (
                    s.execute(
                        select(Embedding)
                        .where(Embedding.model == model, Embedding.timeline_format == RAW)
                        .limit(CHUNK // 16)
                    )
                    .scalars()
                    .all()
                )
                for row in rows:
                    row.timeline, row.timeline_format = codec.encode(raw_timeline(row.timeline, row.dim)), CODED
            done += len(rows)
            if not rows:
                break
        if done:
            log.info("%s: %d timelines made compact", model, done)
            self._reclaim_space()
        return done

    def _fit_codec(self, model: str, fit_slices: int) -> TimelineCodec | None:
        raw = (Embedding.model == model) & (Embedding.timeline_format == RAW)
        with self.sessions() as s:
            stored = s.execute(select(func.sum(func.length(Embedding.starts))).where(raw)).scalar() or 0
            if stored // 4 < max(1, fit_slices):
                return None
            every = max(1, stored // 4 // timelines.FIT_SAMPLE)  # an even sample of at most FIT_SAMPLE slices
            parts = [
                raw_timeline(blob, dim)[::every]
                for dim, blob in s.execute(
                    select(Embedding.dim, Embedding.timeline).where(raw).order_by(Embedding.track_id)
                )
            ]
        sample = np.concatenate(parts)
        codec = fit_codec(sample)
        with self.sessions.begin() as s:
            s.merge(
                CodecRow(
                    model=model,
                    dim=codec.dim,
                    dims=codec.dims,
                    mean=codec.mean.tobytes(),
                    components=codec.components.tobytes(),
                    rest=codec.rest,
                    fitted_slices=len(sample),
                )
            )
        log.info("%s: timeline basis of %d dims learned from %d slices", model, codec.dims, len(sample))
        self._codecs[model] = codec
        return codec

    def _reclaim_space(self) -> None:
        """SQLite keeps freed pages in its file: give them back once they are a quarter of it."""
        engine = self.sessions.kw["bind"]
        if engine.dialect.name != "sqlite":
            return
        with engine.connect() as conn:
            free = conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 1
        if free * 4 >= pages:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM")

    # -- indexes ----------------------------------------------------------------------------------

    def model_dir(self, model: str) -> Path:
        return self.data_dir / INDEX_DIR / model

    def rebuild_index(self, model: str, exact_max: int = EXACT_MAX, centre: bool | None = None) -> IndexMeta:
        """Rebuild `model`'s FAISS index from the stored vectors (one consistent snapshot), swap it in, and the
        listeners' learned indexes made from it. `centre`: compare vectors less the catalog's mean
        (storage.index.vectors.centred; the model's spec says); None keeps what the index in force does."""
        info = self._rebuild_index(model, exact_max, centre)
        self.refresh_learned(model)
        return info

    def _rebuild_index(self, model: str, exact_max: int = EXACT_MAX, centre: bool | None = None) -> IndexMeta:
        if centre is None:
            centre = self._centred(model)
        with self.sessions() as s:
            version = vectors_version(s, model)
            count, dim = s.execute(select(func.count(), func.max(Embedding.dim)).where(Embedding.model == model)).one()
            revisions = s.execute(select(Embedding.revision).where(Embedding.model == model).distinct()).scalars().all()
            if count == 0:
                raise EmptyIndexError(f"no {model} vectors stored yet; nothing to index")
            if len(revisions) > 1:
                raise ModelMismatchError(
                    f"{model} vectors from several weights revisions {revisions}; rebuild with --rebuild"
                )
            meta = {"model": model, "revision": revisions[0], "vectors_version": version}
            chunks = _vector_chunks(s, model)
            model_dir = self.model_dir(model)
            info = write_index(model_dir, chunks, count, dim, meta, exact_max=exact_max, with_map=True, centre=centre)
        self.rebuild_segments(model)
        return info

    # -- learned metrics (storage.listeners.fitting, storage.listeners.metrics) ------------------------------

    def learn(self, model: str, listener: str) -> tuple[learned.LearnedMetric, IndexMeta | None]:
        """Fit `listener`'s metric for `model` from their answers, keep it as a new version and make the index
        searched with it (None when the metric keeps the plain cosine)."""
        listener = answers.check_listener(listener)
        index = VectorIndex.open_current(self.model_dir(model))
        with self.sessions() as s:
            said = answers.judgements(s, listener)
        metric = learned.fit(self.data_dir, index, listener, said)
        return metric, learned.derive_index(metric, index)

    def refresh_learned(self, model: str) -> int:
        """Make again every learned index of `model` that lags its index in force (new vectors, another
        centre or weights); removed with the model's vectors. How many were made."""
        metrics = learned.in_force(self.data_dir, model)
        if not metrics:
            return 0
        if current_build(self.model_dir(model)) is None:
            for metric in metrics:
                shutil.rmtree(metric.index_dir, ignore_errors=True)  # of vectors that no longer exist
            return 0
        index = VectorIndex.open_current(self.model_dir(model))
        made = 0
        for metric in metrics:
            if metric.info.revision != index.meta.revision:  # fitted in another space: `indexer learn` again
                shutil.rmtree(metric.index_dir, ignore_errors=True)
                log.warning(
                    "%s's learned %s metric was fitted on other weights: run `indexer learn`",
                    metric.info.listener,
                    model,
                )
            elif learned.lags(metric, index):
                learned.derive_index(metric, index)
                made += 1
        return made

    def segments_dir(self, model: str) -> Path:
        return self.data_dir / SEGMENTS_DIR / model

    def rebuild_segments(self, model: str, exact_max: int = EXACT_SEGMENTS) -> SegmentMeta | None:
        """Rebuild `model`'s segment index (search by passage) from the stored timelines, swap it in;
        None (and no index) when no slice sounds."""
        codec = self.codec(model)
        with self.sessions() as s:
            version = vectors_version(s, model)
            revision = s.execute(select(Embedding.revision).where(Embedding.model == model).limit(1)).scalar()
            count, basis = count_segments(s, model), basis_key(s, model)
            dim = s.execute(select(Embedding.dim).where(Embedding.model == model).limit(1)).scalar()
        if not count or revision is None:
            shutil.rmtree(self.segments_dir(model), ignore_errors=True)
            return None
        meta = {"model": model, "revision": revision, "basis": basis, "vectors_version": version}
        dim = codec.dims + 1 if codec is not None else int(dim or 0)
        chunks = segment_chunks(self.sessions, model, codec)
        return write_segments(self.segments_dir(model), chunks, count, dim, meta, exact_max=exact_max)

    def _centred(self, model: str) -> bool:
        """Whether the index in force compares centred vectors (False without one)."""
        try:
            return bool(VectorIndex.open_current(self.model_dir(model)).meta.params.get("centred"))
        except (EmptyIndexError, CorruptIndexError):
            return False

    def refresh_index(
        self, model: str, centre: bool | None = None, policy: increments.Policy | None = None
    ) -> IndexMeta | None:
        """Bring the index up to the stored vectors: updated by what changed since its build (storage.index.increments:
        a layer on top, or folded in; `policy` its bounds), rebuilt in full when the data drifted past them, when
        it is missing or unreadable, or centred otherwise than `centre` asks (None: as it is); removed when the
        model has no vectors left. The listeners' learned indexes follow it. The new index, or None when nothing
        was built."""
        info = self._refresh_index(model, centre, policy)
        self.refresh_learned(model)
        return info

    def _refresh_index(
        self, model: str, centre: bool | None = None, policy: increments.Policy | None = None
    ) -> IndexMeta | None:
        with self.sessions() as s:
            version = vectors_version(s, model)
            has_vectors = s.execute(select(Embedding.track_id).where(Embedding.model == model).limit(1)).first()
        model_dir = self.model_dir(model)
        if not has_vectors:
            for derived in (model_dir, self.segments_dir(model)):  # of vectors that no longer exist
                if current_build(derived) is not None:
                    shutil.rmtree(derived, ignore_errors=True)
            return None
        if current_build(model_dir) is not None:
            try:
                current = VectorIndex.open_current(model_dir)
                # A build from before pair cosines were kept is rebuilt once, so results can say their closeness.
                same_space = centre is None or bool(current.meta.params.get("centred")) == centre
                if current.pairs is not None and same_space:
                    if current.meta.vectors_version == version:
                        self.refresh_segments(model)  # nothing to do when it is as fresh
                        return None
                    updated = self._update_index(model, current, policy or increments.Policy())
                    if updated is not None:
                        self.refresh_segments(model)
                        return updated
            except CorruptIndexError as exc:
                log.warning("%s; rebuilding it", exc)
        return self._rebuild_index(model, exact_max=(policy or increments.Policy()).exact_max, centre=centre)

    def _update_index(self, model: str, current: VectorIndex, policy: increments.Policy) -> IndexMeta | None:
        """`current` brought up to the stored vectors without a rebuild; None when it needs one."""
        with self.sessions() as s:  # one snapshot: the version and the rows it counts
            version = vectors_version(s, model)
            stored = reads.vector_ids(s, model)
            ids, vectors, revisions = reads.vectors_since(s, model, current.meta.vectors_version)
        if set(revisions) - {current.meta.revision}:
            return None  # other weights: the full rebuild says so
        removed = np.setdiff1d(np.asarray(current.ids), stored)
        changes = increments.Changes(ids, vectors, removed, version)
        how = increments.plan(current, changes, policy)
        if how == "full":
            log.info("%s: the catalog drifted past the update bounds; rebuilding its index in full", model)
            return None
        return increments.update_index(self.model_dir(model), current, changes, how, policy)

    def refresh_segments(self, model: str) -> SegmentMeta | None:
        """Bring the segment index up to the stored timelines: updated by the tracks that changed since its
        build (storage.index.segment_updates) while the layer stays within its bound and the basis is the same;
        rebuilt otherwise."""
        with self.sessions() as s:
            version, basis = vectors_version(s, model), basis_key(s, model)
        try:
            current = SegmentIndex.open_current(self.segments_dir(model))
        except EmptyIndexError:
            return self.rebuild_segments(model)
        except CorruptIndexError as exc:
            log.warning("%s; rebuilding it", exc)
            return self.rebuild_segments(model)
        if current.meta.basis != basis:
            return self.rebuild_segments(model)
        if current.meta.vectors_version == version:
            return current.meta
        with self.sessions() as s:
            version = vectors_version(s, model)
            stored = reads.vector_ids(s, model)
            rows = segment_rows_since(s, model, current.meta.vectors_version, self.codec(model))
        updated = segment_updates.update_segments(self.segments_dir(model), current, rows, stored, version)
        return updated if updated is not None else self.rebuild_segments(model)


def _f16(timeline: np.ndarray) -> bytes:
    return np.asarray(timeline, dtype="<f2").tobytes()


def _resolved(path: Path) -> Path:
    return path.expanduser().resolve()


def _vector_chunks(session: Session, model: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    rows = session.execute(
        select(Embedding.track_id, Embedding.vector)
        .where(Embedding.model == model)
        .order_by(Embedding.track_id)
        .execution_options(yield_per=CHUNK)
    )
    for part in rows.partitions(CHUNK):
        ids = np.fromiter((r[0] for r in part), dtype=np.int64, count=len(part))
        vectors = np.stack([np.frombuffer(r[1], dtype="<f4") for r in part])
        yield ids, vectors
