"""Plausible wrong answers for ch05_advanced_compression/03_deep_compression.

Two exercises: ``pack_sparse`` (answer cell ``pack_sparse``, test cell ``pack_sparse__test``, 3
points) and ``huffman_code_lengths`` (answer cell ``huffman_lengths``, test cell
``huffman_lengths__test``, 2 points); each wrong answer loses exactly its own exercise's cell.
The graded ones call the course's sealed ``effcourse.coding`` (they must lose in the sandbox);
the others, checked in-process, are mistakes of the format (no fillers, a filler covering one
zero too many, LSB first, code before gap, absolute positions, gaps counted one too high,
trailing zeros stored as fillers, no error for a code too wide, bits not padded to a byte) and of
Huffman's algorithm (merging the heaviest trees, Shannon's lengths, codes for zero frequencies,
no bit for a single symbol, a unary code, only one of the two merged trees deepened, a list
returned).
"""

_PACK_HEAD = '''
def pack_sparse(codes, gap_bits, code_bits):
    """A wrong version."""
    values = np.asarray(codes).astype(np.int64).reshape(-1)
    if values.size and (values.min() < 0 or values.max() >= 2**code_bits):
        raise ValueError("code too wide")
    largest = 2**gap_bits - 1
'''

_ENTRIES = """\
    entries, skipped = [], 0
    for c in values.tolist():
        if c == 0:
            skipped += 1
            continue
        while skipped > largest:
            entries.append((largest, 0))
            skipped -= largest + 1
        entries.append((skipped, c))
        skipped = 0
"""

_BITS = """\
    bits = "".join(format(g, f"0{gap_bits}b") + format(c, f"0{code_bits}b") for g, c in entries)
    if not bits:
        return b""
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")"""


def _pack(entries: str = _ENTRIES, bits: str = _BITS, head: str = _PACK_HEAD) -> str:
    return (head + entries + bits).strip("\n")


_HUFF_HEAD = '''
def huffman_code_lengths(frequencies):
    """A wrong version."""
    f = np.asarray(frequencies, dtype=np.float64).reshape(-1)
    if np.any(f < 0):
        raise ValueError("negative")
    used = np.flatnonzero(f > 0)
    if used.size == 0:
        raise ValueError("nothing to code")
    lengths = np.zeros(f.size, dtype=np.int64)
'''

_HUFF_LOOP = """\
    if used.size == 1:
        lengths[used] = 1
        return lengths
    heap = [(f[i], i, [i]) for i in used]
    heapq.heapify(heap)
    counter = f.size
    while len(heap) > 1:
        wa, _, a = heapq.heappop(heap)
        wb, _, b = heapq.heappop(heap)
        lengths[a + b] += 1
        heapq.heappush(heap, (wa + wb, counter, a + b))
        counter += 1
    return lengths"""


def _huff(body: str = _HUFF_LOOP) -> str:
    return (_HUFF_HEAD + body).strip("\n")


def _packing(**parts: str) -> dict:
    return dict(cell="pack_sparse", source=_pack(**parts), loses=["pack_sparse__test"])


def _huffman(body: str) -> dict:
    return dict(cell="huffman_lengths", source=_huff(body), loses=["huffman_lengths__test"])


