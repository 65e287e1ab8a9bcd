"""effcourse.schedules: the LEGW rate, the Keras schedule, and their errors."""

import math

import numpy as np
import pytest

from effcourse import schedules
from effcourse.compat import keras, tf

BASE = dict(base_lr=0.1, base_batch_size=32, base_warmup_epochs=0.5, steps_per_epoch=10)


def test_warmup_is_linear_to_the_sqrt_scaled_peak():
    rates = [schedules.legw_learning_rate(s, batch_size=128, **BASE) for s in range(30)]
    assert rates[0] == pytest.approx(0.2 / 20)
    assert rates[19] == pytest.approx(0.2)  # k = 4: peak 0.1 * 2, warm-up 0.5 * 4 epochs = 20 steps
    assert np.allclose(np.diff(rates[:20]), 0.2 / 20)
    assert rates[20:] == pytest.approx([0.2] * 10)


def test_warmup_grows_linearly_with_the_batch_size():
    for k in [1, 2, 8, 32]:
        rate = schedules.legw_learning_rate(0, batch_size=32 * k, **BASE)
        peak = 0.1 * math.sqrt(k)
        assert rate == pytest.approx(peak / (0.5 * k * 10))


def test_linear_scaling_and_no_warmup():
    kw = dict(BASE, base_warmup_epochs=0)
    assert schedules.legw_learning_rate(0, batch_size=256, scaling="linear", **kw) == pytest.approx(0.8)
    assert schedules.legw_learning_rate(7, batch_size=256, **kw) == pytest.approx(0.1 * math.sqrt(8))


def test_step_types():
    for step in [5, np.int64(5), np.int32(5), tf.constant(5), tf.constant(5, tf.int64), 5.0]:
        value = schedules.legw_learning_rate(step, batch_size=64, **BASE)
        assert isinstance(value, float) and value == pytest.approx(0.1 * math.sqrt(2) * 6 / 10)


def test_keras_schedule_matches_the_function():
    for scaling, warmup in [("sqrt", 0.5), ("linear", 0.25), ("sqrt", 0.0)]:
        kw = dict(BASE, base_warmup_epochs=warmup)
        schedule = schedules.LEGWSchedule(batch_size=256, scaling=scaling, **kw)
        for step in [0, 3, 17, 39, 40, 41, 500]:
            expected = schedules.legw_learning_rate(step, batch_size=256, scaling=scaling, **kw)
            assert float(schedule(tf.constant(step, tf.int64))) == pytest.approx(expected, rel=1e-6)
    config = schedule.get_config()
    assert schedules.LEGWSchedule(**config).get_config() == config


def test_keras_schedule_drives_an_optimizer():
    schedule = schedules.LEGWSchedule(batch_size=64, **BASE)
    model = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(keras.optimizers.SGD(schedule), loss="mse")
    x, y = np.ones((64, 3), "float32"), np.zeros((64, 1), "float32")
    kernel = model.get_weights()[0].astype(np.float64)
    model.fit(x, y, batch_size=64, verbose=0)  # one step, at the rate of step 0
    gradient = 2 * x.T @ (x @ kernel - y) / len(x)
    expected = kernel - schedules.legw_learning_rate(0, batch_size=64, **BASE) * gradient
    np.testing.assert_allclose(model.get_weights()[0], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(base_lr=0.0), "base_lr"),
        (dict(base_batch_size=0), "base_batch_size"),
        (dict(batch_size=-32), "batch_size"),
        (dict(base_warmup_epochs=-1), "base_warmup_epochs"),
        (dict(steps_per_epoch=0), "steps_per_epoch"),
        (dict(scaling="cubic"), "scaling"),
    ],
)
def test_errors(changes, match):
    kw = dict(BASE, batch_size=64)
    kw.update(changes)
    with pytest.raises(ValueError, match=match):
        schedules.legw_learning_rate(0, **kw)
    with pytest.raises(ValueError, match=match):
        schedules.LEGWSchedule(**kw)


def test_negative_step():
    with pytest.raises(ValueError, match="step"):
        schedules.legw_learning_rate(-1, batch_size=64, **BASE)
