"""Plausible wrong answers for projects_tpu_bert/01_bert_with_tf_distribute.

Each entry replaces the answer cell ``masked_lm_loss``; the submission must then lose exactly the
points of ``masked_lm_loss__test`` (the notebook's only graded test). The visible test checks random
batches against a NumPy reference, fractional weights, logits of size 100, all weights 0, the type
(a float32 scalar tensor) and the gradient inside ``tf.function``. The graded one divides by every
position (Keras' default reduction with ``sample_weight``); the others (checked in-process) average
the chosen positions' losses without their weights, take ``log(softmax)``, divide by zero when
nothing is chosen, guard the value but not the gradient, return a NumPy float, and average
per-sequence means.
"""


def _answer(body: str) -> str:
    return (
        "def masked_lm_loss(labels, logits, weights):\n"
        '    """A wrong version."""\n'
        "    labels = tf.cast(labels, tf.int32)\n"
        "    weights = tf.cast(weights, tf.float32)\n"
        "    logits = tf.cast(logits, tf.float32)\n" + body
    )


_CE = "    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)\n"


def _wrong(body: str) -> dict:
    return dict(cell="masked_lm_loss", source=_answer(body), loses=["masked_lm_loss__test"])


_ALL = [
    # Keras' default: the weighted sum divided by all positions, chosen or not
    _wrong(_CE + "    return tf.reduce_sum(ce * weights) / tf.cast(tf.size(ce), tf.float32)\n"),
    # the mean over the chosen positions, ignoring the weights' values (0.5 counts as 1)
    _wrong(_CE + "    return tf.reduce_mean(tf.boolean_mask(ce, weights > 0))\n"),
    # log(softmax): -inf for a probability that underflows, so logits of size 100 give inf or NaN
    _wrong(
        "    probs = tf.gather(tf.nn.softmax(logits), labels, batch_dims=2)\n"
        "    ce = -tf.math.log(probs)\n"
        "    return tf.math.divide_no_nan(tf.reduce_sum(ce * weights), tf.reduce_sum(weights))\n"
    ),
    # no guard: NaN when nothing is chosen
    _wrong(_CE + "    return tf.reduce_sum(ce * weights) / tf.reduce_sum(weights)\n"),
    # a NumPy float, not a tensor (cannot run inside tf.function)
    _wrong(_CE + "    return np.float32(np.sum(ce.numpy() * weights.numpy()) / max(np.sum(weights.numpy()), 1e-12))\n"),
    # the mean of each sequence's mean: sequences with few masked tokens weigh as much as long ones
    _wrong(
        _CE
        + "    per_row = tf.math.divide_no_nan(tf.reduce_sum(ce * weights, axis=1), tf.reduce_sum(weights, axis=1))\n"
        "    return tf.reduce_mean(per_row)\n"
    ),
    # from a review: 0 when nothing is chosen, but tf.where differentiates both branches, so the
    # gradient of sum/0 is NaN and one batch without a masked position ruins every weight
    _wrong(
        _CE + "    total = tf.reduce_sum(weights)\n"
        "    return tf.where(total > 0, tf.reduce_sum(ce * weights) / total, 0.0)\n"
    ),  # from a review: the weights used as given (no cast), so float64 weights cannot multiply float32 losses
    dict(
        cell="masked_lm_loss",
        source=(
            "def masked_lm_loss(labels, logits, weights):\n"
            "    per = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(labels, tf.int32), tf.cast(logits, tf.float32))\n"
            "    return tf.math.divide_no_nan(tf.reduce_sum(per * weights), tf.reduce_sum(weights))\n"
        ),
        loses=["masked_lm_loss__test"],
    ),
]

# The suite grades one wrong answer through the sandbox (each costs a run of the notebook's cut);
# the others are MORE_WRONG_ANSWERS, checked in-process to lose exactly their cell.
WRONG_ANSWERS = _ALL[:1]
MORE_WRONG_ANSWERS = _ALL[1:]
