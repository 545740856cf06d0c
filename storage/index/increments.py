"""Track-index updates without a full rebuild: what changed goes on top of the build in force.

A full build (storage.index.vectors.write_index) trains the index, lays out every vector and computes the map,
the hub statistics and the pair sample: at a million tracks, many minutes. When only some tracks changed,
a new build is made from the one in force instead, in one of two ways (`plan`):

- **layer** (seconds, whatever the catalog's size): the base files (vectors, ids, FAISS codes, centre) are
  hard links to the current build's, immutable; the new or changed vectors lie beside them as a small
  exact-scanned block and the removed or changed base tracks are hidden (storage.index.deltas). Searches ask the
  base with the hidden excluded and the block exactly, then re-score both in float32, as always.
- **fold** (when the layer passes its bounds): the layer is folded into a new base. The trained IVF
  or IVF-PQ index is reused (FAISS removes and adds vectors by id on a trained index), an exact one is
  re-encoded; nothing is retrained, the map is not refitted.

Either way the derived files follow without recomputing the catalog: a new track is placed on the map at
the similarity-weighted mean of its nearest tracks' points, gets its neighbourhood density from them
(CSLS) and an estimated k-occurrence; the pair sample is redrawn once the build drifted past PAIRS_REFRESH
of its tracks. A **full** rebuild (retraining, refitting) happens when the data drifted: the catalog grew
or shrank past GROWTH_MAX times the count the IVF was trained on, its lists' imbalance passed
IMBALANCE_MAX, or the index kind the count calls for changed; and when asked (`indexer reindex MODEL`).
Each update is a new build, swapped in like any other: a reader sees the old build or the new one whole.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from storage.index.catalog_map import MAP_FILE, PLACE_NEIGHBOURS
from storage.index.deltas import MergedRows, merge_rows, save_delta
from storage.index.gpu import gpu_list_adder
from storage.index.hubs import HUBS_FILE, HUBS_MAX, HubStats, K
from storage.index.vectors import (
    CENTRE_FILE,
    COMPRESSED_MIN,
    EXACT_MAX,
    IVF_KINDS,
    PAIRS_FILE,
    IndexMeta,
    VectorIndex,
    choose_kind,
    index_files,
    new_build,
    new_faiss,
    pair_cosines,
)

log = logging.getLogger(__name__)

LAYER_MIN_ROWS = 1_000  # a layer may always hold this many changes...
LAYER_FRACTION = 0.05  # ...or this share of the base, whichever is larger,
LAYER_MAX_ROWS = 20_000  # but never more added rows than this (an exact scan: ~5 ms a query at 1728-d)
GROWTH_MAX = 2.0  # an IVF is retrained once the catalog has grown (or shrunk) by this factor since training
IMBALANCE_MAX = 3.0  # ...or once its lists are this unbalanced (FAISS's imbalance factor; 1 = even)
PAIRS_REFRESH = 0.01  # the pair sample is redrawn once this share of the tracks changed since it was drawn
CHUNK = 65_536  # rows a step when writing a folded base


@dataclass(frozen=True)
class Changes:
    """What changed in a model's vectors since a build."""

    ids: np.ndarray  # sorted int64: tracks whose vector is new or changed
    vectors: np.ndarray  # (len(ids), dim) float32, as stored (the build's space is applied here)
    removed: np.ndarray  # sorted int64: tracks of the build that no longer have a vector
    version: int  # the model's vectors version these changes bring the index to


@dataclass(frozen=True)
class Policy:
    """The bounds of `plan` (tests and benchmarks move them)."""

    layer_min_rows: int = LAYER_MIN_ROWS
    layer_fraction: float = LAYER_FRACTION
    layer_max_rows: int = LAYER_MAX_ROWS
    growth_max: float = GROWTH_MAX
    imbalance_max: float = IMBALANCE_MAX
    exact_max: int = EXACT_MAX
    compressed_min: int = COMPRESSED_MIN


