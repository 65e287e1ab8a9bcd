"""Word embeddings: skip-gram pairs with negative sampling, a small SGNS trainer, and their uses.

Skip-gram with negative sampling (SGNS; Mikolov et al. 2013, *Distributed Representations of
Words and Phrases and their Compositionality*) learns a vector per word from unlabelled text:
for every (centre, context) pair of words that occur within a window, the dot product of the
centre's vector and the context's (second) vector should be high, and for ``k`` *negative*
words drawn from the unigram distribution raised to the power 3/4 it should be low. Words that
share contexts end up with similar vectors, which a classifier trained on few labels can use.

- :func:`skipgram_pairs` makes the training pairs (the graded exercise of
  ``01_embeddings``: a fixed window, negatives from ``counts ** 0.75``);
- :func:`subsample` drops frequent words before the pairs are made (Mikolov et al. 2013, sec. 2.3);
- :func:`sgns_model` / :func:`train_sgns` train the two embedding tables with Keras layers;
- :func:`nearest_neighbours` (cosine similarity) and :func:`project_2d` (PCA) look at them,
  :func:`reduce_dim` (PCA) shrinks them;
- :func:`encode` turns texts into padded id arrays, by vocabulary or by the hashing trick.

Ids: 0 is padding (never a centre, context or negative); with a vocabulary, 1 is the
out-of-vocabulary id and words are ``2..``; with hashing, words go to ``1..num_buckets``.

Example:
    >>> import numpy as np
    >>> ids = encode(["a b c"], ["a", "b", "c"], length=4)
    >>> ids.tolist()
    [[2, 3, 4, 0]]

:func:`skipgram_pairs` is the sealed reference of the notebook's exercise
(``ch04_efficient_architectures/01_embeddings:skipgram_pairs``): no other code of ``effcourse``
calls it (the leaf rule), and the lesson uses it only after the exercise.

Taught in: chapters/ch04_efficient_architectures/01_embeddings
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = [
    "skipgram_pairs",
    "subsample",
    "sgns_model",
    "train_sgns",
    "nearest_neighbours",
    "project_2d",
    "reduce_dim",
    "encode",
    "hash_bucket",
]

PAD, OOV = 0, 1


def _sequences(sequences: Any, name: str = "sequences") -> list[np.ndarray]:
    if isinstance(sequences, np.ndarray) and sequences.ndim == 1 and sequences.dtype != object:
        raise ValueError(f"{name} must be a list of 1-D id sequences (documents); wrap one sequence as [sequence]")
    out = []
    for i, s in enumerate(sequences):
        a = np.asarray(s)
        if a.size == 0:
            a = a.astype(np.int64)
        if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name}[{i}] must be a 1-D integer array of token ids, got {a.dtype} {a.shape}")
        out.append(a)
    return out


@sealed.reference("ch04_efficient_architectures/01_embeddings:skipgram_pairs")
def skipgram_pairs(
    sequences: Sequence[Any],
    counts: Any,
    *,
    window_size: int,
    num_negatives: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skip-gram (centre, context) pairs with ``num_negatives`` negatives per pair.

    Positives: for every sequence, every position ``i`` whose id is not 0 and every position
    ``j`` of the *same* sequence with ``1 <= |i - j| <= window_size`` whose id is not 0, one
    pair ``(ids[i], ids[j])``. The window is fixed (word2vec samples its size per centre word;
    here it is not). Order: sequences in order, centre positions ascending, then context
    positions ascending. Negatives: for each pair, ``num_negatives`` ids drawn independently,
    with replacement, from ``P(w) = counts[w] ** 0.75 / sum(counts ** 0.75)`` with
    ``counts[0]`` taken as 0 (padding is never drawn); the context word is *not* excluded.
    ``np.random.default_rng(seed)``: the same seed gives the same arrays. Inputs are not modified.

    Example:
        >>> c, x, n = skipgram_pairs([[5, 6, 0, 7]], np.ones(8), window_size=1, num_negatives=2, seed=0)
        >>> c.tolist(), x.tolist(), n.shape
        ([5, 6], [6, 5], (2, 2))

    Args:
        sequences: a list of 1-D integer id sequences (documents); ids ``0..len(counts)-1``.
        counts: 1-D array ``(vocab_size,)`` of non-negative word counts (the unigram counts).
        window_size: how many positions on each side count as context (>= 1).
        num_negatives: negatives per positive pair (>= 0).
        seed: seeds ``np.random.default_rng``.

    Returns:
        ``(centres, contexts, negatives)``: int32 arrays ``(P,)``, ``(P,)``, ``(P, num_negatives)``.

    Raises:
        ValueError: bad ``window_size``/``num_negatives``, ids outside the counts, negative
            counts, or no word with a positive count (other than id 0) to draw negatives from.

    Source: Mikolov et al. (2013), sec. 2.2 (negative sampling, the 3/4 power).

    Taught in: chapters/ch04_efficient_architectures/01_embeddings
    """
    seqs = _sequences(sequences)
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size < 2:
        raise ValueError(f"counts must be 1-D (vocab_size,) with vocab_size >= 2, got shape {counts.shape}")
    if (counts < 0).any() or not np.isfinite(counts).all():
        raise ValueError("counts must be finite and non-negative")
    if int(window_size) != window_size or window_size < 1:
        raise ValueError(f"window_size must be an integer >= 1, got {window_size}")
    if int(num_negatives) != num_negatives or num_negatives < 0:
        raise ValueError(f"num_negatives must be an integer >= 0, got {num_negatives}")
    for i, s in enumerate(seqs):
        if s.size and (s.min() < 0 or s.max() >= counts.size):
            raise ValueError(f"sequences[{i}] holds ids outside 0..{counts.size - 1} (the length of counts)")
    centres, contexts = [], []
    for s in seqs:
        n = s.size
        pos = np.arange(n)
        cen, ctx = [], []
        for offset in range(-window_size, window_size + 1):
            if offset == 0:
                continue
            i = pos[max(0, -offset) : max(0, n - max(0, offset))]  # empty when |offset| >= n
            j = i + offset
            keep = (s[i] != 0) & (s[j] != 0)
            cen.append(i[keep])
            ctx.append(j[keep])
        if cen:
            ci, cj = np.concatenate(cen), np.concatenate(ctx)
            order = np.lexsort((cj, ci))
            centres.append(s[ci[order]])
            contexts.append(s[cj[order]])
    centre = np.concatenate(centres).astype(np.int32) if centres else np.zeros(0, np.int32)
    context = np.concatenate(contexts).astype(np.int32) if contexts else np.zeros(0, np.int32)
    weights = counts**0.75
    weights[0] = 0.0
    if num_negatives and centre.size and weights.sum() <= 0:
        raise ValueError("no word other than id 0 has a positive count: nothing to draw negatives from")
    rng = np.random.default_rng(seed)
    if num_negatives and centre.size:
        negatives = rng.choice(counts.size, size=(centre.size, int(num_negatives)), p=weights / weights.sum())
    else:
        negatives = np.zeros((centre.size, int(num_negatives)), np.int64)
    return centre, context, negatives.astype(np.int32)


