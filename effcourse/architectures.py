"""Efficient architectures: depthwise-separable convolutions and a small segmentation network.

A standard ``K x K`` convolution from ``M`` to ``N`` channels mixes space and channels at once:
``H x W x K^2 x M x N`` multiply-accumulates (MACs). A *depthwise-separable* convolution
(Howard et al., 2017, *MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
Applications*, arXiv:1704.04861, section 3.1) splits it into a ``K x K`` *depthwise*
convolution (one filter per input channel: ``H x W x K^2 x M``) and a ``1 x 1`` *pointwise*
convolution that mixes channels (``H x W x M x N``), a ratio of ``1/N + 1/K^2`` of the cost::

    from effcourse import architectures
    model = architectures.segmentation_model((64, 64, 3), num_classes=3, block="separable")
    small = architectures.segmentation_model((64, 64, 3), num_classes=3, decoder="depth_to_space")

:func:`segmentation_model` builds a MobileNet-style encoder (a strided stem, then blocks that
are either depthwise-separable or standard convolutions) with either a transposed-convolution
decoder (U-Net-like skips) or no decoder at all: a ``1 x 1`` convolution predicts
``num_classes x r^2`` channels at the encoder's resolution, and :class:`DepthToSpace` (pixel
shuffle: Shi et al., 2016, *Real-Time Single Image and Video Super-Resolution Using an
Efficient Sub-Pixel Convolutional Neural Network*, CVPR) rearranges them into an ``r``-times
larger map. Chapter 5 prunes this model.

The cost formulas (:func:`standard_conv_cost`, :func:`separable_conv_cost`,
:func:`separable_cost_ratio`) answer a graded exercise: they are sealed while grading.

Taught in: chapters/ch04_efficient_architectures/03_depthwise_separable
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from effcourse import sealed
from effcourse.compat import keras, tf

__all__ = [
    "BLOCKS",
    "DECODERS",
    "DepthToSpace",
    "conv_block",
    "segmentation_model",
    "standard_conv_cost",
    "separable_conv_cost",
    "separable_cost_ratio",
]

BLOCKS = ("separable", "standard")
DECODERS = ("transpose", "depth_to_space")
#: BatchNormalization momentum: 0.9 (Keras: 0.99), so the moving statistics settle in a few hundred steps.
BN_MOMENTUM = 0.9


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _check_shape(height: Any, width: Any, c_in: Any, c_out: Any, kernel_size: Any) -> tuple[int, ...]:
    return tuple(
        _positive_int(v, n)
        for v, n in zip((height, width, c_in, c_out, kernel_size), ("height", "width", "c_in", "c_out", "kernel_size"))
    )


# --------------------------------------------------------------------------------------------
# Cost formulas (the graded exercise's reference answers: leaves, sealed while grading)
# --------------------------------------------------------------------------------------------


@sealed.reference("ch04_efficient_architectures/03_depthwise_separable:conv_costs")
def standard_conv_cost(
    height: int, width: int, c_in: int, c_out: int, kernel_size: int, use_bias: bool = True
) -> tuple[int, int]:
    """MACs and parameters of a standard ``kernel_size x kernel_size`` convolution.

    For an output of ``height x width`` positions (stride 1 and ``"same"`` padding: the input's
    size), every output value is a dot product over a ``K x K x M`` window:
    ``MACs = H x W x K^2 x M x N`` and ``params = K^2 x M x N (+ N biases)`` (Howard et al.,
    2017, MobileNets, equation 1). Biases are additions, not MACs.

    Example:
        >>> standard_conv_cost(8, 8, 3, 4, 3)
        (6912, 112)

    Args:
        height, width: output size in positions.
        c_in: input channels ``M``.
        c_out: output channels (filters) ``N``.
        kernel_size: ``K`` (square kernels).
        use_bias: count one bias per output channel.

    Returns:
        ``(macs, params)`` as Python ints, per example.

    Raises:
        ValueError: a size is not a positive int.

    Taught in: chapters/ch04_efficient_architectures/03_depthwise_separable
    """
    h, w, m, n, k = _check_shape(height, width, c_in, c_out, kernel_size)
    return h * w * k * k * m * n, k * k * m * n + (n if use_bias else 0)


@sealed.reference("ch04_efficient_architectures/03_depthwise_separable:conv_costs")
def separable_conv_cost(
    height: int, width: int, c_in: int, c_out: int, kernel_size: int, use_bias: bool = True
) -> tuple[int, int]:
    """MACs and parameters of a depthwise-separable convolution, as Keras' ``SeparableConv2D``.

    A ``K x K`` depthwise convolution (one filter per input channel: ``H x W x K^2 x M`` MACs,
    ``K^2 x M`` weights) followed by a ``1 x 1`` pointwise convolution (``H x W x M x N`` MACs,
    ``M x N`` weights), with one bias per *output* channel as ``SeparableConv2D`` has (Howard
    et al., 2017, MobileNets, equation 4). A ``DepthwiseConv2D`` + ``Conv2D(1)`` pair with
    biases on both has ``M`` more.

    Example:
        >>> separable_conv_cost(8, 8, 3, 4, 3)
        (2496, 43)

    Args:
        height, width: output size in positions (stride 1, ``"same"`` padding).
        c_in: input channels ``M``.
        c_out: output channels ``N``.
        kernel_size: ``K`` of the depthwise filter.
        use_bias: count one bias per output channel.

    Returns:
        ``(macs, params)`` as Python ints, per example.

    Raises:
        ValueError: a size is not a positive int.

    Taught in: chapters/ch04_efficient_architectures/03_depthwise_separable
    """
    h, w, m, n, k = _check_shape(height, width, c_in, c_out, kernel_size)
    return h * w * m * (k * k + n), k * k * m + m * n + (n if use_bias else 0)


@sealed.reference("ch04_efficient_architectures/03_depthwise_separable:conv_costs")
def separable_cost_ratio(c_out: int, kernel_size: int) -> float:
    """The MACs of a depthwise-separable convolution over a standard one: ``1/N + 1/K^2``.

    Example:
        >>> round(separable_cost_ratio(64, 3), 4)
        0.1267

    Args:
        c_out: output channels ``N``.
        kernel_size: ``K``.

    Returns:
        The ratio (a float in (0, 2]); it does not depend on the size or the input channels
        (Howard et al., 2017, MobileNets, section 3.1).

    Raises:
        ValueError: ``c_out`` or ``kernel_size`` is not a positive int.

    Taught in: chapters/ch04_efficient_architectures/03_depthwise_separable
    """
    n, k = _positive_int(c_out, "c_out"), _positive_int(kernel_size, "kernel_size")
    return 1.0 / n + 1.0 / (k * k)


# --------------------------------------------------------------------------------------------
# Layers and the segmentation model
# --------------------------------------------------------------------------------------------


@keras.utils.register_keras_serializable(package="effcourse")
class DepthToSpace(keras.layers.Layer):
    """Pixel shuffle: ``(H, W, r^2 x C) -> (r H, r W, C)``, ``tf.nn.depth_to_space``.

    Moves blocks of ``block_size^2`` channels into ``block_size x block_size`` patches of
    pixels. It has no weights and does no arithmetic (``effcourse.measure`` counts it as 0),
    and LiteRT runs it as one ``DEPTH_TO_SPACE`` op.

    Example:
        >>> import numpy as np
        >>> DepthToSpace(2)(np.arange(4, dtype="float32").reshape(1, 1, 1, 4)).numpy()[0, ..., 0]
        array([[0., 1.],
               [2., 3.]], dtype=float32)

    Args:
        block_size: ``r`` >= 2.

    Raises:
        ValueError: ``block_size`` < 2, or (when called) channels not divisible by ``r^2``.

    Taught in: chapters/ch04_efficient_architectures/03_depthwise_separable
    """

    def __init__(self, block_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 2:
            raise ValueError(f"block_size must be an int >= 2, got {block_size!r}")
        self.block_size = int(block_size)

    def build(self, input_shape: Any) -> None:
        channels = input_shape[-1]
        if channels is not None and int(channels) % (self.block_size**2):
            raise ValueError(
                f"DepthToSpace({self.block_size}) needs channels divisible by {self.block_size**2}, got {channels}"
            )
        super().build(input_shape)

    def call(self, inputs: Any) -> Any:
        return tf.nn.depth_to_space(inputs, self.block_size)

    def compute_output_shape(self, input_shape: Any) -> Any:
        b, h, w, c = tf.TensorShape(input_shape).as_list()
        r = self.block_size
        return tf.TensorShape([b, None if h is None else h * r, None if w is None else w * r, c // (r * r)])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "block_size": self.block_size}


def conv_block(x: Any, filters: int, *, stride: int = 1, block: str = "separable", name: str = "block") -> Any:
    """One MobileNet-style block on a Keras tensor: convolution, BatchNormalization, ReLU6.

    ``block="separable"``: a 3x3 ``DepthwiseConv2D`` (stride ``stride``) + BN + ReLU6, then a
    1x1 ``Conv2D`` + BN + ReLU6 (MobileNet v1's block, Howard et al. 2017, figure 3).
    ``block="standard"``: one 3x3 ``Conv2D`` (stride ``stride``) + BN + ReLU6, the block it
    replaces. Convolutions have no bias (BatchNormalization's shift replaces it).

    Example:
        >>> from effcourse.compat import keras
        >>> inputs = keras.Input((8, 8, 4))
        >>> conv_block(inputs, 16, stride=2).shape.as_list()
        [None, 4, 4, 16]

    Args:
        x: a 4-D Keras tensor ``(batch, H, W, C)``.
        filters: output channels.
        stride: 1 or 2.
        block: ``"separable"`` or ``"standard"``.
        name: prefix of the layer names.

    Returns:
        The block's output tensor, ``(batch, H / stride, W / stride, filters)``.

    Raises:
        ValueError: unknown ``block`` or a bad ``filters``/``stride``.

    Taught in: chapters/ch04_efficient_architectures/03_depthwise_separable
    """
    if block not in BLOCKS:
        raise ValueError(f"block must be one of {BLOCKS}, got {block!r}")
    filters = _positive_int(filters, "filters")
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, got {stride!r}")
    layers = keras.layers
    if block == "separable":
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_dw_bn")(x)
        x = layers.ReLU(6.0, name=f"{name}_dw_relu")(x)
        x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(x)
    else:
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def segmentation_model(
    input_shape: Sequence[int] = (64, 64, 3),
    num_classes: int = 3,
    *,
    block: str = "separable",
    decoder: str = "transpose",
    width: int = 16,
    name: str | None = None,
) -> Any:
    """A small MobileNet-style segmentation network: per-pixel class logits.

    Layout (``w = width``; strides in brackets)::

        input (H, W, 3), scaled from [0, 255] to [-1, 1]
        stem   3x3 Conv2D w (2) + BN + ReLU6                         H/2
        enc1   block 2w (1)                                          H/2   -> skip
        enc2   block 4w (2), block 4w (1)                            H/4   -> skip
        enc3   block 8w (2), block 8w (1)                            H/8
        decoder="transpose":     3 x [2x2 Conv2DTranspose (2) + BN + ReLU6, + skip, block]
                                 up to H, then a 1x1 Conv2D to num_classes
        decoder="depth_to_space": a 1x1 Conv2D to num_classes x 8^2 at H/8, DepthToSpace(8)

    ``block`` chooses every block's convolution (:func:`conv_block`): depthwise-separable or
    standard. The stem, the transposed convolutions and the 1x1 classifiers are the same in
    both, so their difference is the blocks'. The ``"depth_to_space"`` variant has no decoder:
    each ``8 x 8`` patch of the output is predicted from the encoder's feature vector at that
    position, so it is cheap but coarse at the edges.

    Example:
        >>> model = segmentation_model((32, 32, 3), num_classes=3, block="separable", width=8)
        >>> model.output_shape
        (None, 32, 32, 3)

    Args:
        input_shape: ``(H, W, 3)`` with ``H`` and ``W`` divisible by 8; inputs are uint8-range
            pixels (0-255, float or int).
        num_classes: classes per pixel (``pets``: 3 = pet, background, border; masks 1..3 map
            to classes 0..2).
        block: ``"separable"`` or ``"standard"``.
        decoder: ``"transpose"`` or ``"depth_to_space"``.
        width: channels of the stem; later stages have 2, 4 and 8 times as many.
        name: the model's name (default ``"<block>_<decoder>"``).

    Returns:
        An uncompiled Keras 2 functional model with output logits ``(batch, H, W, num_classes)``.

    Raises:
        ValueError: unknown ``block``/``decoder``, sizes not divisible by 8, or a bad
            ``num_classes``/``width``.

    Taught in: chapters/ch04_efficient_architectures/03_depthwise_separable
    """
    if block not in BLOCKS:
        raise ValueError(f"block must be one of {BLOCKS}, got {block!r}")
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    shape = tuple(input_shape)
    if len(shape) != 3 or any(_positive_int(d, "input_shape") % 8 for d in shape[:2]):
        raise ValueError(f"input_shape must be (H, W, C) with H and W divisible by 8, got {input_shape!r}")
    num_classes = _positive_int(num_classes, "num_classes")
    w = _positive_int(width, "width")
    layers = keras.layers

    inputs = keras.Input(shape)
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale")(inputs)
    x = layers.Conv2D(w, 3, strides=2, padding="same", use_bias=False, name="stem")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    skip1 = x = conv_block(x, 2 * w, block=block, name="enc1")
    x = conv_block(x, 4 * w, stride=2, block=block, name="enc2a")
    skip2 = x = conv_block(x, 4 * w, block=block, name="enc2b")
    x = conv_block(x, 8 * w, stride=2, block=block, name="enc3a")
    x = conv_block(x, 8 * w, block=block, name="enc3b")

    if decoder == "transpose":
        for i, (filters, skip) in enumerate([(4 * w, skip2), (2 * w, skip1), (w, None)], start=1):
            x = conv_block(x, filters, block=block, name=f"dec{i}")  # narrow first: upsampling is cheaper
            x = layers.Conv2DTranspose(filters, 2, strides=2, use_bias=False, name=f"up{i}")(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"up{i}_bn")(x)
            x = layers.ReLU(6.0, name=f"up{i}_relu")(x)
            if skip is not None:
                x = layers.Add(name=f"up{i}_skip")([x, skip])
        outputs = layers.Conv2D(num_classes, 1, name="logits")(x)
    else:
        x = layers.Conv2D(num_classes * 64, 1, name="logits_d2s")(x)
        outputs = DepthToSpace(8, name="logits")(x)
    return keras.Model(inputs, outputs, name=name or f"{block}_{decoder}")
