"""Plausible wrong answers for ch07_automation/02_architecture_search.

Each entry replaces one answer cell (``mutate`` or ``evolution_step``); the grading suite checks
that the submission then loses exactly the points of that exercise's test cell.
"""

_MUTATE = '''
def mutate(arch, rng):
    """A valid child of arch, one change away, a different network when possible."""
{prepare}
    changes = []
    for i in range(nasbench.NUM_NODES):
        for j in range(i + 1, nasbench.NUM_NODES):
            flipped = matrix.copy()
            flipped[i, j] = 1 - flipped[i, j]
            changes.append((flipped, ops))
    for node in range(len(ops)):
        for op in nasbench.OPS:
            if op != ops[node]:
                changes.append((matrix.copy(), ops[:node] + (op,) + ops[node + 1:]))
{keep}
{draw}
'''

_PREPARE = """\
    matrix, ops = np.array(arch[0], dtype=int), tuple(arch[1])
    if not nasbench.is_valid(matrix, ops):
        raise ValueError("arch is not a valid cell")"""

_KEEP = """\
    parent = nasbench.cell_hash(matrix, ops)
    valid = [c for c in changes if nasbench.is_valid(*c)]
    kept = [c for c in valid if nasbench.cell_hash(*c) != parent] or valid"""

_DRAW = "    return kept[int(rng.integers(len(kept)))]"


def _mutate(prepare=_PREPARE, keep=_KEEP, draw=_DRAW) -> str:
    return _MUTATE.format(prepare=prepare, keep=keep, draw=draw).strip("\n")


_STEP = '''
def evolution_step(population, sample_size, rng, mutate, evaluate):
    """One step of aging evolution."""
    if not 1 <= sample_size <= len(population):
        raise ValueError("sample_size out of range")
{sample}
{parent}
    child = mutate(population[parent][0], rng)
{update}
'''

_SAMPLE = "    idx = rng.choice(len(population), size=sample_size, replace=False)"
_PARENT = "    parent = max(idx, key=lambda i: population[i][1])"
_UPDATE = "    return list(population[1:]) + [(child, evaluate(child))]"


def _step(sample=_SAMPLE, parent=_PARENT, update=_UPDATE) -> str:
    return _STEP.format(sample=sample, parent=parent, update=update).strip("\n")