def _layer_ids(current: VectorIndex, changes: Changes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gone, added ids, hidden ids) of the layer `changes` make on `current`: `gone` are the tracks whose
    vector in `current` no longer holds; the added ids are sorted."""
    gone = np.union1d(changes.removed, changes.ids)
    added_ids = np.union1d(np.setdiff1d(current.added_ids, gone), changes.ids).astype(np.int64)
    hidden = np.union1d(current.hidden, np.intersect1d(current.base_ids, gone)).astype(np.int64)
    return gone, added_ids, hidden


def plan(current: VectorIndex, changes: Changes, policy: Policy = Policy()) -> str:
    """ "layer", "fold" or "full": how to bring `current` up to `changes` (module docstring)."""
    _, added_ids, hidden = _layer_ids(current, changes)
    count = len(current.base_ids) - len(hidden) + len(added_ids)
    if count == 0:
        return "full"
    kind, params = choose_kind(count, policy.exact_max, policy.compressed_min, current.meta.dim)
    if kind != current.meta.kind:
        return "full"
    trained = int(current.meta.params.get("trained_count", len(current.base_ids)))
    if kind in IVF_KINDS and not trained / policy.growth_max <= count <= trained * policy.growth_max:
        return "full"
    bound = max(policy.layer_min_rows, policy.layer_fraction * len(current.base_ids))
    if len(added_ids) + len(hidden) > bound or len(added_ids) > policy.layer_max_rows:
        return "fold"
    if kind == "exact-fp16" and params.get("shards", 1) != current.meta.params.get("shards", 1):
        return "fold"
    return "layer"


@dataclass(frozen=True)
class _Layer:
    """The changes on top of the base after an update."""

    added_ids: np.ndarray
    added_vectors: np.ndarray  # in the build's space
    hidden: np.ndarray
    gone: np.ndarray  # tracks whose vector in the current build no longer holds (removed or changed)
    fresh: np.ndarray  # the changed and new vectors, in the build's space (rows of Changes.ids)


def _next_layer(current: VectorIndex, changes: Changes) -> _Layer:
    gone, added_ids, hidden = _layer_ids(current, changes)
    dim = current.meta.dim
    fresh = np.asarray(current.prepare(changes.vectors), np.float32) if len(changes.ids) else np.empty((0, dim))
    keep = ~np.isin(current.added_ids, gone)
    # The vectors in the order of `added_ids` (sorted): the kept ones, then the fresh ones, sorted together.
    kept_then_fresh = np.concatenate([current.added_ids[keep], changes.ids])
    vectors = np.concatenate([current.added_vectors[keep], fresh]).astype(np.float32)
    vectors = vectors[np.argsort(kept_then_fresh, kind="stable")]
    return _Layer(added_ids, vectors, hidden, gone, fresh.astype(np.float32))


def update_index(
    model_dir: Path, current: VectorIndex, changes: Changes, how: str, policy: Policy = Policy()
) -> IndexMeta | None:
    """A new build of `current` with `changes` ("layer" or "fold"), swapped in; None (nothing written) when
    folding would unbalance the IVF past the policy's bound: the caller rebuilds in full."""
    started = time.perf_counter()
    layer = _next_layer(current, changes)
    ids, source = merge_rows(current.base_ids, layer.hidden, layer.added_ids)
    folded_ivf = None
    if how == "fold" and current.approximate:
        folded_ivf = _fold_ivf(current, layer, policy)
        if folded_ivf is None:
            return None
    with new_build(model_dir) as tmp:
        if how == "fold":
            params = _write_fold(tmp, current, ids, MergedRows(current.base_vectors, layer.added_vectors, source))
            if folded_ivf is not None:
                faiss.write_index(folded_ivf, str(tmp / "index.faiss"))
            rows: np.ndarray | MergedRows = np.load(tmp / "vectors.npy", mmap_mode="r")
        else:
            _link_base(current, tmp)
            save_delta(tmp, layer.added_ids, layer.added_vectors, layer.hidden)
            params = dict(current.meta.params)
            rows = MergedRows(current.base_vectors, layer.added_vectors, source)
        params["trained_count"] = int(current.meta.params.get("trained_count", len(current.base_ids)))
        params.pop("layer", None)
        if how == "layer":
            params["layer"] = {"added": len(layer.added_ids), "hidden": len(layer.hidden)}
        drift = int(current.meta.params.get("pairs_drift", 0)) + len(layer.gone)
        if current.pairs is None or drift > PAIRS_REFRESH * max(1, len(ids)):
            np.save(tmp / PAIRS_FILE, pair_cosines(rows))
            drift = 0
        else:
            np.save(tmp / PAIRS_FILE, np.asarray(current.pairs))
        params["pairs_drift"] = drift
        _write_derived(tmp, current, ids, changes.ids, layer)
        info = IndexMeta(
            model=current.meta.model,
            revision=current.meta.revision,
            kind=current.meta.kind,
            params=params,
            count=len(ids),
            dim=current.meta.dim,
            vectors_version=changes.version,
            built_at=time.time(),
            build_seconds=time.perf_counter() - started,
        )
        (tmp / "meta.json").write_text(json.dumps(info.__dict__))
    log.info(
        "index of %s %s: %d added or changed, %d removed, now %d tracks, %.1f s",
        model_dir.name,
        "updated" if how == "layer" else "folded",
        len(changes.ids),
        len(changes.removed),
        len(ids),
        info.build_seconds,
    )
    return info


def _link_base(current: VectorIndex, tmp: Path) -> None:
    """The base files of the new build: hard links to the current build's (never written again)."""
    names = ["vectors.npy", "ids.npy", *index_files(current.meta.kind, current.meta.params)]
    if (current.directory / CENTRE_FILE).exists():
        names.append(CENTRE_FILE)
    for name in names:
        os.link(current.directory / name, tmp / name)


