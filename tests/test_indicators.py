"""Indicator system: definitions as data, computation with the right covariance, verdicts, flags."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import ref_data


def counts_frame(group, N, n, **ones):
    """n surveyed households of a group (population N); column c has ones[c] ones, rest 0."""
    df = pd.DataFrame({"status": group, "N_h": N}, index=range(n))
    for c, k in ones.items():
        df[c] = [1] * k + [0] * (n - k)
    return df


ADMIN = {"info_check_rate": (600, 656), "employment_aid_coverage": (90, 656), "re_aid_rate": (5, 6)}


@pytest.fixture(scope="module")
def samples():
    reg = pd.concat([
        counts_frame("exited", 400, 100, misidentified=2, wrong_exit=4, paired_helper=97, method_matches=93,
                     satisfied=91, returned=3, missed_exit=0),
        counts_frame("unexited", 256, 100, misidentified=4, wrong_exit=0, paired_helper=95, method_matches=91,
                     satisfied=85, returned=0, missed_exit=3),
    ], ignore_index=True)
    unreg = counts_frame("unregistered", 5000, 60, omitted=3, satisfied=45)
    dereg = counts_frame("deregistered", 120, 40, satisfied=30, wrong_exit=2)
    for df in (reg, unreg, dereg):  # the three satisfaction dimensions answered like the overall question
        for c in ("satisfaction_method", "satisfaction_result", "satisfaction_publicity"):
            df[c] = df["satisfied"]
    phone = reg[reg["status"] == "unexited"].reset_index(drop=True)  # the census answers the same
    return {
        "registered": ss.Design(reg, strata="status", fpc="N_h"),
        "phone": ss.Design(phone, fpc="N_h"),
        "spot_check": ss.Design(counts_frame("file", 656, 66, file_complete=60, file_consistent=63, aid_diverse=16,
                                             aid_material=45, aid_psychological=15, aid_skills=9), fpc="N_h"),
        "social": ss.Design(pd.concat([counts_frame("social", N, 50, satisfied=k).assign(respondent_group=g)
                                       for g, N, k in (("official", 3000, 47), ("worker", 20000, 43),
                                                       ("union", 400, 49), ("beneficiary", 656, 45))],
                                      ignore_index=True), strata="respondent_group", fpc="N_h"),
        "unregistered": ss.Design(unreg, fpc="N_h"),
        "deregistered": ss.Design(dereg, fpc="N_h"),
    }


@pytest.fixture(scope="module")
def table(samples):
    return ss.evaluate_indicators(ss.IndicatorSystem.default(), samples, administrative=ADMIN)


def test_shipped_system_has_spec_indicators():
    system = ss.IndicatorSystem.default()
    expected = {"misidentification_rate": ("错评率", 0.03, "le"), "omission_rate": ("漏评率", 0.05, "le"),
                "wrong_exit_rate": ("错退率", 0.05, "le"), "missed_exit_rate": ("漏退率", 0.03, "le"),
                "pairing_coverage": ("结对帮扶覆盖率", 0.95, "ge"), "method_match_rate": ("帮扶方式精准率", 0.90, "ge"),
                "info_check_rate": ("信息比对率", 0.90, "ge"), "satisfaction": ("帮扶工作满意度", 0.95, "ge")}
    for iid, (zh, ref, d) in expected.items():
        x = system[iid]
        assert (x.name_zh, x.reference, x.direction) == (zh, ref, d)
    assert [p["weight"] for p in system["satisfaction"].parts] == [0.4, 0.4, 0.1, 0.1]
    assert system["info_check_rate"].kind == "administrative"


def test_hand_checked_rates_and_composites(table):
    """Rates by hand from the counts (the design weights are equal within group):
    misidentification: (400·0.02 + 256·0.04)/656 = (8 + 10.24)/656 = 0.0278049
    wrong exit pooled over exited (4/100 of 400) and deregistered (2/40 of 120): (16 + 6)/520 = 0.0423077;
    missed exit 3/100 = 0.03; omission 3/60 = 0.05
    dynamic = 1 − (0.2·0.05 + 0.3·0.0278049 + 0.3·0.0423077 + 0.2·0.03)
    pairing (400·0.97 + 256·0.95)/656 = 0.9621951; method (400·0.93 + 256·0.91)/656 = 0.9221951
    satisfaction 0.4·0.91 + 0.4·0.85 + 0.1·0.75 + 0.1·0.75 = 0.854; info 600/656 = 0.9146341
    aid = 0.3·dynamic + 0.2·0.9621951 + 0.2·0.9221951 + 0.2·0.854 + 0.1·0.9146341 = 0.9280314"""
    est = {r.id: r.estimate for r in table}
    assert_allclose(est["misidentification_rate"], 18.24 / 656, rtol=1e-12)
    assert_allclose([est["wrong_exit_rate"], est["missed_exit_rate"], est["omission_rate"]], [22 / 520, 0.03, 0.05],
                    rtol=1e-12)
    assert_allclose(est["dynamic_accuracy"], 1 - (0.2 * 0.05 + 0.3 * 18.24 / 656 + 0.3 * 22 / 520 + 0.2 * 0.03),
                    rtol=1e-12)
    assert_allclose(est["pairing_coverage"], (400 * 0.97 + 256 * 0.95) / 656, rtol=1e-12)
    assert_allclose(est["satisfaction"], 0.854, rtol=1e-12)
    aid = (0.3 * est["dynamic_accuracy"] + 0.2 * (400 * 0.97 + 256 * 0.95) / 656 + 0.2 * (400 * 0.93 + 256 * 0.91) / 656
           + 0.2 * 0.854 + 0.1 * 600 / 656)
    assert_allclose(est["aid_accuracy"], aid, rtol=1e-12)
    assert_allclose(est["aid_accuracy"], 0.9280314, atol=5e-8)
    assert table["info_check_rate"].se == 0 and table["info_check_rate"].verdict == "meets"


def test_composite_variance_uses_covariance(table, samples):
    """dynamic_accuracy's SE equals the quadratic form over its parts' joint covariance."""
    a, c = table.linear_form("dynamic_accuracy")
    assert_allclose(table["dynamic_accuracy"].se ** 2, a @ table.vcov @ a, rtol=1e-12)
    # three registered-sample rates covary (same design), omission is independent
    ids = list(table.part_ids)
    i, j = ids.index("misidentification_rate"), ids.index("omission_rate")
    assert table.vcov[i, j] == 0
    k = ids.index("wrong_exit_rate.exited")
    assert table.vcov[i, k] != 0
    assert table.vcov[k, ids.index("wrong_exit_rate.deregistered")] == 0  # independent samples


def test_satisfaction_composite_matches_r_svycontrast():
    """svycontrast(svyby(~satisfied, ~status, dpov, svymean, covmat=TRUE), c(0.4, 0.4, 0.1, 0.1)):
    estimate 0.774270833333333, SE 0.0111143778845718 (../shared/oracle pov_satisfaction_composite)."""
    spec = json.loads(json.dumps(ss.IndicatorSystem.default().select(["satisfaction"]).spec))
    for p in spec["indicators"][0]["parts"]:
        p["sample"] = "survey"
        p["denominator"] = f"status == '{p['id'].split('_')[1]}'"
    system = ss.IndicatorSystem(spec)
    pov = ss.Design(ref_data("poverty_survey.csv"), strata="status", weights="weight", fpc="N_h")
    t = ss.evaluate_indicators(system, {"survey": pov})
    assert_allclose([t["satisfaction"].estimate, t["satisfaction"].se], [0.774270833333333, 0.0111143778845718], rtol=1e-8)
    # the same from four independent samples
    data = ref_data("poverty_survey.csv")
    parts = {g: ss.Design(d, weights="weight", fpc="N_h") for g, d in data.groupby("status")}
    spec2 = json.loads(json.dumps(ss.IndicatorSystem.default().select(["satisfaction"]).spec))
    for p in spec2["indicators"][0]["parts"]:
        p["sample"], p["denominator"] = p["id"].split("_")[1], None
    t2 = ss.evaluate_indicators(ss.IndicatorSystem(spec2), parts)
    assert_allclose(t2["satisfaction"].se, 0.0111143778845718, rtol=1e-8)


def test_verdicts_and_flags_in_table(table):
    fr = table.to_frame()
    assert {"name_zh", "name_en", "estimate", "se", "ci_low", "ci_high", "verdict", "reliability", "reference"} <= set(fr)
    for r in table:
        assert r.verdict == ss.verdict(r.ci_low, r.ci_high, r.reference, r.direction)
    assert table["return_to_hardship_rate"].verdict == "no reference"


@pytest.mark.parametrize(
    "lo, hi, ref, direction, expected",
    [
        (0.01, 0.03, 0.03, "le", "meets"),  # upper bound touches the reference
        (0.03, 0.05, 0.03, "le", "inconclusive"),  # lower bound touches: not shown to fail
        (0.0301, 0.05, 0.03, "le", "fails"),
        (0.95, 0.99, 0.95, "ge", "meets"),
        (0.90, 0.95, 0.95, "ge", "inconclusive"),
        (0.90, 0.9499, 0.95, "ge", "fails"),
        (float("nan"), 0.2, 0.1, "le", "inconclusive"),
    ],
)
def test_verdict_boundaries(lo, hi, ref, direction, expected):
    assert ss.verdict(lo, hi, ref, direction) == expected


@pytest.mark.parametrize(
    "args, flag",
    [
        ((0.5, 20, 20.0, 0.11, 19), "unreliable"),  # n < 30
        ((0.5, 200, 25.0, 0.1, 199), "unreliable"),  # n_eff < 30
        ((0.5, 60, 60.0, 0.09, 59), "unreliable"),  # KG width >= 0.30
        ((0.03, 300, 100.0, 0.017, 299), "unreliable"),  # width > 0.05 and relative width > 130%
        ((0.5, 2000, 2000.0, 0.0111, 1999), "reliable"),  # width <= 0.05
        ((0.5, 400, 400.0, 0.025, 5), "review"),  # df < 8
    ],
)
def test_nchs_reliability_rules(args, flag):
    assert ss.indicators.reliability(*args)[0] == flag


def test_overrides_and_bad_definitions():
    base = ss.IndicatorSystem.default()
    other = base.with_overrides(weights={"satisfaction": {"satisfaction_exited": 0.3, "satisfaction_unexited": 0.5}})
    assert [p["weight"] for p in other["satisfaction"].parts] == [0.3, 0.5, 0.1, 0.1]
    with pytest.raises(ss.DataError, match="weights sum to 1.1"):
        base.with_overrides(weights={"satisfaction": {"satisfaction_exited": 0.5}})
    spec = json.loads(json.dumps(base.spec))
    spec["indicators"][0]["direction"] = "<="
    with pytest.raises(ss.DataError, match="direction '<=' is unknown"):
        ss.IndicatorSystem(spec)
    spec = json.loads(json.dumps(base.spec))
    spec["indicators"][-1]["terms"]["nonexistent"] = 0.0
    with pytest.raises(ss.DataError, match="term 'nonexistent'"):
        ss.IndicatorSystem(spec)
    spec = json.loads(json.dumps(base.spec))
    spec["indicators"][0]["kind"] = "ratio"
    with pytest.raises(ss.DataError, match="kind 'ratio' is unknown"):
        ss.IndicatorSystem(spec)


def test_unknown_column_and_missing_sample_are_clear_errors(samples):
    system = ss.IndicatorSystem.default()
    with pytest.raises(ss.DataError, match="no design given for sample.*'deregistered'"):
        ss.evaluate_indicators(system, {k: v for k, v in samples.items() if k != "deregistered"},
                               administrative={"info_check_rate": (600, 656)})
    spec = json.loads(json.dumps(system.select(["missed_exit_rate"]).spec))
    spec["indicators"][0]["numerator"] = "missed_exits"
    with pytest.raises(ss.ExpressionError, match="numerator: unknown column.*'missed_exits'.*did you mean 'missed_exit'"):
        ss.evaluate_indicators(ss.IndicatorSystem(spec), samples)
    with pytest.raises(ss.DataError, match="administrative indicator 'info_check_rate' needs its counts"):
        ss.evaluate_indicators(system, samples)


def test_indicator_file_round_trip(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(ss.IndicatorSystem.default().with_overrides(reference={"omission_rate": 0.04}).spec,
                               ensure_ascii=False), encoding="utf-8")
    assert ss.IndicatorSystem.from_file(path)["omission_rate"].reference == 0.04


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=4, max_size=4), st.integers(0, 3))
def test_satisfaction_monotone_in_each_part(ks, which):
    """Raising one group's approval count never lowers the composite."""
    def table_for(counts):
        groups = ["exited", "unexited", "unregistered", "deregistered"]
        designs = {g: ss.Design(counts_frame(g, 400, 40, satisfied=k), fpc="N_h") for g, k in zip(groups, counts)}
        spec = json.loads(json.dumps(ss.IndicatorSystem.default().select(["satisfaction"]).spec))
        for p in spec["indicators"][0]["parts"]:
            p["sample"], p["denominator"] = p["id"].split("_")[1], None
        return ss.evaluate_indicators(ss.IndicatorSystem(spec), designs)["satisfaction"].estimate

    more = list(ks)
    more[which] = min(40, more[which] + 1)
    assert table_for(more) >= table_for(ks)


