"""Plausible wrong answers for ch03_learning_techniques/01_image_augmentation.

Each entry replaces one answer cell of the solution notebook; the grading suite checks that the
submission then loses exactly the points of the test cells listed in ``loses``. ``mixup`` and
``cutout`` are independent exercises.
"""


def _mixup(draw: str, labels: str = "lam[:, None] * y + (1 - lam[:, None]) * y[perm]") -> str:
    return f"""
def mixup(x, y, alpha, seed):
    rng = np.random.default_rng(seed)
    {draw}
    perm = rng.permutation(len(x))
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), (len(x),))
    lam_x = lam.reshape(-1, 1, 1, 1)
    x_mixed = lam_x * x + (1 - lam_x) * x[perm]
    y_mixed = {labels}
    return x_mixed.astype(np.float32), y_mixed.astype(np.float32)
"""


def _cutout(box: str, copy: str = "out = x.copy()") -> str:
    return f"""
def cutout(x, size, seed, fill=0.0):
    {copy}
    rng = np.random.default_rng(seed)
    n, height, width = x.shape[:3]
    cy = rng.integers(0, height, size=n)
    cx = rng.integers(0, width, size=n)
    for i in range(n):
{box}
        out[i, top:bottom, left:right, :] = fill
    return out
"""


_CLIPPED = """\
        top, left = max(cy[i] - size // 2, 0), max(cx[i] - size // 2, 0)
        bottom, right = min(cy[i] - size // 2 + size, height), min(cx[i] - size // 2 + size, width)"""

WRONG_ANSWERS = [
    # the images are mixed but the labels are not: the model is told a 60/40 mix is 100% one class
    dict(
        cell="mixup",
        source=_mixup("lam = rng.beta(alpha, alpha, size=len(x))", labels="y.copy()"),
        loses=["mixup__test"],
    ),
    # lambda drawn uniformly instead of from Beta(alpha, alpha)
    dict(cell="mixup", source=_mixup("lam = rng.uniform(0, 1, size=len(x))"), loses=["mixup__test"]),
    # one lambda for the whole batch (the spec asks for one per example)
    dict(cell="mixup", source=_mixup("lam = rng.beta(alpha, alpha)"), loses=["mixup__test"]),
    # not seeded: the global generator gives another result on every call
    dict(cell="mixup", source=_mixup("lam = np.random.beta(alpha, alpha, size=len(x))"), loses=["mixup__test"]),
    # writes into the caller's array
    dict(cell="cutout", source=_cutout(_CLIPPED, copy="out = x"), loses=["cutout__test"]),
    # a negative start is an index from the end: squares near the top or left border vanish
    dict(
        cell="cutout",
        source=_cutout("""\
        top, left = cy[i] - size // 2, cx[i] - size // 2
        bottom, right = top + size, left + size"""),
        loses=["cutout__test"],
    ),
    # the centre kept away from the border: every square lies fully inside the image
    dict(
        cell="cutout",
        source=_cutout("""\
        top = min(max(cy[i] - size // 2, 0), height - size)
        left = min(max(cx[i] - size // 2, 0), width - size)
        bottom, right = top + size, left + size"""),
        loses=["cutout__test"],
    ),
]


