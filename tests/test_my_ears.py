"""Teach it your ears, end to end: a simulated listener who hears only a hidden attribute of a generated
catalog (built by the real indexer) answers the triplets the page asks, through the page's own functions; the
learned metric then agrees with them on triplets they were never asked, and finds tracks of the same attribute
more often. A listener answering at random leaves the plain cosine."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from app import teach
from storage.listeners.fitting import agreement
from storage.read.catalog import Catalog
from storage.search.evaluation import evaluate_model
from storage.search.request import SearchRequest
from storage.search.service import SearchService
from tests.learning_catalog import build, listener_by, write_catalog

ANSWERS = 50


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data directory of the generated catalog (80 tracks: 40 airy, 40 dry)."""
    base = tmp_path_factory.mktemp("ears")
    write_catalog(base / "catalog")
    build(base / "catalog", base / "data")
    return base / "data"


def folders(catalog: Catalog) -> dict[int, str]:
    return {t.id: Path(t.path).parent.name for t in catalog.all_tracks()}


def answer_through_page(catalog: Catalog, listener: str, odd_one, rng: np.random.Generator) -> tuple[int, int]:
    """ANSWERS odd-one-out answers the way the page takes them; (asked, can't say)."""
    informative = asked = 0
    while informative < ANSWERS:
        triplet = teach.next_question(catalog, listener, rng)
        assert triplet is not None and asked < 400, "the catalog ran out of questions"
        odd = odd_one(triplet)
        teach.keep_answer(catalog, listener, triplet, odd)
        asked += 1
        informative += odd is not None
    return asked, asked - informative


def unseen_triplets(catalog: Catalog, listener: str, odd_one, count: int = 150) -> np.ndarray:
    """(kept, kept, odd) track ids of triplets as the page draws them (a track and two of its 10 nearest by the
    plain cosine) that the listener was never asked and can answer, a seeded sample of `count`."""
    index, asked = catalog.index(), catalog.asked(listener)
    found = []
    for anchor in np.asarray(index.ids).tolist():
        near, _ = index.search(np.asarray(index.vectors[index.rows(np.array([anchor]))[0]]), 10, exclude=[anchor])
        for b, c in combinations(near.tolist(), 2):
            odd = odd_one((anchor, b, c))
            if odd is not None and frozenset((anchor, b, c)) not in asked:
                found.append((*(t for t in (anchor, b, c) if t != odd), odd))
    chosen = np.random.default_rng(99).choice(len(found), min(count, len(found)), replace=False)
    return np.array(found, np.int64)[chosen]


def agreement_by(catalog: Catalog, triplets: np.ndarray) -> float:
    index = catalog.index()
    rows = index.rows(triplets.ravel()).reshape(triplets.shape)
    return float(agreement(np.asarray(index.vectors[np.arange(len(index.ids))]), rows).mean())


def test_a_listener_who_hears_one_attribute_teaches_it(taught: Path) -> None:
    catalog = Catalog.open(taught)
    attribute = folders(catalog)
    odd_one = listener_by(attribute)
    asked, cant_say = answer_through_page(catalog, "ana", odd_one, np.random.default_rng(0))
    info = teach.relearn(catalog, "ana")
    print(f"asked {asked} ({cant_say} can't say): {info.describe()}")
    assert info.triplets == ANSWERS and info.learned
    assert info.agreement_before < 0.6  # the page asks what the cosine is unsure about: about chance
    assert info.agreement_after >= 0.8  # held out within the answers (nested cross-validation)

    mine = catalog.with_metric("ana")
    unseen = unseen_triplets(catalog, "ana", odd_one)
    before, after = agreement_by(catalog, unseen), agreement_by(mine, unseen)
    print(f"unseen triplets: plain cosine {before:.2f}, learned {after:.2f}")
    assert before < 0.6 and after >= 0.8

    plain = evaluate_model(catalog, attribute, {}, k=10)
    learned = evaluate_model(mine, attribute, {}, k=10)
    print(f"precision@10 by the attribute: plain {plain.precision_at_k:.2f}, learned {learned.precision_at_k:.2f}")
    assert learned.metric == "mine" and learned.precision_at_k >= plain.precision_at_k + 0.1

    # The search service says whose ears answered, and on how many answers.
    found = SearchService(mine).by_track(next(iter(attribute)), SearchRequest(5))
    assert f"by ana's ears ({ANSWERS} answers)" in found.steps


def test_a_listener_answering_at_random_keeps_the_plain_cosine(taught: Path) -> None:
    catalog = Catalog.open(taught)
    rng = np.random.default_rng(1)
    answer_through_page(catalog, "random", lambda triplet: int(rng.choice(triplet)), np.random.default_rng(2))
    info = teach.relearn(catalog, "random")
    assert info.triplets == ANSWERS and not info.learned and info.rank == 0
    assert abs(info.agreement_after - info.agreement_before) < 1e-9
    mine = catalog.with_metric("random")
    service, theirs = SearchService(catalog), SearchService(mine)
    for track in list(folders(catalog))[:5]:
        plain = [n.track.id for n in service.by_track(track, SearchRequest(10)).neighbours]
        assert [n.track.id for n in theirs.by_track(track, SearchRequest(10)).neighbours] == plain


