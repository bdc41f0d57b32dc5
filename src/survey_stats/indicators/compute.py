"""Compute every indicator of a system from coded survey data, with SE, CI, verdict and flag."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._internal import Origin, has_census, html_table, indicator_frame, proportion_parts, text_table
from .._validation import check_level, check_option, describe_rows, describe_values
from ..ci import PROPORTION_METHODS, ProportionMethod, proportion_interval
from ..contrasts import linear_combination
from ..design import Design
from ..errors import DataError
from ..expr import parse
from ..results import Estimate
from .definitions import IndicatorSystem
from .verdicts import reliability, verdict

__all__ = ["IndicatorResult", "IndicatorTable", "evaluate_indicators"]


@dataclass(frozen=True)
class IndicatorResult:
    """One row of the indicator table."""

    id: str
    name_zh: str
    name_en: str
    kind: str
    denominator: str
    n: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    level: float
    df: float
    ci_method: str
    deff: float
    n_eff: float
    reference: float | None
    direction: str
    verdict: str
    reliability: str
    reliability_reason: str
    coefficients: Mapping[str, float] = field(default_factory=dict, repr=False)
    constant: float = 0.0


@dataclass(frozen=True)
class IndicatorTable:
    """All indicators of a system, plus the base rates they are built from.

    Attributes
    ----------
    rows : tuple of IndicatorResult
    parts : DataFrame
        The base rates (every rate and every part of a weighted index) with estimate, SE
        and n.
    theta, vcov : ndarray
        Base-rate estimates and their covariance (block diagonal across samples; zero for
        administrative counts) — what score simulations draw from.
    part_ids : tuple of str
    """

    rows: tuple[IndicatorResult, ...]
    parts: pd.DataFrame
    theta: np.ndarray
    vcov: np.ndarray
    part_ids: tuple[str, ...]
    level: float
    ci_method: str

    def __getitem__(self, iid: str) -> IndicatorResult:
        for r in self.rows:
            if r.id == iid:
                return r
        raise DataError(f"no indicator {iid!r} in the table; ids: {describe_values([r.id for r in self.rows])}.")

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame, one row per indicator (Chinese and English names both present)."""
        cols = [f for f in IndicatorResult.__dataclass_fields__ if f not in ("coefficients", "constant")]
        return pd.DataFrame([{c: getattr(r, c) for c in cols} for r in self.rows])

    def linear_form(self, iid: str) -> tuple[np.ndarray, float]:
        """(coefficients over ``part_ids``, constant) of indicator *iid*."""
        r = self[iid]
        a = np.zeros(len(self.part_ids))
        for pid, c in r.coefficients.items():
            a[self.part_ids.index(pid)] = c
        return a, r.constant

    def __repr__(self) -> str:
        head = f"<IndicatorTable: {len(self.rows)} indicators, {self.level:.0%} CI ({self.ci_method})>"
        return head + ("\n" + text_table(indicator_frame(self.rows)) if self.rows else "")

    def _repr_html_(self) -> str:
        return html_table(indicator_frame(self.rows), f"{len(self.rows)} indicators, {self.level:.0%} CI")

    def __format__(self, spec: str) -> str:
        if not spec:
            return repr(self)
        return "\n".join(f"{r.id} {r.name_en}: {r.estimate:{spec}} (SE {r.se:{spec}}; {r.level:.0%} CI "
                         f"{r.ci_low:{spec}} to {r.ci_high:{spec}}) {r.verdict}" for r in self.rows)


def _sql_parts(expr: str | None, where: str, role: str, columns: Any) -> str | None:
    """A numerator (value) or denominator (condition) of an indicator file, as SQL."""
    if expr is None:
        return None
    e = parse(expr, source=f"{where}, {role}")
    e.check_columns(columns)
    return e.to_sql(condition=role == "denominator")


def _mask(data: pd.DataFrame, expr: str | None, where: str) -> np.ndarray:
    if expr is None:
        return np.ones(len(data), dtype=bool)
    return parse(expr, source=f"{where}, denominator").mask(data)


def _values(data: pd.DataFrame, expr: str, where: str) -> np.ndarray:
    if expr in data.columns:
        s = data[expr]
        if s.dtype == bool:
            return s.to_numpy(dtype=float)
        v = pd.to_numeric(s, errors="coerce")
        bad = s.notna() & v.isna()
        if bad.any():
            raise DataError(f"{where}: numerator column {expr!r} is not 0/1 in {describe_rows(data.index, bad.to_numpy())}.")
        return v.to_numpy(dtype=float)
    v = parse(expr, source=f"{where}, numerator").evaluate(data)
    if v.dtype == bool or v.dtype == float:
        return v.astype(float)
    raise DataError(f"{where}: numerator {expr!r} gives {v.dtype} values, not 0/1 or True/False.")


