"""Small private helpers for input checks and error messages."""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, MethodError
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


def renamed(func: str, old: str, old_value: Any, new: str, new_value: Any, default: Any = None) -> Any:
    """The value of a renamed keyword argument; the old name still works for one release.

    *old_value* is None when the caller did not use the old name: *new_value* is
    returned.  Otherwise a :class:`DeprecationWarning` names the new keyword and the old
    value is returned — unless *new_value* was also given (it differs from *default*)
    and disagrees, which raises :class:`MethodError`.

    Examples
    --------
    >>> renamed("f", "weight", None, "weights", "w")
    'w'
    """
    if old_value is None:
        return new_value
    warnings.warn(f"{func}({old}=...) is deprecated and will be removed in the next release; pass {new}= "
                  "(same meaning).", DeprecationWarning, stacklevel=3)
    if new_value is not default and new_value != old_value:
        raise MethodError(f"{func}: {new}={new_value!r} and its old name {old}={old_value!r} disagree; "
                          f"pass {new} only.")
    return old_value


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


# -- flags and numbers ---------------------------------------------------------------------
#: Spellings of a yes/no answer accepted by :func:`parse_flags` (compared after strip + lower).
FLAG_TRUE = frozenset({"1", "1.0", "true", "yes", "y", "是"})
FLAG_FALSE = frozenset({"0", "0.0", "false", "no", "n", "否"})


def flag_value(value: Any) -> bool | None:
    """One yes/no value by an explicit mapping, or None when it is not a recognised flag.

    Booleans, the numbers 1 and 0, and the strings 1/0, true/false, yes/no, y/n and
    是/否 (any case, surrounding blanks ignored).  Never truthiness: ``"0"``, ``"no"``
    and ``"否"`` are False, ``2`` and ``"maybe"`` are not flags.

    Examples
    --------
    >>> [flag_value(v) for v in (True, 0, 1.0, " Yes ", "否", "0", 2, "maybe")]
    [True, False, True, True, False, False, None, None]
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in FLAG_TRUE:
            return True
        if word in FLAG_FALSE:
            return False
    return None


def parse_flags(values: pd.Series, name: str, error: type[Exception] = DataError, what: str = "column") -> np.ndarray:
    """A yes/no column as a bool array, by :func:`flag_value`; anything else is *error*.

    Missing values and unrecognised values are refused, naming the rows and values.

    Examples
    --------
    >>> parse_flags(pd.Series(["1", "0", "no", "是", True]), "resp").tolist()
    [True, False, False, True, True]
    >>> try:
    ...     parse_flags(pd.Series(["yes", "perhaps"]), "resp")
    ... except DataError as e:
    ...     print(e)
    column 'resp' must be boolean or yes/no flags (1/0, true/false, yes/no, y/n, 是/否), but 1 row(s) (index 1) hold 'perhaps'.
    """
    if values.dtype == bool:
        return values.to_numpy()
    miss = values.isna().to_numpy()
    if miss.any():
        raise error(f"{what} {name!r} has missing values in {describe_rows(values.index, miss)}; "
                    "every row needs a yes/no flag.")
    mapping = {v: flag_value(v) for v in pd.unique(values.to_numpy(dtype=object))}
    unknown = [v for v, f in mapping.items() if f is None]
    if unknown:
        bad = values.isin(unknown).to_numpy()
        raise error(f"{what} {name!r} must be boolean or yes/no flags (1/0, true/false, yes/no, y/n, 是/否), but "
                    f"{describe_rows(values.index, bad)} hold {describe_values(unknown)}.")
    return np.array([mapping[v] for v in values.to_numpy(dtype=object)], dtype=bool)


def real_number(value: Any, name: str, *, minimum: float | None = None, maximum: float | None = None,
                error: type[Exception] = DataError) -> float:
    """*value* as a finite float within [minimum, maximum], or *error* saying what was wrong.

    Accepts Python and NumPy numbers and numeric strings; refuses booleans, NaN and ±inf.

    Examples
    --------
    >>> real_number("18", "days", minimum=0)
    18.0
    >>> try:
    ...     real_number(float("nan"), "households_aided")
    ... except DataError as e:
    ...     print(e)
    households_aided = nan is not a finite number; give a number.
    """
    v: float | None = None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        v = float(value)
    elif isinstance(value, str):
        try:
            v = float(value.strip())
        except ValueError:
            v = None
    if v is None or not math.isfinite(v):
        raise error(f"{name} = {value!r} is not a finite number; give a number.")
    if minimum is not None and v < minimum:
        raise error(f"{name} = {value!r} is below {minimum:g}; it cannot be negative or smaller than that.")
    if maximum is not None and v > maximum:
        raise error(f"{name} = {value!r} is above {maximum:g}.")
    return v
