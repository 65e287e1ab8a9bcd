"""Plausible wrong answers for ch06_advanced_learning/02_curriculum_learning.

Each entry replaces one answer cell (``pacing`` or ``curriculum_order``); the submission must then
lose exactly the points of that cell's test (``pacing__test`` or ``curriculum_order__test``).
"""

_PACING = '''
def pacing(step, num_examples, *, start_fraction, growth, step_length):
    """Number of the easiest examples training step `step` may sample from (exponential pacing)."""
{checks}
{body}
'''

_CHECKS = """\
    if step < 0:
        raise ValueError(f"step must be 0 or more, got {step}")
    if num_examples < 1:
        raise ValueError(f"num_examples must be at least 1, got {num_examples}")
    if step_length < 1:
        raise ValueError(f"step_length must be at least 1, got {step_length}")
    if not 0 < start_fraction <= 1:
        raise ValueError(f"start_fraction must be in (0, 1], got {start_fraction}")
    if not growth > 1:
        raise ValueError(f"growth must be above 1, got {growth}")"""

_BODY = """\
    k = step // step_length
    if k * math.log(growth) >= 1 - math.log(start_fraction):
        return int(num_examples)
    return int(min(num_examples, max(1, round(num_examples * start_fraction * growth**k))))"""


def _pacing(checks: str = _CHECKS, body: str = _BODY) -> str:
    return "import math\n" + _PACING.format(checks=checks, body=body).strip("\n")


_ORDER = '''
def curriculum_order(scores, mode):
    """Indices of the examples, easiest first for mode="easy", hardest first for mode="hard"."""
{checks}
{body}
'''

_ORDER_CHECKS = """\
    if mode not in ("easy", "hard"):
        raise ValueError(f"mode must be 'easy' or 'hard', got {mode!r}")
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must have shape (N,), got {s.shape}")
    if np.isnan(s).any():
        raise ValueError("scores must not contain NaN")"""

_ORDER_BODY = """\
    return np.argsort(s if mode == "easy" else -s, kind="stable").astype(np.int64)"""


def _order(checks: str = _ORDER_CHECKS, body: str = _ORDER_BODY) -> str:
    return _ORDER.format(checks=checks, body=body).strip("\n")


