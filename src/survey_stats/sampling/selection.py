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
from ._arrow_text import label_column, take_text
from ._order import by_code_then_key, stable_by_code, stable_sort
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
    if method == "srs":
        rand_rows, rand_codes, pi_of = _draw_srs(cert, key, codes, m, (N_h - c_h).to_numpy())
    else:
        hit_rows, cert, pi_of = _draw_ordered(frame, method, sort_by, cert, codes, m, rng)
        rand_rows, rand_codes = _by_stratum_then_key(hit_rows, key, codes)
    idx, sel_codes, sel_cert = _sample_order(np.flatnonzero(cert), rand_rows, rand_codes, key, codes)
    pi_sel = np.clip(pi_of(idx, sel_codes, sel_cert), 0.0, 1.0)  # inclusion probabilities of the selected units
    units = _sample_table(df, idx, sel_codes, labels, sel_cert)
    units["pi"] = pi_sel
    units["weight"] = 1.0 / pi_sel
    rest, rdf = _reserve_list(frame, reserve, n_h, idx, rng, codes)
    H = len(labels)
    n_sel = np.bincount(sel_codes, minlength=H)
    c_sel = np.bincount(sel_codes[sel_cert], minlength=H)
    strata = pd.DataFrame({
        "stratum": labels, "N": N_h.to_numpy(), "n": n_sel, "certainty": c_sel, "random": n_sel - c_sel,
        "census": labels.isin(list(census)), "reserve": np.bincount(codes[rest], minlength=H),
    })
    manifest = _manifest(frame, method, seed, sort_by, n, fraction, census, reserve, flagged, strata, units)
    return Sample(frame.id, units, rdf, strata, manifest, method)


def _sample_table(df: pd.DataFrame, idx: np.ndarray, sel_codes: np.ndarray, labels: pd.Index,
                  sel_cert: np.ndarray) -> pd.DataFrame:
    """The frame's rows *idx* (as ``df.iloc[idx]``, index reset) with this draw's certainty flags
    *sel_cert*; the stratum labels are made from their codes *sel_codes* rather than gathered."""
    def take(values: Any) -> Any:
        fast = take_text(values, idx)
        return values.take(idx) if fast is None else fast

    cols = {c: (label_column(sel_codes, labels) if c == "stratum" else sel_cert if c == "certainty"
                else take(df[c].array)) for c in df.columns}
    return pd.DataFrame(cols, columns=df.columns)


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
    size = target.to_numpy().astype(np.int64) + (c_h.to_numpy() if flagged == "in_addition" else 0)
    is_census = labels.isin(list(census))
    size[is_census] = N_h.to_numpy()[is_census]
    return pd.Series(np.maximum(size, c_h.to_numpy()), index=labels)


