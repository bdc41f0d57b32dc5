"""Result objects: small, frozen, never rounded; ``to_frame()`` gives tidy pandas.

An :class:`Estimate` is one number with its uncertainty, like R ``survey``'s
``svystat`` read through ``coef``/``SE``/``confint``/``deff``/``degf``.  An
:class:`EstimateTable` is several estimates from one call (several variables,
categories or ``by=`` domains) together with their full covariance matrix, so that
linear combinations of its rows get correct standard errors (R's ``svyby(...,
covmat=TRUE)`` + ``svycontrast``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = ["Estimate", "EstimateTable"]


@dataclass(frozen=True, slots=True)
class Estimate:
    """One design-based estimate with its standard error and confidence interval.

    Attributes
    ----------
    statistic : str
        ``"mean"``, ``"total"``, ``"proportion"``, ``"ratio"``, ``"quantile"`` or
        ``"linear combination"``.
    variable : str
        The analysis variable (``"num/den"`` for ratios).
    estimate, se : float
        Point estimate and Taylor-linearisation standard error.
    ci_low, ci_high : float
        Confidence interval at ``level`` (NaN when ``df <= 0``).
    level : float
        Confidence level.
    df : float
        Degrees of freedom of the interval's t quantile (``inf``: normal).
    n : int
        Unweighted number of respondents used.
    n_eff : float
        Effective sample size: for proportions p(1-p)/se² (Korn-Graubard, the NCHS
        definition), for means and totals n / deff_replace; ``n`` when the variance
        is 0.
    deff : float
        Design effect against simple random sampling without replacement of the same
        size (R ``deff=TRUE``); NaN where undefined (ratios, quantiles, combinations).
    cv : float
        Coefficient of variation se / |estimate|.
    method : str
        How the interval was computed, e.g. ``"taylor; logit"``.
    domain : tuple of (column, value) pairs
        The ``by=`` domain, empty for the whole population.
    category : object
        The level of a categorical variable, ``None`` otherwise.
    n_missing : int
        Rows excluded because the analysis variable was missing (``na="drop"``).
    """

    statistic: str
    variable: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    level: float
    df: float
    n: int
    n_eff: float
    deff: float
    cv: float
    method: str
    domain: tuple[tuple[str, Any], ...] = ()
    category: Any = None
    n_missing: int = 0
    source: Any = field(default=None, repr=False, compare=False)

    @property
    def var(self) -> float:
        """The variance, se²."""
        return self.se * self.se

    @property
    def key(self) -> Hashable:
        """How a row is named in :meth:`EstimateTable.__getitem__` and contrasts."""
        dom = tuple(v for _, v in self.domain)
        parts: tuple[Any, ...] = ((self.category,) if self.category is not None else ()) + dom
        if len(parts) == 1:
            return parts[0]
        return parts if parts else self.variable

    @property
    def label(self) -> str:
        """A readable one-line name: variable [category] | domain."""
        s = self.variable
        if self.category is not None:
            s += f" = {self.category}"
        if self.domain:
            s += " | " + ", ".join(f"{k}={v}" for k, v in self.domain)
        return s

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (domain flattened to ``by`` columns)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "source"}
        dom = d.pop("domain")
        for k, v in dom:
            d[k] = v
        return d

    def to_frame(self) -> pd.DataFrame:
        """One tidy row: a column per field, domain columns named after the by= columns.

        Examples
        --------
        >>> e = Estimate("mean", "y", 2.0, 0.5, 1.0, 3.0, 0.95, 10.0, 12, 10.0, 1.2, 0.25, "taylor; wald")
        >>> e.to_frame()[["variable", "estimate", "se"]]
          variable  estimate   se
        0        y       2.0  0.5
        """
        return pd.DataFrame([_row_dict(self, [k for k, _ in self.domain])])

    def __str__(self) -> str:
        return (
            f"{self.label}: {self.estimate:.6g} (SE {self.se:.4g}; "
            f"{self.level:.0%} CI {self.ci_low:.6g} to {self.ci_high:.6g}; {self.method})"
        )

    def __repr__(self) -> str:
        """One line: statistic, variable (category, domain), estimate, SE, CI and n.

        Examples
        --------
        >>> Estimate("mean", "y", 2.0, 0.5, 1.0, 3.0, 0.95, 10.0, 12, 10.0, 1.2, 0.25, "taylor; wald")
        <Estimate mean y: 2 (SE 0.5, 95% CI 1 to 3, n=12)>
        """
        return (f"<Estimate {self.statistic} {self.label}: {self.estimate:.6g} (SE {self.se:.4g}, "
                f"{self.level:.0%} CI {self.ci_low:.6g} to {self.ci_high:.6g}, n={self.n})>")

    def __format__(self, spec: str) -> str:
        """``format(est, ".3f")`` applies the number format to estimate, SE and interval.

        Examples
        --------
        >>> e = Estimate("mean", "y", 2.0, 0.5, 1.0, 3.0, 0.95, 10.0, 12, 10.0, 1.2, 0.25, "taylor; wald")
        >>> f"{e:.2f}"
        'y: 2.00 (SE 0.50; 95% CI 1.00 to 3.00)'
        """
        if not spec:
            return str(self)
        return (f"{self.label}: {self.estimate:{spec}} (SE {self.se:{spec}}; "
                f"{self.level:.0%} CI {self.ci_low:{spec}} to {self.ci_high:{spec}})")

    def _repr_html_(self) -> str:
        return _html_table(_summary_frame([self]), f"{self.statistic} · {self.method}")


@dataclass(frozen=True, eq=False)
class _Origin:
    """Where an estimate came from: the designs behind it and its call's covariance matrix."""

    designs: tuple[Any, ...]
    vcov: np.ndarray
    index: int


