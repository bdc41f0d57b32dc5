"""Design-based quantiles: weighted quantile rules and their confidence intervals.

The point estimate inverts the weighted empirical distribution function with one of
R ``survey`` 4.x's quantile rules (``qrule``; Hyndman & Fan 1996 with weights).  The
interval is one of R ``svyquantile``'s (survey ≥ 4.1):

* Woodruff (1952) intervals (``ci_method`` ``"mean"``, ``"beta"``, ``"xlogit"``,
  ``"asin"``): an interval for the share of the population at or below the estimate,
  mapped back through the same quantile rule;
* the score interval (``"score"``, Taylor designs; Francisco & Fuller 1991): the set of
  θ at which the design-based score test of "θ is the q-quantile" does not reject;
* replicate quantiles (``"quantile"``, replicate designs): the quantile recomputed with
  every replicate weight, combined as any replicate variance (Lumley 2010, §2.4).

The standard error reported is always the interval's width divided by twice the t
critical value, as R reports it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import warnings
import weakref
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ._internal import (
    By,
    DfOption,
    Domains,
    NaPolicy,
    Origin,
    Part,
    beta_bounds,
    beta_df_factor,
    check_common,
    cv,
    domain_df,
    domains,
    is_sql,
    linear_core,
    numeric,
    resolve_df,
)
from ._replication import ReplicateWeights, rank_df
from ._validation import check_option, renamed
from .ci import t_quantile
from .design import Design
from .errors import MethodError, SurveyStatsWarning
from .results import Estimate, EstimateTable

__all__ = ["quantile"]

QRule = Literal["math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9"]
_QRULES = ("math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9")
QuantileCI = Literal["mean", "beta", "xlogit", "asin", "score", "quantile"]
_CI_METHODS = ("mean", "beta", "xlogit", "asin", "score", "quantile")


# ---------------------------------------------------------------------------------------
# quantile rules
# ---------------------------------------------------------------------------------------
def _approx(pk: np.ndarray, x: np.ndarray, p: float, constant: bool = False) -> float:
    """R's ``approx(pk, x, p, rule=2)``: sorted by pk, ties in pk averaged."""
    order = np.argsort(pk, kind="stable")
    pk, x = pk[order], x[order]
    u, inv = np.unique(pk, return_inverse=True)
    if len(u) < len(pk):
        x = np.bincount(inv, weights=x) / np.bincount(inv)
        pk = u
    if constant:
        i = np.searchsorted(pk, p, side="right") - 1
        return float(x[min(max(i, 0), len(x) - 1)])
    return float(np.interp(p, pk, x))


def _qrule(x: np.ndarray, w: np.ndarray, p: float, rule: str) -> float:
    """Weighted quantile rules of R ``survey`` 4.x (``qrule_*``; Hyndman & Fan 1996).

    Rows of zero weight are left out first, as R's rules do (a replicate weight that
    drops a PSU must not put its values into the distribution).
    """
    zero = w == 0
    if zero.any():
        x, w = x[~zero], w[~zero]
    if len(x) == 0:  # every weight zero (a replicate without the domain): no quantile
        return math.nan
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    n = len(x)
    if rule in ("hf3",):
        x, inv = np.unique(x, return_inverse=True)
        w = np.bincount(inv, weights=w)
        n = len(x)
    # R accumulates cumsum() and sum() in long double; doing the same keeps ties at
    # p·W (equal weights, even n) on the same side as R.
    cumw = np.cumsum(w, dtype=np.longdouble).astype(float)
    if rule in ("math", "hf1", "school", "hf2", "hf3", "hf4"):
        W = cumw[-1]
        below = np.flatnonzero(cumw <= p * W)
        pos = int(below[-1]) if len(below) else 0
        nxt = pos if pos == n - 1 else pos + 1
        qlow, qup = x[pos], x[nxt]
        wlow = p - cumw[pos] / W
        wup = cumw[nxt] / W - p
        # R tests wlow == 0 exactly: below the first cumulative weight (no cumw ≤ pW,
        # pos = first, wlow < 0) R's rules return the *second* value, not the first
        if rule in ("math", "hf1"):
            return float(qlow if wlow == 0 else qup)
        if rule in ("school", "hf2"):
            return float((qlow + qup) / 2 if wlow == 0 else qup)
        if rule == "hf3":
            return float(qlow if (wlow == 0 and (pos + 1) % 2 == 0) else qup)
        gamma = wlow / (wup + wlow)
        return float(qlow * (1 - gamma) + qup * gamma)
    if n == 1:
        return float(x[0])
    prev = np.concatenate(([0.0], cumw[:-1]))
    if rule == "hf5":
        pk = (cumw - w / 2) / cumw[-1]
    elif rule == "hf6":
        pk = cumw / (cumw[-1] + w[-1])
    elif rule == "hf7":
        pk = prev / cumw[-2]
    elif rule == "hf8":
        pk = (prev / 3 + cumw * 2 / 3) / (cumw[-1] + w[-1] / 3)
    elif rule == "hf9":
        pk = (prev * 3 / 8 + cumw * 5 / 8) / (cumw[-1] + w[-1] / 4)
    else:  # shahvaish
        S = np.cumsum(w / w.mean(), dtype=np.longdouble).astype(float)
        pk = (S + 0.5 - w / 2) / (n + 1)
        return _approx(pk, x, p, constant=True)
    return _approx(pk, x, p)


