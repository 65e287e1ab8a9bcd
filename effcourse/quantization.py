"""Uniform quantization with NumPy: the reference for the chapter 2 exercises.

A real value ``x`` in a range ``[x_min, x_max]`` is stored as a small integer *code* ``q``
and read back as ``x_hat``. With ``b`` bits, the *affine* (or asymmetric) scheme uses the
codes ``0 .. 2**b - 1``::

    scale      s = (x_max - x_min) / (2**b - 1)
    zero point z = -round(x_min / s)                  # the code that stands for real 0
    quantize   q = clip(round(x / s) + z, 0, 2**b - 1)
    dequantize x_hat = s * (q - z)

The *symmetric* scheme keeps ``z = 0`` and uses the signed codes ``-(2**(b-1) - 1) ..
2**(b-1) - 1`` (for 8 bits: -127..127, the "restricted range" TFLite uses for int8 weights)
with ``s = max(|x_min|, |x_max|) / (2**(b-1) - 1)``.

For every ``x`` in ``[x_min, x_max]`` the error ``|x - x_hat|`` is at most ``s / 2``; values
outside the range saturate at the nearest end. Real 0 is always represented exactly (when it
lies in the range), which is why the zero point is an integer (Jacob et al., 2018).

Codes are ``np.uint8`` (asymmetric) or ``np.int8`` (symmetric) for up to 8 bits, and
``np.uint16`` / ``np.int16`` for 9 to 16 bits. Dequantized values are ``np.float32``.

Taught in: chapters/ch02_compression/01_quantization_from_scratch
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = [
    "code_range",
    "code_dtype",
    "affine_params",
    "quantize",
    "dequantize",
    "fake_quantize",
    "per_channel_quantize",
    "per_channel_dequantize",
    "pack_bits",
    "unpack_bits",
    "mse",
    "psnr",
    "quantize_multiplier",
    "multiply_by_quantized_multiplier",
    "int8_fully_connected",
    "FP8_FORMATS",
    "fp8_quantize",
    "int8_quantize_max",
]

MAX_BITS = 16


def _check_bits(bits: Any, symmetric: bool) -> int:
    lowest = 2 if symmetric else 1
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not lowest <= bits <= MAX_BITS:
        kind = "symmetric" if symmetric else "asymmetric"
        raise ValueError(
            f"bits must be an int from {lowest} to {MAX_BITS} for {kind} quantization, got {bits!r}"
            + (
                " (1 bit leaves no code besides 0 in the symmetric scheme; use symmetric=False)"
                if symmetric and bits == 1
                else ""
            )
        )
    return int(bits)


def _check_real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def code_range(bits: int, *, symmetric: bool = False) -> tuple[int, int]:
    """The smallest and largest integer code of a ``bits``-bit quantizer.

    Asymmetric: ``(0, 2**bits - 1)``. Symmetric: ``(-(2**(bits-1) - 1), 2**(bits-1) - 1)``,
    so the range is symmetric around 0 and one code (-2**(bits-1)) is left unused.

    Example:
        >>> code_range(8), code_range(8, symmetric=True), code_range(2)
        ((0, 255), (-127, 127), (0, 3))

    Args:
        bits: bits per code, 1..16 (2..16 when symmetric).
        symmetric: the symmetric (signed, zero point 0) scheme.

    Returns:
        ``(q_min, q_max)`` as Python ints.

    Raises:
        ValueError: ``bits`` is not an int in the allowed range.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    bits = _check_bits(bits, symmetric)
    if symmetric:
        q_max = 2 ** (bits - 1) - 1
        return -q_max, q_max
    return 0, 2**bits - 1


