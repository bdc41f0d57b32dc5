"""Design-based estimators: mean, total, proportion, ratio, quantile.

Every estimator takes a :class:`~survey_stats.Design` first, then the analysis
variable(s), and returns an :class:`~survey_stats.Estimate` (one number) or an
:class:`~survey_stats.EstimateTable` (several variables, categories or ``by=``
domains, with their covariance matrix).  Standard errors come from Taylor
linearisation (Binder 1983; Wolter 2007, ch. 6; Lumley 2010) through one shared
variance kernel; point estimates are Horvitz-Thompson / Hájek weighted sums.

Domains (``by=``, ``where=``) keep the full design: rows outside a domain contribute
zero linearised values but still count as PSUs of their stratum, exactly as R
``survey``'s ``svyby`` and ``subset.survey.design`` do (Lumley 2010, §2.3).  Rows
are never dropped before the variance is computed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _assembly, _kernel
from ._assembly import domain_text as _where
from ._validation import check_level, check_option, describe_rows, describe_values
from .ci import PROPORTION_METHODS, ProportionMethod
from .design import Design
from .errors import DataError, EstimationError, MethodError
from .expr import parse
from .results import Estimate, EstimateTable

__all__ = ["mean", "proportion", "quantile", "ratio", "total"]


NaPolicy = Literal["fail", "drop"]
DfOption = float | int | Literal["design", "domain"] | None
By = str | Sequence[str] | None


# ---------------------------------------------------------------------------------------
# domains, variables, options
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Domains:
    codes: np.ndarray  # domain of each row; D for rows outside every domain (where=)
    labels: list[tuple[tuple[str, Any], ...]]
    all_in: bool

    @property
    def D(self) -> int:
        return len(self.labels)


def _domains(design: Design, by: By, where: Any) -> _Domains:
    n = design.n
    index = design._data.index
    keep = np.ones(n, dtype=bool) if where is None else _where_mask(design, where)
    if by is None:
        codes = np.zeros(n, dtype=np.intp)
        labels: list[tuple[tuple[str, Any], ...]] = [()]
    else:
        cols = _names(by, "by")
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
            labels = [((cols[0], _py(v)),) for v in u]
        else:
            g = pd.DataFrame({c: s.to_numpy() for c, s in zip(cols, frames)}).groupby(cols, sort=True)
            codes = g.ngroup().to_numpy().astype(np.intp)
            labels = [tuple((c, _py(v)) for c, v in zip(cols, key)) for key in g.groups.keys()]
    D = len(labels)
    all_in = bool(keep.all())
    if not all_in:
        codes = np.where(keep, codes, D)
    return _Domains(codes, labels, all_in)


def _names(value: Any, what: str) -> list[str]:
    """A column name or a non-empty list of column names (duplicates refused)."""
    if isinstance(value, str):
        return [value]
    ok = isinstance(value, (list, tuple, pd.Index)) and len(value) > 0 and all(isinstance(v, str) for v in value)
    if not ok:
        raise MethodError(f"{what}={value!r}: give a column name or a non-empty list of column names.")
    if len(set(value)) < len(value):
        raise MethodError(f"{what}={value!r} names a column twice.")
    return list(value)


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _where_mask(design: Design, where: Any) -> np.ndarray:
    index = design._data.index
    if isinstance(where, str) and where not in design._data.columns:
        return _nonempty(parse(where, source="where=").mask(design._data), f"where={where!r}")
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
    return _nonempty(vals, name)


def _nonempty(mask: np.ndarray, name: str) -> np.ndarray:
    if not mask.any():
        raise DataError(f"{name} selects no rows; the domain is empty.")
    return mask


def _numeric(design: Design, name: str, na: NaPolicy) -> tuple[np.ndarray, np.ndarray | None]:
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
    return _missing(design, name, y, np.isnan(y), na)


def _yx(design: Design, name: str, na: NaPolicy) -> tuple[np.ndarray, None, np.ndarray | None]:
    """(y, x=None, missing mask) for a _Part of a numeric variable."""
    y, miss = _numeric(design, name, na)
    return y, None, miss


def _missing(
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


def _resolve_df(design: Design, df: DfOption) -> float | str:
    if df is None or (isinstance(df, str) and df == "design"):
        return float(design.degf)
    if isinstance(df, str) and df == "domain":
        return "domain"
    if isinstance(df, bool) or not isinstance(df, (int, float, np.integer, np.floating)) or not df > 0:
        raise MethodError(f"df={df!r}: give a number > 0, float('inf'), 'design' or 'domain'.")
    return float(df)


def _sql(design: Any) -> bool:
    return getattr(design, "_sql_backend", False)


def _check_common(level: float, na: str) -> float:
    check_option(na, "na", ("fail", "drop"))
    return check_level(level)


# ---------------------------------------------------------------------------------------
# the linear (ratio-of-totals) core
# ---------------------------------------------------------------------------------------
@dataclass
class _Part:
    """One analysis column (a variable or a category indicator) entering the core."""

    variable: str
    y: np.ndarray
    x: np.ndarray | None = None  # denominator for ratios
    miss: np.ndarray | None = None
    category: Any = None


@dataclass
class _Core:
    est: np.ndarray  # k
    cov: np.ndarray  # k x k
    wsum: np.ndarray  # k: domain weight sums
    n: np.ndarray  # k: respondents
    n_missing: np.ndarray  # k
    ss: np.ndarray  # k: Σ w (y - ȳ_d)² within the domain (for deff)
    dj: list[np.ndarray]  # per part: domain code per row (D = outside)


def _core(design: Design, parts: list[_Part], dom: _Domains, kind: str) -> _Core:
    """Estimates and covariance for every part × domain (variable-major order).

    Floating-point overflow is not reported here: :func:`_assemble` refuses any
    non-finite estimate or infinite variance with an :class:`EstimationError`.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _core_sums(design, parts, dom, kind)


