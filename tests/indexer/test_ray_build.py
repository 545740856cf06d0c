"""`indexer build --engine ray`: the same vectors, tracks and failures as the in-process build, on a
local Ray and on a two-node cluster; a worker or the driver killed mid-build still ends in that result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray")

from indexer.build import BuildOptions, build_catalog  # noqa: E402
from tests.audio_files import write_audio  # noqa: E402
from tests.indexer.test_build import index_ids, stored  # noqa: E402
from tests.indexer.test_resume import indexed_count  # noqa: E402
from tests.ray_cluster import Cluster, two_node_cluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
N_TRACKS = 10
HOSTILE = {"zero.wav", "truncated.flac", "text.mp3", "corrupt.wav"}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    for i in range(N_TRACKS):
        write_audio(root / f"album {i % 3}" / f"track {i:02d}.flac", 4.0 + i % 5, seed=i)
    (root / "zero.wav").write_bytes(b"")
    (root / "truncated.flac").write_bytes((root / "album 0" / "track 00.flac").read_bytes()[:200])
    (root / "text.mp3").write_text("this is not an mp3 file at all\n" * 20)
    (root / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt \xff\xff\xff\xff" + bytes(range(256)) * 8)
    return root


def options(checkpoint: Path, **kw) -> BuildOptions:
    return BuildOptions(weights=str(checkpoint), device="cpu", workers=1, progress=False, **kw)


@pytest.fixture(scope="module")
def reference(catalog, mule_checkpoint, tmp_path_factory) -> tuple[dict, dict]:
    """The in-process build on SQLite: what it stored, and its failures."""
    data = tmp_path_factory.mktemp("in-process") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOUNDALIKE_DB_URL", raising=False)
        report = build_catalog(catalog, data, options(mule_checkpoint))
        assert report.indexed == N_TRACKS and {path for path, _ in report.failed} == HOSTILE
        return stored(data), dict(report.failed)


def assert_same_build(data: Path, expected: dict) -> None:
    got = stored(data)
    assert sorted(got) == sorted(expected)
    for path, (_, state, vector) in expected.items():
        assert got[path][1] == state, path
        if vector is not None:
            assert float(np.abs(got[path][2] - vector).max()) <= 1e-6, path
    assert index_ids(data) == sorted(i for i, state, _ in got.values() if state == "indexed")


def test_local_ray_equals_the_in_process_build(catalog, mule_checkpoint, reference, tmp_path, monkeypatch):
    import ray

    monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    ray.init(address="local", num_cpus=2, log_to_driver=False, include_dashboard=False, configure_logging=False)
    try:
        report = build_catalog(catalog, tmp_path / "data", options(mule_checkpoint, engine="ray"))
    finally:
        ray.shutdown()
    assert report.indexed == N_TRACKS and dict(report.failed) == reference[1]  # same reasons, word for word
    assert report.audio_seconds > 0
    assert_same_build(tmp_path / "data", reference[0])


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with two_node_cluster() as running:
        yield running


def start_cli_build(catalog: Path, data: Path, checkpoint: Path, address: str) -> subprocess.Popen:
    args = ["build", str(catalog), "--data-dir", str(data), "--weights", str(checkpoint), "--device", "cpu"]
    return subprocess.Popen(
        [sys.executable, "-m", "indexer.commands.main", *args, "--quiet", "--engine", "ray", "--ray-address", address],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(data: Path, proc: subprocess.Popen, at_least: int, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while indexed_count(data) < at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the build made no progress"
        time.sleep(0.05)


def finish_build(catalog: Path, data: Path, checkpoint: Path, address: str) -> None:
    """Run the build again to its end (what a user does after a crash)."""
    rerun = start_cli_build(catalog, data, checkpoint, address)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err


# On the cluster, the metadata lives in PostgreSQL, as a catalog that outgrows one machine keeps it.
on_postgresql = pytest.mark.parametrize("cli_database", ["postgresql"], indirect=True)


@on_postgresql
def test_two_node_cluster_survives_a_killed_worker(
    catalog, mule_checkpoint, reference, cluster, cli_database, tmp_path
):
    data = tmp_path / "data"
    proc = start_cli_build(catalog, data, mule_checkpoint, cluster.address)
    wait_for(data, proc, 1)
    workers = cluster.processes(b"EmbedActor")  # the workers holding the model, this cluster's only
    assert workers, "no embedding worker found"
    os.kill(workers[0], signal.SIGKILL)
    proc.communicate(timeout=300)
    if proc.returncode != 0:  # Ray gave up on the block: the next build finishes it
        finish_build(catalog, data, mule_checkpoint, cluster.address)
    assert_same_build(data, reference[0])


@on_postgresql
def test_a_killed_driver_resumes_to_the_same_result(
    catalog, mule_checkpoint, reference, cluster, cli_database, tmp_path
):
    data = tmp_path / "data"
    proc = start_cli_build(catalog, data, mule_checkpoint, cluster.address)
    wait_for(data, proc, 2)
    proc.kill()
    proc.wait()
    assert indexed_count(data) >= 2  # committed tracks survive the driver
    finish_build(catalog, data, mule_checkpoint, cluster.address)
    assert_same_build(data, reference[0])


def test_ray_address_without_the_ray_engine_is_bad_usage(tmp_path, capsys):
    from indexer.commands.main import main

    assert main(["build", str(tmp_path), "--data-dir", str(tmp_path / "d"), "--ray-address", "auto"]) == 2
    assert "--ray-address needs --engine ray" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
