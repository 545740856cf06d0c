"""MAEST variants and constants (BACKENDS.md; the Hub repos `mtg-upf/discogs-maest-*`)."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.errors import IndexerError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "pytorch_model.bin"
FILES = [CONFIG_FILE, WEIGHTS_FILE]

SAMPLE_RATE = 16000
N_FFT = 512  # = window length; symmetric Hann; frame k centred on sample k * HOP (Essentia's FrameCutter)
HOP = 256
N_MELS = 96  # Slaney scale and Slaney area norm, 0-8000 Hz
FRONTEND = "essentia"  # in the revision: vectors of the earlier frontend (frames from sample 0, periodic Hann) differ
F_MAX = 8000.0
MEL_MEAN = 2.06755686098554
MEL_STD = 1.268292820667291  # inputs are (logmel - mean) / (2 * std)
EMBEDDING_LAYER = 7  # the paper's: block 7's CLS, DIST and mean of the other tokens
HIDDEN = 768
DIM = 3 * HIDDEN  # 2304

# Top styles kept per track: probability at least STYLES_MIN, at most STYLES_TOP of them.
STYLES_TOP = 5
STYLES_MIN = 0.1


@dataclass(frozen=True)
class MaestVariant:
    repo: str
    max_length: int  # frames the model takes (its config)
    patch_frames: int  # frames a patch needs (Essentia's TensorflowPredictMAEST patchSize)
    patch_hop: int  # frames between patch starts (its patchHopSize: exactly 5, 10, 20 or 30 s)


# Essentia's TensorflowPredictMAEST picks patchSize/patchHopSize by the variant's length: 316/313 (5 s),
# 626/625 (10 s), 1258/1250 (20 s), 1876/1875 (30 s). A 20-s patch is 1258 frames of which the model's
# patch embedding (kernel 16, stride 10) sees the first 1256.
_PATCHING = {"5s": (316, 316, 313), "10s": (626, 626, 625), "20s": (1256, 1258, 1250), "30s": (1876, 1876, 1875)}
VARIANTS = {
    name: MaestVariant(f"mtg-upf/discogs-maest-{name}", *_PATCHING[name.split("-")[0]])
    for name in (
        "5s-pw-129e",
        "10s-fs-129e",
        "10s-pw-129e",
        "10s-dw-75e",
        "20s-pw-129e",
        "30s-pw-129e",
        "30s-pw-73e-ts",
    )
}
DEFAULT_VARIANT = "30s-pw-129e"


def maest_variant(name: str) -> MaestVariant:
    if name not in VARIANTS:
        raise IndexerError(f"unknown MAEST variant {name!r}; available: {', '.join(VARIANTS)}")
    return VARIANTS[name]


def ast_config_fields(max_length: int) -> dict:
    """What ASTConfig needs beyond the published config.json to run MAEST (BACKENDS.md)."""
    return {
        "num_mel_bins": N_MELS,
        "max_length": max_length,
        "time_stride": 10,
        "frequency_stride": 10,
        "patch_size": 16,
        "layer_norm_eps": 1e-6,
    }
