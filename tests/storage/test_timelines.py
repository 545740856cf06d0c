"""Compact timelines: the int8 basis keeps passages where float32 puts them, compaction is crash-safe,
and silence neither starts nor joins a passage."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from storage.core.passages import Timeline, best_passage
from storage.core.timelines import CODED, RAW, fit_codec
from storage.db.schema import Embedding
from storage.read.catalog import Catalog
from storage.write.store import Store
from storage.write.sync import FileState, FolderChanges
from tests.search_helpers import similar

DIM = 512


def synthetic_catalog(n_tracks: int, slices: int, seed: int = 0) -> list[np.ndarray]:
    """Timelines shaped like a music model's: a large common component, a decaying spectrum of
    directions, each track wandering slowly through them (consecutive slices alike)."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((200, DIM)).astype(np.float32)
    weights = np.arange(1, 201, dtype=np.float32) ** -0.8
    common = 3 * rng.standard_normal(DIM).astype(np.float32)
    walks = [np.cumsum(0.3 * rng.standard_normal((slices, 200)), 0) + rng.standard_normal(200) for _ in range(n_tracks)]
    return [((w * weights) @ basis + common).astype(np.float32) for w in walks]


def as_timeline(vectors: np.ndarray) -> Timeline:
    return Timeline(vectors, np.arange(len(vectors)) * 2.0, len(vectors) * 2.0)


def test_compact_timelines_keep_the_passages_of_float32():
    """The best pair from int8 codes on a 128-d basis is float32's within 2 s on both sides in >= 95% of
    pairs (each pair with a 20-s planted passage, under noise), fitted on other tracks."""
    tracks = synthetic_catalog(32, 90)
    codec = fit_codec(np.concatenate(tracks[:16]))
    rng = np.random.default_rng(1)
    agree = total = 0
    for a in range(16, 24):
        for b in range(16, 32):
            if a == b:
                continue
            query, other = tracks[a], tracks[b].copy()
            other[50:60] = query[10:20] + 0.5 * rng.standard_normal((10, DIM))
            full = best_passage(as_timeline(query), as_timeline(other))
            compact = best_passage(
                as_timeline(codec.decode(codec.encode(query))), as_timeline(codec.decode(codec.encode(other)))
            )
            total += 1
            agree += abs(full.start - compact.start) <= 2 and abs(full.query_start - compact.query_start) <= 2
    assert agree / total >= 0.95, (agree, total)


def test_codes_never_clip_and_fresh_slices_compare_with_stored_ones():
    tracks = synthetic_catalog(8, 30)
    codec = fit_codec(np.concatenate(tracks[:4]))
    far = tracks[5] * 40  # far outside anything the basis was fitted on
    decoded, projected = codec.decode(codec.encode(far)), codec.project(far)
    assert decoded.shape == (30, codec.dims + 1) and len(codec.encode(far)) == 30 * (codec.dims + 2)
    error = np.linalg.norm(decoded - projected, axis=1) / np.linalg.norm(
        projected - codec.project(codec.mean[None]), axis=1
    )
    assert error.max() < 0.05
    # Inner products in the comparison space are those of the reconstructions mu + W^T W (x - mu).
    reconstructed = codec.mean + (tracks[6] - codec.mean) @ codec.components.T @ codec.components
    np.testing.assert_allclose(
        codec.project(tracks[6]) @ codec.project(tracks[7]).T,
        reconstructed @ (codec.mean + (tracks[7] - codec.mean) @ codec.components.T @ codec.components).T,
        rtol=1e-3,
    )


def stored(tmp_path, tracks: list[np.ndarray]) -> Store:
    store = Store(tmp_path / "data")
    folder = store.add_folder(tmp_path)
    store.apply_changes(
        folder, FolderChanges(new=[FileState(f"t{i}.flac", 1, 0.0, f"h{i}") for i in range(len(tracks))]), "mule"
    )
    for i, timeline in enumerate(tracks, 1):
        starts = np.arange(len(timeline)) * 2.0
        store.save_embedding(i, "mule", "rev", {"duration": len(timeline) * 2.0}, timeline.mean(0), timeline, starts)
    store.rebuild_index("mule")
    return store


def formats(store: Store) -> dict[int, str]:
    with store.sessions() as s:
        return dict(s.execute(select(Embedding.track_id, Embedding.timeline_format)).all())


