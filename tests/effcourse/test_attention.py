"""effcourse.attention: scaled dot-product attention (masks, axes, no mutation) and AttentionPooling."""

import warnings

import numpy as np
import pytest

import effcourse

effcourse.setup(seed=0)
from effcourse import attention, measure, sealed  # noqa: E402
from effcourse.compat import keras, tf  # noqa: E402


def _reference(q, k, v, mask=None):
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    keep = np.ones(s.shape, bool) if mask is None else np.broadcast_to(np.asarray(mask).astype(bool), s.shape)
    s = np.where(keep, s, -np.inf)
    top = s.max(axis=-1, keepdims=True)
    e = np.where(keep, np.exp(s - np.where(np.isfinite(top), top, 0.0)), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    w = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return w @ v, w


def test_is_the_registered_reference_of_the_exercise():
    assert sealed.REGISTRY["effcourse.attention:scaled_dot_product_attention"] == (
        "ch04_efficient_architectures/02_attention:attention"
    )


@pytest.mark.parametrize("lead", [(), (3,), (2, 4), (1, 2, 3)])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_the_formula_over_batch_and_head_axes(lead, masked):
    rng = np.random.default_rng(len(lead))
    q = rng.normal(0, 2, (*lead, 5, 4)).astype(np.float32)
    k = rng.normal(0, 2, (*lead, 7, 4)).astype(np.float32)
    v = rng.normal(size=(*lead, 7, 3)).astype(np.float32)
    mask = None
    if masked:
        mask = rng.random((5, 7)) < 0.5
        mask[0] = False
        mask[1] = True
    before = [a.copy() for a in (q, k, v)]
    out, w = attention.scaled_dot_product_attention(q, k, v, mask=mask)
    ref_out, ref_w = _reference(q, k, v, mask)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-4, atol=1e-5)
    for a, b in zip((q, k, v), before):
        np.testing.assert_array_equal(a, b)


def test_fully_masked_queries_get_zeros_and_masked_keys_exactly_zero():
    q = np.ones((2, 3, 4), np.float32)
    out, w = attention.scaled_dot_product_attention(q, q, np.ones((2, 3, 5), np.float32), mask=np.zeros((3, 3), bool))
    assert np.all(out.numpy() == 0) and np.all(w.numpy() == 0)
    _, w = attention.scaled_dot_product_attention(q, q, q, mask=np.array([1, 0, 1], np.float32))
    assert np.all(w.numpy()[..., 1] == 0)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-6)


def test_the_docstring_example():
    q = np.ones((1, 2, 4), np.float32)
    k = np.ones((1, 3, 4), np.float32)
    v = np.arange(6, dtype=np.float32).reshape(1, 3, 2)
    out, w = attention.scaled_dot_product_attention(q, k, v, mask=np.array([True, True, False]))
    assert w.numpy()[0, 0].tolist() == [0.5, 0.5, 0.0]
    assert out.numpy()[0, 0].tolist() == [1.0, 2.0]


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match="same last dimension"):
        attention.scaled_dot_product_attention(np.ones((2, 4)), np.ones((3, 5)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="same number of positions"):
        attention.scaled_dot_product_attention(np.ones((2, 4)), np.ones((3, 4)), np.ones((5, 2)))


def _pooling_model(length=6, units=8):
    ids = keras.Input((length,), dtype="int64")
    h = keras.layers.Embedding(10, units, mask_zero=True)(ids)
    pooled, weights = attention.AttentionPooling()(h, return_attention_scores=True)
    return keras.Model(ids, [pooled, weights]), keras.Model(ids, h)


def test_pooling_is_a_masked_weighted_average_with_a_learned_scaled_query():
    model, embed = _pooling_model()
    x = np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6]])
    pooled, weights = model.predict(x, verbose=0)
    h = embed.predict(x, verbose=0)
    layer = next(layer for layer in model.layers if isinstance(layer, attention.AttentionPooling))
    q = layer.score.kernel.numpy()[:, 0]
    scores = h @ q / np.sqrt(h.shape[-1])
    scores[0, 3:] = -np.inf
    expected = np.exp(scores - scores.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(weights, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(pooled, np.einsum("bt,btd->bd", expected, h), rtol=1e-5, atol=1e-6)
    assert weights[0, 3:].sum() == 0.0


def test_pooling_is_counted_converts_and_rejects_bad_inputs():
    ids = keras.Input((6,), dtype="int64")
    h = keras.layers.GRU(8, return_sequences=True)(keras.layers.Embedding(10, 4, mask_zero=True)(ids))
    model = keras.Model(ids, keras.layers.Dense(3)(attention.AttentionPooling()(h)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no UncountedLayerWarning: the pooling is counted
        by_layer = measure.macs_by_layer(model)
    pooling = {k: v for k, v in by_layer.items() if k.startswith("attention_pooling")}
    assert sum(pooling.values()) == 2 * 6 * 8  # 2 T d
    from effcourse.deploy import tflite

    x = np.array([[3, 4, 5, 0, 0, 0]])
    np.testing.assert_allclose(
        measure.tflite_predict(tflite.convert(model), x), model.predict(x, verbose=0), rtol=1e-4, atol=1e-5
    )
    with pytest.raises(ValueError, match="batch, time, features"):
        attention.AttentionPooling()(tf.zeros((2, 3)))
