"""effcourse.contrastive: encoder, augmentations, NT-Xent, pretraining, classifier, shipped weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from effcourse import contrastive  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results" / "ch06_advanced_learning" / "01_contrastive_learning.json"


def _reference(u, v, tau):
    """float64 NumPy NT-Xent, one anchor at a time."""
    z = np.concatenate([u, v]).astype(np.float64)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    n2 = len(z)
    sims = z @ z.T / tau
    total = 0.0
    for i in range(n2):
        others = np.delete(sims[i], i)
        m = others.max()
        total += -sims[i, (i + n2 // 2) % n2] + m + np.log(np.exp(others - m).sum())
    return total / n2


def test_encoder_and_head_shapes():
    encoder = contrastive.build_encoder()
    assert encoder.output_shape == (None, contrastive.FILTERS[-1])
    head = contrastive.build_projection_head()
    assert head.output_shape == (None, contrastive.EMBEDDING_DIM)
    assert contrastive.build_encoder((4, 8)).output_shape == (None, 8)
    with pytest.raises(ValueError, match="filters"):
        contrastive.build_encoder([])
    with pytest.raises(ValueError, match="sizes"):
        contrastive.build_projection_head(0)


def test_augment_is_seeded_in_range_and_varies():
    x = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    a = contrastive.augment(x, tf.random.Generator.from_seed(1)).numpy()
    b = contrastive.augment(x, tf.random.Generator.from_seed(1)).numpy()
    assert a.shape == x.shape and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    v1, v2 = contrastive.two_views(x, seed=1)
    assert not np.allclose(v1.numpy(), v2.numpy())
    # float input in [0, 1] is the same as uint8
    c = contrastive.augment(x.astype(np.float32) / 255, tf.random.Generator.from_seed(1)).numpy()
    np.testing.assert_allclose(a, c, atol=1e-5)
    # no crop, no flip draw can change a constant image's size; jitter off keeps a grey image grey
    grey = np.full((2, 32, 32, 3), 128, np.uint8)
    out = contrastive.augment(grey, tf.random.Generator.from_seed(0), jitter=0.0, grayscale_p=0.0).numpy()
    np.testing.assert_allclose(out, 128 / 255, atol=1e-5)
    with pytest.raises(ValueError, match="RGB|images"):
        contrastive.augment(np.zeros((2, 32, 32)), tf.random.Generator.from_seed(0))
    with pytest.raises(ValueError, match="range"):
        contrastive.augment(x, tf.random.Generator.from_seed(0), min_area=0.0)


@pytest.mark.parametrize("n,d,tau", [(2, 3, 0.5), (5, 8, 0.1), (16, 32, 1.0), (4, 4, 0.02)])
def test_nt_xent_matches_numpy_reference(n, d, tau):
    rng = np.random.default_rng(n * 100 + d)
    u = rng.normal(size=(n, d)) * rng.uniform(0.1, 50, (n, 1))
    v = u + rng.normal(size=(n, d))
    loss = contrastive.nt_xent_loss(u.astype(np.float32), v.astype(np.float32), tau)
    assert isinstance(loss, tf.Tensor) and loss.shape == ()
    np.testing.assert_allclose(float(loss), _reference(u, v, tau), rtol=2e-4, atol=1e-5)


def test_nt_xent_examples_stability_and_gradient():
    eye = np.eye(2, dtype=np.float32)
    assert float(contrastive.nt_xent_loss(eye, eye, 1.0)) == pytest.approx(np.log(1 + 2 / np.e), rel=1e-5)
    big = float(contrastive.nt_xent_loss(1000 * eye, 1000 * eye[::-1], 0.01))
    assert big == pytest.approx(np.log(2 + np.exp(100.0)), rel=1e-5)
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    vu = tf.Variable(u.astype(np.float32))
    with tf.GradientTape() as tape:
        loss = contrastive.nt_xent_loss(vu, v.astype(np.float32), 0.3)
    grad = tape.gradient(loss, vu).numpy()
    numeric = np.zeros_like(u)
    for i in np.ndindex(u.shape):
        p, m = u.copy(), u.copy()
        p[i] += 1e-6
        m[i] -= 1e-6
        numeric[i] = (_reference(p, v, 0.3) - _reference(m, v, 0.3)) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="N >= 2"):
        contrastive.nt_xent_loss(np.ones((1, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="temperature"):
        contrastive.nt_xent_loss(eye, eye, 0.0)


def test_short_pretraining_lowers_the_loss():
    """The issue's test: a short pretraining run, the loss falls (mean of the last steps < first)."""
    from effcourse import data

    (x, _), _ = data.load("images")
    x = x[:1024]
    tf.keras.utils.set_random_seed(0)
    encoder, head = contrastive.build_encoder(), contrastive.build_projection_head()
    losses = contrastive.pretrain(
        encoder, head, x, loss_fn=contrastive.nt_xent_loss, num_steps=30, batch_size=128, seed=0, progress=False
    )
    assert len(losses) == 30 and all(np.isfinite(losses))
    assert np.mean(losses[-4:]) < np.mean(losses[:4]) - 0.05
    with pytest.raises(ValueError, match="batch_size"):
        contrastive.pretrain(encoder, head, x[:10], loss_fn=contrastive.nt_xent_loss, num_steps=1, batch_size=64)
    with pytest.raises(ValueError, match="num_steps"):
        contrastive.pretrain(encoder, head, x, loss_fn=contrastive.nt_xent_loss, num_steps=0)


