"""A track's acoustic fingerprint, from the wave the build already decoded (no second decode).

Chromaprint (Debian's libchromaprint, through pyacoustid's bindings) takes the wave as 16-bit PCM at any
rate and resamples it itself; we keep its raw items (storage.recordings.fingerprints compares them) and the track's
level per band (which master it is). Without the library a build still runs: tracks get no fingerprint
(duplicates then fall back to identical files), said once per process.
"""

from __future__ import annotations

import logging
from functools import cache

import numpy as np

from storage.recordings.fingerprints import PROFILE_BANDS, Fingerprint

log = logging.getLogger(__name__)

PROFILE_FFT = 2048


@cache
def chromaprint_available() -> bool:
    try:
        import chromaprint  # noqa: F401  (pyacoustid's ctypes bindings; loading them loads libchromaprint)
    except (ImportError, OSError) as exc:
        log.warning("no fingerprints: Chromaprint is missing (%s); install libchromaprint1 (Debian)", exc)
        return False
    return True


def fingerprint(wave: np.ndarray, sample_rate: int) -> Fingerprint | None:
    """The fingerprint of mono float audio in [-1, 1] (None without Chromaprint, or for a wave too short)."""
    if not chromaprint_available():
        return None
    import chromaprint

    pcm = (np.clip(wave, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    printer = chromaprint.Fingerprinter()
    try:
        printer.start(sample_rate, 1)
        printer.feed(pcm)
        items, _ = chromaprint.decode_fingerprint(printer.finish())
    except chromaprint.FingerprintError as exc:
        log.warning("Chromaprint failed on a wave of %.1f s: %s", wave.size / sample_rate, exc)
        return None
    if not items:
        return None
    return Fingerprint(np.array(items, np.int64).astype(np.uint32), band_profile(wave, sample_rate))


def band_profile(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean power per band of PROFILE_BANDS in dB (bands above the Nyquist frequency stay empty)."""
    frames = wave.size // PROFILE_FFT
    if frames == 0:
        return np.zeros(0, np.float32)
    window = np.hanning(PROFILE_FFT).astype(np.float32)
    power = np.zeros(PROFILE_FFT // 2 + 1)
    for first in range(0, frames, 256):  # bounded memory for long tracks
        part = wave[first * PROFILE_FFT : min(frames, first + 256) * PROFILE_FFT].reshape(-1, PROFILE_FFT)
        power += np.square(np.abs(np.fft.rfft(part * window, axis=1))).sum(0)
    power /= frames
    freqs = np.fft.rfftfreq(PROFILE_FFT, 1.0 / sample_rate)
    edges = [e for e in PROFILE_BANDS if e <= sample_rate / 2]
    bands = [power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return (10.0 * np.log10(np.asarray(bands) + 1e-12)).astype(np.float32)
