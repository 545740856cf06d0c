"""OpenSubsonic's sonic similarity (extension `sonicSimilarity`, version 1), served beside the page:
`/rest/getSonicSimilarTracks`, `/rest/findSonicPath`, `/rest/getOpenSubsonicExtensions` and `/rest/ping`
(with or without `.view`; GET, or POST with a form), answered in XML or, with `f=json`, JSON; and
`/rest/getCoverArt`, the cover each song's `coverArt` names (its track id), as an image.

Song ids are soundalike's track ids. A media server that knows its files by path can send the path
instead (absolute, or relative to its catalog folder), and read our ids back from the `id` of each entry.
"""

from __future__ import annotations

import mimetypes
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.covers import THUMBNAIL_PIXELS, track_cover
from app.errors import AudioUnavailableError, SubsonicError
from app.media import catalog_for
from app.subsonic_auth import check
from storage import __version__
from storage.core.errors import SoundalikeError, UsageError
from storage.core.tracks import TrackInfo
from storage.read.catalog import Catalog
from storage.search.question import Question
from storage.search.request import SearchRequest
from storage.search.service import SearchService

API_VERSION = "1.16.1"
SERVER = "soundalike"
EXTENSIONS = [{"name": "sonicSimilarity", "versions": [1]}]
MAX_COUNT = 500


def child(track: TrackInfo) -> dict[str, object]:
    """A track as the Subsonic `Child` object (fields without a value left out)."""
    suffix = Path(track.path).suffix.lstrip(".").lower()
    fields: dict[str, object | None] = {
        "id": str(track.id),
        "isDir": False,
        "title": track.title or Path(track.path).stem,
        "album": track.album,
        "artist": track.artist,
        "track": track.track_number,
        "year": track.year,
        "genre": track.genre,
        "duration": int(round(track.duration)) if track.duration else None,
        "path": track.path,
        "suffix": suffix or None,
        "contentType": mimetypes.guess_type(track.path)[0],
        "isVideo": False,
        "type": "music",
        "mediaType": "song",
        "coverArt": str(track.id),  # getCoverArt serves it (or a placeholder when the track has none)
    }
    return {k: v for k, v in fields.items() if v is not None}


def similarity(cosine: float, closeness: float | None) -> float:
    """sonicMatch's normalised similarity, 1.0 the same song and 0.0 the most different (-1 would say
    "not supported"): the closeness (the share of the catalog's pairs further apart), or the cosine mapped
    onto [0, 1] for a build that kept no pair cosines."""
    value = closeness / 100 if closeness is not None else (cosine + 1) / 2
    return round(min(1.0, max(0.0, value)), 6)


def matches(tracks: list[TrackInfo], similarities: list[float]) -> list[dict[str, object]]:
    return [{"entry": child(t), "similarity": s} for t, s in zip(tracks, similarities, strict=True)]


def _song(catalog: Catalog, params: Mapping[str, str], name: str) -> TrackInfo:
    if not params.get(name):
        raise SubsonicError(10, f"required parameter is missing: {name}")
    try:
        return catalog.resolve(params[name])
    except UsageError:  # an unknown id or path, or one in several folders
        raise SubsonicError(70, f"song not found: {params[name]}") from None


def _count(params: Mapping[str, str], default: int) -> int:
    try:
        count = int(params.get("count", default))
    except ValueError:
        raise SubsonicError(0, "count must be a whole number") from None
    if count < 0:
        raise SubsonicError(0, "count must be at least 0")
    return min(count, MAX_COUNT)


def similar_tracks(catalog: Catalog, params: Mapping[str, str]) -> dict[str, object]:
    track = _song(catalog, params, "id")
    count = _count(params, 10)
    if not count:
        return {"sonicMatch": []}
    found = SearchService(catalog).ask(
        Question(seeds=(track.id,)), SearchRequest(count, allow_stale=True, passages=False)
    )
    near = found.neighbours
    return {"sonicMatch": matches([n.track for n in near], [similarity(n.score, n.closeness) for n in near])}


