"""Unit tests of effcourse.augmentation (images: mixup, cutout, cutmix, layers, batches; text: EDA)."""

from __future__ import annotations

import numpy as np
import pytest

from effcourse import augmentation as aug
from effcourse import sealed


def _batch(n=8, size=8, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 1.0, (n, size, size, channels)).astype(np.float32)


def test_mixup_mixes_images_and_labels_alike_without_touching_inputs():
    x, y = _batch(10), np.eye(10, dtype=np.float32)
    x0, y0 = x.copy(), y.copy()
    xm, ym = aug.mixup(x, y, 0.4, seed=3)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    assert xm.dtype == ym.dtype == np.float32 and xm.shape == x.shape and ym.shape == y.shape
    np.testing.assert_allclose(ym.sum(axis=1), 1.0, atol=1e-6)
    for i in range(10):
        lam = ym[i, i]
        others = np.flatnonzero((ym[i] > 0) & (np.arange(10) != i))
        j = int(others[0]) if len(others) else i
        np.testing.assert_allclose(xm[i], lam * x[i] + (1 - lam) * x[j], atol=1e-5)
    np.testing.assert_array_equal(aug.mixup(x, y, 0.4, seed=3)[0], xm)


def test_mixup_lambda_follows_beta():
    lams = []
    for s in range(100):
        _, ym = aug.mixup(_batch(10, 2), np.eye(10), 0.2, seed=s)
        lams += list(np.diag(ym))
    lams = np.asarray(lams)
    assert abs(np.mean(lams * (1 - lams)) - 0.9 * 0.2 / (2 * 1.4)) < 0.02


def test_mixup_accepts_a_generator_and_rejects_bad_input():
    rng = np.random.default_rng(0)
    a = aug.mixup(_batch(4), np.eye(4), 1.0, rng)[0]
    b = aug.mixup(_batch(4), np.eye(4), 1.0, rng)[0]
    assert not np.array_equal(a, b)  # the generator advanced
    with pytest.raises(ValueError, match="alpha"):
        aug.mixup(_batch(4), np.eye(4), 0.0, 0)
    with pytest.raises(ValueError, match="one-hot"):
        aug.mixup(_batch(4), np.eye(3), 0.2, 0)
    with pytest.raises(ValueError, match="floats"):
        aug.mixup(np.zeros((2, 4, 4, 3), np.uint8), np.eye(2), 0.2, 0)
    with pytest.raises(ValueError, match="seed"):
        aug.mixup(_batch(4), np.eye(4), 0.2, -1)


@pytest.mark.parametrize("size", [1, 3, 4, 8])
def test_cutout_blanks_one_clipped_square_per_image(size):
    x = _batch(200, 8)
    x0 = x.copy()
    out = aug.cutout(x, size, seed=1, fill=0.0)
    np.testing.assert_array_equal(x, x0)
    changed = (out != x).any(axis=-1)
    assert np.all(out[changed] == 0.0)
    for i in range(len(x)):
        rows, cols = np.flatnonzero(changed[i].any(1)), np.flatnonzero(changed[i].any(0))
        assert (size + 1) // 2 <= len(rows) <= size and (size + 1) // 2 <= len(cols) <= size
        assert changed[i].sum() == len(rows) * len(cols)
    assert changed.any(axis=(0, 2)).all()  # the squares reach every row


def test_cutout_fill_and_errors():
    out = aug.cutout(_batch(4), 3, seed=0, fill=0.5)
    assert np.any(out == 0.5)
    with pytest.raises(ValueError, match="size"):
        aug.cutout(_batch(4), 9, seed=0)
    with pytest.raises(ValueError, match="batch"):
        aug.cutout(np.zeros((8, 8, 3), np.float32), 3, seed=0)


def test_cutmix_labels_follow_pasted_area():
    x, y = _batch(6), np.eye(6, dtype=np.float32)
    xm, ym = aug.cutmix(x, y, 1.0, seed=2)
    np.testing.assert_allclose(ym.sum(axis=1), 1.0, atol=1e-6)
    for i in range(6):
        from_partner = (xm[i] != x[i]).any(axis=-1).mean()
        assert ym[i, i] <= 1.0 and (from_partner == 0 or ym[i, i] <= 1 - from_partner + 1e-6)


def test_preprocessing_pipeline_is_identity_at_inference():
    layers = aug.preprocessing_pipeline(rotation=0.5, translation=0.1, zoom=0.1, contrast=0.1, seed=0)
    names = [layer.__class__.__name__ for layer in layers.layers]
    assert names == ["RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast"]
    x = _batch(2)
    np.testing.assert_allclose(layers(x, training=False).numpy(), x)
    assert not np.allclose(layers(x, training=True).numpy(), x)
    with pytest.raises(ValueError, match="rotation"):
        aug.preprocessing_pipeline(rotation=-1)


