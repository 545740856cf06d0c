"""LAION's own CLAP on random weights, run in the side environment (tests.real_data.clap_reference):
`python clap_reference.py WORKDIR AMODEL SEED`. WORKDIR holds `request.json` (audio files, window starts in
samples, texts) and `vocab.json` + `merges.txt`. It writes:

- `laion.pt`: a random laion-clap checkpoint (the layout of LAION's published .pt files);
- `hub/`: that checkpoint converted to the Hub's layout by transformers' own conversion script;
- `reference.npz`: LAION's embeddings of the request: each file's windows, each short file whole, the texts.

roberta-base (LAION's text branch loads it by name) comes from a local Hub cache of random weights in its
published shape, with the small vocabulary of the request: nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import types
from pathlib import Path

ROBERTA_BASE = {
    "architectures": ["RobertaForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 514,
    "model_type": "roberta",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 1,
    "type_vocab_size": 1,
    "vocab_size": 50265,
}


def cached_repo(work: Path, repo: str, files: dict[str, str]) -> Path:
    """A snapshot of `repo` in the local Hub cache holding `files` (name -> text)."""
    root = work / "hf-cache" / f"models--{repo.replace('/', '--')}"
    snapshot = root / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True, exist_ok=True)
    (root / "refs").mkdir(exist_ok=True)
    (root / "refs" / "main").write_text("0" * 40)
    for name, text in files.items():
        (snapshot / name).write_text(text)
    return snapshot


def fake_hub_cache(work: Path) -> None:
    """What laion-clap loads by name from the Hub, in a local cache, the Hub switched off: roberta-base (random
    weights in its published shape, the request's vocabulary) for the text branch and its tokenizer; the BERT
    and BART tokenizers its data module loads at import (never used here: a few tokens each)."""
    bpe = {name: (work / name).read_text() for name in ("vocab.json", "merges.txt")}
    roberta = cached_repo(work, "roberta-base", bpe | {"config.json": json.dumps(ROBERTA_BASE)})
    cached_repo(work, "facebook/bart-base", bpe | {"config.json": json.dumps({"model_type": "bart"})})
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz"]
    cached_repo(
        work, "bert-base-uncased", {"vocab.txt": "\n".join(words) + "\n", "config.json": '{"model_type": "bert"}'}
    )
    os.environ.update(HF_HUB_CACHE=str(work / "hf-cache"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    import torch
    from transformers import RobertaConfig, RobertaModel

    torch.manual_seed(1)
    RobertaModel(RobertaConfig(**ROBERTA_BASE)).save_pretrained(str(roberta))


class _Unused(types.ModuleType):
    """Stands in for a torchvision module: laion-clap imports names from it for training and image code that
    audio and text inference never run; using one fails loudly."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)

        def unavailable(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"{self.__name__}.{name} is not installed in the reference environment")

        return unavailable


def stand_in_for_torchvision() -> None:
    """torchvision has no CPU build here for torch 2.13 (tests/real_data.py); transformers is imported first, so
    it records torchvision as absent and never uses these stand-ins."""
    import transformers  # noqa: F401 - its availability flags are read now, without torchvision

    for name in ("torchvision", "torchvision.datasets", "torchvision.transforms", "torchvision.ops"):
        sys.modules[name] = _Unused(name)
    sys.modules["torchvision.ops.misc"] = _Unused("torchvision.ops.misc")


def random_laion_checkpoint(work: Path, amodel: str, seed: int) -> Path:
    """A laion-clap model of random weights (norms, biases and batch-norm statistics perturbed too), saved as
    LAION's .pt files are: {"state_dict": ...} with the text branch's position ids."""
    import torch
    from laion_clap import CLAP_Module

    torch.manual_seed(seed)
    model = CLAP_Module(enable_fusion=False, amodel=amodel, device="cpu")
    state = model.model.state_dict()
    with torch.no_grad():
        for name, tensor in state.items():
            if tensor.is_floating_point() and name.endswith(("running_mean", "bias", "norm.weight")):
                tensor.add_(0.1 * torch.randn_like(tensor))
            elif tensor.is_floating_point() and name.endswith("running_var"):
                tensor.mul_(torch.empty_like(tensor).uniform_(0.5, 2.0))
    state["text_branch.embeddings.position_ids"] = torch.arange(514).unsqueeze(0)
    path = work / "laion.pt"
    torch.save({"state_dict": state}, path)
    return path


def convert(checkpoint: Path, out: Path, amodel: str) -> None:
    """transformers' own conversion (convert_clap_original_pytorch_to_hf); its module loads a feature extractor
    from the Hub at import, which it never uses in the conversion: a local one stands in."""
    import transformers
    from transformers import ClapFeatureExtractor

    transformers.AutoFeatureExtractor.from_pretrained = staticmethod(lambda *a, **k: ClapFeatureExtractor())
    from transformers.models.clap import convert_clap_original_pytorch_to_hf as conversion

    conversion.convert_clap_checkpoint(str(checkpoint), str(out), None, amodel, enable_fusion=False)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(checkpoint.parent / name, out / name)


def reference(work: Path, checkpoint: Path, amodel: str, request: dict) -> dict:
    """LAION's embeddings: files loaded as its get_audio_embedding_from_filelist loads them (librosa at 48 kHz),
    cut at the request's window starts and embedded by get_audio_embedding_from_data; short files whole."""
    import librosa
    import numpy as np
    from laion_clap import CLAP_Module

    model = CLAP_Module(enable_fusion=False, amodel=amodel, device="cpu")
    model.load_ckpt(str(checkpoint), verbose=False)
    out = {}
    for i, (path, starts) in enumerate(zip(request["files"], request["starts"], strict=True)):
        wave, _ = librosa.load(path, sr=48000)
        windows = np.stack([wave[s : s + 480000] for s in starts]) if len(wave) >= 480000 else None
        if windows is not None:
            out[f"windows_{i}"] = model.get_audio_embedding_from_data(windows)
        else:
            out[f"windows_{i}"] = model.get_audio_embedding_from_filelist([path])
        out[f"wave_{i}"] = wave
    out["texts"] = model.get_text_embedding(request["texts"])
    return out


def main() -> None:
    work, amodel, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    request = json.loads((work / "request.json").read_text())
    fake_hub_cache(work)
    stand_in_for_torchvision()
    checkpoint = random_laion_checkpoint(work, amodel, seed)
    convert(checkpoint, work / "hub", amodel)
    import numpy as np

    np.savez(work / "reference.npz", **reference(work, checkpoint, amodel, request))


if __name__ == "__main__":
    main()