def sonic_path(catalog: Catalog, params: Mapping[str, str]) -> dict[str, object]:
    start, end = _song(catalog, params, "startSongId"), _song(catalog, params, "endSongId")
    count = max(2, _count(params, 25))
    service = SearchService(catalog)
    steps = service.path(start, end, count)
    cosines = [cosine for _, cosine in steps]
    relative = [similarity(c, near) for c, near in zip(cosines, service.closeness(cosines), strict=True)]
    relative[0] = 1.0  # the start song itself
    return {"sonicMatch": matches([t for t, _ in steps], relative)}


ENDPOINTS: dict[str, Callable[[Catalog, Mapping[str, str]], dict[str, object]]] = {
    "ping": lambda catalog, params: {},
    "getSonicSimilarTracks": similar_tracks,
    "findSonicPath": sonic_path,
}


def cover_art(catalog: Catalog, params: Mapping[str, str]) -> Response:
    """The song's cover as an image (`size`: at most that many pixels square)."""
    track = _song(catalog, params, "id")
    try:
        pixels = int(params.get("size", THUMBNAIL_PIXELS))
    except ValueError:
        raise SubsonicError(0, "size must be a whole number") from None
    try:
        return track_cover(catalog, track.id, pixels)
    except AudioUnavailableError:  # removed since it was resolved
        raise SubsonicError(70, f"song not found: {params['id']}") from None


def envelope(status: str, body: dict[str, object]) -> dict[str, object]:
    head = {"status": status, "version": API_VERSION, "type": SERVER, "serverVersion": __version__}
    return {"subsonic-response": head | {"openSubsonic": True} | body}


def render(payload: dict[str, object], as_json: bool) -> Response:
    if as_json:
        return JSONResponse(payload)
    root = _element("subsonic-response", payload["subsonic-response"])  # type: ignore[arg-type]
    root.set("xmlns", "http://subsonic.org/restapi")
    return Response(ET.tostring(root, encoding="unicode", xml_declaration=True), media_type="application/xml")


def _element(name: str, value: Mapping[str, object]) -> ET.Element:
    """A Subsonic XML element: scalars as attributes, objects and lists as children."""
    element = ET.Element(name)
    for key, item in value.items():
        if isinstance(item, Mapping):
            element.append(_element(key, item))
        elif isinstance(item, list):
            for part in item:
                element.append(_element(key, part) if isinstance(part, Mapping) else _leaf(key, part))
        else:
            element.set(key, str(item).lower() if isinstance(item, bool) else str(item))
    return element


def _leaf(name: str, value: object) -> ET.Element:
    element = ET.Element(name)
    element.text = str(value)
    return element


async def subsonic(request: Request) -> Response:
    params = dict(request.query_params)
    if request.method == "POST":
        params |= {k: str(v) for k, v in (await request.form()).items()}
    name = request.path_params["endpoint"].removesuffix(".view")
    as_json = params.get("f") == "json"
    if name == "getOpenSubsonicExtensions":  # the spec: publicly accessible, whatever the credentials
        return render(envelope("ok", {"openSubsonicExtensions": EXTENSIONS}), as_json)
    if name not in ENDPOINTS and name != "getCoverArt":
        return render(envelope("failed", {"error": {"code": 0, "message": f"unknown endpoint {name}"}}), as_json)
    body: dict[str, object]
    try:
        check(params, request.client.host if request.client else None)
        catalog = catalog_for(os.environ.get("SOUNDALIKE_DATA"))
        if name == "getCoverArt":  # an image, not a response document, unless it fails
            return await run_in_threadpool(cover_art, catalog, params)
        body, status = await run_in_threadpool(ENDPOINTS[name], catalog, params), "ok"
    except SubsonicError as exc:  # AuthError among them
        body, status = {"error": {"code": exc.code, "message": exc.message}}, "failed"
    except SoundalikeError as exc:
        body, status = {"error": {"code": 0, "message": str(exc)}}, "failed"
    return render(envelope(status, body), as_json)


ROUTES = [Route("/rest/{endpoint}", subsonic, methods=["GET", "POST"])]
