"""Contrastive pretraining (SimCLR) of a small image encoder, and the encoder the course ships.

SimCLR (Chen, Kornblith, Norouzi and Hinton, 2020, *A Simple Framework for Contrastive Learning
of Visual Representations*, ICML) learns from unlabelled images: every image is augmented twice,
an encoder and a small projection head map both views to embeddings, and the NT-Xent loss pulls
the two views of one image together and pushes them away from the other images of the batch.
Afterwards the head is dropped and the encoder's features serve a classifier trained on few
labels (a linear probe, or fine-tuning)::

    from effcourse import contrastive
    encoder = contrastive.build_encoder()                      # 32x32x3 in [0, 1] -> 128 features
    head = contrastive.build_projection_head()                 # 128 -> 64 embedding
    view_1, view_2 = contrastive.two_views(x_batch, seed=0)    # SimCLR's augmentations, twice
    losses = contrastive.pretrain(encoder, head, x_unlabelled, loss_fn=nt_xent_loss, num_steps=20)
    encoder = contrastive.load_encoder()                       # the weights shipped with the package

The shipped weights (``effcourse/weights/simclr_images.npz``) were written by
``scripts/pretrain_simclr.py`` (seeded) on the offline ``images`` training split, labels unused.

Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = [
    "FILTERS",
    "EMBEDDING_DIM",
    "WEIGHTS_PATH",
    "build_encoder",
    "build_projection_head",
    "augment",
    "two_views",
    "nt_xent_loss",
    "pretrain",
    "features",
    "train_classifier",
    "predict_classes",
    "save_encoder",
    "load_encoder",
]

#: Filters of the encoder's three convolution blocks; its feature vector has FILTERS[-1] values.
FILTERS = (32, 64, 128)
#: Size of the projection head's output (the vectors NT-Xent compares).
EMBEDDING_DIM = 64
#: The encoder weights shipped with the package (written by scripts/pretrain_simclr.py).
WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "simclr_images.npz"


def build_encoder(filters: Sequence[int] = FILTERS, *, name: str = "encoder") -> Any:
    """A small CNN encoder: (N, 32, 32, 3) images in [0, 1] -> (N, filters[-1]) features.

    Three blocks of 3x3 convolution, batch normalisation and ReLU; the first two end in 2x2 max
    pooling, the last in global average pooling (the features). Batch normalisation uses
    momentum 0.9 (Keras' default is 0.99): a classifier trained on a few hundred labels takes
    only about a hundred steps, too few for the slower running averages to settle. The same builder serves the
    supervised baseline (with a classifier on top), so both sides have the same architecture.

    Example:
        >>> build_encoder().output_shape
        (None, 128)

    Args:
        filters: filters of each block (at least one block).
        name: the model's name.

    Returns:
        A ``keras.Sequential`` (tf_keras).

    Raises:
        ValueError: no filters, or a filter count below 1.

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    from effcourse.compat import keras

    filters = [int(f) for f in filters]
    if not filters or min(filters) < 1:
        raise ValueError(f"filters must be a non-empty list of positive ints, got {filters}")
    layers: list[Any] = [keras.layers.Input((32, 32, 3))]
    for i, f in enumerate(filters):
        layers += [
            keras.layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv{i + 1}"),
            keras.layers.BatchNormalization(momentum=0.9, name=f"bn{i + 1}"),
            keras.layers.ReLU(name=f"relu{i + 1}"),
        ]
        if i < len(filters) - 1:
            layers.append(keras.layers.MaxPooling2D(name=f"pool{i + 1}"))
    layers.append(keras.layers.GlobalAveragePooling2D(name="features"))
    return keras.Sequential(layers, name=name)


def build_projection_head(
    input_dim: int = FILTERS[-1], embedding_dim: int = EMBEDDING_DIM, *, name: str = "projection_head"
) -> Any:
    """SimCLR's projection head: Dense(input_dim, ReLU) then Dense(embedding_dim), no activation.

    NT-Xent is computed on the head's output; the features *before* the head are the ones kept
    (SimCLR found them better for downstream tasks than the head's output).

    Example:
        >>> build_projection_head().output_shape
        (None, 64)

    Args:
        input_dim: size of the encoder's features.
        embedding_dim: size of the embedding.
        name: the model's name.

    Returns:
        A ``keras.Sequential``.

    Raises:
        ValueError: a size below 1.

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    from effcourse.compat import keras

    if int(input_dim) < 1 or int(embedding_dim) < 1:
        raise ValueError(f"sizes must be >= 1, got input_dim={input_dim}, embedding_dim={embedding_dim}")
    return keras.Sequential(
        [
            keras.layers.Input((int(input_dim),)),
            keras.layers.Dense(int(input_dim), activation="relu", name="hidden"),
            keras.layers.Dense(int(embedding_dim), name="embedding"),
        ],
        name=name,
    )


def _as_float_images(x: Any) -> Any:
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    if x.shape.rank != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected images (N, H, W, 3), got shape {tuple(x.shape)}")
    if x.dtype == tf.uint8:
        return tf.cast(x, tf.float32) / 255.0
    return tf.cast(x, tf.float32)


def augment(
    x: Any,
    generator: Any,
    *,
    min_area: float = 0.25,
    jitter: float = 0.4,
    grayscale_p: float = 0.2,
) -> Any:
    """SimCLR's augmentations for 32x32 images, one random draw per image (TensorFlow, batched).

    In order: a random resized crop (area ``min_area``..1 of the image, aspect ratio 3/4..4/3,
    resized back to the input size), a random horizontal and vertical flip, colour jitter
    (brightness, contrast and saturation each by up to ``jitter``, and a random permutation of
    the colour channels standing in for SimCLR's hue shift), and grayscale with probability
    ``grayscale_p``. SimCLR found crop plus colour distortion the essential pair: without colour
    distortion two crops of one image are told apart by their colour histogram alone.

    Example:
        >>> import tensorflow as tf
        >>> g = tf.random.Generator.from_seed(0)
        >>> augment(np.zeros((4, 32, 32, 3), np.uint8), g).shape
        TensorShape([4, 32, 32, 3])

    Args:
        x: images (N, H, W, 3), uint8 in 0..255 or float in [0, 1].
        generator: a ``tf.random.Generator`` (seeded: the draws are reproducible).
        min_area: smallest crop area as a fraction of the image.
        jitter: strength of the colour jitter (0 turns it off).
        grayscale_p: probability of turning an image grey.

    Returns:
        A float32 tf.Tensor of the input's shape, values in [0, 1].

    Raises:
        ValueError: not a batch of RGB images, or a strength out of range.

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    import tensorflow as tf

    if not 0.0 < min_area <= 1.0 or not 0.0 <= jitter < 1.0 or not 0.0 <= grayscale_p <= 1.0:
        raise ValueError(f"out of range: min_area={min_area}, jitter={jitter}, grayscale_p={grayscale_p}")
    x = _as_float_images(x)
    n = tf.shape(x)[0]
    height, width = int(x.shape[1]), int(x.shape[2])
    # random resized crop: boxes in normalised coordinates
    area = generator.uniform([n], min_area, 1.0)
    log_ratio = generator.uniform([n], math.log(3 / 4), math.log(4 / 3))
    ratio = tf.exp(log_ratio)
    h = tf.minimum(tf.sqrt(area / ratio), 1.0)
    w = tf.minimum(tf.sqrt(area * ratio), 1.0)
    y0 = generator.uniform([n]) * (1.0 - h)
    x0 = generator.uniform([n]) * (1.0 - w)
    flip_h = generator.uniform([n]) < 0.5
    flip_v = generator.uniform([n]) < 0.5
    # a flip is a box with its corners swapped: crop_and_resize then samples it mirrored
    x1, x2 = tf.where(flip_h, x0 + w, x0), tf.where(flip_h, x0, x0 + w)
    y1, y2 = tf.where(flip_v, y0 + h, y0), tf.where(flip_v, y0, y0 + h)
    boxes = tf.stack([y1, x1, y2, x2], axis=1)
    out = tf.image.crop_and_resize(x, boxes, tf.range(n), [height, width])
    # colour jitter, one factor per image
    if jitter > 0:
        b = generator.uniform([n, 1, 1, 1], -jitter, jitter) * 0.5
        c = generator.uniform([n, 1, 1, 1], 1 - jitter, 1 + jitter)
        s = generator.uniform([n, 1, 1, 1], 1 - jitter, 1 + jitter)
        out = out + b
        mean = tf.reduce_mean(out, axis=[1, 2, 3], keepdims=True)
        out = (out - mean) * c + mean
        grey = tf.reduce_mean(out, axis=3, keepdims=True)
        out = grey + (out - grey) * s
        perms = tf.constant([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]])
        choice = generator.uniform([n], 0, 6, dtype=tf.int32)
        out = tf.gather(out, tf.gather(perms, choice), axis=3, batch_dims=1)
    if grayscale_p > 0:
        make_grey = tf.reshape(generator.uniform([n]) < grayscale_p, [-1, 1, 1, 1])
        out = tf.where(make_grey, tf.reduce_mean(out, axis=3, keepdims=True) * tf.ones_like(out), out)
    return tf.clip_by_value(out, 0.0, 1.0)


def two_views(x: Any, seed: int | Any, **kwargs: Any) -> tuple[Any, Any]:
    """Two independently augmented views of every image (:func:`augment` twice).

    Example:
        >>> v1, v2 = two_views(np.zeros((2, 32, 32, 3), np.uint8), seed=0)
        >>> v1.shape == v2.shape
        True

    Args:
        x: images (N, H, W, 3), uint8 or float in [0, 1].
        seed: an int, or a ``tf.random.Generator`` to draw from.
        **kwargs: passed to :func:`augment`.

    Returns:
        ``(view_1, view_2)``, float32 tensors shaped like ``x``: row i of both is image i.

    Raises:
        ValueError: as :func:`augment`.

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    import tensorflow as tf

    generator = tf.random.Generator.from_seed(int(seed)) if isinstance(seed, (int, np.integer)) else seed
    return augment(x, generator, **kwargs), augment(x, generator, **kwargs)


@sealed.reference("ch06_advanced_learning/01_contrastive_learning:nt_xent_loss")
def nt_xent_loss(z1: Any, z2: Any, temperature: float = 0.5) -> Any:
    """SimCLR's NT-Xent loss (normalised temperature-scaled cross-entropy) of a batch of pairs.

    The 2N embeddings ``z = concat([z1, z2])`` are L2-normalised; the similarity of i and j is
    ``cos(z_i, z_j) / temperature``. Anchor i's positive is its other view (row i+N for i < N,
    i-N otherwise); the other 2N - 2 embeddings are its negatives, and it is never compared with
    itself. The loss of anchor i is the cross-entropy of picking its positive among the 2N - 1
    others, ``-log(exp(s_ip) / sum_{k != i} exp(s_ik))``; the result is the mean over all 2N
    anchors (Chen et al., 2020, eq. 1 and Algorithm 1). Computed with a log-sum-exp, so a small
    temperature does not overflow; differentiable with ``tf.GradientTape``.

    Example:
        >>> z = np.eye(2, dtype="float32")
        >>> float(nt_xent_loss(z, z, temperature=1.0))  # doctest: +ELLIPSIS
        0.551...

    Args:
        z1: embeddings of the first views, (N, D), float; row i is image i.
        z2: embeddings of the second views, (N, D); row i is the other view of image i.
        temperature: the temperature tau > 0.

    Returns:
        A scalar float32 ``tf.Tensor``.

    Raises:
        ValueError: shapes differ, fewer than 2 pairs, or temperature <= 0.

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    import tensorflow as tf

    z1 = tf.convert_to_tensor(z1, dtype_hint=tf.float32)
    z2 = tf.convert_to_tensor(z2, dtype_hint=tf.float32)
    z1, z2 = tf.cast(z1, tf.float32), tf.cast(z2, tf.float32)
    if z1.shape.rank != 2 or z1.shape != z2.shape or (z1.shape[0] is not None and z1.shape[0] < 2):
        raise ValueError(f"z1 and z2 must both be (N, D) with N >= 2, got {tuple(z1.shape)} and {tuple(z2.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    n = tf.shape(z1)[0]
    z = tf.math.l2_normalize(tf.concat([z1, z2], axis=0), axis=1)
    logits = tf.matmul(z, z, transpose_b=True) / temperature
    logits = logits - tf.eye(2 * n) * 1e9  # never its own negative
    positives = tf.concat([tf.range(n, 2 * n), tf.range(0, n)], axis=0)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=positives, logits=logits)
    return tf.reduce_mean(losses)


