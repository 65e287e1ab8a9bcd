"""Plausible wrong answers for ch07_automation/01_hyperparameter_search.

Each entry replaces the answer cell ``random_search`` (it holds ``suggest`` and ``random_search``);
the grading suite checks that the submission then loses exactly the points of
``random_search__test`` (the notebook's only graded cell).
"""

_SOLUTION = '''
def suggest(space, rng):
    """One configuration drawn from space with the NumPy generator rng: a new dict name -> value.

    Example: suggest({"lr": ("loguniform", 1e-4, 1e-1), "act": ("choice", ["relu", "tanh"])},
                     np.random.default_rng(0)) -> {"lr": 0.0..., "act": "..."}

    Raises:
        ValueError: a malformed space (see the exercise).
    """
    if not isinstance(space, dict) or len(space) == 0:
        raise ValueError(f"space must be a non-empty dict of name -> spec, got {space!r}")
    for name, spec in space.items():           # check every spec before drawing anything
        if not isinstance(spec, (tuple, list)) or len(spec) == 0 or spec[0] not in ("uniform", "loguniform", "int", "choice"):
            raise ValueError(f"{name}: a spec is ('uniform' | 'loguniform' | 'int' | 'choice', ...), got {spec!r}")
        if spec[0] == "choice":
            if len(spec) != 2 or not isinstance(spec[1], (list, tuple)) or len(spec[1]) == 0:
                raise ValueError(f"{name}: a choice is ('choice', [a, b, ...]), got {spec!r}")
            continue
        if len(spec) != 3:
            raise ValueError(f"{name}: expected ({spec[0]!r}, low, high), got {spec!r}")
        low, high = spec[1], spec[2]
        if spec[0] == "int":
            if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (low, high)) or low > high:
                raise ValueError(f"{name}: int bounds must be integers with low <= high, got {spec!r}")
            continue
        if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in (low, high)):
            raise ValueError(f"{name}: bounds must be numbers, got {spec!r}")
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"{name}: bounds must be finite with low < high, got {spec!r}")
        if spec[0] == "loguniform" and low <= 0:
            raise ValueError(f"{name}: a loguniform dimension needs low > 0, got {spec!r}")
    params = {}
    for name, spec in space.items():
        if spec[0] == "choice":
            params[name] = spec[1][int(rng.integers(len(spec[1])))]
        elif spec[0] == "int":
            params[name] = int(rng.integers(spec[1], spec[2], endpoint=True))   # high included
        elif spec[0] == "uniform":
            params[name] = float(rng.uniform(spec[1], spec[2]))
        else:
            low, high = float(spec[1]), float(spec[2])
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
            params[name] = min(max(value, low), high)      # exp(log(x)) can round just past a bound
    return params


def random_search(objective, space, n_trials, seed):
    """n_trials configurations drawn with np.random.default_rng(seed), each scored once by objective.

    Example: trials, best = random_search(lambda p: -(p["x"] - 0.3) ** 2, {"x": ("uniform", 0, 1)}, 20, seed=0)

    Returns:
        (trials, best): trials a list of {"params": dict, "value": float} in order; best the trial
        with the highest value (the first of equal ones).

    Raises:
        ValueError: a malformed space, or n_trials not an int >= 1 (before objective is called).
    """
    if not isinstance(n_trials, (int, np.integer)) or isinstance(n_trials, bool) or n_trials < 1:
        raise ValueError(f"n_trials must be an int >= 1, got {n_trials!r}")
    rng = np.random.default_rng(seed)
    configs = [suggest(space, rng) for _ in range(n_trials)]   # a malformed space raises here, before any trial
    trials, best = [], None
    for params in configs:
        trial = {"params": params, "value": float(objective(dict(params)))}
        trials.append(trial)
        if best is None or trial["value"] > best["value"]:
            best = trial
    return trials, best
'''


def _answer(*edits: tuple[str, str]) -> str:
    """The solution with each (old, new) edit applied once; an edit that does not apply is an error."""
    text = _SOLUTION.strip("\n")
    for old, new in edits:
        assert text.count(old) == 1, f"wrong answer edit does not apply exactly once: {old!r}"
        text = text.replace(old, new)
    return text


