"""MusicFM variants and constants (BACKENDS.md; GitHub minzwon/musicfm, Hub minzwon/MusicFM)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REPO = "minzwon/MusicFM"
SAMPLE_RATE = 24000
N_FFT = 2048  # = window length, periodic Hann, centred, reflect padding
HOP = 240
N_MELS = 128  # HTK scale, no filter normalisation, 0-12000 Hz
AMIN = 1e-10  # 10 * log10(max(power, AMIN)), no reference level
CONV_DIM = 512
HIDDEN = 1024
LAYERS = 12
DEFAULT_LAYER = 7  # the authors' README
WINDOW_SECONDS = 30.0  # the training length (750 tokens)
HOP_SECONDS = 30.0
MIN_SAMPLES = N_FFT  # centring pads by n_fft/2 on each side with reflections: shorter inputs are zero-padded
FB_KEY = "preprocessor_melspec_2048.mel_stft.mel_scale.fb"
WINDOW_KEY = "preprocessor_melspec_2048.mel_stft.spectrogram.window"
TRAINING_ONLY = ("quantizer_", "linear.", "cls_token")  # checkpoint keys the encoder never uses


@dataclass(frozen=True)
class MusicFMVariant:
    weights_file: str
    stats_file: str
    stats_prefix: str = "melspec_2048"


VARIANTS = {
    "musicfm-msd": MusicFMVariant("pretrained_msd.pt", "msd_stats.json"),
    "musicfm-fma": MusicFMVariant("pretrained_fma.pt", "fma_stats.json"),
}


def conformer_config(hidden: int = HIDDEN, layers: int = LAYERS, heads: int = 16, ffn: int = 4096) -> Any:
    """The conformer MusicFM was trained with (facebook/wav2vec2-conformer-rope-large-960h-ft at depth 12),
    written out here so nothing is fetched at run time."""
    from transformers import Wav2Vec2ConformerConfig

    # attn_implementation: a PretrainedConfig keyword that this subclass's typed signature omits
    return Wav2Vec2ConformerConfig(  # type: ignore[call-arg]
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        hidden_act="swish",
        position_embeddings_type="rotary",
        rotary_embedding_base=10000,
        conv_depthwise_kernel_size=31,
        layer_norm_eps=1e-5,
        num_conv_pos_embeddings=128,
        num_conv_pos_embedding_groups=16,
        attn_implementation="eager",
    )