_FIELD_ORDER = [f.name for f in fields(Estimate) if f.name not in ("domain", "source")]


def _row_dict(e: Estimate, by_cols: list[str]) -> dict[str, Any]:
    d: dict[str, Any] = {}
    dom = dict(e.domain)
    for k in by_cols:
        d[k] = dom.get(k)
    for name in _FIELD_ORDER:
        d[name] = getattr(e, name)
    return d


@dataclass(frozen=True)
class EstimateTable:
    """Several estimates from one design and their covariance matrix.

    Iterating yields :class:`Estimate` rows; ``table[key]`` selects a row by its
    :attr:`Estimate.key` (the domain value for a single ``by=`` column) or position.

    Attributes
    ----------
    rows : tuple of Estimate
    vcov : ndarray
        Covariance matrix of the row estimates (k × k).  Rows from disjoint domains
        of one design generally covary (through shared PSUs); rows from a census
        stratum have zero variance.
    source : object
        Identifies the sample the rows were estimated from; tables from different
        sources are treated as independent by :func:`survey_stats.linear_combination`.
    """

    rows: tuple[Estimate, ...]
    vcov: np.ndarray
    source: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        v = np.array(self.vcov, dtype=float)
        v.setflags(write=False)
        object.__setattr__(self, "vcov", v)
        if v.shape != (len(self.rows), len(self.rows)):
            raise ValueError("vcov must be square with one row per estimate")

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Estimate]:
        return iter(self.rows)

    def __getitem__(self, key: Any) -> Estimate:
        return self.rows[self.index(key)]

    def index(self, key: Any) -> int:
        """Position of the row named *key* (see :attr:`Estimate.key`), or an int position."""
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return int(key)
        keys = self.keys
        hits = [i for i, k in enumerate(keys) if k == key or (isinstance(k, tuple) and k == tuple(np.atleast_1d(key)))]
        if len(hits) != 1:
            how = "no" if not hits else "more than one"
            raise DataError(f"{how} row is named {key!r}; rows are {keys}.")
        return hits[0]

    @property
    def keys(self) -> list[Hashable]:
        """Row names, in order."""
        return [r.key for r in self.rows]

    @property
    def estimates(self) -> np.ndarray:
        """Point estimates as an array."""
        return np.array([r.estimate for r in self.rows])

    @property
    def se(self) -> np.ndarray:
        """Standard errors as an array."""
        return np.sqrt(np.diag(self.vcov))

    def vcov_frame(self) -> pd.DataFrame:
        """The covariance matrix labelled by row names."""
        labels = [r.label for r in self.rows]
        return pd.DataFrame(np.array(self.vcov), index=labels, columns=labels)

    def to_frame(self) -> pd.DataFrame:
        """Long tidy frame: one row per variable × category × domain.

        Examples
        --------
        >>> import pandas as pd, survey_stats as ss
        >>> df = pd.DataFrame({"s": list("aabb"), "N": [4, 4, 6, 6], "g": list("xyxy"), "y": [1, 0, 1, 1]})
        >>> t = ss.proportion(ss.Design(df, strata="s", fpc="N"), "y", by="g")
        >>> t.to_frame()[["g", "estimate", "n"]]
           g  estimate  n
        0  x       1.0  2
        1  y       0.6  2
        """
        by_cols: list[str] = []
        for r in self.rows:
            for k, _ in r.domain:
                if k not in by_cols:
                    by_cols.append(k)
        return pd.DataFrame([_row_dict(r, by_cols) for r in self.rows])

    def __str__(self) -> str:
        return "\n".join(str(r) for r in self.rows)

    def __repr__(self) -> str:
        """A compact table: one line per row (name, estimate, SE, interval, n), no covariance.

        Examples
        --------
        >>> import pandas as pd, survey_stats as ss
        >>> df = pd.DataFrame({"s": list("aabb"), "N": [4, 4, 6, 6], "g": list("xyxy"), "y": [1, 0, 1, 1]})
        >>> ss.proportion(ss.Design(df, strata="s", fpc="N"), "y", by="g")  # doctest: +NORMALIZE_WHITESPACE
        <EstimateTable: 2 proportion estimates, 95% CI>
            row  estimate      se   ci_low  ci_high  n
        y | g=x       1.0 0.00000 0.809371  1.00000  2
        y | g=y       0.6 0.25923 0.014176  0.99365  2
        """
        if not self.rows:
            return "<EstimateTable: empty>"
        stats = sorted({r.statistic for r in self.rows})
        levels = sorted({r.level for r in self.rows})
        head = (f"<EstimateTable: {len(self.rows)} {'/'.join(stats)} estimates, "
                f"{'/'.join(f'{lv:.0%}' for lv in levels)} CI>")
        return head + "\n" + _text_table(_summary_frame(self.rows))

    def __format__(self, spec: str) -> str:
        """Each row formatted with *spec* (see :meth:`Estimate.__format__`), one per line."""
        return "\n".join(format(r, spec) for r in self.rows)

    def _repr_html_(self) -> str:
        stats = "/".join(sorted({r.statistic for r in self.rows}))
        return _html_table(_summary_frame(self.rows), f"{len(self.rows)} {stats} estimates")


