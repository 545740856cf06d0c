"""Edges and offset of a matched passage from fingerprints, where two tracks share the audio itself (a
sample, a copy, an edit): Chromaprint's items come every ITEM_SECONDS (0.12 s), where timelines have one
slice per 2-3 s. Where the fingerprints match, their longest run of matched blocks (one shift, give or take
a small drift) is the passage, walked out item by item to where the bits stop agreeing; elsewhere the
embedding alignment (storage.core.passages) stands.

Item k of a fingerprint describes about two seconds of audio from k * ITEM_SECONDS on, so the run of
matching items (walked out to where the smoothed bit error rate is halfway between the passage's own and
that of unrelated audio) starts LEAD before the shared audio and stops SPAN before its end: both measured
on real music with planted passages (benchmarks/bench_fingerprints.py: mean signed errors -0.42 s and
-1.32 s before correction).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from storage.core.passages import Passage
from storage.recordings.fingerprints import CHAIN_DRIFT, ITEM_SECONDS, AlignedBlock, Fingerprint, align, consistent

LEAD = 0.42  # seconds: the first matching item starts this long before the shared audio (measured)
SPAN = 1.32  # seconds: the shared audio ends this long after the last matching item starts (measured)
SMOOTH = 8  # items (~1 s) of bit errors averaged when walking to an edge
UNRELATED = 0.5  # the bit error rate of unrelated audio: the edge lies halfway from the passage's own to it


def refine(
    passage: Passage,
    query: Fingerprint | None,
    other: Fingerprint | None,
    region: tuple[float, float] | None = None,
) -> Passage:
    """The passage where the two tracks share the audio itself (their fingerprints' longest run, within the
    query's `region` when one is asked about), with its edges and offset to a tenth of a second; `passage`
    (the embedding alignment) where they share none."""
    if query is None or other is None:
        return passage
    blocks = align(query.items, other.items)
    if region is not None:
        first, last = region[0] / ITEM_SECONDS, region[1] / ITEM_SECONDS
        blocks = [b for b in blocks if b.start < last and b.end > first]
    chain = longest_chain(consistent(blocks))  # a lone block near the threshold: music that merely sounds alike
    if not chain:
        return passage
    shift = int(np.median([b.shift for b in chain]))
    edge = (float(np.mean([b.error for b in chain])) + UNRELATED) / 2  # halfway: where the window is half in
    first, last = _edges(query.items, other.items, shift, chain[0].start, chain[-1].end, edge)
    start = first * ITEM_SECONDS + LEAD
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


def longest_chain(blocks: list[AlignedBlock]) -> list[AlignedBlock]:
    """The longest run of matched blocks that follow each other at about one shift (a shared passage)."""
    best: list[AlignedBlock] = []
    chain: list[AlignedBlock] = []
    for block in blocks:
        if chain and (block.start != chain[-1].end or abs(block.shift - chain[-1].shift) > CHAIN_DRIFT):
            chain = []
        chain.append(block)
        if sum(b.end - b.start for b in chain) > sum(b.end - b.start for b in best):
            best = list(chain)
    return best


def _edges(a: np.ndarray, b: np.ndarray, shift: int, start: int, end: int, limit: float) -> tuple[int, int]:
    """The first and last item of `a`, around [start, end), whose smoothed bit error along `shift` stays
    at most `limit`."""
    low, high = max(0, -shift), min(len(a), len(b) - shift)
    if high <= low:
        return start, max(start, end - 1)
    errors = np.bitwise_count(a[low:high] ^ b[low + shift : high + shift]) / 32.0
    smooth = np.convolve(errors, np.ones(SMOOTH) / SMOOTH, mode="same")
    good = smooth <= limit
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
