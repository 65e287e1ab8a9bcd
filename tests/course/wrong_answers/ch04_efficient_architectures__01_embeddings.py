"""Plausible wrong answers for ch04_efficient_architectures/01_embeddings.

Each entry replaces the answer cell ``skipgram_pairs`` of the solution notebook; the submission
must then lose exactly the test cell ``skipgram_pairs__test``. The positives are checked exactly
(a zero inside a document, two documents, windows wider than a document); the negatives by
their properties on a large draw (shares ~ counts ** 0.75, never id 0, the context not
excluded, the same seed the same draws), never by particular draws.
"""


def _answer(pairs: str, negatives: str) -> str:
    return f"""
def skipgram_pairs(sequences, counts, *, window_size, num_negatives, seed):
    centres, contexts = [], []
{pairs}
    rng = np.random.default_rng(seed)
{negatives}
    return (np.array(centres, dtype=np.int32).reshape(-1), np.array(contexts, dtype=np.int32).reshape(-1),
            negatives.astype(np.int32))
"""


_PAIRS = """    for seq in sequences:
        seq = np.asarray(seq)
        for i in range(len(seq)):
            if seq[i] == 0:
                continue
            for j in range(max(0, i - window_size), min(len(seq), i + window_size + 1)):
                if j != i and seq[j] != 0:
                    centres.append(seq[i])
                    contexts.append(seq[j])"""

_NEGATIVES = """    weights = np.asarray(counts, dtype=np.float64) ** 0.75
    weights[0] = 0.0
    negatives = rng.choice(len(weights), size=(len(centres), num_negatives), p=weights / weights.sum())"""


def _negatives(weights: str) -> str:
    return f"""    weights = {weights}
    negatives = rng.choice(len(weights), size=(len(centres), num_negatives), p=weights / weights.sum())"""


WRONG_ANSWERS = [
    # Keras' skipgrams used as it is by default: shuffled pairs, negatives drawn uniformly (and mixed in)
    dict(
        cell="skipgram_pairs",
        source="""
def skipgram_pairs(sequences, counts, *, window_size, num_negatives, seed):
    centres, contexts, negatives = [], [], []
    for seq in sequences:
        couples, labels = keras.preprocessing.sequence.skipgrams(
            [int(v) for v in seq], len(counts), window_size=window_size, negative_samples=float(num_negatives), seed=seed)
        centres += [c[0] for c, label in zip(couples, labels) if label == 1]
        contexts += [c[1] for c, label in zip(couples, labels) if label == 1]
        negatives += [c[1] for c, label in zip(couples, labels) if label == 0]
    p = len(centres)
    negatives = (negatives + [1] * (p * num_negatives))[:p * num_negatives]
    return (np.array(centres, dtype=np.int32), np.array(contexts, dtype=np.int32),
            np.array(negatives, dtype=np.int32).reshape(p, num_negatives))
""",
        loses=["skipgram_pairs__test"],
    ),
]


def _entry(what: str, source: str) -> dict:
    return dict(cell="skipgram_pairs", what=what, source=source, loses=["skipgram_pairs__test"])


