"""effcourse.early_exit: the exit policy, the threshold sweep, exit costs and probabilities."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import effcourse

effcourse.setup(seed=0)

from effcourse import early_exit, measure  # noqa: E402
from effcourse.compat import keras  # noqa: E402


def _loop_policy(p, costs, threshold):
    """An independent per-example loop: the first exit with max >= threshold, else the last."""
    exits = []
    for n in range(p.shape[1]):
        e = next((e for e in range(p.shape[0]) if p[e, n].max() >= threshold), p.shape[0] - 1)
        exits.append(e)
    exits = np.array(exits)
    return exits, float(np.mean(np.asarray(costs, dtype=float)[exits]))


def test_docstring_examples():
    assert doctest.testmod(early_exit, raise_on_error=False).failed == 0


def test_policy_matches_a_loop_on_random_probabilities():
    rng = np.random.default_rng(0)
    for _ in range(20):
        e, n, c = rng.integers(1, 5), rng.integers(1, 40), rng.integers(2, 8)
        p = rng.dirichlet(np.ones(c) * rng.uniform(0.2, 3), size=(e, n))
        costs = np.cumsum(rng.uniform(1, 10, size=e))
        threshold = rng.uniform(0, 1)
        exits, cost = early_exit.exit_policy(p, costs, threshold)
        want_exits, want_cost = _loop_policy(p, costs, threshold)
        assert exits.dtype == np.int64 and exits.shape == (n,)
        np.testing.assert_array_equal(exits, want_exits)
        assert type(cost) is float and cost == pytest.approx(want_cost)
        assert 0 < cost / costs[-1] <= 1 + 1e-12  # a mean of equal floats may round up by an ulp


def test_edges_ties_last_exit_and_inputs_untouched():
    p = np.array([[[0.5, 0.5], [0.9, 0.1]], [[0.6, 0.4], [0.55, 0.45]], [[0.5, 0.5], [0.5, 0.5]]])
    before = p.copy()
    # a maximum equal to the threshold exits (>=, not >)
    assert early_exit.exit_policy(p, [1, 2, 4], 0.5)[0].tolist() == [0, 0]
    assert early_exit.exit_policy(p, [1, 2, 4], 0.6)[0].tolist() == [1, 0]
    # nobody confident: the last exit answers
    exits, cost = early_exit.exit_policy(p, [1, 2, 4], 0.95)
    assert exits.tolist() == [2, 2] and cost == 4.0
    # threshold 0: everyone at exit 0; 1: only a probability of exactly 1 exits early
    assert early_exit.exit_policy(p, [1, 2, 4], 0)[1] == 1.0
    q = np.array([[[1.0, 0.0], [0.9, 0.1]], [[0.3, 0.7], [0.2, 0.8]]])
    assert early_exit.exit_policy(q, [1, 3], 1)[0].tolist() == [0, 1]
    np.testing.assert_array_equal(p, before)
    # a list of per-exit arrays, NumPy number types
    exits, cost = early_exit.exit_policy(list(p), np.array([1, 2, 4], dtype=np.int32), np.float64(0.6))
    assert exits.tolist() == [1, 0] and cost == 1.5


def test_policy_refuses_bad_inputs():
    with pytest.raises(ValueError, match="shape"):
        early_exit.exit_policy(np.ones((2, 3)), [1, 2], 0.5)
    with pytest.raises(ValueError, match="one cost per exit"):
        early_exit.exit_policy(np.ones((2, 3, 2)) / 2, [1], 0.5)
    with pytest.raises(ValueError, match="positive"):
        early_exit.exit_policy(np.ones((2, 3, 2)) / 2, [0, 1], 0.5)
    with pytest.raises(ValueError, match="NaN"):
        early_exit.exit_policy(np.ones((2, 3, 2)) / 2, [1, 2], float("nan"))


def test_sweep_and_cheapest_threshold():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(4), size=(3, 50))
    y = rng.integers(0, 4, size=50)
    sweep = early_exit.sweep_thresholds(p, y[:, None], [1, 2, 3], np.linspace(0, 1.01, 11))
    assert sweep["cost_fraction"][0] == pytest.approx(1 / 3) and sweep["cost_fraction"][-1] == 1.0
    assert sweep["accuracy"][-1] == pytest.approx(np.mean(p[-1].argmax(1) == y))
    assert np.all(np.diff(sweep["average_cost"]) >= 0)  # a higher threshold never exits earlier
    for shares in sweep["exit_shares"]:
        assert sum(shares) == pytest.approx(1.0)
    i = early_exit.cheapest_threshold(sweep, sweep["accuracy"][-1])
    assert sweep["accuracy"][i] >= sweep["accuracy"][-1]
    assert sweep["average_cost"][i] == min(
        c for a, c in zip(sweep["accuracy"], sweep["average_cost"]) if a >= sweep["accuracy"][-1]
    )
    assert early_exit.cheapest_threshold(sweep, 1.1) is None
    with pytest.raises(ValueError, match="labels"):
        early_exit.sweep_thresholds(p, y[:10], [1, 2, 3], [0.5])


def test_exit_costs_count_the_backbone_and_earlier_heads():
    x = keras.Input((8, 8, 3))
    h1 = keras.layers.Conv2D(4, 3, padding="same")(x)
    head1 = keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(h1))
    h2 = keras.layers.Conv2D(8, 3, padding="same")(h1)
    head2 = keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(h2))
    model = keras.Model(x, [head1, head2])
    costs = early_exit.exit_costs(model)
    assert costs[0] == measure.count_flops(keras.Model(x, head1))
    assert costs[1] == measure.count_flops(model)
    assert costs[0] < costs[1]
    probabilities = early_exit.exit_probabilities(model, np.zeros((3, 8, 8, 3)), batch_size=2)
    assert probabilities.shape == (2, 3, 5)
    np.testing.assert_allclose(probabilities.sum(-1), 1, rtol=1e-5)
    with pytest.raises(ValueError, match="functional"):
        early_exit.exit_costs(keras.layers.Dense(3))
