"""MERT: Hub-format random checkpoints load strictly into HubertModel, layers are the ones we mean."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from indexer.errors import IndexerError, WeightsError
from indexer.models.batching import window_starts
from indexer.models.mert.checkpoint import mert_config
from indexer.models.mert.config import WEIGHTS_FILE
from indexer.models.mert.embedder import MertEmbedder, layer_output
from indexer.models.mert.testing import write_random_mert as write_random_checkpoint
from tests.conftest import tone_mix

SR = 24000


@pytest.fixture(scope="module", params=["95m", "330m"])
def mert_dir(request, tmp_path_factory):
    """A small random MERT checkpoint in the Hub's format: post-LN (95M) and pre-LN (330M) configurations."""
    return request.param, write_random_checkpoint(
        tmp_path_factory.mktemp(f"mert-{request.param}"), mert_config(request.param, small=True)
    )


def load(mert_dir, **kwargs) -> MertEmbedder:
    size, directory = mert_dir
    return MertEmbedder.from_weights(f"mert-{size}", str(directory), device="cpu", **kwargs)


def by_hand(model, x: torch.Tensor) -> list[torch.Tensor]:
    """Every layer's output computed here step by step from the modules (index 0: transformer input)."""
    encoder = model.encoder
    h = model.feature_extractor(x).transpose(1, 2)
    h = model.feature_projection(h)
    h = h + encoder.pos_conv_embed(h)
    outs = []
    if not model.config.do_stable_layer_norm:
        h = encoder.layer_norm(h)
    outs.append(h)
    for block in encoder.layers:
        h = block(h)
        outs.append(h)
    if model.config.do_stable_layer_norm:
        outs[-1] = encoder.layer_norm(outs[-1])
    return outs


def test_hub_format_loads_strictly_without_remote_code(mert_dir):
    size, directory = mert_dir
    config = json.loads((directory / "config.json").read_text())
    assert config["model_type"] == "mert_model" and "auto_map" in config  # as published: remote code offered
    state = torch.load(directory / WEIGHTS_FILE, weights_only=True)
    assert "encoder.pos_conv_embed.conv.weight_g" in state and "encoder.pos_conv_embed.conv.weight_v" in state
    embedder = load(mert_dir)
    assert type(embedder.model).__name__ == "HubertModel"
    assert embedder.dim == 64 and embedder.sample_rate == SR
    assert embedder.revision.startswith("sha256:") and embedder.revision.endswith(";layer=3")
    loaded = embedder.model.encoder.pos_conv_embed.conv.parametrizations.weight
    torch.testing.assert_close(loaded.original0, state["encoder.pos_conv_embed.conv.weight_g"])


def test_mert_only_paths_are_refused(tmp_path):
    config = mert_config("95m", small=True) | {"feature_extractor_cqt": True}
    write_random_checkpoint(tmp_path, mert_config("95m", small=True))
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="feature_extractor_cqt"):
        MertEmbedder.from_weights("mert-95m", str(tmp_path), device="cpu")


def test_missing_weights_say_how_to_provide_them(tmp_path):
    with pytest.raises(WeightsError, match="SOUNDALIKE_WEIGHTS"):
        MertEmbedder.from_weights("mert-95m", str(tmp_path / "nothing"), device="cpu")


@torch.inference_mode()
def test_layers_are_the_ones_run_by_hand(mert_dir):
    """Guards the transformers-5 trap: `output_hidden_states` changed for pre-LN encoders."""
    embedder = load(mert_dir)
    model = embedder.model
    x = torch.from_numpy(np.stack([tone_mix(2.0, seed=1, sr=SR), tone_mix(2.0, seed=2, sr=SR)]))
    expected = by_hand(model, x)
    for layer in (1, 2, 3):
        torch.testing.assert_close(layer_output(model, x, layer), expected[layer], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer_output(model, x, 3), model(x).last_hidden_state, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer_output(model, x, "mean"), torch.stack(expected[1:]).mean(0), rtol=1e-5, atol=1e-5)
    hidden = model(x, output_hidden_states=True).hidden_states
    if model.config.do_stable_layer_norm:  # transformers 5 gives the last layer before the final LayerNorm
        assert not torch.allclose(hidden[3], expected[3], atol=1e-3)
    else:
        torch.testing.assert_close(hidden[3], expected[3], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("seconds", "starts"),
    [
        (3, [0.0]),
        (30, [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]),
        (31, [0, 5, 10, 15, 20, 25, 26]),
        (95, list(range(0, 91, 5))),
    ],
)
def test_windows_of_long_and_short_inputs(mert_dir, seconds, starts):
    assert [s / SR for s in window_starts(seconds * SR, 5 * SR, 5 * SR)] == [float(s) for s in starts]
    result = load(mert_dir).embed([tone_mix(seconds, seed=seconds, sr=SR)])[0]
    assert result.timeline.shape == (len(starts), 64)
    np.testing.assert_allclose(result.starts, starts)
    np.testing.assert_allclose(result.vector, result.timeline.mean(0), rtol=1e-5, atol=1e-6)


