"""effcourse.embeddings: skip-gram pairs (exact positives, negatives ~ counts**0.75), subsampling, SGNS, encode."""

import numpy as np
import pytest

import effcourse

effcourse.setup(seed=0)
from effcourse import embeddings  # noqa: E402


def _positives(seqs, window):
    out = []
    for s in seqs:
        for i, c in enumerate(s):
            if c == 0:
                continue
            for j in range(max(0, i - window), min(len(s), i + window + 1)):
                if j != i and s[j] != 0:
                    out.append((c, s[j]))
    return out


def test_positives_are_exact_in_order_and_never_cross_documents():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 9, size=n) for n in (7, 0, 1, 12)]
    for window in (1, 2, 3):
        c, x, n = embeddings.skipgram_pairs(seqs, np.arange(9) + 1.0, window_size=window, num_negatives=3, seed=1)
        assert list(zip(c.tolist(), x.tolist())) == _positives([s.tolist() for s in seqs], window)
        assert c.dtype == x.dtype == n.dtype == np.int32 and n.shape == (c.size, 3)


def test_negatives_follow_counts_to_the_three_quarters_and_never_padding():
    counts = np.array([1000.0, 1, 16, 81, 256])
    seq = [np.array([1, 2, 3, 4] * 500)]
    _, _, n = embeddings.skipgram_pairs(seq, counts, window_size=2, num_negatives=5, seed=3)
    freq = np.bincount(n.ravel(), minlength=5) / n.size
    assert freq[0] == 0
    np.testing.assert_allclose(freq[1:], np.array([1, 8, 27, 64]) / 100, atol=0.01)


def test_deterministic_for_a_seed_and_inputs_unchanged():
    seqs = [np.array([3, 1, 2, 0, 2])]
    counts = np.array([0.0, 2, 2, 1])
    before = seqs[0].copy(), counts.copy()
    a = embeddings.skipgram_pairs(seqs, counts, window_size=2, num_negatives=4, seed=7)
    b = embeddings.skipgram_pairs(seqs, counts, window_size=2, num_negatives=4, seed=7)
    c = embeddings.skipgram_pairs(seqs, counts, window_size=2, num_negatives=4, seed=8)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[2], c[2])
    assert np.array_equal(seqs[0], before[0]) and np.array_equal(counts, before[1])


def test_empty_and_no_negatives():
    c, x, n = embeddings.skipgram_pairs([[0, 0], [5]], np.ones(6), window_size=2, num_negatives=2, seed=0)
    assert c.shape == x.shape == (0,) and n.shape == (0, 2)
    c, x, n = embeddings.skipgram_pairs([[1, 2]], np.ones(3), window_size=1, num_negatives=0, seed=0)
    assert n.shape == (2, 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(window_size=0, num_negatives=1), "window_size"),
        (dict(window_size=1, num_negatives=-1), "num_negatives"),
        (dict(window_size=1.5, num_negatives=1), "window_size"),
    ],
)
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        embeddings.skipgram_pairs([[1, 2]], np.ones(3), seed=0, **kwargs)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="outside"):
        embeddings.skipgram_pairs([[1, 9]], np.ones(3), window_size=1, num_negatives=1, seed=0)
    with pytest.raises(ValueError, match="list of 1-D"):
        embeddings.skipgram_pairs(np.array([1, 2]), np.ones(3), window_size=1, num_negatives=1, seed=0)
    with pytest.raises(ValueError, match="non-negative"):
        embeddings.skipgram_pairs([[1, 2]], np.array([1.0, -1, 1]), window_size=1, num_negatives=1, seed=0)
    with pytest.raises(ValueError, match="nothing to draw"):
        embeddings.skipgram_pairs([[1, 2]], np.array([5.0, 0, 0]), window_size=1, num_negatives=1, seed=0)


