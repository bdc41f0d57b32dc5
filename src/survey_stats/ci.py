"""Confidence-interval methods.

Two families:

* :func:`wald_interval` — estimate ± t(df)·SE, used for means, totals, ratios and
  linear combinations (R ``confint(..., df=)``; ``df=inf`` gives R's default normal
  interval).
* :func:`proportion_interval` — the design-based proportion intervals of R's
  ``svyciprop``, plus Wilson; every one stays inside [0, 1].

==============  ===================  ==========================================================
method          R ``svyciprop``      what it is; when to use it
==============  ===================  ==========================================================
``wald``        ``"mean"``           p ± t·SE, clipped to [0, 1].  Fine for p far from 0 and 1
                                     and large n; under-covers for rare events.
``logit``       ``"logit"``          Wald interval on the logit scale, back-transformed
                                     (R fits an intercept-only quasibinomial ``svyglm``; the
                                     interval equals ``xlogit`` to ~1e-10).  R's default.
``xlogit``      ``"xlogit"``         Same as ``logit`` via the delta method.
``beta``        ``"beta"``           Korn & Graubard (1998) Clopper-Pearson interval at the
                                     effective sample size, with R's df correction.  The NCHS
                                     standard; conservative; best for rare events.
``wilson``      ``"wilson"``         Wilson score interval at the effective sample size with a
                                     t(df) quantile (Kott & Carr 1997; R ≥ 4.2).
``asin``        ``"asin"``           Wald interval for arcsin(√p), back-transformed.
``likelihood``  ``"likelihood"``     Rao-Scott scaled profile-likelihood interval of the
                                     quasibinomial model.
==============  ===================  ==========================================================

Zero (or all) events.  With p̂ = 0 the design variance is 0 and R's methods give no
usable upper bound (NaN, an error or [0, 0]).  Here ``beta`` and ``wilson`` use the
effective sample size n (the NCHS fallback) and return [0, u] with u > 0 (and
[l, 1] for p̂ = 1); ``logit``, ``xlogit``, ``asin`` and ``likelihood`` fall back to
``beta`` and say so in the result's ``method``; ``wald`` returns the degenerate
[p̂, p̂] and says so.  A census domain (every PSU taken, so no sampling error)
gets [p̂, p̂] from every method.
"""

from __future__ import annotations

import math
from typing import Literal


from ._lazy import LazyModule
from ._validation import check_option, renamed

optimize = LazyModule("scipy.optimize")
special = LazyModule("scipy.special")
stats = LazyModule("scipy.stats")

__all__ = ["PROPORTION_METHODS", "ProportionMethod", "proportion_interval", "t_quantile", "wald_interval"]

ProportionMethod = Literal["wald", "logit", "xlogit", "beta", "wilson", "asin", "likelihood"]
PROPORTION_METHODS: tuple[str, ...] = ("wald", "logit", "xlogit", "beta", "wilson", "asin", "likelihood")

#: R's name for each method (``svyciprop(method=)``).
R_NAMES = {
    "wald": "mean",
    "logit": "logit",
    "xlogit": "xlogit",
    "beta": "beta",
    "wilson": "wilson",
    "asin": "asin",
    "likelihood": "likelihood",
}


def t_quantile(level: float, df: float) -> float:
    """Two-sided critical value: Student t with *df* degrees of freedom, normal for inf.

    Returns NaN when ``df <= 0`` (as R does), never silently 1.96.

    Examples
    --------
    >>> round(t_quantile(0.95, float("inf")), 6)
    1.959964
    >>> round(t_quantile(0.95, 117), 6)
    1.980448
    """
    if df is None or not df > 0:
        return math.nan
    q = (1 + level) / 2
    if math.isinf(df):
        return float(stats.norm.ppf(q))
    return float(stats.t.ppf(q, df))


def wald_interval(estimate: float, se: float, level: float, df: float) -> tuple[float, float]:
    """estimate ± t(df)·se (R ``confint(object, level, df)``).

    Examples
    --------
    >>> lo, hi = wald_interval(10.0, 1.0, 0.95, float("inf"))
    >>> round(lo, 4), round(hi, 4)
    (8.04, 11.96)
    """
    t = t_quantile(level, df)
    return estimate - t * se, estimate + t * se