def _core_sums(design: Design, parts: list[_Part], dom: _Domains, kind: str) -> _Core:
    w = design._w
    D = dom.D
    m = len(parts)
    k = m * D
    n_rows = design.n
    vs: list[np.ndarray] = []
    cs: list[np.ndarray | None] = []
    est = np.empty(k)
    wsum = np.empty(k)
    cnt = np.empty(k)
    nmiss = np.zeros(k)
    ss = np.full(k, np.nan)
    djs = []
    for j, part in enumerate(parts):
        sl = slice(j * D, (j + 1) * D)
        y = part.y
        if part.miss is None:
            dj = dom.codes
            sink = not dom.all_in
        else:
            dj = np.where(part.miss, D, dom.codes)
            nmiss[sl] = np.bincount(dom.codes[part.miss], minlength=D + 1)[:D]
            sink = True
        djs.append(dj)
        if D == 1 and not sink:  # whole population, nothing missing: plain dot products
            e, Wd, v, s2 = _whole(design, kind, y, part.x, part.variable)
            est[sl], wsum[sl], cnt[sl], ss[sl] = e, Wd, n_rows, s2
            vs.append(v)
            cs.append(None if m == 1 else np.full(n_rows, j, dtype=np.intp))
            continue
        L = D + 1 if sink else D
        Wd = np.bincount(dj, weights=w, minlength=L)
        wy = w * y
        Yd = np.bincount(dj, weights=wy, minlength=L)
        nd = np.bincount(dj, minlength=L)
        with np.errstate(divide="ignore", invalid="ignore"):
            if kind == "ratio":
                x = part.x
                assert x is not None
                Xd = np.bincount(dj, weights=w * x, minlength=L)
                _check_denominator(Xd[:D], nd[:D], part.variable, dom)
                e = Yd / Xd
                if sink:
                    e[D], Xd[D] = 0.0, 1.0
                v = (wy - w * x * e[dj]) / Xd[dj]
            elif kind == "total":
                e = Yd.copy()
                v = wy
                mu = Yd / Wd
                if sink:
                    mu[D] = 0.0
                r = y - mu[dj]
                ss[sl] = np.bincount(dj, weights=w * r * r, minlength=L)[:D]
            else:  # mean, proportion
                e = Yd / Wd
                if sink:
                    e[D], Wd[D] = 0.0, 1.0
                r = y - e[dj]
                wr = w * r
                v = wr / Wd[dj]
                if kind == "mean":
                    ss[sl] = np.bincount(dj, weights=wr * r, minlength=L)[:D]
                else:
                    ss[sl] = Wd[:D] * e[:D] * (1 - e[:D])
        if sink:
            out = dj == D
            v = np.where(out, 0.0, v)
            col = np.where(out, 0, dj)
        else:
            col = dj
        vs.append(v)
        cs.append(col + j * D if j else col)
        est[sl] = e[:D]
        wsum[sl] = Wd[:D]
        cnt[sl] = nd[:D]
    if design._rep is not None:
        cov = _replicate_cov(design, parts, djs, D, kind, est)
    else:
        if m == 1:
            values, cols = vs[0], cs[0]
        else:
            values = np.column_stack(vs)
            cols = np.column_stack([c if c is not None else np.zeros(n_rows, dtype=np.intp) for c in cs])
        member = None
        if _kernel.domain_sensitive(design):  # lonely-PSU rules that look at the strata a domain reaches
            member = np.column_stack([np.where(dj == D, -1, dj + j * D) for j, dj in enumerate(djs)])
        cov = _kernel.vcov(design, values, cols, k, member)
    empty = cnt == 0
    if empty.any():
        est[empty] = np.nan
        cov[empty, :] = np.nan
        cov[:, empty] = np.nan
    return _Core(est, cov, wsum, cnt.astype(int), nmiss.astype(int), ss, djs)


