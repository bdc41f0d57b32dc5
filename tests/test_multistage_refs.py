"""Multistage designs and lonely PSUs in domains against R survey 4.1 (tests/reference/make_refs_multistage.R)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs_multistage import lonely_domain_design, load_multistage_refs, multistage_design

REFS = load_multistage_refs()
RTOL = 1e-8
DESIGNS = ["d2", "d2w", "ds2"]


def _s(x) -> float:
    """A scalar from R's JSON (length-1 vectors are unboxed)."""
    return float(np.ravel(x)[0])


def _d(name: str) -> ss.Design:
    return multistage_design(name, "certainty" if name == "d3" else "fail")


@pytest.mark.parametrize("name", DESIGNS + ["d3"])
def test_structure(name):
    ref = REFS[f"structure_{name}"]
    d = _d(name)
    assert d.degf == ref["df"]
    assert_allclose(d.weights, ref["weights"], rtol=1e-12)


@pytest.mark.parametrize("name", DESIGNS + ["d3"])
def test_mean_with_deff(name):
    ref = REFS[f"{name}_mean_api00"]
    e = ss.mean(_d(name), "api00")
    assert_allclose([e.estimate, e.se, e.deff], [_s(ref["estimate"]), _s(ref["se"]), _s(ref["deff"])], rtol=RTOL)


@pytest.mark.parametrize("name", DESIGNS)
def test_two_means_covariance(name):
    ref = REFS[f"{name}_mean_api00_api99"]
    t = ss.mean(_d(name), ["api00", "api99"])
    assert_allclose(t.estimates, ref["estimate"], rtol=RTOL)
    assert_allclose(t.vcov, ref["vcov"], rtol=RTOL)


@pytest.mark.parametrize("name", DESIGNS + ["d3"])
def test_total_na_drop(name):
    ref = REFS[f"{name}_total_enroll"]
    e = ss.total(_d(name), "enroll", na="drop")
    assert_allclose([e.estimate, e.se], [_s(ref["estimate"]), _s(ref["se"])], rtol=RTOL)
    if "deff" in ref:
        assert_allclose(e.deff, _s(ref["deff"]), rtol=RTOL)


@pytest.mark.parametrize("name", DESIGNS + ["d3"])
def test_ratio(name):
    ref = REFS[f"{name}_ratio_api00_api99"]
    e = ss.ratio(_d(name), "api00", "api99")
    assert_allclose([e.estimate, e.se], [_s(ref["estimate"]), _s(ref["se"])], rtol=RTOL)


@pytest.mark.parametrize("name", DESIGNS)
def test_proportion_with_deff(name):
    ref = REFS[f"{name}_prop_schwide"]
    t = ss.proportion(_d(name), "sch.wide")
    assert_allclose(t.estimates, ref["estimate"], rtol=RTOL)
    assert_allclose(t.vcov, ref["vcov"], rtol=RTOL)
    assert_allclose(t.to_frame()["deff"], ref["deff"], rtol=RTOL)


@pytest.mark.parametrize("name", DESIGNS + ["d3"])
def test_by_domains(name):
    ref = REFS[f"{name}_by_stype_mean_api00"]
    t = ss.mean(_d(name), "api00", by="stype")
    assert_allclose(t.estimates, ref["estimate"], rtol=RTOL)
    assert_allclose(np.sqrt(np.diag(t.vcov)), ref["se"], rtol=RTOL)


@pytest.mark.parametrize("name", DESIGNS)
def test_where_subset_total_and_df(name):
    ref = REFS[f"{name}_where_meals_total_api00"]
    e = ss.total(_d(name), "api00", where="meals > 50", df="domain")
    assert_allclose([e.estimate, e.se], [_s(ref["estimate"]), _s(ref["se"])], rtol=RTOL)
    assert e.df == ref["df"]


@pytest.mark.parametrize("name", DESIGNS)
@pytest.mark.parametrize("q", [0.25, 0.5])
def test_quantile(name, q):
    ref = REFS[f"{name}_quantile_api00_{q}"]
    e = ss.quantile(_d(name), "api00", q)
    assert_allclose([e.estimate, e.se, e.ci_low, e.ci_high],
                    [ref["estimate"], ref["se"], ref["ci_lower"], ref["ci_upper"]], rtol=RTOL)


@pytest.mark.parametrize("policy", ["certainty", "remove"])
def test_three_stage_lonely_units(policy):
    ref = REFS[f"d3_lonely_{policy}"]
    d = multistage_design("d3", policy)
    m, t = ss.mean(d, "api00"), ss.total(d, "enroll", na="drop")
    assert_allclose([m.estimate, m.se], [_s(ref["mean"]["estimate"]), _s(ref["mean"]["se"])], rtol=RTOL)
    assert_allclose([t.estimate, t.se], [_s(ref["total"]["estimate"]), _s(ref["total"]["se"])], rtol=RTOL)


