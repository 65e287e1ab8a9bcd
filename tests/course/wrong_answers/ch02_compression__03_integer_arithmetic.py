"""Plausible wrong answers for ch02_compression/03_integer_arithmetic.

Each entry replaces one answer cell of the solution notebook; the grading suite checks that the
submission then loses exactly the points of the test cells listed in ``loses``. ``int8_dense``
calls the learner's ``quantize_multiplier`` and ``requantize``, so a wrong ``requantize`` also
costs the test of ``int8_dense``; ``fake_quant`` is self-contained, and its forward and gradient
are graded in separate cells.
"""

_REQUANTIZE_HEAD = '''
def requantize(acc, m0, shift, single_rounding=False):
    """acc * m0 * 2**(shift - 31), rounded as TFLite rounds, in integer arithmetic only."""
    acc, m0, shift = np.broadcast_arrays(*(np.asarray(a, dtype=np.int64) for a in (acc, m0, shift)))
'''

_INT8_DENSE = '''
def int8_dense(x_q, w_q, bias, input_scale, input_zero_point, weight_scales, output_scale,
               output_zero_point, relu=False, single_rounding=False):
    """An int8 fully connected layer as TFLite computes it."""
    units = np.asarray(w_q).shape[0]
    s_w = np.broadcast_to(np.asarray(weight_scales, dtype=np.float64).reshape(-1), (units,))
{acc}
    multipliers = [quantize_multiplier(float(input_scale) * float(s) / float(output_scale)) for s in s_w]
    m0 = np.array([m for m, _ in multipliers], dtype=np.int64)
    shift = np.array([s for _, s in multipliers], dtype=np.int64)
    out = requantize(acc, m0, shift, single_rounding=single_rounding) + int(output_zero_point)
    low = max(-128, int(output_zero_point)) if relu else -128
    return np.clip(out, low, 127).astype(np.int8)
'''

_ACC = """    acc = (np.asarray(x_q, dtype=np.int64) - int(input_zero_point)) @ np.asarray(w_q, dtype=np.int64).T
    acc = acc + np.round(np.asarray(bias, dtype=np.float64) / (input_scale * s_w)).astype(np.int64)"""

_FAKE_QUANT = '''
def fake_quant(x, scale, zero_point, q_min=-128, q_max=127):
    """Fake quantization with a straight-through gradient."""
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    scale = tf.cast(scale, tf.float32)
    zero_point = tf.cast(zero_point, tf.float32)

    @tf.custom_gradient
    def quantize_dequantize(x):
        q = tf.clip_by_value(tf.round(x / scale) + zero_point, float(q_min), float(q_max))
        inside = (x >= scale * (q_min - zero_point)) & (x <= scale * (q_max - zero_point))

        def grad(dy):
{grad}

        return scale * (q - zero_point), grad

    return quantize_dequantize(x)
'''