def _check_denominator(X: np.ndarray, n: np.ndarray, variable: str, dom: _Domains) -> None:
    """A ratio's estimated denominator total must not be 0 in a domain with respondents."""
    zero = (X == 0) & (n > 0)
    if zero.any():
        where = [_where(dom.labels[d]) or " the whole sample" for d in np.flatnonzero(zero)]
        raise EstimationError(f"ratio {variable}: the denominator's estimated total is 0 in"
                              f"{';'.join(where[:5])}, so the ratio is undefined; restrict the domain "
                              "(where=/by=) to units with a non-zero denominator.")


def _group_sums(W: np.ndarray, dj: np.ndarray, L: int, y: np.ndarray | None) -> np.ndarray:
    """Σ_i W[i, r] · y_i per group: an L × R matrix, in one product over all replicates."""
    vals = np.ones(len(dj)) if y is None else y
    if L == 1:
        return (W.T @ vals)[None, :]
    if L <= 64:
        A = np.zeros((len(dj), L))
        A[np.arange(len(dj)), dj] = vals
        return A.T @ W
    from scipy import sparse

    S = sparse.csr_matrix((vals, (dj, np.arange(len(dj)))), shape=(L, len(dj)))
    return np.asarray(S @ W)


def _replicate_cov(
    design: Design, parts: list[_Part], djs: list[np.ndarray], D: int, kind: str, est: np.ndarray
) -> np.ndarray:
    """Covariance of all part × domain estimates from replicate weights (one product per part)."""
    rep = design._rep
    W = rep.weights
    R = W.shape[1]
    theta = np.empty((R, len(parts) * D))
    for j, (part, dj) in enumerate(zip(parts, djs)):
        L = int(dj.max()) + 1 if len(dj) else D
        L = max(L, D)
        Y = _group_sums(W, dj, L, part.y)[:D]
        with np.errstate(divide="ignore", invalid="ignore"):
            if kind == "total":
                e = Y
            elif kind == "ratio":
                e = Y / _group_sums(W, dj, L, part.x)[:D]
            else:
                e = Y / _group_sums(W, dj, L, None)[:D]
        theta[:, j * D:(j + 1) * D] = e.T
    return rep.variance(est, theta)


def _whole(
    design: Design, kind: str, y: np.ndarray, x: np.ndarray | None, variable: str = ""
) -> tuple[float, float, np.ndarray, float]:
    """(estimate, weight sum, linearised values, Σw(y-ȳ)²) over all rows."""
    w = design._w
    W = design.population_size
    Y = float(np.dot(w, y))
    if kind == "ratio":
        assert x is not None
        X = float(np.dot(w, x))
        _check_denominator(np.array([X]), np.array([len(x)]), variable, _Domains(np.zeros(0, np.intp), [()], True))
        e = Y / X
        return e, W, w * (y - e * x) / X, math.nan
    if kind == "total":
        r = y - Y / W
        return Y, W, w * y, float(np.dot(w * r, r))
    e = Y / W
    wr = w * (y - e)
    if kind == "proportion":
        return e, W, wr / W, W * e * (1 - e)
    return e, W, wr / W, float(np.dot(wr, y - e))


def _domain_df(design: Design, dj: np.ndarray, D: int) -> np.ndarray:
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


