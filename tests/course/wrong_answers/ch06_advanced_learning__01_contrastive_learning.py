"""Plausible wrong answers for ch06_advanced_learning/01_contrastive_learning.

Each entry replaces the answer cell ``nt_xent_loss``; the grading suite checks that the submission
then loses exactly the points of ``nt_xent_loss__test`` (the notebook's only graded cell).
"""

_TEMPLATE = '''
def nt_xent_loss(z1, z2, temperature=0.5):
    """SimCLR's NT-Xent loss."""
{stack}
    n = tf.shape(z)[0] // 2
{normalise}
{logits}
{mask}
{positives}
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=positives, logits=logits)
{reduce}
'''

_STACK = "    z = tf.concat([tf.cast(z1, tf.float32), tf.cast(z2, tf.float32)], axis=0)"
_NORMALISE = "    z = tf.math.l2_normalize(z, axis=1)"
_LOGITS = "    logits = tf.matmul(z, z, transpose_b=True) / temperature"
_MASK = "    logits = tf.where(tf.eye(2 * n) > 0, tf.constant(-1e9, logits.dtype), logits)"
_POSITIVES = "    positives = tf.concat([tf.range(n, 2 * n), tf.range(0, n)], axis=0)"
_REDUCE = "    return tf.reduce_mean(losses)"


def _answer(
    stack=_STACK, normalise=_NORMALISE, logits=_LOGITS, mask=_MASK, positives=_POSITIVES, reduce=_REDUCE
) -> str:
    return _TEMPLATE.format(
        stack=stack, normalise=normalise, logits=logits, mask=mask, positives=positives, reduce=reduce
    ).strip("\n")


