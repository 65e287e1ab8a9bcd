"""deploy.tflite and measure.running on the models people bring (issue 10, kinds 2 and 3).

Kind 2 (accepts what it cannot convert, returns a wrong model) is fixed as a kind by checks on
the *result* (every int8 conversion is verified full-integer, whatever made it float) and on
every input (Keras 3 objects in every helper, representative data against the model's input,
multi-output models in every running helper). Kind 3 (a native crash kills the kernel) is fixed
by running int8 calibration of anything outside the well-trodden layer set in a child process.
"""

from __future__ import annotations

import numpy as np
import pytest

from effcourse import measure
from effcourse.compat import keras, tf
from effcourse.deploy import tflite

L = keras.layers


def dense_model():
    return keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3)])


# ------------------------------------------------------------------ Keras 3 refused everywhere


@pytest.fixture(scope="module")
def keras3_model():
    k3 = pytest.importorskip("keras")
    if k3.__version__.startswith("2."):
        pytest.skip("keras is Keras 2 here")
    return k3.Sequential([k3.Input((4,)), k3.layers.Dense(3)])


HELPERS = {
    "convert": lambda m: tflite.convert(m),
    "convert int8": lambda m: tflite.convert(m, "int8", representative_dataset=np.zeros((4, 4), "float32")),
    "count_params": measure.count_params,
    "count_macs": measure.count_macs,
    "count_flops": measure.count_flops,
    "summary": measure.summary,
    "macs_by_layer": measure.macs_by_layer,
    "uncounted_layers": measure.uncounted_layers,
    "serialized_size": measure.serialized_size,
    "gzipped_size": measure.gzipped_size,
    "sparsity": measure.sparsity,
    "sparsity_by_layer": measure.sparsity_by_layer,
    "unique_weights": measure.unique_weights,
    "latency": lambda m: measure.latency(m, np.zeros((1, 4), "float32")),
    "interpreter": measure.interpreter,
    "tflite_predict": lambda m: measure.tflite_predict(m, np.zeros((1, 4), "float32")),
}


@pytest.mark.parametrize("helper", sorted(HELPERS))
def test_keras3_model_is_refused_with_the_count_params_message(helper, keras3_model):
    with pytest.raises(TypeError) as reference:
        measure.count_params(keras3_model)
    with pytest.raises(TypeError) as caught:
        HELPERS[helper](keras3_model)
    tail = "(this looks like a Keras 3 object: build models with `from effcourse.compat import keras`)"
    assert str(reference.value).endswith(tail)
    assert str(caught.value).endswith(tail), str(caught.value)


# ------------------------------------------------------------------ int8 really is int8


def test_empty_representative_dataset_is_refused():
    # the example: a generator that yields nothing gave a float32 "int8" model
    with pytest.raises(ValueError, match="yielded nothing"):
        tflite.convert(dense_model(), "int8", representative_dataset=lambda: iter([]))


def test_int8_result_is_verified_full_integer_and_names_what_stayed_float(monkeypatch):
    model = dense_model()
    x = np.random.default_rng(0).random((16, 4), dtype=np.float32)
    good = tflite.convert(model, "int8", representative_dataset=x)
    assert tflite.float_leftovers(good) == []
    float_model = tflite.convert(model, "float")
    left = tflite.float_leftovers(float_model)
    assert any(line.startswith("input ") and "float32" in line for line in left)
    assert any(line.startswith("op FULLY_CONNECTED") for line in left)

    # whatever makes the converter return float (here: it ignores the int8 request), convert raises
    from effcourse.deploy import tflite as module

    real = module._configure
    monkeypatch.setattr(module, "_configure", lambda c, mode, samples, fb: real(c, "float", None, fb))
    with pytest.raises(ValueError, match=r"not full-integer; stayed float: input .*FULLY_CONNECTED"):
        tflite.convert(model, "int8", representative_dataset=x)
    # float fallback is the user's explicit choice
    assert tflite.convert(model, "int8", representative_dataset=x, float_fallback=True)


def test_token_id_inputs_stay_integer():
    # the example: ids 100-103 became one int8 code and accuracy fell from 0.99 to 0.53
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 200, size=(400, 6))
    y = (ids[:, 0] >= 100).astype("int64")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), L.Embedding(200, 8), L.Flatten(), L.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(ids, y, epochs=20, batch_size=64, verbose=0)
    keras_accuracy = model.evaluate(ids, y, verbose=0)[1]
    assert keras_accuracy > 0.95
    int8_model = tflite.convert(model, "int8", representative_dataset=ids)
    info = tflite.io_details(int8_model)["input"]
    assert info["dtype"] == "int32" and not info["quantized"]
    # distinct ids reach the embedding as distinct ids
    assert measure.tflite_accuracy(int8_model, ids, y) >= keras_accuracy - 0.02
    with pytest.raises(ValueError, match="whole numbers"):
        measure.tflite_predict(int8_model, ids[:2] + 0.5)