MORE_WRONG_ANSWERS = [
    # negatives from the wrong distribution (every other rule right)
    *(
        _entry(what, _answer(_PAIRS, _negatives(weights)))
        for what, weights in [
            ("uniform negatives", "np.r_[0.0, np.ones(len(counts) - 1)]"),
            ("counts ** 1 (no 3/4 power)", "np.r_[0.0, np.asarray(counts, dtype=np.float64)[1:]]"),
            ("counts ** 0.5", "np.r_[0.0, np.asarray(counts, dtype=np.float64)[1:] ** 0.5]"),
            ("padding drawn when counts[0] > 0", "np.asarray(counts, dtype=np.float64) ** 0.75"),
        ]
    ),
    # counts[0] zeroed in the caller's array
    _entry(
        "counts changed in place",
        _answer(_PAIRS, "    counts[0] = 0\n" + _negatives("np.asarray(counts, dtype=np.float64) ** 0.75")),
    ),
    # the documents joined first: pairs cross from one document to the next
    _entry(
        "across documents",
        _answer(
            _PAIRS.replace(
                "    for seq in sequences:\n",
                "    for seq in [np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences] or [np.zeros(0, np.int64)])]:\n",
            ),
            _NEGATIVES,
        ),
    ),
    # zeros removed before the window is applied: the other words move closer
    _entry(
        "zeros deleted first",
        _answer(
            _PAIRS.replace(
                "        seq = np.asarray(seq)\n", "        seq = np.asarray(seq)\n        seq = seq[seq != 0]\n"
            ),
            _NEGATIVES,
        ),
    ),
    # only the words after the centre
    _entry(
        "right context only",
        _answer(_PAIRS.replace("range(max(0, i - window_size), ", "range(i + 1, "), _NEGATIVES),
    ),
    # the window one too short on the right (range end not + 1)
    _entry(
        "window off by one",
        _answer(_PAIRS.replace("i + window_size + 1)", "i + window_size)"), _NEGATIVES),
    ),
    # the centre paired with itself (offset 0 kept)
    _entry(
        "centre as its own context",
        _answer(_PAIRS.replace("if j != i and seq[j] != 0", "if seq[j] != 0"), _NEGATIVES),
    ),
    # pairs ordered by offset (a vectorised loop over offsets, not sorted by centre position)
    _entry(
        "offset-major order",
        _answer(
            """    for seq in sequences:
        seq = np.asarray(seq, dtype=np.int64)
        for offset in [o for o in range(-window_size, window_size + 1) if o != 0]:
            for i in range(len(seq)):
                j = i + offset
                if 0 <= j < len(seq) and seq[i] != 0 and seq[j] != 0:
                    centres.append(seq[i])
                    contexts.append(seq[j])""",
            _NEGATIVES,
        ),
    ),
    # the pair's context excluded from its negatives (redrawn)
    _entry(
        "context excluded",
        _answer(
            _PAIRS,
            _NEGATIVES
            + """
    for r in range(len(centres)):
        for c in range(num_negatives):
            while negatives[r, c] == contexts[r] and (weights > 0).sum() > 1:
                negatives[r, c] = rng.choice(len(weights), p=weights / weights.sum())""",
        ),
    ),
    # the seed ignored
    _entry(
        "seed ignored",
        _answer(_PAIRS, _NEGATIVES).replace("np.random.default_rng(seed)", "np.random.default_rng()"),
    ),
    # int64 arrays
    _entry(
        "int64",
        _answer(_PAIRS, _NEGATIVES)
        .replace("dtype=np.int32", "dtype=np.int64")
        .replace("negatives.astype(np.int32)", "negatives.astype(np.int64)"),
    ),
    # the negatives flat, (P * k,)
    _entry(
        "flat negatives",
        _answer(_PAIRS, _NEGATIVES).replace("negatives.astype(np.int32))", "negatives.reshape(-1).astype(np.int32))"),
    ),
    # from a learner's review: the pairs collected as 1-element arrays and joined with np.concatenate, which
    # raises when there is no pair at all (P = 0)
    _entry(
        "crashes when there is no pair",
        _answer(
            _PAIRS.replace("centres.append(seq[i])", "centres.append(np.array([seq[i]]))").replace(
                "contexts.append(seq[j])", "contexts.append(np.array([seq[j]]))"
            )
            + "\n    centres, contexts = np.concatenate(centres), np.concatenate(contexts)",
            _NEGATIVES,
        ),
    ),
    # the out-of-vocabulary id 1 never drawn as a negative (w[:2] = 0 instead of w[0] = 0)
    _entry(
        "out-of-vocabulary id never drawn",
        _answer(_PAIRS, _NEGATIVES.replace("weights[0] = 0.0", "weights[:2] = 0.0")),
    ),
    # the generator re-created for every document: identical documents get identical negatives
    _entry(
        "rng re-created per document",
        _answer(
            """    weights = np.asarray(counts, dtype=np.float64) ** 0.75
    weights[0] = 0.0
    blocks = []
"""
            + _PAIRS.replace(
                "        seq = np.asarray(seq)\n", "        seq = np.asarray(seq)\n        start = len(centres)\n"
            )
            + """
        rng = np.random.default_rng(seed)
        blocks.append(rng.choice(len(weights), size=(len(centres) - start, num_negatives), p=weights / weights.sum()))""",
            "    negatives = np.concatenate(blocks) if blocks else np.zeros((0, num_negatives), np.int64)",
        ),
    ),
    # a float counts array changed in place (np.asarray does not copy float64)
    _entry(
        "float counts changed in place",
        _answer(
            _PAIRS,
            """    weights = np.asarray(counts, dtype=np.float64)
    weights[0] = 0.0
    weights **= 0.75
    negatives = rng.choice(len(weights), size=(len(centres), num_negatives), p=weights / weights.sum())""",
        ),
    ),
    # the vocabulary size taken from the documents (largest id + 1) instead of len(counts)
    _entry(
        "vocabulary size from the documents",
        _answer(
            _PAIRS,
            """    vocab = max([int(np.max(s)) for s in sequences if len(s)] + [1]) + 1
    weights = np.asarray(counts, dtype=np.float64)[:vocab] ** 0.75
    weights[0] = 0.0
    negatives = rng.choice(vocab, size=(len(centres), num_negatives), p=weights / weights.sum())""",
        ),
    ),
]