def _write_fold(tmp: Path, current: VectorIndex, ids: np.ndarray, rows: MergedRows) -> dict:
    """A new base holding every row in force (vectors, ids; an exact index re-encoded); its parameters."""
    count, dim = len(ids), current.meta.dim
    vectors = np.lib.format.open_memmap(tmp / "vectors.npy", mode="w+", dtype=np.float32, shape=(count, dim))
    for first in range(0, count, CHUNK):
        vectors[first : first + CHUNK] = rows[first : first + CHUNK]
    np.save(tmp / "ids.npy", ids)
    if (current.directory / CENTRE_FILE).exists():
        os.link(current.directory / CENTRE_FILE, tmp / CENTRE_FILE)
    params = dict(current.meta.params)
    if not current.approximate:
        params["shards"] = choose_kind(count)[1]["shards"]
        files = index_files(current.meta.kind, params)
        bounds = np.linspace(0, count, len(files) + 1).astype(int)
        for file, lo, hi in zip(files, bounds[:-1], bounds[1:], strict=True):
            index = new_faiss(current.meta.kind, params, dim)
            for first in range(lo, hi, CHUNK):
                last = min(hi, first + CHUNK)
                index.add_with_ids(np.ascontiguousarray(vectors[first:last]), ids[first:last])
            faiss.write_index(index, str(tmp / file))
    vectors.flush()
    del vectors
    return params


def _fold_ivf(current: VectorIndex, layer: _Layer, policy: Policy) -> faiss.Index | None:
    """The current IVF index (trained: kept) less the hidden tracks, plus the added ones; None when its lists
    would be unbalanced past the policy's bound."""
    index = faiss.read_index(str(current.directory / "index.faiss"))  # whole, writable
    ivf = faiss.extract_index_ivf(index)
    if len(layer.hidden):
        index.remove_ids(faiss.IDSelectorBatch(layer.hidden))
    add = gpu_list_adder(ivf) or index.add_with_ids
    for first in range(0, len(layer.added_ids), CHUNK):
        add(
            np.ascontiguousarray(layer.added_vectors[first : first + CHUNK]),
            np.ascontiguousarray(layer.added_ids[first : first + CHUNK]),
        )
    imbalance = ivf.invlists.imbalance_factor()
    if imbalance > policy.imbalance_max:
        log.info("%s: IVF lists unbalanced (%.2f): retraining", current.meta.model, imbalance)
        return None
    return index


def _write_derived(tmp: Path, current: VectorIndex, ids: np.ndarray, new_ids: np.ndarray, layer: _Layer) -> None:
    """The map and the hub statistics of the new build: carried for the tracks kept, estimated for the new
    ones from their nearest tracks in the current build (module docstring)."""
    if current.map is None and current.hubs is None:
        return
    before = current.rows(ids)  # each track's row in the current build
    carried = (before >= 0) & ~np.isin(ids, new_ids)
    at_new = np.searchsorted(ids, new_ids)  # new_ids are sorted, all in ids
    k = max(PLACE_NEIGHBOURS, K)
    neighbour_ids, scores = current.neighbours(layer.fresh, k, exclude=layer.gone)
    neighbour_rows = np.where(neighbour_ids >= 0, current.rows(np.maximum(neighbour_ids, 0)), -1)
    if current.map is not None:
        points = np.full((len(ids), 2), 0.5, np.float32)
        points[carried] = current.map[before[carried]]
        found = neighbour_rows[:, :PLACE_NEIGHBOURS] >= 0
        weights = np.where(found, np.maximum(scores[:, :PLACE_NEIGHBOURS], 0) + 1e-6, 0)
        xy = current.map[np.maximum(neighbour_rows[:, :PLACE_NEIGHBOURS], 0)]
        total = weights.sum(1, keepdims=True)
        points[at_new] = np.where(total > 0, (xy * weights[..., None]).sum(1) / np.maximum(total, 1e-12), 0.5)
        np.save(tmp / MAP_FILE, points)
    if current.hubs is not None and len(ids) <= HUBS_MAX:
        hubs = current.hubs
        occurrence = np.zeros(len(ids), np.int32)
        density = np.zeros(len(ids), np.float32)
        occurrence[carried] = hubs.occurrence[before[carried]]
        density[carried] = hubs.density[before[carried]]
        found = neighbour_rows[:, :K] >= 0
        near = np.where(found, scores[:, :K], 0)
        density[at_new] = near.sum(1) / np.maximum(found.sum(1), 1)
        # A new track's N_k: how many of its K nearest it is closer to than their own neighbourhood's mean.
        closer = found & (scores[:, :K] >= hubs.density[np.maximum(neighbour_rows[:, :K], 0)])
        occurrence[at_new] = closer.sum(1)
        HubStats(occurrence, density, hubs.skewness, hubs.csls_skewness).save(tmp / HUBS_FILE)
