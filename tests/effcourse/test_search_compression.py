"""Unit tests of effcourse.search.compression (fast, CPU)."""

import numpy as np
import pytest

from effcourse import measure
from effcourse.search import compression


def test_gzipped_weights_size_falls_with_zeros_and_matches_measure():
    rng = np.random.default_rng(0)
    w = [rng.normal(size=(50, 40)), rng.normal(size=40)]
    size = compression.gzipped_weights_size(w)
    assert isinstance(size, int)
    raw = b"".join(np.asarray(x, dtype=np.float32).tobytes() for x in w)
    assert size == measure.gzipped_size(raw)
    sparse = [np.where(np.abs(w[0]) < 1.5, 0.0, w[0]), w[1]]
    assert compression.gzipped_weights_size(sparse) < size / 3
    assert compression.gzipped_weights_size(tuple(w)) == size


@pytest.mark.parametrize("bad", [[], (), np.zeros(3), None])
def test_gzipped_weights_size_refuses_non_lists(bad):
    with pytest.raises(ValueError, match="non-empty list"):
        compression.gzipped_weights_size(bad)


def test_best_within_budget_ties_and_empty():
    assert compression.best_within_budget([30, 20, 25, 40], [0.8, 0.7, 0.8, 0.9], 30) == 2
    assert compression.best_within_budget([30, 20, 25, 40], [0.8, 0.7, 0.8, 0.9], 40) == 3
    assert compression.best_within_budget([10, 10], [0.5, 0.5], 10) == 0  # equal: the lower index
    assert compression.best_within_budget([10, 20], [0.5, 0.6], 9) is None
    assert compression.best_within_budget([], [], 5) is None
    assert isinstance(compression.best_within_budget(np.array([1, 2]), np.array([0.1, 0.2]), np.int64(2)), int)


def test_best_within_budget_errors():
    with pytest.raises(ValueError, match="one of each"):
        compression.best_within_budget([1, 2], [0.5], 3)
    with pytest.raises(ValueError, match="NaN"):
        compression.best_within_budget([1, float("nan")], [0.5, 0.6], 3)
    with pytest.raises(ValueError, match="NaN"):
        compression.best_within_budget([1, 2], [0.5, 0.6], float("nan"))


def test_hypervolume_small_cases():
    assert compression.hypervolume([1, 2, 3], [0.5, 0.7, 0.6], 4, 0.0) == pytest.approx(1.9)
    assert compression.hypervolume([], [], 4, 0.0) == 0.0
    assert compression.hypervolume([2], [0.5], 4, 0.0) == pytest.approx(1.0)
    assert compression.hypervolume([2, 2], [0.5, 0.5], 4, 0.0) == pytest.approx(1.0)  # duplicates
    assert compression.hypervolume([5, 1], [0.9, -0.1], 4, 0.0) == 0.0  # outside the box
    assert compression.hypervolume([4], [0.9], 4, 0.0) == 0.0  # on the boundary
    assert isinstance(compression.hypervolume(np.array([1]), np.array([0.5]), np.int64(2), np.float32(0)), float)


def test_hypervolume_matches_optuna_and_leaves_inputs_alone():
    from optuna._hypervolume import compute_hypervolume

    rng = np.random.default_rng(3)
    for _ in range(5):
        s, a = rng.uniform(0, 10, 40), rng.uniform(0, 1, 40)
        s_copy, a_copy = s.copy(), a.copy()
        inside = (s < 8) & (a > 0.2)
        expected = compute_hypervolume(np.c_[s, -a][inside], np.array([8.0, -0.2]))
        assert compression.hypervolume(s, a, 8, 0.2) == pytest.approx(expected)
        np.testing.assert_array_equal(s, s_copy)
        np.testing.assert_array_equal(a, a_copy)


def test_hypervolume_errors():
    with pytest.raises(ValueError, match="one of each"):
        compression.hypervolume([1, 2], [0.5], 4, 0)
    with pytest.raises(ValueError, match="NaN"):
        compression.hypervolume([1], [float("nan")], 4, 0)
    with pytest.raises(ValueError, match="NaN"):
        compression.hypervolume([1], [0.5], float("nan"), 0)
