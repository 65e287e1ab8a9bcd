"""effcourse.quantization: the NumPy reference quantizer (chapter 2, lesson 1)."""

import math

import numpy as np
import pytest

from effcourse import quantization as Q


# --------------------------------------------------------------------------- ranges and params
@pytest.mark.parametrize(
    "bits, symmetric, expected",
    [
        (1, False, (0, 1)),
        (2, False, (0, 3)),
        (8, False, (0, 255)),
        (16, False, (0, 65535)),
        (2, True, (-1, 1)),
        (4, True, (-7, 7)),
        (8, True, (-127, 127)),
        (16, True, (-32767, 32767)),
    ],
)
def test_code_range(bits, symmetric, expected):
    assert Q.code_range(bits, symmetric=symmetric) == expected


@pytest.mark.parametrize(
    "bits, symmetric, expected",
    [
        (1, False, np.uint8),
        (8, False, np.uint8),
        (9, False, np.uint16),
        (2, True, np.int8),
        (8, True, np.int8),
        (16, True, np.int16),
    ],
)
def test_code_dtype(bits, symmetric, expected):
    assert Q.code_dtype(bits, symmetric=symmetric) == np.dtype(expected)


@pytest.mark.parametrize(
    "bits, symmetric", [(0, False), (17, False), (1, True), (2.0, False), (True, False), ("8", False)]
)
def test_bad_bits_are_rejected(bits, symmetric):
    with pytest.raises(ValueError, match="bits"):
        Q.code_range(bits, symmetric=symmetric)


def test_symmetric_one_bit_says_what_to_do():
    with pytest.raises(ValueError, match="symmetric=False"):
        Q.affine_params(-1.0, 1.0, 1, symmetric=True)


def test_affine_params_asymmetric_formula():
    scale, zero_point = Q.affine_params(-0.5, 1.5, 4)
    assert scale == pytest.approx(2.0 / 15)
    assert type(zero_point) is int and zero_point == round(0.5 / (2.0 / 15)) == 4
    assert type(scale) is float


def test_affine_params_symmetric_formula():
    scale, zero_point = Q.affine_params(-0.5, 2.0, 8, symmetric=True)
    assert scale == pytest.approx(2.0 / 127) and zero_point == 0


def test_affine_params_range_without_zero_gives_zero_point_outside_codes():
    scale, zero_point = Q.affine_params(100.0, 200.0, 8)
    assert zero_point < 0
    q = Q.quantize([100.0, 150.0, 200.0], 8, 100.0, 200.0)
    assert q[0] == 0 and q[-1] == 255
    np.testing.assert_allclose(Q.dequantize(q, 8, 100.0, 200.0), [100.0, 150.0, 200.0], atol=scale / 2 + 1e-4)


@pytest.mark.parametrize("x_min, x_max", [(1.0, 1.0), (2.0, 1.0), (0.0, math.inf), (math.nan, 1.0)])
def test_affine_params_bad_range(x_min, x_max):
    with pytest.raises(ValueError, match="x_max|finite"):
        Q.affine_params(x_min, x_max, 8)


def test_affine_params_bad_type():
    with pytest.raises(TypeError, match="x_min"):
        Q.affine_params("0", 1.0, 8)


# --------------------------------------------------------------------------- quantize / dequantize
@pytest.mark.parametrize(
    "bits, symmetric", [(b, s) for s in (False, True) for b in (1, 2, 3, 5, 8, 12) if b > 1 or not s]
)
def test_round_trip_error_is_at_most_half_a_step(bits, symmetric):
    rng = np.random.default_rng(bits)
    x_min, x_max = -rng.uniform(0.1, 3.0), rng.uniform(0.1, 3.0)
    x = np.concatenate([rng.uniform(x_min, x_max, size=2000), [x_min, x_max, 0.0]])
    q = Q.quantize(x, bits, x_min, x_max, symmetric=symmetric)
    scale, _ = Q.affine_params(x_min, x_max, bits, symmetric=symmetric)
    q_min, q_max = Q.code_range(bits, symmetric=symmetric)
    assert q.dtype == Q.code_dtype(bits, symmetric=symmetric) and q.shape == x.shape
    assert q.min() >= q_min and q.max() <= q_max
    x_hat = Q.dequantize(q, bits, x_min, x_max, symmetric=symmetric)
    assert x_hat.dtype == np.float32
    assert np.abs(x_hat - x).max() <= scale / 2 * (1 + 1e-6) + 1e-6
    assert x_hat[-1] == 0.0  # real 0 is exact


