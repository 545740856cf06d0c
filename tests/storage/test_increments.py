"""Index updates without a full rebuild (storage.index.increments, storage.index.segment_updates): a layer on top of
the build in force, folded in past its bounds, a full rebuild past the drift bounds; each answers as a full
rebuild does (exact indexes) or within recall 0.95 of it (IVF), and readers see one build or the other."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from storage.index.increments import Policy
from storage.read.catalog import Catalog
from storage.write import sync
from storage.write.store import Store
from storage.write.sync import FileState, FolderChanges
from tests.search_helpers import passages, similar
from tests.storage.conftest import clustered_vectors, fill_store
from tests.storage.test_segments import planted
from tests.storage.test_timelines import stored

QUERIES = (1, 9, 40, 77, 150)


def add_tracks(store: Store, vectors: np.ndarray, prefix: str = "new") -> list[int]:
    """New tracks in the store's folder with `vectors` (two-slice timelines); their ids."""
    folder = store.folders()[0]
    paths = [f"{prefix}/track {i:03d}.flac" for i in range(len(vectors))]
    store.apply_changes(
        folder, FolderChanges(new=[FileState(p, 1, 0.0, f"{prefix}{i}") for i, p in enumerate(paths)]), "mule"
    )
    known = store.known_tracks(folder)
    ids = [known[p].id for p in paths]
    for track_id, v in zip(ids, vectors, strict=True):
        store.save_embedding(
            track_id, "mule", "rev1", {"title": f"New {track_id}"}, v, np.stack([v, v]), np.array([0.0, 2.0])
        )
    return ids


def change_catalog(store: Store, dim: int) -> list[int]:
    """30 tracks added, two removed, one re-embedded with another vector; the ids added."""
    added = add_tracks(store, clustered_vectors(30, dim, seed=12))
    with store.sessions.begin() as s:
        sync.delete_tracks(s, [3, 50])
    v = clustered_vectors(1, dim, seed=13)[0]
    store.save_embedding(7, "mule", "rev1", {}, v, np.stack([v, v]), np.array([0.0, 2.0]))
    return added


def answers(catalog: Catalog, track_ids) -> list[tuple[list[int], list[float]]]:
    out = []
    for track_id in track_ids:
        found = similar(catalog, track_id, k=10)
        out.append(([n.track.id for n in found], [n.score for n in found]))
    return out


def assert_same_answers(got, expected) -> None:
    """The same neighbours in the same order, with the same cosines (to float32 re-scoring's precision)."""
    for (ids, scores), (expected_ids, expected_scores) in zip(got, expected, strict=True):
        assert ids == expected_ids
        np.testing.assert_allclose(scores, expected_scores, atol=1e-6)


def test_a_layer_answers_as_a_full_rebuild_and_readers_move_on(tmp_path, backend):
    store = fill_store(tmp_path / "data", clustered_vectors(200, 32, seed=11))
    catalog = Catalog.open(store.data_dir)
    reader = catalog.index()  # opened before the update: keeps answering from its build
    before = reader.search(reader.vectors[0], 10)
    added = change_catalog(store, 32)
    info = store.refresh_index("mule")
    assert info is not None and info.count == 200 + 30 - 2 and info.params["trained_count"] == 200
    index = catalog.index()  # the catalog picks the new build up by itself
    assert index.name != reader.name and index.layered
    assert (len(index.added_ids), len(index.hidden)) == (31, 3)  # 30 new + track 7's new vector; 3, 50, 7 hidden
    np.testing.assert_array_equal(reader.search(reader.vectors[0], 10)[0], before[0])
    for name in ("vectors.npy", "index.faiss"):  # the base is shared with the previous build, not copied
        assert (index.directory / name).stat().st_ino == (reader.directory / name).stat().st_ino
    assert index.map is not None and index.map.shape == (228, 2) and index.hubs is not None
    assert len(index.hubs.density) == 228 and np.all(index.hubs.density[index.rows(np.array(added))] > 0)
    layered = answers(catalog, [*QUERIES, 7, added[0], added[-1]])
    assert not any(3 in ids or 50 in ids for ids, _ in layered)

    store.rebuild_index("mule")  # what a full rebuild answers
    assert not catalog.index().layered
    full = answers(catalog, [*QUERIES, 7, added[0], added[-1]])
    assert_same_answers(layered, full)