def test_compaction_learns_the_basis_once_and_later_tracks_arrive_compact(tmp_path, backend):
    tracks = synthetic_catalog(12, 40)
    store = stored(tmp_path, tracks[:6])
    assert store.compact_timelines("mule", fit_slices=10_000) == 0  # too few slices to learn from
    assert set(formats(store).values()) == {RAW}
    from indexer.commands.summary import format_status

    assert "timelines: 6 float16 (float16 until the model has 2,048 slices)" in format_status(
        Catalog.open(store.data_dir)
    )
    plain = Catalog.open(store.data_dir)
    before = similar(plain, 1, k=5, allow_stale=True)
    assert store.compact_timelines("mule", fit_slices=200) == 6
    assert set(formats(store).values()) == {CODED}
    folder = store.folders()[0]
    store.apply_changes(folder, FolderChanges(new=[FileState("late.flac", 1, 0.0, "late")]), "mule")
    store.save_embedding(7, "mule", "rev", {}, tracks[7].mean(0), tracks[7], np.arange(40) * 2.0)
    assert formats(store)[7] == CODED  # encoded on arrival
    store.refresh_index("mule")
    status = format_status(Catalog.open(store.data_dir))
    assert (
        "timelines: 7 compact (128-d int8)" in status and "segment index (search by passage): exact-sq8, 280" in status
    )
    catalog = Catalog.open(store.data_dir)
    after = similar(catalog, 1, k=5, allow_stale=True)
    common = {n.track.id: n.passage for n in before}
    for n in after:
        if n.track.id in common:
            assert abs(n.passage.start - common[n.track.id].start) <= 2
    # An outside (full-precision) timeline is compared in the same space as the stored ones.
    outside = catalog.comparable(as_timeline(tracks[0]))
    assert outside.vectors.shape[1] == catalog.timeline(catalog.track(1)).vectors.shape[1] == 129


def test_a_crash_during_compaction_leaves_every_timeline_readable(tmp_path, monkeypatch):
    tracks = synthetic_catalog(10, 40)
    store = stored(tmp_path, tracks)
    monkeypatch.setattr("storage.write.store.CHUNK", 64)  # 4 timelines a transaction
    from storage.core.timelines import TimelineCodec

    calls = {"n": 0}
    real = TimelineCodec.encode

    def failing(self, slices):  # the 6th encode dies mid-batch
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return real(self, slices)

    monkeypatch.setattr(TimelineCodec, "encode", failing)
    with pytest.raises(KeyboardInterrupt):
        store.compact_timelines("mule", fit_slices=100)
    assert sorted(formats(store).values()) == [RAW] * 6 + [CODED] * 4  # the first batch, whole; none of the second
    catalog = Catalog.open(store.data_dir)
    timelines = catalog.timelines(list(range(1, 11)))
    assert {t.vectors.shape for t in timelines.values()} == {(40, 129)}  # both formats, one space
    monkeypatch.setattr(TimelineCodec, "encode", real)
    assert Store(store.data_dir).compact_timelines("mule") == 6  # resumes with the basis already learned
    assert set(formats(store).values()) == {CODED}


def test_silence_neither_starts_nor_joins_a_passage():
    """Two unrelated tracks, each with 12 s of digital silence: the silences are their closest slices,
    so without loudness the passage is silence; with it, the passage holds no quiet slice."""
    rng = np.random.default_rng(3)
    silent = rng.standard_normal(16).astype(np.float32)  # every model's one vector for digital silence
    query = rng.standard_normal((40, 16)).astype(np.float32)
    other = rng.standard_normal((40, 16)).astype(np.float32)
    query[30:36], other[4:10] = silent, silent
    starts = np.arange(40) * 2.0
    quiet_query, quiet_other = np.zeros(40, np.float32), np.zeros(40, np.float32)
    quiet_query[30:36], quiet_other[4:10] = -90.0, -90.0
    naive = best_passage(Timeline(query, starts), Timeline(other, starts))
    assert naive.start <= 8 < naive.end and naive.query_start <= 60 < naive.query_end  # the silences
    passage = best_passage(Timeline(query, starts, None, quiet_query), Timeline(other, starts, None, quiet_other))
    assert not (passage.start < 20 and passage.end > 8) and not (passage.query_start < 72 and passage.query_end > 60)


def test_a_build_measures_each_slice_loudness(tmp_path):
    from indexer.build import BuildOptions, build_catalog
    from tests.audio_files import melody, write_audio
    from tests.fake_embedder import FakeEmbedder

    sr = 44100  # as write_audio writes
    wave = melody(20.0, seed=1, sr=sr)
    wave[8 * sr : 14 * sr] = 0.0  # 8-14 s: digital silence
    write_audio(tmp_path / "music" / "gap.flac", 0, mono=wave, stereo=False)
    build_catalog(tmp_path / "music", tmp_path / "data", BuildOptions(workers=1, progress=False), FakeEmbedder())
    catalog = Catalog.open(tmp_path / "data")
    timeline = catalog.timeline(catalog.track(1))
    assert timeline.starts.tolist() == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert timeline.quiet.tolist() == [False] * 4 + [True] * 3 + [False] * 3
