"""The search service: every question a front end asks of a catalog, answered in one place.

The page, the JSON API, OpenSubsonic, `storage.query` and radio/path all call `SearchService`, with one
request type (`SearchRequest`) and one entry per kind of question: by track, by vector (an outside file
with its timeline, duration and content hash, or a bare point), by several seeds, by passage. The search
policy lives here and nowhere else: exclusions, style filters, widening the search until k results
survive duplicates and caps, CSLS re-ranking, matched passages, the query's own copies. Each question
runs in one database session (storage.read.catalog's `reading()`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from sqlalchemy.orm import Session

from storage.core.errors import ModelMismatchError, UsageError
from storage.core.passages import Passage, Timeline, best_passage, clock
from storage.core.tracks import Neighbour, TrackInfo
from storage.db import reads
from storage.index.hubs import HUBS_MAX, csls_rerank
from storage.index.vectors import VectorIndex
from storage.read.catalog import Catalog
from storage.recordings.duplicates import Recording, group
from storage.recordings.fingerprints import Fingerprint, same_master
from storage.recordings.groups import group_of, matches, read_fingerprints
from storage.recordings.passage_edges import refine, within
from storage.search.caps import apply_caps
from storage.search.passage_search import search_passages
from storage.search.question import Question, Reader, searched_catalog
from storage.search.radio import radio
from storage.search.request import SearchRequest, SearchResult, TextQuery, VectorQuery, seed_centre, steer
from storage.search.song_path import song_path

TEXT_SAMPLE = 4096  # catalog vectors a description's own cosines are measured on (closeness of text results)


class SearchService:
    """Answers one model's questions for a catalog (storage.read.catalog)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    @property
    def model(self) -> str:
        return self.catalog.model

    # -- the questions ---------------------------------------------------------------------------------

    def ask(
        self, question: Question, request: SearchRequest = SearchRequest(), reader: Reader | None = None
    ) -> SearchResult:
        """Any question (storage.search.question), answered from the catalog it asks for (model, metric,
        listener): the one call every front end makes. `reader` embeds its words or its file."""
        catalog = searched_catalog(
            self.catalog, question.model, question.metric, question.listener, question.uses_words
        )
        service = self if catalog is self.catalog else SearchService(catalog)
        with catalog.reading():  # one database session for the whole question
            return replace(service._ask(question, request, reader), catalog=catalog)

    def _ask(self, q: Question, request: SearchRequest, reader: Reader | None) -> SearchResult:
        if reader is None and q.needs_reader:
            raise UsageError("this front end embeds no words or files")
        if q.text is not None:
            assert reader is not None
            described = reader.text_query(self.catalog, q.text)
            return self.moments(described, request) if q.moments else self.by_text(described, request)
        if q.more or q.less:
            assert reader is not None
            request = replace(request, steering=reader.steering(self.catalog, q.more, q.less, q.steer_weight))
        if q.file is not None:
            if isinstance(q.file, VectorQuery):
                file = q.file
            else:
                assert reader is not None
                file = reader.file_query(self.catalog, q.file)
            if q.passage is not None:
                return self.by_passage(file, *q.passage, request)
            return self.by_vector(file, request)
        seeds = [self.catalog.track(s) if isinstance(s, int) else self.catalog.resolve(s) for s in q.seeds]
        if q.passage is not None:
            found = self.by_passage(seeds[0], *q.passage, request)
        else:
            found = self.by_seeds(seeds, request)
        return replace(found, seeds=tuple(seeds))

    def by_track(self, track: TrackInfo | int | str, request: SearchRequest = SearchRequest()) -> SearchResult:
        """The k tracks nearest to a catalog track (never the track itself, nor its other copies)."""
        with self.catalog.reading() as s:
            info = track if isinstance(track, TrackInfo) else reads.resolve(s, track, self.catalog.data_dir)
            vector = reads.vector(s, self.model, info.id)
            query = VectorQuery(vector, duration=info.duration, content_hash=info.content_hash)
            timeline = self._stored_timeline(s, info.id) if request.passages else None
            heard = read_fingerprints(s, [info.id]).get(info.id) if request.passages else None
            return self._answer(s, replace(query, timeline=timeline, fingerprint=heard), [info], request)

    def by_vector(self, query: VectorQuery, request: SearchRequest = SearchRequest()) -> SearchResult:
        """The k tracks nearest to a vector of this model; an outside file already in the catalog (by content
        hash, or by vector and duration) is said so in `in_catalog` and its copies left out."""
        with self.catalog.reading() as s:
            return self._answer(s, query, [], request)

    def by_seeds(self, seeds: Sequence[TrackInfo | int], request: SearchRequest = SearchRequest()) -> SearchResult:
        """The k tracks nearest to several seeds' centre (storage.search.request.seed_centre); the exclusions
        leave out every seed's artist and album, and no seed (nor a copy of one) is listed."""
        if not seeds:
            raise UsageError("give at least one seed track")
        with self.catalog.reading() as s:
            infos = [t if isinstance(t, TrackInfo) else reads.track(s, t) for t in seeds]
            if len(infos) == 1:
                return self.by_track(infos[0], request)
            found = reads.vectors(s, self.model, [t.id for t in infos])
            vectors = np.stack([found[t.id] if t.id in found else reads.vector(s, self.model, t.id) for t in infos])
            return self._answer(s, VectorQuery(seed_centre(vectors)), infos, request)

    def by_text(self, query: TextQuery, request: SearchRequest = SearchRequest()) -> SearchResult:
        """The k tracks nearest to a description; each result's closeness is measured against the description's
        own cosines to the catalog (text and audio cosines live on another scale than audio pairs)."""
        if request.steering is not None:
            raise UsageError("steering words apply to a track or file query, not to a description")
        with self.catalog.reading() as s:
            vector = VectorQuery(query.vector, revision=query.revision)
            found = self._answer(s, vector, [], replace(request, passages=False), described=True)
            return replace(found, steps=(f"described: {query.text}", *found.steps))

    def moments(self, query: TextQuery, request: SearchRequest = SearchRequest()) -> SearchResult:
        """The catalog passages nearest to a description, one per track (storage.search.moments): each result's
        `passage` is the moment (its start and end in the track; the query's side is the whole description)."""
        from storage.search.moments import find_moments

        with self.catalog.reading() as s:
            indexes = self.catalog.indexes
            segments = indexes.segments(s, request.allow_stale)
            _check_revision(self.model, query.revision, segments.meta.revision, "segment index")
            excluded = self._excluded(s, request, [], [], [])
            probe = self.catalog.comparable(Timeline(query.vector[None], np.zeros(1))).vectors[0]
            codec = indexes.codec(s)
            found = find_moments(
                segments, lambda ids: reads.timelines(s, self.model, ids, codec), probe, _wanted(request), excluded
            )
            kept = self._passage_results(s, found, request)
            steps = (f"moments: {query.text}",)
            return SearchResult(kept, self.model, indexes.stale_by(s, indexes.index()), steps=steps)

    def by_passage(
        self, query: TrackInfo | int | VectorQuery, start: float, end: float, request: SearchRequest = SearchRequest()
    ) -> SearchResult:
        """The k catalog passages nearest to the query's region [start, end), one per track, each with its
        passage (`score`: the passage's mean cosine); the query's own track and its copies only with
        `include_self`."""
        if end <= start:
            raise UsageError(f"the passage must end after it starts ({clock(start)}–{clock(end)})")
        if request.styles:
            raise UsageError("search by passage does not combine with a style filter yet")
        with self.catalog.reading() as s:
            indexes = self.catalog.indexes
            segments = indexes.segments(s, request.allow_stale)
            timeline: Timeline | None
            heard: Fingerprint | None
            if isinstance(query, VectorQuery):
                seeds: list[TrackInfo] = [] if request.include_self else self._same_recordings(s, query)[0]
                _check_revision(self.model, query.revision, segments.meta.revision, "segment index")
                if query.timeline is None:
                    raise UsageError("a query by passage needs the query's timeline")
                timeline, heard = self.catalog.comparable(query.timeline), query.fingerprint
                artists, albums = [query.artist or ""], [query.album or ""]
            else:
                info = query if isinstance(query, TrackInfo) else reads.track(s, query)
                seeds, timeline = reads.copies(s, info), self._stored_timeline(s, info.id)
                heard = read_fingerprints(s, [info.id]).get(info.id)
                artists, albums = [info.artist or ""], [info.album or ""]
            if timeline is None:
                raise UsageError("the query track has no timeline for this model: run `indexer build`")
            # the query's own track and its copies (the same recording and master) are not passages of others
            excluded = self._excluded(s, request, artists, albums, [] if request.include_self else seeds)
            wanted = _wanted(request)
            codec = indexes.codec(s)
            found = search_passages(
                segments,
                lambda ids: reads.timelines(s, self.model, ids, codec),
                timeline,
                start,
                end,
                2 * wanted,  # a track holding the region's own audio may rank lower by the cosine alone
                excluded,
            )
            prints = read_fingerprints(s, [i for i, _ in found]) if heard is not None else {}
            found = [(i, within(refine(p, heard, prints.get(i), (start, end)), start, end)) for i, p in found]
            found.sort(key=lambda pair: (not pair[1].shared_audio, -pair[1].score))  # the region's own audio first
            kept = self._passage_results(s, found[:wanted], request)
            index = indexes.index()
            steps = (f"passage {clock(start)}–{clock(end)}",)
            return SearchResult(kept, self.model, indexes.stale_by(s, index), steps=steps)

    def radio(
        self, seeds: Sequence[TrackInfo | int], length: int, artist_window: int = 5, variety: float = 0.3
    ) -> list[TrackInfo]:
        """The first `length` tracks of the seeds' endless radio (storage.search.radio)."""
        with self.catalog.reading() as s:
            infos = [t if isinstance(t, TrackInfo) else reads.track(s, t) for t in seeds]
            return radio(self, infos, length, artist_window, variety)

    def path(self, start: TrackInfo | int, end: TrackInfo | int, count: int = 25) -> list[tuple[TrackInfo, float]]:
        """(track, cosine to the start) leading from `start` to `end` smoothly (storage.search.song_path)."""
        with self.catalog.reading() as s:
            first, last = (t if isinstance(t, TrackInfo) else reads.track(s, t) for t in (start, end))
            return song_path(self.catalog, self._nearest_ids, first, last, count)

    def _nearest_ids(self, point: np.ndarray, k: int, left_out: tuple[int, ...]) -> list[int]:
        """The k tracks nearest to a point of the model's space, each recording once (radio, paths, asking)."""
        request = SearchRequest(k, exclude_ids=left_out, allow_stale=True, passages=False)
        return [n.track.id for n in self.by_vector(VectorQuery(point), request).neighbours]

    def closeness(self, cosines: Sequence[float]) -> list[float | None]:
        """Each cosine's closeness on this catalog: the % of its pairs further apart (None for each where
        the build kept no pair cosines)."""
        found = self.catalog.index().closeness(np.asarray(cosines, np.float32))
        return [None] * len(cosines) if found is None else [float(c) for c in found]

    def with_passages(
        self, query: Timeline, neighbours: list[Neighbour], fingerprint: Fingerprint | None = None
    ) -> list[Neighbour]:
        """Results of any question, each with its best-matching pair of passages with `query`'s timeline
        (edges from the fingerprints where the audio itself is shared, given the query's)."""
        with self.catalog.reading() as s:
            return self._with_passages(s, query, neighbours, fingerprint)

    def copies(self, track: TrackInfo) -> list[TrackInfo]:
        """The catalog's other files of `track`'s recording and master (storage.recordings.duplicates)."""
        with self.catalog.reading() as s:
            return [t for t in reads.copies(s, track) if t.id != track.id]

    # -- the policy --------------------------------------------------------------------------------------

    def _answer(
        self, s: Session, query: VectorQuery, seeds: list[TrackInfo], request: SearchRequest, described: bool = False
    ) -> SearchResult:
        """`described`: the query is a description (storage.search.service.TextQuery): no version threshold, and each
        result's closeness among the description's own cosines (text_closeness), not the catalog's pairs."""
        indexes = self.catalog.indexes
        index = indexes.checked_index(s, request.allow_stale)
        _check_revision(self.model, query.revision, index.meta.revision, "index")
        if query.vector.shape != (index.meta.dim,):
            raise ModelMismatchError(
                f"query vector has {query.vector.shape} dims, the {self.model} index {index.meta.dim}"
            )
        in_catalog: list[TrackInfo] = []
        if seeds:
            own = self._recordings(s, seeds)
        else:
            in_catalog, mine = self._same_recordings(s, query)
            own = [mine]
        artists = [t.artist or "" for t in seeds] or [query.artist or ""]
        albums = [t.album or "" for t in seeds] or [query.album or ""]
        excluded = self._excluded(s, request, artists, albums, seeds)
        # Only a plain cosine to one recording can be held to the version threshold (not CSLS scores, several
        # seeds, a moved query, a description).
        single = not described and len(seeds) < 2 and request.rerank is None and request.steering is None
        version_at = indexes.version_rule(s, index).threshold if single else None
        vector = query.vector if request.steering is None else steer(query.vector, request.steering)
        closeness = text_closeness(index, vector) if described else index.closeness
        neighbours = self._nearest(s, index, vector, own, request, excluded, version_at, closeness)
        if request.passages and query.timeline is not None and neighbours:
            neighbours = self._with_passages(s, query.timeline, neighbours, query.fingerprint)
        steps: tuple[str, ...] = ("re-ranked: csls",) if request.rerank else ()
        metric = self.catalog.metric
        if metric is not None:
            plain = "" if metric.learned else "; the plain cosine, not yet beaten"
            steps += (f"by {metric.listener}'s ears ({metric.answers} answers{plain})",)
        if request.steering is not None:
            steps += (request.steering.described(),)
        return SearchResult(neighbours, self.model, indexes.stale_by(s, index), tuple(in_catalog), steps)

    def _excluded(
        self, s: Session, request: SearchRequest, artists: list[str], albums: list[str], seeds: list[TrackInfo]
    ) -> set[int]:
        shared = reads.ids_sharing(
            s, artists if request.exclude_same_artist else [], albums if request.exclude_same_album else []
        )
        return set(request.exclude_ids) | {t.id for t in seeds} | shared

    def _allowed(self, s: Session, request: SearchRequest) -> list[int] | None:
        """The only tracks the filters let through (None: every track)."""
        if not request.styles:
            return None
        if not reads.tags_styles(s, self.model):
            raise UsageError(
                f"the {self.model} vectors carry no style tags; "
                "a style filter needs a tagging model (maest, musicnn, clap)"
            )
        return sorted(reads.tracks_with_styles(s, self.model, list(request.styles)))

    def _nearest(
        self,
        s: Session,
        index: VectorIndex,
        vector: np.ndarray,
        own: list[Recording],
        request: SearchRequest,
        excluded: set[int],
        version_at: float | None = None,
        closeness: Callable[[np.ndarray], np.ndarray | None] | None = None,
    ) -> list[Neighbour]:
        """The k nearest that survive duplicates (each recording once, never the query's own) and caps; the
        search widens until it has them or the catalog has no more. `closeness` of the scores: the catalog's
        pairs (VectorIndex.closeness) unless given."""
        closeness = closeness or index.closeness
        include = self._allowed(s, request)
        if include is not None and not include:
            return []
        if request.rerank is not None and index.hubs is None:
            raise UsageError(
                f"re-ranking needs the {self.model} index's hub statistics: rebuild it "
                f"(`python -m storage.query --rebuild-index`; kept for catalogs up to {HUBS_MAX:,} tracks)"
            )
        k, capped = request.k, request.caps.active
        rows = 4 * k if capped else k + 8  # candidates read from the database
        fetch = max(rows, 4 * k) if request.rerank else rows  # candidates searched (CSLS re-orders a wider set)
        while True:
            ids, scores = index.search(vector, fetch, exclude=sorted(excluded), include=include)
            found = len(ids)
            if request.rerank is not None:
                ids, scores = csls_rerank(index, ids, scores)
            ids, scores = ids[:rows], scores[:rows]
            neighbours = self._grouped(s, own, self._neighbours(s, ids, scores, closeness(scores)), version_at)
            kept = apply_caps(neighbours, k, request.caps) if capped else neighbours[:k]
            if len(kept) == k or found < fetch or fetch >= index.meta.count:
                return kept
            fetch, rows = fetch * 4, rows * 4

    def _passage_results(self, s: Session, found: list[tuple[int, Passage]], request: SearchRequest) -> list[Neighbour]:
        """(track, passage) pairs, best first, as results with their passage, capped to k."""
        passages = dict(found)
        ids = np.array([i for i, _ in found], np.int64)
        scores = np.array([p.score for _, p in found], np.float32)
        listed = [replace(n, passage=passages[n.track.id]) for n in self._neighbours(s, ids, scores)]
        return apply_caps(listed, request.k, request.caps) if request.caps.active else listed[: request.k]

    def _neighbours(
        self, s: Session, ids: np.ndarray, scores: np.ndarray, closeness: np.ndarray | None = None
    ) -> list[Neighbour]:
        rows = reads.indexed_tracks(s, self.model, ids.tolist())
        tagged = reads.styles(s, self.model, list(rows)) if rows and reads.tags_styles(s, self.model) else {}
        closer = [None] * len(ids) if closeness is None else [float(c) for c in closeness]
        return [
            Neighbour(rows[i], float(score), tagged.get(i), closeness=near)
            for i, score, near in zip(ids.tolist(), scores, closer, strict=False)
            if i in rows
        ]

    def _recordings(self, s: Session, tracks: list[TrackInfo]) -> list[Recording]:
        found = group_of(s, [t.id for t in tracks])
        return [Recording(t.content_hash, *found.get(t.id, (None, None))) for t in tracks]

    def _grouped(
        self, s: Session, own: list[Recording], neighbours: list[Neighbour], version_at: float | None = None
    ) -> list[Neighbour]:
        recordings = self._recordings(s, [n.track for n in neighbours])
        return group(own, list(zip(neighbours, recordings, strict=True)), version_at)

    def _same_recordings(self, s: Session, query: VectorQuery) -> tuple[list[TrackInfo], Recording]:
        """Catalog tracks that are the outside file's recording on its master (the same file, or a matching
        fingerprint and levels), and the file's own Recording (its groups, when the catalog has them)."""
        same = reads.tracks_with_hash(s, query.content_hash) if query.content_hash else []
        recording = copy = None
        if query.fingerprint is not None:
            found = matches(s, self.catalog.indexes.fingerprints(s), query.fingerprint)
            groups = group_of(s, list(found))
            masters = [i for i, heard in found.items() if same_master(query.fingerprint, heard)]
            recording = next((groups[i][0] for i in found if groups[i][0] is not None), None)
            copy = next((groups[i][1] for i in masters if groups[i][1] is not None), None)
            listed = reads.tracks(s, masters)
            same += [listed[i] for i in masters if i in listed]
        if copy is None and same:
            copy = group_of(s, [same[0].id]).get(same[0].id, (None, None))[1]
        unique = list({t.id: t for t in same}.values())
        return unique, Recording(query.content_hash, recording, copy)

    def _stored_timeline(self, s: Session, track_id: int) -> Timeline | None:
        return reads.timelines(s, self.model, [track_id], self.catalog.indexes.codec(s)).get(track_id)

    def _with_passages(
        self, s: Session, query: Timeline, neighbours: list[Neighbour], fingerprint: Fingerprint | None
    ) -> list[Neighbour]:
        """The neighbours, each with its best-matching pair of passages with `query`."""
        ids = [n.track.id for n in neighbours]
        stored = reads.timelines(s, self.model, ids, self.catalog.indexes.codec(s))
        prints = read_fingerprints(s, ids) if fingerprint is not None else {}
        mine = self.catalog.comparable(query)
        return [
            replace(n, passage=refine(best_passage(mine, stored[n.track.id]), fingerprint, prints.get(n.track.id)))
            if n.track.id in stored
            else n
            for n in neighbours
        ]


def text_closeness(index: VectorIndex, vector: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Closeness for a description: each score's % of the catalog (an even sample of up to TEXT_SAMPLE tracks)
    further from `vector`. The sample's cosines are computed once, here."""
    count = len(index.ids)
    rows = np.unique(np.linspace(0, count - 1, min(count, TEXT_SAMPLE)).round().astype(np.int64))
    own = np.sort(np.asarray(index.vectors[rows], np.float32) @ index.prepare(vector[None])[0])  # stored: prepared

    def closeness(scores: np.ndarray) -> np.ndarray:
        return 100.0 * np.searchsorted(own, np.asarray(scores, np.float32), side="left") / max(1, len(own))

    return closeness


def _wanted(request: SearchRequest) -> int:
    """Passages to look for: k, or 4k when caps may leave some out."""
    return 4 * request.k if request.caps.active else request.k


def _check_revision(model: str, query: str | None, built: str, what: str) -> None:
    if query is not None and query != built:
        raise ModelMismatchError(
            f"the query comes from {model} weights {query}, the {what} from {built}; "
            "use the same --weights as the build, or rebuild with `indexer build --rebuild`"
        )
