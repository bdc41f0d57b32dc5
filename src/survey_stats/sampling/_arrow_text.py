"""Text columns held by Arrow, read and written as bytes (internal to :mod:`survey_stats.sampling`).

Frames read from files hold their ids and labels as Arrow strings (pandas ≥ 3 with pyarrow).
These helpers look at an Arrow string array's buffers directly — offsets and UTF-8 bytes —
so that the frame's id fingerprint and the sample's stratum column need no Python object per
row: a fixed-width id column is an (n, L) byte matrix already, and whether any id could start
or end with whitespace shows in its first and last bytes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["equal_width", "label_column", "may_need_trim", "pad8", "space_or_wide", "string_buffers", "take_text"]


def string_buffers(arr: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets, data bytes) of an Arrow string or large_string array, views without copying;
    None without data."""
    bufs = arr.buffers()
    if len(bufs) < 3 or bufs[2] is None:
        return None
    width = np.int64 if str(arr.type) == "large_string" else np.int32
    offsets = np.frombuffer(bufs[1], dtype=width)[arr.offset: arr.offset + len(arr) + 1]
    return offsets, np.frombuffer(bufs[2], dtype=np.uint8)


def space_or_wide(byte: np.ndarray) -> bool:
    """Whether any of these bytes may belong to whitespace: a space, a control character or part
    of a non-ASCII character (no ASCII letter, digit or punctuation is whitespace)."""
    return bool(((byte <= 32) | (byte >= 127)).any())


def may_need_trim(arr: Any) -> bool:
    """Whether some id may begin or end with whitespace, judged on its first and last bytes."""
    parts = string_buffers(arr)
    if parts is None:
        return False
    offsets, data = parts
    present = offsets[1:] > offsets[:-1]
    return space_or_wide(np.concatenate([data[offsets[:-1][present]], data[offsets[1:][present] - 1]]))


def equal_width(arr: Any) -> np.ndarray | None:
    """The ids' bytes as an (n, L) view of the Arrow data buffer when every id has the same
    byte length L ≥ 1 and none is missing (fixed-format household or ID-card numbers), else None."""
    parts = string_buffers(arr)
    if parts is None or arr.null_count or len(arr) == 0:
        return None
    offsets, data = parts
    L = int(offsets[1] - offsets[0])
    if L == 0 or not (np.diff(offsets) == L).all():
        return None
    return data[offsets[0]: offsets[0] + len(arr) * L].reshape(len(arr), L)


def pad8(raw: np.ndarray) -> np.ndarray:
    """Rows of bytes NUL-padded to a multiple of 8 (at least 8)."""
    out = np.zeros((len(raw), max(8, math.ceil(raw.shape[1] / 8) * 8)), dtype=np.uint8)
    out[:, : raw.shape[1]] = raw
    return out


def label_column(codes: np.ndarray, labels: pd.Index) -> Any:
    """``labels[codes]`` as the column pandas would make of those strings, built without a
    Python object per row when pandas stores strings in Arrow (pandas ≥ 3 with pyarrow)."""
    values = np.asarray(labels, dtype=object)
    dtype = pd.Series(values[:1]).dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa

        arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(values, pa.string()))
        return pd.array(arr.cast(pa.string()), dtype=dtype)
    return values[codes]


def take_text(values: Any, idx: np.ndarray) -> Any | None:
    """``values.take(idx)`` for a pandas Arrow string array whose strings all have one byte
    width (fixed-format household numbers): the bytes are gathered as rows of the (n, L)
    matrix with numpy and wrapped as a new Arrow array, several times faster than Arrow's
    take of variable-width strings.  None when the column is not like that (the caller takes)."""
    dtype = values.dtype
    arrow_text = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype) and str(dtype.pyarrow_dtype) in ("string", "large_string"))
    if not arrow_text:
        return None
    import pyarrow as pa

    if not hasattr(values, "__arrow_array__"):
        return None
    chunks = values.__arrow_array__()
    if not isinstance(chunks, pa.ChunkedArray):
        chunks = pa.chunked_array([chunks])
    if chunks.num_chunks != 1 or str(chunks.type) not in ("string", "large_string"):
        return None
    rows = equal_width(chunks.chunk(0))
    large = str(chunks.type) == "large_string"
    if rows is None or (not large and len(idx) * rows.shape[1] >= 2**31):
        return None
    picked = np.take(rows, idx, axis=0)
    offsets = np.arange(len(idx) + 1, dtype=np.int64 if large else np.int32) * rows.shape[1]
    kind = pa.LargeStringArray if large else pa.StringArray
    out = kind.from_buffers(len(idx), pa.py_buffer(offsets), pa.py_buffer(picked))
    return pd.array(out, dtype=dtype)
