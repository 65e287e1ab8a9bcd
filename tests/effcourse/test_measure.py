"""effcourse.measure: counts against hand formulas, sizes against known bytes, TFLite accuracy."""

from __future__ import annotations

import gzip
import math
import warnings

import numpy as np
import pytest

from effcourse import measure
from effcourse.compat import keras, tf

L = keras.layers


def model_of(input_shape, *layers):
    return keras.Sequential([keras.Input(input_shape), *layers])


def conv_out(size, kernel, stride, padding, dilation=1):
    if padding == "same":
        return math.ceil(size / stride)
    return (size - dilation * (kernel - 1) - 1) // stride + 1


# ------------------------------------------------------------------ MACs / FLOPs per layer type


@pytest.mark.parametrize("shape,units", [((7,), 5), ((1,), 1), ((4, 6), 3), ((2, 3, 5), 4)])
def test_dense_macs_match_formula_also_on_3d_inputs(shape, units):
    model = model_of(shape, L.Dense(units))
    expected = math.prod(shape[:-1]) * shape[-1] * units
    assert measure.count_macs(model) == expected
    assert measure.count_flops(model) == 2 * expected


@pytest.mark.parametrize(
    "hw,cin,filters,kernel,strides,padding,groups,dilation",
    [
        ((9, 9), 3, 4, 3, 1, "valid", 1, 1),
        ((10, 7), 2, 6, 3, 2, "same", 1, 1),
        ((11, 11), 4, 8, 5, 3, "valid", 1, 1),
        ((8, 8), 4, 6, 3, 1, "same", 2, 1),
        ((12, 12), 2, 3, 3, 1, "valid", 1, 2),
        ((6, 9), 6, 6, (1, 3), (1, 2), "same", 3, 1),
    ],
)
def test_conv2d_macs_match_formula(hw, cin, filters, kernel, strides, padding, groups, dilation):
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    s = (strides, strides) if isinstance(strides, int) else strides
    model = model_of(
        (*hw, cin), L.Conv2D(filters, k, strides=s, padding=padding, groups=groups, dilation_rate=dilation)
    )
    h_out = conv_out(hw[0], k[0], s[0], padding, dilation)
    w_out = conv_out(hw[1], k[1], s[1], padding, dilation)
    assert model.output_shape[1:3] == (h_out, w_out)  # the formula for the output size is right
    expected = h_out * w_out * k[0] * k[1] * (cin // groups) * filters
    assert measure.count_macs(model) == expected
    assert measure.count_flops(model) == 2 * expected


@pytest.mark.parametrize(
    "length,cin,filters,kernel,strides,padding", [(20, 3, 5, 3, 1, "valid"), (17, 2, 4, 5, 2, "same")]
)
def test_conv1d_macs_match_formula(length, cin, filters, kernel, strides, padding):
    model = model_of((length, cin), L.Conv1D(filters, kernel, strides=strides, padding=padding))
    expected = conv_out(length, kernel, strides, padding) * kernel * cin * filters
    assert measure.count_macs(model) == expected


@pytest.mark.parametrize(
    "hw,cin,kernel,strides,multiplier", [((9, 9), 3, 3, 1, 1), ((10, 8), 4, 3, 2, 2), ((7, 7), 2, 5, 1, 3)]
)
def test_depthwise_macs_match_formula(hw, cin, kernel, strides, multiplier):
    model = model_of((*hw, cin), L.DepthwiseConv2D(kernel, strides=strides, depth_multiplier=multiplier))
    h_out, w_out = (conv_out(d, kernel, strides, "valid") for d in hw)
    assert measure.count_macs(model) == h_out * w_out * kernel * kernel * cin * multiplier


@pytest.mark.parametrize(
    "hw,cin,filters,kernel,multiplier,padding", [((9, 9), 3, 8, 3, 1, "valid"), ((8, 6), 4, 5, 3, 2, "same")]
)
def test_separable_macs_are_depthwise_plus_pointwise(hw, cin, filters, kernel, multiplier, padding):
    model = model_of((*hw, cin), L.SeparableConv2D(filters, kernel, depth_multiplier=multiplier, padding=padding))
    h_out, w_out = (conv_out(d, kernel, 1, padding) for d in hw)
    depthwise = h_out * w_out * kernel * kernel * cin * multiplier
    pointwise = h_out * w_out * cin * multiplier * filters
    assert measure.count_macs(model) == depthwise + pointwise


def test_conv2d_transpose_macs():
    model = model_of((5, 6, 3), L.Conv2DTranspose(4, 3, strides=2))
    assert measure.count_macs(model) == 5 * 6 * 3 * 3 * 3 * 4


@pytest.mark.parametrize(
    "layer,shape,flops",
    [
        (L.MaxPooling2D(2), (8, 8, 3), 4 * 4 * 3 * 2 * 2),
        (L.AveragePooling2D(3, strides=1), (7, 7, 2), 5 * 5 * 2 * 3 * 3),
        (L.MaxPooling1D(2), (10, 4), 5 * 4 * 2),
        (L.GlobalAveragePooling2D(), (6, 5, 3), 6 * 5 * 3),
        (L.GlobalMaxPooling1D(), (9, 4), 9 * 4),
    ],
)
def test_pooling_counts_window_reads_as_flops_and_no_macs(layer, shape, flops):
    model = model_of(shape, layer)
    assert measure.count_macs(model) == 0
    assert measure.count_flops(model) == flops


def test_zero_cost_layers_embedding_batchnorm_activations():
    model = model_of(
        (10,), L.Embedding(50, 8), L.LayerNormalization(), L.Activation("relu"), L.Dropout(0.5), L.Flatten()
    )
    assert measure.count_macs(model) == 0
    conv = model_of((6, 6, 2), L.Conv2D(3, 3, use_bias=False), L.BatchNormalization(), L.ReLU())
    assert measure.count_macs(conv) == 4 * 4 * 3 * 3 * 2 * 3


@pytest.mark.parametrize("t,s,d_model,heads,key_dim,value_dim", [(6, 6, 8, 2, 4, None), (5, 7, 6, 3, 2, 5)])
def test_multi_head_attention_macs(t, s, d_model, heads, key_dim, value_dim):
    query, value = keras.Input((t, d_model)), keras.Input((s, d_model))
    out = L.MultiHeadAttention(heads, key_dim, value_dim=value_dim)(query, value)
    model = keras.Model([query, value], out)
    v = value_dim or key_dim
    expected = (
        t * d_model * heads * key_dim
        + s * d_model * heads * key_dim
        + s * d_model * heads * v
        + heads * t * s * key_dim
        + heads * t * s * v
        + t * heads * v * d_model
    )
    assert measure.count_macs(model) == expected


def test_lstm_and_gru_macs():
    x = keras.Input((6, 12))
    assert measure.count_macs(keras.Model(x, L.LSTM(5)(x))) == 6 * 4 * (12 * 5 + 5 * 5)
    assert measure.count_macs(keras.Model(x, L.GRU(5)(x))) == 6 * 3 * (12 * 5 + 5 * 5)


def test_nested_sequential_inside_functional_and_shared_layer():
    inner = keras.Sequential([L.Conv2D(2, 3, name="conv"), L.Flatten()], name="features")
    shared = L.Dense(4, name="shared")
    inp = keras.Input((8, 8, 1))
    h = shared(inner(inp))
    out = shared(L.Dense(72, name="expand")(h))
    model = keras.Model(inp, out)
    by_layer = measure.macs_by_layer(model)
    assert by_layer["features/conv"] == 6 * 6 * 9 * 2
    assert by_layer["shared"] == 2 * 72 * 4  # called twice, summed
    assert by_layer["expand"] == 4 * 72
    assert measure.count_macs(model) == 6 * 6 * 9 * 2 + 2 * 72 * 4 + 4 * 72


def test_flops_by_layer_sums_to_count_flops_and_summary_agrees():
    model = model_of((8, 8, 1), L.Conv2D(4, 3, name="c"), L.MaxPooling2D(name="p"), L.Flatten(), L.Dense(3, name="d"))
    by_layer = measure.flops_by_layer(model)
    assert by_layer["c"] == 2 * 6 * 6 * 9 * 4 and by_layer["p"] == 3 * 3 * 4 * 4 and by_layer["d"] == 2 * 36 * 3
    assert sum(by_layer.values()) == measure.count_flops(model)
    table = measure.summary(model)
    assert table.loc["total", "flops"] == measure.count_flops(model)
    assert table.loc["total", "params"] == model.count_params()
    assert table.loc["d", "params"] == 36 * 3 + 3


def test_tfmot_wrapped_layers_are_measured_as_the_inner_layer():
    import tensorflow_model_optimization as tfmot

    model = model_of((8, 8, 1), L.Conv2D(4, 3), L.Flatten(), L.Dense(3))
    pruned = tfmot.sparsity.keras.prune_low_magnitude(model)
    qat = tfmot.quantization.keras.quantize_model(model)
    assert measure.count_macs(pruned) == measure.count_macs(model) == measure.count_macs(qat)
    assert measure.count_params(pruned) == measure.count_params(qat) == model.count_params()
    assert pruned.count_params() > model.count_params()  # the masks we must not count


def test_unbuilt_model_without_input_shape_says_how_to_fix():
    model = keras.Sequential([L.Dense(3)])
    with pytest.raises(
        ValueError, match=r"build the model or pass input_shape=\(H, W, C\) \(without the batch dimension\)"
    ):
        measure.count_flops(model)
    assert measure.count_macs(model, input_shape=(5,)) == 15


def test_input_shape_overrides_and_is_validated():
    model = model_of((None, None, 3), L.Conv2D(2, 3, padding="same"))
    with pytest.raises(ValueError, match="input_shape"):
        measure.count_macs(model)
    assert measure.count_macs(model, input_shape=(4, 5, 3)) == 4 * 5 * 9 * 3 * 2
    with pytest.raises(ValueError, match="without the batch dimension"):
        measure.count_macs(model, input_shape=(4, -5, 3))


def test_single_layer_with_input_shape():
    assert measure.count_macs(L.Dense(5), input_shape=(7,)) == 35
    with pytest.raises(ValueError, match="input_shape"):
        measure.count_macs(L.Dense(5))


def test_unknown_layer_warns_once_and_counts_zero():
    model = model_of((4,), L.Dense(3), L.Lambda(lambda x: x * 2), L.Lambda(lambda x: x + 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert measure.count_macs(model) == 12
    messages = [str(w.message) for w in caught if "Lambda" in str(w.message)]
    assert len(messages) == 1 and "counted as 0" in messages[0]


def test_not_a_keras_model_is_a_type_error():
    with pytest.raises(TypeError, match="Keras model"):
        measure.count_macs(np.zeros(3))
    with pytest.raises(TypeError, match="Keras model"):
        measure.count_params("model.h5")


# ------------------------------------------------------------------ parameters


def test_count_params_trainable_only_and_unbuilt():
    model = model_of((5,), L.Dense(4), L.BatchNormalization(), L.Dense(2))
    assert measure.count_params(model) == (5 * 4 + 4) + 4 * 4 + (4 * 2 + 2)
    assert measure.count_params(model, trainable_only=True) == (5 * 4 + 4) + 2 * 4 + (4 * 2 + 2)
    with pytest.raises(ValueError, match="not built"):
        measure.count_params(keras.Sequential([L.Dense(3)]))


# ------------------------------------------------------------------ sizes


def test_sizes_of_bytes_and_files_against_references(tmp_path):
    data = bytes(range(256)) * 7 + b"\0" * 3000
    assert measure.serialized_size(data) == len(data)
    assert measure.gzipped_size(data) == len(gzip.compress(data, compresslevel=9, mtime=0))
    path = tmp_path / "model.tflite"
    path.write_bytes(data)
    assert measure.serialized_size(path) == len(data) == measure.serialized_size(str(path))
    assert measure.gzipped_size(path) == measure.gzipped_size(data)
    assert measure.gzipped_size(bytes(10_000)) < 100  # zeros compress


def test_size_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file"):
        measure.serialized_size(tmp_path / "missing.tflite")
    with pytest.raises(TypeError, match="Keras model, TFLite bytes"):
        measure.gzipped_size(12345)


def test_keras_model_size_is_deterministic_and_zeros_compress():
    keras.utils.set_random_seed(0)
    model = model_of((64,), L.Dense(64), L.Dense(10))
    size, gz = measure.serialized_size(model), measure.gzipped_size(model)
    assert size > 4 * model.count_params()  # float32 weights + architecture
    assert measure.gzipped_size(model) == gz
    weights = model.get_weights()
    weights[0][:, :48] = 0.0  # prune 75% of the large kernel
    model.set_weights(weights)
    assert measure.serialized_size(model) == size  # same bytes on disk ...
    assert measure.gzipped_size(model) < 0.6 * gz  # ... far fewer after gzip


def test_subclassed_model_size_is_its_weights_file():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.fc = L.Dense(4)

        def call(self, x):
            return self.fc(x)

    model = Tiny()
    model(tf.zeros((1, 300)))
    assert measure.serialized_size(model) > 4 * 1204  # float32 weights + HDF5 overhead
    assert measure.gzipped_size(model) > 0


# ------------------------------------------------------------------ sparsity and unique weights


def test_sparsity_of_arrays_with_known_zeros():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(10, 20)) + 5.0
    a.ravel()[rng.choice(200, size=37, replace=False)] = 0.0
    assert measure.sparsity(a) == pytest.approx(37 / 200)
    b = np.zeros(50)
    assert measure.sparsity([a, b]) == pytest.approx((37 + 50) / 250)
    assert measure.sparsity(tf.constant(b)) == 1.0
    with pytest.raises(ValueError, match="no weights"):
        measure.sparsity(np.zeros(0))
    with pytest.raises(TypeError, match="Keras model, a NumPy array"):
        measure.sparsity({"a": a})


def test_model_sparsity_counts_kernels_not_biases():
    model = model_of((4,), L.Dense(5, name="a"), L.BatchNormalization(), L.Dense(2, name="b"))
    w = model.get_weights()  # a/kernel, a/bias, bn x4, b/kernel, b/bias
    w[0][:2] = 0.0  # 10 of 20
    w[1][:] = 0.0  # biases do not count
    w[6][:] = 1.0
    model.set_weights(w)
    assert measure.sparsity(model) == pytest.approx(10 / 30)
    assert measure.sparsity_by_layer(model) == {"a": pytest.approx(0.5), "b": 0.0}


def test_unique_weights_and_clustered_wrapper():
    import tensorflow_model_optimization as tfmot

    model = model_of((6,), L.Dense(4, name="a"), L.Dense(3, name="b"))
    w = model.get_weights()
    w[0] = np.resize(np.array([0.1, -0.2, 0.3], np.float32), (6, 4))
    model.set_weights(w)
    counts = measure.unique_weights(model)
    assert counts["a"] == 3 and counts["b"] == 12
    cm = tfmot.clustering.keras.cluster_weights(
        model_of((6,), L.Dense(8), L.Dense(3)),
        number_of_clusters=4,
        cluster_centroids_init=tfmot.clustering.keras.CentroidInitialization.LINEAR,
    )
    assert all(1 <= n <= 4 for n in measure.unique_weights(cm).values())


# ------------------------------------------------------------------ TFLite


def to_tflite(model, *, int8=False, representative=None, batch=1):
    fn = tf.function(
        lambda x: model(x, training=False), input_signature=[tf.TensorSpec([batch, *model.input_shape[1:]], tf.float32)]
    )
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], model)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([representative[i : i + 1]] for i in range(len(representative)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


@pytest.fixture(scope="module")
def trained():
    """A small classifier on scikit-learn's bundled digits, with float inputs in [-3, 5] so the
    int8 input scale is far from 1/255 and its zero point far from -128."""
    from sklearn.datasets import load_digits

    keras.utils.set_random_seed(1)
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0 * 8.0 - 3.0)[..., None]
    y = digits.target.astype(np.int64)
    x_train, y_train, x_test, y_test = x[:1400], y[:1400], x[1400:], y[1400:]
    model = model_of((8, 8, 1), L.Conv2D(8, 3, activation="relu"), L.Flatten(), L.Dense(10))
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=8, batch_size=64, verbose=0)
    keras_accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(-1) == y_test))
    return dict(
        model=model,
        x=x_test,
        y=y_test,
        keras_accuracy=keras_accuracy,
        float_model=to_tflite(model),
        int8_model=to_tflite(model, int8=True, representative=x_train[:200]),
    )


