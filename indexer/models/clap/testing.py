"""A random-weight CLAP checkpoint in the Hub's layout (laion/*clap*), for tests and benchmarks: config.json,
model.safetensors (transformers' ClapModel names, the recomputed buffers included as older saves hold them),
and a small byte-level BPE vocabulary in RoBERTa's format (vocab.json + merges.txt: the 256 byte symbols,
RoBERTa's special tokens at their usual ids and merges learnt from a few music words)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

SPECIALS = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
WORDS = (
    "calm piano with rain slow sad happy energetic drums guitar vocals voice choir strings ambient electronic "
    "rock jazz classical orchestra bass synth dance fast loud quiet soft acoustic female male singing"
).split()


def byte_symbols() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes (byte-level BPE)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    extra = [b for b in range(256) if b not in keep]
    table = dict(zip(keep, keep, strict=True)) | {b: 256 + i for i, b in enumerate(extra)}
    return [chr(table[b]) for b in range(256)]


def small_vocabulary(
    merges: int = 40, vocabulary: Sequence[str] = WORDS
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A byte-level BPE vocabulary: specials, the 256 byte symbols, `merges` merges learnt greedily from the words
    (enough merges make each word one token, as common English words are in RoBERTa's real vocabulary)."""
    symbols = byte_symbols()
    words = [[symbols[b] for b in (" " + w).encode()] for w in vocabulary]
    vocab = dict(SPECIALS)
    for s in symbols:
        vocab.setdefault(s, len(vocab))
    learnt: list[tuple[str, str]] = []
    for _ in range(merges):
        pairs = Counter((a, b) for w in words for a, b in zip(w, w[1:], strict=False))
        if not pairs:
            break
        (a, b), _count = pairs.most_common(1)[0]
        learnt.append((a, b))
        vocab.setdefault(a + b, len(vocab))
        words = [_merge(w, a, b) for w in words]
    vocab["<mask>"] = len(vocab)
    return vocab, learnt


def _merge(word: list[str], a: str, b: str) -> list[str]:
    out: list[str] = []
    for s in word:
        if out and out[-1] == a and s == b:
            out[-1] = a + b
        else:
            out.append(s)
    return out


def write_tokenizer(directory: Path, merges: int = 40, vocabulary: Sequence[str] = WORDS) -> int:
    """vocab.json + merges.txt in `directory`; the vocabulary's size."""
    vocab, merges_learnt = small_vocabulary(merges, vocabulary)
    (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (directory / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges_learnt))
    return len(vocab)


def clap_config(size: str = "small", vocab_size: int = 50265) -> dict:
    """A config.json as published: "base" (larger_clap_general's HTSAT-base), "tiny" (clap-htsat-unfused's
    HTSAT-tiny), or "small" (a narrow, shallow model for tests of everything but the published sizes)."""
    audio = {"patch_embeds_hidden_size": 96, "depths": [2, 2, 6, 2], "hidden_size": 768, "enable_fusion": False}
    text = {"vocab_size": vocab_size}
    if size == "base":
        audio |= {"patch_embeds_hidden_size": 128, "depths": [2, 2, 12, 2], "hidden_size": 1024}
    elif size == "small":
        audio |= {"patch_embeds_hidden_size": 16, "depths": [1, 1, 1, 1], "hidden_size": 128}
        audio |= {"num_attention_heads": [1, 2, 4, 8]}
        text |= {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
    return {
        "architectures": ["ClapModel"],
        "model_type": "clap",
        "projection_dim": 512,
        "audio_config": audio,
        "text_config": text,
        "torch_dtype": "float32",
    }


def write_random_clap(
    directory: Path, size: str = "small", seed: int = 0, merges: int = 40, vocabulary: Sequence[str] = WORDS
) -> Path:
    """A checkpoint in the Hub's layout from random weights; every tensor perturbed, the norms' and batch
    norm's included, so a wrongly mapped one shows. `merges` and `vocabulary` shape the tokenizer."""
    import torch
    from safetensors.torch import save_file

    from indexer.models.clap.checkpoint import build_model
    from indexer.models.clap.config import CONFIG_FILE, WEIGHTS_FILE

    directory.mkdir(parents=True, exist_ok=True)
    written = write_tokenizer(directory, merges, vocabulary)
    vocab_size = written if size == "small" else 50265
    config = clap_config(size, vocab_size)
    torch.manual_seed(seed)
    model = build_model(config, initialise=True)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point() and name.endswith(("running_mean", "bias", "norm.weight")):
                tensor.add_(0.1 * torch.randn_like(tensor))
            elif tensor.is_floating_point() and name.endswith("running_var"):
                tensor.mul_(torch.empty_like(tensor).uniform_(0.5, 2.0))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(directory / WEIGHTS_FILE))
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2))
    return directory


def write_random(directory: Path, model: str, seed: int = 0) -> Path:
    """The registry's writer: a small CLAP (both towers) with a small tokenizer."""
    return write_random_clap(directory, "small", seed)
