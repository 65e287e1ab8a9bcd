"""Plausible wrong answers for ch02_compression/01_quantization_from_scratch.

Each entry replaces one answer cell of the solution notebook; the grading suite checks that the
submission then loses exactly the points of the test cells listed in ``loses`` (and keeps the
others). ``quantize`` calls the learner's ``affine_params``, so a wrong ``affine_params`` also
costs the tests of ``quantize`` that exercise the broken part; ``per_channel_quantize`` is
self-contained.
"""

_AFFINE_DOC = '''
    """Scale and zero point of a `bits`-bit quantizer for the range [x_min, x_max]."""
'''

_QUANTIZE_TEMPLATE = '''
def quantize(x, bits, x_min, x_max, symmetric=False):
    """Quantize the array x to `bits`-bit integer codes."""
    scale, zero_point = affine_params(x_min, x_max, bits, symmetric)
    if symmetric:
        q_min, q_max, dtype = -(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1, np.int8
    else:
        q_min, q_max, dtype = 0, 2**bits - 1, np.uint8
{body}


def dequantize(q, bits, x_min, x_max, symmetric=False):
    """Map codes back to real values: scale * (q - zero_point), as np.float32."""
    scale, zero_point = affine_params(x_min, x_max, bits, symmetric)
    return (scale * (np.asarray(q, dtype=np.float64) - zero_point)).astype(np.float32)
'''


def _quantize(body: str) -> str:
    return _QUANTIZE_TEMPLATE.format(body=body).strip("\n")


