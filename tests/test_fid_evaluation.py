"""Issue 14, the remaining parts: the extra sample in the indicator table, kinds of aid, 返困再帮扶,
the effective-sample-size cap, and the simulated telephone response error."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest

import survey_stats as ss
from survey_stats import pipeline, review
from survey_stats.datasets import AID_KINDS, misreport, simulate_evaluation
from survey_stats.indicators.checks import additional_sample
from survey_stats.report.tables import DECISION_COLUMNS, NO_FEASIBLE_SAMPLE, indicator_frame


def _run(seed: int, **options) -> pipeline.EvaluationRun:
    run = pipeline.EvaluationRun(seed=seed, sim=simulate_evaluation(seed), **options)
    for step in (pipeline.review_documents, pipeline.draw_samples, pipeline.fieldwork, pipeline.check_and_code):
        step(run)
    pipeline.estimate(run, with_score=False, with_decisions=False)
    return run


@pytest.fixture(scope="module")
def run():
    return _run(20261123)


def _missed_exit_table(events: int, n: int = 100, N: int = 256) -> ss.IndicatorTable:
    d = ss.Design(pd.DataFrame({"status": "unexited", "N_h": N, "missed_exit": [1] * events + [0] * (n - events)}),
                  fpc="N_h")
    return ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]), {"phone": d})


POPS = {"missed_exit_rate": 256}


@pytest.fixture(scope="module")
def inconclusive():
    t = _missed_exit_table(2)
    return t, additional_sample(t, populations=POPS)


# ------------------------------------------------------------------ extra sample in the indicator table
def test_indicator_table_shows_the_extra_sample_of_inconclusive_indicators(inconclusive):
    t, dec = inconclusive
    pops = POPS
    row = indicator_frame(t, populations=pops).iloc[0]  # computed here, with the FPC
    assert row["倾向 Leaning"] == "倾向达标 leans meets"
    assert row["判定所需样本量 n needed"] == dec.loc[0, "n_needed"] and row["需追加户数 Additional households"] == 127
    # the same cells from a precomputed table; decided indicators leave them empty
    assert indicator_frame(t, decisions=dec).iloc[0]["需追加户数 Additional households"] == 127
    decided = indicator_frame(_missed_exit_table(20), populations=pops).iloc[0]
    assert decided["verdict"] == "fails" and [decided[c] for c in DECISION_COLUMNS] == ["", "", ""]
    no_way = dec.assign(n_needed=math.nan, additional=math.nan)
    assert indicator_frame(t, decisions=no_way).iloc[0]["需追加户数 Additional households"] == NO_FEASIBLE_SAMPLE


def test_workbook_and_html_indicator_tables_carry_the_columns(tmp_path, inconclusive):
    import openpyxl

    t, dec = inconclusive
    x = ss.report.write_excel(tmp_path / "w.xlsx", t, None, decisions=dec)
    ws = openpyxl.load_workbook(x)["indicators"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("需追加户数 Additional households") + 1).value == 127
    html = ss.report.render_html(t, None, decisions=dec)
    assert "需追加户数 Additional households" in html and "倾向达标 leans meets" in html


# ------------------------------------------------------------------ telephone response error
def test_misreport_swaps_answers_but_keeps_each_share():
    df = pd.DataFrame({"y": [1.0] * 30 + [0.0] * 170 + [math.nan] * 5, "z": 1.0})
    out = misreport(df, ["y", "z"], rate=0.4, seed=3)
    assert out["y"].sum() == 30 and out["y"].isna().sum() == 5
    assert 0 < (out["y"] != df["y"]).sum() - 5 <= 2 * 30  # NaN != NaN counted 5 times
    assert (out["z"] == 1).all()  # no rarer answer: nothing to swap
    assert misreport(df, ["y"], rate=0.0).equals(df)
    with pytest.raises(ss.DataError, match="rate"):
        misreport(df, ["y"], rate=1.5)


def test_triangulation_shows_realistic_disagreement(run):
    tri = run.triangulation.set_index("item")
    assert (tri["kappa"] < 1).any() and (tri["agreement"] < 1).any()
    assert len(run.disagreements) > 0
    assert run.disagreements["household"].str.contains(r"\*\*").all()  # masked ids only
    # the census estimate is what truthful answers give, up to rows set aside by validation
    truthful = _run(20261123, phone_error=0.0)
    assert truthful.triangulation["kappa"].dropna().eq(1).all()
    assert abs(truthful.indicators["missed_exit_rate"].estimate - run.indicators["missed_exit_rate"].estimate) < 0.005


# ------------------------------------------------------------------ kinds of aid, employment aid, re-aid
def test_aid_kind_columns():
    cols = pipeline.aid_kind_columns(pd.Series(["material skills", "psychological", None]))
    assert cols["aid_diverse"].tolist()[:2] == [1.0, 0.0] and math.isnan(cols["aid_skills"].iloc[2])
    with pytest.raises(ss.DataError, match="unknown kind"):
        pipeline.aid_kind_columns(pd.Series(["material cash"]))


def test_aid_diversity_from_the_spot_check_with_cis(run):
    sim = run.sim
    assert set(AID_KINDS) == {"material", "psychological", "skills"}
    kinds = sim.registry["aid_kinds"].str.split()
    assert sim.truth["aid_diversity"] == pytest.approx((kinds.str.len() >= 2).mean())
    assert 0 < sim.truth["aid_psychological"] < 1 and 0 < sim.truth["aid_skills"] < 1
    for iid in ("aid_diversity", "aid_material", "aid_psychological", "aid_skills"):
        r = run.indicators[iid]
        assert r.se > 0 and r.ci_low < r.estimate < r.ci_high and r.reference is None
        assert r.n == len(run.coded["spot_check"])
    paid = set(sim.documents["ledger"]["household_id"])
    material = sim.registry["aid_kinds"].str.contains("material")
    assert (material == sim.registry["household_id"].isin(paid)).all()  # 物质援助 = paid in the ledger


def test_re_aid_indicator_from_registry_and_ledger(run):
    sim = run.sim
    back = review.re_aid(sim.registry, sim.documents["ledger"])
    assert len(back) == sim.registry["returned_on"].notna().sum() > 0
    r = run.indicators["re_aid_rate"]
    assert r.estimate == pytest.approx(back["re_aided"].mean()) == pytest.approx(sim.truth["re_aid_rate"])
    assert r.n == len(back) and r.se == 0 and r.reference is None
    assert not run.re_aid["household_id"].isin(sim.registry["household_id"]).any()  # masked in outputs
    assert run.indicators["employment_aid_coverage"].estimate == pytest.approx(sim.truth["employment_aid_coverage"])


def test_phase_out_rule_exempts_aid_after_a_recorded_return():
    reg = pd.DataFrame({"household_id": ["A", "B"], "county": "萧县", "status": "exited", "cause": "other",
                        "exited_on": pd.Timestamp("2024-01-01"), "returned_on": [pd.Timestamp("2025-03-01"), pd.NaT]})
    led = pd.DataFrame({"household_id": ["A", "B"], "aid_type": "living", "paid_on": pd.Timestamp("2025-04-10")})
    rules = copy.deepcopy(review.default_rules())
    rules["rules"] = [r for r in rules["rules"] if r["id"] == "living_aid_after_exit"]
    got = review.audit_registry(reg, ledger=led, rules=rules).problems
    assert got["household_id"].tolist() == ["B"]  # A was re-admitted: 返困再帮扶, not a 渐退期 breach
    rules["rules"][0].pop("returned_column")
    assert sorted(review.audit_registry(reg, ledger=led, rules=rules).problems["household_id"]) == ["A", "B"]
    ids = {r["id"] for r in review.default_rules()["rules"]}
    assert {"living_aid_after_exit", "registered_before_review"} <= ids  # 渐退期 and new-entry checks
    with pytest.raises(ss.DataError, match="returned_on"):
        review.re_aid(reg.drop(columns="returned_on"), led)


def test_administrative_counts_leave_out_re_aid_without_recorded_returns():
    reg = pd.DataFrame({"household_id": ["A"], "info_checked": [True], "returned_on": [pd.NaT]})
    led = pd.DataFrame({"household_id": ["A"], "aid_type": ["living"], "paid_on": [pd.Timestamp("2025-01-10")]})
    assert pipeline.administrative_counts(reg, led) == {"info_check_rate": (1, 1), "employment_aid_coverage": (0, 1)}


# ------------------------------------------------------------------ effective sample size cap
def _certainty_events() -> ss.Design:
    """Every event among certainty units: the SE sees no event variability."""
    df = pd.DataFrame({"h": ["cert"] * 10 + ["rand"] * 120, "N_h": [10] * 10 + [400] * 120,
                       "returned": [1.0, 1.0] + [0.0] * 128, "status": "exited"})
    return ss.Design(df, strata="h", fpc="N_h")


@pytest.mark.parametrize("cap", ["srswor", "n"])
def test_n_eff_cap_widens_intervals_when_events_sit_in_certainty_units(cap):
    system = ss.IndicatorSystem.default().select(["return_to_hardship_rate"])
    raw = ss.evaluate_indicators(system, {"registered": _certainty_events()}, cap_n_eff="none")
    r = raw["return_to_hardship_rate"]
    assert r.n_eff > 100 * r.n  # the under-covering case
    # "none" is R svyciprop(method = "beta"): the plain Korn-Graubard interval
    e = ss.proportion(_certainty_events(), "returned", ci_method="beta")
    assert (r.ci_low, r.ci_high) == pytest.approx((e.ci_low, e.ci_high), rel=1e-12)
    c = ss.evaluate_indicators(system, {"registered": _certainty_events()}, cap_n_eff=cap)["return_to_hardship_rate"]
    assert c.se == r.se and c.estimate == r.estimate
    assert c.ci_low < r.ci_low and c.ci_high > r.ci_high and "capped" in c.ci_method
    assert c.n_eff == pytest.approx(c.n if cap == "n" else r.n_eff * r.deff, rel=1e-9)


def test_srswor_cap_keeps_the_census_fpc():
    t_none = _missed_exit_table(11, n=235)  # default cap
    plain = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]),
                                   {"phone": ss.Design(pd.DataFrame({"status": "unexited", "N_h": 256,
                                                                     "missed_exit": [1] * 11 + [0] * 224}), fpc="N_h")},
                                   cap_n_eff="n")
    a, b = t_none["missed_exit_rate"], plain["missed_exit_rate"]
    assert a.ci_high - a.ci_low < 0.6 * (b.ci_high - b.ci_low)  # capping at n would discard the FPC
    with pytest.raises(ss.MethodError, match="cap_n_eff"):
        ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]), {}, cap_n_eff="yes")
