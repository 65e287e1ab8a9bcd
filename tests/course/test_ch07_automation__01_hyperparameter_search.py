"""ch07_automation/01_hyperparameter_search: executes cleanly and its figures meet their targets.

Target from issue 15: grid, random and Optuna TPE (with a median pruner) at equal budgets (the same
number of trials); best-so-far curves against trials and against compute; recorded ``grid_best``,
``random_best`` and ``tpe_best`` (each search's best configuration, chosen on the validation split,
retrained on five seeds, median test accuracy). The other tests check what the prose says: every
search beats the default configuration by more than ten points; the three medians tie (within one
point, less than one configuration's spread over seeds, no paired test significant); the best
validation scores lie within two points; the pruner stopped about half the trials, mostly at the
third epoch, and TPE trained about a third fewer epochs; the three winners agree on ReLU, small
batches, a learning rate near 1e-2, more than 100 units and a small weight decay.

TPE's path depends on the last bits of the BLAS kernels (a tie in the values changes its next
proposal): the sandboxed run of the suite does not inherit OPENBLAS_CORETYPE and uses other kernels
than the recording run. The targets hold with OPENBLAS_CORETYPE=Haswell (recorded), SkylakeX (the
sandbox's here) and Sandybridge; TPE's best configuration and validation score differ between them.
"""

import pytest

NAME = "ch07_automation/01_hyperparameter_search"
REQUIRED = ["grid_best", "random_best", "tpe_best", "default_test", "searches", "paired", "epochs_by_search"]
SEARCHES = ["grid", "random", "tpe"]

pytestmark = pytest.mark.slow


def test_equal_budgets_and_recorded_bests(results):
    assert results["num_trials"] == 48
    for s in SEARCHES:
        assert results["searches"][s]["trials"] == 48
        assert len(results["searches"][s]["best_so_far"]) == 48
        by_seed = sorted(results["test_by_seed"][s].values())
        assert len(by_seed) == 5
        assert results[f"{s}_best"] == pytest.approx(by_seed[2])  # the median of five seeds
    assert results["epochs_by_search"]["grid"] == results["epochs_by_search"]["random"] == 480


def test_every_search_beats_the_default_by_ten_points(results):
    for s in SEARCHES:
        assert results[f"{s}_best"] - results["default_test"] > 0.10
    assert results["paired"]["grid_vs_default"]["p_value"] < 0.001
    assert results["paired"]["grid_vs_default"]["bootstrap_ci"][0] > 0


def test_the_three_searches_tie_on_the_test_split(results):
    medians = [results[f"{s}_best"] for s in SEARCHES]
    assert max(medians) - min(medians) < 0.01  # "within one point of each other"
    for s in SEARCHES:  # "less than the spread of one configuration over its five seeds (two to four points)"
        spread = max(results["test_by_seed"][s].values()) - min(results["test_by_seed"][s].values())
        assert max(medians) - min(medians) < spread
        assert 0.015 < spread < 0.045
    for key in ["tpe_vs_grid", "random_vs_grid", "tpe_vs_random"]:
        p = results["paired"][key]
        assert p["p_value"] > 0.5  # "McNemar p > 0.5"
        assert p["bootstrap_ci"][0] < 0 < p["bootstrap_ci"][1]


def test_best_validation_scores_are_close(results):
    val_bests = [results[f"{s}_val_best"] for s in SEARCHES]
    assert max(val_bests) - min(val_bests) < 0.02  # "within two points of each other"
    for s in SEARCHES:
        assert results[f"{s}_val_best"] == pytest.approx(results["searches"][s]["val_best"])


def test_pruning_saves_a_third_of_the_epochs(results):
    tpe = results["searches"]["tpe"]
    assert 0.35 <= tpe["pruned"] / tpe["trials"] <= 0.65  # "about half"
    assert tpe["pruned"] == results["tpe_pruned"] == len(tpe["pruned_at_epochs"])
    at_third = sum(e == 3 for e in tpe["pruned_at_epochs"])
    assert at_third > tpe["pruned"] / 2 and min(tpe["pruned_at_epochs"]) >= 3  # "most of them at their third epoch"
    ratio = results["epochs_by_search"]["tpe"] / results["epochs_by_search"]["grid"]
    assert 0.55 <= ratio <= 0.72  # "about a third fewer epochs" (0.67 recorded; 0.59 with other kernels)
    assert tpe["epochs"] == tpe["epochs_cumulative"][-1]
    # the best-so-far curves end at each search's best
    for s in SEARCHES:
        assert results["searches"][s]["best_so_far"][-1] == pytest.approx(results["searches"][s]["val_best"])


def test_the_winners_agree(results):
    for s in SEARCHES:
        p = results["searches"][s]["best_params"]
        assert p["activation"] == "relu" and p["batch_size"] <= 64  # "small batches"
        assert 5e-3 <= p["learning_rate"] <= 3e-2  # "near 1e-2"
        assert p["hidden_units"] > 100
        assert p["alpha"] <= 2e-3  # "a small weight decay"
    assert results["searches"]["grid"]["best_params"]["learning_rate"] == 1e-2


def test_budget_is_recorded(results):
    assert results["cpu_seconds"] < 90
