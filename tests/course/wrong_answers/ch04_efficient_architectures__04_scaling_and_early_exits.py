"""Plausible wrong answers for ch04_efficient_architectures/04_scaling_and_early_exits.

Each entry replaces the answer cell ``exit_policy`` and loses its one test cell ``exit_policy__test``.
The visible test shows each property the mistakes break: a probability equal to the threshold
(``>`` instead of ``>=``), an example no exit is sure about (no last-exit fallback), the thresholds 0 and
1 and 1.5 on one-hot probabilities (a clipped threshold), one exit and one example (squeezed inputs), a
float32 cost, a cost that differs from the mean of the distinct exits' costs, a list input and random
probabilities of 2-4 exits (where the most confident exit is often not the first confident one), with
the inputs checked unchanged. The graded ones call the course's ``early_exit.exit_policy`` (sealed while
grading, so it must lose) and a helper of the test cell that would answer the exercise (the test cell
defines none, so it must lose with a NameError); the others are checked in-process.
"""

_HEAD = "def exit_policy(probabilities, exit_costs, threshold):\n"
_COSTS = "np.asarray(exit_costs, dtype=np.float64)"


def _policy(
    *,
    read="np.asarray(probabilities, dtype=np.float64)",
    confident="p.max(axis=2) >= float(threshold)",
    fallback="confident[-1] = True",
    exits="np.argmax(confident, axis=0)",
    cost=f"{_COSTS}[exits].mean()",
    returned="exits",
) -> str:
    """The right policy with one part replaced by a mistake."""
    lines = [
        f"p = {read}",
        f"confident = {confident}",
        fallback,
        f"exits = {exits}",
        f"return {returned}, float({cost})",
    ]
    return _HEAD + "\n".join("    " + line for line in lines if line)


def _wrong(source: str) -> dict:
    return dict(cell="exit_policy", source=source, loses=["exit_policy__test"])


_ALL = [
    # the course's own policy (sealed while grading)
    dict(
        _wrong(
            _HEAD
            + "    from effcourse import early_exit\n\n    return early_exit.exit_policy(probabilities, exit_costs, threshold)"
        ),
        sealed_route=True,
    ),
    # copies a helper of the test cell that computes the answer (the test cell must define none: NameError)
    _wrong(_HEAD + "    return expected_policy(probabilities, exit_costs, threshold)"),
    # > instead of >=: a probability equal to the threshold is not confident enough
    _wrong(_policy(confident="p.max(axis=2) > float(threshold)")),
    # the most confident exit instead of the first confident one
    _wrong(
        _policy(
            confident="p.max(axis=2)",
            fallback="",
            exits="np.where((confident >= float(threshold)).any(axis=0), confident.argmax(axis=0), len(p) - 1)",
        )
    ),
    # no last-exit fallback: an example no exit is sure about gets argmax of all False, exit 0
    _wrong(_policy(fallback="")),
    # the average over the exits taken, not over the examples
    _wrong(_policy(cost=f"{_COSTS}[np.unique(exits)].mean()")),
    # the mean of all exit costs, whatever the exits
    _wrong(_policy(cost="np.mean(exit_costs)")),
    # the costs summed up to the exit (as if they were per-stage costs, not the cost of reaching the exit)
    _wrong(_policy(cost=f"np.cumsum({_COSTS})[exits].mean()")),
    # forces the last exit by writing into the caller's probabilities
    _wrong(_policy(read="np.asarray(probabilities)", fallback="p[-1] = 1.0")),
    # the exits as a Python list
    _wrong(_policy(returned="exits.tolist()")),
    # confidence as the probability of class 0 (the first column), not the largest probability
    _wrong(_policy(confident="p[:, :, 0] >= float(threshold)")),
    # reads the probabilities as (N, E, C): one "exit" per exit instead of per example
    _wrong(
        _policy(
            fallback="confident[:, -1] = True",
            exits="np.argmax(confident, axis=1)",
            cost=f"{_COSTS}[np.minimum(exits, len(exit_costs) - 1)].mean()",
        )
    ),
    # squeezes the probabilities: right for E > 1 and N > 1, wrong shapes when E or N is 1
    _wrong(
        _HEAD
        + "    p = np.squeeze(np.asarray(probabilities, dtype=np.float64))\n"
        + "    c = p.max(axis=-1) >= float(threshold)\n"
        + "    c[-1] = True\n"
        + "    exits = c.argmax(axis=0)\n"
        + "    return exits, float(np.asarray(exit_costs, dtype=np.float64)[exits].mean())"
    ),
    # clips the threshold to 1: a certain (one-hot) example leaves early at a threshold above 1
    _wrong(_policy(confident="p.max(axis=2) >= min(float(threshold), 1.0)")),
    # the average cost as float32
    _wrong(_policy().replace(f"float({_COSTS}", f"np.float32({_COSTS}")),
]

# The suite grades two wrong answers through the sandbox (each costs a run of the notebook's cut);
# the others are MORE_WRONG_ANSWERS, checked in-process to lose exactly their cell.
WRONG_ANSWERS = _ALL[:2]
MORE_WRONG_ANSWERS = _ALL[2:]