_ALL = [
    # the course's own packer (sealed while grading)
    dict(
        cell="pack_sparse",
        source=(
            "def pack_sparse(codes, gap_bits, code_bits):\n"
            "    from effcourse import coding\n\n"
            "    return coding.pack_sparse(codes, gap_bits, code_bits)"
        ),
        loses=["pack_sparse__test"],
        sealed_route=True,
    ),
    # the course's own Huffman lengths (sealed while grading)
    dict(
        cell="huffman_lengths",
        source=(
            "def huffman_code_lengths(frequencies):\n"
            "    from effcourse import coding\n\n"
            "    return coding.huffman_code_lengths(frequencies)"
        ),
        loses=["huffman_lengths__test"],
        sealed_route=True,
    ),
    # no fillers: a long gap is cut to the largest value that fits
    _packing(
        entries="""\
    entries, skipped = [], 0
    for c in values.tolist():
        if c == 0:
            skipped += 1
            continue
        entries.append((min(skipped, largest), c))
        skipped = 0
"""
    ),
    # a filler taken to stand for 2**g - 1 zeros only (no explicit zero of its own)
    _packing(entries=_ENTRIES.replace("skipped -= largest + 1", "skipped -= largest")),
    # a filler already at a gap of 2**g - 1 (>= instead of >), which still fits in gap_bits
    _packing(entries=_ENTRIES.replace("while skipped > largest:", "while skipped >= largest:")),
    # least significant bit first
    _packing(
        bits=_BITS.replace(
            'format(g, f"0{gap_bits}b") + format(c, f"0{code_bits}b")',
            'format(g, f"0{gap_bits}b")[::-1] + format(c, f"0{code_bits}b")[::-1]',
        )
    ),
    # the code before the gap
    _packing(
        bits=_BITS.replace(
            'format(g, f"0{gap_bits}b") + format(c, f"0{code_bits}b")',
            'format(c, f"0{code_bits}b") + format(g, f"0{gap_bits}b")',
        )
    ),
    # absolute positions instead of relative gaps (modulo the gap width)
    _packing(
        entries="""\
    entries = [(int(i) % (largest + 1), int(values[i])) for i in np.flatnonzero(values)]
"""
    ),
    # the gap counted as the distance between positions (one too high)
    _packing(
        entries=_ENTRIES.replace("entries.append((skipped, c))", "entries.append((min(skipped + 1, largest), c))")
    ),
    # trailing zeros stored as fillers
    _packing(
        entries=_ENTRIES
        + """\
    while skipped > largest:
        entries.append((largest, 0))
        skipped -= largest + 1
"""
    ),
    # no ValueError: a code too wide is silently cut to its low bits
    _packing(
        head=_PACK_HEAD.replace(
            '    if values.size and (values.min() < 0 or values.max() >= 2**code_bits):\n        raise ValueError("code too wide")\n',
            "    values = values % 2**code_bits\n",
        )
    ),
    # the bits padded on the left (the number written in as few bytes as it needs)
    _packing(
        bits="""\
    bits = "".join(format(g, f"0{gap_bits}b") + format(c, f"0{code_bits}b") for g, c in entries)
    if not bits:
        return b""
    return int(bits, 2).to_bytes((len(bits) + 7) // 8, "big")"""
    ),
    # merges the two heaviest trees
    _huffman(_HUFF_LOOP.replace("heap = [(f[i], i, [i]) for i in used]", "heap = [(-f[i], i, [i]) for i in used]")),
    # Shannon's lengths ceil(-log2 p): a prefix code, but not always optimal
    _huffman("""\
    p = f / f.sum()
    lengths[used] = np.maximum(1, np.ceil(-np.log2(p[used]))).astype(np.int64)
    return lengths"""),
    # zero frequencies kept in the tree: they get codes
    _huffman(
        _HUFF_LOOP.replace("heap = [(f[i], i, [i]) for i in used]", "heap = [(f[i], i, [i]) for i in range(f.size)]")
    ),
    # a single symbol gets no bit
    _huffman(_HUFF_LOOP.replace("        lengths[used] = 1\n", "")),
    # a unary code by rank: lengths 1, 2, ..., n-1, n-1 (a prefix code, Kraft's sum 1, not optimal)
    _huffman("""\
    order = used[np.argsort(-f[used], kind="stable")]
    lengths[order] = np.minimum(np.arange(1, order.size + 1), max(order.size - 1, 1))
    return lengths"""),
    # only the first of the two merged trees is deepened
    _huffman(_HUFF_LOOP.replace("lengths[a + b] += 1", "lengths[a] += 1")),
    # a list instead of a NumPy array
    _huffman(_HUFF_LOOP.replace("    return lengths", "    return lengths.tolist()")),
]

# The suite grades the two sealed routes through the sandbox (each costs a run of the notebook's
# grading cut); the others are MORE_WRONG_ANSWERS, checked in-process to lose exactly their cell.
WRONG_ANSWERS = _ALL[:2]
MORE_WRONG_ANSWERS = _ALL[2:]
