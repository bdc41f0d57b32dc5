"""From estimates and their covariance to result rows: SE, CI, design effect, df.

Both backends end here.  The in-memory estimators (:mod:`survey_stats.estimation`) and
the SQL backend (:mod:`survey_stats.sql`) compute, each from its own kind of input, the
same sufficient results — estimates, their covariance, domain weight sums, respondent
counts, Σw(y − ȳ)² and the degrees of freedom — and :func:`assemble` turns them into
:class:`~survey_stats.Estimate` rows, so intervals and design effects are defined once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .ci import proportion_interval, wald_interval
from .errors import EstimationError
from .results import Estimate, EstimateTable, _cv, _Origin


def srs_stats(kind: str, est: float, var: float, W: float, n: int, ss: float) -> tuple[float, float]:
    """(deff against SRSWOR, effective sample size) as R's ``deff=TRUE`` defines them.

    ``W`` is the domain's weight sum and ``ss`` = Σ w (y − ȳ)²; the SRS variance uses
    s² = ss / W · n / (n − 1) and the finite population correction (W − n)/W
    (R ``survey``: ``svymean(..., deff=TRUE)``, Kish's design effect).
    """
    if kind in ("ratio",) or n < 2 or not np.isfinite(ss):
        return math.nan, (float(n) if var == 0 else math.nan)
    s2 = ss / W * n / (n - 1)
    if kind == "total":
        v_srswr = s2 * W * W / n
    else:
        v_srswr = s2 / n
    v_srswor = v_srswr * (W - n) / W
    deff = var / v_srswor if v_srswor > 0 else math.nan
    if kind == "proportion":
        n_eff = est * (1 - est) / var if var > 0 and 0 < est < 1 else float(n)
    else:
        n_eff = v_srswr * n / var if var > 0 else float(n)
    return deff, n_eff


def domain_text(domain: tuple[tuple[str, Any], ...]) -> str:
    """" domain g='a', h=1" for a domain label ("" for the whole population), for messages."""
    return " domain " + ", ".join(f"{c}={v!r}" for c, v in domain) if domain else ""


def assemble(source: Any, statistic: str, parts: Sequence[tuple[str, Any]], labels: Sequence[tuple[tuple[str, Any], ...]],
             stats: dict[str, np.ndarray], level: float, ci_method: str | None, single: bool) -> Estimate | EstimateTable:
    """Result rows for every part × domain (part-major: index j·D + d).

    ``parts`` holds (variable, category) per part, ``labels`` the D domain labels and
    ``stats`` the arrays ``est``, ``cov`` (k × k), ``wsum``, ``n``, ``n_missing``, ``ss``
    and ``df`` (length k) and, for proportions, ``touched`` (rows outside census strata
    per domain; 0 means a census, whose interval is the point).
    """
    D = len(labels)
    cov = np.array(stats["cov"])
    cov.setflags(write=False)
    rows: list[Estimate] = []
    for j, (variable, category) in enumerate(parts):
        for d in range(D):
            i = j * D + d
            n = int(stats["n"][i])
            dfi = float(stats["df"][i])
            origin = _Origin((source,), cov, i)
            if n == 0:
                rows.append(Estimate(statistic, variable, math.nan, math.nan, math.nan, math.nan, level, dfi, 0,
                                     math.nan, math.nan, math.nan, "empty domain: no respondents with data",
                                     labels[d], category, int(stats["n_missing"][i]), origin))
                continue
            est = float(stats["est"][i])
            var = float(cov[i, i])
            se = math.sqrt(var) if var >= 0 else math.nan
            if not math.isfinite(est) or math.isinf(var):
                raise EstimationError(
                    f"the {statistic} of {variable!r}{' in' if labels[d] else ''}{domain_text(labels[d])} is not a finite "
                    f"number (estimate {est}, variance {var}): values or weights are too large for floating point; "
                    "rescale them (e.g. thousands of yuan).")
            deff, n_eff = srs_stats(statistic, est, var, float(stats["wsum"][i]), n, float(stats["ss"][i]))
            if statistic == "proportion":
                census = bool(stats["touched"][i] == 0)  # no row of the domain outside census strata
                lo, hi, n_eff, method = proportion_interval(est, se, n, level=level, df=dfi,
                                                            ci_method=ci_method, census=census)  # type: ignore[arg-type]
            else:
                lo, hi = wald_interval(est, se, level, dfi)
                method = "wald"
            rows.append(Estimate(statistic, variable, est, se, lo, hi, level, dfi, n, n_eff, deff, _cv(est, se),
                                 method, labels[d], category, int(stats["n_missing"][i]), origin))
    if single and len(rows) == 1:
        return rows[0]
    return EstimateTable(tuple(rows), cov, source=source)
