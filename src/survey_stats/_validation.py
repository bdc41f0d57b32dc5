"""Small private helpers for input checks and error messages."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import MethodError
from .privacy import mask_text

_MAX_LISTED = 5


def describe_rows(index: pd.Index, mask: np.ndarray) -> str:
    """Name the rows selected by *mask* by their index labels, at most a few of them (ID/phone numbers masked)."""
    labels = list(index[np.asarray(mask, dtype=bool)][: _MAX_LISTED + 1])
    shown = mask_text(", ".join(repr(x) for x in labels[:_MAX_LISTED]))[0]
    total = int(np.count_nonzero(mask))
    more = f" and {total - _MAX_LISTED} more" if total > _MAX_LISTED else ""
    return f"{total} row(s) (index {shown}{more})"


def describe_values(values: Iterable[Any]) -> str:
    """A short list of values for a message, with ID-card and phone numbers masked."""
    vals = list(values)
    shown = mask_text(", ".join(repr(v) for v in vals[:_MAX_LISTED]))[0]
    more = f" and {len(vals) - _MAX_LISTED} more" if len(vals) > _MAX_LISTED else ""
    return shown + more


def check_option(value: Any, name: str, options: Sequence[str]) -> str:
    """Check a ``Literal`` string option; name the allowed values on error."""
    if isinstance(value, bool) or not isinstance(value, str) or value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise MethodError(f"{name}={value!r} is not an option; use one of {allowed}.")
    return value


def check_level(level: float) -> float:
    """A confidence level strictly between 0 and 1."""
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise MethodError(
            f"level={level!r} is not a confidence level; give a number strictly between 0 and 1, e.g. 0.95."
        )
    return float(level)


def rng_for(seed: int, purpose: str) -> np.random.Generator:
    """A generator seeded by (seed, purpose).

    Each use (selection, simulation, score draws...) gets its own stream, so reusing
    one integer seed for the data and for the sample does not make the sample depend
    on the data: plain ``default_rng(seed)`` would hand both the same uniforms.
    """
    return np.random.default_rng([int(seed), zlib.crc32(purpose.encode("utf-8"))])