def _cv(estimate: float, se: float) -> float:
    return se / abs(estimate) if estimate != 0 else (0.0 if se == 0 else math.inf)


# -- display (plain text and notebook HTML; the numbers are never rounded in the objects) ------
_MAX_SHOWN = 30


def _summary_frame(rows: Any) -> pd.DataFrame:
    return pd.DataFrame({"row": [r.label for r in rows], "estimate": [r.estimate for r in rows],
                         "se": [r.se for r in rows], "ci_low": [r.ci_low for r in rows],
                         "ci_high": [r.ci_high for r in rows], "n": [r.n for r in rows]})


def _indicator_frame(rows: Any) -> pd.DataFrame:
    """Display columns of indicator rows (id, name, estimate, SE, interval, n, verdict)."""
    return pd.DataFrame({"id": [r.id for r in rows], "name": [r.name_en or r.name_zh for r in rows],
                         "estimate": [r.estimate for r in rows], "se": [r.se for r in rows],
                         "ci_low": [r.ci_low for r in rows], "ci_high": [r.ci_high for r in rows],
                         "n": [r.n for r in rows], "verdict": [r.verdict for r in rows]})


def _text_table(frame: pd.DataFrame) -> str:
    """At most ``_MAX_SHOWN`` rows as aligned text (first and last ones when longer)."""
    if len(frame) > _MAX_SHOWN:
        half = _MAX_SHOWN // 2
        lines = pd.concat([frame.iloc[:half], frame.iloc[-half:]]).to_string(index=False).splitlines()
        return "\n".join(lines[:half + 1] + [f" … {len(frame) - 2 * half} more rows …"] + lines[half + 1:])
    return frame.to_string(index=False)


def _html_table(frame: pd.DataFrame, caption: str) -> str:
    """A small HTML table for notebooks (cells escaped; at most ``_MAX_SHOWN`` rows)."""
    import html

    more = len(frame) - _MAX_SHOWN
    body = frame.head(_MAX_SHOWN).to_html(index=False, float_format=lambda v: f"{v:.6g}", escape=True,
                                          border=0)
    note = f"<p>… {more} more rows</p>" if more > 0 else ""
    return f"<div><p><b>{html.escape(caption)}</b></p>{body}{note}</div>"
