"""Measure a model: parameters, MACs and FLOPs, size on disk, sparsity, unique weights, latency,
and the accuracy of a TFLite model.

Every efficiency claim in the course is a number one of these functions computed::

    from effcourse import measure
    measure.count_params(model)            # weights, as Keras counts them (tfmot bookkeeping excluded)
    measure.count_flops(model)             # per example; FLOPs = 2 x MACs (+ pooling comparisons/adds)
    measure.gzipped_size(tflite_model)     # bytes after gzip: what zeros and few unique values save
    measure.latency(tflite_model, x[:1])   # median and spread over repeated runs
    measure.tflite_accuracy(tflite_model, x_test, y_test)

Counting conventions (the same in every chapter):

* **MACs** are multiply-accumulates per example (batch size 1). Bias additions, activations,
  softmax, element-wise merges (Add, Multiply, Concatenate), normalization and resizing are not
  counted: they are cheap next to the matrix products, and BatchNormalization is folded into the
  preceding convolution or dense layer when a model is converted for inference.
* **FLOPs = 2 x MACs** (one multiplication and one addition per MAC) for every layer that
  multiplies. Pooling layers do no MACs; they add one FLOP per value each window reads (the
  comparisons of a max, the additions of an average): ``out_elements x pool_h x pool_w`` for
  ``MaxPooling2D``/``AveragePooling2D`` and ``in_elements`` for ``Global*Pooling``. So for a
  model without pooling, ``count_flops == 2 * count_macs`` exactly.
* Embedding lookups cost 0 MACs (an index, no multiplication).
* tfmot wrappers (pruning, quantization, clustering) are measured as the layer they wrap.
* A layer this module does not know is counted as 0, with one warning per layer class.

Taught in: chapters/ch01_introduction/01_efficiency_mental_model
"""
from __future__ import annotations

import gzip
import math
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

__all__ = [
    "count_params", "count_macs", "count_flops", "flops_by_layer", "macs_by_layer", "summary",
    "serialized_size", "gzipped_size", "sparsity", "sparsity_by_layer", "unique_weights",
    "Latency", "latency", "tflite_predict", "tflite_accuracy", "interpreter",
]

NO_INPUT_SHAPE = (
    "the model has no defined input shape: build the model or pass input_shape=(H, W, C) "
    "(without the batch dimension), e.g. count_flops(model, input_shape=(28, 28, 1)), or start "
    "the model with keras.Input(shape=...)"
)

# Weights that count for sparsity / unique values: kernels and embeddings, not biases or BN.
KERNEL_NAMES = ("kernel", "depthwise_kernel", "pointwise_kernel", "recurrent_kernel", "embeddings")

# Layers that cost nothing under the conventions above (matched on the class or a base class).
_ZERO_COST = {
    "InputLayer", "Flatten", "Reshape", "Permute", "RepeatVector", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "ActivityRegularization", "Masking", "Activation", "ReLU", "Softmax", "LeakyReLU", "PReLU",
    "ELU", "ThresholdedReLU", "BatchNormalization", "LayerNormalization", "GroupNormalization",
    "UnitNormalization", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
    "Concatenate", "Embedding", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D",
    "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D", "Rescaling",
    "Normalization", "Resizing", "CenterCrop", "TextVectorization", "StringLookup",
    "IntegerLookup", "CategoryEncoding", "Hashing", "Discretization", "HashedCrossing",
    "QuantizeLayer", "BaseRandomLayer", "Identity",
}


def _keras():
    from effcourse.compat import keras

    return keras


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


def _is_tfmot_wrapper(layer: Any) -> bool:
    return type(layer).__module__.startswith("tensorflow_model_optimization") and hasattr(layer, "layer")


def _unwrap(layer: Any) -> Any:
    while _is_tfmot_wrapper(layer):
        layer = layer.layer
    return layer


def _is_bookkeeping(variable: Any, wrapper: Any) -> bool:
    """True for a variable a tfmot wrapper created itself (under the wrapper's name scope)."""
    return f"{wrapper.name}/" in f"/{variable.name}" and f"/{wrapper.name}/" in f"/{variable.name}"


def _own_weights(layer: Any) -> list[Any]:
    """A layer's weights without tfmot bookkeeping (masks, thresholds, steps, ranges, centroids)."""
    if type(layer).__name__ == "QuantizeLayer":
        return []
    if _is_tfmot_wrapper(layer):
        return [v for v in layer.weights if not _is_bookkeeping(v, layer)]
    return list(layer.weights)


def _bookkeeping_ids(model: Any) -> set[int]:
    """ids of the variables tfmot adds (masks, thresholds, steps, quantizer ranges, centroids)."""
    layers = [model]
    if hasattr(model, "_flatten_layers"):
        layers += list(model._flatten_layers(include_self=False, recursive=True))
    ids: set[int] = set()
    for layer in layers:
        if _is_tfmot_wrapper(layer) or type(layer).__name__ == "QuantizeLayer":
            own = {id(v) for v in _own_weights(layer)}
            ids |= {id(v) for v in layer.weights if id(v) not in own}
    return ids


