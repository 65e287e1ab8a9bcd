"""A course-scale NAS-Bench-101: every cell of a small space, trained once and tabulated.

NAS-Bench-101 (Ying et al., 2019, *NAS-Bench-101: Towards Reproducible Neural Architecture
Search*, ICML) trained every cell of a space of 423k networks once and shipped the table, so a
search strategy can be benchmarked by looking accuracies up instead of training. This module does
the same at course scale: the space ``effcourse.search.nasbench`` defines has 334 unique networks;
``scripts/make_nasbench.py`` trained each on the 8x8 digits (scikit-learn ``load_digits``,
offline) with 2 seeds and wrote ``nasbench_digits.csv``, which ships with the package::

    from effcourse.search import nasbench
    bench = nasbench.load()                         # the table (334 rows), a NASBench
    row = bench.query(matrix, ops)                  # dict: val/test accuracy, params, flops, ...
    nasbench.prune(matrix, ops)                     # drop nodes not on an input->output path
    nasbench.cell_hash(matrix, ops)                 # the same string for isomorphic cells

**The space.** A cell is a DAG over ``NUM_NODES = 5`` nodes given by an upper-triangular 0/1
adjacency ``matrix`` (``matrix[i, j] = 1``: an edge from node ``i`` to node ``j > i``) and the ops
of the 3 intermediate nodes, each from ``OPS = ("conv3x3", "conv1x1", "maxpool3x3")``. Node 0 is
the input, node 4 the output. As in NAS-Bench-101, nodes not on a path from the input to the
output are pruned, a cell whose output is unreachable is invalid, a cell may have at most
``MAX_EDGES = 5`` edges after pruning, and cells with the same graph hash (isomorphic graphs with
the same ops) are one network and share one row.

**The network.** A 3x3 conv stem (1 -> 16 channels, ReLU) feeds the cell's input; each
intermediate node sums its inputs and applies its op (convolutions: 16 -> 16 channels, ``SAME``
padding, bias, ReLU; max-pooling: 3x3, stride 1); the output node sums its inputs; global average
pooling and a dense layer give 10 logits. Trained with Adam (learning rate 0.01, batch 100) for 30
epochs on 1000 training images; 397 validation and 400 test images (stratified, fixed split).

Taught in: chapters/ch07_automation/02_architecture_search
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

__all__ = [
    "NUM_NODES",
    "OPS",
    "MAX_EDGES",
    "CHANNELS",
    "EPOCHS",
    "TABLE",
    "prune",
    "is_valid",
    "cell_hash",
    "encode",
    "decode",
    "count_params",
    "count_flops",
    "enumerate_space",
    "train_cell",
    "TrainResult",
    "random_cell",
    "incumbent",
    "NASBench",
    "load",
]

NUM_NODES = 5
OPS = ("conv3x3", "conv1x1", "maxpool3x3")
MAX_EDGES = 5
CHANNELS = 16
EPOCHS = 30
BATCH = 100
LEARNING_RATE = 0.01
TABLE = "nasbench_digits.csv"
_IMAGE = 8  # the digits are 8x8 pixels


def _as_spec(matrix: Any, ops: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Checks shapes and labels (not connectivity) and returns an int matrix and a list of ops."""
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 2:
        raise ValueError(f"matrix must be a square 2-D adjacency matrix, got shape {m.shape}")
    n = m.shape[0]
    if n > NUM_NODES:
        raise ValueError(f"a cell has at most {NUM_NODES} nodes, the matrix has {n}")
    if m.dtype.kind not in "biuf" or not ((m == 0) | (m == 1)).all():
        raise ValueError("matrix entries must be 0 or 1")
    m = np.ascontiguousarray(m, dtype=int)
    if m[np.tril_indices(n)].any():
        raise ValueError("matrix must be strictly upper-triangular (edges go from node i to node j > i)")
    ops = list(ops)
    if len(ops) != n - 2:
        raise ValueError(f"give one op per intermediate node: {n - 2} ops for a {n}-node matrix, got {len(ops)}")
    bad = [o for o in ops if o not in OPS]
    if bad:
        raise ValueError(f"unknown op(s) {bad}; ops are {OPS}")
    return m, ops


