"""Parity with the reference implementation (mule-torch 0.2.0) on the same weights."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from indexer.models.mule.embedder import MuleEmbedder
from tests.conftest import tone_mix
from tests.indexer.reference import baked_reference, randomised_reference, reference_timeline, save

DURATIONS = [0.5, 2.5, 3.0, 3.1, 10.0, 61.0]
# The engine under test; the reference always runs on the CPU in float32. benchmarks/gpu_check.sh sets these.
DEVICE = os.environ.get("SOUNDALIKE_TEST_DEVICE", "cpu")
PRECISION = os.environ.get("SOUNDALIKE_TEST_PRECISION", "fp32")
# bf16 keeps 8 bits of mantissa: the bound is on direction (cosine), measured 0.99998 on CPU.
MIN_COSINE = {"fp32": 0.999999, "bf16": 0.999}[PRECISION]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.atleast_2d(a).astype(np.float64)
    b = np.atleast_2d(b).astype(np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def reference():
    return randomised_reference(seed=0)


@pytest.fixture(scope="module")
def ours(reference, tmp_path_factory) -> MuleEmbedder:
    directory = save(reference, tmp_path_factory.mktemp("ref-ckpt"))
    return MuleEmbedder.from_weights(str(directory), device=DEVICE, precision=PRECISION, batch_size=16)


@pytest.mark.parametrize("seconds", DURATIONS)
def test_vectors_and_timelines_match_reference(reference, ours, seconds):
    wave = tone_mix(seconds, seed=int(seconds * 10))
    expected = reference_timeline(reference, wave).numpy()
    got = ours.embed([wave])[0]
    assert got.timeline.shape == expected.shape
    assert cosines(got.timeline, expected).min() >= MIN_COSINE
    assert cosines(got.vector, expected.mean(0))[0] >= MIN_COSINE
    if PRECISION == "fp32":
        np.testing.assert_allclose(got.vector, expected.mean(0), rtol=1e-3, atol=1e-4)


def test_baked_checkpoint_matches_reference(reference, tmp_path):
    baked = baked_reference(reference)
    directory = save(baked, tmp_path / "baked")
    assert '"weight_standardization": false' in (directory / "config.json").read_text()
    ours = MuleEmbedder.from_weights(str(directory), device="cpu")
    wave = tone_mix(10.0, seed=3)
    expected = reference_timeline(baked, wave).numpy()
    got = ours.embed([wave])[0]
    assert cosines(got.timeline, expected).min() >= 0.999999


def test_checkpoint_without_stft_buffers_loads_and_matches(reference, ours, tmp_path):
    directory = save(reference, tmp_path / "nostft", drop_stft=True)
    from safetensors import safe_open

    with safe_open(str(directory / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert not any(k.startswith("frontend.stft.") for k in keys)
    assert len(keys) == 483 - 2  # the published 483 tensors less the two DFT buffers
    wave = tone_mix(4.0, seed=4)
    without = MuleEmbedder.from_weights(str(directory), device=DEVICE, precision=PRECISION).embed([wave])[0]
    np.testing.assert_allclose(without.timeline, ours.embed([wave])[0].timeline, rtol=0, atol=1e-6)


def test_our_checkpoint_writer_produces_the_published_format(mule_checkpoint: Path):
    """The reference loads what write_random_checkpoint writes, strictly, and agrees with us."""
    from mule_torch import MuleModel

    ref = MuleModel.from_pretrained(model_dir=mule_checkpoint, strict=True)
    ours = MuleEmbedder.from_weights(str(mule_checkpoint), device="cpu")
    wave = tone_mix(6.0, seed=5)
    assert cosines(ours.embed([wave])[0].timeline, reference_timeline(ref, wave).numpy()).min() >= 0.999999
