"""Targets of solutions/ch03_learning_techniques/01_image_augmentation.ipynb, checked from its recorded figures.

The prose claims: in the small-data regime, augmentation (Keras random layers, mixup, cutout)
raises the median test accuracy over three seeds by at least 0.03 with the same architecture,
steps and seeds, with a paired McNemar test per seed; the baseline nearly memorises its training
images while the augmented run's training accuracy stays lower.
"""

from __future__ import annotations

NAME = "ch03_learning_techniques/01_image_augmentation"
REQUIRED = [
    "baseline_accuracy",
    "augmented_accuracy",
    "augmentation_p_value",
    "augmentation_p_values",
    "baseline_train_accuracy",
    "augmented_train_accuracy",
]


def test_augmentation_gains_three_points(figures):
    assert figures["augmented_accuracy"] >= figures["baseline_accuracy"] + 0.03, figures
    assert 0.2 < figures["baseline_accuracy"] < 0.95  # above chance (0.1), not saturated


def test_paired_test_is_stated_for_every_seed(figures):
    p_values = figures["augmentation_p_values"]
    assert len(p_values) == 3 and all(0.0 <= p <= 1.0 for p in p_values)
    assert figures["augmentation_p_value"] == max(p_values)
    assert figures["augmentation_p_value"] < 0.05  # significant on every seed


def test_baseline_memorises_and_augmented_does_not(figures):
    assert figures["baseline_train_accuracy"] >= 0.95
    assert figures["augmented_train_accuracy"] <= figures["baseline_train_accuracy"] - 0.1
