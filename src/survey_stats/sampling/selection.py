"""Reproducible stratified selection with certainty units, census strata and reserve lists."""

from __future__ import annotations

import datetime as _dt
import json
import warnings
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validation import check_option, describe_values, rng_for
from ..design import Design
from ..errors import DataError, MethodError, SurveyStatsWarning
from ..privacy import MaskReport, detect_pii_columns, mask_frame, scan_frame
from .._version import __version__
from ..safe_output import write_csv, write_workbook
from .frame import Frame

__all__ = ["Sample", "select"]

SelectMethod = Literal["srs", "systematic", "pps"]
_METHODS = ("srs", "systematic", "pps")


def _per_stratum(value: Any, labels: pd.Index, name: str) -> pd.Series:
    if isinstance(value, Mapping) or isinstance(value, pd.Series):
        s = pd.Series(dict(value)) if isinstance(value, Mapping) else value.copy()
        unknown = s.index.difference(labels)
        if len(unknown):
            raise DataError(f"{name} names stratum/strata not in the frame: {describe_values(unknown)}; "
                            f"frame strata are {describe_values(labels)}.")
        missing = labels.difference(s.index)
        if len(missing):
            raise DataError(f"{name} gives no value for stratum/strata {describe_values(missing)}.")
        return s.reindex(labels)
    return pd.Series(value, index=labels)