def test_batch_grouping_does_not_change_vectors(mert_dir):
    waves = [tone_mix(s, seed=i, sr=SR) for i, s in enumerate([12.0, 0.01, 3.0, 7.5])]
    one = load(mert_dir, batch_size=1).embed(waves)
    many = load(mert_dir, batch_size=16).embed(waves)
    for a, b in zip(one, many, strict=True):
        np.testing.assert_allclose(a.timeline, b.timeline, rtol=1e-4, atol=1e-5)
    again = load(mert_dir, batch_size=16).embed(waves)
    np.testing.assert_array_equal(many[0].vector, again[0].vector)  # deterministic


def test_layer_choice_is_recorded_and_checked(mert_dir):
    assert load(mert_dir, layer="2").revision.endswith(";layer=2")
    assert load(mert_dir, layer="mean").revision.endswith(";layer=mean")
    with pytest.raises(IndexerError, match="--layer must be 1..3"):
        load(mert_dir, layer="9")


def test_mert_beside_mule_in_one_data_directory(tmp_path, capsys):
    """Build, status, lookups and outside-audio queries per model; vectors never mix; layers never mix."""
    from indexer.build import BuildOptions, build_catalog
    from indexer.commands.lookup import main as query
    from indexer.commands.summary import format_status
    from storage.read.catalog import Catalog
    from tests.audio_files import write_audio
    from tests.fake_embedder import FakeEmbedder

    weights = write_random_checkpoint(tmp_path / "mert", mert_config("95m", small=True))
    catalog_dir, data = tmp_path / "catalog", tmp_path / "data"
    for i in range(4):
        write_audio(catalog_dir / f"t{i}.flac", 3.0 + i, seed=40 + i)
    quiet = {"workers": 1, "progress": False}
    build_catalog(catalog_dir, data, BuildOptions(**quiet), FakeEmbedder())
    report = build_catalog(
        catalog_dir, data, BuildOptions(model="mert-95m", weights=str(weights), model_options={"layer": "2"}, **quiet)
    )
    assert report.indexed == 4

    mule, mert = Catalog.open(data, "mule"), Catalog.open(data, "mert-95m")
    assert mule.models() == ["mert-95m", "mule"] and Catalog.open(data).model == "mule"  # several: the default
    assert (mule.index().meta.dim, mert.index().meta.dim) == (32, 64)
    assert mert.index().meta.revision.endswith(";layer=2")
    assert mert.model_settings() == (str(weights.resolve()), {"layer": "2"})
    assert "model mert-95m: 4 indexed" in format_status(mule) and "model mule: 4 indexed" in format_status(mule)

    assert query(["t0.flac", "--model", "mert-95m", "--json", "--data-dir", str(data)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "mert-95m" and len(out["neighbours"]) == 3
    # An outside file, embedded with the build's weights and layer (read from the data directory): a WAV copy
    # of t2 (other bytes) is recognised as t2 by its vector, so the embedding is the build's.
    import soundfile as sf

    wave, rate = sf.read(catalog_dir / "t2.flac")
    sf.write(tmp_path / "t2 copy.wav", wave, rate)
    assert (
        query(["--audio", str(tmp_path / "t2 copy.wav"), "--model", "mert-95m", "--json", "--data-dir", str(data)]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert [t["path"] for t in out["query"]["in_catalog"]] == ["t2.flac"]
    assert "t2.flac" not in [n["path"] for n in out["neighbours"]]

    write_audio(catalog_dir / "t4.flac", 3.0, seed=50)
    with pytest.raises(IndexerError, match="--rebuild"):  # layer 3 vectors would mix with layer 2's
        build_catalog(
            catalog_dir,
            data,
            BuildOptions(model="mert-95m", weights=str(weights), model_options={"layer": "3"}, **quiet),
        )

    write_audio(catalog_dir / "t1.flac", 6.0, seed=99)  # new content: every model's old vector goes
    build_catalog(catalog_dir, data, BuildOptions(**quiet), FakeEmbedder())
    assert mert.stale_by(mert.index()) > 0
    with Catalog.open(data, "mert-95m").sessions() as s:
        from storage.db.schema import Embedding

        assert s.get(Embedding, (mert.resolve("t1.flac").id, "mert-95m")) is None


def test_normalisation_is_the_feature_extractors():
    """do_normalize: per window, (x - mean) / sqrt(population variance + 1e-7), as the authors' extractor."""
    from transformers import Wav2Vec2FeatureExtractor

    from indexer.models.mert.embedder import normalise_windows

    windows = np.stack([tone_mix(1.0, seed=s, sr=SR) * (s + 1) for s in range(3)]).astype(np.float32)
    expected = Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm(list(windows), attention_mask=None)
    ours = normalise_windows(torch.from_numpy(windows)).numpy()
    np.testing.assert_allclose(ours, np.stack(expected), rtol=1e-6, atol=1e-6)
