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


def _fit_pruned(model, x, y, target):
    pruned_model = pruning.prune(model, target, end_step=8, frequency=2)
    pruned_model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pruned_model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=pruning.callbacks())
    stripped = pruning.strip(pruned_model)
    # strip removes the wrappers, not the function: same outputs as the pruned model
    assert np.allclose(stripped(x[:8]).numpy(), pruned_model(x[:8], training=False).numpy(), atol=1e-5)
    return stripped


def test_prune_a_residual_block_and_strip_it():
    keras.utils.set_random_seed(0)
    inputs = L.Input((8, 8, 3))
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inputs)
    y = L.Conv2D(8, 3, padding="same", activation="relu", name="branch")(x)
    x = L.Add(name="residual")([x, y])
    x = L.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, L.Dense(2, name="out")(x))
    rng = np.random.default_rng(0)
    images = rng.normal(size=(64, 8, 8, 3)).astype("float32")
    labels = (images[..., 0].mean(axis=(1, 2)) > 0).astype("int64")
    stripped = _fit_pruned(model, images, labels, 0.6)
    assert [type(layer) for layer in stripped.layers] == [type(layer) for layer in model.layers]
    for name in ("stem", "branch", "out"):
        kernel = stripped.get_layer(name).kernel.numpy()
        assert np.mean(kernel == 0) == pytest.approx(0.6, abs=0.05), name


def test_prune_an_lstm_and_strip_it():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([L.Input((5, 4)), L.LSTM(8, name="lstm"), L.Dense(2, name="out")])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 5, 4)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("int64")
    stripped = _fit_pruned(model, x, y, 0.5)
    lstm = stripped.get_layer("lstm")
    # tfmot prunes the LSTM's input kernel and its recurrent kernel, each to the target
    for weights in (lstm.cell.kernel.numpy(), lstm.cell.recurrent_kernel.numpy()):
        assert np.mean(weights == 0) == pytest.approx(0.5, abs=0.05)
    assert np.mean(stripped.get_layer("out").kernel.numpy() == 0) == pytest.approx(0.5, abs=0.07)
    assert type(lstm) is type(model.get_layer("lstm"))
