"""The same recording by acoustic fingerprint (Chromaprint's raw items, computed by indexer.fingerprint).

A fingerprint is one 32-bit item per ITEM_SECONDS (16 two-bit classifiers over the chroma image). Two
fingerprints are compared block by block: the shorter one is cut into blocks of BLOCK items, each block
takes the offset into the other where its bits differ least (the candidate offsets come from items whose
top 16 bits agree), and a block matches when its bit error rate is at most MAX_ERROR. Per-block offsets
tolerate trims, gaps and small speed changes; a matched block counts when a neighbour matched at about the
same shift, or when it matches very well alone; the two are the same recording when the blocks that count
and follow one offset (a copy follows one; an edit sharing two parts at two offsets, two) cover at least
MIN_COVERAGE of the shorter one.

Measured (benchmarks/bench_fingerprints.py: 20 soundtrack excerpts of 45 s, FFmpeg variants of 5, 2
remasters, 16 mixes): matched blocks of a copy have bit error rates of 0.000-0.025 (MP3 64/192 kb/s, Opus,
-6 dB), 0.009-0.048 (first 3 s cut), 0.021-0.100 (+2 % tempo) and 0.017-0.104 (compression + treble);
between tracks that share no audio, stray blocks at 0.12-0.22 at scattered shifts (an ambient track
matched 6 of another's 11 blocks so, each at another shift), none of which counts once a block must have a
matched neighbour at about its shift or match at 0.1 alone. So MAX_ERROR 0.22 and a coverage of half:
every variant is found (coverage 1.0), no block of 683 unrelated pairs counts.

The same *recording* may still be another *master* (a remaster's EQ): `profile` keeps each track's mean level
in PROFILE_BANDS, and two fingerprint-matched tracks are copies of one master when those levels differ by a
constant gain within MAX_PROFILE_SPREAD dB (measured: codecs, gain, trims, tempo <= 0.85 dB; a +6 dB treble
shelf with compression >= 4.3 dB).

Lookups across a catalog go through `FingerprintIndex`: an inverted index of each track's sampled keys
(top 16 bits of an item, one in KEY_SAMPLE kept by a hash of its value so that copies keep the same ones,
over the first INDEX_SECONDS); the most-voted tracks are then compared in full.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

ITEM_SECONDS = 4096 / 3 / 11025  # Chromaprint's default algorithm: a 4096-sample frame every third of it at 11,025 Hz
BLOCK = 32  # items per block (~4 s): a +2 % tempo drifts 0.64 items within one
MAX_ERROR = 0.22
MIN_COVERAGE = 0.5
CHAIN_DRIFT = 2  # items between neighbouring matched blocks of one passage (a small speed change drifts)
LONE_BLOCK_ERROR = 0.1  # a matched block with no matched neighbour counts only this good (measured: unrelated
# tracks' stray blocks at 0.12-0.22, at scattered shifts; blocks of copies 0.00-0.10)
MIN_ITEMS = 8  # ~1 s: a shorter fingerprint matches nothing (too few bits to tell chance from a copy)
MIN_DISTINCT = 4  # a fingerprint of fewer values than this (a held chord, a test tone) is told by its length too
SAME_LENGTH = 4  # items (~0.5 s)
KEY_SHIFT = 16  # keys are an item's top 16 bits (8 classifiers): they survive a tempo change more often than 32
MAX_REPEATS = 16  # a key found more often in the other fingerprint (silence, a held chord) votes for no offset
GLOBAL_OFFSETS = 5  # offsets every block tries: the most voted over the whole pair
BLOCK_OFFSETS = 2  # and the block's own most voted
KEY_SAMPLE = 4  # one key value in four is indexed
MIN_KEYS = 4  # fewer sampled than this: every key is indexed
INDEX_SECONDS = 120.0
MAX_POSTINGS = 50_000  # a key held by more tracks than this votes for none (a catalog's common chord)
MIN_SHARE = 0.25  # of a query's keys, shared by a track compared in full (measured: copies 0.43+, others 0.007)
PROFILE_BANDS = (50.0, 150.0, 300.0, 600.0, 1200.0, 2400.0, 4800.0, 8000.0)  # Hz: edges of the level bands
MAX_PROFILE_SPREAD = 2.0  # dB


@dataclass(frozen=True)
class Fingerprint:
    items: np.ndarray  # uint32, one per ITEM_SECONDS
    profile: np.ndarray  # float32 dB per band of PROFILE_BANDS

    @property
    def seconds(self) -> float:
        return len(self.items) * ITEM_SECONDS

    def keys(self) -> np.ndarray:
        return index_keys(self.items)


@dataclass(frozen=True)
class AlignedBlock:
    """A matched block: items [start, end) of the first fingerprint lie at [start + shift, end + shift) of the
    second, with this bit error rate."""

    start: int
    end: int
    shift: int
    error: float


@dataclass(frozen=True)
class Match:
    coverage: float  # share of the shorter fingerprint's items in matched blocks
    error: float  # mean bit error rate of the matched blocks (1.0: none)
    offset: float  # seconds: a moment t of the first fingerprint lies at t + offset in the second (median)
    blocks: tuple[AlignedBlock, ...] = ()  # in the first fingerprint's items

    @property
    def same_recording(self) -> bool:
        return self.coverage >= MIN_COVERAGE


NO_MATCH = Match(0.0, 1.0, 0.0)


def _popcount(values: np.ndarray) -> np.ndarray:
    return np.bitwise_count(values)


def _votes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in a, shift to b) for each pair of items whose keys agree (keys rare enough in b)."""
    key_a, key_b = a >> KEY_SHIFT, b >> KEY_SHIFT
    order = np.argsort(key_b, kind="stable")
    sorted_b = key_b[order]
    low, high = np.searchsorted(sorted_b, key_a, "left"), np.searchsorted(sorted_b, key_a, "right")
    count = high - low
    keep = (count > 0) & (count <= MAX_REPEATS)
    count, low = count[keep], low[keep]
    positions = np.repeat(np.flatnonzero(keep), count)
    within = np.arange(len(positions)) - np.repeat(np.cumsum(count) - count, count)
    return positions, order[np.repeat(low, count) + within] - positions


