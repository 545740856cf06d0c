"""MAEST's frontend against Essentia itself (test-only dependency, AGPL: the product never imports it):
the features TensorflowPredictMAEST feeds the model, frame for frame, and what the model makes of them."""

from __future__ import annotations

import essentia.standard as es
import numpy as np
import pytest
import torch

from indexer.models.maest.config import MEL_MEAN, MEL_STD, VARIANTS
from indexer.models.maest.embedder import MaestEmbedder, embed_and_classify, patch_starts
from indexer.models.maest.frontend import MaestFrontend, frame_count
from tests.audio_files import melody

SR = 16000


def essentia_features(wave: np.ndarray) -> np.ndarray:
    """TensorflowPredictMAEST's front end: FrameCutter(512, 256) then TensorflowInputMusiCNN, per frame."""
    bands = es.TensorflowInputMusiCNN()
    frames = es.FrameGenerator(wave.astype(np.float32), frameSize=512, hopSize=256)
    return np.array([bands(frame) for frame in frames], dtype=np.float32)


@pytest.mark.parametrize("seconds", [10.0, 30.0, 61.0, 30.01])
def test_frame_counts_equal_essentia(seconds):
    wave = melody(seconds, seed=1, sr=SR)
    essentia = len(essentia_features(wave))
    assert frame_count(len(wave)) == essentia
    assert MaestFrontend().log_mel(torch.from_numpy(wave)).shape[0] == essentia


def test_features_equal_essentia_frame_for_frame():
    wave = melody(30.0, seed=2, sr=SR)
    expected = essentia_features(wave)
    ours = MaestFrontend().log_mel(torch.from_numpy(wave)).numpy()
    assert np.abs(ours - expected).max() / np.abs(expected).max() <= 1e-4


def test_patching_is_essentias_for_every_variant():
    # TensorflowPredictMAEST's patchSize / patchHopSize, chosen from the graph's name.
    expected = {"5s": (316, 313), "10s": (626, 625), "20s": (1258, 1250), "30s": (1876, 1875)}
    for name, variant in VARIANTS.items():
        assert (variant.patch_frames, variant.patch_hop) == expected[name.split("-")[0]], name
    frames = frame_count(95 * SR)
    assert patch_starts(frames, 1258, 1250) == [0, 1250, 2500, 3750]  # 20 s exactly, the last partial dropped


def test_the_model_sees_the_same_patch(tmp_path):
    """Block 7's embedding from our features and from Essentia's, same random weights: equal."""
    from indexer.models.maest.checkpoint import maest_config
    from indexer.models.maest.testing import write_random_maest

    labels = [f"G{g}---S{s}" for g in range(4) for s in range(10)]
    embedder = MaestEmbedder.from_weights(
        str(write_random_maest(tmp_path, maest_config(labels, small=True), 1876)), device="cpu"
    )
    wave = melody(30.0, seed=3, sr=SR)
    ours = MaestFrontend()(torch.from_numpy(wave))[:1876]
    theirs = (torch.from_numpy(essentia_features(wave)) - MEL_MEAN) / (2 * MEL_STD)
    a, _ = embed_and_classify(embedder.model, ours[None])
    b, _ = embed_and_classify(embedder.model, theirs[:1876][None])
    assert torch.nn.functional.cosine_similarity(a, b).item() >= 0.99999
