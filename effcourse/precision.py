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
decide whether 16-bit matrix products can be fast here; :func:`fused_float16_dense_ms` times the
kernel TensorFlow picks for a float16 ``Dense`` layer against the unfused one (on CPUs with
``avx512_fp16`` the fused one is oneDNN's reference code, hundreds of times slower), and
:func:`optimizer_options` turns a graph optimization off for the ``tf.function`` calls in a block.

Taught in: chapters/ch08_training_efficiency/01_precision_and_compilation
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = [
    "DynamicLossScale",
    "underflow_fraction",
    "cpu_16bit_support",
    "CPU_FLAGS",
    "optimizer_options",
    "fused_float16_dense_ms",
    "GRAPPLER_DEFAULTS",
]

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


#: Grappler's on/off options (``tf.config.optimizer.set_experimental_options``) and their defaults,
#: from that function's documentation (TensorFlow 2.21): all on except the three marked off.
GRAPPLER_DEFAULTS: dict[str, bool] = {
    "layout_optimizer": True,
    "constant_folding": True,
    "shape_optimization": True,
    "remapping": True,
    "arithmetic_optimization": True,
    "dependency_optimization": True,
    "loop_optimization": True,
    "function_optimization": True,
    "debug_stripper": True,
    "disable_model_pruning": False,
    "scoped_allocator_optimization": False,
    "pin_to_host_optimization": False,
    "implementation_selector": True,
    "auto_mixed_precision": False,
    "disable_meta_optimizer": False,
}


@contextlib.contextmanager
def optimizer_options(**options: bool) -> Iterator[None]:
    """Set grappler options for the ``tf.function`` calls made inside the block, then restore them.

    TensorFlow optimizes a ``tf.function``'s graph (grappler) when it is called, with the options
    in force at that call, and keeps one optimized copy per set of options: calls inside the block
    run the copy optimized with ``options``, calls outside it the usual one. With no options the
    block changes nothing. ``remapping=False`` keeps grappler from fusing ``MatMul + BiasAdd
    (+ Relu)`` into one ``_FusedMatMul`` kernel, which is what a CPU with ``avx512_fp16`` needs for
    float16 (see :func:`fused_float16_dense_ms`).

    Example:
        >>> with optimizer_options(remapping=False):
        ...     loss = training_step(x, y)          # doctest: +SKIP

    Args:
        **options: names from :data:`GRAPPLER_DEFAULTS` (the documented on/off options of
            ``tf.config.optimizer.set_experimental_options``), each True or False.

    Raises:
        ValueError: an unknown option name (TensorFlow itself would accept and ignore it), or a
            value that is not a bool.

    Taught in: chapters/ch08_training_efficiency/01_precision_and_compilation
    """
    unknown = sorted(set(options) - set(GRAPPLER_DEFAULTS))
    if unknown:
        raise ValueError(
            f"unknown grappler option(s) {unknown}: use one of {sorted(GRAPPLER_DEFAULTS)} "
            "(tf.config.optimizer.set_experimental_options)"
        )
    for name, value in options.items():
        if not isinstance(value, bool):
            raise ValueError(f"grappler option {name} must be True or False, got {value!r}")
    if not options:
        yield
        return
    from effcourse.compat import tf

    before = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options(dict(options))
    try:
        yield
    finally:
        # an option that was never set is put back to its documented default (TensorFlow has no
        # public way to unset one; the default behaves the same)
        tf.config.optimizer.set_experimental_options(
            {name: bool(before.get(name, GRAPPLER_DEFAULTS[name])) for name in options}
        )


def fused_float16_dense_ms(batch: int = 64, units: int = 512, repeats: int = 3) -> dict[str, float]:
    """Time a float16 ``Dense`` layer's forward pass with grappler's fusion and without it.

    A ``Dense`` layer's ``MatMul + BiasAdd + Relu`` is fused by grappler's remapper into one
    ``_FusedMatMul``, which TensorFlow runs with oneDNN. For float16 on a CPU with ``avx512_fp16``
    (oneDNN then enables its float16 kernels), TensorFlow 2.21's oneDNN has no optimized fused
    float16 inner product and runs its reference implementation: ``ONEDNN_VERBOSE=1`` prints
    ``inner_product,ref:any``, about 860 ms for a 256×512 by 512×512 product on a course machine,
    against 0.6 ms for the unfused product (``brg_matmul``). Without ``avx512_fp16`` the two take
    about the same time. ``remapping=False`` (:func:`optimizer_options`) avoids the slow kernel.

    Example:
        >>> probe = fused_float16_dense_ms()                      # doctest: +SKIP
        >>> options = {"remapping": False} if probe["slowdown"] > 5 else {}

    Args:
        batch: rows of the input (examples).
        units: the layer's inputs and outputs (a ``units × units`` float16 kernel).
        repeats: timed calls of each version after a first, untimed one; the median is reported.

    Returns:
        ``{"fused_ms": float, "unfused_ms": float, "slowdown": fused_ms / unfused_ms}``, in
        milliseconds per forward pass (wall-clock time, so it moves with the machine's load).

    Raises:
        ValueError: ``batch``, ``units`` or ``repeats`` below 1.

    Taught in: chapters/ch08_training_efficiency/01_precision_and_compilation
    """
    for name, value in (("batch", batch), ("units", units), ("repeats", repeats)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    from effcourse.compat import tf

    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((batch, units)), tf.float16)
    kernel = tf.constant(rng.standard_normal((units, units)) / np.sqrt(units), tf.float16)
    bias = tf.zeros([units], tf.float16)

    def median_ms(options: dict[str, bool]) -> float:
        dense = tf.function(lambda: tf.nn.relu(tf.nn.bias_add(tf.matmul(x, kernel), bias)))
        times = []
        with optimizer_options(**options):
            dense().numpy()  # traced and optimized with these options
            for _ in range(repeats):
                start = time.perf_counter()
                dense().numpy()
                times.append(1000 * (time.perf_counter() - start))
        return float(np.median(times))

    fused, unfused = median_ms({"remapping": True}), median_ms({"remapping": False})
    return {"fused_ms": fused, "unfused_ms": unfused, "slowdown": fused / unfused}
