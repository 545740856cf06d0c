"""How well each model finds related tracks in *this* catalog, by labels the catalog already has.

A query is a track with a label; its results are what the search service (storage.search.service) answers for
it, k tracks, each recording once, its own album left out (tracks on one album are too easy a match). A
result is relevant when it has the query's label. A query counts when at least one other track outside
its album has its label. Metrics, averaged over the queries:
- precision@k: relevant results / k;
- average precision@k: sum over relevant results at rank i of precision@i, / min(R, k), R being the
  tracks outside the query's album with its label; their mean is MAP;
- hit rate: the share of queries with at least one relevant result.
Every query is used up to `max_queries` (seeded sample above). With `rerank`, the k come from CSLS
re-ranking (storage.index.hubs), as a user asking for it gets them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select

from storage.core.errors import UsageError
from storage.core.tracks import TrackInfo
from storage.db.schema import TrackStyle
from storage.read.catalog import Catalog
from storage.search.caps import album_key
from storage.search.question import Question
from storage.search.request import SearchRequest
from storage.search.service import SearchService

LABELS = ("folder", "genre", "artist", "album", "style")
MAX_QUERIES = 2000


@dataclass(frozen=True)
class Score:
    model: str
    rerank: str | None
    queries: int
    precision_at_k: float
    map: float
    hit_rate: float
    metric: str = "cosine"  # or "mine": a listener's learned metric (storage.listeners.metrics)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def track_label(track: TrackInfo, source: str) -> str | None:
    """A track's label from its folder (the parent folder's name) or a tag."""
    if source == "folder":
        parent = Path(track.path).parent
        return parent.name if parent.name else Path(track.folder).name
    value = getattr(track, source)
    return str(value).strip().casefold() or None if value else None


def catalog_labels(catalog: Catalog, source: str) -> dict[int, str]:
    """Each track's label (tracks without one are left out); "style": MAEST's most probable style."""
    if source not in LABELS:
        raise UsageError(f"unknown label {source!r}; available: {', '.join(LABELS)}")
    if source == "style":
        with catalog.reading() as s:
            rows = s.execute(
                select(TrackStyle.track_id, TrackStyle.label)
                .where(TrackStyle.model == "maest")
                .order_by(TrackStyle.track_id, TrackStyle.probability.desc())
            ).all()
        if not rows:
            raise UsageError("--label style needs MAEST's style tags: `indexer build CATALOG_DIR --model maest`")
        labels: dict[int, str] = {}
        for track_id, label in rows:
            labels.setdefault(track_id, label)
        return labels
    found = {t.id: track_label(t, source) for t in catalog.all_tracks()}
    return {i: label for i, label in found.items() if label}


def album_keys(catalog: Catalog) -> dict[int, tuple[str, str]]:
    return {t.id: key for t in catalog.all_tracks() if (key := album_key(t)) is not None}


def evaluate_model(
    catalog: Catalog,
    labels: dict[int, str],
    albums: dict[int, tuple[str, str]],
    k: int = 10,
    rerank: str | None = None,
    max_queries: int = MAX_QUERIES,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> Score:
    """The metrics of one model (with or without re-ranking) on one labelling; `progress(queries)` gives the
    callable to tick after each query."""
    index = catalog.index()
    service = SearchService(catalog)
    ids = np.asarray(index.ids)
    searchable = set(ids.tolist())
    by_album: dict[tuple[str, str], set[int]] = {}
    for i, key in albums.items():
        if i in searchable:
            by_album.setdefault(key, set()).add(i)
    by_label: dict[str, set[int]] = {}
    for i, label in labels.items():
        if i in searchable:
            by_label.setdefault(label, set()).add(i)

    def own_album(i: int) -> set[int]:
        return by_album.get(albums[i], {i}) | {i} if i in albums else {i}

    queries = [i for i in sorted(labels) if i in searchable and by_label[labels[i]] - own_album(i)]
    if len(queries) > max_queries:
        queries = sorted(np.random.default_rng(0).choice(queries, max_queries, replace=False).tolist())
    advance = progress(len(queries)) if progress is not None else (lambda: None)
    precision, average, hits = [], [], []
    for i in queries:
        left_out = own_album(i)
        relevant = by_label[labels[i]] - left_out
        request = SearchRequest(k, exclude_ids=tuple(sorted(left_out)), rerank=rerank, passages=False)
        found = [n.track.id for n in service.ask(Question(seeds=(i,)), request).neighbours]
        rel = np.array([j in relevant for j in found], dtype=np.float64)
        precision.append(rel.sum() / k)
        at_rank = np.cumsum(rel) / np.arange(1, len(rel) + 1) if len(rel) else rel
        average.append(float((at_rank * rel).sum() / min(len(relevant), k)))
        hits.append(float(rel.any()))
        advance()
    metric = "mine" if catalog.metric is not None else "cosine"
    return Score(catalog.model, rerank, len(queries), _mean(precision), _mean(average), _mean(hits), metric)


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else 0.0
