"""Catalog audio for the browser, by track id only, transcoded to MP3 where browsers can't play it.

No path from the browser reaches the file system: a request names a track id, the
database gives its catalog-relative path. Files are streamed (ranges for the direct
ones, chunks for transcodes), never read whole into memory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from starlette.responses import FileResponse, Response, StreamingResponse

from app.errors import AudioUnavailableError
from storage.core.errors import SoundalikeError
from storage.core.tracks import TrackInfo
from storage.read.catalog import Catalog

log = logging.getLogger(__name__)

# Types every current desktop browser plays; the rest (aiff, wma, ape, alac, ...) are transcoded.
BROWSER_TYPES = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".webm": "audio/webm",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
}
MP4_BROWSER_CODECS = {"aac", "mp3"}  # an .m4a may hold ALAC, which Chrome and Firefox can't play
MP3_RATES = {32000, 44100, 48000, 22050, 24000, 16000}
CHUNK_BYTES = 64 * 1024


@lru_cache(maxsize=4)
def catalog_for(data_dir: str | None) -> Catalog:
    return Catalog.open(data_dir)


def catalog_file(catalog: Catalog, track_id: int) -> tuple[TrackInfo, Path]:
    """The catalog track `track_id` and its file; AudioUnavailableError when either is missing."""
    try:
        track = catalog.track(track_id)
    except SoundalikeError:
        raise AudioUnavailableError(f"no track {track_id} in the catalog", 404) from None
    root = Path(track.folder)
    path = Path(os.path.normpath(root / track.path))
    if not path.is_relative_to(root):  # a stored path never climbs out of the catalog
        raise AudioUnavailableError(f"track {track_id} lies outside the catalog", 404)
    if not path.is_file():
        raise AudioUnavailableError(f"the file of track {track_id} is gone: {track.path}", 410)
    return track, path


def audio_response(path: Path) -> Response:
    """The file as browsers play it: as is (answering byte ranges, so players seek), or MP3 on the fly."""
    media_type = browser_media_type(path)
    if media_type is not None:
        return FileResponse(path, media_type=media_type)
    return StreamingResponse(transcode_mp3(path), media_type="audio/mpeg", headers={"Cache-Control": "no-store"})


def browser_media_type(path: Path) -> str | None:
    """The MIME type to send `path` as, or None when a browser needs it transcoded."""
    media_type = BROWSER_TYPES.get(path.suffix.lower())
    if media_type == "audio/mp4":
        codec = _first_audio_codec(path)
        return media_type if codec in MP4_BROWSER_CODECS else None
    return media_type


def _first_audio_codec(path: Path) -> str | None:
    import av

    try:
        with av.open(str(path)) as container:
            streams = container.streams.audio
            return streams[0].codec_context.name if streams else None
    except av.error.FFmpegError:
        return None


class _Sink:
    """A write-only buffer the MP3 muxer writes into and the stream drains."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        return data


def transcode_mp3(path: Path, bitrate: int = 192_000) -> Iterator[bytes]:
    """MP3 bytes of `path`, produced and yielded chunk by chunk as the file decodes."""
    import av

    sink = _Sink()
    with av.open(str(path)) as source, av.open(sink, "w", format="mp3") as out:
        audio = source.streams.audio[0]
        rate = audio.rate if audio.rate in MP3_RATES else 44100
        layout = "mono" if audio.channels == 1 else "stereo"
        encoder = out.add_stream("libmp3lame", rate=rate, layout=layout)
        encoder.bit_rate = bitrate
        for frame in source.decode(audio):
            frame.pts = None  # the encoder's own clock; source timestamps may jump
            out.mux(encoder.encode(frame))
            if sink.size >= CHUNK_BYTES:
                yield sink.take()
        out.mux(encoder.encode(None))
    yield sink.take()
