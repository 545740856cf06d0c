"""MusiCNN's facts (Pons & Serra, "musicnn", ISMIR 2019 LBD; the `musicnn` 0.1.0 wheel's checkpoints)."""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_RATE = 16000
N_FFT = 512  # = window length (librosa's periodic Hann), hop 256, centred with zeros (librosa 0.10)
HOP = 256
N_MELS = 96  # Slaney scale and Slaney area norm, 0-8000 Hz (librosa's defaults)
PATCH_FRAMES = 187  # 3 s: librosa.time_to_frames(3, sr, n_fft, hop) + 1
PATCH_SECONDS = PATCH_FRAMES * HOP / SAMPLE_RATE  # 2.992 s: patches follow each other, no overlap
BN_EPS = 1e-3  # TensorFlow 1's batch-normalisation epsilon (PyTorch's 1e-5 moves the vector)
EMBEDDING_DIM = 200  # the back end's `penultimate`
TAGS = 50
TAGS_TOP = 5  # tags kept per track, each with probability at least TAGS_MIN
TAGS_MIN = 0.1

WHEEL = "musicnn-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
WHEEL_REQUIREMENT = "musicnn==0.1.0"
PACKAGE = "musicnn"  # the wheel's top-level folder
INDEX_FILE = ".index"
DATA_FILE = ".data-00000-of-00001"
LABELS_FILE = "configuration.py"  # the wheel's tag names: MSD_LABELS, MTT_LABELS


@dataclass(frozen=True)
class Variant:
    name: str
    folder: str  # in the wheel
    labels: str  # the list's name in configuration.py
    trained_on: str


VARIANTS = {
    "msd": Variant("msd", "MSD_musicnn", "MSD_LABELS", "Million Song Dataset (Last.fm tags)"),
    "mtt": Variant("mtt", "MTT_musicnn", "MTT_LABELS", "MagnaTagATune"),
}
DEFAULT_VARIANT = "msd"
