"""CLAP: Hub-format random checkpoints loaded strictly (from a folder and from a local Hub cache), 10-s windows
and the track vector, texts, and the collapsed text tower of larger_clap_music refused."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from indexer.errors import IndexerError
from indexer.models import load_embedder
from indexer.models.clap.config import SAMPLE_RATE, WEIGHTS_FILE
from indexer.models.clap.embedder import clip_windows, repeat_pad
from indexer.models.clap.testing import write_random_clap
from tests.conftest import tone_mix


@pytest.fixture(scope="module")
def small_clap(tmp_path_factory):
    return write_random_clap(tmp_path_factory.mktemp("clap"), "small", seed=2)


def wave(seconds: float, seed: int = 0) -> np.ndarray:
    return tone_mix(seconds, seed=seed, sr=SAMPLE_RATE)


def test_windows_cover_the_track_and_the_vector_is_their_mean(small_clap):
    embedder = load_embedder("clap", str(small_clap), device="cpu")
    long, short = embedder.embed([wave(25.0, 1), wave(4.0, 2)])
    np.testing.assert_allclose(long.starts, [0.0, 10.0, 15.0])  # the last window ends with the track
    np.testing.assert_allclose(np.linalg.norm(long.timeline, axis=1), 1.0, rtol=1e-5)  # unit windows
    np.testing.assert_allclose(long.vector, long.timeline.mean(0), rtol=1e-5, atol=1e-6)
    assert short.timeline.shape == (1, 512) and short.starts.tolist() == [0.0]
    alone = embedder.embed([wave(25.0, 1)])[0]
    np.testing.assert_allclose(alone.timeline, long.timeline, atol=1e-5)  # batching does not change a window
    assert "variant=general;frontend=torchlibrosa;pooling=mean-of-unit-windows" in embedder.revision


def test_a_short_clip_is_repeated_as_laion_pads_it():
    clip = np.arange(1, 4, dtype=np.float32)
    assert repeat_pad(clip, 8).tolist() == [1, 2, 3, 1, 2, 3, 0, 0]
    padded, starts = clip_windows(np.ones(SAMPLE_RATE * 4, np.float32))
    assert padded.size == SAMPLE_RATE * 10 and starts == [0] and padded[SAMPLE_RATE * 8 :].sum() == 0


def test_texts_are_unit_vectors_in_the_audio_space(small_clap):
    embedder = load_embedder("clap", str(small_clap), device="cpu")
    texts = embedder.embed_texts(["calm piano with rain", "loud drums", "calm piano with rain"])
    assert texts.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(texts[0], texts[2], atol=1e-6)
    assert not np.allclose(texts[0], texts[1], atol=1e-4)
    tokens = embedder.tokenize(["a" * 500])["input_ids"]
    assert tokens.shape == (1, 77) and tokens[0, 0] == 0 and tokens[0, -1] == 2  # <s> ... </s>, truncated
    # Padded to 77 as LAION pads, or to the longest text of the batch: the same vectors.
    words = ["calm piano with rain", "a", "energetic rock with loud drums and a choir"]
    np.testing.assert_allclose(embedder.embed_texts(words), embedder.embed_texts(words, "max_length"), atol=2e-6)


def test_the_music_variant_refuses_text_with_the_reason(small_clap):
    embedder = load_embedder("clap", str(small_clap), device="cpu", variant="music")
    with pytest.raises(IndexerError, match="collapsed.*--variant general"):
        embedder.embed_texts(["piano"])
    assert embedder.embed([wave(3.0)])[0].vector.shape == (512,)  # its audio tower is fine
    with pytest.raises(IndexerError, match="unknown CLAP variant"):
        load_embedder("clap", str(small_clap), device="cpu", variant="huge")


def test_recomputed_buffers_may_be_absent_but_never_different(small_clap, tmp_path):
    directory = shutil.copytree(small_clap, tmp_path / "c")
    state = load_file(str(directory / WEIGHTS_FILE))
    slim = {k: v for k, v in state.items() if not k.endswith(("position_ids", "relative_position_index"))}
    save_file(slim, str(directory / WEIGHTS_FILE))
    reference = load_embedder("clap", str(small_clap), device="cpu").embed([wave(3.0)])[0].vector
    slim_vector = load_embedder("clap", str(directory), device="cpu").embed([wave(3.0)])[0].vector
    np.testing.assert_allclose(slim_vector, reference, rtol=1e-5, atol=1e-6)  # the same weights, laid out anew
    state["text_model.embeddings.position_ids"] = state["text_model.embeddings.position_ids"] + 1
    save_file(state, str(directory / WEIGHTS_FILE))
    with pytest.raises(IndexerError, match="position_ids differs"):
        load_embedder("clap", str(directory), device="cpu")


def test_published_sizes_load_strictly(tmp_path):
    directory = write_random_clap(tmp_path / "tiny", "tiny")
    embedder = load_embedder("clap", str(directory), device="cpu", variant="unfused")
    assert sum(p.numel() for p in embedder.model.parameters()) == pytest.approx(153.5e6, rel=0.01)


def test_default_repo_from_an_offline_hub_cache(small_clap, tmp_path, monkeypatch):
    commit = "c" * 40
    root = tmp_path / "hub" / "models--laion--larger_clap_general"
    shutil.copytree(small_clap, root / "snapshots" / commit)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("SOUNDALIKE_WEIGHTS", raising=False)
    embedder = load_embedder("clap", device="cpu")
    assert embedder.revision.startswith(commit)
    assert embedder.embed_texts(["piano"]).shape == (1, 512)
    with pytest.raises(IndexerError, match="laion/larger_clap_music.*not in the local cache"):
        load_embedder("clap", device="cpu", variant="music")


def test_an_uninitialised_model_computes_the_same_buffers(small_clap):
    import json

    from indexer.models.clap.checkpoint import build_model

    config = json.loads((small_clap / "config.json").read_text())
    fresh, initialised = build_model(config), build_model(config, initialise=True)
    for (name, mine), (_, theirs) in zip(fresh.named_buffers(), initialised.named_buffers(), strict=True):
        if not name.endswith(("running_mean", "running_var", "num_batches_tracked")):  # loaded from the file
            assert torch.equal(mine, theirs), name
