"""projects_tflite_benchmark/01_benchmarking: executes cleanly and its figures meet the project's targets.

The targets are the issue's, not a past run:
- sizes: int8 <= float32 / 3 and float16 <= float32 / 1.8 (one and two bytes per weight, plus the
  flatbuffer's fixed overhead); dynamic-range stores int8 weights too;
- accuracy: the int8 model within 0.02 of the float one, and the paired (McNemar) test recorded;
- latency and memory are recorded for every variant x threads x delegate, and only checked for being
  present, positive and consistent (median <= p90; the median inside the round medians' range):
  speed depends on the machine and is reported, never asserted.
"""

import pytest

NAME = "projects_tflite_benchmark/01_benchmarking"
MODES = ("float", "dynamic", "float16", "int8")

pytestmark = pytest.mark.slow


def test_quantized_variants_are_smaller(results):
    float_bytes = results["bytes_float"]
    assert results["bytes_int8"] <= float_bytes / 3
    assert results["bytes_dynamic"] <= float_bytes / 3
    assert results["bytes_float16"] <= float_bytes / 1.8


def test_float_model_learns_the_digits(results):
    # 10 balanced classes: chance is 0.1
    assert results["accuracy_float"] >= 0.9


def test_int8_keeps_the_float_accuracy(results):
    assert abs(results["accuracy_int8"] - results["accuracy_float"]) <= 0.02
    assert results["int8_vs_float_difference"] == pytest.approx(results["accuracy_int8"] - results["accuracy_float"])
    assert 0.0 <= results["int8_vs_float_p_value"] <= 1.0
    assert results["int8_vs_float_discordant"] >= 0
    for mode in ("dynamic", "float16"):
        assert abs(results[f"accuracy_{mode}"] - results["accuracy_float"]) <= 0.02


def test_latency_recorded_for_every_configuration(results):
    latency = results["latency"]
    expected = {f"{m}_{t}t_{k}" for m in MODES for t in (1, 2) for k in ("xnnpack", "builtin")}
    assert set(latency) == expected
    for key, figures in latency.items():
        assert 0 < figures["median_ms"] <= figures["p90_ms"], key
        assert figures["low_ms"] <= figures["median_ms"] <= figures["high_ms"], key


def test_peak_memory_recorded(results):
    memory = results["peak_memory_bytes"]
    assert set(memory) == {f"{m}_{k}" for m in MODES for k in ("xnnpack", "builtin")}
    assert all(value >= 0 for value in memory.values())
