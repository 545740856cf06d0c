"""Stores filled with seeded synthetic vectors, on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from storage.writer import StoreWriter

PG_URL = os.environ.get("SOUNDALIKE_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def pg_available() -> bool:
    try:
        import psycopg2

        psycopg2.connect(PG_URL.replace("postgresql+psycopg2", "postgresql"), connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch) -> str:
    """Run a test on SQLite (default) and on PostgreSQL through the same SQLAlchemy code."""
    if request.param == "postgresql":
        if not pg_available():
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL not reachable at {PG_URL}")
            pytest.skip("PostgreSQL not reachable")
        from sqlalchemy import create_engine

        from storage.schema import Base

        engine = create_engine(PG_URL)
        Base.metadata.drop_all(engine)
        engine.dispose()
        monkeypatch.setenv("SOUNDALIKE_DB_URL", PG_URL)
    else:
        monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    return request.param


def clustered_vectors(n: int, dim: int, seed: int = 0, clusters: int = 50) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    labels = rng.integers(0, clusters, n)
    return (centres[labels] + 0.6 * rng.standard_normal((n, dim))).astype(np.float32)


ARTISTS = ["Ann", "Bob", "Cy", "Dee"]


def fill_store(data_dir: Path, vectors: np.ndarray, model: str = "mule", revision: str = "rev1") -> StoreWriter:
    """Tracks 1..n with tags, their vectors, and an index."""
    from storage.schema import Track

    writer = StoreWriter(data_dir)
    root = data_dir.parent / "catalog"
    root.mkdir(exist_ok=True)
    writer.set_catalog_root(root)
    with writer.sessions.begin() as s:
        for i, v in enumerate(vectors):
            track = Track(
                path=f"{ARTISTS[i % 4]}/album {i % 3}/track {i:03d}.flac",
                title=f"Song {i}",
                artist=ARTISTS[i % 4],
                album=f"{ARTISTS[i % 4]} album {i % 3}",
                duration=30.0 + i,
                state="indexed",
                size=1,
                mtime=0.0,
                content_hash=f"h{i}",
            )
            s.add(track)
            s.flush()
            writer.put_embedding(s, track.id, model, revision, v, np.stack([v, v]), np.array([0.0, 2.0]))
    writer.rebuild_index(model)
    return writer
