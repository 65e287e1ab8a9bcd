"""ch02_compression/01_quantization_from_scratch: executes cleanly and its figures meet their targets.

The targets come from the math the notebook teaches, not from a past run:
- uniform quantization error has mean square s**2 / 12, so PSNR = 20 log10(2**b - 1) + 10 log10(12)
  (about 6.02 dB per bit); the photo (8-bit data) must follow it within 0.5 dB from 2 to 7 bits
  and be reproduced exactly at 8 bits;
- packing b-bit codes takes ceil(N * b / 8) bytes;
- per-tensor vs per-channel MSE: ratio about C * max|w|**2 / sum_c max|w_c|**2, about 15 for 16
  channels with one 20x outlier channel, so per-channel must win by at least 10x at 8 bits.
"""

import math

import pytest

NAME = "ch02_compression/01_quantization_from_scratch"

pytestmark = pytest.mark.slow


def _by_bits(figures):
    return {int(bits): value for bits, value in figures.items()}


def test_psnr_rises_with_every_bit_and_follows_6_db_per_bit(results):
    psnr = _by_bits(results["psnr_db"])
    theory = _by_bits(results["psnr_theory_db"])
    assert sorted(psnr) == list(range(1, 8)), "PSNR recorded for 1..7 bits (8 bits is lossless)"
    values = [psnr[b] for b in sorted(psnr)]
    assert all(b > a for a, b in zip(values, values[1:])), f"PSNR must rise with every bit: {values}"
    for bits in range(2, 8):
        assert theory[bits] == pytest.approx(20 * math.log10(2**bits - 1) + 10 * math.log10(12))
        assert abs(psnr[bits] - theory[bits]) <= 0.5, (
            f"{bits} bits: {psnr[bits]:.2f} dB vs {theory[bits]:.2f} predicted"
        )
    assert results["theory_gap_db"] <= 0.5
    assert results["db_per_bit"] == pytest.approx(results["db_per_bit_theory"], abs=0.2)
    assert 5.5 <= results["db_per_bit"] <= 7.0
    assert psnr[7] >= 50.0  # 7 bits: 52.9 dB predicted
    # "at 1 bit the prediction is off": the error of a 2-level quantizer is not uniform
    assert abs(psnr[1] - theory[1]) > results["theory_gap_db"]


def test_eight_bits_reproduce_the_8_bit_photo_exactly(results):
    assert results["lossless_bits"] == 8


def test_storage_is_bits_times_values(results):
    num_values = results["num_values"]
    assert results["float32_bytes"] == 4 * num_values
    packed = _by_bits(results["packed_bytes"])
    assert sorted(packed) == list(range(1, 9))
    for bits, size in packed.items():
        assert size == math.ceil(num_values * bits / 8)
    assert results["float32_bytes"] / packed[8] == pytest.approx(4.0, rel=1e-3)


def test_target_psnr_bits_is_the_smallest_that_reaches_30_db(results):
    psnr = _by_bits(results["psnr_db"])
    bits = results["bits_for_target_psnr"]
    assert psnr[bits] >= 30.0 and (bits == 1 or psnr[bits - 1] < 30.0)
    assert results["target_compression_vs_float32"] == pytest.approx(32 / bits, rel=1e-3)


def test_per_channel_beats_per_tensor_with_an_outlier_channel(results):
    per_tensor, per_channel = results["weight_mse_per_tensor"], results["weight_mse_per_channel"]
    for bits in ("8", "4"):
        assert per_channel[bits] < per_tensor[bits], bits
    assert results["per_channel_gain"] == pytest.approx(per_tensor["8"] / per_channel["8"])
    assert results["per_channel_gain"] >= 10.0
    # the uniform-error model explains the gain at 8 bits
    assert results["per_channel_gain"] == pytest.approx(results["per_channel_gain_predicted"], rel=0.25)


def test_per_tensor_starves_the_ordinary_channels(results):
    tensor, channel = results["levels_used_per_tensor"], results["levels_used_per_channel"]
    assert channel["8"] >= 4 * tensor["8"]
    assert tensor["4"] <= 2 and channel["4"] >= 8
    assert results["zero_fraction_per_tensor"]["4"] >= 0.9  # "almost all of their weights round to zero"


def test_scale_overhead_is_small(results):
    assert results["scale_overhead"] < 0.1
    assert results["scale_overhead_conv"] < 0.01
