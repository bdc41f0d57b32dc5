"""Design-based tests: association in a two-way table (R ``svychisq``) and t-tests (R ``svyttest``).

``chisq_test`` offers R's four statistics for an r × c table:

* ``"F"`` — Pearson's X² with the Rao-Scott second-order correction: X²/tr(Δ̂) referred to
  F with d = tr(Δ̂)²/tr(Δ̂²) and dν degrees of freedom (non-integer), where Δ̂ is the
  generalised design-effect matrix of the interaction contrasts and ν the design df
  (Rao & Scott 1984; Thomas & Rao 1987).
* ``"Chisq"`` — the first-order correction: X²/mean(diag Δ̂) referred to χ² with
  (r−1)(c−1) df (Rao & Scott 1981).
* ``"Wald"`` and ``"adjWald"`` — the Wald statistic of the (r−1)(c−1) differences
  N̂ᵢⱼ − N̂ᵢ.N̂.ⱼ/N̂ with their design-based covariance, divided by its df and referred to
  F((r−1)(c−1), ν), or scaled by (ν − d + 1)/(dν) and referred to F(d, ν − d + 1)
  (Koch, Freeman & Freeman 1975; Korn & Graubard 1990).

Computations follow R ``survey`` 4.1's ``svychisq.survey.design`` step by step.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _kernel
from ._internal import quote_column, subset_df, where_mask
from ._lazy import LazyModule
from ._validation import check_level, check_option, describe_values
from .design import Design
from .errors import DataError, EstimationError, MethodError

stats = LazyModule("scipy.stats")

__all__ = ["ChisqResult", "TTestResult", "chisq_test", "t_test"]

Statistic = Literal["F", "Chisq", "Wald", "adjWald"]
_STATISTICS = ("F", "Chisq", "Wald", "adjWald")


@dataclass(frozen=True)
class ChisqResult:
    """A design-based test of association.

    Attributes
    ----------
    statistic : float
        The F statistic (``"F"``, ``"Wald"``, ``"adjWald"``) or Pearson's X² on the
        weighted table scaled to the sample size (``"Chisq"``, as R reports it).
    ndf, ddf : float
        Numerator and denominator df (``ddf`` is ``inf`` for ``"Chisq"``, whose ``ndf``
        is the χ² df).  Non-integer for ``"F"``.
    p_value : float
    method : str
        Which statistic and correction.
    pearson : float
        Pearson's X² of the weighted table scaled to the sample size.
    table : DataFrame
        The estimated population counts (rows × columns).
    """

    statistic: float
    ndf: float
    ddf: float
    p_value: float
    method: str
    pearson: float
    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """One row: statistic, ndf, ddf, p_value, method."""
        return pd.DataFrame([{"statistic": self.statistic, "ndf": self.ndf, "ddf": self.ddf,
                              "p_value": self.p_value, "method": self.method}])

    def __repr__(self) -> str:
        return (f"ChisqResult({self.method}: statistic={self.statistic:.6g}, ndf={self.ndf:.6g}, "
                f"ddf={self.ddf:.6g}, p={self.p_value:.4g})")

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.method)}</p>" + self.to_frame().to_html(index=False)


@dataclass(frozen=True)
class TTestResult:
    """A design-based t-test of a mean or of a difference of two domain means.

    Attributes
    ----------
    estimate : float
        Mean (one sample) or difference of means, second group minus first.
    se, statistic, df, p_value, ci_low, ci_high, level : float
        SE, t = estimate/SE, df, two-sided p-value and t interval.
    groups : tuple
        The two group values in the order used (empty for one sample).
    method : str
    """

    estimate: float
    se: float
    statistic: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float
    level: float
    groups: tuple[Any, ...]
    method: str

    def to_frame(self) -> pd.DataFrame:
        """One row with every field."""
        return pd.DataFrame([{f: getattr(self, f) for f in self.__dataclass_fields__}])

    def __repr__(self) -> str:
        return (f"TTestResult({self.method}: estimate={self.estimate:.6g}, se={self.se:.4g}, "
                f"t={self.statistic:.4g}, df={self.df:g}, p={self.p_value:.4g}, "
                f"{self.level:.0%} CI {self.ci_low:.6g} to {self.ci_high:.6g})")

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.method)}</p>" + self.to_frame().to_html(index=False)


# ---------------------------------------------------------------------------------------
# helpers: covariance of totals or means of several columns, Taylor or replicate
# ---------------------------------------------------------------------------------------
def _totals(design: Design, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Estimated totals of the columns of Y (rows outside the analysis hold 0) and their covariance."""
    w = design._w
    est = w @ Y
    if design._rep is not None:
        reps = design._rep.weights.T @ Y
        return est, design._rep.variance(est, reps)
    return est, _kernel.vcov(design, w[:, None] * Y, None, Y.shape[1])


