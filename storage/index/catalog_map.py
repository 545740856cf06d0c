"""A 2D map of one model's vectors, for the page: every track a point, alike tracks close together.

Computed with each index build (storage.index.vectors.write_index) and stored in the build's folder, so the
map always shows the vectors of the index in force and is redone whenever they change.

- UMAP (umap-learn) over a 50-dimension PCA of the normalised vectors: neighbourhoods survive, which
  is what a person exploring the map looks for (benchmarks/bench_map.py measures how many of each
  track's 10 nearest neighbours stay among its 10 nearest on the map, against PCA alone).
- UMAP is fitted on at most FIT_MAX tracks; the others are placed at the distance-weighted mean of
  their PLACE_NEIGHBOURS nearest fitted tracks (in the PCA space; FAISS inverted lists when many are
  fitted), so time and memory stay bounded at millions of tracks.
- Below UMAP_MIN tracks the map is the two principal axes: UMAP's neighbourhood graph (15 neighbours)
  says little on so few points, and its compile step alone costs tens of seconds.
"""

from __future__ import annotations

import logging
import time
import warnings

import faiss
import numpy as np

log = logging.getLogger(__name__)

MAP_FILE = "map.npy"  # float32 (count, 2), row i is the track of ids.npy row i
UMAP_MIN = 1000
FIT_MAX = 100_000
PCA_DIMS = 50
PCA_SAMPLE = 50_000
PLACE_NEIGHBOURS = 10
PLACE_IVF_MIN = 20_000  # fitted tracks from which placement searches inverted lists
PLACE_PROBES = 16
UMAP_NEIGHBOURS = 15
CHUNK = 65_536


def compute_map(vectors: np.ndarray) -> np.ndarray:
    """2D coordinates (count, 2) float32 in [0, 1] for normalised `vectors` (may be memory-mapped)."""
    count = len(vectors)
    if count < 3:
        return np.full((count, 2), 0.5, dtype=np.float32)
    started = time.perf_counter()
    mean, axes = _pca(vectors, PCA_DIMS)
    if count < UMAP_MIN:
        coords = _project(vectors, mean, axes[:2])
        method = "pca"
    else:
        coords = _umap_with_placement(vectors, mean, axes)
        method = "umap"
    log.info("map of %d tracks (%s) in %.1f s", count, method, time.perf_counter() - started)
    return _unit_square(coords)


def _pca(vectors: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and principal axes (dims, dim) from an evenly spaced sample of at most PCA_SAMPLE rows."""
    step = max(1, len(vectors) // PCA_SAMPLE)
    sample = np.asarray(vectors[::step], dtype=np.float32)
    mean = sample.mean(axis=0)
    dims = min(dims, sample.shape[1], len(sample) - 1)
    centred = sample - mean
    # The covariance's eigenvectors: a (dim x dim) problem, cheaper than an SVD of the whole sample.
    values, vectors = np.linalg.eigh((centred.T @ centred).astype(np.float64))
    top = np.argsort(values)[::-1][:dims]
    return mean, np.ascontiguousarray(vectors[:, top].T, dtype=np.float32)


def _project(vectors: np.ndarray, mean: np.ndarray, axes: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    rows = np.arange(len(vectors)) if rows is None else rows
    out = np.empty((len(rows), len(axes)), dtype=np.float32)
    for start in range(0, len(rows), CHUNK):
        part = rows[start : start + CHUNK]
        out[start : start + len(part)] = (np.asarray(vectors[part], dtype=np.float32) - mean) @ axes.T
    return out


def _umap_with_placement(vectors: np.ndarray, mean: np.ndarray, axes: np.ndarray) -> np.ndarray:
    import umap  # heavy (numba): only builds of UMAP_MIN tracks or more import it

    count = len(vectors)
    fitted_rows = np.linspace(0, count - 1, min(count, FIT_MAX)).astype(np.int64)
    fitted = _project(vectors, mean, axes, fitted_rows)
    with warnings.catch_warnings():  # n_jobs and spectral-init notices: not the user's concern
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_neighbors=UMAP_NEIGHBOURS, min_dist=0.1, init="pca", low_memory=True)
        fitted_xy = reducer.fit_transform(fitted).astype(np.float32)
    coords = np.empty((count, 2), dtype=np.float32)
    coords[fitted_rows] = fitted_xy
    rest = np.setdiff1d(np.arange(count), fitted_rows, assume_unique=True)
    if len(rest):
        coords[rest] = _place(vectors, mean, axes, rest, fitted, fitted_xy)
    return coords


def _place(
    vectors: np.ndarray, mean: np.ndarray, axes: np.ndarray, rows: np.ndarray, fitted: np.ndarray, xy: np.ndarray
) -> np.ndarray:
    """Each row at the distance-weighted mean of its nearest fitted tracks' map positions."""
    index = _neighbour_index(fitted)
    out = np.empty((len(rows), 2), dtype=np.float32)
    for start in range(0, len(rows), CHUNK):
        part = rows[start : start + CHUNK]
        distances, neighbours = index.search(_project(vectors, mean, axes, part), PLACE_NEIGHBOURS)
        weights = 1.0 / (np.sqrt(np.maximum(distances, 0)) + 1e-6)
        weights /= weights.sum(axis=1, keepdims=True)
        out[start : start + len(part)] = (xy[neighbours] * weights[..., None]).sum(axis=1)
    return out


def _neighbour_index(fitted: np.ndarray) -> faiss.Index:
    """Exact search among few fitted tracks; inverted lists among many, so placing millions of tracks
    costs seconds, not hours (a track's 10 nearest fitted ones need not be exact to place it)."""
    dim = fitted.shape[1]
    if len(fitted) < PLACE_IVF_MIN:
        index = faiss.IndexFlatL2(dim)
    else:
        lists = int(4 * np.sqrt(len(fitted)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, lists)
        index.train(fitted)
        index.nprobe = PLACE_PROBES
    index.add(fitted)
    return index


def _unit_square(coords: np.ndarray) -> np.ndarray:
    """Scaled into [0, 1] on both axes alike (the shape kept), centred."""
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = float((high - low).max()) or 1.0
    centred = (coords - (low + high) / 2) / span + 0.5
    return centred.astype(np.float32)