_ALL = [
    # the course's own functions (sealed while grading: loses only in the sealed build)
    dict(
        cell="random_search",
        source=(
            "from effcourse.search import hyperparameters as _hp\n\n\n"
            "def suggest(space, rng):\n"
            "    return _hp.suggest(space, rng)\n\n\n"
            "def random_search(objective, space, n_trials, seed):\n"
            "    return _hp.random_search(objective, space, n_trials, seed)"
        ),
        loses=["random_search__test"],
        sealed_route=True,
    ),
    # log-uniform dimensions drawn uniformly between low and high
    dict(
        cell="random_search",
        source=_answer(
            (
                "value = math.exp(rng.uniform(math.log(low), math.log(high)))",
                "value = float(rng.uniform(low, high))",
            )
        ),
        loses=["random_search__test"],
    ),
    # the upper bound of an int dimension excluded (NumPy's integers() excludes it by default)
    dict(
        cell="random_search",
        source=_answer(("int(rng.integers(spec[1], spec[2], endpoint=True))", "int(rng.integers(spec[1], spec[2]))")),
        loses=["random_search__test"],
    ),
    # a NumPy integer returned for an int dimension
    dict(
        cell="random_search",
        source=_answer(("int(rng.integers(spec[1], spec[2], endpoint=True))", "rng.integers(spec[1], spec[2] + 1)")),
        loses=["random_search__test"],
    ),
    # rng.choice returns a NumPy copy of the element (numpy.str_, numpy.int64), not the element itself
    dict(
        cell="random_search",
        source=_answer(("spec[1][int(rng.integers(len(spec[1])))]", "rng.choice(spec[1])")),
        loses=["random_search__test"],
    ),
    # a new generator from the seed for every trial: every trial is the same configuration
    dict(
        cell="random_search",
        source=_answer(
            (
                "configs = [suggest(space, rng) for _ in range(n_trials)]",
                "configs = [suggest(space, np.random.default_rng(seed)) for _ in range(n_trials)]",
            )
        ),
        loses=["random_search__test"],
    ),
    # the seed ignored: an unseeded generator, so a search cannot be repeated
    dict(
        cell="random_search",
        source=_answer(("rng = np.random.default_rng(seed)", "rng = np.random.default_rng()")),
        loses=["random_search__test"],
    ),
    # the last trial returned instead of the best
    dict(
        cell="random_search",
        source=_answer(("    return trials, best", "    return trials, trials[-1]")),
        loses=["random_search__test"],
    ),
    # minimises instead of maximising
    dict(
        cell="random_search",
        source=_answer(('trial["value"] > best["value"]', 'trial["value"] < best["value"]')),
        loses=["random_search__test"],
    ),
    # the last of equal values kept instead of the first
    dict(
        cell="random_search",
        source=_answer(('trial["value"] > best["value"]', 'trial["value"] >= best["value"]')),
        loses=["random_search__test"],
    ),
    # the value kept as the objective returned it (a NumPy float), not as a Python float
    dict(
        cell="random_search",
        source=_answer(('"value": float(objective(dict(params)))', '"value": objective(dict(params))')),
        loses=["random_search__test"],
    ),
    # the objective called twice per trial (once to store, once to compare)
    dict(
        cell="random_search",
        source=_answer(
            (
                'if best is None or trial["value"] > best["value"]:',
                'if best is None or float(objective(dict(params))) > best["value"]:',
            )
        ),
        loses=["random_search__test"],
    ),
    # the space modified: a choice's list shuffled in place to draw its first element
    dict(
        cell="random_search",
        source=_answer(
            (
                "params[name] = spec[1][int(rng.integers(len(spec[1])))]",
                "choices = spec[1] if isinstance(spec[1], list) else list(spec[1])\n"
                "            rng.shuffle(choices)\n"
                "            params[name] = choices[0]",
            )
        ),
        loses=["random_search__test"],
    ),
    # no check of the specs: a loguniform low of 0 or an unknown kind does not raise
    dict(
        cell="random_search",
        source=_answer(
            (
                "    for name, spec in space.items():           # check every spec before drawing anything\n",
                "    for name, spec in []:\n",
            )
        ),
        loses=["random_search__test"],
    ),
    # a loguniform low <= 0 not refused, and NumPy's log (which returns -inf or NaN instead of raising)
    dict(
        cell="random_search",
        source=_answer(
            (
                '        if spec[0] == "loguniform" and low <= 0:\n'
                '            raise ValueError(f"{name}: a loguniform dimension needs low > 0, got {spec!r}")\n',
                "",
            ),
            (
                "math.exp(rng.uniform(math.log(low), math.log(high)))",
                "float(np.exp(rng.uniform(np.log(low), np.log(high))))",
            ),
        ),
        loses=["random_search__test"],
    ),
    # bounds of int dimensions not checked: ("int", 0.5, 3) accepted
    dict(
        cell="random_search",
        source=_answer(
            (
                "if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (low, high)) or low > high:",
                "if low > high:",
            )
        ),
        loses=["random_search__test"],
    ),
    # from the review: an int drawn as int(uniform(low, high + 1)); int() rounds towards zero, so a
    # negative range gets 0 and misses its low bound (the visible test's range was 1..3 only)
    dict(
        cell="random_search",
        source=_answer(
            ("int(rng.integers(spec[1], spec[2], endpoint=True))", "int(rng.uniform(spec[1], spec[2] + 1))")
        ),
        loses=["random_search__test"],
    ),
    # from the review: an off-by-one index clamped, so the last choice is twice as likely (every choice
    # still comes up; only a test of the counts sees it)
    dict(
        cell="random_search",
        source=_answer(
            (
                "spec[1][int(rng.integers(len(spec[1])))]",
                "spec[1][min(int(rng.integers(len(spec[1]) + 1)), len(spec[1]) - 1)]",
            )
        ),
        loses=["random_search__test"],
    ),
    # from the review: low == high accepted for a uniform dimension (only low > high refused; the
    # loguniform check kept strict)
    dict(
        cell="random_search",
        source=_answer(
            (
                "if not (math.isfinite(low) and math.isfinite(high) and low < high):",
                'if not (math.isfinite(low) and math.isfinite(high)) or low > high or (spec[0] == "loguniform" and low == high):',
            )
        ),
        loses=["random_search__test"],
    ),
    # from the 2026-12-03 review (each passed every seed before the distinct-values, shared-configuration,
    # returned-values and stricter bad-spec checks): a new generator per trial, seeded seed + i (searches
    # with seeds 0 and 1 share 19 of 20 configurations)
    dict(
        cell="random_search",
        source=_answer(
            (
                "configs = [suggest(space, rng) for _ in range(n_trials)]",
                "configs = [suggest(space, np.random.default_rng(seed + i)) for i in range(n_trials)]",
            )
        ),
        loses=["random_search__test"],
    ),
    # a generator re-seeded per configuration from a small pool (only 1e5 different configurations)
    dict(
        cell="random_search",
        source=_answer(
            ("    params = {}\n", "    rng = np.random.default_rng(int(rng.integers(100000)))\n    params = {}\n")
        ),
        loses=["random_search__test"],
    ),
    # log-uniform values from a grid of 10,000 (np.geomspace), not a continuous distribution
    dict(
        cell="random_search",
        source=_answer(
            (
                "value = math.exp(rng.uniform(math.log(low), math.log(high)))",
                "value = float(rng.choice(np.geomspace(low, high, 10000)))",
            )
        ),
        loses=["random_search__test"],
    ),
    # log-uniform values rounded to 4 significant digits
    dict(
        cell="random_search",
        source=_answer(
            (
                "            params[name] = min(max(value, low), high)",
                "            params[name] = float(f'{value:.4g}')",
            )
        ),
        loses=["random_search__test"],
    ),
    # int bounds accepted when their values are whole (1.0), not only ints and NumPy integers
    dict(
        cell="random_search",
        source=_answer(
            (
                "if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (low, high)) or low > high:",
                "if any(int(v) != v for v in (low, high)) or low > high:",
            ),
            (
                "int(rng.integers(spec[1], spec[2], endpoint=True))",
                "int(rng.integers(int(spec[1]), int(spec[2]), endpoint=True))",
            ),
        ),
        loses=["random_search__test"],
    ),
    # any non-string sequence accepted as choices (a range, a NumPy array), not only a list or tuple
    dict(
        cell="random_search",
        source=_answer(
            (
                "if len(spec) != 2 or not isinstance(spec[1], (list, tuple)) or len(spec[1]) == 0:",
                "if len(spec) != 2 or isinstance(spec[1], str) or len(spec[1]) == 0:",
            )
        ),
        loses=["random_search__test"],
    ),
    # loguniform bounds not checked for being finite numbers (inf overflows, NaN passes)
    dict(
        cell="random_search",
        source=_answer(
            (
                "        if not (math.isfinite(low) and math.isfinite(high) and low < high):",
                '        if spec[0] == "uniform" and not (math.isfinite(low) and math.isfinite(high) and low < high):',
            ),
            (
                '        if spec[0] == "loguniform" and low <= 0:',
                '        if spec[0] == "loguniform" and (low <= 0 or low >= high):',
            ),
        ),
        loses=["random_search__test"],
    ),
    # a whole float accepted as n_trials (3.0)
    dict(
        cell="random_search",
        source=_answer(
            (
                "if not isinstance(n_trials, (int, np.integer)) or isinstance(n_trials, bool) or n_trials < 1:",
                "if not isinstance(n_trials, (int, float, np.integer)) or n_trials != int(n_trials) or n_trials < 1:",
            ),
            ("for _ in range(n_trials)]", "for _ in range(int(n_trials))]"),
        ),
        loses=["random_search__test"],
    ),
    # the objective's value rounded before it is stored
    dict(
        cell="random_search",
        source=_answer(
            ('"value": float(objective(dict(params)))', '"value": round(float(objective(dict(params))), 4)')
        ),
        loses=["random_search__test"],
    ),
    # from a learner's walk-through (each passed the visible test and lost only to the hidden ones, so
    # Validate said 4/4 and grading gave 0/4; the visible test now shows a case of each):
    # a choice's number of elements not checked: ("choice",) raises IndexError, ("choice", [1], 2) is accepted
    dict(
        cell="random_search",
        source=_answer(
            (
                "if len(spec) != 2 or not isinstance(spec[1], (list, tuple)) or len(spec[1]) == 0:",
                "if not isinstance(spec[1], (list, tuple)) or len(spec[1]) == 0:",
            )
        ),
        loses=["random_search__test"],
    ),
    # an empty spec () not refused: spec[0] raises IndexError
    dict(
        cell="random_search",
        source=_answer(
            (
                "if not isinstance(spec, (tuple, list)) or len(spec) == 0 or spec[0] not in",
                "if not isinstance(spec, (tuple, list)) or spec[0] not in",
            )
        ),
        loses=["random_search__test"],
    ),
    # the space checked by truthiness, not as a dict: a list of (name, spec) pairs raises AttributeError
    dict(
        cell="random_search",
        source=_answer(("if not isinstance(space, dict) or len(space) == 0:", "if not space:")),
        loses=["random_search__test"],
    ),
    # only the low bound of an int dimension checked for being an integer: ("int", 0, 2.5) accepted
    dict(
        cell="random_search",
        source=_answer(
            (
                "if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (low, high)) or low > high:",
                "if not isinstance(low, (int, np.integer)) or isinstance(low, bool) or low > high:",
            )
        ),
        loses=["random_search__test"],
    ),
    # a mutable default argument as the result: every call fills and returns the same dict, so all draws are
    # the last one (the statistical checks failed first, saying "not log-uniform"; now a check names it)
    dict(
        cell="random_search",
        source=_answer(
            ("def suggest(space, rng):", "def suggest(space, rng, params={}):"),
            (
                '    params = {}\n    for name, spec in space.items():\n        if spec[0] == "choice":',
                '    for name, spec in space.items():\n        if spec[0] == "choice":',
            ),
        ),
        loses=["random_search__test"],
    ),
    # bounds of a list spec converted to floats in place: the learner's space changes (only a list spec
    # with int bounds shows it; the test spaces had the int spec as their only list)
    dict(
        cell="random_search",
        source=_answer(
            (
                '    params = {}\n    for name, spec in space.items():\n        if spec[0] == "choice":',
                "    params = {}\n    for name, spec in space.items():\n"
                '        if isinstance(spec, list) and spec[0] in ("uniform", "loguniform"):\n'
                "            spec[1:] = [float(v) for v in spec[1:]]\n"
                '        if spec[0] == "choice":',
            )
        ),
        loses=["random_search__test"],
    ),
    # loguniform checked in a branch of its own (0 < low < high only): infinite, NaN and string bounds get through
    dict(
        cell="random_search",
        source=_answer(
            (
                "        if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in (low, high)):",
                '        if spec[0] == "loguniform":\n'
                "            if low <= 0 or low >= high:\n"
                '                raise ValueError(f"{name}: loguniform needs 0 < low < high, got {spec!r}")\n'
                "            continue\n"
                "        if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in (low, high)):",
            )
        ),
        loses=["random_search__test"],
    ),
]

# Each graded wrong answer costs a sandboxed run of the cut notebook, so the suite grades two (the
# sealed route, which loses only in the sealed build, and uniform-instead-of-log-uniform); the others
# are MORE_WRONG_ANSWERS, checked in-process.
_GRADED = (0, 1)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
