"""Fingerprint comparison on synthetic items (what each rule tolerates, what it refuses); real music and
FFmpeg variants are tests/indexer/test_duplicates_real.py's."""

from __future__ import annotations

import numpy as np

from storage.recordings.fingerprints import (
    ITEM_SECONDS,
    MAX_PROFILE_SPREAD,
    Fingerprint,
    FingerprintIndex,
    compare,
    groups,
    same_master,
)

RNG = np.random.default_rng(7)


def items(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)


def noisy(values: np.ndarray, flip: float, seed: int = 0) -> np.ndarray:
    """Each bit flipped with probability `flip` (a codec's damage)."""
    bits = np.random.default_rng(seed).random((len(values), 32)) < flip
    mask = (bits * (1 << np.arange(32, dtype=np.uint64))).sum(1).astype(np.uint32)
    return values ^ mask


def test_a_copy_with_a_cut_noise_and_drift_matches_at_its_offset():
    original = items(480, 1)
    cut = noisy(original[24:], 0.05)  # 24 items (~3 s) cut, 5 % of bits flipped
    match = compare(original, cut)
    assert match.same_recording and match.coverage > 0.9
    assert abs(match.offset + 24 * ITEM_SECONDS) < 1e-6  # t in the original lies at t - 2.97 s in the cut copy
    assert abs(compare(cut, original).offset - 24 * ITEM_SECONDS) < 1e-6
    drifted = original[np.round(np.arange(0, 480, 1.02)).astype(int)]  # 2 % faster: items dropped as it drifts
    assert compare(original, noisy(drifted, 0.03)).same_recording


def test_different_music_and_half_shared_music():
    a, b = items(400, 1), items(400, 2)
    assert compare(a, b).coverage == 0.0 and not compare(a, b).same_recording
    medley = np.concatenate([a[:100], b[:300]])  # a quarter of `a` inside another track
    match = compare(a, medley)
    assert 0.2 < match.coverage < 0.5 and not match.same_recording
    assert compare(a[:100], medley).same_recording  # but all of a short excerpt is in it
    assert not compare(np.empty(0, np.uint32), a).same_recording


def test_masters_differ_by_eq_not_by_gain():
    profile = np.array([30.0, 28.0, 25.0, 20.0, 15.0, 10.0, 4.0], np.float32)
    fp = Fingerprint(items(10, 1), profile)
    assert same_master(fp, Fingerprint(fp.items, profile - 6.0))  # 6 dB quieter: the same master
    treble = profile + np.array([0, 0, 0, 0, 1, 3, 6], np.float32)
    assert not same_master(fp, Fingerprint(fp.items, treble))
    assert same_master(fp, Fingerprint(fp.items, profile + MAX_PROFILE_SPREAD * 0.9 * (np.arange(7) == 3)))


def test_the_index_finds_copies_among_many():
    catalog = {i: items(600, 100 + i) for i in range(1, 300)}
    index = FingerprintIndex({i: Fingerprint(v, np.zeros(0, np.float32)).keys() for i, v in catalog.items()})
    query = Fingerprint(noisy(catalog[42][30:500], 0.02), np.zeros(0, np.float32))
    assert index.candidates(query.keys(), 5)[0] == 42
    stranger = items(600, 9999)
    voted = index.candidates(Fingerprint(stranger, query.profile).keys(), 5)  # chance votes: compared, refused
    assert not any(compare(stranger, catalog[i]).same_recording for i in voted)


def test_groups_join_what_pairs_connect():
    found = groups([(5, 3), (3, 9), (20, 21)], [3, 5, 9, 11, 20, 21])
    assert found == {3: 3, 5: 3, 9: 3, 11: 11, 20: 20, 21: 20}


def test_a_short_clip_is_one_block_and_a_tiny_one_matches_nothing():
    clip = items(12, 3)  # ~1.5 s
    assert compare(clip, noisy(clip, 0.03)).same_recording
    assert not compare(clip[:5], clip[:5]).same_recording


def test_shared_audio_gives_a_passage_its_edges_and_offset():
    from storage.core.passages import Passage
    from storage.recordings.passage_edges import LEAD, SPAN, refine, within

    query, other = items(400, 11), items(300, 12)
    other[37:197] = noisy(query[100:260], 0.03)  # query items 100-259 lie at 37-196 of the other
    rough = Passage(10.0, 40.0, 0.0, 30.0, 0.8)  # what the embedding alignment said: elsewhere
    empty = np.zeros(0, np.float32)
    passage = refine(rough, Fingerprint(query, empty), Fingerprint(other, empty))
    assert passage.shared_audio and passage.score == 0.8
    assert abs(passage.query_start - (100 * ITEM_SECONDS + LEAD)) < 0.2
    assert abs(passage.start - (37 * ITEM_SECONDS + LEAD)) < 0.2
    assert abs(passage.query_end - (259 * ITEM_SECONDS + SPAN)) < 0.2
    assert abs(passage.offset + 63 * ITEM_SECONDS) < 1e-6
    assert refine(rough, Fingerprint(query, empty), Fingerprint(items(300, 13), empty)) == rough  # nothing shared
    assert refine(rough, None, Fingerprint(other, empty)) == rough
    inside = within(passage, 15.0, 20.0)  # kept to the region asked about, at the same offset
    assert (inside.query_start, inside.query_end) == (15.0, 20.0) and abs(inside.offset - passage.offset) < 1e-9


def test_a_held_chord_matches_only_as_long_a_one():
    chord = np.full(40, 692189559, np.uint32)  # what a steady tone gives: one value throughout
    assert compare(chord, chord.copy()).same_recording
    assert not compare(chord, np.full(60, 692189559, np.uint32)).same_recording  # 2.5 s longer: another track
    assert len(Fingerprint(chord, np.zeros(0, np.float32)).keys()) == 1  # indexed all the same


def test_one_block_of_shared_audio_must_match_well():
    from storage.core.passages import Passage
    from storage.recordings.passage_edges import refine

    query, empty = items(400, 21), np.zeros(0, np.float32)
    rough = Passage(10.0, 40.0, 0.0, 30.0, 0.8)
    for flip, shared in ((0.02, True), (0.17, False)):  # one block (~4 s) of the query inside the other
        other = items(300, 22)
        other[50:82] = noisy(query[96:128], flip)
        assert refine(rough, Fingerprint(query, empty), Fingerprint(other, empty)).shared_audio is shared


def test_one_offset_makes_a_copy_two_make_an_edit():
    original = items(320, 31)
    gap = original.copy()
    gap[160:192] = items(32, 32)  # one block lost in the middle: still one path
    assert compare(original, noisy(gap, 0.02)).same_recording
    edit = np.concatenate([items(40, 33), original[:130], items(30, 34), original[190:320]])  # two parts moved
    match = compare(original, noisy(edit, 0.02))
    assert 0.3 < match.coverage < 0.5 and not match.same_recording
