"""Plausible wrong answers for ch08_training_efficiency/03_large_batch.

Each entry replaces the answer cell ``legw_schedule`` and loses its one test cell
``legw_schedule__test``: the visible test checks the rates of whole warm-ups at k = 2, 4 and 16
(one of 7.5 steps, not a whole number), the linear scaling, no warm-up, NumPy-integer and tensor
steps (a float back), and a ValueError for an unknown scaling. The graded one calls the course's
``schedules.LEGWSchedule`` (sealed while grading, so it must lose); the others (checked in-process)
compute k with integer division, scale the peak linearly whatever ``scaling`` says, keep the warm-up's epochs
fixed instead of growing them with the batch, start the warm-up at 0 (``step / w``), round the
warm-up to whole steps, divide the warm-up by k, divide by zero without warm-up, return the
tensor it was given a tensor step, and accept any ``scaling`` as the square root.
"""

_HEAD = '''
def legw_learning_rate(step, *, base_lr, base_batch_size, batch_size, base_warmup_epochs, steps_per_epoch,
                       scaling="sqrt"):
    """A wrong version."""
    k = batch_size / base_batch_size
'''

_SCALE = """\
    if scaling not in ("sqrt", "linear"):
        raise ValueError(scaling)
    peak = base_lr * (math.sqrt(k) if scaling == "sqrt" else k)
"""


def _legw(body: str) -> str:
    return (_HEAD + body).strip("\n")


_ALL = [
    # the course's own schedule class (computes the answer; sealed while grading with legw_learning_rate)
    dict(
        cell="legw_schedule",
        source=(
            "def legw_learning_rate(step, *, base_lr, base_batch_size, batch_size, base_warmup_epochs, steps_per_epoch,\n"
            '                       scaling="sqrt"):\n'
            "    from effcourse import schedules\n\n"
            "    return float(schedules.LEGWSchedule(base_lr=base_lr, base_batch_size=base_batch_size, batch_size=batch_size,\n"
            "                                        base_warmup_epochs=base_warmup_epochs, steps_per_epoch=steps_per_epoch,\n"
            "                                        scaling=scaling)(step))"
        ),
        loses=["legw_schedule__test"],
        sealed_route=True,
    ),
    # k as a whole number (integer division): wrong for a batch of 48 at a base of 32
    dict(
        cell="legw_schedule",
        source=_legw(
            "    k = batch_size // base_batch_size\n"
            + _SCALE
            + """\
    warmup = base_warmup_epochs * k * steps_per_epoch
    return float(peak) if warmup == 0 else float(peak * min(1.0, (float(step) + 1) / warmup))"""
        ),
        loses=["legw_schedule__test"],
    ),
    # Goyal's linear rule whatever `scaling` says
    dict(
        cell="legw_schedule",
        source=_legw("""\
    if scaling not in ("sqrt", "linear"):
        raise ValueError(scaling)
    peak = base_lr * k
    warmup = base_warmup_epochs * k * steps_per_epoch
    return float(peak) if warmup == 0 else float(peak * min(1.0, (float(step) + 1) / warmup))"""),
        loses=["legw_schedule__test"],
    ),
    # the warm-up's epochs do not grow with the batch (Goyal's fixed warm-up, not LEGW's)
    dict(
        cell="legw_schedule",
        source=_legw(
            _SCALE
            + """\
    warmup = base_warmup_epochs * steps_per_epoch
    return float(peak) if warmup == 0 else float(peak * min(1.0, (float(step) + 1) / warmup))"""
        ),
        loses=["legw_schedule__test"],
    ),
    # the warm-up starts at 0 (step / w): one step late all the way
    dict(
        cell="legw_schedule",
        source=_legw(
            _SCALE
            + """\
    warmup = base_warmup_epochs * k * steps_per_epoch
    return float(peak) if warmup == 0 else float(peak * min(1.0, float(step) / warmup))"""
        ),
        loses=["legw_schedule__test"],
    ),
    # the warm-up rounded to whole steps
    dict(
        cell="legw_schedule",
        source=_legw(
            _SCALE
            + """\
    warmup = int(base_warmup_epochs * k * steps_per_epoch)
    return float(peak) if warmup == 0 else float(peak * min(1.0, (float(step) + 1) / warmup))"""
        ),
        loses=["legw_schedule__test"],
    ),
    # the warm-up divided by k ("fewer steps per epoch, so a shorter warm-up")
    dict(
        cell="legw_schedule",
        source=_legw(
            _SCALE
            + """\
    warmup = base_warmup_epochs * steps_per_epoch / k
    return float(peak) if warmup == 0 else float(peak * min(1.0, (float(step) + 1) / warmup))"""
        ),
        loses=["legw_schedule__test"],
    ),
    # no guard for base_warmup_epochs == 0: ZeroDivisionError
    dict(
        cell="legw_schedule",
        source=_legw(
            _SCALE
            + """\
    warmup = base_warmup_epochs * k * steps_per_epoch
    return float(peak * min(1.0, (float(step) + 1) / warmup))"""
        ),
        loses=["legw_schedule__test"],
    ),
    # a tensor step gives a tensor back
    dict(
        cell="legw_schedule",
        source=_legw(
            _SCALE
            + """\
    warmup = base_warmup_epochs * k * steps_per_epoch
    if warmup == 0:
        return peak
    return peak * tf.minimum(1.0, (tf.cast(step, tf.float64) + 1) / warmup) if tf.is_tensor(step) \\
        else peak * min(1.0, (step + 1) / warmup)"""
        ),
        loses=["legw_schedule__test"],
    ),
    # any other `scaling` is taken as the square root (no ValueError)
    dict(
        cell="legw_schedule",
        source=_legw("""\
    peak = base_lr * (k if scaling == "linear" else math.sqrt(k))
    warmup = base_warmup_epochs * k * steps_per_epoch
    return float(peak) if warmup == 0 else float(peak * min(1.0, (float(step) + 1) / warmup))"""),
        loses=["legw_schedule__test"],
    ),
]

# The suite grades one wrong answer through the sandbox (each costs a run of the notebook's cut);
# the others are MORE_WRONG_ANSWERS, checked in-process to lose exactly their cell.
WRONG_ANSWERS = _ALL[:1]
MORE_WRONG_ANSWERS = _ALL[1:]
