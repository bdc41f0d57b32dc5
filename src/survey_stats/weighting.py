"""Weighting: nonresponse adjustment, post-stratification, raking and calibration.

Each function returns a new :class:`~survey_stats.Design` with adjusted weights that
*remembers how it was adjusted*, so standard errors stay right: for a Taylor design
the linearised values are replaced by residuals from the calibration model before
the variance is computed (Deville & Särndal 1992; Särndal, Swensson & Wretman 1992,
§6.5; R ``survey``'s ``postStratify``/``rake``/``calibrate``, which store the same
information in ``design$postStrata``).  For a replicate-weight design every
replicate is adjusted the same way, and the replicate variance carries the effect.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ._lazy import LazyModule
from ._validation import check_option, describe_rows, describe_values, parse_flags, real_number, renamed
from .design import Design
from .errors import DataError, EstimationError, MethodError, SurveyStatsWarning

special = LazyModule("scipy.special")

__all__ = ["CalibrationStep", "calibrate", "nonresponse_adjust", "poststratify", "rake"]

CalFun = Literal["linear", "raking", "logit"]


@dataclass(frozen=True, eq=False)
class CalibrationStep:
    """What a calibration did, kept so that variances use calibration residuals.

    ``X`` is the model matrix, ``w_before`` the weights before the step and ``g`` the
    adjustment factors (weights after = ``g · w_before``).  The variance of any
    estimator then uses residuals of the linearised values from the weighted
    regression on ``X`` (R: ``qr.resid(qr(X √w), z / (g √w)) · g √w``).
    """

    name: str
    X: np.ndarray
    w_before: np.ndarray
    g: np.ndarray

    def residualize(self, z: np.ndarray) -> np.ndarray:
        sw = np.sqrt(self.w_before)
        M = self.X * sw[:, None]
        s = z / (self.g * sw)[:, None]
        beta, *_ = np.linalg.lstsq(M, s, rcond=None)
        return (s - M @ beta) * (self.g * sw)[:, None]


# ---------------------------------------------------------------------------------------
def _model_matrix(design: Design, spec: Mapping[str, object]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Columns and population totals from {column: total (numeric) | {level: count} (categorical)}.

    ``"(Intercept)"`` (or ``"_total"``) sets the population size.
    """
    cols: list[np.ndarray] = []
    totals: list[float] = []
    names: list[str] = []
    n = design.n
    has_intercept = any(k in ("(Intercept)", "_total") for k in spec)
    for key, target in spec.items():
        if key in ("(Intercept)", "_total"):
            cols.append(np.ones(n))
            totals.append(real_number(target, "population size (Intercept)", minimum=0.0))
            names.append("(Intercept)")
            continue
        s = design.column(key)
        if s.isna().any():
            raise DataError(f"calibration variable {key!r} has missing values in "
                            f"{describe_rows(design._data.index, s.isna().to_numpy())}; impute or drop them first.")
        if isinstance(target, Mapping) or isinstance(target, pd.Series):
            t = _counts(target, f"margin {key!r}")
            observed = set(pd.unique(s))
            missing = [lv for lv in observed if lv not in t.index]
            # with an intercept one category may be left out (R's treatment coding)
            if missing and not (has_intercept and len(missing) == 1):
                raise DataError(f"margin {key!r} has no population count for category/ies {describe_values(missing)} "
                                f"found in the data; give a count for every category.")
            empty = [lv for lv in t.index if lv not in observed]
            if empty:
                raise DataError(f"margin {key!r}: category/ies {describe_values(empty)} have a population count but "
                                "no respondents; collapse them with a neighbouring category.")
            for lv, cnt in t.items():
                cols.append((s == lv).to_numpy(dtype=float))
                totals.append(float(cnt))
                names.append(f"{key}={lv}")
        else:
            v = pd.to_numeric(s, errors="coerce")
            if v.isna().any():
                raise DataError(f"calibration variable {key!r} is not numeric; give category counts as a mapping.")
            x = v.to_numpy(dtype=float, na_value=np.nan)
            if not np.isfinite(x).all():
                raise DataError(f"calibration variable {key!r} is infinite in "
                                f"{describe_rows(design._data.index, ~np.isfinite(x))}.")
            cols.append(x)
            totals.append(_total(target, f"population total of {key!r}"))
            names.append(key)
    return np.column_stack(cols), np.asarray(totals), names