def _draw_srs(cert: np.ndarray, key: np.ndarray, codes: np.ndarray, m: np.ndarray,
              N_rand: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
    """Stratified SRS: the m_h smallest random keys of each stratum's non-certainty units.

    Returns the random units by stratum then key, their stratum codes, and π of selected rows
    given (rows, their codes, their certainty flags).
    """
    rows, rows_codes, _ = _smallest_per_stratum(key, codes, m, N_rand, ~cert if cert.any() else None)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_rand = np.where(N_rand > 0, m / N_rand, 0.0)  # (n_h − c_h)/(N_h − c_h), or 1 for certainty units

    def pi_of(idx: np.ndarray, sel_codes: np.ndarray, sel_cert: np.ndarray) -> np.ndarray:
        return np.where(sel_cert, 1.0, p_rand[sel_codes])

    return rows, rows_codes, pi_of


def _draw_ordered(frame: Frame, method: str, sort_by: Any, cert: np.ndarray, codes: np.ndarray,
                  m: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, Any]:
    """Systematic or PPS-systematic selection along the sorted frame, one random start per stratum.

    PPS units whose size reaches the sampling step become certainty units first.  Returns the
    randomly hit rows (ascending), the certainty mask including those additions, and π of
    selected rows given (rows, their codes, their certainty flags).
    """
    df, H = frame.data, len(m)
    sort_cols = [] if sort_by is None else ([sort_by] if isinstance(sort_by, str) else list(sort_by))
    for c in sort_cols:
        if c not in df.columns:
            raise DataError(f"sort_by column {c!r} is not in the frame.")
    order, oc, ocert = _frame_order(df, sort_cols, cert, codes)
    count = np.bincount(oc, minlength=H)  # units per stratum; *oc* is sorted, so stratum h is a run of count[h]
    if method == "systematic":
        size = np.where(ocert, 0.0, 1.0)
    else:
        size = np.where(ocert, 0.0, pd.to_numeric(df[frame.size]).to_numpy(dtype=float)[order])
        size, extra_cert = _pps_certainty(size, oc, count, m)
        if extra_cert.any():
            cert = cert.copy()
            cert[order[extra_cert]] = True
            m = m - np.bincount(oc[extra_cert], minlength=H)
    hit, p_hit = _systematic_hits(size, oc, count, m, rng)
    rows = order[hit]
    pi = np.empty(len(df))  # read only at the hit rows; certainty units have π = 1
    pi[rows] = p_hit

    def pi_of(idx: np.ndarray, sel_codes: np.ndarray, sel_cert: np.ndarray) -> np.ndarray:
        return np.where(sel_cert, 1.0, pi[idx])

    rows.sort()
    return rows, cert, pi_of


def _systematic_hits(size: np.ndarray, oc: np.ndarray, count: np.ndarray, m: np.ndarray,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Positions (in the ordered frame) hit by the points start_h + k·step_h, step_h = X_h/m_h,
    and their π = x/step.  *size* x is 0 for certainty units; *oc* the ordered stratum codes,
    *count* the units per stratum."""
    H = len(m)
    total = np.bincount(oc, weights=size, minlength=H)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(m > 0, total / m, np.inf)
    start = rng.random(H) * np.where(np.isfinite(step), step, 0.0)
    hi = np.cumsum(size)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    hi -= np.repeat(np.concatenate(([0.0], hi))[first], count)  # cumulative size within the stratum, to the unit's end
    lo = hi - size
    st, sp = np.repeat(start, count), np.repeat(step, count)  # oc is sorted: per-stratum values by repetition
    # a unit is hit when a point falls in (lo, hi]: ⌈(hi − start)/step⌉ − ⌈(lo − start)/step⌉ ≥ 1;
    # with no draws (step = ∞, start = 0) both counts are 0
    with np.errstate(divide="ignore", invalid="ignore"):
        hi -= st
        hi /= sp
        hi -= 1e-12
        np.ceil(hi, out=hi)
        lo -= st
        lo /= sp
        lo -= 1e-12
        np.ceil(lo, out=lo)
    hi -= lo
    hit = np.flatnonzero((hi >= 1) & (size > 0))
    return hit, size[hit] / sp[hit]


def _reserve_list(frame: Frame, reserve: int | float, n_h: pd.Series, idx: np.ndarray,
                  rng: np.random.Generator, codes: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Unselected units (all certainty units are among the selected *idx*) in random order, up to
    each stratum's quota: (rows, table)."""
    labels = frame._labels
    if isinstance(reserve, float) and reserve < 1:
        quota = np.ceil(reserve * n_h.to_numpy()).astype(int)
    else:
        quota = np.full(len(labels), int(reserve))
    rest, rank = _reserve_order(idx, rng, codes, quota)
    rdf = pd.DataFrame({frame.id: frame.data[frame.id].take(rest).to_numpy(),
                        "stratum": labels[codes[rest]], "reserve_rank": rank})
    return rest, rdf


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


def _by_stratum_then_key(rows: np.ndarray, key: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """*rows* (ascending positions) ordered by stratum, then by their uniform key in [0, 1), ties
    by position — what a stable sort by key and then a stable sort by stratum give — and their
    stratum codes."""
    c = codes[rows]
    order = by_code_then_key(c, key[rows])
    return rows[order], c[order]


def _frame_order(df: pd.DataFrame, sort_cols: list[str], cert: np.ndarray,
                 codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows by stratum, non-certainty before certainty, then the sort_by columns, then frame
    order; with the ordered rows' stratum codes and certainty flags."""
    order = np.arange(len(df))
    for c in reversed(sort_cols):  # least significant first; each sort is stable
        k = pd.factorize(df[c], sort=True)[0] + 1  # missing values (code −1) first, as before
        order = order[stable_by_code(k[order])]
    comb = codes.astype(np.int64) * 2 + cert  # stratum, then certainty
    perm, ordered = stable_sort(comb if not sort_cols else comb[order])
    strata = (ordered >> np.uint64(1)).view(np.int64)  # intp: indexing and bincount use it without conversion
    return (perm if not sort_cols else order[perm]), strata, (ordered & np.uint64(1)).astype(bool)


def _sample_order(cert_idx: np.ndarray, rand_rows: np.ndarray, rand_codes: np.ndarray, key: np.ndarray,
                  codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Selected rows by stratum, certainty units first, each group by its random key; with their
    stratum codes and certainty flags.

    The random units come ordered by stratum and key (with their codes); the certainty units,
    ordered the same way, are inserted before the random units of their stratum.
    """
    cert_rows, cert_codes = _by_stratum_then_key(cert_idx, key, codes)
    at = np.searchsorted(rand_codes, cert_codes, side="left")
    return (np.insert(rand_rows, at, cert_rows), np.insert(rand_codes, at, cert_codes),
            np.insert(np.zeros(len(rand_rows), dtype=bool), at, True))


def _reserve_order(selected: np.ndarray, rng: np.random.Generator, codes: np.ndarray,
                   quota: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first ``quota`` of each stratum's units not among the *selected* rows, in a random
    order, with their 1-based rank."""
    if not quota.any():  # no reserve: the generator is not used after this point
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    free = np.ones(len(codes), dtype=bool)
    free[selected] = False
    rest = np.flatnonzero(free)
    if len(rest) == 0:
        return rest, np.zeros(0, dtype=np.int64)
    key = np.zeros(len(codes))
    key[rest] = rng.random(len(rest))
    rows, _, rank = _smallest_per_stratum(key, codes, quota, np.bincount(codes[rest], minlength=len(quota)), free)
    return rows, rank + 1


def _smallest_per_stratum(key: np.ndarray, codes: np.ndarray, m: np.ndarray, R_h: np.ndarray,
                          eligible: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows holding the m_h smallest uniform keys among the *eligible* rows (all when None;
    R_h of them in stratum h) of each stratum, ordered by stratum then key (ties by position),
    with their stratum codes and 0-based rank.

    The result is the first m_h rows of each stratum in the complete (stratum, key) ordering,
    but only rows that can be among them are sorted: those whose key is under a per-stratum
    threshold t_h = (m_h + 4√m_h + 8)/R_h (about m_h + 4√m_h rows fall under it, fewer than m_h
    with probability below 10⁻⁴), or the whole stratum when fewer than m_h do.  A
    fraction-0.3 draw thus sorts a third of the frame, not all of it.
    """
    H = len(m)
    q = np.minimum(m, R_h)
    with np.errstate(divide="ignore", invalid="ignore"):
        thr = np.where(q > 0, (q + 4 * np.sqrt(q) + 8) / R_h, 0.0)
    under = key < thr[codes]
    if eligible is not None:
        under &= eligible
    cand = np.flatnonzero(under)
    short = np.bincount(codes[cand], minlength=H) < q  # threshold too tight here: keep the whole stratum
    if short.any():
        under |= short[codes] if eligible is None else (short[codes] & eligible)
        cand = np.flatnonzero(under)
    rows, c = _by_stratum_then_key(cand, key, codes)
    rank = _rank_within(c)
    keep = rank < q[c]
    return rows[keep], c[keep], rank[keep]


def _pps_certainty(size: np.ndarray, codes: np.ndarray, count: np.ndarray,
                   m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move units with m·x/X ≥ 1 to certainty until none is left (per stratum; *codes* sorted,
    *count* units per stratum).

    Only units with x ≥ (1 − 10⁻⁹)·X/m can qualify (rounding moves m·x/X by a few units in
    the last place); the exact test runs on those.
    """
    size = size.copy()
    m = m.astype(float).copy()
    extra = np.zeros(len(size), bool)
    H = len(m)
    for _ in range(len(size)):
        total = np.bincount(codes, weights=size, minlength=H)
        with np.errstate(divide="ignore", invalid="ignore"):
            near = np.where(m > 0, total / m, np.inf) * (1 - 1e-9)
            cand = np.flatnonzero((size >= np.repeat(near, count)) & (size > 0))
            c = codes[cand]
            p = np.where(total[c] > 0, m[c] * size[cand] / total[c], 0.0)
        big = cand[p >= 1]
        if not len(big):
            break
        extra[big] = True
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
