"""Plausible wrong answers for ch08_training_efficiency/01_precision_and_compilation.

Each entry replaces the answer cell ``loss_scale`` and loses its one test cell ``loss_scale__test``:
the visible test checks a new object's state (Keras's defaults included: doubling after exactly 2000
good steps), growth after ``growth_steps`` good steps with the count restarted, gradients divided by
the scale before it changes and returned as float32 arrays (float16/float64 arrays and tensors in),
skipping and dividing the scale on inf, -inf and NaN anywhere (also in a later gradient, also a
float16 tensor), never below 1, a factor of 4 from a scale of 10 (not a power of two), finite float16
values whose float16 sum overflows and a finite float32 value above 65504, float16 values at scale
1000.1 (divided in float32), the scale a Python float after growing by 1.5, and neither the list nor
its arrays modified. The graded one wraps the course's ``precision.DynamicLossScale`` (sealed while grading, so
it must lose); the others (checked in-process) grow one step late, never restart the count after
growing or after an overflow, skip without shrinking, shrink below 1, check only for inf (not NaN) or
only the first gradient, return the gradients even on overflow, unscale with the grown scale,
multiply instead of divide, keep the input's dtype, divide in place, store the scale as an integer
(floor division), return the scaled gradients unchanged, check each gradient's sum (not each value)
for finiteness, divide in the input's dtype then cast, keep a float32 factor (a float32 scale),
replace the items of the caller's list, and check finiteness after a cast to float16.
"""

_CORRECT = '''
class DynamicLossScale:
    """A wrong version."""

    def __init__(self, initial_scale=2.0**15, growth_steps=2000, factor=2.0):
        self.scale = float(initial_scale)
        self.growth_steps = int(growth_steps)
        self.factor = float(factor)
        self.good_steps = 0

    def update(self, scaled_gradients):
        arrays = [np.asarray(g, dtype=np.float32) for g in scaled_gradients]
        if not all(np.isfinite(a).all() for a in arrays):
            self.scale = max(self.scale / self.factor, 1.0)
            self.good_steps = 0
            return None
        unscaled = [a / np.float32(self.scale) for a in arrays]
        self.good_steps += 1
        if self.good_steps >= self.growth_steps:
            self.scale = self.scale * self.factor
            self.good_steps = 0
        return unscaled
'''.strip("\n")


def _wrong(old: str, new: str) -> str:
    assert _CORRECT.count(old) == 1, old
    return _CORRECT.replace(old, new)


def _entry(source: str, what: str) -> dict:
    return dict(cell="loss_scale", source=source, loses=["loss_scale__test"], what=what)


