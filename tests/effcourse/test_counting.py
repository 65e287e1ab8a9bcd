"""effcourse.measure.counting: each call counted once, the model left as found, no layer silently 0.

Issue 10, kind 1. The examples of the issue are the first tests; the enumeration of every layer
class tf_keras exports makes sure the kind (a computing layer counted as 0 without a word) is
fixed for every layer, not only LSTMCell.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

from effcourse import measure
from effcourse.compat import keras
from effcourse.measure import counting

L = keras.layers


def _patched(model):
    """Layers of ``model`` that still carry an instance-level ``call`` (a leftover patch)."""
    layers = [model, *model._flatten_layers(include_self=False, recursive=True)]
    return [layer.name for layer in layers if "call" in layer.__dict__]


# ------------------------------------------------------------------ each call counted once


def test_layer_shared_with_a_nested_sequential_is_counted_once_per_call():
    # the issue's example: a Dense(4) on 8 features (32 MACs) reachable through a nested
    # Sequential and directly; it runs once, so 32 MACs (the old counter said 64)
    dense = L.Dense(4, name="shared")

    class Outer(keras.Model):
        def __init__(self):
            super().__init__()
            self.inner = keras.Sequential([dense])  # holds the layer, never called here
            self.dense = dense

        def call(self, x):
            return self.dense(x)

    model = Outer()
    model.build((None, 8))
    assert measure.count_macs(model) == 32
    assert measure.count_flops(model) == 64
    assert _patched(model) == []
    model.predict(np.zeros((2, 8)), verbose=0)  # the old counter left it patched: TypeError


def test_layer_called_twice_counts_twice_once_each():
    dense = L.Dense(4, name="shared")
    inner = keras.Sequential([keras.Input((8,)), dense])
    x = keras.Input((8,))
    model = keras.Model(x, [inner(x), dense(x)])
    assert measure.count_macs(model) == 2 * 32  # two calls (the old counter said 128)
    assert list(measure.macs_by_layer(model).values()) == [64]  # one path, both calls
    assert _patched(model) == []
    model.predict(np.zeros((2, 8)), verbose=0)
    model.compile("sgd", "mse")
    model.fit(np.zeros((2, 8)), [np.zeros((2, 4))] * 2, verbose=0)


def test_model_left_as_found_when_the_count_raises():
    model = keras.Sequential([keras.Input((8,)), L.Dense(4), L.Dense(2)])
    with pytest.raises(ValueError, match="could not run the model"):
        measure.count_macs(model, input_shape=(5,))  # wrong shape: the forward pass fails
    assert _patched(model) == []
    assert model.predict(np.zeros((1, 8)), verbose=0).shape == (1, 2)


def test_model_left_as_found_when_a_cost_formula_raises(monkeypatch):
    model = keras.Sequential([keras.Input((8,)), L.Dense(4), L.Dense(2)])

    def boom(*_):
        raise RuntimeError("formula failed")

    monkeypatch.setitem(counting._COSTS, "Dense", boom)
    with pytest.raises(RuntimeError, match="formula failed"):
        measure.count_macs(model)
    assert _patched(model) == []


# ------------------------------------------------------------------ recurrent and attention layers


@pytest.mark.parametrize(
    ("cell", "layer", "gates"),
    [
        (L.LSTMCell, L.LSTM, 4),
        (L.GRUCell, L.GRU, 3),
        (L.SimpleRNNCell, L.SimpleRNN, 1),
    ],
)
@pytest.mark.parametrize(("steps", "features"), [(10, 4), (4, 10)])
def test_rnn_of_a_cell_counts_like_the_layer(cell, layer, gates, steps, features):
    units = 8
    expected = steps * gates * (features * units + units * units)
    wrapped = keras.Sequential([keras.Input((steps, features)), L.RNN(cell(units))])
    direct = keras.Sequential([keras.Input((steps, features)), layer(units)])
    assert measure.count_macs(wrapped) == expected
    assert measure.count_macs(direct) == expected


def test_issue_example_rnn_lstmcell():
    # the issue's RNN(LSTMCell(8)) was 0 MACs; LSTM: T x 4 gates x (in x 8 + 8 x 8).
    # The issue's 2,304 is T=4 steps of 10 features (4 x 4 x 144); T=10 steps of 4 features is 3,840.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning: it is a known layer now
        assert measure.count_macs(keras.Sequential([keras.Input((4, 10)), L.RNN(L.LSTMCell(8))])) == 2304
        assert measure.count_macs(keras.Sequential([keras.Input((10, 4)), L.RNN(L.LSTMCell(8))])) == 3840


def test_stacked_cells_bidirectional_and_conv_lstm():
    stacked = keras.Sequential([keras.Input((5, 3)), L.RNN([L.GRUCell(4), L.GRUCell(6)])])
    assert measure.count_macs(stacked) == 5 * 3 * ((3 * 4 + 4 * 4) + (4 * 6 + 6 * 6))
    bi = keras.Sequential([keras.Input((5, 3)), L.Bidirectional(L.SimpleRNN(4))])
    assert measure.count_macs(bi) == 2 * 5 * (3 * 4 + 4 * 4)
    conv = keras.Sequential([keras.Input((3, 6, 6, 2)), L.ConvLSTM2D(4, 3)])
    # 3 steps x 4x4 output positions x 4 gates x (3*3*2 inputs x 4 + 3*3*4 recurrent x 4)
    assert measure.count_macs(conv) == 3 * 16 * (3 * 3 * 2 * 16 + 3 * 3 * 4 * 16)


@pytest.mark.parametrize("cls", [L.Attention, L.AdditiveAttention])
def test_dense_attention_counts_scores_and_weighted_sum(cls):
    q, v = keras.Input((5, 6)), keras.Input((7, 6))
    model = keras.Model([q, v], cls()([q, v]))
    assert measure.count_macs(model) == 5 * 7 * 6 + 5 * 7 * 6


def test_dot_and_locally_connected():
    a, b = keras.Input((6,)), keras.Input((6,))
    assert measure.count_macs(keras.Model([a, b], L.Dot(axes=1)([a, b]))) == 6
    lc = keras.Sequential([keras.Input((8, 3)), L.LocallyConnected1D(5, 3)])
    assert measure.count_macs(lc) == 6 * 5 * 3 * 3


# ------------------------------------------------------------------ no layer silently 0


def _exported_layer_classes():
    classes = {}
    for module in (keras.layers, keras.layers.experimental, keras.layers.experimental.preprocessing):
        for name in dir(module):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, keras.layers.Layer):
                classes[obj.__name__] = obj
    return classes


# Classes that are warned about (and listed by uncounted_layers): their cost depends on code
# effcourse cannot see. Everything else must be counted, free or a container.
WARNED = {"Layer", "Lambda", "AbstractRNNCell", "PreprocessingLayer", "DenseFeatures"}


def _kind_of_class(cls):
    layer = object.__new__(cls)
    if "RNN" in [c.__name__ for c in cls.__mro__]:
        object.__setattr__(layer, "cell", object.__new__(L.LSTMCell))
    return counting.layer_kind(layer)


def test_every_exported_layer_class_is_counted_free_container_or_warned():
    classes = _exported_layer_classes()
    assert len(classes) > 100, "the enumeration found too few layer classes"
    kinds = {name: _kind_of_class(cls) for name, cls in classes.items()}
    unknown = {name for name, kind in kinds.items() if kind == "unknown"}
    assert unknown == WARNED, f"classes neither counted, free nor containers: {sorted(unknown - WARNED)}"
    # the ones that compute must have a formula, never the free list
    for name in [
        "Dense", "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
        "EinsumDense", "MultiHeadAttention", "Attention", "AdditiveAttention", "LSTM", "GRU", "SimpleRNN",
        "RNN", "LSTMCell", "GRUCell", "SimpleRNNCell", "StackedRNNCells", "ConvLSTM1D", "ConvLSTM2D",
        "ConvLSTM3D", "Dot", "LocallyConnected1D", "LocallyConnected2D", "RandomFourierFeatures",
    ]:  # fmt: skip
        assert kinds[name] == "counted", name
    for name in ["Bidirectional", "TimeDistributed", "Wrapper", "SpectralNormalization"]:
        assert kinds[name] == "container", name


def test_a_subclass_that_overrides_call_is_not_free():
    class Scaled(L.Dropout):  # inherits from a free class, but computes
        def call(self, x, training=None):
            return x * 3.0

    class Quiet(L.Dropout):  # inherits call: still free
        pass

    assert counting.layer_kind(Scaled(0.1)) == "unknown"
    assert counting.layer_kind(Quiet(0.1)) == "free"


def test_rnn_of_an_unknown_cell_is_warned_about():
    class MyCell(L.Layer):
        state_size = 4

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 4))

        def call(self, x, states):
            return x @ self.w, states

    model = keras.Sequential([keras.Input((3, 2)), L.RNN(MyCell())])
    assert set(measure.uncounted_layers(model).values()) == {"MyCell"}
    with pytest.warns(measure.UncountedLayerWarning, match="MyCell"):
        measure.count_macs(model)


def test_uncounted_layers_writes_nothing(capfd):
    model = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Lambda(lambda x: x * 2, name="double")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert measure.uncounted_layers(model) == {"double": "Lambda"}
    assert capfd.readouterr().err == ""
    assert measure.uncounted_layers(keras.Sequential([keras.Input((4,)), L.Dense(3)])) == {}