def code_dtype(bits: int, *, symmetric: bool = False) -> np.dtype:
    """The NumPy dtype that stores the codes: (u)int8 up to 8 bits, (u)int16 up to 16.

    Example:
        >>> code_dtype(4), code_dtype(8, symmetric=True), code_dtype(12)
        (dtype('uint8'), dtype('int8'), dtype('uint16'))

    Raises:
        ValueError: ``bits`` is not an int in the allowed range.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    bits = _check_bits(bits, symmetric)
    width = 8 if bits <= 8 else 16
    return np.dtype(f"{'int' if symmetric else 'uint'}{width}")


@sealed.reference("ch02_compression/01_quantization_from_scratch:affine_params")
def affine_params(x_min: float, x_max: float, bits: int, *, symmetric: bool = False) -> tuple[float, int]:
    """The scale and zero point that map ``[x_min, x_max]`` onto the ``bits``-bit codes.

    Asymmetric: ``scale = (x_max - x_min) / (2**bits - 1)`` and
    ``zero_point = -round(x_min / scale)``. Symmetric: ``scale = max(|x_min|, |x_max|) /
    (2**(bits-1) - 1)`` and ``zero_point = 0``. The zero point is the code of real 0; it lies
    in the code range whenever ``x_min <= 0 <= x_max`` (otherwise it is outside, which is fine
    for the arithmetic: it is only an offset).

    Example:
        >>> affine_params(-1.0, 1.0, 8)
        (0.00784313725490196, 128)
        >>> affine_params(-1.0, 0.5, 8, symmetric=True)
        (0.007874015748031496, 0)

    Args:
        x_min: the smallest value to represent.
        x_max: the largest value to represent; must be greater than ``x_min``.
        bits: bits per code, 1..16 (2..16 when symmetric).
        symmetric: the symmetric scheme (zero point 0, signed codes).

    Returns:
        ``(scale, zero_point)`` as a Python float and a Python int.

    Raises:
        ValueError: ``x_max <= x_min`` (``x_max == x_min``, a constant tensor's own range, gets
            its own message), a bound is not finite, ``bits`` is out of range, or (symmetric)
            both bounds are 0.
        TypeError: a bound is not a real number.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    x_min, x_max = _check_real(x_min, "x_min"), _check_real(x_max, "x_max")
    if x_max == x_min:
        raise ValueError(
            f"the range is empty: x_min == x_max == {x_min} (a constant tensor has no spread to divide into "
            f"codes); give a range that contains the value and is wider than it, e.g. "
            f"x_min={min(x_min, 0.0)}, x_max={max(x_max, 0.0) if x_max != 0 else 1.0}"
        )
    if x_max < x_min:
        raise ValueError(f"x_max must be greater than x_min, got x_min={x_min}, x_max={x_max}")
    q_min, q_max = code_range(bits, symmetric=symmetric)
    if symmetric:
        return max(abs(x_min), abs(x_max)) / q_max, 0
    scale = (x_max - x_min) / (q_max - q_min)
    return scale, int(q_min - round(x_min / scale))


def _as_float_array(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be an array of numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)  # always a copy: the caller's array is never touched
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN, which has no code; replace or drop NaNs first")
    return arr


@sealed.reference("ch02_compression/01_quantization_from_scratch:quantize")
def _quantize_with(
    x: np.ndarray, scale: float | np.ndarray, zero_point: int | np.ndarray, q_min: int, q_max: int, dtype: np.dtype
) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.round(x / scale) + zero_point
    return np.clip(q, q_min, q_max).astype(dtype)


@sealed.reference("ch02_compression/01_quantization_from_scratch:quantize")
def quantize(x: Any, bits: int, x_min: float, x_max: float, *, symmetric: bool = False) -> np.ndarray:
    """Quantize ``x`` to ``bits``-bit integer codes: ``clip(round(x / scale) + zero_point)``.

    Rounds to the nearest code (NumPy's ``round``, ties to even), saturates values outside
    ``[x_min, x_max]`` at the first or last code, and never modifies ``x``.

    Example:
        >>> quantize([-1.0, 0.0, 0.3, 1.0, 5.0], 8, -1.0, 1.0)
        array([  0, 128, 166, 255, 255], dtype=uint8)
        >>> quantize([-1.0, 0.0, 1.0], 8, -1.0, 1.0, symmetric=True)
        array([-127,    0,  127], dtype=int8)

    Args:
        x: an array (or anything ``np.asarray`` takes) of real numbers, any shape.
        bits: bits per code, 1..16 (2..16 when symmetric).
        x_min: the smallest value to represent.
        x_max: the largest value to represent.
        symmetric: the symmetric scheme (zero point 0, signed codes).

    Returns:
        The codes, same shape as ``x``, dtype :func:`code_dtype` (``uint8`` / ``int8`` up to 8 bits).

    Raises:
        ValueError: bad range or bits (see :func:`affine_params`), or ``x`` contains NaN.
        TypeError: ``x`` is not numeric.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    scale, zero_point = affine_params(x_min, x_max, bits, symmetric=symmetric)
    q_min, q_max = code_range(bits, symmetric=symmetric)
    return _quantize_with(
        _as_float_array(x, "x"), scale, zero_point, q_min, q_max, code_dtype(bits, symmetric=symmetric)
    )


@sealed.reference("ch02_compression/01_quantization_from_scratch:quantize")
def dequantize(q: Any, bits: int, x_min: float, x_max: float, *, symmetric: bool = False) -> np.ndarray:
    """Map codes back to real values: ``scale * (q - zero_point)``, as ``float32``.

    Example:
        >>> dequantize(quantize([-1.0, 0.0, 0.3, 1.0], 8, -1.0, 1.0), 8, -1.0, 1.0)
        array([-1.0039216 ,  0.        ,  0.29803923,  0.99607843], dtype=float32)

    Caveats:
        Code 0 reads back as -1.0039, not as ``x_min = -1``: the grid is shifted by less than
        ``scale / 2`` so that real 0 falls exactly on a code (the error stays within ``scale / 2``).

    Args:
        q: integer codes as returned by :func:`quantize` (same ``bits``, range and scheme).
        bits: bits per code.
        x_min: the range used to quantize.
        x_max: the range used to quantize.
        symmetric: the scheme used to quantize.

    Returns:
        A ``float32`` array of the same shape as ``q``.

    Raises:
        ValueError: a code lies outside the code range, or bad range/bits.
        TypeError: ``q`` does not hold integers.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    scale, zero_point = affine_params(x_min, x_max, bits, symmetric=symmetric)
    q_min, q_max = code_range(bits, symmetric=symmetric)
    codes = _check_codes(q, q_min, q_max)
    return (scale * (codes - zero_point)).astype(np.float32)


