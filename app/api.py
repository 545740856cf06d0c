"""The HTTP API under /api (FastAPI, mounted beside the page): JSON endpoints under /api/v1/, the OpenAPI
document at /api/openapi.json, interactive docs at /api/docs. Thin over the libraries: every answer is
what `storage.query --json` would give. Errors are JSON `{"detail": message}` with a 4xx status.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, StringConstraints

from app.access import check_access
from app.errors import AccessError, AudioUnavailableError
from app.media import audio_response, catalog_file, catalog_for
from app.settings import MAX_K, MAX_UPLOAD_MB, MAX_UPLOAD_MINUTES
from indexer.models.registry import DEFAULT_MODEL, MODELS, text_models
from indexer.readers import Reader
from storage import __version__
from storage.core.errors import SoundalikeError, http_status
from storage.core.tracks import Neighbour, TrackInfo
from storage.read.catalog import Catalog
from storage.search.caps import Caps
from storage.search.question import Names, Question, Upload, searched_catalog
from storage.search.request import SearchRequest
from storage.search.service import SearchService
from storage.search.words import MAX_CHARS

MAX_COUNT = 500
MAX_SEEDS = 20
IDS = r"^[0-9]{1,19}(,[0-9]{1,19}){0,19}$"  # 1 to MAX_SEEDS track ids, comma-separated


class TrackOut(BaseModel):
    id: int
    folder: str
    path: str
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    year: int | None = None
    genre: str | None = None
    track_number: int | None = None
    duration: float | None = None

    @classmethod
    def of(cls, track: TrackInfo) -> TrackOut:
        return cls(**{name: getattr(track, name) for name in cls.model_fields})


class PassageOut(BaseModel):
    query_start: float | None = Field(None, description="the query's passage (none for a moment: `moment` true)")
    query_end: float | None = None
    start: float
    end: float
    offset: float | None = Field(
        None, description="seconds to add to a moment of the query's passage to find it in this track"
    )
    score: float
    shared_audio: bool = Field(False, description="edges from the fingerprints: both tracks hold this audio itself")
    moment: bool = Field(False, description="the passage of this track that fits a description (text=...&moments)")


class NeighbourOut(BaseModel):
    track: TrackOut
    score: float = Field(description="cosine similarity to the query")
    closeness: float | None = Field(None, description="% of the catalog's pairs further apart")
    also_in: list[str] = Field(default_factory=list, description="files of the same recording")
    relation: str | None = Field(
        None, description='"other version": the query\'s recording on another master (fingerprints match, EQ differs)'
    )
    passage: PassageOut | None = None

    @classmethod
    def of(cls, n: Neighbour) -> NeighbourOut:
        passage = PassageOut.model_validate(n.passage.as_dict()) if n.passage is not None else None
        return cls(
            track=TrackOut.of(n.track),
            score=n.score,
            closeness=n.closeness,
            also_in=list(n.also_in),
            relation=n.relation,
            passage=passage,
        )


class AudioResultOut(BaseModel):
    in_catalog: list[TrackOut] = Field(
        default_factory=list, description="catalog tracks that are this same recording (left out of the results)"
    )
    neighbours: list[NeighbourOut]


class StepOut(BaseModel):
    track: TrackOut
    similarity: float = Field(description="cosine similarity to the first track")


class ErrorOut(BaseModel):
    detail: str


MODEL_NAMES = "^(" + "|".join(MODELS) + ")$"


@dataclass(frozen=True)
class Asked:
    """The catalog a request names (its model's) and whose similarity it asks for."""

    catalog: Catalog
    model: str | None
    metric: str
    listener: str | None


def asked(
    model: Annotated[
        str | None, Query(pattern=MODEL_NAMES, description=f"embedding model (default: {DEFAULT_MODEL})")
    ] = None,
    metric: Annotated[
        str, Query(pattern="^(cosine|mine)$", description="cosine, or mine: a listener's learned similarity")
    ] = "cosine",
    listener: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=128,
            description="with metric=mine: whose (default: the only one); ignored otherwise",
        ),
    ] = None,
) -> Asked:
    try:
        base = catalog_for(os.environ.get("SOUNDALIKE_DATA"))
    except SoundalikeError as exc:
        raise HTTPException(503, str(exc)) from None
    if model is not None:
        if model not in base.models():
            raise HTTPException(
                404, f"no {model} vectors in this data directory; build them with `indexer build --model`"
            )
        base = base.for_model(model)
    return Asked(base, model, metric, listener if metric == "mine" else None)


def catalog(question: Annotated[Asked, Depends(asked)]) -> Catalog:
    """The catalog searched (storage.search.question.searched_catalog): no learned metric (of that listener) is
    a product error (400) that says how to make one."""
    return searched_catalog(question.catalog, metric=question.metric, listener=question.listener)


def allowed(request: Request) -> None:
    try:
        check_access(request.headers.get("x-api-key") or request.query_params.get("apiKey"), _host(request))
    except AccessError as exc:
        raise HTTPException(401, str(exc)) from None


