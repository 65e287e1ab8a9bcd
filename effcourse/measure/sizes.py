"""Sizes: serialized and gzipped bytes, sparsity and unique weights.

Taught in: chapters/ch02_compression/02_quantizing_a_model
"""

from __future__ import annotations

import gzip
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from effcourse.measure.counting import (
    KERNEL_NAMES,
    _cost_fn,
    _is_tfmot_wrapper,
    _keras,
    _own_weights,
    _require_layer,
    _sublayers,
)

# --------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------


def _refuse_keras3(obj: Any, fn: str) -> None:
    from effcourse.measure.counting import keras3_message

    message = keras3_message(obj, fn)
    if message:
        raise TypeError(message)


def _serialize(obj: Any) -> bytes:
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj)
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if not path.is_file():
            raise FileNotFoundError(f"no file at {path}: give an existing file, TFLite bytes or a Keras model")
        return path.read_bytes()
    keras = _keras()
    if isinstance(obj, keras.Model):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.h5"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    keras.models.save_model(obj, path, include_optimizer=False, save_format="h5")
                except NotImplementedError:  # a subclassed model has no HDF5 architecture: weights only
                    obj.save_weights(path, save_format="h5")
            return path.read_bytes()
    _refuse_keras3(obj, "serialized_size")
    raise TypeError(
        f"cannot measure the size of a {type(obj).__name__}: give a Keras model, TFLite bytes "
        f"(the converter's output) or a path to a file"
    )


def serialized_size(obj: Any) -> int:
    """Size in bytes of a model as stored on disk.

    A Keras model is saved as HDF5 (``.h5``: architecture and weights, without the optimizer
    state), the format tensorflow-model-optimization's guides measure (a subclassed model,
    whose architecture HDF5 cannot hold, is measured by its HDF5 weights file); TFLite bytes
    are their own length; a path is the file's size.

    Example:
        >>> serialized_size(b"0123456789")
        10

    Caveats:
        A model still wrapped for pruning, QAT or clustering also stores its masks or
        quantizer variables: strip the wrappers first (``tfmot.sparsity.keras.strip_pruning``).

    Args:
        obj: a Keras model, TFLite flatbuffer bytes, or a path to a file.

    Returns:
        The number of bytes.

    Raises:
        TypeError: ``obj`` is none of these.
        FileNotFoundError: the path does not exist.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    if isinstance(obj, (str, os.PathLike)) and Path(obj).is_file():
        return Path(obj).stat().st_size
    return len(_serialize(obj))


def gzipped_size(obj: Any) -> int:
    """Size in bytes of a model after gzip compression (level 9, ``mtime=0``, deterministic).

    Serializes ``obj`` like :func:`serialized_size`, then gzips it. Dense float weights
    hardly compress; the zeros of a pruned model and the few distinct values of a clustered
    one do — this is how the course shows what pruning and clustering save on disk or over
    the air, before a runtime can exploit them.

    Example:
        >>> gzipped_size(bytes(1000)) < 100
        True

    Args:
        obj: a Keras model, TFLite flatbuffer bytes, or a path to a file.

    Returns:
        The number of gzip-compressed bytes.

    Raises:
        TypeError: ``obj`` is none of these.
        FileNotFoundError: the path does not exist.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    return len(gzip.compress(_serialize(obj), compresslevel=9, mtime=0))


# --------------------------------------------------------------------------------------------
# Sparsity and unique weights
# --------------------------------------------------------------------------------------------


def _weight_kind(variable: Any) -> str:
    name = variable.name.split(":")[0]
    return name.rsplit("/", 1)[-1]


def _layer_kernels(layer: Any) -> list[np.ndarray]:
    """The kernels/embeddings a layer (or the layer a tfmot wrapper holds) uses."""
    kernels = [v for v in _own_weights(layer) if _weight_kind(v) in KERNEL_NAMES]
    if type(layer).__name__ == "ClusterWeights":
        return [_clustered(layer, v) for v in kernels]
    return [np.asarray(v.numpy()) for v in kernels]


def _clustered(wrapper: Any, variable: Any) -> np.ndarray:
    """The weight a tfmot ClusterWeights wrapper really uses: centroids gathered by indices."""
    kind = _weight_kind(variable)
    by_kind = {_weight_kind(v): v for v in wrapper.weights}
    centroids = by_kind.get(f"cluster_centroids_{kind}")
    indices = by_kind.get(f"pulling_indices_{kind}")
    if centroids is None or indices is None:
        return np.asarray(variable.numpy())
    c, i = np.asarray(centroids.numpy()), np.asarray(indices.numpy()).astype(np.int64)
    if c.ndim == 1:
        return c[i]
    # per-channel clustering: centroids (channels, clusters), channel axis last in the kernel
    channels = np.arange(i.shape[-1])
    return c[channels, i]


