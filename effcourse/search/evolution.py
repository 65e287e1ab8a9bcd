"""Regularised (aging) evolution over cells: the mutation and one step of the search.

Real, Aggarwal, Huang and Le (2019, *Regularized Evolution for Image Classifier Architecture
Search*, AAAI) keep a population of evaluated architectures in the order they were born. A step
samples a few members at random (the tournament), mutates the best of the sample into a child,
evaluates it, appends it, and removes the **oldest** member, not the worst: every architecture
dies young unless its descendants keep winning, which regularises against one lucky (noisily
evaluated) architecture staying forever. NAS-Bench-101 found it among the best strategies on
its table; ``chapters/ch07_automation/02_architecture_search`` re-runs that comparison on
:mod:`effcourse.search.nasbench`::

    from effcourse.search import evolution
    child = evolution.mutate(arch, rng)                       # one edge flip or one op change
    population = evolution.evolution_step(population, sample_size, rng, mutate, evaluate)

An architecture is a pair ``(matrix, ops)``: a ``(5, 5)`` 0/1 upper-triangular NumPy int array and
a tuple of 3 op names from :data:`effcourse.search.nasbench.OPS`. A population is a list of
``(arch, accuracy)`` pairs, the oldest first.

Taught in: chapters/ch07_automation/02_architecture_search
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from effcourse import sealed
from effcourse.search import nasbench

__all__ = ["mutate", "evolution_step"]

Arch = tuple[np.ndarray, tuple[str, ...]]


@sealed.reference("ch07_automation/02_architecture_search:mutate")
def _candidate_mutations(arch: Arch) -> list[Arch]:
    """Every single change of a cell, in the fixed order :func:`mutate` draws from (valid or not).

    Part of the exercise's answer, so sealed with :func:`mutate` while grading.

    First the 10 edge flips ``(i, j)``, ``i < j``, in row order ((0, 1), (0, 2), ..., (3, 4)),
    then the op changes: node 1 to each other op in the order of ``OPS``, then node 2, then
    node 3 (6 changes). 16 new cells, the input untouched; many are invalid or the same network.

    Example:
        >>> arch = (np.triu(np.ones((5, 5), dtype=int), 1), ("conv3x3", "conv1x1", "maxpool3x3"))
        >>> len(_candidate_mutations(arch))
        16

    Args:
        arch: ``(matrix, ops)``, a ``(5, 5)`` adjacency and 3 ops.

    Returns:
        A list of 16 ``(matrix, ops)`` pairs (new arrays, ops as tuples).

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    matrix, ops = np.array(arch[0], dtype=int), tuple(arch[1])
    out: list[Arch] = []
    for i, j in zip(*np.triu_indices(nasbench.NUM_NODES, k=1)):
        flipped = matrix.copy()
        flipped[i, j] = 1 - flipped[i, j]
        out.append((flipped, ops))
    for node in range(len(ops)):
        for op in nasbench.OPS:
            if op != ops[node]:
                out.append((matrix.copy(), ops[:node] + (op,) + ops[node + 1 :]))
    return out


@sealed.reference("ch07_automation/02_architecture_search:mutate")
def mutate(arch: Arch, rng: np.random.Generator) -> Arch:
    """A child of ``arch`` that is a valid cell of the space and a *different* network.

    The procedure (the exercise's specification): list the 16 single changes of
    :func:`_candidate_mutations` in their order; keep those that are valid
    (:func:`~effcourse.search.nasbench.is_valid`) and whose network differs from the parent's
    (:func:`~effcourse.search.nasbench.cell_hash` differs); return
    ``kept[rng.integers(len(kept))]`` (one draw). If no change gives a different network (only
    the cells that prune to input -> output with the other nodes two changes away, about 1% of
    the valid cells), keep the valid changes instead, so the search can move on. About half of
    all single changes give the same network (a dead node's edge or op), and about a tenth an
    invalid cell: a mutation that ignores this wastes queries.

    Example:
        >>> arch = (np.eye(5, k=1, dtype=int), ("conv3x3", "conv3x3", "conv3x3"))   # a chain
        >>> child = mutate(arch, np.random.default_rng(0))
        >>> nasbench.cell_hash(*child) != nasbench.cell_hash(*arch)
        True

    Args:
        arch: ``(matrix, ops)``, a valid cell (it is not modified).
        rng: a NumPy generator; the one call is ``rng.integers(len(kept))``.

    Returns:
        A new ``(matrix, ops)`` pair: a new ``(5, 5)`` int array and a tuple of 3 op names.

    Raises:
        ValueError: ``arch`` is not a valid cell.

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    if not nasbench.is_valid(*arch):
        raise ValueError("mutate needs a valid cell (see nasbench.is_valid)")
    parent = nasbench.cell_hash(*arch)
    valid = [c for c in _candidate_mutations(arch) if nasbench.is_valid(*c)]
    kept = [c for c in valid if nasbench.cell_hash(*c) != parent] or valid
    return kept[int(rng.integers(len(kept)))]


@sealed.reference("ch07_automation/02_architecture_search:evolution_step")
def evolution_step(
    population: Sequence[tuple[Arch, float]],
    sample_size: int,
    rng: np.random.Generator,
    mutate: Callable[[Arch, np.random.Generator], Arch],
    evaluate: Callable[[Arch], float],
) -> list[tuple[Arch, float]]:
    """One step of aging evolution: tournament, mutate the winner, append the child, drop the oldest.

    The procedure (the exercise's specification): ``idx = rng.choice(len(population),
    size=sample_size, replace=False)`` (one draw); the parent is the member of the sample with
    the highest accuracy, the first in ``idx`` order on ties; ``child = mutate(parent_arch,
    rng)``; the new population is the old one without its first (oldest) member, with
    ``(child, evaluate(child))`` appended. The input list is not modified.

    Example:
        >>> pop = [(("a",), 0.5), (("b",), 0.9), (("c",), 0.7)]
        >>> new = evolution_step(pop, 3, np.random.default_rng(0), lambda a, r: a + ("'",), lambda a: 0.1)
        >>> [a for a, _ in new]
        [('b',), ('c',), ('b', "'")]

    Args:
        population: ``(arch, accuracy)`` pairs, the oldest first.
        sample_size: the tournament size, ``1 <= sample_size <= len(population)``.
        rng: a NumPy generator, used for the sample, then passed to ``mutate``.
        mutate: ``mutate(arch, rng) -> arch``; evaluate: ``evaluate(arch) -> accuracy``.

    Returns:
        A new list of the same length: the population after one step.

    Raises:
        ValueError: ``sample_size`` is not between 1 and the population size.

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    if not 1 <= sample_size <= len(population):
        raise ValueError(f"sample_size must be between 1 and the population size {len(population)}, got {sample_size}")
    idx = rng.choice(len(population), size=sample_size, replace=False)
    best = max(idx, key=lambda i: population[i][1])
    child = mutate(population[best][0], rng)
    return [*population[1:], (child, evaluate(child))]