def prune(matrix: Any, ops: Sequence[str]) -> tuple[np.ndarray, list[str]] | None:
    """Drops the nodes that are not on a path from the input (node 0) to the output (last node).

    The same rule as NAS-Bench-101's ``ModelSpec``: such nodes cannot change the network's
    output, so the pruned cell computes the same function with fewer nodes.

    Example:
        >>> m = [[0, 1, 1], [0, 0, 0], [0, 0, 0]]     # node 1 is a dead end
        >>> pm, po = prune(m, ["conv3x3"])
        >>> pm.tolist(), po
        ([[0, 1], [0, 0]], [])

    Args:
        matrix: an ``(n, n)`` strictly upper-triangular 0/1 adjacency, ``2 <= n <= 5``.
        ops: the ``n - 2`` ops of the intermediate nodes, from ``OPS``.

    Returns:
        ``(matrix, ops)`` of the pruned cell (a new array and list), or ``None`` if the output is
        not reachable from the input.

    Raises:
        ValueError: the matrix is not square, not 0/1, not strictly upper-triangular, too large,
            or ``ops`` has the wrong length or an unknown op.

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    m, ops = _as_spec(matrix, ops)
    n = m.shape[0]
    from_input = {0}
    for i in range(n):
        if i in from_input:
            from_input.update(j for j in range(i + 1, n) if m[i, j])
    to_output = {n - 1}
    for i in range(n - 1, -1, -1):
        if i in to_output:
            to_output.update(j for j in range(i) if m[j, i])
    keep = sorted(from_input & to_output)
    if 0 not in keep or n - 1 not in keep:
        return None
    labels = ["input", *ops, "output"]
    kept = [labels[k] for k in keep]
    return m[np.ix_(keep, keep)].copy(), kept[1:-1]


def is_valid(matrix: Any, ops: Sequence[str]) -> bool:
    """Whether a cell is in the space: well formed, output reachable, at most ``MAX_EDGES`` edges after pruning.

    Example:
        >>> is_valid([[0, 1], [0, 0]], [])          # input -> output: the smallest cell
        True
        >>> is_valid([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["conv1x1"])   # output unreachable
        False

    Args:
        matrix: an ``(n, n)`` adjacency, ``n <= 5``.
        ops: the ``n - 2`` intermediate ops.

    Returns:
        ``True`` or ``False``; never raises for a malformed cell (it is just not valid).

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    try:
        return _info(matrix, ops)[1]
    except (ValueError, TypeError):
        return False


def _info(matrix: Any, ops: Sequence[str]) -> tuple[str | None, bool]:
    """``(hash or None, valid)`` of a cell, memoised on its bytes (a search asks for the same cells often).

    Raises:
        ValueError: the cell is malformed.
    """
    m = np.asarray(matrix)
    try:
        key = (m.dtype.str, m.shape, m.tobytes(), tuple(ops))
        hash(key)
    except TypeError as err:
        raise ValueError(f"not a cell: matrix {type(matrix).__name__}, ops {type(ops).__name__}") from err
    if isinstance(ops, str):
        raise ValueError("ops must be a list or tuple of op names, not one string")
    return _info_of(key)


@lru_cache(maxsize=1 << 17)
def _info_of(key: tuple[Any, ...]) -> tuple[str | None, bool]:
    dtype, shape, raw, ops = key
    m, ops = _as_spec(np.frombuffer(raw, dtype=dtype).reshape(shape), ops)
    pruned = prune(m, ops)
    if pruned is None:
        return None, False
    return _hash_pruned(*pruned), int(pruned[0].sum()) <= MAX_EDGES


def cell_hash(matrix: Any, ops: Sequence[str]) -> str:
    """A hash that is the same for isomorphic cells (same graph up to node order, same ops).

    NAS-Bench-101's ``graph_util.hash_module``: each node starts from the MD5 of its (out-degree,
    in-degree, label); ``n`` rounds each replace a node's hash by the MD5 of its sorted in-neighbour
    hashes, its sorted out-neighbour hashes and its own hash; the cell's hash is the MD5 of the
    sorted node hashes. The cell is pruned first, so dead nodes do not change the hash.

    Example:
        >>> a = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
        >>> cell_hash(a, ["conv3x3", "conv1x1"]) == cell_hash(a, ["conv1x1", "conv3x3"])   # swap 1 and 2
        True

    Args:
        matrix: an ``(n, n)`` adjacency; ops: its ``n - 2`` intermediate ops.

    Returns:
        A 32-character hex string.

    Raises:
        ValueError: the cell is malformed or its output is unreachable.

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    h = _info(matrix, ops)[0]
    if h is None:
        raise ValueError("the cell's output is not reachable from its input: it is not a network")
    return h


def _hash_pruned(m: np.ndarray, ops: list[str]) -> str:
    n = m.shape[0]
    labels = ["input", *ops, "output"]
    ins, outs = m.sum(axis=0), m.sum(axis=1)
    h = [hashlib.md5(str((int(outs[i]), int(ins[i]), labels[i])).encode()).hexdigest() for i in range(n)]
    for _ in range(n):
        h = [
            hashlib.md5(
                (
                    "".join(sorted(h[w] for w in range(n) if m[w, v]))
                    + "|"
                    + "".join(sorted(h[w] for w in range(n) if m[v, w]))
                    + "|"
                    + h[v]
                ).encode()
            ).hexdigest()
            for v in range(n)
        ]
    return hashlib.md5(str(sorted(h)).encode()).hexdigest()


def encode(matrix: Any, ops: Sequence[str]) -> str:
    """The table's text encoding of a cell: matrix rows joined by ``/``, a ``:``, the ops joined by ``,``.

    Example:
        >>> encode([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["maxpool3x3"])
        '011/001/000:maxpool3x3'

    Raises:
        ValueError: the cell is malformed (see :func:`prune`).

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    m, ops = _as_spec(matrix, ops)
    return "/".join("".join(str(int(v)) for v in row) for row in m) + ":" + ",".join(ops)


def decode(encoding: str) -> tuple[np.ndarray, list[str]]:
    """Inverse of :func:`encode`: ``(matrix, ops)`` from ``'011/001/000:maxpool3x3'``.

    Example:
        >>> m, ops = decode("011/001/000:maxpool3x3")
        >>> m.tolist(), ops
        ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ['maxpool3x3'])

    Raises:
        ValueError: the string is not an encoding of a well-formed cell.

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    try:
        rows, op_text = str(encoding).split(":")
        m = np.array([[int(c) for c in row] for row in rows.split("/")], dtype=int)
    except ValueError as err:
        raise ValueError(f"not a cell encoding: {encoding!r} (expected e.g. '011/001/000:maxpool3x3')") from err
    ops = op_text.split(",") if op_text else []
    m, ops = _as_spec(m, ops)
    return m, ops


def count_params(matrix: Any, ops: Sequence[str]) -> int:
    """Trainable parameters of the network a cell defines (stem, the cell's convolutions, head).

    Stem ``9 * C + C``, each ``conv3x3`` node ``9 * C**2 + C``, each ``conv1x1`` node ``C**2 + C``,
    max-pooling none, head ``10 * C + 10``, with ``C = CHANNELS = 16``; pruned nodes count nothing.

    Example:
        >>> count_params([[0, 1], [0, 0]], [])        # stem and head only
        330

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    pruned = prune(matrix, ops)
    if pruned is None:
        raise ValueError("the cell's output is not reachable from its input: it is not a network")
    c = CHANNELS
    per_op = {"conv3x3": 9 * c * c + c, "conv1x1": c * c + c, "maxpool3x3": 0}
    return 9 * c + c + sum(per_op[o] for o in pruned[1]) + 10 * c + 10


def count_flops(matrix: Any, ops: Sequence[str]) -> int:
    """Floating-point operations of one forward pass on one 8x8 image (2 per multiply-add).

    Counts the multiply-adds of the stem, the cell's convolutions and the head, times 2; the
    additions that sum a node's inputs, ReLU, pooling and bias adds are not counted (the usual
    convention: they are a small fraction of a convolution's cost).

    Example:
        >>> count_flops([[0, 1], [0, 0]], [])        # stem 2*64*9*16, head 2*16*10
        18752

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    pruned = prune(matrix, ops)
    if pruned is None:
        raise ValueError("the cell's output is not reachable from its input: it is not a network")
    c, hw = CHANNELS, _IMAGE * _IMAGE
    per_op = {"conv3x3": hw * 9 * c * c, "conv1x1": hw * c * c, "maxpool3x3": 0}
    macs = hw * 9 * c + sum(per_op[o] for o in pruned[1]) + c * 10
    return 2 * macs


def enumerate_space() -> list[tuple[np.ndarray, list[str], str]]:
    """Every network of the space once: ``(pruned matrix, ops, hash)``, in a fixed order.

    Goes through all ``2**10`` adjacencies of 5 nodes and ``3**3`` op assignments, keeps the valid
    cells, and the first cell (in that order) of each hash, pruned. Takes about 3 s.

    Example:
        >>> len(enumerate_space())      # doctest: +SKIP
        334

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    edges = [(i, j) for i in range(NUM_NODES) for j in range(i + 1, NUM_NODES)]
    seen: dict[str, tuple[np.ndarray, list[str], str]] = {}
    for bits in itertools.product((0, 1), repeat=len(edges)):
        m = np.zeros((NUM_NODES, NUM_NODES), dtype=int)
        for b, (i, j) in zip(bits, edges):
            m[i, j] = b
        for ops in itertools.product(OPS, repeat=NUM_NODES - 2):
            if not is_valid(m, ops):
                continue
            h = cell_hash(m, ops)
            if h not in seen:
                pm, po = prune(m, ops)
                seen[h] = (pm, po, h)
    return list(seen.values())


@lru_cache(maxsize=1)
def _digits() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32").reshape(-1, _IMAGE, _IMAGE, 1)
    y = y.astype("int32")
    x_tr, x_rest, y_tr, y_rest = train_test_split(x, y, train_size=1000, stratify=y, random_state=0)
    x_va, x_te, y_va, y_te = train_test_split(x_rest, y_rest, test_size=400, stratify=y_rest, random_state=0)
    return {"x_train": x_tr, "y_train": y_tr, "x_val": x_va, "y_val": y_va, "x_test": x_te, "y_test": y_te}


@lru_cache(maxsize=1)
def _trainer() -> Any:
    """Builds (once) a traced training function that takes the cell as tensors: one trace for all cells."""
    import tensorflow as tf

    d = _digits()
    x_tr, y_tr = tf.constant(d["x_train"]), tf.constant(d["y_train"])
    c, n_nodes = CHANNELS, NUM_NODES
    n = int(x_tr.shape[0])
    steps_per_epoch = n // BATCH
    keys = ["stem"] + [f"{k}_{i}" for i in range(1, n_nodes - 1) for k in ("c3", "c1")] + ["head"]

    def init(seed: Any) -> list[Any]:
        shapes = {"stem": ([3, 3, 1, c], 9), "head": ([c, 10], c)}
        for i in range(1, n_nodes - 1):
            shapes[f"c3_{i}"] = ([3, 3, c, c], 9 * c)
            shapes[f"c1_{i}"] = ([1, 1, c, c], c)
        kernels = [
            tf.random.stateless_normal(shapes[k][0], tf.stack([seed, i])) * tf.sqrt(2.0 / shapes[k][1])
            for i, k in enumerate(keys)
        ]
        return kernels + [tf.zeros([shapes[k][0][-1]]) for k in keys]

    def forward(flat: list[Any], adj: Any, op_ids: Any, x: Any) -> Any:
        w = dict(zip(keys, flat[: len(keys)]))
        b = dict(zip(keys, flat[len(keys) :]))
        h = [tf.nn.relu(tf.nn.conv2d(x, w["stem"], 1, "SAME") + b["stem"])]
        for v in range(1, n_nodes):
            inp = tf.add_n([adj[u, v] * h[u] for u in range(v)])
            if v == n_nodes - 1:
                out = inp
                break

            def conv(kind: str, v: int = v, inp: Any = inp) -> Any:
                return lambda: tf.nn.relu(tf.nn.conv2d(inp, w[f"{kind}_{v}"], 1, "SAME") + b[f"{kind}_{v}"])

            h.append(
                tf.switch_case(
                    op_ids[v - 1],
                    [
                        conv("c3"),
                        conv("c1"),
                        lambda inp=inp: tf.nn.max_pool2d(inp, 3, 1, "SAME"),
                        lambda inp=inp: tf.zeros_like(inp),
                    ],
                )
            )
        return tf.reduce_mean(out, axis=[1, 2]) @ w["head"] + b["head"]

    @tf.function
    def fit(adj: Any, op_ids: Any, seed: Any) -> list[Any]:
        flat = init(seed)
        m = [tf.zeros_like(p) for p in flat]
        s = [tf.zeros_like(p) for p in flat]

        def body(t: Any, flat: list[Any], m: list[Any], s: list[Any]) -> tuple[Any, ...]:
            epoch, i = t // steps_per_epoch, t % steps_per_epoch
            perm = tf.random.experimental.stateless_shuffle(tf.range(n), tf.stack([seed, 1000 + epoch]))
            idx = perm[i * BATCH : (i + 1) * BATCH]
            with tf.GradientTape() as tape:
                tape.watch(flat)
                logits = forward(flat, adj, op_ids, tf.gather(x_tr, idx))
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.gather(y_tr, idx), logits))
            grads = [tf.zeros_like(p) if g is None else g for g, p in zip(tape.gradient(loss, flat), flat)]
            step = tf.cast(t + 1, tf.float32)
            m = [0.9 * mi + 0.1 * g for mi, g in zip(m, grads)]
            s = [0.999 * si + 0.001 * g * g for si, g in zip(s, grads)]
            flat = [
                p - LEARNING_RATE * (mi / (1 - 0.9**step)) / (tf.sqrt(si / (1 - 0.999**step)) + 1e-8)
                for p, mi, si in zip(flat, m, s)
            ]
            return t + 1, flat, m, s

        _, flat, _, _ = tf.while_loop(lambda t, *_: t < EPOCHS * steps_per_epoch, body, (tf.constant(0), flat, m, s))
        return flat

    @tf.function
    def accuracy(flat: list[Any], adj: Any, op_ids: Any, x: Any, y: Any) -> Any:
        pred = tf.argmax(forward(flat, adj, op_ids, x), axis=1, output_type=tf.int32)
        return tf.reduce_mean(tf.cast(pred == y, tf.float32))

    return tf, fit, accuracy


@dataclass(frozen=True)
class TrainResult:
    """One training of one cell: accuracies in [0, 1], CPU seconds of the training."""

    val_accuracy: float
    test_accuracy: float
    train_seconds: float


def train_cell(matrix: Any, ops: Sequence[str], seed: int) -> TrainResult:
    """Trains the network of one cell on the digits with one seed, as the table's script did.

    The cell is pruned and padded back to 5 nodes (absent nodes output zeros and have no edges);
    one traced TensorFlow function trains every cell (the cell is an input tensor), so only the
    first call pays for tracing. Weights are drawn from ``tf.random.stateless_normal`` with the
    seed (He initialisation) and batches from a seeded stateless shuffle, so a seed gives the same
    network up to floating-point summation order. About 1 CPU-s per call (one thread).

    Example:
        >>> r = train_cell([[0, 1], [0, 0]], [], seed=0)    # doctest: +SKIP
        >>> 0 <= r.val_accuracy <= 1                       # doctest: +SKIP
        True

    Args:
        matrix: an adjacency of at most 5 nodes; ops: its intermediate ops; seed: a non-negative int.

    Returns:
        A :class:`TrainResult` (validation and test accuracy, CPU seconds of the training).

    Raises:
        ValueError: the cell is not valid (see :func:`is_valid`).

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    if not is_valid(matrix, ops):
        raise ValueError("not a valid cell of the space (see nasbench.is_valid)")
    pm, po = prune(matrix, ops)
    k = pm.shape[0]
    # pad to NUM_NODES: the pruned intermediate nodes become nodes 1..k-2, the output node 4
    slots = list(range(k - 1)) + [NUM_NODES - 1]
    adj = np.zeros((NUM_NODES, NUM_NODES), dtype="float32")
    adj[np.ix_(slots, slots)] = pm
    op_ids = [OPS.index(o) for o in po] + [len(OPS)] * (NUM_NODES - 2 - len(po))
    tf, fit, accuracy = _trainer()
    d = _digits()
    start = time.process_time()
    flat = fit(tf.constant(adj), tf.constant(op_ids, tf.int32), tf.constant(int(seed), tf.int32))
    seconds = time.process_time() - start
    a, o = tf.constant(adj), tf.constant(op_ids, tf.int32)
    val = float(accuracy(flat, a, o, tf.constant(d["x_val"]), tf.constant(d["y_val"])))
    test = float(accuracy(flat, a, o, tf.constant(d["x_test"]), tf.constant(d["y_test"])))
    return TrainResult(val, test, seconds)


def random_cell(rng: np.random.Generator) -> tuple[np.ndarray, tuple[str, ...]]:
    """A cell drawn uniformly from the valid 5-node cells, by rejection (as NAS-Bench-101's ``random_spec``).

    Draws the 10 upper-triangular edges as fair coin flips (``rng.integers(0, 2, 10)``) and the 3
    ops uniformly (``rng.integers(0, 3, 3)``) until :func:`is_valid`; about 1.4 draws a cell on
    average. Uniform over *cells*, not networks: networks that many cells prune to come up more
    often.

    Example:
        >>> matrix, ops = random_cell(np.random.default_rng(0))
        >>> matrix.shape, len(ops), is_valid(matrix, ops)
        ((5, 5), 3, True)

    Args:
        rng: a NumPy generator (the only source of randomness).

    Returns:
        ``(matrix, ops)``: a new ``(5, 5)`` int array and a tuple of 3 op names.

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    rows, cols = np.triu_indices(NUM_NODES, k=1)
    while True:
        matrix = np.zeros((NUM_NODES, NUM_NODES), dtype=int)
        matrix[rows, cols] = rng.integers(0, 2, size=rows.size)
        ops = tuple(OPS[i] for i in rng.integers(0, len(OPS), size=NUM_NODES - 2))
        if is_valid(matrix, ops):
            return matrix, ops


def incumbent(val_accuracies: Sequence[float], test_accuracies: Sequence[float]) -> np.ndarray:
    """Test accuracy of the search's pick after each query: the best *validation* accuracy so far.

    A search selects on the validation split; what it would ship after ``k`` queries is the
    network with the highest validation accuracy among the first ``k`` (the first one on ties),
    and its test accuracy is what the regret is measured on (NAS-Bench-101's "test regret").

    Example:
        >>> incumbent([0.5, 0.7, 0.6, 0.7], [0.55, 0.65, 0.9, 0.8]).tolist()
        [0.55, 0.65, 0.65, 0.65]

    Args:
        val_accuracies: the validation accuracy of each query, in query order.
        test_accuracies: the test accuracy of the same networks.

    Returns:
        A float array of the same length.

    Raises:
        ValueError: the two sequences differ in length or are empty.

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    v = np.asarray(val_accuracies, dtype=float).ravel()
    t = np.asarray(test_accuracies, dtype=float).ravel()
    if v.shape != t.shape or v.size == 0:
        raise ValueError(f"give one test accuracy per validation accuracy (got {v.size} and {t.size}), at least one")
    best = np.zeros(v.size, dtype=int)
    for k in range(1, v.size):
        best[k] = k if v[k] > v[best[k - 1]] else best[k - 1]
    return t[best]


class NASBench:
    """The tabulated space: look a cell's trained network up instead of training it.

    Built by :func:`load`. ``bench.table`` is a pandas DataFrame with one row per network
    (columns ``encoding`` (the pruned cell, see :func:`encode`), ``hash``, ``nodes``, ``edges``,
    ``params``, ``flops`` (per image), ``val_accuracy`` and ``test_accuracy`` (mean of 2 seeds),
    ``val_accuracy_seed0``/``seed1``, ``train_seconds`` (CPU-s per training, mean of 2 seeds)).

    Example:
        >>> bench = load()                                   # doctest: +SKIP
        >>> bench.query([[0, 1], [0, 0]], [])["params"]      # doctest: +SKIP
        330

    Taught in: chapters/ch07_automation/02_architecture_search
    """

    def __init__(self, table: Any) -> None:
        self.table = table.reset_index(drop=True)
        self._rows = {h: i for i, h in enumerate(self.table["hash"])}
        self._records = self.table.to_dict("records")

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return f"NASBench({len(self)} networks)"

    def query(self, matrix: Any, ops: Sequence[str]) -> dict[str, Any]:
        """The table row of a cell's network (a new dict), found by its graph hash.

        Args:
            matrix: an adjacency of at most 5 nodes (a pruned or an unpruned cell); ops: its ops.

        Returns:
            A dict with the table's columns (accuracies in [0, 1], params, flops, ...).

        Raises:
            ValueError: the cell is malformed or not valid (the message says why).
            KeyError: a valid cell whose network the table does not hold (a partial table).
        """
        h, valid = _info(matrix, ops)
        if h is None:
            raise ValueError("the cell's output is not reachable from its input: it is not a network")
        if not valid:
            raise ValueError(f"the cell has more than MAX_EDGES = {MAX_EDGES} edges after pruning: not in the space")
        if h not in self._rows:
            raise KeyError(f"network {h} is valid but not in this table ({len(self)} rows): was the table cut short?")
        return dict(self._records[self._rows[h]])

    def val_accuracy(self, matrix: Any, ops: Sequence[str]) -> float:
        """Shortcut: the validation accuracy of a cell's network (what a search may look at)."""
        return float(self.query(matrix, ops)["val_accuracy"])

    def row(self, encoding: str) -> dict[str, Any]:
        """The row of an encoding such as ``'011/001/000:maxpool3x3'`` (decoded, then :meth:`query`)."""
        return self.query(*decode(encoding))


def load(name: str = "digits") -> NASBench:
    """The tabulated benchmark shipped with the package (``effcourse/search/nasbench_<name>.csv``).

    Example:
        >>> bench = load()                                  # doctest: +SKIP
        >>> len(bench), bench.table["test_accuracy"].max() > 0.9    # doctest: +SKIP
        (334, True)

    Args:
        name: the table's name; ``"digits"`` is the one there is.

    Returns:
        A :class:`NASBench`.

    Raises:
        FileNotFoundError: no table of that name ships with the package.

    Taught in: chapters/ch07_automation/02_architecture_search
    """
    import pandas as pd

    path = resources.files("effcourse.search") / f"nasbench_{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"no table nasbench_{name}.csv in effcourse/search (generate it with scripts/make_nasbench.py)"
        )
    with path.open() as f:
        return NASBench(pd.read_csv(f))