_ALL = [
    # the course's own class behind a thin wrapper (sealed while grading)
    dict(
        cell="loss_scale",
        source=(
            "from effcourse import precision\n\n\n"
            "class DynamicLossScale(precision.DynamicLossScale):\n"
            '    """The course\'s class."""'
        ),
        loses=["loss_scale__test"],
        sealed_route=True,
        what="the course's DynamicLossScale",
    ),
    _entry(
        _wrong("if self.good_steps >= self.growth_steps:", "if self.good_steps > self.growth_steps:"),
        "grows one step late",
    ),
    _entry(
        _wrong(
            "            self.scale = self.scale * self.factor\n            self.good_steps = 0\n",
            "            self.scale = self.scale * self.factor\n",
        ),
        "the count is not restarted after growing (grows at every step after the first N)",
    ),
    _entry(
        _wrong(
            "            self.scale = max(self.scale / self.factor, 1.0)\n            self.good_steps = 0\n",
            "            self.scale = max(self.scale / self.factor, 1.0)\n",
        ),
        "the count is not restarted after an overflow",
    ),
    _entry(
        _wrong("            self.scale = max(self.scale / self.factor, 1.0)\n", ""), "skips without shrinking the scale"
    ),
    _entry(_wrong("max(self.scale / self.factor, 1.0)", "self.scale / self.factor"), "the scale falls below 1"),
    _entry(_wrong("np.isfinite(a).all()", "not np.isinf(a).any()"), "NaN is not an overflow"),
    _entry(
        _wrong("all(np.isfinite(a).all() for a in arrays)", "np.isfinite(arrays[0]).all()"),
        "only the first gradient is checked",
    ),
    _entry(
        _wrong(
            "            self.good_steps = 0\n            return None\n",
            "            self.good_steps = 0\n            return [a / np.float32(self.scale * self.factor) for a in arrays]\n",
        ),
        "returns gradients on overflow instead of None",
    ),
    _entry(
        _wrong(
            "        unscaled = [a / np.float32(self.scale) for a in arrays]\n        self.good_steps += 1\n"
            "        if self.good_steps >= self.growth_steps:\n            self.scale = self.scale * self.factor\n"
            "            self.good_steps = 0\n",
            "        self.good_steps += 1\n        if self.good_steps >= self.growth_steps:\n"
            "            self.scale = self.scale * self.factor\n            self.good_steps = 0\n"
            "        unscaled = [a / np.float32(self.scale) for a in arrays]\n",
        ),
        "unscales with the scale after growing it",
    ),
    _entry(_wrong("a / np.float32(self.scale)", "a * np.float32(self.scale)"), "multiplies by the scale"),
    _entry(
        _wrong(
            "unscaled = [a / np.float32(self.scale) for a in arrays]",
            "unscaled = [np.asarray(g) / np.asarray(self.scale, np.asarray(g).dtype) for g in scaled_gradients]",
        ),
        "keeps the input's dtype (float16/float64 out)",
    ),
    _entry(
        _wrong(
            "        unscaled = [a / np.float32(self.scale) for a in arrays]\n",
            "        for a in arrays:\n            a /= np.float32(self.scale)\n        unscaled = arrays\n",
        ),
        "divides in place (changes the caller's float32 arrays)",
    ),
    _entry(
        _wrong("self.scale = float(initial_scale)", "self.scale = int(initial_scale)").replace(
            "max(self.scale / self.factor, 1.0)", "max(int(self.scale // self.factor), 1)"
        ),
        "the scale as an integer, halved by floor division",
    ),
    _entry(
        _wrong("unscaled = [a / np.float32(self.scale) for a in arrays]", "unscaled = arrays"),
        "returns the scaled gradients",
    ),
    _entry(
        _wrong(
            "all(np.isfinite(a).all() for a in arrays)",
            "all(np.isfinite(np.sum(np.asarray(g))) for g in scaled_gradients)",
        ),
        "checks each gradient's sum in its own dtype (finite float16 values whose sum overflows)",
    ),
    _entry(
        _wrong(
            "unscaled = [a / np.float32(self.scale) for a in arrays]",
            "unscaled = [(np.asarray(g) / self.scale).astype(np.float32) for g in scaled_gradients]",
        ),
        "divides in the input's dtype, then casts (float16 rounding)",
    ),
    _entry(
        _wrong("self.factor = float(factor)", "self.factor = np.float32(factor)"), "a float32 factor (float32 scale)"
    ),
    _entry(
        _wrong(
            "        unscaled = [a / np.float32(self.scale) for a in arrays]\n",
            "        for i, a in enumerate(arrays):\n            scaled_gradients[i] = a / np.float32(self.scale)\n"
            "        unscaled = scaled_gradients\n",
        ),
        "replaces the items of the caller's list and returns it",
    ),
    _entry(
        _wrong("np.isfinite(a).all()", "np.isfinite(a.astype(np.float16)).all()"),
        "checks finiteness after a cast to float16 (finite float32 values above 65504)",
    ),
]

# The suite grades one wrong answer through the sandbox (each costs a run of the notebook's cut);
# the others are MORE_WRONG_ANSWERS, checked in-process to lose exactly their cell.
WRONG_ANSWERS = _ALL[:1]
MORE_WRONG_ANSWERS = _ALL[1:]