def test_layers_stack_then_fold_into_a_new_base(tmp_path):
    store = fill_store(tmp_path / "data", clustered_vectors(200, 32, seed=11))
    catalog = Catalog.open(store.data_dir)
    change_catalog(store, 32)
    store.refresh_index("mule")
    more = add_tracks(store, clustered_vectors(5, 32, seed=14), prefix="more")
    store.refresh_index("mule")
    assert catalog.index().layered and len(catalog.index().added_ids) == 36  # layers stack
    fold = Policy(layer_min_rows=0, layer_fraction=0.0)
    assert store.refresh_index("mule", policy=fold) is None  # nothing changed: nothing to do
    with store.sessions.begin() as s:
        sync.delete_tracks(s, [more[0]])
    info = store.refresh_index("mule", policy=fold)
    assert info is not None and not catalog.index().layered and info.count == 232
    assert info.params["trained_count"] == 200 and catalog.index().map.shape == (232, 2)
    folded = answers(catalog, [*QUERIES, *more[1:]])
    store.rebuild_index("mule")
    assert_same_answers(folded, answers(catalog, [*QUERIES, *more[1:]]))


@pytest.fixture(scope="module")
def ivf_data(tmp_path_factory) -> Path:
    """A data directory of 2,000 tracks with an IVF index (copied by each test)."""
    data = tmp_path_factory.mktemp("ivf") / "data"
    fill_store(data, clustered_vectors(2000, 32, seed=21, clusters=60)).rebuild_index("mule", exact_max=100)
    return data


def ivf_store(ivf_data: Path, tmp_path: Path) -> Store:
    shutil.copytree(ivf_data, tmp_path / "data")
    return Store(tmp_path / "data")


@pytest.mark.parametrize("how", ["layer", "fold"])
def test_an_ivf_index_updates_without_retraining(ivf_data, tmp_path, how):
    store = ivf_store(ivf_data, tmp_path)
    catalog = Catalog.open(store.data_dir)
    assert catalog.index().approximate
    added = change_catalog(store, 32)
    fold = how == "fold"
    policy = Policy(exact_max=100, layer_min_rows=0 if fold else 1000, layer_fraction=0.0 if fold else 0.05)
    info = store.refresh_index("mule", policy=policy)
    assert info is not None and info.kind == "ivf-fp16" and info.params["trained_count"] == 2000
    assert catalog.index().layered != fold
    queries = [*QUERIES, 7, *added, *range(100, 2000, 50)]
    updated = answers(catalog, queries)
    store.rebuild_index("mule", exact_max=100)
    full = answers(catalog, queries)
    store.rebuild_index("mule")  # exact: the true neighbours
    truth = answers(catalog, queries)
    assert recall(updated, full) >= 0.95 and recall(updated, truth) >= recall(full, truth) - 0.02


def recall(found: list[tuple[list[int], list[float]]], truth: list[tuple[list[int], list[float]]]) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for (a, _), (b, _) in zip(found, truth, strict=True)]))


def test_drift_past_the_bounds_rebuilds_in_full(ivf_data, tmp_path):
    store = ivf_store(ivf_data, tmp_path)
    add_tracks(store, clustered_vectors(250, 32, seed=22))
    info = store.refresh_index("mule", policy=Policy(exact_max=100, growth_max=1.1))  # grew by 12.5%
    assert info is not None and info.kind == "ivf-fp16"
    assert info.params["trained_count"] == 2250 and "layer" not in info.params
    add_tracks(store, clustered_vectors(10, 32, seed=23), prefix="few")
    info = store.refresh_index("mule", policy=Policy(exact_max=100, growth_max=1.1))
    assert info is not None and info.params["trained_count"] == 2250 and info.params["layer"] is not None


