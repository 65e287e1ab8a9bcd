"""Early exits (adaptive inference): stop computing once a classifier part-way through is confident.

A network with *exits* has a small classifier (a head) after some of its blocks as well as at the
end. At inference an example runs block by block; after each exit it stops if that head's most
probable class is probable enough (the largest softmax probability at least a threshold), and
otherwise goes on; the last exit always answers. Easy examples leave early and cost little, hard
ones pay for the whole network (BranchyNet: Teerapittayanon, McDanel and Kung, 2016, *BranchyNet:
Fast Inference via Early Exiting from Deep Neural Networks*, ICPR; the confidence rule of the
multi-scale dense networks of Huang et al., 2018, *Multi-Scale Dense Networks for Resource
Efficient Image Classification*, ICLR)::

    from effcourse import early_exit
    probabilities = early_exit.exit_probabilities(model, x_val)     # (E, N, C): softmax of each exit
    costs = early_exit.exit_costs(model)                            # FLOPs to reach each exit
    sweep = early_exit.sweep_thresholds(probabilities, y_val, costs, thresholds=[0.5, 0.9, 1.0])
    best = early_exit.cheapest_threshold(sweep, min_accuracy=0.80)  # index into the sweep

The policy (:func:`exit_policy`) and the threshold sweep built on it (:func:`sweep_thresholds`)
answer a graded exercise: they are sealed while grading. :func:`exit_costs`,
:func:`exit_probabilities` and :func:`cheapest_threshold` are not (they measure a model and read
a sweep; none of them decides where an example exits).

Taught in: chapters/ch04_efficient_architectures/04_scaling_and_early_exits
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.special

from effcourse import sealed

__all__ = ["exit_policy", "sweep_thresholds", "exit_costs", "exit_probabilities", "cheapest_threshold"]


def _as_probabilities(probabilities: Any) -> np.ndarray:
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 3 or 0 in p.shape:
        raise ValueError(
            f"probabilities must have shape (exits, examples, classes) (or be a list of arrays of shape "
            f"(examples, classes), one per exit), got shape {p.shape}"
        )
    return p


def _as_costs(exit_costs: Any, num_exits: int) -> np.ndarray:
    c = np.asarray(exit_costs, dtype=np.float64)
    if c.ndim != 1 or len(c) != num_exits:
        raise ValueError(f"exit_costs must hold one cost per exit ({num_exits}), got shape {c.shape}")
    if not np.all(c > 0):
        raise ValueError(f"exit_costs must be positive, got {c.tolist()}")
    return c


@sealed.reference("ch04_efficient_architectures/04_scaling_and_early_exits:exit_policy")
def exit_policy(probabilities: Any, exit_costs: Sequence[float], threshold: float) -> tuple[np.ndarray, float]:
    """Where each example exits, and the average cost per example, under a confidence threshold.

    Each example takes the **first** exit whose largest probability is ``>= threshold``; an
    example that no exit is confident about takes the last exit. The cost of an example is the
    cost of the exit it takes (``exit_costs[e]``: everything computed up to and including that
    exit's head); the average cost is the mean over examples. ``threshold=0`` sends every
    example out at exit 0; a threshold above 1 sends every example to the last exit.

    Example:
        >>> p = [[[0.9, 0.1], [0.6, 0.4]], [[0.2, 0.8], [0.7, 0.3]]]   # 2 exits, 2 examples
        >>> exits, cost = exit_policy(p, [1.0, 3.0], threshold=0.8)
        >>> exits.tolist(), cost
        ([0, 1], 2.0)

    Args:
        probabilities: shape ``(E, N, C)``: the softmax output of each of the ``E`` exits for
            ``N`` examples and ``C`` classes (a list of ``E`` arrays of shape ``(N, C)`` works too).
            Not modified.
        exit_costs: ``E`` positive costs (FLOPs, milliseconds), one per exit, in exit order.
        threshold: the confidence an exit needs to answer (a Python or NumPy number).

    Returns:
        ``(exits, average_cost)``: the exit index of each example (``int64`` array of shape
        ``(N,)``) and the mean of ``exit_costs[exits]`` as a Python float.

    Raises:
        ValueError: the shapes do not fit, a cost is not positive, or the threshold is NaN.

    Taught in: chapters/ch04_efficient_architectures/04_scaling_and_early_exits
    """
    p = _as_probabilities(probabilities)
    costs = _as_costs(exit_costs, p.shape[0])
    threshold = float(threshold)
    if np.isnan(threshold):
        raise ValueError("threshold must be a number, got NaN")
    confident = p.max(axis=2) >= threshold  # (E, N)
    confident[-1] = True  # the last exit always answers
    exits = np.argmax(confident, axis=0).astype(np.int64)  # the first True along the exits
    return exits, float(costs[exits].mean())


@sealed.reference("ch04_efficient_architectures/04_scaling_and_early_exits:exit_policy")  # the policy per threshold
def sweep_thresholds(
    probabilities: Any, y_true: Any, exit_costs: Sequence[float], thresholds: Sequence[float]
) -> dict[str, list]:
    """Accuracy and average cost of the early-exit policy at each of several thresholds.

    For every threshold, :func:`exit_policy` decides each example's exit; the prediction is
    that exit's most probable class. One inference pass (the probabilities of every exit) serves
    every threshold.

    Example:
        >>> p = [[[0.9, 0.1], [0.6, 0.4]], [[0.2, 0.8], [0.7, 0.3]]]
        >>> sweep = sweep_thresholds(p, [0, 0], [1.0, 3.0], thresholds=[0.0, 0.8, 1.1])
        >>> sweep["accuracy"], sweep["average_cost"]
        ([1.0, 1.0, 0.5], [1.0, 2.0, 3.0])

    Args:
        probabilities: shape ``(E, N, C)``, as for :func:`exit_policy`.
        y_true: the true classes, shape ``(N,)`` or ``(N, 1)``.
        exit_costs: one positive cost per exit.
        thresholds: the thresholds to evaluate.

    Returns:
        A dict of lists, one entry per threshold: ``threshold``, ``accuracy``,
        ``average_cost``, ``cost_fraction`` (average cost / the last exit's cost) and
        ``exit_shares`` (the fraction of examples leaving at each exit, a list of ``E``).

    Raises:
        ValueError: the shapes do not fit (see :func:`exit_policy`).

    Taught in: chapters/ch04_efficient_architectures/04_scaling_and_early_exits
    """
    p = _as_probabilities(probabilities)
    y = np.asarray(y_true).reshape(-1)
    if len(y) != p.shape[1]:
        raise ValueError(f"y_true has {len(y)} labels for {p.shape[1]} examples")
    full_cost = float(np.asarray(exit_costs, dtype=np.float64)[-1])
    predictions = p.argmax(axis=2)  # (E, N)
    out: dict[str, list] = {k: [] for k in ("threshold", "accuracy", "average_cost", "cost_fraction", "exit_shares")}
    for threshold in thresholds:
        exits, cost = exit_policy(p, exit_costs, threshold)
        chosen = predictions[exits, np.arange(len(exits))]
        out["threshold"].append(float(threshold))
        out["accuracy"].append(float(np.mean(chosen == y)))
        out["average_cost"].append(cost)
        out["cost_fraction"].append(cost / full_cost)
        out["exit_shares"].append((np.bincount(exits, minlength=p.shape[0]) / len(exits)).tolist())
    return out


def cheapest_threshold(sweep: dict[str, list], min_accuracy: float) -> int | None:
    """The index of the cheapest point of a sweep whose accuracy is at least ``min_accuracy``.

    Read the sweep of a *validation* split, then apply the chosen threshold to the test split.
    Ties in cost go to the more accurate point, then to the earlier one.

    Example:
        >>> sweep = {"accuracy": [0.70, 0.78, 0.80], "average_cost": [1.0, 1.5, 3.0]}
        >>> cheapest_threshold(sweep, 0.75)
        1

    Args:
        sweep: a dict with lists ``accuracy`` and ``average_cost`` (from :func:`sweep_thresholds`).
        min_accuracy: the accuracy the point must reach.

    Returns:
        The index, or None when no point reaches ``min_accuracy``.

    Raises:
        ValueError: the two lists differ in length.

    Taught in: chapters/ch04_efficient_architectures/04_scaling_and_early_exits
    """
    accuracy = np.asarray(sweep["accuracy"], dtype=np.float64)
    cost = np.asarray(sweep["average_cost"], dtype=np.float64)
    if accuracy.shape != cost.shape:
        raise ValueError(f"the sweep has {accuracy.size} accuracies and {cost.size} costs")
    good = [i for i in range(accuracy.size) if accuracy[i] >= min_accuracy]
    if not good:
        return None
    return min(good, key=lambda i: (cost[i], -accuracy[i], i))


def exit_costs(model: Any, input_shape: tuple | None = None) -> list[int]:
    """FLOPs per example to reach each output of a multi-exit Keras model, in output order.

    The cost of exit ``e`` counts every layer needed to compute outputs ``0 .. e``: the
    backbone up to exit ``e`` and the heads of exits ``0 .. e`` (an example that reaches exit
    ``e`` has evaluated the earlier heads to decide not to stop). Counted with
    :func:`effcourse.measure.count_flops` on the sub-model of those outputs.

    Example:
        >>> from effcourse.compat import keras
        >>> x = keras.Input((4,))
        >>> h = keras.layers.Dense(8)(x)
        >>> model = keras.Model(x, [keras.layers.Dense(2)(h), keras.layers.Dense(2)(keras.layers.Dense(8)(h))])
        >>> exit_costs(model)     # 2*(4*8 + 8*2), then + 2*(8*8 + 8*2)
        [96, 256]

    Args:
        model: a functional Keras model whose outputs are the exits, first exit first.
        input_shape: the input shape without the batch dimension, when the model has none.

    Returns:
        One int per exit, non-decreasing.

    Raises:
        ValueError: the model has fewer than one output or is not functional.

    Taught in: chapters/ch04_efficient_architectures/04_scaling_and_early_exits
    """
    from effcourse import measure
    from effcourse.compat import keras

    outputs = list(getattr(model, "outputs", None) or [])
    if not outputs:
        raise ValueError("exit_costs needs a functional Keras model whose outputs are its exits")
    return [
        int(measure.count_flops(keras.Model(model.inputs, outputs[: e + 1]), input_shape)) for e in range(len(outputs))
    ]


def exit_probabilities(model: Any, x: Any, *, batch_size: int = 256, from_logits: bool = True) -> np.ndarray:
    """The softmax probabilities of every exit of a multi-exit model, shape ``(E, N, C)``.

    Example:
        >>> from effcourse.compat import keras
        >>> x = keras.Input((3,))
        >>> model = keras.Model(x, [keras.layers.Dense(2)(x), keras.layers.Dense(2)(x)])
        >>> exit_probabilities(model, np.zeros((5, 3))).shape
        (2, 5, 2)

    Args:
        model: a Keras model with one output per exit.
        x: the inputs.
        batch_size: the prediction batch size.
        from_logits: the outputs are logits (softmax them); False when they are probabilities.

    Returns:
        A float32 array ``(E, N, C)``.

    Taught in: chapters/ch04_efficient_architectures/04_scaling_and_early_exits
    """
    outputs = model.predict(x, batch_size=batch_size, verbose=0)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    stacked = np.stack([np.asarray(o, dtype=np.float64) for o in outputs])
    if from_logits:
        stacked = scipy.special.softmax(stacked, axis=-1)
    return stacked.astype(np.float32)
