"""effcourse.clustering: kmeans_1d against brute force, cluster/strip on models no notebook uses (fast, CPU)."""

import numpy as np
import pytest

import effcourse

effcourse.setup(seed=0)
from effcourse import clustering, measure, sealed  # noqa: E402
from effcourse.compat import keras  # noqa: E402


def _lloyd(x, k):
    """Lloyd's algorithm from the linear start with a distance matrix (the specification, written plainly)."""
    x = np.ravel(np.asarray(x, dtype=np.float64))
    c = np.linspace(x.min(), x.max(), k)
    labels = np.argmin(np.abs(x[:, None] - c), axis=1)
    for _ in range(300):
        for j in range(k):
            if not np.any(labels == j):
                far = int(np.argmax((x - c[labels]) ** 2))
                c[j], labels[far] = x[far], j
        c = np.array([x[labels == j].mean() for j in range(k)])
        new = np.argmin(np.abs(x[:, None] - c), axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    return np.sort(c)


# ------------------------------------------------------------------------------------ kmeans_1d
def test_kmeans_1d_is_a_sealed_reference():
    assert sealed.REGISTRY["effcourse.clustering:kmeans_1d"] == "ch05_advanced_compression/01_clustering:kmeans_1d"


@pytest.mark.parametrize("seed", range(5))
def test_kmeans_1d_matches_plain_lloyd(seed):
    rng = np.random.default_rng(seed)
    x = [rng.normal(0, 0.1, 700), rng.exponential(1.0, 700), np.r_[rng.normal(0, 1, 300), rng.normal(50, 1, 50)]][
        seed % 3
    ]
    k = int(rng.integers(2, 17))
    centroids, labels = clustering.kmeans_1d(x, k)
    np.testing.assert_allclose(centroids, _lloyd(x, k), rtol=1e-12)
    assert centroids.dtype == np.float64 and labels.dtype == np.int64 and labels.shape == x.shape
    assert np.all(np.diff(centroids) > 0)
    np.testing.assert_array_equal(labels, np.argmin(np.abs(x[:, None] - centroids), axis=1))


def test_kmeans_1d_keeps_the_shape_and_the_input():
    x = np.random.default_rng(0).normal(size=(6, 7, 3)).astype(np.float32)
    before = x.copy()
    centroids, labels = clustering.kmeans_1d(x, 5)
    assert labels.shape == x.shape and centroids.shape == (5,)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(centroids[labels].mean(), x.astype(np.float64).mean(), rtol=1e-9)


def test_kmeans_1d_reseeds_empty_clusters():
    x = np.r_[np.random.default_rng(1).normal(0, 1, 300), np.full(100, 100.0)]
    centroids, labels = clustering.kmeans_1d(x, 4)
    assert np.all(np.bincount(labels, minlength=4) > 0)
    assert (centroids < 50).sum() == 3  # the three spare centroids went to the wide group


def test_kmeans_1d_max_iter_0_is_the_start():
    x = np.array([3.0, -1.0, 7.0, 0.5])
    np.testing.assert_allclose(clustering.kmeans_1d(x, 3, max_iter=0)[0], [-1.0, 3.0, 7.0])
    start = clustering.kmeans_1d(x, 3, init="kmeans++", rng=np.random.default_rng(0), max_iter=0)[0]
    assert set(start) <= set(x) and len(set(start)) == 3


def test_kmeans_plus_plus_weights_by_squared_distance():
    rng = np.random.default_rng(0)
    toy = np.r_[np.zeros(198), 1.0, 3.0]
    share = np.mean([3.0 in clustering.kmeans_1d(toy, 2, init="kmeans++", rng=rng, max_iter=0)[0] for _ in range(2000)])
    assert share == pytest.approx(0.9, abs=0.03)


def test_kmeans_1d_handles_fewer_distinct_values_than_clusters():
    centroids, labels = clustering.kmeans_1d(np.array([1.0, 1.0, 2.0, 2.0]), 3)
    assert np.all(np.isfinite(centroids))
    np.testing.assert_allclose(centroids[labels], [1.0, 1.0, 2.0, 2.0])
    centroids, _ = clustering.kmeans_1d(np.ones(5), 2, init="kmeans++", rng=np.random.default_rng(0))
    np.testing.assert_allclose(centroids, [1.0, 1.0])


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((np.arange(3.0), 4), {}, "between 1 and x.size"),
        ((np.arange(3.0), 0), {}, "between 1 and x.size"),
        ((np.arange(3.0), 2.5), {}, "integer"),
        ((np.array([]), 1), {}, "empty"),
        ((np.array([1.0, np.nan]), 1), {}, "NaN"),
        ((np.arange(3.0), 2), {"init": "random"}, "init"),
        ((np.arange(3.0), 2), {"max_iter": -1}, "max_iter"),
    ],
)
def test_kmeans_1d_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        clustering.kmeans_1d(*args, **kwargs)


