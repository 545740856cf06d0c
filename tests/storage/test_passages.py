"""Matched passages: planted regions are found, and the edges (short tracks, one slice) are defined."""

from __future__ import annotations

import json

import numpy as np
import pytest

from storage.core.passages import Timeline, best_passage, describe
from tests.audio_files import melody, write_audio

SR = 44100


def timeline(n: int, seed: int, hop: float = 2.0, duration: float | None = None) -> Timeline:
    vectors = np.random.default_rng(seed).standard_normal((n, 16)).astype(np.float32)
    return Timeline(vectors, np.arange(n) * hop, duration if duration is not None else n * hop)


def test_a_planted_run_of_slices_is_the_best_pair():
    query, other = timeline(40, 1), timeline(50, 2)
    other.vectors[20:35] = query.vectors[5:20] + 0.1  # query 10-40 s is other 40-70 s
    passage = best_passage(query, other)
    assert (passage.query_start, passage.query_end, passage.start, passage.end) == (10.0, 40.0, 40.0, 70.0)
    assert (
        passage.score > 0.99 and len(passage.strip) == 50 and max(passage.strip) == pytest.approx(passage.score, 0.01)
    )
    assert describe(passage) == "0:40–1:10 here ↔ 0:10–0:40 in the query"


def test_edges_short_tracks_one_slice_and_partial_last_slice():
    short, long = timeline(4, 3, duration=7.3), timeline(40, 4)
    long.vectors[10:14] = short.vectors
    passage = best_passage(short, long)  # shorter than a passage: the whole short track
    assert (passage.query_start, passage.query_end) == (0.0, 7.3) and (passage.start, passage.end) == (20.0, 28.0)
    one = Timeline(long.vectors[[25]], np.zeros(1), 1.5)
    passage = best_passage(one, long)
    assert (passage.query_start, passage.query_end, passage.start, passage.end) == (0.0, 1.5, 50.0, 52.0)
    assert best_passage(long, one).end == 1.5  # clipped to the duration


