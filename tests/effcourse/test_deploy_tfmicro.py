"""effcourse.deploy.tfmicro: TFLM predictions equal LiteRT's, arena bisection, C array round trip."""

from __future__ import annotations

import numpy as np
import pytest

from effcourse.deploy import tfmicro

needs_tflm = pytest.mark.skipif(not tfmicro.available()[0], reason=tfmicro.available()[1] or "TFLM available")


@pytest.fixture(scope="module")
def int8_model() -> bytes:
    import effcourse

    effcourse.setup(seed=0)
    from effcourse.compat import keras
    from effcourse.deploy import tflite

    # Seeded here, not only by setup(): the weights must not depend on which tests this worker ran
    # before (TensorFlow's op seeds count the random ops created so far). One model in twelve gives a
    # one-step difference between LiteRT's reference kernels and TFLM on a rounding tie (see
    # tfmicro.litert_predict); this fixed model is one of the eleven, so the exact check below is a
    # regression check of this model, deterministic in any test order.
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.layers.Input((12, 10, 1)),
            keras.layers.Conv2D(4, 3, strides=2, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    x = np.random.default_rng(0).normal(size=(64, 12, 10, 1)).astype("float32")
    return tflite.convert(model, "int8", representative_dataset=tflite.representative_dataset(x, 32))


def test_available_returns_a_flag_and_a_reason():
    ok, why = tfmicro.available()
    assert isinstance(ok, bool) and isinstance(why, str)
    assert ok or "Linux" in why


def test_unavailable_runtime_raises_a_clear_error(monkeypatch, int8_model):
    monkeypatch.setattr(tfmicro, "available", lambda: (False, "no TFLM here: Linux only"))
    with pytest.raises(RuntimeError, match="Linux only"):
        tfmicro.interpreter(int8_model)


@needs_tflm
def test_predict_matches_litert_exactly(int8_model):
    x = np.random.default_rng(1).integers(-128, 128, size=(20, 12, 10, 1)).astype(np.int8)
    q = tfmicro.predict(int8_model, x)
    assert q.dtype == np.int8 and q.shape == (20, 3)
    np.testing.assert_array_equal(q, tfmicro.litert_predict(int8_model, x))  # reference kernels: identical
    optimized = tfmicro.litert_predict(int8_model, x, reference_kernels=False)
    assert optimized.shape == q.shape and np.abs(optimized.astype(int) - q).max() <= 1


def test_litert_predict_refuses_float_input(int8_model):
    with pytest.raises(TypeError, match="quantize"):
        tfmicro.litert_predict(int8_model, np.zeros((1, 12, 10, 1), np.float32))


@needs_tflm
def test_predict_refuses_float_input_and_wrong_shapes(int8_model):
    with pytest.raises(TypeError, match="quantize the inputs first"):
        tfmicro.predict(int8_model, np.zeros((2, 12, 10, 1), np.float32))
    with pytest.raises(ValueError, match="expects"):
        tfmicro.predict(int8_model, np.zeros((2, 10, 10, 1), np.int8))


@needs_tflm
def test_arena_size_is_the_smallest_that_works(int8_model):
    size = tfmicro.arena_size(int8_model, step=16)
    assert size % 16 == 0 and 0 < size < 64 * 1024
    x = np.zeros((1, 12, 10, 1), np.int8)
    tfmicro.predict(int8_model, x, arena_size=size)  # runs
    with pytest.raises(RuntimeError, match="arena_size"):
        tfmicro.predict(int8_model, x, arena_size=size - 16)


@needs_tflm
def test_arena_size_bad_bounds(int8_model):
    with pytest.raises(ValueError, match="low"):
        tfmicro.arena_size(int8_model, low=2048, high=1024)
    with pytest.raises(RuntimeError, match="raise high"):
        tfmicro.arena_size(int8_model, low=16, high=64)


def test_not_a_flatbuffer_is_refused(tmp_path):
    with pytest.raises(ValueError, match="TFL3"):
        tfmicro.export_c_array(b"not a model at all", "m", tmp_path)
    with pytest.raises(TypeError, match="bytes"):
        tfmicro.export_c_array(np.zeros(3), "m", tmp_path)
    assert not any(tmp_path.iterdir())


def test_export_c_array_round_trips_byte_for_byte(tmp_path, int8_model):
    settings = {"kFeatureCount": 49, "kInputScale": 0.0625, "kInputZeroPoint": -3}
    paths = tfmicro.export_c_array(int8_model, "kws", tmp_path, settings=settings)
    assert {p.name for p in paths.values()} == {"kws_model_data.h", "kws_model_data.cc", "model_settings.h"}
    source = paths["source"].read_text()
    assert "alignas(16) const unsigned char g_kws_model_data[] = {" in source
    assert '#include "kws_model_data.h"' in source
    assert tfmicro.read_c_array(source, "g_kws_model_data") == int8_model
    assert tfmicro.read_c_array(paths["source"]) == int8_model
    header = paths["header"].read_text()
    assert "extern const unsigned char g_kws_model_data[];" in header
    assert f"constexpr unsigned int g_kws_model_data_size = {len(int8_model)};" in header
    text = paths["settings"].read_text()
    assert "constexpr int kFeatureCount = 49;" in text
    assert "constexpr float kInputScale = 0.0625f;" in text
    assert "constexpr int kInputZeroPoint = -3;" in text


def test_export_c_array_never_overwrites_unless_asked(tmp_path, int8_model):
    (tmp_path / "model_settings.h").write_text("// mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        tfmicro.export_c_array(int8_model, "kws", tmp_path)
    assert (tmp_path / "model_settings.h").read_text() == "// mine"
    assert not (tmp_path / "kws_model_data.cc").exists()
    tfmicro.export_c_array(int8_model, "kws", tmp_path, overwrite=True)
    assert (tmp_path / "model_settings.h").read_text() != "// mine"


@pytest.mark.parametrize("name", ["1abc", "a-b", "", "a b"])
def test_export_c_array_bad_names(tmp_path, int8_model, name):
    with pytest.raises(ValueError, match="C identifier"):
        tfmicro.export_c_array(int8_model, name, tmp_path)
    with pytest.raises(ValueError, match="C identifier"):
        tfmicro.export_c_array(int8_model, "ok", tmp_path, settings={name: 1})


def test_export_c_array_bad_setting_values(tmp_path, int8_model):
    with pytest.raises(TypeError, match="int or a float"):
        tfmicro.export_c_array(int8_model, "m", tmp_path, settings={"kName": "x"})
    with pytest.raises(TypeError, match="bool"):
        tfmicro.export_c_array(int8_model, "m", tmp_path, settings={"kFlag": True})


def test_read_c_array_errors():
    assert tfmicro.read_c_array("const unsigned char g_x_model_data[] = {0x54, 0x46, 76};") == b"TFL"
    with pytest.raises(ValueError, match="no 'unsigned char"):
        tfmicro.read_c_array("int x[] = {1};")
    with pytest.raises(ValueError, match="not a byte"):
        tfmicro.read_c_array("unsigned char a[] = {0x100};")
    with pytest.raises(ValueError, match="integer literal"):
        tfmicro.read_c_array("unsigned char a[] = {zz};")


def test_quantize_input_reference():
    x = np.array([[0.0, 0.05, -0.05, 0.149, 100.0, -100.0]])
    q = tfmicro.quantize_input(x, 0.1, 3)
    assert q.dtype == np.int8 and q.shape == x.shape
    np.testing.assert_array_equal(q, [[3, 4, 2, 4, 127, -128]])  # halves away from zero, clipped
    with pytest.raises(ValueError, match="positive"):
        tfmicro.quantize_input(x, 0.0, 0)
