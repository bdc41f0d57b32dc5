"""Domains, analysis variables and options: what an estimator reads from a design's rows.

Internal module (part of the internal API, see :mod:`survey_stats._internal`): the
in-memory estimators (:mod:`survey_stats.estimation`, :mod:`survey_stats.quantiles`),
models and tests of association parse ``by=``, ``where=``, analysis columns, ``na=``
and ``df=`` here, so every estimator reads them the same way.

* :func:`domains` — the domain code of every row (``by=`` combinations; rows outside
  ``where=`` get code ``D``) — a :class:`Domains`;
* :func:`where_mask` — ``where=`` as a boolean row mask: a True/False column, a boolean
  array or Series, or a condition in the safe expression language (:mod:`survey_stats.expr`);
* :func:`numeric`, :func:`category_parts`, :func:`is_binary`, :func:`missing` — analysis
  columns and the ``na=`` policy;
* :func:`resolve_df`, :func:`domain_df`, :func:`subset_df` — degrees of freedom (R's
  ``degf`` of the design or of a subset: PSUs − strata among its rows).

Domains keep the full design: rows outside a domain still count as PSUs of their
stratum, as R ``survey``'s ``svyby`` and ``subset.survey.design`` do (Lumley 2010, §2.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._validation import check_level, check_option, describe_rows, describe_values
from .design import Design
from .errors import DataError, MethodError
from .expr import parse

NaPolicy = Literal["fail", "drop"]
DfOption = float | int | Literal["design", "domain"] | None
By = str | Sequence[str] | None


@dataclass(frozen=True)
class Domains:
    codes: np.ndarray  # domain of each row; D for rows outside every domain (where=)
    labels: list[tuple[tuple[str, Any], ...]]
    all_in: bool

    @property
    def D(self) -> int:
        return len(self.labels)


def domains(design: Design, by: By, where: Any) -> Domains:
    n = design.n
    index = design._data.index
    keep = np.ones(n, dtype=bool) if where is None else where_mask(design, where)
    if by is None:
        codes = np.zeros(n, dtype=np.intp)
        labels: list[tuple[tuple[str, Any], ...]] = [()]
    else:
        cols = names(by, "by")
        frames = [design.column(c) for c in cols]
        for c, s in zip(cols, frames):
            bad = s.isna().to_numpy()
            if bad.any():
                raise DataError(
                    f"by column {c!r} has missing values in {describe_rows(index, bad)}; "
                    "fill them (e.g. with 'unknown') so those respondents form a domain of their own."
                )
        if len(cols) == 1:
            codes, u = design._codes(cols[0])
            labels = [((cols[0], py(v)),) for v in u]
        else:
            g = pd.DataFrame({c: s.to_numpy() for c, s in zip(cols, frames)}).groupby(cols, sort=True)
            codes = g.ngroup().to_numpy().astype(np.intp)
            labels = [tuple((c, py(v)) for c, v in zip(cols, key)) for key in g.groups.keys()]
    D = len(labels)
    all_in = bool(keep.all())
    if not all_in:
        codes = np.where(keep, codes, D)
    return Domains(codes, labels, all_in)


def names(value: Any, what: str) -> list[str]:
    """A column name or a non-empty list of column names (duplicates refused)."""
    if isinstance(value, str):
        return [value]
    ok = isinstance(value, (list, tuple, pd.Index)) and len(value) > 0 and all(isinstance(v, str) for v in value)
    if not ok:
        raise MethodError(f"{what}={value!r}: give a column name or a non-empty list of column names.")
    if len(set(value)) < len(value):
        raise MethodError(f"{what}={value!r} names a column twice.")
    return list(value)


def py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def where_mask(design: Design, where: Any) -> np.ndarray:
    index = design._data.index
    if isinstance(where, str) and where not in design._data.columns:
        return nonempty(parse(where, source="where=").mask(design._data), f"where={where!r}")
    if isinstance(where, str):
        s = design.column(where)
        name = f"where column {where!r}"
    elif isinstance(where, pd.Series):
        if len(where) != design.n or not where.index.equals(index):
            raise DataError("where= Series must have the design data's index; pass a column name or a boolean array.")
        s = where
        name = "where="
    else:
        arr = np.asarray(where)
        if arr.shape != (design.n,):
            raise DataError(f"where= must have one value per row ({design.n}), got shape {arr.shape}.")
        s = pd.Series(arr, index=index)
        name = "where="
    if s.isna().any():
        raise DataError(f"{name} has missing values in {describe_rows(index, s.isna().to_numpy())}.")
    vals = s.to_numpy()
    if vals.dtype != bool:
        if not np.isin(vals, [0, 1, True, False]).all():
            raise DataError(f"{name} must be boolean (True = in the domain).")
        vals = vals.astype(bool)
    return nonempty(vals, name)


def nonempty(mask: np.ndarray, name: str) -> np.ndarray:
    if not mask.any():
        raise DataError(f"{name} selects no rows; the domain is empty.")
    return mask


def numeric(design: Design, name: str, na: NaPolicy) -> tuple[np.ndarray, np.ndarray | None]:
    s = design.column(name)
    if s.dtype == bool:
        y = s.to_numpy(dtype=float)
    else:
        if not (pd.api.types.is_numeric_dtype(s) or s.dtype == object):
            raise DataError(f"column {name!r} is not numeric (dtype {s.dtype}); use proportion() for categories.")
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna().to_numpy() & s.notna().to_numpy()
        if bad.any():
            raise DataError(
                f"column {name!r} is not numeric in {describe_rows(design._data.index, bad)} "
                f"(values {describe_values(pd.unique(s[bad]))}); recode them or use proportion()."
            )
        y = num.to_numpy(dtype=float, na_value=np.nan)
    inf = np.isinf(y)
    if inf.any():
        raise DataError(f"column {name!r} has infinite values in {describe_rows(design._data.index, inf)}; "
                        "an answer cannot be infinite: recode them (e.g. as missing).")
    return missing(design, name, y, np.isnan(y), na)


def yx(design: Design, name: str, na: NaPolicy) -> tuple[np.ndarray, None, np.ndarray | None]:
    """(y, x=None, missing mask) for a Part of a numeric variable."""
    y, miss = numeric(design, name, na)
    return y, None, miss


def missing(
    design: Design, name: str, y: np.ndarray, miss: np.ndarray, na: NaPolicy
) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply the na= policy: raise, or zero the missing values and return their mask."""
    if not miss.any():
        return y, None
    if na == "fail":
        raise DataError(
            f"column {name!r} has missing values in {describe_rows(design._data.index, miss)}; "
            "pass na='drop' to estimate over the respondents with data (treated as a domain, "
            "so the standard error stays correct), or impute them first."
        )
    return np.where(miss, 0.0, y), miss