def _assemble(
    design: Design,
    statistic: str,
    parts: list[_Part],
    dom: _Domains,
    core: _Core,
    level: float,
    df: float | str,
    ci_method: str | None,
    single: bool,
) -> Estimate | EstimateTable:
    """Domain df and census flags from the rows, then the shared :func:`survey_stats._assembly.assemble`."""
    D = dom.D
    dfs = (np.concatenate([_domain_df(design, dj, D) for dj in core.dj]) if df == "domain"
           else np.full(len(core.est), float(df)))
    outside = design._census_rows()  # a domain is a census when every row of it lies in a census stratum
    touched = (core.n if outside is None or statistic != "proportion"
               else np.concatenate([np.bincount(dj, weights=outside, minlength=D + 1)[:D] for dj in core.dj]))
    stats = {"est": core.est, "cov": core.cov, "wsum": core.wsum, "n": core.n, "n_missing": core.n_missing,
             "ss": core.ss, "df": dfs, "touched": touched}
    return _assembly.assemble(design, statistic, [(p.variable, p.category) for p in parts], dom.labels, stats, level,
                              ci_method, single)


def _variables(variable: str | Sequence[str]) -> list[str]:
    return _names(variable, "variable")


# ---------------------------------------------------------------------------------------
# public estimators
# ---------------------------------------------------------------------------------------
def mean(
    design: Design,
    variable: str | Sequence[str],
    *,
    by: By = None,
    where: Any = None,
    level: float = 0.95,
    df: DfOption = None,
    na: NaPolicy = "fail",
) -> Estimate | EstimateTable:
    """Design-based mean (Hájek estimator) with Taylor-linearised SE and a t interval.

    Parameters
    ----------
    design : Design
    variable : str or list of str
        Numeric column(s); booleans count as 0/1.
    by : str or list of str, optional
        Domain column(s): one estimate per observed combination, with the full
        covariance between domains (R ``svyby(..., covmat=TRUE)``).
    where : str or boolean array, optional
        Restrict to one domain (rows where True), keeping the full design: a column of
        True/False, a boolean array, or a condition in the safe expression language
        (docs/expressions.md), e.g. ``"status == 'exited'"``; a string that is a column
        name stays a column name.  On SQL designs the same string selects the same rows.
    level : float
        Confidence level, default 0.95.
    df : float, "design" or "domain", optional
        Degrees of freedom of the interval: the design's (PSUs − strata, default),
        ``"domain"`` for PSUs − strata among the domain's rows (R's ``degf`` of a
        subset), a number, or ``float("inf")`` for R ``confint()``'s normal interval.
    na : {"fail", "drop"}
        Missing values in *variable*: raise (default) or leave those rows out as a
        domain would (correct SE; the count is in ``n_missing``).

    Returns
    -------
    Estimate or EstimateTable
        An :class:`Estimate` for one variable without ``by=``, else a table.

    Notes
    -----
    ȳ = Σ wᵢyᵢ / Σ wᵢ, linearised value zᵢ = wᵢ(yᵢ − ȳ)/Σw (Woodruff 1971; Lumley
    2010, §2.2).  ``deff`` compares with SRS without replacement of the same size,
    s²(N̂ − n)/(N̂ n) with s² the weighted variance (R ``svymean(deff=TRUE)``).
    R equivalent: ``svymean(~y, design)``; ``svyby(~y, ~g, design, svymean)``.

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.apistrat_design()
    >>> m = ss.mean(d, "api00")
    >>> round(m.estimate, 4), round(m.se, 4)     # R: svymean(~api00, dstrat)
    (662.2874, 9.4089)
    """
    if _sql(design):
        return design.estimate("mean", _variables(variable), by=by, where=where, level=level, df=df, na=na,
                               single=by is None and isinstance(variable, str))
    level = _check_common(level, na)
    dfr = _resolve_df(design, df)
    names = _variables(variable)
    dom = _domains(design, by, where)
    parts = [_Part(v, *_yx(design, v, na)) for v in names]
    core = _core(design, parts, dom, "mean")
    return _assemble(design, "mean", parts, dom, core, level, dfr, None, by is None and len(names) == 1)


