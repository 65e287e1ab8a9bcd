"""ch04_efficient_architectures/04_scaling_and_early_exits: executes cleanly and its figures meet their targets.

The issue asks to record `single_dim_best_accuracy`, `compound_accuracy` at the same budget and
`early_exit_flops_fraction` at the full model's accuracy - 0.01, and to report whatever they show. What
the prose says, and these tests check: each scaled network costs at most twice the baseline's FLOPs
and no less than 1.8 times; every dimension gains over the baseline, depth the least; the compound
network is not better than the best single dimension (chosen on validation), with McNemar's paired
test stated and not significant (that it scored above depth is stated as an untested observation of this
run); the full network of the early-exit model is about a point and a half below the plain baseline; the early exits are weaker than the full network, cost more the later
they are, and the validation-chosen threshold keeps 0.8 to 0.9 of the FLOPs for a test accuracy
within a few points of the full network's (about one point with AVX-512 kernels, not significant; about
three with AVX2, significant: the validation split bounds the drop only roughly, as the prose says). The grid is ONE training seed per
network (the notebook says so). Margins were checked with AVX-512 and AVX2 kernels
(ONEDNN_MAX_CPU_ISA=AVX2), whose rounding moves single-seed accuracies by a few points.
"""

import pytest

NAME = "ch04_efficient_architectures/04_scaling_and_early_exits"

pytestmark = pytest.mark.slow

SCALED = ("depth", "width", "resolution", "compound")


def test_every_scaled_network_is_within_the_budget(results):
    assert results["baseline_flops_ratio"] == 1.0
    for name in SCALED:
        ratio = results[f"{name}_flops_ratio"]
        assert ratio == pytest.approx(results[f"{name}_flops"] / results["baseline_flops"])
        assert 1.8 <= ratio <= 2.0, name
    # the compound point scales all three dimensions, each by less than the single-dimension points
    points = results["points"]
    base, compound = points["baseline"], points["compound"]
    assert sum(compound["depth"]) > sum(base["depth"]) and compound["width"] > base["width"]
    assert compound["resolution"] > base["resolution"]
    assert sum(compound["depth"]) < sum(points["depth"]["depth"]) and compound["width"] < points["width"]["width"]
    assert compound["resolution"] < points["resolution"]["resolution"]


def test_every_dimension_helps_and_depth_least(results):
    gains = results["baseline_gain_by_dimension"]
    for name in SCALED:
        assert gains[name] == pytest.approx(results[f"{name}_accuracy"] - results["baseline_accuracy"])
        assert gains[name] > 0, name
    assert gains["depth"] < min(gains["width"], gains["resolution"])
    # "width and resolution each gained several points"
    assert min(gains["width"], gains["resolution"]) >= 0.03
    assert 0.4 <= results["baseline_accuracy"] <= 0.7


def test_compound_does_not_beat_the_best_single_dimension(results):
    best = results["single_dim_best"]
    assert best == "width"  # the prose names it
    assert results[f"{best}_val_accuracy"] == max(
        results[f"{n}_val_accuracy"] for n in ("depth", "width", "resolution")
    )
    assert results["single_dim_best_accuracy"] == results[f"{best}_accuracy"]
    difference = results["compound_minus_single_accuracy"]
    assert difference == pytest.approx(results["compound_accuracy"] - results["single_dim_best_accuracy"])
    # "not better": no significant difference, and not ahead by more than a point
    assert difference <= 0.01
    assert results["compound_vs_single_p_value"] > 0.05
    # "it does beat the worst one (depth)"
    assert results["compound_accuracy"] > results["depth_accuracy"]


def test_exit_costs_and_accuracies(results):
    flops, fractions = results["exit_flops"], results["exit_flops_fractions"]
    assert len(flops) == 3 and flops[0] < flops[1] < flops[2]
    assert fractions[-1] == 1.0 and fractions[0] < 0.4
    # "the two extra heads cost almost nothing"
    assert 0 < results["exit_heads_overhead"] < 0.01
    accuracies = results["exit_accuracies"]
    assert accuracies[0] < accuracies[1] < accuracies[2] == results["early_exit_full_accuracy"]
    assert accuracies[2] - accuracies[0] >= 0.1
    # "about a point and a half below the plain baseline's" (0.499 vs 0.513 recorded, one seed)
    assert -0.03 <= results["early_exit_full_accuracy"] - results["baseline_accuracy"] <= -0.005


def test_early_exits_save_a_modest_share_of_the_flops(results):
    fraction = results["early_exit_flops_fraction"]
    # "0.8 to 0.9 of them: a tenth to a fifth saved" (0.901 with AVX-512 kernels, 0.81 with AVX2), give or take 0.02
    assert 0.78 <= fraction <= 0.92
    assert abs(results["early_exit_val_flops_fraction"] - fraction) <= 0.05
    assert 0.0 < results["early_exit_threshold"] < 1.0
    shares = results["early_exit_exit_shares"]
    assert sum(shares) == pytest.approx(1.0)
    assert shares[-1] >= 0.5  # "a minority of the test images leaves at exit 1 or 2"
    drop = results["early_exit_minus_full_accuracy"]
    assert drop == pytest.approx(results["early_exit_accuracy"] - results["early_exit_full_accuracy"])
    assert -0.05 <= drop <= 0.01
    assert 0.0 <= results["early_exit_vs_full_p_value"] <= 1.0
    sweep = results["early_exit_sweep_test"]
    assert len(sweep["threshold"]) == len(sweep["accuracy"]) == len(sweep["cost_fraction"]) == 101
    assert sweep["cost_fraction"][0] == pytest.approx(results["exit_flops_fractions"][0])
    assert all(a <= b for a, b in zip(sweep["cost_fraction"], sweep["cost_fraction"][1:]))
