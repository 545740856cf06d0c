"""MusiCNN with random weights in the wheel's layout: the checkpoint reader (checksums, layouts, the pip
fetch), the front end against librosa, the network's shortcuts against the plain computation, patches and
tags, and a build through the indexer whose tags are stored, filterable and exported."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from indexer.errors import UsageError, WeightsError
from indexer.models import load_embedder
from indexer.models.musicnn.bundle import read_index, read_tensors
from indexer.models.musicnn.config import DATA_FILE, INDEX_FILE, PATCH_FRAMES, PATCH_SECONDS, VARIANTS
from indexer.models.musicnn.network import FrequencyMax
from indexer.models.musicnn.testing import random_tensors, write_bundle, write_random_musicnn, write_random_wheel
from indexer.models.musicnn.weights import read_checkpoint
from tests.conftest import tone_mix


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return write_random_musicnn(tmp_path_factory.mktemp("musicnn"), seed=3)


@pytest.fixture(scope="module")
def embedder(weights):
    return load_embedder("musicnn", str(weights), device="cpu")


def test_the_bundle_reader_returns_what_was_written_and_checks_every_checksum(tmp_path):
    tensors = random_tensors(seed=1)
    write_bundle(tmp_path, tensors)
    index, data = (tmp_path / INDEX_FILE).read_bytes(), (tmp_path / DATA_FILE).read_bytes()
    assert set(read_index(index)) == set(tensors)
    read = read_tensors(index, data)
    assert all(np.array_equal(read[k], tensors[k]) for k in tensors)
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 1
    with pytest.raises(WeightsError, match="fails its checksum"):
        read_tensors(index, bytes(damaged))
    broken = bytearray(index)
    broken[40] ^= 1
    with pytest.raises(WeightsError, match="block checksum"):
        read_index(bytes(broken))
    with pytest.raises(WeightsError, match="not a TensorFlow checkpoint index"):
        read_index(b"not a table" * 10)
    with pytest.raises(WeightsError, match="checkpoint lacks dense/nothing"):
        read_tensors(index, data, ["dense/nothing"])


def test_every_layout_of_the_wheel_gives_the_same_revision(weights, tmp_path):
    wheel = write_random_wheel(tmp_path / "musicnn-0.1.0-py3-none-any.whl", seed=3)
    msd = VARIANTS["msd"]
    found = [
        read_checkpoint(str(p), msd) for p in (wheel, weights, weights / "musicnn", weights / "musicnn" / msd.folder)
    ]
    assert len({f.revision for f in found}) == 1 and all(f.labels == found[0].labels for f in found)
    assert found[0].labels[:2] == ["msd tag 0", "msd tag 1"]
    mtt = read_checkpoint(str(weights), VARIANTS["mtt"])
    assert mtt.revision != found[0].revision and mtt.labels[0] == "mtt tag 0"
    for wrong in (tmp_path / "nothing-here", tmp_path):
        with pytest.raises(WeightsError, match="pip download --no-deps musicnn==0.1.0"):
            read_checkpoint(str(wrong), msd)
    (tmp_path / "other.whl").write_bytes(zipfile.ZipFile.__doc__.encode())
    with pytest.raises(WeightsError, match="is not the musicnn wheel"):
        read_checkpoint(str(tmp_path / "other.whl"), msd)


def test_the_wheel_is_fetched_with_pip_and_its_sha256_checked(tmp_path, monkeypatch):
    """pip's own configuration decides where from (here a local folder); a wheel that is not the published
    one is refused, and nothing is left in the cache."""
    from indexer.models.musicnn.weights import fetch_wheel

    links = tmp_path / "links"
    links.mkdir()
    write_random_wheel(links / "musicnn-0.1.0-py3-none-any.whl")
    monkeypatch.setenv("SOUNDALIKE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    with pytest.raises(WeightsError, match="does not have the expected sha256"):
        fetch_wheel()
    assert not (tmp_path / "cache" / "wheels").exists() or not any((tmp_path / "cache" / "wheels").iterdir())
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))
    with pytest.raises(WeightsError, match="could not fetch musicnn==0.1.0 with pip"):
        fetch_wheel()


def test_the_front_end_is_librosas(embedder):
    librosa = pytest.importorskip("librosa")
    wave = tone_mix(5.0, seed=2)
    ours = embedder.log_mel(torch.from_numpy(wave)).numpy()
    power = librosa.feature.melspectrogram(y=wave, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    theirs = np.log10(10000 * power.astype(np.float16).astype(np.float32) + 1)
    assert ours.shape == theirs.shape == (1 + wave.size // 256, 96)
    assert np.abs(ours - theirs).max() < 2e-3  # float16 rounding may land one step apart


def test_max_over_frequency_after_a_negative_scale_is_the_scaled_minimum():
    torch.manual_seed(0)
    block = FrequencyMax(8, (7, 5), (3, 3)).eval()
    with torch.no_grad():
        block.norm.weight.copy_(torch.linspace(-2, 2, 8))
        block.norm.running_mean.uniform_(-1, 1)
        block.norm.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 1, 20, 16)
    plain = block.norm(torch.relu(block.conv(torch.nn.functional.pad(x, (0, 0, 3, 3)))).flatten(2)).view(2, 8, 20, 12)
    with torch.no_grad():
        assert torch.allclose(block(x), plain.amax(dim=3), atol=1e-5)


def test_patches_tags_and_short_clips(embedder):
    long, short = tone_mix(10.0, seed=1), tone_mix(1.0, seed=2)
    done = embedder.embed([long, short])
    frames = 1 + long.size // 256
    assert done[0].timeline.shape == (frames // PATCH_FRAMES, 200)
    np.testing.assert_allclose(done[0].starts, np.arange(frames // PATCH_FRAMES) * PATCH_SECONDS)
    np.testing.assert_allclose(done[0].vector, done[0].timeline.mean(0), rtol=1e-5, atol=1e-6)
    assert done[1].timeline.shape == (1, 200)  # under 3 s: one patch of the clip repeated
    assert 0 < len(done[0].styles) <= 5 and all(label.startswith("msd tag") for label in done[0].styles)
    assert list(done[0].styles.values()) == sorted(done[0].styles.values(), reverse=True)
    again = embedder.embed([short, long])  # grouping into batches changes nothing
    np.testing.assert_allclose(again[1].timeline, done[0].timeline, atol=1e-5)


def test_variants_and_their_options(weights):
    mtt = load_embedder("musicnn", str(weights), device="cpu", variant="mtt", tags_top="2", tags_min="0")
    styles = mtt.embed([tone_mix(4.0)])[0].styles
    assert len(styles) == 2 and all(label.startswith("mtt tag") for label in styles)
    assert mtt.revision.endswith(";variant=mtt")
    with pytest.raises(UsageError, match="unknown MusiCNN variant 'nope'"):
        load_embedder("musicnn", str(weights), device="cpu", variant="nope")
    with pytest.raises(UsageError, match="unknown loudness 'loud'"):
        load_embedder("musicnn", str(weights), device="cpu", loudness="loud")


def test_loudness_is_normalised_before_embedding_unless_asked_not_to(weights):
    """r128: a copy 6 dB quieter embeds as the original (another space: the revision says so); none (the
    default): as decoded."""
    normalised = load_embedder("musicnn", str(weights), device="cpu", loudness="r128")
    plain = load_embedder("musicnn", str(weights), device="cpu")
    wave = tone_mix(8.0)
    same = [e.vector for e in normalised.embed([wave, wave * 0.5])]
    np.testing.assert_allclose(same[0], same[1], rtol=1e-4, atol=1e-5)
    moved = [e.vector for e in plain.embed([wave, wave * 0.5])]
    assert np.abs(moved[0] - moved[1]).max() > 1e-3
    assert normalised.revision.endswith(";loudness=r128") and ";loudness" not in plain.revision


def run(*args: str, data: Path) -> subprocess.CompletedProcess:
    env_args = ["--data-dir", str(data)]
    return subprocess.run([sys.executable, *args, *env_args], capture_output=True, text=True)


def test_a_build_stores_tags_that_filter_and_export(weights, tmp_path):
    from tests.audio_files import write_audio

    music, data = tmp_path / "music", tmp_path / "data"
    for i in range(6):
        write_audio(music / f"t{i}.flac", 4.0 + i, seed=i)
    indexer = [sys.executable, "-m", "indexer.commands.main"]
    built = subprocess.run(
        [*indexer, "build", str(music), "--model", "musicnn", "--weights", str(weights), "-q", "--data-dir", str(data)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    status = subprocess.run([*indexer, "status", "--data-dir", str(data)], capture_output=True, text=True).stdout
    assert "model musicnn: 6 indexed" in status and "msd tag" in status
    query = [sys.executable, "-m", "storage.query", "t0.flac", "--model", "musicnn", "--json", "--data-dir", str(data)]
    plain = json.loads(subprocess.run(query, capture_output=True, text=True, check=True).stdout)
    assert plain["query"]["styles"] and all(n["styles"] for n in plain["neighbours"])
    tag = next(iter(plain["neighbours"][0]["styles"]))
    tagged = json.loads(subprocess.run([*query, "--style", tag], capture_output=True, text=True, check=True).stdout)
    assert tagged["neighbours"] and all(tag in n["styles"] for n in tagged["neighbours"])


def test_export_as_npz_and_parquet_to_files_and_stdout(weights, tmp_path):
    """`indexer export`: every track with its id, path, tags and the vector as stored, in both formats."""
    import io

    import pyarrow.parquet as pq

    from indexer.build import BuildOptions, build_catalog
    from indexer.commands.main import main as indexer
    from storage.read.catalog import Catalog
    from tests.audio_files import write_audio

    music, data = tmp_path / "music", tmp_path / "data"
    for i in range(5):
        write_audio(music / f"t{i}.flac", 4.0, seed=i)
    build_catalog(music, data, BuildOptions(model="musicnn", weights=str(weights), workers=1, progress=False))
    catalog = Catalog.open(data, "musicnn")
    stored = {t.id: catalog.vector(t) for t in catalog.all_tracks()}
    common = ["export", "--model", "musicnn", "--data-dir", str(data)]
    assert indexer([*common, "-o", str(tmp_path / "out.npz")]) == 0
    with np.load(tmp_path / "out.npz") as npz:
        assert list(npz["ids"]) == sorted(stored) and npz["vectors"].shape == (5, 200)
        assert all(np.array_equal(v, stored[int(i)]) for i, v in zip(npz["ids"], npz["vectors"], strict=True))
        assert sorted(npz["paths"]) == [f"t{i}.flac" for i in range(5)] and str(npz["model"]) == "musicnn"
        assert json.loads(npz["styles"][0]) == catalog.styles([int(npz["ids"][0])])[int(npz["ids"][0])]
    assert indexer([*common, "-o", str(tmp_path / "out.parquet")]) == 0
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column("id").to_pylist() == sorted(stored) and table.schema.metadata[b"model"] == b"musicnn"
    first = table.slice(0, 1).to_pylist()[0]
    np.testing.assert_array_equal(np.array(first["vector"], np.float32), stored[first["id"]])
    assert dict(first["styles"]).keys() == catalog.styles([first["id"]])[first["id"]].keys()
    streamed = subprocess.run(
        [sys.executable, "-m", "indexer.commands.main", *common, "--format", "parquet", "-o", "-"], capture_output=True
    )
    assert streamed.returncode == 0 and pq.read_table(io.BytesIO(streamed.stdout)).num_rows == 5
    assert indexer(["export", "--model", "mule", "--data-dir", str(data), "-o", str(tmp_path / "x.npz")]) == 2
    assert not (tmp_path / "x.npz").exists()
