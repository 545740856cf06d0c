"""One contract for every registered model, through what its spec declares: random weights in the published
format (its `write_random_weights`) load by `load_embedder`, embed a few seconds to one finite float32 vector of
the embedder's width (the same twice), and a checkpoint with a tensor missing, one too many or one misshapen is
refused with an error that names it. A model added to the registry is held to this without a line here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from indexer.errors import CheckpointMismatchError, WeightsError
from indexer.models import load_embedder
from indexer.models.registry import MODELS, SPECS, labels_word, offline_models, tagging_models, text_models
from tests.conftest import tone_mix

State = dict[str, torch.Tensor]


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Each model's random weights, written once for the module."""
    written: dict[str, Path] = {}

    def of(model: str) -> Path:
        if model not in written:
            written[model] = MODELS[model].write_random_weights(tmp_path_factory.mktemp(model), seed=3)
        return written[model]

    return of


def copy_of(source: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(source, target)
    return target


def edit_state(directory: Path, change: Callable[[State], str]) -> str:
    """Apply `change` to the one weights file in `directory` (safetensors, a torch pickle with or without a
    `state_dict`, or a TensorFlow bundle), saved back in its format; the name `change` returns."""
    for path in sorted(directory.rglob("*.safetensors")):
        from safetensors.torch import load_file, save_file

        state = load_file(path)
        name = change(state)
        save_file({k: v.contiguous() for k, v in state.items()}, path)
        return name
    for path in sorted([*directory.rglob("*.bin"), *directory.rglob("*.pt"), *directory.rglob("*.ckpt")]):
        raw = torch.load(path, weights_only=True)
        state = raw.get("state_dict", raw)
        name = change(state)
        torch.save(raw, path)
        return name
    for index in sorted(directory.rglob("*.index")):  # MusiCNN's TensorFlow checkpoints: the variant in use
        from indexer.models.musicnn.bundle import read_tensors
        from indexer.models.musicnn.testing import write_bundle

        if "MSD" not in index.parent.name:
            continue
        data = next(index.parent.glob("*.data-*"))
        tensors = {
            k: torch.from_numpy(v.copy()) for k, v in read_tensors(index.read_bytes(), data.read_bytes()).items()
        }
        name = change(tensors)
        write_bundle(index.parent, {k: v.numpy() for k, v in tensors.items()}, index.name.removesuffix(".index"))
        return name
    raise AssertionError(f"no weights file under {directory}")


def a_kernel(state: State) -> str:
    """A tensor every loader needs: the first of two or more dimensions."""
    return next(k for k in sorted(state) if state[k].dim() >= 2)


def drop(state: State) -> str:
    name = a_kernel(state)
    del state[name]
    return name


def misshape(state: State) -> str:
    name = a_kernel(state)
    state[name] = torch.zeros(state[name].shape[0] + 1, *state[name].shape[1:])
    return name


def add(state: State) -> str:
    name = "soundalike_unexpected/kernel" if any("/" in k for k in state) else "soundalike_unexpected.weight"
    state[name] = torch.zeros(2, 2)
    return name


@pytest.mark.parametrize("model", list(MODELS))
def test_random_weights_load_and_embed(model, weights):
    embedder = load_embedder(model, str(weights(model)), device="cpu")
    wave = tone_mix(6.0, seed=5, sr=MODELS[model].sample_rate)
    first, again = embedder.embed([wave])[0], embedder.embed([wave])[0]
    assert first.vector.shape == (embedder.dim,) and first.vector.dtype == np.float32
    assert np.isfinite(first.vector).all() and np.abs(first.vector).sum() > 0
    np.testing.assert_array_equal(first.vector, again.vector)
    assert (first.styles is not None) == (MODELS[model].labels is not None)  # a model that labels, labels
    assert hasattr(embedder, "embed_texts") == MODELS[model].text  # a text tower is declared


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize(
    ("change", "said"), [(drop, "missing|lacks"), (misshape, "misshapen|wrong shape| vs "), (add, "unexpected")]
)
def test_a_mismatched_checkpoint_is_named(model, change, said, weights, tmp_path):
    if change is add and any(weights(model).rglob("*.index")):
        pytest.skip("TensorFlow checkpoints hold training state beside the weights: extra tensors are read past")
    broken = copy_of(weights(model), tmp_path / model)
    name = edit_state(broken, change)
    with pytest.raises(WeightsError) as refused:
        load_embedder(model, str(broken), device="cpu")
    message = str(refused.value)
    if change is not drop:
        assert isinstance(refused.value, CheckpointMismatchError)
    if said is not None:
        assert any(word in message for word in said.split("|")), message
    # The tensor is named as the file names it, or as the model does (the last two parts of its name).
    assert name in message or ".".join(name.replace("/", ".").split(".")[-2:]) in message, message


def test_capabilities_are_declared_in_the_specs():
    assert set(tagging_models()) == {s.name for s in SPECS if s.labels} and tagging_models()
    assert set(text_models()) == {s.name for s in SPECS if s.text} and text_models()
    assert offline_models() and all(MODELS[m].weights_offline for m in offline_models())
    assert {labels_word(m) for m in tagging_models()} <= {"styles", "sounds", "tags"}
    assert labels_word(None) == "labels" and all(s.testing for s in SPECS)