def _beta_bounds(p: float, n_eff: float, alpha: float) -> tuple[float, float]:
    x = n_eff * p
    if math.isfinite(n_eff) and n_eff > 1e12 and 0 < x < n_eff:
        # A variance that is zero up to rounding (a census part) gives n_eff ~ 1e30: the beta
        # quantiles are then the normal ones to far below 1e-12, and scipy < 1.15's boost series
        # fails to converge on such shapes (RuntimeWarning), so use the normal limit directly.
        half = float(stats.norm.ppf(1 - alpha / 2)) * math.sqrt(p * (1 - p) / n_eff)
        return max(p - half, 0.0), min(p + half, 1.0)
    lo = 0.0 if x <= 0 else float(stats.beta.ppf(alpha / 2, x, n_eff - x + 1))
    hi = 1.0 if n_eff - x <= 0 else float(stats.beta.ppf(1 - alpha / 2, x + 1, n_eff - x))
    return lo, hi


def _beta_df_factor(n: int, df: float, alpha: float) -> float:
    """R's Korn-Graubard df correction (qt(α/2, n-1) / qt(α/2, df))²."""
    if n <= 1:  # R gives NaN (qt with 0 df); a single respondent keeps n* unadjusted
        return 1.0
    if not df > 0:
        return math.nan
    num = stats.t.ppf(alpha / 2, n - 1)
    den = stats.norm.ppf(alpha / 2) if math.isinf(df) else stats.t.ppf(alpha / 2, df)
    return float((num / den) ** 2)


