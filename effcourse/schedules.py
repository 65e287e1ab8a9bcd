"""Learning-rate schedules for large-batch training: the scaling rules with warm-up, and LEGW.

When the batch grows from ``base_batch_size`` to ``batch_size = k * base_batch_size``, an epoch
has ``k`` times fewer steps, so the learning rate is raised to keep the progress per epoch:

- the **linear scaling rule** multiplies it by ``k`` and ramps it up linearly over the first
  epochs (*gradual warm-up*), because the large rate diverges at the start of training (Goyal,
  Dollár, Girshick, Noordhuis, Wesolowski, Kyrola, Tulloch, Jia and He, 2017, *Accurate, Large
  Minibatch SGD: Training ImageNet in 1 Hour*: five epochs of warm-up for ResNet-50);
- **LEGW**, *linear-epoch gradual warm-up* (You, Hseu, Ying, Demmel, Keutzer and Hsieh, 2018/2019,
  *Large-Batch Training for LSTM and Beyond*), multiplies it by ``sqrt(k)`` and lets the warm-up
  grow linearly with the batch: ``k`` times the base warm-up epochs, so the warm-up's number of
  *steps* stays the same.

:func:`legw_learning_rate` is the pure function (one step's rate); :class:`LEGWSchedule` is the
same schedule as a ``keras.optimizers.schedules.LearningRateSchedule`` to pass to an optimizer.

Taught in: chapters/ch08_training_efficiency/03_large_batch
"""

from __future__ import annotations

import math
from typing import Any

from effcourse import sealed
from effcourse.compat import keras, tf

__all__ = ["SCALINGS", "legw_learning_rate", "LEGWSchedule"]

#: How the peak rate grows with ``k = batch_size / base_batch_size``.
SCALINGS = ("sqrt", "linear")


def _check_arguments(
    base_lr: Any, base_batch_size: Any, batch_size: Any, base_warmup_epochs: Any, steps_per_epoch: Any, scaling: Any
) -> None:
    for name, value in [("base_lr", base_lr), ("base_batch_size", base_batch_size), ("batch_size", batch_size)]:
        if not float(value) > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    if not float(base_warmup_epochs) >= 0:
        raise ValueError(f"base_warmup_epochs must be zero (no warm-up) or positive, got {base_warmup_epochs!r}")
    if not float(steps_per_epoch) > 0:
        raise ValueError(f"steps_per_epoch must be positive, got {steps_per_epoch!r}")
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {SCALINGS}, got {scaling!r}")


@sealed.reference("ch08_training_efficiency/03_large_batch:legw_schedule")
def _peak_and_warmup_steps(
    base_lr: Any, base_batch_size: Any, batch_size: Any, base_warmup_epochs: Any, steps_per_epoch: Any, scaling: str
) -> tuple[float, float]:
    """``(peak, warmup_steps)``: ``base_lr * sqrt(k)`` (or ``* k``) and ``base_warmup_epochs * k * steps_per_epoch``
    (not rounded), with ``k = batch_size / base_batch_size``; the one place both schedules derive them."""
    k = float(batch_size) / float(base_batch_size)
    peak = float(base_lr) * (math.sqrt(k) if scaling == "sqrt" else k)
    return peak, float(base_warmup_epochs) * k * float(steps_per_epoch)