def test_representative_data_of_the_wrong_shape_says_what_was_expected():
    with pytest.raises(ValueError, match=r"shape \(1, 5\), but the model's input is \(1, 4\)"):
        tflite.convert(dense_model(), "int8", representative_dataset=np.zeros((10, 5), "float32"))

    def two_arrays():
        yield [np.zeros((1, 4), "float32"), np.zeros((1, 4), "float32")]

    with pytest.raises(ValueError, match="holds 2 arrays"):
        tflite.convert(dense_model(), "int8", representative_dataset=two_arrays)


# ------------------------------------------------------------------ several outputs


def test_multi_output_models_are_refused_clearly_by_every_running_helper():
    x = keras.Input((4,))
    model = keras.Model(x, [L.Dense(2, name="a")(x), L.Dense(3, name="b")(x)])
    tflite_model = tflite.convert(model)
    data = np.zeros((2, 4), "float32")
    for call in (
        lambda: measure.tflite_predict(tflite_model, data),
        lambda: measure.tflite_accuracy(tflite_model, data, np.zeros(2)),
        lambda: tflite.io_details(tflite_model),
    ):
        with pytest.raises(ValueError, match="one output; this one has 2|2 outputs"):
            call()


# ------------------------------------------------------------------ the kernel survives a converter crash


def test_gru_int8_crash_becomes_an_exception_and_the_process_survives():
    # TensorFlow 2.21's calibrator dies with SIGSEGV on a GRU; the conversion runs in a child
    model = keras.Sequential([keras.Input((8, 4)), L.GRU(8), L.Dense(3)])
    x = np.random.default_rng(0).random((20, 8, 4), dtype=np.float32)
    try:
        tflite_model = tflite.convert(model, "int8", representative_dataset=x)
    except RuntimeError as err:
        assert "converter crashed" in str(err) or "converter failed" in str(err)
        assert "child process" in str(err)
    except ValueError as err:  # a fixed TensorFlow that converts but leaves float ops
        assert "not full-integer" in str(err)
    else:
        assert tflite.float_leftovers(tflite_model) == []
    assert model.predict(x[:1], verbose=0).shape == (1, 3)  # still alive


def test_isolated_conversion_matches_in_process_conversion():
    model = dense_model()
    x = np.random.default_rng(1).random((16, 4), dtype=np.float32)
    here = tflite.convert(model, "int8", representative_dataset=x, isolate=False)
    there = tflite.convert(model, "int8", representative_dataset=x, isolate=True)
    probe = np.random.default_rng(2).random((8, 4), dtype=np.float32)
    np.testing.assert_allclose(measure.tflite_predict(here, probe), measure.tflite_predict(there, probe), atol=1e-6)


# ------------------------------------------------------------------ from_keras_model works with Keras 2


def test_from_keras_model_converts_keras2_sequential_models():
    # the old docstring said from_keras_model fails with tf_keras models: it does not
    tflite_model = tf.lite.TFLiteConverter.from_keras_model(dense_model()).convert()
    assert tflite.io_details(tflite_model)["input"]["shape"] == (1, 4)


# ------------------------------------------------------------------ the converter saves a holder of the variables


def _conv_model():
    inputs = keras.Input((16, 16, 3))
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = L.SeparableConv2D(8, 3, padding="same")(x)
    x = L.BatchNormalization()(x)
    return keras.Model(inputs, L.Conv2DTranspose(3, 3, strides=2, padding="same")(L.ReLU(6.0)(x)))


def _gru_model():
    inputs = keras.Input((12,), dtype="int32")
    x = L.Embedding(30, 4, mask_zero=True)(inputs)
    return keras.Model(inputs, L.Dense(3)(L.RNN(L.GRUCell(4))(x)))


@pytest.mark.parametrize(
    "build, mode",
    [(_conv_model, "float"), (_conv_model, "int8"), (_conv_model, "float16"), (_gru_model, "dynamic")],
)
def test_conversion_is_byte_identical_to_converting_with_the_keras_model(build, mode, monkeypatch):
    # convert() hands the converter a tf.Module holding the variables, not the Keras model (which Keras
    # serialises layer by layer, most of a conversion's time): the flatbuffer must not change
    keras.utils.set_random_seed(0)
    model = build()
    rep = np.random.default_rng(0).random((8, 16, 16, 3), dtype=np.float32) if mode == "int8" else None
    fast = tflite.convert(model, mode, representative_dataset=rep, isolate=False)
    holders = []
    monkeypatch.setattr(tflite, "_holder", lambda m: holders.append(m) or m)  # the Keras model itself, as before
    slow = tflite.convert(model, mode, representative_dataset=rep, isolate=False)
    assert holders == [model]
    assert fast == slow
