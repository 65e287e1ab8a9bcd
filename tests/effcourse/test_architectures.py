"""effcourse.architectures: cost formulas, DepthToSpace, conv_block and segmentation_model."""

from __future__ import annotations

import numpy as np
import pytest

import effcourse

effcourse.setup(seed=0)

from effcourse import architectures, measure  # noqa: E402
from effcourse.compat import keras, tf  # noqa: E402


def _keras_costs(layer, shape):
    model = keras.Sequential([keras.Input(shape), layer])
    return measure.count_macs(model), measure.count_params(model)


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("shape,c_out,k", [((7, 5, 3), 4, 3), ((6, 6, 1), 9, 5), ((4, 9, 12), 1, 7)])
def test_cost_formulas_match_measure(shape, c_out, k, use_bias):
    h, w, c_in = shape
    std = architectures.standard_conv_cost(h, w, c_in, c_out, k, use_bias)
    sep = architectures.separable_conv_cost(h, w, c_in, c_out, k, use_bias)
    assert std == _keras_costs(keras.layers.Conv2D(c_out, k, padding="same", use_bias=use_bias), shape)
    assert sep == _keras_costs(keras.layers.SeparableConv2D(c_out, k, padding="same", use_bias=use_bias), shape)
    assert all(type(v) is int for v in (*std, *sep))
    assert architectures.separable_cost_ratio(c_out, k) == pytest.approx(sep[0] / std[0])


def test_cost_formulas_accept_numpy_ints_and_refuse_bad_sizes():
    assert architectures.standard_conv_cost(np.int64(8), 8, 3, 4, np.int32(3)) == (6912, 112)
    assert architectures.separable_conv_cost(8, 8, 3, 4, 3) == (2496, 43)
    with pytest.raises(ValueError, match="c_in must be a positive int"):
        architectures.standard_conv_cost(8, 8, 0, 4, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        architectures.separable_conv_cost(8, 8, 3, 4, 2.5)
    with pytest.raises(ValueError, match="c_out"):
        architectures.separable_cost_ratio(True, 3)


def test_depth_to_space_is_tf_depth_to_space_and_free():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 2 * 16)).astype("float32")
    layer = architectures.DepthToSpace(4)
    np.testing.assert_array_equal(layer(x).numpy(), tf.nn.depth_to_space(x, 4).numpy())
    model = keras.Sequential([keras.Input((3, 4, 32)), layer])
    assert model.output_shape == (None, 12, 16, 2)
    assert measure.layer_kind(layer) == "free" and measure.count_macs(model) == 0
    assert architectures.DepthToSpace.from_config(layer.get_config()).block_size == 4
    with pytest.raises(ValueError, match="block_size"):
        architectures.DepthToSpace(1)
    with pytest.raises(ValueError, match="divisible by 4"):
        keras.Sequential([keras.Input((3, 3, 6)), architectures.DepthToSpace(2)])


@pytest.mark.parametrize("block", architectures.BLOCKS)
@pytest.mark.parametrize("decoder", architectures.DECODERS)
def test_segmentation_model_shapes_and_layers(block, decoder):
    model = architectures.segmentation_model((32, 24, 3), num_classes=3, block=block, decoder=decoder, width=4)
    assert model.output_shape == (None, 32, 24, 3)
    assert model.name == f"{block}_{decoder}"
    kinds = {type(layer).__name__ for layer in model.layers}
    assert ("DepthwiseConv2D" in kinds) == (block == "separable")
    assert ("Conv2DTranspose" in kinds) == (decoder == "transpose")
    assert ("DepthToSpace" in kinds) == (decoder == "depth_to_space")
    assert measure.uncounted_layers(model) == {}
    out = model(np.full((2, 32, 24, 3), 255.0, dtype="float32"))
    assert out.shape == (2, 32, 24, 3) and np.all(np.isfinite(out.numpy()))


def test_separable_model_is_much_cheaper():
    flops = {
        b: measure.count_flops(architectures.segmentation_model((32, 32, 3), block=b, width=16))
        for b in architectures.BLOCKS
    }
    assert flops["separable"] * 5 <= flops["standard"]
    d2s = architectures.segmentation_model((32, 32, 3), decoder="depth_to_space", width=16)
    assert measure.count_flops(d2s) < flops["separable"]


def test_segmentation_model_converts_to_litert():
    from effcourse.deploy import tflite

    model = architectures.segmentation_model((16, 16, 3), decoder="depth_to_space", width=4)
    x = np.random.default_rng(0).uniform(0, 255, (1, 16, 16, 3)).astype("float32")
    out = measure.tflite_predict(tflite.convert(model), x)
    np.testing.assert_allclose(out, model(x).numpy(), atol=1e-4)


def test_segmentation_model_refuses_bad_arguments():
    with pytest.raises(ValueError, match="block must be one of"):
        architectures.segmentation_model(block="mobile")
    with pytest.raises(ValueError, match="decoder must be one of"):
        architectures.segmentation_model(decoder="bilinear")
    with pytest.raises(ValueError, match="divisible by 8"):
        architectures.segmentation_model((30, 32, 3))
    with pytest.raises(ValueError, match="width"):
        architectures.segmentation_model(width=0)
    with pytest.raises(ValueError, match="stride"):
        architectures.conv_block(keras.Input((8, 8, 3)), 4, stride=3)


def test_doctests_in_docstrings_hold():
    import doctest

    from effcourse.measure import segmentation

    for module in (architectures, segmentation):
        failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert tried > 0 and failures == 0, module.__name__