def _check_codes(q: Any, q_min: int, q_max: int) -> np.ndarray:
    codes = np.asarray(q)
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"codes must be integers (as returned by quantize), got dtype {codes.dtype}")
    codes = codes.astype(np.int64)
    if codes.size and (codes.min() < q_min or codes.max() > q_max):
        raise ValueError(
            f"codes must lie in [{q_min}, {q_max}] for these bits and scheme, got values in "
            f"[{codes.min()}, {codes.max()}]; dequantize with the bits and scheme used to quantize"
        )
    return codes


@sealed.reference("ch02_compression/01_quantization_from_scratch:quantize")
def fake_quantize(
    x: Any, bits: int, x_min: float | None = None, x_max: float | None = None, *, symmetric: bool = False
) -> np.ndarray:
    """Quantize then dequantize: what ``x`` looks like after a round trip through ``bits`` bits.

    The range defaults to ``x``'s own minimum and maximum. An empty ``x`` gives an empty
    ``float32`` array of its shape (nothing to quantize, no range needed).

    Example:
        >>> fake_quantize([0.0, 0.4, 1.0], 1)
        array([0., 0., 1.], dtype=float32)

    Args:
        x: real numbers, any shape.
        bits: bits per code.
        x_min: the range; ``None`` takes ``x.min()``.
        x_max: the range; ``None`` takes ``x.max()``.
        symmetric: the symmetric scheme.

    Returns:
        A ``float32`` array of the same shape as ``x``.

    Raises:
        ValueError: as :func:`quantize`; also when ``x`` is constant (or holds infinity) and no
            range is given: the message says so and asks for ``x_min``/``x_max``.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    arr = _as_float_array(x, "x")
    if arr.size == 0:
        return arr.astype(np.float32)
    if (x_min is None or x_max is None) and not np.isfinite(arr).all():
        raise ValueError("x contains infinity, so its own range is unbounded: give x_min and x_max")
    lo = float(arr.min()) if x_min is None else x_min
    hi = float(arr.max()) if x_max is None else x_max
    if x_min is None and x_max is None and lo == hi:
        raise ValueError(
            f"x is constant (every value is {lo}), so its own range is empty: give x_min and x_max, "
            f"e.g. fake_quantize(x, bits, x_min={min(lo, 0.0)}, x_max={max(hi, 0.0) if hi != 0 else 1.0})"
        )
    return dequantize(quantize(arr, bits, lo, hi, symmetric=symmetric), bits, lo, hi, symmetric=symmetric)


def _channel_axis(ndim: int, axis: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"axis must be an int in [{-ndim}, {ndim - 1}] for a {ndim}-D array, got {axis!r}")
    return int(axis) % ndim


@sealed.reference("ch02_compression/01_quantization_from_scratch:per_channel")
def per_channel_quantize(w: Any, bits: int = 8, *, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric quantization with one scale per channel along ``axis``.

    Channel ``c`` (the slice ``w[..., c]`` for ``axis=-1``) gets ``scale[c] = max|w_c| /
    (2**(bits-1) - 1)``, so its largest weight maps to ``±(2**(bits-1) - 1)`` and its error is
    at most ``scale[c] / 2``. This is what TFLite does for the weights of convolutions and
    dense layers (Krishnamoorthi, 2018 recommends it); a channel with large weights then no
    longer coarsens the grid of all the others. An all-zero channel gets scale 1.0 and codes 0;
    so does an empty one (``w`` with a 0-length axis gives empty codes, and one scale 1.0 per
    channel).

    Example:
        >>> w = np.array([[0.1, -4.0], [-0.2, 2.0]])
        >>> q, scales = per_channel_quantize(w, 8)
        >>> q
        array([[  63, -127],
               [-127,   64]], dtype=int8)
        >>> scales.round(5)
        array([0.00157, 0.0315 ], dtype=float32)

    Args:
        w: a weight array with at least one dimension; the Keras Dense kernel ``(in, out)`` and
            Conv2D kernel ``(kh, kw, in, out)`` have their output channels on the last axis.
        bits: bits per code, 2..16.
        axis: the channel axis.

    Returns:
        ``(q, scales)``: codes of ``w``'s shape (``int8`` up to 8 bits) and a ``float32`` array
        with one scale per channel (length ``w.shape[axis]``).

    Raises:
        ValueError: ``w`` is 0-D, ``axis`` is out of range, ``bits`` is invalid, or ``w``
            contains NaN or infinity.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    arr = _as_float_array(w, "w")
    if arr.ndim == 0:
        raise ValueError("w must have at least one dimension (the channel axis)")
    if not np.isfinite(arr).all():
        raise ValueError("w contains infinity; per-channel ranges need finite weights")
    ax = _channel_axis(arr.ndim, axis)
    q_min, q_max = code_range(bits, symmetric=True)
    others = tuple(i for i in range(arr.ndim) if i != ax)
    max_abs = np.abs(arr).max(axis=others, initial=0.0) if others else np.abs(arr)
    scales = np.where(max_abs > 0, max_abs / q_max, 1.0)
    shape = [1] * arr.ndim
    shape[ax] = -1
    q = _quantize_with(arr, scales.reshape(shape), 0, q_min, q_max, code_dtype(bits, symmetric=True))
    return q, scales.astype(np.float32)


def per_channel_dequantize(q: Any, scales: Any, *, axis: int = -1) -> np.ndarray:
    """Map per-channel codes back to real values: ``q * scales`` along ``axis``, as ``float32``.

    Example:
        >>> w = np.array([[0.1, -4.0], [-0.2, 2.0]])
        >>> per_channel_dequantize(*per_channel_quantize(w, 8)).round(3)
        array([[ 0.099, -4.   ],
               [-0.2  ,  2.016]], dtype=float32)

    Args:
        q: integer codes from :func:`per_channel_quantize`.
        scales: one scale per channel.
        axis: the channel axis used to quantize.

    Returns:
        A ``float32`` array of ``q``'s shape.

    Raises:
        ValueError: ``scales`` does not have one entry per channel, or ``axis`` is out of range.
        TypeError: ``q`` does not hold integers.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    codes = np.asarray(q)
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"codes must be integers (as returned by per_channel_quantize), got dtype {codes.dtype}")
    if codes.ndim == 0:
        raise ValueError("q must have at least one dimension (the channel axis)")
    ax = _channel_axis(codes.ndim, axis)
    s = np.asarray(scales, dtype=np.float64).reshape(-1)
    if s.size != codes.shape[ax]:
        raise ValueError(f"scales has {s.size} entries but q has {codes.shape[ax]} channels on axis {axis}")
    shape = [1] * codes.ndim
    shape[ax] = -1
    return (codes.astype(np.float64) * s.reshape(shape)).astype(np.float32)


