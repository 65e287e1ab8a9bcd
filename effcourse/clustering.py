"""Weight clustering: k-means on a tensor's values, and tfmot's clustering in the verb/strip shape.

Clustering (weight sharing) replaces every weight of a layer by the nearest of a few shared
values, the *centroids*: a layer clustered to 16 centroids stores a 4-bit index per weight plus
16 floats, and its float32 file compresses well (gzip finds the repeated values). Han, Mao and
Dally (2016, *Deep Compression*) cluster with k-means and fine-tune the centroids; TensorFlow
Model Optimization implements this as ``tfmot.clustering.keras.cluster_weights`` (a wrapper
that trains the centroids) and ``strip_clustering`` (removes the wrapper again).

- :func:`kmeans_1d` — Lloyd's k-means on the values of a tensor (linear or k-means++
  initialisation, empty clusters re-seeded); the reference answer of the chapter's exercise.
- :func:`cluster` / :func:`strip` — ``cluster_weights`` / ``strip_clustering`` on a copy of the
  model, with clear errors for what tfmot cannot cluster.

Taught in: chapters/ch05_advanced_compression/01_clustering
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from effcourse import sealed
from effcourse.measure.sizes import KERNEL_NAMES

__all__ = ["INITS", "cluster", "is_clustered", "kmeans_1d", "strip"]

#: ``init`` names of :func:`cluster` -> the name of tfmot's ``CentroidInitialization`` member.
INITS = {
    "kmeans++": "KMEANS_PLUS_PLUS",
    "linear": "LINEAR",
    "density": "DENSITY_BASED",
    "random": "RANDOM",
}


# --------------------------------------------------------------------------------------------
# k-means on the values of a tensor
# --------------------------------------------------------------------------------------------


def _nearest(values: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of every value (ties: the lower index, as np.argmin)."""
    order = np.argsort(centroids, kind="stable")
    ranked = centroids[order]
    midpoints = (ranked[1:] + ranked[:-1]) / 2.0
    # a value exactly at a midpoint goes to the lower centroid; equal centroids: the first index
    position = np.searchsorted(midpoints, values, side="left")
    return order[position]


