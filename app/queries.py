"""The page's query (a catalog track, an upload or a description) and the one call it makes to the search service.

No Streamlit here, so the logic is testable and the page stays a layout.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from storage.display import track_label
from storage.search import SearchRequest, SearchResult, SearchService, TextQuery, VectorQuery
from storage.tracks import TrackInfo


@dataclass(frozen=True)
class Upload:
    """An uploaded file: its bytes (to play back), name, and the query it embeds to (indexer.query_audio)."""

    name: str
    data: bytes
    query: VectorQuery


@dataclass(frozen=True)
class Description:
    """Words describing what to hear, embedded by a text-capable model; `moments`: passages, not tracks."""

    query: TextQuery
    moments: bool = False


@dataclass(frozen=True)
class Query:
    """A catalog track, an upload or a description (one of the three)."""

    track: TrackInfo | None = None
    upload: Upload | None = None
    description: Description | None = None

    @property
    def label(self) -> str:
        if self.track is not None:
            return track_label(self.track)
        if self.description is not None:
            return f"“{self.description.query.text}”"
        assert self.upload is not None
        q = self.upload.query
        return f"{q.artist} – {q.title}" if q.artist else str(q.title)

    @property
    def duration(self) -> float:
        if self.track is not None:
            return float(self.track.duration or 0.0)
        if self.description is not None:
            return 0.0
        assert self.upload is not None
        return float(self.upload.query.duration or 0.0)

    @property
    def key(self) -> str:
        """Names the query (a track id, or the uploaded file), for widgets that belong to one query."""
        if self.track is not None:
            return f"track-{self.track.id}"
        if self.description is not None:
            return f"text-{self.description.query.text}"
        return f"upload-{self.upload.name if self.upload else ''}"


def ask(
    service: SearchService, query: Query, request: SearchRequest, region: tuple[float, float] | None = None
) -> SearchResult:
    """The page's question: the query's neighbours, or with `region` the passages nearest to that region; for a
    description its tracks or moments. Answered from the index in force even while a newer one is built (a
    long-lived reader)."""
    request = replace(request, allow_stale=True)
    if query.description is not None:
        words = query.description
        return service.moments(words.query, request) if words.moments else service.by_text(words.query, request)
    subject: TrackInfo | VectorQuery
    if query.track is not None:
        subject = query.track
    else:
        assert query.upload is not None
        subject = query.upload.query
    if region is not None:  # passages come from every style (the page says so)
        return service.by_passage(subject, *region, replace(request, styles=()))
    if isinstance(subject, TrackInfo):
        return service.by_track(subject, request)
    return service.by_vector(subject, request)