@pytest.fixture
def own_copy(taught: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(catalog folder, data directory): a private copy of the taught catalog, "ana" having answered 50."""
    from tests.app.conftest import copy_catalog

    catalog_dir, data = copy_catalog((taught.parent / "catalog", taught), tmp_path)
    catalog = Catalog.open(data)
    if not catalog.answers("ana"):
        answer_through_page(catalog, "ana", listener_by(folders(catalog)), np.random.default_rng(0))
    return catalog_dir, data


def run(main, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_learn_query_and_evaluate_from_the_command_line(own_copy, capsys, monkeypatch) -> None:
    import json

    from indexer.commands.lookup import main as query
    from indexer.commands.main import main as indexer
    from storage.listeners.metrics import latest

    _, data = own_copy
    code, out, _ = run(indexer, ["learn", "--data-dir", str(data), "--listener", "ana"], capsys)
    version = latest(data, "mule", "ana").info.version  # type: ignore[union-attr]
    assert code == 0 and f"ana's ears for mule (version {version}): 50 odd-one-out answer(s)" in out
    assert "held-out agreement 0." in out and "(learned); stretched" in out and "index of 80 track(s)" in out
    code, out, _ = run(indexer, ["learn", "--data-dir", str(data), "--json"], capsys)
    again = {row["listener"]: row for row in map(json.loads, out.splitlines())}  # everyone who answered
    assert code == 0 and again["ana"]["version"] == version + 1 and again["ana"]["rank"] >= 1

    track = str(Catalog.open(data).all_tracks()[0].id)
    monkeypatch.setenv("SOUNDALIKE_LISTENER", "ana")  # whose ears, when --listener is not given
    code, out, _ = run(query, [track, "--data-dir", str(data), "--metric", "mine", "--json"], capsys)
    found = json.loads(out)
    assert code == 0 and found["metric"]["name"] == "mine" and found["metric"]["listener"] == "ana"
    assert any(step.startswith("by ana's ears") for step in found["steps"])
    code, out, _ = run(query, [track, "--data-dir", str(data), "--metric", "mine"], capsys)
    assert code == 0 and "by ana's ears" in out.splitlines()[0]

    args = ["evaluate", "--data-dir", str(data), "--metric", "mine", "--listener", "ana", "--json", "--quiet"]
    code, out, _ = run(indexer, args, capsys)
    rows = {r["metric"]: r for r in json.loads(out)["results"] if r["rerank"] is None}
    assert code == 0 and rows["mine"]["precision_at_k"] > rows["cosine"]["precision_at_k"]

    code, out, _ = run(indexer, ["status", "--data-dir", str(data)], capsys)
    assert code == 0 and f"learned: ana's ears, version {version + 1}, 50 answer(s), held-out agreement 0." in out

    code, _, err = run(query, [track, "--data-dir", str(data), "--metric", "mine", "--listener", "bo"], capsys)
    assert code == 2 and err.count("\n") == 1 and "no learned metric of bo for mule" in err
    code, _, err = run(indexer, ["learn", "--data-dir", str(data), "--listener", "bo"], capsys)
    assert code == 2 and "no answers of bo" in err


def test_the_learned_index_follows_rebuilds_and_forget(own_copy) -> None:
    from indexer.build import BuildOptions, build_catalog
    from storage.listeners.metrics import latest
    from storage.write.store import Store
    from tests.audio_files import melody, write_audio
    from tests.fake_embedder import FakeEmbedder

    catalog_dir, data = own_copy
    teach.relearn(Catalog.open(data), "ana")
    write_audio(catalog_dir / "dry" / "new.flac", 0, sr=16000, stereo=False, mono=melody(4.0, seed=7, sr=16000))
    build_catalog(catalog_dir, data, BuildOptions(workers=1, progress=False), FakeEmbedder())
    catalog = Catalog.open(data)
    mine = catalog.with_metric("ana")
    assert mine.index().meta.count == catalog.index().meta.count == 81
    assert mine.stale_by(mine.index()) == 0  # made again with the model's index: searching needs no --allow-stale
    new = catalog.resolve("dry/new.flac").id
    assert SearchService(mine).by_track(new, SearchRequest(5)).neighbours
    assert len(catalog.answers("ana")) > 50  # a rebuild keeps the answers

    store = Store(data)
    gone = store.forget_folder(store.folders()[0])
    assert gone.answers and not Catalog.open(data).answers("ana")  # every answer was about them
    metric = latest(data, "mule", "ana")
    assert metric is not None and metric.info.learned  # the fitted metric is the listener's: kept
    assert not (metric.index_dir / "CURRENT").exists()  # its index went with the vectors it was made of


def test_the_api_answers_by_a_listeners_ears(own_copy, monkeypatch) -> None:
    from urllib.parse import unquote

    from fastapi.testclient import TestClient

    from app.api import api
    from app.media import catalog_for

    _, data = own_copy
    teach.relearn(Catalog.open(data), "ana")
    monkeypatch.setenv("SOUNDALIKE_DATA", str(data))
    monkeypatch.setenv("SOUNDALIKE_API_KEY", "key")
    monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    catalog_for.cache_clear()
    client = TestClient(api, headers={"X-API-Key": "key"})
    catalog = Catalog.open(data)
    track = catalog.all_tracks()[0].id
    reply = client.get("/v1/similar", params={"ids": track, "k": 5, "metric": "mine", "listener": "ana"})
    assert reply.status_code == 200 and "by ana's ears (50 answers)" in unquote(reply.headers["Soundalike-Steps"])
    expected = SearchService(catalog.with_metric("ana")).by_track(track, SearchRequest(5)).neighbours
    assert [n["track"]["id"] for n in reply.json()] == [n.track.id for n in expected]
    radio: dict[str, str | int] = {"seeds": track, "count": 5, "metric": "mine", "listener": "ana"}
    assert client.get("/v1/radio", params=radio).status_code == 200
    missing = client.get("/v1/similar", params={"ids": track, "metric": "mine", "listener": "bo"})
    assert missing.status_code == 400 and "no learned metric of bo" in missing.json()["detail"]
