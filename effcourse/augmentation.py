"""Data augmentation: image batches (mixup, cutout, cutmix, Keras layers) and text (EDA).

Images: :func:`mixup` (Zhang et al. 2018), :func:`cutout` (DeVries & Taylor 2017) and
:func:`cutmix` (Yun et al. 2019) work on NumPy batches ``(N, H, W, C)`` and never modify their
inputs; :func:`preprocessing_pipeline` builds the Keras random layers (flip, rotation,
translation, zoom, contrast) that are active only while training; :func:`batches` yields
shuffled, optionally transformed batches for ``model.fit``.

Text: the four operations of EDA (Wei & Zou 2019, *EDA: Easy Data Augmentation Techniques for
Boosting Performance on Text Classification Tasks*) on lists of words — :func:`synonym_replacement`,
:func:`random_insertion`, :func:`random_swap`, :func:`random_deletion` — pure and seeded, and
:func:`synonym_table`, which finds "synonyms" in unlabelled text (words used in the same
documents, by latent semantic analysis) so that nothing has to be downloaded.

Every random function takes ``seed``: an int, or a ``np.random.Generator`` that it draws from
(so a training loop can pass one generator along).

Taught in: chapters/ch03_learning_techniques/01_image_augmentation
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = [
    "mixup",
    "cutout",
    "cutmix",
    "preprocessing_pipeline",
    "batches",
    "synonym_table",
    "synonym_replacement",
    "random_insertion",
    "random_swap",
    "random_deletion",
    "num_edits",
]

Seed = int | np.random.Generator


def _rng(seed: Seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or a np.random.Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _image_batch(x: Any, name: str = "x") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{name} must be a batch of images (N, H, W, C), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise ValueError(f"{name} must hold floats (e.g. x.astype('float32') / 255), got dtype {x.dtype}")
    return x


# ------------------------------------------------------------------------------------ images
@sealed.reference("ch03_learning_techniques/01_image_augmentation:mixup")
def mixup(x: Any, y: Any, alpha: float, seed: Seed) -> tuple[np.ndarray, np.ndarray]:
    """Mix every example with a random partner of the same batch: mixup.

    For example ``i`` draw ``lam_i ~ Beta(alpha, alpha)`` and a partner ``j = perm[i]`` (a random
    permutation of the batch), and return ``lam_i * x[i] + (1 - lam_i) * x[j]`` with the labels
    mixed the same way, so every label row still sums to one.

    Example:
        >>> x, y = np.zeros((4, 8, 8, 3), "float32"), np.eye(4, dtype="float32")
        >>> xm, ym = mixup(x, y, alpha=0.2, seed=0)
        >>> xm.shape, ym.sum(axis=1).round(6).tolist()
        ((4, 8, 8, 3), [1.0, 1.0, 1.0, 1.0])

    Source: Zhang, Cisse, Dauphin & Lopez-Paz (2018), *mixup: Beyond Empirical Risk Minimization*.

    Args:
        x: float images (N, H, W, C).
        y: one-hot (or soft) labels (N, K).
        alpha: the Beta distribution's parameter (> 0); small values keep most examples nearly pure.
        seed: an int or a ``np.random.Generator``.

    Returns:
        ``(x_mixed, y_mixed)``: new float32 arrays of the shapes of ``x`` and ``y``.

    Raises:
        ValueError: bad shapes, ``alpha <= 0``, or batches of different lengths.

    Taught in: chapters/ch03_learning_techniques/01_image_augmentation
    """
    x = _image_batch(x)
    y = np.asarray(y)
    if y.ndim != 2 or len(y) != len(x):
        raise ValueError(f"y must be one-hot labels (N, K) for the N={len(x)} images, got shape {y.shape}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    rng = _rng(seed)
    lam = rng.beta(alpha, alpha, size=len(x))
    perm = rng.permutation(len(x))
    lx = lam.reshape(-1, *([1] * (x.ndim - 1)))
    x_mixed = lx * x + (1.0 - lx) * x[perm]
    y_mixed = lam[:, None] * y + (1.0 - lam[:, None]) * y[perm]
    return x_mixed.astype(np.float32), y_mixed.astype(np.float32)


def _box(rng: np.random.Generator, n: int, height: int, width: int, size: int) -> tuple[np.ndarray, ...]:
    """Rows [top, bottom) and columns [left, right) of n size x size squares, centred anywhere, clipped."""
    cy = rng.integers(0, height, size=n)
    cx = rng.integers(0, width, size=n)
    top, left = cy - size // 2, cx - size // 2
    return (
        np.clip(top, 0, height),
        np.clip(top + size, 0, height),
        np.clip(left, 0, width),
        np.clip(left + size, 0, width),
    )


@sealed.reference("ch03_learning_techniques/01_image_augmentation:cutout")
def cutout(x: Any, size: int, seed: Seed, fill: float = 0.0) -> np.ndarray:
    """Blank one ``size`` x ``size`` square per image: cutout.

    The square's centre is a uniformly random pixel, so near the border part of the square
    falls outside the image and is clipped (rows ``[cy - size//2, cy - size//2 + size)``
    intersected with ``[0, H)``, the same for columns); all channels are set to ``fill``.

    Example:
        >>> out = cutout(np.ones((2, 8, 8, 3), "float32"), size=4, seed=0)
        >>> out.shape, bool((out == 0).any())
        ((2, 8, 8, 3), True)

    Source: DeVries & Taylor (2017), *Improved Regularization of Convolutional Neural Networks
    with Cutout*.

    Args:
        x: float images (N, H, W, C); left unchanged.
        size: the side of the square in pixels (1 to min(H, W)).
        seed: an int or a ``np.random.Generator``.
        fill: the value written into the square.

    Returns:
        A new array like ``x``.

    Raises:
        ValueError: bad shapes or ``size``.

    Taught in: chapters/ch03_learning_techniques/01_image_augmentation
    """
    x = _image_batch(x)
    n, height, width = x.shape[:3]
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= min(height, width):
        raise ValueError(f"size must be an int from 1 to {min(height, width)}, got {size!r}")
    top, bottom, left, right = _box(_rng(seed), n, height, width, int(size))
    rows, cols = np.arange(height), np.arange(width)
    inside = (
        (rows[None, :, None] >= top[:, None, None])
        & (rows[None, :, None] < bottom[:, None, None])
        & (cols[None, None, :] >= left[:, None, None])
        & (cols[None, None, :] < right[:, None, None])
    )
    return np.where(inside[..., None], np.asarray(fill, dtype=x.dtype), x)


def cutmix(x: Any, y: Any, alpha: float, seed: Seed) -> tuple[np.ndarray, np.ndarray]:
    """Paste a random box of a partner image into each image, and mix the labels by area: CutMix.

    ``lam ~ Beta(alpha, alpha)`` per example sets the box's area to ``1 - lam`` of the image
    (sides ``H*sqrt(1-lam)``, ``W*sqrt(1-lam)``, centred anywhere and clipped); the label weight
    of the partner is the area actually pasted.

    Example:
        >>> xm, ym = cutmix(np.zeros((4, 8, 8, 3), "float32"), np.eye(4, dtype="float32"), 1.0, seed=0)
        >>> ym.sum(axis=1).round(6).tolist()
        [1.0, 1.0, 1.0, 1.0]

    Source: Yun et al. (2019), *CutMix: Regularization Strategy to Train Strong Classifiers with
    Localizable Features*.

    Args:
        x: float images (N, H, W, C).
        y: one-hot labels (N, K).
        alpha: the Beta parameter (> 0).
        seed: an int or a ``np.random.Generator``.

    Returns:
        ``(x_mixed, y_mixed)`` as new float32 arrays.

    Raises:
        ValueError: bad shapes or ``alpha <= 0``.

    Taught in: chapters/ch03_learning_techniques/01_image_augmentation
    """
    x = _image_batch(x)
    y = np.asarray(y)
    if y.ndim != 2 or len(y) != len(x):
        raise ValueError(f"y must be one-hot labels (N, K) for the N={len(x)} images, got shape {y.shape}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    rng = _rng(seed)
    n, height, width = x.shape[:3]
    lam = rng.beta(alpha, alpha, size=n)
    perm = rng.permutation(n)
    cut_h = (height * np.sqrt(1.0 - lam)).astype(int)
    cut_w = (width * np.sqrt(1.0 - lam)).astype(int)
    cy, cx = rng.integers(0, height, size=n), rng.integers(0, width, size=n)
    out = x.astype(np.float32, copy=True)
    pasted = np.zeros(n)
    for i in range(n):
        t, b = np.clip([cy[i] - cut_h[i] // 2, cy[i] - cut_h[i] // 2 + cut_h[i]], 0, height)
        le, r = np.clip([cx[i] - cut_w[i] // 2, cx[i] - cut_w[i] // 2 + cut_w[i]], 0, width)
        out[i, t:b, le:r] = x[perm[i], t:b, le:r]
        pasted[i] = (b - t) * (r - le) / (height * width)
    y_mixed = (1.0 - pasted)[:, None] * y + pasted[:, None] * y[perm]
    return out, y_mixed.astype(np.float32)


def preprocessing_pipeline(
    *,
    flip: str | None = "horizontal_and_vertical",
    rotation: float = 0.0,
    translation: float = 0.0,
    zoom: float = 0.0,
    contrast: float = 0.0,
    fill_mode: str = "nearest",
    seed: int | None = None,
    name: str = "augmentation",
) -> Any:
    """A Keras ``Sequential`` of random preprocessing layers, active only while training.

    Put it first in a model: at inference (``predict``, ``evaluate``) the layers pass images
    through unchanged, so the model's cost at deployment does not change. Layers whose
    strength is 0 (or ``flip=None``) are left out.

    Example:
        >>> aug = preprocessing_pipeline(rotation=0.5, translation=0.1)
        >>> [layer.__class__.__name__ for layer in aug.layers]
        ['RandomFlip', 'RandomRotation', 'RandomTranslation']

    Args:
        flip: ``"horizontal"``, ``"vertical"``, ``"horizontal_and_vertical"`` or None.
        rotation: the largest rotation as a fraction of a full turn (0.5 = up to 180 degrees).
        translation: the largest shift as a fraction of the height and width.
        zoom: the largest zoom in or out as a fraction.
        contrast: the largest contrast change as a fraction.
        fill_mode: how pixels moved in from outside are filled (Keras' ``fill_mode``).
        seed: seed of the layers' random draws.
        name: the Sequential's name.

    Returns:
        A ``keras.Sequential``.

    Raises:
        ValueError: a negative strength.

    Taught in: chapters/ch03_learning_techniques/01_image_augmentation
    """
    from effcourse.compat import keras

    for label, value in [("rotation", rotation), ("translation", translation), ("zoom", zoom), ("contrast", contrast)]:
        if value < 0:
            raise ValueError(f"{label} must be >= 0, got {value}")
    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip(flip, seed=seed))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation, fill_mode=fill_mode, seed=seed))
    if translation:
        layers.append(keras.layers.RandomTranslation(translation, translation, fill_mode=fill_mode, seed=seed))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode=fill_mode, seed=seed))
    if contrast:
        layers.append(keras.layers.RandomContrast(contrast, seed=seed))
    return keras.Sequential(layers, name=name)


def batches(
    x: Any,
    y: Any,
    batch_size: int,
    seed: Seed,
    transform: Callable[[np.ndarray, np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless shuffled batches ``(x_batch, y_batch)``, each passed through ``transform``.

    Use with ``model.fit(batches(...), steps_per_epoch=ceil(len(x) / batch_size), ...)``.
    ``transform(x_batch, y_batch, rng)`` returns the new batch (e.g. mixup then cutout); one
    generator ``rng``, made from ``seed``, drives the shuffling and the transform, so a run is
    reproducible.

    Example:
        >>> it = batches(np.zeros((10, 4, 4, 3), "float32"), np.eye(10), batch_size=4, seed=0)
        >>> [len(next(it)[0]) for _ in range(3)]
        [4, 4, 2]

    Args:
        x: inputs (N, ...).
        y: labels (N, ...).
        batch_size: examples per batch (the last batch of an epoch may be smaller).
        seed: an int or a ``np.random.Generator``.
        transform: an optional function of ``(x_batch, y_batch, rng)``.

    Returns:
        An endless iterator of batches.

    Raises:
        ValueError: ``x`` and ``y`` differ in length or ``batch_size < 1``.

    Taught in: chapters/ch03_learning_techniques/01_image_augmentation
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rng = _rng(seed)

    def generate() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while True:
            order = rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                idx = order[start : start + batch_size]
                xb, yb = x[idx], y[idx]
                if transform is not None:
                    xb, yb = transform(xb, yb, rng)
                yield xb, yb

    return generate()


# -------------------------------------------------------------------------------------- text
def num_edits(num_words: int, alpha: float) -> int:
    """The number of words an EDA operation changes: ``max(1, int(alpha * num_words))``.

    Example:
        >>> num_edits(25, 0.1), num_edits(5, 0.1)
        (2, 1)

    Source: Wei & Zou (2019), EDA, section 2 (``n = alpha * l``, at least one change).

    Raises:
        ValueError: ``alpha`` outside [0, 1] or a negative length.

    Taught in: chapters/ch03_learning_techniques/02_text_augmentation
    """
    if num_words < 0 or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"need num_words >= 0 and 0 <= alpha <= 1, got {num_words}, {alpha}")
    return max(1, int(alpha * num_words))


def _words(words: Any) -> list[str]:
    if isinstance(words, str):
        raise TypeError("give a list of words (e.g. text.split()), not one string")
    return list(words)


def synonym_table(
    texts: Sequence[Sequence[str]],
    *,
    rank: int = 8,
    per_word: int = 5,
    min_count: int = 5,
    min_similarity: float = 0.6,
    max_document_frequency: float = 0.3,
) -> dict[str, list[str]]:
    """Synonyms found in unlabelled text: words that occur in the same documents (LSA).

    Each document becomes a TF-IDF row over the words seen at least ``min_count`` times; a
    truncated SVD of rank ``rank`` gives every word a vector (latent semantic analysis, Deerwester
    et al. 1990), and a word's synonyms are its ``per_word`` nearest words by cosine similarity
    above ``min_similarity``. Words in more than ``max_document_frequency`` of the documents
    (function words) neither get nor serve as synonyms. No labels are used, so the table may be
    built from every training text, labelled or not (never from the test split).

    Example:
        >>> docs = [["goal", "match", "the"], ["match", "win", "the"], ["oil", "bank", "the"]] * 5
        >>> table = synonym_table(docs, rank=2, min_count=1, max_document_frequency=0.9)
        >>> "win" in table["goal"]
        True

    Caveats:
        These are *distributional* neighbours: words of the same topic, not dictionary synonyms
        ("minister" -> "diplomat"). For topic classification that is what we want; for
        sentiment, "good" and "bad" would come out as neighbours.

    Args:
        texts: documents as lists of words.
        rank: dimensions kept by the SVD.
        per_word: most synonyms per word.
        min_count: least occurrences of a word to be in the table.
        min_similarity: least cosine similarity of a synonym.
        max_document_frequency: words in a larger share of documents are left out.

    Returns:
        ``{word: [synonym, ...]}`` for every word that has one; no word is its own synonym.

    Raises:
        ValueError: no texts, or too few words for ``rank``.

    Taught in: chapters/ch03_learning_techniques/02_text_augmentation
    """
    docs = [_words(t) for t in texts]
    if not docs:
        raise ValueError("texts is empty")
    counts = Counter(w for d in docs for w in d)
    vocab = sorted(w for w, c in counts.items() if c >= min_count)
    if len(vocab) <= rank:
        raise ValueError(f"only {len(vocab)} words occur {min_count}+ times; lower rank or min_count")
    index = {w: i for i, w in enumerate(vocab)}
    tf = np.zeros((len(docs), len(vocab)), dtype=np.float64)
    for row, d in enumerate(docs):
        for w in d:
            j = index.get(w)
            if j is not None:
                tf[row, j] += 1
    df = (tf > 0).sum(axis=0)
    tfidf = np.log1p(tf) * np.log(len(docs) / np.maximum(df, 1))
    _, s, vt = np.linalg.svd(tfidf, full_matrices=False)
    vectors = vt[:rank].T * s[:rank]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    similarity = vectors @ vectors.T
    common = df > max_document_frequency * len(docs)
    table: dict[str, list[str]] = {}
    for i, word in enumerate(vocab):
        if common[i]:
            continue
        order = np.argsort(-similarity[i], kind="stable")
        near = [vocab[j] for j in order if j != i and not common[j] and similarity[i, j] >= min_similarity]
        if near:
            table[word] = near[:per_word]
    return table


def _check_synonyms(synonyms: Any) -> Mapping[str, Sequence[str]]:
    if not isinstance(synonyms, Mapping):
        raise TypeError(f"synonyms must be a dict {{word: [synonyms]}}, got {type(synonyms).__name__}")
    return synonyms


@sealed.reference("ch03_learning_techniques/02_text_augmentation:eda_synonyms")
def synonym_replacement(
    words: Sequence[str], synonyms: Mapping[str, Sequence[str]], alpha: float, seed: Seed
) -> list[str]:
    """Replace ``num_edits(len(words), alpha)`` words that have synonyms, each at its own position.

    Positions are chosen without repetition among the words found in ``synonyms`` (all of them
    when there are fewer), and each is replaced by a synonym drawn uniformly. The input list is
    left unchanged.

    Example:
        >>> synonym_replacement(["the", "match", "ended"], {"match": ["game"]}, alpha=0.1, seed=0)
        ['the', 'game', 'ended']

    Source: Wei & Zou (2019), EDA, operation SR.

    Args:
        words: a list of words.
        synonyms: ``{word: [synonym, ...]}``.
        alpha: the share of words to change.
        seed: an int or a ``np.random.Generator``.

    Returns:
        A new list of the same length.

    Raises:
        TypeError: ``words`` is a string or ``synonyms`` not a mapping.

    Taught in: chapters/ch03_learning_techniques/02_text_augmentation
    """
    out = _words(words)
    synonyms = _check_synonyms(synonyms)
    rng = _rng(seed)
    candidates = [i for i, w in enumerate(out) if synonyms.get(w)]
    chosen = rng.permutation(candidates)[: num_edits(len(out), alpha)] if candidates else []
    for i in chosen:
        options = synonyms[out[i]]
        out[i] = options[int(rng.integers(len(options)))]
    return out


@sealed.reference("ch03_learning_techniques/02_text_augmentation:eda_synonyms")
def random_insertion(
    words: Sequence[str], synonyms: Mapping[str, Sequence[str]], alpha: float, seed: Seed
) -> list[str]:
    """Insert ``num_edits(len(words), alpha)`` synonyms of random words at random positions.

    Each insertion picks a word of the *original* list that has synonyms, one of its synonyms,
    and a position from 0 to the current length; the original words keep their order. When no
    word has a synonym, a copy of the list is returned.

    Example:
        >>> random_insertion(["the", "match"], {"match": ["game"]}, alpha=0.1, seed=0)
        ['the', 'match', 'game']

    Source: Wei & Zou (2019), EDA, operation RI.

    Args:
        words: a list of words.
        synonyms: ``{word: [synonym, ...]}``.
        alpha: the share of words to insert.
        seed: an int or a ``np.random.Generator``.

    Returns:
        A new list, ``num_edits(len(words), alpha)`` words longer (or a copy).

    Raises:
        TypeError: ``words`` is a string or ``synonyms`` not a mapping.

    Taught in: chapters/ch03_learning_techniques/02_text_augmentation
    """
    original = _words(words)
    synonyms = _check_synonyms(synonyms)
    rng = _rng(seed)
    candidates = [w for w in original if synonyms.get(w)]
    out = list(original)
    if not candidates:
        return out
    for _ in range(num_edits(len(original), alpha)):
        word = candidates[int(rng.integers(len(candidates)))]
        options = synonyms[word]
        out.insert(int(rng.integers(len(out) + 1)), options[int(rng.integers(len(options)))])
    return out


@sealed.reference("ch03_learning_techniques/02_text_augmentation:eda_order")
def random_swap(words: Sequence[str], alpha: float, seed: Seed) -> list[str]:
    """Swap two different random positions, ``num_edits(len(words), alpha)`` times.

    Example:
        >>> random_swap(["a", "b", "c"], alpha=0.1, seed=0)
        ['a', 'c', 'b']

    Source: Wei & Zou (2019), EDA, operation RS.

    Args:
        words: a list of words (fewer than two: returned as a copy).
        alpha: the share of words to swap.
        seed: an int or a ``np.random.Generator``.

    Returns:
        A new list with the same words in another order.

    Raises:
        TypeError: ``words`` is a string.

    Taught in: chapters/ch03_learning_techniques/02_text_augmentation
    """
    out = _words(words)
    rng = _rng(seed)
    if len(out) < 2:
        return out
    for _ in range(num_edits(len(out), alpha)):
        i, j = rng.choice(len(out), size=2, replace=False)
        out[i], out[j] = out[j], out[i]
    return out


@sealed.reference("ch03_learning_techniques/02_text_augmentation:eda_order")
def random_deletion(words: Sequence[str], p: float, seed: Seed) -> list[str]:
    """Delete each word independently with probability ``p``; never return an empty list.

    If every word would be deleted, one word drawn at random is kept. The kept words keep their
    order.

    Example:
        >>> random_deletion(["a", "b", "c", "d"], p=0.0, seed=0)
        ['a', 'b', 'c', 'd']

    Source: Wei & Zou (2019), EDA, operation RD.

    Args:
        words: a non-empty list of words.
        p: the probability of deleting a word, in [0, 1].
        seed: an int or a ``np.random.Generator``.

    Returns:
        A new, shorter (or equal) list.

    Raises:
        ValueError: ``p`` outside [0, 1] or no words.
        TypeError: ``words`` is a string.

    Taught in: chapters/ch03_learning_techniques/02_text_augmentation
    """
    original = _words(words)
    if not original:
        raise ValueError("words is empty: there is nothing to delete from")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    rng = _rng(seed)
    keep = rng.random(len(original)) >= p
    out = [w for w, k in zip(original, keep) if k]
    return out or [original[int(rng.integers(len(original)))]]