# ---------------------------------------------------------------------------------------
# root finding for the score interval
# ---------------------------------------------------------------------------------------
def _zeroin(f: Any, a: float, b: float, fa: float, fb: float, tol: float, maxit: int = 1000) -> float:
    """Brent's root finder exactly as R's ``uniroot`` runs it (``R_zeroin2``).

    Bisection combined with linear or inverse quadratic interpolation (Brent 1973;
    Forsythe, Malcolm & Moler 1977, ``zeroin``).  The score function is a step
    function of θ, so where the root lands between two data values decides the
    interval; following R's iteration step for step gives R's end points.
    """
    eps = np.finfo(float).eps
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):  # b must be the best approximation so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):  # try interpolation
            cb = c - b
            if a == c:  # two distinct points: linear (secant)
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:  # inverse quadratic
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _finite(v: float) -> float:
    """R's zeroin wrapper: -Inf becomes -DBL_MAX; +Inf and NaN become +DBL_MAX."""
    big = np.finfo(float).max
    if math.isnan(v):
        return big
    return max(min(v, big), -big)


def _iqr_r(x: np.ndarray) -> float:
    """R's ``IQR(x)`` (``quantile`` type 7), with R's interpolation arithmetic."""
    xs = np.sort(x)
    n = len(xs)

    def q7(p: float) -> float:
        index = (n - 1) * p
        lo, hi = math.floor(index), math.ceil(index)
        qs = float(xs[lo])
        if index > lo and xs[hi] != qs:
            h = index - lo
            qs = (1 - h) * qs + h * float(xs[hi])
        return qs

    return q7(0.75) - q7(0.25)


# ---------------------------------------------------------------------------------------
# intervals
# ---------------------------------------------------------------------------------------
class _Cell:
    """One domain's data for a quantile: the rows used and their values and weights."""

    def __init__(self, design: Design, sel: np.ndarray, x: np.ndarray, w: np.ndarray) -> None:
        self.design, self.sel, self.x, self.w = design, sel, x, w

    @functools.cached_property
    def rdf(self) -> float:
        """R's ``degf(design)`` inside ``svyquantile``: the df of the design restricted to these rows."""
        return _rows_df(self.design, self.sel) if self.sel.any() else math.nan


def _share_below(design: Design, y: np.ndarray, cell: _Cell, theta: float, strict: bool) -> tuple[float, float]:
    """Domain mean (and its variance) of 1{y ≤ θ}, or of 1{y > θ} with ``strict``."""
    ind = (y > theta) if strict else (y <= theta)
    part = Part("", np.where(cell.sel, ind.astype(float), 0.0), None, None)
    sub = Domains(np.where(cell.sel, 0, 1).astype(np.intp), [()], False)
    c = linear_core(design, [part], sub, "proportion")
    return float(c.est[0]), float(c.cov[0, 0])


