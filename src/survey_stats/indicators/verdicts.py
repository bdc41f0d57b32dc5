"""Statistically qualified verdicts and NCHS reliability flags."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from .._validation import check_option, real_number
from ..ci import proportion_interval
from ..errors import DataError

__all__ = ["RELIABILITY_RULES", "reliability", "verdict"]

Verdict = Literal["meets", "fails", "inconclusive", "no reference"]


def verdict(ci_low: float, ci_high: float, reference: float | None, direction: str) -> str:
    """Judge an indicator against its reference value from its confidence interval.

    ``le`` (the rate should be at most r): ``meets`` if the upper bound ≤ r, ``fails``
    if the lower bound > r, else ``inconclusive``.  ``ge`` mirrors it: ``meets`` if the
    lower bound ≥ r, ``fails`` if the upper bound < r.  An interval that touches r
    from the right side meets; one that touches it from the wrong side is
    inconclusive (SPEC §3).  A missing interval (NaN end) is inconclusive.

    Raises
    ------
    DataError
        ``ci_low > ci_high``, a bound that is not a number, a NaN or infinite reference.
    MethodError
        ``direction`` other than ``"le"`` or ``"ge"``.

    Examples
    --------
    >>> verdict(0.010, 0.030, 0.03, "le"), verdict(0.031, 0.06, 0.03, "le"), verdict(0.02, 0.04, 0.03, "le")
    ('meets', 'fails', 'inconclusive')
    >>> verdict(0.95, 0.99, 0.95, "ge"), verdict(0.90, 0.949, 0.95, "ge")
    ('meets', 'fails')
    """
    check_option(direction, "direction", ("le", "ge"))
    if reference is None:
        return "no reference"
    reference = real_number(reference, "reference value")
    lo, hi = _bound(ci_low, "ci_low"), _bound(ci_high, "ci_high")
    if math.isnan(lo) or math.isnan(hi):
        return "inconclusive"
    if lo > hi:
        raise DataError(f"confidence interval [{lo:g}, {hi:g}] has its low end above its high end; "
                        "pass (ci_low, ci_high) in that order.")
    ci_low, ci_high = lo, hi
    if direction == "le":
        if ci_high <= reference:
            return "meets"
        if ci_low > reference:
            return "fails"
        return "inconclusive"
    if ci_low >= reference:
        return "meets"
    if ci_high < reference:
        return "fails"
    return "inconclusive"


def _bound(value: float, name: str) -> float:
    """An interval end: a number (NaN = no interval, ±inf allowed), never a string or a bool."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DataError(f"{name}={value!r} is not a number.")
    return float(value)


#: The rules of :func:`reliability`, in order (Parker et al. 2017, NCHS Data Presentation
#: Standards for Proportions, Vital Health Stat 2(175), Figure 1).
RELIABILITY_RULES = (
    "sample size n < 30 → unreliable",
    "effective sample size n_eff < 30 → unreliable",
    "Korn-Graubard CI absolute width ≥ 0.30 → unreliable",
    "absolute width > 0.05 and relative width (width / p) > 130% → unreliable",
    "absolute width ≤ 0.05 → reliable",
    "otherwise reliable; flagged for review when degrees of freedom < 8, when p is 0 or 1, "
    "or when the complement's relative width (width / (1 − p)) > 130%",
)


def reliability(
    p: float, n: int, n_eff: float, se: float, df: float, *, level: float = 0.95, census: bool = False
) -> tuple[str, str]:
    """NCHS reliability flag for an estimated proportion: ``(flag, reason)``.

    ``flag`` is ``"reliable"``, ``"review"`` (present, but a statistician should look)
    or ``"unreliable"`` (NCHS would suppress it).  The width rules use the
    Korn-Graubard (``beta``) interval whatever interval is displayed; the effective
    sample size is capped at n (design effect floored at 1), as NCHS does.  A census
    (no sampling error) is reliable.

    Examples
    --------
    >>> reliability(0.30, 400, 380.0, 0.023, 300)
    ('reliable', 'n = 400, n_eff = 380, CI width 0.093, relative width 31%')
    >>> reliability(0.02, 25, 25.0, 0.028, 24)[0]
    'unreliable'
    """
    p = real_number(p, "proportion p", minimum=-1e-9, maximum=1.0 + 1e-9)  # rounding in sums of weights
    p = min(max(p, 0.0), 1.0)
    n = int(real_number(n, "sample size n", minimum=0.0))
    if census:
        return "reliable", "census: no sampling error"
    if n < 30:
        return "unreliable", f"sample size n = {n} < 30"
    neff = min(n_eff, n) if not math.isnan(n_eff) else float(n)
    if neff < 30:
        return "unreliable", f"effective sample size {neff:.1f} < 30"
    lo, hi, _, _ = proportion_interval(p, se, n, level=level, df=df, ci_method="beta")
    width = hi - lo
    if math.isnan(width):
        return "review", "no Korn-Graubard interval (df ≤ 0)"
    rel = width / p if p > 0 else math.inf
    base = f"n = {n}, n_eff = {neff:.0f}, CI width {width:.3f}, relative width {rel:.0%}"
    if width >= 0.30:
        return "unreliable", f"Korn-Graubard CI width {width:.3f} ≥ 0.30"
    if width > 0.05 and rel > 1.30:
        return "unreliable", f"CI width {width:.3f} > 0.05 and relative width {rel:.0%} > 130%"
    if width <= 0.05:
        return ("review", base + "; p is 0 or 1") if p in (0.0, 1.0) else ("reliable", base)
    if df < 8:
        return "review", base + f"; only {df:g} degrees of freedom"
    if p in (0.0, 1.0):
        return "review", base + "; p is 0 or 1"
    if width / (1 - p) > 1.30:
        return "review", base + "; complement's relative width > 130%"
    return "reliable", base