def subsample(sequences: Sequence[Any], counts: Any, *, threshold: float = 1e-3, seed: int = 0) -> list[np.ndarray]:
    """Drop frequent words at random before making pairs (word2vec's subsampling).

    A word of frequency ``f = counts[w] / sum(counts)`` is kept with probability
    ``min(1, sqrt(threshold / f))`` (Mikolov et al. 2013, sec. 2.3, eq. 5 gives the discard
    probability ``1 - sqrt(t / f)``). Frequent function words then appear less often, which
    speeds training and widens the effective window around rare words. Padding (0) is dropped.

    Example:
        >>> out = subsample([[1, 1, 1, 2]], np.array([0, 99, 1]), threshold=1.0, seed=0)
        >>> out[0].tolist()
        [1, 1, 1, 2]

    Args:
        sequences: a list of 1-D integer id sequences.
        counts: ``(vocab_size,)`` word counts.
        threshold: ``t`` (word2vec's ``-sample``; 1e-3 by default there).
        seed: seeds ``np.random.default_rng``.

    Returns:
        A list of new 1-D int32 arrays (the kept ids, in order).

    Raises:
        ValueError: ``threshold`` <= 0, or ids outside the counts.

    Taught in: chapters/ch04_efficient_architectures/01_embeddings
    """
    seqs = _sequences(sequences)
    counts = np.asarray(counts, dtype=np.float64)
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    total = counts.sum()
    if total <= 0:
        raise ValueError("counts must have a positive sum")
    freq = counts / total
    keep_p = np.minimum(1.0, np.sqrt(threshold / np.maximum(freq, 1e-300)))
    rng = np.random.default_rng(seed)
    out = []
    for i, s in enumerate(seqs):
        if s.size and (s.min() < 0 or s.max() >= counts.size):
            raise ValueError(f"sequences[{i}] holds ids outside 0..{counts.size - 1}")
        keep = (s != 0) & (rng.random(s.size) < keep_p[s])
        out.append(s[keep].astype(np.int32))
    return out


