"""The catalog map: computed with every index build, stored beside it, neighbourhoods kept."""

from __future__ import annotations

import numpy as np
import pytest

import storage.index.catalog_map as catalog_map
from storage.index.catalog_map import compute_map
from storage.index.vectors import normalise
from storage.read.catalog import Catalog
from tests.storage.conftest import clustered_vectors, fill_store


def labelled(n: int, clusters: int, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    labels = rng.integers(0, clusters, n)
    vectors = centres[labels] + 0.3 * rng.standard_normal((n, dim)).astype(np.float32)
    return normalise(vectors), labels


def neighbour_agreement(coords: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Share of each point's k nearest on the map that carry its own label."""
    distances = ((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1)[:, :k]
    return float((labels[nearest] == labels[:, None]).mean())


def test_every_build_stores_a_map_of_its_rows(tmp_path):
    store = fill_store(tmp_path / "data", clustered_vectors(30, 16, seed=1))
    index = Catalog.open(tmp_path / "data").index()
    assert index.map is not None and index.map.shape == (30, 2) and index.map.dtype == np.float32
    assert np.isfinite(index.map).all() and index.map.min() >= 0.0 and index.map.max() <= 1.0

    # New vectors, new build, new map: the map always matches the index in force.
    store.save_embedding(1, "mule", "rev1", {"duration": 30.0}, np.ones(16, np.float32), np.ones((2, 16)), [0, 2])
    store.rebuild_index("mule")
    rebuilt = Catalog.open(tmp_path / "data").index()
    assert rebuilt.name != index.name and rebuilt.map is not None and rebuilt.map.shape == (30, 2)
    assert not np.allclose(rebuilt.map, index.map)


def test_small_catalogs_get_the_principal_axes():
    vectors, labels = labelled(200, 4)
    coords = compute_map(vectors)
    assert coords.shape == (200, 2)
    assert neighbour_agreement(coords, labels) > 0.9
    assert compute_map(vectors[:2]).shape == (2, 2)  # too few to project: a point in the middle each


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("place_ivf_min", [10**9, 100], ids=["exact placement", "inverted lists"])
def test_umap_keeps_neighbourhoods_and_places_the_tracks_it_did_not_fit(monkeypatch, place_ivf_min):
    monkeypatch.setattr(catalog_map, "PLACE_IVF_MIN", place_ivf_min)
    monkeypatch.setattr(catalog_map, "UMAP_MIN", 300)
    monkeypatch.setattr(catalog_map, "FIT_MAX", 400)  # half the tracks placed from their fitted neighbours
    vectors, labels = labelled(800, 12, seed=3)
    coords = compute_map(vectors)
    assert coords.shape == (800, 2) and np.isfinite(coords).all()
    fitted = np.linspace(0, 799, 400).astype(int)
    placed = np.setdiff1d(np.arange(800), fitted)
    assert neighbour_agreement(coords, labels) > 0.9
    assert neighbour_agreement(coords[placed], labels[placed]) > 0.9
