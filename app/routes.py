"""The routes every server of soundalike mounts beside its own: `/soundalike/audio/{id}` (catalog files by
track id, byte ranges, or transcoded to MP3 on the fly), `/soundalike/cover/{id}` (their cover art,
app/covers.py), OpenSubsonic under `/rest/` (app/subsonic.py) and the JSON API under `/api` (app/api.py).
The page's server (app/server.py) and `indexer serve` (app/http_server.py) both serve exactly these."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from app import subsonic
from app.api import api
from app.covers import track_cover
from app.errors import AudioUnavailableError
from app.media import audio_response, catalog_file, catalog_for
from app.settings import AUDIO_ROUTE, COVER_ROUTE
from storage.core.errors import SoundalikeError
from storage.read.catalog import Catalog


def _catalog() -> Catalog:
    try:
        return catalog_for(os.environ.get("SOUNDALIKE_DATA"))
    except SoundalikeError as exc:
        raise AudioUnavailableError(str(exc), 404) from None


def _locate(track_id: int) -> Path:
    return catalog_file(_catalog(), track_id)[1]


async def audio(request: Request) -> Response:
    try:
        path = await run_in_threadpool(_locate, request.path_params["track_id"])
    except AudioUnavailableError as exc:
        return PlainTextResponse(str(exc), status_code=exc.status)
    return audio_response(path)


def _cover(track_id: int) -> Response:
    try:
        return track_cover(_catalog(), track_id)
    except AudioUnavailableError as exc:  # no such track: refused, as for audio
        return PlainTextResponse(str(exc), status_code=exc.status)


async def cover(request: Request) -> Response:
    return await run_in_threadpool(_cover, request.path_params["track_id"])


ROUTES: list[BaseRoute] = [
    Route(AUDIO_ROUTE + "/{track_id:int}", audio, methods=["GET", "HEAD"]),
    Route(COVER_ROUTE + "/{track_id:int}", cover, methods=["GET", "HEAD"]),
    *subsonic.ROUTES,
    Mount("/api", app=api),
]
