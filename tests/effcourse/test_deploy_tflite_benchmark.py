"""effcourse.deploy.tflite benchmarking: time_invocations, benchmark, peak_memory, interpreter(xnnpack=),
and measure.compare_latency keeping every run."""

from __future__ import annotations

import numpy as np
import pytest

import effcourse
from effcourse import measure
from effcourse.deploy import tflite


@pytest.fixture(scope="module")
def variants():
    effcourse.setup(seed=0, style=False)
    from effcourse.compat import keras

    rng = np.random.default_rng(0)
    x = rng.random((32, 6, 6, 1), dtype=np.float32)
    model = keras.Sequential(
        [
            keras.layers.Input((6, 6, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    return {"float": tflite.convert(model, "float"), "int8": tflite.convert(model, "int8", representative_dataset=x)}


def _fake(durations):
    state = {"now": 10.0, "calls": 0}

    def clock():
        return state["now"]

    def invoke():
        state["now"] += durations[min(state["calls"], len(durations) - 1)]
        state["calls"] += 1

    return state, clock, invoke


def test_time_invocations_excludes_warmup_and_uses_linear_percentiles():
    rng = np.random.default_rng(1)
    durations = rng.uniform(1e-4, 1e-3, size=17)
    durations[:4] += 1.0
    state, clock, invoke = _fake(durations)
    stats = tflite.time_invocations(invoke, warmup=np.int64(4), repeats=13, clock=clock)
    expected = durations[4:] * 1000
    assert state["calls"] == 17
    np.testing.assert_allclose(stats["times_ms"], expected, rtol=1e-9)
    assert stats["median_ms"] == pytest.approx(np.median(expected))
    assert stats["p90_ms"] == pytest.approx(np.percentile(expected, 90))
    assert stats["p90_ms"] != pytest.approx(np.percentile(expected, 90, method="nearest"))


def test_time_invocations_default_clock_and_errors():
    stats = tflite.time_invocations(lambda: None, warmup=0, repeats=3)
    assert stats["times_ms"].shape == (3,) and np.all(stats["times_ms"] >= 0)
    with pytest.raises(ValueError, match="repeats"):
        tflite.time_invocations(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        tflite.time_invocations(lambda: None, warmup=-1)
    with pytest.raises(TypeError, match="callable"):
        tflite.time_invocations(None)


def test_interpreter_without_xnnpack_gives_the_same_outputs(variants):
    x = np.random.default_rng(2).random((1, 6, 6, 1), dtype=np.float32)
    outputs = []
    for delegate in (True, False):
        it = tflite.interpreter(variants["float"], num_threads=1, xnnpack=delegate)
        inp, out = it.get_input_details()[0], it.get_output_details()[0]
        it.set_tensor(inp["index"], x)
        it.invoke()
        outputs.append(it.get_tensor(out["index"]))
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-4, atol=1e-5)
    with pytest.raises(TypeError, match="xnnpack"):
        tflite.interpreter(variants["float"], xnnpack="no")


def test_compare_latency_keeps_every_run(variants):
    result = measure.compare_latency({"f": variants["float"]}, np.zeros((1, 6, 6, 1), np.float32), rounds=3, repeats=4)
    t = result["f"]
    assert len(t.times_ms) == 12
    assert t.p90_ms == pytest.approx(np.percentile(t.times_ms, 90))
    assert t.percentile(50) == pytest.approx(np.median(t.times_ms))
    with pytest.raises(ValueError, match="between 0 and 100"):
        t.percentile(101)
    with pytest.raises(ValueError, match="no individual runs"):
        measure.LatencyComparison(1.0, 1.0, 1.0, (1.0,), 1).percentile(50)


def test_benchmark_grid(variants):
    rows = tflite.benchmark(variants, num_threads=(1, 2), xnnpack=(True, False), rounds=3, repeats=3, warmup=1)
    assert [(r["model"], r["threads"], r["xnnpack"]) for r in rows] == [
        (m, t, d) for m in ("float", "int8") for t in (1, 2) for d in (True, False)
    ]
    for r in rows:
        assert r["times_ms"].shape == (9,)
        assert 0 < r["median_ms"] and r["low_ms"] <= r["median_ms"] <= r["high_ms"]
        assert r["p90_ms"] == pytest.approx(np.percentile(r["times_ms"], 90))
    one = tflite.benchmark(
        variants["int8"],
        np.zeros((1, 6, 6, 1), np.float32),
        num_threads=1,
        xnnpack=False,
        rounds=3,
        repeats=2,
        warmup=0,
    )
    assert len(one) == 1 and one[0]["model"] == "model" and one[0]["xnnpack"] is False


def test_benchmark_bad_input(variants, tmp_path):
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        tflite.benchmark(b"this is not a model at all")
    path = tmp_path / "notes.tflite"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(ValueError, match="TFL3"):
        tflite.benchmark(str(path))
    with pytest.raises(FileNotFoundError):
        tflite.benchmark(str(tmp_path / "missing.tflite"))
    with pytest.raises(TypeError, match="convert it first"):
        tflite.benchmark(lambda x: x)
    with pytest.raises(ValueError, match="float inputs"):
        tflite.benchmark(variants["int8"], np.zeros((1, 6, 6, 1), np.int8))
    with pytest.raises(ValueError, match="shape"):
        tflite.benchmark(variants["float"], np.zeros((1, 5, 5, 1), np.float32))
    with pytest.raises(ValueError, match="num_threads"):
        tflite.benchmark(variants["float"], num_threads=0)
    with pytest.raises(ValueError, match="xnnpack"):
        tflite.benchmark(variants["float"], xnnpack="yes")


def test_benchmark_dynamic_shape_needs_x():
    effcourse.setup(seed=0, style=False)
    from effcourse.compat import keras, tf

    model = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(2)])
    dynamic = bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())  # batch None -> -1
    with pytest.raises(ValueError, match="dynamic"):
        tflite.benchmark(dynamic)
    rows = tflite.benchmark(dynamic, np.zeros((2, 4), np.float32), num_threads=1, xnnpack=True, rounds=3, repeats=2)
    assert rows[0]["times_ms"].shape == (6,)


def test_peak_memory(variants):
    grown = tflite.peak_memory(variants["float"], xnnpack=False, runs=1)
    assert isinstance(grown, int) and grown >= 0
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        tflite.peak_memory(b"12345678910")
    with pytest.raises(ValueError, match="runs"):
        tflite.peak_memory(variants["float"], runs=0)