def test_rounds_to_nearest_not_floor():
    # step 1/255 on [0, 1]: 0.9/255 is nearer to code 1 than to code 0
    assert Q.quantize([0.9 / 255, 0.4 / 255], 8, 0.0, 1.0).tolist() == [1, 0]


@pytest.mark.parametrize("symmetric", [False, True])
def test_values_outside_the_range_saturate(symmetric):
    q_min, q_max = Q.code_range(4, symmetric=symmetric)
    q = Q.quantize([-100.0, -1.5, 1.5, 1e30, -np.inf, np.inf], 4, -1.0, 1.0, symmetric=symmetric)
    assert q.tolist() == [q_min, q_min, q_max, q_max, q_min, q_max]


def test_input_is_never_modified_and_result_is_new():
    x = np.linspace(-2, 2, 11)
    before = x.copy()
    q = Q.quantize(x, 3, -1.0, 1.0)
    Q.fake_quantize(x, 3)
    np.testing.assert_array_equal(x, before)
    assert not np.shares_memory(q, x)


def test_quantize_keeps_shape_and_accepts_lists_and_ints():
    x = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    q = Q.quantize(x, 8, 0, 255)
    assert q.shape == (2, 3, 4)
    np.testing.assert_array_equal(q, x)  # 8-bit data in [0, 255] at 8 bits: lossless
    assert Q.quantize([[0.0, 1.0]], 1, 0.0, 1.0).tolist() == [[0, 1]]


def test_quantize_rejects_nan_and_non_numbers():
    with pytest.raises(ValueError, match="NaN"):
        Q.quantize([0.0, np.nan], 8, 0.0, 1.0)
    with pytest.raises(TypeError, match="numbers"):
        Q.quantize(["a"], 8, 0.0, 1.0)


def test_dequantize_rejects_codes_out_of_range_and_floats():
    with pytest.raises(ValueError, match=r"\[0, 15\]"):
        Q.dequantize(np.array([16]), 4, 0.0, 1.0)
    with pytest.raises(TypeError, match="integers"):
        Q.dequantize(np.array([1.0]), 4, 0.0, 1.0)


def test_fake_quantize_defaults_to_the_data_range():
    x = np.array([2.0, 3.0, 4.0])
    np.testing.assert_array_equal(Q.fake_quantize(x, 1), np.array([2.0, 4.0, 4.0], dtype=np.float32))
    with pytest.raises(ValueError, match="x is constant"):
        Q.fake_quantize([1.0, 1.0], 8)


def test_psnr_follows_the_uniform_noise_model():
    # step s = 255 / (2**b - 1), noise uniform in [-s/2, s/2]: MSE = s**2 / 12, about 6.02 dB per bit
    x = np.random.default_rng(0).uniform(0, 255, size=200_000)
    for b in range(3, 11):
        theory = 20 * math.log10(2**b - 1) + 10 * math.log10(12)
        assert Q.psnr(x, Q.fake_quantize(x, b, 0, 255)) == pytest.approx(theory, abs=0.1)


# --------------------------------------------------------------------------- per channel
def _outlier_matrix(rng, rows=32, cols=8, outlier=3, factor=30.0):
    w = rng.normal(0, 0.05, size=(rows, cols))
    w[:, outlier] *= factor
    return w


def test_per_channel_scales_and_codes():
    w = _outlier_matrix(np.random.default_rng(1))
    q, scales = Q.per_channel_quantize(w, 8)
    assert q.dtype == np.int8 and q.shape == w.shape
    assert scales.dtype == np.float32 and scales.shape == (8,)
    np.testing.assert_allclose(scales, np.abs(w).max(axis=0) / 127, rtol=1e-6)
    assert (np.abs(q).max(axis=0) == 127).all()  # each channel's largest weight uses the last code
    w_hat = Q.per_channel_dequantize(q, scales)
    assert (np.abs(w_hat - w) <= scales / 2 * (1 + 1e-5) + 1e-7).all()


