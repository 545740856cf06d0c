"""Shared fixtures: random-weight checkpoints in the published format, generated audio."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SR = 16000


def tone_mix(seconds: float, seed: int = 0, sr: int = SR) -> np.ndarray:
    """A deterministic musical-ish signal: a few harmonics plus a little noise, in [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 110.0 * 2 ** (rng.integers(0, 24) / 12)
    wave = sum(np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.28)) / h for h in range(1, 5))
    wave = wave * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t)) + 0.05 * rng.standard_normal(t.size)
    return (0.3 * wave).astype(np.float32)


@pytest.fixture(scope="session")
def mule_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full-size random MULE checkpoint written by this project's writer."""
    from indexer.models.mule.testing import write_random_mule as write_random_checkpoint

    return write_random_checkpoint(tmp_path_factory.mktemp("mule-ckpt"), seed=1)


@pytest.fixture(scope="session")
def mule_embedder(mule_checkpoint: Path):
    from indexer.models.mule.embedder import MuleEmbedder

    return MuleEmbedder.from_weights(str(mule_checkpoint), device="cpu", batch_size=8)


@pytest.fixture(autouse=True)
def fresh_shared_embedders():
    """Each test loads its own outside-audio model (tests swap `load_embedder` for fakes) and embeds its words."""
    yield
    import sys

    if "indexer.query_audio" in sys.modules:
        sys.modules["indexer.query_audio"].forget_shared_embedders()
    if "indexer.query_text" in sys.modules:
        sys.modules["indexer.query_text"].forget_texts()


PG_URL = os.environ.get("SOUNDALIKE_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def pg_available() -> bool:
    try:
        import psycopg2

        psycopg2.connect(PG_URL.replace("postgresql+psycopg2", "postgresql"), connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001 - any failure to connect means no server here
        return False


def require_pg() -> None:
    """Fail in CI, skip elsewhere, when the PostgreSQL server is not there."""
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at {PG_URL}")
        pytest.skip("PostgreSQL not reachable")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch) -> str:
    """Run a test on SQLite (default) and on PostgreSQL through the same SQLAlchemy code."""
    if request.param == "postgresql":
        require_pg()
        from sqlalchemy import create_engine

        engine = create_engine(PG_URL)
        with engine.begin() as conn:  # a clean slate: tables, indexes and extensions of earlier tests
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
        monkeypatch.setenv("SOUNDALIKE_DB_URL", PG_URL)
    else:
        monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    return request.param


CLI_PG_URL = os.environ.get("SOUNDALIKE_TEST_PG_CLI_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(params=["sqlite", "postgresql"])
def cli_database(request, monkeypatch):
    """The CLI suite's database: SQLite in the data directory, then PostgreSQL (a database of its own per
    test, named by $SOUNDALIKE_DB_URL as a user sets it; subprocesses inherit it)."""
    if request.param == "sqlite":
        monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
        yield "sqlite"
        return
    require_pg()
    import uuid

    from sqlalchemy import create_engine

    name = f"soundalike_cli_{uuid.uuid4().hex[:12]}"
    server = create_engine(CLI_PG_URL, isolation_level="AUTOCOMMIT")  # CREATE DATABASE runs outside transactions
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    monkeypatch.setenv("SOUNDALIKE_DB_URL", CLI_PG_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield "postgresql"
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        server.dispose()