def pretrain(
    encoder: Any,
    head: Any,
    x: Any,
    *,
    loss_fn: Callable[..., Any],
    num_steps: int,
    batch_size: int = 128,
    temperature: float = 0.5,
    learning_rate: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    desc: str = "SimCLR pretraining",
) -> list[float]:
    """Train ``encoder`` and ``head`` with a contrastive loss on unlabelled images, in place.

    Each step draws ``batch_size`` images (shuffled epochs), augments each twice
    (:func:`two_views`), embeds both views with ``head(encoder(view))`` and takes an Adam step on
    ``loss_fn(z1, z2, temperature)``. ``loss_fn`` is passed in (the learner's ``nt_xent_loss``,
    or the course's), so this loop works with any loss of that signature.

    Example:
        >>> enc, head = build_encoder((8,)), build_projection_head(8, 4)
        >>> x = np.zeros((16, 32, 32, 3), np.uint8)
        >>> len(pretrain(enc, head, x, loss_fn=my_loss, num_steps=2, batch_size=8))  # doctest: +SKIP
        2

    Args:
        encoder: the encoder (trained in place).
        head: the projection head (trained in place).
        x: unlabelled images (N, 32, 32, 3), uint8 or float in [0, 1]; N >= batch_size.
        loss_fn: ``loss_fn(z1, z2, temperature) -> scalar tf.Tensor``.
        num_steps: number of optimiser steps.
        batch_size: images per step (2 * batch_size views).
        temperature: passed to ``loss_fn``.
        learning_rate: Adam's learning rate.
        seed: seeds the shuffling and the augmentations.
        progress: show a tqdm bar (quiet under CI, see ``effcourse.progress``).
        desc: the bar's label.

    Returns:
        The loss of every step, a list of floats.

    Raises:
        ValueError: fewer images than ``batch_size``, or ``num_steps < 1``.

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    import tensorflow as tf

    from effcourse.compat import keras
    from effcourse.progress import progress as bar

    x = np.asarray(x)
    if len(x) < batch_size or batch_size < 2:
        raise ValueError(f"need batch_size >= 2 and at least batch_size images, got {len(x)} and {batch_size}")
    if int(num_steps) < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    rng = np.random.default_rng(seed)
    generator = tf.random.Generator.from_seed(seed)
    optimizer = keras.optimizers.Adam(learning_rate)
    variables = encoder.trainable_variables + head.trainable_variables

    @tf.function
    def step(batch: Any) -> Any:
        view_1, view_2 = augment(batch, generator), augment(batch, generator)
        with tf.GradientTape() as tape:
            z1 = head(encoder(view_1, training=True), training=True)
            z2 = head(encoder(view_2, training=True), training=True)
            loss = loss_fn(z1, z2, temperature)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    losses: list[float] = []
    order = rng.permutation(len(x))
    start = 0
    steps = range(int(num_steps))
    for _ in bar(steps, desc=desc) if progress else steps:
        if start + batch_size > len(x):
            order, start = rng.permutation(len(x)), 0
        batch = x[order[start : start + batch_size]]
        start += batch_size
        losses.append(float(step(tf.constant(batch))))
    return losses


def features(encoder: Any, x: Any, batch_size: int = 250) -> np.ndarray:
    """The encoder's features of images (inference mode), as a float32 NumPy array (N, D).

    Example:
        >>> features(build_encoder((8,)), np.zeros((3, 32, 32, 3), np.uint8)).shape
        (3, 8)

    Args:
        encoder: a model from :func:`build_encoder` (or :func:`load_encoder`).
        x: images (N, 32, 32, 3), uint8 or float in [0, 1].
        batch_size: images per forward pass (small batches keep memory low).

    Returns:
        float32 array (N, D).

    Raises:
        ValueError: not a batch of RGB images.

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    parts = []
    for start in range(0, len(x), batch_size):
        batch = _as_float_images(np.asarray(x[start : start + batch_size]))
        parts.append(encoder(batch, training=False).numpy())
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, encoder.output_shape[-1]), np.float32)