def test_per_channel_beats_per_tensor_with_an_outlier_channel():
    w = _outlier_matrix(np.random.default_rng(2))
    m = float(np.abs(w).max())
    per_tensor = Q.mse(w, Q.dequantize(Q.quantize(w, 8, -m, m, symmetric=True), 8, -m, m, symmetric=True))
    per_channel = Q.mse(w, Q.per_channel_dequantize(*Q.per_channel_quantize(w, 8)))
    assert per_channel < per_tensor / 5


def test_per_channel_axis_and_4d_kernels():
    rng = np.random.default_rng(3)
    kernel = rng.normal(size=(3, 3, 4, 6))
    q, scales = Q.per_channel_quantize(kernel, 4, axis=-1)
    assert scales.shape == (6,)
    q0, scales0 = Q.per_channel_quantize(np.moveaxis(kernel, -1, 0), 4, axis=0)
    np.testing.assert_array_equal(q0, np.moveaxis(q, -1, 0))
    np.testing.assert_array_equal(scales0, scales)
    np.testing.assert_allclose(Q.per_channel_dequantize(q, scales, axis=3), kernel, atol=float(scales.max()) / 2 + 1e-6)


def test_per_channel_1d_and_zero_channel():
    q, scales = Q.per_channel_quantize(np.array([0.5, 0.0, -2.0]), 8, axis=0)
    assert q.tolist() == [127, 0, -127] and scales.tolist() == pytest.approx([0.5 / 127, 1.0, 2.0 / 127])


def test_per_channel_errors():
    with pytest.raises(ValueError, match="axis"):
        Q.per_channel_quantize(np.ones((2, 3)), 8, axis=2)
    with pytest.raises(ValueError, match="at least one dimension"):
        Q.per_channel_quantize(np.float64(1.0), 8)
    with pytest.raises(ValueError, match="infinity"):
        Q.per_channel_quantize(np.array([[np.inf, 1.0]]), 8)
    with pytest.raises(ValueError, match="bits"):
        Q.per_channel_quantize(np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="3 channels"):
        Q.per_channel_dequantize(np.ones((2, 3), dtype=np.int8), np.ones(2))
    with pytest.raises(TypeError, match="integers"):
        Q.per_channel_dequantize(np.ones((2, 3)), np.ones(3))


def test_per_channel_does_not_modify_weights():
    w = _outlier_matrix(np.random.default_rng(4))
    before = w.copy()
    Q.per_channel_quantize(w, 8)
    np.testing.assert_array_equal(w, before)


# --------------------------------------------------------------------------- packing
@pytest.mark.parametrize("bits", [1, 2, 3, 5, 7, 8, 11, 16])
def test_pack_unpack_round_trip_and_size(bits):
    rng = np.random.default_rng(bits)
    q = rng.integers(0, 2**bits, size=(7, 13)).astype(Q.code_dtype(bits))
    packed = Q.pack_bits(q, bits)
    assert len(packed) == math.ceil(q.size * bits / 8)
    np.testing.assert_array_equal(Q.unpack_bits(packed, bits, q.size).reshape(q.shape), q)


def test_pack_errors():
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        Q.pack_bits(np.array([4]), 2)
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        Q.pack_bits(np.array([-1]), 2)
    with pytest.raises(ValueError, match="need 2 bytes"):
        Q.unpack_bits(b"\x00", 4, 3)
    with pytest.raises(ValueError, match="count"):
        Q.unpack_bits(b"\x00", 4, -1)


# --------------------------------------------------------------------------- error measures
def test_mse_and_psnr():
    assert Q.mse([0, 0], [3, 1]) == 5.0
    assert Q.psnr([0, 255], [0, 254]) == pytest.approx(10 * math.log10(255**2 / 0.5))
    assert Q.psnr([0.0, 1.0], [0.0, 0.9], max_value=1.0) == pytest.approx(10 * math.log10(1 / 0.005))
    assert Q.psnr([1, 2], [1, 2]) == math.inf


