"""Convolution + BatchNorm blocks in their four modes: train, eval, tune and deploy.

A ``Conv2D`` followed by ``BatchNormalization`` computes, per output channel ``c``,
``gamma_c * (conv(x)_c + b_c - mean_c) / sqrt(var_c + eps) + beta_c``. How the statistics
``mean, var`` are obtained and where the affine transform is applied gives the modes of
You, Qin, Bao, Cao, Huang, Shan and Long (2024, *Efficient ConvBN Blocks for Transfer Learning and
Beyond*, ICLR):

- **train**: the batch's statistics; the running statistics are updated.
- **eval**: the running statistics, frozen; the normalisation is a second operation after the
  convolution, so ``gamma`` and ``beta`` keep their gradients.
- **tune**: the same function and gradients as eval, but the running statistics and ``gamma``
  are folded into the convolution's kernel *on the fly*, every step
  (``W' = W * gamma / sqrt(var + eps)``), so no normalised copy of the feature map is kept for
  the backward pass.
- **deploy**: folded once, for good (:func:`fold_batchnorm`, :func:`fold_model`): a plain
  convolution with a bias; ``gamma``, ``beta`` and the statistics are gone.

:class:`ConvBN` is one Keras layer in the train, eval or tune mode; :func:`convert` turns the
``Conv2D -> BatchNormalization`` pairs of a ``Sequential`` model into it;
:func:`benchmark_modes` times and measures peak memory per mode in a child process.

Taught in: chapters/ch08_training_efficiency/04_batchnorm_and_compress
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from effcourse import sealed
from effcourse.compat import keras, tf

__all__ = ["MODES", "ConvBN", "convert", "fold_batchnorm", "fold_model", "benchmark_modes"]

#: The modes of :class:`ConvBN` (``"deploy"`` is a plain convolution: see :func:`fold_model`).
MODES = ("train", "eval", "tune")


def _check_pair(conv: Any, bn: Any) -> None:
    if not isinstance(conv, (keras.layers.Conv2D, keras.layers.Dense)) or isinstance(
        conv, (keras.layers.DepthwiseConv2D, keras.layers.Conv2DTranspose, keras.layers.SeparableConv2D)
    ):
        raise TypeError(
            f"conv must be a built tf_keras Conv2D or Dense layer (its kernel's last axis the output channels), "
            f"got {type(conv).__name__}; depthwise, separable and transposed convolutions are not supported"
        )
    if not isinstance(bn, keras.layers.BatchNormalization):
        raise TypeError(f"bn must be a tf_keras BatchNormalization layer, got {type(bn).__name__}")
    if not conv.built or not bn.built:
        raise ValueError("build both layers first (call the model on an input, or build it with an input shape)")
    if getattr(conv, "data_format", "channels_last") != "channels_last":
        raise ValueError("only channels_last convolutions can be folded (the channels on the kernel's last axis)")
    axis = list(bn.axis) if isinstance(bn.axis, (list, tuple)) else [bn.axis]
    ndim = getattr(getattr(bn, "input_spec", None), "ndim", None)
    if len(axis) != 1 or axis[0] not in (-1, (ndim or 0) - 1):
        raise ValueError(f"bn must normalise the last (channel) axis, got axis={bn.axis}")
    if keras.activations.serialize(conv.activation) not in ("linear", None):
        raise ValueError(
            f"{conv.name} has activation {keras.activations.serialize(conv.activation)!r}: BatchNorm after a "
            "nonlinearity cannot be folded into the convolution (put the activation after the BatchNorm)"
        )
    if int(conv.kernel.shape[-1]) != int(bn.moving_mean.shape[0]):
        raise ValueError(
            f"{conv.name} has {conv.kernel.shape[-1]} output channels but {bn.name} {bn.moving_mean.shape[0]}"
        )


@sealed.reference("ch08_training_efficiency/04_batchnorm_and_compress:fold_batchnorm")
def fold_batchnorm(conv: Any, bn: Any) -> tuple[np.ndarray, np.ndarray]:
    """Fold an inference-mode BatchNorm into the convolution (or dense layer) before it.

    With ``s = gamma / sqrt(moving_variance + epsilon)`` (one scale per output channel),
    ``bn(conv(x)) = conv(x; W * s) + (beta + (b - moving_mean) * s)``: the kernel's last axis
    (output channels) is scaled, the bias is shifted and scaled. ``b`` is 0 when the
    convolution has ``use_bias=False``; ``gamma = 1`` / ``beta = 0`` when the BatchNorm has
    ``scale=False`` / ``center=False``. (Jacob et al., 2018, *Quantization and Training of
    Neural Networks for Efficient Integer-Arithmetic-Only Inference*, section 3.2; TFLite's
    converter does the same.)

    Example:
        >>> conv = keras.layers.Conv2D(4, 3, use_bias=False); bn = keras.layers.BatchNormalization()
        >>> _ = bn(conv(tf.zeros((1, 5, 5, 2))))
        >>> kernel, bias = fold_batchnorm(conv, bn)
        >>> kernel.shape, bias.shape
        ((3, 3, 2, 4), (4,))

    Args:
        conv: a built ``Conv2D`` (channels_last, no activation) or ``Dense`` layer.
        bn: the built ``BatchNormalization`` layer that follows it (last axis).

    Returns:
        ``(kernel, bias)``: float32 arrays of the kernel's shape ``(kh, kw, c_in, c_out)`` and
        ``(c_out,)``, for a ``Conv2D(..., use_bias=True)`` that replaces both layers at inference.

    Raises:
        TypeError: not a Conv2D/Dense and a BatchNormalization.
        ValueError: unbuilt layers, channels_first, an activation inside the convolution,
            another BatchNorm axis, or channel counts that differ.

    Taught in: chapters/ch08_training_efficiency/04_batchnorm_and_compress
    """
    _check_pair(conv, bn)
    kernel = conv.kernel.numpy().astype(np.float64)
    bias = conv.bias.numpy().astype(np.float64) if conv.use_bias else np.zeros(kernel.shape[-1])
    gamma = bn.gamma.numpy().astype(np.float64) if bn.scale else np.ones(kernel.shape[-1])
    beta = bn.beta.numpy().astype(np.float64) if bn.center else np.zeros(kernel.shape[-1])
    mean = bn.moving_mean.numpy().astype(np.float64)
    scale = gamma / np.sqrt(bn.moving_variance.numpy().astype(np.float64) + bn.epsilon)
    return (kernel * scale).astype(np.float32), (beta + (bias - mean) * scale).astype(np.float32)


def _pairs(model: Any) -> list[tuple[int, Any, Any]]:
    if not isinstance(model, keras.Sequential):
        raise TypeError(
            f"only tf_keras Sequential models are supported, got {type(model).__name__}; for a functional model, "
            "fold each pair with fold_batchnorm and rebuild it"
        )
    if not model.built:
        raise ValueError("build the model first (give it an Input layer or call it on a batch)")
    layers = model.layers
    return [
        (i, layers[i], layers[i + 1])
        for i in range(len(layers) - 1)
        if isinstance(layers[i], keras.layers.Conv2D) and isinstance(layers[i + 1], keras.layers.BatchNormalization)
    ]


@sealed.reference("ch08_training_efficiency/04_batchnorm_and_compress:fold_batchnorm")
def fold_model(model: Any) -> Any:
    """A new ``Sequential`` model in deploy mode: every ``Conv2D -> BatchNormalization`` folded.

    Each pair becomes one ``Conv2D(..., use_bias=True)`` with the folded kernel and bias (see
    :func:`fold_batchnorm`); every other layer is cloned with its weights. The input model is
    not changed. The result computes the same function as ``model(x, training=False)``.

    Example:
        >>> deploy_model = fold_model(model)  # doctest: +SKIP
        >>> np.allclose(deploy_model(x), model(x, training=False), atol=1e-5)  # doctest: +SKIP
        True

    Args:
        model: a built tf_keras ``Sequential`` model.

    Returns:
        A new built ``Sequential`` model with fewer layers.

    Raises:
        TypeError: not a ``Sequential`` model, or a pair that cannot be folded.
        ValueError: an unbuilt model, or a pair that cannot be folded (see :func:`fold_batchnorm`).

    Taught in: chapters/ch08_training_efficiency/04_batchnorm_and_compress
    """
    pairs = {i: (conv, bn) for i, conv, bn in _pairs(model)}
    new_layers, weights, skip = [], [], False
    for i, layer in enumerate(model.layers):
        if skip:
            skip = False
            continue
        if i in pairs:
            conv, bn = pairs[i]
            _check_pair(conv, bn)
            config = dict(conv.get_config(), use_bias=True)
            kernel = conv.kernel.numpy().astype(np.float64)
            n = kernel.shape[-1]
            bias = conv.bias.numpy().astype(np.float64) if conv.use_bias else np.zeros(n)
            gamma = bn.gamma.numpy().astype(np.float64) if bn.scale else np.ones(n)
            beta = bn.beta.numpy().astype(np.float64) if bn.center else np.zeros(n)
            scale = gamma / np.sqrt(bn.moving_variance.numpy().astype(np.float64) + bn.epsilon)
            new_layers.append(type(conv).from_config(config))
            weights.append(
                [
                    (kernel * scale).astype(np.float32),
                    (beta + (bias - bn.moving_mean.numpy()) * scale).astype(np.float32),
                ]
            )
            skip = True
        else:
            new_layers.append(type(layer).from_config(layer.get_config()))
            weights.append(layer.get_weights())
    folded = keras.Sequential(new_layers, name=f"{model.name}_deploy")
    folded.build(model.input_shape)
    for layer, w in zip(folded.layers, weights):
        layer.set_weights(w)
    return folded


class ConvBN(keras.layers.Layer):
    """A ``Conv2D`` (no activation) and a ``BatchNormalization`` as one layer, in one of three modes.

    - ``"train"``: with ``training=True``, normalises with the batch's statistics and updates
      the running ones (momentum ``momentum``); with ``training=False``, as ``"eval"``.
    - ``"eval"``: ``(conv(x) - moving_mean) * gamma / sqrt(moving_variance + eps) + beta``, two
      operations; the statistics are frozen; the kernel, ``gamma`` and ``beta`` train.
    - ``"tune"``: ``conv(x; W * s) + beta + (b - moving_mean) * s`` with
      ``s = gamma / sqrt(moving_variance + eps)`` computed every call: the same outputs and
      gradients as ``"eval"``, one operation on the feature map instead of two (You et al.,
      2024, *Efficient ConvBN Blocks for Transfer Learning and Beyond*, ICLR, Algorithm 1).

    Its weights are ``kernel`` (kh, kw, c_in, filters), ``bias`` (filters,) if ``use_bias``,
    ``gamma``, ``beta``, ``moving_mean``, ``moving_variance`` (filters,). Change the mode with
    ``layer.mode = "tune"`` before compiling.

    Example:
        >>> layer = ConvBN(8, 3, mode="tune")
        >>> layer(tf.zeros((2, 16, 16, 3))).shape
        TensorShape([2, 16, 16, 8])

    Raises:
        ValueError: an unknown mode.

    Taught in: chapters/ch08_training_efficiency/04_batchnorm_and_compress
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        *,
        strides: int = 1,
        padding: str = "same",
        use_bias: bool = False,
        mode: str = "train",
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.strides, self.padding, self.use_bias = int(strides), padding.upper(), bool(use_bias)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.mode = mode

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"mode must be one of {MODES} (deploy is a folded Conv2D: see fold_model), got {value!r}")
        self._mode = value

    def build(self, input_shape: Any) -> None:
        c_in, n = int(input_shape[-1]), self.filters
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (c_in, n), initializer="he_normal")
        self.bias = self.add_weight(name="bias", shape=(n,), initializer="zeros") if self.use_bias else None
        self.gamma = self.add_weight(name="gamma", shape=(n,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(n,), initializer="zeros")
        self.moving_mean = self.add_weight(name="moving_mean", shape=(n,), initializer="zeros", trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=(n,), initializer="ones", trainable=False)
        super().build(input_shape)

    def _conv(self, x: Any, kernel: Any) -> Any:
        return tf.nn.conv2d(x, kernel, strides=self.strides, padding=self.padding)

    def call(self, inputs: Any, training: Any = None) -> Any:
        bias = self.bias if self.use_bias else 0.0
        if self.mode == "tune":
            scale = self.gamma * tf.math.rsqrt(self.moving_variance + self.epsilon)
            return self._conv(inputs, self.kernel * scale) + (self.beta + (bias - self.moving_mean) * scale)
        y = self._conv(inputs, self.kernel) + bias
        if self.mode == "train" and training:
            mean, variance = tf.nn.moments(y, axes=[0, 1, 2])
            m = self.momentum
            self.moving_mean.assign(m * self.moving_mean + (1.0 - m) * mean)
            self.moving_variance.assign(m * self.moving_variance + (1.0 - m) * variance)
            return tf.nn.batch_normalization(y, mean, variance, self.beta, self.gamma, self.epsilon)
        return (y - self.moving_mean) * (self.gamma * tf.math.rsqrt(self.moving_variance + self.epsilon)) + self.beta

    def get_config(self) -> dict[str, Any]:
        return dict(
            super().get_config(),
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding.lower(),
            use_bias=self.use_bias,
            mode=self.mode,
            momentum=self.momentum,
            epsilon=self.epsilon,
        )


def convert(model: Any, mode: str) -> Any:
    """A new ``Sequential`` model with every ``Conv2D -> BatchNormalization`` pair a :class:`ConvBN`.

    The weights are copied (the input model is not changed); other layers are cloned with
    theirs. The pair's ``Conv2D`` must have no activation, ``groups=1``, ``dilation_rate=1``
    and channels_last.

    Example:
        >>> tune_model = convert(pretrained_backbone, "tune")  # doctest: +SKIP

    Args:
        model: a built tf_keras ``Sequential`` model.
        mode: ``"train"``, ``"eval"`` or ``"tune"``.

    Returns:
        A new built ``Sequential`` model.

    Raises:
        TypeError: not a ``Sequential`` model.
        ValueError: an unknown mode, an unbuilt model, or a pair ConvBN cannot represent.

    Taught in: chapters/ch08_training_efficiency/04_batchnorm_and_compress
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    pairs = {i: (conv, bn) for i, conv, bn in _pairs(model)}
    new_layers, weights, skip = [], [], False
    for i, layer in enumerate(model.layers):
        if skip:
            skip = False
            continue
        if i not in pairs:
            new_layers.append(type(layer).from_config(layer.get_config()))
            weights.append(layer.get_weights())
            continue
        conv, bn = pairs[i]
        _check_pair(conv, bn)
        if not isinstance(conv, keras.layers.Conv2D) or conv.groups != 1 or tuple(conv.dilation_rate) != (1, 1):
            raise ValueError(f"{conv.name}: ConvBN supports Conv2D with groups=1 and dilation_rate=1")
        if len(set(conv.strides)) != 1 or conv.padding not in ("same", "valid"):
            raise ValueError(f"{conv.name}: ConvBN supports equal strides and 'same'/'valid' padding")
        n = conv.filters
        new_layers.append(
            ConvBN(
                n,
                conv.kernel_size,
                strides=conv.strides[0],
                padding=conv.padding,
                use_bias=conv.use_bias,
                mode=mode,
                momentum=bn.momentum,
                epsilon=bn.epsilon,
                name=f"{conv.name}_bn",
            )
        )
        w = [conv.kernel.numpy()] + ([conv.bias.numpy()] if conv.use_bias else [])
        w += [
            bn.gamma.numpy() if bn.scale else np.ones(n, "float32"),
            bn.beta.numpy() if bn.center else np.zeros(n, "float32"),
        ]
        weights.append(w + [bn.moving_mean.numpy(), bn.moving_variance.numpy()])
        skip = True
    converted = keras.Sequential(new_layers, name=f"{model.name}_{mode}")
    converted.build(model.input_shape)
    for layer, w in zip(converted.layers, weights):
        layer.set_weights(w)
    return converted


# ----------------------------------------------------------------------------- benchmark in a child
def _benchmark_net(mode: str, image_size: int, channels: Sequence[int], use_bn: bool = True) -> Any:
    layers = [keras.layers.Input((image_size, image_size, 3))]
    for c in channels:
        if mode == "deploy":
            layers.append(keras.layers.Conv2D(c, 3, padding="same"))
        else:
            layers.append(ConvBN(c, 3, mode=mode))
        layers.append(keras.layers.ReLU())
    layers += [keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)]
    return keras.Sequential(layers)


def _allocator_bytes() -> dict[str, int]:
    """TensorFlow's CPU allocator statistics: bytes of tensors in use now, and the peak since the last reset."""
    return tf.config.experimental.get_memory_info("CPU:0")


def _child_main() -> None:  # pragma: no cover - runs in the child process (tested through benchmark_modes)
    import time

    config = json.loads(sys.stdin.read())
    modes, size, channels = config["modes"], config["image_size"], config["channels"]
    batch_size, steps, rounds = config["batch_size"], config["steps"], config["rounds"]
    tf.random.set_seed(0)
    x = tf.random.normal((batch_size, size, size, 3))
    y = tf.random.uniform((batch_size,), 0, 10, dtype=tf.int32)
    steps_fn = {}
    for mode in modes:
        model = _benchmark_net(mode, size, channels)
        optimizer = keras.optimizers.SGD(0.01)

        @tf.function
        def step(model=model, optimizer=optimizer):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, model(x, training=True)))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        step()  # trace and warm up
        steps_fn[mode] = step
    # peak memory, one mode at a time: reset TensorFlow's allocator peak, run the steps, keep the rise of the
    # peak over what was in use before; two passes in opposite orders, each mode's smaller figure
    peaks: dict[str, list[float]] = {mode: [] for mode in modes}
    for order in (list(modes), list(modes)[::-1]):
        for mode in order:
            tf.config.experimental.reset_memory_stats("CPU:0")
            before = _allocator_bytes()["current"]
            for _ in range(steps):
                steps_fn[mode]().numpy()
            peaks[mode].append((_allocator_bytes()["peak"] - before) / 2**20)
    if not any(max(p) > 0 for p in peaks.values()):
        raise RuntimeError(
            "TensorFlow's CPU allocator reported no allocations during the steps: it does not count small "
            "tensors (with TensorFlow 2.21, feature maps under about 256 KiB), or its statistics are unavailable "
            "here. Use a larger image_size, channels or batch_size (batch_size * image_size**2 * channels * 4 "
            "bytes of at least 256 KiB)."
        )
    out = {mode: {"peak_memory_mib": min(peaks[mode]), "step_ms": []} for mode in modes}
    # time: interleaved rounds, each mode `steps` steps per round
    for _ in range(rounds):
        for mode in modes:
            start = time.perf_counter()
            for _ in range(steps):
                steps_fn[mode]().numpy()
            out[mode]["step_ms"].append(1000 * (time.perf_counter() - start) / steps)
    print(json.dumps(out))


