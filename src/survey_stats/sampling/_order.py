"""Exact orderings for selection, made with one sort of 64-bit words (internal to :mod:`survey_stats.sampling`).

Selection needs two orderings of many rows: by stratum keeping the current order (a stable
sort by a small integer code), and by stratum, then a uniform random key, then position.
numpy sorts 64-bit integers in place several times faster than it argsorts them (its
SIMD sorting networks serve ``sort``; ``argsort`` moves an index beside every value), so both
orderings are made by packing what decides the order and the row's index into one unsigned
64-bit word, sorting the words and reading the indices back from their low bits.  Because the
index is part of the word, equal codes keep their order: the result is exactly the stable
ordering, whatever algorithm ``sort`` uses.
"""

from __future__ import annotations

import numpy as np

__all__ = ["by_code_then_key", "stable_by_code", "stable_sort"]

#: fewest key bits for which the packed sort is used; with fewer, ties of the truncated keys get common
_MIN_KEY_BITS = 20


def _bits(k: int) -> int:
    """Bits needed for the integers 0..k-1 (at least 1)."""
    return max(1, (k - 1).bit_length())


def stable_by_code(codes: np.ndarray) -> np.ndarray:
    """Positions that sort non-negative integer *codes* stably (``argsort(kind="stable")``).

    Examples
    --------
    >>> stable_by_code(np.array([2, 0, 2, 1, 0])).tolist()
    [1, 4, 3, 0, 2]
    """
    return stable_sort(codes)[0]


def stable_sort(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stable_by_code` and the sorted codes (as unsigned 64-bit integers), which the
    packed words hold anyway — no gather of the codes by the order is needed."""
    n = len(codes)
    if n < 2:
        return np.arange(n, dtype=np.intp), codes.astype(np.uint64)
    ibits = _bits(n)
    if _bits(int(codes.max()) + 1) + ibits > 63:
        order = np.argsort(codes, kind="stable")
        return order, codes[order].astype(np.uint64)
    words = codes.astype(np.uint64) << np.uint64(ibits)
    words |= np.arange(n, dtype=np.uint64)
    words.sort()
    sorted_codes = words >> np.uint64(ibits)
    words &= np.uint64((1 << ibits) - 1)
    return words.view(np.int64).astype(np.intp, copy=False), sorted_codes


def by_code_then_key(codes: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Positions that order rows by integer *codes*, then by *key* in [0, 1), then by position.

    The word holds the code, the key's leading bits ⌊k·2^b⌋ and the position.  Rows whose code
    and leading key bits agree (equal keys, or keys closer than 2^-b) are put in order by
    their full key and position afterwards, so the result equals
    ``np.lexsort((positions, key, codes))`` exactly.  When the code and the position leave
    fewer than 20 bits for the key, ``lexsort`` itself is used.

    Examples
    --------
    >>> by_code_then_key(np.array([1, 0, 1, 0]), np.array([0.5, 0.9, 0.25, 0.9])).tolist()
    [1, 3, 2, 0]
    """
    n = len(codes)
    if n < 2:
        return np.arange(n, dtype=np.intp)
    ibits, cbits = _bits(n), _bits(int(codes.max()) + 1)
    kbits = 64 - cbits - ibits
    if kbits < _MIN_KEY_BITS:
        return np.lexsort((key, codes))
    words = codes.astype(np.uint64) << np.uint64(kbits)
    words |= np.floor(key * 2.0**kbits).astype(np.uint64)  # exact: a power-of-two scaling, then floor
    words <<= np.uint64(ibits)
    words |= np.arange(n, dtype=np.uint64)
    words.sort()
    lead = words >> np.uint64(ibits)
    order = (words & np.uint64((1 << ibits) - 1)).view(np.int64).astype(np.intp, copy=False)
    same = lead[1:] == lead[:-1]
    if same.any():  # settle rows whose leading bits agree by their full key (then position)
        tied = np.zeros(n, dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        slots = np.flatnonzero(tied)
        run = np.cumsum(np.r_[True, ~same][slots])  # runs are contiguous: a new one starts where lead changes
        rows = order[slots]
        order[slots] = rows[np.lexsort((rows, key[rows], run))]
    return order
