"""Estimators: cross-method identities (as R survey's tests/domain.R), domains, missing data, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import ref_data


@pytest.fixture(scope="module")
def strat():
    df = ref_data("apistrat.csv")
    df["yes"] = df["sch.wide"] == "Yes"
    return ss.Design(df, strata="stype", weights="pw", fpc="fpc")


@pytest.fixture(scope="module")
def clus():
    df = ref_data("apiclus1.csv")
    df["yes"] = df["sch.wide"] == "Yes"
    return ss.Design(df, ids="dnum", weights="pw", fpc="fpc")


@pytest.mark.parametrize("which", ["strat", "clus"])
def test_domain_mean_equals_ratio(which, request):
    d = request.getfixturevalue(which)
    data = d.data
    t = ss.mean(d, "api00", by="awards")
    for lev in ("No", "Yes"):
        ind = (data["awards"] == lev).astype(float)
        df = data.assign(num=data["api00"] * ind, den=ind)
        d2 = ss.Design(df, **{k: v for k, v in d.columns.items() if v is not None})
        r = ss.ratio(d2, "num", "den")
        assert_allclose([t[lev].estimate, t[lev].se], [r.estimate, r.se], rtol=1e-10)


@pytest.mark.parametrize("which", ["strat", "clus"])
def test_domain_totals_add_up(which, request):
    d = request.getfixturevalue(which)
    t = ss.total(d, "enroll", by="awards")
    whole = ss.total(d, "enroll")
    c = ss.linear_combination(t, [1, 1])
    assert_allclose([c.estimate, c.se], [whole.estimate, whole.se], rtol=1e-10)


def test_where_equals_by_row(strat):
    t = ss.mean(strat, "api00", by="stype")
    e = ss.mean(strat, "api00", where=strat.column("stype") == "M")
    assert_allclose([e.estimate, e.se], [t["M"].estimate, t["M"].se], rtol=1e-12)
    e2 = ss.mean(strat, "api00", where="yes")
    assert e2.n == int(strat.column("yes").sum())


def test_one_stratum_srs_formula():
    rng = np.random.default_rng(3)
    y = rng.normal(size=40)
    d = ss.Design(pd.DataFrame({"y": y, "N": 500}), fpc="N")
    e = ss.mean(d, "y")
    assert_allclose(e.se, y.std(ddof=1) * math.sqrt(1 - 40 / 500) / math.sqrt(40), rtol=1e-12)
    assert_allclose(e.deff, 1.0, rtol=1e-12)


def test_categorical_proportions_sum_to_one(clus):
    t = ss.proportion(clus, "stype", by="awards")
    fr = t.to_frame()
    assert set(fr.columns) >= {"awards", "category", "estimate", "se", "ci_low", "ci_high"}
    assert_allclose(fr.groupby("awards")["estimate"].sum(), 1.0)
    for lev in ("No", "Yes"):
        idx = [t.index((c, lev)) for c in "EHM"]
        assert_allclose(np.asarray(t.vcov)[np.ix_(idx, idx)].sum(axis=1), 0.0, atol=1e-15)


def test_several_variables_one_table(strat):
    t = ss.mean(strat, ["api00", "api99"], by="stype")
    assert len(t) == 6
    a = ss.mean(strat, "api99", by="stype")
    assert_allclose(t.se[3:], a.se, rtol=1e-12)
    assert not np.allclose(np.asarray(t.vcov)[:3, 3:], 0)  # the two scores covary


def test_two_by_columns(strat):
    t = ss.proportion(strat, "yes", by=["stype", "awards"])
    assert len(t) == 6
    assert t[("E", "Yes")].domain == (("stype", "E"), ("awards", "Yes"))
    assert list(t.to_frame().columns[:2]) == ["stype", "awards"]


def test_return_types(strat):
    assert isinstance(ss.mean(strat, "api00"), ss.Estimate)
    assert isinstance(ss.mean(strat, "api00", by="stype"), ss.EstimateTable)
    assert isinstance(ss.proportion(strat, "sch.wide"), ss.EstimateTable)  # every category
    assert isinstance(ss.proportion(strat, "yes"), ss.Estimate)
    row = ss.mean(strat, "api00").to_frame()
    assert row.shape[0] == 1 and {"estimate", "se", "ci_low", "ci_high", "df", "deff", "n_eff", "cv"} <= set(row)


def test_empty_domain_gives_nan_row_with_reason(strat):
    t = ss.mean(strat, "api00", by="stype", where=strat.column("stype") != "H")
    h = t["H"]
    assert h.n == 0 and math.isnan(h.estimate) and "empty domain" in h.method
    assert not math.isnan(t["E"].se)


def test_na_drop_counts_per_domain(strat):
    t = ss.mean(strat, "acs.k3", by="stype", na="drop")
    data = strat.data
    miss = data["acs.k3"].isna().groupby(data["stype"]).sum()
    assert [r.n_missing for r in t] == miss.tolist()
    assert math.isnan(t["H"].estimate)  # high schools have no K-3 class sizes


def test_numeric_non_binary_is_categorical():
    df = pd.DataFrame({"y": [1, 2, 3, 3, 2, 1], "N": 100})
    t = ss.proportion(ss.Design(df, fpc="N"), "y")
    assert [r.category for r in t] == [1, 2, 3]


def test_zero_events_beta_and_wilson_have_upper_bound():
    df = pd.DataFrame({"s": ["a"] * 50 + ["b"] * 50, "N": [500] * 50 + [800] * 50, "y": 0})
    d = ss.Design(df, strata="s", fpc="N")
    for method in ("beta", "wilson"):
        e = ss.proportion(d, "y", ci_method=method)
        assert e.ci_low == 0.0 and 0 < e.ci_high < 0.1 and e.n_eff == 100
    e = ss.proportion(d, "y", ci_method="logit")
    assert "fallback" in e.method and e.ci_high > 0
    e = ss.proportion(d, "y", ci_method="wald")
    assert e.ci_high == 0.0 and "degenerate" in e.method
    one = ss.proportion(d.__class__(df.assign(y=1), strata="s", fpc="N"), "y", ci_method="beta")
    assert one.ci_high == 1.0 and 0.9 < one.ci_low < 1


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda d: ss.mean(d, "nope"), ss.DataError, "column 'nope' is not in"),
        (lambda d: ss.mean(d, "stype"), ss.DataError, "not numeric"),
        (lambda d: ss.mean(d, "api00", level=95), ss.MethodError, "level=95"),
        (lambda d: ss.mean(d, "api00", na="omit"), ss.MethodError, "na='omit'"),
        (lambda d: ss.proportion(d, "yes", ci_method="clopper"), ss.MethodError, "ci_method='clopper'.*'beta'"),
        (lambda d: ss.mean(d, "api00", by="acs.k3"), ss.DataError, "by column 'acs.k3' has missing"),
        (lambda d: ss.mean(d, "api00", where=[True, False]), ss.DataError, "one value per row"),
        (lambda d: ss.mean(d, "api00", where=np.zeros(200, bool)), ss.DataError, "selects no rows"),
        (lambda d: ss.quantile(d, "api00", 1.5), ss.MethodError, "not in \\[0, 1\\]"),
        (lambda d: ss.quantile(d, "api00", qrule="type7"), ss.MethodError, "qrule="),
        (lambda d: ss.mean(d, "api00", df="full"), ss.MethodError, "df='full'"),
        (lambda d: ss.mean(d, []), ss.MethodError, "column name"),
    ],
)
def test_bad_estimator_input(strat, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(strat)


def test_df_zero_gives_nan_interval():
    df = pd.DataFrame({"y": [1.0, 2.0], "psu": [1, 1], "w": [1.0, 1.0]})
    d = ss.Design(df, ids="psu", weights="w", lonely_psu="certainty")
    e = ss.mean(d, "y")
    assert d.degf == 0 and math.isnan(e.ci_low) and math.isnan(e.ci_high)


def test_quantile_table_has_no_joint_covariance(strat):
    t = ss.quantile(strat, "api00", [0.25, 0.75])
    assert [r.category for r in t] == ["q0.25", "q0.75"]
    with pytest.raises(ss.DataError, match="unknown"):
        ss.linear_combination(t, [1, -1])
