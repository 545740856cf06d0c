"""GPU FAISS: the build's IVF work and the reader's exact scan.

Where faiss has a GPU the last tests run the real thing. Elsewhere (faiss-cpu, CI) a CPU stand-in
takes the place of `storage.index.gpu.to_gpu`, a float16 index for float16 copies like the GPU's: the code
around the copy (which work goes there, the assignment and the ids it adds, the over-fetch and the
exclusions, the fall-backs) is what these tests check.
"""

from __future__ import annotations

import logging

import faiss
import numpy as np
import pytest

import storage.index.gpu
from storage.index.vectors import VectorIndex, normalise, write_index
from storage.read.catalog import Catalog
from tests.search_helpers import similar
from tests.storage.conftest import clustered_vectors, fill_store

META = {"model": "m", "revision": "r", "vectors_version": 1}
HAS_GPU = storage.index.gpu.gpu_count() > 0


@pytest.fixture
def stand_in(monkeypatch) -> list[tuple[str, bool]]:
    """Pretend faiss has one GPU; `to_gpu` makes CPU copies and records what it was asked to copy."""
    calls: list[tuple[str, bool]] = []

    def to_cpu_copy(index: faiss.Index, float16: bool = False) -> faiss.Index:
        calls.append((type(faiss.downcast_index(index)).__name__, float16))
        if float16:
            assert index.ntotal == 0  # the reader copies an empty flat index, then adds
            return faiss.IndexScalarQuantizer(index.d, faiss.ScalarQuantizer.QT_fp16, index.metric_type)
        return faiss.clone_index(index)

    monkeypatch.setattr(storage.index.gpu, "gpu_count", lambda: 1)
    monkeypatch.setattr(storage.index.gpu, "to_gpu", to_cpu_copy)
    return calls


def build(directory, vectors: np.ndarray, exact_max: int) -> VectorIndex:
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    write_index(directory, iter([(ids, vectors)]), len(vectors), vectors.shape[1], META, exact_max=exact_max)
    return VectorIndex.open_current(directory)


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int, exclude: set[int]) -> list[int]:
    scores = normalise(vectors).astype(np.float64) @ normalise(query).astype(np.float64)
    return [int(i) + 1 for i in np.argsort(-scores, kind="stable") if int(i) + 1 not in exclude][:k]


def test_gpu_count_is_zero_without_gpus_or_when_switched_off(monkeypatch):
    monkeypatch.delenv(storage.index.gpu.ENV, raising=False)
    assert storage.index.gpu.gpu_count() == faiss.get_num_gpus()
    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 2)
    assert storage.index.gpu.gpu_count() == 2
    monkeypatch.setenv(storage.index.gpu.ENV, "0")
    assert storage.index.gpu.gpu_count() == 0
    monkeypatch.delattr(faiss, "get_num_gpus")
    monkeypatch.delenv(storage.index.gpu.ENV)
    assert storage.index.gpu.gpu_count() == 0


def test_ivf_built_with_a_gpu_equals_the_cpu_build(tmp_path, stand_in, monkeypatch):
    vectors = clustered_vectors(13000, 32, seed=11, clusters=60)
    monkeypatch.setattr(storage.index.gpu, "gpu_count", lambda: 0)
    cpu = build(tmp_path / "cpu", vectors, exact_max=1000)
    monkeypatch.setattr(storage.index.gpu, "gpu_count", lambda: 1)
    gpu = build(tmp_path / "gpu", vectors, exact_max=1000)
    assert stand_in == [("IndexFlat", False), ("IndexFlatIP", False)]  # k-means helper, then the list assigner
    cpu_ivf, gpu_ivf = (faiss.extract_index_ivf(i.shards[0]) for i in (cpu, gpu))
    assert gpu_ivf.clustering_index is None
    centroids = cpu_ivf.quantizer.reconstruct_n(0, cpu_ivf.nlist)
    np.testing.assert_array_equal(gpu_ivf.quantizer.reconstruct_n(0, gpu_ivf.nlist), centroids)
    for lst in range(cpu_ivf.nlist):
        assert cpu_ivf.get_list_size(lst) == gpu_ivf.get_list_size(lst)
        np.testing.assert_array_equal(
            faiss.rev_swig_ptr(gpu_ivf.invlists.get_ids(lst), gpu_ivf.get_list_size(lst)),
            faiss.rev_swig_ptr(cpu_ivf.invlists.get_ids(lst), cpu_ivf.get_list_size(lst)),
        )
    for row in (0, 999, 12999):
        cpu_ids, cpu_scores = cpu.search(vectors[row], 10, exclude=[row + 1])
        gpu_ids, gpu_scores = gpu.search(vectors[row], 10, exclude=[row + 1])
        np.testing.assert_array_equal(gpu_ids, cpu_ids)
        np.testing.assert_array_equal(gpu_scores, cpu_scores)


