"""effcourse.pipeline: the bubble, the simulated GPipe schedule, gradient accumulation."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from effcourse import pipeline
from effcourse.compat import keras, tf


@pytest.mark.parametrize("stages, micro_batches", [(1, 1), (1, 7), (2, 1), (2, 4), (4, 4), (4, 16), (3, 7), (8, 2)])
def test_simulated_idle_fraction_equals_the_bubble(stages, micro_batches):
    expected = (stages - 1) / (micro_batches + stages - 1)
    assert pipeline.bubble_fraction(stages, micro_batches) == pytest.approx(expected)
    for backward in (1.0, 2.0, 3.5):
        schedule = pipeline.gpipe_schedule(stages, micro_batches, backward_time=backward)
        assert pipeline.idle_fraction(schedule) == pytest.approx(expected, abs=1e-12)
        assert len(schedule) == 2 * stages * micro_batches


def test_schedule_respects_dependencies_and_one_op_per_device():
    schedule = pipeline.gpipe_schedule(3, 4)
    end = {(o["stage"], o["micro_batch"], o["phase"]): o["end"] for o in schedule}
    start = {(o["stage"], o["micro_batch"], o["phase"]): o["start"] for o in schedule}
    for (s, m, phase), t in start.items():
        if phase == "forward" and s > 0:
            assert t >= end[(s - 1, m, "forward")]
        if phase == "backward":
            assert t >= end[(s + 1, m, "backward")] if s < 2 else t >= end[(s, m, "forward")]
    for s in range(3):
        ops = sorted((o["start"], o["end"]) for o in schedule if o["stage"] == s)
        assert all(a[1] <= b[0] for a, b in zip(ops, ops[1:]))
    # makespan (M + S - 1)(forward + backward)
    assert max(end.values()) == pytest.approx((4 + 3 - 1) * 3.0)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_counts_are_checked(bad):
    with pytest.raises(ValueError, match="int >= 1"):
        pipeline.bubble_fraction(bad, 2)
    with pytest.raises(ValueError, match="int >= 1"):
        pipeline.gpipe_schedule(2, bad)


def test_schedule_errors():
    with pytest.raises(ValueError, match="times"):
        pipeline.gpipe_schedule(2, 2, forward_time=0)
    with pytest.raises(ValueError, match="empty"):
        pipeline.idle_fraction([])
    with pytest.raises(ValueError, match="empty"):
        pipeline.plot_schedule([])


def test_plot_schedule_draws_every_operation():
    ax = pipeline.plot_schedule(pipeline.gpipe_schedule(2, 3))
    assert len(ax.patches) == 12
    assert "idle" in ax.get_title()


def _model(seed):
    rng = np.random.default_rng(seed)
    model = keras.Sequential(
        [keras.layers.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2)]
    )
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model, rng


@pytest.mark.parametrize("n, m", [(8, 1), (8, 4), (7, 3), (5, 5), (10, 4)])
def test_accumulated_gradients_equal_the_full_batch(n, m):
    model, rng = _model(n * 10 + m)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = rng.normal(size=(n, 2)).astype("float32")
    loss_fn = keras.losses.MeanSquaredError()
    before = model.get_weights()
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    full = tape.gradient(loss, model.trainable_variables)
    grads = pipeline.accumulate_gradients(model, loss_fn, x, y, m)
    assert isinstance(grads, list) and len(grads) == len(full)
    for g, f in zip(grads, full):
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, f.numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_accumulate_gradients_errors():
    model, rng = _model(0)
    x, y = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 2)).astype("float32")
    loss_fn = keras.losses.MeanSquaredError()
    with pytest.raises(ValueError, match="at most one per example"):
        pipeline.accumulate_gradients(model, loss_fn, x, y, 5)
    with pytest.raises(ValueError, match="int >= 1"):
        pipeline.accumulate_gradients(model, loss_fn, x, y, 0)
    with pytest.raises(ValueError, match="examples"):
        pipeline.accumulate_gradients(model, loss_fn, x, y[:3], 2)
