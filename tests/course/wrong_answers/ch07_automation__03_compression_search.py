"""Plausible wrong answers for ch07_automation/03_compression_search.

Each entry replaces the answer cell ``hypervolume``; the grading suite checks that the submission
then loses exactly the points of ``hypervolume__test`` (the notebook's only graded cell).
"""

_TEMPLATE = '''
def hypervolume(sizes, accuracies, ref_size, ref_accuracy):
    """Area of the (size, accuracy) region the points dominate, bounded by the reference point."""
{prepare}
    if s.shape != a.shape:
        raise ValueError("different lengths")
    if np.isnan(s).any() or np.isnan(a).any() or math.isnan(ref_size) or math.isnan(ref_accuracy):
        raise ValueError("NaN")
{sweep}
    return float(area)
'''

_PREPARE = """\
    s = np.asarray(sizes, dtype=float).ravel()
    a = np.asarray(accuracies, dtype=float).ravel()"""

_SWEEP = """\
    area, best = 0.0, float(ref_accuracy)
    for i in np.lexsort((-a, s)):
        if s[i] < ref_size and a[i] > best:
            area += (ref_size - s[i]) * (a[i] - best)
            best = a[i]"""


def _answer(prepare=_PREPARE, sweep=_SWEEP) -> str:
    return _TEMPLATE.format(prepare=prepare, sweep=sweep).strip("\n")


_ALL = [
    # every point's rectangle added: overlaps (dominated and duplicate points) counted twice
    dict(
        cell="hypervolume",
        source=_answer(
            sweep="""\
    inside = (s < ref_size) & (a > ref_accuracy)
    area = float(np.sum((ref_size - s[inside]) * (a[inside] - ref_accuracy)))"""
        ),
        loses=["hypervolume__test"],
    ),
    # the slab measured from the reference accuracy instead of from the best accuracy so far
    dict(
        cell="hypervolume",
        source=_answer(sweep=_SWEEP.replace("(a[i] - best)", "(a[i] - ref_accuracy)")),
        loses=["hypervolume__test"],
    ),
    # only one objective checked: the points are swept in their given order, not by size
    dict(
        cell="hypervolume",
        source=_answer(sweep=_SWEEP.replace("np.lexsort((-a, s))", "range(len(s))")),
        loses=["hypervolume__test"],
    ),
    # swept by accuracy (best first) instead of by size: a point's slab uses the wrong width
    dict(
        cell="hypervolume",
        source=_answer(sweep=_SWEEP.replace("np.lexsort((-a, s))", "np.argsort(-a, kind='stable')")),
        loses=["hypervolume__test"],
    ),
    # points beyond the reference size not skipped: they add negative slabs
    dict(
        cell="hypervolume",
        source=_answer(sweep=_SWEEP.replace("if s[i] < ref_size and a[i] > best:", "if a[i] > best:")),
        loses=["hypervolume__test"],
    ),
    # sorts the caller's float64 arrays in place (np.asarray makes no copy of them)
    dict(
        cell="hypervolume",
        source=_answer(
            sweep="""\
    order = np.lexsort((-a, s))
    s[:] = s[order]
    a[:] = a[order]
    area, best = 0.0, float(ref_accuracy)
    for i in range(len(s)):
        if s[i] < ref_size and a[i] > best:
            area += (ref_size - s[i]) * (a[i] - best)
            best = a[i]"""
        ),
        loses=["hypervolume__test"],
    ),
]

# Each graded wrong answer costs a sandboxed run of the cut notebook, so the suite grades one (the
# double count); the others are MORE_WRONG_ANSWERS, checked in-process.
_GRADED = (0,)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