def count_params(model: Any, *, trainable_only: bool = False) -> int:
    """Count a model's (or a layer's) weights: the numbers you would store.

    Like ``model.count_params()``, but the extra variables that tensorflow-model-optimization
    wrappers add (pruning masks and thresholds, quantizer ranges, clustering centroids and
    indices, step counters) are not counted, so a pruned, quantization-aware or clustered model
    has the same count as the model it wraps. Shared weights are counted once.

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> count_params(model)          # 4 * 3 weights + 3 biases
        15

    Args:
        model: a Keras model or layer that has been built.
        trainable_only: count only trainable weights (BatchNormalization's moving mean and
            variance are not trainable, for example).

    Returns:
        The number of weights.

    Raises:
        TypeError: ``model`` is not a Keras model or layer.
        ValueError: the model is not built yet (it has no weights).

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    _require_layer(model, "count_params")
    if not model.built:
        raise ValueError(
            "the model is not built yet, so it has no weights to count: build it with "
            "model.build((None, H, W, C)), call it once on data, or start it with keras.Input(shape=...)"
        )
    skip = _bookkeeping_ids(model)
    variables = model.trainable_weights if trainable_only else model.weights
    seen: set[int] = set()
    total = 0
    for v in variables:
        if id(v) in skip or id(v) in seen:
            continue
        seen.add(id(v))
        total += int(np.prod(v.shape, dtype=np.int64))
    return total


def _require_layer(obj: Any, fn: str) -> None:
    keras = _keras()
    if not isinstance(obj, keras.layers.Layer):
        hint = ""
        if type(obj).__module__.startswith("keras"):
            hint = " (this looks like a Keras 3 object: build models with `from effcourse.compat import keras`)"
        raise TypeError(f"{fn} needs a Keras model or layer, got {type(obj).__name__}{hint}")


# --------------------------------------------------------------------------------------------
# MACs and FLOPs: one forward pass at batch size 1 records every leaf layer's input and output
# --------------------------------------------------------------------------------------------


def _class_names(layer: Any) -> list[str]:
    return [c.__name__ for c in type(layer).__mro__]


def _prod(xs: Iterable[Any]) -> int:
    return int(math.prod(int(x) for x in xs))


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


def _first_tensor(args: Sequence[Any]) -> Any:
    x = args[0]
    while isinstance(x, (list, tuple)):
        x = x[0]
    return x


def _cost_dense(layer, args, kwargs, out) -> tuple[int, int]:
    x = _shape(_first_tensor(args))
    return _prod(x[:-1]) * x[-1] * int(layer.units), 0


def _cost_einsum_dense(layer, args, kwargs, out) -> tuple[int, int]:
    lhs, out_sub = layer.equation.split("->")
    kernel_sub = lhs.split(",")[1]
    kernel_shape = _shape(layer.kernel)
    contracted = _prod(d for c, d in zip(kernel_sub, kernel_shape) if c not in out_sub)
    return _prod(_shape(_first_tensor([out]))) * contracted, 0


def _cost_conv(layer, args, kwargs, out) -> tuple[int, int]:
    # kernel = kernel_size + (C_in / groups, C_out): each output value needs prod(kernel[:-1]) MACs
    return _prod(_shape(_first_tensor([out]))) * _prod(_shape(layer.kernel)[:-1]), 0


def _cost_conv_transpose(layer, args, kwargs, out) -> tuple[int, int]:
    # kernel = kernel_size + (C_out, C_in): each input value is spread over prod(kernel[:-1]) outputs
    return _prod(_shape(_first_tensor(args))) * _prod(_shape(layer.kernel)[:-1]), 0


def _cost_depthwise(layer, args, kwargs, out) -> tuple[int, int]:
    # kernel = kernel_size + (C_in, depth_multiplier): each output value needs prod(kernel_size) MACs
    return _prod(_shape(_first_tensor([out]))) * _prod(_shape(layer.depthwise_kernel)[:-2]), 0


def _cost_separable(layer, args, kwargs, out) -> tuple[int, int]:
    dw = _shape(layer.depthwise_kernel)  # kernel_size + (C_in, depth_multiplier)
    pw = _shape(layer.pointwise_kernel)  # (1,)*rank + (C_in * depth_multiplier, C_out)
    out_shape = _shape(_first_tensor([out]))
    positions = _prod(out_shape) // pw[-1]
    return positions * (_prod(dw) + pw[-2] * pw[-1]), 0


def _cost_pool(layer, args, kwargs, out) -> tuple[int, int]:
    return 0, _prod(_shape(_first_tensor([out]))) * _prod(layer.pool_size)


def _cost_global_pool(layer, args, kwargs, out) -> tuple[int, int]:
    return 0, _prod(_shape(_first_tensor(args)))


def _cost_mha(layer, args, kwargs, out) -> tuple[int, int]:
    query = _shape(args[0])
    value = _shape(args[1] if len(args) > 1 else kwargs["value"])
    key_t = args[2] if len(args) > 2 else kwargs.get("key")
    key = _shape(key_t) if key_t is not None else value
    heads, key_dim = int(layer._num_heads), int(layer._key_dim)
    value_dim = int(layer._value_dim or key_dim)
    out_dim = _prod(_shape(_first_tensor([out]))[len(query) - 1:])
    t, s = _prod(query[1:-1]), _prod(value[1:-1])
    macs = (
        t * query[-1] * heads * key_dim        # query projection
        + s * key[-1] * heads * key_dim        # key projection
        + s * value[-1] * heads * value_dim    # value projection
        + heads * t * s * key_dim              # scores  Q K^T
        + heads * t * s * value_dim            # softmax(scores) V
        + t * heads * value_dim * out_dim      # output projection
    )
    return macs, 0


def _rnn_cost(gates: int) -> Callable:
    def cost(layer, args, kwargs, out) -> tuple[int, int]:
        x = _shape(_first_tensor(args))
        units = int(layer.units)
        return _prod(x[1:-1]) * gates * (x[-1] * units + units * units), 0

    return cost


_COSTS: dict[str, Callable] = {
    "Dense": _cost_dense,
    "EinsumDense": _cost_einsum_dense,
    "Conv1DTranspose": _cost_conv_transpose,
    "Conv2DTranspose": _cost_conv_transpose,
    "Conv3DTranspose": _cost_conv_transpose,
    "DepthwiseConv1D": _cost_depthwise,
    "DepthwiseConv2D": _cost_depthwise,
    "SeparableConv1D": _cost_separable,
    "SeparableConv2D": _cost_separable,
    "Conv": _cost_conv,
    "Pooling1D": _cost_pool,
    "Pooling2D": _cost_pool,
    "Pooling3D": _cost_pool,
    "GlobalPooling1D": _cost_global_pool,
    "GlobalPooling2D": _cost_global_pool,
    "GlobalPooling3D": _cost_global_pool,
    "MultiHeadAttention": _cost_mha,
    "LSTM": _rnn_cost(4),
    "GRU": _rnn_cost(3),
    "SimpleRNN": _rnn_cost(1),
}


def _cost_fn(layer: Any) -> Callable | None:
    """The cost function for a layer, the zero-cost marker, or None when unknown."""
    for name in _class_names(layer):
        if name in _COSTS:
            return _COSTS[name]
        if name in _ZERO_COST or name.startswith("Random"):
            return _zero
        if name in ("Layer", "Model", "Functional", "Sequential"):
            break
    return None


def _zero(*_: Any) -> tuple[int, int]:
    return 0, 0


def _sublayers(layer: Any) -> list[Any]:
    if not hasattr(layer, "_flatten_layers"):
        return []
    return list(layer._flatten_layers(include_self=False, recursive=False))


def _leaves(layer: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(path, layer) for every layer the trace records: known layers, tfmot wrappers, leaves."""
    found = []
    for sub in _sublayers(layer):
        path = f"{prefix}{sub.name}"
        if _is_tfmot_wrapper(sub) or _cost_fn(sub) is not None or not _sublayers(sub):
            found.append((path, sub))
        else:
            found.extend(_leaves(sub, prefix=f"{path}/"))
    return found


