"""Fidelity to the authors' code: musicnn 0.1.0's own network on TensorFlow 2.15 (a side environment,
tests/real_data.py) against ours, on the same audio and the real weights of the wheel: per 3-s patch, the
200-d `penultimate` at cosine ≥ 0.99999 and the 50 tag probabilities within 1e-4, for both variants.
The reference runs the graph itself (tests/indexer/musicnn_reference.py), not musicnn's `extractor()`,
which repeats patch 0's `penultimate` for every later patch."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from indexer.audio import decode
from indexer.models import load_embedder
from indexer.models.musicnn.config import PATCH_FRAMES
from indexer.models.musicnn.frontend import patches
from tests import real_data

REFERENCE = Path(__file__).with_name("musicnn_reference.py")


@pytest.fixture(scope="module")
def side() -> tuple[Path, Path, Path]:
    """(the side environment's python, the real wheel, a real soundtrack file)."""
    try:
        return real_data.tf_reference(), real_data.musicnn_wheel(), real_data.soundtracks()["drascula-music"][9]
    except real_data.Missing as exc:
        real_data.require("the TensorFlow reference", str(exc))
        raise


def reference(python: Path, model: str, out: Path, *inputs: str) -> dict[str, np.ndarray]:
    done = subprocess.run([str(python), str(REFERENCE), model, str(out), *inputs], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    with np.load(out) as found:
        return {k: found[k] for k in found.files}


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.parametrize("variant", ["msd", "mtt"])
def test_every_patch_equals_the_authors_network(side, variant, tmp_path):
    python, wheel, track = side
    wave = decode(track, 16000)
    np.save(tmp_path / "wave.npy", wave)
    theirs = reference(python, f"{variant.upper()}_musicnn", tmp_path / "ref.npz", "--wave", str(tmp_path / "wave.npy"))
    ours = load_embedder("musicnn", str(wheel), device="cpu", variant=variant, loudness="none")  # as theirs
    mel = ours.log_mel(torch.from_numpy(wave))
    count = mel.shape[0] // PATCH_FRAMES
    assert theirs["penultimate"].shape == (count, 200) and count >= 10
    with torch.inference_mode():
        penultimate, tags = ours.network(patches(mel, 0, count))
    assert cosines(penultimate.numpy(), theirs["penultimate"]).min() >= 0.99999
    assert np.abs(tags.numpy() - theirs["taggram"]).max() <= 1e-4
    embedded = ours.embed([wave])[0]  # the embedder's own path: the same patches, their mean, top tags
    np.testing.assert_allclose(embedded.timeline, penultimate.numpy(), atol=1e-5)
    top = np.argsort(-theirs["taggram"].mean(0))[: len(embedded.styles)]
    assert list(embedded.styles) == [ours.labels[i] for i in top]


def test_the_whole_path_from_the_file_matches_closely(side, tmp_path):
    """Decoding and resampling too (ours: libsndfile + soxr HQ; theirs: librosa.load, soxr_hq)."""
    python, wheel, track = side
    theirs = reference(python, "MSD_musicnn", tmp_path / "ref.npz", "--audio", str(track))
    ours = load_embedder("musicnn", str(wheel), device="cpu", loudness="none").embed([decode(track, 16000)])[0]
    assert ours.timeline.shape == theirs["penultimate"].shape
    assert cosines(ours.timeline, theirs["penultimate"]).min() >= 0.9999


def test_tensorflow_reads_our_random_bundles(side, tmp_path):
    """The random-weight checkpoints the other tests use are real TensorFlow bundles."""
    from indexer.models.musicnn.testing import random_tensors, write_bundle

    python, _, _ = side
    tensors = random_tensors(seed=5)
    write_bundle(tmp_path, tensors)
    script = (
        "import sys, numpy as np\n"
        "from tensorflow.python.training import py_checkpoint_reader\n"
        "r = py_checkpoint_reader.NewCheckpointReader(sys.argv[1])\n"
        "np.savez(sys.argv[2], **{k.replace('/', '|'): r.get_tensor(k) for k in r.get_variable_to_shape_map()})\n"
    )
    command = [str(python), "-c", script, f"{tmp_path}/", str(tmp_path / "tf.npz")]
    subprocess.run(command, check=True, capture_output=True)
    with np.load(tmp_path / "tf.npz") as read:
        assert {k.replace("|", "/") for k in read.files} == set(tensors)
        assert all(np.array_equal(read[k.replace("/", "|")], v) for k, v in tensors.items())
