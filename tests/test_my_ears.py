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
from storage.catalog import Catalog
from storage.evaluate import evaluate_model
from storage.learning import agreement
from storage.search import SearchRequest, SearchService
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
    assert f"by ana's ears ({ANSWERS + cant_say} answers)" in found.steps or any("ana's ears" in s for s in found.steps)


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