def pack_bits(q: Any, bits: int) -> bytes:
    """Pack unsigned ``bits``-bit codes tightly: ``ceil(q.size * bits / 8)`` bytes.

    A 3-bit image really takes 3 bits per value only once its codes are packed; NumPy stores
    each code in a whole byte. Codes are packed in C order, most significant bit first.

    Example:
        >>> pack_bits(np.array([1, 2, 3, 0], dtype=np.uint8), 2)
        b'l'
        >>> len(pack_bits(np.zeros(1000, dtype=np.uint8), 3))
        375

    Args:
        q: unsigned integer codes in ``[0, 2**bits - 1]`` (asymmetric codes). For signed codes,
            add ``2**(bits-1) - 1`` first.
        bits: bits per code, 1..16.

    Returns:
        The packed bytes.

    Raises:
        ValueError: a code is negative or needs more than ``bits`` bits, or ``bits`` is invalid.
        TypeError: ``q`` does not hold integers.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    bits = _check_bits(bits, symmetric=False)
    codes = _check_codes(q, 0, 2**bits - 1).reshape(-1)
    shifts = np.arange(bits - 1, -1, -1, dtype=np.int64)
    planes = ((codes[:, None] >> shifts) & 1).astype(np.uint8)
    return np.packbits(planes.reshape(-1)).tobytes()


def unpack_bits(data: bytes, bits: int, count: int) -> np.ndarray:
    """Undo :func:`pack_bits`: the first ``count`` codes stored in ``data``.

    Example:
        >>> unpack_bits(b'l', 2, 4)
        array([1, 2, 3, 0], dtype=uint8)

    Args:
        data: bytes from :func:`pack_bits`.
        bits: the bits per code used to pack.
        count: how many codes to read (reshape the result yourself).

    Returns:
        A 1-D array of ``count`` codes, dtype ``uint8`` (``uint16`` above 8 bits).

    Raises:
        ValueError: ``data`` holds fewer than ``count`` codes, or ``count`` is negative.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    bits = _check_bits(bits, symmetric=False)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"count must be a non-negative int, got {count!r}")
    needed = math.ceil(count * bits / 8)
    if len(data) < needed:
        raise ValueError(f"{count} codes of {bits} bits need {needed} bytes, got {len(data)}")
    planes = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[: count * bits].reshape(count, bits)
    weights = 1 << np.arange(bits - 1, -1, -1, dtype=np.int64)
    return (planes.astype(np.int64) @ weights).astype(code_dtype(bits))


