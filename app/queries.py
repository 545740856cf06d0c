"""The page's query (a catalog track, an upload or a description) and the one call it makes to the search service.

No Streamlit here, so the logic is testable and the page stays a layout.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.display import track_label
from indexer.readers import Reader
from storage.core.tracks import TrackInfo
from storage.search.question import Names, Question
from storage.search.request import SearchRequest, SearchResult, TextQuery, VectorQuery
from storage.search.service import SearchService


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


NAMES = Names(
    seeds="a track",
    file="an upload",
    text="a description",
    described="a description",
    passage="search by passage",
    moments="moments",
    more="“More of”",
    less="“Less of”",
)


def question_of(
    query: Query, region: tuple[float, float] | None = None, more: tuple[str, ...] = (), less: tuple[str, ...] = ()
) -> Question:
    """The page's query as a question: its track, upload or description; a region of it; steering words."""
    if query.description is not None:
        return Question(text=query.description.query.text, moments=query.description.moments, names=NAMES)
    if query.track is not None:
        return Question(seeds=(query.track.id,), passage=region, more=more, less=less, names=NAMES)
    assert query.upload is not None
    return Question(file=query.upload.query, passage=region, more=more, less=less, names=NAMES)


def ask(
    service: SearchService,
    query: Query,
    request: SearchRequest,
    region: tuple[float, float] | None = None,
    words: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
) -> SearchResult:
    """The page's question: the query's neighbours, or with `region` the passages nearest to that region; for a
    description its tracks or moments; `words` (more, less) steer a track or upload. Answered from the index in
    force even while a newer one is built (a long-lived reader)."""
    request = replace(request, allow_stale=True)
    if region is not None:  # passages come from every style (the page says so beside the results)
        request = replace(request, styles=())
    return service.ask(question_of(query, region, *words), request, Reader())
