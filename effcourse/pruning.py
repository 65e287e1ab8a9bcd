"""Magnitude pruning during training, in tfmot's verb/strip shape: :func:`prune`, then :func:`strip`.

:func:`prune` wraps a model's prunable layers with ``tfmot.sparsity.keras.prune_low_magnitude``
and a polynomial-decay sparsity schedule (Zhu and Gupta, 2017, *To prune, or not to prune:
exploring the efficacy of pruning for model compression*, arXiv:1710.01878): the sparsity
grows from ``initial_sparsity`` to ``target_sparsity`` between ``begin_step`` and ``end_step``
as ``s_t = s_f + (s_i - s_f) * (1 - (t - t_0) / (t_1 - t_0)) ** 3``, and every ``frequency``
steps the smallest-magnitude weights of each layer are masked to zero. Train it with the
:func:`callbacks` (``UpdatePruningStep`` advances the schedule; without it ``fit`` raises), then
:func:`strip` the wrappers off to get a plain model with zeros in its kernels::

    pruned_model = pruning.prune(model, target_sparsity=0.8, end_step=500)
    pruned_model.compile(...)
    pruned_model.fit(x_train, y_train, epochs=5, callbacks=pruning.callbacks())
    pruned_model = pruning.strip(pruned_model)

The NumPy functions :func:`magnitude_prune` (one tensor) and :func:`magnitude_prune_global`
(one threshold over several tensors) do one-shot magnitude pruning with an exact count of zeros.

Taught in: chapters/ch08_training_efficiency/04_batchnorm_and_compress
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from effcourse import sealed
from effcourse.compat import keras

__all__ = ["prune", "strip", "callbacks", "magnitude_prune", "magnitude_prune_global"]


def _tfmot() -> Any:
    import tensorflow_model_optimization as tfmot

    return tfmot


def _require_keras2_graph_model(model: Any, fn: str) -> None:
    if not isinstance(model, keras.Model):
        kind = type(model).__module__ + "." + type(model).__name__
        hint = (
            " (a Keras 3 model: build it with `from effcourse.compat import keras`)" if kind.startswith("keras") else ""
        )
        raise TypeError(f"{fn} needs a tf_keras model, got {kind}{hint}")
    if not (isinstance(model, keras.Sequential) or getattr(model, "_is_graph_network", False)):
        raise TypeError(
            f"{fn} needs a Sequential or functional model; {type(model).__name__} is a subclassed model, whose layers "
            "tfmot cannot clone: prune its layers inside it with tfmot.sparsity.keras.prune_low_magnitude(layer)"
        )
    if not model.built:
        raise ValueError(f"{fn}: build the model first (give it an Input layer or call it on a batch)")


def prune(
    model: Any,
    target_sparsity: float = 0.8,
    *,
    end_step: int,
    begin_step: int = 0,
    initial_sparsity: float = 0.0,
    frequency: int = 100,
) -> Any:
    """A copy of ``model`` whose Dense/Conv kernels are pruned to ``target_sparsity`` while it trains.

    Wraps every prunable layer with ``tfmot.sparsity.keras.prune_low_magnitude`` and a
    ``PolynomialDecay`` schedule from ``initial_sparsity`` at ``begin_step`` to
    ``target_sparsity`` at ``end_step`` (optimizer steps, not epochs), masking every
    ``frequency`` steps. The weights are copied; ``model`` is not changed. Compile the result
    and train it with ``callbacks=pruning.callbacks()``; then call :func:`strip`.

    Example:
        >>> pruned_model = prune(model, target_sparsity=0.8, end_step=200)          # doctest: +SKIP
        >>> pruned_model.compile("adam", "sparse_categorical_crossentropy")          # doctest: +SKIP
        >>> pruned_model.fit(x_train, y_train, epochs=4, callbacks=callbacks())      # doctest: +SKIP
        >>> model = strip(pruned_model)                                             # doctest: +SKIP

    Caveats:
        Layers tfmot does not know how to prune (custom layers without ``PrunableLayer``) make
        tfmot raise; biases, BatchNorm and embeddings-free layers are left dense. The masks are
        zeros in dense kernels: memory and speed gains need a sparse format or kernel (the file
        compresses well; see ``effcourse.measure.gzipped_size``).

    Args:
        model: a built tf_keras ``Sequential`` or functional model.
        target_sparsity: the fraction of each kernel's weights set to zero at the end, in [0, 1).
        end_step: the optimizer step at which the target is reached (> ``begin_step``).
        begin_step: the step at which pruning starts.
        initial_sparsity: the sparsity at ``begin_step``, in [0, ``target_sparsity``].
        frequency: steps between two mask updates (>= 1).

    Returns:
        The wrapped model (not compiled).

    Raises:
        TypeError: a Keras 3 model, a subclassed model, or non-numeric arguments.
        ValueError: an unbuilt model, or a sparsity or step outside its range.

    Taught in: chapters/ch08_training_efficiency/04_batchnorm_and_compress
    """
    _require_keras2_graph_model(model, "prune")
    for name, value in [("target_sparsity", target_sparsity), ("initial_sparsity", initial_sparsity)]:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    for name, value in [("end_step", end_step), ("begin_step", begin_step), ("frequency", frequency)]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer number of optimizer steps, got {type(value).__name__}")
    if not 0.0 <= float(target_sparsity) < 1.0:
        raise ValueError(f"target_sparsity is the fraction of zeros, in [0, 1), got {target_sparsity}")
    if not 0.0 <= float(initial_sparsity) <= float(target_sparsity):
        raise ValueError(f"initial_sparsity must be in [0, target_sparsity={target_sparsity}], got {initial_sparsity}")
    if begin_step < 0 or end_step <= begin_step:
        raise ValueError(f"need 0 <= begin_step < end_step, got begin_step={begin_step}, end_step={end_step}")
    if frequency < 1:
        raise ValueError(f"frequency must be >= 1 step, got {frequency}")
    sparsity = _tfmot().sparsity.keras
    schedule = sparsity.PolynomialDecay(
        initial_sparsity=float(initial_sparsity),
        final_sparsity=float(target_sparsity),
        begin_step=int(begin_step),
        end_step=int(end_step),
        frequency=int(frequency),
    )
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return sparsity.prune_low_magnitude(copy, pruning_schedule=schedule)


def callbacks() -> list[Any]:
    """The callbacks a pruned model's ``fit`` needs: ``[tfmot.sparsity.keras.UpdatePruningStep()]``.

    ``UpdatePruningStep`` advances the pruning step and applies the masks; ``fit`` on a model
    from :func:`prune` without it raises. (``PruningSummaries(log_dir)`` adds TensorBoard
    sparsity curves; add it yourself if you want them.)

    Example:
        >>> pruned_model.fit(x_train, y_train, epochs=2, callbacks=callbacks())  # doctest: +SKIP

    Returns:
        A new list with one ``UpdatePruningStep`` callback.

    Taught in: chapters/ch08_training_efficiency/04_batchnorm_and_compress
    """
    return [_tfmot().sparsity.keras.UpdatePruningStep()]


def strip(model: Any) -> Any:
    """The plain model inside a pruned one: wrappers removed, the zeros kept in the kernels.

    ``tfmot.sparsity.keras.strip_pruning``: call it after training and before saving,
    converting to TFLite or measuring size. A model without pruning wrappers is returned as
    an equal copy.

    Example:
        >>> pruned_model = strip(pruned_model)                          # doctest: +SKIP
        >>> effcourse.measure.sparsity(pruned_model)                    # doctest: +SKIP
        0.8

    Args:
        model: a tf_keras model from :func:`prune` (trained).

    Returns:
        A new tf_keras model of the original layers with the pruned weights.

    Raises:
        TypeError: a Keras 3 or subclassed model.

    Taught in: chapters/ch08_training_efficiency/04_batchnorm_and_compress
    """
    _require_keras2_graph_model(model, "strip")
    return _tfmot().sparsity.keras.strip_pruning(model)


def _check_sparsity(target_sparsity: Any) -> float:
    if isinstance(target_sparsity, bool) or not isinstance(target_sparsity, (int, float, np.integer, np.floating)):
        raise ValueError(f"target_sparsity must be a number in [0, 1], got {type(target_sparsity).__name__}")
    if not 0.0 <= float(target_sparsity) <= 1.0:  # also refuses nan
        raise ValueError(f"target_sparsity is the fraction of zeros, in [0, 1], got {target_sparsity}")
    return float(target_sparsity)


@sealed.reference("ch05_advanced_compression/02_sparsity:magnitude_prune")
def magnitude_prune(weights: Any, target_sparsity: float) -> np.ndarray:
    """A copy of ``weights`` whose ``floor(target_sparsity * size)`` smallest magnitudes are zero.

    The entries are ordered by ``abs`` with a stable sort of ``np.ravel(weights)`` (C order), so
    among equal magnitudes the entry that comes first is pruned first; the first
    ``k = math.floor(target_sparsity * weights.size)`` of that order become 0 and every other entry
    keeps its value. Entries that were zero already are among the smallest and count towards ``k``.
    The result has the shape and dtype of ``np.asarray(weights)``; ``weights`` is not changed.

    Example:
        >>> magnitude_prune(np.array([0.5, -2.0, 1.0, -1.0]), 0.5)
        array([ 0., -2.,  0., -1.])

    Caveats:
        ``floor`` means a tensor of 10 entries pruned to 0.25 gets 2 zeros, not 3. A sparsity
        that is not exactly representable (``0.29 * 100 = 28.999...``) is floored as computed.

    Args:
        weights: array-like of real numbers, any shape.
        target_sparsity: the fraction of entries to set to zero, in [0, 1].

    Returns:
        A new array of the shape and dtype of ``np.asarray(weights)``.

    Raises:
        ValueError: ``target_sparsity`` is not a number in [0, 1].

    Taught in: chapters/ch05_advanced_compression/02_sparsity
    """
    s = _check_sparsity(target_sparsity)
    values = np.asarray(weights)
    pruned = values.copy()
    flat = pruned.reshape(-1)
    k = math.floor(s * values.size)
    order = np.argsort(np.abs(values.reshape(-1)), kind="stable")
    flat[order[:k]] = 0
    return pruned


@sealed.reference("ch05_advanced_compression/02_sparsity:magnitude_prune")
def magnitude_prune_global(tensors: Any, target_sparsity: float) -> list[np.ndarray]:
    """Copies of ``tensors`` with the ``floor(target_sparsity * total size)`` smallest magnitudes of all zero.

    One threshold for all tensors together (global pruning): a layer of small weights loses more
    than a layer of large ones. The order is a stable sort of the magnitudes of the tensors
    raveled (C order) and concatenated in their order, so ties go to the earlier tensor, then the
    earlier entry. Each result has its tensor's shape and dtype; the inputs are not changed.

    Example:
        >>> [a.tolist() for a in magnitude_prune_global([np.array([1.0, 4.0]), np.array([2.0, 3.0])], 0.5)]
        [[0.0, 4.0], [0.0, 3.0]]

    Args:
        tensors: a non-empty list or tuple of array-likes of real numbers.
        target_sparsity: the fraction of all their entries to set to zero, in [0, 1].

    Returns:
        A list of new arrays, one per tensor.

    Raises:
        ValueError: ``tensors`` is empty or not a list/tuple, or ``target_sparsity`` is not in [0, 1].

    Taught in: chapters/ch05_advanced_compression/02_sparsity
    """
    s = _check_sparsity(target_sparsity)
    if not isinstance(tensors, (list, tuple)) or len(tensors) == 0:
        raise ValueError("tensors must be a non-empty list of arrays")
    values = [np.asarray(t) for t in tensors]
    sizes = [v.size for v in values]
    magnitudes = np.concatenate([np.abs(v.reshape(-1)).astype(np.float64) for v in values])
    k = math.floor(s * magnitudes.size)
    keep = np.ones(magnitudes.size, dtype=bool)
    keep[np.argsort(magnitudes, kind="stable")[:k]] = False
    out, start = [], 0
    for v, n in zip(values, sizes):
        out.append(np.where(keep[start : start + n].reshape(v.shape), v, np.zeros((), v.dtype)).astype(v.dtype))
        start += n
    return out
