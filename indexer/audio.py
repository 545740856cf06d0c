"""Decode any catalog file to mono float32 at a model's sample rate.

libsndfile (soundfile) reads wav/flac/ogg/mp3/aiff; everything else (m4a/aac, opus in
some containers, ...) goes through FFmpeg (PyAV). Channels are averaged to mono;
soxr resamples. Every failure becomes one DecodeError with a short reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from indexer.errors import IndexerError
from indexer.quiet import decoder_chatter_to_log

log = logging.getLogger(__name__)


class DecodeError(IndexerError):
    """The file is not audio we can read."""


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return _mono(data), int(rate)


def _mono(frames: np.ndarray) -> np.ndarray:
    """Interleaved (samples, channels) averaged to mono. Mono and stereo without numpy's strided reduction
    (a fifth of a stereo decode's time), bit-identical to `mean(axis=1)` in float32."""
    if frames.shape[1] == 1:
        return frames[:, 0]
    if frames.shape[1] == 2:
        return (frames[:, 0] + frames[:, 1]) * np.float32(0.5)
    return frames.mean(axis=1)


def _read_av(path: Path) -> tuple[np.ndarray, int]:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise DecodeError("no audio stream")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp")  # keeps channels and rate
            parts = []
            rate = stream.rate
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().mean(axis=0))
                    rate = out.sample_rate
    except av.error.FFmpegError as exc:
        raise DecodeError(f"ffmpeg: {exc.strerror or exc.__class__.__name__}") from exc
    if not parts:
        raise DecodeError("no audio samples")
    return np.concatenate(parts).astype(np.float32), int(rate)


def decode(path: str | Path, sample_rate: int) -> np.ndarray:
    """Mono float32 samples of `path` at `sample_rate` (the decoders' own notes go to the log, at DEBUG)."""
    path = Path(path)
    if not path.is_file():
        raise DecodeError(f"no such file: {path}")
    with decoder_chatter_to_log():
        mono, rate = _read_any(path)
    if mono.size == 0:
        raise DecodeError("no audio samples")
    if not np.isfinite(mono).all():
        raise DecodeError("decoded samples contain NaN or infinity")
    if rate != sample_rate:
        import soxr

        mono = soxr.resample(mono, rate, sample_rate, quality="HQ").astype(np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32)


def _read_any(path: Path) -> tuple[np.ndarray, int]:
    try:
        return _read_soundfile(path)
    except Exception as first:  # noqa: BLE001 - libsndfile says "unknown format" many ways
        log.debug("soundfile could not read %s (%s); trying ffmpeg", path, first)
        try:
            return _read_av(path)
        except DecodeError:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoder failure is this file's failure
            raise DecodeError(f"cannot decode: {exc.__class__.__name__}: {str(exc)[:160]}") from exc


def second_levels(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """RMS level of each second of `wave` in dBFS (the last, partial second too), floored at -128."""
    frames = max(1, -(-wave.size // sample_rate))
    padded = np.zeros(frames * sample_rate, np.float32)
    padded[: wave.size] = wave
    power = np.square(padded.reshape(frames, sample_rate), dtype=np.float64).mean(1)
    return np.maximum(10 * np.log10(np.maximum(power, 1e-13)), -128.0).astype(np.float32)


def slice_loudness(levels: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each slice's loudness (dBFS): the loudest second between its start and the next slice's."""
    ends = np.append(starts[1:], max(float(starts[-1]) + 1.0, len(levels))) if len(starts) else starts
    out = np.empty(len(starts), np.float32)
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        first = min(int(start), len(levels) - 1)
        out[i] = levels[first : max(first + 1, int(np.ceil(end)))].max()
    return out