def _layers_with_kernels(model: Any) -> list[tuple[str, Any]]:
    keras = _keras()
    if isinstance(model, keras.layers.Layer) and not _sublayers(model):
        return [(model.name, model)]
    found = []
    for path, layer in _walk(model):
        if _layer_kernels(layer):
            found.append((path, layer))
    return found


def _walk(layer: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for sub in _sublayers(layer):
        path = f"{prefix}{sub.name}"
        if _is_tfmot_wrapper(sub) or not _sublayers(sub) or _cost_fn(sub) is not None:
            found.append((path, sub))
        else:
            found.extend(_walk(sub, prefix=f"{path}/"))
    return found


def _arrays(obj: Any) -> list[np.ndarray]:
    keras = _keras()
    if isinstance(obj, keras.layers.Layer):
        if not obj.built:
            raise ValueError("the model is not built yet, so it has no weights: build it or call it once")
        return [k for _, layer in _layers_with_kernels(obj) for k in _layer_kernels(layer)]
    if isinstance(obj, np.ndarray) or np.isscalar(obj):
        return [np.asarray(obj)]
    if hasattr(obj, "numpy") and hasattr(obj, "shape"):  # a tf.Tensor or tf.Variable
        return [np.asarray(obj.numpy())]
    if isinstance(obj, (list, tuple)):
        out = []
        for item in obj:
            out.extend(_arrays(item))
        return out
    _refuse_keras3(obj, "sparsity")
    raise TypeError(f"sparsity needs a Keras model, a NumPy array or a list of arrays, got {type(obj).__name__}")


def sparsity(obj: Any) -> float:
    """Fraction of weights that are exactly zero.

    For a Keras model: over the kernels and embeddings of every layer (``kernel``,
    ``depthwise_kernel``, ``pointwise_kernel``, ``recurrent_kernel``, ``embeddings``) — the
    weights pruning removes; biases and BatchNormalization statistics are left out. A pruning
    wrapper's kernel is read as it is (apply the mask by training or ``strip`` first). For an
    array or a list of arrays: over all their elements.

    Example:
        >>> import numpy as np
        >>> sparsity(np.array([0.0, 1.0, 0.0, 2.0]))
        0.5

    Args:
        obj: a Keras model or layer, a NumPy array (or tensor), or a list of them.

    Returns:
        A float in [0, 1].

    Raises:
        TypeError: ``obj`` is none of these.
        ValueError: there are no weights to measure.

    Taught in: chapters/ch05_advanced_compression (pruning; planned)
    """
    arrays = _arrays(obj)
    total = sum(a.size for a in arrays)
    if total == 0:
        raise ValueError("there are no weights to measure sparsity on (no kernels, or empty arrays)")
    zeros = sum(int(np.count_nonzero(a == 0)) for a in arrays)
    return zeros / total


def sparsity_by_layer(model: Any) -> dict[str, float]:
    """Fraction of exactly-zero kernel/embedding weights in each layer that has any.

    Example:
        >>> from effcourse.compat import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="fc")])
        >>> sparsity_by_layer(model)
        {'fc': 0.0}

    Args:
        model: a built Keras model.

    Returns:
        ``{layer path: sparsity}`` for layers with kernels or embeddings.

    Taught in: chapters/ch05_advanced_compression (pruning; planned)
    """
    _require_layer(model, "sparsity_by_layer")
    return {path: sparsity(_layer_kernels(layer)) for path, layer in _layers_with_kernels(model)}


def unique_weights(model: Any) -> dict[str, int]:
    """Number of distinct values in each layer's kernel (or embeddings) — what clustering cuts.

    A trained float layer has about as many distinct values as weights; after clustering to
    16 centroids it has at most 16, so each weight can be stored as a 4-bit index. A
    ``ClusterWeights`` wrapper is read through its centroids and indices. A layer with several
    kernels (e.g. SeparableConv2D) reports the distinct values over all of them.

    Example:
        >>> from effcourse.compat import keras
        >>> import numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="fc")])
        >>> model.layers[0].set_weights([np.ones((4, 3)), np.zeros(3)])
        >>> unique_weights(model)
        {'fc': 1}

    Args:
        model: a built Keras model.

    Returns:
        ``{layer path: number of unique kernel values}``.

    Taught in: chapters/ch05_advanced_compression/01_clustering
    """
    _require_layer(model, "unique_weights")
    if not model.built:
        raise ValueError("the model is not built yet, so it has no weights: build it or call it once")
    return {
        path: int(np.unique(np.concatenate([k.ravel() for k in _layer_kernels(layer)])).size)
        for path, layer in _layers_with_kernels(model)
    }