def resolve_df(design: Design, df: DfOption) -> float | str:
    if df is None or (isinstance(df, str) and df == "design"):
        return float(design.degf)
    if isinstance(df, str) and df == "domain":
        return "domain"
    if isinstance(df, bool) or not isinstance(df, (int, float, np.integer, np.floating)) or not df > 0:
        raise MethodError(f"df={df!r}: give a number > 0, float('inf'), 'design' or 'domain'.")
    return float(df)


def is_sql(design: Any) -> bool:
    return getattr(design, "_sql_backend", False)


def check_common(level: float, na: str) -> float:
    check_option(na, "na", ("fail", "drop"))
    return check_level(level)


def domain_df(design: Design, dj: np.ndarray, D: int) -> np.ndarray:
    """PSUs minus strata among the rows of each domain (R's degf of a subset)."""
    inside = dj < D
    d = dj[inside]
    H = design.n_strata
    strata = np.unique(d * H + design._h[inside])
    n_strata = np.bincount(strata // H, minlength=D)
    if design._psu is None:
        n_psu = np.bincount(d, minlength=D)
    else:
        P = len(design._psu_h)
        psus = np.unique(d * P + design._psu[inside])
        n_psu = np.bincount(psus // P, minlength=D)
    return (n_psu - n_strata).astype(float)


def subset_df(design: Design, rows: np.ndarray | None) -> float:
    """R's ``degf`` of the design restricted to *rows*: PSUs − strata among them; the design's when None.

    Replicate designs keep their own df (the rank of the replicate weights − 1), as the
    callers (models, tests of association) use it: R's ``degf`` of a subset of an
    ``svyrep.design`` is that of the whole design.
    """
    if rows is None or design._rep is not None:
        return float(design.degf)
    return float(domain_df(design, np.where(rows, 0, 1).astype(np.intp), 1)[0])


@dataclass
class Part:
    """One analysis column (a variable or a category indicator) entering the linear core."""

    variable: str
    y: np.ndarray
    x: np.ndarray | None = None  # denominator for ratios
    miss: np.ndarray | None = None
    category: Any = None


def category_parts(design: Design, name: str, na: NaPolicy, binary: bool = False) -> list[Part]:
    s = design.column(name)
    if binary:
        y = s.to_numpy(dtype=float, na_value=np.nan)
        y, m = missing(design, name, y, np.isnan(y), na)
        return [Part(name, y, None, m)]
    miss = s.isna().to_numpy()
    _, m = missing(design, name, np.zeros(len(s)), miss, na)
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = list(s.cat.categories)
    else:
        levels = sorted(pd.unique(s[~miss]), key=sort_key)
    return [Part(name, (s.eq(lev).to_numpy(dtype=bool, na_value=False) & ~miss).astype(float), None, m, py(lev))
            for lev in levels]


def sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, (int, float, np.number)) else (1, str(v))


def is_binary(design: Design, name: str) -> bool:
    """True for a boolean column or a numeric one holding only 0, 1 and missing values."""
    key = ("binary", name)
    if key not in design._cache:
        s = design.column(name)
        if s.dtype == bool:
            ok = True
        elif not pd.api.types.is_numeric_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            ok = False
        else:
            y = s.to_numpy(dtype=float, na_value=np.nan)
            ok = not np.any((y != 0) & (y != 1) & ~np.isnan(y))
        design._cache[key] = ok
    return design._cache[key]


def variables(variable: str | Sequence[str]) -> list[str]:
    return names(variable, "variable")