def _input_specs(model: Any, input_shape: Any) -> list[tuple[tuple[int, ...], Any]]:
    """[(shape with batch 1, dtype), ...] for each model input."""
    from effcourse.compat import tf

    if input_shape is not None:
        shapes = [input_shape] if _is_shape(input_shape) else list(input_shape)
        for s in shapes:
            if not _is_shape(s) or any(d is None or int(d) <= 0 for d in s):
                raise ValueError(
                    f"input_shape must be a tuple of positive ints without the batch dimension, "
                    f"e.g. (28, 28, 1), or a list of such tuples for several inputs; got {input_shape!r}"
                )
        dtypes = [getattr(t, "dtype", tf.float32) for t in (_model_inputs(model) or [])]
        if len(dtypes) != len(shapes):
            dtypes = [tf.float32] * len(shapes)
        return [((1, *(int(d) for d in s)), dt) for s, dt in zip(shapes, dtypes)]
    inputs = _model_inputs(model)
    if inputs:
        specs = []
        for t in inputs:
            shape = tuple(t.shape)[1:]
            if any(d is None for d in shape):
                raise ValueError(
                    f"the model's input shape {tuple(t.shape)} has unknown dimensions: pass "
                    f"input_shape=(H, W, C) (without the batch dimension) to measure it at one size"
                )
            specs.append(((1, *(int(d) for d in shape)), t.dtype))
        return specs
    build_shape = getattr(model, "_build_input_shape", None)
    if build_shape is not None:
        try:
            shape = tuple(build_shape)[1:]
        except TypeError:
            shape = ()
        if shape and all(d is not None for d in shape):
            return [((1, *(int(d) for d in shape)), tf.float32)]
    raise ValueError(NO_INPUT_SHAPE)


def _is_shape(s: Any) -> bool:
    return isinstance(s, (tuple, list)) and all(
        d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool)) for d in s)


def _model_inputs(model: Any) -> list[Any] | None:
    try:
        inputs = model.inputs
    except AttributeError:
        return None
    if not inputs:
        return None
    return list(inputs)


def _trace(model: Any, input_shape: Any) -> list[tuple[str, Any, int, int]]:
    """Run one forward pass at batch size 1; return (path, layer, macs, other_flops) per call."""
    from effcourse.compat import tf

    _require_layer(model, "count_macs")
    keras = _keras()
    is_model = isinstance(model, keras.Model)
    if not is_model and not _sublayers(model):
        # a single layer: measure it on its own
        if input_shape is None:
            try:
                input_shape = tuple(model.input_shape)[1:]
            except (AttributeError, RuntimeError):
                raise ValueError(NO_INPUT_SHAPE) from None
            if any(d is None for d in input_shape):
                raise ValueError(NO_INPUT_SHAPE)
        leaves = [(model.name, model)]
        specs = [((1, *input_shape), tf.float32)]
    else:
        specs = _input_specs(model, input_shape)
        leaves = _leaves(model)
    inputs = []
    for shape, dtype in specs:
        dtype = tf.as_dtype(dtype)
        inputs.append(tf.fill(shape, "") if dtype == tf.string else tf.zeros(shape, dtype=dtype))
    inputs = inputs[0] if len(inputs) == 1 else inputs

    def forward() -> None:
        try:
            model(inputs, training=False)
        except (ValueError, TypeError, tf.errors.InvalidArgumentError) as err:
            shapes = [s[1:] for s, _ in specs]
            raise ValueError(
                f"could not run the model on inputs of shape {shapes[0] if len(shapes) == 1 else shapes} "
                f"(without the batch dimension) to count its operations: {err}. Check input_shape."
            ) from err

    if not model.built:
        forward()  # the first call of an unbuilt model traces it symbolically: do it unobserved
        if leaves and leaves[0][1] is not model:  # a model: its layers may only exist now
            leaves = _leaves(model)
    records: list[tuple[str, Any, int, int]] = []
    warned: set[str] = set()
    patched = []
    for path, layer in leaves:
        inner = _unwrap(layer)
        cost = _cost_fn(inner)
        if cost is None:
            cls = type(inner).__name__
            if cls not in warned:
                warned.add(cls)
                warnings.warn(
                    f"effcourse.measure does not know the layer class {cls} (layer {path!r}); "
                    f"it is counted as 0 MACs/FLOPs", stacklevel=3)
            cost = _zero
        original = layer.call

        def wrapped(*args, __orig=original, __path=path, __inner=inner, __cost=cost, **kwargs):
            out = __orig(*args, **kwargs)
            macs, flops = __cost(__inner, args, kwargs, out)
            records.append((__path, __inner, int(macs), int(flops)))
            return out

        had_own = "call" in layer.__dict__
        object.__setattr__(layer, "call", wrapped)
        patched.append((layer, had_own, original))
    try:
        forward()
    finally:
        for layer, had_own, original in patched:
            if had_own:
                object.__setattr__(layer, "call", original)
            else:
                object.__delattr__(layer, "call")
    return records


