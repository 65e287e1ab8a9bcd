"""effcourse.precision: dynamic loss scaling (also against Keras's LossScaleOptimizer), float16 underflow, CPU flags."""

import numpy as np
import pytest

from effcourse import precision
from effcourse.compat import keras, tf


def test_grows_after_growth_steps_finite_steps():
    ls = precision.DynamicLossScale(initial_scale=4.0, growth_steps=3)
    scales = []
    for _ in range(7):
        out = ls.update([np.full((2, 2), 8.0, np.float32)])
        np.testing.assert_allclose(out[0], 8.0 / scales[-1] if scales else 2.0)
        scales.append(ls.scale)
    assert scales == [4.0, 4.0, 8.0, 8.0, 8.0, 16.0, 16.0]
    assert ls.good_steps == 1


def test_overflow_skips_halves_and_restarts_the_count():
    ls = precision.DynamicLossScale(initial_scale=16.0, growth_steps=2)
    assert ls.update([np.ones(3)]) is not None and ls.good_steps == 1
    for bad in (np.inf, -np.inf, np.nan):
        assert ls.update([np.ones(3), np.array([1.0, bad])]) is None
        assert ls.good_steps == 0
    assert ls.scale == 2.0
    for _ in range(5):
        ls.update([np.array([np.nan])])
    assert ls.scale == 1.0  # never below 1


def test_unscales_with_the_scale_the_loss_was_multiplied_by():
    ls = precision.DynamicLossScale(initial_scale=2.0**15, growth_steps=1)
    out = ls.update([tf.constant([2.0**15, 2.0**16]), np.float16([2.0**14])])
    assert ls.scale == 2.0**16  # grew after the step, not before unscaling
    assert [o.dtype for o in out] == [np.float32, np.float32]
    np.testing.assert_allclose(out[0], [1.0, 2.0])
    np.testing.assert_allclose(out[1], [0.5])


def test_keeps_the_scale_when_growing_would_overflow_float32():
    ls = precision.DynamicLossScale(initial_scale=2.0**127, growth_steps=1)
    ls.update([np.ones(1)])
    assert ls.scale == 2.0**127 and ls.good_steps == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(initial_scale=0.5), "initial_scale"),
        (dict(growth_steps=0), "growth_steps"),
        (dict(growth_steps=1.5), "growth_steps"),
        (dict(factor=1.0), "factor"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        precision.DynamicLossScale(**kwargs)


def test_update_needs_a_list():
    ls = precision.DynamicLossScale()
    with pytest.raises(ValueError, match="list"):
        ls.update([])
    with pytest.raises(ValueError, match="list"):
        ls.update(np.ones(3))


def test_matches_keras_loss_scale_optimizer_on_a_gradient_sequence():
    rng = np.random.default_rng(0)
    growth, initial = 3, 2.0**10
    variable = tf.Variable(np.zeros(4, np.float32))
    optimizer = keras.mixed_precision.LossScaleOptimizer(
        keras.optimizers.SGD(1.0), initial_scale=initial, dynamic_growth_steps=growth
    )
    ours = precision.DynamicLossScale(initial_scale=initial, growth_steps=growth)
    expected = np.zeros(4, np.float32)
    for step in range(40):
        scale = ours.scale
        assert float(optimizer.loss_scale) == scale, step
        gradient = rng.normal(size=4).astype(np.float32) * np.float32(scale)
        if step % 7 == 5 or step in (20, 21, 22):
            gradient[rng.integers(4)] = [np.inf, np.nan][step % 2]
        unscaled = optimizer.get_unscaled_gradients([tf.constant(gradient)])
        optimizer.apply_gradients(zip(unscaled, [variable]))
        out = ours.update([gradient])
        if out is not None:
            expected = expected - out[0]
        np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6, atol=1e-6)
    assert float(optimizer.loss_scale) == ours.scale


def test_underflow_fraction():
    values = np.array([1e-9, 1e-8, 1e-3, 0.0, 2.0**-20])
    out = precision.underflow_fraction(values)
    assert out == {"underflow": 0.5, "overflow": 0.0, "nonzero": 4}
    assert precision.underflow_fraction(values, scale=2**15)["underflow"] == 0.0
    assert precision.underflow_fraction([np.array([1.0, 1e-9]), np.array([3.0])], scale=2**16)[
        "overflow"
    ] == pytest.approx(2 / 3)
    assert precision.underflow_fraction(values, dtype="bfloat16")["underflow"] == 0.0
    for kwargs, match in [(dict(scale=0), "scale"), (dict(dtype=np.float32), "dtype")]:
        with pytest.raises(ValueError, match=match):
            precision.underflow_fraction(values, **kwargs)
    with pytest.raises(ValueError, match="nonzero"):
        precision.underflow_fraction(np.zeros(3))


def test_cpu_16bit_support():
    zen4 = precision.cpu_16bit_support("flags : fpu avx2 fma f16c avx512f avx512_bf16")
    assert zen4["native_bfloat16"] and not zen4["native_float16"]
    assert zen4["simd_extensions"] == "avx2, fma, f16c, avx512f, avx512_bf16"
    avx2 = precision.cpu_16bit_support("flags : avx2 fma")
    assert not avx2["native_bfloat16"] and avx2["flags"] == ["avx2", "fma"]
    assert precision.cpu_16bit_support("flags : sse2")["simd_extensions"].startswith("none of")
    here = precision.cpu_16bit_support()
    assert isinstance(here["flags"], list) and isinstance(here["simd_extensions"], str)
