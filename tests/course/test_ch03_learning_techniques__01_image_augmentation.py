"""Targets of solutions/ch03_learning_techniques/01_image_augmentation.ipynb, checked from its recorded figures.

The prose claims: in the small-data regime, augmentation (Keras random layers, mixup, cutout)
raises the median test accuracy over three seeds by at least 0.03 with the same architecture,
steps and seeds, with a paired McNemar test per seed; in the training curves the baseline nearly
memorises its training images while its validation accuracy stalls far below, and the augmented
run's training accuracy stays lower but its validation accuracy ends higher (final-epoch medians
over the seeds). The prose makes no claim about mixup, translation, zoom or contrast in training
(they are off and left to a further exercise).
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
    "baseline_val_accuracy",
    "augmented_val_accuracy",
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


def test_curves_validation_stalls_for_the_baseline_and_ends_higher_when_augmented(figures):
    # "its validation accuracy stalls far below [its training accuracy]" and "its validation accuracy ends higher"
    assert figures["baseline_val_accuracy"] <= figures["baseline_train_accuracy"] - 0.3, figures
    assert figures["augmented_val_accuracy"] > figures["baseline_val_accuracy"], figures
