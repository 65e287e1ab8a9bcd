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