def mse(a: Any, b: Any) -> float:
    """The mean squared error between two arrays of the same shape, in float64.

    Example:
        >>> mse([0, 0, 3], [0, 0, 0])
        3.0

    Raises:
        ValueError: the shapes differ, the arrays are empty, or one holds NaN or infinity (an
            error with infinity or NaN in it is not a number to compare).

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"the arrays must have the same shape, got {x.shape} and {y.shape}")
    if x.size == 0:
        raise ValueError("the arrays are empty")
    for name, arr in (("a", x), ("b", y)):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinity; the error needs finite values on both sides")
    return float(np.mean((x - y) ** 2))


def psnr(a: Any, b: Any, max_value: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 * log10(max_value**2 / mse(a, b))``.

    Higher is better; each extra bit of a uniform quantizer adds about 6.02 dB. Identical
    arrays give ``inf``.

    Example:
        >>> round(psnr([0, 255], [0, 254]), 2)
        51.14
        >>> psnr([1.0, 2.0], [1.0, 2.0])
        inf

    Args:
        a: the original.
        b: the reconstruction, same shape.
        max_value: the largest possible value (255 for 8-bit images, 1.0 for images in [0, 1]).

    Returns:
        The PSNR as a Python float (``inf`` when the arrays are equal).

    Raises:
        ValueError: the shapes differ, the arrays are empty or hold NaN or infinity (see
            :func:`mse`), or ``max_value`` is not positive.

    Taught in: chapters/ch02_compression/01_quantization_from_scratch
    """
    peak = _check_real(max_value, "max_value")
    if peak <= 0:
        raise ValueError(f"max_value must be positive, got {peak}")
    error = mse(a, b)
    if error == 0.0:
        return math.inf
    return float(10.0 * math.log10(peak**2 / error))


# --------------------------------------------------------------------------- integer arithmetic
# Chapter 2, lesson 3. The three functions below answer graded exercises and are registered as
# sealed references: nothing else in effcourse calls them, so each one carries its own code.

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