def test_train_classifier_keeps_the_best_validation_epoch():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 40)
    model, history = contrastive.train_classifier(
        contrastive.build_encoder((4, 8)), x[:30], y[:30], x[30:], y[30:], num_epochs=3, seed=0
    )
    assert len(history) == 3
    val = float(np.mean(contrastive.predict_classes(model, x[30:]) == y[30:]))
    assert val == pytest.approx(max(history))
    assert contrastive.predict_classes(model, x).shape == (40,)
    with pytest.raises(ValueError, match="lengths"):
        contrastive.train_classifier(contrastive.build_encoder((4,)), x, y[:3], x, y, num_epochs=1)


def test_save_and_load_round_trip_and_errors(tmp_path):
    encoder = contrastive.build_encoder((4, 8))
    path = contrastive.save_encoder(encoder, tmp_path / "enc.npz", info={"steps": 3})
    loaded = contrastive.load_encoder(path)
    assert loaded.effcourse_info == {"steps": 3}
    x = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(contrastive.features(loaded, x), contrastive.features(encoder, x))
    with pytest.raises(FileNotFoundError, match="pretrain_simclr"):
        contrastive.load_encoder(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not an encoder"):
        contrastive.load_encoder(tmp_path / "other.npz")
    with np.load(path) as f:
        items = dict(f)
    items["w0"] = np.zeros((5, 5, 3, 4), np.float32)
    np.savez(tmp_path / "bad.npz", **items)
    with pytest.raises(ValueError, match="do not fit"):
        contrastive.load_encoder(tmp_path / "bad.npz")


def test_shipped_weights_are_package_data():
    assert contrastive.WEIGHTS_PATH.is_file(), "run scripts/pretrain_simclr.py"
    assert contrastive.WEIGHTS_PATH.stat().st_size < 500_000
    text = (ROOT / "pyproject.toml").read_text()
    assert "weights/*.npz" in text


def test_shipped_weights_reproduce_the_recorded_linear_probe():
    """The issue's test: the shipped encoder loads and gives the recorded probe accuracy (the
    notebook's split and its chosen C; the logistic regression is deterministic)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from effcourse import data

    recorded = json.loads(RESULTS.read_text())
    encoder = contrastive.load_encoder()
    info = encoder.effcourse_info
    assert info["script"] == "scripts/pretrain_simclr.py" and info["steps"] >= 1000
    assert info["last_loss_mean_of_50"] < info["first_loss"] - 1.0
    (x_train, y_train), (x_test, y_test) = data.load("images")
    y_train, y_test = y_train.ravel(), y_test.ravel()
    rng = np.random.default_rng(0)
    labelled = [rng.choice(np.flatnonzero(y_train == c), 50, replace=False) for c in range(10)]
    train_idx = np.concatenate([idx[10:] for idx in labelled])
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=recorded["probe_c"], max_iter=2000))
    probe.fit(contrastive.features(encoder, x_train[train_idx]), y_train[train_idx])
    accuracy = float(np.mean(probe.predict(contrastive.features(encoder, x_test)) == y_test))
    assert accuracy == pytest.approx(recorded["linear_probe_accuracy"], abs=0.005)
