"""``news``: an AG News stand-in of generated topic documents.

Offline: four topics (World, Sports, Business, Sci/Tech). A document is 40-120 words of
sentences made from a shared pool of function and generic news words, with only a few
topic words per sentence, some of them ambiguous (shared by two topics, e.g. "market",
"record", "network"), and the occasional word from another topic. The decisive words are
therefore sparse and can be far apart; bag-of-words models do well but not perfectly, and
embeddings of the shared words are worth learning. x: arrays of str, y int64 (N,) in 0..3;
``info["vocabulary"]``: the training split's words, most frequent first.

Real: AG News (``train.csv``/``test.csv``: class 1-4, title, description) from the
CharCnn_Keras mirror that TensorFlow Datasets also uses; x is ``title + " " + description``,
labels mapped to 0..3.
"""

from __future__ import annotations

import csv
import re
from collections import Counter

import numpy as np

from effcourse.data import _cache
from effcourse.data._base import Dataset

CLASS_NAMES = ["World", "Sports", "Business", "Sci/Tech"]
NUM_TRAIN_PER_TOPIC = 1000
NUM_TEST_PER_TOPIC = 200
AG_NEWS_BASE = "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/"

_FUNCTION = (
    "the a of to in and on for with that by at from as is was has have will its their "
    "after over about into this than more new but not also could would while"
).split()
_GENERIC = (
    "said reported on monday tuesday wednesday thursday friday week year officials people "
    "group plan report news announced expected last first two three percent day time told "
    "statement according company country team government leaders early late major big"
).split()
_TOPIC_WORDS = {
    0: (
        "minister president election troops parliament war peace talks embassy rebels border "
        "ceasefire diplomat united nations iraq refugees protest vote capital military crisis "
        "summit treaty prime regime"
    ).split(),
    1: (
        "game season coach players win victory championship league cup goal tournament score "
        "injury olympic medal match final striker quarterback inning race title fans stadium "
        "defeat"
    ).split(),
    2: (
        "shares profit earnings investors stocks quarter sales oil prices economy bank deal "
        "merger revenue billion dollar inflation retail trade consumer analysts firm quarterly "
        "bid"
    ).split(),
    3: (
        "software internet computer users online microsoft google chip wireless research "
        "scientists space nasa technology data web phone digital launch device virus program "
        "browser"
    ).split(),
}
# ambiguous words, each used by two topics
_SHARED = {
    (0, 2): "sanctions market exports oil".split(),
    (1, 2): "record contract transfer sponsor".split(),
    (2, 3): "network startup patent ipo".split(),
    (0, 3): "satellite security nuclear".split(),
    (1, 3): "speed test".split(),
}


_FUNCTION_ARRAY = np.array(_FUNCTION, dtype=object)
_GENERIC_ARRAY = np.array(_GENERIC, dtype=object)


def _topic_pool(topic: int) -> np.ndarray:
    words = list(_TOPIC_WORDS[topic])
    for pair, shared in _SHARED.items():
        if topic in pair:
            words += shared
    return np.array(words, dtype=object)


P_TOPIC = 0.05  # share of a document's words taken from its topic (incl. ambiguous words)
P_OTHER = 0.022  # share taken from another topic: noise that makes single words unreliable


def _document(topic: int, rng: np.random.Generator, pools: list[np.ndarray]) -> str:
    length = int(rng.integers(40, 121))
    r = rng.random(length)
    words = np.empty(length, dtype=object)
    function = r < 0.45
    generic = (r >= 0.45) & (r < 1.0 - P_TOPIC - P_OTHER)
    own = (r >= 1.0 - P_TOPIC - P_OTHER) & (r < 1.0 - P_OTHER)
    other = r >= 1.0 - P_OTHER
    zipf = np.minimum(rng.zipf(1.6, function.sum()) - 1, len(_FUNCTION) - 1)
    words[function] = _FUNCTION_ARRAY[zipf]
    words[generic] = _GENERIC_ARRAY[rng.integers(len(_GENERIC), size=generic.sum())]
    words[own] = pools[topic][rng.integers(len(pools[topic]), size=own.sum())]
    others = [t for t in range(4) if t != topic]
    for i in np.flatnonzero(other):
        pool = pools[others[int(rng.integers(3))]]
        words[i] = pool[int(rng.integers(len(pool)))]
    # sentences of 6-13 words
    sentences, i = [], 0
    for n in rng.integers(6, 14, size=length // 6 + 1):
        if i >= length:
            break
        chunk = " ".join(words[i : i + n])
        sentences.append(chunk[0].upper() + chunk[1:] + ".")
        i += n
    return " ".join(sentences)


_TOKEN = re.compile(r"[a-z0-9']+")


def tokenize(text: str) -> list[str]:
    """Lower-case words (letters, digits, apostrophes): the tokens ``info["vocabulary"]`` counts."""
    return _TOKEN.findall(text.lower())


def vocabulary(texts) -> list[str]:
    """Words of ``texts``, most frequent first (ties alphabetical)."""
    counts = Counter(w for t in texts for w in tokenize(t))
    return [w for w, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def offline(*, seed: int = 0) -> Dataset:
    """4000 train / 800 test generated documents, balanced over the four topics."""
    rng = np.random.default_rng([seed, 4])
    pools = [_topic_pool(t) for t in range(4)]
    splits = []
    for per_topic in (NUM_TRAIN_PER_TOPIC, NUM_TEST_PER_TOPIC):
        y = rng.permutation(np.repeat(np.arange(4), per_topic)).astype(np.int64)
        x = np.array([_document(int(t), rng, pools) for t in y], dtype=object)
        splits.append((x, y))
    return Dataset(
        splits[0],
        splits[1],
        name="news",
        source="offline",
        class_names=list(CLASS_NAMES),
        info={"vocabulary": vocabulary(splits[0][0]), "origin": "generated documents (effcourse.data.news)"},
    )


def _parse_csv(path) -> tuple[np.ndarray, np.ndarray]:
    texts, labels = [], []
    with open(path, newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.reader(f)):
            if len(row) != 3 or row[0].strip() not in {"1", "2", "3", "4"}:
                raise ValueError(f"{path} row {i + 1} is not 'class (1-4), title, description': {row[:3]!r}")
            labels.append(int(row[0]) - 1)
            texts.append(f"{row[1]} {row[2]}".replace("\\n", " ").replace("\\", " ").strip())
    if not texts:
        raise ValueError(f"{path} has no rows")
    return np.array(texts, dtype=object), np.array(labels, dtype=np.int64)


def real(*, seed: int = 0, cache_dir=None) -> Dataset:
    """AG News (120000 train / 7600 test); ``seed`` is unused."""
    splits = []
    for name in ("train.csv", "test.csv"):
        # No published SHA-256 is known to us: the file is checked by parsing every row.
        path = _cache.fetch(name, AG_NEWS_BASE + name, verify=_parse_csv, cache_dir=cache_dir, subdir="ag_news")
        splits.append(_parse_csv(path))
    return Dataset(
        splits[0],
        splits[1],
        name="news",
        source="real",
        class_names=list(CLASS_NAMES),
        info={"vocabulary": vocabulary(splits[0][0]), "origin": AG_NEWS_BASE},
    )
