"""Linear combinations of estimates with their full covariance (R ``svycontrast``).

A composite such as the satisfaction index
``0.4·p_exited + 0.4·p_unexited + 0.1·p_unregistered + 0.1·p_deregistered`` is a
linear function aᵀθ̂ of estimates, so Var(aᵀθ̂) = aᵀ V a where V is their covariance
matrix.  Estimates from one call on one design carry that matrix (domains of one
design generally covary); estimates from different samples (different
:class:`~survey_stats.Design` objects) are independent, so V is block diagonal.
Estimates from one design but separate calls cannot be combined: their covariance
was never computed — estimate them in one call (several variables or ``by=``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
import numpy as np

from ._validation import check_level
from .ci import wald_interval
from .errors import DataError, MethodError
from .results import Estimate, EstimateTable, _cv, _Origin

__all__ = ["linear_combination"]

Estimates = EstimateTable | Estimate | Mapping[Hashable, Estimate] | Sequence[Estimate | EstimateTable]


def _flatten(estimates: Estimates) -> tuple[list[Hashable], list[Estimate]]:
    if isinstance(estimates, EstimateTable):
        return list(estimates.keys), list(estimates.rows)
    if isinstance(estimates, Estimate):
        return [estimates.key], [estimates]
    if isinstance(estimates, Mapping):
        keys = list(estimates.keys())
        vals = list(estimates.values())
        if not all(isinstance(v, Estimate) for v in vals):
            raise MethodError("a mapping passed to linear_combination must map names to Estimate objects.")
        return keys, vals
    keys: list[Hashable] = []
    rows: list[Estimate] = []
    for item in estimates:
        k, r = _flatten(item)
        keys.extend(k)
        rows.extend(r)
    return keys, rows


def linear_combination(
    estimates: Estimates,
    coefficients: Mapping[Hashable, float] | Sequence[float],
    *,
    level: float = 0.95,
    df: float | None = None,
    variable: str = "linear combination",
    constant: float = 0.0,
) -> Estimate:
    """Estimate Σ aⱼ θ̂ⱼ with its standard error from the full covariance.

    Parameters
    ----------
    estimates : EstimateTable, Estimate, mapping of name to Estimate, or a list of these
        The parts.  Rows of one table covary as its ``vcov`` says; parts from
        different designs are independent.
    coefficients : mapping or sequence of float
        A mapping from row name (:attr:`Estimate.key`, e.g. the ``by=`` domain value,
        or the mapping's own keys) to coefficient — rows not named get 0 — or one
        coefficient per row in order.
    level : float
        Confidence level of the Wald interval.
    df : float, optional
        Degrees of freedom of the t quantile.  Default: the parts' df when they come
        from one design, else the Welch-Satterthwaite combination
        ν = (Σ_g v_g)² / Σ_g (v_g² / ν_g) over the independent samples g, where
        v_g is sample g's share of the variance.
    variable : str
        Name of the result (e.g. ``"satisfaction"``).
    constant : float
        Added to the combination (no variance), e.g. 1 in 1 − (0.2·a + 0.3·b).

    Returns
    -------
    Estimate
        ``statistic="linear combination"``; ``n`` is the sum of the parts' n.

    Raises
    ------
    DataError
        Unknown row names, a coefficient count that does not match, parts from one
        design estimated in separate calls, or parts with unknown covariance
        (quantiles).

    Notes
    -----
    Var = aᵀ V a (Lumley 2010, §3.3; R ``svycontrast``).  R's ``confint`` on a
    ``svycontrast`` uses the normal quantile; pass ``df=float("inf")`` for that.

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.poverty_design()
    >>> sat = ss.proportion(d, "satisfied", by="status")
    >>> c = ss.linear_combination(sat, {"exited": 0.4, "unexited": 0.4,
    ...                                 "unregistered": 0.1, "deregistered": 0.1}, variable="satisfaction")
    >>> round(c.estimate, 6), round(c.se, 6)   # R: svycontrast(svyby(...), c(...))
    (0.774271, 0.011114)
    """
    level = check_level(level)
    keys, rows = _flatten(estimates)
    k = len(rows)
    if isinstance(coefficients, Mapping):
        a = np.zeros(k)
        for name, coef in coefficients.items():
            hits = [i for i, key in enumerate(keys) if key == name]
            if len(hits) != 1:
                how = "no" if not hits else "several"
                raise DataError(f"{how} part is named {name!r}; parts are {keys}.")
            a[hits[0]] = float(coef)
    else:
        a = np.asarray(list(coefficients), dtype=float)
        if a.shape != (k,):
            raise DataError(f"{len(a)} coefficient(s) for {k} estimate(s); give one per estimate or a mapping.")
    if not np.isfinite(a).all():
        raise DataError("coefficients must be finite numbers.")

    used = [i for i in range(k) if a[i] != 0]
    groups: dict[int, list[int]] = {}
    vcovs: dict[int, np.ndarray] = {}
    for i in used:
        origin = rows[i].source
        if not isinstance(origin, _Origin):
            raise DataError(f"estimate {keys[i]!r} carries no covariance information; build it with survey_stats.")
        groups.setdefault(id(origin.vcov), []).append(i)
        vcovs[id(origin.vcov)] = origin.vcov
    # parts from one design must come from one call
    owners: dict[int, int] = {}
    for gid, members in groups.items():
        for dsg in rows[members[0]].source.designs:  # type: ignore[union-attr]
            if id(dsg) in owners and owners[id(dsg)] != gid:
                raise DataError(
                    "some parts come from the same design but from separate calls, so their covariance is "
                    "unknown; estimate them in one call (a list of variables or by=) and combine that table."
                )
            owners[id(dsg)] = gid

    est = float(constant) + float(sum(a[i] * rows[i].estimate for i in used))
    var = 0.0
    contrib: list[tuple[float, float]] = []
    for gid, members in groups.items():
        V = vcovs[gid]
        idx = [rows[i].source.index for i in members]  # type: ignore[union-attr]
        sub = V[np.ix_(idx, idx)]
        if not np.isfinite(sub).all():
            raise DataError(
                "the covariance of some parts is unknown (quantiles have no joint covariance); "
                "they cannot enter a linear combination."
            )
        av = a[members]
        vg = float(av @ sub @ av)
        var += vg
        contrib.append((vg, min(rows[i].df for i in members)))
    var = max(var, 0.0)
    se = math.sqrt(var)
    if df is None:
        if len(contrib) == 1:
            df_used = contrib[0][1]
        else:
            denom = sum(v * v / d for v, d in contrib if v > 0 and d > 0)
            df_used = var * var / denom if denom > 0 else min(d for _, d in contrib)
    else:
        if isinstance(df, bool) or not isinstance(df, (int, float)):
            raise MethodError(f"df={df!r} must be a number or float('inf').")
        df_used = float(df)
    lo, hi = wald_interval(est, se, level, df_used)
    designs = tuple({id(d): d for i in used for d in rows[i].source.designs}.values())  # type: ignore[union-attr]
    own = np.array([[var]])
    own.setflags(write=False)
    n = int(sum(rows[i].n for i in used))
    return Estimate(
        "linear combination", variable, est, se, lo, hi, level, df_used, n, math.nan, math.nan, _cv(est, se),
        "wald (linear combination)", (), None, 0, _Origin(designs, own, 0),
    )

