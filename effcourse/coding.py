"""Deep Compression's storage format: a relative-gap sparse index, packed cluster indices, Huffman codes.

Han, Mao and Dally (2016, *Deep Compression: Compressing Deep Neural Networks with Pruning,
Trained Quantization and Huffman Coding*, ICLR) store a pruned and clustered layer as a list of
*entries*, one per non-zero weight: the number of zeros skipped since the previous entry (a
*relative gap* of ``gap_bits`` bits) and the weight's cluster index (``code_bits`` bits, log2 of
the number of clusters). A gap too large for its bits is split with a *filler* entry: the gap
``2**gap_bits - 1`` and the code 0, a zero weight stored explicitly (their Figure 2). Both streams
are then Huffman coded (Huffman, 1952, *A Method for the Construction of Minimum-Redundancy
Codes*), since small gaps and some clusters are much more frequent than others.

Conventions (the exercise's and the lesson's): a layer is a 1-D array of integer *codes*, where
0 is a zero (pruned) weight and ``1..k`` index the codebook's ``k`` shared values, so code ``c``
stands for ``codebook[c - 1]``.

- :func:`sparse_entries` / :func:`sparse_codes` — codes to (gaps, codes) entries with fillers, and back.
- :func:`pack_sparse` / :func:`unpack_sparse` — the entries packed at fixed widths (the exercise).
- :func:`huffman_code_lengths` — an optimal prefix code's lengths (the second exercise).
- :func:`canonical_codes`, :func:`huffman_encode`, :func:`huffman_decode` — canonical Huffman coding.
- :func:`encode_layer` / :func:`decode_layer` — the whole format of one layer, as bytes.

The functions that answer the notebook's exercises are its sealed references
(``effcourse.sealed``): :func:`pack_sparse` with everything that makes or reads entries
(:func:`sparse_entries`, :func:`sparse_codes`, :func:`unpack_sparse`, :func:`encode_layer`,
:func:`decode_layer` and the bit writer ``_bits_to_bytes``), and :func:`huffman_code_lengths`. They refuse to run while a submission
is graded; the lesson uses them after the exercises. :func:`canonical_codes`,
:func:`huffman_encode`, :func:`huffman_decode` and :func:`bits_needed` call none of them.

Taught in: chapters/ch05_advanced_compression/03_deep_compression
"""

from __future__ import annotations

import heapq
import itertools
import math
import struct
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = [
    "sparse_entries",
    "sparse_codes",
    "pack_sparse",
    "unpack_sparse",
    "huffman_code_lengths",
    "canonical_codes",
    "huffman_encode",
    "huffman_decode",
    "encode_layer",
    "decode_layer",
    "bits_needed",
]

MAX_BITS = 16
_HEADER = struct.Struct("<IIIBB")  # size, entries, gap stream bytes, gap_bits, k


def _check_width(bits: Any, name: str) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= MAX_BITS:
        raise ValueError(f"{name} must be an integer from 1 to {MAX_BITS}, got {bits!r}")
    return int(bits)


def _check_codes(codes: Any, code_bits: int | None) -> np.ndarray:
    values = np.asarray(codes)
    if values.ndim != 1:
        raise ValueError(f"codes must be a 1-D array (ravel the kernel first), got shape {values.shape}")
    if values.size and not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"codes must be integers (0 = a zero weight, 1..k = a cluster), got dtype {values.dtype}")
    values = values.astype(np.int64)
    if values.size and values.min() < 0:
        raise ValueError(f"codes must be >= 0, got {int(values.min())}")
    if code_bits is not None and values.size and values.max() >= 2**code_bits:
        raise ValueError(f"code {int(values.max())} does not fit in code_bits={code_bits} (at most {2**code_bits - 1})")
    return values


@sealed.reference("ch05_advanced_compression/03_deep_compression:pack_sparse")
def _bits_to_bytes(fields: list[tuple[np.ndarray, int]]) -> bytes:
    """Interleave equally long integer arrays, each at its width, MSB first, zero-padded."""
    planes = [((f[:, None] >> np.arange(w - 1, -1, -1)) & 1).astype(np.uint8) for f, w in fields]
    return np.packbits(np.concatenate(planes, axis=1).reshape(-1)).tobytes()


# --------------------------------------------------------------------------------------------
# the sparse index (the first exercise)
# --------------------------------------------------------------------------------------------