def macs_by_layer(model: Any, input_shape: tuple | None = None) -> dict[str, int]:
    """Multiply-accumulates per example of each layer (see :func:`count_macs`).

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="fc")])
        >>> macs_by_layer(model)
        {'fc': 12}

    Args:
        model: a Keras model (Sequential, Functional, subclassed) or layer.
        input_shape: the input shape without the batch dimension, needed when the model has
            none (a list of shapes for a model with several inputs).

    Returns:
        ``{layer path: MACs}`` in call order; nested models give ``"outer/inner"`` paths.

    Raises:
        ValueError: the model has no input shape and none was given.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    out: dict[str, int] = {}
    for path, _, macs, _ in _trace(model, input_shape):
        out[path] = out.get(path, 0) + macs
    return out


def flops_by_layer(model: Any, input_shape: tuple | None = None) -> dict[str, int]:
    """FLOPs per example of each layer: 2 x its MACs, plus pooling comparisons/adds.

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="fc")])
        >>> flops_by_layer(model)
        {'fc': 24}

    Args:
        model: a Keras model or layer.
        input_shape: the input shape without the batch dimension, when the model has none.

    Returns:
        ``{layer path: FLOPs}`` in call order (a layer called twice is summed).

    Raises:
        ValueError: the model has no input shape and none was given.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    out: dict[str, int] = {}
    for path, _, macs, flops in _trace(model, input_shape):
        out[path] = out.get(path, 0) + 2 * macs + flops
    return out


def count_macs(model: Any, input_shape: tuple | None = None) -> int:
    """Count the multiply-accumulates (MACs) of one forward pass, per example.

    One forward pass at batch size 1 (on zeros) records each layer's input and output shape;
    each layer's MACs follow from its formula, e.g. ``Dense``: ``in_features x units`` (times
    the leading positions for 3-D inputs), ``Conv2D``: ``H_out x W_out x K_h x K_w x C_in /
    groups x C_out`` (strides, padding and dilation change ``H_out x W_out``),
    ``DepthwiseConv2D``: ``H_out x W_out x K_h x K_w x C_in x depth_multiplier``,
    ``SeparableConv2D``: the depthwise part plus ``H_out x W_out x C_in x depth_multiplier x
    C_out``, ``MultiHeadAttention``: the query/key/value/output projections plus ``QK^T`` and
    ``softmax(.)V``, ``LSTM``/``GRU``/``SimpleRNN``: ``T x gates x (in x units + units^2)``.
    Bias additions, activations, BatchNormalization (folded at conversion), element-wise
    merges and embeddings (lookups) count 0; so does pooling (see :func:`count_flops`).
    tfmot wrappers count as the layer they wrap; nested models are walked into.

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3)])
        >>> count_macs(model)          # 6 * 6 outputs * 3 * 3 * 1 inputs * 4 filters
        1296

    Caveats:
        An unknown layer class is counted as 0 with a warning. The count is per example: a
        batch of 32 costs 32 times as much.

    Args:
        model: a Keras model (or layer) with a defined input shape, or any model with
            ``input_shape`` given (an unbuilt model is built by the call).
        input_shape: the input shape without the batch dimension, e.g. ``(28, 28, 1)``; a list
            of shapes for several inputs. Overrides the model's own input shape.

    Returns:
        The number of MACs per example.

    Raises:
        ValueError: "build the model or pass input_shape=(H, W, C) (without the batch
            dimension)" when the input shape is unknown; or the model cannot run on it.
        TypeError: ``model`` is not a Keras model or layer.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    return sum(macs for _, _, macs, _ in _trace(model, input_shape))


def count_flops(model: Any, input_shape: tuple | None = None) -> int:
    """Count floating-point operations of one forward pass, per example: FLOPs = 2 x MACs.

    Each multiply-accumulate is two FLOPs (a multiplication and an addition), so for a model of
    Dense/Conv/attention layers ``count_flops(model) == 2 * count_macs(model)``. Pooling layers
    do no MACs; they add one FLOP per value a window reads (``out_elements x pool_h x pool_w``
    for max/average pooling, ``in_elements`` for global pooling). Biases, activations and
    BatchNormalization are not counted (see :func:`count_macs`).

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> count_flops(model)         # 2 * 4 * 3
        24

    Args:
        model: a Keras model or layer.
        input_shape: the input shape without the batch dimension, when the model has none.

    Returns:
        The number of FLOPs per example.

    Raises:
        ValueError: the model has no input shape and none was given.
        TypeError: ``model`` is not a Keras model or layer.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    return sum(2 * macs + flops for _, _, macs, flops in _trace(model, input_shape))


