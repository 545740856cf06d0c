"""Zero-shot tags a person reads (CLAP): each track's vector scored against a vocabulary of prompts.

The vocabulary (tags.txt beside this file, or a user's file in the same format) lists `category | tag |
prompt` lines. Each category is scored on its own, as CLAP's zero-shot classification scores one set of
classes: a softmax over the category's prompts of the model's logit scale times the cosine between the
track and each prompt. A track keeps its `top` most probable tags across categories, each at least `least`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.errors import IndexerError

DEFAULT_VOCABULARY = Path(__file__).with_name("tags.txt")


@dataclass(frozen=True)
class Vocabulary:
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    prompts: tuple[str, ...]


def read_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """The vocabulary in `path` (default: soundalike's own), or IndexerError naming the line at fault."""
    source = Path(path) if path else DEFAULT_VOCABULARY
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexerError(f"cannot read the tag vocabulary {source}: {exc}") from None
    rows: list[tuple[str, str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not all(parts):
            raise IndexerError(f"{source}:{number}: expected 'category | tag | prompt', got {line.strip()!r}")
        rows.append((parts[0], parts[1], parts[2]))
    tags = [tag for _, tag, _ in rows]
    twice = sorted({t for t in tags if tags.count(t) > 1})
    if twice:
        raise IndexerError(f"{source}: each tag once, but {', '.join(twice[:5])} appear(s) twice")
    if not rows:
        raise IndexerError(f"{source} lists no tags")
    categories, names, prompts = zip(*rows, strict=True)
    return Vocabulary(categories, names, prompts)


def zero_shot(tracks: np.ndarray, prompts: np.ndarray, categories: tuple[str, ...], scale: float) -> np.ndarray:
    """(tracks, prompts) probabilities: per category, softmax(scale x cosine) over its prompts."""
    unit = tracks / np.maximum(np.linalg.norm(tracks, axis=1, keepdims=True), 1e-12)
    logits = scale * (unit @ prompts.T).astype(np.float64)
    out = np.empty_like(logits)
    names = np.asarray(categories)
    for category in dict.fromkeys(categories):
        cols = np.flatnonzero(names == category)
        part = logits[:, cols] - logits[:, cols].max(axis=1, keepdims=True)
        weights = np.exp(part)
        out[:, cols] = weights / weights.sum(axis=1, keepdims=True)
    return out.astype(np.float32)