@pytest.mark.parametrize("case", ["gaussian", "binomial", "gaussian_sub"])
def test_glm_two_stage(case):
    ref = REFS[f"d2_glm_{case}"]
    d = multistage_design("d2")
    data = d.data
    if case == "binomial":
        d = ss.Design(data.assign(sw=(data["sch.wide"] == "Yes").astype(int)), ids=["dnum", "snum"],
                      fpc=["fpc1", "fpc2"])
        m = ss.glm(d, "sw ~ ell + meals", family="quasibinomial")
    else:
        where = "stype != 'E'" if case == "gaussian_sub" else None
        m = ss.glm(d, "api00 ~ ell + meals", where=where)
    assert_allclose(m.coef, ref["coef"], rtol=RTOL)
    assert_allclose(m.vcov, ref["vcov"], rtol=RTOL)
    assert m.df_residual == ref["df_residual"]


LONELY = [(p, a) for p in ("average", "adjust") for a in (False, True)]


@pytest.mark.parametrize("policy, adl", LONELY)
def test_lonely_by_domain_mean(policy, adl):
    ref = REFS[f"lonely_{policy}_adl{int(adl)}_by_stype_mean"]
    t = ss.mean(lonely_domain_design(policy, adl), "api00", by="stype")
    assert_allclose(t.estimates, ref["estimate"], rtol=RTOL)
    assert_allclose(np.sqrt(np.diag(t.vcov)), ref["se"], rtol=RTOL)


@pytest.mark.parametrize("policy, adl", LONELY)
def test_lonely_by_domain_proportion(policy, adl):
    ref = REFS[f"lonely_{policy}_adl{int(adl)}_by_stype_prop"]
    t = ss.proportion(lonely_domain_design(policy, adl), "sch.wide", by="stype")
    f = t.to_frame()
    got = {(r["stype"], r["category"]): (r["estimate"], r["se"]) for _, r in f.iterrows()}
    for name, e, se in zip(ref["names"], ref["estimate"], ref["se"]):
        dom, cat = name.split(":factor(sch.wide)")
        assert_allclose(got[(dom, cat)], (e, se), rtol=RTOL)


@pytest.mark.parametrize("policy, adl", LONELY)
def test_lonely_where_and_whole(policy, adl):
    d = lonely_domain_design(policy, adl)
    ref = REFS[f"lonely_{policy}_adl{int(adl)}_where_awards_mean"]
    e = ss.mean(d, "api00", where="awards == 'Yes'")
    assert_allclose([e.estimate, e.se], [_s(ref["estimate"]), _s(ref["se"])], rtol=RTOL)
    ref = REFS[f"lonely_{policy}_adl{int(adl)}_whole_mean"]
    e = ss.mean(d, "api00")
    assert_allclose([e.estimate, e.se], [_s(ref["estimate"]), _s(ref["se"])], rtol=RTOL)


@pytest.mark.parametrize("policy, adl", LONELY)
def test_lonely_clustered_by_domain(policy, adl):
    ref = REFS[f"lonely_{policy}_adl{int(adl)}_clus_by_stype_mean"]
    t = ss.mean(lonely_domain_design(policy, adl, clustered=True), "api00", by="stype")
    assert_allclose(t.estimates, ref["estimate"], rtol=RTOL)
    assert_allclose(np.sqrt(np.diag(t.vcov)), ref["se"], rtol=RTOL)


def _check(e, ref):
    assert_allclose([e.estimate, e.se], [_s(ref["estimate"]), _s(ref["se"])], rtol=RTOL)


def test_jk1_on_first_stage():
    _check(ss.mean(ss.replicate_design(multistage_design("d2"), "JK1"), "api00"), REFS["d2_jk1_mean_api00"])


def test_jkn_on_first_stage_stratified():
    _check(ss.mean(ss.replicate_design(multistage_design("ds2"), "JKn"), "api00"), REFS["ds2_jkn_mean_api00"])


def test_poststratify_two_stage():
    d = ss.poststratify(multistage_design("d2"), "stype", {"E": 4421, "H": 755, "M": 1018})
    _check(ss.mean(d, "api00"), REFS["d2_poststratify_mean_api00"])
    ref = REFS["d2_poststratify_by_stype"]
    t = ss.mean(d, "api00", by="stype")
    assert_allclose(t.estimates, ref["estimate"], rtol=RTOL)
    assert_allclose(np.sqrt(np.diag(t.vcov)), ref["se"], rtol=RTOL)


def test_calibrate_two_stage():
    d = ss.calibrate(multistage_design("d2"), {"(Intercept)": 6194, "api99": 3914069})
    _check(ss.total(d, "enroll", na="drop"), REFS["d2_calibrate_total_enroll"])


def test_calibrate_raking_two_stage():
    d = ss.calibrate(multistage_design("d2"), {"(Intercept)": 6194, "stype": {"H": 755, "M": 1018},
                                               "sch.wide": {"Yes": 4694}}, calfun="raking", epsilon=1e-13)
    _check(ss.mean(d, "api00"), REFS["d2_calibrate_raking_mean_api00"])


def test_nonlinear_contrast_of_two_stage_domains():
    t = ss.mean(multistage_design("d2"), "api00", by="stype")
    _check(ss.contrast(t, "E / H - 1"), REFS["d2_contrast_E_over_H"])