def test_tflite_float_and_int8_accuracy_agree_with_keras(trained):
    assert trained["keras_accuracy"] > 0.8
    assert measure.tflite_accuracy(trained["float_model"], trained["x"], trained["y"]) == pytest.approx(
        trained["keras_accuracy"], abs=0.003
    )
    assert measure.tflite_accuracy(trained["int8_model"], trained["x"], trained["y"]) == pytest.approx(
        trained["keras_accuracy"], abs=0.03
    )


def test_tflite_reads_scale_and_zero_point_from_the_interpreter(trained):
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=trained["int8_model"])
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    scale, zero_point = inp["quantization"]
    assert inp["dtype"] == np.int8 and abs(scale - 1 / 255) > 1e-3 and zero_point != -128
    x, y = trained["x"][:60], trained["y"][:60]

    def manual(in_scale, in_zero_point):
        outputs = []
        for example in x:
            q = np.clip(np.round(example / in_scale + in_zero_point), -128, 127).astype(np.int8)
            interp.set_tensor(inp["index"], q[None])
            interp.invoke()
            o_scale, o_zero = out["quantization"]
            outputs.append((interp.get_tensor(out["index"])[0].astype(np.float32) - o_zero) * o_scale)
        return np.array(outputs)

    expected = manual(scale, zero_point)
    np.testing.assert_allclose(measure.tflite_predict(trained["int8_model"], x), expected, rtol=0, atol=1e-6)
    assert measure.tflite_accuracy(interp, x, y) == float(np.mean(expected.argmax(-1) == y))
    # a hard-coded 1/255 scale would give different outputs: the check above can tell them apart
    assert not np.allclose(manual(1 / 255, -128), expected)