def test_error_measures_reject_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        Q.mse([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        Q.mse([], [])
    with pytest.raises(ValueError, match="positive"):
        Q.psnr([1], [2], max_value=0)


def test_docstring_examples_hold():
    import doctest

    failures, tried = doctest.testmod(Q, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 10 and failures == 0


# --------------------------------------------------------------------------- integer arithmetic (lesson 03)
def _tflite_double(a: int, m0: int, shift: int) -> int:
    """TFLite's MultiplyByQuantizedMultiplier on Python ints, written from the C++ source."""
    a = min(max(a * (1 << max(shift, 0)), -(2**31)), 2**31 - 1)
    ab = a * m0
    num = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    high = num // (1 << 31) if num >= 0 else -((-num) // (1 << 31))
    e = max(-shift, 0)
    mask = (1 << e) - 1
    return (high >> e) + (1 if (high & mask) > (mask >> 1) + (1 if high < 0 else 0) else 0)


@pytest.mark.parametrize(
    "real, expected",
    [
        (0.25, (2**30, -1)),
        (0.5, (2**30, 0)),
        (3.0, (3 * 2**29, 2)),
        (0.0, (0, 0)),
        (1.0 - 2.0**-33, (2**30, 1)),  # the mantissa rounds up to 2**31
        (2.0**-40, (0, 0)),  # below 2**-31: TFLite flushes to zero
    ],
)
def test_quantize_multiplier_known_values(real, expected):
    assert Q.quantize_multiplier(real) == expected


def test_quantize_multiplier_relative_error_and_types():
    rng = np.random.default_rng(0)
    for real in np.exp(rng.uniform(np.log(1e-8), np.log(100.0), size=500)):
        m0, shift = Q.quantize_multiplier(np.float32(real) if real < 1e-3 else real)
        assert type(m0) is int and type(shift) is int
        assert 2**30 <= m0 < 2**31
        target = float(np.float32(real)) if real < 1e-3 else real
        assert abs(m0 * 2.0 ** (shift - 31) - target) / target <= 2.0**-31


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_quantize_multiplier_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="real_multiplier"):
        Q.quantize_multiplier(bad)


def test_multiply_by_quantized_multiplier_matches_tflite_both_roundings():
    rng = np.random.default_rng(1)
    acc = rng.integers(-(2**31), 2**31 - 1, size=(30, 5))
    acc[:10] //= 2**12  # small accumulators too
    m0 = rng.integers(2**30, 2**31, size=5)
    shift = np.array([-31, -12, -1, 0, 3])
    acc[:, 4] //= 16  # a left shift of 3 must not saturate
    double = Q.multiply_by_quantized_multiplier(acc, m0, shift)
    single = Q.multiply_by_quantized_multiplier(acc, m0, shift, single_rounding=True)
    assert double.dtype == np.int64 and double.shape == acc.shape
    for i in range(acc.shape[0]):
        for j in range(acc.shape[1]):
            a, m, s = int(acc[i, j]), int(m0[j]), int(shift[j])
            assert double[i, j] == _tflite_double(a, m, s)
            assert single[i, j] == (a * m + (1 << (30 - s))) >> (31 - s)
    # the two differ at a tie: -1.5 rounds to -2 twice (away from zero), to -1 once (upwards)
    assert Q.multiply_by_quantized_multiplier(np.array([-6]), 2**30, -1).tolist() == [-2]
    assert Q.multiply_by_quantized_multiplier(np.array([-6]), 2**30, -1, single_rounding=True).tolist() == [-1]


def test_multiply_by_quantized_multiplier_errors():
    with pytest.raises(TypeError, match="acc"):
        Q.multiply_by_quantized_multiplier(np.array([1.5]), 2**30, 0)
    with pytest.raises(ValueError, match="int32"):
        Q.multiply_by_quantized_multiplier(np.array([2**31]), 2**30, 0)
    with pytest.raises(ValueError, match="m0"):
        Q.multiply_by_quantized_multiplier(np.array([1]), 2**31, 0)
    with pytest.raises(ValueError, match="shift"):
        Q.multiply_by_quantized_multiplier(np.array([1]), 2**30, 31)


def test_int8_fully_connected_matches_float_layer_and_per_element_reference():
    rng = np.random.default_rng(2)
    x_q = rng.integers(-128, 128, size=(7, 20)).astype(np.int8)
    w_q = rng.integers(-127, 128, size=(4, 20)).astype(np.int8)
    s_x, z_x, s_w = 0.02, -5, rng.uniform(0.002, 0.01, size=4)
    bias = rng.normal(0, 0.3, size=4)
    real = s_x * (x_q.astype(np.float64) - z_x) @ (s_w[:, None] * w_q).T + bias
    s_y = (real.max() - real.min()) / 255
    z_y = int(-128 - round(real.min() / s_y))
    for relu in (False, True):
        for single in (False, True):
            y = Q.int8_fully_connected(
                x_q, w_q, bias, input_scale=s_x, input_zero_point=z_x, weight_scales=s_w,
                output_scale=s_y, output_zero_point=z_y, relu=relu, single_rounding=single,
            )  # fmt: skip
            assert y.dtype == np.int8 and y.shape == (7, 4)
            target = np.maximum(real, 0) if relu else real
            expected = np.clip(np.round(target / s_y) + z_y, -128, 127)
            assert np.abs(y.astype(int) - expected).max() <= 1
            # per element, through the (separately tested) requantization
            acc = (x_q.astype(np.int64) - z_x) @ w_q.astype(np.int64).T + np.round(bias / (s_x * s_w)).astype(np.int64)
            mults = [Q.quantize_multiplier(s_x * s / s_y) for s in s_w]
            out = Q.multiply_by_quantized_multiplier(
                acc, [m for m, _ in mults], [s for _, s in mults], single_rounding=single
            )
            low = max(-128, z_y) if relu else -128
            np.testing.assert_array_equal(y, np.clip(out + z_y, low, 127).astype(np.int8))


def test_int8_fully_connected_errors():
    x = np.zeros((1, 3), np.int8)
    w = np.zeros((2, 3), np.int8)
    kw = dict(input_scale=0.1, input_zero_point=0, weight_scales=0.1, output_scale=0.1, output_zero_point=0)
    with pytest.raises(TypeError, match="x_q"):
        Q.int8_fully_connected(x.astype(np.int32), w, np.zeros(2), **kw)
    with pytest.raises(ValueError, match="expected"):
        Q.int8_fully_connected(x, np.zeros((2, 4), np.int8), np.zeros(2), **kw)
    with pytest.raises(ValueError, match="positive"):
        Q.int8_fully_connected(x, w, np.zeros(2), **{**kw, "output_scale": 0.0})


@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
def test_fp8_quantize_matches_ml_dtypes(fmt):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    dtype = {"e4m3": ml_dtypes.float8_e4m3fn, "e5m2": ml_dtypes.float8_e5m2}[fmt]
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(20000) * np.exp(rng.uniform(-14, 10, 20000))).astype(np.float32)
    peak = Q.FP8_FORMATS[fmt]["max"]
    x = np.clip(x, -peak, peak)
    np.testing.assert_array_equal(Q.fp8_quantize(x, fmt, scale=1.0), x.astype(dtype).astype(np.float32))


def test_fp8_quantize_saturates_and_scales():
    assert Q.fp8_quantize([1000.0, -1e9], "e4m3", scale=1.0).tolist() == [448.0, -448.0]
    x = np.array([0.0, 0.5, -2.0])
    y = Q.fp8_quantize(x, "e5m2")  # max scaling: -2.0 maps to -57344 exactly
    assert y[2] == -2.0 and y[0] == 0.0
    with pytest.raises(ValueError, match="fmt"):
        Q.fp8_quantize(x, "e3m4")
    with pytest.raises(ValueError, match="scale"):
        Q.fp8_quantize(x, scale=-1.0)


def test_int8_quantize_max_error_within_half_step():
    x = np.random.default_rng(4).normal(size=1000)
    y = Q.int8_quantize_max(x)
    step = np.abs(x).max() / 127
    assert y.dtype == np.float32 and np.abs(y - x).max() <= step / 2 * (1 + 1e-6)
    assert Q.int8_quantize_max(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_integer_references_are_sealed():
    from effcourse import sealed

    ids = {v for k, v in sealed.REGISTRY.items() if k.startswith("effcourse.quantization:")}
    assert {
        "ch02_compression/03_integer_arithmetic:quantize_multiplier",
        "ch02_compression/03_integer_arithmetic:requantize",
        "ch02_compression/03_integer_arithmetic:int8_dense",
    } <= ids