_ALL = [
    # the course's own pacing (sealed while grading: loses only in the sealed build)
    dict(
        cell="pacing",
        source=(
            "def pacing(step, num_examples, *, start_fraction, growth, step_length):\n"
            "    from effcourse import curriculum\n\n"
            "    return curriculum.pacing(step, num_examples, start_fraction=start_fraction, growth=growth,\n"
            "                             step_length=step_length)"
        ),
        loses=["pacing__test"],
        sealed_route=True,
    ),
    # the course's own order (sealed while grading)
    dict(
        cell="curriculum_order",
        source=(
            "def curriculum_order(scores, mode):\n"
            "    from effcourse import curriculum\n\n"
            "    return curriculum.curriculum_order(scores, mode)"
        ),
        loses=["curriculum_order__test"],
        sealed_route=True,
    ),
    # off by one at the stage boundaries: the stage counted from step 1
    dict(
        cell="pacing",
        source=_pacing(body=_BODY.replace("k = step // step_length", "k = (step + 1) // step_length")),
        loses=["pacing__test"],
    ),
    # off by one the other way: already one stage on at step 0
    dict(
        cell="pacing",
        source=_pacing(body=_BODY.replace("k = step // step_length", "k = step // step_length + 1")),
        loses=["pacing__test"],
    ),
    # no cap at N
    dict(
        cell="pacing",
        source=_pacing(
            body="""\
    k = step // step_length
    return max(1, round(num_examples * start_fraction * growth**k))"""
        ),
        loses=["pacing__test"],
    ),
    # capped at N, but the exponent is not: growth ** k overflows a float for a huge step
    dict(
        cell="pacing",
        source=_pacing(
            body="""\
    k = step // step_length
    return min(num_examples, max(1, round(num_examples * start_fraction * growth**k)))"""
        ),
        loses=["pacing__test"],
    ),
    # the exponent capped at a fixed number of stages: too few for slow growth from a small start
    dict(
        cell="pacing",
        source=_pacing(
            body="""\
    k = min(step // step_length, 64)
    return int(min(num_examples, max(1, round(num_examples * start_fraction * growth**k))))"""
        ),
        loses=["pacing__test"],
    ),
    # a float count, not an integer
    dict(
        cell="pacing",
        source=_pacing(
            body="""\
    k = step // step_length
    if k * math.log(growth) >= 1 - math.log(start_fraction):
        return float(num_examples)
    return min(float(num_examples), max(1.0, float(round(num_examples * start_fraction * growth**k))))"""
        ),
        loses=["pacing__test"],
    ),
    # truncates (int) instead of rounding to the nearest
    dict(
        cell="pacing",
        source=_pacing(
            body=_BODY.replace(
                "round(num_examples * start_fraction * growth**k)", "int(num_examples * start_fraction * growth**k)"
            )
        ),
        loses=["pacing__test"],
    ),
    # no minimum of one example
    dict(
        cell="pacing",
        source=_pacing(body=_BODY.replace("max(1, round(", "(round(")),
        loses=["pacing__test"],
    ),
    # linear growth instead of exponential
    dict(
        cell="pacing",
        source=_pacing(body=_BODY.replace("growth**k", "(1 + k * (growth - 1))")),
        loses=["pacing__test"],
    ),
    # range checks that miss NaN (comparisons with NaN are False)
    dict(
        cell="pacing",
        source=_pacing(
            checks=_CHECKS.replace(
                "if not 0 < start_fraction <= 1:", "if start_fraction <= 0 or start_fraction > 1:"
            ).replace("if not growth > 1:", "if growth <= 1:")
        ),
        loses=["pacing__test"],
    ),
    # growth of exactly 1 allowed (the paced set would never grow)
    dict(
        cell="pacing",
        source=_pacing(checks=_CHECKS.replace("if not growth > 1:", "if not growth >= 1:")),
        loses=["pacing__test"],
    ),
    # a start fraction of 1 refused (the range is (0, 1], 1 included)
    dict(
        cell="pacing",
        source=_pacing(checks=_CHECKS.replace("if not 0 < start_fraction <= 1:", "if not 0 < start_fraction < 1:")),
        loses=["pacing__test"],
    ),
    # a ValueError whose message does not say which argument is wrong
    dict(
        cell="pacing",
        source=_pacing(
            checks="""\
    if step < 0 or num_examples < 1 or step_length < 1 or not 0 < start_fraction <= 1 or not growth > 1:
        raise ValueError("bad arguments")"""
        ),
        loses=["pacing__test"],
    ),
    # hard-first as the easy order reversed: ties reversed too
    dict(
        cell="curriculum_order",
        source=_order(
            body="""\
    order = np.argsort(s, kind="stable").astype(np.int64)
    return order if mode == "easy" else order[::-1].copy()"""
        ),
        loses=["curriculum_order__test"],
    ),
    # NumPy's default argsort (quicksort): ties in no defined order
    dict(
        cell="curriculum_order",
        source=_order(body=_ORDER_BODY.replace(', kind="stable"', "")),
        loses=["curriculum_order__test"],
    ),
    # the modes swapped: descending when asked for easy first
    dict(
        cell="curriculum_order",
        source=_order(body=_ORDER_BODY.replace('mode == "easy"', 'mode == "hard"')),
        loses=["curriculum_order__test"],
    ),
    # scores cast to float32: neighbours one float64 bit apart become ties
    dict(
        cell="curriculum_order",
        source=_order(
            body=_ORDER_BODY.replace("np.argsort(s if", "np.argsort(s.astype(np.float32) if").replace(
                "else -s", "else -s.astype(np.float32)"
            )
        ),
        loses=["curriculum_order__test"],
    ),
    # negates the caller's float64 array in place for hard-first (np.asarray makes no copy)
    dict(
        cell="curriculum_order",
        source=_order(
            body="""\
    if mode == "hard":
        s *= -1
    return np.argsort(s, kind="stable").astype(np.int64)"""
        ),
        loses=["curriculum_order__test"],
    ),
    # ranks (the position of each example) instead of the order (the example at each position)
    dict(
        cell="curriculum_order",
        source=_order(
            body=_ORDER_BODY.replace("np.argsort(s if", "np.argsort(np.argsort(s if").replace(
                'kind="stable")', 'kind="stable"), kind="stable")'
            )
        ),
        loses=["curriculum_order__test"],
    ),
    # a list, not a NumPy array
    dict(
        cell="curriculum_order",
        source=_order(body=_ORDER_BODY.replace(".astype(np.int64)", ".tolist()")),
        loses=["curriculum_order__test"],
    ),
    # the platform's default int dtype left as it is on 32-bit builds, here int32
    dict(
        cell="curriculum_order",
        source=_order(body=_ORDER_BODY.replace(".astype(np.int64)", ".astype(np.int32)")),
        loses=["curriculum_order__test"],
    ),
    # no NaN check (NaN sorts last, silently)
    dict(
        cell="curriculum_order",
        source=_order(
            checks=_ORDER_CHECKS.replace(
                '    if np.isnan(s).any():\n        raise ValueError("scores must not contain NaN")', ""
            )
        ),
        loses=["curriculum_order__test"],
    ),
    # any mode other than "easy" taken as hard-first
    dict(
        cell="curriculum_order",
        source=_order(
            checks=_ORDER_CHECKS.replace(
                '    if mode not in ("easy", "hard"):\n        raise ValueError(f"mode must be \'easy\' or \'hard\', got {mode!r}")\n',
                "",
            )
        ),
        loses=["curriculum_order__test"],
    ),
    # the exponent capped at a larger fixed number of stages: enough for x1.01 from 0.1%, but 3.0 ** 1000
    # overflows a float (passed Validate before the visible test had a fast growth at a huge step)
    dict(
        cell="pacing",
        source=_pacing(
            body="""\
    k = min(step // step_length, 1000)
    return int(min(num_examples, max(1, round(num_examples * start_fraction * growth**k))))"""
        ),
        loses=["pacing__test"],
    ),
    # the mode lower-cased first: "Easy" and "HARD" accepted (the modes are exactly "easy" and "hard";
    # passed Validate before the visible test refused "Hard")
    dict(
        cell="curriculum_order",
        source=_order(checks="    mode = mode.lower()\n" + _ORDER_CHECKS),
        loses=["curriculum_order__test"],
    ),
    # the scores squeezed first: a column (N, 1) of scores accepted as one-dimensional (passed Validate
    # before the visible test refused a column)
    dict(
        cell="curriculum_order",
        source=_order(
            checks=_ORDER_CHECKS.replace(
                "s = np.asarray(scores, dtype=np.float64)", "s = np.squeeze(np.asarray(scores, dtype=np.float64))"
            )
        ),
        loses=["curriculum_order__test"],
    ),
]

# Each graded wrong answer costs a sandboxed run of the cut notebook, so the suite grades the two
# sealed routes (which lose only in the sealed build) and one plain mistake per exercise; the others
# are MORE_WRONG_ANSWERS, checked in-process.
_GRADED = (0, 1, 5, 15)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
