"""ch07_automation/02_architecture_search: executes cleanly and its figures meet their targets.

Targets from issue 15: a tabular benchmark of every network of a small cell space (a few hundred
rows, mean of 2 seeds), searched in milliseconds by random search, regularised evolution and
Optuna TPE averaged over many runs; recorded ``random_regret``, ``evolution_regret``,
``tpe_regret`` at a fixed budget, ``pareto_size`` and the best accuracy under a parameter budget.
The other tests check what the prose says from the recorded figures.
"""

import pytest

NAME = "ch07_automation/02_architecture_search"
REQUIRED = [
    "num_networks",
    "random_regret",
    "evolution_regret",
    "tpe_regret",
    "pareto_size",
    "best_accuracy_under_budget",
    "table_best_accuracy_under_budget",
    "regret_floor",
    "random_vs_evolution_wilcoxon_p",
    "cpu_seconds",
]

pytestmark = pytest.mark.slow


def test_the_table_holds_every_network_of_the_space(results):
    assert results["num_networks"] == 334  # "a few hundred rows": every network of the space
    assert results["best_test_accuracy"] > 0.9
    assert 0 <= results["regret_floor"] < 0.02


def test_regrets_are_recorded_and_above_the_floor(results):
    for key in ("random_regret", "evolution_regret", "tpe_regret"):
        assert results["regret_floor"] - 1e-9 <= results[key] < 0.1, key
    # the curves fall: every strategy's mean regret is lower after the full budget than after half
    for name, half in results["regret_at_half_budget"].items():
        assert results[f"{name}_regret"] <= half + 1e-12, name


def test_multi_objective_search(results):
    assert results["pareto_size"] >= 3
    assert results["best_accuracy_under_budget"] <= results["best_test_accuracy"]
    for by_seed in results["mo_by_seed"].values():
        assert by_seed["true_front_found"] <= min(by_seed["pareto_size"], results["true_pareto_size"])


def test_naive_mutations_waste_queries(results):
    # "about half of the naive single changes give the same network, about a tenth an invalid cell"
    assert 0.4 <= results["naive_same_network_share"] <= 0.6
    assert 0.05 <= results["naive_invalid_share"] <= 0.15


def test_budget(results):
    assert results["cpu_seconds"] <= 90


def test_reading_the_curves(results):
    # "about two points of test accuracy below the best"; the stated means and the common median
    assert results["random_regret"] == pytest.approx(0.020, abs=0.0015)
    assert results["evolution_regret"] == pytest.approx(0.019, abs=0.0015)
    assert results["tpe_regret"] == pytest.approx(0.023, abs=0.0015)
    assert all(v == pytest.approx(0.020, abs=1e-9) for v in results["median_regret"].values())
    assert results["regret_floor"] == 0  # "the best-validation network is also the best-test network"


def test_evolution_against_random_search(results):
    assert results["evolution_regret"] < results["random_regret"]
    assert results["random_regret"] - results["evolution_regret"] < 0.003  # "about a tenth of a point"
    assert results["val_regret"]["evolution"] < results["val_regret"]["random"]
    assert results["val_regret"]["evolution"] == pytest.approx(0.010, abs=0.0006)
    assert results["val_regret"]["random"] == pytest.approx(0.012, abs=0.0006)
    assert results["found_best_val_share"]["evolution"] == pytest.approx(0.05, abs=0.003)
    assert results["found_best_val_share"]["random"] == pytest.approx(0.005, abs=0.003)
    assert results["evolution_better_runs"] == 83 and results["evolution_worse_runs"] == 60
    assert 0.01 < results["random_vs_evolution_wilcoxon_p"] < 0.05


def test_tpe_is_not_better_than_random_search(results):
    assert results["tpe_regret"] >= results["random_regret"]
    assert results["tpe_vs_random_mannwhitney_p"] > 0.05
    assert results["tpe_invalid_share"] == pytest.approx(0.13, abs=0.01)


def test_the_space_is_easy(results):
    assert results["share_within_2_points"] == pytest.approx(37 / 334, abs=1e-9)
    assert results["seed_spearman"] == pytest.approx(0.86, abs=0.01)
    assert results["val_test_spearman"] == pytest.approx(0.98, abs=0.01)
    assert results["table_training_cpu_seconds"] / 60 == pytest.approx(16, abs=1)


def test_the_fronts_text(results):
    by_seed = results["mo_by_seed"].values()
    assert sorted(m["distinct_networks"] for m in by_seed)[::2] == [29, 48]  # "29 to 48 distinct networks"
    sizes = sorted(m["pareto_size"] for m in by_seed)
    assert sizes[0] == 3 and sizes[-1] == 6 and results["pareto_size"] == 3
    assert results["true_pareto_size"] == 6
    assert max(m["true_front_found"] for m in by_seed) <= 1
    assert sum(m["true_front_found"] == 0 for m in by_seed) == 2
    assert results["best_accuracy_under_budget"] == pytest.approx(0.969, abs=0.001)
    assert results["table_best_accuracy_under_budget"] == pytest.approx(0.966, abs=0.001)
    assert abs(results["best_accuracy_under_budget"] - results["table_best_accuracy_under_budget"]) <= 1 / 400 + 1e-9