@sealed.reference("ch05_advanced_compression/03_deep_compression:pack_sparse")
def sparse_entries(codes: Any, gap_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The (gap, code) entries of a layer's non-zero codes, with filler entries for long gaps.

    Walking the non-zero codes in order, each entry stores the number of zeros skipped since the
    previous entry (the first entry counts from the start) and the code. A gap larger than
    ``2**gap_bits - 1`` first emits filler entries ``(2**gap_bits - 1, 0)``, each standing for
    ``2**gap_bits - 1`` zeros and one explicit zero (Han et al., 2016, Figure 2). Trailing zeros
    are not stored (the decoder knows the size).

    Example:
        >>> gaps, vals = sparse_entries(np.array([0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 2)
        >>> gaps.tolist(), vals.tolist()
        ([1, 3, 3, 0], [3, 0, 0, 1])

    Args:
        codes: 1-D array-like of integers >= 0 (0 = a zero weight).
        gap_bits: bits of a gap, 1..16.

    Returns:
        ``(gaps, values)``: two int64 arrays of equal length (the entries).

    Raises:
        ValueError: ``codes`` is not 1-D, holds non-integers or negative values, or ``gap_bits``
            is not 1..16.

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    g = _check_width(gap_bits, "gap_bits")
    values = _check_codes(codes, None)
    positions = np.flatnonzero(values)
    skips = np.diff(positions, prepend=-1) - 1
    largest = 2**g - 1
    fillers = skips // (largest + 1)  # each filler covers largest zeros plus one explicit zero
    gaps = np.full(int(fillers.sum()) + positions.size, largest, dtype=np.int64)
    vals = np.zeros(gaps.size, dtype=np.int64)
    real = np.cumsum(fillers + 1) - 1  # where each real entry lands after its fillers
    gaps[real] = skips - fillers * (largest + 1)
    vals[real] = values[positions]
    return gaps, vals


@sealed.reference("ch05_advanced_compression/03_deep_compression:pack_sparse")
def sparse_codes(gaps: Any, values: Any, size: int) -> np.ndarray:
    """Undo :func:`sparse_entries`: the ``size`` codes that the entries describe.

    Example:
        >>> sparse_codes([1, 3, 3, 0], [3, 0, 0, 1], 11).tolist()
        [0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1]

    Args:
        gaps: the entries' gaps (zeros skipped before each entry), integers >= 0.
        values: the entries' codes, as many as ``gaps``.
        size: the number of codes of the layer.

    Returns:
        An int64 array of ``size`` codes.

    Raises:
        ValueError: ``gaps`` and ``values`` differ in length, or an entry with a non-zero code
            lands at or beyond ``size`` (entries with code 0 there are padding and ignored).

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    g = np.asarray(gaps, dtype=np.int64).reshape(-1)
    v = np.asarray(values, dtype=np.int64).reshape(-1)
    if g.size != v.size:
        raise ValueError(f"gaps and values must have one entry each, got {g.size} gaps and {v.size} values")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"size must be an integer >= 0, got {size!r}")
    positions = np.cumsum(g + 1) - 1
    out = np.zeros(int(size), dtype=np.int64)
    inside = positions < size
    if np.any(v[~inside] != 0):
        raise ValueError(f"an entry with a non-zero code lands beyond size={size}: wrong size or corrupt data")
    out[positions[inside]] = v[inside]
    return out


@sealed.reference("ch05_advanced_compression/03_deep_compression:pack_sparse")
def pack_sparse(codes: Any, gap_bits: int, code_bits: int) -> bytes:
    """Pack a layer's codes as Deep Compression's sparse entries: ``gap_bits + code_bits`` per entry.

    The entries of :func:`sparse_entries`, each written as its gap in ``gap_bits`` bits then its
    code in ``code_bits`` bits, most significant bit first, entries one after the other, the last
    byte padded with zero bits: ``ceil(entries * (gap_bits + code_bits) / 8)`` bytes.

    Example:
        >>> pack_sparse(np.array([0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 2, 2)
        b'|\\xc1'

    Args:
        codes: 1-D array-like of integers in ``0 .. 2**code_bits - 1`` (0 = a zero weight).
        gap_bits: bits of a gap, 1..16.
        code_bits: bits of a code, 1..16.

    Returns:
        The packed bytes (``b""`` when every code is 0).

    Raises:
        ValueError: a code outside ``0 .. 2**code_bits - 1``, ``codes`` not 1-D integers, or
            a width outside 1..16.

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    c = _check_width(code_bits, "code_bits")
    _check_codes(codes, c)
    gaps, vals = sparse_entries(codes, gap_bits)
    return _bits_to_bytes([(gaps, int(gap_bits)), (vals, c)])


@sealed.reference("ch05_advanced_compression/03_deep_compression:pack_sparse")
def unpack_sparse(data: bytes, size: int, gap_bits: int, code_bits: int) -> np.ndarray:
    """Undo :func:`pack_sparse`: the ``size`` codes of a layer.

    Reads ``floor(8 * len(data) / (gap_bits + code_bits))`` entries; an all-zero entry made of
    padding bits is a zero weight, so it changes nothing.

    Example:
        >>> unpack_sparse(b'|\\xc1', 11, 2, 2).tolist()
        [0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1]

    Args:
        data: bytes from :func:`pack_sparse`.
        size: the number of codes of the layer.
        gap_bits: the gap width used to pack.
        code_bits: the code width used to pack.

    Returns:
        An int64 array of ``size`` codes.

    Raises:
        ValueError: a width outside 1..16, a negative size, or data that puts a non-zero code
            beyond ``size``.

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    g, c = _check_width(gap_bits, "gap_bits"), _check_width(code_bits, "code_bits")
    bits = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))
    n = bits.size // (g + c)
    fields = bits[: n * (g + c)].reshape(n, g + c).astype(np.int64)
    gaps = fields[:, :g] @ (1 << np.arange(g - 1, -1, -1, dtype=np.int64))
    vals = fields[:, g:] @ (1 << np.arange(c - 1, -1, -1, dtype=np.int64))
    return sparse_codes(gaps, vals, size)


# --------------------------------------------------------------------------------------------
# Huffman coding (the second exercise, then canonical codes)
# --------------------------------------------------------------------------------------------


@sealed.reference("ch05_advanced_compression/03_deep_compression:huffman_lengths")
def huffman_code_lengths(frequencies: Any) -> np.ndarray:
    """The code length of every symbol in an optimal (Huffman) prefix code for these frequencies.

    Huffman (1952): repeatedly merge the two least frequent subtrees; a symbol's length is its
    depth. Symbols of frequency 0 get length 0 (no code). A single symbol of positive frequency
    gets length 1 (a code needs at least one bit). With two or more positive frequencies the
    lengths satisfy Kraft's equality ``sum(2**-l) == 1``. Ties may be broken either way: every
    result has the same (minimal) expected length ``sum(f * l) / sum(f)``.

    Example:
        >>> huffman_code_lengths([5, 1, 1, 2, 0]).tolist()
        [1, 3, 3, 2, 0]

    Args:
        frequencies: 1-D array-like of finite numbers >= 0 (counts or probabilities).

    Returns:
        An int64 array of the lengths, one per symbol.

    Raises:
        ValueError: empty, not 1-D, negative or non-finite, or no positive frequency.

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    f = np.asarray(frequencies, dtype=np.float64)
    if f.ndim != 1 or f.size == 0:
        raise ValueError(f"frequencies must be a non-empty 1-D list of numbers, got shape {f.shape}")
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise ValueError("frequencies must be finite and >= 0")
    used = np.flatnonzero(f > 0)
    if used.size == 0:
        raise ValueError("no symbol has a positive frequency: there is nothing to code")
    lengths = np.zeros(f.size, dtype=np.int64)
    if used.size == 1:
        lengths[used] = 1
        return lengths
    counter = itertools.count()
    heap = [(float(f[i]), next(counter), [int(i)]) for i in used]
    heapq.heapify(heap)
    while len(heap) > 1:
        fa, _, a = heapq.heappop(heap)
        fb, _, b = heapq.heappop(heap)
        lengths[a] += 1
        lengths[b] += 1
        heapq.heappush(heap, (fa + fb, next(counter), a + b))
    return lengths


def _check_lengths(lengths: Any) -> np.ndarray:
    ls = np.asarray(lengths)
    if ls.ndim != 1 or ls.size == 0 or not np.issubdtype(ls.dtype, np.integer) or np.any(ls < 0):
        raise ValueError("lengths must be a non-empty 1-D array of integers >= 0 (0 = the symbol has no code)")
    ls = ls.astype(np.int64)
    if not np.any(ls > 0):
        raise ValueError("lengths: no symbol has a code")
    if sum(2.0 ** -int(v) for v in ls[ls > 0]) > 1.0 + 1e-12:
        raise ValueError("lengths break Kraft's inequality (sum of 2**-l > 1): no prefix code has them")
    return ls


def canonical_codes(lengths: Any) -> list[str]:
    """The canonical prefix code with these lengths, as bit strings ('' for a symbol without a code).

    Symbols are sorted by (length, symbol); the first gets all zeros, each next one the previous
    code plus one, shifted left when the length grows (as DEFLATE, RFC 1951, section 3.2.2). The
    decoder needs only the lengths to rebuild the code.

    Example:
        >>> canonical_codes([1, 3, 3, 2, 0])
        ['0', '110', '111', '10', '']

    Args:
        lengths: 1-D integers >= 0, e.g. from :func:`huffman_code_lengths`.

    Returns:
        A list of bit strings, one per symbol.

    Raises:
        ValueError: negative or non-integer lengths, none positive, or lengths no prefix code
            can have (Kraft's sum above 1).

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    ls = _check_lengths(lengths)
    codes = [""] * ls.size
    code, previous = 0, 0
    for symbol in sorted(np.flatnonzero(ls), key=lambda s: (ls[s], s)):
        code <<= int(ls[symbol]) - previous
        previous = int(ls[symbol])
        codes[symbol] = format(code, f"0{previous}b")
        code += 1
    return codes


def huffman_encode(symbols: Any, lengths: Any) -> bytes:
    """Code ``symbols`` with the canonical code of ``lengths``: bits MSB first, zero-padded.

    Example:
        >>> huffman_encode([0, 3, 0, 1], [1, 3, 3, 2, 0])
        b'L'

    Args:
        symbols: 1-D integers, each a symbol with a positive length.
        lengths: the code lengths (from :func:`huffman_code_lengths`).

    Returns:
        ``ceil(total bits / 8)`` bytes.

    Raises:
        ValueError: a symbol outside the alphabet or without a code, or invalid lengths.

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    table = canonical_codes(lengths)
    s = np.asarray(symbols).reshape(-1)
    if s.size and (not np.issubdtype(s.dtype, np.integer) or s.min() < 0 or s.max() >= len(table)):
        raise ValueError(f"symbols must be integers in 0..{len(table) - 1}")
    missing = sorted({int(v) for v in np.unique(s) if not table[int(v)]})
    if missing:
        raise ValueError(f"symbols {missing} have no code (length 0): count them in the frequencies")
    bits = "".join(table[int(v)] for v in s)
    if not bits:
        return b""
    padded = bits + "0" * (-len(bits) % 8)
    return int(padded, 2).to_bytes(len(padded) // 8, "big")


def huffman_decode(data: bytes, lengths: Any, count: int) -> np.ndarray:
    """Undo :func:`huffman_encode`: the first ``count`` symbols coded in ``data``.

    Example:
        >>> huffman_decode(b'L', [1, 3, 3, 2, 0], 4).tolist()
        [0, 3, 0, 1]

    Args:
        data: bytes from :func:`huffman_encode`.
        lengths: the same code lengths.
        count: how many symbols to read.

    Returns:
        An int64 array of ``count`` symbols.

    Raises:
        ValueError: invalid lengths, or ``data`` ends before ``count`` symbols (or holds a bit
            string that is no code).

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    table = {code: symbol for symbol, code in enumerate(canonical_codes(lengths)) if code}
    longest = max(len(c) for c in table)
    bits = "".join(format(b, "08b") for b in bytes(data))
    out = np.empty(int(count), dtype=np.int64)
    i = 0
    for n in range(int(count)):
        j = i + 1
        while bits[i:j] not in table:
            if j - i >= longest or j > len(bits):
                raise ValueError(f"data ends or breaks after {n} of {count} symbols: wrong lengths, count or data")
            j += 1
        out[n] = table[bits[i:j]]
        i = j
    return out


# --------------------------------------------------------------------------------------------
# one layer, as bytes
# --------------------------------------------------------------------------------------------


@sealed.reference("ch05_advanced_compression/03_deep_compression:pack_sparse")
def encode_layer(codes: Any, codebook: Any, *, gap_bits: int = 5) -> bytes:
    """One pruned, clustered layer in Deep Compression's format, Huffman coded, as bytes.

    Layout (little-endian): a 14-byte header (size, entries, bytes of the gap stream as uint32;
    ``gap_bits`` and k as uint8), the codebook (k float32), the Huffman code lengths of the
    ``2**gap_bits`` gaps and of the ``k + 1`` codes (one uint8 each), then the Huffman-coded
    gaps and the Huffman-coded codes of :func:`sparse_entries`.

    Example:
        >>> data = encode_layer(np.array([0, 2, 0, 0, 1, 0]), np.array([-0.5, 0.5]), gap_bits=2)
        >>> codes, codebook = decode_layer(data)
        >>> codes.tolist(), codebook.tolist()
        ([0, 2, 0, 0, 1, 0], [-0.5, 0.5])

    Args:
        codes: 1-D integers in ``0..k`` (0 = a zero weight, c = ``codebook[c - 1]``).
        codebook: the k shared values (stored as float32), 1 <= k <= 255.
        gap_bits: bits of a relative gap, 1..16 (Han et al. use 5 for fully connected layers).

    Returns:
        The layer's bytes.

    Raises:
        ValueError: a code above k, an empty or too large codebook, or invalid codes or widths.

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    book = np.asarray(codebook, dtype=np.float32).reshape(-1)
    if not 1 <= book.size <= 255:
        raise ValueError(f"the codebook must hold 1 to 255 values, got {book.size}")
    values = _check_codes(codes, None)
    if values.size and values.max() > book.size:
        raise ValueError(f"code {int(values.max())} has no codebook entry (k = {book.size})")
    g = _check_width(gap_bits, "gap_bits")
    gaps, vals = sparse_entries(values, g)
    gap_lengths = np.zeros(2**g, dtype=np.int64)
    val_lengths = np.zeros(book.size + 1, dtype=np.int64)
    gap_stream = val_stream = b""
    if gaps.size:
        gap_lengths = huffman_code_lengths(np.bincount(gaps, minlength=2**g))
        val_lengths = huffman_code_lengths(np.bincount(vals, minlength=book.size + 1))
        gap_stream = huffman_encode(gaps, gap_lengths)
        val_stream = huffman_encode(vals, val_lengths)
    if max(gap_lengths.max(), val_lengths.max()) > 255:
        raise ValueError("a Huffman code longer than 255 bits: too many symbols for this format")
    header = _HEADER.pack(values.size, gaps.size, len(gap_stream), g, book.size)
    return b"".join(
        [
            header,
            book.tobytes(),
            gap_lengths.astype(np.uint8).tobytes(),
            val_lengths.astype(np.uint8).tobytes(),
            gap_stream,
            val_stream,
        ]
    )


@sealed.reference("ch05_advanced_compression/03_deep_compression:pack_sparse")
def decode_layer(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Undo :func:`encode_layer`: ``(codes, codebook)``; the weights are ``[0, *codebook][codes]``.

    Example:
        >>> decode_layer(encode_layer(np.array([1, 0, 1]), np.array([2.0]), gap_bits=1))[0].tolist()
        [1, 0, 1]

    Args:
        data: bytes from :func:`encode_layer`.

    Returns:
        ``(codes, codebook)``: int64 (size,) and float32 (k,).

    Raises:
        ValueError: ``data`` is too short or inconsistent (not from :func:`encode_layer`).

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    data = bytes(data)
    if len(data) < _HEADER.size:
        raise ValueError("decode_layer: data is too short to hold a header; give it bytes from encode_layer")
    size, entries, gap_stream_bytes, g, k = _HEADER.unpack_from(data)
    at = _HEADER.size
    need = at + 4 * k + 2**g + k + 1 + gap_stream_bytes
    if len(data) < need:
        raise ValueError(f"decode_layer: data holds {len(data)} bytes, its header needs at least {need}")
    book = np.frombuffer(data, dtype=np.float32, count=k, offset=at).copy()
    at += 4 * k
    gap_lengths = np.frombuffer(data, dtype=np.uint8, count=2**g, offset=at).astype(np.int64)
    at += 2**g
    val_lengths = np.frombuffer(data, dtype=np.uint8, count=k + 1, offset=at).astype(np.int64)
    at += k + 1
    if entries == 0:
        return np.zeros(size, dtype=np.int64), book
    gaps = huffman_decode(data[at : at + gap_stream_bytes], gap_lengths, entries)
    vals = huffman_decode(data[at + gap_stream_bytes :], val_lengths, entries)
    return sparse_codes(gaps, vals, size), book


def bits_needed(k: int) -> int:
    """Bits of a fixed-width index into ``k`` values: ``ceil(log2(k))``, at least 1.

    Example:
        >>> bits_needed(16), bits_needed(17), bits_needed(1)
        (4, 5, 1)

    Args:
        k: the number of distinct values, >= 1.

    Returns:
        The bit width.

    Raises:
        ValueError: ``k`` < 1.

    Taught in: chapters/ch05_advanced_compression/03_deep_compression
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    return max(1, math.ceil(math.log2(int(k))))
