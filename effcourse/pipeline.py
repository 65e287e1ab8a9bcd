"""Pipeline parallelism as GPipe schedules it: micro-batches, the bubble, gradient accumulation.

GPipe (Huang et al., 2019, *GPipe: Efficient Training of Giant Neural Networks using Pipeline
Parallelism*, NeurIPS) splits a network into ``S`` consecutive **stages** on ``S`` devices and a
mini-batch into ``M`` **micro-batches**. Every stage runs the forward passes of the micro-batches
one after another, then their backward passes in reverse order; the gradients of the
micro-batches are accumulated and applied once, so training is the same as with the whole batch
(GPipe's consistency: "the gradients are accumulated ... and applied synchronously").

* :func:`bubble_fraction` -- the share of device time spent idle, ``(S - 1) / (M + S - 1)``.
* :func:`gpipe_schedule` -- simulate the schedule's timeline (start and end of every operation).
* :func:`idle_fraction` -- the idle share of a simulated timeline.
* :func:`plot_schedule` -- draw a timeline like GPipe's figure 2(c).
* :func:`accumulate_gradients` -- the full-batch gradients from ``M`` micro-batches.

Taught in: chapters/ch08_training_efficiency/02_memory_and_pipelines
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = ["bubble_fraction", "gpipe_schedule", "idle_fraction", "plot_schedule", "accumulate_gradients"]


def _count(value: Any, name: str, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{fn}: {name} must be an int >= 1, got {value!r}")
    return int(value)


@sealed.reference("ch08_training_efficiency/02_memory_and_pipelines:bubble_fraction")
def bubble_fraction(num_stages: int, num_micro_batches: int) -> float:
    """The share of device time a GPipe schedule leaves idle: ``(S - 1) / (M + S - 1)``.

    With ``S`` stages of equal cost and ``M`` micro-batches, a step takes ``M + S - 1`` slots
    per device (forward and backward alike) of which each device is busy in ``M``.
    Huang et al. (2019, GPipe, section 2.3) give the bubble as ``O((S - 1) / (M + S - 1))`` and
    found it negligible for ``M >= 4 S``.

    Example:
        >>> bubble_fraction(4, 4)
        0.42857142857142855

    Args:
        num_stages: ``S`` >= 1, the pipeline's stages (devices).
        num_micro_batches: ``M`` >= 1, micro-batches per mini-batch.

    Returns:
        The idle fraction, in ``[0, 1)``; 0.0 for one stage.

    Raises:
        ValueError: a count that is not an int >= 1.

    Taught in: chapters/ch08_training_efficiency/02_memory_and_pipelines
    """
    s = _count(num_stages, "num_stages", "bubble_fraction")
    m = _count(num_micro_batches, "num_micro_batches", "bubble_fraction")
    return (s - 1) / (m + s - 1)


def gpipe_schedule(
    num_stages: int, num_micro_batches: int, *, forward_time: float = 1.0, backward_time: float = 2.0
) -> list[dict[str, Any]]:
    """Simulate a GPipe step: when every stage runs the forward and backward of every micro-batch.

    Each stage is one device that runs one operation at a time: first the forward passes of
    micro-batches ``0 .. M-1`` in order, then the backward passes in reverse order. An operation
    starts as soon as its device is free and its input is ready: forward ``(s, m)`` needs forward
    ``(s - 1, m)``; backward ``(s, m)`` needs backward ``(s + 1, m)`` (the last stage's needs its
    own forward). Every stage's forward costs ``forward_time``, every backward ``backward_time``
    (a backward pass costs about twice a forward one).

    Example:
        >>> ops = gpipe_schedule(2, 2)
        >>> [(o["stage"], o["micro_batch"], o["phase"], o["start"]) for o in ops[:2]]
        [(0, 0, 'forward', 0.0), (0, 1, 'forward', 1.0)]

    Args:
        num_stages: ``S`` >= 1.
        num_micro_batches: ``M`` >= 1.
        forward_time: time units of one stage's forward pass on one micro-batch (> 0).
        backward_time: the same for a backward pass (> 0).

    Returns:
        One dict per operation, ``{"stage", "micro_batch", "phase" ("forward"/"backward"),
        "start", "end"}``, ordered by stage then by the stage's order of work.

    Raises:
        ValueError: a count that is not an int >= 1, or a time that is not positive.

    Taught in: chapters/ch08_training_efficiency/02_memory_and_pipelines
    """
    s_count = _count(num_stages, "num_stages", "gpipe_schedule")
    m_count = _count(num_micro_batches, "num_micro_batches", "gpipe_schedule")
    if not (forward_time > 0 and backward_time > 0):
        raise ValueError(f"gpipe_schedule: times must be > 0, got {forward_time!r}, {backward_time!r}")
    forward_end = np.zeros((s_count, m_count))
    backward_end = np.zeros((s_count, m_count))
    ops: dict[int, list[dict[str, Any]]] = {s: [] for s in range(s_count)}
    free = np.zeros(s_count)
    for s in range(s_count):
        for m in range(m_count):
            start = max(free[s], forward_end[s - 1, m] if s > 0 else 0.0)
            forward_end[s, m] = free[s] = start + forward_time
            ops[s].append(dict(stage=s, micro_batch=m, phase="forward", start=float(start), end=float(free[s])))
    for s in reversed(range(s_count)):
        for m in reversed(range(m_count)):
            ready = backward_end[s + 1, m] if s + 1 < s_count else forward_end[s, m]
            start = max(free[s], ready)
            backward_end[s, m] = free[s] = start + backward_time
            ops[s].append(dict(stage=s, micro_batch=m, phase="backward", start=float(start), end=float(free[s])))
    return [op for s in range(s_count) for op in ops[s]]


def idle_fraction(schedule: list[dict[str, Any]]) -> float:
    """The share of device time a simulated schedule leaves idle: ``1 - busy / (S * makespan)``.

    Example:
        >>> idle_fraction(gpipe_schedule(4, 4))
        0.42857142857142855

    Args:
        schedule: what :func:`gpipe_schedule` returns.

    Returns:
        The idle fraction in ``[0, 1)``.

    Raises:
        ValueError: an empty schedule.

    Taught in: chapters/ch08_training_efficiency/02_memory_and_pipelines
    """
    if not schedule:
        raise ValueError("idle_fraction: the schedule is empty")
    stages = {op["stage"] for op in schedule}
    makespan = max(op["end"] for op in schedule) - min(op["start"] for op in schedule)
    busy = sum(op["end"] - op["start"] for op in schedule)
    return float(1.0 - busy / (len(stages) * makespan))


def plot_schedule(schedule: list[dict[str, Any]], ax: Any = None, *, title: str | None = None) -> Any:
    """Draw a simulated schedule as a timeline: one row per device, a box per operation.

    Forward passes are light, backward passes dark; the number in a box is the micro-batch;
    the white gaps are the bubble.

    Example:
        >>> ax = plot_schedule(gpipe_schedule(4, 4))   # doctest: +SKIP

    Args:
        schedule: what :func:`gpipe_schedule` returns.
        ax: a Matplotlib axes (a new figure when ``None``).
        title: the axes' title (default: stages, micro-batches and the idle fraction).

    Returns:
        The axes.

    Raises:
        ValueError: an empty schedule.

    Taught in: chapters/ch08_training_efficiency/02_memory_and_pipelines
    """
    import matplotlib.pyplot as plt

    if not schedule:
        raise ValueError("plot_schedule: the schedule is empty")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.5))
    stages = sorted({op["stage"] for op in schedule})
    micro_batches = len({op["micro_batch"] for op in schedule})
    colours = plt.get_cmap("tab10")
    for op in schedule:
        colour = colours(op["micro_batch"] % 10)
        alpha = 0.45 if op["phase"] == "forward" else 0.9
        ax.barh(op["stage"], op["end"] - op["start"], left=op["start"], color=colour, alpha=alpha, edgecolor="black")
        label = f"F{op['micro_batch']}" if op["phase"] == "forward" else f"B{op['micro_batch']}"
        ax.text((op["start"] + op["end"]) / 2, op["stage"], label, ha="center", va="center", fontsize=8)
    ax.set_yticks(stages, [f"device {s}" for s in stages])
    ax.invert_yaxis()
    ax.set_xlabel("time (forward = 1 unit)")
    default = f"{len(stages)} stages, {micro_batches} micro-batches: idle {idle_fraction(schedule):.0%}"
    ax.set_title(title or default)
    return ax


@sealed.reference("ch08_training_efficiency/02_memory_and_pipelines:accumulate_gradients")
def accumulate_gradients(model: Any, loss_fn: Any, x: Any, y: Any, num_micro_batches: int) -> list[np.ndarray]:
    """The gradients of the mean loss over a batch, computed over ``M`` micro-batches and accumulated.

    The batch is split into ``M`` consecutive micro-batches as ``np.array_split`` does (sizes
    differ by at most one); micro-batch ``i`` of ``n_i`` examples contributes the gradient of its
    mean loss weighted by ``n_i / N``, so the sum equals the full batch's mean-loss gradient
    (up to float rounding) however uneven the split. This is how GPipe keeps training identical
    to full-batch training (Huang et al., 2019, section 2.2); layers that use batch statistics
    (BatchNormalization in training mode) are the exception: they see each micro-batch alone.

    Example:
        >>> grads = accumulate_gradients(model, keras.losses.MeanSquaredError(), x, y, 4)  # doctest: +SKIP

    Args:
        model: a built Keras model (or any callable with ``trainable_variables``).
        loss_fn: ``loss_fn(y_true, y_pred)`` -> the **mean** loss over the examples given
            (Keras losses do this by default).
        x: inputs, a NumPy array of shape ``(N, ...)``.
        y: targets, shape ``(N, ...)``.
        num_micro_batches: ``M``, an int with ``1 <= M <= N``.

    Returns:
        A list of NumPy arrays, one per ``model.trainable_variables``, in that order.

    Raises:
        ValueError: ``M`` not an int in ``[1, N]``, or ``x`` and ``y`` of different lengths.

    Taught in: chapters/ch08_training_efficiency/02_memory_and_pipelines
    """
    from effcourse.compat import tf

    x, y = np.asarray(x), np.asarray(y)
    n = len(x)
    if len(y) != n:
        raise ValueError(f"accumulate_gradients: x has {n} examples but y has {len(y)}")
    m = _count(num_micro_batches, "num_micro_batches", "accumulate_gradients")
    if m > n:
        raise ValueError(f"accumulate_gradients: {m} micro-batches for {n} examples (at most one per example)")
    total = None
    for xb, yb in zip(np.array_split(x, m), np.array_split(y, m)):
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True)) * (len(xb) / n)
        grads = [g.numpy().astype(np.float64) for g in tape.gradient(loss, model.trainable_variables)]
        total = grads if total is None else [t + g for t, g in zip(total, grads)]
    return [t.astype(np.float32) for t in total]