def test_channel_reach_orders_and_counts_none():
    df = pd.DataFrame({"N": 500, "heard": ["wechat tv", "tv", None, "", "poster tv", "tv", "", "wechat"]})
    d = ss.Design(df, fpc="N")
    t = ss.channel_reach(d, "heard", labels={"tv": "电视", "wechat": "微信"})
    assert [r.category for r in t] == ["电视", "微信", "poster", "(none)"]
    assert_allclose([r.estimate for r in t], [4 / 7, 2 / 7, 1 / 7, 2 / 7])
    assert all(r.n == 7 for r in t)  # the unanswered row is outside the domain


def test_composite_interval_stays_within_0_and_100_percent():
    """Wald intervals of composite rates near 100% (counties of the simulated evaluation) are cut at 1."""
    from survey_stats import pipeline
    from survey_stats.datasets import simulate_evaluation

    run = pipeline.EvaluationRun(seed=20261123, sim=simulate_evaluation(20261123))
    for step in (pipeline.review_documents, pipeline.draw_samples, pipeline.fieldwork, pipeline.check_and_code):
        step(run)
    pipeline.estimate(run, with_score=False)
    t = run.by_county
    assert (t["ci_low"].dropna() >= 0).all() and (t["ci_high"].dropna() <= 1).all()
    cut = t[(t["ci_high"] == 1) & (t["estimate"] + 1.96 * t["se"] > 1) & (t["estimate"] < 1)]
    assert len(cut)  # e.g. 结对帮扶覆盖率 in yongqiao: 94.9%, SE 2.7 pp
    assert "pairing_coverage" in set(cut["id"])
