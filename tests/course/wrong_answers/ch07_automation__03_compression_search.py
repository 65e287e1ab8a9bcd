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
{nan_check}
{sweep}
    return float(area)
'''

_PREPARE = """\
    s = np.asarray(sizes, dtype=float).ravel()
    a = np.asarray(accuracies, dtype=float).ravel()"""

_NAN_CHECK = """\
    if np.isnan(s).any() or np.isnan(a).any() or math.isnan(ref_size) or math.isnan(ref_accuracy):
        raise ValueError("NaN")"""

_SWEEP = """\
    area, best = 0.0, float(ref_accuracy)
    for i in np.lexsort((-a, s)):
        if s[i] < ref_size and a[i] > best:
            area += (ref_size - s[i]) * (a[i] - best)
            best = a[i]"""


def _answer(prepare=_PREPARE, nan_check=_NAN_CHECK, sweep=_SWEEP) -> str:
    return _TEMPLATE.format(prepare=prepare, nan_check=nan_check, sweep=sweep).strip("\n")


_ALL = [
    # the course's own hypervolume (sealed while grading: loses only in the sealed build)
    dict(
        cell="hypervolume",
        source=(
            "def hypervolume(sizes, accuracies, ref_size, ref_accuracy):\n"
            "    from effcourse.search import compression\n\n"
            "    return compression.hypervolume(sizes, accuracies, ref_size, ref_accuracy)"
        ),
        loses=["hypervolume__test"],
        sealed_route=True,
    ),
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
    # a plain-Python sweep that keeps NumPy's scalars: float32 accuracies are subtracted in float32
    # (NumPy 2 keeps float32 - float in float32), off by about 1e-7 relative
    dict(
        cell="hypervolume",
        source=_answer(
            sweep="""\
    area, best = 0.0, float(ref_accuracy)
    for size, accuracy in sorted(zip(sizes, accuracies), key=lambda p: (p[0], -p[1])):
        if size < ref_size and accuracy > best:
            area += (ref_size - size) * (accuracy - best)
            best = accuracy""",
        ),
        loses=["hypervolume__test"],
    ),
    # the NaN check forgets the accuracies
    dict(
        cell="hypervolume",
        source=_answer(nan_check=_NAN_CHECK.replace(" or np.isnan(a).any()", "")),
        loses=["hypervolume__test"],
    ),
    # the NaN check forgets the reference size
    dict(
        cell="hypervolume",
        source=_answer(nan_check=_NAN_CHECK.replace(" or math.isnan(ref_size)", "")),
        loses=["hypervolume__test"],
    ),
    # clips the sizes to the box in place: np.asarray makes no copy of float64 sizes
    dict(
        cell="hypervolume",
        source=_answer(sweep="    np.minimum(s, ref_size, out=s)   # points beyond the box get zero width\n" + _SWEEP),
        loses=["hypervolume__test"],
    ),
    # duplicates removed by size alone, keeping the first point of each size, not the most accurate
    dict(
        cell="hypervolume",
        source=_answer(sweep="    s, first = np.unique(s, return_index=True)\n    a = a[first]\n" + _SWEEP),
        loses=["hypervolume__test"],
    ),
    # a point compared with the point before it instead of the best accuracy so far
    dict(
        cell="hypervolume",
        source=_answer(
            sweep="""\
    area, best, previous = 0.0, float(ref_accuracy), float(ref_accuracy)
    for i in np.lexsort((-a, s)):
        if s[i] < ref_size and a[i] > previous:
            area += (ref_size - s[i]) * (a[i] - best)
            best = a[i]
        previous = a[i]"""
        ),
        loses=["hypervolume__test"],
    ),
]

# Each graded wrong answer costs a sandboxed run of the cut notebook, so the suite grades two (the
# sealed route, which loses only in the sealed build, and the double count); the others are
# MORE_WRONG_ANSWERS, checked in-process.
_GRADED = (0, 1)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
