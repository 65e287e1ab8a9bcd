"""ch04_efficient_architectures/03_depthwise_separable: executes cleanly and its figures meet their targets.

Targets from the issue: the separable network needs at most a fifth of the standard one's FLOPs,
and its mean IoU is at least the standard one's minus 0.03. The IoU target holds (recorded
2026-12-03: standard 0.850, separable 0.822, gap -0.027; validation 0.837 vs 0.809) with each
network's peak learning rate picked on the notebook's validation split
(scripts/sweep_ch04_separable_lr.py) and 12 epochs with a cosine decay. The former recipe (a
constant 3e-3 for 6 epochs, no validation split) left a gap of -0.10 (0.818 vs 0.716) and the
target was a strict xfail. The IoU comparison is ONE training seed per network (three trainings
fill the notebook's budget; the notebook says so) with a paired per-image Wilcoxon test. The other
tests check what the prose says.
"""

import numpy as np
import pytest

NAME = "ch04_efficient_architectures/03_depthwise_separable"

pytestmark = pytest.mark.slow


def test_separable_needs_at_most_a_fifth_of_the_flops(results):
    assert results["separable_flops"] * 5 <= results["standard_flops"]
    assert results["separable_flops_ratio"] == pytest.approx(results["separable_flops"] / results["standard_flops"])
    # "not the 0.12 of one wide layer": the layers both share keep it above that
    assert 0.12 < results["separable_flops_ratio"] <= 0.2


def test_separable_has_far_fewer_parameters(results):
    assert results["separable_params"] * 4 <= results["standard_params"]


def test_decoder_free_variant_is_cheapest(results):
    assert results["d2s_flops"] < results["separable_flops"]
    # the transposed convolutions are a large share of the separable network's FLOPs
    assert 0.2 <= results["separable_upsampling_share"] <= 0.5


def test_separable_iou_within_0_03_of_standard(results):
    assert results["separable_iou"] >= results["standard_iou"] - 0.03


def test_separable_iou_gap_is_what_the_prose_says(results):
    # "less than 0.03 below ... with little margin ... still lower on every class, and the paired
    # per-image test says the small difference is consistent"
    gap = results["separable_minus_standard_iou"]
    assert gap == pytest.approx(results["separable_iou"] - results["standard_iou"])
    assert -0.03 <= gap <= -0.015
    assert all(s < t for s, t in zip(results["separable_iou_per_class"], results["standard_iou_per_class"]))
    assert results["separable_vs_standard_p_value"] < 0.01


def test_validation_split_gives_the_same_picture(results):
    # "on the validation split the gap is under 0.03 too"; the choices were made there
    for name in ("standard", "separable", "d2s"):
        assert 0.5 <= results[f"{name}_val_iou"] <= 1.0
    val_gap = results["separable_val_iou"] - results["standard_val_iou"]
    assert -0.03 <= val_gap <= -0.015
    assert results["d2s_val_iou"] < results["separable_val_iou"]


def test_ious_are_sensible_and_depth_to_space_is_coarser(results):
    for name in ("standard", "separable", "d2s"):
        per_class = results[f"{name}_iou_per_class"]
        assert len(per_class) == 3
        assert results[f"{name}_iou"] == pytest.approx(float(np.mean(per_class)))
        assert 0.5 <= results[f"{name}_iou"] <= 1.0
        # "the border class is the hardest for every network"
        assert per_class[2] == min(per_class)
    # "the mean IoU drops by about 0.05 against the separable network with a decoder, most at the border"
    assert -0.07 <= results["d2s_iou"] - results["separable_iou"] <= -0.03
    drops = np.subtract(results["d2s_iou_per_class"], results["separable_iou_per_class"])
    assert drops[2] == drops.min()
    assert results["d2s_iou_per_class"][2] < results["separable_iou_per_class"][2]


def test_paired_tests_are_stated(results):
    for name in ("separable", "d2s"):
        assert 0.0 <= results[f"{name}_vs_standard_p_value"] <= 1.0


def test_latency_is_measured_in_rounds_and_separable_is_faster(results):
    for name in ("standard", "separable", "d2s"):
        low, high = results[f"{name}_latency_spread_ms"]
        assert 0 < low <= results[f"{name}_latency_ms"] <= high
    assert results["separable_latency_ms"] < results["standard_latency_ms"]
    assert results["separable_speedup"] == pytest.approx(
        results["standard_latency_ms"] / results["separable_latency_ms"]
    )
    # "by less than its FLOPs promise"
    assert results["separable_speedup"] < 1 / results["separable_flops_ratio"]
