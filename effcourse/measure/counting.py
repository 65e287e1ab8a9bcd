"""Counting: parameters, MACs and FLOPs per example (see :mod:`effcourse.measure` for the conventions).

Taught in: chapters/ch01_introduction/01_efficiency_mental_model
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

NO_INPUT_SHAPE = (
    "the model has no defined input shape: build the model or pass input_shape=(H, W, C) "
    "(without the batch dimension), e.g. count_flops(model, input_shape=(28, 28, 1)), or start "
    "the model with keras.Input(shape=...)"
)

# Weights that count for sparsity / unique values: kernels and embeddings, not biases or BN.
KERNEL_NAMES = ("kernel", "depthwise_kernel", "pointwise_kernel", "recurrent_kernel", "embeddings")

# Layers that cost nothing under the conventions above. A class is matched by its own name or by
# the name of a base class it inherits ``call`` from (a subclass that writes its own ``call`` is
# *not* free: it is unknown until listed). Never list a base class of layers that compute
# (``BaseRandomLayer`` is the base of LSTM, GRU and Attention).
_ZERO_COST = {
    "InputLayer",
    "Flatten",
    "Reshape",
    "Permute",
    "RepeatVector",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "Masking",
    "Activation",
    "ReLU",
    "Softmax",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "ThresholdedReLU",
    "BatchNormalization",
    "SyncBatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "UnitNormalization",
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Embedding",
    "DynamicEmbedding",
    "DynamicLookup",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "Rescaling",
    "Normalization",
    "Resizing",
    "CenterCrop",
    "TextVectorization",
    "StringLookup",
    "IntegerLookup",
    "IndexLookup",
    "CategoryEncoding",
    "Hashing",
    "Discretization",
    "HashedCrossing",
    "QuantizeLayer",
    "Identity",
    "DepthToSpace",  # effcourse.architectures.DepthToSpace: pixel shuffle, data movement only
    # random augmentation layers are the identity at inference (training=False)
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomHeight",
    "RandomRotation",
    "RandomTranslation",
    "RandomWidth",
    "RandomZoom",
}

# Layers that only call other layers: measured by walking into them (their sublayers are counted).
_CONTAINERS = {
    "Model",
    "Functional",
    "Sequential",
    "Wrapper",
    "Bidirectional",
    "TimeDistributed",
    "SpectralNormalization",
}


class UncountedLayerWarning(UserWarning):
    """A layer whose cost effcourse.measure does not know was counted as 0 MACs/FLOPs.

    Turn it into an error with ``warnings.simplefilter("error", UncountedLayerWarning)``, or
    ask :func:`uncounted_layers` first (it returns the layers and warns nothing).
    """


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


def keras3_message(obj: Any, fn: str) -> str | None:
    """The refusal for a Keras 3 object given to ``fn``, or None when ``obj`` is not one."""
    if type(obj).__module__.split(".")[0] == "keras":
        return (
            f"{fn} needs a Keras model or layer, got {type(obj).__name__} (this looks like a Keras 3 object: "
            f"build models with `from effcourse.compat import keras`)"
        )
    return None


def _require_layer(obj: Any, fn: str) -> None:
    keras = _keras()
    if not isinstance(obj, keras.layers.Layer):
        message = keras3_message(obj, fn)
        raise TypeError(message or f"{fn} needs a Keras model or layer, got {type(obj).__name__}")


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
    out_dim = _prod(_shape(_first_tensor([out]))[len(query) - 1 :])
    t, s = _prod(query[1:-1]), _prod(value[1:-1])
    macs = (
        t * query[-1] * heads * key_dim  # query projection
        + s * key[-1] * heads * key_dim  # key projection
        + s * value[-1] * heads * value_dim  # value projection
        + heads * t * s * key_dim  # scores  Q K^T
        + heads * t * s * value_dim  # softmax(scores) V
        + t * heads * value_dim * out_dim  # output projection
    )
    return macs, 0


_CELLS = ("LSTMCell", "GRUCell", "SimpleRNNCell", "ConvLSTMCell", "StackedRNNCells", "PeepholeLSTMCell")


def _cell_class(cell: Any) -> str | None:
    """The known cell class a cell inherits ``call`` from, or None."""
    for name in _owner_names(cell):
        if name in _CELLS:
            return name
    return None


def _cell_step_macs(cell: Any, out: Any) -> int:
    """MACs of one time step of a recurrent cell: input and recurrent kernels, every gate.

    LSTM: 4 gates, GRU: 3, SimpleRNN: 1 — all of them sit in the kernels' last axis, so one step
    costs ``size(kernel) + size(recurrent_kernel)`` MACs (``in x gates*units + units x
    gates*units``). A ConvLSTM cell does that at each output position.
    """
    if _cell_class(cell) == "StackedRNNCells":
        return sum(_cell_step_macs(c, out) for c in cell.cells)
    macs = _prod(_shape(cell.kernel)) + _prod(_shape(cell.recurrent_kernel))
    if _cell_class(cell) == "ConvLSTMCell":
        rank = len(_shape(cell.kernel)) - 2
        out_shape = _shape(_first_tensor([out]))
        macs *= _prod(out_shape[-(rank + 1) : -1])  # output positions
    return macs


def _cost_rnn(layer, args, kwargs, out) -> tuple[int, int]:
    x = _shape(_first_tensor(args))
    steps = x[0] if getattr(layer, "time_major", False) else x[1]
    return steps * _cell_step_macs(layer.cell, out), 0


def _cost_cell(layer, args, kwargs, out) -> tuple[int, int]:
    return _cell_step_macs(layer, out), 0


def _cost_dense_attention(layer, args, kwargs, out) -> tuple[int, int]:
    # Attention / AdditiveAttention: inputs [query (T, d), value (S, dv)] or [query, value, key]
    inputs = args[0] if args else kwargs["inputs"]
    query, value = _shape(inputs[0]), _shape(inputs[1])
    t, s = _prod(query[1:-1]), _prod(value[1:-1])
    return t * s * query[-1] + t * s * value[-1], 0  # scores, then scores x values


def _cost_dot(layer, args, kwargs, out) -> tuple[int, int]:
    inputs = args[0] if args else kwargs["inputs"]
    x = _shape(inputs[0])
    axes = layer.axes if isinstance(layer.axes, (list, tuple)) else (layer.axes, layer.axes)
    axis = int(axes[0]) % len(x)
    return max(_prod(_shape(_first_tensor([out]))), 1) * x[axis], 0


def _cost_locally_connected(layer, args, kwargs, out) -> tuple[int, int]:
    x = _shape(_first_tensor(args))
    channels = x[1] if getattr(layer, "data_format", "channels_last") == "channels_first" else x[-1]
    return _prod(_shape(_first_tensor([out]))) * _prod(layer.kernel_size) * channels, 0


def _cost_random_fourier(layer, args, kwargs, out) -> tuple[int, int]:
    x = _shape(_first_tensor(args))
    return _prod(x[:-1]) * x[-1] * int(layer.output_dim), 0


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
    "GlobalAveragePooling1D": _cost_global_pool,
    "GlobalAveragePooling2D": _cost_global_pool,
    "GlobalAveragePooling3D": _cost_global_pool,
    "GlobalMaxPooling1D": _cost_global_pool,
    "GlobalMaxPooling2D": _cost_global_pool,
    "GlobalMaxPooling3D": _cost_global_pool,
    "MultiHeadAttention": _cost_mha,
    "BaseDenseAttention": _cost_dense_attention,
    "Attention": _cost_dense_attention,
    "AdditiveAttention": _cost_dense_attention,
    "Dot": _cost_dot,
    "LocallyConnected1D": _cost_locally_connected,
    "LocallyConnected2D": _cost_locally_connected,
    "RandomFourierFeatures": _cost_random_fourier,
    # recurrent layers: time steps x one step of their cell (LSTM, GRU, SimpleRNN, ConvLSTM, RNN(cell))
    "RNN": _cost_rnn,
    "LSTM": _cost_rnn,
    "GRU": _cost_rnn,
    "SimpleRNN": _cost_rnn,
    "LSTMV1": _cost_rnn,
    "GRUV1": _cost_rnn,
    "ConvRNN": _cost_rnn,
    "ConvLSTM": _cost_rnn,
    "ConvLSTM1D": _cost_rnn,
    "ConvLSTM2D": _cost_rnn,
    "ConvLSTM3D": _cost_rnn,
    # a cell called on its own: one step
    "LSTMCell": _cost_cell,
    "GRUCell": _cost_cell,
    "SimpleRNNCell": _cost_cell,
    "ConvLSTMCell": _cost_cell,
    "StackedRNNCells": _cost_cell,
}


def _owner_names(layer_or_class: Any) -> list[str]:
    """Class names from the layer's class up to the first class that defines ``call``.

    The cost of a layer is decided by the code its ``call`` runs, so a subclass that writes its
    own ``call`` is matched on its own name only, and one that inherits ``call`` is matched on
    the classes in between too (``Conv2D`` inherits ``Conv.call``).
    """
    cls = layer_or_class if isinstance(layer_or_class, type) else type(layer_or_class)
    names = []
    for c in cls.__mro__:
        names.append(c.__name__)
        if "call" in c.__dict__:
            break
    return names


def _cost_fn(layer: Any) -> Callable | None:
    """The cost function for a layer, the zero-cost marker, or None when unknown (or a container)."""
    for name in _owner_names(layer):
        if name in _COSTS:
            cost = _COSTS[name]
            if cost is _cost_rnn and _cell_class(getattr(layer, "cell", None)) is None:
                return None  # an RNN around a cell we do not know
            return cost
        if name in _ZERO_COST:
            return _zero
    return None


def _is_container(layer: Any) -> bool:
    return any(name in _CONTAINERS for name in _owner_names(layer))


def layer_kind(layer: Any) -> str:
    """How the counters treat a layer: ``"counted"``, ``"free"``, ``"container"`` or ``"unknown"``.

    ``"counted"`` layers have a formula (Dense, Conv, pooling, attention, recurrent layers and
    cells, ...); ``"free"`` ones cost 0 by the conventions of :mod:`effcourse.measure` (shape
    changes, activations, normalization, element-wise merges, lookups, inference-time identity
    augmentations); ``"container"`` layers (models, ``Bidirectional``, ``TimeDistributed``) are
    measured through the layers they call; ``"unknown"`` ones (``Lambda``, custom layers, a
    subclass that overrides ``call``) count as 0 with an :class:`UncountedLayerWarning`.

    Example:
        >>> from effcourse.compat import keras
        >>> layer_kind(keras.layers.Dropout(0.5)), layer_kind(keras.layers.Lambda(abs))
        ('free', 'unknown')

    Args:
        layer: a Keras layer instance.

    Returns:
        One of ``"counted"``, ``"free"``, ``"container"``, ``"unknown"``.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    inner = _unwrap(layer)
    cost = _cost_fn(inner)
    if cost is _zero:
        return "free"
    if cost is not None:
        return "counted"
    if _is_container(inner) or _is_tfmot_wrapper(layer):
        return "container"
    return "unknown"