def evaluate_indicators(
    system: IndicatorSystem,
    samples: Mapping[str, Design],
    *,
    administrative: Mapping[str, tuple[float, float]] | None = None,
    level: float | None = None,
    ci_method: ProportionMethod = "beta",
    df: float | str | None = None,
    na: str = "fail",
    cap_n_eff: str = "srswor",
) -> IndicatorTable:
    """Compute every indicator of *system* with SE, CI, verdict and reliability flag.

    Parameters
    ----------
    system : IndicatorSystem
    samples : mapping of sample name → Design
        The designs named by the indicators' ``sample`` fields, e.g.
        ``{"registered": ..., "unregistered": ..., "deregistered": ...}``.  Parts that
        share a design are estimated in one call, so their covariance is right;
        different designs are independent samples.
    administrative : mapping of indicator id → (numerator, denominator)
        Counts for administrative indicators (信息比对率): no sampling error.
    level : float, optional
        Confidence level (default: the system's).
    ci_method : str
        Interval for single rates (default ``"beta"``, Korn-Graubard); composites use
        a Wald interval with Satterthwaite df across samples.
    df : optional
        As for the estimators (``None`` = each design's df).
    na : {"fail", "drop"}
        A missing numerator inside a denominator: raise, or leave the household out.
    cap_n_eff : {"srswor", "n", "none"}
        Single rates: a cap on the effective sample size n* = p̂(1 − p̂)/SE² the interval
        is built from (Korn-Graubard and the other n*-based methods).  When every event
        of a rate lies in certainty units (flagged files visited with certainty, census
        strata), the SE sees none of the events' variability, n* grows far beyond n and
        the interval under-covers (docs/indicators.md, "Effective sample size").
        ``"srswor"`` (default): n* is at most that of a simple random sample without
        replacement of the same n from the same estimated population — the design
        effect is floored at 1, so a census or near-census keeps its finite-population
        correction.  ``"n"``: n* ≤ n, the cap of the NCHS presentation standards for
        proportions (Parker et al. 2017, NCHS Vital Health Stat 2(175)); it ignores the
        FPC and so widens near-census intervals.  ``"none"``: no cap, as R
        ``svyciprop(method = "beta")`` does.  The reported SE is the design SE in
        every case; the capped interval's method says "n_eff capped".

    Returns
    -------
    IndicatorTable

    Examples
    --------
    >>> import survey_stats as ss
    >>> df = ss.datasets.load_poverty_survey()
    >>> d = ss.Design(df[df["status"] == "unexited"], fpc="N_h")   # the telephone census
    >>> t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]), {"phone": d})
    >>> r = t["missed_exit_rate"]
    >>> round(r.estimate, 4), r.se, r.verdict       # a census: no sampling error
    (0.082, 0.0, 'fails')
    """
    level = check_level(system.level if level is None else level)
    check_option(ci_method, "ci_method", PROPORTION_METHODS)
    check_option(na, "na", ("fail", "drop"))
    check_option(cap_n_eff, "cap_n_eff", ("srswor", "n", "none"))
    administrative = dict(administrative or {})
    # 1. base parts (rates and the parts of weighted indicators), estimated sample by sample
    parts = _base_parts(system)
    estimates: dict[str, Estimate] = {}
    masks: dict[str, tuple[str, np.ndarray]] = {}  # part id -> (sample, domain mask)
    for sample in _needed_samples(parts, samples):
        own = [p for p in parts if p["sample"] == sample]
        estimates.update(_sample_estimates(samples[sample], sample, own, masks, level=level, df=df,
                                           ci_method=ci_method, na=na))
    estimates.update(_administrative_estimates(system, administrative, level))
    # 2. every indicator as a linear form over the base parts, then its row
    part_ids = list(estimates)
    forms: dict[str, tuple[dict[str, float], float]] = {}
    rows = []
    for ind in system:
        coef, const = _form(system, ind.id, forms, masks, samples)
        if ind.kind in ("rate", "administrative"):
            rows.append(_base_row(ind, estimates[ind.id], coef, const, samples, level, ci_method, cap_n_eff))
        else:
            rows.append(_composite_row(ind, coef, const, estimates, masks, parts, level))
    theta = np.array([estimates[p].estimate for p in part_ids])
    parts_frame = pd.DataFrame([{"part": pid, "sample": next((p["sample"] for p in parts if p["id"] == pid), None),
                                 "n": estimates[pid].n, "estimate": estimates[pid].estimate, "se": estimates[pid].se,
                                 "ci_low": estimates[pid].ci_low, "ci_high": estimates[pid].ci_high}
                                for pid in part_ids])
    return IndicatorTable(tuple(rows), parts_frame, theta, _joint_cov(estimates, part_ids), tuple(part_ids), level,
                          ci_method)