def _host(request: Request) -> str | None:
    return request.client.host if request.client else None


ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 404, 413, 422, 503)}
api = FastAPI(
    title="soundalike",
    version=__version__,
    description="Find music that sounds alike: tracks, similar tracks, song paths and radio.",
    openapi_url="/openapi.json",
    docs_url="/docs",
    redoc_url=None,
    dependencies=[Depends(allowed)],
    responses=ERRORS,  # type: ignore[arg-type]
)


@api.exception_handler(RequestValidationError)
async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """One message, as every other error: "q: String should have at most 200 characters" (a repeated
    parameter's place in the list left out)."""
    names = [".".join(str(part) for part in e["loc"][1:] if not isinstance(part, int)) for e in exc.errors()]
    problems = [f"{name}: {e['msg']}" for name, e in zip(names, exc.errors(), strict=True)]
    return JSONResponse({"detail": "; ".join(problems)}, status_code=422)


@api.exception_handler(SoundalikeError)
async def product_error(request: Request, exc: SoundalikeError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=http_status(exc))


Model = Annotated[Catalog, Depends(catalog)]
K = Annotated[int, Query(ge=1, le=MAX_K, description=f"results (1-{MAX_K})")]


@api.get("/v1/tracks", response_model=list[TrackOut], summary="Search the tracks")
def search_tracks(
    cat: Model,
    q: Annotated[str, Query(max_length=200, description="words of title, artist, album or path")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_COUNT)] = 50,
) -> list[TrackOut]:
    return [TrackOut.of(t) for t in cat.search_tracks(q, limit)]


@api.get("/v1/tracks/by-path", response_model=TrackOut, summary="A track by its file path")
def track_by_path(cat: Model, path: Annotated[str, Query(min_length=1, max_length=4096)]) -> TrackOut:
    return TrackOut.of(cat.resolve(path))


@api.get("/v1/tracks/{track_id}", response_model=TrackOut, summary="A track by id")
def track_by_id(cat: Model, track_id: int) -> TrackOut:
    return TrackOut.of(cat.track(track_id))


IdLists = list[Annotated[str, StringConstraints(pattern=IDS)]]
SEED_IDS = f"seed track ids, comma-separated (1 to {MAX_SEEDS}); repeated, each list adds its seeds"
SeedIds = Annotated[IdLists | None, Query(max_length=MAX_SEEDS, description=SEED_IDS)]


def _seeds(ids: IdLists | None) -> tuple[int, ...]:
    """The track ids of every list given (each checked by the IDS pattern): a repeated parameter adds its seeds
    (`ids=13&ids=2` asks as `ids=13,2` does), never drops one."""
    return tuple(int(part) for given in ids or () for part in given.split(","))


NAMES = Names(
    seeds="ids (seed tracks)",
    file=None,
    text="text",
    described="text (a description)",
    passage="a passage",
    moments="moments",
    more="more",
    less="less",
    steer_weight="steer_weight",
    listener="listener",
    mine="metric=mine",
)


def search_request(
    k: K = 10,
    max_per_artist: Annotated[int | None, Query(ge=1, le=MAX_K)] = None,
    max_per_album: Annotated[int | None, Query(ge=1, le=MAX_K)] = None,
    exclude_same_artist: bool = False,
    exclude_same_album: bool = False,
    rerank: Annotated[str | None, Query(pattern="^csls$")] = None,
    style: Annotated[
        list[str] | None,
        Query(max_length=200, description='keep results tagged so ("Electronic---Techno" or "Electronic"); repeatable'),
    ] = None,
) -> SearchRequest:
    """The options every similarity endpoint takes, as the search service's request."""
    caps = Caps(max_per_artist, max_per_album)
    return SearchRequest(
        k,
        exclude_same_artist=exclude_same_artist,
        exclude_same_album=exclude_same_album,
        styles=tuple(style or ()),
        caps=caps,
        rerank=rerank,
        allow_stale=True,  # a long-lived reader: the index in force while a newer one is built
    )


Options = Annotated[SearchRequest, Depends(search_request)]


TEXT_MODELS = ", ".join(text_models())
Words = Annotated[list[str] | None, Query(max_length=MAX_CHARS, description=f"words (repeatable): needs {TEXT_MODELS}")]


