"""effcourse.pruning.magnitude_prune / magnitude_prune_global against a plain sort (fast, CPU)."""

import math

import numpy as np
import pytest

from effcourse import pruning, sealed


def _reference(tensors, s):
    flat = np.concatenate([np.asarray(t).ravel().astype(np.float64) for t in tensors])
    idx = sorted(range(flat.size), key=lambda i: (abs(flat[i]), i))[: math.floor(s * flat.size)]
    flat[idx] = 0
    out, start = [], 0
    for t in tensors:
        t = np.asarray(t)
        out.append(flat[start : start + t.size].reshape(t.shape).astype(t.dtype))
        start += t.size
    return out


def test_both_are_sealed_references_of_the_exercise():
    for name in ("magnitude_prune", "magnitude_prune_global"):
        assert sealed.REGISTRY[f"effcourse.pruning:{name}"] == "ch05_advanced_compression/02_sparsity:magnitude_prune"


@pytest.mark.parametrize("seed", range(6))
def test_magnitude_prune_matches_a_plain_sort(seed):
    rng = np.random.default_rng(seed)
    w = [rng.normal(0, 0.1, (3, 3, 4, 8)).astype(np.float32), rng.integers(-3, 4, (9, 7)).astype(np.float64)][seed % 2]
    s = float(rng.uniform(0, 1))
    before = w.copy()
    out = pruning.magnitude_prune(w, s)
    np.testing.assert_array_equal(w, before)
    assert out.dtype == w.dtype and out.shape == w.shape
    np.testing.assert_array_equal(out, _reference([w], s)[0])


def test_magnitude_prune_ties_rounding_and_edges():
    np.testing.assert_array_equal(
        pruning.magnitude_prune(np.array([3.0, -1.0, 1.0, 2.0, -1.0, 0.5]), 0.5), [3.0, 0.0, 0.0, 2.0, -1.0, 0.0]
    )
    assert np.count_nonzero(pruning.magnitude_prune(np.arange(1.0, 11.0), 0.25) == 0) == 2
    w = np.arange(1.0, 7.0).reshape(2, 3)
    np.testing.assert_array_equal(pruning.magnitude_prune(w, 0), w)
    np.testing.assert_array_equal(pruning.magnitude_prune(w, 1.0), np.zeros_like(w))
    assert pruning.magnitude_prune(w, 0) is not w


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "0.5", True, None])
def test_magnitude_prune_refuses_bad_sparsity(bad):
    with pytest.raises(ValueError):
        pruning.magnitude_prune(np.ones(4), bad)


@pytest.mark.parametrize("seed", range(4))
def test_magnitude_prune_global_matches_a_plain_sort(seed):
    rng = np.random.default_rng(seed)
    tensors = [
        rng.normal(0, 10.0 ** rng.uniform(-2, 1), tuple(rng.integers(1, 6, 2))).astype(dt)
        for dt in (np.float32, np.float64, np.float32)
    ]
    before = [t.copy() for t in tensors]
    s = float(rng.uniform(0, 1))
    out = pruning.magnitude_prune_global(tensors, s)
    for t, b in zip(tensors, before):
        np.testing.assert_array_equal(t, b)
    for o, want, t in zip(out, _reference(tensors, s), tensors):
        assert o.dtype == t.dtype and o.shape == t.shape
        np.testing.assert_array_equal(o, want)


def test_magnitude_prune_global_is_one_threshold_and_ties_go_to_the_earlier_tensor():
    big, small = np.full(4, 5.0), np.full(4, 0.1)
    out = pruning.magnitude_prune_global([big, small], 0.5)
    assert np.count_nonzero(out[0]) == 4 and np.count_nonzero(out[1]) == 0
    out = pruning.magnitude_prune_global([np.array([1.0, 2.0]), np.array([-1.0, 3.0])], 0.25)
    assert [o.tolist() for o in out] == [[0.0, 2.0], [-1.0, 3.0]]


@pytest.mark.parametrize(
    "tensors, s", [([], 0.5), ([np.ones(3)], 1.5), ([np.ones(3)], float("nan")), (np.ones(3), 0.5)]
)
def test_magnitude_prune_global_refuses_bad_input(tensors, s):
    with pytest.raises(ValueError):
        pruning.magnitude_prune_global(tensors, s)
