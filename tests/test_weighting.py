"""Weighting: R survey oracle values for postStratify, rake and calibrate; nonresponse; bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import load_oracle, load_r_refs, ref_data

CASES = {c["id"]: c for c in load_oracle()["cases"]}
REFS = load_r_refs()
TYPES = {"E": 4421, "H": 755, "M": 1018}
SCHWIDE = {"No": 1072, "Yes": 5122}


def clus1():
    return ss.Design(ref_data("apiclus1.csv"), ids="dnum", weights="pw", fpc="fpc")


def stat(design, case):
    var, kind = case["variable"], case["statistic"]
    return ss.mean(design, var) if kind == "mean" else ss.total(design, var)


@pytest.mark.parametrize("cid", [k for k in CASES if k.startswith("poststratify_")])
def test_poststratify_matches_r(cid):
    """postStratify(dclus1, ~stype, pop.types)."""
    case = CASES[cid]
    d = ss.poststratify(clus1(), "stype", TYPES)
    e = stat(d, case)
    exp = case["expected"]
    assert_allclose([e.estimate, e.se], [exp["estimate"], exp["se"]], rtol=1e-8)
    assert_allclose([d.weights.sum(), d.weights.min(), d.weights.max()],
                    [exp["weights_sum"], exp["weights_min"], exp["weights_max"]], rtol=1e-10)


@pytest.mark.parametrize("cid", [k for k in CASES if k.startswith("rake_tight_")])
def test_rake_matches_converged_r_rake(cid):
    """rake(dclus1, list(~stype, ~sch.wide), ..., control = list(maxit = 100, epsilon = 1e-10))."""
    case = CASES[cid]
    d = ss.rake(clus1(), {"stype": TYPES, "sch.wide": SCHWIDE})
    e = stat(d, case)
    exp = case["expected"]
    assert_allclose([e.estimate, e.se], [exp["estimate"], exp["se"]], rtol=1e-8)
    assert_allclose([d.weights.min(), d.weights.max()], [exp["weights_min"], exp["weights_max"]], rtol=1e-8)


@pytest.mark.parametrize("cid", [k for k in CASES if k.startswith("calibrate_raking_")])
def test_calibrate_raking_matches_r(cid):
    """calibrate(dclus1, ~stype + sch.wide, population = c(6194, 755, 1018, 5122), calfun = 'raking')."""
    case = CASES[cid]
    d = ss.calibrate(clus1(), {"(Intercept)": 6194, "stype": {"H": 755, "M": 1018}, "sch.wide": {"Yes": 5122}},
                     calfun="raking", epsilon=1e-12, maxit=200)
    e = stat(d, case)
    exp = case["expected"]
    assert_allclose([e.estimate, e.se], [exp["estimate"], exp["se"]], rtol=1e-8)


def test_linear_calibration_matches_r():
    """calibrate(dstrat, ~api99, population = c(`(Intercept)` = 6194, api99 = 3914069))."""
    ref = REFS["calibrate_linear_strat"]
    d = ss.calibrate(ss.Design(ref_data("apistrat.csv"), strata="stype", weights="pw", fpc="fpc"),
                     {"(Intercept)": 6194, "api99": 3914069})
    m, t = ss.mean(d, "api00"), ss.total(d, "enroll")
    assert_allclose([m.estimate, m.se, t.estimate, t.se],
                    [ref["mean_estimate"], np.ravel(ref["mean_se"])[0], ref["total_estimate"], np.ravel(ref["total_se"])[0]],
                    rtol=1e-8)
    assert_allclose(ss.total(d, "api99").estimate, 3914069, rtol=1e-10)


def test_domains_on_a_post_stratified_design():
    """svyby(~api00, ~awards, postStratify(dclus1, ~stype, pop.types), svymean)."""
    ref = REFS["poststratify_domain_clus1"]
    t = ss.mean(ss.poststratify(clus1(), "stype", TYPES), "api00", by="awards")
    assert_allclose(t.estimates, ref["estimate"], rtol=1e-8)
    assert_allclose(t.se, ref["se"], rtol=1e-8)


def test_bounded_and_logit_calibration_respect_bounds():
    d = clus1()
    spec = {"(Intercept)": 6194, "stype": {"H": 755, "M": 1018}}
    lin = ss.calibrate(d, spec)
    lg = ss.calibrate(d, spec, calfun="logit", bounds=(0.5, 2.0))  # H needs g = 755/473.86 = 1.59
    g = lg.weights / d.weights
    assert g.min() >= 0.5 - 1e-9 and g.max() <= 2.0 + 1e-9
    assert_allclose(ss.total(lg, "stype").estimates, [4421, 755, 1018], rtol=1e-6)
    assert_allclose(ss.total(lin, "stype").estimates, [4421, 755, 1018], rtol=1e-10)


def test_trimming_warns_and_keeps_total():
    d = clus1()
    with pytest.warns(ss.SurveyStatsWarning, match="trimmed"):
        c = ss.calibrate(d, {"(Intercept)": 6194, "stype": {"H": 755, "M": 1018}}, trim=(0.9, 1.1))
    assert_allclose(c.weights.sum(), 6194, rtol=1e-9)


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda d: ss.poststratify(d, "stype", {"E": 4421, "H": 755}), ss.DataError, "no population count.*'M'"),
        (lambda d: ss.poststratify(d, "stype", {**TYPES, "X": 5}), ss.DataError, "no respondents"),
        (lambda d: ss.rake(d, {"stype": TYPES, "sch.wide": {"No": 1000, "Yes": 5122}}), ss.DataError, "different population sizes"),
        (lambda d: ss.rake(d, {"stype": {"E": 4421, "H": 755}}), ss.DataError, "no population count for category"),
        (lambda d: ss.rake(d, {"stype": TYPES, "sch.wide": SCHWIDE}, maxit=1, epsilon=1e-14), ss.EstimationError, "did not converge"),
        (lambda d: ss.calibrate(d, {"(Intercept)": 6194, "stype": {"H": 7550, "M": 1018}}, calfun="logit",
                                bounds=(0.9, 1.1)), ss.EstimationError, "did not converge"),
        (lambda d: ss.calibrate(d, {"(Intercept)": 6194}, calfun="logit"), ss.DataError, "finite bounds"),
        (lambda d: ss.calibrate(d, {"stype": TYPES}, calfun="probit"), ss.MethodError, "calfun='probit'"),
    ],
)
def test_bad_weighting_input(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(clus1())


def test_nonresponse_adjustment_by_class():
    df = pd.DataFrame({"w": [10.0, 10, 10, 10, 20, 20, 20, 5], "resp": [1, 1, 0, 0, 1, 0, 1, 0],
                       "elig": [1, 1, 1, 1, 1, 1, 1, 0], "g": list("aaaabbbb")})
    out, rep = ss.nonresponse_adjust(df, weights="w", respondent="resp", eligible="elig", classes="g")
    # class a: eligible weight 40, respondents 20 → factor 2; class b: 60/40 = 1.5 (the ineligible keeps nothing)
    assert_allclose(rep.set_index("class")["factor"].to_numpy(), [2.0, 1.5])
    assert_allclose(out["nr_weight"].to_numpy(), [20, 20, 30, 30])
    assert_allclose(out["nr_weight"].sum(), df.loc[df.elig == 1, "w"].sum())
    with pytest.warns(ss.SurveyStatsWarning, match="above 1.5"):
        ss.nonresponse_adjust(df, weights="w", respondent="resp", classes="g", extreme=1.5)
    with pytest.raises(ss.DataError, match="no respondents"):
        ss.nonresponse_adjust(df.assign(resp=[0, 0, 0, 0, 1, 0, 1, 0]), weights="w", respondent="resp", classes="g")
