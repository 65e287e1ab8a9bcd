"""compare_accuracy (McNemar's exact test, bootstrap over groups) and compare_latency (interleaved)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from effcourse import measure
from effcourse.compat import keras, tf


def mcnemar_exact_by_hand(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the binomial pmf, independent of SciPy."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@pytest.mark.parametrize("a_only, b_only", [(0, 0), (3, 0), (5, 5), (2, 9), (12, 30), (1, 1)])
def test_compare_accuracy_counts_discordant_pairs_and_matches_the_binomial(a_only, b_only):
    both, neither = 40, 7
    y = np.zeros(both + neither + a_only + b_only, dtype=np.int64)
    pred_a = np.concatenate([np.zeros(both), np.ones(neither), np.zeros(a_only), np.ones(b_only)]).astype(int)
    pred_b = np.concatenate([np.zeros(both), np.full(neither, 2), np.ones(a_only), np.zeros(b_only)]).astype(int)
    r = measure.compare_accuracy(y, pred_a, pred_b)
    assert r["test"] == "mcnemar-exact"
    assert (r["a_only"], r["b_only"], r["n_discordant"], r["n"]) == (a_only, b_only, a_only + b_only, len(y))
    assert r["accuracy_a"] == pytest.approx((both + a_only) / len(y))
    assert r["accuracy_b"] == pytest.approx((both + b_only) / len(y))
    assert r["difference"] == pytest.approx(r["accuracy_a"] - r["accuracy_b"])
    assert r["p_value"] == pytest.approx(mcnemar_exact_by_hand(a_only, b_only), rel=1e-9)
    assert all(type(r[k]) is float for k in ("accuracy_a", "accuracy_b", "difference", "p_value"))
    assert type(r["n_discordant"]) is int


def test_compare_accuracy_is_symmetric_and_accepts_column_vectors():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, 300)
    a = np.where(rng.random(300) < 0.8, y, (y + 1) % 5)
    b = np.where(rng.random(300) < 0.7, y, (y + 2) % 5)
    ab, ba = measure.compare_accuracy(y, a, b), measure.compare_accuracy(y[:, None], b, a)
    assert ab["p_value"] == pytest.approx(ba["p_value"]) and ab["difference"] == pytest.approx(-ba["difference"])
    assert ab["p_value"] < 0.05  # 80% vs 70% on 300 examples is a real difference


def test_bootstrap_over_groups_widens_the_interval_for_copied_examples():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    a = np.where(rng.random(200) < 0.85, y, (y + 1) % 3)
    b = np.where(rng.random(200) < 0.80, y, (y + 1) % 3)
    single = measure.compare_accuracy(y, a, b, groups=np.arange(200))
    tripled = measure.compare_accuracy(np.tile(y, 3), np.tile(a, 3), np.tile(b, 3), groups=np.tile(np.arange(200), 3))
    assert tripled["num_groups"] == 200 and single["num_groups"] == 200
    # three copies of each example: the McNemar p-value (which assumes independence) shrinks,
    # the bootstrap over originals does not
    assert tripled["p_value"] < single["p_value"]
    assert tripled["bootstrap_ci"] == pytest.approx(single["bootstrap_ci"], abs=0.02)
    low, high = tripled["bootstrap_ci"]
    assert low <= tripled["difference"] <= high
    assert 0 <= tripled["bootstrap_p_value"] <= 1


def test_compare_accuracy_errors():
    with pytest.raises(ValueError, match="same length"):
        measure.compare_accuracy([0, 1], [0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="argmax"):
        measure.compare_accuracy([0, 1], np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="at least one"):
        measure.compare_accuracy([], [], [])
    with pytest.raises(ValueError, match="groups"):
        measure.compare_accuracy([0, 1], [0, 1], [0, 1], groups=[0])
    with pytest.raises(ValueError, match="num_bootstrap"):
        measure.compare_accuracy([0, 1], [0, 1], [0, 1], groups=[0, 1], num_bootstrap=5)


def _tiny_tflite():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    fn = tf.function(lambda x: model(x), input_signature=[tf.TensorSpec((1, 4), tf.float32)])
    return model, tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], model).convert()


def test_compare_latency_times_every_variant_in_every_round():
    model, tflite_model = _tiny_tflite()
    x = np.zeros((1, 4), np.float32)
    times = measure.compare_latency({"keras": model, "tflite": tflite_model}, x, rounds=3, repeats=4, warmup=1)
    assert list(times) == ["keras", "tflite"]
    for t in times.values():
        assert len(t.round_medians_ms) == 3 and t.repeats == 4
        assert 0 < t.low_ms <= t.median_ms <= t.high_ms
        assert t.spread_ms == pytest.approx(t.high_ms - t.low_ms)
        assert "3 rounds x 4" in str(t)


def test_compare_latency_errors():
    _, tflite_model = _tiny_tflite()
    x = np.zeros((1, 4), np.float32)
    with pytest.raises(ValueError, match="non-empty"):
        measure.compare_latency({}, x)
    with pytest.raises(ValueError, match="rounds"):
        measure.compare_latency({"a": tflite_model}, x, rounds=2)
    with pytest.raises(TypeError, match="'a' is a list"):
        measure.compare_latency({"a": [1, 2]}, x)
    with pytest.raises(ValueError, match="shape"):
        measure.compare_latency({"a": tflite_model}, np.zeros((1, 5), np.float32))
