"""The 100-point performance score (seed 001) with sampling uncertainty.

Items are data (``scoring.json``): each has points and a list of components whose
sum, clipped to [0, points], is the item's score.  Component types:

``checklist``
    Criteria with points, awarded from the evaluator's yes/no (or partial points)
    input with an evidence reference; optional ``cap``.
``days_steps``
    Points by working days: the first step ``[days, points]`` with days ≤ limit.
``ratio_threshold``
    achieved/target ≥ ``full_at`` gives full marks, minus ``per_point`` for every
    percentage point below.
``rate_threshold``
    The same on an estimated indicator (e.g. satisfaction ≥ 90% full marks, −0.2 per
    point below): the only components with sampling uncertainty.
``per_count``
    ``per`` points per counted case (e.g. −0.1 per household paid off-standard).

A score computed from estimated rates is itself an estimate.  :func:`score` draws the
base rates from their joint normal approximation N(θ̂, V) (the indicator table's
estimates and covariance, independent across samples, zero variance for
administrative counts), recomputes every item, and reports percentile intervals and
the probability of each grade.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._internal import html_table
from .._validation import check_level, check_option, describe_values, flag_value, real_number, rng_for
from ..errors import DataError
from .compute import IndicatorTable

__all__ = ["ScoreResult", "ScoringRules", "grade_of", "score"]

_COMPONENTS = ("checklist", "days_steps", "ratio_threshold", "rate_threshold", "per_count")
Rounding = Literal["none", "floor", "ceil"]


class ScoringRules:
    """The scoring method: items, points, component rules and grade bands.

    Examples
    --------
    >>> rules = ScoringRules.default()
    >>> len(rules.items), sum(i["points"] for i in rules.items)
    (19, 100)
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        if not isinstance(spec, Mapping):
            raise DataError(f"scoring rules must be a mapping (a JSON object), got {type(spec).__name__}.")
        _check_shape(spec)
        self.spec = copy.deepcopy(dict(spec))
        self.items: list[dict[str, Any]] = self.spec.get("items", [])
        self.grades: list[dict[str, Any]] = sorted(self.spec.get("grades", []), key=lambda g: -g["min"])
        self.total_points = float(self.spec.get("total_points", 100))
        self._validate()

    @classmethod
    def default(cls) -> ScoringRules:
        """Seed 001's 19 third-level indicators (皖工发〔2019〕22号)."""
        text = resources.files("survey_stats.indicators").joinpath("data", "scoring.json").read_text("utf-8")
        return cls(json.loads(text))

    @classmethod
    def from_file(cls, path: str | Path) -> ScoringRules:
        """Load rules from a JSON file shaped like the shipped ``scoring.json``."""
        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read scoring rules from {str(path)!r}: {exc}") from exc
        return cls(spec)

    def _validate(self) -> None:
        if not self.items:
            raise DataError("scoring rules need a non-empty 'items' list.")
        ids = [i.get("id") for i in self.items]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise DataError(f"scoring item id(s) {describe_values(sorted(dup))} appear twice.")
        total = sum(float(i["points"]) for i in self.items)
        if abs(total - self.total_points) > 1e-9:
            raise DataError(f"scoring items add up to {total:g} points, not the declared total {self.total_points:g}.")
        for lvl, pts in self.spec.get("level1", {}).items():
            got = sum(float(i["points"]) for i in self.items if i.get("level1") == lvl)
            if abs(got - pts) > 1e-9:
                raise DataError(f"first-level indicator {lvl!r} has {got:g} points in its items, declared {pts:g}.")
        for item in self.items:
            for c in item.get("components", []):
                if c.get("type") not in _COMPONENTS:
                    raise DataError(f"item {item['id']!r}: component type {c.get('type')!r} is unknown; "
                                    f"use one of {', '.join(_COMPONENTS)}.")
            if not item.get("components"):
                raise DataError(f"item {item['id']!r} has no components.")
        if not self.grades or self.grades[-1]["min"] > 0:
            raise DataError("grades must cover every score down to 0.")

    def needs(self) -> dict[str, list[str]]:
        """What the evaluator must supply: checklist keys, numeric inputs and indicator ids."""
        out: dict[str, list[str]] = {"checklist": [], "numbers": [], "indicators": []}
        for item in self.items:
            for c in item["components"]:
                if c["type"] == "checklist":
                    out["checklist"] += [f"{item['id']}.{k['id']}" for k in c["criteria"]]
                elif c["type"] in ("days_steps", "per_count"):
                    out["numbers"].append(c["input"])
                elif c["type"] == "ratio_threshold":
                    out["numbers"] += [c["numerator"], c["denominator"]]
                else:
                    out["indicators"].append(c["indicator"])
        return out


