"""Mixed precision: dynamic loss scaling, float16 underflow, and this CPU's 16-bit support.

Mixed-precision training (Micikevicius, Narang, Alben, Diamos, Elsen, Garcia, Ginsburg, Houston,
Kuchaiev, Venkatesh and Wu, 2018, *Mixed Precision Training*, ICLR) computes in 16-bit floats and
keeps a float32 master copy of the weights. float16 has 5 exponent bits: its smallest positive
value is ``2**-24`` (about 6e-8), and many gradients are smaller, so they *underflow* to zero.
**Loss scaling** multiplies the loss by ``S`` before the backward pass (every gradient is then
``S`` times larger and stays representable) and divides the gradients by ``S`` before the update.
**Dynamic** loss scaling picks ``S`` as training goes: large, halved whenever a gradient
overflows to inf or NaN (that step is skipped), and doubled again after a run of good steps.
bfloat16 has float32's 8 exponent bits, so it needs no loss scaling.

:class:`DynamicLossScale` is the rule with the semantics of Keras's
``keras.mixed_precision.LossScaleOptimizer`` (``initial_scale=2**15``, ``dynamic_growth_steps=2000``,
growth factor 2; see https://www.tensorflow.org/guide/mixed_precision); :func:`underflow_fraction`
counts the values float16 flushes to zero; :func:`cpu_16bit_support` reads the CPU flags that
decide whether 16-bit matrix products can be fast here.

Taught in: chapters/ch08_training_efficiency/01_precision_and_compilation
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = ["DynamicLossScale", "underflow_fraction", "cpu_16bit_support", "CPU_FLAGS"]

#: ``/proc/cpuinfo`` flags that matter for float32, bfloat16 and float16 matrix products on x86 and Arm.
CPU_FLAGS = (
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512_bf16",
    "avx512_fp16",
    "amx_bf16",
    "amx_fp16",
    "bf16",
    "fphp",
    "asimdhp",
)


class DynamicLossScale:
    """Dynamic loss scaling: grow the scale after a run of finite steps, halve it and skip on overflow.

    Use it around a training step that computes in float16::

        scaled_loss = loss * loss_scale.scale            # before the backward pass
        gradients = loss_scale.update(scaled_gradients)  # unscaled, or None: skip this step
        if gradients is not None:
            optimizer.apply_gradients(zip(gradients, variables))

    :meth:`update` takes the gradients of the *scaled* loss. If every value is finite it returns
    them divided by the current scale and counts a good step; after ``growth_steps`` good steps in
    a row the scale is multiplied by ``factor`` (the count restarts). If any value is inf or NaN
    it returns ``None`` (the step is skipped), divides the scale by ``factor`` (never below 1)
    and restarts the count. This is what ``keras.mixed_precision.LossScaleOptimizer`` does
    (Keras checks the unscaled gradients, which are finite exactly when the scaled ones are; it
    also keeps the scale when growing it would overflow float32, which this class does too).

    Example:
        >>> loss_scale = DynamicLossScale(initial_scale=8.0, growth_steps=2)
        >>> loss_scale.update([np.array([8.0, 16.0])])
        [array([1., 2.], dtype=float32)]
        >>> loss_scale.update([np.array([np.inf])]) is None, loss_scale.scale
        (True, 4.0)
        >>> _ = loss_scale.update([np.ones(1)]); _ = loss_scale.update([np.ones(1)]); loss_scale.scale
        8.0

    Args:
        initial_scale: the first scale ``S`` (Keras's default ``2**15``), at least 1.
        growth_steps: good steps in a row before the scale grows (Keras's ``dynamic_growth_steps``,
            default 2000), a positive integer.
        factor: what the scale is multiplied by to grow and divided by on overflow (2 in Keras),
            more than 1.

    Attributes:
        scale: the current scale (a Python float).
        good_steps: finite steps since the scale last changed or overflowed.

    Raises:
        ValueError: ``initial_scale < 1``, ``growth_steps < 1`` or ``factor <= 1``.
        effcourse.sealed.SealedError: while grading or validating (``__init__`` and
            :meth:`update` are the reference answer of the notebook's ``loss_scale`` exercise; the
            lesson uses the class after the exercise).

    Source: Micikevicius et al. (2018), section 3.2 (loss scaling) and the dynamic variant they
    describe; Keras's ``LossScaleOptimizer`` documentation for the defaults.

    Taught in: chapters/ch08_training_efficiency/01_precision_and_compilation
    """

    @sealed.reference("ch08_training_efficiency/01_precision_and_compilation:loss_scale")
    def __init__(self, initial_scale: float = 2.0**15, growth_steps: int = 2000, factor: float = 2.0) -> None:
        if not float(initial_scale) >= 1 or not np.isfinite(float(initial_scale)):
            raise ValueError(f"initial_scale must be a finite number >= 1, got {initial_scale!r}")
        if isinstance(growth_steps, bool) or int(growth_steps) != growth_steps or int(growth_steps) < 1:
            raise ValueError(f"growth_steps must be a positive integer, got {growth_steps!r}")
        if not float(factor) > 1:
            raise ValueError(f"factor must be more than 1, got {factor!r}")
        self.scale = float(initial_scale)
        self.growth_steps = int(growth_steps)
        self.factor = float(factor)
        self.good_steps = 0

    @sealed.reference("ch08_training_efficiency/01_precision_and_compilation:loss_scale")
    def update(self, scaled_gradients: Sequence[Any]) -> list[np.ndarray] | None:
        """Unscale one step's gradients and adapt the scale.

        Args:
            scaled_gradients: the gradients of ``loss * self.scale``: a list of NumPy arrays or
                tensors (any shapes, any float dtype).

        Returns:
            The gradients divided by the scale they were computed with (float32 arrays of the
            same shapes), or ``None`` if any value was inf or NaN (skip this step).

        Raises:
            ValueError: ``scaled_gradients`` is empty or a single array instead of a list.
            effcourse.sealed.SealedError: while grading or validating (see the class).
        """
        if isinstance(scaled_gradients, np.ndarray) or not len(scaled_gradients):
            raise ValueError("scaled_gradients must be a non-empty list of arrays (one per variable)")
        arrays = [np.asarray(g, dtype=np.float32) for g in scaled_gradients]
        if all(np.isfinite(a).all() for a in arrays):
            unscaled = [a / np.float32(self.scale) for a in arrays]
            self.good_steps += 1
            if self.good_steps >= self.growth_steps:
                grown = self.scale * self.factor
                with np.errstate(over="ignore"):
                    fits = bool(np.isfinite(np.float32(grown)))
                if fits:
                    self.scale = grown
                self.good_steps = 0
            return unscaled
        self.scale = max(self.scale / self.factor, 1.0)
        self.good_steps = 0
        return None


def underflow_fraction(values: Any, *, scale: float = 1.0, dtype: Any = np.float16) -> dict[str, float]:
    """What share of nonzero values a cast to ``dtype`` flushes to zero or overflows, after scaling.

    Each value is multiplied by ``scale`` (in float64, as loss scaling would before the cast) and
    cast to ``dtype``; a nonzero value that becomes 0 has *underflowed*, a finite one that becomes
    inf has *overflowed*. float16's smallest positive value is ``2**-24`` (about 6.0e-8, a
    subnormal) and its largest 65504; bfloat16 (``"bfloat16"``, via TensorFlow) has float32's
    range.

    Example:
        >>> underflow_fraction([1e-9, 1e-3, 0.0])["underflow"]
        0.5
        >>> underflow_fraction([1e-9, 1e-3], scale=2**15)["underflow"]
        0.0

    Args:
        values: gradients (any shape; arrays, tensors or a list of them, flattened together).
        scale: the loss scale ``S`` to multiply by first (positive).
        dtype: ``np.float16`` (default), ``"float16"`` or ``"bfloat16"``.

    Returns:
        ``{"underflow": share of nonzero values that became 0, "overflow": share that became
        inf, "nonzero": how many nonzero finite values there were}`` (shares in [0, 1]).

    Raises:
        ValueError: ``scale`` not positive, an unknown ``dtype``, or no nonzero finite value.

    Taught in: chapters/ch08_training_efficiency/01_precision_and_compilation
    """
    if not float(scale) > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    parts = values if isinstance(values, (list, tuple)) and values and np.ndim(values[0]) > 0 else [values]
    flat = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in parts])
    flat = flat[np.isfinite(flat) & (flat != 0)] * float(scale)
    if flat.size == 0:
        raise ValueError("values has no nonzero finite value to cast")
    name = np.dtype(dtype).name if dtype is not None and dtype != "bfloat16" else "bfloat16"
    if name == "float16":
        with np.errstate(over="ignore"):  # overflow to inf is what is counted
            cast = flat.astype(np.float16)
    elif name == "bfloat16":
        from effcourse.compat import tf

        cast = tf.cast(tf.constant(flat, tf.float32), tf.bfloat16).numpy().astype(np.float64)
    else:
        raise ValueError(f"dtype must be float16 or bfloat16, got {dtype!r}")
    return {
        "underflow": float(np.mean(cast == 0)),
        "overflow": float(np.mean(np.isinf(cast))),
        "nonzero": int(flat.size),
    }


def cpu_16bit_support(cpuinfo: str | None = None) -> dict[str, Any]:
    """Which of :data:`CPU_FLAGS` this CPU has, and what they mean for 16-bit matrix products.

    oneDNN, TensorFlow's CPU kernel library, multiplies bfloat16 matrices with native
    instructions only where the CPU has them (``avx512_bf16``, or AMX's ``amx_bf16``; Arm's
    ``bf16``), and float16 matrices natively only with ``avx512_fp16``/``amx_fp16`` (x86) or
    ``fphp``/``asimdhp`` (Arm); elsewhere 16-bit values are converted to float32 around the
    product, which adds work instead of saving it.

    Example:
        >>> cpu_16bit_support("flags : fpu avx2 fma f16c avx512f avx512_bf16")["native_bfloat16"]
        True

    Args:
        cpuinfo: the text of ``/proc/cpuinfo`` (default: read it; Linux only).

    Returns:
        ``{"flags": [the flags present, in CPU_FLAGS order], "native_bfloat16": bool,
        "native_float16": bool, "simd_extensions": "avx2, fma, ..." (a string to print)}``;
        ``flags`` is empty and ``simd_extensions`` says "unknown" without ``/proc/cpuinfo``.

    Taught in: chapters/ch08_training_efficiency/01_precision_and_compilation
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as fh:
                cpuinfo = fh.read()
        except OSError:
            return {
                "flags": [],
                "native_bfloat16": False,
                "native_float16": False,
                "simd_extensions": "unknown (no /proc/cpuinfo)",
            }
    present = set(cpuinfo.split())
    flags = [f for f in CPU_FLAGS if f in present]
    return {
        "flags": flags,
        "native_bfloat16": any(f in present for f in ("avx512_bf16", "amx_bf16", "bf16")),
        "native_float16": any(f in present for f in ("avx512_fp16", "amx_fp16", "fphp", "asimdhp")),
        "simd_extensions": ", ".join(flags) or "none of " + ", ".join(CPU_FLAGS),
    }
