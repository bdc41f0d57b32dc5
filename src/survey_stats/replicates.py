"""Replicate-weight variance: jackknife (JK1, JKn), bootstrap (Rao-Wu), BRR and Fay.

A replicate design is a :class:`~survey_stats.Design` that also carries R replicate
weight columns.  Every estimator computes the statistic once with the full weights
and once per replicate — all replicates in one matrix product (rows × replicates) —
and the variance is

    V = scale · Σ_r rscales_r (θ̂_r − θ̄)(θ̂_r − θ̄)ᵀ,

with θ̄ the mean of the replicates (or θ̂ itself when ``mse=True``), as R's
``svrVar``.  Composites and scores use the resulting covariance unchanged.

Conventions (R ``svrepdesign``/``as.svrepdesign``):

========  ============================================  ==============================
type      replicate r                                   scale, rscales
========  ============================================  ==============================
JK1       drop PSU r, others × n/(n−1) (unstratified)   (n−1)/n · (1−f); 1
JKn       drop PSU r of stratum h, rest of h × n_h/(n_h−1)  1; (n_h−1)/n_h · (1−f_h)
bootstrap Rao-Wu: n_h − 1 PSUs drawn with replacement    1/(R−1); 1
          per stratum, weights × n_h/(n_h−1) × count
BRR       Hadamard half-samples, 2 PSUs per stratum     1/R; 1
Fay       as BRR with factors 2−ρ and ρ                 1/(R(1−ρ)²); 1
========  ============================================  ==============================
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ._lazy import LazyModule
from ._validation import check_option, describe_values, rng_for
from ._replication import ReplicateWeights
from ._replication import rank_df as _rank_df
from .design import Design
from .errors import DesignError

linalg = LazyModule("scipy.linalg")

__all__ = ["ReplicateWeights", "from_replicate_weights", "replicate_design"]

RepType = Literal["JK1", "JKn", "bootstrap", "BRR", "Fay", "other"]


def _progress(iterable, total: int, enabled: bool, desc: str):  # type: ignore[no-untyped-def]
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="chunk")


def replicate_design(
    design: Design,
    type: RepType = "JKn",  # noqa: A002 - R's argument name
    *,
    replicates: int = 500,
    fay_rho: float | None = None,
    mse: bool = False,
    seed: int | None = None,
    progress: bool = False,
) -> Design:
    """Add replicate weights to a design (R ``as.svrepdesign``).

    Parameters
    ----------
    design : Design
        A Taylor design (strata, PSUs, weights, FPC).
    type : {"JK1", "JKn", "bootstrap", "BRR", "Fay"}
        JK1 needs an unstratified design; BRR and Fay exactly 2 PSUs per stratum.
    replicates : int
        Number of bootstrap replicates.
    fay_rho : float, optional
        Fay's coefficient ρ in (0, 1); required with ``type="Fay"`` (the design's
        documentation gives it: e.g. 0.5 for the CPS and ACS), unused otherwise.  R's
        ``svrepdesign`` also refuses ``type="Fay"`` without ``rho``; ``as.svrepdesign``
        defaults ``fay.rho = 0``, which makes plain BRR.  Omitting it with "Fay" still
        uses the old default 0.3 with a :class:`DeprecationWarning`, for one release.
    mse : bool
        Centre the variance at the full-sample estimate instead of the replicate mean.
    seed : int
        Required for the bootstrap.
    progress : bool
        Show a progress bar (tqdm) while bootstrap replicates are drawn.

    Returns
    -------
    Design
        The same design with replicate weights; estimators then use replicate variance.

    Notes
    -----
    FPC: JK1 and JKn include the first-stage FPC in their scale factors as R does;
    bootstrap, BRR and Fay ignore it (R drops it too, with a warning).  Census strata
    get rscale 0 in JKn.  Calibrated designs: calibrate after creating replicates so
    every replicate is calibrated too.

    Examples
    --------
    >>> import survey_stats as ss
    >>> jk = ss.replicate_design(ss.datasets.apiclus1_design(), "JK1")
    >>> round(ss.mean(jk, "api00").se, 4)            # R: as.svrepdesign(dclus1, type="JK1")
    26.3294
    """
    check_option(type, "type", ("JK1", "JKn", "bootstrap", "BRR", "Fay"))
    if not isinstance(mse, bool):
        raise DesignError(f"mse must be True or False, got {mse!r}.")
    if design._cal:
        raise DesignError("create replicates before calibrating (replicate_design, then rake/calibrate), "
                          "so that every replicate is calibrated the same way.")
    w = design._w
    psu = design._psu if design._psu is not None else np.arange(design.n)
    psu_h = design._psu_h if design._psu_h is not None else design._h
    n_h = design._n_h.astype(float)
    H = design.n_strata
    P = len(psu_h)
    f = np.where(design._census_h, 1.0, design._f_h)
    if type == "JK1":
        if H != 1:
            raise DesignError("JK1 is for unstratified designs; use type='JKn' for a stratified design.")
        n = n_h[0]
        if n < 2:
            raise DesignError("JK1 needs at least 2 PSUs; the design has 1.")
        reps = np.repeat(w[:, None] * n / (n - 1), P, axis=1)
        reps[np.arange(design.n), psu] = 0.0
        scale = (n - 1) / n * (1 - f[0])
        rscales = np.ones(P)
    elif type == "JKn":
        if (n_h < 2).any():
            bad = [design._labels_h[i] for i in np.flatnonzero(n_h < 2)]
            raise DesignError(f"JKn needs at least 2 PSUs per stratum; stratum/strata {describe_values(bad)} have 1.")
        reps = _jkn_weights(w, design._h, psu, psu_h, n_h)
        scale = 1.0
        rscales = ((n_h - 1) / n_h * (1 - f))[psu_h]
    elif type == "bootstrap":
        if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise DesignError(f"the bootstrap needs a whole-number seed= so that its replicates can be drawn again "
                              f"(got {seed!r}).")
        if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 2:
            raise DesignError(f"replicates={replicates!r}: the bootstrap needs a whole number of at least 2 "
                              "replicates (a variance from fewer is 0 or undefined); R's default is 50, use ≥ 200.")
        if (n_h < 2).any():
            raise DesignError("the Rao-Wu bootstrap needs at least 2 PSUs per stratum.")
        rng = rng_for(int(seed), "survey_stats.bootstrap")
        reps = _rao_wu_weights(w, psu, psu_h, design._n_h.astype(np.int64), n_h, int(replicates), rng, progress)
        scale = 1.0 / (replicates - 1)
        rscales = np.ones(replicates)
    else:  # BRR / Fay
        if not (n_h == 2).all():
            raise DesignError("BRR and Fay need exactly 2 PSUs in every stratum.")
        rho = 0.0 if type == "BRR" else _fay_rho("replicate_design", fay_rho, 0.3)
        if type == "Fay" and not 0 < rho < 1:
            raise DesignError(f"fay_rho={fay_rho!r} must be in (0, 1).")
        order = 4
        while order < H + 1:  # Sylvester Hadamard: a power of 2 ≥ H + 1 (first column dropped)
            order *= 2
        Hm = linalg.hadamard(order)[:, 1:H + 1]  # R × H of ±1
        first = np.zeros(P, dtype=bool)
        first[np.argsort(psu_h, kind="stable")[0::2]] = True  # the first PSU of each stratum's pair
        sign = np.where(first, 1, -1)  # +1 for the first PSU of its stratum
        fac = np.where(Hm[:, psu_h].T * sign[:, None] > 0, 2 - rho, rho)  # P × R
        reps = fac[psu].astype(float, copy=False)  # a new n × R array: multiplied in place
        reps *= w[:, None]
        scale = 1.0 / (order * (1 - rho) ** 2)
        rscales = np.ones(order)
    info = ReplicateWeights(np.ascontiguousarray(reps), float(scale), np.asarray(rscales, dtype=float), mse, type)
    info.weights.setflags(write=False)
    return design._derive(rep=info, degf=_rank_df(info.weights))


def _fay_rho(func: str, fay_rho: float | None, old_default: float) -> float:
    """Fay's ρ, which type="Fay" needs explicitly (one rule for both constructors, as R's svrepdesign)."""
    if fay_rho is None:
        warnings.warn(f"{func}(type='Fay') without fay_rho= is deprecated: pass Fay's rho explicitly (it is part of "
                      f"the replicate design; R's svrepdesign requires it); using the old default {old_default} "
                      "for this release.", DeprecationWarning, stacklevel=3)
        return old_default
    if isinstance(fay_rho, bool) or not isinstance(fay_rho, (int, float, np.integer, np.floating)):
        raise DesignError(f"fay_rho={fay_rho!r}: give Fay's coefficient as a number.")
    return float(fay_rho)


def _jkn_weights(w: np.ndarray, h_row: np.ndarray, psu: np.ndarray, psu_h: np.ndarray,
                 n_h: np.ndarray) -> np.ndarray:
    """JKn replicate weights (n × P) built in place: no other n × P array is allocated.

    Replicate r drops PSU r and multiplies the rest of its stratum by n_h/(n_h − 1).  The
    cells to multiply (row i, every replicate of row i's stratum) are listed as flat indices.
    """
    n, P = len(w), len(psu_h)
    reps = np.empty((n, P))
    reps[:] = w[:, None]
    k = n_h.astype(np.int64)
    first = np.concatenate(([0], np.cumsum(k)[:-1]))
    per_row = k[h_row]
    row = np.repeat(np.arange(n), per_row)
    psu_by_h = np.argsort(psu_h, kind="stable")  # the replicates of stratum h: psu_by_h[first_h : first_h + n_h]
    col = psu_by_h[first[h_row][row] + (np.arange(len(row)) - np.repeat(np.cumsum(per_row) - per_row, per_row))]
    flat = reps.reshape(-1)
    cells = row * P + col
    flat[cells] = flat[cells] * (n_h / (n_h - 1))[h_row][row]
    reps[np.arange(n), psu] = 0.0
    return reps


_DRAWS_PER_BATCH = 4_000_000  # bounded memory: the draws of one batch of strata (int64)


def _rao_wu_weights(w: np.ndarray, psu: np.ndarray, psu_h: np.ndarray, k_h: np.ndarray, n_h: np.ndarray,
                    replicates: int, rng: np.random.Generator, progress: bool) -> np.ndarray:
    """Rao-Wu bootstrap weights written straight into the n × R result.

    For each chunk of 100 replicates and each stratum, n_h − 1 PSUs are drawn with
    replacement (an (n_h − 1) × 100 block of uniform integers in stratum order, as
    always, so a seed gives the same replicates).  Strata are handled in batches of at
    most ``_DRAWS_PER_BATCH`` draws: the draws of a batch come from one call with
    per-draw bounds, or one call per stratum when strata are large (identical numbers,
    fewer Python calls is not the point there — long calls are faster); counts per PSU
    come from one ``bincount``, and the rows of the batch's PSUs are filled in the result.
    """
    n, P, H = len(w), len(psu_h), len(k_h)
    reps = np.empty((n, replicates))
    by_h = np.argsort(psu_h, kind="stable")  # slot s (PSUs in stratum order) holds PSU by_h[s]
    slot = np.empty(P, dtype=np.intp)
    slot[by_h] = np.arange(P)
    row_slot = slot[psu]
    fac_slot = (n_h / (n_h - 1))[psu_h[by_h]]
    row_order = np.argsort(row_slot, kind="stable")  # rows grouped by slot
    row_start = np.concatenate(([0], np.cumsum(np.bincount(row_slot, minlength=P))))
    psu_first = np.concatenate(([0], np.cumsum(k_h)))  # slots of stratum h: psu_first[h] … psu_first[h+1]−1
    chunk = 100
    cum = np.cumsum(k_h - 1)
    for c0 in _progress(range(0, replicates, chunk), math.ceil(replicates / chunk), progress, "bootstrap"):
        R_c = min(c0 + chunk, replicates) - c0
        h0 = 0
        while h0 < H:
            done = cum[h0 - 1] if h0 else 0
            h1 = max(h0 + 1, int(np.searchsorted(cum, done + _DRAWS_PER_BATCH // R_c, side="right")))
            h1 = min(h1, H)
            counts = _stratum_counts(rng, k_h[h0:h1], R_c)  # (PSUs of h0..h1) × R_c
            p0, p1 = psu_first[h0], psu_first[h1]
            rows = row_order[row_start[p0]:row_start[p1]]
            mult = counts * fac_slot[p0:p1, None]  # the same products as n_h/(n_h−1) × count per PSU
            block = mult[row_slot[rows] - p0]
            block *= w[rows, None]
            reps[rows, c0:c0 + R_c] = block
            h0 = h1
    return reps


def _stratum_counts(rng: np.random.Generator, k: np.ndarray, R_c: int) -> np.ndarray:
    """How often each PSU of consecutive strata (k_h PSUs each) is drawn in R_c replicates."""
    draws_h = (k - 1) * R_c
    if len(k) > 1 and draws_h.mean() < 64 * R_c:  # many small strata: one call with per-draw bounds
        draws = rng.integers(0, np.repeat(k, draws_h))
    else:  # few large strata: a call per stratum (same numbers; the scalar-bound generator is faster)
        draws = np.concatenate([rng.integers(0, int(kh), size=(int(kh) - 1) * R_c) for kh in k])
    first = np.repeat(np.concatenate(([0], np.cumsum(k)[:-1])), draws_h)  # first PSU of the draw's stratum
    rep = np.arange(len(draws)) % R_c  # each stratum's block is (k_h − 1) × R_c, row-major
    cell = (first + draws) * R_c + rep
    return np.bincount(cell, minlength=int(k.sum()) * R_c).reshape(-1, R_c)


def from_replicate_weights(
    data: pd.DataFrame,
    *,
    weights: str,
    repweights: Sequence[str] | str,
    type: RepType = "other",  # noqa: A002
    scale: float | None = None,
    rscales: Sequence[float] | None = None,
    fay_rho: float | None = None,
    combined_weights: bool = True,
    mse: bool = False,
    df: int | None = None,
) -> Design:
    """A design from supplied replicate-weight columns (R ``svrepdesign``).

    Parameters
    ----------
    data : DataFrame
    weights : str
        Full-sample weight column.
    repweights : list of str or str
        The replicate columns, or a prefix/regular expression selecting them (e.g.
        ``"repw"`` for repw1…repw80).
    type : {"JK1", "JKn", "bootstrap", "BRR", "Fay", "other"}
        Sets the default ``scale``: JK1 (R−1)/R, bootstrap 1/(R−1), BRR 1/R, Fay
        1/(R(1−ρ)²), other 1.  JKn needs ``rscales``.
    scale, rscales :
        Override the defaults (R's ``scale`` and ``rscales``).
    fay_rho : float, optional
        Fay's ρ; required with ``type="Fay"`` as R's ``svrepdesign(rho=)`` requires it
        (the same rule as :func:`replicate_design`).  Omitting it with "Fay" still uses the
        old default 0 with a :class:`DeprecationWarning`, for one release.
    combined_weights : bool
        True (R's default): the columns are full analysis weights.  False: they are
        multipliers of ``weights``.
    mse : bool
        Centre at the full-sample estimate.
    df : int, optional
        Degrees of freedom for intervals (default: rank of the replicate weights − 1,
        as R's ``degf``).

    Returns
    -------
    Design
    """
    check_option(type, "type", ("JK1", "JKn", "bootstrap", "BRR", "Fay", "other"))
    if isinstance(repweights, str):
        cols = [c for c in data.columns if str(c).startswith(repweights)] or \
            list(data.filter(regex=repweights).columns)
    else:
        cols = list(repweights)
    if not cols:
        raise DesignError(f"no replicate-weight columns match {repweights!r}.")
    missing = [c for c in cols + [weights] if c not in data.columns]
    if missing:
        raise DesignError(f"column(s) {describe_values(missing)} not in data.")
    R = len(cols)
    if R < 2:
        raise DesignError(f"{R} replicate-weight column: a replicate variance needs at least 2 replicates.")
    rw = data[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(rw).all():
        bad = [c for c, ok in zip(cols, np.isfinite(rw).all(axis=0)) if not ok]
        raise DesignError(f"replicate-weight column(s) {describe_values(bad)} have missing, infinite or "
                          "non-numeric values.")
    base = Design(data, weights=weights)
    if not combined_weights:
        rw = rw * base._w[:, None]
    if (rw < 0).any():
        raise DesignError("replicate weights must be non-negative.")
    if type == "Fay":
        fay_rho = _fay_rho("from_replicate_weights", fay_rho, 0.0)
        if not 0 <= fay_rho < 1:
            raise DesignError(f"fay_rho={fay_rho!r} must be in [0, 1).")
    if scale is not None and not (isinstance(scale, (int, float)) and not isinstance(scale, bool)
                                  and 0 < scale < math.inf):
        raise DesignError(f"scale={scale!r}: give a finite number > 0.")
    if scale is None:
        scale = {"JK1": (R - 1) / R, "bootstrap": 1 / (R - 1) if R > 1 else 1.0, "BRR": 1 / R,
                 "Fay": 1 / (R * (1 - (fay_rho or 0.0)) ** 2), "other": 1.0, "JKn": 1.0}[type]
    if rscales is None:
        if type == "JKn":
            raise DesignError("type='JKn' needs rscales (one per replicate, (n_h − 1)/n_h).")
        rs = np.ones(R)
    else:
        rs = np.asarray(rscales, dtype=float)
        if rs.shape != (R,):
            raise DesignError(f"rscales has {len(rs)} values for {R} replicates.")
        if not (np.isfinite(rs).all() and (rs >= 0).all()):
            raise DesignError("rscales must be finite numbers ≥ 0.")
    if df is not None and (isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 1):
        raise DesignError(f"df={df!r}: give a whole number of degrees of freedom ≥ 1.")
    if df is None:
        df = _rank_df(rw)
    info = ReplicateWeights(np.ascontiguousarray(rw), float(scale), rs, mse, type)
    info.weights.setflags(write=False)
    return base._derive(rep=info, degf=df)