def test_planted_passage_through_build_and_query(tmp_path, capsys):
    """20 s of track X copied into Y at another offset, another gain and another format: the matched
    passage holds it within 2 s on both sides, with the offset between the sides kept."""
    from indexer.build import BuildOptions, build_catalog
    from indexer.commands.lookup import main as query
    from storage.read.catalog import Catalog
    from tests.fake_embedder import FakeEmbedder

    x = melody(50.0, seed=1, sr=SR)
    y = melody(60.0, seed=2, sr=SR)
    y[31 * SR : 51 * SR] = 0.6 * x[12 * SR : 32 * SR]  # X 12-32 s is Y 31-51 s
    root = tmp_path / "music"
    write_audio(root / "x.flac", 0, mono=x, stereo=False)
    write_audio(root / "y.mp3", 0, mono=y, stereo=False)
    write_audio(root / "z.wav", 0, mono=melody(45.0, seed=3, sr=SR), stereo=False)
    for seed in range(4, 8):
        write_audio(root / f"other{seed}.ogg", 0, mono=melody(40.0, seed=seed, sr=SR), stereo=False)
    options = BuildOptions(workers=1, progress=False)
    assert build_catalog(root, tmp_path / "data", options, FakeEmbedder()).indexed == 7
    catalog = Catalog.open(tmp_path / "data")
    assert query([str(catalog.resolve("x.flac").id), "--json", "--data-dir", str(tmp_path / "data")]) == 0
    found = {n["path"]: n["passage"] for n in json.loads(capsys.readouterr().out)["neighbours"]}
    passage = found["y.mp3"]
    assert passage["query_start"] <= 12 + 2 and passage["query_end"] >= 32 - 2
    assert passage["start"] <= 31 + 2 and passage["end"] >= 51 - 2
    assert abs((passage["start"] - passage["query_start"]) - 19) <= 2
    assert passage["score"] > found["z.wav"]["score"]

    # Search by passage: that region of X finds Y first, at its offset; X itself only when asked.
    data = ["--data-dir", str(tmp_path / "data"), "--json"]
    assert query([str(catalog.resolve("x.flac").id), "--passage", "12:32", *data]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"]["passage"] == {"start": 12.0, "end": 32.0}
    first = out["neighbours"][0]
    assert first["path"] == "y.mp3" and "x.flac" not in [n["path"] for n in out["neighbours"]]
    assert abs(first["passage"]["start"] - 31) <= 2 and abs(first["passage"]["end"] - 51) <= 2
    assert (first["passage"]["query_start"], first["passage"]["query_end"]) == (12.0, 32.0)
    assert first["score"] == first["passage"]["score"] > out["neighbours"][1]["score"]
    assert query(["x.flac", "--passage", "0:12-0:32", "--include-self", "-k", "2", *data]) == 0
    top = json.loads(capsys.readouterr().out)["neighbours"]
    assert [n["path"] for n in top] == ["x.flac", "y.mp3"] and top[0]["passage"]["start"] == 12.0
    assert top[0]["score"] > 0.999


def test_search_by_passage_with_an_outside_file(tmp_path, capsys, monkeypatch):
    from indexer.build import BuildOptions, build_catalog
    from indexer.commands.lookup import main as query
    from tests import fake_embedder

    root = tmp_path / "music"
    x = melody(40.0, seed=11, sr=SR)
    for seed in range(12, 16):
        write_audio(root / f"t{seed}.flac", 0, mono=melody(40.0, seed=seed, sr=SR), stereo=False)
    y = melody(50.0, seed=16, sr=SR)
    y[20 * SR : 40 * SR] = 0.5 * x[4 * SR : 24 * SR]
    write_audio(root / "y.flac", 0, mono=y, stereo=False)
    build_catalog(root, tmp_path / "data", BuildOptions(workers=1, progress=False), fake_embedder.FakeEmbedder())
    write_audio(tmp_path / "upload.wav", 0, mono=x, stereo=False)
    # The build's embedder, loaded the way --audio loads one.
    monkeypatch.setattr("indexer.models.load_embedder", lambda *args, **kwargs: fake_embedder.FakeEmbedder())
    args = ["--audio", str(tmp_path / "upload.wav"), "--passage", "4:24", "--data-dir", str(tmp_path / "data")]
    assert query([*args, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["neighbours"][0]
    assert first["path"] == "y.flac" and abs(first["passage"]["start"] - 20) <= 2
    assert query(args) == 0
    table = capsys.readouterr().out
    assert "passage 0:04–0:24" in table.splitlines()[0] and "0:20–0:40 here ↔ 0:04–0:24 in the query" in table


@pytest.mark.parametrize(
    ("given", "message"),
    [("12", "is not START:END"), ("40:12", "must end after"), ("a:b", "is not START:END")],
)
def test_a_bad_passage_is_bad_usage(given, message, capsys):
    from indexer.commands.lookup import main as query

    with pytest.raises(SystemExit) as exit_:
        query(["1", "--passage", given])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_the_alignment_takes_any_length_and_trims_its_ends():
    """A run of 9 s and one of 60 s are each found whole, with their ends where the likeness stops."""
    query, other = timeline(60, 5), timeline(60, 6)
    other.vectors[40:45] = query.vectors[10:15] + 0.05  # 10 s: query 20-30 s is other 80-90 s
    passage = best_passage(query, other)
    assert (passage.query_start, passage.query_end, passage.start, passage.end) == (20.0, 30.0, 80.0, 90.0)
    assert passage.offset == 60.0 and passage.as_dict()["offset"] == 60.0
    long = timeline(80, 7)
    long.vectors[10:40] = query.vectors[25:55]  # 60 s: query 50-110 s is long 20-80 s
    passage = best_passage(query, long)
    assert (passage.query_start, passage.query_end, passage.start, passage.end) == (50.0, 110.0, 20.0, 80.0)
