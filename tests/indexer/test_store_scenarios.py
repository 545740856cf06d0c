"""The store never loses work: each scenario of the store redesign through the `indexer` CLI,
on SQLite and on the machine's PostgreSQL (the `backend` fixture)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer import local_engine as build_module
from indexer.commands.main import main as indexer
from storage.read.catalog import Catalog
from tests.audio_files import write_audio
from tests.fake_embedder import fake_loader
from tests.search_helpers import similar

ROOT = Path(__file__).resolve().parents[2]
N = 4
SCRIPT = """
import sys
from tests.fake_embedder import install_loader
install_loader(delay=float(sys.argv[1]))
from indexer.commands.main import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def audio(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("audio")
    for folder in ("a", "b"):
        for i in range(N):
            write_audio(base / folder / f"{folder} song {i}.flac", 3.0 + i, seed=i + (10 if folder == "b" else 0))
    return base


@pytest.fixture
def env(audio, tmp_path, backend, monkeypatch):
    """Two catalog folders, weights folders for two models, a data directory, the fake loader."""
    shutil.copytree(audio, tmp_path / "music")
    for name in ("mule-w", "mert-w", "other-w"):
        (tmp_path / name).mkdir()
    monkeypatch.setattr("indexer.models.load_embedder", fake_loader())
    monkeypatch.delenv("SOUNDALIKE_WEIGHTS", raising=False)
    return tmp_path


def run(env: Path, *args: str) -> int:
    return indexer([*args, "--data-dir", str(env / "data")])


def build(env: Path, *args: str) -> int:
    return run(env, "build", *args, "--quiet", "--workers", "1")


def mule_ids(env: Path, model: str = "mule") -> set[int]:
    return {t.id for t in Catalog.open(env / "data", model).search_tracks("", limit=1000)}


def start(env: Path, delay: float, *args: str) -> subprocess.Popen:
    argv = [sys.executable, "-c", SCRIPT, str(delay), *args, "--data-dir", str(env / "data")]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(check, proc: subprocess.Popen, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("no progress")


def vector_count(env: Path, model: str) -> int:
    try:
        return Catalog.open(env / "data", model).count_tracks().get("indexed", 0)
    except Exception:  # noqa: BLE001 - the database may not exist yet
        return 0


def test_typo_model_is_bad_usage_and_writes_nothing(env, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build(env, str(env / "music/a"), "--model", "foo")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'foo'" in err and "mert-95m" in err and "musicfm-fma" in err
    assert not (env / "data").exists()


def test_missing_weights_of_a_second_model_change_nothing(env, capsys):
    assert build(env, str(env / "music/a"), "--weights", str(env / "mule-w")) == 0
    before = mule_ids(env)
    assert run(env, "build", "--model", "maest", "--quiet") == 1  # no weights: nothing is written
    assert "not found" in capsys.readouterr().err
    assert build(env, str(env / "music/a")) == 0
    assert "mule: indexed 0 " in (out := capsys.readouterr().out) and f"unchanged {N}" in out
    assert mule_ids(env) == before and Catalog.open(env / "data").models() == ["mule"]


def test_second_model_killed_midway_hides_nothing_and_resumes(env, capsys):
    assert build(env, str(env / "music/a"), str(env / "music/b"), "--weights", str(env / "mule-w")) == 0
    all_ids = mule_ids(env)
    proc = start(
        env, 0.5, "build", "--model", "mert-95m", "--weights", str(env / "mert-w"), "--quiet", "--workers", "1"
    )
    wait_until(lambda: vector_count(env, "mert-95m") >= 2, proc)
    proc.kill()
    proc.wait()
    mert = Catalog.open(env / "data", "mert-95m").count_tracks()
    assert mert["indexed"] >= 2 and mert["pending"] == 2 * N - mert["indexed"]
    assert mule_ids(env) == all_ids  # every track still in the mule search box
    mule = Catalog.open(env / "data", "mule")
    assert len(similar(mule, min(all_ids), k=2 * N)) == 2 * N - 1  # and answered by the mule index
    # The stale lock of the killed build is taken over; the remembered weights are used.
    assert build(env, "--model", "mert-95m") == 0
    out = capsys.readouterr().out
    assert f"mert-95m: indexed {2 * N - mert['indexed']} " in out
    mert_summary = out.split("mert-95m: indexed")[1]
    assert "\ntime: " in mert_summary and "embed" in mert_summary.split("\ntime: ")[1]  # where the time went
    assert mule_ids(env, "mert-95m") == all_ids


def test_two_folders_forget_and_a_missing_one(env, capsys, monkeypatch):
    a, b = env / "music/a", env / "music/b"
    assert build(env, str(a), "--weights", str(env / "mule-w")) == 0
    ids_a = mule_ids(env)
    assert build(env, str(b)) == 0
    assert "removed 0" in capsys.readouterr().out
    assert len(mule_ids(env)) == 2 * N and ids_a <= mule_ids(env)
    assert run(env, "status") == 0
    status = capsys.readouterr().out
    assert f"{a.resolve()}: {N} track(s)" in status and f"{b.resolve()}: {N} track(s)" in status
    assert build(env, str(a / "..")) == 2  # a folder around registered ones would count them twice
    assert "overlap" in capsys.readouterr().err

    # Unmounted: the folder is gone, or an empty mount point. Its tracks stay.
    shutil.move(a, env / "away")
    assert build(env) == 0
    assert "missing or unmounted" in capsys.readouterr().out and len(mule_ids(env)) == 2 * N
    a.mkdir()
    assert build(env, str(a)) == 0
    assert "missing or unmounted" in capsys.readouterr().out and len(mule_ids(env)) == 2 * N
    a.rmdir()
    shutil.move(env / "away", a)
    assert build(env) == 0 and "indexed 0 " in capsys.readouterr().out

    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # noqa: SIM115 - no terminal: never forget silently
    assert run(env, "forget", str(a)) == 2
    assert "--yes" in capsys.readouterr().err and len(mule_ids(env)) == 2 * N
    assert run(env, "forget", str(a), "--yes") == 0
    assert f"forgot {a.resolve()}: {N} track(s); mule index(es) updated" in capsys.readouterr().out
    remaining = mule_ids(env)
    assert remaining == mule_ids(env) and not remaining & ids_a and len(remaining) == N
    catalog = Catalog.open(env / "data")
    assert {n.track.id for n in similar(catalog, min(remaining), k=10)} == remaining - {min(remaining)}
    assert catalog.index().layered  # b was added on top of a; forgetting a hid its tracks
    assert run(env, "status") == 0
    assert (
        f"updates: {N} vector(s) added and {N} hidden on top of the last full build of {N}" in capsys.readouterr().out
    )
    answer = [(n.track.id, n.score) for n in similar(catalog, min(remaining), k=10)]
    assert run(env, "reindex", "mule") == 0  # asked for: rebuilt in full, the same answers
    assert f"mule: {N} track(s) indexed in full" in capsys.readouterr().out and not catalog.index().layered
    again = similar(catalog, min(remaining), k=10)
    assert [n.track.id for n in again] == [i for i, _ in answer]
    assert [n.score for n in again] == pytest.approx([score for _, score in answer], abs=1e-6)
    assert run(env, "reindex", "maest") == 1 and "no maest vectors" in capsys.readouterr().err


def test_weights_and_options_are_remembered(env, capsys):
    a = env / "music/a"
    assert build(env, str(a), "--model", "mert-95m", "--weights", str(env / "mert-w"), "--layer", "3") == 0
    write_audio(a / "later.flac", 3.0, seed=30)
    assert build(env, "--model", "mert-95m") == 0  # no weights given: the remembered folder, not the Hub
    assert "mert-95m: indexed 1 " in capsys.readouterr().out
    catalog = Catalog.open(env / "data", "mert-95m")
    assert catalog.model_settings() == (str((env / "mert-w").resolve()), {"layer": "3"})
    write_audio(a / "later2.flac", 3.0, seed=31)
    assert build(env, "--model", "mert-95m", "--weights", str(env / "other-w")) == 1  # flags override...
    assert "--rebuild" in capsys.readouterr().err  # ...and other weights still need --rebuild
    assert build(env, "--model", "mert-95m", "--weights", str(env / "other-w"), "--rebuild") == 0
    assert Catalog.open(env / "data", "mert-95m").index().meta.revision == "mert-95m:other-w"


def test_a_second_build_exits_at_once_naming_the_first(env, capsys):
    proc = start(env, 0.5, "build", str(env / "music/a"), "--weights", str(env / "mule-w"), "--quiet", "--workers", "1")
    wait_until(lambda: vector_count(env, "mule") >= 1, proc)
    started = time.monotonic()
    assert build(env, str(env / "music/a")) == 1
    err = capsys.readouterr().err
    assert f"pid {proc.pid}, since " in err and err.count("\n") == 1 and time.monotonic() - started < 5
    proc.wait(timeout=60)
    assert proc.returncode == 0 and vector_count(env, "mule") == N


REAL_LOAD_TRACK = build_module.load_track


def fails_for_mert(path: str, rate: int):  # runs in a worker process (forked: sees the patch)
    if rate == 24000 and path.endswith("a song 1.flac"):
        raise RuntimeError("resampler gave up")
    return REAL_LOAD_TRACK(path, rate)


def test_a_failure_in_model_b_leaves_model_a_alone(env, capsys, monkeypatch):
    a = env / "music/a"
    assert build(env, str(a), "--weights", str(env / "mule-w")) == 0
    mule = Catalog.open(env / "data", "mule")
    victim = mule.resolve("a song 1.flac").id
    monkeypatch.setattr(build_module, "load_track", fails_for_mert)
    assert build(env, "--model", "mert-95m", "--weights", str(env / "mert-w")) == 0
    assert "failed: a song 1.flac: RuntimeError: resampler gave up" in capsys.readouterr().out
    mert = Catalog.open(env / "data", "mert-95m")
    assert mert.count_tracks() == {"indexed": N - 1, "failed": 1}
    assert [(t.id, reason) for t, reason in mert.failed_tracks()] == [(victim, "RuntimeError: resampler gave up")]
    assert victim in {n.track.id for n in similar(mule, mule.resolve("a song 0.flac"), k=N)}  # mule untouched
    assert victim not in set(mert.index().ids.tolist())
    assert mule.stale_by(mule.index()) == 0
    # Model A losing a vector (its own failure) bumps A's version: even A's stale index stops showing it.
    from storage.write.store import Store

    Store(env / "data").record_failure(victim, "mule", "gone bad")
    assert victim not in {n.track.id for n in similar(mule, mule.resolve("a song 0.flac"), k=N, allow_stale=True)}
    assert victim not in mule_ids(env) and mert.count_tracks() == {"indexed": N - 1, "failed": 1}
