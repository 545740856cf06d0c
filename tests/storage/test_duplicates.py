"""The same recording twice, on a catalog built by the real indexer (duplicates made by re-encoding):
listed once with "also in", never among the query's own results, and an outside copy is recognised."""

from __future__ import annotations

import json

import pytest

from indexer.commands.lookup import main as query
from storage.recordings.duplicates import Recording, group, same_recording
from tests.audio_files import melody, write_audio

SR = 44100


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    import soundfile as sf

    from indexer.build import BuildOptions, build_catalog
    from tests.fake_embedder import FakeEmbedder

    root = tmp_path_factory.mktemp("dups")
    music = root / "music"
    original = melody(30.0, seed=1, sr=SR)
    write_audio(music / "a.flac", 0, mono=original, stereo=False)
    (music / "copies").mkdir(parents=True)
    sf.write(music / "copies" / "a.mp3", original, SR, format="MP3", compression_level=0.3)  # re-encodes
    sf.write(music / "copies" / "a.ogg", original, SR, format="OGG")
    for i, seconds in enumerate((20.0, 23.0, 26.0, 33.0, 36.0, 39.0), start=2):
        write_audio(music / f"other {i}.ogg", 0, mono=melody(seconds, seed=i, sr=SR), stereo=False)
    build_catalog(music, root / "data", BuildOptions(workers=1, progress=False), FakeEmbedder())
    return root / "data"


def test_a_recording_is_listed_once_with_its_copies(data, capsys):
    assert query(["other 2.ogg", "-k", "8", "--json", "--data-dir", str(data)]) == 0
    rows = json.loads(capsys.readouterr().out)["neighbours"]
    paths = [r["path"] for r in rows]
    copies = {"a.flac", "copies/a.mp3", "copies/a.ogg"}
    listed = [r for r in rows if r["path"] in copies]
    assert len(listed) == 1, paths  # one of the three, the nearest
    assert sorted(p.rsplit("/music/", 1)[1] for p in listed[0]["also_in"]) == sorted(copies - {listed[0]["path"]})
    assert all(r["also_in"] == [] for r in rows if r["path"] not in copies)
    assert len(rows) == 6  # every other recording, though the catalog has 8 files besides the query


def test_a_query_never_finds_its_own_copies(data, capsys):
    for own in ("a.flac", "copies/a.mp3"):
        assert query([own, "-k", "10", "--json", "--data-dir", str(data)]) == 0
        paths = {r["path"] for r in json.loads(capsys.readouterr().out)["neighbours"]}
        assert paths.isdisjoint({"a.flac", "copies/a.mp3", "copies/a.ogg"}) and len(paths) == 6


def test_an_outside_copy_is_recognised(data, tmp_path, capsys, monkeypatch):
    from tests.fake_embedder import FakeEmbedder

    monkeypatch.setattr("indexer.models.load_embedder", lambda *args, **kwargs: FakeEmbedder())
    write_audio(tmp_path / "a again.wav", 0, mono=melody(30.0, seed=1, sr=SR), stereo=False)
    assert query(["--audio", str(tmp_path / "a again.wav"), "--json", "--data-dir", str(data)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(t["path"] for t in out["query"]["in_catalog"]) == ["a.flac", "copies/a.mp3", "copies/a.ogg"]
    assert {r["path"] for r in out["neighbours"]}.isdisjoint({"a.flac", "copies/a.mp3", "copies/a.ogg"})


def test_the_rule_same_file_or_same_fingerprint_copy_and_other_versions():
    from storage.core.tracks import Neighbour, TrackInfo
    from storage.recordings.duplicates import OTHER_VERSION

    assert same_recording(Recording("h", 1, 1), Recording("h", 7, 7))  # the same file
    assert same_recording(Recording(None, 1, 1), Recording("x", 1, 1))  # one fingerprint copy group
    assert not same_recording(Recording(None, 1, 1), Recording(None, 1, 2))  # another master
    assert not same_recording(Recording(), Recording())  # nothing known: never merged
    tracks = [TrackInfo(i, "/m", f"{i}.flac", None, None, None, None, None, None, None, 60.0) for i in range(4)]
    recordings = [Recording(None, 5, 5), Recording(None, 5, 5), Recording(None, 9, 9), Recording(None, 9, 10)]
    grouped = group([Recording(None, 9, 9)], [(Neighbour(t, 0.5), r) for t, r in zip(tracks, recordings, strict=True)])
    assert [n.track.id for n in grouped] == [0, 3] and grouped[0].also_in == ("/m/1.flac",)  # 2 is the query's
    assert grouped[1].relation == OTHER_VERSION and grouped[0].relation is None


def test_tracks_built_before_fingerprints_get_them_at_the_next_build(tmp_path, monkeypatch):
    """A data directory made without fingerprints (before them, or without Chromaprint): the next build
    fingerprints the tracks already indexed, groups the copies, and re-embeds nothing."""
    import soundfile as sf

    import indexer.build as build_module
    import indexer.engine_steps as steps
    from indexer.build import BuildOptions, build_catalog
    from storage.read.catalog import Catalog
    from tests.fake_embedder import FakeEmbedder

    music = tmp_path / "music"
    original = melody(20.0, seed=1, sr=SR)
    write_audio(music / "a.flac", 0, mono=original, stereo=False)
    sf.write(music / "a copy.mp3", original * 0.5, SR, format="MP3")
    write_audio(music / "b.ogg", 0, mono=melody(20.0, seed=2, sr=SR), stereo=False)
    with monkeypatch.context() as patch:
        patch.setattr(steps, "fingerprint", lambda wave, rate: None)
        patch.setattr(build_module, "chromaprint_available", lambda: False)
        build_catalog(music, tmp_path / "data", BuildOptions(workers=1, progress=False), FakeEmbedder())
    catalog = Catalog.open(tmp_path / "data")
    assert catalog.duplicates() == []
    fake = FakeEmbedder()
    report = build_catalog(music, tmp_path / "data", BuildOptions(workers=1, progress=False), fake)
    assert report.indexed == 0 and not fake.embedded
    [entry] = catalog.duplicates()
    assert sorted(t.path for t in entry.tracks) == ["a copy.mp3", "a.flac"] and not entry.versions


def test_indexer_duplicates_lists_the_copies(data, capsys):
    from indexer.commands.main import main as indexer

    assert indexer(["duplicates", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "3 files, copies" in out and "1 recording(s) held by more than one file" in out
    assert "mule: no embedding threshold for other versions" in out  # one copy group: too few pairs to fit one
    assert indexer(["duplicates", "--json", "--data-dir", str(data)]) == 0
    [line] = capsys.readouterr().out.splitlines()
    entry = json.loads(line)
    assert entry["kind"] == "copies" and sorted(t["path"] for t in entry["tracks"]) == sorted(
        ["a.flac", "copies/a.mp3", "copies/a.ogg"]
    )
