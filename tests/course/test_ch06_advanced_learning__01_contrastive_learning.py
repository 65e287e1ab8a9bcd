"""ch06_advanced_learning/01_contrastive_learning: executes cleanly and its figures meet their targets.

Target from issue 15: with 10% of the labels, the SimCLR-pretrained encoder, fine-tuned, beats
the same network trained from scratch with the same augmentations by at least 0.03 test
accuracy (``contrastive_accuracy >= scratch_accuracy + 0.03``, medians over three seeds of the
labelled stage). The other tests check what the prose says: the linear probe on the frozen
features beats training from scratch too; the paired test (McNemar, median seeds) is
significant and its bootstrap interval excludes zero; fine-tuning does not beat the probe here
(no significant difference, as the prose says); the live pretraining lowers the loss; the
baseline is under-trained (it does not fit its own training images: the prose's reason why it is
weak); the labelled set is 10% of the training split. Thresholds leave room for other CPUs' float kernels.
"""

import math

import pytest

NAME = "ch06_advanced_learning/01_contrastive_learning"
REQUIRED = [
    "scratch_accuracy",
    "linear_probe_accuracy",
    "contrastive_accuracy",
    "contrastive_vs_scratch_p_value",
    "contrastive_vs_scratch_bootstrap_ci",
    "contrastive_vs_probe_p_value",
    "live_loss_first",
    "live_loss_last",
    "scratch_train_accuracy",
    "cpu_seconds",
]

pytestmark = pytest.mark.slow


def test_contrastive_beats_scratch_by_three_points(results):
    by_seed = sorted(results["contrastive_accuracy_by_seed"].values())
    assert len(by_seed) == 3 and results["contrastive_accuracy"] == pytest.approx(by_seed[1])
    scratch = sorted(results["scratch_accuracy_by_seed"].values())
    assert len(scratch) == 3 and results["scratch_accuracy"] == pytest.approx(scratch[1])
    assert results["contrastive_accuracy"] >= results["scratch_accuracy"] + 0.03
    # "every fine-tuned seed beats every seed from scratch" (the summary's claim)
    assert by_seed[0] > scratch[-1]
    assert results["contrastive_gain"] == pytest.approx(results["contrastive_accuracy"] - results["scratch_accuracy"])


def test_the_paired_test_is_significant(results):
    assert results["contrastive_vs_scratch_p_value"] < 0.001
    low, high = results["contrastive_vs_scratch_bootstrap_ci"]
    assert 0 < low <= high


def test_finetuning_does_not_measurably_beat_the_probe(results):
    """The prose: fine-tuning adds nothing measurable to the linear probe (no significant difference)."""
    assert results["contrastive_vs_probe_p_value"] > 0.05
    low, high = results["contrastive_vs_probe_bootstrap_ci"]
    assert low < 0 < high
    assert abs(results["contrastive_accuracy"] - results["linear_probe_accuracy"]) < 0.05  # "within a few points"


def test_linear_probe_beats_scratch(results):
    assert results["linear_probe_accuracy"] >= 2 * results["scratch_accuracy"]  # "more than double it"
    assert results["linear_probe_accuracy"] >= results["scratch_accuracy"] + 0.1
    assert results["probe_c"] in (0.1, 1.0, 10.0)


def test_scratch_is_weak_with_400_labels(results):
    """The prose: from scratch the network learns little (below 0.25 test accuracy, chance 0.1)."""
    assert 0.08 <= results["scratch_accuracy"] < 0.25


def test_scratch_is_under_trained(results):
    """The prose says why the baseline is weak: in its 14 epochs it does not fit its own training images.

    ``scratch_train_accuracy`` (median over the seeds, measured without augmentation) is "barely
    higher than the test accuracy": far from the near-1.0 of a network that has fitted 400 images.
    """
    train = results["scratch_train_accuracy"]
    assert train < 0.35
    assert results["scratch_accuracy"] - 0.02 <= train <= results["scratch_accuracy"] + 0.15


def test_live_pretraining_lowers_the_loss(results):
    losses = results["live_losses"]
    assert all(math.isfinite(v) for v in losses)
    assert results["live_loss_last"] < results["live_loss_first"]
    assert losses[0] == pytest.approx(math.log(255), abs=0.1)  # a random encoder: log(2N - 1)


def test_ten_percent_of_the_labels(results):
    assert results["num_labelled"] == 500
