"""A small BERT-style encoder and masked-language-model pre-training, in Keras layers.

BERT (Devlin et al., 2019, "BERT: Pre-training of Deep Bidirectional Transformers for Language
Understanding") pre-trains a Transformer encoder on unlabelled text by *masked language
modelling* (MLM): 15% of the token positions are chosen; of those, 80% are replaced by a
``[MASK]`` token, 10% by a random token and 10% left unchanged, and the model predicts the
original token at every chosen position. The encoder is then fine-tuned on a labelled task.

- :func:`mask_tokens` makes one MLM batch (inputs, labels, sample weights) from token ids;
- :func:`bert_encoder` builds the encoder (token and position embeddings, ``num_layers``
  Transformer blocks of ``keras.layers.MultiHeadAttention`` and a feed-forward layer, each with a
  residual connection and layer normalisation);
- :func:`mlm_model` and :func:`classifier` put the pre-training and fine-tuning heads on it.

Token ids: 0 is padding, ``1..vocab_size-1`` are tokens, and the caller chooses the ``[MASK]`` id
(usually ``vocab_size``, one past the vocabulary, with the embedding table one row larger).

Example:
    >>> import numpy as np
    >>> ids = np.array([[5, 6, 7, 0]])
    >>> inputs, labels, weights = mask_tokens(ids, mask_id=9, vocab_size=9, seed=0, mask_rate=0.5)
    >>> inputs.shape, labels.shape, weights.dtype
    ((1, 4), (1, 4), dtype('float32'))

Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
"""

from __future__ import annotations

from typing import Any

import numpy as np