def _zero(*_: Any) -> tuple[int, int]:
    return 0, 0


def _sublayers(layer: Any) -> list[Any]:
    if not hasattr(layer, "_flatten_layers"):
        return []
    return list(layer._flatten_layers(include_self=False, recursive=False))


def _leaves(layer: Any, prefix: str = "", seen: set[int] | None = None) -> list[tuple[str, Any]]:
    """(path, layer) for every layer the trace records: known layers, tfmot wrappers, leaves.

    A layer reachable along several paths (a layer shared between a nested model and the outer
    one) is listed once, under the first path found, so that it is observed once per call.
    """
    seen = set() if seen is None else seen
    found = []
    for sub in _sublayers(layer):
        if id(sub) in seen:
            continue
        seen.add(id(sub))
        path = f"{prefix}{sub.name}"
        if _is_tfmot_wrapper(sub) or _cost_fn(sub) is not None or not _sublayers(sub):
            found.append((path, sub))
        else:
            found.extend(_leaves(sub, prefix=f"{path}/", seen=seen))
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
        d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool)) for d in s
    )


def _model_inputs(model: Any) -> list[Any] | None:
    try:
        inputs = model.inputs
    except AttributeError:
        return None
    if not inputs:
        return None
    return list(inputs)


def _trace(model: Any, input_shape: Any, on_unknown: str = "warn") -> list[tuple[str, Any, int, int]]:
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
    unknown = {path: type(_unwrap(layer)).__name__ for path, layer in leaves if layer_kind(layer) == "unknown"}
    if on_unknown == "warn":
        warned: set[str] = set()
        for path, cls in unknown.items():
            if cls not in warned:
                warned.add(cls)
                warnings.warn(
                    f"effcourse.measure does not know the layer class {cls} (layer {path!r}); "
                    f"it is counted as 0 MACs/FLOPs",
                    UncountedLayerWarning,
                    stacklevel=3,
                )
    patched: list[tuple[Any, bool, Any]] = []
    try:
        for path, layer in leaves:
            inner = _unwrap(layer)
            cost = _cost_fn(inner) or _zero
            original = layer.call

            def wrapped(*args, __orig=original, __path=path, __inner=inner, __cost=cost, **kwargs):
                out = __orig(*args, **kwargs)
                macs, flops = __cost(__inner, args, kwargs, out)
                records.append((__path, __inner, int(macs), int(flops)))
                return out

            had_own = "call" in layer.__dict__
            object.__setattr__(layer, "call", wrapped)
            patched.append((layer, had_own, original))
        forward()
    finally:
        # undo in reverse order, so the model is left exactly as found even if a call raised
        for layer, had_own, original in reversed(patched):
            if had_own:
                object.__setattr__(layer, "call", original)
            else:
                object.__delattr__(layer, "call")
    return records


