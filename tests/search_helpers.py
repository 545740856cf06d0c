"""Shorthands for tests: the search service's answers as lists of neighbours."""

from __future__ import annotations

from storage.core.tracks import Neighbour, TrackInfo
from storage.read.catalog import Catalog
from storage.search.request import SearchRequest, VectorQuery
from storage.search.service import SearchService


def similar(catalog: Catalog, track: TrackInfo | int | str, k: int = 10, **options: object) -> list[Neighbour]:
    """The neighbours `SearchService.by_track` gives (options: SearchRequest's fields)."""
    return SearchService(catalog).by_track(track, SearchRequest(k, **options)).neighbours  # type: ignore[arg-type]


def passages(
    catalog: Catalog, query: TrackInfo | int | VectorQuery, start: float, end: float, k: int = 10, **options: object
) -> list[Neighbour]:
    """The passages `SearchService.by_passage` gives."""
    request = SearchRequest(k, **options)  # type: ignore[arg-type]
    return SearchService(catalog).by_passage(query, start, end, request).neighbours
