"""Unit tests of effcourse.search.evolution: the mutation and the aging-evolution step."""

import numpy as np
import pytest

from effcourse.search import evolution, nasbench

CHAIN = (np.eye(5, k=1, dtype=int), ("conv3x3", "conv1x1", "maxpool3x3"))
BARE = (np.zeros((5, 5), dtype=int), ("conv3x3", "conv3x3", "conv3x3"))
BARE[0][0, 4] = 1  # input -> output; every single change keeps this network or breaks the cell


def test_candidate_mutations_order():
    cands = evolution._candidate_mutations(CHAIN)
    assert len(cands) == 16
    assert cands[0][0][0, 1] == 0 and cands[0][1] == CHAIN[1]  # first: flip (0, 1)
    assert cands[9][0][3, 4] == 0  # tenth: flip (3, 4)
    assert cands[10][1] == ("conv1x1", "conv1x1", "maxpool3x3") and cands[11][1][0] == "maxpool3x3"
    assert cands[15][1] == ("conv3x3", "conv1x1", "conv1x1")
    assert np.array_equal(CHAIN[0], np.eye(5, k=1, dtype=int))


@pytest.mark.parametrize("seed", range(20))
def test_mutate_gives_a_valid_different_network(seed):
    rng = np.random.default_rng(seed)
    arch = nasbench.random_cell(rng)
    before = arch[0].copy()
    child = evolution.mutate(arch, rng)
    assert np.array_equal(arch[0], before)
    assert nasbench.is_valid(*child)
    if any(
        nasbench.cell_hash(*c) != nasbench.cell_hash(*arch)
        for c in evolution._candidate_mutations(arch)
        if nasbench.is_valid(*c)
    ):
        assert nasbench.cell_hash(*child) != nasbench.cell_hash(*arch)
    diff = int((child[0] != arch[0]).sum()) + sum(a != b for a, b in zip(child[1], arch[1]))
    assert diff == 1
    assert child[0].shape == (5, 5) and isinstance(child[1], tuple)


def test_mutate_follows_the_stated_procedure():
    for seed in range(10):
        kept = [
            c
            for c in evolution._candidate_mutations(CHAIN)
            if nasbench.is_valid(*c) and nasbench.cell_hash(*c) != nasbench.cell_hash(*CHAIN)
        ]
        expected = kept[int(np.random.default_rng(seed).integers(len(kept)))]
        child = evolution.mutate(CHAIN, np.random.default_rng(seed))
        assert np.array_equal(child[0], expected[0]) and child[1] == expected[1]


def test_mutate_falls_back_to_valid_changes_on_the_bare_cell():
    child = evolution.mutate(BARE, np.random.default_rng(0))
    assert nasbench.is_valid(*child)
    assert nasbench.cell_hash(*child) == nasbench.cell_hash(*BARE)  # no single change can differ
    with pytest.raises(ValueError, match="valid cell"):
        evolution.mutate((np.zeros((5, 5), dtype=int), ("conv3x3",) * 3), np.random.default_rng(0))


def test_evolution_step_ages_out_the_oldest_and_breeds_the_best_of_the_sample():
    pop = [(("a",), 0.5), (("b",), 0.9), (("c",), 0.7), (("d",), 0.9)]
    copy = list(pop)
    parents = []

    def mutate(arch, rng):
        parents.append(arch)
        return arch + ("'",)

    new = evolution.evolution_step(pop, 4, np.random.default_rng(0), mutate, lambda a: 0.1)
    assert pop == copy
    assert [a for a, _ in new[:3]] == [("b",), ("c",), ("d",)] and new[3][1] == 0.1
    idx = np.random.default_rng(0).choice(4, size=4, replace=False)
    first_best = next(i for i in idx if pop[i][1] == 0.9)  # a tie: the first of the sample wins
    assert parents == [pop[first_best][0]]
    with pytest.raises(ValueError, match="sample_size"):
        evolution.evolution_step(pop, 5, np.random.default_rng(0), mutate, lambda a: 0.1)
    with pytest.raises(ValueError, match="sample_size"):
        evolution.evolution_step(pop, 0, np.random.default_rng(0), mutate, lambda a: 0.1)
