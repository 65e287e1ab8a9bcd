"""Plausible wrong answers for ch08_training_efficiency/02_memory_and_pipelines.

``bubble_fraction__test`` checks (S - 1) / (M + S - 1) on fixed and random (S, M) and the
ValueError for counts below 1; ``accumulate_gradients__test`` compares the accumulated gradients
with the full batch's on tiny random models, for even and uneven splits (7 examples in 3
micro-batches: 3, 2, 2), M = 1 and M = N, and checks the ValueError for M < 1 and M > N.
The graded wrong answer sums the micro-batches' mean-loss gradients (M times too large); the
others (checked in-process) are GPipe-looking bubble formulas, equal weights 1/M for uneven
micro-batches, dropping the remainder, keeping only the last micro-batch's gradients, and no
error for more micro-batches than examples.
"""

_ACCUMULATE = '''
def accumulate_gradients(model, loss_fn, x, y, num_micro_batches):
    """A wrong version."""
    n = len(x)
{check}
    total = [np.zeros(v.shape, dtype=np.float64) for v in model.trainable_variables]
    for xb, yb in {split}:
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True)) * {weight}
        for t, g in zip(total, tape.gradient(loss, model.trainable_variables)):
{accumulate}
    return [t.astype(np.float32) for t in total]
'''

_CHECK = """\
    if not 1 <= num_micro_batches <= n:
        raise ValueError("bad num_micro_batches")"""
_SPLIT = "zip(np.array_split(x, num_micro_batches), np.array_split(y, num_micro_batches))"


def _accumulate(check=_CHECK, split=_SPLIT, weight="(len(xb) / n)", accumulate="            t += g.numpy()") -> str:
    return _ACCUMULATE.format(check=check, split=split, weight=weight, accumulate=accumulate).strip("\n")


def _bubble(formula: str) -> str:
    return f'''
def bubble_fraction(num_stages, num_micro_batches):
    """A wrong version."""
    S, M = num_stages, num_micro_batches
    if S < 1 or M < 1:
        raise ValueError("need S >= 1 and M >= 1")
    return {formula}
'''.strip("\n")


_ALL = [
    # sums the micro-batches' mean-loss gradients instead of averaging them (M times too large)
    dict(cell="accumulate_gradients", source=_accumulate(weight="1.0"), loses=["accumulate_gradients__test"]),
    # weights every micro-batch 1/M: right only when M divides N
    dict(
        cell="accumulate_gradients",
        source=_accumulate(weight="(1 / num_micro_batches)"),
        loses=["accumulate_gradients__test"],
    ),
    # drops the remainder: micro-batches of N // M examples, the last N % M examples never seen
    dict(
        cell="accumulate_gradients",
        source=_accumulate(
            split="((x[i * (n // num_micro_batches):(i + 1) * (n // num_micro_batches)], "
            "y[i * (n // num_micro_batches):(i + 1) * (n // num_micro_batches)]) for i in range(num_micro_batches))",
            weight="(1 / num_micro_batches)",
        ),
        loses=["accumulate_gradients__test"],
    ),
    # the last micro-batch weighted by the others' size (n // M) instead of its own
    dict(
        cell="accumulate_gradients",
        source=_accumulate(weight="((n // num_micro_batches) / n)"),
        loses=["accumulate_gradients__test"],
    ),
    # overwrites instead of accumulating: only the last micro-batch's gradients survive
    dict(
        cell="accumulate_gradients",
        source=_accumulate(accumulate="            t[...] = g.numpy()"),
        loses=["accumulate_gradients__test"],
    ),
    # no error for more micro-batches than examples (empty micro-batches)
    dict(
        cell="accumulate_gradients",
        source=_accumulate(
            check="""\
    if num_micro_batches < 1:
        raise ValueError("bad num_micro_batches")"""
        ),
        loses=["accumulate_gradients__test"],
    ),
    # S / (M + S): counts the whole pipeline depth as idle
    dict(cell="bubble_fraction", source=_bubble("S / (M + S)"), loses=["bubble_fraction__test"]),
    # (S - 1) / M: idle slots over busy slots, not over the step's length
    dict(cell="bubble_fraction", source=_bubble("(S - 1) / M"), loses=["bubble_fraction__test"]),
    # (S - 1) / (M + S): one slot too many in the step
    dict(cell="bubble_fraction", source=_bubble("(S - 1) / (M + S)"), loses=["bubble_fraction__test"]),
    # the busy share instead of the idle share
    dict(cell="bubble_fraction", source=_bubble("M / (M + S - 1)"), loses=["bubble_fraction__test"]),
]

# Each graded wrong answer costs a sandboxed run of the cut notebook, so the suite grades one:
# summing instead of averaging; the others are MORE_WRONG_ANSWERS, checked in-process.
_GRADED = (0,)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
