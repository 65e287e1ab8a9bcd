"""Tests of effcourse.deploy.tflite: conversion modes, representative datasets, interpreter, io details."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import effcourse
from effcourse.deploy import tflite


@pytest.fixture(scope="module")
def model_and_data():
    """A tiny CNN with fixed random weights (enough for conversion tests) and inputs in [0, 1)."""
    effcourse.setup(seed=0, style=False)
    from effcourse.compat import keras

    rng = np.random.default_rng(0)
    x = rng.random((64, 8, 8, 1), dtype=np.float32)
    model = keras.Sequential(
        [
            keras.layers.Input((8, 8, 1)),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(4),
        ]
    )
    # Weights from NumPy, not from Keras's initializers: those draw from TensorFlow's and Keras's
    # global generators, whose state depends on what else ran in this process (a clean-clone CI
    # once tested another draw, whose int8 error was 7.4% of the spread). Over ten draws of these
    # Glorot-uniform weights the int8 model's largest error was 0.4% to 17.6% of the output spread
    # (an untrained net's outputs spread little next to its activations); this draw's is 2.6%.
    weights = []
    for w in model.get_weights():
        if w.ndim == 1:
            weights.append(np.zeros_like(w))
        else:
            receptive = int(np.prod(w.shape[:-2]))
            limit = np.sqrt(6 / (receptive * (w.shape[-2] + w.shape[-1])))
            weights.append(rng.uniform(-limit, limit, w.shape).astype(np.float32))
    model.set_weights(weights)
    return model, x


@pytest.fixture(scope="module")
def converted(model_and_data):
    model, x = model_and_data
    return {
        "float": tflite.convert(model, "float"),
        "dynamic": tflite.convert(model, "dynamic"),
        "float16": tflite.convert(model, "float16"),
        "int8": tflite.convert(model, "int8", representative_dataset=tflite.representative_dataset(x, 32)),
    }


def _run(tflite_model: bytes, x: np.ndarray) -> np.ndarray:
    """Reference float-in/float-out runner written independently of the module under test."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=tflite_model)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    results = []
    for example in x:
        batch = example[None]
        if inp["dtype"] == np.int8:
            scale, zero = inp["quantization"]
            batch = np.clip(np.round(batch / scale) + zero, -128, 127).astype(np.int8)
        it.set_tensor(inp["index"], batch)
        it.invoke()
        y = it.get_tensor(out["index"])[0]
        if out["dtype"] == np.int8:
            scale, zero = out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        results.append(y)
    return np.array(results)


def test_import_is_light():
    code = "import sys, effcourse.deploy; print('tensorflow' in sys.modules, 'ai_edge_litert' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False False"


def test_modes_sizes_and_dtypes(converted):
    sizes = {mode: len(b) for mode, b in converted.items()}
    assert all(isinstance(b, bytes) for b in converted.values())
    # ~1.2k conv + ~37k dense weights: int8 weights ~4x smaller, float16 ~2x smaller than float32
    assert sizes["int8"] < 0.4 * sizes["float"]
    assert sizes["dynamic"] < 0.4 * sizes["float"]
    assert 0.4 * sizes["float"] < sizes["float16"] < 0.6 * sizes["float"]
    for mode in ("float", "dynamic", "float16"):
        info = tflite.io_details(converted[mode])
        assert info["input"]["dtype"] == "float32" and not info["input"]["quantized"]
        assert info["input"]["shape"] == (1, 8, 8, 1)
        assert info["output"]["shape"] == (1, 4)
    info = tflite.io_details(converted["int8"])
    for side in ("input", "output"):
        assert info[side]["dtype"] == "int8"
        assert info[side]["quantized"] and info[side]["scale"] > 0
        assert -128 <= info[side]["zero_point"] <= 127


def test_outputs_match_keras(model_and_data, converted):
    model, x = model_and_data
    expected = model.predict(x[:16], verbose=0)
    spread = float(np.ptp(expected))
    np.testing.assert_allclose(_run(converted["float"], x[:16]), expected, rtol=1e-4, atol=1e-5)
    for mode, tol in (("float16", 0.01), ("dynamic", 0.05), ("int8", 0.05)):
        err = np.max(np.abs(_run(converted[mode], x[:16]) - expected))
        assert err <= tol * spread + 1e-6, f"{mode}: max error {err} vs output spread {spread}"


def test_int8_input_scale_covers_calibration_range(converted):
    # inputs were in [0, 1): the calibrated input range must cover it with 256 levels
    info = tflite.io_details(converted["int8"])["input"]
    lo = info["scale"] * (-128 - info["zero_point"])
    hi = info["scale"] * (127 - info["zero_point"])
    assert lo <= 0.0 + 1e-6 and hi >= 0.99