def _check_shape(spec: Mapping[str, Any]) -> None:
    """Types of the rule file's fields, before any arithmetic on them."""
    items, grades = spec.get("items", []), spec.get("grades", [])
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise DataError("scoring rules: 'items' must be a list of objects.")
    for i in items:
        where = f"scoring item {i.get('id')!r}"
        if not isinstance(i.get("id"), str):
            raise DataError(f"{where}: every item needs a text 'id'.")
        real_number(i.get("points"), f"{where}: points", minimum=0.0)
        comps = i.get("components", [])
        if not isinstance(comps, list) or not all(isinstance(c, Mapping) for c in comps):
            raise DataError(f"{where}: 'components' must be a list of objects.")
    if not isinstance(grades, list) or not all(isinstance(g, Mapping) and "grade" in g for g in grades):
        raise DataError("scoring rules: 'grades' must be a list of objects with 'grade' and 'min'.")
    for g in grades:
        real_number(g.get("min"), f"grade {g.get('grade')!r}: min")
    real_number(spec.get("total_points", 100), "scoring rules: total_points", minimum=0.0)


def grade_of(total: float, rules: ScoringRules | None = None) -> str:
    """Grade of a total score: 优秀 ≥ 85, 良好 75-85, 中等 60-75, 差 < 60 (by default).

    Examples
    --------
    >>> grade_of(85.0), grade_of(84.99), grade_of(60.0), grade_of(59.9)
    ('优秀', '良好', '中等', '差')

    A missing total has no grade (rather than the lowest one):

    >>> try:
    ...     grade_of(float("nan"))
    ... except DataError as e:
    ...     print(e)
    total score = nan is not a finite number; give a number.
    """
    rules = rules or ScoringRules.default()
    total = real_number(total, "total score", error=DataError)
    for g in rules.grades:
        if total >= g["min"]:
            return str(g["grade"])
    return str(rules.grades[-1]["grade"])


@dataclass(frozen=True)
class ScoreResult:
    """Item scores, total, grade and their uncertainty.

    Attributes
    ----------
    items : DataFrame
        One row per item: no, id, level1, level2, name_zh, name_en, points, score,
        score_low, score_high, uncertain (depends on estimates), detail.
    total, total_low, total_high : float
        Total at the point estimates and its percentile interval.
    grade : str
        Grade of ``total``.
    grade_probabilities : dict
        Probability of each grade under the sampling distribution of the estimates.
    """

    items: pd.DataFrame
    total: float
    total_low: float
    total_high: float
    grade: str
    grade_probabilities: dict[str, float]
    level: float
    n_sim: int
    seed: int
    method: str = field(default="simulation from N(θ̂, V) of the base rates")

    def by_level1(self) -> pd.DataFrame:
        """Points and score per first-level indicator (投入, 过程, 产出, 效果)."""
        return self.items.groupby("level1", sort=False)[["points", "score"]].sum().reset_index()

    def summary(self) -> str:
        """One line such as '81.2 (95% interval 79.8 to 82.4): 良好 with probability 0.83'."""
        p = self.grade_probabilities.get(self.grade, 0.0)
        return (f"{self.total:.1f} ({self.level:.0%} interval {self.total_low:.1f} to {self.total_high:.1f}): "
                f"{self.grade} with probability {p:.2f}")

    def __repr__(self) -> str:
        return f"<ScoreResult {self.summary()}; {len(self.items)} items, {self.n_sim} draws>"

    def __format__(self, spec: str) -> str:
        if not spec:
            return repr(self)
        return (f"{self.total:{spec}} ({self.level:.0%} interval {self.total_low:{spec}} to "
                f"{self.total_high:{spec}}): {self.grade}")

    def _repr_html_(self) -> str:
        cols = [c for c in ("no", "id", "name_en", "points", "score", "score_low", "score_high") if c in self.items]
        return html_table(self.items[cols], self.summary())


