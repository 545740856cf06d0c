"""CLAP variants and constants (BACKENDS.md; the Hub repos `laion/*clap*`, LAION's `laion-clap` package)."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.errors import IndexerError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILES = ["vocab.json", "merges.txt"]  # RoBERTa's byte-level BPE, as the Hub repos ship it
FILES = [*TOKENIZER_FILES, CONFIG_FILE, WEIGHTS_FILE]  # the weights last: their digest names a folder's revision

SAMPLE_RATE = 48000
WINDOW_SECONDS = 10  # HTSAT sees exactly 10 s: 1001 frames of 64 mel bands
WINDOW = SAMPLE_RATE * WINDOW_SECONDS
N_FFT = 1024  # = window length; periodic Hann; centred frames, reflect-padded (torchlibrosa's Spectrogram)
HOP = 480
N_MELS = 64  # librosa's Slaney bands and Slaney area norm, 50-14000 Hz
F_MIN = 50.0
F_MAX = 14000.0
AMIN = 1e-10  # power_to_db: 10 log10(max(x, amin)), ref 1.0, no top_db
TEXT_TOKENS = 77  # LAION's tokenizer call: padded and truncated to 77 tokens
FRONTEND = "torchlibrosa"  # in the revision: LAION's own front end, not transformers' ClapFeatureExtractor
POOLING = "mean-of-unit-windows"  # the track vector: mean of the unit window embeddings (docs/models.md#clap)

# Zero-shot tags kept per track: at most TAGS_TOP, each with a probability (within its category) of at least TAGS_MIN.
TAGS_TOP = 5
TAGS_MIN = 0.3


@dataclass(frozen=True)
class ClapVariant:
    repo: str
    text: bool  # False: the text tower is known to be collapsed; text queries are refused
    why_not_text: str = ""


VARIANTS = {
    "general": ClapVariant("laion/larger_clap_general", True),
    "unfused": ClapVariant("laion/clap-htsat-unfused", True),
    "music": ClapVariant(
        "laion/larger_clap_music",
        False,
        "laion/larger_clap_music's text tower is collapsed (every text scores about 0.999 against every other, "
        "mteb#5069); build with --variant general for search by words",
    ),
}
DEFAULT_VARIANT = "general"


def clap_variant(name: str) -> ClapVariant:
    if name not in VARIANTS:
        raise IndexerError(f"unknown CLAP variant {name!r}; available: {', '.join(VARIANTS)}")
    return VARIANTS[name]
