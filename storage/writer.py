"""The write side of the store: vectors in, tracks out, and index rebuilds.

Every change to a model's vectors bumps that model's `vectors_version` in the same
transaction, so a reader can tell an index built before the change (stale) from a
fresh one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.catalog import CATALOG_ROOT_KEY, query_hint_key, read_meta, version_key
from storage.db import open_database
from storage.errors import EmptyIndexError, ModelMismatchError
from storage.paths import INDEX_DIR, database_url, resolve_data_dir
from storage.schema import Embedding, IndexRecord, Meta, Track, TrackStyle
from storage.vectors import EXACT_MAX, IndexMeta, write_index

log = logging.getLogger(__name__)

CHUNK = 4096


def write_meta(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value


def bump_version(session: Session, model: str, by: int = 1) -> None:
    write_meta(session, version_key(model), str(int(read_meta(session, version_key(model)) or 0) + by))


def embedding_row(
    track_id: int, model: str, revision: str, vector: np.ndarray, timeline: np.ndarray, starts: np.ndarray
) -> Embedding:
    vector = np.asarray(vector, dtype="<f4")
    return Embedding(
        track_id=track_id,
        model=model,
        revision=revision,
        dim=int(vector.shape[0]),
        vector=vector.tobytes(),
        timeline=np.asarray(timeline, dtype="<f2").tobytes(),
        starts=np.asarray(starts, dtype="<f4").tobytes(),
    )


class StoreWriter:
    """Opens (creating if needed) the data directory's database for writing."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = resolve_data_dir(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.sessions: sessionmaker[Session] = open_database(database_url(self.data_dir), create=True)

    def set_catalog_root(self, root: Path) -> None:
        with self.sessions.begin() as s:
            write_meta(s, CATALOG_ROOT_KEY, str(root.resolve()))

    def set_query_hint(self, model: str, weights: str | None, options: dict[str, str]) -> None:
        """Remember the weights and options that built `model`'s vectors: outside audio is embedded alike."""
        with self.sessions.begin() as s:
            write_meta(s, query_hint_key(model), json.dumps({"weights": weights, "options": options}))

    def put_embedding(
        self,
        session: Session,
        track_id: int,
        model: str,
        revision: str,
        vector: np.ndarray,
        timeline: np.ndarray,
        starts: np.ndarray,
        styles: dict[str, float] | None = None,
    ) -> None:
        session.merge(embedding_row(track_id, model, revision, vector, timeline, starts))
        if styles is not None:
            session.execute(delete(TrackStyle).where(TrackStyle.track_id == track_id, TrackStyle.model == model))
            session.add_all(
                TrackStyle(track_id=track_id, model=model, label=k, probability=p) for k, p in styles.items()
            )
        bump_version(session, model)

    def delete_tracks(self, session: Session, track_ids: Iterable[int]) -> int:
        ids = list(track_ids)
        if not ids:
            return 0
        models = session.execute(select(Embedding.model).where(Embedding.track_id.in_(ids)).distinct()).scalars().all()
        session.execute(delete(Embedding).where(Embedding.track_id.in_(ids)))
        session.execute(delete(TrackStyle).where(TrackStyle.track_id.in_(ids)))
        session.execute(delete(Track).where(Track.id.in_(ids)))
        for model in models:
            bump_version(session, model)
        return len(ids)

    def drop_track_vectors(self, session: Session, track_id: int) -> None:
        models = session.execute(select(Embedding.model).where(Embedding.track_id == track_id)).scalars().all()
        session.execute(delete(Embedding).where(Embedding.track_id == track_id))
        session.execute(delete(TrackStyle).where(TrackStyle.track_id == track_id))
        for model in models:
            bump_version(session, model)

    def drop_model_vectors(self, session: Session, model: str) -> None:
        session.execute(delete(Embedding).where(Embedding.model == model))
        session.execute(delete(TrackStyle).where(TrackStyle.model == model))
        bump_version(session, model)

    def stored_revisions(self, model: str) -> list[str]:
        with self.sessions() as s:
            return list(s.execute(select(Embedding.revision).where(Embedding.model == model).distinct()).scalars())

    def rebuild_index(self, model: str, exact_max: int = EXACT_MAX) -> IndexMeta:
        """Rebuild `model`'s FAISS index from the stored vectors and swap it in atomically.

        Version, count and vectors are read in one transaction: one consistent snapshot.
        """
        with self.sessions() as s:
            version = int(read_meta(s, version_key(model)) or 0)
            count, dim = s.execute(select(func.count(), func.max(Embedding.dim)).where(Embedding.model == model)).one()
            revisions = s.execute(select(Embedding.revision).where(Embedding.model == model).distinct()).scalars().all()
            if count == 0:
                raise EmptyIndexError(f"no {model} vectors stored yet; nothing to index")
            if len(revisions) > 1:
                raise ModelMismatchError(
                    f"{model} vectors from several weights revisions {revisions}; rebuild with --rebuild"
                )
            meta = {"model": model, "revision": revisions[0], "vectors_version": version}
            info = write_index(
                self.data_dir / INDEX_DIR / model, self._vector_chunks(s, model), count, dim, meta, exact_max=exact_max
            )
        with self.sessions.begin() as s:
            s.merge(
                IndexRecord(
                    model=model,
                    revision=info.revision,
                    kind=info.kind,
                    params=json.dumps(info.params),
                    count=info.count,
                    dim=info.dim,
                    vectors_version=info.vectors_version,
                    directory=str(Path(INDEX_DIR) / model),
                    built_at=datetime.now(UTC).replace(tzinfo=None),
                    build_seconds=info.build_seconds,
                )
            )
        return info

    @staticmethod
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