@pytest.mark.parametrize("exact_max", [1_000_000, 50])
def test_segments_update_by_the_tracks_that_changed(tmp_path, exact_max):
    tracks = planted()
    store = stored(tmp_path, tracks)
    store.rebuild_segments("mule", exact_max=exact_max)  # exact, or IVF
    catalog = Catalog.open(store.data_dir)
    first = catalog.segments().name
    copy = tracks[3].copy()
    copy[10:20] = tracks[0][5:15]  # a new track holding track 1's passage at 20 s
    [new] = add_tracks_with_timeline(store, copy)
    with store.sessions.begin() as s:
        sync.delete_tracks(s, [9])  # the track that held it before
    store.refresh_index("mule")
    segments = catalog.segments()
    assert segments.name != first and len(segments.layer.tracks) == 40 and segments.layer.hidden.tolist() == [9]
    found = passages(catalog, 1, 10.0, 30.0, 5)
    assert found[0].track.id == new and abs(found[0].passage.start - 20.0) <= 2
    assert 9 not in [n.track.id for n in found]
    assert segments.meta.kind == ("exact-sq8" if exact_max > 50 else "ivf-sq8")
    store.rebuild_segments("mule", exact_max=exact_max)
    full = passages(catalog, 1, 10.0, 30.0, 5)
    assert [(n.track.id, n.passage.start) for n in found] == [(n.track.id, n.passage.start) for n in full]


def add_tracks_with_timeline(store: Store, timeline: np.ndarray) -> list[int]:
    folder = store.folders()[0]
    store.apply_changes(folder, FolderChanges(new=[FileState("added.flac", 1, 0.0, "added")]), "mule")
    track_id = store.known_tracks(folder)["added.flac"].id
    starts = np.arange(len(timeline)) * 2.0
    store.save_embedding(track_id, "mule", "rev", {"duration": len(timeline) * 2.0}, timeline.mean(0), timeline, starts)
    return [track_id]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_any_sequence_of_changes_answers_as_exact_search(tmp_path, seed):
    """Random rounds of additions, removals and re-embeddings, each followed by an update (layers stacking,
    folds past a small bound): after every round the index answers as exact search over the stored vectors."""
    rng = np.random.default_rng(seed)
    store = fill_store(tmp_path / "data", clustered_vectors(120, 16, seed=seed))
    catalog = Catalog.open(store.data_dir)
    policy = Policy(layer_min_rows=25, layer_fraction=0.0)
    kinds = set()
    for round_ in range(8):
        ids = sorted(int(i) for i in catalog.index().ids)
        add_tracks(store, clustered_vectors(int(rng.integers(0, 12)), 16, seed=100 * seed + round_), f"r{round_}")
        gone = rng.choice(ids, int(rng.integers(0, 6)), replace=False).tolist()
        with store.sessions.begin() as s:
            sync.delete_tracks(s, gone)
        for track_id in rng.choice(sorted(set(ids) - set(gone)), 3, replace=False).tolist():
            v = rng.standard_normal(16).astype(np.float32)
            store.save_embedding(track_id, "mule", "rev1", {}, v, np.stack([v, v]), np.array([0.0, 2.0]))
        store.refresh_index("mule", policy=policy)
        index = catalog.index()
        kinds.add(index.layered)
        truth_ids, truth = stored_vectors(store)
        assert np.array_equal(np.asarray(index.ids), truth_ids)
        unit = truth / np.linalg.norm(truth, axis=1, keepdims=True)
        for row in rng.choice(len(truth_ids), 5, replace=False):
            found, scores = index.search(truth[row], 10, exclude=[int(truth_ids[row])])
            cosines = unit @ unit[row]
            cosines[row] = -np.inf
            best = np.argsort(-cosines, kind="stable")[:10]
            assert found.tolist() == truth_ids[best].tolist()
            np.testing.assert_allclose(scores, cosines[best], atol=1e-5)
    assert kinds == {True, False}  # both layers and folds were exercised


def stored_vectors(store: Store) -> tuple[np.ndarray, np.ndarray]:
    from sqlalchemy import select

    from storage.db.schema import Embedding

    with store.sessions() as s:
        rows = s.execute(select(Embedding.track_id, Embedding.vector).order_by(Embedding.track_id)).all()
    return np.array([r[0] for r in rows]), np.stack([np.frombuffer(r[1], "<f4") for r in rows])
