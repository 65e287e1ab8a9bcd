"""effcourse.quantization on edge inputs: a defined result or an error that says what to do (issue 10, kind 5).

The kind is "degenerate input reaches NumPy/math and surfaces as its error": empty arrays, an
empty axis, constant tensors (empty range), infinity and NaN. Each entry point is tried on each.
"""

from __future__ import annotations

import numpy as np
import pytest

from effcourse import quantization as Q


def test_empty_inputs_give_empty_results():
    assert Q.fake_quantize(np.array([]), 8).shape == (0,)
    assert Q.fake_quantize(np.zeros((0, 4)), 8).dtype == np.float32
    assert Q.quantize(np.array([]), 8, -1.0, 1.0).shape == (0,)
    q, scales = Q.per_channel_quantize(np.zeros((0, 3)), 8)
    assert q.shape == (0, 3) and q.dtype == np.int8
    np.testing.assert_array_equal(scales, np.ones(3, np.float32))  # an empty channel is treated like all zeros
    assert Q.per_channel_dequantize(q, scales).shape == (0, 3)
    q, scales = Q.per_channel_quantize(np.zeros((3, 0)), 8)
    assert q.shape == (3, 0) and scales.shape == (0,)


def test_psnr_and_mse_refuse_infinity_and_nan():
    for a, b in [([np.inf], [0]), ([0], [np.inf]), ([np.nan], [0]), ([np.inf], [np.inf])]:
        with pytest.raises(ValueError, match="NaN or infinity"):
            Q.psnr(a, b)
        with pytest.raises(ValueError, match="NaN or infinity"):
            Q.mse(a, b)
    assert Q.psnr([1.0], [1.0]) == float("inf")  # identical: defined, documented


def test_constant_tensor_says_it_is_constant():
    with pytest.raises(ValueError, match=r"x is constant \(every value is 3.0\).*x_min and x_max"):
        Q.fake_quantize(np.full((2, 2), 3.0), 8)
    with pytest.raises(ValueError, match="constant tensor"):
        Q.quantize([3.0], 8, 3.0, 3.0)
    with pytest.raises(ValueError, match="constant tensor"):
        Q.affine_params(0.0, 0.0, 8)
    # with an explicit range a constant tensor is fine
    np.testing.assert_allclose(Q.fake_quantize(np.full(3, 3.0), 8, 0.0, 3.0), 3.0, atol=3 / 255)
    # all-zero weights per channel: scale 1, codes 0 (documented)
    q, scales = Q.per_channel_quantize(np.zeros((4, 2)), 8)
    assert not q.any() and np.all(scales == 1.0)


def test_infinity_without_a_range_is_explained():
    with pytest.raises(ValueError, match="infinity.*x_min and x_max"):
        Q.fake_quantize([np.inf, 1.0], 8)
    with pytest.raises(ValueError, match="infinity"):
        Q.per_channel_quantize(np.array([[np.inf, 1.0]]), 8)
    # with a range, infinity saturates at the last code (documented in quantize)
    assert Q.quantize([np.inf], 8, -1.0, 1.0)[0] == 255


def test_reversed_range_keeps_its_message():
    with pytest.raises(ValueError, match="x_max must be greater than x_min"):
        Q.quantize([0.0], 8, 1.0, -1.0)
