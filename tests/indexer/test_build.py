"""`indexer build`: every format, hostile folders, incremental runs, failures, status."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from indexer import local_engine as build_module
from indexer import plan as plan_module
from indexer.build import BuildOptions, build_catalog
from indexer.commands.main import main as indexer_main
from indexer.errors import IndexerError
from storage.db.schema import Embedding, Failure, Track
from storage.read.catalog import Catalog
from tests.audio_files import ALL_FORMATS, tag, write_audio
from tests.fake_embedder import FakeEmbedder

OPTIONS = BuildOptions(workers=2, progress=False, timeout=60)
pytestmark = pytest.mark.usefixtures("cli_database")  # SQLite, then PostgreSQL


def make_catalog(root: Path, n: int = 4, seconds: float = 5.0) -> Path:
    for i in range(n):
        write_audio(root / f"artist{i % 2}" / f"song {i}.flac", seconds + i, seed=i)
    return root


def stored(data_dir: Path, model: str = "mule") -> dict[str, tuple[int, str, np.ndarray | None]]:
    """path -> (track id, state for `model`, vector) as the database holds them."""
    catalog = Catalog.open(data_dir)
    with catalog.sessions() as s:
        rows = s.execute(select(Embedding.track_id, Embedding.vector).where(Embedding.model == model))
        vectors = {i: np.frombuffer(v, dtype="<f4") for i, v in rows}
        failed = set(s.execute(select(Failure.track_id).where(Failure.model == model)).scalars())
        tracks = s.execute(select(Track.id, Track.path)).all()
    state = {i: "indexed" if i in vectors else "failed" if i in failed else "pending" for i, _ in tracks}
    return {path: (i, state[i], vectors.get(i)) for i, path in tracks}


def index_ids(data_dir: Path) -> list[int]:
    return sorted(Catalog.open(data_dir).index().ids.tolist())


def test_every_format_is_indexed_with_tags(tmp_path):
    root = tmp_path / "catalog"
    for i, ext in enumerate(ALL_FORMATS):
        path = write_audio(root / f"dir {i}" / f"piste é {i}{ext}", 3.0 + i, seed=i)
        if ext not in (".wav", ".aiff"):  # mutagen's easy interface has no tags for these; name fallback
            tag(
                path,
                title=f"Title {i}",
                artist="Ann",
                album="First",
                tracknumber=f"{i + 1}/9",
                date="2001-05-06",
                genre="Jazz",
                albumartist="Various",
            )
    (root / "cover.jpg").write_bytes(b"\xff\xd8\xff not really")
    (root / "readme.txt").write_text("not audio")
    report = build_catalog(root, tmp_path / "data", OPTIONS, FakeEmbedder())
    assert report.indexed == len(ALL_FORMATS) and report.failed == [] and report.ignored == 2
    catalog = Catalog.open(tmp_path / "data")
    tracks = {t.path: t for t in catalog.search_tracks("")}
    assert len(tracks) == len(ALL_FORMATS)
    flac = tracks["dir 1/piste é 1.flac"]
    assert (flac.title, flac.artist, flac.album, flac.album_artist, flac.year, flac.genre, flac.track_number) == (
        "Title 1",
        "Ann",
        "First",
        "Various",
        2001,
        "Jazz",
        2,
    )
    assert flac.duration == pytest.approx(4.0, abs=0.01)
    assert tracks["dir 0/piste é 0.wav"].title == "piste é 0"
    assert tracks["dir 5/piste é 5.m4a"].duration == pytest.approx(8.0, abs=0.1)
    assert index_ids(tmp_path / "data") == sorted(t.id for t in tracks.values())


def test_hostile_folder(tmp_path, monkeypatch):
    root = make_catalog(tmp_path / "catalog", n=3)
    (root / "zero.wav").write_bytes(b"")
    good_flac = (root / "artist0" / "song 0.flac").read_bytes()
    (root / "truncated.flac").write_bytes(good_flac[:200])
    mp3 = write_audio(tmp_path / "x.mp3", 4.0).read_bytes()
    (root / "truncated.mp3").write_bytes(mp3[:150])
    (root / "text.mp3").write_text("this is not an mp3 file at all\n" * 20)
    (root / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt \xff\xff\xff\xff" + os.urandom(2000))
    (root / "folder.flac").mkdir()
    write_audio(root / "folder.flac" / "inside.wav", 3.0, seed=9)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "dangling.mp3").symlink_to(root / "missing.mp3")
    write_audio(root / "unreadable.ogg", 3.0, seed=8)
    real_hash = plan_module.content_hash

    def refuse(path: Path) -> str:  # root can read anything: simulate the permission error
        if path.name == "unreadable.ogg":
            raise PermissionError(13, "Permission denied")
        return real_hash(path)

    monkeypatch.setattr(plan_module, "content_hash", refuse)
    report = build_catalog(root, tmp_path / "data", OPTIONS, FakeEmbedder())
    failed = dict(report.failed)
    assert set(failed) == {"zero.wav", "truncated.flac", "truncated.mp3", "text.mp3", "corrupt.wav", "unreadable.ogg"}
    assert "Permission denied" in failed["unreadable.ogg"]
    assert all(reason and "\n" not in reason for reason in failed.values())
    assert report.indexed == 4  # three songs and the file inside folder.flac/, each once despite the loop
    states = stored(tmp_path / "data")
    assert {p for p, (_, s, _) in states.items() if s == "indexed"} == {
        "artist0/song 0.flac",
        "artist1/song 1.flac",
        "artist0/song 2.flac",
        "folder.flac/inside.wav",
    }
    # Unchanged broken files are not retried; the second run does nothing at all.
    again = build_catalog(root, tmp_path / "data", OPTIONS, FakeEmbedder())
    assert again.indexed == 0 and again.still_failed == 6 and again.unchanged == 4


REAL_LOAD_TRACK = build_module.load_track


def flaky_load_track(path: str, rate: int):  # runs in a worker process
    if path.endswith("hangs.wav"):
        time.sleep(60)
    if path.endswith("crashes.wav"):
        os._exit(3)
    return REAL_LOAD_TRACK(path, rate)


def test_decoder_hang_and_crash_are_recorded(tmp_path, monkeypatch):
    root = make_catalog(tmp_path / "catalog", n=2)
    write_audio(root / "hangs.wav", 3.0)
    write_audio(root / "crashes.wav", 3.0)
    monkeypatch.setattr(build_module, "load_track", flaky_load_track)
    options = BuildOptions(workers=2, progress=False, timeout=3)
    report = build_catalog(root, tmp_path / "data", options, FakeEmbedder())
    failed = dict(report.failed)
    assert failed["hangs.wav"] == "decoder timed out after 3 s"
    assert failed["crashes.wav"].startswith("decoder crashed")
    assert report.indexed == 2


def test_incremental_add_modify_delete_move(tmp_path):
    root = make_catalog(tmp_path / "catalog", n=4)
    data = tmp_path / "data"
    fake = FakeEmbedder()
    build_catalog(root, data, OPTIONS, fake)
    before = stored(data)
    assert fake.embedded and len(fake.embedded) == 4

    second = FakeEmbedder()
    report = build_catalog(root, data, OPTIONS, second)
    assert second.embedded == [] and report.unchanged == 4 and report.index is None

    write_audio(root / "new" / "added.flac", 6.0, seed=20)  # add
    write_audio(root / "artist0" / "song 0.flac", 9.0, seed=21)  # modify (new content)
    (root / "artist1" / "song 1.flac").unlink()  # delete
    (root / "moved").mkdir()
    shutil.move(root / "artist0" / "song 2.flac", root / "moved" / "renamed.flac")  # move
    os.utime(root / "artist1" / "song 3.flac", (1, 1))  # touched, same content
    third = FakeEmbedder()
    report = build_catalog(root, data, OPTIONS, third)
    after = stored(data)
    assert (report.indexed, report.moved, report.removed, report.unchanged) == (2, 1, 1, 2)
    assert set(after) == {"artist0/song 0.flac", "artist1/song 3.flac", "moved/renamed.flac", "new/added.flac"}
    assert after["moved/renamed.flac"][0] == before["artist0/song 2.flac"][0]
    np.testing.assert_array_equal(after["moved/renamed.flac"][2], before["artist0/song 2.flac"][2])
    assert after["artist0/song 0.flac"][0] == before["artist0/song 0.flac"][0]
    assert not np.array_equal(after["artist0/song 0.flac"][2], before["artist0/song 0.flac"][2])
    assert len(third.embedded) == 2
    assert index_ids(data) == sorted(v[0] for v in after.values())
    gone = before["artist1/song 1.flac"][0]
    assert gone not in index_ids(data)


def test_other_weights_need_rebuild(tmp_path):
    root = make_catalog(tmp_path / "catalog", n=2)
    data = tmp_path / "data"
    build_catalog(root, data, OPTIONS, FakeEmbedder("rev-a"))
    write_audio(root / "more.flac", 3.0, seed=5)
    with pytest.raises(IndexerError, match="--rebuild"):
        build_catalog(root, data, OPTIONS, FakeEmbedder("rev-b"))
    rebuilt = FakeEmbedder("rev-b")
    options = BuildOptions(workers=2, progress=False, rebuild=True)
    report = build_catalog(root, data, options, rebuilt)
    assert report.indexed == 3 and len(rebuilt.embedded) == 3
    assert Catalog.open(data).index().meta.revision == "rev-b"


def test_cli_build_and_status(tmp_path, capsys, monkeypatch):
    root = make_catalog(tmp_path / "catalog", n=3)
    (root / "broken.mp3").write_text("nope")
    import indexer.models

    monkeypatch.setattr(indexer.models, "load_embedder", lambda *args, **kwargs: FakeEmbedder())
    data = tmp_path / "data"
    assert indexer_main(["build", str(root), "--data-dir", str(data), "--quiet", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "indexed 3" in out and "failed 1" in out and "broken.mp3" in out
    assert indexer_main(["status", "--data-dir", str(data)]) == 0
    status = capsys.readouterr().out
    assert "model mule: 3 indexed, 1 failed" in status and f"{root.resolve()}: 4 track(s)" in status
    assert "weights revision fake-rev" in status
    assert "exact-fp16, shards=1, 3 vectors x 32" in status and "up to date" in status
    assert "broken.mp3:" in status
    assert indexer_main(["build", str(tmp_path / "nowhere"), "--data-dir", str(data)]) == 2
    assert "does not exist" in capsys.readouterr().err
