"""Plausible wrong answers for ch03_learning_techniques/03_distillation.

Each entry replaces the answer cell ``distillation_loss``. The value mistakes (no T**2, softening
one side only, the KL the wrong way round, alpha on the wrong term, a soft-target cross-entropy
instead of the KL, clipped probabilities, the hard term on softened logits, sums or means over
the wrong axis) lose the value test
``distillation_loss__test`` and keep the stability test, whose checks (finite for huge logits; a
student equal to its teacher at T = 1) they all pass. The unstable ``log(softmax(...))`` gives the
right values for ordinary logits and loses only ``distillation_loss_stable__test``.
"""

_HEAD = '''
def distillation_loss(y_true, student_logits, teacher_logits, temperature=4.0, alpha=0.1):
    """Hinton's distillation loss (a wrong version)."""
    s = tf.convert_to_tensor(student_logits, dtype=tf.float32)
    t = tf.convert_to_tensor(teacher_logits, dtype=tf.float32)
    y = tf.cast(tf.convert_to_tensor(y_true), tf.int32)
    hard = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=s))
'''


def _loss(body: str) -> str:
    return (_HEAD + body).strip("\n")


_ALL = [
    # forgets the T**2 factor: the soft term fades as 1/T**2 when T grows
    dict(
        cell="distillation_loss",
        source=_loss("""\
    log_p = tf.nn.log_softmax(t / temperature, axis=-1)
    log_q = tf.nn.log_softmax(s / temperature, axis=-1)
    soft = tf.reduce_mean(tf.reduce_sum(tf.exp(log_p) * (log_p - log_q), axis=-1))
    return alpha * hard + (1.0 - alpha) * soft"""),
        loses=["distillation_loss__test"],
    ),
    # softens only the student's logits: the teacher's distribution stays sharp
    dict(
        cell="distillation_loss",
        source=_loss("""\
    log_p = tf.nn.log_softmax(t, axis=-1)
    log_q = tf.nn.log_softmax(s / temperature, axis=-1)
    soft = tf.reduce_mean(tf.reduce_sum(tf.exp(log_p) * (log_p - log_q), axis=-1))
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft"""),
        loses=["distillation_loss__test"],
    ),
    # the KL the wrong way round: KL(student || teacher)
    dict(
        cell="distillation_loss",
        source=_loss("""\
    log_p = tf.nn.log_softmax(t / temperature, axis=-1)
    log_q = tf.nn.log_softmax(s / temperature, axis=-1)
    soft = tf.reduce_mean(tf.reduce_sum(tf.exp(log_q) * (log_q - log_p), axis=-1))
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft"""),
        loses=["distillation_loss__test"],
    ),
    # alpha on the soft term instead of the hard labels
    dict(
        cell="distillation_loss",
        source=_loss("""\
    log_p = tf.nn.log_softmax(t / temperature, axis=-1)
    log_q = tf.nn.log_softmax(s / temperature, axis=-1)
    soft = tf.reduce_mean(tf.reduce_sum(tf.exp(log_p) * (log_p - log_q), axis=-1))
    return (1.0 - alpha) * hard + alpha * temperature**2 * soft"""),
        loses=["distillation_loss__test"],
    ),
    # log(softmax(...)): right for ordinary logits, -inf and nan once a probability underflows
    dict(
        cell="distillation_loss",
        source=_loss("""\
    hard = -tf.reduce_mean(tf.math.log(tf.gather(tf.nn.softmax(s), y, axis=1, batch_dims=1)))
    p = tf.nn.softmax(t / temperature, axis=-1)
    q = tf.nn.softmax(s / temperature, axis=-1)
    soft = tf.reduce_mean(tf.reduce_sum(p * (tf.math.log(p) - tf.math.log(q)), axis=-1))
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft"""),
        loses=["distillation_loss_stable__test"],
    ),
]

# More plausible mistakes, each checked to lose exactly its cells (see the module docstring).
_ALL += [
    # a cross-entropy with soft targets instead of the KL: the same gradient, but the value adds the
    # teacher's entropy (nonzero when the student equals its teacher)
    dict(
        cell="distillation_loss",
        source=_loss("""\
    p = tf.nn.softmax(t / temperature, axis=-1)
    soft = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=p, logits=s / temperature))
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft"""),
        loses=["distillation_loss__test"],
    ),
    # keras.losses.KLDivergence on probabilities: finite, but it clips them at 1e-7, so a student
    # sure of a class its teacher doubts gets too small a loss
    dict(
        cell="distillation_loss",
        source=_loss("""\
    p = tf.nn.softmax(t / temperature, axis=-1)
    q = tf.nn.softmax(s / temperature, axis=-1)
    soft = keras.losses.KLDivergence()(p, q)
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft"""),
        loses=["distillation_loss__test"],
    ),
    # the hard term on the softened student logits
    dict(
        cell="distillation_loss",
        source=_loss("""\
    hard = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=s / temperature))
    log_p = tf.nn.log_softmax(t / temperature, axis=-1)
    log_q = tf.nn.log_softmax(s / temperature, axis=-1)
    soft = tf.reduce_mean(tf.reduce_sum(tf.exp(log_p) * (log_p - log_q), axis=-1))
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft"""),
        loses=["distillation_loss__test"],
    ),
    # softens only the teacher's logits
    dict(
        cell="distillation_loss",
        source=_loss("""\
    log_p = tf.nn.log_softmax(t / temperature, axis=-1)
    log_q = tf.nn.log_softmax(s, axis=-1)
    soft = tf.reduce_mean(tf.reduce_sum(tf.exp(log_p) * (log_p - log_q), axis=-1))
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft"""),
        loses=["distillation_loss__test"],
    ),
    # sums the KL over the batch instead of averaging it
    dict(
        cell="distillation_loss",
        source=_loss("""\
    log_p = tf.nn.log_softmax(t / temperature, axis=-1)
    log_q = tf.nn.log_softmax(s / temperature, axis=-1)
    soft = tf.reduce_sum(tf.exp(log_p) * (log_p - log_q))
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft"""),
        loses=["distillation_loss__test"],
    ),
    # averages the KL over the classes too (reduce_mean everywhere)
    dict(
        cell="distillation_loss",
        source=_loss("""\
    log_p = tf.nn.log_softmax(t / temperature, axis=-1)
    log_q = tf.nn.log_softmax(s / temperature, axis=-1)
    soft = tf.reduce_mean(tf.exp(log_p) * (log_p - log_q))
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft"""),
        loses=["distillation_loss__test"],
    ),
]

# Until the grading cut runs only setup, answer and test cells, each graded wrong answer costs a full
# notebook run (about a minute), so the suite grades three through the sandbox: no T**2, the KL the
# wrong way round, and the unstable log(softmax); the others are MORE_WRONG_ANSWERS. All eleven were checked in-process to lose exactly
# their cells (solution cells + each answer + both test cells with their hidden blocks, 5 seeds).
_GRADED = (0, 2, 4)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