def proportion_interval(
    p: float,
    se: float,
    n: int,
    *,
    level: float = 0.95,
    df: float = math.inf,
    ci_method: ProportionMethod = "logit",
    census: bool = False,
    method: ProportionMethod | None = None,
) -> tuple[float, float, float, str]:
    """Confidence interval for a design-based proportion.

    Parameters
    ----------
    p, se : float
        Estimated proportion and its design-based standard error.
    n : int
        Unweighted number of respondents behind ``p`` (rows in the domain).
    level : float
        Confidence level.
    df : float
        Degrees of freedom of the t quantile; ``inf`` for the normal quantile.
    ci_method : str
        One of :data:`PROPORTION_METHODS` (see the module docstring).
    census : bool
        The domain was fully enumerated: no sampling error, interval [p, p].
    method : str, optional
        Deprecated name of ``ci_method`` (warns; removed in the next release).

    Returns
    -------
    (ci_low, ci_high, n_eff, method_used)
        ``n_eff = p(1-p)/se²`` (Korn-Graubard effective sample size), or ``n``
        when the variance is 0; ``method_used`` differs from ``method`` when a
        fallback was used.

    Notes
    -----
    ``beta``: n* = p(1-p)/se² · (t_{n-1}/t_df)², interval
    [Beta⁻¹(α/2; n*p, n*(1-p)+1), Beta⁻¹(1-α/2; n*p+1, n*(1-p))] (Korn & Graubard
    1998; R ``svyciprop`` method ``"beta"``, whose df is always ``degf(design)``).
    ``wilson``: (p + t²/2n* ∓ t/2n*·√(4n*p(1-p) + t²)) / (1 + t²/n*).
    ``likelihood``: the set of π whose quasi-deviance 2n[p log(p/π) + (1-p)
    log((1-p)/(1-π))]/φ is at most λ·t², where λ = se²·n/(p(1-p)) is the design
    effect of the logit coefficient (Rao & Scott 1984) and φ = n/(n-1) the
    quasibinomial dispersion R's ``svyglm`` estimates for a 0/1 outcome (the
    design-weighted variance of the Pearson residuals).  R finds the same end
    points by spline interpolation of the profile on a grid, so R's values differ
    from these exact roots by about 3e-6 (common outcome) to 3e-4 (3 events in 120).

    References
    ----------
    Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with
    small expected number of positive counts estimated from survey data. *Survey
    Methodology* 24, 193-201.  Parker, J. D. et al. (2017). National Center for Health
    Statistics Data Presentation Standards for Proportions. *Vital Health Stat* 2(175).

    Examples
    --------
    >>> lo, hi, neff, m = proportion_interval(0.3575, 0.0416463086555164, 120, df=117, ci_method="logit")
    >>> round(lo, 6), round(hi, 6)
    (0.279829, 0.443455)
    >>> proportion_interval(0.0, 0.0, 150, df=147, ci_method="beta")[:2]  # zero events
    (0.0, 0.024297...)
    """
    method = renamed("proportion_interval", "method", method, "ci_method", ci_method, "logit")
    check_option(method, "ci_method", PROPORTION_METHODS)
    alpha = 1 - level
    var = se * se
    degenerate = not (0 < p < 1) or var <= 0 or not math.isfinite(var)
    n_eff = p * (1 - p) / var if not degenerate else float(n)
    if census:
        return p, p, n_eff, method
    if not df > 0 or math.isnan(se):  # no df, or a variance that cannot be estimated (R's NA): no interval
        return math.nan, math.nan, n_eff, method
    t = t_quantile(level, df)
    used = method
    if degenerate and (p <= 0 or p >= 1):
        why = "no events" if p <= 0 else "all events"
        if method == "wald":
            return p, p, n_eff, f"wald (degenerate: {why})"
        if method == "wilson":
            lo, hi = _wilson(p, n_eff, t)
            used = f"wilson (n_eff = n: {why})"
        else:
            lo, hi = _beta_bounds(p, n_eff * _beta_df_factor(n, df, alpha), alpha)
            used = f"beta (n_eff = n: {why})" if method == "beta" else f"beta (fallback from {method}: {why})"
    elif degenerate:  # 0 < p < 1 but zero estimated variance
        return p, p, n_eff, method
    elif method == "wald":
        lo, hi = p - t * se, p + t * se
    elif method in ("logit", "xlogit"):
        eta = special.logit(p)
        half = t * se / (p * (1 - p))
        lo, hi = float(special.expit(eta - half)), float(special.expit(eta + half))
    elif method == "beta":
        lo, hi = _beta_bounds(p, n_eff * _beta_df_factor(n, df, alpha), alpha)
    elif method == "wilson":
        lo, hi = _wilson(p, n_eff, t)
    elif method == "asin":
        c = math.asin(math.sqrt(p))
        half = t * se / (2 * math.sqrt(p * (1 - p)))
        lo = math.sin(max(c - half, 0.0)) ** 2
        hi = math.sin(min(c + half, math.pi / 2)) ** 2
    else:  # likelihood
        lo, hi = _likelihood(p, se, n, t)
    if math.isnan(lo) or math.isnan(hi):
        return lo, hi, n_eff, used
    return min(max(lo, 0.0), p), max(min(hi, 1.0), p), n_eff, used


def _wilson(p: float, n_eff: float, t: float) -> tuple[float, float]:
    t2 = t * t
    denom = 1 + t2 / n_eff
    centre = p + t2 / (2 * n_eff)
    half = t / (2 * n_eff) * math.sqrt(4 * n_eff * p * (1 - p) + t2)
    return max((centre - half) / denom, 0.0), min((centre + half) / denom, 1.0)


def _likelihood(p: float, se: float, n: int, t: float) -> tuple[float, float]:
    lam = se * se * n / (p * (1 - p))
    cut = lam * t * t
    phi = n / (n - 1) if n > 1 else math.nan

    def excess(pi: float) -> float:
        dev = 2 * n * (special.xlogy(p, p / pi) + special.xlogy(1 - p, (1 - p) / (1 - pi)))
        return dev / phi - cut

    tiny = 1e-300
    lo = 0.0 if excess(tiny) <= 0 else optimize.brentq(excess, tiny, p, xtol=1e-15, rtol=1e-14)
    hi = 1.0 if excess(1 - 1e-16) <= 0 else optimize.brentq(excess, p, 1 - 1e-16, xtol=1e-15, rtol=1e-14)
    return float(lo), float(hi)
