"""Fidelity to the authors' code: LAION's laion-clap 1.1.7 (a side environment, tests/real_data.py) on random
weights, converted to the Hub's layout by transformers' own conversion script, against our whole path (decode,
resample, quantise, windows, front end, model): every 10-s window and every text at cosine >= 0.9999.
The files: three pieces of a real soundtrack (Ogg Vorbis, 44.1 kHz stereo: downmix and resampling) of 71, 13
and 9 s: 8 windows, 2 (the last pulled back to end with the track), and one that LAION's own file entry point
repeat-pads. librosa.load pads the resampled wave to ceil(n x 48000 / 44100) samples, one zero more than
soxr gives: the windows start at the same samples either way."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from indexer.audio import decode
from indexer.models import load_embedder
from indexer.models.clap.config import SAMPLE_RATE, WINDOW
from indexer.models.clap.embedder import clip_windows
from indexer.models.clap.testing import write_tokenizer
from tests import real_data

REFERENCE = Path(__file__).with_name("clap_reference.py")
TEXTS = ["calm piano with rain", "energetic rock with loud drums", "a choir", "x" * 400]  # the last one truncated


@pytest.fixture(scope="module")
def side() -> tuple[Path, list[Path]]:
    """(the side environment's python, real soundtrack files)."""
    try:
        tracks = real_data.soundtracks()["drascula-music"]
        return real_data.clap_reference(), [tracks[1], tracks[8], tracks[3]]
    except real_data.Missing as exc:
        real_data.require("the CLAP reference", str(exc))
        raise


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.parametrize(("variant", "amodel"), [("general", "HTSAT-base"), ("unfused", "HTSAT-tiny")])
def test_every_window_and_text_equals_laion_clap(side, tmp_path, variant, amodel):
    python, files = side
    waves = [decode(f, SAMPLE_RATE) for f in files]
    starts = [clip_windows(w)[1] if w.size >= WINDOW else [0] for w in waves]
    request = {"files": [str(f) for f in files], "starts": starts, "texts": TEXTS}
    (tmp_path / "request.json").write_text(json.dumps(request))
    write_tokenizer(tmp_path)
    done = subprocess.run([str(python), str(REFERENCE), str(tmp_path), amodel, "7"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(tmp_path / "reference.npz") as found:
        theirs = {k: found[k] for k in found.files}

    ours = load_embedder("clap", str(tmp_path / "hub"), device="cpu", variant=variant)
    for i, wave in enumerate(waves):
        loaded = theirs[f"wave_{i}"]
        assert loaded.size - wave.size in (0, 1) and not loaded[wave.size :].any()
        np.testing.assert_allclose(wave, loaded[: wave.size], atol=2e-6)  # decode + downmix + soxr = librosa.load
        got = ours.embed([wave])[0]
        assert got.timeline.shape == theirs[f"windows_{i}"].shape
        agreement = cosines(got.timeline, theirs[f"windows_{i}"])
        print(f"{variant} file {i}: {len(agreement)} windows, least cosine {agreement.min():.7f}")
        assert agreement.min() >= 0.9999
    text = cosines(ours.embed_texts(TEXTS), theirs["texts"])  # padded to the longest text, not to 77
    print(f"{variant} texts: least cosine {text.min():.7f}")
    assert text.min() >= 0.9999
