"""Hubs: tracks that turn up in everybody's nearest neighbours (a property of high-dimensional embeddings).

Each index build (up to HUBS_MAX tracks) computes every track's K_CANDIDATES nearest neighbours by cosine
(FAISS inner product over the vectors projected on their first REDUCED_DIMS uncentred principal axes,
renormalised: the exact graph costs n^2 x dim, this a 13th of that for MULE) and keeps, per track:
- its k-occurrence N_k: how many tracks have it among their K nearest;
- its neighbourhood density r: the mean cosine to its own K nearest (what CSLS subtracts).
CSLS (cross-domain similarity local scaling, Conneau et al. 2018) re-ranks a query's candidates by
2 cos(q, x) - r_x (r_q is the same for every candidate): a track that is near everything pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

if TYPE_CHECKING:
    from storage.index.vectors import VectorIndex

K = 10
K_CANDIDATES = 50  # neighbours kept per track: CSLS re-ranks among them
REDUCED_DIMS = 128
HUBS_MAX = 200_000
HUBS_FILE = "hubs.npz"
RERANKINGS = ("csls",)


def csls_rerank(index: VectorIndex, ids: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidates re-ordered by 2 cos - r (r: each track's neighbourhood density); the cosines are kept."""
    assert index.hubs is not None
    density = index.hubs.density[index.rows(ids)]
    order = np.argsort(-(2 * scores - density), kind="stable")
    return ids[order], scores[order]


@dataclass(frozen=True)
class HubStats:
    occurrence: np.ndarray  # (n,) int32: N_K of each row
    density: np.ndarray  # (n,) float32: mean cosine of each row to its K nearest
    skewness: float  # of N_K
    csls_skewness: float  # of N_K once the K nearest are chosen by CSLS

    def save(self, path: Path) -> None:
        np.savez(path, occurrence=self.occurrence, density=self.density, skew=[self.skewness, self.csls_skewness])

    @classmethod
    def load(cls, path: Path) -> HubStats:
        with np.load(path) as data:
            skew = data["skew"]
            return cls(data["occurrence"], data["density"], float(skew[0]), float(skew[1]))


def skewness(values: np.ndarray) -> float:
    x = np.asarray(values, np.float64)
    spread = x.std()
    return float(((x - x.mean()) ** 3).mean() / spread**3) if spread > 0 else 0.0


def reduced(vectors: np.ndarray, dims: int = REDUCED_DIMS, sample: int = 20_000) -> np.ndarray:
    """Normalised rows projected on their first `dims` principal axes, renormalised (as they are if narrower)."""
    x = np.asarray(vectors, np.float32)
    if x.shape[1] <= dims:
        return np.ascontiguousarray(x)
    rows = x[:: max(1, len(x) // sample)].astype(np.float64)
    # Uncentred (the rows' second moment, as an SVD of them): the rank-`dims` projection that best keeps
    # their inner products, the direction every vector shares included.
    values, axes = np.linalg.eigh(rows.T @ rows)
    basis = axes[:, np.argsort(values)[::-1][:dims]].astype(np.float32)
    out = x @ basis
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(out)


def neighbour_graph(vectors: np.ndarray, k: int, block: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest other rows by inner product: (indices (n, k), similarities (n, k))."""
    n = len(vectors)
    k = min(k, n - 1)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    found_ids = np.empty((n, k), np.int64)
    found_sims = np.empty((n, k), np.float32)
    for lo in range(0, n, block):
        sims, ids = index.search(vectors[lo : lo + block], k + 1)
        for row, (row_ids, row_sims) in enumerate(zip(ids, sims, strict=True), start=lo):
            keep = row_ids != row  # itself (usually first; a duplicate vector may come before it)
            found_ids[row], found_sims[row] = row_ids[keep][:k], row_sims[keep][:k]
    return found_ids, found_sims


def occurrence(neighbours: np.ndarray, n: int) -> np.ndarray:
    """N_k: how many rows list each row among their neighbours."""
    return np.bincount(neighbours.ravel(), minlength=n).astype(np.int32)


def csls_order(candidates: np.ndarray, similarities: np.ndarray, density: np.ndarray) -> np.ndarray:
    """Each row's candidates re-ordered by 2 cos - r (best first)."""
    scores = 2 * similarities - density[candidates]
    return np.take_along_axis(candidates, np.argsort(-scores, axis=1, kind="stable"), axis=1)


def hub_stats(vectors: np.ndarray, k: int = K) -> HubStats | None:
    """The hub statistics of normalised rows (None for fewer than k + 2 rows)."""
    n = len(vectors)
    if n < k + 2:
        return None
    candidates, sims = neighbour_graph(reduced(vectors), K_CANDIDATES)
    density = sims[:, :k].mean(1).astype(np.float32)
    plain = occurrence(candidates[:, :k], n)
    rescored = occurrence(csls_order(candidates, sims, density)[:, :k], n)
    return HubStats(plain, density, skewness(plain), skewness(rescored))
