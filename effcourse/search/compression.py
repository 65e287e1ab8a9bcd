"""Per-layer compression search: sizes, budgets and the hypervolume of a size/accuracy front.

A compression search (He et al., 2018, *AMC: AutoML for Model Compression*, ECCV; Wang et al.,
2019, *HAQ: Hardware-Aware Automated Quantization*, CVPR) chooses a setting per layer (a sparsity,
a bit width) and scores each choice by two numbers: the size of the compressed model (lower is
better) and its accuracy (higher is better). These helpers measure and compare such points::

    from effcourse.search import compression
    compression.gzipped_weights_size(weights)               # bytes of the float32 weights after gzip
    compression.best_within_budget(sizes, scores, budget)   # the best point no larger than a budget
    compression.hypervolume(sizes, accuracies, ref_size, ref_accuracy)   # area a front dominates

Taught in: chapters/ch07_automation/03_compression_search
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from effcourse import sealed
from effcourse.measure import gzipped_size

__all__ = ["gzipped_weights_size", "best_within_budget", "hypervolume"]


def gzipped_weights_size(weights: Sequence[Any]) -> int:
    """Bytes of a model's weights stored as float32, one array after the other, after gzip.

    The arrays are cast to float32 and concatenated in C order (the bytes a weights file holds,
    without its headers), then measured with :func:`effcourse.measure.gzipped_size` (level 9,
    deterministic). It is much faster than saving a Keras model, so a search can measure every
    trial; zeros from pruning compress to almost nothing, so the size falls with the sparsity.

    Example:
        >>> w = np.random.default_rng(0).normal(size=(100, 100))
        >>> gzipped_weights_size([w]) > 4 * gzipped_weights_size([np.zeros((100, 100))])
        True

    Args:
        weights: a list or tuple of array-likes (``model.get_weights()``), any shapes.

    Returns:
        The number of gzip-compressed bytes (a Python int).

    Raises:
        ValueError: ``weights`` is not a non-empty list or tuple.

    Taught in: chapters/ch07_automation/03_compression_search
    """
    if not isinstance(weights, (list, tuple)) or len(weights) == 0:
        raise ValueError("weights must be a non-empty list of arrays, e.g. model.get_weights()")
    raw = b"".join(np.ascontiguousarray(np.asarray(w, dtype=np.float32)).tobytes() for w in weights)
    return int(gzipped_size(raw))


def _vectors(sizes: Any, values: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(sizes, dtype=float).ravel()
    v = np.asarray(values, dtype=float).ravel()
    if s.shape != v.shape:
        raise ValueError(f"sizes has {s.size} values but {what} has {v.size}: give one of each per point")
    if np.isnan(s).any() or np.isnan(v).any():
        raise ValueError(f"sizes and {what} must not contain NaN: drop the points you could not measure")
    return s, v


def best_within_budget(sizes: Sequence[float], scores: Sequence[float], budget: float) -> int | None:
    """Index of the highest-scoring point whose size is at most ``budget`` ("matched size").

    Ties on the score go to the smaller size, then to the lower index. Use it to compare a
    searched model with a baseline "at the same size": the searched one may be smaller, never
    larger. Select on validation scores, then report the chosen point's test score.

    Example:
        >>> best_within_budget([30, 20, 25, 40], [0.8, 0.7, 0.8, 0.9], budget=30)
        2

    Args:
        sizes: one size per point (bytes), lower is better.
        scores: one score per point (validation accuracy), higher is better.
        budget: the largest size allowed (the baseline's size).

    Returns:
        The index (a Python int), or None when no point fits the budget.

    Raises:
        ValueError: the sequences differ in length or hold NaN, or ``budget`` is NaN.

    Taught in: chapters/ch07_automation/03_compression_search
    """
    s, v = _vectors(sizes, scores, "scores")
    if math.isnan(float(budget)):
        raise ValueError("budget must be a number of bytes, got NaN")
    fits = np.flatnonzero(s <= float(budget))
    if fits.size == 0:
        return None
    return int(min(fits, key=lambda i: (-v[i], s[i], i)))


@sealed.reference("ch07_automation/03_compression_search:hypervolume")
def hypervolume(sizes: Sequence[float], accuracies: Sequence[float], ref_size: float, ref_accuracy: float) -> float:
    """Area of the size/accuracy region that a set of points dominates, bounded by a reference point.

    With size to minimise and accuracy to maximise, a point ``(s, a)`` dominates every
    ``(s', a')`` with ``s <= s' <= ref_size`` and ``ref_accuracy <= a' <= a``: a rectangle. The
    hypervolume is the area of the union of these rectangles, in bytes x accuracy. It grows
    when any point of the front moves towards smaller and more accurate; dominated and
    duplicate points add nothing, and points no better than the reference in either objective
    (``s >= ref_size`` or ``a <= ref_accuracy``) add nothing. A sweep in order of size, keeping
    the best accuracy so far, adds one horizontal slab per point that raises it.

    Example:
        >>> hypervolume([1, 2, 3], [0.5, 0.7, 0.6], ref_size=4, ref_accuracy=0.0)
        1.9

    Args:
        sizes: one size per point, lower is better.
        accuracies: one accuracy per point, higher is better.
        ref_size: the reference size (the largest size that counts).
        ref_accuracy: the reference accuracy (the smallest accuracy that counts).

    Returns:
        The area as a Python float; 0.0 for no points.

    Raises:
        ValueError: the sequences differ in length or any value (reference included) is NaN.

    Taught in: chapters/ch07_automation/03_compression_search
    """
    s, a = _vectors(sizes, accuracies, "accuracies")
    rs, ra = float(ref_size), float(ref_accuracy)
    if math.isnan(rs) or math.isnan(ra):
        raise ValueError("the reference point must be numbers, got NaN")
    inside = (s < rs) & (a > ra)
    s, a = s[inside], a[inside]
    area, best = 0.0, ra
    for i in np.lexsort((-a, s)):  # by size, then the most accurate first
        if a[i] > best:
            area += (rs - s[i]) * (a[i] - best)
            best = a[i]
    return float(area)