def total(
    design: Design,
    variable: str | Sequence[str],
    *,
    by: By = None,
    where: Any = None,
    level: float = 0.95,
    df: DfOption = None,
    na: NaPolicy = "fail",
) -> Estimate | EstimateTable:
    """Design-based (Horvitz-Thompson) total with Taylor SE and a t interval.

    Parameters are as for :func:`mean`.  A categorical (non-numeric) variable gives
    the estimated count of every category (R ``svytotal(~factor, design)``).

    Notes
    -----
    Ŷ = Σ wᵢyᵢ, linearised value zᵢ = wᵢyᵢ (Horvitz & Thompson 1952; Lumley 2010,
    §2.2).  R equivalent: ``svytotal(~y, design)``.

    Examples
    --------
    >>> import survey_stats as ss
    >>> t = ss.total(ss.datasets.apistrat_design(), "enroll")
    >>> round(t.estimate), round(t.se)          # R: svytotal(~enroll, dstrat)
    (3687178, 114642)
    """
    if _sql(design):
        return design.estimate("total", _variables(variable), by=by, where=where, level=level, df=df, na=na,
                               single=by is None and isinstance(variable, str))
    level = _check_common(level, na)
    dfr = _resolve_df(design, df)
    names = _variables(variable)
    dom = _domains(design, by, where)
    parts: list[_Part] = []
    categorical = False
    for v in names:
        s = design.column(v)
        if pd.api.types.is_numeric_dtype(s) or s.dtype == bool:
            parts.append(_Part(v, *_yx(design, v, na)))
        else:
            categorical = True
            parts.extend(_category_parts(design, v, na))
    core = _core(design, parts, dom, "total")
    return _assemble(design, "total", parts, dom, core, level, dfr, None,
                     by is None and len(names) == 1 and not categorical)


def _category_parts(design: Design, name: str, na: NaPolicy, binary: bool = False) -> list[_Part]:
    s = design.column(name)
    if binary:
        y = s.to_numpy(dtype=float, na_value=np.nan)
        y, m = _missing(design, name, y, np.isnan(y), na)
        return [_Part(name, y, None, m)]
    miss = s.isna().to_numpy()
    _, m = _missing(design, name, np.zeros(len(s)), miss, na)
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = list(s.cat.categories)
    else:
        levels = sorted(pd.unique(s[~miss]), key=_sort_key)
    return [_Part(name, (s.eq(lev).to_numpy(dtype=bool, na_value=False) & ~miss).astype(float), None, m, _py(lev))
            for lev in levels]


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, (int, float, np.number)) else (1, str(v))


def _is_binary(design: Design, name: str) -> bool:
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


def proportion(
    design: Design,
    variable: str | Sequence[str],
    *,
    by: By = None,
    where: Any = None,
    level: float = 0.95,
    df: DfOption = None,
    na: NaPolicy = "fail",
    ci_method: ProportionMethod = "logit",
) -> Estimate | EstimateTable:
    """Design-based proportion with SE and a proportion confidence interval.

    A boolean or 0/1 column gives the proportion of True/1; any other column is
    categorical and gives the proportion of every category (R ``svymean(~factor)``).

    Parameters
    ----------
    design, variable, by, where, level, df, na
        As for :func:`mean`.
    ci_method : {"logit", "wald", "xlogit", "beta", "wilson", "asin", "likelihood"}
        Interval method; see :mod:`survey_stats.ci` for each one's R name and when to
        use it.  Default ``"logit"`` as R's ``svyciprop``; prefer ``"beta"``
        (Korn-Graubard) for rare events and reliability flags.

    Notes
    -----
    The estimate and SE are those of :func:`mean` of the indicator.  Intervals use
    t with the design's df by default, like R ``svyciprop`` and Stata; the interval
    is always inside [0, 1].  With zero events ``beta`` and ``wilson`` give [0, u]
    with u > 0 using n as the effective sample size (NCHS).  A domain that lies in
    census strata only has no sampling error: its interval is [p, p].

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.poverty_design()
    >>> sat = ss.proportion(d, "satisfied", by="status", ci_method="beta")
    >>> round(sat["exited"].estimate, 3), round(sat["exited"].se, 5)
    (0.9, 0.01943)
    >>> sat["unexited"].se, sat["unexited"].ci_low == sat["unexited"].ci_high   # census stratum
    (0.0, True)
    """
    if _sql(design):
        return design.estimate("proportion", _variables(variable), by=by, where=where, level=level, df=df, na=na,
                               ci_method=ci_method, single=by is None and isinstance(variable, str))
    level = _check_common(level, na)
    check_option(ci_method, "ci_method", PROPORTION_METHODS)
    dfr = _resolve_df(design, df)
    names = _variables(variable)
    dom = _domains(design, by, where)
    parts: list[_Part] = []
    categorical = False
    for v in names:
        binary = _is_binary(design, v)
        categorical = categorical or not binary
        parts.extend(_category_parts(design, v, na, binary=binary))
    core = _core(design, parts, dom, "proportion")
    return _assemble(design, "proportion", parts, dom, core, level, dfr, ci_method,
                     by is None and len(names) == 1 and not categorical)