def _check_margin_totals(spec: Mapping[str, object], what: str) -> None:
    sums = {k: float(_counts(v, f"margin {k!r}").sum()) for k, v in spec.items()  # type: ignore[arg-type]
            if isinstance(v, (Mapping, pd.Series))}
    if len(set(round(x, 6) for x in sums.values())) > 1:
        listed = ", ".join(f"{k}: {v:g}" for k, v in sums.items())
        raise DataError(f"{what} margins add up to different population sizes ({listed}); they must agree.")


def _finish(design: Design, w_new: np.ndarray, X: np.ndarray, name: str,
            rep_fn=None) -> Design:  # type: ignore[no-untyped-def]
    g = w_new / design._w
    if design._rep is not None:
        rep = design._rep.with_weights(rep_fn(design._rep.weights))
        return design._derive(weights=w_new, rep=rep)
    return design._derive(weights=w_new, cal=CalibrationStep(name, X, np.array(design._w), g))


def poststratify(design: Design, by: str | Sequence[str], population: Mapping[Hashable, float] | pd.Series) -> Design:
    """Post-stratify: scale weights so each post-stratum's weight sum equals its population count.

    Parameters
    ----------
    design : Design
    by : str or list of str
        Post-stratum column(s); several are crossed (keys are then tuples).
    population : mapping or Series
        Population count per post-stratum.

    Returns
    -------
    Design
        Weights wᵢ · N_g / N̂_g; variances from residuals yᵢ − ȳ_g (R ``postStratify``).

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.apiclus1_design()
    >>> p = ss.poststratify(d, "stype", {"E": 4421, "H": 755, "M": 1018})
    >>> m = ss.mean(p, "api00")
    >>> round(m.estimate, 4), round(m.se, 4)       # R: postStratify(dclus1, ~stype, pop.types)
    (642.3108, 23.9205)
    """
    cols = [by] if isinstance(by, str) else list(by) if isinstance(by, (list, tuple)) else []
    if not cols or not all(isinstance(c, str) for c in cols):
        raise DataError(f"by={by!r}: give a post-stratum column name or a list of them.")
    keys = pd.MultiIndex.from_frame(pd.DataFrame({c: design.column(c).to_numpy() for c in cols})) \
        if len(cols) > 1 else pd.Index(design.column(cols[0]).to_numpy())
    if pd.isna(keys.to_frame().to_numpy()).any() if len(cols) > 1 else keys.isna().any():
        raise DataError(f"post-stratum column(s) {describe_values(cols)} have missing values.")
    if not isinstance(population, (Mapping, pd.Series)):
        raise DataError(f"population must be a mapping or Series of counts per post-stratum, got "
                        f"{type(population).__name__}.")
    pop = pd.Series(dict(population)) if isinstance(population, Mapping) else population.copy()
    codes, uniques = pd.factorize(keys)
    uniq = list(uniques)
    missing = [u for u in uniq if u not in pop.index]
    if missing:
        raise DataError(f"no population count for post-stratum/strata {describe_values(missing)}.")
    empty = [k for k in pop.index if k not in set(uniq)]
    if empty:
        raise DataError(f"post-stratum/strata {describe_values(empty)} have a population count but no respondents; "
                        "collapse them with neighbouring post-strata.")
    N_g = _counts(pop.reindex(uniq), "post-stratification").to_numpy()
    X = np.zeros((design.n, len(uniq)))
    X[np.arange(design.n), codes] = 1.0

    def adjust(W: np.ndarray) -> np.ndarray:
        if W.ndim == 1:
            return W * (N_g / np.bincount(codes, weights=W, minlength=len(uniq)))[codes]
        sums = np.zeros((len(uniq), W.shape[1]))
        np.add.at(sums, codes, W)
        return W * (N_g[:, None] / sums)[codes]

    return _finish(design, adjust(design._w), X, f"poststratify({', '.join(cols)})", adjust)