@sealed.reference("ch02_compression/03_integer_arithmetic:quantize_multiplier")
def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """Split a positive real multiplier into a 32-bit fixed-point ``m0`` and a power-of-two ``shift``.

    ``real_multiplier ≈ m0 * 2**(shift - 31)`` with ``2**30 <= m0 < 2**31``: ``m0`` is the
    mantissa in Q0.31 fixed point, rounded half away from zero, exactly as TFLite's
    ``QuantizeMultiplier`` (``tensorflow/lite/kernels/internal/quantization_util.cc``) and
    Jacob et al. (2018, *Quantization and Training of Neural Networks for Efficient
    Integer-Arithmetic-Only Inference*, section 2.2) do. A mantissa that rounds up to ``2**31``
    becomes ``2**30`` with ``shift + 1``; a multiplier below ``2**-31`` (shift < -31) gives
    ``(0, 0)``. The relative error is at most ``2**-31``.

    Example:
        >>> quantize_multiplier(0.25)
        (1073741824, -1)
        >>> quantize_multiplier(3.0)
        (1610612736, 2)

    Args:
        real_multiplier: ``input_scale * weight_scale / output_scale``, a finite number >= 0.

    Returns:
        ``(m0, shift)`` as Python ints; ``shift > 0`` is a left shift.

    Raises:
        ValueError: the multiplier is negative, NaN or infinite.
        TypeError: it is not a real number.

    Taught in: chapters/ch02_compression/03_integer_arithmetic
    """
    real = _check_real(real_multiplier, "real_multiplier")
    if real < 0:
        raise ValueError(f"real_multiplier must be >= 0 (a ratio of scales), got {real}")
    if real == 0.0:
        return 0, 0
    mantissa, shift = math.frexp(real)  # real = mantissa * 2**shift, 0.5 <= mantissa < 1
    m0 = math.floor(mantissa * 2**31 + 0.5)  # TfLiteRound: half away from zero (mantissa > 0)
    if m0 == 2**31:
        m0, shift = m0 // 2, shift + 1
    if shift < -31:
        return 0, 0
    return int(m0), int(shift)


@sealed.reference("ch02_compression/03_integer_arithmetic:requantize")
def multiply_by_quantized_multiplier(acc: Any, m0: Any, shift: Any, *, single_rounding: bool = False) -> np.ndarray:
    """Multiply int32 accumulators by ``m0 * 2**(shift - 31)`` in integer arithmetic, rounding as TFLite.

    Two roundings (``single_rounding=False``), gemmlowp's and TFLite's classic
    ``MultiplyByQuantizedMultiplier``: shift ``acc`` left by ``max(shift, 0)``, then
    ``SaturatingRoundingDoublingHighMul(acc, m0)`` (the high 32 bits of ``2 * acc * m0``,
    rounded to nearest, ties upwards; saturates only for ``INT32_MIN * INT32_MIN``), then
    ``RoundingDivideByPOT(·, max(-shift, 0))`` (an arithmetic right shift rounding to nearest,
    ties away from zero). One rounding (``single_rounding=True``, TFLite built with
    ``TFLITE_SINGLE_ROUNDING``): ``(acc * m0 + 2**(30 - shift)) >> (31 - shift)``, the exact
    product rounded once, ties upwards. The two differ by one in rare cases where the first
    rounding creates or breaks a tie.

    Example:
        >>> multiply_by_quantized_multiplier(np.array([3, -3, 1000]), 2**30, 0)
        array([  2,  -1, 500])

    Args:
        acc: integer accumulators (int32 range), any shape.
        m0: fixed-point multiplier(s) from :func:`quantize_multiplier`, a scalar or an array
            broadcastable against ``acc`` (one per output channel).
        shift: the matching shift(s), in ``[-31, 30]``.
        single_rounding: round once instead of twice.

    Returns:
        An ``int64`` array of ``acc``'s broadcast shape (values in the int32 range).

    Raises:
        TypeError: an argument does not hold integers.
        ValueError: ``acc`` leaves the int32 range, ``m0`` is outside ``[0, 2**31)``, or
            ``shift`` is outside ``[-31, 30]``.

    Taught in: chapters/ch02_compression/03_integer_arithmetic
    """
    arrays = []
    for name, value in (("acc", acc), ("m0", m0), ("shift", shift)):
        arr = np.asarray(value)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
        arrays.append(arr.astype(np.int64))
    x, mult, sh = np.broadcast_arrays(*arrays)
    if x.size and (x.min() < INT32_MIN or x.max() > INT32_MAX):
        raise ValueError("acc must lie in the int32 range (an int8 layer accumulates in int32)")
    if mult.size and (mult.min() < 0 or mult.max() > INT32_MAX):
        raise ValueError("m0 must lie in [0, 2**31): use quantize_multiplier(real_multiplier)")
    if sh.size and (sh.min() < -31 or sh.max() > 30):
        raise ValueError("shift must lie in [-31, 30]")
    if single_rounding:
        total = 31 - sh
        return (x * mult + (np.int64(1) << (total - 1))) >> total
    # exact integer arithmetic on Python ints (products need up to 63 bits plus the nudge)
    out = np.empty(x.shape, dtype=np.int64)
    for i, (a, b, s) in enumerate(zip(x.reshape(-1).tolist(), mult.reshape(-1).tolist(), sh.reshape(-1).tolist())):
        a = min(max(a * (1 << max(s, 0)), INT32_MIN), INT32_MAX)
        if a == b == INT32_MIN:
            high = INT32_MAX
        else:
            ab = a * b
            nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
            num = ab + nudge
            high = num // (1 << 31) if num >= 0 else -((-num) // (1 << 31))  # C++: toward zero
        e = max(-s, 0)
        mask = (1 << e) - 1
        threshold = (mask >> 1) + (1 if high < 0 else 0)
        out.reshape(-1)[i] = (high >> e) + (1 if (high & mask) > threshold else 0)
    return out


