"""effcourse.coding: the sparse index with fillers, fixed-width packing, Huffman lengths and canonical codes."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from effcourse import coding


def _reference_expected_length(freqs):
    f = [x for x in freqs if x > 0]
    if len(f) == 1:
        return 1.0
    heap = list(f)
    heapq.heapify(heap)
    cost = 0.0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost / sum(f)


def _random_codes(rng, size, density, k):
    codes = rng.integers(1, k + 1, size) * (rng.random(size) < density)
    return codes.astype(np.int64)


def test_entries_insert_a_filler_for_a_gap_too_large():
    gaps, vals = coding.sparse_entries(np.array([0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 2)
    assert gaps.tolist() == [1, 3, 3, 0]
    assert vals.tolist() == [3, 0, 0, 1]
    # exactly 2**b - 1 zeros fit without a filler; 2**b zeros need one
    assert coding.sparse_entries(np.array([0, 0, 0, 5]), 2)[0].tolist() == [3]
    assert coding.sparse_entries(np.array([0, 0, 0, 0, 5]), 2)[0].tolist() == [3, 0]


@pytest.mark.parametrize("gap_bits,code_bits", [(1, 1), (2, 3), (3, 2), (5, 4), (8, 8), (4, 16)])
def test_pack_round_trips_and_has_the_stated_length(gap_bits, code_bits):
    rng = np.random.default_rng(gap_bits * 31 + code_bits)
    for density in (0.0, 0.02, 0.1, 0.5, 1.0):
        codes = _random_codes(rng, int(rng.integers(1, 400)), density, 2**code_bits - 1)
        data = coding.pack_sparse(codes, gap_bits, code_bits)
        gaps, _ = coding.sparse_entries(codes, gap_bits)
        assert len(data) == -(-gaps.size * (gap_bits + code_bits) // 8)
        np.testing.assert_array_equal(coding.unpack_sparse(data, codes.size, gap_bits, code_bits), codes)
        np.testing.assert_array_equal(coding.sparse_codes(*coding.sparse_entries(codes, gap_bits), codes.size), codes)


def test_pack_layout_is_gap_then_code_msb_first():
    assert coding.pack_sparse(np.array([0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 2, 2) == b"|\xc1"
    assert coding.pack_sparse(np.zeros(5, dtype=int), 3, 3) == b""


def test_pack_refuses_bad_input():
    with pytest.raises(ValueError, match="code_bits"):
        coding.pack_sparse(np.array([0, 4]), 2, 2)
    with pytest.raises(ValueError, match=">= 0"):
        coding.pack_sparse(np.array([0, -1]), 2, 2)
    with pytest.raises(ValueError, match="gap_bits"):
        coding.pack_sparse(np.array([1]), 0, 2)
    with pytest.raises(ValueError, match="1-D"):
        coding.pack_sparse(np.ones((2, 2), dtype=int), 2, 2)
    with pytest.raises(ValueError, match="integers"):
        coding.pack_sparse(np.array([0.5]), 2, 2)
    with pytest.raises(ValueError, match="beyond"):
        coding.unpack_sparse(coding.pack_sparse(np.array([0, 0, 1]), 2, 2), 2, 2, 2)
    with pytest.raises(ValueError, match="one entry each"):
        coding.sparse_codes([1, 2], [1], 5)


def test_huffman_lengths_small_cases():
    assert coding.huffman_code_lengths([5, 1, 1, 2, 0]).tolist() == [1, 3, 3, 2, 0]
    assert coding.huffman_code_lengths([0, 7, 0]).tolist() == [0, 1, 0]
    assert sorted(coding.huffman_code_lengths([1, 1, 1, 1]).tolist()) == [2, 2, 2, 2]
    assert coding.huffman_code_lengths(np.array([3, 3], dtype=np.int32)).dtype == np.int64


def test_huffman_lengths_are_optimal_and_complete_on_random_tables():
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(2, 40))
        f = rng.integers(0, 20, n) if trial % 2 else rng.random(n) ** 3
        if np.count_nonzero(f) < 2:
            continue
        lengths = coding.huffman_code_lengths(f)
        used = f > 0
        assert np.all(lengths[~used] == 0) and np.all(lengths[used] >= 1)
        assert sum(2.0 ** -lengths[used]) == pytest.approx(1.0, abs=1e-12)
        expected = float(np.dot(f, lengths) / f.sum())
        assert expected == pytest.approx(_reference_expected_length(list(f)), rel=1e-9, abs=1e-9)


def test_huffman_lengths_refuse_bad_input():
    for bad in ([], [0, 0], [1, -1], [1, np.nan], [[1, 2]]):
        with pytest.raises(ValueError):
            coding.huffman_code_lengths(bad)


def test_canonical_codes_and_huffman_round_trip():
    assert coding.canonical_codes([1, 3, 3, 2, 0]) == ["0", "110", "111", "10", ""]
    rng = np.random.default_rng(1)
    symbols = rng.choice(6, 500, p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05])
    lengths = coding.huffman_code_lengths(np.bincount(symbols, minlength=7))
    data = coding.huffman_encode(symbols, lengths)
    assert len(data) == -(-int(np.dot(np.bincount(symbols, minlength=7), lengths)) // 8)
    np.testing.assert_array_equal(coding.huffman_decode(data, lengths, symbols.size), symbols)
    with pytest.raises(ValueError, match="no code"):
        coding.huffman_encode([6], lengths)
    with pytest.raises(ValueError, match="Kraft"):
        coding.canonical_codes([1, 1, 1])
    with pytest.raises(ValueError, match="ends"):
        coding.huffman_decode(data[:2], lengths, symbols.size)


def test_encode_layer_round_trips():
    rng = np.random.default_rng(2)
    codes = _random_codes(rng, 3000, 0.08, 15)
    book = rng.normal(size=15).astype(np.float32)
    data = coding.encode_layer(codes, book, gap_bits=5)
    back, book2 = coding.decode_layer(data)
    np.testing.assert_array_equal(back, codes)
    np.testing.assert_array_equal(book2, book)
    # entropy coding beats the fixed widths on a skewed layer
    assert len(data) < len(coding.pack_sparse(codes, 5, 4)) + 4 * 15 + 32 + 16 + 14
    empty, _ = coding.decode_layer(coding.encode_layer(np.zeros(7, dtype=int), book, gap_bits=3))
    assert empty.tolist() == [0] * 7


def test_encode_layer_refuses_bad_input():
    with pytest.raises(ValueError, match="codebook entry"):
        coding.encode_layer(np.array([0, 3]), [1.0, 2.0])
    with pytest.raises(ValueError, match="1 to 255"):
        coding.encode_layer(np.array([0]), [])
    with pytest.raises(ValueError, match="too short"):
        coding.decode_layer(b"\x00")


def test_bits_needed():
    assert [coding.bits_needed(k) for k in (1, 2, 3, 16, 17)] == [1, 1, 2, 4, 5]
    with pytest.raises(ValueError):
        coding.bits_needed(0)