def _base_parts(system: IndicatorSystem) -> list[dict[str, Any]]:
    """The rates and the parts of weighted indicators: what is estimated from the samples."""
    parts: list[dict[str, Any]] = []
    for ind in system:
        if ind.kind == "rate":
            parts.append({"id": ind.id, "sample": ind.sample, "denominator": ind.denominator,
                          "numerator": ind.numerator, "owner": ind.id})
        elif ind.kind == "weighted_parts":
            for p in ind.parts:
                parts.append({"id": f"{ind.id}.{p['id']}", "sample": p["sample"], "denominator": p.get("denominator"),
                              "numerator": p["numerator"], "owner": ind.id})
    return parts


def _needed_samples(parts: list[dict[str, Any]], samples: Mapping[str, Design]) -> list[str]:
    need = sorted({p["sample"] for p in parts})
    missing = [s for s in need if s not in samples]
    if missing:
        users = sorted({p["owner"] for p in parts if p["sample"] in missing})
        raise DataError(
            f"no design given for sample(s) {describe_values(missing)}, needed by {describe_values(users)}; "
            "pass them in samples=, or drop those indicators with system.select([...])."
        )
    return need


def _sample_estimates(design: Any, sample: str, parts: list[dict[str, Any]], masks: dict[str, tuple[str, np.ndarray]],
                      *, level: float, df: Any, ci_method: str, na: str) -> dict[str, Estimate]:
    """One sample's parts as proportions with their joint covariance (row masks kept in *masks*)."""
    if getattr(design, "_sql_backend", False):  # DuckDB / Parquet backend: the same parts in SQL
        cols = design.all_columns
        qs = [(p["id"], _sql_parts(p["numerator"], f"indicator {p['owner']!r} (sample {sample!r})", "numerator", cols),
               _sql_parts(p["denominator"], f"indicator {p['owner']!r} (sample {sample!r})", "denominator", cols))
              for p in parts]
        tab = design.proportion_parts(qs, level=level, df=df, ci_method=ci_method, na=na)
        return {pid: row for (pid, _, _), row in zip(qs, tab)}
    if not isinstance(design, Design):
        raise DataError(f"samples[{sample!r}] must be a Design, got {type(design).__name__}.")
    data = design.variables
    specs = []
    for p in parts:
        where = f"indicator {p['owner']!r} (sample {sample!r})"
        mask = _mask(data, p["denominator"], where)
        y = _values(data, p["numerator"], where)
        bad_na = mask & np.isnan(y)
        if bad_na.any():
            if na == "fail":
                raise DataError(
                    f"{where}: numerator {p['numerator']!r} is missing for {describe_rows(data.index, bad_na)} "
                    "inside the denominator; code them or pass na='drop'."
                )
            mask = mask & ~bad_na
        if not mask.any():
            raise DataError(f"{where}: the denominator {p['denominator']!r} selects no respondents.")
        vals = np.nan_to_num(y)
        bad = mask & ~np.isin(vals, (0.0, 1.0))
        if bad.any():
            raise DataError(f"{where}: numerator {p['numerator']!r} is not 0/1 in {describe_rows(data.index, bad)}.")
        specs.append((p["id"], vals, mask))
        masks[p["id"]] = (sample, mask)
    tab = proportion_parts(design, specs, level=level, df=df, ci_method=ci_method)  # type: ignore[arg-type]
    return {pid: row for (pid, _, _), row in zip(specs, tab)}