def sgns_model(vocab_size: int, dim: int, *, num_negatives: int) -> Any:
    """The SGNS scorer in Keras layers: (centre, context, negatives) -> logits ``(batch, 1 + k)``.

    Two ``Embedding`` tables: ``target`` (the word vectors we keep) and ``context``. The logit
    of a (centre, word) pair is the dot product of the centre's target vector and the word's
    context vector; column 0 is the true context, columns ``1..k`` the negatives. Train with
    ``BinaryCrossentropy(from_logits=True)`` against labels ``[1, 0, ..., 0]``.

    Example:
        >>> m = sgns_model(10, 4, num_negatives=3)
        >>> m.output_shape
        (None, 4)

    Args:
        vocab_size: number of ids.
        dim: embedding dimension.
        num_negatives: negatives per pair.

    Returns:
        A ``tf_keras`` model with inputs ``centre`` (batch,), ``context`` (batch,),
        ``negatives`` (batch, k); the target table is the layer named ``"target"``.

    Raises:
        ValueError: a size < 1 (``num_negatives`` < 0).

    Taught in: chapters/ch04_efficient_architectures/01_embeddings
    """
    from effcourse.compat import keras

    if vocab_size < 1 or dim < 1 or num_negatives < 0:
        raise ValueError(f"need vocab_size, dim >= 1 and num_negatives >= 0, got {vocab_size}, {dim}, {num_negatives}")
    centre = keras.Input((), dtype="int32", name="centre")
    context = keras.Input((), dtype="int32", name="context")
    negatives = keras.Input((num_negatives,), dtype="int32", name="negatives")
    target = keras.layers.Embedding(vocab_size, dim, name="target")
    other = keras.layers.Embedding(vocab_size, dim, name="context_table")
    words = keras.layers.Concatenate(axis=1)([keras.layers.Reshape((1,))(context), negatives])  # (batch, 1 + k)
    v = keras.layers.Reshape((1, dim))(target(centre))  # (batch, 1, dim)
    u = other(words)  # (batch, 1 + k, dim)
    logits = keras.layers.Flatten()(keras.layers.Dot(axes=(2, 2))([v, u]))  # (batch, 1 + k)
    return keras.Model([centre, context, negatives], logits, name="sgns")


