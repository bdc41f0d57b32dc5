"""Sample sizes for proportions: precision-based (Cochran) and decision-based (exact)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._lazy import LazyModule
from .._validation import check_level, check_option
from ..errors import MethodError

stats = LazyModule("scipy.stats")

__all__ = [
    "DecisionSampleSize",
    "SampleSize",
    "decision_sample_size",
    "expected_half_width",
    "minimum_detectable_difference",
    "sample_size_proportion",
]


def _z(level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - check_level(level)) / 2))


def _check_p(p: float, name: str = "p") -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise MethodError(f"{name}={p!r} must be a proportion in [0, 1].")
    return float(p)


def _check_N(N: float | None) -> float | None:
    if N is None:
        return None
    if isinstance(N, bool) or not isinstance(N, (int, float, np.integer)) or N < 1:
        raise MethodError(f"N={N!r} must be a population size ≥ 1 (or None for an infinite population).")
    return float(N)


@dataclass(frozen=True)
class SampleSize:
    """Result of :func:`sample_size_proportion`.

    Attributes
    ----------
    n : int
        Required sample size (rounded up, at most N).
    n_exact : float
        The unrounded size after FPC.
    n0 : float
        Size for an infinite population, z² p(1-p) deff / e².
    """

    n: int
    n_exact: float
    n0: float
    p: float
    margin: float
    level: float
    N: float | None
    deff: float


def sample_size_proportion(
    p: float = 0.5,
    margin: float = 0.05,
    *,
    level: float = 0.95,
    N: float | None = None,
    deff: float = 1.0,
) -> SampleSize:
    """Cochran's sample size to estimate a proportion within ± *margin*.

    Parameters
    ----------
    p : float
        Anticipated proportion (0.5 is the conservative choice).
    margin : float
        Half-width of the confidence interval, e.g. 0.05 for ±5 points.
    level : float
        Confidence level.
    N : float, optional
        Population size for the finite-population correction.
    deff : float
        Anticipated design effect (1 for simple random sampling).

    Returns
    -------
    SampleSize

    Notes
    -----
    n₀ = z² p(1−p) deff / e²; with a finite population n = n₀ / (1 + (n₀ − 1)/N),
    equivalently N z² pq / ((N − 1) e² + z² pq) (Cochran 1977, eq. 4.2-4.3).  The
    result is rounded up.

    Examples
    --------
    >>> s = sample_size_proportion(0.5, 0.05, N=656)
    >>> round(s.n0, 2), s.n
    (384.15, 243)
    """
    p = _check_p(p)
    if not 0 < margin < 1:
        raise MethodError(f"margin={margin!r} must be between 0 and 1 (e.g. 0.05 for ±5 points).")
    if not deff > 0:
        raise MethodError(f"deff={deff!r} must be positive.")
    Nf = _check_N(N)
    z = _z(level)
    n0 = z * z * p * (1 - p) * deff / (margin * margin)
    n_exact = n0 if Nf is None else n0 / (1 + (n0 - 1) / Nf)
    n = math.ceil(n_exact - 1e-9)
    if Nf is not None:
        n = min(n, int(Nf))
    return SampleSize(max(n, 1), n_exact, n0, p, margin, level, Nf, deff)


def expected_half_width(
    n: int, p: float = 0.5, *, level: float = 0.95, N: float | None = None, deff: float = 1.0
) -> float:
    """Expected half-width of a Wald interval for a proportion with *n* respondents.

    e = z √(deff · p(1−p)/n · (N − n)/(N − 1)), the inverse of :func:`sample_size_proportion`.

    Examples
    --------
    >>> round(expected_half_width(243, 0.5, N=656), 4)
    0.0499
    """
    p = _check_p(p)
    Nf = _check_N(N)
    if n < 1 or (Nf is not None and n > Nf):
        raise MethodError(f"n={n!r} must be between 1 and N.")
    fpc = 1.0 if Nf is None or Nf <= 1 else (Nf - n) / (Nf - 1)
    return _z(level) * math.sqrt(deff * p * (1 - p) / n * fpc)


def minimum_detectable_difference(
    n: int,
    p: float,
    *,
    level: float = 0.95,
    power: float = 0.8,
    N: float | None = None,
    deff: float = 1.0,
    alternative: Literal["one-sided", "two-sided"] = "one-sided",
) -> float:
    """Smallest true departure from *p* that a sample of *n* detects with the given power.

    MDD = (z_{1−α(/2)} + z_{power}) √(deff · p(1−p)/n · (N − n)/(N − 1)) (normal approximation).

    Examples
    --------
    >>> round(minimum_detectable_difference(150, 0.03, N=400), 4)
    0.0274
    """
    check_option(alternative, "alternative", ("one-sided", "two-sided"))
    p = _check_p(p)
    Nf = _check_N(N)
    if not 0 < power < 1:
        raise MethodError(f"power={power!r} must be between 0 and 1.")
    alpha = 1 - check_level(level)
    za = stats.norm.ppf(1 - alpha / 2) if alternative == "two-sided" else stats.norm.ppf(1 - alpha)
    zb = stats.norm.ppf(power)
    fpc = 1.0 if Nf is None or Nf <= 1 else (Nf - n) / (Nf - 1)
    return float((za + zb) * math.sqrt(deff * p * (1 - p) / n * fpc))


@dataclass(frozen=True)
class DecisionSampleSize:
    """Result of :func:`decision_sample_size`.

    Attributes
    ----------
    n : int or None
        Smallest n whose probability of a ``meets`` verdict reaches *power* (None: not
        reachable up to ``max_n``).
    n_stable : int or None
        Smallest n from which the probability stays at or above *power* for every
        larger n examined (exact power saw-tooths in n).
    power : float
        Probability of ``meets`` at ``n``.
    curve : DataFrame
        ``n, power`` for every n examined.
    """

    n: int | None
    n_stable: int | None
    power: float
    p_true: float
    reference: float
    direction: str
    level: float
    N: float | None
    curve: pd.DataFrame = field(repr=False)


def decision_sample_size(
    p_true: float,
    reference: float,
    *,
    direction: Literal["le", "ge"] = "le",
    power: float = 0.8,
    level: float = 0.95,
    N: int | None = None,
    max_n: int | None = None,
) -> DecisionSampleSize:
    """Sample size for a statistically qualified verdict against a reference value.

    How many households must be surveyed so that, if the true rate is *p_true*, the
    confidence interval lands wholly on the right side of *reference* — upper bound
    ≤ reference for a "≤" indicator such as 漏退率 ≤ 3%, lower bound ≥ reference for
    "≥" — with probability *power*?

    Parameters
    ----------
    p_true : float
        The rate believed true (e.g. 0.01).
    reference : float
        The indicator's reference value (e.g. 0.03).
    direction : {"le", "ge"}
        ``"le"``: the indicator meets when its rate is at most the reference.
    power : float
        Required probability of a ``meets`` verdict.
    level : float
        Confidence level of the two-sided interval.
    N : int, optional
        Population size: the count of events in a simple random sample without
        replacement is then hypergeometric with round(p_true·N) events in the
        population, and the interval is the exact hypergeometric one.  Without N the
        count is binomial and the interval Clopper-Pearson.
    max_n : int, optional
        Examine every n up to this.  By default the search runs up to N (or 20 000)
        and stops early once the power has stayed above target for a fifth of n
        (at least 50 consecutive sizes).

    Returns
    -------
    DecisionSampleSize

    Notes
    -----
    Exact test-inversion duality: the upper bound of the exact interval at x events
    is ≤ r exactly when P(X ≤ x | rate r) ≤ α/2 (for the hypergeometric case, with
    ⌊rN⌋ + 1 events in the population).  So for each n the verdict ``meets`` happens
    for X ≤ x*(n), and its probability is P(X ≤ x* | p_true).  Exact power is not
    monotone in n; ``n_stable`` gives the size from which it never drops below the
    target again.  For a design other than simple random sampling, multiply n by the
    anticipated design effect.

    Examples
    --------
    >>> r = decision_sample_size(0.01, 0.03, power=0.8)      # large population
    >>> r.n, r.n_stable, round(r.power, 3)
    (386, 478, 0.807)
    >>> decision_sample_size(0.01, 0.03, N=256).n          # 256 unexited households
    193
    """
    check_option(direction, "direction", ("le", "ge"))
    p_true = _check_p(p_true, "p_true")
    reference = _check_p(reference, "reference")
    if not 0 < power < 1:
        raise MethodError(f"power={power!r} must be between 0 and 1.")
    alpha = 1 - check_level(level)
    if direction == "le" and not p_true < reference:
        raise MethodError(f"a '≤' indicator can only be shown to meet {reference} if p_true < reference.")
    if direction == "ge" and not p_true > reference:
        raise MethodError(f"a '≥' indicator can only be shown to meet {reference} if p_true > reference.")
    Nf = None if N is None else int(_check_N(N))  # type: ignore[arg-type]
    top = max_n or (Nf if Nf is not None else 20_000)
    if Nf is not None:
        top = min(top, Nf)
    # sizes in doubling blocks, all sizes of a block at once; stop once power has held for a long
    # stretch (a fifth of n, at least 50 sizes) unless max_n asks for every size
    powers, start = np.empty(0), 1
    while start <= top:
        end = min(top, max(2 * start, 256))
        powers = np.concatenate([powers, _decision_powers(np.arange(start, end + 1), p_true, reference,
                                                          direction, alpha / 2, Nf)])
        if max_n is None and _stop_at(powers >= power) < len(powers):
            break
        start = end + 1
    if max_n is None:
        powers = powers[:_stop_at(powers >= power)]
    ns = np.arange(1, len(powers) + 1)
    reach = powers >= power
    n_first = int(ns[np.argmax(reach)]) if reach.any() else None
    if reach.any() and reach[-1]:
        last_bad = np.flatnonzero(~reach)
        n_stable = int(ns[last_bad[-1] + 1]) if len(last_bad) else int(ns[0])
    else:
        n_stable = None
    pw = float(powers[n_first - 1]) if n_first else float(powers.max())
    curve = pd.DataFrame({"n": ns, "power": powers})
    return DecisionSampleSize(n_first, n_stable, pw, p_true, reference, direction, 1 - alpha, Nf, curve)


def _stop_at(reach: np.ndarray) -> int:
    """Number of sizes examined: up to the first n at which ``reach`` has held for max(50, n // 5) sizes."""
    idx = np.arange(len(reach))
    run = idx - np.maximum.accumulate(np.where(reach, -1, idx))  # consecutive sizes at or above the target
    n = idx + 1
    done = np.flatnonzero(run >= np.maximum(50, n // 5))
    return int(done[0]) + 1 if len(done) else len(reach)


def _decision_powers(n: np.ndarray, p_true: float, reference: float, direction: str, tail: float,
                     N: int | None) -> np.ndarray:
    """P(``meets``) for every sample size in *n*, all sizes at once.

    For "le" the verdict is ``meets`` when X ≤ x*(n), x* the largest count whose lower-tail
    probability at the reference is ≤ *tail*; for "ge" when X ≥ x*(n), x* the smallest count
    whose upper-tail probability is ≤ *tail*.  x* is the distribution's quantile (``ppf``),
    checked on its neighbours because ``ppf`` may be off by one in floating point; a size
    whose neighbours do not bracket the switch is searched over every count, as by definition.
    """
    if N is None:
        dist, at_ref, at_true = stats.binom, (reference,), (p_true,)
    else:
        edge = math.floor(reference * N) + 1 if direction == "le" else math.ceil(reference * N) - 1
        if not 0 <= edge <= N:
            return np.zeros(len(n))
        dist, at_ref, at_true = stats.hypergeom, (N, edge), (N, int(round(p_true * N)))

    def args(base: tuple, size: np.ndarray) -> tuple:
        return (*base, size) if N is not None else (size, *base)

    def ok(x: np.ndarray, size: np.ndarray) -> np.ndarray:  # the count x gives ``meets`` at this size
        if direction == "le":
            return dist.cdf(x, *args(at_ref, size)) <= tail
        return dist.sf(x - 1, *args(at_ref, size)) <= tail

    q = dist.ppf(tail if direction == "le" else 1 - tail, *args(at_ref, n))
    k = np.nan_to_num(q, nan=0).astype(np.int64) + (direction == "ge")
    window = np.clip(k[:, None] + np.arange(-2, 3)[None, :], 0, n[:, None])
    good = ok(window, n[:, None])
    if direction == "le":  # true up to x*, false after
        x = np.where(good, window, -1).max(axis=1)
        sure = (good[:, 0] | (window[:, 0] == 0)) & (~good[:, -1] | (window[:, -1] == n))
    else:  # false below x*, true from it
        x = np.where(good, window, (n + 1)[:, None]).min(axis=1)
        sure = (~good[:, 0] | (window[:, 0] == 0)) & (good[:, -1] | (window[:, -1] == n))
    for i in np.flatnonzero(~sure):  # rare: search every count of this size, as by definition
        xs = np.arange(n[i] + 1)
        hits = xs[ok(xs, n[i])]
        x[i] = (hits[-1] if direction == "le" else hits[0]) if len(hits) else (-1 if direction == "le" else n[i] + 1)
    found = (x >= 0) if direction == "le" else (x <= n)
    xx = np.where(found, x, 0)
    pw = dist.cdf(xx, *args(at_true, n)) if direction == "le" else dist.sf(xx - 1, *args(at_true, n))
    return np.where(found, pw, 0.0)

