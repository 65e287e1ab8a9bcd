"""Plausible wrong answers for ch05_advanced_compression/01_clustering.

Each entry replaces the answer cell ``kmeans_1d``; the grading suite checks that the submission
then loses exactly the points of the test cells listed in ``loses`` (and keeps the others).
``kmeans_1d__test`` checks the linear start, convergence and empty clusters; ``kmeans_1d_plusplus__test``
checks the k-means++ start (and, like the first, that centroids are sorted and ``x`` is left alone).
"""

_TEMPLATE = '''
def kmeans_1d(x, num_clusters, init="linear", rng=None, max_iter=300):
    """Cluster the values of x into num_clusters groups with k-means (Lloyd's algorithm)."""
{prepare}
    k = int(num_clusters)
    if not 1 <= k <= flat.size:
        raise ValueError("num_clusters must be between 1 and x.size")
    if init == "linear":
        centroids = np.linspace(flat.min(), flat.max(), k)
    else:
        rng = np.random.default_rng() if rng is None else rng
        centroids = np.empty(k)
        centroids[0] = flat[rng.integers(flat.size)]
        nearest_sq = (flat - centroids[0]) ** 2
        for j in range(1, k):
{pick}
            nearest_sq = np.minimum(nearest_sq, (flat - centroids[j]) ** 2)

    def nearest(c):
        return np.argmin(np.abs(flat[:, None] - c[None, :]), axis=1)

    labels = nearest(centroids)
    for _ in range({iterations}):
{update}
        new_labels = nearest(centroids)
        if {stop}:
            break
        labels = new_labels
{finish}
'''

_PREPARE = """\
    values = np.asarray(x, dtype=np.float64)
    flat = values.ravel()"""
_PICK = "            centroids[j] = flat[rng.choice(flat.size, p=nearest_sq / nearest_sq.sum())]"
_UPDATE = """\
        for j in range(k):
            if not np.any(labels == j):
                farthest = np.argmax((flat - centroids[labels]) ** 2)
                centroids[j] = flat[farthest]
                labels[farthest] = j
        centroids = np.array([flat[labels == j].mean() for j in range(k)])"""
_FINISH = """\
    order = np.argsort(centroids)
    rank = np.argsort(order)
    return centroids[order], rank[labels].reshape(values.shape)"""


def _kmeans(
    prepare=_PREPARE,
    pick=_PICK,
    iterations="max_iter",
    update=_UPDATE,
    stop="np.array_equal(new_labels, labels)",
    finish=_FINISH,
) -> str:
    return _TEMPLATE.format(
        prepare=prepare, pick=pick, iterations=iterations, update=update, stop=stop, finish=finish
    ).strip("\n")


_ALL = [
    # forgets empty clusters: a centroid without values stays where it is, wasted for good
    dict(
        cell="kmeans_1d",
        source=_kmeans(
            update="""\
        centroids = np.array([flat[labels == j].mean() if np.any(labels == j) else centroids[j]
                              for j in range(k)])"""
        ),
        loses=["kmeans_1d__test"],
    ),
    # forgets empty clusters the other way: the mean of no values is nan
    dict(
        cell="kmeans_1d",
        source="import warnings\n"
        + _kmeans(
            update="""\
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            centroids = np.array([flat[labels == j].mean() for j in range(k)])"""
        ),
        loses=["kmeans_1d__test"],
    ),
    # k-means++ weighted by the distance, not its square
    dict(
        cell="kmeans_1d",
        source=_kmeans(
            pick="            centroids[j] = flat[rng.choice(flat.size, p=np.sqrt(nearest_sq) / np.sqrt(nearest_sq).sum())]"
        ),
        loses=["kmeans_1d_plusplus__test"],
    ),
    # k-means++ without weights: every next centroid a uniformly drawn value
    dict(
        cell="kmeans_1d",
        source=_kmeans(pick="            centroids[j] = flat[rng.integers(flat.size)]"),
        loses=["kmeans_1d_plusplus__test"],
    ),
    # returns the centroids in the order they were found (k-means++ order, re-seeded clusters)
    dict(
        cell="kmeans_1d",
        source=_kmeans(finish="    return centroids, labels.reshape(values.shape)"),
        loses=["kmeans_1d__test", "kmeans_1d_plusplus__test"],
    ),
    # sorts the centroids but forgets to renumber the labels
    dict(
        cell="kmeans_1d",
        source=_kmeans(finish="    return np.sort(centroids), labels.reshape(values.shape)"),
        loses=["kmeans_1d__test", "kmeans_1d_plusplus__test"],
    ),
    # a fixed number of update steps instead of iterating until no label changes
    dict(
        cell="kmeans_1d",
        source=_kmeans(iterations="min(max_iter, 10)", stop="False"),
        loses=["kmeans_1d__test"],
    ),
    # stops when the centroids move less than a fixed tolerance (too coarse for small weights)
    dict(
        cell="kmeans_1d",
        source=_kmeans(
            update="""\
        old = centroids.copy()
"""
            + _UPDATE,
            stop="np.abs(centroids - old).max() < 1e-2",
        ),
        loses=["kmeans_1d__test"],
    ),
    # centres the values in place for precision: the caller's float64 array changes
    dict(
        cell="kmeans_1d",
        source=_kmeans(
            prepare="""\
    values = np.asarray(x, dtype=np.float64)
    flat = values.reshape(-1)
    shift = flat.mean()
    flat -= shift""",
            finish="""\
    order = np.argsort(centroids)
    rank = np.argsort(order)
    return centroids[order] + shift, rank[labels].reshape(values.shape)""",
        ),
        loses=["kmeans_1d__test", "kmeans_1d_plusplus__test"],
    ),
]

# Each graded wrong answer costs a sandboxed run of the cut notebook, so the suite grades one:
# forgetting empty clusters; the others are MORE_WRONG_ANSWERS, checked in-process.
_GRADED = (0,)
WRONG_ANSWERS = [_ALL[i] for i in _GRADED]
MORE_WRONG_ANSWERS = [w for i, w in enumerate(_ALL) if i not in _GRADED]

# k-means++ drawn over the distinct values (np.unique), not over the entries: a repeated value is drawn as
# often as a value that occurs once (found by a reviewer; the draws on [0 x 198, 1, 3] happen to pick 3 with
# probability 0.9 all the same)
MORE_WRONG_ANSWERS.append(
    dict(
        cell="kmeans_1d",
        source=_kmeans().replace(
            """\
        centroids[0] = flat[rng.integers(flat.size)]
        nearest_sq = (flat - centroids[0]) ** 2
        for j in range(1, k):
"""
            + _PICK
            + """
            nearest_sq = np.minimum(nearest_sq, (flat - centroids[j]) ** 2)
""",
            """\
        distinct = np.unique(flat)
        centroids[0] = distinct[rng.integers(distinct.size)]
        for j in range(1, k):
            d2 = np.min((distinct[:, None] - centroids[None, :j]) ** 2, axis=1)
            centroids[j] = distinct[rng.choice(distinct.size, p=d2 / d2.sum())]
""",
        ),
        loses=["kmeans_1d_plusplus__test"],
    )
)
