"""The learner on its own (storage.listeners.fitting): the stretch's algebra, the principal subspace, how answers become
constraints, and the guard that keeps the plain cosine when the answers do not clearly beat it."""

from __future__ import annotations

import numpy as np

from storage.index.vectors import normalise
from storage.listeners.answers import Judgement
from storage.listeners.fitting import MIN_TRIPLETS, Answers, Stretch, agreement, learn, principal_subspace, stretch_for
from storage.listeners.metrics import answers_in, listener_key


def planted(n: int = 400, dim: int = 24, strength: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of 8 loud groups, plus a faint two-valued attribute along one axis."""
    rng = np.random.default_rng(seed)
    groups = rng.standard_normal((8, dim))
    attribute = rng.integers(0, 2, n)
    vectors = groups[rng.integers(0, 8, n)] + 0.5 * rng.standard_normal((n, dim))
    vectors[:, -1] += strength * np.where(attribute == 1, 3.0, -3.0)
    return normalise(vectors), attribute


def triplets_by(vectors: np.ndarray, attribute: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """(kept, kept, odd) rows: a track and two of its 10 nearest, answered by the attribute."""
    rng = np.random.default_rng(seed)
    out: list[tuple[int, ...]] = []
    while len(out) < count:
        a = int(rng.integers(len(vectors)))
        near = np.argsort(-(vectors @ vectors[a]))[1:11]
        b, c = (int(x) for x in rng.choice(near, 2, replace=False))
        values = attribute[[a, b, c]]
        if values.min() != values.max():
            odd = [a, b, c][int(np.flatnonzero(values == np.bincount(values, minlength=2).argmin())[0])]
            out.append((*(t for t in (a, b, c) if t != odd), odd))
    return np.array(out)


def no_pairs() -> np.ndarray:
    return np.zeros((0, 2), np.int64)


def test_the_stretch_is_the_plain_cosine_at_rank_zero_and_stretches_along_its_basis() -> None:
    rng = np.random.default_rng(0)
    unit = normalise(rng.standard_normal((5, 6)))
    assert np.allclose(Stretch.identity(6).apply(unit), unit, atol=1e-6)
    axis = np.eye(6, dtype=np.float32)[:, :1]
    moved = stretch_for(np.eye(6, dtype=np.float32), axis, 3.0).apply(unit)  # along axis 0: x2 (sqrt(1 + 3))
    expected = unit.copy()
    expected[:, 0] *= 2
    assert np.allclose(moved, normalise(expected), atol=1e-6)


def test_the_principal_subspace_is_orthonormal_and_holds_the_main_variation() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((3000, 40)) * np.r_[np.full(4, 5.0), np.ones(36)]
    basis = principal_subspace(vectors.astype(np.float32), count=4)
    assert np.allclose(basis.T @ basis, np.eye(4), atol=1e-4)
    assert np.abs(basis[:4]).sum(axis=0).min() > 0.9  # the four loud axes


def test_answers_by_an_attribute_are_learned_and_agree_on_unseen_triplets() -> None:
    vectors, attribute = planted(strength=0.4)
    answers = Answers(vectors, triplets_by(vectors, attribute, 100), no_pairs(), no_pairs())
    found = learn(answers, principal_subspace(vectors))
    unseen = triplets_by(vectors, attribute, 300, seed=9)
    assert found.stretch.rank >= 1 and found.agreement_after >= found.agreement_before + 0.05
    assert agreement(found.stretch.apply(vectors), unseen).mean() >= agreement(vectors, unseen).mean() + 0.1


def test_random_answers_and_too_few_keep_the_plain_cosine() -> None:
    vectors, _ = planted()
    rng = np.random.default_rng(3)
    random = np.array([rng.choice(len(vectors), 3, replace=False) for _ in range(80)])
    assert learn(Answers(vectors, random, no_pairs(), no_pairs()), principal_subspace(vectors)).stretch.rank == 0
    vectors, attribute = planted()
    few = triplets_by(vectors, attribute, MIN_TRIPLETS - 1)
    found = learn(Answers(vectors, few, no_pairs(), no_pairs()), principal_subspace(vectors))
    assert found.stretch.rank == 0 and found.agreement_after == found.agreement_before


def test_answers_become_rows_without_cant_say_or_tracks_the_model_lacks(tmp_path) -> None:
    from storage.index.vectors import VectorIndex, write_index

    vectors = normalise(np.random.default_rng(0).standard_normal((6, 8)).astype(np.float32))
    meta = {"model": "mule", "revision": "r", "vectors_version": 1}
    write_index(tmp_path, iter([(np.arange(1, 7), vectors)]), 6, 8, meta)
    index = VectorIndex.open_current(tmp_path)
    said = [
        Judgement("ana", (1, 2, 3), odd=2),
        Judgement("ana", (1, 2, 4), odd=None),  # can't say
        Judgement("ana", (1, 2, 99), odd=99),  # a track without this model's vector
        Judgement("ana", (5, 6), verdict=1),
        Judgement("ana", (5, 1), verdict=-1),
    ]
    answers = answers_in(index, said)
    ids = np.array([1, 2, 3, 5, 6])  # the answered tracks with a vector, in id order
    assert np.allclose(answers.vectors, vectors[ids - 1])
    named = lambda rows: [tuple(int(ids[r]) for r in row) for row in rows]  # noqa: E731
    assert named(answers.triplets) == [(1, 3, 2)] and named(answers.alike) == [(5, 6)]
    assert named(answers.unlike) == [(5, 1)]


def test_listener_folders_are_readable_and_distinct() -> None:
    assert listener_key("Ana Lune").startswith("ana-lune-")
    assert listener_key("ana lune") != listener_key("Ana Lune") and listener_key("../..").startswith("listener-")