RakeMethod = Literal["calibrate", "rake"]


def rake(
    design: Design,
    margins: Mapping[str, Mapping[Hashable, float] | pd.Series],
    *,
    method: RakeMethod = "calibrate",
    maxit: int | None = None,
    epsilon: float | None = None,
) -> Design:
    """Rake (iterative proportional fitting) to known population margins.

    Parameters
    ----------
    design : Design
    margins : mapping column → {category: population count}
        All margins must add up to the same population size.
    method : {"calibrate", "rake"}
        What the result equals in R (they differ when base weights vary within a
        margin's categories, e.g. a stratified design raked on a variable that cuts
        across strata):

        * ``"calibrate"`` (default) = R ``calibrate(d, ~a + b, pop, calfun = "raking")``:
          sweeps until every weighted margin is within ``epsilon`` (relative, default
          1e-10) of its target, an :class:`EstimationError` after ``maxit`` (default
          100) sweeps; variances from the residuals of the weighted regression on all
          margins' indicators (the converged raking estimator is the calibration
          estimator with the raking distance; Deville & Särndal 1992).
        * ``"rake"`` = R ``rake(d, list(~a, ~b), list(pop_a, pop_b), control)``: R's
          iterative post-stratification with R's control defaults ``maxit = 10,
          epsilon = 1``.  After each sweep R compares the weighted cross-table of all
          margin variables with the previous sweep's and stops when no cell moved by
          ``epsilon`` or more (absolute; an ``epsilon`` below 1 is taken relative to the
          sum of the weights before raking) — so the default stops before the margins
          are met (apistrat by stype and sch.wide: the first margin 4e-5 relative off).  Not stopping within ``maxit`` sweeps warns, as
          R does.  Variances follow R's ``svyrecvar`` for raked designs: the linearised
          values are taken through 10 rounds of "subtract, within each margin category,
          the final weight times the unweighted mean of value/weight".  survey ≥ 4.5
          compares each margin's table instead of the cross-table; the stopping sweep,
          and so the numbers, can differ from survey ≤ 4.4 when ``epsilon`` is loose.

        On a replicate design every replicate is raked too (``"calibrate"``: each to
        convergence; ``"rake"``: the same number of sweeps as the full sample, as R's
        ``rake`` does) and the replicate variance carries the effect.
    maxit : int, optional
        Maximum number of sweeps over the margins (default 100, or R's 10 for ``"rake"``).
    epsilon : float, optional
        Stopping tolerance (default 1e-10 relative, or R's absolute 1 for ``"rake"``).

    Returns
    -------
    Design
        Raked weights, remembering what the variance needs.

    Raises
    ------
    DataError
        Categories without a count or without respondents; margins with different totals.
    EstimationError
        ``method="calibrate"``: no convergence within ``maxit`` sweeps.

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.apiclus1_design()
    >>> m = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}
    >>> round(ss.mean(ss.rake(d, m), "api00").se, 4)   # R: calibrate(dclus1, ~stype + sch.wide, pop, calfun = "raking")
    23.7036
    >>> s = ss.datasets.apistrat_design()
    >>> round(ss.total(ss.rake(s, m, method="rake"), "enroll").se, 2)   # R: rake(dstrat, list(~stype, ~sch.wide), ...)
    115905.31
    """
    check_option(method, "method", ("calibrate", "rake"))
    maxit = (10 if method == "rake" else 100) if maxit is None else maxit
    epsilon = (1.0 if method == "rake" else 1e-10) if epsilon is None else epsilon
    _check_iteration(maxit, epsilon)
    if not margins:
        raise DataError("rake needs at least one margin.")
    _check_margin_totals(margins, "rake")
    X, targets, names = _model_matrix(design, dict(margins))
    blocks = []
    start = 0
    for key, t in margins.items():
        k = len(dict(t))
        blocks.append(slice(start, start + k))
        start += k
    codes = [np.argmax(X[:, b], axis=1) for b in blocks]
    if method == "rake":
        return _rake_r(design, [targets[b] for b in blocks], codes, maxit, epsilon, f"rake[R]({', '.join(margins)})")

    def ipf(W: np.ndarray) -> np.ndarray:
        W = np.array(W, dtype=float)
        two = W.ndim == 2
        Wm = W if two else W[:, None]
        for it in range(maxit):
            worst = 0.0
            for b, c in zip(blocks, codes):
                tgt = targets[b]
                cur = np.zeros((len(tgt), Wm.shape[1]))
                np.add.at(cur, c, Wm)
                Wm *= (tgt[:, None] / cur)[c]
            for b, c in zip(blocks, codes):
                cur = np.zeros((len(targets[b]), Wm.shape[1]))
                np.add.at(cur, c, Wm)
                worst = max(worst, float(np.max(np.abs(cur - targets[b][:, None]) / targets[b][:, None])))
            if worst < epsilon:
                return Wm if two else Wm[:, 0]
        raise EstimationError(
            f"raking did not converge in {maxit} sweeps (largest relative margin error {worst:.2g}); "
            "check for empty or nearly empty category combinations, or raise maxit."
        )

    return _finish(design, ipf(design._w), X, f"rake({', '.join(margins)})", ipf)


