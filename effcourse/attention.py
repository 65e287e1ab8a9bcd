"""Attention for sequence models: scaled dot-product attention and an attention-pooling layer.

Two pieces that later chapters reuse::

    from effcourse import attention
    output, weights = attention.scaled_dot_product_attention(query, key, value, mask=mask)
    pooled = attention.AttentionPooling()(hidden_states)   # (batch, time, d) -> (batch, d)

:func:`scaled_dot_product_attention` is the formula of Vaswani et al. (2017), *Attention Is
All You Need*, eq. 1: ``softmax(Q K^T / sqrt(d_k)) V``, with a mask and any number of leading
batch/head axes. :class:`AttentionPooling` is a learned-query attention that turns the
hidden states of a sequence into one vector (the pooling of Yang et al. 2016, *Hierarchical
Attention Networks for Document Classification*, with a dot-product score): it lets a
classifier look at the positions that decide the class wherever they are, instead of
carrying them to the last state of an RNN.

Mask convention (both): ``True`` (or 1) = attend to that key, ``False`` (or 0) = ignore it,
as Keras' ``attention_mask``. A query whose keys are *all* masked gets all-zero weights and a
zero output (it has nothing to attend to).

Taught in: chapters/ch04_efficient_architectures/02_attention
"""

from __future__ import annotations

import math
from typing import Any

from effcourse import sealed
from effcourse.compat import keras, tf

__all__ = ["scaled_dot_product_attention", "AttentionPooling"]

_MASKED = -1e9  # added to masked scores: exp() of it is exactly 0 in float32


@sealed.reference("ch04_efficient_architectures/02_attention:attention")
def scaled_dot_product_attention(query: Any, key: Any, value: Any, mask: Any = None) -> tuple[Any, Any]:
    """Scaled dot-product attention: ``softmax(Q K^T / sqrt(d_k)) V``, masked.

    Each query position takes a weighted average of the values; the weights are a softmax,
    over the keys, of the query-key dot products divided by ``sqrt(d_k)`` (so that the
    scores' spread does not grow with the dimension, which would saturate the softmax).
    Masked keys get weight exactly 0; a query whose keys are all masked gets all-zero
    weights and a zero output. The inputs are not changed.

    Example:
        >>> import numpy as np
        >>> q = np.ones((1, 2, 4), np.float32); k = np.ones((1, 3, 4), np.float32)
        >>> v = np.arange(6, dtype=np.float32).reshape(1, 3, 2)
        >>> out, w = scaled_dot_product_attention(q, k, v, mask=np.array([True, True, False]))
        >>> w.numpy()[0, 0].tolist(), out.numpy()[0, 0].tolist()
        ([0.5, 0.5, 0.0], [1.0, 2.0])

    Args:
        query: ``(..., T_q, d_k)`` float tensor or array (``...``: batch, heads, any number of axes).
        key: ``(..., T_k, d_k)``.
        value: ``(..., T_k, d_v)``.
        mask: optional, broadcastable to ``(..., T_q, T_k)``; bool or 0/1, True = attend.

    Returns:
        ``(output, weights)``: tensors of shapes ``(..., T_q, d_v)`` and ``(..., T_q, T_k)``;
        every row of ``weights`` sums to 1 (or is all zero when its keys are all masked).

    Raises:
        ValueError: query and key have different last dimensions, or key and value different
            numbers of positions.

    Source: Vaswani et al. 2017, *Attention Is All You Need*, section 3.2.1.

    Taught in: chapters/ch04_efficient_architectures/02_attention
    """
    query = tf.convert_to_tensor(query)
    key = tf.convert_to_tensor(key, dtype=query.dtype)
    value = tf.convert_to_tensor(value, dtype=query.dtype)
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"query and key must have the same last dimension d_k, got {query.shape} and {key.shape}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"key and value must have the same number of positions, got {key.shape} and {value.shape}")
    d_k = query.shape[-1]
    scores = tf.matmul(query, key, transpose_b=True) / tf.cast(tf.sqrt(float(d_k)), query.dtype)
    if mask is None:
        return tf.matmul(tf.nn.softmax(scores, axis=-1), value), tf.nn.softmax(scores, axis=-1)
    keep = tf.cast(tf.convert_to_tensor(mask), query.dtype)
    weights = tf.nn.softmax(scores + (1.0 - keep) * _MASKED, axis=-1) * keep
    return tf.matmul(weights, value), weights


class AttentionPooling(keras.layers.Layer):
    """Pool a sequence ``(batch, time, d)`` to ``(batch, d)`` with a learned attention query.

    A learned vector ``q`` (``d`` weights, a ``Dense(1)`` without bias) scores every position,
    ``s_t = h_t . q / sqrt(d)``; a softmax over the unmasked positions turns the scores into
    weights, and the output is ``sum_t w_t h_t``. It respects Keras masks (padding from
    ``Embedding(mask_zero=True)``), so padded positions get weight 0.

    Cost per example: ``2 T d`` MACs (the scores and the weighted sum), counted by
    :mod:`effcourse.measure` through the ``Dense`` and ``Dot`` layers it uses. It converts to
    TFLite with builtin ops.

    Example:
        >>> import numpy as np
        >>> from effcourse.compat import keras
        >>> ids = keras.Input((6,), dtype="int64")
        >>> h = keras.layers.Embedding(10, 4, mask_zero=True)(ids)
        >>> pooled, weights = AttentionPooling()(h, return_attention_scores=True)
        >>> model = keras.Model(ids, [pooled, weights])
        >>> p, w = model.predict(np.array([[3, 4, 5, 0, 0, 0]]), verbose=0)
        >>> p.shape, w.shape, float(w[0, 3:].sum())
        ((1, 4), (1, 6), 0.0)

    Args:
        **kwargs: standard Keras layer arguments (``name``, ...).

    Call args:
        inputs: ``(batch, time, d)`` float tensor.
        mask: ``(batch, time)`` bool, True = a real position (passed by Keras automatically).
        return_attention_scores: also return the weights ``(batch, time)``.

    Caveat: a sequence with every position masked gets the average of its (padding) states,
    as Keras' ``Softmax`` layer gives uniform weights then; a document always has one word.

    Taught in: chapters/ch04_efficient_architectures/02_attention
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.score = keras.layers.Dense(1, use_bias=False, name="query")
        self.softmax = keras.layers.Softmax(axis=-1)
        self.pool = keras.layers.Dot(axes=(1, 1))

    def build(self, input_shape: Any) -> None:
        shape = tf.TensorShape(input_shape)
        if shape.rank != 3 or shape[-1] is None:
            raise ValueError(
                f"AttentionPooling expects inputs (batch, time, features) with known features, got {shape}"
            )
        self.score.build(shape)
        super().build(input_shape)

    def call(self, inputs: Any, mask: Any = None, return_attention_scores: bool = False) -> Any:
        scale = 1.0 / math.sqrt(int(inputs.shape[-1]))
        scores = tf.squeeze(self.score(inputs), axis=-1) * scale  # (batch, time)
        weights = self.softmax(scores, mask=mask)
        pooled = self.pool([weights, inputs])  # (batch, d)
        return (pooled, weights) if return_attention_scores else pooled

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None  # the time axis is pooled away
