"""The segment index: built from the stored timelines, exact or IVF, kept in step with the vectors and
the timeline basis, and what search by passage reads."""

from __future__ import annotations

import numpy as np
import pytest

from storage.core.errors import StaleIndexError, UsageError
from storage.core.passages import Timeline
from storage.read.catalog import Catalog
from storage.search.passage_search import exhaustive
from storage.search.request import VectorQuery
from storage.write.store import Store
from tests.search_helpers import passages
from tests.storage.test_timelines import stored, synthetic_catalog


def planted(n_tracks: int = 24, slices: int = 40) -> list[np.ndarray]:
    """Track 1's slices 5-14 (20 s) copied, under noise, into track 9 at slice 20."""
    tracks = synthetic_catalog(n_tracks, slices, seed=5)
    tracks[8][20:30] = tracks[0][5:15] + 0.3 * np.random.default_rng(9).standard_normal((10, tracks[0].shape[1]))
    return tracks


@pytest.mark.parametrize("exact_max", [1_000_000, 50])
def test_exact_and_ivf_find_the_planted_passage(tmp_path, exact_max):
    store = stored(tmp_path, planted())
    meta = store.rebuild_segments("mule", exact_max=exact_max)
    assert meta is not None and meta.kind == ("exact-sq8" if exact_max > 50 else "ivf-sq8")
    assert meta.count == 24 * 40
    catalog = Catalog.open(store.data_dir)
    query = catalog.timeline(catalog.track(1))
    found = passages(catalog, 1, 10.0, 30.0, 5)
    assert found[0].track.id == 9 and abs(found[0].passage.start - 40.0) <= 2
    assert (found[0].passage.query_start, found[0].passage.query_end) == (10.0, 30.0)
    everything = catalog.timelines(list(range(1, 25)))
    truth = exhaustive(everything, query, 10.0, 30.0, 5, {1})
    assert [n.track.id for n in found][:3] == [i for i, _ in truth][:3]


def test_the_segment_index_follows_the_vectors_and_the_basis(tmp_path):
    store = stored(tmp_path, planted())  # stored() ends with rebuild_index: both indexes, float16 space
    catalog = Catalog.open(store.data_dir)
    assert catalog.segments().meta.basis == "" and catalog.segments().meta.dim == 512
    store.compact_timelines("mule", fit_slices=100)  # a basis: the old segments are another space
    with pytest.raises(StaleIndexError, match="predates its timeline basis"):
        catalog.segments()
    store.refresh_index("mule")  # the track index is fresh; the segments are rebuilt alone
    assert catalog.segments().meta.basis != "" and catalog.segments().meta.dim == 129
    found = passages(catalog, 1, 10.0, 30.0, 3)
    assert found[0].track.id == 9
    outside = Timeline(planted()[0], np.arange(40) * 2.0, 80.0)  # full precision, as an upload's
    assert passages(catalog, VectorQuery(outside.vectors.mean(0), outside), 10.0, 30.0, 3)[0].track.id in (1, 9)


def test_silent_regions_and_bad_ranges_are_bad_usage(tmp_path):
    store = stored(tmp_path, planted())
    catalog = Catalog.open(store.data_dir)
    query = catalog.timeline(catalog.track(1))
    silent = Timeline(query.vectors, query.starts, 80.0, np.full(40, -90.0, np.float32))
    with pytest.raises(UsageError, match="silent"):
        passages(catalog, VectorQuery(silent.vectors.mean(0), silent), 10.0, 30.0)
    with pytest.raises(UsageError, match="end after it starts"):
        passages(catalog, 1, 30.0, 10.0)


def test_no_vectors_left_no_segment_index(tmp_path):
    store = stored(tmp_path, synthetic_catalog(4, 10))
    assert (store.segments_dir("mule") / "CURRENT").exists()
    store.forget_folder(store.folders()[0])
    assert not store.segments_dir("mule").exists() and isinstance(store, Store)
