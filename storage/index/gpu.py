"""FAISS on a GPU, when the installed faiss has one (faiss-gpu, a visible device, $SOUNDALIKE_FAISS_GPU not 0).

Two jobs move there. At build time, the IVF's vector-to-centroid work: k-means assignment while
training and each vector's list when adding (at 1M vectors nearly all of a 440 s CPU build). The
algorithm, seed and encoding stay FAISS's CPU ones, so a GPU build writes the same file a CPU build
would. At search time, for long-lived readers such as the page: every vector of a build on the GPU
in float16, scanned exactly whatever the build's kind (1M x 1728 codes are 3.5 GB: about a
millisecond of a data-centre GPU's memory bandwidth, an estimate not yet measured), its candidates
re-scored in float32 on the CPU like any others.

Everything here falls back to the CPU path with a warning when the GPU side fails (out of GPU memory,
a broken driver), and is skipped silently where faiss has no GPU.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import faiss
import numpy as np
from faiss.contrib.ivf_tools import add_preassigned

log = logging.getLogger(__name__)

ENV = "SOUNDALIKE_FAISS_GPU"
MAX_K = 2048  # faiss's GPU k-selection limit (GPU_MAX_SELECTION_K): larger requests stay on the CPU
CHUNK = 65536  # vectors per transfer to the GPU
_OFF = {"0", "false", "no", "off"}


def gpu_count() -> int:
    """GPUs FAISS can use: 0 with faiss-cpu, with no visible device, or when $SOUNDALIKE_FAISS_GPU is 0."""
    if os.environ.get(ENV, "").strip().lower() in _OFF:
        return 0
    try:
        return int(faiss.get_num_gpus())
    except (AttributeError, RuntimeError):
        return 0


@lru_cache(maxsize=1)
def _resources() -> Any:
    # One set of GPU resources (streams, cuBLAS handle, scratch memory) for the whole process.
    return faiss.StandardGpuResources()


def to_gpu(index: faiss.Index, float16: bool = False) -> faiss.Index:
    """A copy of a CPU index on GPU 0; `float16` stores a flat index's vectors in half precision."""
    options = faiss.GpuClonerOptions()
    options.useFloat16 = float16
    return faiss.index_cpu_to_gpu(_resources(), 0, index, options)


def _gpu_copy(index: faiss.Index, float16: bool = False) -> faiss.Index | None:
    """`to_gpu`, or None (the caller stays on the CPU) where there is no GPU or the copy fails."""
    if gpu_count() == 0:
        return None
    try:
        return to_gpu(index, float16)
    except (RuntimeError, MemoryError) as exc:
        log.warning("FAISS GPU unavailable (%s); using the CPU", str(exc).splitlines()[0] if str(exc) else exc)
        return None


def train_ivf(ivf: faiss.IndexIVF, sample: np.ndarray) -> None:
    """Train the coarse centroids, with k-means assigning on the GPU when there is one."""
    helper = _gpu_copy(faiss.IndexFlat(ivf.d, ivf.metric_type))
    if helper is not None:
        ivf.clustering_index = helper  # FAISS's own hook: same k-means, only the nearest-centroid search moves
        log.info("training %d IVF lists on the GPU", ivf.nlist)
    try:
        ivf.train(sample)
    finally:
        ivf.clustering_index = None  # the helper dies with this function; the index must not point at it


def gpu_list_adder(ivf: faiss.IndexIVF) -> Callable[[np.ndarray, np.ndarray], None] | None:
    """A function adding (vectors, ids) to a trained IVF with each vector's list found on the GPU,
    or None (add on the CPU) where there is no GPU."""
    assigner = _gpu_copy(ivf.quantizer)
    if assigner is None:
        return None

    def add(x: np.ndarray, ids: np.ndarray) -> None:
        lists = np.ascontiguousarray(assigner.search(x, 1)[1][:, 0])
        add_preassigned(ivf, x, lists, ids)  # codes encoded by the CPU index, as add_with_ids would

    return add


class GpuScan:
    """Every vector of a build on the GPU in float16, scanned exactly for one query at a time."""

    def __init__(self, index: faiss.Index, ids: np.ndarray) -> None:
        self.index = index
        self.ids = ids
        self._lock = threading.Lock()  # one StandardGpuResources: its scratch memory serves one search at a time

    def candidates(self, query: np.ndarray, fetch: int, exclude: Sequence[int]) -> np.ndarray | None:
        """Ids of the best `fetch` vectors not in `exclude`, or None when that needs more than MAX_K."""
        excluded = np.unique(np.asarray(exclude, dtype=np.int64))
        want = min(len(self.ids), fetch + excluded.size)  # enough that `fetch` survive the exclusions
        if want > MAX_K:
            return None
        with self._lock:
            rows = self.index.search(query, want)[1][0]
        labels = np.asarray(self.ids[rows[rows >= 0]], dtype=np.int64)
        return labels[~np.isin(labels, excluded)][:fetch]


def open_gpu_scan(vectors: np.ndarray, ids: np.ndarray) -> GpuScan | None:
    """A GpuScan of these rows, or None (search on the CPU) where there is no GPU or they do not fit."""
    index = _gpu_copy(faiss.IndexFlatIP(vectors.shape[1]), float16=True)
    if index is None:
        return None
    try:
        for first in range(0, len(vectors), CHUNK):
            index.add(np.ascontiguousarray(vectors[first : first + CHUNK], dtype=np.float32))
    except (RuntimeError, MemoryError) as exc:
        log.warning("%d vectors do not fit on the GPU (%s); searching on the CPU", len(vectors), exc)
        return None
    log.info("searching %d vectors on the GPU", len(vectors))
    return GpuScan(index, ids)
