"""The questions a front end asks, and the options around them: a request (k, exclusions, filters, caps,
re-ranking, passages, steering), a query by vector or by description, and the answer's shape. Plain data
with the rules about options checked once, when made; the search service (storage.search.service) answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from storage.core.errors import UsageError
from storage.core.passages import Timeline
from storage.core.tracks import Neighbour, TrackInfo
from storage.index.hubs import RERANKINGS
from storage.index.vectors import normalise
from storage.recordings.fingerprints import Fingerprint
from storage.search.caps import Caps

if TYPE_CHECKING:
    from storage.read.catalog import Catalog

STEER_WEIGHT = 0.5  # how far a word pulls a track query: q' = q + w (sum of --more texts - sum of --less texts)


@dataclass(frozen=True)
class Steering:
    """Words that move a query along the joint space of a text-capable model (CLAP): unit text vectors,
    the words they came from, and the weight (`steer`)."""

    more: tuple[str, ...] = ()
    less: tuple[str, ...] = ()
    more_vectors: np.ndarray | None = None  # (len(more), dim)
    less_vectors: np.ndarray | None = None
    weight: float = STEER_WEIGHT

    def __post_init__(self) -> None:
        if not 0.0 < self.weight <= 4.0:
            raise UsageError("the steering weight is a number above 0 and at most 4")

    def described(self) -> str:
        words = [f"more {w}" for w in self.more] + [f"less {w}" for w in self.less]
        return "steered: " + ", ".join(words)


def steer(vector: np.ndarray, steering: Steering) -> np.ndarray:
    """The unit query moved by the words: normalise(q/|q| + w (sum of `more` - sum of `less`))."""
    pull = np.zeros_like(vector, dtype=np.float32)
    if steering.more_vectors is not None and len(steering.more_vectors):
        pull += normalise(np.asarray(steering.more_vectors, np.float32)).sum(0)
    if steering.less_vectors is not None and len(steering.less_vectors):
        pull -= normalise(np.asarray(steering.less_vectors, np.float32)).sum(0)
    moved = normalise(np.asarray(vector, np.float32)[None])[0] + steering.weight * pull
    return normalise(moved[None])[0]


@dataclass(frozen=True)
class TextQuery:
    """A description embedded by a text-capable model's text tower (CLAP): a unit vector of its joint space."""

    text: str
    vector: np.ndarray
    revision: str | None = None  # the weights that embedded it: must be the index's


@dataclass(frozen=True)
class SearchRequest:
    """What a front end asks besides the query itself. Filters narrow the candidates before ranking
    (styles today; a new filter is a field here and a clause in `SearchService._allowed`)."""

    k: int = 10
    exclude_ids: tuple[int, ...] = ()
    exclude_same_artist: bool = False
    exclude_same_album: bool = False
    styles: tuple[str, ...] = ()  # keep tracks tagged so ("Genre---Style" or a genre): tagging models
    caps: Caps = field(default_factory=Caps)  # at most N per artist / album, filled from further down
    rerank: str | None = None  # "csls": tracks near everything stop crowding every list
    allow_stale: bool = False  # answer from an index older than the database (long-lived readers)
    passages: bool = True  # attach each result's matched passage with the query (when it has a timeline)
    include_self: bool = False  # by passage: the query's own track may be a result
    steering: Steering | None = None  # words that move the query (text-capable models)

    def __post_init__(self) -> None:
        object.__setattr__(self, "exclude_ids", tuple(self.exclude_ids))
        object.__setattr__(self, "styles", tuple(self.styles))
        if self.k < 1:
            raise UsageError("k must be at least 1")
        if self.rerank is not None and self.rerank not in RERANKINGS:
            raise UsageError(f"unknown re-ranking {self.rerank!r}; available: {', '.join(RERANKINGS)}")


@dataclass(frozen=True)
class VectorQuery:
    """A query by vector: an outside file (with its timeline, duration, content hash, the weights that
    embedded it and its tags) or a bare point of the model's space (radio's drifting centre)."""

    vector: np.ndarray
    timeline: Timeline | None = None
    duration: float | None = None
    content_hash: str | None = None  # sha256 of the file: the same file in the catalog is the same recording
    revision: str | None = None  # the weights that embedded it: must be the index's
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    fingerprint: Fingerprint | None = None  # an outside file's: finds its copies and versions in the catalog


@dataclass(frozen=True)
class SearchResult:
    neighbours: list[Neighbour]
    model: str
    pending_changes: int = 0  # vector changes the index in use lacks (a build is running or unfinished)
    in_catalog: tuple[TrackInfo, ...] = ()  # an outside file already in the catalog: those tracks
    steps: tuple[str, ...] = ()  # what shaped the list, in words ("passage 0:02–0:04", "re-ranked: csls")
    seeds: tuple[TrackInfo, ...] = ()  # a question's seed tracks, as found (SearchService.ask)
    catalog: Catalog | None = field(default=None, compare=False, repr=False)  # the one it was answered from


def seed_centre(vectors: np.ndarray) -> np.ndarray:
    """The point several seeds share: the normalised mean of their normalised vectors."""
    return normalise(normalise(np.asarray(vectors, np.float32)).mean(0)[None])[0]
