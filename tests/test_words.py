"""Search by words on a catalog built by the real indexer with a random-weight CLAP: descriptions, moments and
steering through the CLI (behaviour, not quality: random weights know no words)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.build import BuildOptions, build_catalog
from indexer.commands.lookup import main as query
from indexer.models.clap.testing import write_random_clap
from storage.read.catalog import Catalog
from storage.search.request import SearchRequest, Steering, steer
from storage.search.service import SearchService
from tests.audio_files import write_audio


@pytest.fixture(scope="module")
def clap_data(tmp_path_factory):
    """(data dir, weights, music folder): 8 tracks of 4-25 s by two artists, indexed with CLAP and MULE."""
    root = tmp_path_factory.mktemp("words")
    weights = write_random_clap(root / "clap", "small", seed=4)
    for i in range(8):
        write_audio(root / "music" / f"a{i % 2}" / f"t{i}.flac", 4.0 + 3 * i, seed=80 + i)
    tags = {"tags_top": "3", "tags_min": "0"}  # random weights score every tag alike: keep the top 3 anyway
    options = BuildOptions(model="clap", weights=str(weights), workers=1, progress=False, model_options=tags)
    assert build_catalog(root / "music", root / "data", options).indexed == 8
    return root / "data", weights, root / "music"


def run_json(capsys, *args: str) -> dict:
    assert query([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_description_finds_tracks_with_closeness_of_its_own(clap_data, capsys):
    data = clap_data[0]
    out = run_json(capsys, "--text", "calm piano with rain", "-k", "5", "--data-dir", str(data))
    assert out["model"] == "clap" and out["query"] == {"text": "calm piano with rain", "moments": False}
    assert out["steps"] == ["described: calm piano with rain"]
    scores = [n["score"] for n in out["neighbours"]]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)
    closeness = [n["closeness"] for n in out["neighbours"]]
    assert closeness == sorted(closeness, reverse=True) and closeness[0] == pytest.approx(7 / 8 * 100)
    catalog = Catalog.open(data, "clap")
    vectors = {n["id"]: catalog.vector(n["id"]) for n in out["neighbours"]}
    from indexer.query_text import text_query

    text = text_query(catalog, "calm piano with rain")
    for n in out["neighbours"]:  # the score is the cosine between the description and the track
        v = vectors[n["id"]]
        assert n["score"] == pytest.approx(float(v @ text.vector / np.linalg.norm(v)), abs=1e-5)


def test_moments_are_passages_of_the_tracks(clap_data, capsys):
    data = clap_data[0]
    out = run_json(capsys, "--text", "a choir comes in", "--passages", "--data-dir", str(data))
    assert out["query"]["moments"] is True and len(out["neighbours"]) == 8
    for n in out["neighbours"]:
        moment = n["passage"]
        assert moment["moment"] is True and 0 <= moment["start"] < moment["end"] <= n["duration"] + 1e-6
        assert moment["end"] - moment["start"] <= 40.0
    assert query(["--text", "a choir", "--passages", "-k", "2", "--data-dir", str(data)]) == 0
    assert "fits the words" in capsys.readouterr().out


def test_steering_moves_the_query_and_says_so(clap_data, capsys):
    data = clap_data[0]
    plain = run_json(capsys, "a0/t0.flac", "-k", "7", "--data-dir", str(data), "--model", "clap")
    steered = run_json(capsys, "a0/t0.flac", "-k", "7", "--more", "vocals", "--less", "drums", "--data-dir", str(data))
    assert steered["steps"] == ["steered: more vocals, less drums"] and plain["steps"] == []
    catalog = Catalog.open(data, "clap")
    from indexer.query_text import steering

    words = steering(catalog, ["vocals"], ["drums"])
    moved = steer(catalog.vector(1), words)
    for n in steered["neighbours"]:  # scores are cosines to the moved query
        v = catalog.vector(n["id"])
        assert n["score"] == pytest.approx(float(v @ moved / np.linalg.norm(v)), abs=1e-5)
    far = SearchService(catalog).by_track(
        1, SearchRequest(k=7, steering=Steering(("x",), (), words.more_vectors, weight=4.0))
    )
    assert [n.score for n in far.neighbours] != [n["score"] for n in plain["neighbours"]]
    assert query(["a0/t0.flac", "--more", "vocals", "--data-dir", str(data)]) == 0
    assert "(steered: more vocals)" in capsys.readouterr().out


def test_word_errors_are_one_line(clap_data, capsys, tmp_path, mule_checkpoint):
    data, weights, music = clap_data
    cases = [
        (["--text", "   "], "needs some words"),
        (["--text", "piano", "--more", "drums"], "put the words in the text"),
        (["--passages", "a0/t0.flac"], "--passages goes with --text"),
        (["a0/t0.flac", "--steer-weight", "2"], "--steer-weight goes with --more or --less"),
        (["a0/t0.flac", "--more", "x", "--steer-weight", "9"], "at most 4"),
        (["--text", "piano", "--model", "mule"], "does not understand words"),
    ]
    for args, message in cases:
        assert query([*args, "--data-dir", str(data)]) == 2, args
        assert message in capsys.readouterr().err
    music_options = {"variant": "music"}
    options = BuildOptions(model="clap", weights=str(weights), workers=1, progress=False, model_options=music_options)
    build_catalog(music, tmp_path / "music-data", options)
    assert query(["--text", "piano", "--data-dir", str(tmp_path / "music-data")]) != 0
    err = capsys.readouterr().err
    assert "collapsed" in err and err.count("\n") == 1
    options = BuildOptions(model="mule", weights=str(mule_checkpoint), workers=1, progress=False)
    build_catalog(music / "a0", tmp_path / "mule-data", options)
    assert query(["--text", "piano", "--data-dir", str(tmp_path / "mule-data")]) == 2
    err = capsys.readouterr().err
    assert "no model in" in err and "indexer build FOLDER --model clap" in err and err.count("\n") == 1


@pytest.fixture
def api_client(clap_data, monkeypatch):
    from fastapi.testclient import TestClient

    from app.api import api
    from app.media import catalog_for

    monkeypatch.setenv("SOUNDALIKE_DATA", str(clap_data[0]))
    monkeypatch.setenv("SOUNDALIKE_API_KEY", "k")
    monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    catalog_for.cache_clear()
    yield TestClient(api, headers={"X-API-Key": "k"})
    catalog_for.cache_clear()


def test_the_api_answers_words_as_the_cli(api_client, clap_data, capsys):
    data = clap_data[0]
    got = api_client.get("/v1/similar", params={"text": "calm piano with rain", "k": 4})
    assert got.status_code == 200, got.text
    assert got.headers["Soundalike-Steps"] == "described: calm piano with rain"
    cli = run_json(capsys, "--text", "calm piano with rain", "-k", "4", "--data-dir", str(data))
    assert [n["track"]["id"] for n in got.json()] == [n["id"] for n in cli["neighbours"]]
    assert [n["closeness"] for n in got.json()] == pytest.approx([n["closeness"] for n in cli["neighbours"]], abs=0.01)

    moments = api_client.get("/v1/similar", params={"text": "a choir", "moments": "true", "k": 3}).json()
    assert len(moments) == 3 and all(n["passage"]["moment"] and n["passage"]["query_start"] is None for n in moments)

    steered = api_client.get("/v1/similar", params={"ids": "1", "more": ["vocals", "strings"], "less": "drums"})
    assert steered.status_code == 200 and steered.headers["Soundalike-Steps"] == (
        "steered: more vocals, more strings, less drums"
    )
    cli = run_json(
        capsys, "a0/t0.flac", "--more", "vocals", "--more", "strings", "--less", "drums", "--data-dir", str(data)
    )
    assert [n["track"]["id"] for n in steered.json()] == [n["id"] for n in cli["neighbours"]]

    catalog = Catalog.open(data, "clap")  # the tags filter a description's results as they do a track's
    counts = dict(catalog.style_counts())
    rare = min(counts, key=lambda tag: (counts[tag], tag))
    tagged = api_client.get("/v1/similar", params={"text": "piano", "style": rare, "model": "clap"})
    assert tagged.status_code == 200
    assert {n["track"]["id"] for n in tagged.json()} == catalog.tracks_with_styles([rare])


def test_the_api_says_what_is_wrong_with_words(api_client):
    for params, status, message in [
        ({"text": "piano", "ids": "1"}, 422, "one of the two"),
        ({}, 422, "one of the two"),
        ({"text": "piano", "more": "drums"}, 422, "put the words in the text"),
        ({"ids": "1", "moments": "true"}, 422, "moments goes with text"),
        ({"text": "piano", "model": "mule"}, 404, "no mule vectors"),
        ({"ids": "1", "more": "x", "steer_weight": "5"}, 422, "steer_weight"),
    ]:
        got = api_client.get("/v1/similar", params=params)
        assert got.status_code == status and message in got.json()["detail"], (params, got.text)


def test_tags_kept_shown_filtered(clap_data, capsys):
    from indexer.models.clap.tags import read_vocabulary

    data = clap_data[0]
    catalog = Catalog.open(data, "clap")
    vocabulary = set(read_vocabulary().tags)
    counts = dict(catalog.style_counts())
    assert sum(counts.values()) == 8 * 3 and set(counts) <= vocabulary
    out = run_json(capsys, "a0/t0.flac", "-k", "7", "--data-dir", str(data), "--model", "clap")
    assert len(out["query"]["styles"]) == 3 and all(len(n["styles"]) == 3 for n in out["neighbours"])
    rare = min(counts, key=lambda tag: (counts[tag], tag))
    kept = run_json(capsys, "a0/t0.flac", "--tag", rare, "-k", "7", "--data-dir", str(data), "--model", "clap")
    tagged = catalog.tracks_with_styles([rare]) - {catalog.resolve("a0/t0.flac").id}
    assert {n["id"] for n in kept["neighbours"]} == tagged
    described = run_json(capsys, "--text", "piano", "--tag", rare, "--data-dir", str(data))
    assert {n["id"] for n in described["neighbours"]} == catalog.tracks_with_styles([rare])


def test_a_vocabulary_of_ones_own(clap_data, tmp_path, capsys):
    from indexer.commands.main import main as indexer

    _, weights, music = clap_data
    mine = tmp_path / "mine.txt"
    mine.write_text(
        "# my words\nmood | sunny | sunny music\nmood | rainy | rainy music\nplace | beach | music for the beach\n"
    )
    data = tmp_path / "data"
    args = ["build", str(music / "a1"), "--model", "clap", "--weights", str(weights), "--data-dir", str(data), "-q"]
    assert indexer([*args, "--tags-file", str(mine), "--tags-min", "0", "--tags-top", "2"]) == 0
    counts = dict(Catalog.open(data, "clap").style_counts())
    assert set(counts) <= {"sunny", "rainy", "beach"} and sum(counts.values()) == 4 * 2
    assert "beach" in counts  # its category alone: probability 1
    bad = tmp_path / "bad.txt"
    bad.write_text("mood | sunny\n")
    capsys.readouterr()
    other = tmp_path / "other"
    code = indexer(
        [
            "build",
            str(music / "a1"),
            "--model",
            "clap",
            "--weights",
            str(weights),
            "--data-dir",
            str(other),
            "-q",
            "--tags-file",
            str(bad),
        ]
    )
    err = capsys.readouterr().err
    assert code != 0 and "bad.txt:1: expected 'category | tag | prompt'" in err and err.count("\n") == 1


def test_an_uploaded_file_steered_by_words(api_client, clap_data):
    from indexer.query_audio import catalog_embedder, embed_file
    from indexer.query_text import steering

    music = clap_data[2]
    upload = music / "a1" / "t3.flac"
    with upload.open("rb") as f:
        got = api_client.post("/v1/similar/audio", params={"more": "vocals", "k": 5}, files={"file": ("t3.flac", f)})
    assert got.status_code == 200, got.text
    catalog = Catalog.open(clap_data[0], "clap")
    moved = steer(embed_file(upload, catalog_embedder(catalog)).vector, steering(catalog, ["vocals"]))
    for n in got.json()["neighbours"]:
        v = catalog.vector(n["track"]["id"])
        assert n["score"] == pytest.approx(float(v @ moved / np.linalg.norm(v)), abs=1e-5)


def test_search_by_passage_works_on_clap_windows(clap_data, capsys):
    data = clap_data[0]
    out = run_json(capsys, "a1/t7.flac", "--passage", "10:20", "--model", "clap", "-k", "3", "--data-dir", str(data))
    assert len(out["neighbours"]) == 3
    for n in out["neighbours"]:
        passage = n["passage"]  # windows of t7 (25 s) start at 0, 10 and 15: the region holds the last two
        assert passage["query_start"] in (10.0, 15.0) and passage["end"] <= n["duration"] + 1e-6