@sealed.reference("ch02_compression/03_integer_arithmetic:int8_dense")
def int8_fully_connected(
    x_q: Any,
    w_q: Any,
    bias: Any,
    *,
    input_scale: float,
    input_zero_point: int,
    weight_scales: Any,
    output_scale: float,
    output_zero_point: int,
    relu: bool = False,
    single_rounding: bool = False,
) -> np.ndarray:
    """An int8 fully connected layer computed as TFLite's integer kernels compute it.

    With weight zero point 0 (TFLite's int8 spec), ``acc[n, o] = sum_i (x_q[n, i] - z_x) *
    w_q[o, i] + bias_q[o]`` in int32, where ``bias_q = round(bias / (s_x * s_w[o]))`` is the
    bias at the accumulator's scale; then ``y_q = clip(requantize(acc) + z_y, lo, 127)`` with
    the multiplier ``s_x * s_w[o] / s_y`` as ``(m0, shift)`` and ``lo = max(-128, z_y)`` for a
    fused ReLU (real 0 is code ``z_y``), else -128. Jacob et al. (2018), section 2.3;
    ``tflite::reference_integer_ops::FullyConnected``.

    Example:
        >>> x_q = np.array([[-128, 0, 127]], dtype=np.int8)
        >>> w_q = np.array([[1, 2, 3], [-3, -2, -1]], dtype=np.int8)
        >>> int8_fully_connected(x_q, w_q, np.zeros(2), input_scale=0.01, input_zero_point=-128,
        ...                      weight_scales=0.02, output_scale=0.05, output_zero_point=0)
        array([[ 4, -2]], dtype=int8)

    Args:
        x_q: int8 inputs, shape ``(batch, inputs)``.
        w_q: int8 weights as TFLite stores them, shape ``(units, inputs)`` (the transpose of a
            Keras Dense kernel).
        bias: the real (float) bias, shape ``(units,)``; quantized here to int32. To reproduce a
            model's int32 bias ``b_q``, pass ``b_q * input_scale * weight_scales``.
        input_scale: the input tensor's scale.
        input_zero_point: the input tensor's zero point.
        weight_scales: one scale (per tensor) or ``units`` scales (per channel).
        output_scale: the output tensor's scale.
        output_zero_point: the output tensor's zero point.
        relu: a fused ReLU.
        single_rounding: requantize with one rounding (see :func:`multiply_by_quantized_multiplier`).

    Returns:
        ``int8`` outputs, shape ``(batch, units)``.

    Raises:
        TypeError: ``x_q`` or ``w_q`` is not int8.
        ValueError: the shapes do not match, or a scale is not positive.

    Taught in: chapters/ch02_compression/03_integer_arithmetic
    """
    x, w = np.asarray(x_q), np.asarray(w_q)
    for name, arr in (("x_q", x), ("w_q", w)):
        if arr.dtype != np.int8:
            raise TypeError(f"{name} must be an int8 array, got dtype {arr.dtype}")
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"expected x_q (batch, inputs) and w_q (units, inputs), got {x.shape} and {w.shape}")
    units = w.shape[0]
    s_w = np.broadcast_to(np.asarray(weight_scales, dtype=np.float64).reshape(-1), (units,))
    b = np.broadcast_to(np.asarray(bias, dtype=np.float64).reshape(-1), (units,))
    s_x, s_y = _check_real(input_scale, "input_scale"), _check_real(output_scale, "output_scale")
    if s_x <= 0 or s_y <= 0 or np.any(s_w <= 0):
        raise ValueError("scales must be positive")
    acc = (x.astype(np.int64) - int(input_zero_point)) @ w.astype(np.int64).T
    acc = acc + np.round(b / (s_x * s_w)).astype(np.int64)
    out = np.empty(acc.shape, dtype=np.int64)
    for o in range(units):
        mantissa, shift = math.frexp(s_x * float(s_w[o]) / s_y)
        m0 = math.floor(mantissa * 2**31 + 0.5)
        if m0 == 2**31:
            m0, shift = m0 // 2, shift + 1
        column = acc[:, o].tolist()
        if single_rounding:
            total = 31 - shift
            out[:, o] = [(a * m0 + (1 << (total - 1))) >> total for a in column]
            continue
        values = []
        for a in column:
            a = min(max(a * (1 << max(shift, 0)), INT32_MIN), INT32_MAX)
            ab = a * m0
            num = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
            high = num // (1 << 31) if num >= 0 else -((-num) // (1 << 31))
            e = max(-shift, 0)
            mask = (1 << e) - 1
            values.append((high >> e) + (1 if (high & mask) > (mask >> 1) + (1 if high < 0 else 0) else 0))
        out[:, o] = values
    low = max(-128, int(output_zero_point)) if relu else -128
    return np.clip(out + int(output_zero_point), low, 127).astype(np.int8)