@dataclass(frozen=True, eq=False)
class _RakingStep:
    """What R's ``rake()`` leaves for the variance: each margin's categories and weights.

    ``weights[m]`` are the weights right after margin ``m`` was post-stratified in the
    last sweep.  R's ``svyrecvar`` takes the linearised values z through 10 rounds of
    z ← z − wₘ · mean_g(z / wₘ) over the margins m, the mean taken without weights
    within each category g of margin m (``apply(x/psw, 2, ave, margin)``).
    """

    name: str
    codes: tuple[np.ndarray, ...]
    weights: tuple[np.ndarray, ...]

    def residualize(self, z: np.ndarray) -> np.ndarray:
        z = np.array(z, dtype=float)
        counts = [np.bincount(c) for c in self.codes]
        for _ in range(10):  # R's fixed number of rounds
            for c, n, psw in zip(self.codes, counts, self.weights):
                u = z / psw[:, None]
                sums = np.zeros((len(n), z.shape[1]))
                np.add.at(sums, c, u)
                z = z - psw[:, None] * (sums / n[:, None])[c]
        return z


def _poststratify_columns(W: np.ndarray, codes: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Each column of W post-stratified to ``target`` counts (R ``postStratify``)."""
    sums = np.zeros((len(target), W.shape[1]))
    np.add.at(sums, codes, W)
    return W * (target[:, None] / sums)[codes]


def _rake_r(design: Design, targets: list[np.ndarray], codes: list[np.ndarray], maxit: int, epsilon: float,
            name: str) -> Design:
    """R ``rake()``: sweeps of post-stratification, R's stopping rule and its variance step."""
    w = np.array(design._w, dtype=float)[:, None]
    tol = epsilon * float(w.sum()) if epsilon < 1 else epsilon
    cell = np.unique(np.column_stack(codes), axis=0, return_inverse=True)[1].ravel()
    old = np.bincount(cell, weights=w[:, 0])
    sweeps, converged, after = 0, False, []
    while sweeps < maxit:
        after = []
        for c, t in zip(codes, targets):
            w = _poststratify_columns(w, c, t)
            after.append(w[:, 0].copy())
        new = np.bincount(cell, weights=w[:, 0])
        sweeps += 1
        if np.max(np.abs(old - new)) < tol:
            converged = True
            break
        old = new
    if not converged:
        warnings.warn(f"raking did not converge after {maxit} sweeps (as R's rake() warns); the margins are not "
                      "met: raise maxit or use method='calibrate'.", SurveyStatsWarning, stacklevel=3)
    if design._rep is not None:
        W = np.array(design._rep.weights, dtype=float)
        for _ in range(sweeps):
            for c, t in zip(codes, targets):
                W = _poststratify_columns(W, c, t)
        return design._derive(weights=w[:, 0], rep=design._rep.with_weights(W))
    step = _RakingStep(name, tuple(codes), tuple(after))
    return design._derive(weights=w[:, 0], cal=step)


def _check_iteration(maxit: int, epsilon: float) -> None:
    if isinstance(maxit, bool) or not isinstance(maxit, (int, np.integer)) or maxit < 1:
        raise DataError(f"maxit={maxit!r}: give a whole number ≥ 1.")
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 < epsilon < math.inf:
        raise DataError(f"epsilon={epsilon!r}: give a tolerance > 0.")


def _calfun(name: str, bounds: tuple[float, float]):  # type: ignore[no-untyped-def]
    lo, hi = bounds
    if name == "linear":
        def F(u):  # type: ignore[no-untyped-def]
            return np.clip(1 + u, lo, hi)

        def dF(u):  # type: ignore[no-untyped-def]
            return ((1 + u > lo) & (1 + u < hi)).astype(float)
    elif name == "raking":
        def F(u):  # type: ignore[no-untyped-def]
            return np.clip(np.exp(u), lo, hi)

        def dF(u):  # type: ignore[no-untyped-def]
            e = np.exp(u)
            return np.where((e > lo) & (e < hi), e, 0.0)
    else:  # logit (Deville & Särndal 1992, case 6), needs lo < 1 < hi finite
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < 1 < hi):
            raise DataError("calfun='logit' needs finite bounds with lower < 1 < upper, e.g. bounds=(0.5, 2).")
        A = (hi - lo) / ((1 - lo) * (hi - 1))
        shift = math.log((1 - lo) / (hi - 1))

        # F = lo + (hi − lo)·s with s = expit(A u + log((1−lo)/(hi−1))): the same as
        # (lo(hi−1) + hi(1−lo)e^{Au}) / ((hi−1) + (1−lo)e^{Au}), without overflow
        def F(u):  # type: ignore[no-untyped-def]
            return lo + (hi - lo) * special.expit(A * u + shift)

        def dF(u):  # type: ignore[no-untyped-def]
            sv = special.expit(A * u + shift)
            return (hi - lo) * A * sv * (1 - sv)
    return F, dF


