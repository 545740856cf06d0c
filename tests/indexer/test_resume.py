"""A build killed at any moment resumes to the same result; Ctrl-C and SIGTERM stop cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from indexer.build import BuildOptions, build_catalog
from storage.core.paths import database_url
from tests.audio_files import write_audio
from tests.fake_embedder import FakeEmbedder
from tests.indexer.test_build import index_ids, stored

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # a shell's background job starts with SIGINT ignored
from tests.fake_embedder import install
install(delay=float(sys.argv[3]))
from indexer.commands.main import main
sys.exit(main(["build", sys.argv[1], "--data-dir", sys.argv[2], "--quiet", "--workers", "1"]))
"""
N_TRACKS = 12
pytestmark = pytest.mark.usefixtures("cli_database")  # SQLite, then PostgreSQL


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    for i in range(N_TRACKS):
        write_audio(root / f"album {i % 3}" / f"track {i:02d}.wav", 3.0 + i % 4, seed=i)
    return root


def start_build(catalog: Path, data: Path, delay: float = 0.4) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(catalog), str(data), str(delay)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def indexed_count(data: Path) -> int:
    """Vectors committed so far, read from the database the build writes (SQLite file or $SOUNDALIKE_DB_URL)."""
    from sqlalchemy import create_engine, exc

    engine = create_engine(database_url(data))
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("select count(*) from embeddings where model = 'mule'").scalar_one()
    except (exc.OperationalError, exc.ProgrammingError):  # not created yet
        return 0
    finally:
        engine.dispose()


def wait_for_indexed(data: Path, proc: subprocess.Popen, at_least: int, limit: float = 60.0) -> int:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        count = indexed_count(data)
        if count >= at_least:
            return count
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("build made no progress")


def test_sigkill_then_rerun_equals_a_clean_build(catalog, tmp_path):
    data = tmp_path / "data"
    proc = start_build(catalog, data)
    wait_for_indexed(data, proc, 3)
    proc.kill()
    proc.wait()
    if not os.environ.get("SOUNDALIKE_DB_URL"):
        with sqlite3.connect(data / "soundalike.db") as db:
            assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    survived = {p for p, (_, state, _) in stored(data).items() if state == "indexed"}
    assert 3 <= len(survived) < N_TRACKS

    resumed = FakeEmbedder()
    report = build_catalog(catalog, data, BuildOptions(workers=1, progress=False), resumed)
    assert report.indexed == N_TRACKS - len(survived)
    ids_by_path = {p: v[0] for p, v in stored(data).items()}
    assert not {ids_by_path[p] for p in survived} & set(resumed.embedded)  # finished tracks not re-embedded

    clean = tmp_path / "clean"
    build_catalog(catalog, clean, BuildOptions(workers=1, progress=False), FakeEmbedder())
    got, expected = stored(data), stored(clean)
    assert sorted(got) == sorted(expected) and len(got) == N_TRACKS
    for path in expected:
        assert got[path][1] == "indexed"
        np.testing.assert_allclose(got[path][2], expected[path][2], rtol=0, atol=1e-6)
    assert index_ids(data) == sorted(v[0] for v in got.values())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_exits_cleanly_and_says_what_was_saved(catalog, tmp_path, sig):
    data = tmp_path / "data"
    proc = start_build(catalog, data)
    wait_for_indexed(data, proc, 2)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted:" in err and "track(s) embedded and saved" in err and "Traceback" not in err
    saved = int(err.split("interrupted: ")[1].split(" ")[0])
    assert saved == indexed_count(data) >= 2
    report = build_catalog(catalog, data, BuildOptions(workers=1, progress=False), FakeEmbedder())
    assert report.indexed == N_TRACKS - saved and report.unchanged == saved


UPDATE_SCRIPT = """
import pathlib, sys, time
from tests.fake_embedder import install
install(delay=0.0)
import storage.index.increments as increments
derive = increments._write_derived
def stalled(tmp, *args):  # the new build half-written: its folder exists, CURRENT not yet switched
    derive(tmp, *args)
    pathlib.Path(sys.argv[3]).write_text(str(tmp))
    time.sleep(120)
increments._write_derived = stalled
from indexer.commands.main import main
sys.exit(main(["build", sys.argv[1], "--data-dir", sys.argv[2], "--quiet", "--workers", "1"]))
"""


def test_sigkill_during_an_index_update_keeps_the_previous_index_serving(catalog, tmp_path):
    """Two tracks added to a built catalog: the build killed while writing the updated index leaves the
    previous index in force, answering; the next build finishes the job (an update, not a rebuild)."""
    from storage.read.catalog import Catalog
    from tests.search_helpers import similar

    music = tmp_path / "music"
    shutil.copytree(catalog, music)
    data = tmp_path / "data"
    build_catalog(music, data, BuildOptions(workers=1, progress=False), FakeEmbedder())
    before = Catalog.open(data).index().name
    for i in range(2):
        write_audio(music / "new" / f"added {i}.wav", 3.0, seed=100 + i)
    marker = tmp_path / "writing"
    proc = subprocess.Popen(
        [sys.executable, "-c", UPDATE_SCRIPT, str(music), str(data), str(marker)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    half_written = Path(marker.read_text())
    assert half_written.exists() and half_written.name.startswith(".tmp-")

    catalog_now = Catalog.open(data)
    assert catalog_now.index().name == before and catalog_now.index().meta.count == N_TRACKS
    assert len(similar(catalog_now, 1, k=5, allow_stale=True)) == 5  # the previous index still answers

    report = build_catalog(music, data, BuildOptions(workers=1, progress=False), FakeEmbedder())
    assert report.indexed == 0  # the vectors were saved before the kill; only the index was behind
    index = Catalog.open(data).index()
    assert index.name != before and index.layered and index.meta.count == N_TRACKS + 2
    assert not half_written.exists()  # the next build cleared the half-written one
    assert len(similar(Catalog.open(data), N_TRACKS + 1, k=5)) == 5
