"""MERT variants, and the published config files read into a HubertConfig.

The published MERT configs (`model_type: mert_model`) describe a HuBERT with MERT's
extra paths switched off (`feature_extractor_cqt: false`, `deepnorm: false`), so
`transformers.HubertModel` runs them exactly, without executing the repository's code.
A config that switches one of those paths on is refused rather than run wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from indexer.errors import WeightsError

CONFIG_FILE = "config.json"
PREPROCESSOR_FILE = "preprocessor_config.json"
WEIGHTS_FILE = "pytorch_model.bin"
FILES = [CONFIG_FILE, PREPROCESSOR_FILE, WEIGHTS_FILE]

WINDOW_SECONDS = 5.0  # the pre-training context: attention stays cheap (375 tokens)
HOP_SECONDS = 5.0
MIN_SAMPLES = 400  # one frame of the conv stack; shorter inputs are zero-padded to it
FRAME_RATE = 75  # tokens per second at 24 kHz (hop 320)


@dataclass(frozen=True)
class MertVariant:
    repo: str
    layers: int
    default_layer: int  # 1-based transformer layer whose output is pooled


# 95M: layer 7, the authors' demo choice. 330M: layer 14, the same relative depth (7/12 ≈ 14/24).
VARIANTS = {
    "mert-95m": MertVariant("m-a-p/MERT-v1-95M", 12, 7),
    "mert-330m": MertVariant("m-a-p/MERT-v1-330M", 24, 14),
}
# Paths of MERT's own code that HuBERT lacks: refused when switched on.
MERT_ONLY = {"feature_extractor_cqt": False, "deepnorm": False}


@dataclass(frozen=True)
class Preprocessing:
    sample_rate: int
    do_normalize: bool  # zero mean, unit variance per window (Wav2Vec2FeatureExtractor's rule)


def hubert_config(raw: dict) -> Any:  # transformers' HubertConfig
    """A HubertConfig for a published MERT config.json (values taken as published)."""
    from transformers import HubertConfig

    if raw.get("model_type") not in ("mert_model", "hubert"):
        raise WeightsError(f"config.json has model_type {raw.get('model_type')!r}, not a MERT checkpoint")
    for key, supported in MERT_ONLY.items():
        if bool(raw.get(key, supported)) != supported:
            raise WeightsError(f"this MERT config sets {key}={raw[key]}, which HubertModel cannot run")
    fields = {k: v for k, v in raw.items() if k not in ("model_type", "architectures", "auto_map", *MERT_ONLY)}
    return HubertConfig(**fields)


def preprocessing(raw: dict) -> Preprocessing:
    return Preprocessing(int(raw.get("sampling_rate", 24000)), bool(raw.get("do_normalize", False)))
