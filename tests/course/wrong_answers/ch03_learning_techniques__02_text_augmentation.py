"""Plausible wrong answers for ch03_learning_techniques/02_text_augmentation.

Each entry replaces one answer cell of the solution notebook; the grading suite checks that the
submission then loses exactly the points of the test cells listed in ``loses``. The two
exercises are independent, so each mistake costs only its own exercise.
"""

_RANDOM_INSERTION = """

def random_insertion(words, synonyms, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    candidates = [word for word in words if synonyms.get(word)]
    if not candidates:
        return out
    for _ in range(max(1, int(alpha * len(words)))):
        options = synonyms[candidates[rng.integers(len(candidates))]]
        out.insert(rng.integers(len(out) + 1), options[rng.integers(len(options))])
    return out
"""

_SYNONYM_REPLACEMENT = """
def synonym_replacement(words, synonyms, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    positions = [i for i, word in enumerate(out) if synonyms.get(word)]
    for i in rng.permutation(positions)[: max(1, int(alpha * len(out)))]:
        options = synonyms[out[i]]
        out[i] = options[rng.integers(len(options))]
    return out
"""

_RANDOM_DELETION = """

def random_deletion(words, p, seed):
    rng = np.random.default_rng(seed)
    keep = rng.random(len(words)) >= p
    out = [word for word, k in zip(words, keep) if k]
    return out if out else [words[rng.integers(len(words))]]
"""

_RANDOM_SWAP = """
def random_swap(words, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    if len(out) < 2:
        return out
    for _ in range(max(1, int(alpha * len(out)))):
        i, j = rng.choice(len(out), size=2, replace=False)
        out[i], out[j] = out[j], out[i]
    return out
"""

WRONG_ANSWERS = [
    # edits the caller's list: `out = words` is the same list, not a copy
    dict(
        cell="eda_synonyms",
        source="""
def synonym_replacement(words, synonyms, alpha, seed):
    out = words
    rng = np.random.default_rng(seed)
    positions = [i for i, word in enumerate(out) if synonyms.get(word)]
    for i in rng.permutation(positions)[: max(1, int(alpha * len(out)))]:
        options = synonyms[out[i]]
        out[i] = options[rng.integers(len(options))]
    return list(out)
"""
        + _RANDOM_INSERTION,
        loses=["eda_synonyms__test"],
    ),
    # not seeded: the global generator gives another result on every call
    dict(
        cell="eda_synonyms",
        source="""
def synonym_replacement(words, synonyms, alpha, seed):
    out = list(words)
    positions = [i for i, word in enumerate(out) if synonyms.get(word)]
    for i in np.random.permutation(positions)[: max(1, int(alpha * len(out)))]:
        options = synonyms[out[i]]
        out[i] = options[np.random.randint(len(options))]
    return out
"""
        + _RANDOM_INSERTION,
        loses=["eda_synonyms__test"],
    ),
    # always replaces the first n replaceable words instead of n random ones
    dict(
        cell="eda_synonyms",
        source="""
def synonym_replacement(words, synonyms, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    positions = [i for i, word in enumerate(out) if synonyms.get(word)]
    for i in positions[: max(1, int(alpha * len(out)))]:
        options = synonyms[out[i]]
        out[i] = options[rng.integers(len(options))]
    return out
"""
        + _RANDOM_INSERTION,
        loses=["eda_synonyms__test"],
    ),
    # inserts a copy of the word instead of one of its synonyms
    dict(
        cell="eda_synonyms",
        source=_SYNONYM_REPLACEMENT
        + """

def random_insertion(words, synonyms, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    candidates = [word for word in words if synonyms.get(word)]
    if not candidates:
        return out
    for _ in range(max(1, int(alpha * len(words)))):
        out.insert(rng.integers(len(out) + 1), candidates[rng.integers(len(candidates))])
    return out
""",
        loses=["eda_synonyms__test"],
    ),
    # i and j may be the same position: some "swaps" change nothing
    dict(
        cell="eda_order",
        source="""
def random_swap(words, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    for _ in range(max(1, int(alpha * len(out)))):
        i, j = rng.integers(len(out)), rng.integers(len(out))
        out[i], out[j] = out[j], out[i]
    return out
"""
        + _RANDOM_DELETION,
        loses=["eda_order__test"],
    ),
    # can return an empty list when every word is deleted
    dict(
        cell="eda_order",
        source=_RANDOM_SWAP
        + """

def random_deletion(words, p, seed):
    rng = np.random.default_rng(seed)
    return [word for word in words if rng.random() >= p]
""",
        loses=["eda_order__test"],
    ),
    # p used as the probability of keeping a word
    dict(
        cell="eda_order",
        source=_RANDOM_SWAP
        + """

def random_deletion(words, p, seed):
    rng = np.random.default_rng(seed)
    out = [word for word in words if rng.random() < p]
    return out if out else [words[rng.integers(len(words))]]
""",
        loses=["eda_order__test"],
    ),
]


