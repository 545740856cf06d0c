"""Edges and offset of a matched passage from fingerprints, where two tracks share the audio itself (a
sample, a copy, an edit): Chromaprint's items come every ITEM_SECONDS (0.12 s), where timelines have one
slice per 2-3 s. The embedding alignment (storage.passages) finds the passage; when the fingerprints match
along its diagonal, their run says where it starts and ends in both tracks.

Item k of a fingerprint describes the audio from k * ITEM_SECONDS to about SPAN later, so the run of
matching items starts where the shared audio starts and stops SPAN before it ends: measured on real music
with planted passages (benchmarks/bench_fingerprints.py), the stop lies SPAN = 1.9 s before the planted end.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from storage.fingerprints import ITEM_SECONDS, MAX_ERROR, Fingerprint, align
from storage.passages import Passage

SPAN = 1.9  # seconds of audio an item describes past its start (measured)
SMOOTH = 8  # items (~1 s) of bit errors averaged when walking to an edge
AGREE_SECONDS = 6.0  # a fingerprint run belongs to the passage when its offset is this near the alignment's


def refine(passage: Passage, query: Fingerprint | None, other: Fingerprint | None) -> Passage:
    """`passage` with the edges and offset of the shared audio along it, when there is some."""
    if query is None or other is None:
        return passage
    blocks = [
        b
        for b in align(query.items, other.items)
        if abs(b.shift * ITEM_SECONDS - passage.offset) <= AGREE_SECONDS
        and b.start * ITEM_SECONDS < passage.query_end
        and b.end * ITEM_SECONDS > passage.query_start
    ]
    if not blocks:
        return passage
    shift = int(np.median([b.shift for b in blocks]))
    first, last = _edges(query.items, other.items, shift, min(b.start for b in blocks), max(b.end for b in blocks))
    start = first * ITEM_SECONDS
    end = last * ITEM_SECONDS + SPAN
    offset = shift * ITEM_SECONDS
    return replace(
        passage,
        query_start=start,
        query_end=end,
        start=max(0.0, start + offset),
        end=end + offset,
        shared_audio=True,
    )


def _edges(a: np.ndarray, b: np.ndarray, shift: int, start: int, end: int) -> tuple[int, int]:
    """The first and last item of `a`, around [start, end), whose smoothed bit error along `shift` stays
    under MAX_ERROR."""
    low, high = max(0, -shift), min(len(a), len(b) - shift)
    if high <= low:
        return start, max(start, end - 1)
    errors = np.bitwise_count(a[low:high] ^ b[low + shift : high + shift]) / 32.0
    smooth = np.convolve(errors, np.ones(SMOOTH) / SMOOTH, mode="same")
    good = smooth <= MAX_ERROR
    first = min(max(start, low), high - 1) - low
    while first > 0 and good[first - 1]:
        first -= 1
    while first < len(good) - 1 and not good[first]:
        first += 1
    last = min(max(end - 1, low), high - 1) - low
    while last < len(good) - 1 and good[last + 1]:
        last += 1
    while last > first and not good[last]:
        last -= 1
    return first + low, last + low


def within(passage: Passage, start: float, end: float) -> Passage:
    """`passage` with its query side kept inside the region [start, end) asked about (the other side moved
    with it, at the same offset)."""
    first, last = max(passage.query_start, start), min(passage.query_end, end)
    if (first, last) == (passage.query_start, passage.query_end) or last <= first:
        return passage
    offset = passage.offset
    return replace(passage, query_start=first, query_end=last, start=max(0.0, first + offset), end=last + offset)
