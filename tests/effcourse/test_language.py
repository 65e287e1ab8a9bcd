"""effcourse.language: BERT's masking, the encoder, its heads and the large-batch learning-rate schedule."""

from __future__ import annotations

import numpy as np
import pytest

from effcourse import language


def _ids(rng, batch=200, length=64, vocab=50):
    ids = rng.integers(1, vocab, size=(batch, length))
    lengths = rng.integers(length // 4, length + 1, size=batch)
    ids[np.arange(length)[None, :] >= lengths[:, None]] = 0  # padding at the end
    return ids


def test_mask_tokens_follows_berts_rates_and_never_touches_padding():
    rng = np.random.default_rng(0)
    ids = _ids(rng)
    before = ids.copy()
    inputs, labels, weights = language.mask_tokens(ids, mask_id=50, vocab_size=50, seed=3)
    np.testing.assert_array_equal(ids, before)  # not modified
    assert inputs.dtype == np.int32 and labels.dtype == np.int32 and weights.dtype == np.float32
    chosen = weights == 1
    real = ids != 0
    assert not (chosen & ~real).any()
    assert abs(chosen.sum() / real.sum() - 0.15) < 0.01
    masked = chosen & (inputs == 50)
    kept = chosen & (inputs == ids)
    swapped = chosen & ~masked & ~kept
    n = chosen.sum()
    assert abs(masked.sum() / n - 0.8) < 0.03
    # a random token equals the original 1 time in 49: "kept" is 0.1 + 0.1/49 of the chosen
    assert abs(kept.sum() / n - (0.1 + 0.1 / 49)) < 0.02
    assert abs(swapped.sum() / n - 0.1 * 48 / 49) < 0.02
    assert ((inputs[swapped] >= 1) & (inputs[swapped] < 50)).all()
    np.testing.assert_array_equal(labels[chosen], ids[chosen])
    assert (labels[~chosen] == 0).all()
    np.testing.assert_array_equal(inputs[~chosen], ids[~chosen])


def test_mask_tokens_is_deterministic_for_a_seed():
    ids = _ids(np.random.default_rng(1), batch=8)
    a = language.mask_tokens(ids, mask_id=50, vocab_size=50, seed=7)
    b = language.mask_tokens(ids, mask_id=50, vocab_size=50, seed=7)
    c = language.mask_tokens(ids, mask_id=50, vocab_size=50, seed=8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[2], c[2])


@pytest.mark.parametrize(
    ("ids", "kwargs", "match"),
    [
        (np.zeros(5, int), {}, "2-D integer"),
        (np.zeros((2, 3)), {}, "2-D integer"),
        (np.full((2, 3), 60), {}, "0..49"),
        (np.ones((2, 3), int), {"mask_rate": 1.5}, r"\[0, 1\]"),
        (np.ones((2, 3), int), {"vocab_size": 1}, ">= 2"),
    ],
)
def test_mask_tokens_rejects_bad_input(ids, kwargs, match):
    with pytest.raises(ValueError, match=match):
        language.mask_tokens(ids, **{"mask_id": 50, "vocab_size": 50, "seed": 0, **kwargs})


def test_encoder_ignores_padding_and_heads_have_the_right_shapes():
    from effcourse.compat import tf

    tf.keras.utils.set_random_seed(0)
    enc = language.bert_encoder(30, 10, dim=16, num_heads=2, num_layers=2, dropout=0.0)
    assert enc.output_shape == (None, 10, 16)
    a = np.array([[5, 6, 7, 8, 0, 0, 0, 0, 0, 0]], np.int32)
    b = np.array([[5, 6, 7, 8, 9, 9, 0, 0, 0, 0]], np.int32)  # two more real tokens
    short = enc(a, training=False).numpy()
    # the same real tokens with more padding: same vectors at the real positions
    a2 = a.copy()
    np.testing.assert_allclose(enc(a2, training=False).numpy()[0, :4], short[0, :4], atol=1e-6)
    assert not np.allclose(enc(b, training=False).numpy()[0, :4], short[0, :4], atol=1e-4)  # attention sees tokens
    assert language.mlm_model(enc, 30).output_shape == (None, 10, 30)
    clf = language.classifier(enc, 4)
    assert clf.output_shape == (None, 4)
    # mean pooling over real tokens only: padding after them changes nothing
    c = np.array([[5, 6, 7, 8, 0, 0, 0, 0, 0, 0]], np.int32)
    np.testing.assert_allclose(clf(c, training=False).numpy(), clf(a, training=False).numpy(), atol=1e-6)


def test_encoder_rejects_heads_that_do_not_divide_the_width():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        language.bert_encoder(30, 10, dim=10, num_heads=3)


def test_linear_scaling_with_warmup():
    lr = language.linear_scaling_with_warmup(0.01, 32, 256, warmup_steps=8)
    values = [float(lr(s)) for s in (0, 4, 8, 100)]
    assert values == pytest.approx([0.01, 0.01 + 0.07 * 0.5, 0.08, 0.08])
    assert float(language.linear_scaling_with_warmup(0.01, 32, 64, warmup_steps=0)(0)) == pytest.approx(0.02)
    with pytest.raises(ValueError, match="warmup_steps"):
        language.linear_scaling_with_warmup(0.01, 32, 64, warmup_steps=-1)
    with pytest.raises(ValueError, match="positive"):
        language.linear_scaling_with_warmup(0.0, 32, 64, warmup_steps=1)