def benchmark_modes(
    modes: Sequence[str] = ("train", "eval", "tune", "deploy"),
    *,
    image_size: int = 32,
    channels: Sequence[int] = (32, 32, 32),
    batch_size: int = 64,
    steps: int = 3,
    rounds: int = 5,
    timeout: float = 300.0,
) -> dict[str, dict[str, Any]]:
    """Time one training step and measure its peak memory for each mode, in a fresh child process.

    The child builds the same small network in every mode (``len(channels)`` 3x3 ConvBN blocks
    with ReLU, global pooling, a dense head; ``"deploy"``: plain ``Conv2D`` with a bias), traces
    one SGD step per mode and warms it up. **Peak memory**: for each mode in turn it resets
    TensorFlow's CPU allocator statistics (``tf.config.experimental.reset_memory_stats``) and
    reports the rise of the allocator's peak (``get_memory_info("CPU:0")["peak"]``) over ``steps``
    steps above the bytes in use before them: the tensor memory a step needs (activations kept
    for the backward pass, gradients, temporaries), independent of how the C library or the
    operating system cache freed memory (a process's resident-set high-water mark is not: on
    some machines it does not rise at all once the allocator holds the memory). It does so twice,
    in opposite orders of the modes, and keeps each mode's smaller figure. Buffers that libraries
    allocate outside TensorFlow's allocator (e.g. oneDNN's scratchpads) are not counted, nor are
    small tensors (measured with TensorFlow 2.21: feature maps of 128 KiB were not, 256 KiB were).
    **Time**: ``rounds`` interleaved rounds of ``steps`` steps per mode (so slow phases of a busy
    machine hit every mode alike); the milliseconds per step of every round.

    Example:
        >>> result = benchmark_modes(("eval", "tune"), steps=2, rounds=2)  # doctest: +SKIP
        >>> sorted(result["tune"])                                          # doctest: +SKIP
        ['peak_memory_mib', 'step_ms']

    Args:
        modes: some of ``"train"``, ``"eval"``, ``"tune"``, ``"deploy"``.
        image_size: input height and width (pixels).
        channels: output channels of each block.
        batch_size: examples per step.
        steps: steps per measurement.
        rounds: timing rounds.
        timeout: seconds before the child is stopped.

    Returns:
        ``{mode: {"peak_memory_mib": float, "step_ms": [float, ...]}}``.

    Raises:
        ValueError: an unknown mode or a non-positive size.
        RuntimeError: the child failed (its stderr is quoted), or TensorFlow's allocator counted
            nothing (feature maps too small to be counted, or no statistics on this platform).

    Taught in: chapters/ch08_training_efficiency/04_batchnorm_and_compress
    """
    unknown = [m for m in modes if m not in MODES + ("deploy",)]
    if unknown or not modes:
        raise ValueError(f"modes must be some of {MODES + ('deploy',)}, got {list(modes)}")
    if min(image_size, batch_size, steps, rounds, *channels) < 1:
        raise ValueError("image_size, channels, batch_size, steps and rounds must be positive")
    config = dict(
        modes=list(modes),
        image_size=int(image_size),
        channels=[int(c) for c in channels],
        batch_size=int(batch_size),
        steps=int(steps),
        rounds=int(rounds),
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    code = "from effcourse.batchnorm import _child_main; _child_main()"
    result = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(config), capture_output=True, text=True, env=env, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"the benchmark's child process failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
