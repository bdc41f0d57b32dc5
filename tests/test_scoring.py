"""The 100-point score (seed 001): every rule by hand, floors, grades, uncertainty."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import survey_stats as ss

RULES = ss.ScoringRules.default()


def full_inputs(**over):
    x = {k: True for k in RULES.needs()["checklist"]}
    x.update(fund_transfer_working_days=10, fund_entry_working_days=10, households_aided=656, households_target=656,
             off_standard_households=0, beneficiary_satisfaction=0.95, social_satisfaction=0.96)
    x.update(over)
    return x


def item(result, iid):
    return result.items.set_index("id").loc[iid]


def test_structure_matches_seed_001():
    assert len(RULES.items) == 19
    by1 = pd.DataFrame(RULES.items).groupby("level1")["points"].sum().to_dict()
    assert by1 == {"投入": 20, "过程": 30, "产出": 25, "效果": 25}
    assert [g["grade"] for g in RULES.grades] == ["优秀", "良好", "中等", "差"]


def test_everything_met_scores_100():
    r = ss.score(RULES, full_inputs())
    assert r.total == 100 and r.grade == "优秀" and r.grade_probabilities["优秀"] == 1.0


@pytest.mark.parametrize(
    "rate, expected",
    [(0.95, 9.0), (0.90, 9.0), (0.875, 8.5),  # 2.5 points below 90% → 9 − 0.2 × 2.5 = 8.5 (SPEC §4)
     (0.80, 7.0), (0.45, 0.0), (0.0, 0.0)],  # 45 points below → 9 − 9 = 0; floor at 0
)
def test_satisfaction_threshold_rule(rate, expected):
    r = ss.score(RULES, full_inputs(beneficiary_satisfaction=rate))
    assert_allclose(item(r, "aid_benefit")["score"], expected, atol=1e-12)


def test_social_satisfaction_has_ten_points():
    r = ss.score(RULES, full_inputs(social_satisfaction=0.85))  # 5 points below → 10 − 1 = 9
    assert_allclose(item(r, "social_satisfaction")["score"], 9.0)


@pytest.mark.parametrize("rounding, expected", [("none", 8.5), ("floor", 8.6), ("ceil", 8.4)])
def test_whole_point_rounding_option(rounding, expected):
    r = ss.score(RULES, full_inputs(beneficiary_satisfaction=0.875), rounding=rounding)
    assert_allclose(item(r, "aid_benefit")["score"], expected)


@pytest.mark.parametrize("aided, expected", [(656, 9.0), (700, 9.0), (623.2, 9 - 0.5 * 5), (0, 0.0), (400, 0.0)])
def test_coverage_rule(aided, expected):
    """achieved/target: 623.2/656 = 95% → 5 points below → 9 − 0.5 × 5 = 6.5; 400/656 = 61% → floor 0."""
    r = ss.score(RULES, full_inputs(households_aided=aided))
    assert_allclose(item(r, "coverage")["score"], expected, atol=1e-9)


@pytest.mark.parametrize(
    "flags, off, expected",
    [((True, True, True), 0, 9.0), ((True, True, True), 7, 8.3),  # 9 − 0.1 × 7
     ((True, False, True), 2, 5.8),  # 6 − 0.2
     ((False, False, True), 40, 0.0)],  # 3 − 4 → floor 0 (直至本项不得分)
)
def test_aid_standards_rule(flags, off, expected):
    over = {f"aid_standards.{k}": v for k, v in zip(("living_standard_ok", "schooling_standard_ok", "medical_standard_ok"), flags)}
    r = ss.score(RULES, full_inputs(off_standard_households=off, **over))
    assert_allclose(item(r, "aid_standards")["score"], expected, atol=1e-12)


@pytest.mark.parametrize("days, expected", [(15, 4), (20, 4), (21, 2), (30, 2), (31, 0)])
def test_fund_timeliness_steps(days, expected):
    r = ss.score(RULES, full_inputs(fund_transfer_working_days=days))
    assert item(r, "fund_timeliness")["score"] == expected


def test_information_system_mixes_checklist_and_days():
    r = ss.score(RULES, full_inputs(fund_entry_working_days=31))
    assert item(r, "information_system")["score"] == 1  # 1 checklist point, entry too late: 0 of 2


def test_capped_checklists_and_partial_points():
    over = {f"sustainability.{k}": True for k in ("media_national", "commended_national", "instruction_provincial")}
    r = ss.score(RULES, full_inputs(**over))
    assert item(r, "sustainability")["score"] == 6  # 3 + min(1+2+1+2+1+2+1+2, 3)
    r = ss.score(RULES, full_inputs(**{"fund_allocation.factor_other": False, "fund_allocation.factor_economy": False,
                                       "goal_reasonableness.lawful": 1.5}))
    assert item(r, "fund_allocation")["score"] == 3  # 1 + 2 factors
    assert item(r, "goal_reasonableness")["score"] == 3.5
    with pytest.raises(ss.DataError, match="outside 0-2"):
        ss.score(RULES, full_inputs(**{"goal_reasonableness.lawful": 3}))
    with pytest.raises(ss.DataError, match="use yes/no"):
        ss.score(RULES, full_inputs(**{"goal_reasonableness.lawful": "maybe"}))


@pytest.mark.parametrize("total, grade", [(85, "优秀"), (84.999, "良好"), (75, "良好"), (74.9, "中等"), (60, "中等"), (59.99, "差")])
def test_grade_bands(total, grade):
    assert ss.grade_of(total) == grade


def test_missing_inputs_are_listed():
    x = full_inputs()
    del x["capacity.leading_group"], x["households_target"]
    with pytest.raises(ss.DataError, match=r"2 scoring input\(s\) not supplied.*capacity.leading_group"):
        ss.score(RULES, x)
    r = ss.score(RULES, x, missing="zero")
    assert item(r, "capacity")["score"] == 3 and item(r, "coverage")["score"] == 0


def test_uncertainty_from_indicator_table():
    """Satisfaction near the 90% threshold: the score interval and grade probabilities reflect it."""
    reg = pd.DataFrame({"status": ["exited"] * 60 + ["unexited"] * 60, "N_h": [400] * 60 + [256] * 60,
                        "satisfied": [1] * 54 + [0] * 6 + [1] * 52 + [0] * 8})
    d = ss.Design(reg, strata="status", fpc="N_h")
    system = ss.IndicatorSystem.default().select(["beneficiary_satisfaction"])
    t = ss.evaluate_indicators(system, {"registered": d})
    x = full_inputs()
    del x["beneficiary_satisfaction"]
    x.update({k: False for k in RULES.needs()["checklist"] if k.startswith(("capacity", "regular_work", "fund_payment"))})
    r = ss.score(RULES, x, t, seed=1, n_sim=4000)
    it = item(r, "aid_benefit")
    p = t["beneficiary_satisfaction"].estimate
    assert_allclose(it["score"], 9 - 0.2 * max(0, 0.9 - p) * 100)
    assert it["uncertain"] and it["score_low"] < it["score"] <= it["score_high"] <= 9
    assert r.total_low <= r.total <= r.total_high
    assert_allclose(sum(r.grade_probabilities.values()), 1.0)
    assert 0 < r.grade_probabilities["良好"] < 1 and 0 < r.grade_probabilities["优秀"] < 1
    again = ss.score(RULES, x, t, seed=1, n_sim=4000)
    assert again.grade_probabilities == r.grade_probabilities  # seeded
    assert "with probability" in r.summary()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_total_always_between_0_and_100(data):
    x = {k: data.draw(st.sampled_from([True, False, "是", "否"])) for k in RULES.needs()["checklist"]}
    x.update(fund_transfer_working_days=data.draw(st.integers(0, 90)), fund_entry_working_days=data.draw(st.integers(0, 90)),
             households_aided=data.draw(st.integers(0, 1000)), households_target=data.draw(st.integers(1, 1000)),
             off_standard_households=data.draw(st.integers(0, 500)),
             beneficiary_satisfaction=data.draw(st.floats(0, 1)), social_satisfaction=data.draw(st.floats(0, 1)))
    r = ss.score(RULES, x, n_sim=200)
    assert 0 <= r.total <= 100
    assert ((r.items["score"] >= 0) & (r.items["score"] <= r.items["points"])).all()
    assert_allclose(sum(r.grade_probabilities.values()), 1.0)


def test_bad_rules_are_rejected():
    spec = json.loads(json.dumps(RULES.spec))
    spec["items"][0]["points"] = 5
    with pytest.raises(ss.DataError, match="add up to 101"):
        ss.ScoringRules(spec)
    spec = json.loads(json.dumps(RULES.spec))
    spec["items"][3]["components"][0]["type"] = "lookup"
    with pytest.raises(ss.DataError, match="component type 'lookup'"):
        ss.ScoringRules(spec)
