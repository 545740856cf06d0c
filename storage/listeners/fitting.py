"""A listener's similarity, learned from their answers: the model's space stretched along the few directions
their answers say matter, held to the model's own cosine unless the answers clearly say otherwise.

The metric is linear: T = I + B diag(g) Bᵀ, B a few orthonormal directions, and two tracks compare by the
cosine of T x̂ and T ŷ (x̂: the unit vector the index compares; distances along B count (1 + g)² times as
much). That is a Mahalanobis metric M = TᵀT of low rank on top of the identity: with g = 0 it is the model's
cosine exactly, and searching with it is an ordinary index search over the transformed vectors.

Fitting (numpy, seconds at a million tracks: nothing but the answered tracks and a sample touches memory):
- directions live in the catalog's top principal subspace (its first 32 or 128 directions, from a sample):
  the answers choose among directions the catalog really varies along, so 50 answers cannot chase noise in
  1,728 dims (an attribute the catalog hardly varies along cannot be learned: docs/teach.md);
- in it, the directions along which the pairs an answer sets apart (the odd one and each of the others)
  differ most relative to the pair it keeps together: the top generalised eigenvectors of their scatters;
- which subspace, how many directions (RANKS) and how much stretch (STRETCHES, gain g = sqrt(1 + k) - 1) by
  FOLDS-fold cross-validation
  of triplet agreement; kept only when it beats the plain cosine on held-out answers by at least
  max(2 standard errors, MARGIN). A listener answering at random is left with the plain cosine.
- "held-out agreement" before/after: the plain cosine on every answered triplet, against the whole fitting
  procedure (selection included) scored on answers it did not see (nested cross-validation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from storage.index.deltas import MergedRows
from storage.index.vectors import stretched

SUBSPACES = (32, 128)  # principal directions the learned ones are drawn from (the first 32, or 128)
SAMPLE = 10_000  # catalog rows the principal directions are estimated on
RANKS = (1, 2)
STRETCHES = (3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)  # k: along B, squared distances count 1 + k times as much
FOLDS = 5
MARGIN = 0.05  # the least gain in held-out agreement a learned metric must show over the plain cosine
MIN_TRIPLETS = 10  # fewer odd-one-out answers: nothing to learn from yet
RIDGE = 0.1  # the kept pairs' scatter is shrunk toward its mean variance (few answers, 32 dims)


@dataclass(frozen=True)
class Stretch:
    """T = I + basis diag(gain) basisᵀ on unit vectors, the result normalised (rank 0: the identity)."""

    basis: np.ndarray  # (dim, rank), orthonormal columns
    gain: np.ndarray  # (rank,)

    @classmethod
    def identity(cls, dim: int) -> Stretch:
        return cls(np.zeros((dim, 0), np.float32), np.zeros(0, np.float32))

    @property
    def rank(self) -> int:
        return int(self.basis.shape[1])

    def apply(self, unit: np.ndarray) -> np.ndarray:
        """Rows (already in the index's space) in the learned one, normalised."""
        return stretched(unit, self.basis, self.gain)


@dataclass(frozen=True)
class Answers:
    """Answers as rows of `vectors`: each triplet (kept, kept, odd); thumbs as pairs said alike or not."""

    vectors: np.ndarray  # (tracks, dim) unit, in the index's space
    triplets: np.ndarray  # (t, 3) rows: the two kept together, then the odd one
    alike: np.ndarray  # (a, 2) rows said alike (thumbs up)
    unlike: np.ndarray  # (u, 2) rows said not alike (thumbs down)

    def pairs(self, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(kept pairs, apart pairs) of the triplets `chosen` plus every thumb."""
        t = self.triplets[chosen]
        kept = np.concatenate([t[:, [0, 1]], self.alike])
        apart = np.concatenate([t[:, [2, 0]], t[:, [2, 1]], self.unlike])
        return kept, apart


@dataclass(frozen=True)
class Learned:
    stretch: Stretch
    strength: float  # the chosen k (0: the plain cosine)
    triplets: int  # odd-one-out answers it rests on
    thumbs: int
    agreement_before: float  # the plain cosine on the answered triplets
    agreement_after: float  # the fitting procedure on triplets it did not see (nested cross-validation)


def principal_subspace(
    vectors: np.ndarray | MergedRows, count: int = max(SUBSPACES), rng: np.random.Generator | None = None
) -> np.ndarray:
    """(dim, count) orthonormal: the catalog's main directions of variation, from a sample of its rows
    (a randomised range finder with two power iterations: enough for the leading few dozen)."""
    rng = rng or np.random.default_rng(0)
    rows = len(vectors)
    take = np.sort(rng.choice(rows, min(rows, SAMPLE), replace=False))
    sample = np.asarray(vectors[take], np.float64)
    sample -= sample.mean(0)
    count = min(count, sample.shape[1], max(1, len(sample) - 1))
    probe = sample.T @ (sample @ rng.standard_normal((sample.shape[1], count + 10)))
    for _ in range(2):
        probe, _ = np.linalg.qr(probe)
        probe = sample.T @ (sample @ probe)
    basis, _ = np.linalg.qr(probe)
    small = sample @ basis
    _, _, vt = np.linalg.svd(small, full_matrices=False)
    return np.ascontiguousarray((basis @ vt.T)[:, :count], np.float32)


def agreement(vectors: np.ndarray, triplets: np.ndarray) -> np.ndarray:
    """Per triplet (kept, kept, odd), whether the cosine of `vectors` picks the same odd one out: the pair it
    finds most alike is the kept one."""
    if len(triplets) == 0:
        return np.zeros(0, bool)
    a, b, c = (vectors[triplets[:, i]] for i in range(3))
    kept = np.einsum("ij,ij->i", a, b)
    return (kept > np.einsum("ij,ij->i", a, c)) & (kept > np.einsum("ij,ij->i", b, c))


def directions(projected: np.ndarray, kept: np.ndarray, apart: np.ndarray, rank: int) -> np.ndarray:
    """(subspace, rank) orthonormal: the directions along which the apart pairs differ most relative to the
    kept ones (top generalised eigenvectors of the two scatters)."""
    same = projected[kept[:, 0]] - projected[kept[:, 1]]
    other = projected[apart[:, 0]] - projected[apart[:, 1]]
    dim = projected.shape[1]
    kept_scatter = same.T @ same / max(1, len(same))
    apart_scatter = other.T @ other / max(1, len(other))
    level = np.trace(kept_scatter) / dim or np.trace(apart_scatter) / dim or 1.0
    kept_scatter = (1 - RIDGE) * kept_scatter + RIDGE * level * np.eye(dim)
    values, vectors = np.linalg.eigh(kept_scatter)
    whiten = vectors / np.sqrt(np.maximum(values, 1e-12 * level))
    _, top = np.linalg.eigh(whiten.T @ apart_scatter @ whiten)
    found = whiten @ top[:, ::-1][:, :rank]
    basis, _ = np.linalg.qr(found)
    return basis


def stretch_for(subspace: np.ndarray, within: np.ndarray, strength: float) -> Stretch:
    gain = np.full(within.shape[1], np.sqrt(1.0 + strength) - 1.0, np.float32)
    return Stretch(np.ascontiguousarray(subspace @ within, np.float32), gain)


def _folds(count: int, rng: np.random.Generator) -> list[np.ndarray]:
    return [np.sort(f) for f in np.array_split(rng.permutation(count), min(FOLDS, count))]


def select(answers: Answers, subspace: np.ndarray, chosen: np.ndarray) -> tuple[int, int, float]:
    """(subspace size, rank, k) by cross-validation on the triplets `chosen`; rank 0: keep the plain cosine.
    Of the choices within one standard error of the best, the gentlest (least stretch, fewest directions,
    smallest subspace): the asked triplets are the ones the cosine gets wrong, and a stretch that wins on them
    by a hair can still flatten everything else the model hears."""
    if len(chosen) < MIN_TRIPLETS:
        return 0, 0, 0.0
    folds = _folds(len(chosen), np.random.default_rng(len(chosen)))
    plain = agreement(answers.vectors, answers.triplets[chosen]).astype(float)
    tried: list[tuple[float, int, int, np.ndarray]] = []  # (k, rank, size, per-triplet hits)
    for size in sorted({min(p, subspace.shape[1]) for p in SUBSPACES}):
        basis = subspace[:, :size]
        projected = answers.vectors @ basis
        for rank in RANKS:
            hits = {k: np.zeros(len(chosen)) for k in STRETCHES}
            for held in folds:
                train = np.setdiff1d(np.arange(len(chosen)), held)
                kept, apart = answers.pairs(chosen[train])
                within = directions(projected, kept, apart, rank)
                for k in STRETCHES:
                    moved = stretch_for(basis, within, k).apply(answers.vectors)
                    hits[k][held] = agreement(moved, answers.triplets[chosen[held]])
            tried += [(k, rank, size, found) for k, found in hits.items()]
    best = max(tried, key=lambda t: t[3].mean())[3]
    near = best.mean() - _error(best)
    k, rank, size, found = min((t for t in tried if t[3].mean() >= near), key=lambda t: t[:3])
    gain = found - plain
    return (size, rank, k) if gain.mean() >= max(2 * _error(gain), MARGIN) else (0, 0, 0.0)


def _error(values: np.ndarray) -> float:
    """The standard error of a mean of per-triplet values."""
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("inf")


def _fit_chosen(answers: Answers, subspace: np.ndarray, chosen: np.ndarray) -> tuple[Stretch, float] | None:
    """The stretch cross-validation picks for the triplets `chosen`, fitted on all of them, and its k (None:
    the plain cosine)."""
    size, rank, k = select(answers, subspace, chosen)
    if not rank:
        return None
    kept, apart = answers.pairs(chosen)
    basis = subspace[:, :size]
    return stretch_for(basis, directions(answers.vectors @ basis, kept, apart, rank), k), k


def learn(answers: Answers, subspace: np.ndarray) -> Learned:
    """The listener's metric from their answers (`subspace`: principal_subspace of the catalog)."""
    every = np.arange(len(answers.triplets))
    before = agreement(answers.vectors, answers.triplets)
    stretch, k = _fit_chosen(answers, subspace, every) or (Stretch.identity(answers.vectors.shape[1]), 0.0)
    after = before.astype(float).copy()
    if len(every) >= 2 * MIN_TRIPLETS:  # fewer: no held-out figure beyond the plain cosine's own
        for held in _folds(len(every), np.random.default_rng(0)):
            inner = _fit_chosen(answers, subspace, np.setdiff1d(every, held))
            if inner is not None:
                after[held] = agreement(inner[0].apply(answers.vectors), answers.triplets[held])
    return Learned(
        stretch,
        k,
        len(every),
        len(answers.alike) + len(answers.unlike),
        float(before.mean()) if len(before) else 0.0,
        float(after.mean()) if len(after) else 0.0,
    )
