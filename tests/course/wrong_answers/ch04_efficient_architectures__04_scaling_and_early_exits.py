"""Plausible wrong answers for ch04_efficient_architectures/04_scaling_and_early_exits.

Each entry replaces the answer cell ``exit_policy`` and loses its one test cell ``exit_policy__test``.
The visible test shows each property the mistakes break: a probability equal to the threshold
(``>`` instead of ``>=``), an example no exit is sure about (no last-exit fallback), the thresholds 0 and
1, a cost that differs from the mean of the distinct exits' costs, a list input and random
probabilities of 2-4 exits (where the most confident exit is often not the first confident one), with
the inputs checked unchanged. The graded one calls the course's ``early_exit.exit_policy`` (sealed while
grading, so it must lose); the others are checked in-process.
"""

_HEAD = "def exit_policy(probabilities, exit_costs, threshold):\n"


def _policy(body: str) -> str:
    return (_HEAD + body).strip("\n")


_ALL = [
    # the course's own policy (sealed while grading)
    dict(
        cell="exit_policy",
        source=_policy("""\
    from effcourse import early_exit

    return early_exit.exit_policy(probabilities, exit_costs, threshold)"""),
        loses=["exit_policy__test"],
        sealed_route=True,
    ),
    # > instead of >=: a probability equal to the threshold is not confident enough
    dict(
        cell="exit_policy",
        source=_policy("""\
    p = np.asarray(probabilities, dtype=np.float64)
    confident = p.max(axis=2) > float(threshold)
    confident[-1] = True
    exits = np.argmax(confident, axis=0)
    return exits, float(np.asarray(exit_costs, dtype=np.float64)[exits].mean())"""),
        loses=["exit_policy__test"],
    ),
    # the most confident exit instead of the first confident one
    dict(
        cell="exit_policy",
        source=_policy("""\
    p = np.asarray(probabilities, dtype=np.float64)
    confidence = p.max(axis=2)
    exits = np.where((confidence >= float(threshold)).any(axis=0), confidence.argmax(axis=0), len(p) - 1)
    return exits, float(np.asarray(exit_costs, dtype=np.float64)[exits].mean())"""),
        loses=["exit_policy__test"],
    ),
    # no last-exit fallback: an example no exit is sure about gets argmax of all False, exit 0
    dict(
        cell="exit_policy",
        source=_policy("""\
    p = np.asarray(probabilities, dtype=np.float64)
    exits = np.argmax(p.max(axis=2) >= float(threshold), axis=0)
    return exits, float(np.asarray(exit_costs, dtype=np.float64)[exits].mean())"""),
        loses=["exit_policy__test"],
    ),
    # the average over the exits taken, not over the examples
    dict(
        cell="exit_policy",
        source=_policy("""\
    p = np.asarray(probabilities, dtype=np.float64)
    confident = p.max(axis=2) >= float(threshold)
    confident[-1] = True
    exits = np.argmax(confident, axis=0)
    return exits, float(np.asarray(exit_costs, dtype=np.float64)[np.unique(exits)].mean())"""),
        loses=["exit_policy__test"],
    ),
    # the mean of all exit costs, whatever the exits
    dict(
        cell="exit_policy",
        source=_policy("""\
    p = np.asarray(probabilities, dtype=np.float64)
    confident = p.max(axis=2) >= float(threshold)
    confident[-1] = True
    return np.argmax(confident, axis=0), float(np.mean(exit_costs))"""),
        loses=["exit_policy__test"],
    ),
    # the costs summed up to the exit (as if they were per-stage costs, not the cost of reaching the exit)
    dict(
        cell="exit_policy",
        source=_policy("""\
    p = np.asarray(probabilities, dtype=np.float64)
    confident = p.max(axis=2) >= float(threshold)
    confident[-1] = True
    exits = np.argmax(confident, axis=0)
    return exits, float(np.cumsum(np.asarray(exit_costs, dtype=np.float64))[exits].mean())"""),
        loses=["exit_policy__test"],
    ),
    # forces the last exit by writing into the caller's probabilities
    dict(
        cell="exit_policy",
        source=_policy("""\
    p = np.asarray(probabilities)
    p[-1] = 1.0
    exits = np.argmax(p.max(axis=2) >= float(threshold), axis=0)
    return exits, float(np.asarray(exit_costs, dtype=np.float64)[exits].mean())"""),
        loses=["exit_policy__test"],
    ),
    # the exits as a Python list
    dict(
        cell="exit_policy",
        source=_policy("""\
    p = np.asarray(probabilities, dtype=np.float64)
    confident = p.max(axis=2) >= float(threshold)
    confident[-1] = True
    exits = np.argmax(confident, axis=0)
    return exits.tolist(), float(np.asarray(exit_costs, dtype=np.float64)[exits].mean())"""),
        loses=["exit_policy__test"],
    ),
    # confidence as the probability of class 0 (the first column), not the largest probability
    dict(
        cell="exit_policy",
        source=_policy("""\
    p = np.asarray(probabilities, dtype=np.float64)
    confident = p[:, :, 0] >= float(threshold)
    confident[-1] = True
    exits = np.argmax(confident, axis=0)
    return exits, float(np.asarray(exit_costs, dtype=np.float64)[exits].mean())"""),
        loses=["exit_policy__test"],
    ),
    # reads the probabilities as (N, E, C): one "exit" per exit instead of per example
    dict(
        cell="exit_policy",
        source=_policy("""\
    p = np.asarray(probabilities, dtype=np.float64)
    confident = p.max(axis=2) >= float(threshold)
    confident[:, -1] = True
    exits = np.argmax(confident, axis=1)
    return exits, float(np.asarray(exit_costs, dtype=np.float64)[np.minimum(exits, len(exit_costs) - 1)].mean())"""),
        loses=["exit_policy__test"],
    ),
]

# The suite grades one wrong answer through the sandbox (each costs a run of the notebook's cut);
# the others are MORE_WRONG_ANSWERS, checked in-process to lose exactly their cell.
WRONG_ANSWERS = _ALL[:1]
MORE_WRONG_ANSWERS = _ALL[1:]
