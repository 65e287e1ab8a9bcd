"""``photo``: one real photograph, bundled with scikit-learn (no download)."""

from __future__ import annotations

import numpy as np

CHOICES = {"china": "china.jpg", "flower": "flower.jpg"}


def offline(*, seed: int = 0, which: str = "china") -> np.ndarray:
    """The (H, W, 3) uint8 sample image ``which`` ("china" or "flower"); ``seed`` is unused."""
    if which not in CHOICES:
        raise ValueError(f"unknown photo {which!r}: choose one of {', '.join(map(repr, CHOICES))}")
    from sklearn.datasets import load_sample_image

    image = np.ascontiguousarray(load_sample_image(CHOICES[which]), dtype=np.uint8)
    return image


real = offline  # a bundled real photograph: both sources are the same