def _bool_points(value: Any, pts: float, key: str) -> float:
    if isinstance(value, (bool, np.bool_, str)):
        flag = flag_value(value)
        if flag is None:
            raise DataError(f"checklist answer {key!r} = {value!r}: use yes/no (是/否), True/False or a number "
                            "of points.")
        return pts if flag else 0.0
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not 0 <= value <= pts:  # also refuses NaN
            raise DataError(f"checklist answer {key!r} = {value!r} points is outside 0-{pts:g}.")
        return float(value)
    raise DataError(f"checklist answer {key!r} = {value!r}: use yes/no, True/False or a number of points.")


def _count(inputs: Mapping[str, Any], key: str, default: float | None = None) -> float | None:
    """A supplied count or number of days: finite and ≥ 0 (None/default when not supplied)."""
    if key not in inputs:
        return default
    return real_number(inputs[key], f"scoring input {key!r}", minimum=0.0)


def _rate(value: Any, key: str) -> float:
    """A rate given or estimated for a ``rate_threshold`` component: finite, in [0, 1]."""
    return real_number(value, f"rate {key!r}", minimum=0.0, maximum=1.0)


def _rate_draws(indicators: IndicatorTable, ids: list[str], rng: np.random.Generator,
                n_sim: int) -> np.ndarray | None:
    """Draws of the base rates from N(θ̂, V); refuses non-finite values the needed rates use."""
    if not len(indicators.theta):
        return None
    theta = np.asarray(indicators.theta, dtype=float)
    V = np.asarray(indicators.vcov, dtype=float)
    used = np.zeros(len(theta), dtype=bool)
    for iid in ids:
        used |= indicators.linear_form(iid)[0] != 0
    bad = used & (~np.isfinite(theta) | ~np.isfinite(V[:, used]).all(axis=1) | ~np.isfinite(V[used]).all(axis=0))
    if bad.any():
        parts = [indicators.part_ids[i] for i in np.flatnonzero(bad)]
        raise DataError(f"base rate(s) {describe_values(parts)} of indicator(s) {describe_values(ids)} have no "
                        "finite estimate or covariance; the score cannot be simulated from them.")
    if not (np.isfinite(theta).all() and np.isfinite(V).all()):  # unused rates: keep them out of the draws
        theta = np.where(np.isfinite(theta), theta, 0.0)
        V = np.where(np.isfinite(V), V, 0.0)
    return rng.multivariate_normal(theta, V, size=n_sim, method="svd", check_valid="ignore")


def _shortfall(points_below: np.ndarray, rounding: str) -> np.ndarray:
    if rounding == "floor":
        return np.floor(points_below + 1e-9)
    if rounding == "ceil":
        return np.ceil(points_below - 1e-9)
    return points_below


