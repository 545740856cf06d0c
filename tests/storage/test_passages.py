"""Matched passages: planted regions are found, and the edges (short tracks, one slice) are defined."""

from __future__ import annotations

import json

import numpy as np
import pytest

from storage.passages import Timeline, best_passage, describe
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
    from storage.catalog import Catalog
    from storage.query import main as query
    from tests.fake_embedder import FakeEmbedder

    x = melody(50.0, seed=1, sr=SR)
    y = melody(60.0, seed=2, sr=SR)
    y[31 * SR : 51 * SR] = 0.6 * x[12 * SR : 32 * SR]  # X 12-32 s is Y 31-51 s
    root = tmp_path / "music"
    write_audio(root / "x.flac", 0, mono=x, stereo=False)
    write_audio(root / "y.mp3", 0, mono=y, stereo=False)
    write_audio(root / "z.wav", 0, mono=melody(45.0, seed=3, sr=SR), stereo=False)
    options = BuildOptions(workers=1, progress=False)
    assert build_catalog(root, tmp_path / "data", options, FakeEmbedder()).indexed == 3
    catalog = Catalog.open(tmp_path / "data")
    assert query([str(catalog.resolve("x.flac").id), "--json", "--data-dir", str(tmp_path / "data")]) == 0
    found = {n["path"]: n["passage"] for n in json.loads(capsys.readouterr().out)["neighbours"]}
    passage = found["y.mp3"]
    assert passage["query_start"] <= 12 + 2 and passage["query_end"] >= 32 - 2
    assert passage["start"] <= 31 + 2 and passage["end"] >= 51 - 2
    assert abs((passage["start"] - passage["query_start"]) - 19) <= 2
    assert passage["score"] > found["z.wav"]["score"]