def _administrative_estimates(system: IndicatorSystem, administrative: dict[str, tuple[float, float]],
                              level: float) -> dict[str, Estimate]:
    """Administrative indicators from their counts: no sampling error."""
    estimates = {}
    for ind in system:
        if ind.kind == "administrative":
            if ind.id not in administrative:
                raise DataError(f"administrative indicator {ind.id!r} needs its counts: administrative={{{ind.id!r}: (numerator, denominator)}}.")
            num, den = administrative[ind.id]
            if not den > 0 or num < 0 or num > den:
                raise DataError(f"administrative counts for {ind.id!r} must satisfy 0 ≤ numerator ≤ denominator > 0.")
            p = num / den
            zero = np.zeros((1, 1))
            zero.setflags(write=False)
            estimates[ind.id] = Estimate("proportion", ind.id, p, 0.0, p, p, level, math.inf, int(den), float(den),
                                         math.nan, 0.0, "administrative count (no sampling error)", (), None, 0,
                                         Origin((), zero, 0))
    unknown_admin = set(administrative) - {i.id for i in system if i.kind == "administrative"}
    if unknown_admin:
        raise DataError(f"administrative counts given for non-administrative indicator(s) {describe_values(sorted(unknown_admin))}.")
    return estimates


def _form(system: IndicatorSystem, iid: str, forms: dict[str, tuple[dict[str, float], float]],
          masks: dict[str, tuple[str, np.ndarray]], samples: Mapping[str, Design]) -> tuple[dict[str, float], float]:
    """Indicator *iid* as (coefficients over base parts, constant); composites recursively, memoised in *forms*."""
    if iid in forms:
        return forms[iid]
    ind = system[iid]
    if ind.kind in ("rate", "administrative"):
        f = ({iid: 1.0}, 0.0)
    elif ind.kind == "weighted_parts":
        f = ({f"{iid}.{p['id']}": w for p, w in zip(ind.parts, _part_weights(ind, masks, samples))}, 0.0)
    else:
        coef: dict[str, float] = {}
        const = float(ind.constant)
        for t, c in ind.terms.items():
            sub, k = _form(system, t, forms, masks, samples)
            const += c * k
            for pid, v in sub.items():
                coef[pid] = coef.get(pid, 0.0) + c * v
        f = (coef, const)
    forms[iid] = f
    return f


def _base_row(ind: Any, e: Estimate, coef: dict[str, float], const: float, samples: Mapping[str, Design],
              level: float, ci_method: str, cap_n_eff: str) -> IndicatorResult:
    """The row of a rate or administrative indicator: its own estimate, reliability and verdict."""
    if cap_n_eff != "none" and ind.kind == "rate":
        e = _capped(e, ci_method, cap_n_eff)
    census = e.se == 0 and ind.kind == "rate" and _all_census(samples[ind.sample], e)  # type: ignore[index]
    flag, why = (("reliable", "administrative count: no sampling error") if ind.kind == "administrative"
                 else reliability(e.estimate, e.n, e.n_eff, e.se, e.df, level=level, census=census))
    return IndicatorResult(ind.id, ind.name_zh, ind.name_en, ind.kind, ind.denominator_zh, e.n,
                           e.estimate, e.se, e.ci_low, e.ci_high, level, e.df, e.method, e.deff, e.n_eff,
                           ind.reference, ind.direction,
                           verdict(e.ci_low, e.ci_high, ind.reference, ind.direction), flag, why,
                           coef, const)


def _composite_row(ind: Any, coef: dict[str, float], const: float, estimates: dict[str, Estimate],
                   masks: dict[str, tuple[str, np.ndarray]], parts: list[dict[str, Any]],
                   level: float) -> IndicatorResult:
    """The row of a weighted or composite indicator: a linear combination of base parts."""
    lc = linear_combination({pid: estimates[pid] for pid in coef}, coef, level=level, variable=ind.id,
                            constant=const)
    # respondents behind the composite: distinct households per sample (+ administrative counts);
    # for SQL samples (no row masks here) the largest part's n per sample, a lower bound
    union: dict[str, np.ndarray] = {}
    sql_n: dict[str, int] = {}
    n_admin = 0
    sample_of = {p["id"]: p["sample"] for p in parts}
    for pid in coef:
        if pid in masks:
            smp, m = masks[pid]
            union[smp] = union[smp] | m if smp in union else m
        elif pid in sample_of:
            sql_n[sample_of[pid]] = max(sql_n.get(sample_of[pid], 0), estimates[pid].n)
        else:
            n_admin = max(n_admin, estimates[pid].n)
    # administrative counts are records, not respondents: they count only when nothing else does
    n_resp = int(sum(int(m.sum()) for m in union.values())) + sum(sql_n.values())
    n_resp = n_resp or n_admin
    width = lc.ci_high - lc.ci_low
    flag, why = ("reliable", f"composite; CI width {width:.3f}") if width <= 0.05 else (
        ("unreliable", f"composite; CI width {width:.3f} ≥ 0.30") if width >= 0.30
        else ("review", f"composite; CI width {width:.3f} > 0.05"))
    # a composite of rates is a rate: a Wald end beyond 0 or 100% is cut there (coverage can only rise,
    # no verdict changes for a reference inside (0, 1)); reliability keeps the uncut width
    lo, hi = max(lc.ci_low, 0.0), min(lc.ci_high, 1.0)
    method = "wald (linear combination)" + ("; truncated to [0, 1]" if lc.ci_low < 0 or lc.ci_high > 1 else "")
    return IndicatorResult(ind.id, ind.name_zh, ind.name_en, ind.kind, ind.denominator_zh, n_resp,
                           lc.estimate, lc.se, lo, hi, level, lc.df, method,
                           math.nan, math.nan, ind.reference, ind.direction,
                           verdict(lo, hi, ind.reference, ind.direction), flag, why,
                           coef, const)


