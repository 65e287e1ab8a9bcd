"""Targets of solutions/ch02_compression/02_quantizing_a_model.ipynb, checked from its recorded figures.

Every claim the notebook's prose makes is asserted here: int8 is under 30% of the float32 file,
float16 about half; int8 post-training quantization costs at most one point of accuracy and QAT
at most half a point; the int8 input tensor maps [0, 1] with scale 1/255 and zero point -128;
dynamic range leaves the small first kernel in float32; float16 kernels get float32 copies at run time.
Latency is recorded but which variant is faster is not asserted: the notebook prints a sentence
chosen from the measured medians, because it depends on the CPU.
"""

from __future__ import annotations

import pytest

NAME = "ch02_compression/02_quantizing_a_model"
REQUIRED = [
    "float_accuracy",
    "dynamic_accuracy",
    "float16_accuracy",
    "int8_accuracy",
    "qat_int8_accuracy",
    "float_bytes",
    "dynamic_bytes",
    "float16_bytes",
    "int8_bytes",
    "float_latency_ms",
    "int8_latency_ms",
]


@pytest.fixture(scope="module")
def run(solution_run):
    return solution_run(NAME)


@pytest.fixture(scope="module")
def figures(run):
    missing = [k for k in REQUIRED if k not in run.results]
    assert not missing, f"the notebook did not record {missing}; errors: {run.errors}"
    return run.results


def test_executes_without_errors(run, record_property):
    record_property("seconds", round(run.seconds, 1))
    print(f"\n{NAME} executed in {run.seconds:.1f} s (budget 90 s; not asserted)")
    for key, value in sorted(run.results.items()):
        print(f"  {key} = {value}")
    assert not run.errors, "cells raised errors:\n" + "\n".join(run.errors)


def test_int8_is_under_30_percent_of_float(figures):
    assert figures["int8_bytes"] <= 0.30 * figures["float_bytes"], figures


def test_dynamic_range_is_about_a_quarter_and_float16_about_half(figures):
    float_bytes = figures["float_bytes"]
    assert figures["dynamic_bytes"] <= 0.30 * float_bytes
    assert 0.45 * float_bytes <= figures["float16_bytes"] <= 0.55 * float_bytes
    assert figures["qat_int8_bytes"] <= 0.30 * float_bytes


def test_float_model_is_trained_and_tflite_matches_keras(figures):
    assert figures["float_accuracy"] >= 0.90
    assert abs(figures["float_accuracy"] - figures["keras_accuracy"]) <= 0.002


def test_int8_post_training_accuracy_within_one_point(figures):
    assert figures["int8_accuracy"] >= figures["float_accuracy"] - 0.01
    assert figures["int8_float_agreement"] >= 0.98


def test_dynamic_and_float16_lose_little(figures):
    assert figures["dynamic_accuracy"] >= figures["float_accuracy"] - 0.01
    assert figures["float16_accuracy"] >= figures["float_accuracy"] - 0.002


def test_qat_int8_accuracy_within_half_a_point(figures):
    assert figures["qat_int8_accuracy"] >= figures["float_accuracy"] - 0.005


def test_dynamic_range_leaves_only_the_small_first_kernel_in_float32(figures):
    # the prose: the first convolution (288 weights < 1,024) stays float32, the others are int8
    assert figures["dynamic_float32_kernels"] == 1


def test_float16_model_gets_float32_copies_at_load_time(figures):
    assert figures["float16_kernels"] == 4
    assert figures["float16_float32_copies"] == figures["float16_kernels"]


def test_int8_input_maps_unit_interval(figures):
    assert figures["int8_input_zero_point"] == -128
    assert figures["int8_input_scale"] == pytest.approx(1 / 255, rel=2e-3)


def test_latency_recorded(figures):
    for key in (
        "float_latency_ms",
        "int8_latency_ms",
        "dynamic_latency_ms",
        "float16_latency_ms",
        "qat_int8_latency_ms",
    ):
        assert 0 < figures[key] < 100, (key, figures[key])
    print(f"\nlatency float32 {figures['float_latency_ms']:.4f} ms, int8 {figures['int8_latency_ms']:.4f} ms")