@api.get(
    "/v1/similar",
    response_model=list[NeighbourOut],
    summary="Tracks similar to one or several tracks, or to a description",
    description=f"`ids` (seed tracks) or `text` (a description: a text-capable model, {TEXT_MODELS}). With `text`, "
    "`moments` lists the passages that fit the words, one per track, and closeness is measured against the "
    "description's own cosines to the catalog. `more` and `less` steer a track query by words. The header "
    "`Soundalike-Steps` says what shaped the list (percent-encoded UTF-8, `; ` between steps).",
)
def similar(
    response: Response,
    by: Annotated[Asked, Depends(asked)],
    options: Options,
    ids: SeedIds = None,
    text: Annotated[str | None, Query(min_length=1, max_length=MAX_CHARS, description="describe the music")] = None,
    moments: Annotated[bool, Query(description="with text: the moments that fit the words")] = False,
    more: Words = None,
    less: Words = None,
    steer_weight: Annotated[float | None, Query(gt=0, le=4, description="how far more/less move the query")] = None,
) -> list[NeighbourOut]:
    question = Question(
        seeds=_seeds(ids),
        text=text,
        moments=moments,
        more=tuple(more or ()),
        less=tuple(less or ()),
        steer_weight=steer_weight,
        model=by.model,
        metric=by.metric,
        listener=by.listener,
        names=NAMES,
    )
    found = SearchService(by.catalog).ask(question, options, Reader())
    response.headers["Soundalike-Steps"] = "; ".join(quote(step, safe=" :,") for step in found.steps)
    return [NeighbourOut.of(n) for n in found.neighbours]


@api.post(
    "/v1/similar/audio",
    response_model=AudioResultOut,
    summary="Tracks similar to an uploaded file",
    description=f"`more` and `less` steer the file's query by words (a text-capable model: {TEXT_MODELS}).",
)
async def similar_to_audio(
    by: Annotated[Asked, Depends(asked)],
    options: Options,
    file: Annotated[UploadFile, File()],
    more: Words = None,
    less: Words = None,
    steer_weight: Annotated[float | None, Query(gt=0, le=4, description="how far more/less move the query")] = None,
) -> AudioResultOut:
    data = await file.read(MAX_UPLOAD_MB * 2**20 + 1)
    if len(data) > MAX_UPLOAD_MB * 2**20:
        raise HTTPException(413, f"uploads are limited to {MAX_UPLOAD_MB} MB")
    from starlette.concurrency import run_in_threadpool

    words = {"more": tuple(more or ()), "less": tuple(less or ()), "steer_weight": steer_weight}
    return await run_in_threadpool(_similar_to_bytes, by, data, file.filename or "upload", options, words)


def _similar_to_bytes(
    by: Asked, data: bytes, name: str, options: SearchRequest, words: dict[str, Any]
) -> AudioResultOut:
    from indexer.errors import IndexerError

    upload = Upload(name, data, MAX_UPLOAD_MINUTES * 60)
    asked = Question(file=upload, model=by.model, metric=by.metric, listener=by.listener, names=NAMES, **words)
    try:
        found = SearchService(by.catalog).ask(asked, options, Reader())
    except IndexerError as exc:  # the file cannot be embedded: said with its name
        raise HTTPException(400, f"{name}: {exc}") from None
    return AudioResultOut(
        in_catalog=[TrackOut.of(t) for t in found.in_catalog],
        neighbours=[NeighbourOut.of(n) for n in found.neighbours],
    )


@api.get("/v1/path", response_model=list[StepOut], summary="A smooth path of tracks from one track to another")
def path(cat: Model, start: int, end: int, count: Annotated[int, Query(ge=2, le=MAX_COUNT)] = 25) -> list[StepOut]:
    steps = SearchService(cat).path(start, end, count)
    return [StepOut(track=TrackOut.of(t), similarity=s) for t, s in steps]


@api.get("/v1/radio", response_model=list[TrackOut], summary="A page of the endless radio from seed tracks")
def radio_page(
    cat: Model,
    seeds: Annotated[IdLists, Query(max_length=MAX_SEEDS, description=SEED_IDS)],
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    count: Annotated[int, Query(ge=1, le=100)] = 20,
    artist_window: Annotated[int, Query(ge=0, le=50, description="no artist twice within this many tracks")] = 5,
    variety: Annotated[float, Query(ge=0, le=1, description="0: always the nearest; 1: widest choice")] = 0.3,
) -> list[TrackOut]:
    tracks = SearchService(cat).radio(list(_seeds(seeds)), offset + count, artist_window, variety)
    return [TrackOut.of(t) for t in tracks[offset:]]


@api.get(
    "/v1/audio/{track_id}",
    summary="A track's audio (byte ranges; formats browsers can't play as MP3)",
    response_class=Response,
    responses={200: {"content": {"audio/*": {}}}, 410: {"model": ErrorOut}},
)
def audio(cat: Model, track_id: int) -> Response:
    try:
        _, file = catalog_file(cat, track_id)
    except AudioUnavailableError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)
    return audio_response(file)


@api.get("/v1/passages", response_model=list[NeighbourOut], summary="Catalog passages like a region of a track")
def passages(
    by: Annotated[Asked, Depends(asked)],
    options: Options,
    id: int,
    start: Annotated[float, Query(ge=0, le=86_400, description="seconds into the track")],
    length: Annotated[float, Query(ge=1, le=3_600, description="seconds")] = 30.0,
) -> list[NeighbourOut]:
    question = Question(
        seeds=(id,), passage=(start, start + length), model=by.model, metric=by.metric, listener=by.listener
    )
    found = SearchService(by.catalog).ask(question, options)
    return [NeighbourOut.of(n) for n in found.neighbours]
