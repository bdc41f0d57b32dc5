"""Multistage designs: input checks, the recursion's structure, one-stage parity, lonely PSUs in domains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import ref_data


def _clus2() -> pd.DataFrame:
    return ref_data("apiclus2.csv")


def test_single_string_ids_is_one_stage():
    df = _clus2()
    a = ss.Design(df, ids="dnum", weights="pw", fpc="fpc1")
    b = ss.Design(df, ids=["dnum"], weights="pw", fpc=["fpc1"])
    assert ss.mean(a, "api00").se == ss.mean(b, "api00").se
    assert b._stages == ()


def test_fpc_list_of_wrong_length():
    with pytest.raises(ss.DesignError, match="fpc= has 1 entry"):
        ss.Design(_clus2(), ids=["dnum", "snum"], fpc=["fpc1"])
    with pytest.raises(ss.DesignError, match="fpc= has 2 entries"):
        ss.Design(_clus2(), ids="dnum", fpc=["fpc1", "fpc2"])


def test_bad_ids_type():
    with pytest.raises(ss.DesignError, match="ids must be"):
        ss.Design(_clus2(), ids=[], weights="pw")
    with pytest.raises(ss.DesignError, match="strata must be a column name"):
        ss.Design(_clus2(), strata=["stype"], weights="pw")


def test_later_stage_column_missing():
    with pytest.raises(ss.DesignError, match=r"ids\[1\]='nope'"):
        ss.Design(_clus2(), ids=["dnum", "nope"], weights="pw")


def test_ids_not_nested_names_column_and_rows():
    df = _clus2()
    df.loc[df.index[0], "snum"] = df["snum"].iloc[-1]  # a school id reused in another district
    with pytest.raises(ss.DesignError, match=r"not nested.*'snum'.*row"):
        ss.Design(df, ids=["dnum", "snum"], weights="pw")
    d = ss.Design(df, ids=["dnum", "snum"], weights="pw", nest=True)  # ids unique within district only
    assert d.n_psu == 40


def test_weights_from_stage_fpcs_are_the_product_of_N_over_n():
    df = _clus2()
    d = ss.Design(df, ids=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    n2 = df.groupby("dnum")["snum"].transform("nunique")
    assert_allclose(d.weights, df["fpc1"] / 40 * df["fpc2"] / n2, rtol=1e-14)
    assert_allclose(d.weights, df["pw"], rtol=1e-4)  # R's pw column, rounded


def test_no_fpc_is_ultimate_cluster():
    df = _clus2()
    two = ss.Design(df, ids=["dnum", "snum"], weights="pw")
    one = ss.Design(df, ids="dnum", weights="pw")
    assert ss.mean(two, "api00").se == ss.mean(one, "api00").se


def test_stage_without_fpc_needs_weights():
    with pytest.raises(ss.DesignError, match="cannot be derived"):
        ss.Design(_clus2(), ids=["dnum", "snum"], fpc=["fpc1", None])
    df = _clus2()
    # with-replacement second stage: its variance counts (f = 0), scaled by the first-stage fraction
    with pytest.raises(ss.LonelyPSUError, match=r"15, 63, 117.*stage 2"):  # districts with one school
        ss.Design(df, ids=["dnum", "snum"], fpc=["fpc1", None], weights="pw")
    d = ss.Design(df, ids=["dnum", "snum"], fpc=["fpc1", None], weights="pw", lonely_psu="certainty")
    one = ss.Design(df, ids="dnum", fpc="fpc1", weights="pw")
    assert ss.mean(d, "api00").se > ss.mean(one, "api00").se


def test_first_stage_without_fpc_drops_later_stages():
    df = _clus2()
    d = ss.Design(df, ids=["dnum", "snum"], fpc=[None, "fpc2"], weights="pw")
    assert ss.mean(d, "api00").se == ss.mean(ss.Design(df, ids="dnum", weights="pw"), "api00").se


def test_recursion_by_hand():
    """V = between-PSU variance with (1 - f1) + Σ_PSU f1 · within-PSU variance with (1 - f2)."""
    df = _clus2()
    d = ss.Design(df, ids=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    w, y = d.weights, df["enroll"].fillna(0).to_numpy()
    z = pd.Series(w * y)
    t = z.groupby(df["dnum"]).sum()
    n1, N1 = len(t), df["fpc1"].iloc[0]
    v = (1 - n1 / N1) * n1 / (n1 - 1) * ((t - t.mean()) ** 2).sum()
    for _, g in pd.DataFrame({"z": z, "d": df["dnum"], "N": df["fpc2"]}).groupby("d"):
        n2, N2 = len(g), g["N"].iloc[0]
        if n2 > 1:
            v += n1 / N1 * (1 - n2 / N2) * n2 / (n2 - 1) * ((g["z"] - g["z"].mean()) ** 2).sum()
    e = ss.total(ss.Design(df.assign(enroll=df["enroll"].fillna(0)), ids=["dnum", "snum"],
                           fpc=["fpc1", "fpc2"]), "enroll")
    assert_allclose(e.se, np.sqrt(v), rtol=1e-12)


def _lonely_stage2() -> pd.DataFrame:
    df = pd.DataFrame({"psu": [1, 1, 1, 2, 2, 3, 4, 4], "ssu": [1, 2, 3, 4, 5, 6, 7, 8],
                       "N1": 10, "N2": [5, 5, 5, 4, 4, 6, 3, 3], "y": [3.0, 1, 4, 1, 5, 9, 2, 6]})
    return df


def test_lonely_second_stage_unit_policies():
    df = _lonely_stage2()  # PSU 3 holds one of its 6 units
    with pytest.raises(ss.LonelyPSUError, match="stage 2"):
        ss.Design(df, ids=["psu", "ssu"], fpc=["N1", "N2"])
    with pytest.raises(ss.LonelyPSUError, match="average"):
        ss.Design(df, ids=["psu", "ssu"], fpc=["N1", "N2"], lonely_psu="average")
    ses = {p: ss.mean(ss.Design(df, ids=["psu", "ssu"], fpc=["N1", "N2"], lonely_psu=p), "y").se
           for p in ("certainty", "remove", "adjust")}
    assert ses["certainty"] == ses["remove"] == ses["adjust"] > 0
    census = df.assign(N2=np.where(df["psu"] == 3, 1, df["N2"]))  # a census of one: no lonely unit
    assert ss.Design(census, ids=["psu", "ssu"], fpc=["N1", "N2"]).n == 8


def test_certainty_column_refused_in_multistage():
    with pytest.raises(ss.DesignError, match="census stratum"):
        ss.Design(_lonely_stage2().assign(c=False), ids=["psu", "ssu"], fpc=["N1", "N2"], certainty="c")


def test_census_first_stage_keeps_within_variance():
    """A first-stage census (N1 = n1) leaves only the second-stage variance, times f1 = 1."""
    df = _lonely_stage2().assign(N1=4, N2=lambda d: d["N2"].where(d["psu"] != 3, 1))
    d = ss.Design(df, ids=["psu", "ssu"], fpc=["N1", "N2"])
    e = ss.total(d, "y")
    z = pd.Series(d.weights * df["y"])
    v = 0.0
    for _, g in pd.DataFrame({"z": z, "p": df["psu"], "N": df["N2"]}).groupby("p"):
        n2, N2 = len(g), g["N"].iloc[0]
        if n2 > 1:
            v += (1 - n2 / N2) * n2 / (n2 - 1) * ((g["z"] - g["z"].mean()) ** 2).sum()
    assert_allclose(e.se, np.sqrt(v), rtol=1e-12)


def test_adjust_domain_lonely_must_be_bool():
    with pytest.raises(ss.DesignError, match="adjust_domain_lonely"):
        ss.Design(ref_data("apistrat.csv"), strata="stype", weights="pw", adjust_domain_lonely="yes")


def test_domain_lonely_needs_no_lonely_without_average_or_adjust():
    """certainty/remove: the strata a domain reaches do not matter (R counts every stratum)."""
    df = ref_data("apistrat.csv")
    a = ss.Design(df, strata="cname", weights="pw", lonely_psu="remove")
    b = ss.Design(df, strata="cname", weights="pw", lonely_psu="remove", adjust_domain_lonely=True)
    assert_allclose(ss.mean(a, "api00", by="stype").vcov, ss.mean(b, "api00", by="stype").vcov, rtol=0)


def test_domain_lonely_average_whole_sample_unchanged():
    df = ref_data("apistrat.csv")
    d = ss.Design(df, strata="cname", weights="pw", lonely_psu="average")
    whole = ss.mean(d, "api00").se
    everyone = ss.mean(d, "api00", where=np.ones(len(df), dtype=bool)).se
    assert_allclose(whole, everyone, rtol=1e-12)


def test_glm_on_domain_uses_domain_strata():
    """An intercept-only gaussian model on a domain is the domain mean, lonely-PSU rule included."""
    df = ref_data("apistrat.csv")
    for adl in (False, True):
        d = ss.Design(df, strata="cname", weights="pw", lonely_psu="average", adjust_domain_lonely=adl)
        m = ss.glm(d, "api00 ~ 1", where="stype == 'H'")
        e = ss.mean(d, "api00", where="stype == 'H'")
        assert_allclose([m.coef[0], m.se[0]], [e.estimate, e.se], rtol=1e-10)