# ------------------------------------------------------------------------------------ cluster / strip
def _residual_block():
    inputs = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    r = keras.layers.BatchNormalization(name="bn")(h)
    r = keras.layers.ReLU()(r)
    r = keras.layers.Conv2D(8, 3, padding="same", name="branch")(r)
    h = keras.layers.Add()([h, r])
    h = keras.layers.GlobalAveragePooling2D()(h)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(h))


def test_cluster_a_residual_block_and_strip_it():
    model = _residual_block()
    before = [w.copy() for w in model.get_weights()]
    clustered = clustering.cluster(model, number_of_clusters=4)
    assert clustering.is_clustered(clustered) and not clustering.is_clustered(model)
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 3)).astype("float32")
    clustered.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    clustered.fit(x, np.zeros((16, 3)), epochs=1, verbose=0)
    plain = clustering.strip(clustered)
    assert not clustering.is_clustered(plain)
    unique = measure.unique_weights(plain)
    assert unique["stem"] <= 4 and unique["branch"] <= 4 and unique["head"] <= 4
    # the caller's model is untouched by clustering and fine-tuning
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_cluster_an_lstm():
    model = keras.Sequential(
        [keras.Input((5, 4)), keras.layers.LSTM(6, name="lstm"), keras.layers.Dense(2, name="out")]
    )
    plain = clustering.strip(clustering.cluster(model, number_of_clusters=3, init="linear"))
    unique = measure.unique_weights(plain)
    assert unique["lstm"] <= 6  # kernel and recurrent kernel clustered separately, 3 values each
    assert unique["out"] <= 3


def test_cluster_only_the_named_layers():
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, name="a"), keras.layers.Dense(4, name="b")])
    plain = clustering.strip(clustering.cluster(model, number_of_clusters=2, layers=["b"]))
    unique = measure.unique_weights(plain)
    assert unique["a"] == 8 * 16 and unique["b"] <= 2


def test_unsupported_layers_are_named_with_what_to_do():
    model = keras.Sequential([keras.Input((5, 4)), keras.layers.GRU(6, name="gru"), keras.layers.Dense(2, name="out")])
    with pytest.raises(ValueError, match=r"cannot cluster gru \(GRU\).*layers=\['out'\]"):
        clustering.cluster(model, number_of_clusters=4)
    plain = clustering.strip(clustering.cluster(model, number_of_clusters=4, layers=["out"]))
    assert measure.unique_weights(plain)["out"] <= 4


def test_custom_layers_are_refused_clearly():
    class Scale(keras.layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(name="w", shape=(shape[-1],))

        def call(self, x):
            return x * self.w

    model = keras.Sequential([keras.Input((4,)), Scale(name="scale")])
    with pytest.raises(ValueError, match="ClusterableLayer"):
        clustering.cluster(model)


def test_cluster_and_strip_bad_input():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="d")])
    with pytest.raises(ValueError, match="at least 2"):
        clustering.cluster(model, number_of_clusters=1)
    with pytest.raises(ValueError, match="init"):
        clustering.cluster(model, init="kmeans")
    with pytest.raises(ValueError, match="no layer named nope"):
        clustering.cluster(model, layers=["nope"])
    with pytest.raises(ValueError, match="list of layer names"):
        clustering.cluster(model, layers="d")
    with pytest.raises(ValueError, match="nothing to strip"):
        clustering.strip(model)
    with pytest.raises(ValueError, match="already clustered"):
        clustering.cluster(clustering.cluster(model, number_of_clusters=2))
    with pytest.raises(ValueError, match=r"need at least 16 weights per kernel, but d \(8 weights in kernel\)"):
        clustering.cluster(model, number_of_clusters=16)
    with pytest.raises(TypeError, match="Keras model"):
        clustering.cluster(np.zeros(3))
    with pytest.raises(ValueError, match="not built"):
        clustering.cluster(keras.Sequential([keras.layers.Dense(2)]))


def test_subclassed_models_are_refused():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(2)

        def call(self, x):
            return self.d(x)

    net = Net()
    net(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="subclassed"):
        clustering.cluster(net)