# Checked with `effcourse validate` on a copy of the solution notebook (each loses exactly its cell);
# kept for a longer run: WRONG_ANSWERS + MORE_WRONG_ANSWERS.
MORE_WRONG_ANSWERS = [
    # n = int(alpha * len(words)) without EDA's max(1, ...): short sentences are never edited
    dict(
        cell="eda_synonyms",
        source="""
def synonym_replacement(words, synonyms, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    positions = [i for i, word in enumerate(out) if synonyms.get(word)]
    n = int(alpha * len(out))
    for i in rng.permutation(positions)[:n]:
        options = synonyms[out[i]]
        out[i] = options[rng.integers(len(options))]
    return out



def random_insertion(words, synonyms, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    candidates = [word for word in words if synonyms.get(word)]
    if not candidates:
        return out
    for _ in range(max(1, int(alpha * len(words)))):
        options = synonyms[candidates[rng.integers(len(candidates))]]
        out.insert(rng.integers(len(out) + 1), options[rng.integers(len(options))])
    return out
""",
        loses=["eda_synonyms__test"],
    ),
    # random insertion inserts a copy of a word of the list, not one of its synonyms
    dict(
        cell="eda_synonyms",
        source="""
def synonym_replacement(words, synonyms, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    positions = [i for i, word in enumerate(out) if synonyms.get(word)]
    n = max(1, int(alpha * len(out)))
    for i in rng.permutation(positions)[:n]:
        options = synonyms[out[i]]
        out[i] = options[rng.integers(len(options))]
    return out



def random_insertion(words, synonyms, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    candidates = [word for word in words if synonyms.get(word)]
    if not candidates:
        return out
    for _ in range(max(1, int(alpha * len(words)))):
        options = synonyms[candidates[rng.integers(len(candidates))]]
        out.insert(rng.integers(len(out) + 1), words[rng.integers(len(words))])
    return out
""",
        loses=["eda_synonyms__test"],
    ),
    # the two positions of a swap drawn independently: sometimes a word is swapped with itself
    dict(
        cell="eda_order",
        source="""
def random_swap(words, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    if len(out) < 2:
        return out
    for _ in range(max(1, int(alpha * len(out)))):
        i, j = rng.integers(len(out)), rng.integers(len(out))
        out[i], out[j] = out[j], out[i]
    return out


def random_deletion(words, p, seed):
    rng = np.random.default_rng(seed)
    keep = rng.random(len(words)) >= p
    out = [word for word, k in zip(words, keep) if k]
    return out if out else [words[rng.integers(len(words))]]
""",
        loses=["eda_order__test"],
    ),
    # when every word is deleted, always keep the first one (not a random one)
    dict(
        cell="eda_order",
        source="""
def random_swap(words, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    if len(out) < 2:
        return out
    for _ in range(max(1, int(alpha * len(out)))):
        i, j = rng.choice(len(out), size=2, replace=False)
        out[i], out[j] = out[j], out[i]
    return out


def random_deletion(words, p, seed):
    rng = np.random.default_rng(seed)
    keep = rng.random(len(words)) >= p
    out = [word for word, k in zip(words, keep) if k]
    return out if out else [words[0]]
""",
        loses=["eda_order__test"],
    ),
    # deletes exactly int(p * len(words)) words: short sentences never lose a word with p=0.1
    dict(
        cell="eda_order",
        source="""
def random_swap(words, alpha, seed):
    out = list(words)
    rng = np.random.default_rng(seed)
    if len(out) < 2:
        return out
    for _ in range(max(1, int(alpha * len(out)))):
        i, j = rng.choice(len(out), size=2, replace=False)
        out[i], out[j] = out[j], out[i]
    return out


def random_deletion(words, p, seed):
    rng = np.random.default_rng(seed)
    keep = np.ones(len(words), bool); keep[rng.permutation(len(words))[:int(p * len(words))]] = False
    out = [word for word, k in zip(words, keep) if k]
    return out if out else [words[rng.integers(len(words))]]
""",
        loses=["eda_order__test"],
    ),
]

# found by a reviewer: swaps of neighbouring positions only; a deleted count of int(p * n) plus one with the
# leftover probability (the right mean, but never 2 of 5 words with p=0.1); the fallback word drawn from the
# unseeded global np.random
MORE_WRONG_ANSWERS += [
    dict(
        cell="eda_order",
        source=_RANDOM_SWAP.replace(
            "i, j = rng.choice(len(out), size=2, replace=False)", "i = int(rng.integers(len(out) - 1)); j = i + 1"
        )
        + _RANDOM_DELETION,
        loses=["eda_order__test"],
    ),
    dict(
        cell="eda_order",
        source=_RANDOM_SWAP
        + """

def random_deletion(words, p, seed):
    rng = np.random.default_rng(seed)
    n = len(words)
    m = int(p * n) + int(rng.random() < p * n - int(p * n))
    gone = set(rng.choice(n, size=min(m, n), replace=False).tolist())
    out = [w for k, w in enumerate(words) if k not in gone]
    return out if out else [words[int(rng.integers(n))]]
""",
        loses=["eda_order__test"],
    ),
    dict(
        cell="eda_order",
        source=_RANDOM_SWAP
        + _RANDOM_DELETION.replace("words[rng.integers(len(words))]", "words[np.random.randint(len(words))]"),
        loses=["eda_order__test"],
    ),
]
