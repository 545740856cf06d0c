"""MusicFM: the published checkpoint layout loads strictly; frontend vs librosa; windows; batching."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from indexer.errors import IndexerError, WeightsError
from indexer.models.batching import window_starts
from indexer.models.musicfm.checkpoint import read_state, read_stats
from indexer.models.musicfm.config import VARIANTS, conformer_config
from indexer.models.musicfm.embedder import MusicFMEmbedder
from indexer.models.musicfm.model import LogMel, htk_mel_filterbank
from indexer.models.musicfm.testing import write_random_musicfm as write_random_checkpoint
from tests.conftest import tone_mix

SR = 24000
MSD = VARIANTS["musicfm-msd"]
SMALL = {"hidden": 64, "layers": 3, "heads": 4, "ffn": 128}


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory):
    config = conformer_config(**SMALL)
    return write_random_checkpoint(
        tmp_path_factory.mktemp("mfm"), (MSD.weights_file, MSD.stats_file), config, channels=16
    )


def load(directory, **kwargs) -> MusicFMEmbedder:
    state = read_state(directory / MSD.weights_file)
    stats = read_stats(directory / MSD.stats_file, "melspec_2048")
    return MusicFMEmbedder("musicfm-msd", state, stats, "rev", device="cpu", config=conformer_config(**SMALL), **kwargs)


def test_full_size_published_layout_loads_strictly(tmp_path):
    write_random_checkpoint(tmp_path, (MSD.weights_file, MSD.stats_file), conformer_config())
    raw = torch.load(tmp_path / MSD.weights_file, weights_only=True)["state_dict"]
    assert all(k.startswith("model.") for k in raw)
    assert {"model.cls_token", "model.linear.weight", "model.quantizer_melspec_2048_0.codebook"} <= set(raw)
    assert "model.conformer.pos_conv_embed.conv.weight_g" in raw
    embedder = MusicFMEmbedder.from_weights("musicfm-msd", str(tmp_path), device="cpu")
    assert embedder.dim == 1024 and embedder.revision.endswith(";layer=7")
    assert sum(p.numel() for p in embedder.encoder.parameters()) == pytest.approx(329e6, rel=0.03)
    wave = tone_mix(8.0, seed=5, sr=SR)
    first, again = embedder.embed([wave])[0], embedder.embed([wave])[0]
    assert first.vector.shape == (1024,)
    np.testing.assert_array_equal(first.vector, again.vector)
    torch.testing.assert_close(embedder.log_mel.fb, raw["model.preprocessor_melspec_2048.mel_stft.mel_scale.fb"])


def test_missing_files_say_how_to_provide_them(tmp_path, small_dir):
    with pytest.raises(WeightsError, match="msd_stats.json"):
        MusicFMEmbedder.from_weights("musicfm-msd", str(tmp_path), device="cpu")
    torch.save({"weights": {}}, tmp_path / "bad.pt")
    with pytest.raises(WeightsError, match="state_dict"):
        read_state(tmp_path / "bad.pt")
    with pytest.raises(IndexerError, match="--layer must be 1..3"):
        load(small_dir, layer="12")


def test_frontend_matches_librosa_htk_mel_in_db():
    import librosa

    reference = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128, fmin=0.0, fmax=12000.0, htk=True, norm=None)
    np.testing.assert_allclose(htk_mel_filterbank().T, reference, rtol=1e-4, atol=1e-7)
    wave = tone_mix(4.0, seed=6, sr=SR)
    ours = LogMel()(torch.from_numpy(wave)[None])[0].numpy()
    power = librosa.feature.melspectrogram(
        y=wave,
        sr=SR,
        n_fft=2048,
        hop_length=240,
        center=True,
        pad_mode="reflect",
        power=2.0,
        n_mels=128,
        fmax=12000.0,
        htk=True,
        norm=None,
    )
    expected = 10.0 * np.log10(np.maximum(power, 1e-10))[:, :-1]  # MusicFM drops the last frame
    assert ours.shape == expected.shape == (128, 400)
    assert np.abs(ours - expected).max() / np.abs(expected).max() < 1e-4


@pytest.mark.parametrize(
    ("seconds", "starts"), [(10, [0.0]), (30, [0.0]), (61, [0.0, 30.0, 31.0]), (95, [0.0, 30.0, 60.0, 65.0])]
)
def test_windows_of_long_and_short_inputs(small_dir, seconds, starts):
    assert [s / SR for s in window_starts(seconds * SR, 30 * SR, 30 * SR)] == starts
    result = load(small_dir).embed([tone_mix(seconds, seed=seconds, sr=SR)])[0]
    np.testing.assert_allclose(result.starts, starts)
    assert result.timeline.shape == (len(starts), 64)


def test_batch_grouping_does_not_change_vectors_and_pooling_is_over_time(small_dir):
    waves = [tone_mix(s, seed=i, sr=SR) for i, s in enumerate([35.0, 0.05, 12.0, 30.0])]
    one = load(small_dir, batch_size=1).embed(waves)
    many = load(small_dir, batch_size=8).embed(waves)
    for a, b in zip(one, many, strict=True):
        np.testing.assert_allclose(a.timeline, b.timeline, rtol=1e-4, atol=1e-4)
    embedder = load(small_dir)
    window = torch.from_numpy(waves[3])[None]
    mel = (embedder.log_mel(window) - embedder.mean) / embedder.std
    tokens = embedder.encoder.layer_output(mel, embedder.layer)
    assert tokens.shape == (1, 750, 64)  # 30 s -> 3000 frames -> 750 tokens at 25 Hz
    np.testing.assert_allclose(one[3].timeline[0], tokens.mean(dim=1)[0].numpy(), rtol=1e-4, atol=1e-5)


@torch.inference_mode()
def test_layers_are_the_ones_run_by_hand(small_dir):
    embedder = load(small_dir)
    encoder = embedder.encoder
    mel = torch.randn(2, 128, 400)
    h = encoder.conv(mel)
    rotary = encoder.conformer.embed_positions(h)
    outputs = []
    for block in encoder.conformer.layers:
        h = block(h, relative_position_embeddings=rotary)
        outputs.append(h)
    outputs[-1] = encoder.conformer.layer_norm(outputs[-1])
    for layer in (1, 2, 3):
        torch.testing.assert_close(encoder.layer_output(mel, layer), outputs[layer - 1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(encoder.layer_output(mel, 3), encoder.conformer(encoder.conv(mel)).last_hidden_state)
    torch.testing.assert_close(encoder.layer_output(mel, "mean"), torch.stack(outputs).mean(0), rtol=1e-5, atol=1e-5)