def test_tflite_label_formats_and_batches(trained):
    model, x, y = trained["float_model"], trained["x"][:40], trained["y"][:40]
    acc = measure.tflite_accuracy(model, x, y)
    assert measure.tflite_accuracy(model, x, y[:, None]) == acc
    assert measure.tflite_accuracy(model, x, np.eye(10)[y]) == acc
    assert measure.tflite_accuracy(model, x, y, batch_size=16) == acc
    np.testing.assert_allclose(
        measure.tflite_predict(model, x, batch_size=7), measure.tflite_predict(model, x), atol=1e-5
    )


def test_tflite_errors_say_what_is_wrong(trained, tmp_path):
    model, x, y = trained["float_model"], trained["x"][:5], trained["y"][:5]
    with pytest.raises(ValueError, match=r"expects \(N, 8, 8, 1\): add the channel axis"):
        measure.tflite_predict(model, x[..., 0])
    with pytest.raises(ValueError, match="5 examples but y has 4"):
        measure.tflite_accuracy(model, x, y[:4])
    with pytest.raises(TypeError, match="convert it to TFLite first"):
        measure.tflite_predict(trained["model"], x)
    with pytest.raises(ValueError, match="batch_size"):
        measure.tflite_predict(model, x, batch_size=0)
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    assert measure.tflite_accuracy(path, x, y) == measure.tflite_accuracy(model, x, y)


