"""Plausible wrong answers for ch05_advanced_compression/02_sparsity.

Each entry replaces the answer cell ``magnitude_prune`` (which defines both functions); the grading
suite checks that the submission then loses exactly the points of the test cells listed in
``loses`` (and keeps the others). ``magnitude_prune__test`` checks the per-tensor function,
``magnitude_prune_global__test`` the global one.
"""

_TEMPLATE = '''
def magnitude_prune(weights, target_sparsity):
    """A copy of weights whose floor(target_sparsity * size) smallest magnitudes are zero."""
    values = np.asarray(weights)
    s = float(target_sparsity)
    if not 0.0 <= s <= 1.0:
        raise ValueError("target_sparsity must be in [0, 1]")
{prune}


def magnitude_prune_global(tensors, target_sparsity):
    """Copies of tensors with the floor(target_sparsity * total size) smallest magnitudes of all zero."""
    s = float(target_sparsity)
    if not 0.0 <= s <= 1.0:
        raise ValueError("target_sparsity must be in [0, 1]")
    if len(tensors) == 0:
        raise ValueError("tensors must be a non-empty list of arrays")
{prune_global}
'''

_PRUNE = """\
    pruned = values.copy()
    k = math.floor(s * values.size)
    order = np.argsort(np.abs(values.ravel()), kind="stable")
    pruned.reshape(-1)[order[:k]] = 0
    return pruned"""

_GLOBAL = """\
    values = [np.asarray(t) for t in tensors]
    magnitudes = np.concatenate([np.abs(v.ravel()).astype(np.float64) for v in values])
    keep = np.ones(magnitudes.size, dtype=bool)
    keep[np.argsort(magnitudes, kind="stable")[:math.floor(s * magnitudes.size)]] = False
    out, start = [], 0
    for v in values:
        out.append(np.where(keep[start:start + v.size].reshape(v.shape), v, 0).astype(v.dtype))
        start += v.size
    return out"""


def _answer(prune=_PRUNE, prune_global=_GLOBAL) -> str:
    return _TEMPLATE.format(prune=prune, prune_global=prune_global).strip("\n")


_ALL = [
    # global asked, per tensor done: every tensor pruned to the same sparsity on its own
    dict(
        cell="magnitude_prune",
        source=_answer(prune_global="    return [magnitude_prune(t, s) for t in tensors]"),
        loses=["magnitude_prune_global__test"],
    ),
    # prunes the largest magnitudes instead of the smallest
    dict(
        cell="magnitude_prune",
        source=_answer(
            prune=_PRUNE.replace(
                'np.argsort(np.abs(values.ravel()), kind="stable")',
                'np.argsort(-np.abs(values.ravel()), kind="stable")',
            )
        ),
        loses=["magnitude_prune__test"],
    ),
    # rounds the count up: one zero too many whenever s * n is not whole
    dict(
        cell="magnitude_prune",
        source=_answer(prune=_PRUNE.replace("math.floor(s * values.size)", "math.ceil(s * values.size)")),
        loses=["magnitude_prune__test"],
    ),
    # off by one: prunes one entry fewer than asked
    dict(
        cell="magnitude_prune",
        source=_answer(prune=_PRUNE.replace("math.floor(s * values.size)", "max(0, math.floor(s * values.size) - 1)")),
        loses=["magnitude_prune__test"],
    ),
    # a threshold instead of a count: every entry as small as the k-th goes, ties included
    dict(
        cell="magnitude_prune",
        source=_answer(
            prune="""\
    k = math.floor(s * values.size)
    if k == 0:
        return values.copy()
    threshold = np.sort(np.abs(values.ravel()))[k - 1]
    return np.where(np.abs(values) <= threshold, 0, values).astype(values.dtype)"""
        ),
        loses=["magnitude_prune__test"],
    ),
    # ties broken from the end: the later of two equal magnitudes is pruned first
    dict(
        cell="magnitude_prune",
        source=_answer(
            prune=_PRUNE.replace(
                'np.argsort(np.abs(values.ravel()), kind="stable")',
                '(values.size - 1 - np.argsort(np.abs(values.ravel())[::-1], kind="stable"))',
            )
        ),
        loses=["magnitude_prune__test"],
    ),
    # prunes in place: reshape(-1) of the caller's array is a view of it
    dict(
        cell="magnitude_prune",
        source=_answer(prune=_PRUNE.replace("pruned = values.copy()", "pruned = values")),
        loses=["magnitude_prune__test"],
    ),
    # float64 out for float32 in: np.where with a Python 0 and no cast back
    dict(
        cell="magnitude_prune",
        source=_answer(
            prune="""\
    k = math.floor(s * values.size)
    keep = np.ones(values.size, dtype=bool)
    keep[np.argsort(np.abs(values.ravel()), kind="stable")[:k]] = False
    return np.where(keep.reshape(values.shape), values.astype(np.float64), 0.0)"""
        ),
        loses=["magnitude_prune__test"],
    ),
    # rounds the count to nearest: round(2.5) = 2 by chance, round(2.7) = 3
    dict(
        cell="magnitude_prune",
        source=_answer(prune=_PRUNE.replace("math.floor(s * values.size)", "round(s * values.size)")),
        loses=["magnitude_prune__test"],
    ),
    # global: entries already zero do not count towards k (k more zeros on top of them)
    dict(
        cell="magnitude_prune",
        source=_answer(
            prune_global=_GLOBAL.replace(
                "    keep = np.ones(magnitudes.size, dtype=bool)",
                "    magnitudes[magnitudes == 0] = np.inf\n    keep = np.ones(magnitudes.size, dtype=bool)",
            )
        ),
        loses=["magnitude_prune_global__test"],
    ),
    # global: ties across tensors go to the later tensor (concatenated in reverse)
    dict(
        cell="magnitude_prune",
        source=_answer(
            prune_global=_GLOBAL.replace(
                "magnitudes = np.concatenate([np.abs(v.ravel()).astype(np.float64) for v in values])",
                "magnitudes = np.concatenate([np.abs(v.ravel()).astype(np.float64) for v in values[::-1]])\n"
                "    values = values[::-1]",
            ).replace("    return out", "    return out[::-1]")
        ),
        loses=["magnitude_prune_global__test"],
    ),
]

# Each graded wrong answer costs a sandboxed run of the cut notebook, so the suite grades one:
# per tensor when global is asked; the others are MORE_WRONG_ANSWERS, checked in-process.
_GRADED = (0,)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
