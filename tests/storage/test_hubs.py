"""Hubs: k-occurrence is a true count, CSLS re-ranking cuts its skewness on planted hubs without costing
precision, and the index, CLI, status and page carry it."""

from __future__ import annotations

import json

import numpy as np

from indexer.commands.lookup import main as query
from storage.index.hubs import csls_order, hub_stats, neighbour_graph, occurrence, skewness
from storage.index.vectors import normalise
from storage.read.catalog import Catalog
from tests.storage.conftest import fill_store


def planted(seed: int = 0, labels: int = 20, per_label: int = 30, hubs: int = 12, dim: int = 128):
    """Loose labelled clusters in 128 dimensions (where hubs arise by themselves), plus tracks planted at
    the middle of everything, each with a random label."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((labels, dim)).astype(np.float32)
    label = np.repeat(np.arange(labels), per_label)
    vectors = centres[label] + 3.0 * rng.standard_normal((len(label), dim)).astype(np.float32)
    middle = centres.mean(0) + 0.05 * rng.standard_normal((hubs, dim)).astype(np.float32)
    vectors = np.concatenate([vectors, middle])
    label = np.concatenate([label, rng.integers(0, labels, hubs)])
    return normalise(vectors), label


def precision_at(neighbours: np.ndarray, label: np.ndarray, k: int = 10) -> float:
    return float((label[neighbours[:, :k]] == label[:, None]).mean())


def test_k_occurrence_is_a_brute_force_count():
    vectors, _ = planted(seed=1)
    ids, _ = neighbour_graph(vectors, 10)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    brute = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    assert np.array_equal(occurrence(ids, len(vectors)), np.bincount(brute.ravel(), minlength=len(vectors)))
    stats = hub_stats(vectors)
    assert stats is not None and np.array_equal(stats.occurrence, occurrence(ids, len(vectors)))


def test_csls_halves_the_skew_of_planted_hubs_without_losing_precision():
    vectors, label = planted()
    candidates, sims = neighbour_graph(vectors, 50)
    density = sims[:, :10].mean(1)
    rescored = csls_order(candidates, sims, density)
    before = skewness(occurrence(candidates[:, :10], len(vectors)))
    after = skewness(occurrence(rescored[:, :10], len(vectors)))
    assert after <= 0.5 * before, (before, after)
    assert precision_at(rescored, label) >= precision_at(candidates, label)
    stats = hub_stats(vectors)
    assert stats is not None and (stats.skewness, stats.csls_skewness) == (before, after)


def test_the_index_keeps_hub_stats_and_queries_rerank(tmp_path, capsys):
    vectors, _ = planted(seed=2)
    fill_store(tmp_path / "data", vectors)
    index = Catalog.open(tmp_path / "data").index()
    assert index.hubs is not None and index.hubs.occurrence.sum() == 10 * len(vectors)
    hub = int(index.ids[int(np.argmax(index.hubs.occurrence))])
    data = ["--data-dir", str(tmp_path / "data"), "--json", "-k", "10"]
    shown = {"plain": 0, "csls": 0}
    for track in range(1, 200, 7):
        for mode, extra in (("plain", []), ("csls", ["--rerank", "csls"])):
            assert query([str(track), *data, *extra]) == 0
            out = json.loads(capsys.readouterr().out)
            assert out["rerank"] == (None if mode == "plain" else "csls")
            shown[mode] += hub in [n["id"] for n in out["neighbours"]]
    assert shown["csls"] < shown["plain"]  # the most common hub turns up in fewer lists
    from indexer.commands.summary import format_status

    status = format_status(Catalog.open(tmp_path / "data"))
    assert "hubs: 10-occurrence skewness" in status and "with --rerank csls" in status and "always there:" in status
