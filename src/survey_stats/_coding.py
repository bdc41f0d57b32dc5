"""Sorted integer codes for a column, in one pass over the rows when the values allow it.

``pandas.factorize(s, sort=True)`` hashes every value and then sorts the distinct ones.
Strata, PSU and domain columns are very often small non-negative integers (codes a
survey organisation already uses); for those a presence table over the range of the
values gives the same codes with three vectorised passes and no hashing: mark the
values present, number the marks by a cumulative sum, and look every row's number up
(when every value of the range occurs, a code is simply the value minus the smallest, and a
column already holding 0..K-1 is its own codes, shared rather than copied).
Anything else (text, floats, categoricals, nullable or very sparse integers) goes to
``pandas.factorize``, so the result is always exactly ``factorize(s, sort=True)``'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["sorted_codes"]

#: Use the presence table while the value range is at most this many times the rows (plus a constant).
_SPAN_PER_ROW = 4
_SPAN_EXTRA = 1 << 16


def sorted_codes(s: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Code of each row (0..K-1, in sorted order of the values) and the K distinct values.

    The same codes and labels as ``pandas.factorize(s, sort=True)`` (missing values get
    code -1 there; callers reject them first).

    Examples
    --------
    >>> import pandas as pd
    >>> codes, labels = sorted_codes(pd.Series([30, 10, 30, 20]))
    >>> codes.tolist(), labels
    ([2, 0, 2, 1], [10, 20, 30])
    >>> sorted_codes(pd.Series(["b", "a", "b"]))[0].tolist()
    [1, 0, 1]
    """
    fast = _int_codes(s)
    if fast is not None:
        return fast
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.intp, copy=False), list(uniques)


def _int_codes(s: pd.Series) -> tuple[np.ndarray, list[int]] | None:
    """Presence-table codes for a plain numpy integer column with a compact range, else None."""
    dtype = s.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "iu" or len(s) == 0:
        return None
    x = s.to_numpy()
    lo, hi = int(x.min()), int(x.max())
    if lo >= 0 and hi < _SPAN_PER_ROW * len(x) + _SPAN_EXTRA:
        base, idx = 0, x  # index by the values themselves: no shifted copy
    elif hi - lo < _SPAN_PER_ROW * len(x) + _SPAN_EXTRA:
        # exact: the range was checked in Python integers; signed values are widened first so
        # that the shift cannot overflow a narrow type, unsigned ones (all ≥ lo) shift in place
        base, idx = lo, (x - x.dtype.type(lo)) if dtype.kind == "u" else (x.astype(np.int64) - lo)
    else:
        return None
    present = np.zeros(hi - base + 1, dtype=bool)
    present[idx] = True
    if present[lo - base:].all():  # every value from lo to hi occurs: a code is the value minus lo
        return _shifted(x, idx, lo, base), list(range(lo, hi + 1))
    number = np.cumsum(present, dtype=np.intp)
    number -= 1
    codes = number[idx]
    labels = np.flatnonzero(present).tolist()
    if base:
        labels = [v + base for v in labels]  # Python integers: no dtype can overflow
    return codes, labels


def _shifted(x: np.ndarray, idx: np.ndarray, lo: int, base: int) -> np.ndarray:
    """``x - lo`` as intp codes; the column itself (no copy) when it already holds 0..K-1 as intp."""
    if lo == 0 and x.dtype == np.intp:
        return x
    if base:  # idx is already x - lo, a fresh array
        return idx.astype(np.intp, copy=False)
    codes = x.astype(np.intp)
    codes -= lo
    return codes