def ratio(
    design: Design,
    numerator: str | Sequence[str],
    denominator: str | Sequence[str],
    *,
    by: By = None,
    where: Any = None,
    level: float = 0.95,
    df: DfOption = None,
    na: NaPolicy = "fail",
) -> Estimate | EstimateTable:
    """Ratio of two estimated totals, R = Ŷ / X̂, with Taylor SE and a t interval.

    Parameters
    ----------
    numerator, denominator : str or list of str
        Numeric columns.  With ``na="drop"`` a row missing any of them is left out.
        Lists give every numerator × denominator ratio in one table with their joint
        covariance, in R's order (numerators vary fastest: n1/d1, n2/d1, n1/d2, …), as
        ``svyratio(~n1 + n2, ~d1 + d2, covmat=TRUE)``; rows are named ``"n/d"``.
    by, where, level, df, na
        As for :func:`mean`.

    Notes
    -----
    Linearised value zᵢ = wᵢ(yᵢ − R̂ xᵢ)/X̂ (Cochran 1977, §6.11; Lumley 2010,
    §2.2.3).  R equivalent: ``svyratio(~y, ~x, design)``.  ``deff`` is not defined.

    Examples
    --------
    >>> import survey_stats as ss
    >>> r = ss.ratio(ss.datasets.apistrat_design(), "api.stu", "enroll")
    >>> round(r.estimate, 6), round(r.se, 6)    # R: svyratio(~api.stu, ~enroll, dstrat)
    (0.836957, 0.007757)
    >>> t = ss.ratio(ss.datasets.apistrat_design(), ["api.stu", "api00"], ["enroll", "api99"])
    >>> t.keys
    ['api.stu/enroll', 'api00/enroll', 'api.stu/api99', 'api00/api99']
    """
    if _sql(design) and not (isinstance(numerator, str) and isinstance(denominator, str)):
        raise MethodError("several ratios in one call run in memory only; call ratio() once per pair on SQL designs.")
    if _sql(design):
        return design.estimate("ratio", [numerator], by=by, where=where, level=level, df=df, na=na,
                               denominator=denominator, single=by is None)
    level = _check_common(level, na)
    dfr = _resolve_df(design, df)
    dom = _domains(design, by, where)
    nums, dens = _variables(numerator), _variables(denominator)
    cols = {v: _numeric(design, v, na) for v in dict.fromkeys(nums + dens)}
    miss = None
    if any(m is not None for _, m in cols.values()):
        miss = np.zeros(design.n, dtype=bool)
        for _, mm in cols.values():
            if mm is not None:
                miss |= mm
    parts = [_Part(f"{n}/{d}", cols[n][0], cols[d][0], miss) for d in dens for n in nums]
    core = _core(design, parts, dom, "ratio")
    single = isinstance(numerator, str) and isinstance(denominator, str) and by is None
    return _assemble(design, "ratio", parts, dom, core, level, dfr, None, single)


# ---------------------------------------------------------------------------------------
# quantiles: moved to quantiles.py; ``from survey_stats.estimation import quantile`` still works
# ---------------------------------------------------------------------------------------
def __getattr__(name: str) -> Any:
    if name == "quantile":  # imported lazily: quantiles.py imports this module's helpers
        from .quantiles import quantile

        return quantile
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _proportion_parts(
    design: Design,
    parts: Sequence[tuple[str, np.ndarray, np.ndarray]],
    *,
    level: float = 0.95,
    df: DfOption = None,
    ci_method: ProportionMethod = "logit",
) -> EstimateTable:
    """Several proportions, each over its own domain of one design, with their joint covariance.

    ``parts`` holds (label, 0/1 values, domain mask); rows outside a part's domain are
    treated as a domain would be (zero linearised values, full design kept).  Used by
    the indicators layer so that rates with different denominators from one sample
    covary correctly.
    """
    level = check_level(level)
    check_option(ci_method, "ci_method", PROPORTION_METHODS)
    dfr = _resolve_df(design, df)
    dom = _Domains(np.zeros(design.n, dtype=np.intp), [()], True)
    ps = []
    for label, y, mask in parts:
        mask = np.asarray(mask, dtype=bool)
        ps.append(_Part(label, np.where(mask, np.asarray(y, dtype=float), 0.0), None, ~mask if not mask.all() else None))
    core = _core(design, ps, dom, "proportion")
    core.n_missing[:] = 0  # rows outside a part's domain are not missing answers
    return _assemble(design, "proportion", ps, dom, core, level, dfr, ci_method, False)  # type: ignore[return-value]