# --------------------------------------------------------------------------- number formats
#: FP8 formats of the OCP 8-bit floating point specification (Micikevicius et al., 2022):
#: exponent bits, mantissa bits, exponent bias and the largest finite value.
FP8_FORMATS: dict[str, dict[str, float]] = {
    "e4m3": {"exponent_bits": 4, "mantissa_bits": 3, "bias": 7, "max": 448.0},
    "e5m2": {"exponent_bits": 5, "mantissa_bits": 2, "bias": 15, "max": 57344.0},
}


def fp8_quantize(x: Any, fmt: str = "e4m3", *, scale: float | None = None) -> np.ndarray:
    """Simulate an FP8 tensor: ``scale * round_to_fp8(x / scale)``, as ``float32``.

    Rounds to the nearest representable FP8 value (ties to even), with subnormals, and
    saturates at the format's largest value (E4M3: 448, no infinities; E5M2: 57344). The
    per-tensor ``scale`` defaults to ``max|x| / max`` so the largest magnitude lands on the
    format's largest value, the usual "max" calibration (van Baalen et al., 2023, *FP8 versus
    INT8 for efficient deep learning inference*, compare formats the same way). Relative
    precision is ``2**-(mantissa_bits + 1)`` at every magnitude, while INT8's absolute step is
    the same everywhere: FP8 spends codes on small values, INT8 spreads them evenly.

    Example:
        >>> fp8_quantize([1.0, 0.3, -17.0], "e4m3", scale=1.0)
        array([  1.    ,   0.3125, -16.    ], dtype=float32)

    Args:
        x: real numbers, any shape.
        fmt: ``"e4m3"`` or ``"e5m2"``.
        scale: the per-tensor scale; ``None`` takes ``max|x| / FP8_FORMATS[fmt]["max"]``.

    Returns:
        ``float32`` array of ``x``'s shape.

    Raises:
        ValueError: unknown ``fmt``, a non-positive scale, or ``x`` contains NaN.

    Taught in: chapters/ch02_compression/03_integer_arithmetic
    """
    if fmt not in FP8_FORMATS:
        raise ValueError(f"fmt must be one of {sorted(FP8_FORMATS)}, got {fmt!r}")
    spec = FP8_FORMATS[fmt]
    arr = _as_float_array(x, "x")
    if scale is None:
        peak = float(np.abs(arr).max()) if arr.size else 0.0
        scale = peak / spec["max"] if peak > 0 else 1.0
    scale = _check_real(scale, "scale")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    y = np.clip(arr / scale, -spec["max"], spec["max"])
    min_exponent = 1 - spec["bias"]  # below it: subnormals with the same step as the smallest binade
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log2(np.abs(y)))
    exponent = np.maximum(np.where(np.isfinite(exponent), exponent, min_exponent), min_exponent)
    step = np.exp2(exponent - spec["mantissa_bits"])
    y = np.clip(np.round(y / step) * step, -spec["max"], spec["max"])
    return (y * scale).astype(np.float32)


def int8_quantize_max(x: Any) -> np.ndarray:
    """Simulate a symmetric per-tensor INT8 tensor with max calibration, as ``float32``.

    ``s = max|x| / 127``, ``x_hat = s * clip(round(x / s), -127, 127)``: the INT8 counterpart
    of :func:`fp8_quantize`, for comparing number formats on the same tensor.

    Example:
        >>> int8_quantize_max([0.0, 0.5, 1.27]).round(3)
        array([0.  , 0.5 , 1.27], dtype=float32)

    Raises:
        ValueError: ``x`` contains NaN.

    Taught in: chapters/ch02_compression/03_integer_arithmetic
    """
    arr = _as_float_array(x, "x")
    peak = float(np.abs(arr).max()) if arr.size else 0.0
    s = peak / 127 if peak > 0 else 1.0
    return (s * np.clip(np.round(arr / s), -127, 127)).astype(np.float32)