def select(
    frame: Frame,
    *,
    n: int | Mapping[Hashable, int] | None = None,
    fraction: float | Mapping[Hashable, float] | None = None,
    method: SelectMethod = "srs",
    census: Sequence[Hashable] = (),
    sort_by: str | Sequence[str] | None = None,
    reserve: int | float = 0,
    flagged: Literal["in_addition", "within"] = "in_addition",
    seed: int,
) -> Sample:
    """Draw a stratified sample from *frame*.

    Parameters
    ----------
    frame : Frame
    n : int or mapping stratum → int, optional
        Sample size per stratum (an int applies to every stratum), of random units
        beside the certainty units (``flagged="in_addition"``) or counting them
        (``flagged="within"``).  Use :func:`~survey_stats.sampling.allocate` to split a total.
    fraction : float or mapping, optional
        Sampling fraction per stratum instead of ``n``: ⌈fraction · (N_h − c_h)⌉ random
        units beside the c_h certainty units (``"in_addition"``), or n_h = ⌈fraction · N_h⌉
        in all (``"within"``); rounded up, so at least that share is visited, e.g. 0.30.
    method : {"srs", "systematic", "pps"}
        Simple random sampling without replacement; systematic sampling with a random
        start and a fractional interval N_h/n_h (ordered by ``sort_by`` for implicit
        stratification, else frame order); PPS systematic by the frame's size measure
        (units whose probability would exceed 1 are taken with certainty).
    census : sequence of stratum labels
        Strata taken whole (e.g. the telephone census of unexited households).
    sort_by : str or list of str, optional
        Ordering for systematic and PPS selection.
    reserve : int or float
        Replacement units per stratum for households that cannot be reached: a count,
        or a share of n_h below 1 (e.g. 0.2, rounded up).  They are the stratum's
        unselected units in random order; use them strictly in that order
        (:meth:`Sample.next_reserve`), never by choice.
    flagged : {"in_addition", "within"}
        How certainty units (files flagged incomplete or illogical) relate to ``n`` /
        ``fraction``.  ``"in_addition"`` (default, seed 000 §五.3: "随机抽取30%的帮扶对象"
        *and* every flagged household): the random part is drawn from the
        non-certainty units only and the certainty units are added to it.
        ``"within"``: certainty units count toward n_h (a stratum with more certainty
        units than n_h takes them all).  The manifest records both counts.
    seed : int
        Seed of the random draw; the same frame and seed give the same sample.  The
        generator is seeded with (seed, "survey_stats.select"), so using the same
        integer elsewhere (e.g. to simulate the data) does not correlate the two.

    Returns
    -------
    Sample

    Notes
    -----
    SRS draws one uniform key per unit and takes, in each stratum, the n_h − c_h
    non-certainty units with the smallest keys: every such unit has inclusion
    probability (n_h − c_h)/(N_h − c_h).  Systematic: π = (n_h − c_h)/(N_h − c_h).
    PPS systematic: π_i = m x_i / X over the non-certainty units (Madow 1949), with
    units reaching π ≥ 1 moved to certainty iteratively.  Design weights are 1/π.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey_stats.sampling import Frame, select
    >>> reg = pd.DataFrame({"hh": range(20), "county": ["a"] * 10 + ["b"] * 10,
    ...                     "flag": [1, 0, 0, 0, 0, 0, 0, 0, 0, 0] * 2})
    >>> s = select(Frame(reg, id="hh", strata="county", certainty="flag"), fraction=0.3, seed=1)
    >>> s.summary()[["stratum", "N", "n", "certainty", "random"]]
      stratum   N  n  certainty  random
    0       a  10  4          1       3
    1       b  10  4          1       3
    >>> select(Frame(reg, id="hh", strata="county", certainty="flag"), fraction=0.3, seed=1,
    ...        flagged="within").summary()["n"].tolist()
    [3, 3]
    """
    if not isinstance(frame, Frame):
        raise DataError(f"frame must be a survey_stats.sampling.Frame, got {type(frame).__name__}.")
    check_option(method, "method", _METHODS)
    check_option(flagged, "flagged", ("in_addition", "within"))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise MethodError("seed must be an integer, so that the sample can be drawn again identically.")
    if (n is None) == (fraction is None):
        raise MethodError("give exactly one of n= (units per stratum) or fraction= (share per stratum).")
    if isinstance(reserve, bool) or not isinstance(reserve, (int, float)) or reserve < 0:
        raise MethodError(f"reserve={reserve!r}: give a count (int) or a share of n_h below 1 (float).")
    if method == "pps" and not frame.size:
        raise MethodError("method='pps' needs a frame built with size=<measure of size column>.")
    df = frame.data
    labels = frame._labels
    N_h = pd.Series(frame._N_h, index=labels)
    c_h = pd.Series(frame._c_h, index=labels)
    unknown = [c for c in census if c not in labels]
    if unknown:
        raise DataError(f"census names stratum/strata not in the frame: {describe_values(unknown)}.")
    n_h = _stratum_sizes(n, fraction, labels, N_h, c_h, flagged, census)
    rng = rng_for(int(seed), "survey_stats.select")
    codes = frame._codes
    cert = df["certainty"].to_numpy()
    key = rng.random(len(df))
    m = (n_h - c_h).to_numpy()  # random draws per stratum
    small = _small_codes(codes, len(labels))
    if method == "srs":
        selected, rand_sorted, pi_of = _draw_srs(cert, key, codes, small, m, (N_h - c_h).to_numpy())
    else:
        selected, cert, pi_of = _draw_ordered(frame, method, sort_by, cert, codes, small, m, rng)
        rand_sorted = np.flatnonzero(selected & ~cert)  # SRS has its random units in key order already
        rand_sorted = rand_sorted[_argsort_exact(key[rand_sorted])]
    idx = _sample_order(np.flatnonzero(selected & cert), rand_sorted, key, codes, small)
    pi_sel = np.clip(pi_of(idx), 0.0, 1.0)  # inclusion probabilities of the selected units only
    units = df.iloc[idx].reset_index(drop=True)
    units["certainty"] = cert[idx]
    units["pi"] = pi_sel
    units["weight"] = 1.0 / pi_sel
    rest, rdf = _reserve_list(frame, reserve, n_h, selected, cert, rng, codes, small)
    sel_codes, H = codes[idx], len(labels)
    strata = pd.DataFrame({
        "stratum": labels, "N": N_h.to_numpy(), "n": np.bincount(sel_codes, minlength=H),
        "certainty": np.bincount(sel_codes, weights=cert[idx].astype(float), minlength=H).astype(int),
        "random": np.bincount(sel_codes, weights=(~cert[idx]).astype(float), minlength=H).astype(int),
        "census": labels.isin(list(census)), "reserve": np.bincount(codes[rest], minlength=H),
    })
    manifest = _manifest(frame, method, seed, sort_by, n, fraction, census, reserve, flagged, strata, units)
    return Sample(frame.id, units, rdf, strata, manifest, method)


def _stratum_sizes(n: Any, fraction: Any, labels: pd.Index, N_h: pd.Series, c_h: pd.Series, flagged: str,
                   census: Sequence[Hashable]) -> pd.Series:
    """n_h per stratum: requested units (or share) plus flagged units when they come in addition."""
    if n is not None:
        target = _per_stratum(n, labels, "n")
        if (target < 0).any() or (target != np.floor(target)).any():
            raise DataError("n must be whole numbers ≥ 0.")
        over = target > (N_h - c_h if flagged == "in_addition" else N_h)
        if over.any():
            i = labels[over][0]
            raise DataError(
                f"stratum {i!r} has N_h = {N_h[i]} units but n_h = {target[i]} were requested "
                f"({int(over.sum())} stratum/strata affected); reduce n or make it a census stratum."
            )
    else:
        fr = _per_stratum(fraction, labels, "fraction")
        if ((fr <= 0) | (fr > 1)).any():
            raise DataError("fraction must be in (0, 1].")
        target = np.ceil(fr * (N_h - c_h if flagged == "in_addition" else N_h) - 1e-9)
    target = target.astype(int)
    if flagged == "in_addition":
        target = target + c_h
    is_census = labels.isin(list(census))
    target[is_census] = N_h[is_census]
    return np.maximum(target, c_h)