# Checked with `effcourse validate` on a copy of the solution notebook (each loses exactly its cell);
# kept for a longer run: WRONG_ANSWERS + MORE_WRONG_ANSWERS.
MORE_WRONG_ANSWERS = [
    # every example mixed with itself (no permutation): the images and labels come back unchanged
    dict(
        cell="mixup",
        source="""
def mixup(x, y, alpha, seed):
    rng = np.random.default_rng(seed)
    lam = rng.beta(alpha, alpha, size=len(x))
    lx = lam.reshape(-1, 1, 1, 1)
    return (lx * x + (1 - lx) * x).astype(np.float32), (lam[:, None] * y + (1 - lam[:, None]) * y).astype(np.float32)
""",
        loses=["mixup__test"],
    ),
    # mixes into the caller's arrays with *= and +=
    dict(
        cell="mixup",
        source="""
def mixup(x, y, alpha, seed):
    rng = np.random.default_rng(seed)
    lam = rng.beta(alpha, alpha, size=len(x))
    perm = rng.permutation(len(x))
    lx = lam.reshape(-1, 1, 1, 1)
    xp, yp = x[perm], y[perm]
    x *= lx; x += (1 - lx) * xp
    y *= lam[:, None]; y += (1 - lam[:, None]) * yp
    return x, y
""",
        loses=["mixup__test"],
    ),
    # the labels get the partner's weight: lam on y[perm], 1 - lam on y
    dict(
        cell="mixup",
        source="""
def mixup(x, y, alpha, seed):
    rng = np.random.default_rng(seed)
    lam = rng.beta(alpha, alpha, size=len(x))
    perm = rng.permutation(len(x))
    lx = lam.reshape(-1, 1, 1, 1)
    return (lx * x + (1 - lx) * x[perm]).astype(np.float32), ((1 - lam[:, None]) * y + lam[:, None] * y[perm]).astype(np.float32)
""",
        loses=["mixup__test"],
    ),
    # the square is always set to 0.0, whatever fill is
    dict(
        cell="cutout",
        source="""
def cutout(x, size, seed, fill=0.0):
    out = x.copy()
    rng = np.random.default_rng(seed)
    n, height, width = x.shape[:3]
    cy = rng.integers(0, height, size=n)
    cx = rng.integers(0, width, size=n)
    for i in range(n):
        top, left = max(cy[i] - size // 2, 0), max(cx[i] - size // 2, 0)
        bottom, right = min(cy[i] - size // 2 + size, height), min(cx[i] - size // 2 + size, width)
        out[i, top:bottom, left:right, :] = 0.0
    return out
""",
        loses=["cutout__test"],
    ),
    # only the first channel of the square is blanked
    dict(
        cell="cutout",
        source="""
def cutout(x, size, seed, fill=0.0):
    out = x.copy()
    rng = np.random.default_rng(seed)
    n, height, width = x.shape[:3]
    cy = rng.integers(0, height, size=n)
    cx = rng.integers(0, width, size=n)
    for i in range(n):
        top, left = max(cy[i] - size // 2, 0), max(cx[i] - size // 2, 0)
        bottom, right = min(cy[i] - size // 2 + size, height), min(cx[i] - size // 2 + size, width)
        out[i, top:bottom, left:right, 0] = fill
    return out
""",
        loses=["cutout__test"],
    ),
    # the centre row drawn from 0..W-1 and the column from 0..H-1 (wrong on non-square images)
    dict(
        cell="cutout",
        source="""
def cutout(x, size, seed, fill=0.0):
    out = x.copy()
    rng = np.random.default_rng(seed)
    n, height, width = x.shape[:3]
    cy = rng.integers(0, width, size=n)
    cx = rng.integers(0, height, size=n)
    for i in range(n):
        top, left = max(cy[i] - size // 2, 0), max(cx[i] - size // 2, 0)
        bottom, right = min(cy[i] - size // 2 + size, height), min(cx[i] - size // 2 + size, width)
        out[i, top:bottom, left:right, :] = fill
    return out
""",
        loses=["cutout__test"],
    ),
    # one square at the same place for the whole batch
    dict(
        cell="cutout",
        source="""
def cutout(x, size, seed, fill=0.0):
    out = x.copy()
    rng = np.random.default_rng(seed)
    n, height, width = x.shape[:3]
    cy, cx = rng.integers(0, height), rng.integers(0, width)
    top, left = max(cy - size // 2, 0), max(cx - size // 2, 0)
    out[:, top:cy - size // 2 + size, left:cx - size // 2 + size, :] = fill
    return out
""",
        loses=["cutout__test"],
    ),
]

# partners that are not a random permutation (found by a reviewer): a fixed shift, every example mixed with the
# next one, and partners drawn with replacement
_MIXUP_PARTNERS = """
def mixup(x, y, alpha, seed):
    rng = np.random.default_rng(seed)
    lam = rng.beta(alpha, alpha, size=len(x))
    perm = {partners}
    lx = lam.reshape(-1, 1, 1, 1)
    return (lx * x + (1 - lx) * x[perm]).astype(np.float32), (lam[:, None] * y + (1 - lam[:, None]) * y[perm]).astype(np.float32)
"""
MORE_WRONG_ANSWERS += [
    dict(cell="mixup", source=_MIXUP_PARTNERS.format(partners=partners), loses=["mixup__test"])
    for partners in ("np.roll(np.arange(len(x)), 1)", "rng.integers(0, len(x), len(x))")
]
