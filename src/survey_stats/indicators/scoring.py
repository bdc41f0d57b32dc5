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
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validation import check_level, check_option, describe_values, rng_for
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
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

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


def grade_of(total: float, rules: ScoringRules | None = None) -> str:
    """Grade of a total score: 优秀 ≥ 85, 良好 75-85, 中等 60-75, 差 < 60 (by default).

    Examples
    --------
    >>> grade_of(85.0), grade_of(84.99), grade_of(60.0), grade_of(59.9)
    ('优秀', '良好', '中等', '差')
    """
    rules = rules or ScoringRules.default()
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


def _bool_points(value: Any, pts: float, key: str) -> float:
    if isinstance(value, (bool, np.bool_)):
        return pts if value else 0.0
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("yes", "y", "是", "true", "1"):
            return pts
        if v in ("no", "n", "否", "false", "0"):
            return 0.0
        raise DataError(f"checklist answer {key!r} = {value!r}: use yes/no (是/否), True/False or a number of points.")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 0 <= value <= pts:
            raise DataError(f"checklist answer {key!r} = {value!r} points is outside 0-{pts:g}.")
        return float(value)
    raise DataError(f"checklist answer {key!r} = {value!r}: use yes/no, True/False or a number of points.")


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
    if n_sim < 100:
        raise DataError("n_sim must be at least 100 draws.")
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

    # draws of every indicator the rules need
    rng = rng_for(seed, "survey_stats.score")
    sims: dict[str, np.ndarray] = {}
    point: dict[str, float] = {}
    draws = None
    if indicators is not None and len(indicators.theta):
        V = np.asarray(indicators.vcov)
        draws = rng.multivariate_normal(indicators.theta, V, size=n_sim, method="svd", check_valid="ignore")
    for iid in set(needs["indicators"]):
        if iid in inputs:
            v = float(inputs[iid])
            point[iid], sims[iid] = v, np.full(n_sim, v)
        elif indicators is not None and iid in [r.id for r in indicators]:
            a, c = indicators.linear_form(iid)
            point[iid] = float(indicators[iid].estimate)
            sims[iid] = np.clip(draws @ a + c, 0.0, 1.0) if draws is not None else np.full(n_sim, point[iid])

    rows = []
    total_sim = np.zeros(n_sim)
    for item in rules.items:
        pts = float(item["points"])
        s_point = 0.0
        s_sim = np.zeros(n_sim)
        details = []
        uncertain = False
        for c in item["components"]:
            t = c["type"]
            if t == "checklist":
                got = 0.0
                for k in c["criteria"]:
                    key = f"{item['id']}.{k['id']}"
                    if key in inputs:
                        got += _bool_points(inputs[key], float(k["points"]), key)
                        if key in evidence:
                            details.append(f"{k['id']}: {evidence[key]}")
                if "cap" in c:
                    got = min(got, float(c["cap"]))
                s_point += got
                s_sim += got
            elif t == "days_steps":
                days = inputs.get(c["input"])
                got = 0.0
                if days is not None:
                    for limit, p in sorted(c["steps"]):
                        if days <= limit:
                            got = float(p)
                            break
                    details.append(f"{c['input']} = {days}")
                s_point += got
                s_sim += got
            elif t == "per_count":
                cnt = inputs.get(c["input"], 0)
                got = float(c["per"]) * float(cnt)
                details.append(f"{c['input']} = {cnt}")
                s_point += got
                s_sim += got
            elif t == "ratio_threshold":
                num, den = inputs.get(c["numerator"]), inputs.get(c["denominator"])
                if num is None or den is None or not den > 0:
                    got = 0.0
                else:
                    ratio = float(num) / float(den)
                    below = _shortfall(np.array([max(0.0, c["full_at"] - ratio) * 100]), rounding)[0]
                    got = max(0.0, pts - float(c["per_point"]) * below)
                    details.append(f"{c['numerator']}/{c['denominator']} = {ratio:.4f}")
                s_point += got
                s_sim += got
            else:  # rate_threshold
                iid = c["indicator"]
                if iid not in point:
                    continue
                uncertain = uncertain or float(np.ptp(sims[iid])) > 0
                for value, target in ((np.array([point[iid]]), "point"), (sims[iid], "sim")):
                    below = _shortfall(np.maximum(0.0, c["full_at"] - value) * 100, rounding)
                    got = np.maximum(0.0, pts - float(c["per_point"]) * below)
                    if target == "point":
                        s_point += float(got[0])
                    else:
                        s_sim = s_sim + got
                details.append(f"{iid} = {point[iid]:.4f}")
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
