"""effcourse.measure.mean_iou and iou_per_class."""

from __future__ import annotations

import numpy as np
import pytest

from effcourse import measure


def test_iou_from_the_confusion_matrix():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    # class 0: tp 1, union 3; class 1: tp 2, union 3; class 2: tp 1, union 2
    np.testing.assert_allclose(measure.iou_per_class(y_true, y_pred, 3), [1 / 3, 2 / 3, 1 / 2])
    assert measure.mean_iou(y_true, y_pred, 3) == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    assert measure.mean_iou(y_true, y_true, 3) == 1.0


def test_scores_masks_with_a_channel_axis_and_absent_classes():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=(4, 5, 5))
    scores = rng.normal(size=(4, 5, 5, 3))
    from_scores = measure.mean_iou(labels[..., None], scores, 3)  # (N,H,W,1) truth, (N,H,W,C) scores
    assert from_scores == pytest.approx(measure.mean_iou(labels, scores.argmax(-1), 3))
    per_class = measure.iou_per_class(np.zeros(4, int), np.zeros(4, int), 3)
    assert per_class[0] == 1.0 and np.isnan(per_class[1:]).all()
    assert measure.mean_iou(np.zeros(4, int), np.zeros(4, int), 3) == 1.0  # absent classes do not count
    assert isinstance(measure.mean_iou(labels, labels, 3), float)


def test_mean_iou_matches_keras_meaniou():
    from effcourse.compat import keras

    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 4, size=500), rng.integers(0, 4, size=500)
    metric = keras.metrics.MeanIoU(num_classes=4)
    metric.update_state(y_true, y_pred)
    assert measure.mean_iou(y_true, y_pred, 4) == pytest.approx(float(metric.result()), rel=1e-6)


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match="outside 0..2"):
        measure.mean_iou(np.array([1, 2, 3]), np.array([0, 1, 2]), 3)
    with pytest.raises(ValueError, match="same pixels"):
        measure.mean_iou(np.zeros(4, int), np.zeros(5, int), 3)
    with pytest.raises(ValueError, match="integer class labels"):
        measure.mean_iou(np.array([0.5, 1.0]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match="num_classes"):
        measure.mean_iou(np.zeros(4, int), np.zeros(4, int), 0)
    with pytest.raises(TypeError, match="numbers"):
        measure.mean_iou(np.array(["a"]), np.array([0]), 3)
