"""effcourse.precision: dynamic loss scaling (also against Keras's LossScaleOptimizer), float16 underflow, CPU flags,
grappler options and the fused float16 Dense probe."""

import os
import subprocess
import sys

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


def test_optimizer_options_sets_and_restores():
    before = tf.config.optimizer.get_experimental_options()
    with precision.optimizer_options(remapping=False, constant_folding=False):
        inside = tf.config.optimizer.get_experimental_options()
        assert inside["remapping"] is False and inside["constant_folding"] is False
    after = tf.config.optimizer.get_experimental_options()
    assert after["remapping"] is before.get("remapping", True)
    assert after["constant_folding"] is before.get("constant_folding", True)
    with pytest.raises(RuntimeError, match="boom"), precision.optimizer_options(remapping=False):
        raise RuntimeError("boom")
    assert tf.config.optimizer.get_experimental_options()["remapping"] is True
    with precision.optimizer_options():  # no options: nothing changes
        assert tf.config.optimizer.get_experimental_options() == after


@pytest.mark.parametrize(
    "options, match",
    [({"remaping": False}, r"unknown grappler option\(s\) \['remaping'\]"), ({"remapping": 0}, "True or False")],
)
def test_optimizer_options_rejects_bad_options(options, match):
    with pytest.raises(ValueError, match=match), precision.optimizer_options(**options):
        pass


def test_optimizer_options_reach_the_tf_function_call():
    # oneDNN names its kernels: a fused MatMul+BiasAdd+Relu runs as an inner_product, an unfused
    # MatMul as a gemm; so a call inside optimizer_options(remapping=False) must run no inner_product
    code = """
import effcourse; effcourse.setup(style=False)
from effcourse import precision
from effcourse.compat import tf
a, w, b = tf.ones([8, 16]), tf.ones([16, 16]), tf.zeros([16])
f = tf.function(lambda: tf.nn.relu(tf.nn.bias_add(tf.matmul(a, w), b)))
for label, options in (("default", {}), ("off", {"remapping": False}), ("again", {})):
    print("CALL", label, flush=True)
    with precision.optimizer_options(**options):
        f().numpy()
"""
    env = {**os.environ, "ONEDNN_VERBOSE": "1"}
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    kernels, label = {}, None
    for line in out.stdout.splitlines():
        if line.startswith("CALL "):
            label = line.split()[1]
            kernels[label] = set()
        elif line.startswith("onednn_verbose") and ",exec,cpu," in line and label:
            kernels[label].add(line.split(",exec,cpu,")[1].split(",")[0])
    if not any(kernels.values()):
        pytest.skip("this TensorFlow build runs no oneDNN kernels here (non-x86 or oneDNN turned off)")
    assert "inner_product" in kernels["default"] and "inner_product" in kernels["again"], kernels
    assert "inner_product" not in kernels["off"], kernels


def test_fused_float16_dense_ms():
    probe = precision.fused_float16_dense_ms(batch=4, units=16, repeats=1)
    assert set(probe) == {"fused_ms", "unfused_ms", "slowdown"}
    assert probe["fused_ms"] > 0 and probe["unfused_ms"] > 0
    assert probe["slowdown"] == pytest.approx(probe["fused_ms"] / probe["unfused_ms"])
    for bad in ({"batch": 0}, {"units": 1.5}, {"repeats": True}):
        with pytest.raises(ValueError, match="positive int"):
            precision.fused_float16_dense_ms(**bad)