def test_int8_accepts_array_as_representative_dataset(model_and_data):
    model, x = model_and_data
    tflite_model = tflite.convert(model, "int8", representative_dataset=x)
    assert tflite.io_details(tflite_model)["input"]["dtype"] == "int8"


def test_int8_needs_representative_dataset(model_and_data):
    model, _ = model_and_data
    with pytest.raises(ValueError, match="representative dataset"):
        tflite.convert(model, "int8")


def test_other_modes_reject_representative_dataset(model_and_data):
    model, x = model_and_data
    with pytest.raises(ValueError, match="does not use a representative dataset"):
        tflite.convert(model, "dynamic", representative_dataset=x)


def test_unknown_mode(model_and_data):
    model, _ = model_and_data
    with pytest.raises(ValueError, match="unknown mode 'int4'"):
        tflite.convert(model, "int4")


def test_not_a_model():
    with pytest.raises(TypeError, match="Keras model"):
        tflite.convert("model.h5")


def test_input_shape_argument_and_unbuilt_model():
    from effcourse.compat import keras

    model = keras.Sequential([keras.layers.Dense(3)])  # not built: no input shape
    with pytest.raises(ValueError, match="input_shape"):
        tflite.convert(model)
    tflite_model = tflite.convert(model, input_shape=(5,))
    assert tflite.io_details(tflite_model)["input"]["shape"] == (1, 5)
    with pytest.raises(ValueError, match="without the batch axis"):
        tflite.convert(model, input_shape=(0, 5))


def test_representative_dataset_items():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, size=(50, 4, 4, 2)).astype(np.float64)
    gen = tflite.representative_dataset(x, num_samples=20, seed=3)
    items = list(gen())
    assert len(items) == 20
    rows = {x[i].tobytes() for i in range(len(x))}
    seen = set()
    for item in items:
        assert isinstance(item, list) and len(item) == 1
        batch = item[0]
        assert batch.shape == (1, 4, 4, 2) and batch.dtype == np.float32
        assert batch[0].astype(np.float64).tobytes() in rows  # drawn from x, values unchanged
        seen.add(batch.tobytes())
    assert len(seen) == 20  # without replacement
    # callable twice, same items; different seed, different subset
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(items, gen()))
    other = [i[0] for i in tflite.representative_dataset(x, 20, seed=4)()]
    assert not all(np.array_equal(a[0], b) for a, b in zip(items, other))


def test_representative_dataset_first_samples_and_small_x():
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    first = [i[0] for i in tflite.representative_dataset(x, 4, seed=None)()]
    np.testing.assert_array_equal(np.concatenate(first), x[:4])
    assert len(list(tflite.representative_dataset(x, 100)())) == 10


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_representative_dataset_bad_num_samples(bad):
    with pytest.raises(ValueError, match="num_samples"):
        tflite.representative_dataset(np.zeros((5, 2)), bad)


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((0, 3)), np.array([["a", "b"]])])
def test_representative_dataset_bad_x(bad):
    with pytest.raises(ValueError, match="x must"):
        tflite.representative_dataset(bad)


def test_interpreter_from_bytes_and_path(converted, tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(converted["float"])
    for source in (converted["float"], bytearray(converted["float"]), path, str(path)):
        it = tflite.interpreter(source, num_threads=1)
        inp = it.get_input_details()[0]
        it.set_tensor(inp["index"], np.zeros(inp["shape"], np.float32))
        it.invoke()
    assert tflite.io_details(it)["output"]["shape"] == (1, 4)  # an interpreter works too


def test_interpreter_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tflite.interpreter(tmp_path / "missing.tflite")
    with pytest.raises(TypeError, match="TFLite bytes or a path"):
        tflite.interpreter(123)
    with pytest.raises(ValueError, match="TFLite"):
        tflite.interpreter(b"abc")
    with pytest.raises(ValueError):
        tflite.interpreter(b"not a flatbuffer at all, just some text")


def test_conversion_is_quiet_on_stderr(model_and_data, capfd):
    model, x = model_and_data
    capfd.readouterr()
    tflite.convert(model, "int8", representative_dataset=x[:8])
    captured = capfd.readouterr()
    assert "fully_quantize" not in captured.err and "inference_type" not in captured.err, captured.err


def test_conversion_failure_keeps_the_converter_log(model_and_data):
    model, x = model_and_data

    def broken():
        yield [x[:1]]
        raise RuntimeError("calibration data ran out")

    with pytest.raises(RuntimeError, match="calibration data ran out"):
        tflite.convert(model, "int8", representative_dataset=broken)


def test_not_quiet_lets_the_converter_speak(model_and_data, capfd):
    model, x = model_and_data
    capfd.readouterr()
    tflite.convert(model, "int8", representative_dataset=x[:8], quiet=False)
    assert "inference_type" in capfd.readouterr().err  # the chatter quiet=True hides