def _joint_cov(estimates: dict[str, Estimate], part_ids: list[str]) -> np.ndarray:
    """Covariance of all base parts: each sample's block from its call, zero between samples."""
    V = np.zeros((len(part_ids), len(part_ids)))
    groups: dict[int, list[int]] = {}
    for i, pid in enumerate(part_ids):
        groups.setdefault(id(estimates[pid].source.vcov), []).append(i)  # type: ignore[union-attr]
    for members in groups.values():
        src = estimates[part_ids[members[0]]].source.vcov  # type: ignore[union-attr]
        idx = [estimates[part_ids[i]].source.index for i in members]  # type: ignore[union-attr]
        V[np.ix_(members, members)] = np.asarray(src)[np.ix_(idx, idx)]
    return V


def _capped(e: Estimate, ci_method: str, cap: str) -> Estimate:
    """The estimate with its interval from the capped effective sample size (see ``cap_n_eff``).

    ``"srswor"``: n* ≤ p̂(1 − p̂)/V_srswor = n_eff · deff (when deff, against SRSWOR, is
    below 1); ``"n"``: n* ≤ n.  A standard error of sqrt(p̂(1 − p̂)/n*) is exactly the
    one whose effective sample size is n*, so :func:`~survey_stats.ci.proportion_interval`
    given it builds the capped interval of any method; the reported SE stays the design's.
    """
    if not (e.se > 0 and 0 < e.estimate < 1):
        return e
    limit = float(e.n) if cap == "n" else e.n_eff * e.deff if math.isfinite(e.deff) and e.deff < 1 else math.inf
    if not e.n_eff > limit:
        return e
    se_cap = math.sqrt(e.estimate * (1 - e.estimate) / limit)
    lo, hi, n_eff, used = proportion_interval(e.estimate, se_cap, e.n, level=e.level, df=e.df,
                                              ci_method=ci_method)  # type: ignore[arg-type]
    what = "n" if cap == "n" else "SRSWOR (deff floored at 1)"
    return dataclasses.replace(e, ci_low=lo, ci_high=hi, n_eff=n_eff, method=f"{used} (n_eff capped: {what})")


def _part_weights(ind: Any, masks: Mapping[str, tuple[str, np.ndarray]], samples: Mapping[str, Any]) -> list[float]:
    """Part weights: declared numbers, or ``"population"`` — each part's estimated population share.

    A pooled rate over groups surveyed by independent samples (e.g. 错退率 over exited
    and deregistered households) is Σ_g (N̂_g / Σ N̂) p̂_g with N̂_g the weight total of
    part g's respondents.  With nonresponse-adjusted weights that sum to N_h in each
    stratum and part domains that are unions of strata, N̂_g is the known group size,
    so treating the shares as fixed gives the exact variance of the pooled rate
    (Cochran 1977, §5.7, a stratified estimate over the union of the groups' strata).
    """
    if all(p["weight"] != "population" for p in ind.parts):
        return [float(p["weight"]) for p in ind.parts]
    sizes = []
    for p in ind.parts:
        pid = f"{ind.id}.{p['id']}"
        if pid not in masks:
            raise DataError(f"indicator {ind.id!r}: population weights need in-memory designs (part {p['id']!r}).")
        smp, m = masks[pid]
        sizes.append(float(np.asarray(samples[smp].weights)[m].sum()))
    total = sum(sizes)
    return [n / total for n in sizes]


def _all_census(design: Design, e: Estimate) -> bool:
    """True when the estimate's zero SE comes from census strata (the method says so)."""
    return e.ci_low == e.ci_high == e.estimate and has_census(design)