def score(
    rules: ScoringRules,
    inputs: Mapping[str, Any],
    indicators: IndicatorTable | None = None,
    *,
    evidence: Mapping[str, str] | None = None,
    missing: Literal["fail", "zero"] = "fail",
    rounding: Rounding = "none",
    level: float = 0.95,
    n_sim: int = 10_000,
    seed: int = 0,
) -> ScoreResult:
    """Score the evaluation on the 100-point scale, with intervals and grade probabilities.

    Parameters
    ----------
    rules : ScoringRules
    inputs : mapping
        Checklist answers keyed ``"<item id>.<criterion id>"`` (yes/no, True/False,
        or points awarded for partial credit) and numbers keyed by the components'
        input names (``fund_transfer_working_days``, ``households_aided``,
        ``households_target``, ``off_standard_households``, ...).  An estimated rate
        may also be given here as a fixed number, overriding the indicator table.
    indicators : IndicatorTable, optional
        Source of the estimated rates (``rate_threshold`` components) and of their
        sampling distribution.
    evidence : mapping, optional
        Evidence reference per checklist key (document, page), carried into the table.
    missing : {"fail", "zero"}
        An input that is not supplied: raise listing all of them (default), or score 0.
    rounding : {"none", "floor", "ceil"}
        Percentage-point shortfalls are deducted proportionally (87.5% → 2.5 points
        below 90% → −0.5), or rounded down/up to whole points.
    level : float
        Level of the score intervals.
    n_sim : int
        Simulation draws.
    seed : int
        Seed of the simulation.

    Returns
    -------
    ScoreResult

    Raises
    ------
    DataError
        An input not supplied (with ``missing="fail"``); a count, number of days or
        household number that is not a finite number ≥ 0 (NaN, negative, text); a rate
        outside [0, 1] or NaN; a zero ratio denominator; a checklist answer that is not
        yes/no or points in range.  A supplied value is never scored as if absent.

    Examples
    --------
    >>> rules = ScoringRules.default()
    >>> answers = {k: True for k in rules.needs()["checklist"]}
    >>> answers.update(fund_transfer_working_days=18, fund_entry_working_days=25, households_aided=650,
    ...                households_target=656, off_standard_households=3, beneficiary_satisfaction=0.875,
    ...                social_satisfaction=0.92)
    >>> r = score(rules, answers)
    >>> r.items.set_index("id").loc[["aid_benefit", "coverage", "aid_standards"], "score"].round(2).tolist()
    [8.5, 8.54, 8.7]
    >>> round(r.total, 2), r.grade
    (98.74, '优秀')
    """
    check_option(missing, "missing", ("fail", "zero"))
    check_option(rounding, "rounding", ("none", "floor", "ceil"))
    level = check_level(level)
    if isinstance(n_sim, bool) or not isinstance(n_sim, (int, np.integer)) or n_sim < 100:
        raise DataError(f"n_sim={n_sim!r}: give a whole number of at least 100 draws.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise DataError(f"seed={seed!r}: give a whole number.")
    evidence = dict(evidence or {})
    needs = rules.needs()
    absent = [k for k in needs["checklist"] + needs["numbers"] if k not in inputs]
    absent += [k for k in needs["indicators"] if k not in inputs and (indicators is None or
                                                                      k not in [r.id for r in indicators])]
    if absent and missing == "fail":
        raise DataError(
            f"{len(absent)} scoring input(s) not supplied: {describe_values(absent)}; supply them, or pass "
            "missing='zero' to score absent evidence as 0."
        )

    point, sims = _indicator_draws(needs["indicators"], inputs, indicators, rng_for(seed, "survey_stats.score"), n_sim)
    rows = []
    total_sim = np.zeros(n_sim)
    for item in rules.items:
        pts = float(item["points"])
        s_point, s_sim, details, uncertain = _item_score(item, inputs, evidence, point, sims, n_sim, rounding)
        s_point = min(max(s_point, 0.0), pts)
        s_sim = np.clip(s_sim, 0.0, pts)
        total_sim += s_sim
        lo, hi = np.quantile(s_sim, [(1 - level) / 2, (1 + level) / 2])
        rows.append({"no": item.get("no"), "id": item["id"], "level1": item.get("level1"), "level2": item.get("level2"),
                     "name_zh": item.get("name_zh"), "name_en": item.get("name_en"), "points": pts, "score": s_point,
                     "score_low": float(lo), "score_high": float(hi), "uncertain": uncertain,
                     "detail": "; ".join(details)})
    items = pd.DataFrame(rows)
    total = float(items["score"].sum())
    tlo, thi = np.quantile(total_sim, [(1 - level) / 2, (1 + level) / 2])
    probs: dict[str, float] = {}
    assigned = np.zeros(n_sim, dtype=bool)
    for g in rules.grades:  # highest band first
        inside = (total_sim >= g["min"]) & ~assigned
        probs[str(g["grade"])] = float(inside.mean())
        assigned |= inside
    return ScoreResult(items, total, float(tlo), float(thi), grade_of(total, rules), probs, level, n_sim, seed)


def _indicator_draws(needed: list[str], inputs: Mapping[str, Any], indicators: IndicatorTable | None,
                     rng: np.random.Generator, n_sim: int) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Point value and n_sim draws of every indicator the rules need (supplied values do not vary)."""
    sims: dict[str, np.ndarray] = {}
    point: dict[str, float] = {}
    draws = None
    from_table = [i for i in sorted(set(needed))
                  if i not in inputs and indicators is not None and i in [r.id for r in indicators]]
    if from_table:
        draws = _rate_draws(indicators, from_table, rng, n_sim)  # type: ignore[arg-type]
    for iid in sorted(set(needed)):
        if iid in inputs:
            v = _rate(inputs[iid], iid)
            point[iid], sims[iid] = v, np.full(n_sim, v)
        elif iid in from_table:
            a, c = indicators.linear_form(iid)  # type: ignore[union-attr]
            point[iid] = _rate(indicators[iid].estimate, iid)  # type: ignore[index]
            sims[iid] = np.clip(draws @ a + c, 0.0, 1.0) if draws is not None else np.full(n_sim, point[iid])
    return point, sims


def _item_score(item: Mapping[str, Any], inputs: Mapping[str, Any], evidence: Mapping[str, Any],
                point: dict[str, float], sims: dict[str, np.ndarray], n_sim: int, rounding: str
                ) -> tuple[float, np.ndarray, list[str], bool]:
    """One item's (point score, simulated scores, details, uncertain?) before clipping to its points."""
    pts = float(item["points"])
    s_point = 0.0
    s_sim = np.zeros(n_sim)
    details: list[str] = []
    uncertain = False
    for c in item["components"]:
        if c["type"] != "rate_threshold":
            got = _fixed_points(c, item, inputs, evidence, details, rounding)
            s_point += got
            s_sim += got
            continue
        iid = c["indicator"]
        if iid not in point:
            continue
        uncertain = uncertain or float(np.ptp(sims[iid])) > 0
        for value, target in ((np.array([point[iid]]), "point"), (sims[iid], "sim")):
            below = _shortfall(np.maximum(0.0, c["full_at"] - value) * 100, rounding)
            got_v = np.maximum(0.0, pts - float(c["per_point"]) * below)
            if target == "point":
                s_point += float(got_v[0])
            else:
                s_sim = s_sim + got_v
        details.append(f"{iid} = {point[iid]:.4f}")
    return s_point, s_sim, details, uncertain


def _fixed_points(c: Mapping[str, Any], item: Mapping[str, Any], inputs: Mapping[str, Any],
                  evidence: Mapping[str, Any], details: list[str], rounding: str) -> float:
    """Points of a component without sampling error (checklist, days, counts, ratios); appends its details."""
    t = c["type"]
    pts = float(item["points"])
    if t == "checklist":
        got = 0.0
        for k in c["criteria"]:
            key = f"{item['id']}.{k['id']}"
            if key in inputs:
                got += _bool_points(inputs[key], float(k["points"]), key)
                if key in evidence:
                    details.append(f"{k['id']}: {evidence[key]}")
        return min(got, float(c["cap"])) if "cap" in c else got
    if t == "days_steps":
        days = _count(inputs, c["input"])
        got = 0.0
        if days is not None:
            for limit, p in sorted(c["steps"]):
                if days <= limit:
                    got = float(p)
                    break
            details.append(f"{c['input']} = {days}")
        return got
    if t == "per_count":
        cnt = _count(inputs, c["input"], 0.0)
        details.append(f"{c['input']} = {cnt}")
        return float(c["per"]) * float(cnt)  # type: ignore[arg-type]
    # ratio_threshold
    num, den = _count(inputs, c["numerator"]), _count(inputs, c["denominator"])
    if den == 0:
        raise DataError(f"scoring input {c['denominator']!r} = 0: the ratio "
                        f"{c['numerator']}/{c['denominator']} of item {item['id']!r} is undefined.")
    if num is None or den is None:
        return 0.0
    ratio = float(num) / float(den)
    below = _shortfall(np.array([max(0.0, c["full_at"] - ratio) * 100]), rounding)[0]
    details.append(f"{c['numerator']}/{c['denominator']} = {ratio:.4f}")
    return max(0.0, pts - float(c["per_point"]) * below)