@pytest.mark.parametrize("exact_max", [10**6, 1000])
def test_gpu_reader_equals_brute_force_with_exclusions(tmp_path, stand_in, exact_max):
    vectors = clustered_vectors(3000, 48, seed=12)
    build(tmp_path / "m", vectors, exact_max)
    index = VectorIndex.open_current(tmp_path / "m", gpu=True)
    assert index.gpu is not None and stand_in[-1] == ("IndexFlatIP", True)
    searched, expected = [], []
    real_search = index.gpu.index.search
    index.gpu.index.search = lambda q, n: searched.append(n) or real_search(q, n)
    for row in (0, 1234, 2999):
        exclude = {row + 1, *range(1, 40)}
        got, scores = index.search(vectors[row], 10, exclude=sorted(exclude))
        expected.append(74 + len(exclude))  # over-fetched past the exclusions: fp16 candidates, then float32
        assert got.tolist() == brute_force(vectors, vectors[row], 10, exclude)  # exact, whatever the build's kind
        np.testing.assert_allclose(scores, normalise(vectors)[got - 1] @ normalise(vectors[row]), atol=1e-5)
    assert searched == expected


def test_style_filters_and_huge_exclusions_search_on_the_cpu(tmp_path, stand_in, monkeypatch):
    vectors = clustered_vectors(2000, 32, seed=13)
    build(tmp_path / "m", vectors, exact_max=10**6)
    index = VectorIndex.open_current(tmp_path / "m", gpu=True)
    index.gpu.index.search = None  # any GPU search from here on fails the test
    only = list(range(100, 400))
    got = index.search(vectors[5], 10, include=only)[0].tolist()
    assert got == [i for i in brute_force(vectors, vectors[5], 2000, set()) if i in only][:10]
    monkeypatch.setattr(storage.index.gpu, "MAX_K", 100)
    exclude = set(range(1, 60))
    assert index.search(vectors[5], 10, exclude=sorted(exclude))[0].tolist() == brute_force(
        vectors, vectors[5], 10, exclude
    )


def test_gpu_failures_fall_back_to_the_cpu(tmp_path, monkeypatch, caplog):
    def out_of_memory(index, float16=False):
        raise RuntimeError("Error in faiss::gpu::StandardGpuResourcesImpl::allocMemory: cudaMalloc failed")

    monkeypatch.setattr(storage.index.gpu, "gpu_count", lambda: 1)
    monkeypatch.setattr(storage.index.gpu, "to_gpu", out_of_memory)
    vectors = clustered_vectors(3000, 32, seed=14)
    with caplog.at_level(logging.WARNING, logger="storage.index.gpu"):
        index = build(tmp_path / "m", vectors, exact_max=1000)
        reader = VectorIndex.open_current(tmp_path / "m", gpu=True)
    assert reader.gpu is None and "using the CPU" in caplog.text
    assert index.search(vectors[7], 5)[0].tolist() == reader.search(vectors[7], 5)[0].tolist()


def test_catalog_with_gpu_keeps_one_shot_readers_on_the_cpu(tmp_path, stand_in):
    fill_store(tmp_path / "data", clustered_vectors(200, 32, seed=15))
    assert Catalog.open(tmp_path / "data").index().gpu is None
    catalog = Catalog.open(tmp_path / "data", gpu=True)
    assert catalog.index().gpu is not None
    assert [n.track.id for n in similar(catalog, 3, k=5)] == [
        n.track.id for n in similar(Catalog.open(tmp_path / "data"), 3, k=5)
    ]


@pytest.mark.skipif(not HAS_GPU, reason="faiss has no GPU here")
def test_real_gpu_build_and_scan_match_the_cpu(tmp_path, monkeypatch):
    vectors = clustered_vectors(20000, 1728, seed=16, clusters=200)
    gpu_built = build(tmp_path / "gpu", vectors, exact_max=1000)
    monkeypatch.setenv(storage.index.gpu.ENV, "0")
    cpu_built = build(tmp_path / "cpu", vectors, exact_max=1000)
    monkeypatch.delenv(storage.index.gpu.ENV)
    reader = VectorIndex.open_current(tmp_path / "gpu", gpu=True)
    assert reader.gpu is not None
    rng = np.random.default_rng(0)
    recall = []
    for row in rng.choice(len(vectors), 50, replace=False):
        truth = brute_force(vectors, vectors[row], 10, {int(row) + 1})
        assert reader.search(vectors[row], 10, exclude=[int(row) + 1])[0].tolist() == truth
        for built in (gpu_built, cpu_built):
            found = built.search(vectors[row], 10, exclude=[int(row) + 1])[0].tolist()
            recall.append(len(set(found) & set(truth)) / 10)
    assert np.mean(recall) >= 0.95


@pytest.mark.skipif(
    not hasattr(faiss, "StandardGpuResources") or HAS_GPU, reason="needs faiss-gpu on a machine without a GPU"
)
def test_faiss_gpu_without_a_device_falls_back_on_its_real_error(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(storage.index.gpu, "gpu_count", lambda: 1)  # as if a device were visible
    vectors = clustered_vectors(3000, 32, seed=17)
    with caplog.at_level(logging.WARNING, logger="storage.index.gpu"):
        build(tmp_path / "m", vectors, exact_max=1000)
        reader = VectorIndex.open_current(tmp_path / "m", gpu=True)
    assert reader.gpu is None and "Invalid GPU device" in caplog.text
    assert reader.search(vectors[3], 5)[0].tolist()[0] == 4
