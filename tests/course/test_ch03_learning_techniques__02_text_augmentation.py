"""Targets of solutions/ch03_learning_techniques/02_text_augmentation.ipynb, checked from its recorded figures.

The prose claims: with 20 labelled articles, EDA raises the median test accuracy over three
seeds by at least 0.02 at the same model size and steps, with a paired McNemar test per seed;
the gain shrinks as labels grow (the sweep), to under a point with 400 labelled articles; the
synonym table built from unlabelled text is not empty; in the training curves the baseline
reaches training accuracy 1 with a much lower validation accuracy, and the augmented run's
validation accuracy ends higher (both fit their training texts).
"""

from __future__ import annotations

NAME = "ch03_learning_techniques/02_text_augmentation"
REQUIRED = [
    "baseline_accuracy",
    "augmented_accuracy",
    "augmentation_p_value",
    "augmentation_p_values",
    "sweep_labelled_articles",
    "sweep_gain",
    "synonym_words",
    "baseline_final_train_accuracy",
    "baseline_final_val_accuracy",
    "augmented_final_val_accuracy",
    "augmented_final_train_accuracy",
]


def test_augmentation_gains_two_points_with_few_labels(figures):
    assert figures["augmented_accuracy"] >= figures["baseline_accuracy"] + 0.02, figures
    assert 0.25 < figures["baseline_accuracy"] < 0.9  # well above chance (0.25 for four topics), not saturated


def test_paired_test_is_stated_for_every_seed(figures):
    p_values = figures["augmentation_p_values"]
    assert len(p_values) == 3 and all(0.0 <= p <= 1.0 for p in p_values)
    assert figures["augmentation_p_value"] == max(p_values)
    assert figures["augmentation_p_value"] < 0.05  # the prose calls the gain significant on every seed


def test_gain_shrinks_as_labels_grow(figures):
    labels, gain = figures["sweep_labelled_articles"], figures["sweep_gain"]
    assert labels == sorted(labels) and len(labels) >= 3
    assert gain[0] >= 0.02
    assert gain[-1] < gain[0]
    assert all(a > b for a, b in zip(gain, gain[1:]))  # "the gain shrinks" at every step of the sweep
    assert gain[-1] <= 0.01  # "the gain shrinks toward zero" with the most labels


def test_synonym_table_from_unlabelled_text(figures):
    assert figures["synonym_words"] >= 50


def test_curves_baseline_memorises_and_augmented_generalises(figures):
    # "The baseline learns its 20 articles by heart (training accuracy 1) while its validation
    # accuracy stays low ... the augmented run's validation accuracy ends higher" (medians over the seeds).
    assert figures["baseline_final_train_accuracy"] >= 0.99, figures
    assert figures["baseline_final_val_accuracy"] < figures["baseline_final_train_accuracy"] - 0.3, figures
    assert figures["augmented_final_val_accuracy"] > figures["baseline_final_val_accuracy"], figures
    assert figures["augmented_final_train_accuracy"] >= 0.99, figures  # "fits its training texts too"