_ALL = [
    # the course's own loss (sealed while grading: loses only in the sealed build)
    dict(
        cell="nt_xent_loss",
        source=(
            "def nt_xent_loss(z1, z2, temperature=0.5):\n"
            "    from effcourse import contrastive\n\n"
            "    return contrastive.nt_xent_loss(z1, z2, temperature)"
        ),
        loses=["nt_xent_loss__test"],
        sealed_route=True,
    ),
    # dot products instead of cosine similarities: the embeddings are not normalised
    dict(cell="nt_xent_loss", source=_answer(normalise="    pass"), loses=["nt_xent_loss__test"]),
    # the view itself left among the negatives (self-similarity not masked)
    dict(cell="nt_xent_loss", source=_answer(mask="    pass"), loses=["nt_xent_loss__test"]),
    # the temperature applied twice
    dict(
        cell="nt_xent_loss",
        source=_answer(logits="    logits = tf.matmul(z, z, transpose_b=True) / temperature / temperature"),
        loses=["nt_xent_loss__test"],
    ),
    # the temperature forgotten
    dict(
        cell="nt_xent_loss",
        source=_answer(logits="    logits = tf.matmul(z, z, transpose_b=True)"),
        loses=["nt_xent_loss__test"],
    ),
    # only the first views as anchors: the mean over N anchors instead of 2N
    dict(
        cell="nt_xent_loss",
        source=_answer(reduce="    return tf.reduce_mean(losses[:n])"),
        loses=["nt_xent_loss__test"],
    ),
    # the sum over the anchors instead of the mean
    dict(cell="nt_xent_loss", source=_answer(reduce="    return tf.reduce_sum(losses)"), loses=["nt_xent_loss__test"]),
    # the views interleaved (rows 2i, 2i+1) while the positives are still taken at i + N
    dict(
        cell="nt_xent_loss",
        source=_answer(
            stack="    z = tf.reshape(tf.stack([tf.cast(z1, tf.float32), tf.cast(z2, tf.float32)], axis=1), "
            "[-1, tf.shape(z1)[1]])"
        ),
        loses=["nt_xent_loss__test"],
    ),
    # the positive off by one row (i + N + 1)
    dict(
        cell="nt_xent_loss",
        source=_answer(positives="    positives = (tf.range(2 * n) + n + 1) % (2 * n)"),
        loses=["nt_xent_loss__test"],
    ),
    # NumPy all the way, wrapped in a tensor at the end: right values, but no gradient
    dict(
        cell="nt_xent_loss",
        source='''
def nt_xent_loss(z1, z2, temperature=0.5):
    """SimCLR's NT-Xent loss, in NumPy."""
    z = np.concatenate([np.asarray(z1, np.float64), np.asarray(z2, np.float64)])
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    n2 = len(z)
    logits = z @ z.T / temperature
    np.fill_diagonal(logits, -np.inf)
    m = logits.max(axis=1, keepdims=True)
    log_denominator = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    positives = (np.arange(n2) + n2 // 2) % n2
    return tf.constant(np.mean(log_denominator - logits[np.arange(n2), positives]), tf.float32)
'''.strip("\n"),
        loses=["nt_xent_loss__test"],
    ),
    # softmax written out with exp and no shift: overflows at a small temperature
    dict(
        cell="nt_xent_loss",
        source=_answer(
            mask="    e = tf.exp(logits) * (1.0 - tf.eye(2 * n))",
            positives="    positives = tf.concat([tf.range(n, 2 * n), tf.range(0, n)], axis=0)\n"
            "    p = tf.gather(e, positives, batch_dims=1) / tf.reduce_sum(e, axis=1)",
            reduce="    return -tf.reduce_mean(tf.math.log(p))",
        ),
        loses=["nt_xent_loss__test"],
    ),
    # max-shifted before exp, but then the log of a ratio of exps: the positive's share e^-100 is 0 in
    # float32 at temperature 0.01 (from a learner's review: the old hint "subtract the largest logit")
    dict(
        cell="nt_xent_loss",
        source=_answer(
            mask="    logits = logits - tf.reduce_max(logits, axis=1, keepdims=True)\n"
            "    e = tf.exp(logits) * (1.0 - tf.eye(2 * n))",
            positives="    positives = tf.concat([tf.range(n, 2 * n), tf.range(0, n)], axis=0)\n"
            "    p = tf.gather(e, positives, batch_dims=1) / tf.reduce_sum(e, axis=1)",
            reduce="    return -tf.reduce_mean(tf.math.log(p))",
        ),
        loses=["nt_xent_loss__test"],
    ),
    # the self-similarity set to 0 instead of removed (exp(0) = 1 still in the denominator)
    dict(
        cell="nt_xent_loss",
        source=_answer(mask="    logits = logits * (1.0 - tf.eye(2 * n))"),
        loses=["nt_xent_loss__test"],
    ),
    # CLIP-style: only the other view's rows as candidates (z1 @ z2.T both ways), no same-view negatives
    dict(
        cell="nt_xent_loss",
        source='''
def nt_xent_loss(z1, z2, temperature=0.5):
    """SimCLR's NT-Xent loss, cross-view only."""
    a = tf.math.l2_normalize(tf.cast(z1, tf.float32), axis=1)
    b = tf.math.l2_normalize(tf.cast(z2, tf.float32), axis=1)
    logits = tf.matmul(a, b, transpose_b=True) / temperature
    labels = tf.range(tf.shape(a)[0])
    forward = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    backward = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=tf.transpose(logits))
    return tf.reduce_mean(tf.concat([forward, backward], axis=0))
'''.strip("\n"),
        loses=["nt_xent_loss__test"],
    ),
    # the positive left out of the denominator too (only the 2N - 2 negatives)
    dict(
        cell="nt_xent_loss",
        source=_answer(
            mask="    positive_logits = tf.gather(logits, tf.concat([tf.range(n, 2 * n), tf.range(0, n)], axis=0), "
            "batch_dims=1)\n"
            "    drop = tf.eye(2 * n) + tf.roll(tf.eye(2 * n), shift=n, axis=1)\n"
            "    logits = tf.where(drop > 0, tf.constant(-1e9, logits.dtype), logits)",
            positives="    positives = None",
            reduce="    return tf.reduce_mean(tf.reduce_logsumexp(logits, axis=1) - positive_logits)",
        ).replace("    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=positives, logits=logits)\n", ""),
        loses=["nt_xent_loss__test"],
    ),
    # normalised along the wrong axis (each feature over the batch instead of each embedding)
    dict(
        cell="nt_xent_loss",
        source=_answer(normalise="    z = tf.math.l2_normalize(z, axis=0)"),
        loses=["nt_xent_loss__test"],
    ),
    # the default temperature changed (the pretraining calls it with the notebook's TEMPERATURE, so only
    # the test's default-temperature case shows it; from a learner's review)
    dict(
        cell="nt_xent_loss",
        source=_answer().replace("temperature=0.5", "temperature=0.1", 1),
        loses=["nt_xent_loss__test"],
    ),
    # the inputs normalised in place (NumPy arrays come back changed)
    dict(
        cell="nt_xent_loss",
        source=_answer(
            stack="    for z_ in (z1, z2):\n"
            "        if isinstance(z_, np.ndarray):\n"
            "            z_ /= np.linalg.norm(z_, axis=1, keepdims=True)\n" + _STACK
        ),
        loses=["nt_xent_loss__test"],
    ),
]

# Each graded wrong answer costs a sandboxed run of the cut notebook, so the suite grades two (the
# sealed route, which loses only in the sealed build, and the missing mask); the others are
# MORE_WRONG_ANSWERS, checked in-process.
_GRADED = (0, 2)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