def _top(values: np.ndarray, n: int) -> np.ndarray:
    if values.size == 0:
        return values
    found, counts = np.unique(values, return_counts=True)
    return found[np.argsort(-counts, kind="stable")[:n]]


def _blocks(n: int) -> list[tuple[int, int]]:
    """Block bounds over n items; a short last block joins the one before."""
    edges = list(range(0, n, BLOCK)) + [n]
    if len(edges) > 2 and edges[-1] - edges[-2] < BLOCK // 2:
        edges.pop(-2)
    return list(zip(edges[:-1], edges[1:], strict=True))


def align(a: np.ndarray, b: np.ndarray) -> list[AlignedBlock]:
    """Each block of `a` at its best shift into `b`, kept when it matches: first at the pair's most voted
    shifts (a copy, a trim: done), then the blocks still unmatched at their own most voted (a drift)."""
    if len(a) == 0 or len(b) == 0:
        return []
    positions, shifts = _votes(a, b)
    bounds = np.array(_blocks(len(a)))
    everyone = np.arange(len(bounds))
    shared = np.union1d(_top(shifts, GLOBAL_OFFSETS), [0])  # and no shift: a held chord's keys vote for none
    found = _best(a, b, bounds, np.repeat(everyone, len(shared)), np.tile(shared, len(bounds)))
    missing = np.setdiff1d(everyone, [k for k, _ in found])
    if len(missing) and len(shifts):
        block, shift = _own(positions, shifts, bounds, missing)
        found += _best(a, b, bounds, block, shift)
    return [
        AlignedBlock(int(bounds[k, 0]), int(bounds[k, 1]), shift, error)
        for k, (shift, error) in sorted(found)
        if error <= MAX_ERROR
    ]