def train_classifier(
    encoder: Any,
    x: Any,
    y: Any,
    x_val: Any,
    y_val: Any,
    *,
    num_epochs: int,
    learning_rate: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    augmentation: bool = True,
    num_classes: int = 10,
    head_weights: Sequence[np.ndarray] | None = None,
) -> tuple[Any, list[float]]:
    """Train ``encoder`` plus a new linear layer on labelled images; keep the best validation epoch.

    Every parameter is trained (for a pretrained encoder that is fine-tuning; for a fresh one,
    training from scratch), with Adam and cross-entropy, each batch augmented by
    :func:`augment` (one view) when ``augmentation`` is on. After every epoch the validation
    accuracy is measured; the weights of the best epoch (the first, on ties) are restored at
    the end: selection on the validation split, never on the test split. ``head_weights``
    starts the new layer from a trained linear probe instead of at random (LP-FT: Kumar,
    Raghunathan, Jones, Ma and Liang, 2022, *Fine-Tuning can Distort Pretrained Features and
    Underperform Out-of-Distribution*, ICLR: a random head's first, large gradients would
    otherwise flow into the pretrained encoder and wreck its features).

    Example:
        >>> model, history = train_classifier(build_encoder(), x_l, y_l, x_v, y_v, num_epochs=5)  # doctest: +SKIP

    Args:
        encoder: a model from :func:`build_encoder` or :func:`load_encoder` (trained in place).
        x: labelled images (N, 32, 32, 3), uint8 or float in [0, 1].
        y: their integer labels (N,) or (N, 1).
        x_val: validation images.
        y_val: their labels.
        num_epochs: passes over ``x``.
        learning_rate: Adam's learning rate.
        batch_size: images per step.
        seed: seeds the new layer, the shuffling and the augmentations.
        augmentation: augment the training batches.
        num_classes: size of the output layer.
        head_weights: ``[kernel (D, num_classes), bias (num_classes,)]`` to start the new layer
            from (default: Keras' random initialisation).

    Returns:
        ``(model, val_accuracies)``: the classifier (``keras.Sequential([encoder, Dense])``,
        logits out) with the best epoch's weights, and the validation accuracy of every epoch.

    Raises:
        ValueError: lengths differ, or ``num_epochs < 1``.

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    import tensorflow as tf

    from effcourse.compat import keras

    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    y_val = np.asarray(y_val).reshape(-1)
    if len(x) != len(y) or len(x_val) != len(y_val):
        raise ValueError(f"lengths differ: {len(x)} images, {len(y)} labels; {len(x_val)}, {len(y_val)} for validation")
    if int(num_epochs) < 1:
        raise ValueError(f"num_epochs must be >= 1, got {num_epochs}")
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([encoder, keras.layers.Dense(num_classes, name="logits")], name="classifier")
    model.build((None, *encoder.input_shape[1:]))
    if head_weights is not None:
        model.layers[-1].set_weights([np.asarray(w, np.float32) for w in head_weights])
    optimizer = keras.optimizers.Adam(learning_rate)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    generator = tf.random.Generator.from_seed(seed)
    rng = np.random.default_rng(seed)

    @tf.function
    def step(xb: Any, yb: Any) -> Any:
        xb = augment(xb, generator) if augmentation else _as_float_images(xb)
        with tf.GradientTape() as tape:
            loss = cross_entropy(yb, model(xb, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    best, best_weights, history = -1.0, None, []
    for _ in range(int(num_epochs)):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            step(tf.constant(x[idx]), tf.constant(y[idx]))
        accuracy = float(np.mean(predict_classes(model, x_val) == y_val))
        history.append(accuracy)
        if accuracy > best:
            best, best_weights = accuracy, model.get_weights()
    model.set_weights(best_weights)
    return model, history


def predict_classes(model: Any, x: Any, batch_size: int = 250) -> np.ndarray:
    """The class a model's logits pick for each image (inference mode, small batches).

    Example:
        >>> predict_classes(model, x_test)  # doctest: +SKIP
        array([3, 1, ...])

    Args:
        model: a classifier returning logits (N, classes).
        x: images (N, 32, 32, 3), uint8 or float in [0, 1].
        batch_size: images per forward pass.

    Returns:
        int64 array (N,).

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    parts = [
        model(_as_float_images(np.asarray(x[i : i + batch_size])), training=False).numpy().argmax(axis=1)
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def save_encoder(encoder: Any, path: str | Path = WEIGHTS_PATH, *, info: dict[str, Any] | None = None) -> Path:
    """Write an encoder's weights (all of them, batch-norm statistics included) to an ``.npz``.

    The file holds ``w0``, ``w1``, ... (``encoder.get_weights()`` in order, float32) and
    ``config``: JSON with the filters and ``info`` (how the weights were made).

    Example:
        >>> save_encoder(build_encoder((8,)), "/tmp/enc.npz")  # doctest: +SKIP

    Args:
        encoder: a model from :func:`build_encoder`.
        path: where to write.
        info: JSON-serialisable facts to store with the weights (seed, steps, ...).

    Returns:
        The path written.

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    filters = [int(layer.filters) for layer in encoder.layers if hasattr(layer, "filters")]
    config = json.dumps({"filters": filters, "info": info or {}})
    arrays = {f"w{i}": np.asarray(w, np.float32) for i, w in enumerate(encoder.get_weights())}
    np.savez_compressed(path, config=np.array(config), **arrays)
    return path


def load_encoder(path: str | Path = WEIGHTS_PATH) -> Any:
    """The encoder stored by :func:`save_encoder` (by default the one shipped with the package).

    Example:
        >>> encoder = load_encoder()
        >>> encoder.output_shape
        (None, 128)

    Args:
        path: an ``.npz`` written by :func:`save_encoder`.

    Returns:
        A fresh encoder (``build_encoder(filters)``) holding the stored weights; its
        ``effcourse_info`` attribute is the stored ``info`` dict.

    Raises:
        FileNotFoundError: no such file (the shipped one is made by
            ``python scripts/pretrain_simclr.py``).
        ValueError: the file is not such an encoder, or its weights do not fit the architecture.

    Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no encoder weights at {path}; the course's are made by `python scripts/pretrain_simclr.py` "
            "(a few minutes) and shipped in effcourse/weights/"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            config = json.loads(str(f["config"]))
            weights = [f[f"w{i}"] for i in range(len(f.files) - 1)]
    except (KeyError, ValueError, OSError) as exc:
        raise ValueError(f"{path} is not an encoder written by effcourse.contrastive.save_encoder: {exc}") from exc
    encoder = build_encoder(config["filters"])
    expected = [tuple(w.shape) for w in encoder.get_weights()]
    found = [tuple(w.shape) for w in weights]
    if expected != found:
        raise ValueError(
            f"{path}: weight shapes {found} do not fit the encoder with filters {config['filters']} ({expected})"
        )
    encoder.set_weights(weights)
    encoder.effcourse_info = config.get("info", {})
    return encoder
