"""ch02_compression/03_integer_arithmetic: executes cleanly and its figures meet their targets.

The targets come from what the notebook teaches, not from a past run:
- integer inference is deterministic arithmetic: the learner's int8 layer (one rounding) must
  reproduce every output code of LiteRT's FULLY_CONNECTED layers (``bit_exact_fraction == 1``);
  the classic two-step rounding may differ, but only in rare ties (>= 99.9% identical);
- fake quantization with a straight-through estimator trains as well as tfmot's QAT from the
  same float model: medians over 3 seeds within 0.02 (the issue's target);
- number formats (van Baalen et al., 2023): with max scaling INT8 has the smallest error on
  Gaussian-like weights, E5M2 the largest; E4M3 beats INT8 once outlier channels stretch the
  range; the computed agreement flag must follow from the recorded MSEs.
"""

import pytest

NAME = "ch02_compression/03_integer_arithmetic"

pytestmark = pytest.mark.slow

KEYS = [
    "bit_exact_fraction",
    "ste_accuracy",
    "tfmot_qat_accuracy",
    "int8_mse_weights",
    "e4m3_mse_weights",
    "e5m2_mse_weights",
    "int8_mse_outliers",
    "e4m3_mse_outliers",
]


def test_every_issue_key_is_recorded(results):
    missing = [k for k in KEYS if k not in results]
    assert not missing, f"not recorded: {missing}"


def test_int8_layer_is_bit_exact_with_litert(results):
    assert results["bit_exact_outputs_checked"] >= 10_000
    assert results["bit_exact_fraction"] == 1.0
    assert results["bit_exact_fraction_reference_kernels"] == 1.0
    # two roundings differ only at rare ties
    assert 0.999 <= results["bit_exact_fraction_double_rounding"] <= 1.0


def test_ste_matches_tfmot_qat(results):
    ste, qat = results["ste_accuracy"], results["tfmot_qat_accuracy"]
    assert abs(ste - qat) <= 0.02, f"STE {ste:.4f} vs tfmot QAT {qat:.4f}"
    # both fine-tuned models are real classifiers (10 classes: chance is 0.1), not worse than float by much
    for acc in (ste, qat):
        assert acc >= results["qat_float_accuracy"] - 0.03 and acc >= 0.7
    p_values = results["ste_vs_tfmot_p_values"]
    assert len(p_values) >= 3 and all(0.0 <= p <= 1.0 for p in p_values)


def test_number_formats_follow_their_error_models(results):
    assert results["int8_mse_weights"] < results["e4m3_mse_weights"] < results["e5m2_mse_weights"]
    assert results["e4m3_mse_outliers"] < results["int8_mse_outliers"]
    agrees = (
        min(("int8", "e4m3", "e5m2"), key=lambda f: results[f"{f}_mse_weights"]) == "int8"
        and results["e4m3_mse_outliers"] < results["int8_mse_outliers"]
        and results["e5m2_mse_weights"] > results["e4m3_mse_weights"]
    )
    assert results["formats_agree_with_whitepaper"] is agrees
