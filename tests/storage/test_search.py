"""Search results against brute force, approximate recall, add/remove/rebuild, readers during rebuilds."""

from __future__ import annotations

import numpy as np
import pytest

from storage.core.errors import StaleIndexError
from storage.index.vectors import VectorIndex, normalise, write_index
from storage.read.catalog import Catalog
from storage.search.service import SearchService
from storage.write import sync
from tests.search_helpers import similar
from tests.storage.conftest import clustered_vectors, fill_store


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int, exclude: set[int]) -> tuple[list[int], np.ndarray]:
    v = normalise(vectors).astype(np.float64)
    scores = v @ normalise(query).astype(np.float64)
    order = [i for i in np.argsort(-scores, kind="stable") if (i + 1) not in exclude][:k]
    return [i + 1 for i in order], scores[order]


@pytest.mark.parametrize("shards", [1, 2])
def test_exact_search_equals_numpy_brute_force(tmp_path, backend, shards, monkeypatch):
    import storage.index.vectors

    monkeypatch.setattr(storage.index.vectors, "SHARD_MIN", 200 if shards == 2 else 10**9)
    vectors = clustered_vectors(300, 64, seed=1)
    fill_store(tmp_path / "data", vectors)
    catalog = Catalog.open(tmp_path / "data")
    index = catalog.index()
    assert len(index.shards) == shards and index.meta.params == {"shards": shards, "trained_count": 300}
    for track_id in (1, 57, 150, 151, 300):  # both sides of the shard boundary
        got = similar(catalog, track_id, k=10)
        ids, scores = brute_force(vectors, vectors[track_id - 1], 10, exclude={track_id})
        assert [n.track.id for n in got] == ids
        np.testing.assert_allclose([n.score for n in got], scores, atol=1e-5)
        assert track_id not in [n.track.id for n in got]


def test_exclusions_leave_out_artist_and_album(tmp_path, backend):
    vectors = clustered_vectors(120, 32, seed=2)
    fill_store(tmp_path / "data", vectors)
    catalog = Catalog.open(tmp_path / "data")
    query = catalog.track(5)
    by_artist = similar(catalog, query, k=20, exclude_same_artist=True)
    assert len(by_artist) == 20 and all(n.track.artist != query.artist for n in by_artist)
    by_album = similar(catalog, query, k=20, exclude_same_album=True)
    assert len(by_album) == 20 and all(n.track.album != query.album for n in by_album)
    assert any(n.track.artist == query.artist for n in by_album)


def test_approximate_index_recall_at_10(tmp_path):
    vectors = clustered_vectors(20000, 128, seed=3, clusters=200)
    count = len(vectors)
    ids = np.arange(1, count + 1, dtype=np.int64)
    meta = {"model": "m", "revision": "r", "vectors_version": 1}
    info = write_index(tmp_path / "m", iter([(ids, vectors)]), count, 128, meta, exact_max=1000)
    assert info.kind == "ivf-fp16"
    index = VectorIndex.open_current(tmp_path / "m")
    rng = np.random.default_rng(9)
    queries = vectors[rng.choice(count, 100, replace=False)] + 0.1 * rng.standard_normal((100, 128)).astype(np.float32)
    exact = normalise(vectors) @ normalise(queries).T
    recall = []
    for q in range(100):
        truth = set((np.argsort(-exact[:, q])[:10] + 1).tolist())
        found, _ = index.search(queries[q], 10)
        recall.append(len(truth & set(found.tolist())) / 10)
    assert np.mean(recall) >= 0.95
    # Exclusions and inclusions go through the IVF's search parameters (a selector).
    top = index.search(queries[0], 10)[0].tolist()
    without = index.search(queries[0], 10, exclude=top[:3])[0].tolist()
    assert not set(top[:3]) & set(without) and without[:7] == top[3:]
    only = index.search(queries[0], 10, include=top[5:8])[0].tolist()
    assert only == top[5:8]