def _draw_srs(cert: np.ndarray, key: np.ndarray, codes: np.ndarray, small: np.ndarray, m: np.ndarray,
              N_rand: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
    """Stratified SRS: the m_h smallest random keys of each stratum's non-certainty units.

    Returns (selected mask, random units in key order, π of given rows).
    """
    selected = cert.copy()
    pool = np.flatnonzero(~cert) if cert.any() else np.arange(len(cert))
    order = pool[_argsort_exact(key[pool])]
    order = order[np.argsort(small[order], kind="stable")]  # by stratum, then key (radix sort)
    oc = codes[order]
    first = np.concatenate(([0], np.cumsum(np.bincount(oc, minlength=len(m)))[:-1]))
    rand_sorted = order[np.arange(len(order)) < (first + m)[oc]]  # the m_h smallest keys, in key order
    selected[rand_sorted] = True
    with np.errstate(divide="ignore", invalid="ignore"):
        p_rand = np.where(N_rand > 0, m / N_rand, 0.0)  # (n_h − c_h)/(N_h − c_h), or 1 for certainty units
    return selected, rand_sorted, lambda idx: np.where(cert[idx], 1.0, p_rand[codes[idx]])


def _draw_ordered(frame: Frame, method: str, sort_by: Any, cert: np.ndarray, codes: np.ndarray,
                  small: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, Any]:
    """Systematic or PPS-systematic selection along the sorted frame, one random start per stratum.

    PPS units whose size reaches the sampling step become certainty units first.  Returns
    (selected mask, certainty mask including those, π of given rows).
    """
    df, H = frame.data, len(m)
    sort_cols = [] if sort_by is None else ([sort_by] if isinstance(sort_by, str) else list(sort_by))
    for c in sort_cols:
        if c not in df.columns:
            raise DataError(f"sort_by column {c!r} is not in the frame.")
    selected = cert.copy()
    order = _frame_order(df, sort_cols, cert, small)
    oc = codes[order]
    ocert = cert[order]
    if method == "systematic":
        size = np.where(ocert, 0.0, 1.0)
    else:
        size = np.where(ocert, 0.0, pd.to_numeric(df[frame.size]).to_numpy(dtype=float)[order])
        size, extra_cert = _pps_certainty(size, oc, m, H)
        if extra_cert.any():
            ocert = ocert | extra_cert
            cert_new = np.zeros(len(df), bool)
            cert_new[order] = extra_cert
            cert = cert | cert_new
            selected = selected | cert_new
            m = m - np.bincount(oc[extra_cert], minlength=H)
    total = np.bincount(oc, weights=size, minlength=H)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(m > 0, total / m, np.inf)
    start = rng.random(H) * np.where(np.isfinite(step), step, 0.0)
    cum = np.cumsum(size)
    first = np.concatenate(([0], np.cumsum(np.bincount(oc, minlength=H))[:-1]))
    base = np.concatenate(([0.0], cum))[first][oc]  # cumulative size before the stratum
    hi = cum - base
    lo = hi - size
    st, sp = start[oc], step[oc]
    with np.errstate(divide="ignore", invalid="ignore"):  # a unit is hit when a point start + k·step falls in (lo, hi]
        count_hi = np.where(np.isfinite(sp), np.ceil((hi - st) / sp - 1e-12), 0)
        count_lo = np.where(np.isfinite(sp), np.ceil((lo - st) / sp - 1e-12), 0)
        p_o = np.where(ocert, 1.0, np.where(np.isfinite(sp), size / sp, 0.0))
    hit = (count_hi - count_lo >= 1) & (size > 0)
    selected[order[hit]] = True
    pi = np.empty(len(df))
    pi[order] = p_o
    return selected, cert, lambda idx: pi[idx]


def _reserve_list(frame: Frame, reserve: int | float, n_h: pd.Series, selected: np.ndarray, cert: np.ndarray,
                  rng: np.random.Generator, codes: np.ndarray, small: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Unselected non-certainty units in random order, up to each stratum's quota: (rows, table)."""
    labels = frame._labels
    if isinstance(reserve, float) and reserve < 1:
        quota = np.ceil(reserve * n_h.to_numpy()).astype(int)
    else:
        quota = np.full(len(labels), int(reserve))
    rest = np.flatnonzero(~selected & ~cert) if quota.any() else np.zeros(0, dtype=np.intp)
    rest, rank = _reserve_order(rest, rng, codes, small, quota)
    keep = rank <= quota[codes[rest]]
    rdf = pd.DataFrame({frame.id: frame.data[frame.id].take(rest[keep]).to_numpy(),
                        "stratum": labels[codes[rest[keep]]], "reserve_rank": rank[keep]})
    return rest[keep], rdf


def _manifest(frame: Frame, method: str, seed: int, sort_by: Any, n: Any, fraction: Any, census: Sequence[Hashable],
              reserve: int | float, flagged: str, strata: pd.DataFrame, units: pd.DataFrame) -> dict[str, Any]:
    """The sample's manifest: how it was drawn, from which frame, and its size per stratum."""
    cert = units["certainty"].to_numpy(dtype=bool)
    return {
        "package": "survey_stats", "version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "method": method, "seed": int(seed), "frame_fingerprint": frame.fingerprint,
        "frame_fingerprint_scheme": "ids-v2",
        "frame_units": int(frame.N), "frame_excluded": int(len(frame.excluded)),
        "id_column": frame.id, "strata_columns": list(frame.strata), "certainty_columns": frame.certainty_columns,
        "sort_by": sort_by, "n": None if n is None else (n if isinstance(n, int) else {str(k): int(v) for k, v in dict(n).items()}),
        "fraction": fraction if not isinstance(fraction, Mapping) else {str(k): v for k, v in fraction.items()},
        "census_strata": [str(c) for c in census], "reserve": reserve, "flagged": flagged,
        "strata": [{"stratum": str(r.stratum), "N_h": int(r.N), "n_h": int(r.n), "certainty": int(r.certainty),
                    "random": int(r.random), "census": bool(r.census), "reserve": int(r.reserve)}
                   for r in strata.itertuples()],
        "sample_size": int(len(units)), "certainty_units": int(cert.sum()),
        "random_units": int((~cert).sum()),
    }


def _flagged_groups(data: pd.DataFrame, units: pd.DataFrame, lost: pd.DataFrame, how: str) -> pd.DataFrame:
    """Give the responding flagged units of strata with missing flagged units their own stratum.

    Their weight then stays among flagged units (``how="within"``: population c_h,
    weight c_h/r_c) or the missing ones are left unrepresented (``"separate"``); the
    random units of the stratum keep population N_h − c_h either way.
    """
    c_h = units.loc[units["certainty"]].groupby("stratum").size()
    lost_h = lost.groupby("stratum").size()
    data = data.copy()
    unrepresented = 0
    for h, k in lost_h.items():
        rows = data["stratum"] == h
        cert = rows & data["certainty"].astype(bool)
        data.loc[rows & ~cert, "N_h"] = data.loc[rows & ~cert, "N_h"] - c_h[h]
        data.loc[cert, "design_stratum"] = f"{h} [flagged]"
        data.loc[cert, "N_h"] = float(c_h[h]) if how == "within" else float(c_h[h] - k)
        data.loc[cert, "certainty"] = False
        if how == "separate" or not cert.any():
            unrepresented += int(k)
    msg = (f"{len(lost)} flagged household(s) have no usable response (未完成核查) in {len(lost_h)} stratum/strata; "
           "their weight is not moved to randomly drawn households: ")
    msg += ("the responding flagged households of each stratum stand for them" if how == "within"
            else "they form a separate group the estimates do not represent")
    if unrepresented and how == "within":
        msg += f"; {unrepresented} of them in strata where no flagged household responded are unrepresented"
    warnings.warn(msg + ". List them with Sample.unverified().", SurveyStatsWarning, stacklevel=3)
    return data


def _rank_within(sorted_codes: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal codes (input sorted by code)."""
    n = len(sorted_codes)
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    return np.arange(n) - run_start


def _small_codes(codes: np.ndarray, H: int) -> np.ndarray:
    """Stratum codes in the narrowest integer type: stable sorts of 8/16-bit keys are radix sorts."""
    return codes.astype(np.min_scalar_type(max(H - 1, 0)), copy=False)


def _argsort_exact(values: np.ndarray) -> np.ndarray:
    """argsort with ties broken by position (what a stable sort gives), at the speed of the default sort.

    Uniform keys rarely tie; when they do, the stable sort is used so that the order (and so
    the sample) never depends on the sorting algorithm.
    """
    order = np.argsort(values)
    v = values[order]
    if len(v) > 1 and (v[1:] == v[:-1]).any():
        return np.argsort(values, kind="stable")
    return order


def _frame_order(df: pd.DataFrame, sort_cols: list[str], cert: np.ndarray, small: np.ndarray) -> np.ndarray:
    """Rows by stratum, non-certainty before certainty, then the sort_by columns, then frame order."""
    order = np.arange(len(df))
    for c in reversed(sort_cols):  # least significant first; each sort is stable
        k = pd.factorize(df[c], sort=True)[0]
        order = order[np.argsort(k[order], kind="stable")]
    comb = small.astype(np.int64) * 2 + cert  # stratum, then certainty
    comb = comb.astype(np.min_scalar_type(int(comb.max()) if len(comb) else 0))
    return order[np.argsort(comb[order], kind="stable")]


def _sample_order(cert_idx: np.ndarray, rand_sorted: np.ndarray, key: np.ndarray, codes: np.ndarray,
                  small: np.ndarray) -> np.ndarray:
    """Selected rows by stratum, certainty units first, each group by its random key.

    ``rand_sorted`` (the random units) must be in key order; a stable sort by stratum keeps it.
    """
    idx = np.concatenate([cert_idx[np.lexsort((key[cert_idx], codes[cert_idx]))], rand_sorted])
    return idx[np.argsort(small[idx], kind="stable")]


def _reserve_order(rest: np.ndarray, rng: np.random.Generator, codes: np.ndarray, small: np.ndarray,
                   quota: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unselected units by stratum in random order with their 1-based rank, enough to fill *quota*.

    A key is drawn for every unit (as the full ordering did); only units that can reach a
    stratum's quota are sorted: those under a per-stratum threshold when the stratum has at
    least ``quota`` of them, otherwise the whole stratum.  The result equals the first
    ``quota`` units of the complete ordering.
    """
    if not quota.any() or len(rest) == 0:  # no reserve: the generator is not used after this point
        return rest[:0], np.zeros(0, dtype=np.int64)
    rkey = rng.random(len(rest))
    H = len(quota)
    c = codes[rest]
    R_h = np.bincount(c, minlength=H)
    q = np.minimum(quota, R_h).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        thr = np.where(R_h > 0, (q + 4 * np.sqrt(q) + 8) / R_h, 0.0)
    under = rkey < thr[c]
    short = np.bincount(c[under], minlength=H) < q  # threshold too tight here: keep the whole stratum
    cand = np.flatnonzero((under | short[c]) & (quota[c] > 0))
    cand = cand[_argsort_exact(rkey[cand])]
    cand = cand[np.argsort(small[rest[cand]], kind="stable")]
    return rest[cand], _rank_within(c[cand]) + 1


def _pps_certainty(size: np.ndarray, codes: np.ndarray, m: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
    """Move units with m·x/X ≥ 1 to certainty until none is left (per stratum)."""
    size = size.copy()
    m = m.astype(float).copy()
    extra = np.zeros(len(size), bool)
    for _ in range(len(size)):
        total = np.bincount(codes, weights=size, minlength=H)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(total[codes] > 0, m[codes] * size / total[codes], 0.0)
        big = (p >= 1) & (size > 0)
        if not big.any():
            break
        extra |= big
        m -= np.bincount(codes[big], minlength=H)
        size[big] = 0.0
    return size, extra


class Sample:
    """A drawn sample: the selected units, their inclusion probabilities, reserves, audit trail.

    Attributes
    ----------
    units : DataFrame
        Selected units (frame columns plus ``stratum``, ``certainty``, ``pi`` and
        ``weight``), certainty units first within each stratum.
    reserve : DataFrame
        Replacement units per stratum (id, stratum, reserve_rank), to be used in order.
    manifest : dict
        Method, seed, frame fingerprint, N_h, n_h and certainty count per stratum,
        package version and time — what a client needs to check the draw.
    """

    def __init__(self, id_col: str, units: pd.DataFrame, reserve: pd.DataFrame, strata: pd.DataFrame,
                 manifest: dict[str, Any], method: str) -> None:
        self.id = id_col
        self.units = units
        self.reserve = reserve
        self._strata = strata
        self.manifest = manifest
        self.method = method
        self._used: dict[Hashable, int] = {}
        #: What the last written field list or CSV masked (:class:`~survey_stats.privacy.MaskReport`).
        self.masked = MaskReport()

    @classmethod
    def from_units(cls, units: pd.DataFrame, *, id: str, manifest: Mapping[str, Any] | None = None,
                   reserve: pd.DataFrame | None = None) -> Sample:
        """The sample whose selected units are *units* (e.g. the ``sample_units.csv`` that
        :meth:`write_units` wrote), so that :meth:`design` serves samples read back from files.

        Parameters
        ----------
        units : DataFrame
            Columns *id*, ``stratum``, ``certainty`` (bool) and ``pi`` (inclusion
            probability); ``weight`` defaults to 1/π.
        id : str
            The id column.
        manifest : mapping, optional
            The draw's manifest (:meth:`write_manifest`): the method and each stratum's
            frame size N_h come from it.  Without it the method is ``"pps"`` when π differs
            among a stratum's randomly drawn units, else ``"srs"``, and N_h = Σ 1/π over the
            stratum's units — exact for equal-probability draws, where each of the m_h random
            units stands for (N_h − c_h)/m_h frame units and each of the c_h certainty units
            for itself.
        reserve : DataFrame, optional
            The reserve list.

        Examples
        --------
        >>> reg = pd.DataFrame({"hh": [f"H{i}" for i in range(10)], "area": ["a"] * 6 + ["b"] * 4})
        >>> s = select(Frame(reg, id="hh", strata="area"), fraction=0.5, seed=1)
        >>> back = Sample.from_units(s.units[["hh", "stratum", "certainty", "pi"]], id="hh")
        >>> back.method, back.summary()["N"].tolist()
        ('srs', [6, 4])
        """
        missing = [c for c in (id, "stratum", "certainty", "pi") if c not in units.columns]
        if missing:
            raise DataError(f"sample units lack column(s) {describe_values(missing)}.")
        units = units.reset_index(drop=True).copy()
        units["certainty"] = units["certainty"].astype(bool)
        pi = pd.to_numeric(units["pi"], errors="coerce")
        bad = ~((pi > 0) & (pi <= 1))
        if bad.any():
            raise DataError(f"sample units have no inclusion probability in (0, 1] on row(s) "
                            f"{describe_values(units.index[bad].tolist())}.")
        units["pi"] = pi
        if "weight" not in units.columns:
            units["weight"] = 1.0 / pi
        labels = list(pd.unique(units["stratum"]))
        if manifest is not None:
            method = str(manifest["method"])
            sizes = {str(st["stratum"]): int(st["N_h"]) for st in manifest.get("strata", [])}
            N = pd.Series([sizes.get(str(h)) for h in labels], index=labels, dtype=object)
            if N.isna().any():
                raise DataError(f"the manifest has no N_h for stratum/strata {describe_values(N.index[N.isna()].tolist())}.")
        else:
            spread = units[~units["certainty"]].groupby("stratum")["pi"].agg(lambda p: float(np.ptp(p.to_numpy())))
            method = "pps" if (spread > 1e-9).any() else "srs"
            N = (1.0 / units["pi"]).groupby(units["stratum"]).sum().round().reindex(labels)
        n = units.groupby("stratum").size().reindex(labels).to_numpy()
        c = units.groupby("stratum")["certainty"].sum().reindex(labels).astype(int).to_numpy()
        strata = pd.DataFrame({"stratum": labels, "N": N.astype(int).to_numpy(), "n": n, "certainty": c,
                               "random": n - c, "census": n == N.astype(int).to_numpy(), "reserve": 0})
        info = dict(manifest or {"method": method, "seed": None, "id_column": id})
        return cls(id, units, reserve if reserve is not None else pd.DataFrame(columns=[id, "stratum", "reserve_rank"]),
                   strata, info, method)

    def __len__(self) -> int:
        return len(self.units)

    def __repr__(self) -> str:
        return f"Sample(n={len(self)}, strata={len(self._strata)}, method={self.method!r}, seed={self.manifest['seed']})"

    def summary(self) -> pd.DataFrame:
        """Per stratum: N, n, certainty units, census flag, reserve size."""
        return self._strata.copy()

    def ids(self) -> list[Any]:
        """Selected unit ids in selection order."""
        return self.units[self.id].tolist()

    def next_reserve(self, stratum: Hashable) -> Any:
        """The next unused replacement unit of *stratum* (raises when the list is exhausted)."""
        r = self.reserve[self.reserve["stratum"] == stratum]
        used = self._used.get(stratum, 0)
        if used >= len(r):
            raise DataError(f"the reserve list of stratum {stratum!r} is exhausted ({len(r)} units).")
        self._used[stratum] = used + 1
        return r.iloc[used][self.id]

    def write_manifest(self, path: str | Path) -> Path:
        """Write the audit manifest as JSON (UTF-8) and return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    def write_units(self, path: str | Path, *, personal: Literal["drop", "mask"] = "drop") -> MaskReport:
        """Write the selected units as CSV without personal data; return what was masked.

        Columns named like names or addresses are dropped (``personal="drop"``) or masked;
        ID-card and phone numbers are masked wherever they are found, whatever the column's
        name; text cells are neutralised against formula injection
        (:func:`survey_stats.safe_output.write_csv`).  The id column must not itself hold ID
        or phone numbers (masking it would break the join with the responses); long household
        numbers (15 digits or more) are written as they are in that column.
        """
        found = scan_frame(self.units[[self.id]]).get(str(self.id), {})
        if set(found) - {"long_number"}:  # a long household number is an id, not personal data
            raise DataError(f"the id column {self.id!r} holds ID-card or phone numbers; use a household number "
                            "as the id so that personal data need not be written.")
        position = list(self.units.columns).index(self.id)
        units, report = mask_frame(self.units.drop(columns=self.id), personal=personal)
        units.insert(min(position, units.shape[1]), self.id, self.units[self.id])
        write_csv(units, path, mask=False)
        self.masked = report
        return report

    def write_reserve(self, path: str | Path) -> MaskReport:
        """Write the reserve list (id, stratum, rank) as CSV, neutralised and masked like :meth:`write_units`."""
        report = write_csv(self.reserve, path, mask=True)
        return report

    def design(
        self,
        responses: pd.DataFrame,
        *,
        on: str | None = None,
        nonresponse: Literal["fail", "stratum"] = "fail",
        flagged_nonresponse: Literal["within", "separate"] = "within",
        lonely_psu: Literal["fail", "certainty", "adjust", "average", "remove"] = "fail",
    ) -> Design:
        """Join responses to the sample and build the matching :class:`~survey_stats.Design`.

        Parameters
        ----------
        responses : DataFrame
            One row per responding unit, with the id column.
        on : str, optional
            Id column in *responses* (default: the frame's id column).
        nonresponse : {"fail", "stratum"}
            Sampled units without a response: raise listing them (default), or treat
            the respondents of each stratum as its sample (weights N_h/r_h: missing at
            random within strata).  Use the weighting module for other adjustments.
        flagged_nonresponse : {"within", "separate"}
            Certainty (flagged) units without a response never pass their weight to
            random units.  ``"within"`` (default): the responding certainty units of the
            stratum stand for all of them (their own stratum ``"<stratum> [flagged]"``
            with population c_h and weight c_h/r_c); when none responded, the group is
            unrepresented.  ``"separate"``: the missing flagged files are a separate,
            unrepresented group — the estimates describe the population without them.
            Either way a :class:`SurveyStatsWarning` gives the count; list the
            households with :meth:`unverified`.
        lonely_psu : str
            Passed to :class:`Design`.

        Returns
        -------
        Design
            SRS/systematic: strata with FPC (N_h) and certainty units; PPS: weights
            1/π with the with-replacement approximation (no FPC).
        """
        check_option(nonresponse, "nonresponse", ("fail", "stratum"))
        check_option(flagged_nonresponse, "flagged_nonresponse", ("within", "separate"))
        on = on or self.id
        if on not in responses.columns:
            raise DataError(f"responses have no id column {on!r}.")
        dup = responses[on].duplicated(keep=False)
        if dup.any():
            raise DataError(f"responses repeat ids {describe_values(pd.unique(responses.loc[dup, on]))}.")
        sampled = set(self.units[self.id])
        stray = [i for i in responses[on] if i not in sampled]
        if stray:
            raise DataError(f"{len(stray)} response(s) come from units that were not sampled: ids {describe_values(stray)}.")
        got = set(responses[on])
        missing = [i for i in self.units[self.id] if i not in got]
        if missing and nonresponse == "fail":
            raise DataError(
                f"{len(missing)} sampled unit(s) have no response: ids {describe_values(missing)}; "
                "pass nonresponse='stratum' to treat respondents as each stratum's sample, or adjust weights."
            )
        keep = ["stratum", "certainty", "pi", "weight", self.id]
        clash = [c for c in keep if c in responses.columns and c != on]
        if clash:
            raise DataError(f"responses have column(s) {describe_values(clash)} that the sample adds; rename them.")
        sample_cols = self.units[keep].rename(columns={self.id: on})
        data = responses.merge(sample_cols, on=on, how="inner", validate="one_to_one")
        if self.method == "pps":
            if missing:  # weighting class: respondents stand for their stratum's random units; flagged keep weight 1
                free = ~self.units["certainty"].astype(bool)
                drawn = self.units.loc[free].groupby("stratum")["weight"].sum()
                cert = data["certainty"].astype(bool).to_numpy()
                got_w = data.loc[~cert].groupby("stratum")["weight"].sum()
                factor = (drawn / got_w).reindex(data["stratum"]).fillna(1.0).to_numpy()
                data["weight"] = np.where(cert, data["weight"], data["weight"] * factor)
            return Design(data, strata="stratum", weights="weight", certainty="certainty", lonely_psu=lonely_psu)
        N = self._strata.set_index("stratum")["N"]
        data["N_h"] = data["stratum"].map(N).astype(float)
        data["design_stratum"] = data["stratum"].astype(str)
        lost = self.units[self.units["certainty"] & ~self.units[self.id].isin(got)]
        if len(lost):
            data = _flagged_groups(data, self.units, lost, flagged_nonresponse)
        return Design(data, strata="design_stratum", fpc="N_h", certainty="certainty", lonely_psu=lonely_psu)

    def unverified(self, responses: pd.DataFrame, *, on: str | None = None,
                   set_aside: pd.DataFrame | None = None) -> pd.DataFrame:
        """Certainty (flagged) units without a usable response: 未完成核查, with the reason.

        Parameters
        ----------
        responses : DataFrame
            The responses used for estimation (one row per unit).
        on : str, optional
            Id column in *responses* and *set_aside* (default: the frame's id column).
        set_aside : DataFrame, optional
            Rows set aside by validation: id and ``reason`` columns.

        Returns
        -------
        DataFrame
            id, stratum, ``status`` (未完成核查) and ``reason``: set aside after
            validation (with the validation problem), or no response / not visited.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey_stats.sampling import Frame, select
        >>> reg = pd.DataFrame({"hh": [f"H{i}" for i in range(10)], "flag": [True, True] + [False] * 8})
        >>> s = select(Frame(reg, id="hh", certainty="flag"), fraction=0.3, seed=1)
        >>> s.unverified(pd.DataFrame({"hh": ["H1"]}))[["hh", "status", "reason"]]
           hh status               reason
        0  H0  未完成核查  无应答/未入户 (no response)
        """
        on = on or self.id
        got = set(responses[on])
        lost = self.units.loc[self.units["certainty"] & ~self.units[self.id].isin(got), [self.id, "stratum"]]
        aside = {} if set_aside is None else dict(zip(set_aside[on], set_aside["reason"]))
        reasons = [f"数据校验剔除 (set aside after validation: {aside[i]})" if i in aside
                   else "无应答/未入户 (no response)" for i in lost[self.id]]
        return lost.assign(status="未完成核查", reason=reasons).reset_index(drop=True)

    def field_lists(
        self,
        path: str | Path,
        *,
        by: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> Path:
        """Write the field list to Excel: one sheet per value of *by* (e.g. county).

        Phone numbers are masked (138****5678); ID-card numbers are never written (a
        requested ID-card column is dropped with a warning, and ID or phone numbers found by
        content in any other column are masked).  Every cell is written as text or number,
        never as a formula (:mod:`survey_stats.safe_output`); what was masked is left in
        :attr:`masked`.  Names and addresses
        appear only if listed in *columns* — field teams need them to find households.

        Parameters
        ----------
        path : str or Path
            The .xlsx file to write.
        by : str, optional
            Column whose values name the sheets.
        columns : list of str, optional
            Columns to include (default: id, stratum, certainty and *by*).
        """
        path = Path(path)
        cols = list(columns) if columns is not None else [self.id, "stratum", "certainty"]
        if by and by not in cols:
            cols.insert(0, by)
        missing = [c for c in cols if c not in self.units.columns]
        if missing:
            raise DataError(f"field-list column(s) {describe_values(missing)} are not in the sample.")
        pii = detect_pii_columns(cols)
        out = self.units[cols].copy()
        for c, kind in pii.items():
            if kind == "id_card":
                warnings.warn(f"column {c!r} looks like an ID-card number and is never written to field lists.",
                              SurveyStatsWarning, stacklevel=2)
                out = out.drop(columns=c)
        groups = {"field list": out} if by is None else {str(k): g for k, g in out.groupby(by, sort=True)}
        # phones (by name or content) and ID numbers found in any column are masked; names kept for fieldwork
        self.masked = write_workbook(path, groups, mask=True, personal="keep")
        return path