@sealed.reference("ch08_training_efficiency/03_large_batch:legw_schedule")
def legw_learning_rate(
    step: Any,
    *,
    base_lr: float,
    base_batch_size: int,
    batch_size: int,
    base_warmup_epochs: float,
    steps_per_epoch: float,
    scaling: str = "sqrt",
) -> float:
    """The learning rate of training step ``step`` (0, 1, ...) under LEGW.

    With ``k = batch_size / base_batch_size``:

    - peak rate ``base_lr * sqrt(k)`` (``scaling="sqrt"``, LEGW) or ``base_lr * k``
      (``scaling="linear"``, Goyal et al.'s rule);
    - warm-up of ``base_warmup_epochs * k`` epochs, i.e.
      ``warmup_steps = base_warmup_epochs * k * steps_per_epoch`` steps (a float, not rounded);
    - ``peak * min(1, (step + 1) / warmup_steps)``: linear from ``peak / warmup_steps`` at step 0
      to the peak at step ``warmup_steps - 1``, then constant; the peak from step 0 when
      ``base_warmup_epochs`` is 0.

    Example:
        >>> round(legw_learning_rate(0, base_lr=0.1, base_batch_size=32, batch_size=128,
        ...                          base_warmup_epochs=0.5, steps_per_epoch=10), 6)
        0.01
        >>> legw_learning_rate(100, base_lr=0.1, base_batch_size=32, batch_size=128,
        ...                    base_warmup_epochs=0.5, steps_per_epoch=10)
        0.2

    Args:
        step: the step, counted from 0: a Python or NumPy integer or a scalar tensor.
        base_lr: the learning rate that works at ``base_batch_size``.
        base_batch_size: the batch size ``base_lr`` and ``base_warmup_epochs`` were tuned for.
        batch_size: the batch size trained with.
        base_warmup_epochs: warm-up epochs at ``base_batch_size`` (0: no warm-up).
        steps_per_epoch: steps per epoch at ``batch_size``.
        scaling: ``"sqrt"`` (LEGW) or ``"linear"``.

    Returns:
        The learning rate, a Python float.

    Raises:
        ValueError: a negative step, a rate, batch size or steps per epoch that is not
            positive, negative warm-up epochs, or an unknown ``scaling``.

    Taught in: chapters/ch08_training_efficiency/03_large_batch
    """
    _check_arguments(base_lr, base_batch_size, batch_size, base_warmup_epochs, steps_per_epoch, scaling)
    step = float(step)
    if step < 0:
        raise ValueError(f"step must be 0 or more, got {step}")
    peak, warmup_steps = _peak_and_warmup_steps(
        base_lr, base_batch_size, batch_size, base_warmup_epochs, steps_per_epoch, scaling
    )
    if warmup_steps == 0:
        return peak
    return peak * min(1.0, (step + 1.0) / warmup_steps)


class LEGWSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """LEGW (or the linear rule with gradual warm-up) as a Keras learning-rate schedule.

    Computes the same rate as :func:`legw_learning_rate`, in TensorFlow operations, so an
    optimizer can call it with its step counter inside a compiled training step. ``peak`` and
    ``warmup_steps`` are exposed for plots and prints.

    Example:
        >>> schedule = LEGWSchedule(base_lr=0.1, base_batch_size=32, batch_size=128,
        ...                         base_warmup_epochs=0.5, steps_per_epoch=10)
        >>> optimizer = keras.optimizers.SGD(schedule, momentum=0.9)
        >>> round(float(schedule(0)), 6), schedule.peak, schedule.warmup_steps
        (0.01, 0.2, 20.0)

    Args:
        base_lr: the learning rate that works at ``base_batch_size``.
        base_batch_size: the batch size ``base_lr`` and ``base_warmup_epochs`` were tuned for.
        batch_size: the batch size trained with.
        base_warmup_epochs: warm-up epochs at ``base_batch_size`` (0: no warm-up).
        steps_per_epoch: steps per epoch at ``batch_size``.
        scaling: ``"sqrt"`` (LEGW) or ``"linear"`` (Goyal et al.).

    Raises:
        ValueError: as :func:`legw_learning_rate`.
        effcourse.sealed.SealedError: while grading or validating (it computes the exercise's
            answer, so it is sealed like :func:`legw_learning_rate`; the lesson uses it after
            the exercise).

    Taught in: chapters/ch08_training_efficiency/03_large_batch
    """

    @sealed.reference("ch08_training_efficiency/03_large_batch:legw_schedule")
    def __init__(
        self,
        *,
        base_lr: float,
        base_batch_size: int,
        batch_size: int,
        base_warmup_epochs: float,
        steps_per_epoch: float,
        scaling: str = "sqrt",
    ) -> None:
        super().__init__()
        _check_arguments(base_lr, base_batch_size, batch_size, base_warmup_epochs, steps_per_epoch, scaling)
        self.base_lr, self.base_batch_size, self.batch_size = float(base_lr), int(base_batch_size), int(batch_size)
        self.base_warmup_epochs, self.steps_per_epoch, self.scaling = (
            float(base_warmup_epochs),
            float(steps_per_epoch),
            scaling,
        )
        self.peak, self.warmup_steps = _peak_and_warmup_steps(
            base_lr, base_batch_size, batch_size, base_warmup_epochs, steps_per_epoch, scaling
        )

    @sealed.reference("ch08_training_efficiency/03_large_batch:legw_schedule")
    def __call__(self, step: Any) -> Any:
        step = tf.cast(step, tf.float32)
        if self.warmup_steps == 0:
            return tf.constant(self.peak, tf.float32) + 0.0 * step
        return self.peak * tf.minimum(1.0, (step + 1.0) / self.warmup_steps)

    def get_config(self) -> dict[str, Any]:
        return {
            "base_lr": self.base_lr,
            "base_batch_size": self.base_batch_size,
            "batch_size": self.batch_size,
            "base_warmup_epochs": self.base_warmup_epochs,
            "steps_per_epoch": self.steps_per_epoch,
            "scaling": self.scaling,
        }