def test_add_remove_rebuild_keep_ids_and_results_consistent(tmp_path, backend):
    vectors = clustered_vectors(100, 32, seed=4)
    writer = fill_store(tmp_path / "data", vectors)
    catalog = Catalog.open(tmp_path / "data")
    before = [n.track.id for n in similar(catalog, 10, k=5)]
    with writer.sessions.begin() as s:
        sync.delete_tracks(s, [before[0]])
    with pytest.raises(StaleIndexError, match="older than the database"):
        similar(catalog, 10, k=5)
    # An old index still answers when asked to, and never returns the removed track.
    stale = [n.track.id for n in similar(catalog, 10, k=5, allow_stale=True)]
    assert before[0] not in stale
    writer.rebuild_index("mule")
    after = [n.track.id for n in similar(catalog, 10, k=5)]
    assert after == brute_force(vectors, vectors[9], 5, exclude={10, before[0]})[0]
    assert after[:4] == before[1:5]
    assert catalog.index().meta.count == 99 and catalog.track(10).id == 10


def test_reader_opened_before_a_rebuild_still_answers(tmp_path):
    vectors = clustered_vectors(200, 32, seed=5)
    writer = fill_store(tmp_path / "data", vectors)
    reader = VectorIndex.open_current(tmp_path / "data" / "index" / "mule")
    expected = reader.search(vectors[0], 10)
    for _ in range(3):  # old builds get removed from disk along the way
        writer.rebuild_index("mule")
    again = reader.search(vectors[0], 10)
    np.testing.assert_array_equal(expected[0], again[0])
    assert reader.name != VectorIndex.open_current(tmp_path / "data" / "index" / "mule").name
    builds = [p for p in (tmp_path / "data" / "index" / "mule").iterdir() if p.is_dir()]
    assert len(builds) == 2  # the new one and its predecessor


def test_catalog_reloads_when_a_new_index_is_swapped_in(tmp_path):
    vectors = clustered_vectors(50, 16, seed=6)
    writer = fill_store(tmp_path / "data", vectors)
    catalog = Catalog.open(tmp_path / "data")
    first = catalog.index().name
    writer.rebuild_index("mule")
    assert catalog.index().name != first


def test_a_centred_index_compares_vectors_less_the_catalog_mean(tmp_path):
    """Vectors that share a large common direction (as MusiCNN's post-ReLU ones do): a centred build
    answers as brute force on the centred vectors, keeps that space across rebuilds, and gives it up when
    asked (the model's spec decides, through the builder)."""
    rng = np.random.default_rng(4)
    clusters = clustered_vectors(240, 32, seed=2)
    vectors = (clusters + 12.0 * rng.standard_normal(32)).astype(np.float32)  # one direction dominates
    store = fill_store(tmp_path / "data", vectors)
    store.refresh_index("mule", centre=True)
    catalog = Catalog.open(tmp_path / "data")
    index = catalog.index()
    assert index.meta.params["centred"] and index.centre is not None
    unit = normalise(vectors)
    centred = normalise(unit - unit.mean(0))
    for track_id in (1, 99, 240):
        got = similar(catalog, track_id, k=10)
        ids, scores = brute_force(centred, centred[track_id - 1], 10, exclude={track_id})
        assert [n.track.id for n in got] == ids
        np.testing.assert_allclose([n.score for n in got], scores, atol=1e-4)
    path = SearchService(catalog).path(1, 240, 6)  # the arc runs in the model's space, compared in the index's
    assert [t.id for t, _ in path][::5] == [1, 240] and abs(path[0][1] - 1.0) < 1e-5
    store.rebuild_index("mule")  # a plain rebuild (forget, --rebuild-index) keeps the space
    assert Catalog.open(tmp_path / "data").index().meta.params.get("centred")
    store.refresh_index("mule", centre=False)  # asked otherwise: rebuilt plain, though nothing changed
    plain = Catalog.open(tmp_path / "data")
    assert plain.index().centre is None
    assert [n.track.id for n in similar(plain, 1, k=10)] == brute_force(unit, unit[0], 10, exclude={1})[0]