def train_sgns(
    centres: Any,
    contexts: Any,
    negatives: Any,
    vocab_size: int,
    *,
    dim: int = 32,
    epochs: int = 3,
    batch_size: int = 1024,
    learning_rate: float = 1e-2,
    seed: int = 0,
) -> np.ndarray:
    """Train SGNS on given pairs (e.g. from :func:`skipgram_pairs`); return the word vectors.

    A fresh :func:`sgns_model`, Adam, binary cross-entropy on the logits (true context 1,
    negatives 0), pairs shuffled every epoch (Keras' shuffling, seeded through
    ``keras.utils.set_random_seed(seed)``).

    Example:
        >>> c, x, n = np.array([2, 3]), np.array([3, 2]), np.array([[1, 1], [1, 1]])
        >>> train_sgns(c, x, n, 4, dim=2, epochs=1).shape
        (4, 2)

    Args:
        centres, contexts: ``(P,)`` int ids; negatives: ``(P, k)`` int ids.
        vocab_size: number of ids (every id < vocab_size).
        dim: embedding dimension.
        epochs, batch_size, learning_rate: training settings.
        seed: seeds Keras' initialisers and the shuffling.

    Returns:
        float32 ``(vocab_size, dim)``: the target table.

    Raises:
        ValueError: the arrays' lengths differ, there are no pairs, or an id is out of range.

    Taught in: chapters/ch04_efficient_architectures/01_embeddings
    """
    from effcourse.compat import keras

    centres, contexts, negatives = (np.asarray(a) for a in (centres, contexts, negatives))
    if negatives.ndim != 2 or not (centres.shape == contexts.shape == negatives.shape[:1]) or centres.ndim != 1:
        raise ValueError(
            f"need centres (P,), contexts (P,), negatives (P, k); got {centres.shape}, {contexts.shape}, {negatives.shape}"
        )
    if centres.size == 0:
        raise ValueError("no pairs to train on")
    top = max(int(centres.max()), int(contexts.max()), int(negatives.max()) if negatives.size else 0)
    if top >= vocab_size or min(int(centres.min()), int(contexts.min())) < 0:
        raise ValueError(f"ids must lie in 0..{vocab_size - 1}, got up to {top}")
    keras.utils.set_random_seed(seed)
    k = negatives.shape[1]
    model = sgns_model(vocab_size, dim, num_negatives=k)
    model.compile(keras.optimizers.Adam(learning_rate), keras.losses.BinaryCrossentropy(from_logits=True))
    labels = np.zeros((centres.size, 1 + k), np.float32)
    labels[:, 0] = 1.0
    # NumPy arrays with Keras' own per-epoch shuffling (seeded by set_random_seed): about twice as
    # fast as a tf.data shuffle buffer over every pair
    inputs = [centres.astype(np.int32), contexts.astype(np.int32), negatives.astype(np.int32)]
    model.fit(inputs, labels, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
    return model.get_layer("target").get_weights()[0].astype(np.float32)


def nearest_neighbours(
    embeddings: Any, query: int, *, k: int = 5, exclude: Sequence[int] = (0,)
) -> list[tuple[int, float]]:
    """The ``k`` ids whose vectors have the highest cosine similarity with ``query``'s.

    Example:
        >>> e = np.array([[0, 0], [1, 0], [0.9, 0.1], [0, 1]], np.float32)
        >>> [i for i, _ in nearest_neighbours(e, 1, k=2)]
        [2, 3]

    Args:
        embeddings: ``(vocab_size, dim)`` vectors.
        query: the id to look up.
        k: how many neighbours.
        exclude: ids never returned (padding by default); the query itself is never returned.

    Returns:
        ``[(id, cosine similarity), ...]``, most similar first.

    Raises:
        ValueError: ``embeddings`` is not 2-D or ``query`` is out of range.

    Taught in: chapters/ch04_efficient_architectures/01_embeddings
    """
    e = np.asarray(embeddings, np.float64)
    if e.ndim != 2:
        raise ValueError(f"embeddings must be (vocab_size, dim), got {e.shape}")
    if not 0 <= query < e.shape[0]:
        raise ValueError(f"query must be in 0..{e.shape[0] - 1}, got {query}")
    unit = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit[query]
    sims[list(exclude)] = -np.inf
    sims[query] = -np.inf
    order = np.argsort(-sims, kind="stable")[:k]
    return [(int(i), float(sims[i])) for i in order if np.isfinite(sims[i])]


def reduce_dim(embeddings: Any, dim: int) -> np.ndarray:
    """PCA with NumPy's SVD: the centred vectors on their first ``dim`` principal axes.

    A cheap way to shrink a trained embedding table (``dim`` columns instead of all of them)
    without training again: the axes kept are those along which the vectors vary most. Each
    axis's sign is fixed so that its largest-magnitude coordinate is positive (SVD signs are
    arbitrary), so results do not flip between runs.

    Example:
        >>> reduce_dim(np.random.default_rng(0).normal(size=(10, 6)), 3).shape
        (10, 3)

    Args:
        embeddings: ``(n, d)`` vectors.
        dim: how many principal axes to keep, ``1 <= dim <= min(n, d)``.

    Returns:
        float32 ``(n, dim)``; column 0 has the largest variance.

    Raises:
        ValueError: the input is not 2-D, or ``dim`` is out of range.

    Taught in: chapters/ch04_efficient_architectures/01_embeddings
    """
    e = np.asarray(embeddings, np.float64)
    if e.ndim != 2:
        raise ValueError(f"embeddings must be (n, d), got {e.shape}")
    if int(dim) != dim or not 1 <= dim <= min(e.shape):
        raise ValueError(f"dim must be an integer in 1..{min(e.shape)} (rows and columns of embeddings), got {dim}")
    centred = e - e.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    points = u[:, :dim] * s[:dim]
    signs = np.sign(points[np.abs(points).argmax(axis=0), np.arange(dim)])
    return (points * np.where(signs == 0, 1.0, signs)).astype(np.float32)


def project_2d(embeddings: Any) -> np.ndarray:
    """PCA to two dimensions (:func:`reduce_dim` with ``dim=2``), in float64, for a picture.

    Example:
        >>> project_2d(np.eye(3)).shape
        (3, 2)

    Args:
        embeddings: ``(n, dim)`` vectors, ``dim >= 2`` and ``n >= 2``.

    Returns:
        float64 ``(n, 2)``.

    Raises:
        ValueError: the input is not 2-D with at least two rows and two columns.

    Taught in: chapters/ch04_efficient_architectures/01_embeddings
    """
    e = np.asarray(embeddings, np.float64)
    if e.ndim != 2 or e.shape[0] < 2 or e.shape[1] < 2:
        raise ValueError(f"embeddings must be (n >= 2, dim >= 2), got {e.shape}")
    return reduce_dim(e, 2).astype(np.float64)


def hash_bucket(word: str, num_buckets: int) -> int:
    """The hashing trick's id of ``word``: ``1 + crc32(word) % num_buckets`` (0 stays padding).

    CRC-32 (``zlib.crc32``) is stable across runs and machines, unlike Python's ``hash``.

    Example:
        >>> hash_bucket("market", 64) == hash_bucket("market", 64)
        True

    Args:
        word: the token.
        num_buckets: number of buckets (>= 1).

    Returns:
        An id in ``1..num_buckets``.

    Raises:
        ValueError: ``num_buckets`` < 1.

    Taught in: chapters/ch04_efficient_architectures/01_embeddings
    """
    if num_buckets < 1:
        raise ValueError(f"num_buckets must be >= 1, got {num_buckets}")
    return 1 + zlib.crc32(word.encode("utf-8")) % num_buckets


def encode(
    texts: Sequence[str],
    vocabulary: Sequence[str] | None = None,
    *,
    length: int,
    num_buckets: int | None = None,
) -> np.ndarray:
    """Texts -> padded ids ``(n, length)`` int32, by a vocabulary or by the hashing trick.

    Tokens come from :func:`effcourse.data.news.tokenize`. With ``vocabulary`` (a list of
    words), word ``vocabulary[i]`` gets id ``i + 2`` and any other word the out-of-vocabulary id
    1 (the table has ``len(vocabulary) + 2`` rows). With ``num_buckets`` instead, every word gets
    :func:`hash_bucket` (``num_buckets + 1`` rows; different words may share a bucket). Longer
    texts are cut at ``length``, shorter ones padded with 0 at the end.

    Example:
        >>> encode(["b a z"], ["a", "b"], length=4).tolist()
        [[3, 2, 1, 0]]

    Args:
        texts: strings.
        vocabulary: words, or None when hashing.
        length: ids per text.
        num_buckets: buckets of the hashing trick, or None with a vocabulary.

    Returns:
        int32 ``(len(texts), length)``.

    Raises:
        ValueError: both or neither of ``vocabulary`` and ``num_buckets``, or ``length`` < 1.

    Taught in: chapters/ch04_efficient_architectures/01_embeddings
    """
    from effcourse.data.news import tokenize

    if (vocabulary is None) == (num_buckets is None):
        raise ValueError("give exactly one of vocabulary (a word list) and num_buckets (the hashing trick)")
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if vocabulary is not None:
        index = {w: i + 2 for i, w in enumerate(vocabulary)}
        lookup = lambda w: index.get(w, OOV)  # noqa: E731
    else:
        cache: dict[str, int] = {}
        lookup = lambda w: cache.setdefault(w, hash_bucket(w, num_buckets))  # noqa: E731
    out = np.zeros((len(texts), length), np.int32)
    for r, text in enumerate(texts):
        ids = [lookup(w) for w in tokenize(text)[:length]]
        out[r, : len(ids)] = ids
    return out
