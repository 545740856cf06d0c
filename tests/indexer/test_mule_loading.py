"""Strict checkpoint loading, the Hub path, devices, parameter count."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from indexer.errors import CheckpointMismatchError, DeviceError, WeightsError
from indexer.models import device as device_module
from indexer.models import load_embedder
from indexer.models.mule.checkpoint import parameter_count
from indexer.models.mule.config import MuleConfig
from indexer.models.mule.embedder import MuleEmbedder
from tests.conftest import tone_mix


def copy_checkpoint(src: Path, dst: Path, edit=None) -> Path:
    shutil.copytree(src, dst)
    if edit is not None:
        state = load_file(str(dst / "model.safetensors"))
        edit(state)
        save_file(state, str(dst / "model.safetensors"))
    return dst


def test_parameter_count_and_dimension(mule_embedder):
    count = parameter_count(MuleConfig())
    assert count == 62_345_742
    assert round(count / 1e6, 2) == 62.35
    assert mule_embedder.dim == 1728
    assert mule_embedder.embed([tone_mix(1.0)])[0].vector.shape == (1728,)


def test_unexpected_key_is_named(mule_checkpoint, tmp_path):
    d = copy_checkpoint(mule_checkpoint, tmp_path / "c", lambda s: s.update({"backbone.extra.weight": torch.zeros(3)}))
    with pytest.raises(CheckpointMismatchError, match=r"unexpected 1: backbone\.extra\.weight"):
        MuleEmbedder.from_weights(str(d), device="cpu")


def test_missing_key_is_named(mule_checkpoint, tmp_path):
    d = copy_checkpoint(
        mule_checkpoint, tmp_path / "c", lambda s: s.pop("backbone.slow_stages.2.blocks.1.convs.3.gain")
    )
    with pytest.raises(
        CheckpointMismatchError, match=r"missing 1: backbone\.slow_stages\.2\.blocks\.1\.convs\.3\.gain"
    ):
        MuleEmbedder.from_weights(str(d), device="cpu")


def test_wrong_shape_is_named(mule_checkpoint, tmp_path):
    key = "backbone.fast_stem.convs.0.weight"
    d = copy_checkpoint(mule_checkpoint, tmp_path / "c", lambda s: s.update({key: torch.zeros(2, 1, 3, 4)}))
    with pytest.raises(CheckpointMismatchError, match=r"wrong shape 1: backbone\.fast_stem\.convs\.0\.weight"):
        MuleEmbedder.from_weights(str(d), device="cpu")


def test_config_claiming_baked_kernels_rejects_gains(mule_checkpoint, tmp_path):
    d = copy_checkpoint(mule_checkpoint, tmp_path / "c")
    config = json.loads((d / "config.json").read_text())
    config["weight_standardization"] = False
    (d / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointMismatchError, match="weight_standardization: false"):
        MuleEmbedder.from_weights(str(d), device="cpu")


def test_folder_without_weights_says_how_to_provide_them(tmp_path):
    with pytest.raises(WeightsError) as info:
        MuleEmbedder.from_weights(str(tmp_path), device="cpu")
    message = str(info.value)
    assert "model.safetensors" in message and "SOUNDALIKE_WEIGHTS" in message and "\n" not in message


def test_corrupt_safetensors_is_a_weights_error(mule_checkpoint, tmp_path):
    d = copy_checkpoint(mule_checkpoint, tmp_path / "c")
    (d / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(WeightsError, match="cannot read"):
        MuleEmbedder.from_weights(str(d), device="cpu")


def make_hub_cache(cache: Path, checkpoint: Path, repo: str = "matteospanio/mule", commit: str = "a" * 40) -> Path:
    """The on-disk layout huggingface_hub keeps: refs/main -> snapshots/<commit>/<files>."""
    root = cache / f"models--{repo.replace('/', '--')}"
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(checkpoint / name, snapshot / name)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(commit)
    return cache


def test_hub_default_repo_from_offline_cache(mule_checkpoint, tmp_path, monkeypatch):
    cache = make_hub_cache(tmp_path / "hub", mule_checkpoint)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("SOUNDALIKE_WEIGHTS", raising=False)
    embedder = load_embedder("mule", device="cpu")
    assert embedder.revision == "a" * 40
    pinned = load_embedder("mule", weights="matteospanio/mule@" + "a" * 40, device="cpu")
    wave = tone_mix(3.0)
    assert (pinned.embed([wave])[0].vector == embedder.embed([wave])[0].vector).all()


def test_hub_offline_without_cache_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.delenv("SOUNDALIKE_WEIGHTS", raising=False)
    with pytest.raises(WeightsError) as info:
        load_embedder("mule", device="cpu")
    message = str(info.value)
    assert "matteospanio/mule" in message and "--weights" in message and "HF_HUB_OFFLINE" in message
    assert message.endswith("or index with a model whose weights need no Hub: --model musicnn")  # a NAS offline


def test_an_unreachable_hub_is_one_quick_error(tmp_path, monkeypatch, caplog):
    import time

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("SOUNDALIKE_WEIGHTS", raising=False)
    started = time.monotonic()
    with pytest.raises(WeightsError, match="the Hub is unreachable.*need no Hub: --model musicnn"):
        load_embedder("mule", device="cpu")
    assert time.monotonic() - started < 10
    assert not [r for r in caplog.records if "Retry" in r.getMessage()]


def test_env_var_selects_weights(mule_checkpoint, monkeypatch):
    monkeypatch.setenv("SOUNDALIKE_WEIGHTS", str(mule_checkpoint))
    assert load_embedder("mule", device="cpu").revision.startswith("sha256:")


def test_devices_and_precisions(mule_checkpoint):
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no CUDA GPU"):
            MuleEmbedder.from_weights(str(mule_checkpoint), device="cuda")
    with pytest.raises(DeviceError, match="fp16 needs a CUDA device"):
        MuleEmbedder.from_weights(str(mule_checkpoint), device="cpu", precision="fp16")
    with pytest.raises(DeviceError, match="unknown device"):
        MuleEmbedder.from_weights(str(mule_checkpoint), device="tpu:x")


def test_inference_holds_no_autograd_state(mule_embedder):
    assert all(not t.requires_grad for t in mule_embedder.backbone.state_dict().values())
    assert not any(True for _ in mule_embedder.backbone.parameters() if _.requires_grad)


def test_cpu_bf16_refused_without_the_instructions(mule_checkpoint, monkeypatch):
    monkeypatch.setattr(device_module, "cpu_bf16_flags", lambda: ())
    with pytest.raises(DeviceError, match="AVX512-BF16 or AMX"):
        MuleEmbedder.from_weights(str(mule_checkpoint), device="cpu", precision="bf16")


@pytest.mark.skipif(not device_module.cpu_bf16_flags(), reason="this CPU has neither AVX512-BF16 nor AMX")
def test_cpu_bf16_close_to_fp32(mule_checkpoint, mule_embedder):
    fast = MuleEmbedder.from_weights(str(mule_checkpoint), device="cpu", precision="bf16", batch_size=8)
    wave = tone_mix(6.0, seed=3)
    exact, approx = mule_embedder.embed([wave])[0].vector, fast.embed([wave])[0].vector
    assert approx.dtype == np.float32 and not np.array_equal(exact, approx)  # it did run in bf16
    cosine = float(exact @ approx / np.linalg.norm(exact) / np.linalg.norm(approx))
    assert cosine > 0.99