def _means(design: Design, Y: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means of the columns of Y over the rows *keep* (a domain) and their covariance."""
    w = design._w * keep
    W = w.sum()
    est = w @ Y / W
    if design._rep is not None:
        Wr = design._rep.weights * keep[:, None]
        reps = (Wr.T @ Y) / Wr.sum(axis=0)[:, None]
        return est, design._rep.variance(est, reps)
    Z = w[:, None] * (Y - est) / W
    return est, _kernel.vcov(design, Z, None, Y.shape[1])


def _levels(s: pd.Series) -> list[Any]:
    vals = pd.unique(s.dropna())
    try:
        return sorted(vals)
    except TypeError:
        return sorted(vals, key=str)


# ---------------------------------------------------------------------------------------
# chisq_test
# ---------------------------------------------------------------------------------------
def chisq_test(
    design: Design,
    row: str,
    col: str,
    *,
    statistic: Statistic = "F",
    where: Any = None,
) -> ChisqResult:
    """Test of association between two categorical columns (R ``svychisq``).

    Parameters
    ----------
    design : Design
        Taylor or replicate-weight design.
    row, col : str
        Categorical columns (any values; levels in sorted order).  Rows missing either
        are left out as a domain (R's ``na.rm=TRUE``).
    statistic : {"F", "Chisq", "Wald", "adjWald"}
        R's ``statistic=``; see the module notes.  Default ``"F"`` (Rao-Scott
        second-order), R's default and the usual recommendation.
    where : column name or boolean array, optional
        Test within a domain (R ``svychisq(~a + b, subset(design, ...))``).

    Returns
    -------
    ChisqResult

    Notes
    -----
    The Pearson X² uses the weighted table scaled to the number of rows analysed
    (R's ``svytable(..., Ntotal = n)``, missing rows included, as R); ν is the design df
    (PSUs − strata) of the rows analysed.

    References
    ----------
    Rao, J. N. K. and Scott, A. J. (1984). On chi-squared tests for multiway
    contingency tables with cell proportions estimated from survey data. *Annals of
    Statistics* 12, 46-60.  Koch, G. G., Freeman, D. H. and Freeman, J. L. (1975).
    Strategies in the multivariate analysis of data from complex surveys.
    *International Statistical Review* 43, 59-78.

    Examples
    --------
    >>> import survey_stats as ss
    >>> r = ss.chisq_test(ss.datasets.apistrat_design(), "sch.wide", "stype")
    >>> round(r.statistic, 4), round(r.ndf, 4), round(r.ddf, 2)   # R: svychisq(~sch.wide + stype, dstrat)
    (17.2474, 1.8287, 360.25)
    """
    check_option(statistic, "statistic", _STATISTICS)
    if getattr(design, "_sql_backend", False):
        raise MethodError("chisq_test runs in memory only; load the two columns into a Design first.")
    rs, cs = design.column(row), design.column(col)
    inside = np.ones(design.n, dtype=bool) if where is None else where_mask(design, where)
    keep = inside & rs.notna().to_numpy() & cs.notna().to_numpy()
    rl, cl = _levels(rs[keep]), _levels(cs[keep])
    nr, nc = len(rl), len(cl)
    if nr < 2 or nc < 2:
        raise DataError(f"{row!r} × {col!r} has {nr} × {nc} levels in the rows analysed; a test needs at least 2 × 2.")
    ri = np.where(keep, pd.Index(rl).get_indexer(rs.where(keep, rl[0])), 0)
    ci = np.where(keep, pd.Index(cl).get_indexer(cs.where(keep, cl[0])), 0)
    K = nr * nc
    cell = ri + nr * ci  # rows vary fastest, as R's interaction()
    mm = np.zeros((design.n, K))
    mm[np.flatnonzero(keep), cell[keep]] = 1.0
    N = float(inside.sum())
    nu = subset_df(design, None if where is None else inside)
    tab = (design._w * keep) @ mm
    table = pd.DataFrame(tab.reshape(nc, nr).T, index=pd.Index(rl, name=row), columns=pd.Index(cl, name=col))
    scaled = tab.reshape(nc, nr).T * N / tab.sum()
    expected = np.outer(scaled.sum(axis=1), scaled.sum(axis=0)) / N
    pearson = float(np.sum((scaled - expected) ** 2 / expected))
    if statistic in ("Wald", "adjWald"):
        return _wald(design, mm, keep, ri, ci, nr, nc, nu, statistic, pearson, table)
    p, V = _means(design, mm, keep)
    Cmat = _contrasts(nr, nc)
    inv = np.where(p == 0, 0.0, 1.0 / np.where(p == 0, 1.0, p))
    denom = Cmat.T @ (inv[:, None] / N * Cmat)
    numr = Cmat.T @ (inv[:, None] * V * inv[None, :]) @ Cmat
    try:
        delta = np.linalg.solve(denom, numr)
    except np.linalg.LinAlgError as exc:
        raise EstimationError("the Rao-Scott design-effect matrix cannot be formed (a row or column level "
                              "with zero estimated count?).") from exc
    tr, tr2 = float(np.trace(delta)), float(np.trace(delta @ delta))
    if statistic == "F":
        d0 = tr * tr / tr2
        f = pearson / tr
        return ChisqResult(f, d0, d0 * nu, float(stats.f.sf(f, d0, d0 * nu)),
                           "Pearson X², Rao-Scott second-order correction (F)", pearson, table)
    k = delta.shape[1]
    pv = float(stats.chi2.sf(pearson / (tr / k), k))
    return ChisqResult(pearson, float(k), math.inf, pv, "Pearson X², Rao-Scott first-order correction (χ²)",
                       pearson, table)


def _contrasts(nr: int, nc: int) -> np.ndarray:
    """The interaction columns of the r × c cells residualised on the main effects (R's Cmat)."""
    r = np.tile(np.arange(nr), nc)
    c = np.repeat(np.arange(nc), nr)
    X1 = np.column_stack([np.ones(nr * nc)] + [(r == i).astype(float) for i in range(1, nr)]
                         + [(c == j).astype(float) for j in range(1, nc)])
    inter = np.column_stack([((r == i) & (c == j)).astype(float) for j in range(1, nc) for i in range(1, nr)])
    beta = np.linalg.lstsq(X1, inter, rcond=None)[0]
    return inter - X1 @ beta


def _wald(design: Design, mm: np.ndarray, keep: np.ndarray, ri: np.ndarray, ci: np.ndarray, nr: int, nc: int,
          nu: float, statistic: str, pearson: float, table: pd.DataFrame) -> ChisqResult:
    """R's Wald and adjusted Wald statistics from the totals of cells, margins and the count."""
    K = nr * nc
    mr = np.zeros((design.n, nr))
    mc = np.zeros((design.n, nc))
    rows = np.flatnonzero(keep)
    mr[rows, ri[keep]] = 1.0
    mc[rows, ci[keep]] = 1.0
    Y = np.column_stack([mm, mr, mc, keep.astype(float)])
    tot, V = _totals(design, Y)
    Nr, Nc, Nall = tot[K:K + nr], tot[K + nr:K + nr + nc], tot[-1]
    r = np.tile(np.arange(nr), nc)
    c = np.repeat(np.arange(nc), nr)
    J = np.zeros((K, K + nr + nc + 1))
    J[:, :K] = np.eye(K)
    J[np.arange(K), K + r] = -Nc[c] / Nall
    J[np.arange(K), K + nr + c] = -Nr[r] / Nall
    J[:, -1] = Nr[r] * Nc[c] / Nall**2
    diff = tot[:K] - Nr[r] * Nc[c] / Nall
    Vd = J @ V @ J.T
    use = (r > 0) & (c > 0)
    try:
        wald = float(diff[use] @ np.linalg.solve(Vd[np.ix_(use, use)], diff[use]))
    except np.linalg.LinAlgError as exc:
        raise EstimationError("the covariance of the table's interaction terms is singular (an empty row or "
                              "column in some PSUs?); use statistic='F'.") from exc
    numdf = float((nr - 1) * (nc - 1))
    if statistic == "Wald":
        stat, ddf = wald / numdf, nu
        method = "design-based Wald test of association (F)"
    else:
        ddf = nu - numdf + 1
        stat = wald * ddf / (numdf * nu)
        method = "design-based adjusted Wald test of association (F)"
    p = float(stats.f.sf(stat, numdf, ddf)) if ddf > 0 else math.nan
    return ChisqResult(stat, numdf, ddf, p, method, pearson, table)


# ---------------------------------------------------------------------------------------
# t_test
# ---------------------------------------------------------------------------------------
def t_test(
    design: Design,
    variable: str,
    *,
    by: str | None = None,
    where: Any = None,
    level: float = 0.95,
    na: Literal["fail", "drop"] = "fail",
) -> TTestResult:
    """Design-based t-test (R ``svyttest``).

    Parameters
    ----------
    design : Design
    variable : str
        Numeric column.
    by : str, optional
        A column with exactly two groups: test the difference of the domain means,
        second group minus first in sorted order (R ``svyttest(y ~ g, design)``).
        Without it, test the mean against 0 (R ``svyttest(y ~ 0, design)``).
    where : column name or boolean array, optional
        Within a domain.
    level : float
        Confidence level of the interval.
    na : {"fail", "drop"}
        Missing values in *variable* or *by*: raise, or leave the rows out as a domain.

    Returns
    -------
    TTestResult

    Notes
    -----
    Two groups: the slope of the design-based regression of y on the group indicator
    (:func:`survey_stats.glm`), with df = design df − 1 (R's ``df.residual``).  One
    sample: the mean with df = design df − 1.  The design df is the analysed rows' own
    PSUs − strata when rows are left out, as R's ``degf`` of a subset.

    Examples
    --------
    >>> import survey_stats as ss
    >>> t = ss.t_test(ss.datasets.apistrat_design(), "api00", by="sch.wide")
    >>> round(t.estimate, 4), round(t.statistic, 4), t.df   # R: svyttest(api00 ~ sch.wide, dstrat)
    (82.7836, 3.8684, 196.0)
    """
    level = check_level(level)
    check_option(na, "na", ("fail", "drop"))
    from .estimation import mean
    from .models import glm

    if by is None:
        e = mean(design, variable, where=where, na=na)
        rows = np.ones(design.n, dtype=bool) if where is None else where_mask(design, where)
        # R: degf(design) - 1, the design as given (missing rows included)
        df = subset_df(design, None if rows.all() else rows) - 1
        return _t_result(e.estimate, e.se, df, level, (), "design-based one-sample t-test")  # type: ignore[union-attr]
    levels = _levels(design.column(by))
    if len(levels) != 2:
        raise DataError(f"by column {by!r} must have exactly two groups, found {len(levels)}: "
                        f"{describe_values(levels)}.")
    m = glm(design, f"{quote_column(variable)} ~ C({quote_column(by)})", where=where, na=na, level=level)
    return _t_result(float(m.coef[1]), float(m.se[1]), m.df_residual, level, tuple(levels),
                     "design-based t-test (difference of means)")


def _t_result(est: float, se: float, df: float, level: float, groups: tuple[Any, ...], method: str) -> TTestResult:
    t = est / se if se > 0 else math.nan
    if df > 0:
        p = float(2 * stats.t.sf(abs(t), df))
        q = float(stats.t.ppf(0.5 + level / 2, df))
        lo, hi = est - q * se, est + q * se
    else:
        p = lo = hi = math.nan
    return TTestResult(est, se, t, float(df), p, lo, hi, level, groups, method)
