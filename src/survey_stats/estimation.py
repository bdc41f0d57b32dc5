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

This module holds the estimators only: domains, variables and options are parsed in
:mod:`survey_stats._domains`, the linear core and its covariance live in
:mod:`survey_stats._linear`, intervals and result rows in :mod:`survey_stats._assembly`,
and quantiles in :mod:`survey_stats.quantiles`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._domains import (
    By,
    DfOption,
    NaPolicy,
    Part,
    category_parts,
    check_common,
    domains,
    is_binary,
    is_sql,
    numeric,
    resolve_df,
    variables,
    yx,
)
from ._linear import assemble, linear_core
from ._validation import check_option
from .ci import PROPORTION_METHODS, ProportionMethod
from .design import Design
from .errors import MethodError
from .results import Estimate, EstimateTable

__all__ = ["mean", "proportion", "quantile", "ratio", "total"]


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
    if is_sql(design):
        return design.estimate("mean", variables(variable), by=by, where=where, level=level, df=df, na=na,
                               single=by is None and isinstance(variable, str))
    level = check_common(level, na)
    dfr = resolve_df(design, df)
    names = variables(variable)
    dom = domains(design, by, where)
    parts = [Part(v, *yx(design, v, na)) for v in names]
    core = linear_core(design, parts, dom, "mean")
    return assemble(design, "mean", parts, dom, core, level, dfr, None, by is None and len(names) == 1)


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
    if is_sql(design):
        return design.estimate("total", variables(variable), by=by, where=where, level=level, df=df, na=na,
                               single=by is None and isinstance(variable, str))
    level = check_common(level, na)
    dfr = resolve_df(design, df)
    names = variables(variable)
    dom = domains(design, by, where)
    parts: list[Part] = []
    categorical = False
    for v in names:
        s = design.column(v)
        if pd.api.types.is_numeric_dtype(s) or s.dtype == bool:
            parts.append(Part(v, *yx(design, v, na)))
        else:
            categorical = True
            parts.extend(category_parts(design, v, na))
    core = linear_core(design, parts, dom, "total")
    return assemble(design, "total", parts, dom, core, level, dfr, None,
                     by is None and len(names) == 1 and not categorical)


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
    if is_sql(design):
        return design.estimate("proportion", variables(variable), by=by, where=where, level=level, df=df, na=na,
                               ci_method=ci_method, single=by is None and isinstance(variable, str))
    level = check_common(level, na)
    check_option(ci_method, "ci_method", PROPORTION_METHODS)
    dfr = resolve_df(design, df)
    names = variables(variable)
    dom = domains(design, by, where)
    parts: list[Part] = []
    categorical = False
    for v in names:
        binary = is_binary(design, v)
        categorical = categorical or not binary
        parts.extend(category_parts(design, v, na, binary=binary))
    core = linear_core(design, parts, dom, "proportion")
    return assemble(design, "proportion", parts, dom, core, level, dfr, ci_method,
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
    if is_sql(design) and not (isinstance(numerator, str) and isinstance(denominator, str)):
        raise MethodError("several ratios in one call run in memory only; call ratio() once per pair on SQL designs.")
    if is_sql(design):
        return design.estimate("ratio", [numerator], by=by, where=where, level=level, df=df, na=na,
                               denominator=denominator, single=by is None)
    level = check_common(level, na)
    dfr = resolve_df(design, df)
    dom = domains(design, by, where)
    nums, dens = variables(numerator), variables(denominator)
    cols = {v: numeric(design, v, na) for v in dict.fromkeys(nums + dens)}
    miss = None
    if any(m is not None for _, m in cols.values()):
        miss = np.zeros(design.n, dtype=bool)
        for _, mm in cols.values():
            if mm is not None:
                miss |= mm
    parts = [Part(f"{n}/{d}", cols[n][0], cols[d][0], miss) for d in dens for n in nums]
    core = linear_core(design, parts, dom, "ratio")
    single = isinstance(numerator, str) and isinstance(denominator, str) and by is None
    return assemble(design, "ratio", parts, dom, core, level, dfr, None, single)


# ---------------------------------------------------------------------------------------
# quantiles: moved to quantiles.py; ``from survey_stats.estimation import quantile`` still works
# ---------------------------------------------------------------------------------------
def __getattr__(name: str) -> Any:
    if name == "quantile":  # imported lazily: quantiles.py imports this module's helpers
        from .quantiles import quantile

        return quantile
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
