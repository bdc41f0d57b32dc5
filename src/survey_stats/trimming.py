"""Weight trimming with redistribution (R ``survey``'s ``trimWeights``).

Weights above ``upper`` are cut to ``upper`` and weights below ``lower`` raised to
``lower``; the net amount removed is shared out *equally* (the same amount per unit)
among the units that were inside the bounds, so the weight total is unchanged
(Potter 1990 describes trimming with redistribution; R 4.1's ``trimWeights``
redistributes per unit, not in proportion to the weights).  With ``strict=True`` the
step is repeated until no weight lies outside the bounds, since redistribution can
push a weight past a bound.

The variance is treated as R does: the trimmed weights replace the sampling weights
and the design (strata, PSUs, FPC, calibration) is otherwise unchanged — the trimming
is not itself linearised.
"""

from __future__ import annotations

import math

import numpy as np

from .design import Design
from .errors import EstimationError, MethodError

__all__ = ["trim_weights"]

_MAX_ROUNDS = 10_000


def _trim_once(w: np.ndarray, lower: float, upper: float) -> tuple[np.ndarray, bool]:
    outside = (w < lower) | (w > upper)
    if not outside.any():
        return w, False
    new = np.clip(w, lower, upper)
    excess = float(np.sum(w - new))
    inside = ~outside
    if not inside.any():
        raise MethodError("every weight lies outside the bounds, so the trimmed amount cannot be redistributed.")
    new[inside] += excess / inside.sum()
    return new, True


def _trim(w: np.ndarray, lower: float, upper: float, strict: bool) -> np.ndarray:
    w, changed = _trim_once(w, lower, upper)
    rounds = 1
    while strict and changed:
        w, changed = _trim_once(w, lower, upper)
        rounds += 1
        if rounds > _MAX_ROUNDS:
            raise EstimationError(f"strict trimming did not settle within {_MAX_ROUNDS} rounds.")
    return w


def trim_weights(
    design: Design,
    *,
    lower: float | None = None,
    upper: float | None = None,
    strict: bool = False,
) -> Design:
    """A design whose weights are trimmed to [lower, upper], the excess redistributed (R ``trimWeights``).

    Parameters
    ----------
    design : Design
        Taylor or replicate-weight design.
    lower, upper : float, optional
        Bounds on the weights (R's ``lower`` and ``upper``; omitted: no bound).
    strict : bool
        Repeat trimming and redistribution until every weight is within the bounds
        (R's ``strict=TRUE``).  Without it one round is made, as R's default, and a
        redistributed weight may end up slightly outside.

    Returns
    -------
    Design
        The same design with trimmed weights.  Unchanged when no weight is outside.

    Raises
    ------
    MethodError
        Bounds that are not numbers, ``lower > upper``, or (``strict=True``) bounds no
        set of weights with the same total can meet: the mean weight must lie in
        [lower, upper].

    Notes
    -----
    For replicate designs every replicate's weights are trimmed by the same rule, so
    the replicate variance reflects the trimming.  (R 4.1's ``trimWeights`` method for
    replicate designs leaves the full-sample weights untrimmed — ``design$prob <-
    1/pw`` — and mangles the replicate matrix; this function does not copy that.)

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.apistrat_design()
    >>> t = ss.trim_weights(d, upper=40)
    >>> round(float(t.weights.max()), 4), round(float(t.weights.sum()), 6) == round(float(d.weights.sum()), 6)
    (40.0, True)
    >>> round(ss.mean(t, "api00").se, 4)     # R: svymean(~api00, trimWeights(dstrat, upper = 40))
    8.9279
    """
    lo = -math.inf if lower is None else lower
    hi = math.inf if upper is None else upper
    for name, v in (("lower", lo), ("upper", hi)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            raise MethodError(f"{name}={v!r} must be a number.")
    if lo > hi:
        raise MethodError(f"lower={lo!r} is above upper={hi!r}.")
    if not isinstance(strict, bool):
        raise MethodError(f"strict must be True or False, got {strict!r}.")
    w = np.asarray(design._w, dtype=float)
    if strict and not lo <= w.mean() <= hi:
        raise MethodError(
            f"strict trimming to [{lo:g}, {hi:g}] is impossible: the weights keep their total, so their mean "
            f"{w.mean():g} must lie within the bounds."
        )
    new = _trim(w.copy(), float(lo), float(hi), strict)
    rep = design._rep
    if rep is not None:
        R = rep.weights.copy()
        for r in range(R.shape[1]):
            col = R[:, r]
            pos = col > 0  # units dropped from a replicate stay dropped
            if strict and pos.any() and not lo <= col[pos].mean() <= hi:
                raise MethodError(f"strict trimming to [{lo:g}, {hi:g}] is impossible for replicate {r + 1}: "
                                  f"its mean weight is {col[pos].mean():g}.")
            if pos.any():
                col[pos] = _trim(col[pos], float(lo), float(hi), strict)
        rep = rep.with_weights(R)
    if np.array_equal(new, w) and rep is design._rep:
        return design
    return design._derive(weights=new, rep=rep)