def uncounted_layers(model: Any, input_shape: tuple | None = None) -> dict[str, str]:
    """The layers the counters would count as 0 because their cost is unknown, without warning.

    :func:`count_macs` and friends warn (:class:`UncountedLayerWarning`, on stderr) once per
    unknown layer class. A Python warning is shown on stderr, which a graded notebook cell must
    not write; code that runs there asks this function instead (or filters the warning class).

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(abs, name="abs")])
        >>> uncounted_layers(model)
        {'abs': 'Lambda'}

    Args:
        model: a Keras model or layer.
        input_shape: as for :func:`count_macs`.

    Returns:
        ``{layer path: class name}`` of every layer counted as 0 for want of a formula; empty
        when every layer is counted or known to be free.

    Raises:
        ValueError, TypeError: as :func:`count_macs`.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    seen: dict[str, str] = {}
    for path, layer, _, _ in _trace(model, input_shape, on_unknown="ignore"):
        if layer_kind(layer) == "unknown":
            seen.setdefault(path, type(layer).__name__)
    return seen


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
    ``softmax(.)V``, ``LSTM``/``GRU``/``SimpleRNN`` and ``RNN(cell)`` of their cells: ``T x gates x (in x
    units + units^2)`` (``ConvLSTM*``: that per output position), ``Attention``/
    ``AdditiveAttention``: ``T x S x (d + d_v)``.
    Bias additions, activations, BatchNormalization (folded at conversion), element-wise
    merges and embeddings (lookups) count 0; so does pooling (see :func:`count_flops`).
    tfmot wrappers count as the layer they wrap; nested models are walked into.

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3)])
        >>> count_macs(model)          # 6 * 6 outputs * 3 * 3 * 1 inputs * 4 filters
        1296

    Caveats:
        A layer whose cost is unknown (``Lambda``, a custom layer, a subclass that overrides
        ``call``, an ``RNN`` around a custom cell) is counted as 0 with one
        :class:`UncountedLayerWarning` per class. A warning goes to stderr, which a graded
        notebook cell must not write: code that runs there checks :func:`uncounted_layers`
        first (it warns nothing) or filters the class. A layer reachable along several paths
        (shared by a nested model) is counted once per call, and the model is always left as
        it was found, even when counting raises. The count is per example: a batch of 32
        costs 32 times as much.

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
            rows[path] = {
                "type": type(layer).__name__,
                "params": count_params(layer) if layer.built else 0,
                "macs": 0,
                "flops": 0,
            }
        rows[path]["macs"] += macs
        rows[path]["flops"] += 2 * macs + flops
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["type", "params", "macs", "flops"])
    table.loc["total"] = ["", count_params(model), int(table["macs"].sum()), int(table["flops"].sum())]
    return table.astype({"params": "int64", "macs": "int64", "flops": "int64"})