def calibrate(
    design: Design,
    totals: Mapping[str, float | Mapping[Hashable, float]],
    *,
    calfun: CalFun = "linear",
    bounds: tuple[float, float] = (-math.inf, math.inf),
    maxit: int = 50,
    epsilon: float = 1e-7,
    trim: tuple[float, float] | None = None,
) -> Design:
    """Calibrate weights to known population totals (GREG and generalised raking).

    Parameters
    ----------
    design : Design
    totals : mapping
        ``"(Intercept)"`` → population size; a numeric column → its population total;
        a categorical column → {category: count} for every category, or for all but
        one when an intercept is given (R's ``model.matrix`` coding, e.g.
        ``{"(Intercept)": 6194, "stype": {"H": 755, "M": 1018}}``).
    calfun : {"linear", "raking", "logit"}
        Distance: linear (GREG, g = 1 + xᵀλ), raking (g = exp(xᵀλ)), or logit
        (bounded between ``bounds``) — Deville & Särndal (1992); R ``calibrate(calfun=)``.
    bounds : (lower, upper)
        Bounds on the g-factors (truncated linear / raking, or the logit range).
    maxit, epsilon : int, float
        Newton iterations and convergence tolerance on the totals (relative).
    trim : (lower, upper), optional
        Trim g-factors to this range after calibration and spread the trimmed weight
        over the untrimmed units (R ``trim=``); totals then hold only approximately.

    Returns
    -------
    Design

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.apistrat_design()
    >>> c = ss.calibrate(d, {"(Intercept)": 6194, "api99": 3914069})
    >>> m = ss.mean(c, "api00")
    >>> round(m.estimate, 4), round(m.se, 5)       # R: calibrate(dstrat, ~api99, population=...)
    (664.644, 1.90304)
    """
    check_option(calfun, "calfun", ("linear", "raking", "logit"))
    _check_iteration(maxit, epsilon)
    if not (isinstance(bounds, tuple) and len(bounds) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) and not math.isnan(b) for b in bounds)
            and bounds[0] < bounds[1]):
        raise DataError(f"bounds={bounds!r}: give (lower, upper) with lower < upper.")
    if trim is not None and not (isinstance(trim, tuple) and len(trim) == 2 and 0 <= trim[0] < trim[1]):
        raise DataError(f"trim={trim!r}: give (lower, upper) g-factor limits with 0 ≤ lower < upper.")
    if not totals:
        raise DataError("calibrate needs at least one total.")
    X, T, names = _model_matrix(design, dict(totals))
    F, dF = _calfun(calfun, bounds)

    def solve(w: np.ndarray) -> np.ndarray:
        lam = np.zeros(X.shape[1])
        for _ in range(maxit):
            u = X @ lam
            g = F(u)
            est = X.T @ (w * g)
            err = T - est
            if np.max(np.abs(err) / np.maximum(np.abs(T), 1e-12)) < epsilon:
                return g
            H = (X * (w * dF(u))[:, None]).T @ X
            step, *_ = np.linalg.lstsq(H, err, rcond=None)
            lam = lam + step
        raise EstimationError(
            f"calibration ({calfun}) did not converge in {maxit} iterations; the totals may be unreachable "
            f"within bounds {bounds} — widen the bounds or check the totals ({describe_values(names)})."
        )

    def adjust(W: np.ndarray) -> np.ndarray:
        if W.ndim == 1:
            g = solve(W)
            if trim is not None:
                g = _trim(g, W, trim)
            return W * g
        return np.column_stack([adjust(W[:, j]) for j in range(W.shape[1])])

    return _finish(design, adjust(design._w), X, f"calibrate[{calfun}]({', '.join(names)})", adjust)


