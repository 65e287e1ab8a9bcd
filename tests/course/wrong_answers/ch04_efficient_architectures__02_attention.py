"""Plausible wrong answers for ch04_efficient_architectures/02_attention.

Each entry replaces the answer cell ``attention`` of the solution notebook; the submission must
then lose exactly the test cell ``attention__test``. The tests use d_k != d_v != T_k and a
partly masked and a fully masked query in every case, so each mistake is caught on every seed.
"""


def _attention(scores: str, weights: str) -> str:
    return f"""
def scaled_dot_product_attention(query, key, value, mask=None):
    query = tf.convert_to_tensor(query, tf.float32)
    key = tf.convert_to_tensor(key, tf.float32)
    value = tf.convert_to_tensor(value, tf.float32)
    scores = {scores}
    if mask is None:
        weights = tf.nn.softmax(scores, axis=-1)
    else:
        keep = tf.cast(mask, tf.float32)
        weights = {weights}
    return tf.matmul(weights, value), weights
"""


_SCALED = "tf.matmul(query, key, transpose_b=True) / tf.sqrt(float(query.shape[-1]))"
_MASKED = "tf.nn.softmax(scores + (1.0 - keep) * -1e9, axis=-1) * keep"

WRONG_ANSWERS = [
    # no 1/sqrt(d_k) scaling: softmax(Q K^T) V
    dict(
        cell="attention",
        source=_attention("tf.matmul(query, key, transpose_b=True)", _MASKED),
        loses=["attention__test"],
    ),
]

MORE_WRONG_ANSWERS = [
    # scaled by sqrt of the value dimension d_v instead of the key dimension d_k
    dict(
        cell="attention",
        source=_attention("tf.matmul(query, key, transpose_b=True) / tf.sqrt(float(value.shape[-1]))", _MASKED),
        loses=["attention__test"],
    ),
    # scaled by sqrt of the number of keys T_k instead of d_k
    dict(
        cell="attention",
        source=_attention("tf.matmul(query, key, transpose_b=True) / tf.sqrt(float(key.shape[-2]))", _MASKED),
        loses=["attention__test"],
    ),
    # divided by d_k, not its square root
    dict(
        cell="attention",
        source=_attention("tf.matmul(query, key, transpose_b=True) / float(query.shape[-1])", _MASKED),
        loses=["attention__test"],
    ),
    # softmax over the queries (axis -2) instead of the keys
    dict(
        cell="attention",
        source=_attention(_SCALED, "tf.nn.softmax(scores + (1.0 - keep) * -1e9, axis=-2) * keep").replace(
            "weights = tf.nn.softmax(scores, axis=-1)", "weights = tf.nn.softmax(scores, axis=-2)"
        ),
        loses=["attention__test"],
    ),
    # the mask added with the wrong sign: the kept keys are pushed down, the masked ones win
    dict(
        cell="attention",
        source=_attention(_SCALED, "tf.nn.softmax(scores + keep * -1e9, axis=-1) * (1.0 - keep)"),
        loses=["attention__test"],
    ),
    # the mask applied after the softmax: masked keys get 0 but the rest no longer sums to 1
    dict(
        cell="attention",
        source=_attention(_SCALED, "tf.nn.softmax(scores, axis=-1) * keep"),
        loses=["attention__test"],
    ),
    # the large-negative trick without the final multiplication: a fully masked query gets uniform weights
    dict(
        cell="attention",
        source=_attention(_SCALED, "tf.nn.softmax(scores + (1.0 - keep) * -1e9, axis=-1)"),
        loses=["attention__test"],
    ),
    # masked scores set to -inf: a fully masked query gets NaN
    dict(
        cell="attention",
        source=_attention(_SCALED, "tf.nn.softmax(tf.where(keep > 0, scores, -np.inf), axis=-1)"),
        loses=["attention__test"],
    ),
    # transposes the key with a fixed 3-D permutation: wrong with head axes (and without a batch axis)
    dict(
        cell="attention",
        source=_attention("tf.matmul(query, tf.transpose(key, [0, 2, 1])) / tf.sqrt(float(query.shape[-1]))", _MASKED),
        loses=["attention__test"],
    ),
    # scales the caller's query array in place (NumPy inputs): the right numbers, but the learner's data changed
    dict(
        cell="attention",
        source="""
def scaled_dot_product_attention(query, key, value, mask=None):
    if isinstance(query, np.ndarray):
        query /= np.sqrt(query.shape[-1])
    else:
        query = query / np.sqrt(query.shape[-1])
    scores = tf.matmul(tf.cast(query, tf.float32), tf.cast(key, tf.float32), transpose_b=True)
    weights = tf.nn.softmax(scores, axis=-1)
    if mask is not None:
        keep = tf.cast(mask, tf.float32)
        weights = tf.nn.softmax(scores + (1.0 - keep) * -1e9, axis=-1) * keep
    return tf.matmul(weights, tf.cast(value, tf.float32)), weights
""",
        loses=["attention__test"],
    ),
]