def _woodruff(design: Design, y: np.ndarray, cell: _Cell, qhat: float, p: float, level: float, dfi: float,
              method: str, qrule: str) -> tuple[float, float]:
    """Woodruff interval: an interval for F̂(q̂), inverted with the quantile rule (R ``woodruffCI``)."""
    pm, vm = _share_below(design, y, cell, qhat, strict=False)
    sem = math.sqrt(vm)
    t = t_quantile(level, dfi)
    if method == "mean":
        plo, phi = pm - t * sem, pm + t * sem
    elif method == "xlogit":  # delta method on log(p/(1-p)), back-transformed
        if 0 < pm < 1:
            eta, h = math.log(pm / (1 - pm)), t * sem / (pm * (1 - pm))
            plo, phi = 1 / (1 + math.exp(-(eta - h))), 1 / (1 + math.exp(-(eta + h)))
        else:
            plo = phi = math.nan
    elif method == "asin":  # delta method on asin(√p)
        if 0 < pm < 1:
            cc, h = math.asin(math.sqrt(pm)), t * sem / (2 * math.sqrt(pm * (1 - pm)))
            plo, phi = math.sin(cc - h) ** 2, math.sin(cc + h) ** 2
        else:
            plo = phi = math.nan
    else:  # beta: Korn-Graubard with R's (t_{n-1}/t_{degf})² correction, degf of the rows used
        n_eff = pm * (1 - pm) / vm if vm > 0 else math.nan
        n = int(cell.sel.sum())
        plo, phi = beta_bounds(pm, n_eff * beta_df_factor(n, cell.rdf, 1 - level), 1 - level)
    lo = math.nan if not (plo >= 0) else _qrule(cell.x, cell.w, plo, qrule)
    hi = math.nan if not (phi <= 1) else _qrule(cell.x, cell.w, phi, qrule)
    return lo, hi