def _trim(g: np.ndarray, w: np.ndarray, trim: tuple[float, float]) -> np.ndarray:
    lo, hi = trim
    gnew = np.clip(g, lo, hi)
    outside = (g < lo) | (g > hi)
    if outside.any():
        spill = float(((g - gnew) * w).sum())
        gnew[~outside] += spill / float(w[~outside].sum())
        warnings.warn(f"{int(outside.sum())} weights were trimmed to g in [{lo}, {hi}].", SurveyStatsWarning, stacklevel=3)
    return gnew


def _positive_weights(s: pd.Series, name: str) -> np.ndarray:
    """A base-weight column: numeric, finite and > 0 in every row."""
    w = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        raise DataError(f"weight column {name!r} must hold finite numbers > 0, but {describe_rows(s.index, bad)} "
                        f"hold {describe_values(pd.unique(s[bad]))}.")
    return w


def _counts(values: Mapping[Hashable, object] | pd.Series, what: str) -> pd.Series:
    """Population counts or totals given per category: finite numbers > 0."""
    t = pd.Series(dict(values)) if isinstance(values, Mapping) else values
    num = pd.to_numeric(t, errors="coerce")
    bad = [k for k, v in num.items() if not (np.isfinite(v) and v > 0)]
    if bad:
        raise DataError(f"{what}: the count(s) for {describe_values(bad)} are not finite numbers > 0 "
                        f"(got {describe_values([t[k] for k in bad])}).")
    return num.astype(float)


def _total(value: object, what: str) -> float:
    """A population total for a numeric calibration variable (or the population size)."""
    return real_number(value, what)


