"""The segment index: every sounding slice of every track, for search by passage.

Layout: DATA/segments/<model>/<build>/{segments.faiss, tracks.npy, slices.npy, meta.json} and a CURRENT
file, written and swapped in exactly like the track index (storage.index.vectors). A segment is one slice
of a stored timeline (MULE: 3 s every 2 s), in the comparison space of storage.core.timelines, L2-normalised,
as 8-bit scalar codes; FAISS ids are row numbers, `tracks.npy` and `slices.npy` say whose slice each row
is. Quiet slices are left out. Up to EXACT_SEGMENTS rows the scan is exhaustive; above, IVF.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from storage.core.errors import CorruptIndexError, EmptyIndexError
from storage.index.segment_deltas import SegmentLayer
from storage.index.vectors import current_build, new_build, normalise

log = logging.getLogger(__name__)

SEGMENTS_DIR = "segments"
EXACT_SEGMENTS = 200_000  # ~1,700 four-minute tracks: a full 8-bit scan of 8 probes stays under ~40 ms
TRAIN_SAMPLE = 100_000
KMEANS_ITERATIONS = 12  # as the track index: enough to settle, half FAISS's default time

# (track id of each row, slice number of each row, normalised vectors), in track order.
SegmentChunk = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class SegmentMeta:
    model: str
    revision: str
    basis: str  # which comparison space: the model's timeline basis (its creation time), "" for none
    kind: str  # "exact-sq8" | "ivf-sq8"
    params: dict
    count: int
    dim: int
    vectors_version: int
    built_at: float
    build_seconds: float


def choose_kind(count: int, exact_max: int = EXACT_SEGMENTS) -> tuple[str, dict]:
    if count <= exact_max:
        return "exact-sq8", {}
    # Lists of ~sqrt(n) segments, 1/256 of them probed (at least 16). At 12M synthetic segments (4,096 lists)
    # probing 16 gave recall@10 0.973, as 32 and 64 did, at p50 43 ms against 67 and 130 ms; at 0.36M (512
    # lists) 16 gave 0.94 and 32 0.98. Measured by benchmarks/bench_passage_search.py.
    nlist = int(min(8192, 2 ** round(np.log2(np.sqrt(count)))))
    return "ivf-sq8", {"nlist": nlist, "nprobe": min(nlist, max(16, nlist // 256))}


def new_faiss(kind: str, params: dict, dim: int) -> faiss.Index:
    sq8 = faiss.ScalarQuantizer.QT_8bit
    if kind == "exact-sq8":
        return faiss.IndexScalarQuantizer(dim, sq8, faiss.METRIC_INNER_PRODUCT)
    quantiser = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantiser, dim, params["nlist"], sq8, faiss.METRIC_INNER_PRODUCT)
    index.own_fields = True
    quantiser.this.disown()
    return index


def write_segments(
    segments_dir: Path,
    chunks: Callable[[], Iterator[SegmentChunk]],
    count: int,
    dim: int,
    meta: dict,
    exact_max: int = EXACT_SEGMENTS,
) -> SegmentMeta:
    """Build the segment index from `chunks()` (called twice: a training sample, then every row), swap it in."""
    if count == 0:
        raise EmptyIndexError("no segments to index")
    started = time.perf_counter()
    kind, params = choose_kind(count, exact_max)
    index = new_faiss(kind, params, dim)
    wanted = TRAIN_SAMPLE
    if kind == "ivf-sq8":
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe, ivf.cp.niter = params["nprobe"], KMEANS_ITERATIONS
        wanted = max(wanted, 40 * params["nlist"])  # FAISS asks for 39 points a centroid
    index.train(_sample(chunks(), count, wanted))
    with new_build(segments_dir) as tmp:
        tracks = np.lib.format.open_memmap(tmp / "tracks.npy", mode="w+", dtype=np.int64, shape=(count,))
        slices = np.lib.format.open_memmap(tmp / "slices.npy", mode="w+", dtype=np.int32, shape=(count,))
        row = 0
        for chunk_tracks, chunk_slices, vectors in chunks():
            n = len(chunk_tracks)
            tracks[row : row + n], slices[row : row + n] = chunk_tracks, chunk_slices
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
            row += n
        if row != count:
            raise RuntimeError(f"expected {count} segments, got {row}")
        tracks.flush()
        slices.flush()
        del tracks, slices
        faiss.write_index(index, str(tmp / "segments.faiss"))
        info = SegmentMeta(
            kind=kind,
            params=params,
            count=count,
            dim=dim,
            built_at=time.time(),
            build_seconds=time.perf_counter() - started,
            **meta,
        )
        (tmp / "meta.json").write_text(json.dumps(info.__dict__))
    log.info("segments of %s: %d slices, %s, %.1f s", segments_dir.name, count, kind, info.build_seconds)
    return info


def _sample(chunks: Iterator[SegmentChunk], count: int, wanted: int) -> np.ndarray:
    every = max(1, count // wanted)
    seen, parts = 0, []
    for _, _, vectors in chunks:
        first = (-seen) % every
        parts.append(np.asarray(vectors[first::every], np.float32))
        seen += len(vectors)
    return np.ascontiguousarray(np.concatenate(parts))


class SegmentIndex:
    """A loaded, read-only segment index build."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            self.meta = SegmentMeta(**json.loads((directory / "meta.json").read_text()))
            # Codes mapped from the file, as the track index's: opening (a reader, a build's freshness check)
            # reads nothing up front, whatever the count.
            mapped = faiss.IO_FLAG_MMAP_IFC if self.meta.kind == "exact-sq8" else faiss.IO_FLAG_MMAP
            self.index = faiss.read_index(str(directory / "segments.faiss"), faiss.IO_FLAG_READ_ONLY | mapped)
            self.tracks = np.load(directory / "tracks.npy", mmap_mode="r")
            self.slices = np.load(directory / "slices.npy", mmap_mode="r")
            self.layer = SegmentLayer.load(directory, self.meta.dim)
        except (OSError, ValueError, TypeError, RuntimeError) as exc:
            raise CorruptIndexError(
                f"segment index {directory} cannot be read ({exc.__class__.__name__}); rebuild it with "
                "`python -m storage.query --rebuild-index`"
            ) from exc
        if self.index.ntotal != len(self.tracks) or self.tracks.shape != self.slices.shape:
            raise CorruptIndexError(f"segment index {directory} is inconsistent (sizes differ); rebuild it")
        if self.meta.kind == "ivf-sq8":
            faiss.extract_index_ivf(self.index).nprobe = self.meta.params["nprobe"]
        self._in_force: faiss.IDSelector | None = None  # base rows of tracks not hidden by the layer
        if len(self.layer.hidden):
            self._bitmap = np.packbits(~np.isin(self.tracks, self.layer.hidden), bitorder="little")
            self._in_force = faiss.IDSelectorBitmap(len(self.tracks), faiss.swig_ptr(self._bitmap))

    @classmethod
    def open_current(cls, segments_dir: Path) -> SegmentIndex:
        name = current_build(segments_dir)
        if name is None:
            raise EmptyIndexError(f"no segment index in {segments_dir}; run `indexer build` to make one")
        return cls(segments_dir / name)

    @property
    def name(self) -> str:
        return self.directory.name

    def search(self, probes: np.ndarray, fetch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each probe slice, its `fetch` nearest segments: (cosines, track ids, slice numbers), each
        (n_probes, fetch); missing hits have track id -1."""
        q = normalise(probes)
        k = max(1, min(fetch, len(self.tracks)))
        if self._in_force is None:
            scores, rows = self.index.search(q, k)
        elif self.meta.kind == "ivf-sq8":
            params = faiss.SearchParametersIVF(sel=self._in_force, nprobe=self.meta.params["nprobe"])
            scores, rows = self.index.search(q, k, params=params)
        else:
            scores, rows = self.index.search(q, k, params=faiss.SearchParameters(sel=self._in_force))
        found = rows >= 0
        safe = np.where(found, rows, 0)
        tracks = np.where(found, self.tracks[safe], -1)
        slices = np.where(found, self.slices[safe], 0)
        if len(self.layer.tracks):
            return self.layer.merged(q, np.where(found, scores, -np.inf), tracks, slices, fetch)
        return scores, tracks, slices