def _score(design: Design, y: np.ndarray, cell: _Cell, p: float, level: float, dfi: float,
           qrule: str) -> tuple[float, float]:
    """Score (Francisco-Fuller) interval, following R ``ffullerCI`` step for step.

    θ is inside the interval when the design-based t statistic of the mean of
    1{y > θ} − (1 − p) lies within ±t.  Each end is found by ``uniroot`` on
    [min + IQR/100, max − IQR/100] with tolerance 1/(100√n); R then maps each end θ to
    the quantile rule at the *unweighted* share of the rows at or below θ, which is
    reproduced here as R computes it.
    """
    x = cell.x
    t = t_quantile(level, dfi)

    def score(theta: float, limit: float) -> float:
        m, v = _share_below(design, y, cell, theta, strict=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.float64(m - (1 - p)) / np.sqrt(np.float64(v))
        return _finite(float(z) - limit)

    iqr = _iqr_r(x)
    lower, upper = float(x.min()) + iqr / 100, float(x.max()) - iqr / 100
    tol = 1 / (100 * math.sqrt(len(x)))
    ends = []
    for limit in (t, -t):
        fl, fu = score(lower, limit), score(upper, limit)
        if not fl * fu <= 0:  # R stops: "f() values at end points not of opposite sign"
            ends.append(math.nan)
            continue
        root = _zeroin(lambda th, lim=limit: score(th, lim), lower, upper, fl, fu, tol)
        ends.append(_qrule(x, cell.w, float(np.mean(x <= root)), qrule))
    return ends[0], ends[1]


def _replicate(design: Design, cell: _Cell, qhat: float, p: float, level: float, dfi: float,
               qrule: str) -> tuple[float, float]:
    """The quantile under every replicate weight, combined by the design's replicate rule (R ``repCI``)."""
    rep = design._rep
    order = np.argsort(cell.x, kind="stable")  # sorted once: _qrule's stable sort is then linear
    x = cell.x[order]
    Wt = np.ascontiguousarray(rep.weights[cell.sel][order].T)
    reps = np.array([_qrule(x, Wt[r], p, qrule) for r in range(Wt.shape[0])])
    ok = np.isfinite(reps)
    if not ok.all():  # R's svrVar drops replicates with NA results, with a warning
        if not ok.any():
            return math.nan, math.nan
        warnings.warn(f"{int((~ok).sum())} replicates have no rows of the domain with weight and were discarded "
                      "(as R's svrVar does).", SurveyStatsWarning, stacklevel=4)
        rep = ReplicateWeights(rep.weights[:, ok], rep.scale, rep.rscales[ok], rep.mse, rep.type)
        reps = reps[ok]
    v = float(rep.variance(np.array([qhat]), reps[:, None])[0, 0])
    half = math.sqrt(v) * t_quantile(level, dfi)
    return qhat - half, qhat + half


# ---------------------------------------------------------------------------------------
# degrees of freedom
# ---------------------------------------------------------------------------------------
_RANK_CACHE: weakref.WeakKeyDictionary[ReplicateWeights, dict[bytes, float]] = weakref.WeakKeyDictionary()


def _rows_df(design: Design, rows: np.ndarray) -> float:
    """R's ``degf`` of the design restricted to ``rows`` (a subset, as ``design[rows, ]``).

    Taylor: PSUs minus strata among the rows.  Replicate: rank of the replicate
    weights of the rows − 1 (``qr(..., tol = 1e-5)$rank - 1``).
    """
    if design._rep is not None and rows.all():
        return float(design.degf)  # R keeps the design's degf until it is subset
    if design._rep is not None:
        # the rank needs an SVD of rows × replicates; the same subset recurs across calls
        # (several probabilities, interval types), so it is kept per replicate-weight object
        known = _RANK_CACHE.setdefault(design._rep, {})
        key = hashlib.blake2b(np.packbits(rows).tobytes(), digest_size=16).digest()
        if key not in known:
            if len(known) > 256:
                known.clear()
            known[key] = float(rank_df(design._rep.weights[rows]))
        return known[key]
    return float(domain_df(design, np.where(rows, 0, 1).astype(np.intp), 1)[0])


def _cells(design: Design, y: np.ndarray, miss: np.ndarray | None, dom: Domains) -> list[_Cell]:
    D = dom.D
    dj = dom.codes if miss is None else np.where(miss, D, dom.codes)
    w = design._w
    return [_Cell(design, dj == d, y[dj == d], w[dj == d]) for d in range(D)]


def _dfs(design: Design, df: float | str, miss: np.ndarray | None, cells: list[_Cell]) -> list[float]:
    """The df of each domain's interval: ``df`` given, each domain's own, or the design's.

    The design's df is taken over the rows with data: with ``na="drop"`` R's
    ``svyquantile(na.rm = TRUE)`` works on ``design[!is.na(y), ]`` and uses its degf.
    """
    if df == "domain":
        return [c.rdf for c in cells]
    if df == "design" and miss is not None:
        return [_rows_df(design, ~miss)] * len(cells)
    return [float(design.degf) if df == "design" else float(df)] * len(cells)


# ---------------------------------------------------------------------------------------
# public
# ---------------------------------------------------------------------------------------
def _probabilities(q: Any) -> list[float]:
    number = (int, float, np.integer, np.floating)
    qs = [q] if isinstance(q, number) else list(q) if isinstance(q, (list, tuple, np.ndarray)) else [q]
    for qq in qs:
        if isinstance(qq, (bool, np.bool_)) or not isinstance(qq, number) or not 0 <= qq <= 1:
            raise MethodError(f"quantile probability {qq!r} is not in [0, 1].")
    return qs


def _check_ci_method(design: Design, ci_method: str, interval_type: str | None) -> str:
    if interval_type is not None:
        check_option(interval_type, "interval_type", _CI_METHODS)
    ci_method = renamed("quantile", "interval_type", interval_type, "ci_method", ci_method, default="mean")
    check_option(ci_method, "ci_method", _CI_METHODS)
    if ci_method == "score" and design._rep is not None:
        raise MethodError("ci_method='score' needs a Taylor design (R offers it only for svydesign objects); "
                          "for a replicate design use ci_method='quantile' or a Woodruff interval.")
    if ci_method == "quantile" and design._rep is None:
        raise MethodError("ci_method='quantile' recomputes the quantile with each replicate weight and needs a "
                          "replicate design (ss.replicate_design); for a Taylor design use 'score' or 'mean'.")
    return ci_method


def _interval(design: Design, y: np.ndarray, cell: _Cell, qhat: float, p: float, level: float, dfi: float,
              ci_method: str, qrule: str) -> tuple[float, float]:
    if ci_method == "score":
        return _score(design, y, cell, p, level, dfi, qrule)
    if ci_method == "quantile":
        return _replicate(design, cell, qhat, p, level, dfi, qrule)
    return _woodruff(design, y, cell, qhat, p, level, dfi, ci_method, qrule)


def quantile(
    design: Design,
    variable: str,
    q: float | Sequence[float] = 0.5,
    *,
    by: By = None,
    where: Any = None,
    level: float = 0.95,
    df: DfOption = None,
    na: NaPolicy = "fail",
    qrule: QRule = "math",
    ci_method: QuantileCI = "mean",
    interval_type: QuantileCI | None = None,
) -> Estimate | EstimateTable:
    """Weighted quantile(s) with a design-based confidence interval.

    Parameters
    ----------
    variable : str
        Numeric column.
    q : float or list of float
        Probabilities in [0, 1].
    qrule : str
        How the weighted empirical distribution is inverted, as R ``survey`` 4.x's
        ``qrule``: ``"math"`` (= ``"hf1"``, the default: smallest x with F(x) ≥ q),
        ``"school"`` (= ``"hf2"``), ``"hf3"``-``"hf9"`` (Hyndman-Fan types with weights)
        and ``"shahvaish"``.
    ci_method : {"mean", "beta", "xlogit", "asin", "score", "quantile"}
        The interval, as R ``svyquantile(interval.type=)`` (survey ≥ 4.1):

        * ``"mean"``, ``"beta"``, ``"xlogit"``, ``"asin"``: Woodruff intervals, from a
          Wald, Korn-Graubard, logit or arcsine interval for the share at or below the
          estimate (any design).
        * ``"score"``: the score-test interval (Taylor designs only, as in R).
        * ``"quantile"``: replicate quantiles (replicate designs only, as in R).
    interval_type : str, optional
        Deprecated name of ``ci_method`` (R's ``interval.type``); warns.
    by, where, level, na
        As for :func:`~survey_stats.mean`.
    df : float, "design" or "domain", optional
        Degrees of freedom of the t quantile.  Default: the design's df over the rows
        with data — with ``na="drop"`` that is the df of ``design[!is.na(y), ]``, as R's
        ``svyquantile(na.rm = TRUE)`` uses.  ``"domain"``: each ``by=`` domain's own df
        (PSUs minus strata among its rows with data; for a replicate design the rank
        of its replicate weights − 1), which is what R's ``svyby(..., svyquantile)``
        uses.

    Returns
    -------
    Estimate or EstimateTable
        One row per domain × probability (``category`` ``"q0.5"`` etc.).  The SE is
        the interval width / (2 t), as R reports it; ``deff`` and ``n_eff`` are NaN; the
        table's covariance has NaN off the diagonal (no covariance between quantiles).

    Notes
    -----
    *Woodruff* (1952): p̃ = F̂(q̂), the weighted share at or below q̂, with its
    design-based SE; an interval [p_L, p_U] for it; the quantile interval is
    [F̂⁻¹(p_L), F̂⁻¹(p_U)] with the same ``qrule``.  End points outside [0, 1] give NaN,
    as in R.  ``"beta"`` corrects n_eff by (t_{n−1}/t_{df})² with the df of the rows
    used (R ``woodruffCI``).

    *Score* (Francisco & Fuller 1991; R ``ffullerCI``): the end points are the roots
    of m(θ)/se(m(θ)) = ±t, where m(θ) is the domain mean of 1{y > θ} − (1 − q),
    found with R's root finder and tolerance, then each mapped through ``qrule`` at
    the unweighted share of rows at or below it (R's choice, kept for parity).  If
    the score does not change sign over the data's range R stops with an error; the
    end point is NaN here.  That unweighted share shifts the interval when weights
    differ between high and low values: in a simulation with three strata of weights
    50/40/25 (median of a skewed variable, 300 samples) the score interval covered
    69% against 95% for ``"mean"`` and ``"beta"`` — prefer those unless the weights
    are (nearly) equal or R's numbers must be reproduced.

    *Replicate quantiles* (R ``repCI``): the q-quantile under each replicate weight,
    combined with the design's replicate variance formula; interval q̂ ± t·se.  R warns
    that jackknife replicates may not give valid SEs for quantiles.

    On calibrated designs R's ``subset`` keeps other domains' rows with zero weight,
    which can move R's domain quantiles; here a domain's quantile uses its own rows.

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.apistrat_design()
    >>> med = ss.quantile(d, "api00", 0.5)
    >>> med.estimate, med.ci_low, med.ci_high    # R: svyquantile(~api00, dstrat, 0.5, ci=TRUE)
    (668.0, 642.0, 694.0)
    >>> s = ss.quantile(d, "api00", 0.5, ci_method="score")
    >>> s.ci_low, s.ci_high                      # R: same, interval.type = "score"
    (646.0, 706.0)
    """
    if is_sql(design):
        raise MethodError("quantiles need sorted data and run in memory only; load the column into a Design "
                          "(e.g. with a SQL query selecting the variable, strata and weights).")
    level = check_common(level, na)
    check_option(qrule, "qrule", _QRULES)
    ci_method = _check_ci_method(design, ci_method, interval_type)
    dfr = "design" if df is None or (isinstance(df, str) and df == "design") else resolve_df(design, df)
    qs = _probabilities(q)
    dom = domains(design, by, where)
    y, miss = numeric(design, variable, na)
    cells = _cells(design, y, miss, dom)
    dfs = _dfs(design, dfr, miss, cells)
    D = dom.D
    nmiss = np.zeros(D, dtype=int) if miss is None else np.bincount(dom.codes[miss], minlength=D + 1)[:D]
    rows: list[Estimate] = []
    for d, cell in enumerate(cells):
        n = int(cell.sel.sum())
        for qq in qs:
            cat = f"q{qq:g}"
            if n == 0:
                rows.append(Estimate("quantile", variable, math.nan, math.nan, math.nan, math.nan, level, dfs[d], 0,
                                     math.nan, math.nan, math.nan, "empty domain: no respondents with data",
                                     dom.labels[d], cat, int(nmiss[d])))
                continue
            qhat = _qrule(cell.x, cell.w, qq, qrule)
            lo, hi = _interval(design, y, cell, qhat, qq, level, dfs[d], ci_method, qrule)
            t = t_quantile(level, dfs[d])
            se = (hi - lo) / (2 * t) if t > 0 else math.nan
            how = f"woodruff ({ci_method})" if ci_method in ("mean", "beta", "xlogit", "asin") else \
                "score" if ci_method == "score" else "replicate quantiles"
            rows.append(Estimate("quantile", variable, qhat, se, lo, hi, level, dfs[d], n, math.nan, math.nan,
                                 cv(qhat, se), f"{how}; qrule={qrule}", dom.labels[d], cat, int(nmiss[d])))
    return _table(design, rows, single=by is None and len(qs) == 1)


def _table(design: Design, rows: list[Estimate], single: bool) -> Estimate | EstimateTable:
    # no covariance between quantiles is estimated: off-diagonal entries are unknown (NaN)
    k = len(rows)
    cov = np.full((k, k), np.nan)
    np.fill_diagonal(cov, [r.se**2 for r in rows])
    cov.setflags(write=False)
    rows = [dataclasses.replace(r, source=Origin((design,), cov, i)) for i, r in enumerate(rows)]
    if single:
        return rows[0]
    return EstimateTable(tuple(rows), cov, source=design)