@sealed.reference("ch05_advanced_compression/01_clustering:kmeans_1d")
def kmeans_1d(
    x: Any,
    num_clusters: int,
    *,
    init: str = "linear",
    rng: np.random.Generator | None = None,
    max_iter: int = 300,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the values of ``x`` with k-means (Lloyd's algorithm) in one dimension.

    Initialisation: ``"linear"`` spreads the centroids evenly from ``x.min()`` to ``x.max()``;
    ``"kmeans++"`` (Arthur and Vassilvitskii, 2007, *k-means++: The Advantages of Careful
    Seeding*) picks the first centroid uniformly among the values and each next one with
    probability proportional to the *squared* distance to the nearest centroid chosen so far.
    Then, until no label changes (at most ``max_iter`` updates): every cluster left empty is
    re-seeded, one at a time in index order, at the value farthest from its centroid (which then
    belongs to it); every centroid moves to the mean of its values; every value takes the label
    of its nearest centroid (ties: the lower index). ``max_iter=0`` returns the initial
    centroids. The centroids are returned sorted, labels numbered in that order.

    Example:
        >>> centroids, labels = kmeans_1d(np.array([0.0, 0.1, 0.9, 1.0]), 2)
        >>> centroids.tolist(), labels.tolist()
        ([0.05, 0.95], [0, 0, 1, 1])

    Args:
        x: array-like of real numbers, any shape (its values are clustered as one list).
        num_clusters: the number of centroids k, 1 <= k <= x.size.
        init: ``"linear"`` or ``"kmeans++"``.
        rng: the generator k-means++ draws from (default: a fresh unseeded one).
        max_iter: the largest number of update steps (>= 0).

    Returns:
        ``(centroids, labels)``: float64 array (k,) in ascending order, and int64 array of
        ``x``'s shape with values in 0..k-1. ``x`` is not modified.

    Raises:
        ValueError: ``num_clusters`` outside 1..x.size, ``x`` empty or not finite, an unknown
            ``init``, or a negative ``max_iter``.

    Taught in: chapters/ch05_advanced_compression/01_clustering
    """
    values = np.asarray(x, dtype=np.float64)
    flat = values.ravel()
    if flat.size == 0:
        raise ValueError("kmeans_1d: x is empty; give at least one value")
    if not np.all(np.isfinite(flat)):
        raise ValueError("kmeans_1d: x holds NaN or infinite values; clean them first")
    if isinstance(num_clusters, bool) or not isinstance(num_clusters, (int, np.integer)):
        raise ValueError(f"kmeans_1d: num_clusters must be an integer, got {num_clusters!r}")
    k = int(num_clusters)
    if not 1 <= k <= flat.size:
        raise ValueError(f"kmeans_1d: num_clusters must be between 1 and x.size = {flat.size}, got {k}")
    if init not in ("linear", "kmeans++"):
        raise ValueError(f"kmeans_1d: init must be 'linear' or 'kmeans++', got {init!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise ValueError(f"kmeans_1d: max_iter must be an integer >= 0, got {max_iter!r}")

    if init == "linear":
        centroids = np.linspace(flat.min(), flat.max(), k)
    else:
        rng = np.random.default_rng() if rng is None else rng
        centroids = np.empty(k)
        centroids[0] = flat[rng.integers(flat.size)]
        nearest_sq = (flat - centroids[0]) ** 2
        for j in range(1, k):
            total = nearest_sq.sum()
            if total > 0:
                pick = rng.choice(flat.size, p=nearest_sq / total)
            else:  # every value is already a centroid: any value will do
                pick = rng.integers(flat.size)
            centroids[j] = flat[pick]
            nearest_sq = np.minimum(nearest_sq, (flat - centroids[j]) ** 2)

    labels = _nearest(flat, centroids)
    for _ in range(int(max_iter)):
        counts = np.bincount(labels, minlength=k)
        for j in np.flatnonzero(counts == 0):
            farthest = int(np.argmax((flat - centroids[labels]) ** 2))
            centroids[j] = flat[farthest]
            labels[farthest] = j
        counts = np.bincount(labels, minlength=k)
        sums = np.bincount(labels, weights=flat, minlength=k)
        filled = counts > 0  # only when fewer distinct values than clusters
        centroids[filled] = sums[filled] / counts[filled]
        new_labels = _nearest(flat, centroids)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels

    order = np.argsort(centroids, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return centroids[order], rank[labels].reshape(values.shape)


# --------------------------------------------------------------------------------------------
# tfmot: cluster / strip
# --------------------------------------------------------------------------------------------


def _tfmot():
    import tensorflow_model_optimization as tfmot

    return tfmot


def _keras():
    from effcourse.compat import keras

    return keras


def _require_model(model: Any, fn: str) -> None:
    from effcourse.measure.counting import keras3_message

    message = keras3_message(model, fn)
    if message:
        raise TypeError(message)
    keras = _keras()
    if not isinstance(model, keras.Model):
        raise TypeError(f"{fn} needs a Keras model (tf_keras), got {type(model).__name__}")
    if not model.built:
        raise ValueError(f"{fn}: the model is not built yet; build it (give it an Input) or call it once")


def _is_subclassed(model: Any) -> bool:
    keras = _keras()
    return not isinstance(model, keras.Sequential) and not getattr(model, "_is_graph_network", False)


def _rnn_cells(layer: Any) -> list[Any]:
    cell = layer.cell
    cells = cell.cells if hasattr(cell, "cells") else cell if isinstance(cell, (list, tuple)) else [cell]
    return list(cells)


def _supported(layer: Any) -> bool:
    """Whether tfmot 0.8 really clusters ``layer``'s weights.

    tfmot's registry answers True for a GRU but then clusters none of its weights, silently; it
    clusters the recurrent layers whose cells are LSTMCell or SimpleRNNCell only.
    """
    from tensorflow_model_optimization.python.core.clustering.keras import clusterable_layer, clustering_registry

    keras = _keras()
    if isinstance(layer, clusterable_layer.ClusterableLayer):
        return True
    if isinstance(layer, keras.layers.Bidirectional):
        return False
    if isinstance(layer, keras.layers.RNN):
        if type(layer) not in (keras.layers.LSTM, keras.layers.SimpleRNN, keras.layers.RNN):
            return False
        return all(type(cell) in (keras.layers.LSTMCell, keras.layers.SimpleRNNCell) for cell in _rnn_cells(layer))
    return bool(clustering_registry.ClusteringRegistry.supports(layer))


def is_clustered(model: Any) -> bool:
    """Whether ``model`` still holds tfmot clustering wrappers (call :func:`strip` before export).

    Example:
        >>> from effcourse.compat import keras
        >>> is_clustered(keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)]))
        False

    Args:
        model: a Keras model.

    Returns:
        True when some layer is a ``ClusterWeights`` wrapper.

    Taught in: chapters/ch05_advanced_compression/01_clustering
    """
    _require_model(model, "is_clustered")
    return any(type(layer).__name__.startswith("ClusterWeights") for layer in model.submodules)


def cluster(
    model: Any,
    number_of_clusters: int = 16,
    *,
    init: str = "kmeans++",
    layers: Iterable[str] | None = None,
    preserve_sparsity: bool = False,
) -> Any:
    """A copy of ``model`` whose layers are wrapped by tfmot's weight clustering, ready to fine-tune.

    Every kernel of the chosen layers is replaced by ``number_of_clusters`` shared values
    (centroids, initialised by ``init``) and a table of indices; training then updates the
    centroids (the indices follow the nearest centroid). Compile and fine-tune the result with
    a small learning rate, then call :func:`strip` before saving or converting it. Unlike a bare
    ``tfmot.clustering.keras.cluster_weights(model, ...)``, which wraps the model's own layer
    objects so that fine-tuning changes the original model too, the model given here is left
    unchanged (its layers are cloned first).

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
        >>> clustered = cluster(model, number_of_clusters=4)
        >>> plain = strip(clustered)   # after fine-tuning
        >>> len(np.unique(plain.layers[0].kernel.numpy())) <= 4
        True

    Args:
        model: a built Sequential or functional tf_keras model (tfmot cannot cluster
            subclassed models).
        number_of_clusters: centroids per weight, >= 2 (16 stores a 4-bit index per weight).
        init: centroid initialisation: ``"kmeans++"`` (tfmot's default), ``"linear"`` (evenly
            from the smallest to the largest weight), ``"density"`` or ``"random"``.
        layers: names of the layers to cluster (the others are copied unchanged); default: every
            layer. Layers without weights (pooling, Flatten, Add, ...) pass through either way.
        preserve_sparsity: keep zero weights at zero (for a pruned model).

    Returns:
        A new Keras model with ``ClusterWeights`` wrappers, not compiled.

    Raises:
        TypeError: ``model`` is not a tf_keras model (a Keras 3 model is refused with a hint).
        ValueError: not built; subclassed; ``number_of_clusters`` < 2; unknown ``init``; a name
            in ``layers`` that the model does not have; or a chosen layer that tfmot cannot
            cluster (for example ``GRU`` or a custom layer: the message names them and says what
            to do).

    Taught in: chapters/ch05_advanced_compression/01_clustering
    """
    _require_model(model, "cluster")
    if _is_subclassed(model):
        raise ValueError(
            "cluster: tfmot cannot cluster a subclassed model; rebuild it as a Sequential or functional "
            "model, or cluster its layers one by one with tfmot.clustering.keras.cluster_weights"
        )
    if isinstance(number_of_clusters, bool) or not isinstance(number_of_clusters, (int, np.integer)):
        raise ValueError(f"cluster: number_of_clusters must be an integer >= 2, got {number_of_clusters!r}")
    if number_of_clusters < 2:
        raise ValueError(f"cluster: number_of_clusters must be at least 2, got {number_of_clusters}")
    if init not in INITS:
        raise ValueError(f"cluster: init must be one of {', '.join(map(repr, INITS))}, got {init!r}")
    if is_clustered(model):
        raise ValueError("cluster: the model is already clustered; strip(model) first to cluster it again")

    if isinstance(layers, str):
        raise ValueError(f"cluster: layers must be a list of layer names, got the string {layers!r}")
    names = [layer.name for layer in model.layers]
    chosen = set(names) if layers is None else set(layers)
    unknown = sorted(chosen - set(names))
    if unknown:
        raise ValueError(f"cluster: the model has no layer named {', '.join(unknown)} (its layers: {', '.join(names)})")
    unsupported = [layer for layer in model.layers if layer.name in chosen and not _supported(layer)]
    if unsupported:
        listed = ", ".join(f"{layer.name} ({type(layer).__name__})" for layer in unsupported)
        supported = [n for n in names if n in chosen and n not in {layer.name for layer in unsupported}]
        raise ValueError(
            f"cluster: tfmot cannot cluster {listed}. Cluster the other layers only, e.g. "
            f"cluster(model, ..., layers={supported!r}), or make the layer a "
            f"tfmot.clustering.keras.ClusterableLayer (it must say which weights to cluster)"
        )

    small = [
        f"{layer.name} ({int(np.prod(w.shape))} weights in {w.name.split('/')[-1].split(':')[0]})"
        for layer in model.layers
        if layer.name in chosen
        for w in layer.trainable_weights
        if w.name.split("/")[-1].split(":")[0] in KERNEL_NAMES and int(np.prod(w.shape)) < number_of_clusters
    ]
    if small:
        raise ValueError(
            f"cluster: {number_of_clusters} clusters need at least {number_of_clusters} weights per kernel, but "
            f"{', '.join(small)}; use fewer clusters or leave such layers out with layers=[...]"
        )

    tfmot = _tfmot()
    keras = _keras()
    params = dict(
        number_of_clusters=int(number_of_clusters),
        cluster_centroids_init=getattr(tfmot.clustering.keras.CentroidInitialization, INITS[init]),
        preserve_sparsity=bool(preserve_sparsity),
    )

    # a private copy with the trained weights: cluster_weights wraps the layer objects it is given
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())

    def wrap(layer: Any) -> Any:
        if layer.name in chosen and layer.weights and not isinstance(layer, keras.layers.InputLayer):
            return tfmot.clustering.keras.cluster_weights(layer, **params)
        return layer

    return keras.models.clone_model(copy, clone_function=wrap)


def strip(model: Any) -> Any:
    """The plain Keras model inside a clustered one: every wrapper removed, clustered kernels kept.

    ``tfmot.clustering.keras.strip_clustering``: each kernel becomes its centroids gathered by
    its indices (a float array with at most ``number_of_clusters`` distinct values), so the
    model can be saved, gzipped or converted to LiteRT like any other.

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
        >>> plain = strip(cluster(model, number_of_clusters=2))
        >>> is_clustered(plain)
        False

    Args:
        model: a model returned by :func:`cluster` (after fine-tuning).

    Returns:
        A new Keras model without clustering wrappers (not compiled).

    Raises:
        TypeError: ``model`` is not a tf_keras model.
        ValueError: the model holds no clustering wrapper (nothing to strip: did you pass the
            original model instead of the clustered one?).

    Taught in: chapters/ch05_advanced_compression/01_clustering
    """
    _require_model(model, "strip")
    if not is_clustered(model):
        raise ValueError(
            "strip: the model holds no clustering wrapper (nothing to strip); give it the model that "
            "cluster(...) returned"
        )
    return _tfmot().clustering.keras.strip_clustering(model)
