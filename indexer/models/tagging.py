"""What tagging models (MAEST's styles, MusiCNN's tags) keep per track: the most probable labels."""

from __future__ import annotations

import numpy as np


def top_labels(probabilities: np.ndarray, labels: list[str], top: int, minimum: float) -> dict[str, float]:
    """The `top` most probable labels with probability at least `minimum`, most probable first."""
    order = np.argsort(-probabilities, kind="stable")[:top]
    return {labels[i]: round(float(probabilities[i]), 4) for i in order if probabilities[i] >= minimum}