def summary(model: Any, input_shape: tuple | None = None):
    """A table of each layer's parameters, MACs and FLOPs (per example), with a total row.

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="fc")])
        >>> int(summary(model).loc["fc", "flops"])
        24

    Args:
        model: a Keras model with a defined input shape (or give ``input_shape``).
        input_shape: the input shape without the batch dimension, when the model has none.

    Returns:
        A ``pandas.DataFrame`` indexed by layer path with columns ``type``, ``params``,
        ``macs``, ``flops``; the last row, ``total``, sums them.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    import pandas as pd

    rows: dict[str, dict[str, Any]] = {}
    for path, layer, macs, flops in _trace(model, input_shape):
        if path not in rows:
            rows[path] = {"type": type(layer).__name__, "params": count_params(layer) if layer.built else 0,
                          "macs": 0, "flops": 0}
        rows[path]["macs"] += macs
        rows[path]["flops"] += 2 * macs + flops
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["type", "params", "macs", "flops"])
    table.loc["total"] = ["", count_params(model), int(table["macs"].sum()), int(table["flops"].sum())]
    return table.astype({"params": "int64", "macs": "int64", "flops": "int64"})


# --------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------


def _serialize(obj: Any) -> bytes:
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj)
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if not path.is_file():
            raise FileNotFoundError(f"no file at {path}: give an existing file, TFLite bytes or a Keras model")
        return path.read_bytes()
    keras = _keras()
    if isinstance(obj, keras.Model):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.h5"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    keras.models.save_model(obj, path, include_optimizer=False, save_format="h5")
                except NotImplementedError:  # a subclassed model has no HDF5 architecture: weights only
                    obj.save_weights(path, save_format="h5")
            return path.read_bytes()
    raise TypeError(
        f"cannot measure the size of a {type(obj).__name__}: give a Keras model, TFLite bytes "
        f"(the converter's output) or a path to a file"
    )


def serialized_size(obj: Any) -> int:
    """Size in bytes of a model as stored on disk.

    A Keras model is saved as HDF5 (``.h5``: architecture and weights, without the optimizer
    state), the format tensorflow-model-optimization's guides measure (a subclassed model,
    whose architecture HDF5 cannot hold, is measured by its HDF5 weights file); TFLite bytes
    are their own length; a path is the file's size.

    Example:
        >>> serialized_size(b"0123456789")
        10

    Caveats:
        A model still wrapped for pruning, QAT or clustering also stores its masks or
        quantizer variables: strip the wrappers first (``effcourse.pruning.strip``).

    Args:
        obj: a Keras model, TFLite flatbuffer bytes, or a path to a file.

    Returns:
        The number of bytes.

    Raises:
        TypeError: ``obj`` is none of these.
        FileNotFoundError: the path does not exist.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    if isinstance(obj, (str, os.PathLike)) and Path(obj).is_file():
        return Path(obj).stat().st_size
    return len(_serialize(obj))


