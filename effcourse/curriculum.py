"""Curriculum learning: score examples by difficulty, order them, and pace how many a step may use.

A curriculum (Bengio, Louradour, Collobert and Weston, 2009, *Curriculum learning*, ICML) shows a
network easy examples first and harder ones later. Hacohen and Weinshall (2019, *On the power of
curriculum learning in training deep networks*, ICML) split it into two functions:

- a **scoring function** ranks the training examples by difficulty: here, the loss of a small
  *teacher* model on each example (low loss = easy);
- a **pacing function** says how many of the easiest examples a training step may draw from:
  their *exponential* pacing starts with a fraction of the data and multiplies it by a fixed
  factor every ``step_length`` steps, until the whole set is available.

Each step then samples its batch uniformly from the first ``pacing(step)`` examples of the
order::

    from effcourse import curriculum
    order = curriculum.curriculum_order(teacher_losses, "easy")      # easy first
    n = curriculum.pacing(step, len(order), start_fraction=0.1, growth=2.0, step_length=50)
    batch = curriculum.sample_batch(order, n, batch_size=32, rng=rng)

``mode="hard"`` gives the *anti-curriculum* (hardest first); a random permutation gives the usual
training order. Wu, Dyer and Neyshabur (2021, *When do curricula work?*, ICLR) found that on clean
data with a full training budget neither order beats random; the benefits they saw came with a
small step budget or noisy labels.

Taught in: chapters/ch06_advanced_learning/02_curriculum_learning
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = ["MODES", "pacing", "curriculum_order", "sample_batch", "steps_to_target"]

#: The orders :func:`curriculum_order` knows: lowest score first, highest score first.
MODES = ("easy", "hard")


def _integer(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {int(value)}")
    return int(value)


@sealed.reference("ch06_advanced_learning/02_curriculum_learning:pacing")
def pacing(
    step: int,
    num_examples: int,
    *,
    start_fraction: float,
    growth: float,
    step_length: int,
) -> int:
    """How many of the easiest examples training step ``step`` may sample from (exponential pacing).

    Hacohen and Weinshall's exponential pacing, with ``k = step // step_length`` (the number of
    whole ``step_length``-step stages before ``step``)::

        pacing(step) = min(N, max(1, round(N * start_fraction * growth ** k)))

    ``round`` is Python's (to the nearest integer). It starts at ``round(N * start_fraction)``
    for the first ``step_length`` steps, grows by ``growth`` at steps ``step_length``,
    ``2 * step_length``, ..., never falls, and is capped at ``N``. Once the exponent is large
    enough for the whole set it returns ``N`` without computing ``growth ** k`` (a huge step
    would overflow a float).

    Example:
        >>> [pacing(s, 1000, start_fraction=0.1, growth=2.0, step_length=50) for s in (0, 49, 50, 100, 150, 200)]
        [100, 100, 200, 400, 800, 1000]

    Args:
        step: the training step, counted from 0 (a Python or NumPy integer).
        num_examples: ``N``, the number of training examples (at least 1).
        start_fraction: the fraction available at step 0, in (0, 1].
        growth: the factor applied every ``step_length`` steps, greater than 1.
        step_length: steps per stage (an integer, at least 1).

    Returns:
        The number of examples available, a Python int in ``[1, N]``.

    Raises:
        ValueError: a negative or non-integer step, ``num_examples`` or ``step_length`` below 1,
            ``start_fraction`` outside (0, 1] or ``growth`` not above 1 (NaN included).

    Taught in: chapters/ch06_advanced_learning/02_curriculum_learning
    """
    step = _integer(step, "step", 0)
    n = _integer(num_examples, "num_examples", 1)
    length = _integer(step_length, "step_length", 1)
    f, g = float(start_fraction), float(growth)
    if not 0.0 < f <= 1.0:
        raise ValueError(f"start_fraction must be in (0, 1] (a fraction of the data), got {start_fraction!r}")
    if not g > 1.0 or math.isinf(g):
        raise ValueError(f"growth must be a finite factor above 1 (the paced set must grow), got {growth!r}")
    k = step // length
    if k * math.log(g) >= 1.0 - math.log(f):  # growth ** k >= e / f: certainly the whole set
        return n
    return min(n, max(1, round(n * f * g**k)))


@sealed.reference("ch06_advanced_learning/02_curriculum_learning:curriculum_order")
def curriculum_order(scores: Sequence[float], mode: str) -> np.ndarray:
    """The indices of the examples in curriculum order: easiest (lowest score) or hardest first.

    ``mode="easy"`` sorts by increasing score, ``mode="hard"`` by decreasing score (the
    anti-curriculum). Ties keep the order of the indices in both modes (the lower index first),
    so the result is deterministic; scores are compared as float64 (values a float32 cast would
    merge stay distinct). The input is not modified.

    Example:
        >>> curriculum_order([0.5, 0.1, 0.5, 2.0], "easy").tolist()
        [1, 0, 2, 3]
        >>> curriculum_order([0.5, 0.1, 0.5, 2.0], "hard").tolist()
        [3, 0, 2, 1]

    Args:
        scores: one difficulty score per example (e.g. a teacher's loss), shape (N,).
        mode: ``"easy"`` or ``"hard"``.

    Returns:
        An int64 array of shape (N,), a permutation of ``0 .. N-1``.

    Raises:
        ValueError: ``mode`` is not one of :data:`MODES`, the scores are not 1-D, or hold NaN.

    Taught in: chapters/ch06_advanced_learning/02_curriculum_learning
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must be one value per example, shape (N,), got shape {s.shape}")
    if np.isnan(s).any():
        raise ValueError("scores must not contain NaN: score every example")
    key = s if mode == "easy" else -s
    return np.argsort(key, kind="stable").astype(np.int64)


def sample_batch(order: Any, available: int, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one batch uniformly from the first ``available`` examples of ``order``.

    Without replacement when ``available >= batch_size``, else with replacement (the first
    stages of a small curriculum may hold fewer examples than a batch). Hacohen and Weinshall
    sample each batch the same way from the paced prefix.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> batch = sample_batch(np.array([4, 2, 0, 1, 3]), 2, 4, rng)
        >>> sorted(set(batch.tolist())) <= [2, 4]
        True

    Args:
        order: the example indices in curriculum order, shape (N,).
        available: how many of the first indices may be drawn (``pacing(step, N, ...)``), 1..N.
        batch_size: examples per batch (at least 1).
        rng: a NumPy random generator.

    Returns:
        An int64 array of ``batch_size`` example indices.

    Raises:
        ValueError: ``available`` outside ``1 .. len(order)`` or ``batch_size`` below 1.

    Taught in: chapters/ch06_advanced_learning/02_curriculum_learning
    """
    order = np.asarray(order)
    available = _integer(available, "available", 1)
    batch_size = _integer(batch_size, "batch_size", 1)
    if available > len(order):
        raise ValueError(f"available must be at most len(order) = {len(order)}, got {available}")
    pick = rng.choice(available, size=batch_size, replace=available < batch_size)
    return order[pick].astype(np.int64)


def steps_to_target(steps: Sequence[int], accuracies: Sequence[float], target: float) -> int | None:
    """The first evaluated step whose accuracy reaches ``target``, or None if none does.

    Example:
        >>> steps_to_target([10, 20, 30], [0.5, 0.76, 0.74], 0.75)
        20

    Args:
        steps: the steps at which the model was evaluated, increasing.
        accuracies: the validation accuracy at each of them.
        target: the accuracy to reach.

    Returns:
        A Python int, or None when the target is never reached.

    Raises:
        ValueError: the sequences differ in length.

    Taught in: chapters/ch06_advanced_learning/02_curriculum_learning
    """
    steps, accuracies = list(steps), list(accuracies)
    if len(steps) != len(accuracies):
        raise ValueError(f"{len(steps)} steps but {len(accuracies)} accuracies: give one accuracy per step")
    for step, accuracy in zip(steps, accuracies):
        if accuracy >= target:
            return int(step)
    return None
