"""Generate real audio files in every format the indexer reads (soundfile + PyAV encoders)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tests.conftest import tone_mix

SOUNDFILE_FORMATS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
    ".aiff": ("AIFF", "PCM_16"),
}
AV_FORMATS = {".m4a": ("mp4", "aac"), ".opus": ("ogg", "libopus")}
ALL_FORMATS = [*SOUNDFILE_FORMATS, *AV_FORMATS]


def melody(seconds: float, seed: int = 0, sr: int = 44100) -> np.ndarray:
    """Notes of random pitch, timbre, length and decay: every few seconds sound unlike the rest."""
    rng = np.random.default_rng(seed)
    notes: list[np.ndarray] = []
    total = int(seconds * sr)
    while sum(n.size for n in notes) < total:
        t = np.arange(int(rng.uniform(0.3, 1.2) * sr)) / sr
        f0 = 110.0 * 2 ** (rng.integers(0, 36) / 12)
        weights = rng.uniform(0.2, 1.0, 6)
        note = sum(weights[h] * np.sin(2 * np.pi * f0 * (h + 1) * t) / (h + 1) for h in range(6))
        notes.append(note * np.minimum(1.0, t * 20) * np.exp(-t * rng.uniform(0.5, 4.0)))
    wave = np.concatenate(notes)[:total]
    return (0.3 * wave + 0.006 * rng.standard_normal(total)).astype(np.float32)


def write_audio(
    path: Path, seconds: float, seed: int = 0, sr: int = 44100, stereo: bool = True, mono: np.ndarray | None = None
) -> Path:
    """A generated file (tone_mix of `seconds`, or the given `mono` samples at `sr`) in the suffix's format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mono = tone_mix(seconds, seed=seed, sr=sr) if mono is None else mono
    data = np.stack([mono, np.roll(mono, 50)], axis=1) if stereo else mono[:, None]
    suffix = path.suffix.lower()
    if suffix in SOUNDFILE_FORMATS:
        import soundfile as sf

        fmt, subtype = SOUNDFILE_FORMATS[suffix]
        # Written in blocks: libsndfile's Vorbis/MP3 encoders crash on one very large write.
        with sf.SoundFile(str(path), "w", sr, data.shape[1], subtype=subtype, format=fmt) as out:
            for start in range(0, len(data), 16384):
                out.write(data[start : start + 16384])
    else:
        _write_av(path, data, 48000 if suffix == ".opus" else sr)
    return path


def _write_av(path: Path, data: np.ndarray, sr: int) -> None:
    import av

    container_format, codec = AV_FORMATS[path.suffix.lower()]
    if sr != 44100:
        import soxr

        data = soxr.resample(data, 44100, sr).astype(np.float32)
    with av.open(str(path), "w", format=container_format) as out:
        stream: Any = out.add_stream(codec, rate=sr, layout="stereo" if data.shape[1] == 2 else "mono")
        frame_size = 960 if codec == "libopus" else 1024
        planar = np.ascontiguousarray(data.T.astype(np.float32))
        for start in range(0, planar.shape[1], frame_size):
            chunk = planar[:, start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=stream.layout.name)
            frame.sample_rate = sr
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def tag(path: Path, **tags: str) -> None:
    """Write easy-style tags (title, artist, album, ...); ID3 frames for mp3 and aiff."""
    import mutagen
    import mutagen.id3

    from indexer.tags import ID3_FRAMES

    audio = mutagen.File(str(path), easy=True)
    if audio.tags is None:
        audio.add_tags()
    if isinstance(audio.tags, mutagen.id3.ID3):  # aiff (and mp3 when easy mode is missing)
        for key, value in tags.items():
            audio.tags.add(getattr(mutagen.id3, ID3_FRAMES[key])(encoding=3, text=[value]))
    else:
        for key, value in tags.items():
            audio[key] = value
    audio.save()


def image_bytes(colour: tuple[int, int, int], size: int = 64, fmt: str = "JPEG") -> bytes:
    """A plain square picture (JPEG or PNG), for cover art."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format=fmt)
    return out.getvalue()


def embed_cover(path: Path, data: bytes, mime: str = "image/jpeg", picture_type: int = 3) -> None:
    """Embed `data` as a picture in `path`'s tags, the way taggers write it for each format."""
    import base64

    import mutagen
    import mutagen.id3
    from mutagen.flac import Picture
    from mutagen.mp4 import MP4Cover

    audio = mutagen.File(str(path))
    if audio.tags is None:
        audio.add_tags()
    suffix = path.suffix.lower()
    if suffix == ".flac":
        picture = Picture()
        picture.type, picture.mime, picture.data = picture_type, mime, data
        audio.add_picture(picture)
    elif isinstance(audio.tags, mutagen.id3.ID3):
        audio.tags.add(mutagen.id3.APIC(encoding=3, mime=mime, type=picture_type, desc=str(picture_type), data=data))
    elif suffix in (".m4a", ".mp4"):
        kind = MP4Cover.FORMAT_PNG if mime == "image/png" else MP4Cover.FORMAT_JPEG
        audio.tags["covr"] = [MP4Cover(data, imageformat=kind)]
    else:  # Ogg Vorbis / Opus: a FLAC picture block, base64, in a comment
        picture = Picture()
        picture.type, picture.mime, picture.data = picture_type, mime, data
        audio.tags["metadata_block_picture"] = [base64.b64encode(picture.write()).decode("ascii")]
    audio.save()


def piano_midi(path: Path, seconds: float = 30.0, seed: int = 0) -> Path:
    """A Standard MIDI File of solo piano (General MIDI program 0): broken chords over a slow bass."""
    rng = np.random.default_rng(seed)
    ticks, tempo = 480, 500_000  # a quarter note: 480 ticks, 0.5 s
    events: list[tuple[int, bytes]] = [(0, bytes([0xC0, 0]))]  # program change: acoustic grand piano
    chords = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)]
    beat = 0
    while beat * 0.5 < seconds:
        root = chords[(beat // 8) % len(chords)]
        note = int(root[beat % 3] + 12 * rng.integers(0, 2))
        for pitch, length in ((note, ticks // 2), (root[0] - 24, ticks) if beat % 4 == 0 else (None, 0)):
            if pitch is not None:
                events.append((beat * ticks, bytes([0x90, pitch, int(rng.integers(60, 100))])))
                events.append((beat * ticks + length * 2, bytes([0x80, pitch, 0])))
        beat += 1
    events.sort(key=lambda e: e[0])
    body, now = bytearray(b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big")), 0
    for at, message in events:
        body += _vlq(at - now) + message
        now = at
    body += b"\x00\xff\x2f\x00"
    header = (
        b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + ticks.to_bytes(2, "big")
    )
    path.write_bytes(header + b"MTrk" + len(body).to_bytes(4, "big") + bytes(body))
    return path


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))
