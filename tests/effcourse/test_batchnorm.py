"""effcourse.batchnorm: folding, the ConvBN modes, conversion and the child-process benchmark."""

import numpy as np
import pytest

from effcourse import batchnorm, sealed
from effcourse.compat import keras, tf

L = keras.layers


def _model(use_bias, seed=0):
    rng = np.random.default_rng(seed)
    model = keras.Sequential(
        [
            L.Input((7, 7, 3)),
            L.Conv2D(5, 3, padding="same", use_bias=use_bias),
            L.BatchNormalization(epsilon=0.01),
            L.ReLU(),
            L.Conv2D(4, 1, strides=2, padding="valid"),
            L.BatchNormalization(),
            L.GlobalAveragePooling2D(),
            L.Dense(3),
        ]
    )
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, n), rng.normal(size=n), rng.normal(size=n), rng.uniform(0.01, 3, n)])
        elif layer.weights:
            layer.set_weights([rng.normal(0, 0.5, w.shape) for w in layer.get_weights()])
    x = rng.normal(size=(4, 7, 7, 3)).astype("float32")
    return model, x


@pytest.mark.parametrize("use_bias", [False, True])
def test_fold_batchnorm_matches_inference_mode(use_bias):
    model, x = _model(use_bias)
    conv, bn = model.layers[0], model.layers[1]
    kernel, bias = batchnorm.fold_batchnorm(conv, bn)
    assert kernel.dtype == np.float32 and kernel.shape == tuple(conv.kernel.shape) and bias.shape == (5,)
    expected = bn(conv(x), training=False).numpy()
    np.testing.assert_allclose(tf.nn.conv2d(x, kernel, 1, "SAME").numpy() + bias, expected, rtol=1e-5, atol=1e-5)


def test_fold_batchnorm_without_scale_or_center():
    conv, bn = L.Conv2D(2, 1, use_bias=False), L.BatchNormalization(scale=False, center=False)
    x = tf.random.normal((1, 3, 3, 2))
    bn(conv(x))
    bn.set_weights([np.array([1.0, -1.0]), np.array([4.0, 0.25])])
    kernel, bias = batchnorm.fold_batchnorm(conv, bn)
    np.testing.assert_allclose(tf.nn.conv2d(x, kernel, 1, "VALID") + bias, bn(conv(x), training=False), atol=1e-5)


def test_fold_batchnorm_errors():
    bn = L.BatchNormalization()
    with pytest.raises(TypeError, match="Conv2D or Dense"):
        batchnorm.fold_batchnorm(L.DepthwiseConv2D(3), bn)
    with pytest.raises(TypeError, match="BatchNormalization"):
        batchnorm.fold_batchnorm(L.Conv2D(2, 1), L.LayerNormalization())
    with pytest.raises(ValueError, match="build"):
        batchnorm.fold_batchnorm(L.Conv2D(2, 1), bn)
    conv, bn = L.Conv2D(2, 1, activation="relu"), L.BatchNormalization()
    bn(conv(tf.zeros((1, 2, 2, 1))))
    with pytest.raises(ValueError, match="nonlinearity"):
        batchnorm.fold_batchnorm(conv, bn)
    conv, bn = L.Conv2D(2, 1), L.BatchNormalization()
    conv(tf.zeros((1, 2, 2, 1)))
    bn(tf.zeros((1, 2, 2, 3)))
    with pytest.raises(ValueError, match="channels"):
        batchnorm.fold_batchnorm(conv, bn)


@pytest.mark.parametrize("use_bias", [False, True])
def test_fold_model_and_convert_compute_the_same_function(use_bias):
    model, x = _model(use_bias)
    expected = model(x, training=False).numpy()
    folded = batchnorm.fold_model(model)
    assert len(folded.layers) == len(model.layers) - 2
    assert not any(isinstance(layer, L.BatchNormalization) for layer in folded.layers)
    np.testing.assert_allclose(folded(x).numpy(), expected, atol=1e-5)
    for mode in batchnorm.MODES:
        converted = batchnorm.convert(model, mode)
        np.testing.assert_allclose(converted(x, training=False).numpy(), expected, atol=1e-5)
    # train mode with training=True normalises with the batch's statistics, like Keras
    np.testing.assert_allclose(
        batchnorm.convert(model, "train")(x, training=True).numpy(), model(x, training=True).numpy(), atol=1e-4
    )


def test_eval_and_tune_have_the_same_gradients_and_freeze_the_statistics():
    model, x = _model(True)
    y = np.array([0, 1, 2, 0])
    grads = {}
    for mode in ("eval", "tune"):
        converted = batchnorm.convert(model, mode)
        stats = [v.numpy().copy() for v in converted.non_trainable_variables]
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, converted(x, training=True)))
        grads[mode] = [g.numpy() for g in tape.gradient(loss, converted.trainable_variables)]
        assert all(np.array_equal(a, v.numpy()) for a, v in zip(stats, converted.non_trainable_variables))
    for a, b in zip(grads["eval"], grads["tune"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_train_mode_updates_the_running_statistics():
    layer = batchnorm.ConvBN(3, 1, mode="train", momentum=0.5)
    layer(tf.ones((2, 2, 2, 1)) * 5.0, training=True)
    assert not np.allclose(layer.moving_mean.numpy(), 0.0)
    assert layer.get_config()["mode"] == "train"


def test_modes_and_models_are_checked():
    with pytest.raises(ValueError, match="mode must be one of"):
        batchnorm.ConvBN(3, 1, mode="deploy")
    model, _ = _model(False)
    with pytest.raises(ValueError, match="mode must be one of"):
        batchnorm.convert(model, "fast")
    inputs = keras.Input((4, 4, 1))
    functional = keras.Model(inputs, L.BatchNormalization()(L.Conv2D(2, 1)(inputs)))
    with pytest.raises(TypeError, match="Sequential"):
        batchnorm.fold_model(functional)
    with pytest.raises(ValueError, match="modes must be"):
        batchnorm.benchmark_modes(("fast",))
    with pytest.raises(ValueError, match="positive"):
        batchnorm.benchmark_modes(("eval",), steps=0)


def test_fold_functions_are_sealed_references():
    exercise = "ch08_training_efficiency/04_batchnorm_and_compress:fold_batchnorm"
    assert sealed.REGISTRY["effcourse.batchnorm:fold_batchnorm"] == exercise
    assert sealed.REGISTRY["effcourse.batchnorm:fold_model"] == exercise


@pytest.mark.slow
def test_benchmark_modes_in_a_child_process():
    modes = ("train", "eval", "tune", "deploy")
    result = batchnorm.benchmark_modes(modes, image_size=32, channels=(8,), batch_size=8, steps=1, rounds=2)
    assert set(result) == set(modes)
    for figures in result.values():
        assert len(figures["step_ms"]) == 2 and all(t > 0 for t in figures["step_ms"])
    peak = {mode: figures["peak_memory_mib"] for mode, figures in result.items()}
    feature_map_mib = 8 * 32 * 32 * 8 * 4 / 2**20  # one block's output, 0.25 MiB
    # eval keeps the convolution's output for the backward pass of the affine map, tune does not
    assert peak["eval"] - peak["tune"] >= 0.5 * feature_map_mib, peak
    assert peak["train"] >= peak["eval"] and peak["deploy"] <= peak["tune"], peak


@pytest.mark.slow
def test_benchmark_modes_refuses_to_report_nothing():
    with pytest.raises(RuntimeError, match="larger image_size"):
        batchnorm.benchmark_modes(("tune",), image_size=8, channels=(4,), batch_size=4, steps=1, rounds=1)
