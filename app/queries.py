"""What the page asks of the libraries: a query (catalog track or upload) and its neighbours.

No Streamlit here, so the logic is testable and the page stays a layout.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from indexer.query_audio import QueryAudio
from storage.caps import Caps
from storage.catalog import Catalog, Neighbour, TrackInfo
from storage.passages import Timeline


@dataclass(frozen=True)
class Upload:
    """An uploaded file: its bytes (to play back), name, and embedding."""

    name: str
    data: bytes
    audio: QueryAudio
    revision: str


@dataclass(frozen=True)
class Query:
    """Either a catalog track or an upload."""

    track: TrackInfo | None = None
    upload: Upload | None = None

    @property
    def label(self) -> str:
        if self.track is not None:
            return self.track.label
        assert self.upload is not None
        tags = self.upload.audio.tags
        return f"{tags.artist} – {tags.title}" if tags.artist else str(tags.title)

    @property
    def duration(self) -> float:
        if self.track is not None:
            return float(self.track.duration or 0.0)
        assert self.upload is not None
        return self.upload.audio.seconds

    @property
    def key(self) -> str:
        """Names the query (a track id, or the uploaded file), for widgets that belong to one query."""
        return (
            f"track-{self.track.id}" if self.track is not None else f"upload-{self.upload.name if self.upload else ''}"
        )

    @property
    def artist(self) -> str | None:
        return self.track.artist if self.track else self.upload.audio.tags.artist if self.upload else None

    @property
    def album(self) -> str | None:
        return self.track.album if self.track else self.upload.audio.tags.album if self.upload else None


@dataclass(frozen=True)
class Results:
    neighbours: list[Neighbour]
    pending_changes: int  # vector changes the index in use lacks (a build is running or unfinished)
    in_catalog: tuple[TrackInfo, ...] = ()  # an upload that is already in the catalog: those tracks


def find_neighbours(
    catalog: Catalog,
    query: Query,
    k: int,
    exclude_same_artist: bool = False,
    exclude_same_album: bool = False,
    styles: list[str] | None = None,
    caps: Caps | None = None,
    rerank: str | None = None,
) -> Results:
    """Top-k neighbours of `query`, answered from the index in force even while a newer one is built; each
    recording once, never the query's own (an upload already in the catalog is said to be so)."""
    in_catalog: tuple[TrackInfo, ...] = ()
    if query.track is not None:
        neighbours = catalog.similar(
            query.track,
            k,
            exclude_same_artist=exclude_same_artist,
            exclude_same_album=exclude_same_album,
            allow_stale=True,
            styles=styles,
            caps=caps,
            rerank=rerank,
        )
    else:
        assert query.upload is not None
        upload = query.upload
        digest = hashlib.sha256(upload.data).hexdigest()
        vector = upload.audio.embedding.vector
        in_catalog = tuple(catalog.same_recordings(vector, upload.audio.seconds, digest))
        neighbours = catalog.similar_to_vector(
            query.upload.audio.embedding.vector,
            k,
            exclude_artist=query.artist if exclude_same_artist else None,
            exclude_album=query.album if exclude_same_album else None,
            revision=query.upload.revision,
            allow_stale=True,
            styles=styles,
            caps=caps,
            duration=upload.audio.seconds,
            content_hash=digest,
            rerank=rerank,
        )
    with_passages = catalog.with_passages(query_timeline(catalog, query), neighbours)
    return Results(with_passages, catalog.stale_by(catalog.index()), in_catalog)


def find_passages(
    catalog: Catalog,
    query: Query,
    region: tuple[float, float],
    k: int,
    exclude_same_artist: bool = False,
    exclude_same_album: bool = False,
) -> Results:
    """The k catalog passages nearest to `region` of the query (one per track; never the query track)."""
    shared = catalog.ids_sharing(
        query.artist if exclude_same_artist else None, query.album if exclude_same_album else None
    )
    own = {query.track.id} if query.track is not None else set()
    neighbours = catalog.similar_passages(
        query_timeline(catalog, query),
        *region,
        k,
        exclude_ids=sorted(shared | own),
        revision=query.upload.revision if query.upload is not None else None,
        allow_stale=True,
    )
    return Results(neighbours, catalog.stale_by(catalog.index()))


def query_timeline(catalog: Catalog, query: Query) -> Timeline:
    """The query's per-slice timeline: stored for a catalog track, computed for an upload."""
    if query.track is not None:
        return catalog.timeline(query.track)
    assert query.upload is not None
    return query.upload.audio.timeline