_ALL = [
    # floor instead of round: errors up to a whole step, always downwards
    dict(
        cell="quantize",
        source=_quantize("""\
    q = np.floor(np.asarray(x, dtype=np.float64) / scale) + zero_point
    return np.clip(q, q_min, q_max).astype(dtype)"""),
        loses=["quantize__test", "quantize_symmetric__test"],
    ),
    # truncation by the cast: .astype on a float drops the fraction (like floor for x >= 0, toward 0 for x < 0)
    dict(
        cell="quantize",
        source=_quantize("""\
    q = np.asarray(x, dtype=np.float64) / scale + zero_point
    return np.clip(q, q_min, q_max).astype(dtype)"""),
        loses=["quantize__test", "quantize_symmetric__test"],
    ),
    # no clipping: out-of-range values wrap around in the uint8/int8 cast (only hidden tests use them)
    dict(
        cell="quantize",
        source=_quantize("""\
    q = np.round(np.asarray(x, dtype=np.float64) / scale) + zero_point
    return q.astype(np.int64).astype(dtype)"""),
        loses=["quantize__test", "quantize_symmetric__test"],
    ),
    # modifies the caller's array in place (x /= scale on the caller's float64 array)
    dict(
        cell="quantize",
        source=_quantize("""\
    x = np.asarray(x)
    x /= scale
    return np.clip(np.round(x) + zero_point, q_min, q_max).astype(dtype)"""),
        loses=["quantize__test", "quantize_symmetric__test"],
    ),
    # a real-valued offset x_min instead of an integer zero point: 0.0 no longer comes back as 0
    # (the symmetric branch is right, so only the asymmetric test fails)
    dict(
        cell="quantize",
        source='''\
def quantize(x, bits, x_min, x_max, symmetric=False):
    """Quantize the array x to `bits`-bit integer codes."""
    scale, zero_point = affine_params(x_min, x_max, bits, symmetric)
    x = np.asarray(x, dtype=np.float64)
    if symmetric:
        q_max = 2 ** (bits - 1) - 1
        return np.clip(np.round(x / scale), -q_max, q_max).astype(np.int8)
    return np.clip(np.round((x - x_min) / scale), 0, 2**bits - 1).astype(np.uint8)


def dequantize(q, bits, x_min, x_max, symmetric=False):
    """Map codes back to real values, as np.float32."""
    scale, zero_point = affine_params(x_min, x_max, bits, symmetric)
    q = np.asarray(q, dtype=np.float64)
    if symmetric:
        return (scale * q).astype(np.float32)
    return (x_min + scale * q).astype(np.float32)''',
        loses=["quantize__test"],
    ),
    # symmetric with 2**(bits-1) steps (the full int8 range -128..127) instead of 2**(bits-1) - 1
    dict(
        cell="affine_params",
        source="""\
def affine_params(x_min, x_max, bits, symmetric=False):"""
        + _AFFINE_DOC
        + """\
    if x_max <= x_min:
        raise ValueError("x_max must be greater than x_min")
    if symmetric:
        return max(abs(x_min), abs(x_max)) / 2 ** (bits - 1), 0
    scale = (x_max - x_min) / (2**bits - 1)
    return scale, -round(x_min / scale)""",
        loses=["affine_params__test", "quantize_symmetric__test"],
    ),
    # 2**bits levels instead of 2**bits - 1 steps: the last code is never reached
    dict(
        cell="affine_params",
        source="""\
def affine_params(x_min, x_max, bits, symmetric=False):"""
        + _AFFINE_DOC
        + """\
    if x_max <= x_min:
        raise ValueError("x_max must be greater than x_min")
    if symmetric:
        return max(abs(x_min), abs(x_max)) / (2 ** (bits - 1) - 1), 0
    scale = (x_max - x_min) / 2**bits
    return scale, -round(x_min / scale)""",
        loses=["affine_params__test", "quantize__test"],
    ),
    # zero point as a float (np.round): the value is right but the type is not an int
    dict(
        cell="affine_params",
        source="""\
def affine_params(x_min, x_max, bits, symmetric=False):"""
        + _AFFINE_DOC
        + """\
    if x_max <= x_min:
        raise ValueError("x_max must be greater than x_min")
    if symmetric:
        return max(abs(x_min), abs(x_max)) / (2 ** (bits - 1) - 1), 0
    scale = (x_max - x_min) / (2**bits - 1)
    return scale, -np.round(x_min / scale)""",
        loses=["affine_params__test"],
    ),
    # per channel: reduces over the channel axis (one scale per input row) instead of over the others
    dict(
        cell="per_channel",
        source='''\
def per_channel_quantize(w, bits, axis=-1):
    """Symmetric quantization of w with one scale per channel along `axis`."""
    w = np.asarray(w, dtype=np.float64)
    q_max = 2 ** (bits - 1) - 1
    scales = np.abs(w).max(axis=axis, keepdims=True) / q_max
    q = np.clip(np.round(w / scales), -q_max, q_max).astype(np.int8)
    return q, scales.reshape(-1).astype(np.float32)''',
        loses=["per_channel__test"],
    ),
    # per channel with floor instead of round
    dict(
        cell="per_channel",
        source='''\
def per_channel_quantize(w, bits, axis=-1):
    """Symmetric quantization of w with one scale per channel along `axis`."""
    w = np.asarray(w, dtype=np.float64)
    axis = axis % w.ndim
    q_max = 2 ** (bits - 1) - 1
    other_axes = tuple(i for i in range(w.ndim) if i != axis)
    scales = np.abs(w).max(axis=other_axes, keepdims=True) / q_max
    q = np.clip(np.floor(w / scales), -q_max, q_max).astype(np.int8)
    return q, scales.reshape(-1).astype(np.float32)''',
        loses=["per_channel__test"],
    ),
    # per tensor: one scale for the whole matrix, repeated per channel
    dict(
        cell="per_channel",
        source='''\
def per_channel_quantize(w, bits, axis=-1):
    """Symmetric quantization of w with one scale per channel along `axis`."""
    w = np.asarray(w, dtype=np.float64)
    q_max = 2 ** (bits - 1) - 1
    scale = np.abs(w).max() / q_max
    q = np.clip(np.round(w / scale), -q_max, q_max).astype(np.int8)
    return q, np.full(w.shape[axis], scale, dtype=np.float32)''',
        loses=["per_channel__test"],
    ),
]

# The course suite grades a few of these through the sandbox (each is a full notebook run); the rest
# are kept as documented plausible mistakes. Chosen: floor instead of round, modifying the
# caller's array, per-channel scales over the wrong axis.
_GRADED = (0, 3, 8)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