WRONG_ANSWERS = [
    # requantization without rounding: the right shift floors (both variants)
    dict(
        cell="requantize",
        source=(
            _REQUANTIZE_HEAD
            + """    a = np.clip(acc << np.maximum(shift, 0), -(2**31), 2**31 - 1)
    return (a * m0) >> (31 + np.maximum(-shift, 0))
"""
        ).strip("\n"),
        loses=["requantize__test", "int8_dense__test"],
    ),
    # the bias quantized at the output scale instead of the accumulator's scale s_x * s_w
    dict(
        cell="int8_dense",
        source=_INT8_DENSE.format(
            acc="""    acc = (np.asarray(x_q, dtype=np.int64) - int(input_zero_point)) @ np.asarray(w_q, dtype=np.int64).T
    acc = acc + np.round(np.asarray(bias, dtype=np.float64) / output_scale).astype(np.int64)"""
        ).strip("\n"),
        loses=["int8_dense__test"],
    ),
    # the input zero point subtracted from the weights too (TFLite's int8 weights have zero point 0)
    dict(
        cell="int8_dense",
        source=_INT8_DENSE.format(
            acc="""    acc = ((np.asarray(x_q, dtype=np.int64) - int(input_zero_point))
           @ (np.asarray(w_q, dtype=np.int64) - int(input_zero_point)).T)
    acc = acc + np.round(np.asarray(bias, dtype=np.float64) / (input_scale * s_w)).astype(np.int64)"""
        ).strip("\n"),
        loses=["int8_dense__test"],
    ),
    # int8 arithmetic: the sum overflows (wraps around) in int8 before it is widened
    dict(
        cell="int8_dense",
        source=_INT8_DENSE.format(
            acc="""    acc = ((np.asarray(x_q) - np.int8(input_zero_point)) @ np.asarray(w_q).T).astype(np.int64)
    acc = acc + np.round(np.asarray(bias, dtype=np.float64) / (input_scale * s_w)).astype(np.int64)"""
        ).strip("\n"),
        loses=["int8_dense__test"],
    ),
    # the gradient is not passed through: round has no gradient, so training stalls
    dict(
        cell="fake_quant",
        source=_FAKE_QUANT.format(grad="            return tf.zeros_like(dy)").strip("\n"),
        loses=["fake_quant_gradient__test"],
    ),
    # the gradient passed through everywhere, clipped values included
    dict(
        cell="fake_quant",
        source=_FAKE_QUANT.format(grad="            return dy").strip("\n"),
        loses=["fake_quant_gradient__test"],
    ),
    # Python's round() (and np.round) round halves to even; TFLite rounds the mantissa half away from zero
    dict(
        cell="quantize_multiplier",
        source="""
def quantize_multiplier(real_multiplier):
    if real_multiplier == 0:
        return 0, 0
    mantissa, shift = math.frexp(real_multiplier)
    m0 = round(mantissa * 2**31)
    if m0 == 2**31:
        m0, shift = m0 // 2, shift + 1
    return m0, shift
""".strip("\n"),
        loses=["quantize_multiplier__test"],
    ),
    # the C++ steps in float64: (a * m0 + nudge) / 2**31 loses the low bits of a 62-bit product
    dict(
        cell="requantize",
        source=(
            _REQUANTIZE_HEAD
            + """    if single_rounding:
        return np.floor(acc * (m0 * 2.0 ** (shift - 31)) + 0.5).astype(np.int64)
    a = acc * 2 ** np.maximum(shift, 0)
    ab = a * m0
    num = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    high = np.trunc(num / 2.0**31).astype(np.int64)
    e = np.maximum(-shift, 0)
    mask = (np.int64(1) << e) - 1
    return (high >> e) + ((high & mask) > (mask >> 1) + (high < 0))
"""
        ).strip("\n"),
        loses=["requantize__test"],
    ),
    # the bias truncated toward zero instead of rounded
    dict(
        cell="int8_dense",
        source=_INT8_DENSE.format(
            acc="""    acc = (np.asarray(x_q, dtype=np.int64) - int(input_zero_point)) @ np.asarray(w_q, dtype=np.int64).T
    acc = acc + (np.asarray(bias, dtype=np.float64) / (input_scale * s_w)).astype(np.int64)"""
        ).strip("\n"),
        loses=["int8_dense__test"],
    ),
    # no clamp to [-128, 127] (only the ReLU's lower bound): codes out of range wrap around in int8
    dict(
        cell="int8_dense",
        source=_INT8_DENSE.format(acc=_ACC)
        .replace("return np.clip(out, low, 127).astype(np.int8)", "return np.maximum(out, low).astype(np.int8)")
        .strip("\n"),
        loses=["int8_dense__test"],
    ),
    # per-channel only: a single (per-tensor) weight scale is not handled
    dict(
        cell="int8_dense",
        source=_INT8_DENSE.format(acc=_ACC).replace("for s in s_w]", "for s in weight_scales]").strip("\n"),
        loses=["int8_dense__test"],
    ),
    # the multiplier applied in floating point (rounded half up), not with quantize_multiplier and requantize
    dict(
        cell="int8_dense",
        source=_INT8_DENSE.format(acc=_ACC)
        .replace(
            "out = requantize(acc, m0, shift, single_rounding=single_rounding)",
            "out = np.floor(acc * (input_scale * s_w / output_scale) + 0.5).astype(np.int64)",
        )
        .strip("\n"),
        loses=["int8_dense__test"],
    ),
    # the forward pass forgets to round: values are clipped but stay off the grid
    dict(
        cell="fake_quant",
        source=_FAKE_QUANT.format(grad="            return dy * tf.cast(inside, dy.dtype)")
        .replace("tf.round(x / scale)", "(x / scale)")
        .strip("\n"),
        loses=["fake_quant__test"],
    ),
]