def test_batches_cover_an_epoch_and_apply_transform():
    x, y = np.arange(10, dtype=np.float32)[:, None], np.arange(10)
    it = aug.batches(x, y, 4, seed=0, transform=lambda xb, yb, rng: (xb * 2, yb))
    epoch = [next(it) for _ in range(3)]
    assert sorted(np.concatenate([b[1] for b in epoch]).tolist()) == list(range(10))
    assert all(np.array_equal(b[0][:, 0], 2 * b[1]) for b in epoch)
    with pytest.raises(ValueError, match="same length"):
        aug.batches(x, y[:3], 4, seed=0)


TABLE = {"match": ["game", "final"], "game": ["match"], "shares": ["stocks"]}


def test_synonym_replacement_counts_and_purity():
    words = ["the", "match", "and", "game", "and", "shares"] * 5
    before = list(words)
    out = aug.synonym_replacement(words, TABLE, 0.1, seed=4)
    assert words == before and len(out) == len(words)
    changed = [i for i in range(len(words)) if out[i] != words[i]]
    assert len(changed) == aug.num_edits(len(words), 0.1) == 3
    assert all(out[i] in TABLE[words[i]] for i in changed)
    assert aug.synonym_replacement(words, TABLE, 0.1, seed=4) == out
    assert aug.synonym_replacement(["x"], TABLE, 0.5, seed=0) == ["x"]
    with pytest.raises(TypeError, match="list of words"):
        aug.synonym_replacement("the match", TABLE, 0.1, 0)


def test_random_insertion_adds_synonyms_and_keeps_order():
    words = ["a", "match", "b", "shares", "c"] * 4
    out = aug.random_insertion(words, TABLE, 0.1, seed=1)
    assert len(out) == len(words) + 2
    rest = iter(out)
    assert all(any(w == v for v in rest) for w in words)
    assert aug.random_insertion(["x", "y"], TABLE, 0.5, seed=1) == ["x", "y"]


def test_random_swap_and_deletion():
    words = [f"w{i}" for i in range(12)]
    out = aug.random_swap(words, 0.05, seed=0)
    assert sorted(out) == sorted(words) and sum(a != b for a, b in zip(out, words)) == 2
    assert aug.random_swap(["solo"], 0.5, 0) == ["solo"]
    long_words = [f"w{i}" for i in range(3000)]
    kept = aug.random_deletion(long_words, 0.2, seed=0)
    assert 0.17 < 1 - len(kept) / 3000 < 0.23
    assert aug.random_deletion(words, 1.0, seed=0)[0] in words and len(aug.random_deletion(words, 1.0, 0)) == 1
    assert aug.random_deletion(words, 0.0, seed=0) == words
    with pytest.raises(ValueError, match="p must"):
        aug.random_deletion(words, 1.5, 0)
    with pytest.raises(ValueError, match="empty"):
        aug.random_deletion([], 0.5, 0)


def test_synonym_table_finds_topic_neighbours():
    rng = np.random.default_rng(0)
    sport, money, common = ["goal", "match", "win", "coach"], ["bank", "oil", "stocks", "profit"], ["the", "a", "of"]
    docs = [list(rng.choice(sport if i % 2 else money, 6)) + common for i in range(200)]
    table = aug.synonym_table(docs, rank=2, min_count=1, max_document_frequency=0.6)
    assert set(table["goal"]) <= set(sport) - {"goal"}
    assert set(table["bank"]) <= set(money) - {"bank"}
    assert "the" not in table and all("the" not in v for v in table.values())
    with pytest.raises(ValueError, match="empty"):
        aug.synonym_table([])


def test_graded_functions_are_registered_sealed_leaves():
    ids = {k.split(":")[1]: v for k, v in sealed.REGISTRY.items() if k.startswith("effcourse.augmentation:")}
    assert ids == {
        "mixup": "ch03_learning_techniques/01_image_augmentation:mixup",
        "cutout": "ch03_learning_techniques/01_image_augmentation:cutout",
        "synonym_replacement": "ch03_learning_techniques/02_text_augmentation:eda_synonyms",
        "random_insertion": "ch03_learning_techniques/02_text_augmentation:eda_synonyms",
        "random_swap": "ch03_learning_techniques/02_text_augmentation:eda_order",
        "random_deletion": "ch03_learning_techniques/02_text_augmentation:eda_order",
    }
