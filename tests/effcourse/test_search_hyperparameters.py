"""Unit tests of effcourse.search.hyperparameters (fast, CPU)."""

import copy

import numpy as np
import pytest
from scipy import stats

from effcourse.search import hyperparameters as hp

SPACE = {
    "lr": ("loguniform", 1e-4, 1e-1),
    "dropout": ("uniform", 0.0, 0.5),
    "units": ("int", 2, 5),
    "act": ("choice", ["relu", "tanh", "gelu"]),
    "batch": ("choice", (32, 64)),
}


def test_suggest_types_ranges_and_order():
    params = hp.suggest(SPACE, np.random.default_rng(0))
    assert list(params) == list(SPACE)
    assert type(params["lr"]) is float and 1e-4 <= params["lr"] <= 1e-1
    assert type(params["dropout"]) is float and 0.0 <= params["dropout"] <= 0.5
    assert type(params["units"]) is int and 2 <= params["units"] <= 5
    assert params["act"] in SPACE["act"][1] and type(params["act"]) is str
    assert type(params["batch"]) is int


def test_suggest_distributions():
    rng = np.random.default_rng(1)
    draws = [hp.suggest(SPACE, rng) for _ in range(3000)]
    lr = np.log([d["lr"] for d in draws])
    assert stats.kstest(lr, stats.uniform(np.log(1e-4), np.log(1e3)).cdf).pvalue > 1e-3
    assert stats.kstest([d["dropout"] for d in draws], stats.uniform(0, 0.5).cdf).pvalue > 1e-3
    assert {d["units"] for d in draws} == {2, 3, 4, 5}
    assert {d["act"] for d in draws} == {"relu", "tanh", "gelu"}
    counts = np.bincount([d["units"] for d in draws])[2:]
    assert counts.min() > 600


def test_random_search_reproducible_best_and_counts():
    calls = []

    def objective(p):
        calls.append(p)
        return -abs(np.log10(p["lr"]) + 2)

    before = copy.deepcopy(SPACE)
    trials, best = hp.random_search(objective, SPACE, 30, seed=3)
    assert len(calls) == 30 and len(trials) == 30
    assert SPACE == before
    again, best_again = hp.random_search(objective, SPACE, 30, seed=3)
    assert [t["params"] for t in again] == [t["params"] for t in trials]
    other, _ = hp.random_search(objective, SPACE, 30, seed=4)
    assert [t["params"] for t in other] != [t["params"] for t in trials]
    assert len({t["params"]["lr"] for t in trials}) == 30
    values = [t["value"] for t in trials]
    assert best is trials[int(np.argmax(values))] and best["value"] == max(values)
    assert best_again == best


def test_random_search_first_of_ties_and_copies_params():
    trials, best = hp.random_search(lambda p: p.clear() or 1.0, {"x": ("int", 0, 9)}, 5, seed=0)
    assert best is trials[0]
    assert all("x" in t["params"] for t in trials)  # the objective got a copy


@pytest.mark.parametrize(
    "space",
    [
        {},
        None,
        {"x": ("normal", 0, 1)},
        {"x": ("uniform", 1.0, 0.0)},
        {"x": ("uniform", 0.0, float("inf"))},
        {"x": ("loguniform", 0.0, 1.0)},
        {"x": ("int", 0.5, 3)},
        {"x": ("int", 3, 2)},
        {"x": ("choice", [])},
        {"x": ("choice", "ab")},
        {"x": ("uniform", 0.0)},
        {"x": "uniform"},
    ],
)
def test_bad_spaces_raise_before_the_objective_runs(space):
    calls = []
    with pytest.raises(ValueError):
        hp.random_search(calls.append, space, 3, seed=0)
    with pytest.raises(ValueError):
        hp.suggest(space, np.random.default_rng(0))
    assert calls == []


@pytest.mark.parametrize("n", [0, -1, 2.0, True])
def test_bad_n_trials(n):
    with pytest.raises(ValueError, match="n_trials"):
        hp.random_search(lambda p: 0.0, SPACE, n, seed=0)


def test_best_so_far():
    assert hp.best_so_far([0.5, 0.4, 0.7, float("nan"), 0.6]).tolist() == [0.5, 0.5, 0.7, 0.7, 0.7]
    assert hp.best_so_far([]).shape == (0,)
    assert np.isnan(hp.best_so_far([float("nan"), 1.0])[0])
    with pytest.raises(ValueError):
        hp.best_so_far(np.zeros((2, 2)))
