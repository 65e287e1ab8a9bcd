"""Unit tests of effcourse.curriculum (fast, CPU)."""

import math

import numpy as np
import pytest

from effcourse import curriculum, sealed


def _pace(step, n=1000, f=0.1, g=2.0, length=50):
    return curriculum.pacing(step, n, start_fraction=f, growth=g, step_length=length)


def test_pacing_example_boundaries_and_cap():
    assert [_pace(s) for s in (0, 49, 50, 99, 100, 150, 199, 200, 10**9)] == [
        100,
        100,
        200,
        200,
        400,
        800,
        800,
        1000,
        1000,
    ]
    assert all(type(_pace(s)) is int for s in (0, 10**9))
    # a factor that is no power of two: round(37 * 0.3 * 1.5 ** k) = 11, 17, 25, then capped at 37
    assert [_pace(s, 37, 0.3, 1.5, 3) for s in range(0, 13, 3)] == [11, 17, 25, 37, 37]
    assert _pace(0, 5, 0.01, 2.0, 1) == 1  # at least one example
    assert _pace(0, 7, 1.0, 2.0, 1) == 7  # everything from the start
    assert _pace(np.int64(50), np.int64(1000), np.float64(0.1), np.float32(2.0), np.int64(50)) == 200


@pytest.mark.parametrize("seed", range(5))
def test_pacing_monotone_starts_and_caps(seed):
    rng = np.random.default_rng(seed)
    n, f, g, length = (
        int(rng.integers(1, 3000)),
        float(rng.uniform(0.01, 1)),
        float(rng.uniform(1.05, 3)),
        int(rng.integers(1, 30)),
    )
    stages = math.ceil(math.log(1 / f) / math.log(g)) + 2  # enough stages to reach N
    values = [_pace(s, n, f, g, length) for s in range(0, stages * length)]
    assert all(a <= b for a, b in zip(values, values[1:]))
    assert values[0] == min(n, max(1, round(n * f)))
    assert values[-1] == n
    for s in (length - 1, length, 5 * length - 1, 5 * length):
        exact = n * f * g ** (s // length)
        if abs(exact - math.floor(exact) - 0.5) > 1e-6:
            assert _pace(s, n, f, g, length) == min(n, max(1, round(exact)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(start_fraction=0.0), "start_fraction"),
        (dict(start_fraction=1.5), "start_fraction"),
        (dict(start_fraction=float("nan")), "start_fraction"),
        (dict(growth=1.0), "growth"),
        (dict(growth=0.5), "growth"),
        (dict(growth=float("nan")), "growth"),
        (dict(growth=float("inf")), "growth"),
        (dict(step_length=0), "step_length"),
        (dict(step=-1), "step"),
        (dict(step=2.5), "step"),
        (dict(num_examples=0), "num_examples"),
    ],
)
def test_pacing_range_errors(kwargs, match):
    args = dict(step=0, num_examples=10, start_fraction=0.1, growth=2.0, step_length=5) | kwargs
    with pytest.raises(ValueError, match=match):
        curriculum.pacing(args.pop("step"), args.pop("num_examples"), **args)


def test_curriculum_order_ties_near_ties_and_input():
    assert curriculum.curriculum_order([0.5, 0.1, 0.5, 2.0], "easy").tolist() == [1, 0, 2, 3]
    assert curriculum.curriculum_order([0.5, 0.1, 0.5, 2.0], "hard").tolist() == [3, 0, 2, 1]
    near = np.array([np.nextafter(0.3, 1), 0.3, np.nextafter(0.3, 0), 0.3])
    copy = near.copy()
    easy = curriculum.curriculum_order(near, "easy")
    assert easy.tolist() == [2, 1, 3, 0] and easy.dtype == np.int64
    assert curriculum.curriculum_order(near, "hard").tolist() == [0, 1, 3, 2]
    np.testing.assert_array_equal(near, copy)
    assert curriculum.curriculum_order([], "easy").shape == (0,)


def test_curriculum_order_matches_a_stable_sort_on_random_ties():
    rng = np.random.default_rng(0)
    s = np.round(rng.random(300) * 4) / 4
    easy = curriculum.curriculum_order(s, "easy").tolist()
    hard = curriculum.curriculum_order(s, "hard").tolist()
    assert easy == sorted(range(300), key=lambda i: (s[i], i))
    assert hard == sorted(range(300), key=lambda i: (-s[i], i))


@pytest.mark.parametrize(
    "scores, mode, match",
    [([1.0], "medium", "mode"), ([1.0, float("nan")], "easy", "NaN"), (np.zeros((2, 2)), "easy", "shape")],
)
def test_curriculum_order_errors(scores, mode, match):
    with pytest.raises(ValueError, match=match):
        curriculum.curriculum_order(scores, mode)


def test_sample_batch_draws_from_the_prefix():
    rng = np.random.default_rng(0)
    order = np.array([5, 3, 1, 0, 2, 4])
    for _ in range(20):
        batch = curriculum.sample_batch(order, 2, 4, rng)  # fewer than a batch: with replacement
        assert set(batch.tolist()) <= {5, 3} and batch.dtype == np.int64 and len(batch) == 4
    batch = curriculum.sample_batch(order, 6, 6, rng)  # without replacement: every example once
    assert sorted(batch.tolist()) == list(range(6))
    with pytest.raises(ValueError, match="available"):
        curriculum.sample_batch(order, 7, 2, rng)
    with pytest.raises(ValueError, match="batch_size"):
        curriculum.sample_batch(order, 2, 0, rng)


def test_steps_to_target():
    assert curriculum.steps_to_target([10, 20, 30], [0.5, 0.76, 0.74], 0.75) == 20
    assert curriculum.steps_to_target([10, 20], [0.5, 0.6], 0.75) is None
    assert curriculum.steps_to_target([10], [0.75], 0.75) == 10
    with pytest.raises(ValueError, match="one accuracy per step"):
        curriculum.steps_to_target([10, 20], [0.5], 0.75)


def test_graded_helpers_are_sealed_references():
    assert sealed.REGISTRY["effcourse.curriculum:pacing"] == "ch06_advanced_learning/02_curriculum_learning:pacing"
    assert (
        sealed.REGISTRY["effcourse.curriculum:curriculum_order"]
        == "ch06_advanced_learning/02_curriculum_learning:curriculum_order"
    )
