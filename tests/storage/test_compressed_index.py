"""The compressed index (IVF-PQ re-ranked from the vectors on disk) at 200k catalog-shaped vectors."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from benchmarks.synthetic import SyntheticCatalog
from storage.index import vectors as vectors_module
from storage.index.vectors import VectorIndex, choose_kind, pq_bytes, write_index

COUNT, DIM = 200_000, 1728
META = {"model": "mule", "revision": "r1", "vectors_version": 1}


def test_large_catalogs_choose_the_compressed_kind():
    assert choose_kind(100_000)[0] == "exact-fp16"
    assert choose_kind(1_000_000)[0] == "ivf-fp16"
    kind, params = choose_kind(10_000_000)
    assert kind == "ivf-pq" and params["m"] == 144 and params["nlist"] == 12649
    assert (pq_bytes(1728), pq_bytes(768), pq_bytes(1024), pq_bytes(7)) == (144, 128, 128, 7)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    catalog = SyntheticCatalog(COUNT, DIM, seed=3)
    vectors = catalog.vectors()
    ids = np.arange(1, COUNT + 1, dtype=np.int64)
    directory = tmp_path_factory.mktemp("compressed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(vectors_module, "HUBS_MAX", 0)  # hub statistics are another test's business (and 100 s here)
        write_index(directory, iter([(ids, vectors)]), COUNT, DIM, META, exact_max=0, compressed_min=0)
    return VectorIndex.open_current(directory), vectors


def exact_top(vectors: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray) -> set[int]:
    scores = vectors @ query
    scores[~allowed] = -np.inf
    return set((np.argsort(-scores)[:k] + 1).tolist())


def test_recall_after_reranking_and_memory(built):
    index, vectors = built
    assert index.meta.kind == "ivf-pq"
    in_memory = sum(p.stat().st_size for p in index.directory.glob("*.faiss"))
    # Codes + ids, plus 1,788 float32 centroids and the code book (71 B a track at 200k, 9 at 10M).
    assert in_memory / COUNT <= 144 + 8 + (1788 + 256) * DIM * 4 / COUNT + 2
    rows = np.random.default_rng(0).choice(COUNT, 100, replace=False)
    truth = faiss.knn(vectors[rows], vectors, 11, metric=faiss.METRIC_INNER_PRODUCT)[1]
    hits = 0
    for row, true in zip(rows, truth, strict=True):
        found, scores = index.search(vectors[row], 10, exclude=[int(row) + 1])
        hits += len(set(found.tolist()) & set((true[true != row][:10] + 1).tolist()))
        np.testing.assert_allclose(scores, vectors[found - 1] @ vectors[row], rtol=1e-5, atol=1e-6)  # exact cosines
    assert hits / 1000 >= 0.95


def test_exclusions_and_filters_stay_exact(built):
    index, vectors = built
    query = vectors[12_345]
    nearest, _ = index.search(query, 30)
    excluded = nearest[:20].tolist()
    found, _ = index.search(query, 10, exclude=excluded)
    assert not set(found.tolist()) & set(excluded)
    include = np.arange(1, COUNT + 1, 7)  # a style filter: every 7th track
    found, _ = index.search(query, 10, include=include.tolist(), exclude=excluded)
    assert set(found.tolist()) <= set(include.tolist()) - set(excluded) and len(found) == 10
    allowed = np.zeros(COUNT, bool)
    allowed[include - 1] = True
    allowed[np.asarray(excluded) - 1] = False
    assert len(set(found.tolist()) & exact_top(vectors, query, 10, allowed)) >= 9