def mask_tokens(
    token_ids: np.ndarray,
    *,
    mask_id: int,
    vocab_size: int,
    seed: int,
    mask_rate: float = 0.15,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BERT's masking for one MLM batch: choose positions, then 80% ``[MASK]``, 10% random, 10% kept.

    Every non-padding position (id != 0) is chosen independently with probability ``mask_rate``.
    A chosen position's input becomes ``mask_id`` with probability 0.8, a random token drawn
    uniformly from ``1..vocab_size-1`` with probability 0.1, and stays as it is otherwise. Its label
    is the original id and its weight 1; every other position has label 0 and weight 0 (the loss
    ignores it). Padding is never chosen. The input array is not modified.

    Example:
        >>> ids = np.array([[3, 4, 5, 0, 0]])
        >>> x, y, w = mask_tokens(ids, mask_id=8, vocab_size=8, seed=1, mask_rate=1.0)
        >>> w.tolist(), y.tolist()
        ([[1.0, 1.0, 1.0, 0.0, 0.0]], [[3, 4, 5, 0, 0]])

    Args:
        token_ids: int array (batch, length) of token ids, 0 = padding.
        mask_id: the ``[MASK]`` token's id (not a vocabulary id, usually ``vocab_size``).
        vocab_size: number of ids ``0..vocab_size-1`` (0 is padding); random tokens are drawn from
            ``1..vocab_size-1``.
        seed: seeds ``np.random.default_rng``: the same seed gives the same batch.
        mask_rate: probability that a non-padding position is chosen (BERT: 0.15).

    Returns:
        ``(inputs, labels, weights)``: int32 (batch, length), int32 (batch, length), float32
        (batch, length).

    Raises:
        ValueError: ``token_ids`` is not 2-D integer, holds ids outside ``0..vocab_size-1``,
            ``mask_rate`` is outside [0, 1], or ``vocab_size`` < 2.

    Source: Devlin et al. (2019), section 3.1 "Task #1: Masked LM".

    Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
    """
    ids = np.asarray(token_ids)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"token_ids must be a 2-D integer array (batch, length), got {ids.dtype} {ids.shape}")
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2 (0 is padding), got {vocab_size}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"token ids must lie in 0..{vocab_size - 1}, got {ids.min()}..{ids.max()}")
    if not 0.0 <= mask_rate <= 1.0:
        raise ValueError(f"mask_rate must be in [0, 1], got {mask_rate}")
    rng = np.random.default_rng(seed)
    chosen = (rng.random(ids.shape) < mask_rate) & (ids != 0)
    action = rng.random(ids.shape)
    random_tokens = rng.integers(1, vocab_size, size=ids.shape)
    inputs = ids.astype(np.int32).copy()
    inputs[chosen & (action < 0.8)] = mask_id
    swap = chosen & (action >= 0.8) & (action < 0.9)
    inputs[swap] = random_tokens[swap]
    labels = np.where(chosen, ids, 0).astype(np.int32)
    return inputs, labels, chosen.astype(np.float32)


def bert_encoder(
    vocab_size: int,
    sequence_length: int,
    *,
    dim: int = 64,
    num_heads: int = 2,
    num_layers: int = 2,
    ffn_dim: int | None = None,
    dropout: float = 0.1,
    name: str = "bert_encoder",
) -> Any:
    """A small BERT-style Transformer encoder: ids (batch, length) -> vectors (batch, length, dim).

    Token embeddings (``vocab_size + 1`` rows: the extra row is ``[MASK]``, id ``vocab_size``)
    plus learned position embeddings, layer normalisation, then ``num_layers`` post-norm blocks
    (multi-head self-attention and a GELU feed-forward layer, each with dropout, a residual
    connection and layer normalisation), as in BERT. Padding (id 0) is masked out of attention.

    Example:
        >>> enc = bert_encoder(100, 16, dim=32, num_heads=2, num_layers=1)
        >>> enc.output_shape
        (None, 16, 32)

    Args:
        vocab_size: ids ``0..vocab_size-1`` (0 = padding); ``vocab_size`` is the ``[MASK]`` id.
        sequence_length: tokens per example.
        dim: the model width (embedding and hidden size).
        num_heads: attention heads; must divide ``dim``.
        num_layers: Transformer blocks.
        ffn_dim: the feed-forward layer's width (default ``4 * dim``, as in BERT).
        dropout: dropout rate after attention and the feed-forward layer.
        name: the Keras model's name.

    Returns:
        A ``tf_keras`` functional model.

    Raises:
        ValueError: ``dim`` is not a multiple of ``num_heads``, or a size is < 1.

    Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
    """
    from effcourse.compat import keras, tf

    for label, value in (("vocab_size", vocab_size), ("sequence_length", sequence_length), ("dim", dim)):
        if value < 1:
            raise ValueError(f"{label} must be >= 1, got {value}")
    if num_heads < 1 or dim % num_heads:
        raise ValueError(f"dim ({dim}) must be a multiple of num_heads ({num_heads})")
    ffn_dim = ffn_dim or 4 * dim
    ids = keras.layers.Input((sequence_length,), dtype="int32", name="token_ids")
    tokens = keras.layers.Embedding(vocab_size + 1, dim, name="token_embedding")(ids)
    positions = keras.layers.Embedding(sequence_length, dim, name="position_embedding")(
        tf.range(sequence_length)[tf.newaxis, :]
    )
    x = keras.layers.LayerNormalization(epsilon=1e-12, name="embedding_norm")(tokens + positions)
    attention_mask = keras.layers.Lambda(lambda t: tf.cast(t[:, tf.newaxis, :] != 0, tf.bool), name="padding_mask")(ids)
    for i in range(num_layers):
        attended = keras.layers.MultiHeadAttention(num_heads, dim // num_heads, name=f"block{i}_attention")(
            x, x, attention_mask=attention_mask
        )
        attended = keras.layers.Dropout(dropout)(attended)
        x = keras.layers.LayerNormalization(epsilon=1e-12, name=f"block{i}_attention_norm")(x + attended)
        hidden = keras.layers.Dense(ffn_dim, activation="gelu", name=f"block{i}_ffn_in")(x)
        hidden = keras.layers.Dense(dim, name=f"block{i}_ffn_out")(hidden)
        hidden = keras.layers.Dropout(dropout)(hidden)
        x = keras.layers.LayerNormalization(epsilon=1e-12, name=f"block{i}_ffn_norm")(x + hidden)
    return keras.Model(ids, x, name=name)


def mlm_model(encoder: Any, vocab_size: int) -> Any:
    """The pre-training model: the encoder and a softmax over the vocabulary at every position.

    Compile it with ``SparseCategoricalCrossentropy(from_logits=True)`` and pass
    :func:`mask_tokens`' weights as ``sample_weight`` so only the chosen positions count.

    Example:
        >>> mlm = mlm_model(bert_encoder(50, 8, dim=16, num_layers=1), 50)
        >>> mlm.output_shape
        (None, 8, 50)

    Args:
        encoder: a model from :func:`bert_encoder`.
        vocab_size: the vocabulary size (logits over ids ``0..vocab_size-1``).

    Returns:
        A ``tf_keras`` model: ids (batch, length) -> logits (batch, length, vocab_size).

    Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
    """
    from effcourse.compat import keras

    x = keras.layers.Dense(encoder.output_shape[-1], activation="gelu", name="mlm_transform")(encoder.output)
    x = keras.layers.LayerNormalization(epsilon=1e-12, name="mlm_norm")(x)
    logits = keras.layers.Dense(vocab_size, name="mlm_logits")(x)
    return keras.Model(encoder.input, logits, name="bert_mlm")


def classifier(encoder: Any, num_classes: int) -> Any:
    """The fine-tuning model: mean-pool the encoder's non-padding vectors, then one dense layer.

    Example:
        >>> clf = classifier(bert_encoder(50, 8, dim=16, num_layers=1), 4)
        >>> clf.output_shape
        (None, 4)

    Args:
        encoder: a model from :func:`bert_encoder` (pre-trained or fresh).
        num_classes: output logits.

    Returns:
        A ``tf_keras`` model: ids (batch, length) -> logits (batch, num_classes).

    Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
    """
    from effcourse.compat import keras, tf

    ids = encoder.input
    mask = keras.layers.Lambda(lambda t: tf.cast(t != 0, tf.float32)[..., tf.newaxis], name="token_mask")(ids)
    pooled = keras.layers.Lambda(
        lambda a: tf.reduce_sum(a[0] * a[1], axis=1) / tf.maximum(tf.reduce_sum(a[1], axis=1), 1.0), name="mean_pool"
    )([encoder.output, mask])
    logits = keras.layers.Dense(num_classes, name="classifier_logits")(pooled)
    return keras.Model(ids, logits, name="bert_classifier")


def linear_scaling_with_warmup(
    base_learning_rate: float, base_batch_size: int, batch_size: int, warmup_steps: int
) -> Any:
    """The linear scaling rule with gradual warm-up, as a Keras learning-rate schedule.

    Goyal et al. (2017, "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour"): when the
    batch grows k times, multiply the learning rate by k, and ramp it up linearly from
    ``base_learning_rate`` over the first steps so the early, unstable updates stay small. LEGW
    (You et al., 2018, "Large-Batch Training for LSTM and Beyond") makes the warm-up grow with the
    batch size as well (linear-epoch gradual warm-up): pass a ``warmup_steps`` proportional to
    the batch size's epochs.

    Example:
        >>> lr = linear_scaling_with_warmup(1e-3, 32, 128, warmup_steps=10)
        >>> round(float(lr(0)), 6), round(float(lr(10)), 6), round(float(lr(50)), 6)
        (0.001, 0.004, 0.004)

    Args:
        base_learning_rate: the learning rate tuned at ``base_batch_size``.
        base_batch_size: the batch size it was tuned at.
        batch_size: the batch size trained with.
        warmup_steps: steps of the linear ramp (0: none).

    Returns:
        A ``keras.optimizers.schedules.LearningRateSchedule``.

    Raises:
        ValueError: a non-positive rate or batch size, or negative ``warmup_steps``.

    Taught in: chapters/projects_tpu_bert/01_bert_with_tf_distribute
    """
    from effcourse.compat import keras, tf

    if base_learning_rate <= 0 or base_batch_size < 1 or batch_size < 1:
        raise ValueError("base_learning_rate, base_batch_size and batch_size must be positive")
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    peak = base_learning_rate * batch_size / base_batch_size

    class LinearScalingWithWarmup(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step: Any) -> Any:
            step = tf.cast(step, tf.float32)
            if warmup_steps == 0:
                return tf.constant(peak, tf.float32)
            ramp = base_learning_rate + (peak - base_learning_rate) * tf.minimum(step / warmup_steps, 1.0)
            return tf.cast(ramp, tf.float32)

        def get_config(self) -> dict[str, Any]:
            return {
                "base_learning_rate": base_learning_rate,
                "base_batch_size": base_batch_size,
                "batch_size": batch_size,
                "warmup_steps": warmup_steps,
            }

    return LinearScalingWithWarmup()


__all__ = ["bert_encoder", "classifier", "linear_scaling_with_warmup", "mask_tokens", "mlm_model"]
