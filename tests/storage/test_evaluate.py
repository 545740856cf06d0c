"""`indexer evaluate`: its numbers equal an independent numpy computation on the stored vectors, on SQLite
and PostgreSQL, with and without re-ranking; the JSON contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select

from indexer.commands.main import main as indexer
from storage.db.schema import Embedding, Track
from storage.read.catalog import Catalog
from tests.storage.conftest import fill_store

K = 5


def labelled_vectors(n: int = 90, dim: int = 24, seed: int = 7) -> np.ndarray:
    """Track i lies in folder "album {i % 3}" (fill_store's layout): vectors clustered by that folder."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, dim)).astype(np.float32)
    return (centres[np.arange(n) % 3] + 1.2 * rng.standard_normal((n, dim))).astype(np.float32)


def numpy_metrics(data_dir, rerank: bool) -> dict[str, float]:
    """The same metrics, from the database rows alone."""
    catalog = Catalog.open(data_dir)
    with catalog.sessions() as s:
        rows = s.execute(
            select(Embedding.track_id, Embedding.vector, Track.path, Track.album, Track.artist).join(Track)
        ).all()
    rows = sorted(rows)
    ids = np.array([r[0] for r in rows])
    unit = np.stack([np.frombuffer(r[1], "<f4") for r in rows])
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    folder = np.array([r[2].rsplit("/", 2)[-2] for r in rows])
    album = np.array([f"{(r[4] or '').casefold()}|{(r[3] or '').casefold()}" for r in rows])
    sims = unit @ unit.T
    own = sims.copy()
    np.fill_diagonal(own, -np.inf)
    density = np.sort(own, axis=1)[:, ::-1][:, :10].mean(1)  # CSLS's r: mean cosine to the 10 nearest
    p, ap, hit = [], [], []
    for q in range(len(ids)):
        allowed = album != album[q]
        relevant = allowed & (folder == folder[q])
        if not relevant.any():
            continue
        cand = np.flatnonzero(allowed)
        cand = cand[np.argsort(-sims[q, cand], kind="stable")]
        if rerank:
            cand = cand[: 4 * K]
            cand = cand[np.argsort(-(2 * sims[q, cand] - density[cand]), kind="stable")]
        rel = relevant[cand[:K]].astype(float)
        p.append(rel.sum() / K)
        ap.append(float((np.cumsum(rel) / np.arange(1, K + 1) * rel).sum() / min(relevant.sum(), K)))
        hit.append(float(rel.any()))
    return {"queries": len(p), "precision_at_k": np.mean(p), "map": np.mean(ap), "hit_rate": np.mean(hit)}


def test_evaluate_equals_numpy_on_the_stored_vectors(tmp_path, backend, capsys):
    fill_store(tmp_path / "data", labelled_vectors())
    assert (
        indexer(["evaluate", "--label", "folder", "--k", str(K), "--json", "--data-dir", str(tmp_path / "data")]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert (out["label"], out["k"]) == ("folder", K)
    assert [(r["model"], r["rerank"]) for r in out["results"]] == [("mule", None), ("mule", "csls")]
    for result in out["results"]:
        expected = numpy_metrics(tmp_path / "data", rerank=result["rerank"] is not None)
        assert result["queries"] == expected["queries"] == 90
        for metric in ("precision_at_k", "map", "hit_rate"):
            assert result[metric] == pytest.approx(expected[metric], abs=1e-6), metric
    assert out["results"][0]["precision_at_k"] > 0.5  # the clusters are found


def test_the_table_and_bad_labels(tmp_path, capsys):
    fill_store(tmp_path / "data", labelled_vectors(30))
    assert indexer(["evaluate", "--label", "artist", "--quiet", "--data-dir", str(tmp_path / "data")]) == 0
    table = capsys.readouterr().out
    assert "label: artist, k=10" in table and "mule" in table and "P@k" in table
    assert indexer(["evaluate", "--label", "style", "--data-dir", str(tmp_path / "data")]) == 2
    assert "needs MAEST's style tags" in capsys.readouterr().err
