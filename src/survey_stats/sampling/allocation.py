"""Allocation of a total sample size to strata."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .._validation import check_option, describe_values
from ..errors import DataError, MethodError

__all__ = ["Allocation", "allocate", "largest_remainder"]

Method = Literal["proportional", "equal", "neyman", "optimal"]
_METHODS = ("proportional", "equal", "neyman", "optimal")


@dataclass(frozen=True)
class Allocation:
    """Sample sizes per stratum.

    Attributes
    ----------
    n_h : Series of int
        Integer sample sizes (sum = n).
    exact : Series of float
        The allocation before integer rounding (after bounds).
    N_h : Series
        Population sizes.
    method : str
    """

    n_h: pd.Series
    exact: pd.Series
    N_h: pd.Series
    method: str

    @property
    def n(self) -> int:
        return int(self.n_h.sum())

    def to_frame(self) -> pd.DataFrame:
        """One row per stratum: N_h, exact and rounded n_h, sampling fraction."""
        return pd.DataFrame({"stratum": self.n_h.index, "N_h": self.N_h.to_numpy(),
                             "n_exact": self.exact.to_numpy(), "n_h": self.n_h.to_numpy(),
                             "fraction": (self.n_h / self.N_h).to_numpy()})

    def variance_of_mean(self, S_h: Mapping[Hashable, float] | pd.Series, *, exact: bool = False) -> float:
        """Variance of the stratified mean, Σ W_h² (1 − n_h/N_h) S_h² / n_h (Cochran 1977, 5.6)."""
        S = _series(S_h, "S_h").reindex(self.n_h.index)
        if S.isna().any():
            raise DataError(f"S_h is missing for stratum/strata {describe_values(S.index[S.isna()])}.")
        n = self.exact if exact else self.n_h.astype(float)
        W = self.N_h / self.N_h.sum()
        return float((W**2 * (1 - n / self.N_h) * S**2 / n).sum())


def _series(x: Mapping[Hashable, float] | pd.Series | Iterable[float], name: str) -> pd.Series:
    s = x.copy() if isinstance(x, pd.Series) else pd.Series(dict(x)) if isinstance(x, Mapping) else None
    if s is None:
        raise DataError(f"{name} must be a mapping or a Series indexed by stratum.")
    return s.astype(float)


def largest_remainder(x: np.ndarray, total: int, upper: np.ndarray | None = None) -> np.ndarray:
    """Round non-negative reals to integers summing to *total* (Hamilton's method).

    Each value gets its floor, then the remaining units go to the largest fractional
    parts (ties to the earlier stratum), never above *upper*.

    Examples
    --------
    >>> largest_remainder(np.array([13.85, 8.86, 173.13, 4.155]), 200).tolist()
    [14, 9, 173, 4]
    """
    base = np.floor(x + 1e-9).astype(int)
    left = int(total - base.sum())
    frac = x - base
    if upper is not None:
        frac = np.where(base >= upper, -np.inf, frac)
    order = np.argsort(-frac, kind="stable")
    for i in order[: max(left, 0)]:
        if not np.isfinite(frac[i]):
            raise DataError("the strata cannot take the sample: every stratum is at its upper bound.")
        base[i] += 1
    return base


def allocate(
    n: int,
    N_h: Mapping[Hashable, int] | pd.Series,
    *,
    method: Method = "proportional",
    S_h: Mapping[Hashable, float] | pd.Series | None = None,
    p_h: Mapping[Hashable, float] | pd.Series | None = None,
    cost_h: Mapping[Hashable, float] | pd.Series | None = None,
    minimum: int | Mapping[Hashable, int] = 0,
    maximum: Mapping[Hashable, int] | None = None,
    census: Iterable[Hashable] = (),
    certainty: Mapping[Hashable, int] | pd.Series | None = None,
) -> Allocation:
    """Allocate *n* sampled units to strata.

    Parameters
    ----------
    n : int
        Total sample size, census strata and certainty units included.
    N_h : mapping or Series
        Population size per stratum.
    method : {"proportional", "equal", "neyman", "optimal"}
        ``proportional``: n_h ∝ N_h.  ``equal``: the same n_h everywhere.
        ``neyman``: n_h ∝ N_h S_h (needs ``S_h`` or ``p_h``).  ``optimal``:
        n_h ∝ N_h S_h / √c_h for per-unit costs ``cost_h`` (Cochran 1977, §5.5).
    S_h, p_h : mapping or Series, optional
        Unit standard deviations, or anticipated proportions giving
        S_h = √(N_h/(N_h−1) · p_h(1−p_h)).
    cost_h : mapping or Series, optional
        Cost of one interview per stratum (``optimal``).
    minimum : int or mapping
        Smallest n_h (e.g. 2 so every stratum has a variance estimate).
    maximum : mapping, optional
        Largest n_h per stratum; N_h is always a cap.
    census : iterable of stratum labels
        Strata taken whole (n_h = N_h), e.g. the telephone census of unexited households.
    certainty : mapping or Series, optional
        Certainty units per stratum; they count toward n_h, so n_h ≥ certainty_h.

    Returns
    -------
    Allocation

    Notes
    -----
    Bounds are met by fixing the strata that violate them at their bound and
    re-allocating the rest among the others until none violates (the usual Neyman
    over-allocation fix).  Integers by the largest-remainder rule, so the sizes sum
    exactly to n.

    Examples
    --------
    >>> a = allocate(200, {"exited": 400, "unexited": 256, "unregistered": 5000, "deregistered": 120})
    >>> a.n_h.to_dict()
    {'exited': 14, 'unexited': 9, 'unregistered': 173, 'deregistered': 4}
    """
    check_option(method, "method", _METHODS)
    N = _series(N_h, "N_h")
    if len(N) == 0:
        raise DataError("N_h is empty: give the population size of every stratum.")
    if (N <= 0).any() or N.isna().any():
        raise DataError(f"N_h must be positive; check stratum/strata {describe_values(N.index[~(N > 0)])}.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise MethodError(f"n={n!r} must be a non-negative whole number.")

    def per_stratum(x: Mapping[Hashable, float] | pd.Series | None, name: str, default: float) -> pd.Series:
        if x is None:
            return pd.Series(default, index=N.index, dtype=float)
        s = _series(x, name)
        unknown = s.index.difference(N.index)
        if len(unknown):
            raise DataError(f"{name} names stratum/strata not in N_h: {describe_values(unknown)}.")
        return s.reindex(N.index).fillna(default)

    cen = list(census)
    unknown = [c for c in cen if c not in N.index]
    if unknown:
        raise DataError(f"census names stratum/strata not in N_h: {describe_values(unknown)}.")
    lower = (pd.Series(float(minimum), index=N.index) if not isinstance(minimum, Mapping)
             else per_stratum(minimum, "minimum", 0.0))
    cert = per_stratum(certainty, "certainty", 0.0)
    if (cert > N).any():
        raise DataError(f"certainty exceeds N_h in stratum/strata {describe_values(N.index[cert > N])}.")
    lower = np.maximum(lower, cert).clip(upper=N)
    upper = per_stratum(maximum, "maximum", math.inf).clip(upper=N)
    if (upper < lower).any():
        bad = N.index[upper < lower]
        raise DataError(f"maximum is below the minimum/certainty count in stratum/strata {describe_values(bad)}.")
    is_census = N.index.isin(cen)
    lower[is_census] = N[is_census]
    upper[is_census] = N[is_census]
    if n < lower.sum():
        raise DataError(
            f"n = {n} is smaller than what census strata, certainty units and minimums require "
            f"({lower.sum():g}); increase n or relax them."
        )
    if n > upper.sum():
        raise DataError(f"n = {n} exceeds the units available under the caps ({upper.sum():g}).")

    if method in ("neyman", "optimal"):
        if S_h is None and p_h is None:
            raise MethodError(f"method={method!r} needs S_h (unit standard deviations) or p_h (anticipated proportions).")
        if S_h is not None:
            S = per_stratum(S_h, "S_h", math.nan)
        else:
            p = per_stratum(p_h, "p_h", math.nan)
            S = np.sqrt(N / (N - 1).clip(lower=1) * p * (1 - p))
        if S.isna().any():
            raise DataError(f"S_h/p_h missing for stratum/strata {describe_values(N.index[S.isna()])}.")
        a = N * S
        if method == "optimal":
            c = per_stratum(cost_h, "cost_h", math.nan)
            if c.isna().any() or (c <= 0).any():
                raise DataError("method='optimal' needs a positive cost_h for every stratum.")
            a = a / np.sqrt(c)
    elif method == "equal":
        a = pd.Series(1.0, index=N.index)
    else:
        a = N.copy()

    x = pd.Series(0.0, index=N.index)
    free = pd.Series(True, index=N.index)
    for _ in range(len(N) + 1):
        rest = n - x[~free].sum()
        af = a[free]
        share = rest * af / af.sum() if af.sum() > 0 else pd.Series(rest / max(free.sum(), 1), index=af.index)
        x[free] = share
        over = free & (x > upper)
        under = free & (x < lower)
        if not over.any() and not under.any():
            break
        x[over] = upper[over]
        x[under] = lower[under]
        free = free & ~over & ~under
        if not free.any():
            break
    ints = largest_remainder(x.to_numpy(), n, upper.to_numpy())
    return Allocation(pd.Series(ints, index=N.index, name="n_h"), x.rename("n_exact"), N.rename("N_h"), method)