def gzipped_size(obj: Any) -> int:
    """Size in bytes of a model after gzip compression (level 9, ``mtime=0``, deterministic).

    Serializes ``obj`` like :func:`serialized_size`, then gzips it. Dense float weights
    hardly compress; the zeros of a pruned model and the few distinct values of a clustered
    one do — this is how the course shows what pruning and clustering save on disk or over
    the air, before a runtime can exploit them.

    Example:
        >>> gzipped_size(bytes(1000)) < 100
        True

    Args:
        obj: a Keras model, TFLite flatbuffer bytes, or a path to a file.

    Returns:
        The number of gzip-compressed bytes.

    Raises:
        TypeError: ``obj`` is none of these.
        FileNotFoundError: the path does not exist.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    return len(gzip.compress(_serialize(obj), compresslevel=9, mtime=0))


# --------------------------------------------------------------------------------------------
# Sparsity and unique weights
# --------------------------------------------------------------------------------------------


def _weight_kind(variable: Any) -> str:
    name = variable.name.split(":")[0]
    return name.rsplit("/", 1)[-1]


def _layer_kernels(layer: Any) -> list[np.ndarray]:
    """The kernels/embeddings a layer (or the layer a tfmot wrapper holds) uses."""
    kernels = [v for v in _own_weights(layer) if _weight_kind(v) in KERNEL_NAMES]
    if type(layer).__name__ == "ClusterWeights":
        return [_clustered(layer, v) for v in kernels]
    return [np.asarray(v.numpy()) for v in kernels]


def _clustered(wrapper: Any, variable: Any) -> np.ndarray:
    """The weight a tfmot ClusterWeights wrapper really uses: centroids gathered by indices."""
    kind = _weight_kind(variable)
    by_kind = {_weight_kind(v): v for v in wrapper.weights}
    centroids = by_kind.get(f"cluster_centroids_{kind}")
    indices = by_kind.get(f"pulling_indices_{kind}")
    if centroids is None or indices is None:
        return np.asarray(variable.numpy())
    c, i = np.asarray(centroids.numpy()), np.asarray(indices.numpy()).astype(np.int64)
    if c.ndim == 1:
        return c[i]
    # per-channel clustering: centroids (channels, clusters), channel axis last in the kernel
    channels = np.arange(i.shape[-1])
    return c[channels, i]


def _layers_with_kernels(model: Any) -> list[tuple[str, Any]]:
    keras = _keras()
    if isinstance(model, keras.layers.Layer) and not _sublayers(model):
        return [(model.name, model)]
    found = []
    for path, layer in _walk(model):
        if _layer_kernels(layer):
            found.append((path, layer))
    return found


def _walk(layer: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for sub in _sublayers(layer):
        path = f"{prefix}{sub.name}"
        if _is_tfmot_wrapper(sub) or not _sublayers(sub) or _cost_fn(sub) is not None:
            found.append((path, sub))
        else:
            found.extend(_walk(sub, prefix=f"{path}/"))
    return found


def _arrays(obj: Any) -> list[np.ndarray]:
    keras = _keras()
    if isinstance(obj, keras.layers.Layer):
        if not obj.built:
            raise ValueError("the model is not built yet, so it has no weights: build it or call it once")
        return [k for _, layer in _layers_with_kernels(obj) for k in _layer_kernels(layer)]
    if isinstance(obj, np.ndarray) or np.isscalar(obj):
        return [np.asarray(obj)]
    if hasattr(obj, "numpy") and hasattr(obj, "shape"):  # a tf.Tensor or tf.Variable
        return [np.asarray(obj.numpy())]
    if isinstance(obj, (list, tuple)):
        out = []
        for item in obj:
            out.extend(_arrays(item))
        return out
    raise TypeError(f"sparsity needs a Keras model, a NumPy array or a list of arrays, got {type(obj).__name__}")


def sparsity(obj: Any) -> float:
    """Fraction of weights that are exactly zero.

    For a Keras model: over the kernels and embeddings of every layer (``kernel``,
    ``depthwise_kernel``, ``pointwise_kernel``, ``recurrent_kernel``, ``embeddings``) — the
    weights pruning removes; biases and BatchNormalization statistics are left out. A pruning
    wrapper's kernel is read as it is (apply the mask by training or ``strip`` first). For an
    array or a list of arrays: over all their elements.

    Example:
        >>> import numpy as np
        >>> sparsity(np.array([0.0, 1.0, 0.0, 2.0]))
        0.5

    Args:
        obj: a Keras model or layer, a NumPy array (or tensor), or a list of them.

    Returns:
        A float in [0, 1].

    Raises:
        TypeError: ``obj`` is none of these.
        ValueError: there are no weights to measure.

    Taught in: chapters/ch05_advanced_compression (pruning; planned)
    """
    arrays = _arrays(obj)
    total = sum(a.size for a in arrays)
    if total == 0:
        raise ValueError("there are no weights to measure sparsity on (no kernels, or empty arrays)")
    zeros = sum(int(np.count_nonzero(a == 0)) for a in arrays)
    return zeros / total


def sparsity_by_layer(model: Any) -> dict[str, float]:
    """Fraction of exactly-zero kernel/embedding weights in each layer that has any.

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="fc")])
        >>> sparsity_by_layer(model)
        {'fc': 0.0}

    Args:
        model: a built Keras model.

    Returns:
        ``{layer path: sparsity}`` for layers with kernels or embeddings.

    Taught in: chapters/ch05_advanced_compression (pruning; planned)
    """
    _require_layer(model, "sparsity_by_layer")
    return {path: sparsity(_layer_kernels(layer)) for path, layer in _layers_with_kernels(model)}


def unique_weights(model: Any) -> dict[str, int]:
    """Number of distinct values in each layer's kernel (or embeddings) — what clustering cuts.

    A trained float layer has about as many distinct values as weights; after clustering to
    16 centroids it has at most 16, so each weight can be stored as a 4-bit index. A
    ``ClusterWeights`` wrapper is read through its centroids and indices. A layer with several
    kernels (e.g. SeparableConv2D) reports the distinct values over all of them.

    Example:
        >>> from effcourse.compat import keras
        >>> import numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="fc")])
        >>> model.layers[0].set_weights([np.ones((4, 3)), np.zeros(3)])
        >>> unique_weights(model)
        {'fc': 1}

    Args:
        model: a built Keras model.

    Returns:
        ``{layer path: number of unique kernel values}``.

    Taught in: chapters/ch05_advanced_compression (clustering; planned)
    """
    _require_layer(model, "unique_weights")
    if not model.built:
        raise ValueError("the model is not built yet, so it has no weights: build it or call it once")
    return {
        path: int(np.unique(np.concatenate([k.ravel() for k in _layer_kernels(layer)])).size)
        for path, layer in _layers_with_kernels(model)
    }


# --------------------------------------------------------------------------------------------
# TFLite: interpreter, predictions, accuracy
# --------------------------------------------------------------------------------------------


def interpreter(tflite_model: Any, *, num_threads: int | None = None):
    """A LiteRT interpreter with tensors allocated: :func:`effcourse.deploy.tflite.interpreter`.

    Kept here so that measuring code reads ``measure.interpreter(...)``; an interpreter is
    returned as it is.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    if not _is_interpreter(tflite_model) and _is_keras_model(tflite_model):
        raise TypeError("expected TFLite bytes, a .tflite path or an interpreter, got a Keras model: "
                        "convert it to TFLite first (effcourse.deploy.tflite.convert)")
    from effcourse.deploy import tflite

    return tflite.interpreter(tflite_model, num_threads=num_threads)


def _is_interpreter(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("get_input_details", "get_output_details", "invoke", "set_tensor"))


def _is_keras_model(obj: Any) -> bool:
    try:
        return isinstance(obj, _keras().Model)
    except ImportError:
        return False


def _quantize_input(x: np.ndarray, detail: dict) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if not np.issubdtype(dtype, np.integer):
        return x.astype(dtype, copy=False)
    scale, zero_point = detail["quantization"]
    if not scale:
        raise ValueError(
            f"the model's input is {dtype.name} without a quantization scale: give it integer "
            f"inputs yourself or convert with a representative dataset"
        )
    info = np.iinfo(dtype)
    q = np.round(np.asarray(x, dtype=np.float64) / scale + zero_point)
    return np.clip(q, info.min, info.max).astype(dtype)


