"""MAEST: Hub-format random checkpoints, the frontend against librosa, Essentia's patching, style tags."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from indexer.errors import IndexerError, WeightsError
from indexer.models.maest.checkpoint import maest_config
from indexer.models.maest.config import F_MAX, N_FFT, N_MELS, SAMPLE_RATE, WEIGHTS_FILE
from indexer.models.maest.embedder import MaestEmbedder, embed_and_classify, patch_starts
from indexer.models.maest.frontend import MaestFrontend, frame_count
from indexer.models.maest.testing import write_random_maest as write_random_checkpoint
from indexer.models.mel import slaney_mel_filterbank
from tests.conftest import tone_mix

LABELS = [f"Genre{g}---Style{g}.{s}" for g in range(10) for s in range(40)]  # 400, as Discogs-400
SR = 16000


@pytest.fixture(scope="module")
def small_maest(tmp_path_factory):
    return write_random_checkpoint(tmp_path_factory.mktemp("maest"), maest_config(LABELS, small=True), 1876)


def load(directory, **kwargs) -> MaestEmbedder:
    return MaestEmbedder.from_weights(str(directory), device="cpu", **kwargs)


def test_full_size_checkpoint_loads_strictly_and_embeds_2304(tmp_path):
    directory = write_random_checkpoint(tmp_path, maest_config(LABELS), 1876)
    state = torch.load(directory / WEIGHTS_FILE, weights_only=True)
    assert "audio_spectrogram_transformer.encoder.layer.0.attention.attention.query.weight" in state  # v4 names
    embedder = load(directory)
    assert embedder.dim == 2304 and len(embedder.labels) == 400
    assert sum(p.numel() for p in embedder.model.parameters()) == pytest.approx(86.9e6, rel=0.02)
    wave = tone_mix(12.0, seed=3)
    first, again = embedder.embed([wave])[0], embedder.embed([wave])[0]
    assert first.vector.shape == (2304,) and first.vector.dtype == np.float32
    np.testing.assert_array_equal(first.vector, again.vector)  # deterministic
    assert embedder.revision.endswith(";variant=30s-pw-129e;frontend=essentia")


def test_classifier_equals_the_library_model(small_maest):
    embedder = load(small_maest)
    patches = torch.randn(2, 1876, 96)
    with torch.inference_mode():
        embedding, logits = embed_and_classify(embedder.model, patches)
        library = embedder.model(patches)
        hidden = embedder.model(patches, output_hidden_states=True).hidden_states
    torch.testing.assert_close(logits, library.logits, rtol=1e-5, atol=1e-5)
    h7 = hidden[7]
    torch.testing.assert_close(embedding, torch.cat([h7[:, 0], h7[:, 1], h7[:, 2:].mean(1)], -1), rtol=1e-5, atol=1e-5)


def test_missing_weights_and_unknown_variant(tmp_path, small_maest):
    with pytest.raises(WeightsError, match="SOUNDALIKE_WEIGHTS"):
        load(tmp_path / "nothing")
    with pytest.raises(IndexerError, match="unknown MAEST variant"):
        load(small_maest, variant="45s")
    config = json.loads((small_maest / "config.json").read_text())
    assert config["torch_dtype"] == "float16"  # as published; the model still runs in float32
    assert next(load(small_maest).model.parameters()).dtype == torch.float32


def test_frontend_matches_librosa_slaney_mel():
    import librosa

    reference = librosa.filters.mel(sr=SR, n_fft=512, n_mels=96, fmin=0.0, fmax=8000.0, htk=False, norm="slaney")
    np.testing.assert_allclose(
        slaney_mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, 0.0, F_MAX), reference, rtol=1e-4, atol=1e-9
    )
    wave = tone_mix(5.0, seed=4)[:79_900]  # not a multiple of the hop: zeros complete the last frame
    ours = MaestFrontend().log_mel(torch.from_numpy(wave)).numpy()
    power = librosa.feature.melspectrogram(
        y=np.pad(wave, (0, -len(wave) % 256)),
        sr=SR,
        n_fft=512,
        hop_length=256,
        window=np.hanning(512),  # symmetric, as Essentia's
        center=True,
        pad_mode="constant",
        power=2.0,
        n_mels=96,
        fmax=8000.0,
        norm="slaney",
    )
    expected = np.log10(1.0 + 10000.0 * power).T
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() / np.abs(expected).max() < 1e-4


@pytest.mark.parametrize(("seconds", "starts"), [(10, [0.0]), (30, [0.0]), (31, [0.0]), (95, [0.0, 30.0, 60.0])])
def test_patches_of_long_and_short_inputs(small_maest, seconds, starts):
    frames = frame_count(seconds * SR)
    assert [s * 256 / SR for s in patch_starts(frames, 1876, 1875)] == starts
    result = load(small_maest).embed([tone_mix(seconds, seed=seconds)])[0]
    np.testing.assert_allclose(result.starts, starts)
    assert result.timeline.shape == (len(starts), 144)
    np.testing.assert_allclose(result.vector, result.timeline.mean(0), rtol=1e-5, atol=1e-6)


def test_styles_are_the_top_mean_probabilities(small_maest):
    embedder = load(small_maest, styles_top=3, styles_min=0.0)
    result = embedder.embed([tone_mix(40.0, seed=7)])[0]
    assert len(result.styles) == 3 and set(result.styles) <= set(LABELS)
    values = list(result.styles.values())
    assert values == sorted(values, reverse=True) and all(0.0 <= v <= 1.0 for v in values)
    none = load(small_maest, styles_top=3, styles_min=1.01).embed([tone_mix(5.0, seed=7)])[0]
    assert none.styles == {}


def test_style_tags_stored_shown_and_filtered(tmp_path, small_maest, capsys):
    from indexer.build import BuildOptions, build_catalog
    from indexer.commands.lookup import main as query
    from indexer.commands.summary import format_status
    from storage.read.catalog import Catalog
    from tests.audio_files import write_audio

    for i in range(6):
        write_audio(tmp_path / "catalog" / f"t{i}.flac", 3.0 + i, seed=60 + i)
    options = BuildOptions(
        model="maest", weights=str(small_maest), model_options={"styles_top": "3", "styles_min": "0.0"}, workers=1
    )
    options.progress = False
    assert build_catalog(tmp_path / "catalog", tmp_path / "data", options).indexed == 6
    catalog = Catalog.open(tmp_path / "data", "maest")
    counts = dict(catalog.style_counts())
    assert sum(counts.values()) == 18  # 3 per track
    assert "styles (" in format_status(catalog)

    data = ["--data-dir", str(tmp_path / "data"), "--model", "maest", "--json"]
    assert query(["t0.flac", *data]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["query"]["styles"]) == 3 and all(len(n["styles"]) == 3 for n in out["neighbours"])
    rare = min(counts, key=lambda label: (counts[label], label))  # a style some tracks lack
    assert query(["t0.flac", "--style", rare, "-k", "10", *data]) == 0
    kept = json.loads(capsys.readouterr().out)["neighbours"]
    tagged = catalog.tracks_with_styles([rare]) - {catalog.resolve("t0.flac").id}
    assert {n["id"] for n in kept} == tagged and all(rare in n["styles"] for n in kept)
    genre = rare.split("---")[0]
    assert query(["t0.flac", "--style", genre, "-k", "10", *data]) == 0
    assert all(
        any(s.startswith(genre + "---") for s in n["styles"]) for n in json.loads(capsys.readouterr().out)["neighbours"]
    )
    assert query(["t0.flac", "--style", "Polka", "--data-dir", str(tmp_path / "data"), "--model", "maest"]) == 0
    assert "Nearest to" in capsys.readouterr().out


def test_vectors_of_the_earlier_frontend_ask_for_a_rebuild(tmp_path, small_maest):
    """MAEST vectors stored before the frontend matched Essentia carry no frontend in their revision:
    a build names that change and asks for --rebuild instead of mixing the two."""
    from sqlalchemy import func, update

    from indexer.build import BuildOptions, build_catalog
    from storage.db.schema import Embedding
    from storage.write.store import Store
    from tests.audio_files import write_audio

    write_audio(tmp_path / "catalog" / "a.flac", 3.0, seed=1)
    options = BuildOptions(model="maest", weights=str(small_maest), workers=1, progress=False)
    build_catalog(tmp_path / "catalog", tmp_path / "data", options)
    store = Store(tmp_path / "data")
    with store.sessions.begin() as s:  # as the earlier code wrote it
        s.execute(update(Embedding).values(revision=func.replace(Embedding.revision, ";frontend=essentia", "")))
    write_audio(tmp_path / "catalog" / "b.flac", 3.0, seed=2)
    with pytest.raises(IndexerError, match=r"\(frontend: none -> essentia\); pass --rebuild"):
        build_catalog(tmp_path / "catalog", tmp_path / "data", options)
    rebuilt = build_catalog(tmp_path / "catalog", tmp_path / "data", replace(options, rebuild=True))
    assert rebuilt.indexed == 2