def _best(
    a: np.ndarray, b: np.ndarray, bounds: np.ndarray, block: np.ndarray, shift: np.ndarray
) -> list[tuple[int, tuple[int, float]]]:
    """For each block among `block`, its best (shift, error) among `shift` give or take one item; only the
    blocks that match."""
    if len(block) == 0:
        return []
    block = np.repeat(block, 3)
    shift = (shift[:, None] + np.array([-1, 0, 1])[None, :]).ravel()
    starts, lengths = bounds[block, 0], bounds[block, 1] - bounds[block, 0]
    steps = np.arange(int(lengths.max()))
    rows = starts[:, None] + steps[None, :]
    cols = rows + shift[:, None]
    valid = (steps[None, :] < lengths[:, None]) & (cols >= 0) & (cols < len(b))
    differ = _popcount(a[np.minimum(rows, len(a) - 1)] ^ b[np.clip(cols, 0, len(b) - 1)]) * valid
    overlap = valid.sum(1)
    need = min(BLOCK // 2, len(a))  # a fingerprint shorter than a block is one block, all of it overlapping
    error = np.where(overlap >= need, differ.sum(1) / (32.0 * np.maximum(overlap, 1)), 1.0)
    order = np.lexsort((np.abs(shift), error, block))  # per block: the least error, then the least shift
    first = order[np.r_[True, block[order][1:] != block[order][:-1]]]
    return [(int(block[t]), (int(shift[t]), float(error[t]))) for t in first if error[t] <= MAX_ERROR]


_SPREAD = 1 << 24  # packs (block, shift) into one integer: shifts stay within +-8M items (11 days)


def _own(
    positions: np.ndarray, shifts: np.ndarray, bounds: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(block, shift) pairs: each block of `wanted` with its own BLOCK_OFFSETS most voted shifts."""
    owner = np.searchsorted(bounds[:, 1], positions, side="right")  # the block of each vote
    mine = np.isin(owner, wanted)
    keys, counts = np.unique(owner[mine] * _SPREAD + (shifts[mine] + _SPREAD // 2), return_counts=True)
    order = np.lexsort((-counts, keys // _SPREAD))  # per block, most voted first
    owners, voted = keys[order] // _SPREAD, keys[order] % _SPREAD - _SPREAD // 2
    rank = np.arange(len(owners)) - np.searchsorted(owners, owners, side="left")
    keep = rank < BLOCK_OFFSETS
    return owners[keep], voted[keep]


def compare(a: Fingerprint | np.ndarray, b: Fingerprint | np.ndarray) -> Match:
    """How much of the shorter of two fingerprints is found in the other, and where."""
    first = a.items if isinstance(a, Fingerprint) else a
    second = b.items if isinstance(b, Fingerprint) else b
    swapped = len(first) > len(second)
    short, long = (second, first) if swapped else (first, second)
    if len(short) < MIN_ITEMS:
        return NO_MATCH
    if len(long) - len(short) > SAME_LENGTH and min(len(np.unique(short)), len(np.unique(long))) < MIN_DISTINCT:
        return NO_MATCH  # a held chord says only "this chord": another track holding it must be as long too
    blocks = consistent(align(short, long))
    if not blocks:
        return NO_MATCH
    blocks = max(paths(blocks), key=lambda path: sum(b.end - b.start for b in path))
    covered = sum(block.end - block.start for block in blocks)
    error = float(np.mean([block.error for block in blocks]))
    offset = float(np.median([block.shift for block in blocks])) * ITEM_SECONDS
    if swapped:  # in the first fingerprint's terms
        blocks = [AlignedBlock(x.start + x.shift, x.end + x.shift, -x.shift, x.error) for x in blocks]
        offset = -offset
    return Match(covered / len(short), error, offset, tuple(blocks))


def consistent(blocks: list[AlignedBlock]) -> list[AlignedBlock]:
    """The matched blocks that belong to a run of neighbours at about one shift, or that match very well
    alone: a drone or a held chord matches stray blocks of unrelated music at scattered shifts."""

    def joined(x: AlignedBlock, y: AlignedBlock) -> bool:
        return x.end == y.start and abs(x.shift - y.shift) <= CHAIN_DRIFT

    return [
        block
        for i, block in enumerate(blocks)
        if block.error <= LONE_BLOCK_ERROR
        or (i > 0 and joined(blocks[i - 1], block))
        or (i + 1 < len(blocks) and joined(block, blocks[i + 1]))
    ]


def paths(blocks: list[AlignedBlock]) -> list[list[AlignedBlock]]:
    """The matched blocks split by the offset they follow: a copy follows one (drifting a little, with
    gaps where a block failed); an edit or a medley that shares two parts of a track at two offsets, two.
    Each block joins the path whose last shift is nearest, within CHAIN_DRIFT items plus one per block
    between them."""
    found: list[list[AlignedBlock]] = []
    for block in blocks:
        near = [
            path
            for path in found
            if abs(path[-1].shift - block.shift) <= CHAIN_DRIFT + (block.start - path[-1].end) // BLOCK
        ]
        if near:
            min(near, key=lambda path: abs(path[-1].shift - block.shift)).append(block)
        else:
            found.append([block])
    return found


def same_master(a: Fingerprint, b: Fingerprint) -> bool:
    """Two fingerprint-matched tracks are one master when their band levels differ only by a gain."""
    if a.profile.shape != b.profile.shape or a.profile.size == 0:
        return True  # no profile to tell them apart: trust the fingerprint
    difference = a.profile - b.profile
    return float(np.max(np.abs(difference - np.median(difference)))) <= MAX_PROFILE_SPREAD


def index_keys(items: np.ndarray) -> np.ndarray:
    """The sampled keys of a fingerprint's first INDEX_SECONDS (unique, sorted)."""
    keys = (items[: int(INDEX_SECONDS / ITEM_SECONDS)] >> KEY_SHIFT).astype(np.uint32)
    chosen = ((keys * np.uint32(2654435761)) >> np.uint32(16)) % KEY_SAMPLE == 0  # a hash of the value
    found = np.unique(keys[chosen])
    if len(found) < MIN_KEYS:  # a fingerprint of few values (a held chord): all of them
        found = np.unique(keys)
    return found.astype(np.uint16)


class FingerprintIndex:
    """Which tracks share sampled keys with a fingerprint (an inverted index, in memory)."""

    def __init__(self, keys: Mapping[int, np.ndarray]) -> None:
        self._ids = np.fromiter(keys, np.int64, len(keys))
        sizes = np.array([len(keys[i]) for i in self._ids.tolist()], np.int64)
        flat = np.concatenate([keys[i] for i in self._ids.tolist()]) if len(keys) else np.empty(0, np.uint16)
        rows = np.repeat(np.arange(len(self._ids), dtype=np.int32), sizes)
        order = np.argsort(flat, kind="stable")
        self._rows = rows[order]
        self._bounds = np.searchsorted(flat[order], np.arange((1 << 16) + 1))
        self.count = len(self._ids)

    def candidates(self, keys: np.ndarray, limit: int = 20, min_votes: int = 2) -> list[int]:
        """Up to `limit` track ids sharing the most keys with `keys`, most first: at least `min_votes` and
        MIN_SHARE of the keys (a copy shares a quarter or more; a stranger a chance few)."""
        if self.count == 0 or len(keys) == 0:
            return []
        keys = np.asarray(keys, np.int64)
        low, high = self._bounds[keys], self._bounds[keys + 1]
        keep = (high > low) & (high - low <= MAX_POSTINGS)
        if not keep.any():
            return []
        hits = np.concatenate([self._rows[lo:hi] for lo, hi in zip(low[keep], high[keep], strict=True)])
        votes = np.bincount(hits, minlength=self.count)
        enough = max(min(min_votes, len(keys)), int(np.ceil(MIN_SHARE * len(keys))))  # a held chord: one key
        top = np.flatnonzero(votes >= enough)
        top = top[np.argsort(-votes[top], kind="stable")[:limit]]
        return self._ids[top].tolist()


def groups(pairs: Iterable[tuple[int, int]], members: Iterable[int]) -> dict[int, int]:
    """Each member's group: the smallest id connected to it by `pairs` (union-find)."""
    parent = {m: m for m in members}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {m: root(m) for m in list(parent)}
