"""Reproduce every estimation case of the R survey 4.1 oracle (../shared/oracle/cases.json).

The repo keeps a copy in tests/reference/oracle_cases.json (each case records its R call),
so CI never depends on ../shared silently; a separate test checks the copy is current.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import SHARED_ORACLE, load_oracle, ref_data

CASES = {c["id"]: c for c in load_oracle()["cases"]}
EST_IDS = [k for k in CASES if k.split("_")[0] in ("api", "ratio", "ciprop", "pov")]
RTOL = 1e-8


def design_for(case: dict) -> ss.Design:
    dsg = case["design"]
    df = ref_data(case["data_file"])
    return ss.Design(df, strata=dsg["strata"], weights=dsg["weights"], fpc=dsg["fpc"], ids=dsg["cluster"])


def estimate_for(case: dict, df=None, ci_method="wald"):
    d = design_for(case)
    var = case["variable"]
    stat = case["statistic"]
    if var == "sch.wide == 'Yes'":
        return ss.proportion(d, "sch.wide", df=df, ci_method=ci_method)["Yes"]
    if stat == "mean":
        return ss.mean(d, var, df=df)
    if stat == "total":
        return ss.total(d, var, df=df)
    if stat == "domain mean":
        return ss.mean(d, var, by=case["domain"]["by"], df=df)[case["domain"]["level"]]
    if stat.startswith("ratio"):
        num, den = (s.strip() for s in var.split("/"))
        return ss.ratio(d, num, den, df=df)
    if stat.startswith("proportion with CI"):
        return ss.proportion(d, var, df=df, ci_method=ci_method)
    if stat.startswith("proportion (domain"):
        return ss.proportion(d, var, by=case["domain"]["by"], df=df, ci_method=ci_method)[case["domain"]["level"]]
    if stat.startswith("linear contrast"):
        t = ss.proportion(d, var, by="status", df=df)
        return ss.linear_combination(t, case["expected"]["contrast_weights"], df=df)
    raise AssertionError(stat)


def test_every_estimation_case_is_covered():
    assert len(EST_IDS) == 24


@pytest.mark.parametrize("cid", EST_IDS)
def test_estimate_and_se(cid):
    case = CASES[cid]
    exp = case["expected"]
    e = estimate_for(case)
    assert_allclose(e.estimate, exp["estimate"], rtol=RTOL)
    assert_allclose(e.se, exp["se"], rtol=RTOL, atol=1e-15)
    assert e.df == case["design"]["degf"]


@pytest.mark.parametrize("cid", EST_IDS)
def test_normal_and_t_intervals(cid):
    """ci_normal = R confint() (df=Inf); ci_t uses the design df, our default."""
    case = CASES[cid]
    exp = case["expected"]
    method = "wald"
    e_inf = estimate_for(case, df=float("inf"), ci_method=method)
    e_t = estimate_for(case, ci_method=method)
    assert e_t.df == exp["df"]
    assert_allclose([e_inf.ci_low, e_inf.ci_high], [exp["ci_normal_lower"], exp["ci_normal_upper"]], rtol=1e-9)
    assert_allclose([e_t.ci_low, e_t.ci_high], [exp["ci_t_lower"], exp["ci_t_upper"]], rtol=1e-9)


@pytest.mark.parametrize("cid", [k for k in EST_IDS if k.startswith("api") and CASES[k]["expected"].get("deff")])
def test_design_effect(cid):
    case = CASES[cid]
    e = estimate_for(case)
    assert_allclose(e.deff, case["expected"]["deff"], rtol=1e-8)


@pytest.mark.parametrize("cid", [k for k in EST_IDS if k.startswith("ciprop") and not k.endswith("likelihood")])
def test_svyciprop_interval(cid):
    """svyciprop(~y_common, dcp, method=...) with t(df = 117)."""
    case = CASES[cid]
    exp = case["expected"]
    method = {"mean": "wald"}.get(exp["method"], exp["method"])
    e = estimate_for(case, ci_method=method)
    assert_allclose([e.ci_low, e.ci_high], [exp["ci_lower"], exp["ci_upper"]], rtol=1e-8)


def test_svyciprop_likelihood_close_to_r():
    """R interpolates a profile on a grid by spline; we solve for the exact end points.

    The two agree to about 1e-6 relative.
    """
    case = CASES["ciprop_common_likelihood"]
    exp = case["expected"]
    e = estimate_for(case, ci_method="likelihood")
    assert_allclose([e.ci_low, e.ci_high], [exp["ci_lower"], exp["ci_upper"]], rtol=1e-5)


@pytest.mark.parametrize("cid", [k for k in EST_IDS if k.startswith("pov_satisfied")])
def test_svyciprop_logit_on_subset(cid):
    """svyciprop(~satisfied, subset(dpov, status == g), method='logit'): df = n_h - 1."""
    case = CASES[cid]
    exp = case["expected"]
    d = design_for(case)
    e = ss.proportion(d, "satisfied", where=d.column("status") == case["domain"]["level"], df="domain")
    assert e.df == exp["svyciprop_logit_df"]
    assert_allclose([e.ci_low, e.ci_high], [exp["svyciprop_logit_lower"], exp["svyciprop_logit_upper"]], rtol=1e-8)


def test_domain_covariance_row():
    """svyby(~api00, ~stype, dclus1, svymean, covmat=TRUE): the full domain covariance."""
    case = CASES["api_clus1_svyby_stype_mean_api00__E"]
    t = ss.mean(design_for(case), "api00", by="stype")
    for lev in "EHM":
        row = CASES[f"api_clus1_svyby_stype_mean_api00__{lev}"]["expected"]["domain_covariance_row"]
        i = t.index(lev)
        assert_allclose([t.vcov[i, t.index(o)] for o in "EHM"], [row[o] for o in "EHM"], rtol=1e-8)


def test_census_stratum_keeps_its_df():
    case = CASES["pov_satisfied_by_status__unexited"]
    d = design_for(case)
    assert d.degf == 562
    e = ss.proportion(d, "satisfied", by="status")["unexited"]
    assert e.se == 0 and e.ci_low == e.ci_high == e.estimate


@pytest.mark.skipif(not (SHARED_ORACLE / "cases.json").exists(), reason="../shared/oracle not present")
def test_local_copy_matches_shared_oracle():
    shared = json.loads((SHARED_ORACLE / "cases.json").read_text())
    local = load_oracle()
    assert {c["id"]: c["expected"] for c in shared["cases"]} == {c["id"]: c["expected"] for c in local["cases"]}