# ------------------------------------------------------------------ latency


def test_latency_of_keras_tflite_and_interpreter(trained):
    from ai_edge_litert.interpreter import Interpreter

    x = trained["x"][:1]
    interp = Interpreter(model_content=trained["int8_model"])
    interp.allocate_tensors()
    for target in (trained["model"], trained["float_model"], interp):
        result = measure.latency(target, x, warmup=2, repeats=7)
        assert isinstance(result, measure.Latency)
        assert result.repeats == 7 and result.batch_size == 1
        assert 0 < result.p10_ms <= result.median_ms <= result.p90_ms
        assert result.mean_ms > 0 and result.std_ms >= 0
        assert "ms (p10" in str(result) and "n=7" in str(result)
    batched = measure.latency(trained["float_model"], trained["x"], repeats=3, batch_size=4)
    assert batched.batch_size == 4 and "batch 4" in str(batched)


def test_latency_str_format():
    assert str(measure.Latency(1.234, 1.1, 1.4, 1.25, 0.1, 50, 1)) == "1.23 ms (p10 1.10, p90 1.40, n=50)"
    assert str(measure.Latency(0.0042, 0.004, 0.0051, 0.0045, 0.0001, 5, 1)).startswith("0.0042 ms")


def test_latency_errors(trained):
    x = trained["x"][:2]
    with pytest.raises(TypeError, match="Keras model, TFLite bytes"):
        measure.latency(object(), x)
    with pytest.raises(ValueError, match="repeats"):
        measure.latency(trained["float_model"], x, repeats=0)
    with pytest.raises(ValueError, match="batch_size=5 but x has only 2"):
        measure.latency(trained["float_model"], x, batch_size=5)
    with pytest.raises(ValueError, match="expects"):
        measure.latency(trained["float_model"], x[..., 0])


def test_docstring_examples_hold():
    import doctest

    from effcourse.measure import counting, running, sizes

    failures = tried = 0
    for module in (measure, counting, sizes, running):
        f, t = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        failures, tried = failures + f, tried + t
    assert tried > 5 and failures == 0


def test_published_mult_adds_of_mobilenets():
    """The papers' multiply-add counts: MobileNet 0.25 at 128 px, 14 M (Howard et al., 2017,
    Table 7) and MobileNetV2 1.0 at 224 px, 300 M (Sandler et al., 2018, Table 4)."""
    v1 = keras.applications.MobileNet(weights=None, input_shape=(128, 128, 3), alpha=0.25)
    v2 = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    assert measure.count_macs(v1) == pytest.approx(14e6, abs=0.5e6)  # published to the million
    assert measure.count_macs(v2) == pytest.approx(300e6, rel=0.005)  # published as "300M"