def _dequantize_output(q: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if np.issubdtype(q.dtype, np.integer) and scale:
        return (q.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
    return q.astype(np.float32, copy=False)


def _check_input(x: np.ndarray, detail: dict) -> None:
    expected = [int(d) for d in detail.get("shape_signature", detail["shape"])][1:]
    got = list(x.shape[1:])
    ok = len(expected) == len(got) and all(e in (-1, g) for e, g in zip(expected, got))
    if not ok:
        want = "(N, " + ", ".join("?" if e == -1 else str(e) for e in expected) + ")"
        hint = ""
        if len(expected) == len(got) + 1 and expected[-1] == 1:
            hint = ": add the channel axis with x[..., None]"
        elif len(expected) + 1 == len(got) and got[-1] == 1:
            hint = ": drop the channel axis with x[..., 0]"
        raise ValueError(f"x has shape {tuple(x.shape)} but the model expects {want}{hint}")


def _run(interp: Any, x: np.ndarray) -> np.ndarray:
    """One invoke on batch x (already checked); returns the dequantized output."""
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    if tuple(inp["shape"]) != tuple(x.shape):
        interp.resize_tensor_input(inp["index"], list(x.shape))
        interp.allocate_tensors()
        inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    interp.set_tensor(inp["index"], _quantize_input(x, inp))
    interp.invoke()
    y = interp.get_tensor(out["index"])
    if y.shape[0] != x.shape[0]:
        raise ValueError(
            f"the TFLite model returned {y.shape[0]} rows for a batch of {x.shape[0]}: it was "
            f"converted for a fixed batch size; use batch_size={y.shape[0] if y.shape[0] else 1} "
            f"or convert with a None batch dimension"
        )
    return _dequantize_output(y, out)


def tflite_predict(tflite_model: Any, x: Any, *, batch_size: int = 1) -> np.ndarray:
    """Run a TFLite model on float inputs and return float outputs.

    When the model's input tensor is integer (int8/uint8/int16), ``x`` is quantized with the
    scale and zero point the interpreter reports (``q = round(x / scale + zero_point)``,
    clipped to the type's range); integer outputs are dequantized the same way
    (``(q - zero_point) * scale``). Nothing is hard-coded, so the same call serves float,
    dynamic-range, float16 and full-integer models.

    Example:
        >>> probs = tflite_predict(tflite_model, x_test[:10])   # doctest: +SKIP
        >>> probs.shape                                         # doctest: +SKIP
        (10, 10)

    Args:
        tflite_model: TFLite bytes, a ``.tflite`` path, or an ``ai_edge_litert`` Interpreter.
        x: inputs with a batch dimension first, shaped like the model's input.
        batch_size: examples per ``invoke()``; models converted with a fixed batch of 1 need 1.

    Returns:
        The (dequantized) float32 outputs, shape ``(N, ...)``.

    Raises:
        ValueError: ``x``'s shape does not match the model's input (the message says what the
            model expects), the model has several inputs, or ``batch_size`` is not positive.
        TypeError: ``tflite_model`` is not TFLite bytes, a path or an interpreter.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    from effcourse.progress import progress

    interp = interpreter(tflite_model)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if len(interp.get_input_details()) != 1:
        raise ValueError("tflite_predict handles models with one input; this one has "
                         f"{len(interp.get_input_details())}")
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must hold at least one example with a batch dimension first, got shape {x.shape}")
    _check_input(x, interp.get_input_details()[0])
    starts = range(0, len(x), int(batch_size))
    outputs = [_run(interp, x[i:i + batch_size]) for i in progress(starts, desc="TFLite", total=len(starts),
                                                                   leave=False)]
    return np.concatenate(outputs, axis=0)


def tflite_accuracy(tflite_model: Any, x: Any, y: Any, *, batch_size: int = 1) -> float:
    """Accuracy of a TFLite model on float inputs ``x`` and labels ``y``.

    Runs :func:`tflite_predict` (inputs quantized and outputs dequantized with the
    interpreter's own scale and zero point) and compares the argmax over the last output axis
    with the labels. ``y`` may be class ids shaped ``(N,)`` or ``(N, 1)``, one-hot ``(N, C)``,
    or per-pixel labels such as masks ``(N, H, W, 1)`` (then it is pixel accuracy). A model
    with a single output unit is read as a probability thresholded at 0.5.

    Example:
        >>> tflite_accuracy(int8_model, x_test, y_test)   # doctest: +SKIP
        0.97

    Args:
        tflite_model: TFLite bytes, a ``.tflite`` path, or an ``ai_edge_litert`` Interpreter.
        x: float inputs shaped like the model's input, batch first.
        y: labels (see above).
        batch_size: examples per ``invoke()``.

    Returns:
        The fraction of correct predictions, a float in [0, 1].

    Raises:
        ValueError: shapes of ``x``/``y`` do not fit the model or each other.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    y = np.asarray(y)
    x = np.asarray(x)
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)} labels")
    outputs = tflite_predict(tflite_model, x, batch_size=batch_size)
    if outputs.shape[-1] == 1:
        predicted = (outputs[..., 0] > 0.5).astype(np.int64)
    else:
        predicted = outputs.argmax(axis=-1)
    if y.shape == outputs.shape and outputs.shape[-1] > 1:
        labels = y.argmax(axis=-1)
    elif y.ndim == predicted.ndim + 1 and y.shape[-1] == 1:
        labels = y[..., 0]
    else:
        labels = y
    if labels.shape != predicted.shape:
        raise ValueError(
            f"labels of shape {y.shape} do not match the model's predictions of shape "
            f"{predicted.shape} (outputs {outputs.shape}): give class ids (N,), (N, 1) or one-hot (N, C)"
        )
    return float(np.mean(predicted == labels))


# --------------------------------------------------------------------------------------------
# Latency
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """Timings of repeated runs, in milliseconds (median is the headline figure).

    Example:
        >>> print(Latency(1.234, 1.1, 1.4, 1.25, 0.1, 50, 1))
        1.23 ms (p10 1.10, p90 1.40, n=50)

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """

    median_ms: float
    p10_ms: float
    p90_ms: float
    mean_ms: float
    std_ms: float
    repeats: int
    batch_size: int

    def __str__(self) -> str:
        batch = f", batch {self.batch_size}" if self.batch_size != 1 else ""
        return (f"{_ms(self.median_ms)} ms (p10 {_ms(self.p10_ms)}, p90 {_ms(self.p90_ms)}, "
                f"n={self.repeats}{batch})")


def _ms(value: float) -> str:
    """Two decimals, or two significant digits below 0.1 ms (so 4 us does not print as 0.00)."""
    return f"{value:.2f}" if abs(value) >= 0.1 or value == 0 else f"{value:.2g}"


def latency(target: Any, x: Any, *, warmup: int = 5, repeats: int = 50,
            batch_size: int | None = None) -> Latency:
    """Time one inference on a batch: warm-up runs, then ``repeats`` timed runs.

    * Keras model: ``model(x, training=False)`` inside a ``tf.function`` (traced during the
      warm-up), the way a served model runs — eager Keras adds Python overhead that would
      swamp a small model's compute. The output is read back (``.numpy()``) inside the timing.
    * TFLite bytes or an ``ai_edge_litert`` Interpreter: ``set_tensor`` + ``invoke()`` +
      ``get_tensor``; a float ``x`` is quantized first (outside the timing) with the input
      tensor's scale and zero point when the input is integer, and the input tensor is
      resized to the batch when needed.

    Each run is timed with ``time.perf_counter_ns``. On a shared machine timings are noisy:
    compare medians, and look at the p10-p90 spread before believing a small difference.

    Example:
        >>> t = latency(model, x_test[:1], repeats=20)   # doctest: +SKIP
        >>> print(t)                                     # doctest: +SKIP
        0.41 ms (p10 0.39, p90 0.47, n=20)

    Args:
        target: a Keras model, TFLite bytes, a ``.tflite`` path, or an Interpreter.
        x: one batch of inputs (batch first).
        warmup: untimed runs first (caches, tracing, memory allocation).
        repeats: timed runs (at least 1).
        batch_size: take the first ``batch_size`` examples of ``x``; None uses all of ``x``.

    Returns:
        A :class:`Latency` with median, p10, p90, mean and standard deviation in ms.

    Raises:
        TypeError: ``target`` is not a Keras model, TFLite bytes/path or interpreter.
        ValueError: bad ``warmup``/``repeats``/``batch_size``, or ``x`` does not fit the model.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    for name, value, low in (("warmup", warmup, 0), ("repeats", repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must be a batch with at least one example, got shape {x.shape}")
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        if batch_size > len(x):
            raise ValueError(f"batch_size={batch_size} but x has only {len(x)} examples")
        x = x[:batch_size]
    if _is_keras_model(target):
        run = _keras_runner(target, x)
    elif _is_interpreter(target) or isinstance(target, (bytes, bytearray, memoryview, str, os.PathLike)):
        run = _tflite_runner(interpreter(target), x)
    else:
        raise TypeError(
            f"latency needs a Keras model, TFLite bytes, a .tflite path or an ai_edge_litert "
            f"Interpreter, got {type(target).__name__}"
        )
    for _ in range(warmup):
        run()
    times = np.empty(int(repeats), dtype=np.float64)
    for i in range(int(repeats)):
        start = time.perf_counter_ns()
        run()
        times[i] = (time.perf_counter_ns() - start) / 1e6
    return Latency(
        median_ms=float(np.median(times)), p10_ms=float(np.percentile(times, 10)),
        p90_ms=float(np.percentile(times, 90)), mean_ms=float(times.mean()), std_ms=float(times.std()),
        repeats=int(repeats), batch_size=int(len(x)),
    )


def _keras_runner(model: Any, x: np.ndarray) -> Callable[[], Any]:
    from effcourse.compat import tf

    inputs = _model_inputs(model)
    dtype = inputs[0].dtype if inputs else tf.float32
    tensor = tf.constant(x, dtype=dtype)

    @tf.function
    def forward(t):
        return model(t, training=False)

    try:
        forward(tensor)
    except (ValueError, TypeError, tf.errors.InvalidArgumentError) as err:
        raise ValueError(f"the model cannot run on x of shape {x.shape}: {err}") from err

    def run() -> Any:
        out = forward(tensor)
        return tf.nest.map_structure(lambda t: t.numpy(), out)

    return run


def _tflite_runner(interp: Any, x: np.ndarray) -> Callable[[], Any]:
    details = interp.get_input_details()
    if len(details) != 1:
        raise ValueError(f"latency handles TFLite models with one input; this one has {len(details)}")
    _check_input(x, details[0])
    _run(interp, x)  # resizes and allocates if needed, checks the batch dimension
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    q = _quantize_input(x, inp)
    index_in, index_out = inp["index"], out["index"]

    def run() -> Any:
        interp.set_tensor(index_in, q)
        interp.invoke()
        return interp.get_tensor(index_out)

    return run