_ALL = [
    # ---------------------------------------------------------------- mutate
    # the course's own mutate (sealed while grading: loses only in the sealed build)
    dict(
        cell="mutate",
        source=(
            "def mutate(arch, rng):\n"
            "    from effcourse.search import evolution\n\n"
            "    return evolution.mutate(arch, rng)"
        ),
        loses=["mutate__test"],
        sealed_route=True,
    ),
    # rejection sampling: a random change until one is valid and different (right idea, other children)
    dict(
        cell="mutate",
        source=_mutate(
            keep="    parent = nasbench.cell_hash(matrix, ops)",
            draw="""\
    for _ in range(1000):
        child = changes[int(rng.integers(len(changes)))]
        if nasbench.is_valid(*child) and nasbench.cell_hash(*child) != parent:
            return child
    return changes[-1]""",
        ),
        loses=["mutate__test"],
    ),
    # keeps every valid change: can return the same network
    dict(
        cell="mutate",
        source=_mutate(keep="    kept = [c for c in changes if nasbench.is_valid(*c)]"),
        loses=["mutate__test"],
    ),
    # keeps every different change, valid or not: can return an invalid cell
    dict(
        cell="mutate",
        source=_mutate(
            keep="""\
    parent = nasbench.cell_hash(matrix, ops)
    kept = [c for c in changes if not nasbench.is_valid(*c) or nasbench.cell_hash(*c) != parent]"""
        ),
        loses=["mutate__test"],
    ),
    # no fallback: fails on the bare cell, where no single change gives a different network
    dict(
        cell="mutate",
        source=_mutate(
            keep="""\
    parent = nasbench.cell_hash(matrix, ops)
    kept = [c for c in changes if nasbench.is_valid(*c) and nasbench.cell_hash(*c) != parent]"""
        ),
        loses=["mutate__test"],
    ),
    # NumPy's global random state instead of rng: not reproducible from the seed
    dict(
        cell="mutate",
        source=_mutate(draw="    return kept[np.random.randint(len(kept))]"),
        loses=["mutate__test"],
    ),
    # a fixed generator: the same child whatever the seed
    dict(
        cell="mutate",
        source=_mutate(draw="    return kept[int(np.random.default_rng(0).integers(len(kept)))]"),
        loses=["mutate__test"],
    ),
    # flips the edge in the parent's own matrix (np.asarray makes no copy): the input changes
    dict(
        cell="mutate",
        source=_mutate(
            prepare=_PREPARE.replace("np.array(arch[0], dtype=int)", "np.asarray(arch[0])"),
            keep=_KEEP,
            draw="""\
    child = kept[int(rng.integers(len(kept)))]
    matrix[:] = child[0]
    return matrix, child[1]""",
        ),
        loses=["mutate__test"],
    ),
    # ops returned as a list, not a tuple
    dict(
        cell="mutate",
        source=_mutate(draw="    child = kept[int(rng.integers(len(kept)))]\n    return child[0], list(child[1])"),
        loses=["mutate__test"],
    ),
    # op changes listed before the edge flips: a valid, different child, but not the procedure's
    dict(
        cell="mutate",
        source=_mutate(keep="    changes = changes[10:] + changes[:10]\n" + _KEEP),
        loses=["mutate__test"],
    ),
    # a uniform float scaled to an index: also one draw, but a different one than rng.integers
    dict(
        cell="mutate",
        source=_mutate(draw="    return kept[int(rng.random() * len(kept))]"),
        loses=["mutate__test"],
    ),
    # no validity check: an invalid parent with a valid neighbour (6 edges) gets a child, no ValueError
    dict(
        cell="mutate",
        source=_mutate(prepare="    matrix, ops = np.array(arch[0], dtype=int), tuple(arch[1])"),
        loses=["mutate__test"],
    ),
    # op changes in alphabetical order of the ops, not in the order of nasbench.OPS
    dict(
        cell="mutate",
        source=_mutate().replace("for op in nasbench.OPS", "for op in sorted(nasbench.OPS)"),
        loses=["mutate__test"],
    ),
    # edge flips in column order ((0, 1), (0, 2), (1, 2), ...), not row order
    dict(
        cell="mutate",
        source=_mutate().replace(
            "for i in range(nasbench.NUM_NODES):\n        for j in range(i + 1, nasbench.NUM_NODES):",
            "for j in range(nasbench.NUM_NODES):\n        for i in range(j):",
        ),
        loses=["mutate__test"],
    ),
    # ---------------------------------------------------------------- evolution_step
    # the course's own evolution_step (sealed while grading)
    dict(
        cell="evolution_step",
        source=(
            "def evolution_step(population, sample_size, rng, mutate, evaluate):\n"
            "    from effcourse.search import evolution\n\n"
            "    return evolution.evolution_step(population, sample_size, rng, mutate, evaluate)"
        ),
        loses=["evolution_step__test"],
        sealed_route=True,
    ),
    # removes the worst member instead of the oldest (plain tournament evolution, not aging)
    dict(
        cell="evolution_step",
        source=_step(
            update="""\
    worst = min(range(len(population)), key=lambda i: population[i][1])
    return [m for i, m in enumerate(population) if i != worst] + [(child, evaluate(child))]"""
        ),
        loses=["evolution_step__test"],
    ),
    # the parent is a random member of the sample, not the best
    dict(
        cell="evolution_step",
        source=_step(parent="    parent = idx[0]"),
        loses=["evolution_step__test"],
    ),
    # the parent is the best of the whole population (no tournament)
    dict(
        cell="evolution_step",
        source=_step(parent="    parent = max(range(len(population)), key=lambda i: population[i][1])"),
        loses=["evolution_step__test"],
    ),
    # the tournament sampled with replacement
    dict(
        cell="evolution_step",
        source=_step(sample="    idx = rng.integers(len(population), size=sample_size)"),
        loses=["evolution_step__test"],
    ),
    # ties go to the last of the sample
    dict(
        cell="evolution_step",
        source=_step(parent="    parent = max(idx[::-1], key=lambda i: population[i][1])"),
        loses=["evolution_step__test"],
    ),
    # ties go to the oldest sampled member (the sample sorted first)
    dict(
        cell="evolution_step",
        source=_step(parent="    parent = max(sorted(idx), key=lambda i: population[i][1])"),
        loses=["evolution_step__test"],
    ),
    # removes the oldest in place: the caller's list changes
    dict(
        cell="evolution_step",
        source=_step(
            update="""\
    population.pop(0)
    population.append((child, evaluate(child)))
    return list(population)"""
        ),
        loses=["evolution_step__test"],
    ),
    # the child replaces the oldest in place of appending: the order of ages is lost
    dict(
        cell="evolution_step",
        source=_step(update="    return [(child, evaluate(child))] + list(population[1:])"),
        loses=["evolution_step__test"],
    ),
    # np.argmax over the sample's accuracies used as a population index (a position in idx)
    dict(
        cell="evolution_step",
        source=_step(parent="    parent = int(np.argmax([population[i][1] for i in idx]))"),
        loses=["evolution_step__test"],
    ),
    # ties go to the last of the sample (>= in a loop)
    dict(
        cell="evolution_step",
        source=_step(
            parent="""\
    parent = idx[0]
    for i in idx:
        if population[i][1] >= population[parent][1]:
            parent = i"""
        ),
        loses=["evolution_step__test"],
    ),
    # a fresh generator for the mutation instead of the given rng
    dict(
        cell="evolution_step",
        source=_step().replace(
            "mutate(population[parent][0], rng)", "mutate(population[parent][0], np.random.default_rng())"
        ),
        loses=["evolution_step__test"],
    ),
]

# Each graded wrong answer costs a sandboxed run of the cut notebook, so the suite grades four (the
# two sealed routes, which lose only in the sealed build, rejection sampling and removing the worst);
# the others are MORE_WRONG_ANSWERS, checked in-process.
_GRADED = (0, 1, 14, 15)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]