def test_subsample_keeps_rare_words_and_thins_frequent_ones():
    counts = np.array([0.0, 9900, 100])
    seq = np.array([1] * 9900 + [2] * 100)
    out = embeddings.subsample([seq], counts, threshold=0.02, seed=0)[0]
    assert (out == 2).sum() == 100
    assert abs((out == 1).sum() / 9900 - np.sqrt(0.02 / 0.99)) < 0.02
    with pytest.raises(ValueError, match="threshold"):
        embeddings.subsample([seq], counts, threshold=0)


def test_sgns_learns_co_occurrence():
    # two groups of words that only co-occur within their group
    rng = np.random.default_rng(0)
    seqs = [rng.integers(2, 6, size=30) for _ in range(40)] + [rng.integers(6, 10, size=30) for _ in range(40)]
    counts = np.bincount(np.concatenate(seqs), minlength=10).astype(float)
    c, x, n = embeddings.skipgram_pairs(seqs, counts, window_size=2, num_negatives=4, seed=0)
    e = embeddings.train_sgns(c, x, n, 10, dim=8, epochs=5, batch_size=256, learning_rate=0.05, seed=0)
    assert e.shape == (10, 8) and e.dtype == np.float32
    near = [i for i, _ in embeddings.nearest_neighbours(e, 2, k=3, exclude=(0, 1))]
    assert set(near) == {3, 4, 5}
    with pytest.raises(ValueError, match="ids must lie"):
        embeddings.train_sgns(c, x, n, 5)
    with pytest.raises(ValueError, match="no pairs"):
        embeddings.train_sgns(c[:0], x[:0], n[:0], 10)


def test_nearest_neighbours_and_projection():
    e = np.array([[0, 0], [1, 0], [0.9, 0.1], [0, 1]], np.float32)
    got = embeddings.nearest_neighbours(e, 1, k=2)
    assert [i for i, _ in got] == [2, 3] and got[0][1] == pytest.approx(0.9 / np.hypot(0.9, 0.1))
    with pytest.raises(ValueError, match="query"):
        embeddings.nearest_neighbours(e, 9)
    p = embeddings.project_2d(np.random.default_rng(0).normal(size=(20, 5)))
    assert p.shape == (20, 2) and np.allclose(p.mean(axis=0), 0)
    assert np.var(p[:, 0]) >= np.var(p[:, 1])
    with pytest.raises(ValueError, match="n >= 2"):
        embeddings.project_2d(np.ones((1, 3)))


def test_encode_by_vocabulary_and_by_hashing():
    assert embeddings.encode(["B a z", "a"], ["a", "b"], length=2).tolist() == [[3, 2], [2, 0]]
    hashed = embeddings.encode(["market market oil"], num_buckets=8, length=4)
    assert hashed[0, 0] == hashed[0, 1] == embeddings.hash_bucket("market", 8) and hashed[0, 3] == 0
    assert 1 <= hashed[0, 2] <= 8
    with pytest.raises(ValueError, match="exactly one"):
        embeddings.encode(["a"], ["a"], num_buckets=4, length=2)
    with pytest.raises(ValueError, match="num_buckets"):
        embeddings.hash_bucket("a", 0)


def test_windows_longer_than_the_documents():
    # a window wider than a document (offset >= its length) adds no pair and no out-of-range index
    seqs = [np.array([3, 4]), np.array([5, 0, 6]), np.array([7])]
    for window in (2, 3, 5, 8):
        c, x, _ = embeddings.skipgram_pairs(seqs, np.ones(8), window_size=window, num_negatives=1, seed=0)
        assert list(zip(c.tolist(), x.tolist())) == _positives([s.tolist() for s in seqs], window)


def test_reduce_dim_keeps_the_largest_variance_first():
    rng = np.random.default_rng(1)
    e = rng.normal(size=(50, 6)) * np.array([5.0, 3, 1, 0.5, 0.2, 0.1])
    r = embeddings.reduce_dim(e, 3)
    assert r.shape == (50, 3) and r.dtype == np.float32
    v = r.var(axis=0)
    assert v[0] >= v[1] >= v[2] and abs(v[0] - 25) < 10
    np.testing.assert_allclose(embeddings.project_2d(e), embeddings.reduce_dim(e, 2), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="dim"):
        embeddings.reduce_dim(e, 7)
