"""effcourse.pruning: prune / callbacks / strip around tfmot, on a model no notebook uses."""

import numpy as np
import pytest

from effcourse import measure, pruning
from effcourse.compat import keras

L = keras.layers


def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([L.Input((6,)), L.Dense(16, activation="relu"), L.Dense(16, activation="tanh"), L.Dense(2)])


def test_prune_reaches_the_target_sparsity_and_strip_removes_the_wrappers():
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    pruned_model = pruning.prune(model, 0.75, end_step=8, frequency=2)
    pruned_model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pruned_model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=pruning.callbacks())
    stripped = pruning.strip(pruned_model)
    assert [type(layer) for layer in stripped.layers] == [type(layer) for layer in model.layers]
    for layer in stripped.layers:
        assert np.mean(layer.kernel.numpy() == 0) == pytest.approx(0.75, abs=0.02)
    assert measure.sparsity(stripped) == pytest.approx(0.75, abs=0.02)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "prune changed its input"


def test_fit_without_the_callback_raises():
    pruned_model = pruning.prune(_model(), 0.5, end_step=4)
    pruned_model.compile("adam", "mse")
    with pytest.raises(Exception, match="UpdatePruningStep"):
        pruned_model.fit(np.zeros((4, 6)), np.zeros((4, 2)), verbose=0)


def test_clear_errors():
    model = _model()
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        pruning.prune(model, 1.0, end_step=10)
    with pytest.raises(ValueError, match="begin_step < end_step"):
        pruning.prune(model, 0.5, end_step=5, begin_step=5)
    with pytest.raises(ValueError, match="initial_sparsity"):
        pruning.prune(model, 0.5, end_step=5, initial_sparsity=0.6)
    with pytest.raises(ValueError, match="frequency"):
        pruning.prune(model, 0.5, end_step=5, frequency=0)
    with pytest.raises(TypeError, match="integer"):
        pruning.prune(model, 0.5, end_step=5.0)
    with pytest.raises(TypeError, match="number"):
        pruning.prune(model, "0.5", end_step=5)

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(TypeError, match="subclassed"):
        pruning.prune(Subclassed(), 0.5, end_step=5)
    with pytest.raises(TypeError, match="tf_keras model"):
        pruning.strip(object())
    with pytest.raises(ValueError, match="build the model"):
        pruning.prune(keras.Sequential([L.Dense(2)]), 0.5, end_step=5)
