"""Tags of every supported format, from files whose tags another tool wrote: FFmpeg's muxers (through
PyAV), not our test writer (mutagen). WAV carries RIFF INFO, AIFF its text chunks or ID3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer.tags import read_tags

TAGS = {"title": "Blue Hour", "artist": "Ana Lune", "album": "First Light", "date": "2019", "genre": "Jazz"}
TAGS |= {"album_artist": "Ana Lune & Co", "track": "3/9"}

# extension: (encoder, muxer options, fields the container carries)
FORMATS = {
    "wav": ("pcm_s16le", {}, {"title", "artist", "album", "year", "genre", "track_number"}),  # RIFF INFO
    "flac": ("flac", {}, None),
    "mp3": ("libmp3lame", {}, None),
    "ogg": ("vorbis", {}, None),
    "opus": ("libopus", {}, None),
    "m4a": ("aac", {}, None),
    "aiff": ("pcm_s16be", {"write_id3v2": "1"}, None),
    "aif": ("pcm_s16be", {}, {"title", "artist"}),  # AIFF text chunks: NAME, AUTH
}


def write_with_ffmpeg(path: Path, encoder: str, options: dict[str, str], tags: dict[str, str]) -> Path:
    import av

    rate = 48000 if encoder == "libopus" else 44100
    wave = (0.2 * np.sin(np.arange(rate * 2) * 0.05)).astype(np.float32)
    with av.open(str(path), "w", format="aiff" if path.suffix == ".aif" else None, options=options) as out:
        out.metadata.update(tags)
        stream: Any = out.add_stream(encoder, rate=rate, layout="stereo" if encoder == "vorbis" else "mono")
        if encoder == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        wanted = stream.codec_context.format.name
        samples = np.tile(wave, (2 if encoder == "vorbis" else 1, 1))
        if wanted.startswith("s16"):
            samples = (samples * 32767).astype(np.int16)
        elif wanted.startswith("s32"):
            samples = (samples * 2**31 * 0.99).astype(np.int32)
        layout = "stereo" if encoder == "vorbis" else "mono"
        step = stream.codec_context.frame_size or 4096  # encoders with a fixed frame size take only that
        for first in range(0, samples.shape[1], step):
            part = samples[:, first : first + step]
            packed = part.T.reshape(1, -1) if not wanted.endswith("p") else part
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(packed), format=wanted, layout=layout)
            frame.sample_rate, frame.pts = rate, first
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize("extension", list(FORMATS))
def test_tags_written_by_ffmpeg_are_read(tmp_path, extension):
    encoder, options, carried = FORMATS[extension]
    tags = dict(TAGS)
    if extension == "aif":
        tags["author"] = tags["artist"]
    path = write_with_ffmpeg(tmp_path / f"song.{extension}", encoder, options, tags)
    found = read_tags(path)
    expected = {
        "title": "Blue Hour",
        "artist": "Ana Lune",
        "album": "First Light",
        "album_artist": "Ana Lune & Co",
        "year": 2019,
        "genre": "Jazz",
        "track_number": 3,
    }
    for field, value in expected.items():
        if carried is None or field in carried:
            assert getattr(found, field) == value, (extension, field, found)
    assert found.duration == pytest.approx(2.0, abs=0.1)


def test_untagged_files_fall_back_to_the_file_name(tmp_path):
    path = write_with_ffmpeg(tmp_path / "01 a440.wav", "pcm_s16le", {}, {})
    found = read_tags(path)
    assert (found.title, found.artist, found.album) == ("01 a440", None, None)
