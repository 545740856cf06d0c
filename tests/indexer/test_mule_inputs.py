"""Edge cases of the input and the batching contract."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.errors import EmbeddingInputError
from indexer.models.mule.embedder import MuleEmbedder
from tests.conftest import tone_mix


def test_grouping_does_not_change_vectors(mule_checkpoint):
    tracks = [tone_mix(s, seed=i) for i, s in enumerate([3.0, 10.0, 0.5, 25.0, 7.0])]
    small = MuleEmbedder.from_weights(str(mule_checkpoint), device="cpu", batch_size=3)
    big = MuleEmbedder.from_weights(str(mule_checkpoint), device="cpu", batch_size=32)
    one_by_one = [small.embed([t])[0] for t in tracks]
    together = big.embed(tracks)
    for a, b in zip(one_by_one, together, strict=False):
        np.testing.assert_allclose(a.timeline, b.timeline, rtol=0, atol=1e-5)
        np.testing.assert_allclose(a.vector, b.vector, rtol=0, atol=1e-5)
        np.testing.assert_array_equal(a.starts, b.starts)


def test_stream_yields_every_track_once_with_its_key(mule_embedder):
    tracks = [("a", tone_mix(2.0)), ("b", tone_mix(21.0, 1)), ("c", tone_mix(5.0, 2))]
    got = dict(mule_embedder.embed_stream(tracks))
    assert sorted(got) == ["a", "b", "c"]
    assert [got[k].n_slices for k in "abc"] == [1, 10, 2]


@pytest.mark.parametrize(
    ("wave", "message"),
    [
        (np.zeros(0, np.float32), "empty"),
        (np.full(16000, np.nan, np.float32), "NaN or infinite"),
        (np.concatenate([np.zeros(100), [np.inf]]).astype(np.float32), "NaN or infinite"),
        (np.zeros((16000, 2), np.float32), "mono"),
    ],
)
def test_bad_input_is_a_clear_error(mule_embedder, wave, message):
    with pytest.raises(EmbeddingInputError, match=message):
        mule_embedder.embed([wave])


def test_silence_clipping_and_tiny_inputs_give_finite_vectors(mule_embedder):
    clipped = np.clip(tone_mix(4.0) * 20, -1, 1)
    cases = [np.zeros(48000, np.float32), clipped, np.full(100, 0.5, np.float32), tone_mix(0.01)]
    results = mule_embedder.embed(cases)
    for r in results:
        assert np.isfinite(r.vector).all() and r.vector.shape == (1728,)
    assert [r.n_slices for r in results] == [1, 2, 1, 1]
    # Silence is deterministic (up to batch-composition rounding): the same zeros give the same vector.
    again = mule_embedder.embed([np.zeros(48000, np.float32)])[0].vector
    np.testing.assert_allclose(results[0].vector, again, rtol=0, atol=1e-6)


def test_integer_and_float64_input_is_accepted_as_float32(mule_embedder):
    wave = tone_mix(3.0)
    a = mule_embedder.embed([wave.astype(np.float64)])[0].vector
    b = mule_embedder.embed([wave])[0].vector
    np.testing.assert_array_equal(a, b)