def nonresponse_adjust(
    data: pd.DataFrame,
    *,
    weights: str | None = None,
    respondent: str,
    eligible: str | None = None,
    classes: str | Sequence[str] | None = None,
    extreme: float = 2.0,
    weight: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Redistribute the weight of eligible nonrespondents to respondents within weighting classes.

    Parameters
    ----------
    data : DataFrame
        Every sampled unit: respondents, eligible nonrespondents, and ineligibles.
    weights : str
        Design (base) weight column (required).
    respondent : str
        Yes/no flag: the unit responded.  Booleans, 1/0, true/false, yes/no, y/n and
        是/否 are read by that explicit mapping; anything else (or a missing value) is
        an error, so ``"0"`` or ``"no"`` never counts as a response.
    eligible : str, optional
        Yes/no flag (read as ``respondent``): the unit belongs to the target population (ineligibles keep no weight
        and take none).  Unknown eligibility is not modelled: code it first.
    classes : str or list of str, optional
        Weighting-class column(s), e.g. county × status.
    extreme : float
        Warn when a class's adjustment factor exceeds this (weights inflated too much).
    weight : str, optional
        Deprecated name of ``weights`` (warns; removed in the next release).

    Returns
    -------
    (DataFrame, DataFrame)
        The respondents with a new column ``nr_weight`` = base weight × factor of their
        class, factor = Σ eligible weights / Σ respondent weights; and a report per
        class (eligible, respondents, weights, factor, response rate).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"w": [10.0] * 7, "resp": [1, 1, 0, 0, 1, 1, 0], "g": list("aaaabbb")})
    >>> out, rep = nonresponse_adjust(df, weights="w", respondent="resp", classes="g")
    >>> out["nr_weight"].tolist(), rep["factor"].tolist()
    ([20.0, 20.0, 15.0, 15.0], [2.0, 1.5])
    """
    weights = renamed("nonresponse_adjust", "weight", weight, "weights", weights)
    if not isinstance(weights, str):
        raise MethodError(f"weights={weights!r}: give the name of the design (base) weight column.")
    cols = [] if classes is None else [classes] if isinstance(classes, str) else \
        list(classes) if isinstance(classes, (list, tuple)) else [None]
    if not all(isinstance(c, str) for c in cols):
        raise DataError(f"classes={classes!r}: give a column name or a list of column names.")
    need = [weights, respondent] + ([eligible] if eligible else []) + cols
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise DataError(f"column(s) {describe_values(missing)} not in the data.")
    df = data.copy()
    for c in need:
        if df[c].isna().any():
            raise DataError(f"column {c!r} has missing values in {describe_rows(df.index, df[c].isna().to_numpy())}.")
    resp = parse_flags(df[respondent], respondent)
    elig = parse_flags(df[eligible], eligible) if eligible else np.ones(len(df), dtype=bool)
    if (resp & ~elig).any():
        raise DataError(f"{describe_rows(df.index, resp & ~elig)} are respondents but ineligible; fix the coding.")
    key = df[cols].astype(str).agg(" / ".join, axis=1) if cols else pd.Series("(all)", index=df.index)
    w = _positive_weights(df[weights], weights)
    g = pd.DataFrame({"class": key.to_numpy(), "w_elig": np.where(elig, w, 0.0), "w_resp": np.where(resp, w, 0.0),
                      "eligible": elig.astype(int), "respondents": resp.astype(int)})
    rep = g.groupby("class", sort=True).sum()
    empty = rep.index[(rep["respondents"] == 0) & (rep["eligible"] > 0)]
    if len(empty):
        raise DataError(f"weighting class(es) {describe_values(list(empty))} have eligible units but no respondents; "
                        "collapse them with a similar class.")
    rep["factor"] = rep["w_elig"] / rep["w_resp"].where(rep["w_resp"] > 0)
    rep["response_rate"] = rep["respondents"] / rep["eligible"].where(rep["eligible"] > 0)
    big = rep.index[rep["factor"] > extreme]
    if len(big):
        warnings.warn(f"nonresponse adjustment factor above {extreme} in class(es) {describe_values(list(big))}; "
                      "consider collapsing classes.", SurveyStatsWarning, stacklevel=2)
    out = df.loc[resp].copy()
    out["nr_weight"] = w[resp] * key[resp].map(rep["factor"]).to_numpy(dtype=float)
    return out, rep.reset_index()
