"""Closeness: the share of the catalog's pairs that are further apart than a result, from the pair
cosines each index build keeps."""

from __future__ import annotations

import json

import numpy as np

from indexer.commands.lookup import main as query
from storage.index.vectors import normalise, pair_cosines
from storage.read.catalog import Catalog
from tests.storage.conftest import clustered_vectors, fill_store


def test_closeness_is_a_monotone_share_of_pairs(tmp_path):
    vectors = clustered_vectors(400, 16, seed=3)
    store = fill_store(tmp_path / "data", vectors)
    index = Catalog.open(tmp_path / "data").index()
    cosines = np.linspace(-1.0, 1.0, 201, dtype=np.float32)
    shares = index.closeness(cosines)
    assert shares is not None and shares[0] == 0.0 and shares[-1] <= 100.0
    assert np.all(np.diff(shares) >= 0)  # monotone in the cosine
    # The share equals a direct count over every pair of the catalog, within the sample's error.
    unit = normalise(vectors)
    every = (unit @ unit.T)[np.triu_indices(len(unit), 1)]
    for cosine in (0.0, 0.5, 0.9):
        assert abs(index.closeness(np.array([cosine]))[0] - 100 * np.mean(every < cosine)) < 0.5
    before = np.array(index.pairs)
    store.rebuild_index("mule")  # the same vectors: the same closeness
    np.testing.assert_array_equal(np.array(Catalog.open(tmp_path / "data").index().pairs), before)


def test_results_carry_their_closeness(tmp_path, capsys):
    fill_store(tmp_path / "data", clustered_vectors(60, 8, seed=4))
    assert query(["1", "-k", "5", "--json", "--data-dir", str(tmp_path / "data")]) == 0
    rows = json.loads(capsys.readouterr().out)["neighbours"]
    shares = [r["closeness"] for r in rows]
    assert all(0 <= s <= 100 for s in shares) and shares == sorted(shares, reverse=True)
    assert query(["1", "-k", "2", "--data-dir", str(tmp_path / "data")]) == 0
    assert "closer than" in capsys.readouterr().out


def test_tiny_catalogs_have_no_pairs_to_compare():
    assert pair_cosines(np.ones((1, 4), np.float32)).size == 0
    two = pair_cosines(normalise(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)), pairs=10)
    assert two.shape == (10,) and np.allclose(two, 0.0)


def test_an_index_built_before_closeness_is_rebuilt_once(tmp_path):
    store = fill_store(tmp_path / "data", clustered_vectors(30, 8, seed=5))
    index = Catalog.open(tmp_path / "data").index()
    (index.directory / "pairs.npy").unlink()  # as builds before this change left them
    assert Catalog.open(tmp_path / "data").index().closeness(np.array([0.5])) is None
    assert store.refresh_index("mule") is not None
    assert store.refresh_index("mule") is None  # and only once
    assert Catalog.open(tmp_path / "data").index().closeness(np.array([0.5])) is not None
