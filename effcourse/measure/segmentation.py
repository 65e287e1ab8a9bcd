"""Segmentation quality: intersection over union per class and its mean.

Taught in: chapters/ch04_efficient_architectures/03_depthwise_separable
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _labels(y: Any, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
        raise ValueError(f"{name} must be integer class labels (or per-class scores as the last axis)")
    return arr.astype(np.int64)


def _is_scores(truth_shape: tuple, pred: np.ndarray, num_classes: int) -> bool:
    """True when ``pred`` holds per-class scores for the pixels of ``truth_shape``."""
    if pred.dtype.kind != "f" or pred.ndim == 0 or pred.shape[-1] != num_classes:
        return False
    pixels = truth_shape[:-1] if truth_shape and truth_shape[-1] == 1 else truth_shape
    return tuple(pred.shape[:-1]) in (tuple(truth_shape), tuple(pixels))


def iou_per_class(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """Intersection over union of each class, over all pixels of all images together.

    ``IoU_c = |true = c and predicted = c| / |true = c or predicted = c|``, computed from the
    confusion matrix of the whole set (as Keras' ``MeanIoU`` metric and the PASCAL VOC
    benchmark do, Everingham et al., 2010), not averaged image by image. A class absent from
    both ``y_true`` and ``y_pred`` has IoU ``nan``.

    Example:
        >>> import numpy as np
        >>> iou_per_class(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), num_classes=2).round(3).tolist()
        [0.5, 0.667]

    Args:
        y_true: integer labels in ``0 .. num_classes - 1``, any shape (e.g. ``(N, H, W)`` or
            ``(N, H, W, 1)``).
        y_pred: labels of the same size, or per-class scores (logits or probabilities) with one
            more trailing axis of length ``num_classes`` (their argmax is taken).
        num_classes: the number of classes.

    Returns:
        A float64 array ``(num_classes,)``.

    Raises:
        ValueError: sizes differ, labels outside ``0 .. num_classes - 1``, or non-integer labels.
        TypeError: non-numeric inputs.

    Taught in: chapters/ch04_efficient_architectures/03_depthwise_separable
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    truth = _labels(y_true, "y_true")
    scores = np.asarray(y_pred)
    if _is_scores(truth.shape, scores, num_classes) and (scores.size != truth.size or num_classes == 1):
        pred = np.argmax(scores, axis=-1)  # scores (logits or probabilities) per class: their argmax
    else:
        pred = _labels(scores, "y_pred")
    if truth.size != pred.size:
        raise ValueError(
            f"y_true {np.shape(y_true)} and y_pred {np.shape(y_pred)} do not describe the same pixels: pass "
            f"labels of the same size, or scores with a last axis of length num_classes={num_classes}"
        )
    truth, pred = truth.ravel(), pred.ravel()
    for arr, name in ((truth, "y_true"), (pred, "y_pred")):
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise ValueError(
                f"{name} has labels outside 0..{num_classes - 1} (found {arr.min()}..{arr.max()}); "
                f"map them first (pets masks 1..3 -> y - 1)"
            )
    confusion = np.bincount(truth * num_classes + pred, minlength=num_classes * num_classes)
    confusion = confusion.reshape(num_classes, num_classes).astype(np.float64)
    intersection = np.diag(confusion)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - intersection
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / np.where(union > 0, union, 1.0), np.nan)


def mean_iou(y_true: Any, y_pred: Any, num_classes: int) -> float:
    """Mean intersection over union over the classes present (in ``y_true`` or ``y_pred``).

    The standard segmentation score: :func:`iou_per_class` averaged over classes, so a thin
    class (the pets' border) counts as much as a large one (the background). 1.0 is a perfect
    segmentation; predicting one class everywhere scores about ``1 / num_classes`` of its share.

    Example:
        >>> import numpy as np
        >>> round(mean_iou(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), num_classes=2), 4)
        0.5833

    Args:
        y_true: integer labels ``0 .. num_classes - 1``, e.g. ``(N, H, W)`` or ``(N, H, W, 1)``.
        y_pred: labels of the same size, or scores ``(..., num_classes)`` (argmax taken).
        num_classes: the number of classes.

    Returns:
        The mean IoU, a Python float in [0, 1] (``nan`` if no class occurs at all).

    Raises:
        ValueError, TypeError: as :func:`iou_per_class`.

    Taught in: chapters/ch04_efficient_architectures/03_depthwise_separable
    """
    per_class = iou_per_class(y_true, y_pred, num_classes)
    present = per_class[~np.isnan(per_class)]
    return float(present.mean()) if present.size else float("nan")
