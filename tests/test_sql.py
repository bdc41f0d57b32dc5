"""The DuckDB / Parquet backend gives the in-memory results (to 1e-10) on the oracle cases and random designs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import ref_data
from strategies import stratified_frames

duckdb = pytest.importorskip("duckdb")

RTOL = 1e-10


def both(df, **kw):
    con = duckdb.connect()
    con.register("t", df)
    return ss.Design(df, **kw), ss.SQLDesign.from_duckdb("t", con=con, **kw)


def same(a, b):
    if isinstance(a, ss.Estimate):
        a, b = [a], [b]
        va = vb = None
    else:
        va, vb = np.asarray(a.vcov), np.asarray(b.vcov)
    for x, y in zip(a, b):
        assert (x.variable, x.domain, x.category, x.n, x.n_missing) == (y.variable, y.domain, y.category, y.n, y.n_missing)
        assert_allclose([x.estimate, x.se, x.ci_low, x.ci_high], [y.estimate, y.se, y.ci_low, y.ci_high],
                        rtol=RTOL, atol=1e-13)
        if not math.isnan(x.deff):
            assert_allclose(x.deff, y.deff, rtol=1e-8)
    if va is not None:
        assert_allclose(va, vb, rtol=1e-9, atol=1e-13)


STRAT = dict(strata="stype", weights="pw", fpc="fpc")
CLUS = dict(ids="dnum", weights="pw", fpc="fpc")


@pytest.mark.parametrize(
    "data, kw, call",
    [
        ("apistrat.csv", STRAT, lambda d: ss.mean(d, "api00")),
        ("apistrat.csv", STRAT, lambda d: ss.total(d, "enroll")),
        ("apistrat.csv", STRAT, lambda d: ss.proportion(d, "sch.wide")),
        ("apistrat.csv", STRAT, lambda d: ss.ratio(d, "api.stu", "enroll")),
        ("apistrat.csv", STRAT, lambda d: ss.mean(d, ["api00", "api99"], by="awards")),
        ("apistrat.csv", STRAT, lambda d: ss.mean(d, "acs.k3", by="stype", na="drop")),
        ("apiclus1.csv", CLUS, lambda d: ss.mean(d, "api00", by="stype")),
        ("apiclus1.csv", CLUS, lambda d: ss.total(d, "enroll", by="awards")),
        ("apiclus1.csv", CLUS, lambda d: ss.proportion(d, "stype")),
        ("apiclus1.csv", CLUS, lambda d: ss.ratio(d, "api.stu", "enroll", by="stype")),
        ("ciprop_strat120.csv", dict(strata="stratum", weights="weight", fpc="N_h"),
         lambda d: ss.proportion(d, "y_rare", ci_method="beta")),
        ("poverty_survey.csv", dict(strata="status", weights="weight", fpc="N_h"),
         lambda d: ss.proportion(d, "satisfied", by="status")),
        ("poverty_survey.csv", dict(strata="status", weights="weight", fpc="N_h"),
         lambda d: ss.proportion(d, "missed_exit", by="status", na="drop", df="domain")),
    ],
)
def test_oracle_data_in_memory_equals_duckdb(data, kw, call):
    mem, sql = both(ref_data(data), **kw)
    same(call(mem), call(sql))


def test_composite_from_duckdb_matches_r():
    """svycontrast(svyby(~satisfied, ~status, dpov, svymean), c(0.4, 0.4, 0.1, 0.1)) from the SQL backend."""
    _, sql = both(ref_data("poverty_survey.csv"), strata="status", weights="weight", fpc="N_h")
    t = ss.proportion(sql, "satisfied", by="status")
    c = ss.linear_combination(t, {"exited": 0.4, "unexited": 0.4, "unregistered": 0.1, "deregistered": 0.1})
    assert_allclose([c.estimate, c.se], [0.774270833333333, 0.0111143778845718], rtol=1e-8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans().flatmap(lambda c: st.tuples(st.just(c), stratified_frames(clusters=c))), st.booleans())
def test_random_designs_agree(case, drop):
    clusters, df = case
    df = df.copy()
    if drop:
        df.loc[df.index[::3], "y"] = np.nan
    kw = dict(strata="h", weights="w", fpc="N", ids="psu" if clusters else None)
    if not clusters:
        df["N"] = df.groupby("h")["N"].transform("first") * 3
    mem, sql = both(df, **kw)
    na = "drop" if drop else "fail"
    same(ss.mean(mem, "y", by="g", na=na), ss.mean(sql, "y", by="g", na=na))
    same(ss.total(mem, "y", by="g", na=na), ss.total(sql, "y", by="g", na=na))


def test_parquet_files_and_where(tmp_path):
    df = ref_data("apistrat.csv")
    df.to_parquet(tmp_path / "api.parquet")
    sql = ss.SQLDesign.from_parquet(tmp_path / "api.parquet", **STRAT)
    mem = ss.Design(df, **STRAT)
    same(ss.mean(mem, "api00", where=(df["stype"] == "H").to_numpy()), ss.mean(sql, "api00", where="stype == 'H'"))


def test_in_memory_only_features_say_so():
    _, sql = both(ref_data("apistrat.csv"), **STRAT)
    with pytest.raises(ss.MethodError, match="in memory only"):
        ss.quantile(sql, "api00")
    with pytest.raises(ss.MethodError, match="condition string"):
        ss.mean(sql, "api00", where=np.ones(200, bool))


@pytest.mark.parametrize(
    "kw, pattern",
    [(dict(strata="nope", weights="pw"), "not in"), (dict(strata="stype", weights="acs.k3"), "missing values"),
     (dict(ids="dnum", strata="stype", weights="pw"), "not nested")],
)
def test_sql_design_validation(kw, pattern):
    con = duckdb.connect()
    con.register("t", ref_data("apistrat.csv"))
    with pytest.raises(ss.DesignError, match=pattern):
        ss.SQLDesign("t", con=con, **kw)


def test_sql_selection_is_reproducible_and_respects_certainty():
    from survey_stats.sql import sql_frame_summary, sql_select

    rng = np.random.default_rng(1)
    reg = pd.DataFrame({"id": range(2000), "h": rng.choice(list("abcd"), 2000), "flag": rng.random(2000) < 0.02})
    con = duckdb.connect()
    con.register("reg", reg)
    s1 = sql_select("reg", con=con, id="id", strata="h", fraction=0.3, seed=5, certainty="flag")
    s2 = sql_select("reg", con=con, id="id", strata="h", fraction=0.3, seed=5, certainty="flag")
    s3 = sql_select("reg", con=con, id="id", strata="h", fraction=0.3, seed=6, certainty="flag")
    pd.testing.assert_frame_equal(s1, s2)
    assert set(s1["id"]) != set(s3["id"])
    assert set(reg.loc[reg.flag, "id"]) <= set(s1["id"])
    summ = sql_frame_summary("reg", con=con, strata="h", certainty="flag").set_index("stratum")
    got = s1.groupby("stratum").size()
    assert (got == np.ceil(0.3 * summ["N"] - 1e-9).astype(int)).all()
    # design weights add up to N per stratum
    assert_allclose(s1.groupby("stratum")["weight"].sum().to_numpy(), summ["N"].to_numpy())


def test_sql_selection_inclusion_frequencies():
    from survey_stats.sql import sql_select

    reg = pd.DataFrame({"id": range(30), "h": ["a"] * 20 + ["b"] * 10})
    con = duckdb.connect()
    con.register("reg", reg)
    counts = np.zeros(30)
    draws = 600
    for s in range(draws):
        counts[sql_select("reg", con=con, id="id", strata="h", n=5, seed=s)["id"].to_numpy()] += 1
    pi = np.r_[np.full(20, 5 / 20), np.full(10, 5 / 10)]
    z = (counts / draws - pi) / np.sqrt(pi * (1 - pi) / draws)
    assert np.abs(z).max() < 4.5


def test_indicator_layer_on_duckdb_matches_in_memory():
    """evaluate_indicators with SQL designs: the same table as with in-memory designs."""
    import json

    from survey_stats.expr import parse

    assert parse("status in ['exited', 'unexited']").to_sql() == "COALESCE((\"status\" IN ('exited', 'unexited')), FALSE)"
    assert parse("status == 'exited'").to_sql() == "COALESCE((\"status\" = 'exited'), FALSE)"
    spec = json.loads(json.dumps(ss.IndicatorSystem.default().select(
        ["satisfaction", "missed_exit_rate", "misidentification_rate"]).spec))
    for ind in spec["indicators"]:
        for p in ind.get("parts", []):
            p["sample"] = "survey"
            p["denominator"] = f"status == '{p['id'].split('_')[1]}'"
        if ind.get("sample"):
            ind["sample"] = "survey"
        if ind["id"] == "missed_exit_rate":  # the census sample is here a stratum of one survey
            ind["denominator"] = "status == 'unexited'"
    system = ss.IndicatorSystem(spec)
    mem, sql = both(ref_data("poverty_survey.csv"), strata="status", weights="weight", fpc="N_h")
    a = ss.evaluate_indicators(system, {"survey": mem})
    b = ss.evaluate_indicators(system, {"survey": sql})
    for x, y in zip(a, b):
        assert x.id == y.id and x.verdict == y.verdict
        assert_allclose([x.estimate, x.se, x.ci_low, x.ci_high], [y.estimate, y.se, y.ci_low, y.ci_high], rtol=RTOL,
                        atol=1e-13)
    assert_allclose(np.asarray(a.vcov), np.asarray(b.vcov), rtol=1e-9, atol=1e-14)


def test_design_from_duckdb_still_works_with_a_deprecation_warning():
    con = duckdb.connect()
    con.register("t", ref_data("apistrat.csv"))
    with pytest.warns(DeprecationWarning, match="moved to SQLDesign.from_duckdb"):
        d = ss.Design.from_duckdb("t", con=con, **STRAT)
    assert isinstance(d, ss.SQLDesign) and d.degf == 197


def test_sqldesign_accepts_an_ibis_table():
    ibis = pytest.importorskip("ibis")
    raw = duckdb.connect()
    raw.register("apistrat", ref_data("apistrat.csv"))
    with warnings.catch_warnings():  # ibis 12 reads the schema with a call duckdb 2 deprecates (not ours)
        warnings.simplefilter("ignore", DeprecationWarning)
        table = ibis.duckdb.from_connection(raw).table("apistrat")
    data = ref_data("apistrat.csv")
    mem = ss.Design(data[data["stype"] != "H"], **STRAT)  # a filtered table is a design of its own
    d = ss.SQLDesign(table.filter(table.stype != "H"), **STRAT)
    assert (d.n, d.degf) == (150, 148)
    same(ss.mean(mem, "api00", by="awards"), ss.mean(d, "api00", by="awards"))


def _with_certainty(name):
    data = ref_data(name)
    if name == "apistrat.csv":
        data["cert"] = data["enroll"].fillna(0) > 1800  # a few large schools taken with certainty
    else:
        data["cert"] = data["dnum"].isin([406, 413])  # whole PSUs
    return data


@pytest.mark.parametrize("name, kw", [("apistrat.csv", dict(strata="stype", fpc="fpc")),
                                      ("apiclus1.csv", dict(ids="dnum", fpc="fpc"))])
def test_certainty_units_on_sql_equal_in_memory(name, kw):
    data = _with_certainty(name)
    assert 0 < data["cert"].sum() < len(data)
    mem, sql = both(data, certainty="cert", **kw)
    assert (sql.n_strata, sql.degf) == (mem.n_strata, mem.degf)
    assert sql.labels == list(mem._labels_h)
    same(ss.mean(mem, "api00", by="awards"), ss.mean(sql, "api00", by="awards"))
    same(ss.proportion(mem, "sch.wide", ci_method="beta"), ss.proportion(sql, "sch.wide", ci_method="beta"))
    same(ss.total(mem, "enroll", na="drop"), ss.total(sql, "enroll", na="drop"))


def test_certainty_errors_on_sql():
    data = _with_certainty("apistrat.csv")
    con = duckdb.connect()
    con.register("t", data)
    with pytest.raises(ss.DesignError, match="certainty units must have weight 1"):
        ss.SQLDesign("t", con=con, certainty="cert", **STRAT)
    data["flag"] = np.where(data["cert"], "yes", "no")
    con.register("u", data)
    with pytest.raises(ss.DesignError, match="must be True/False or 1/0"):
        ss.SQLDesign("u", con=con, certainty="flag", strata="stype", fpc="fpc")
    clus = ref_data("apiclus1.csv")
    clus["cert"] = clus.index == 0  # one row of a PSU, not the whole PSU
    con.register("c", clus)
    with pytest.raises(ss.DesignError, match="differs within PSU"):
        ss.SQLDesign("c", con=con, ids="dnum", fpc="fpc", certainty="cert")
