"""ss.chisq_test and ss.t_test against R svychisq and svyttest (tests/reference/make_refs_models.R)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs_models import design, load_model_refs

REFS = load_model_refs()
CHISQ = {
    "chisq_strat_schwide_stype": ("dstrat", "sch.wide", "stype"),
    "chisq_clus1_awards_stype": ("dclus1", "awards", "stype"),
    "chisq_nhanes_race_agecat": ("dnh", "race", "agecat"),
    "chisq_nhanes_hichol_race_na": ("dnh", "HI_CHOL", "race"),
    "chisq_jk1_awards_stype": ("jk1_clus1", "awards", "stype"),
    "chisq_subset_strat_E_awards_schwide": ("dstrat_E", "awards", "sch.wide"),
    "chisq_subset_clus1_yrno_awards_stype": ("dclus1_yrno", "awards", "stype"),
    "chisq_jkn_schwide_stype": ("jkn_strat", "sch.wide", "stype"),
}


@pytest.mark.parametrize("statistic", ["F", "Chisq", "Wald", "adjWald"])
@pytest.mark.parametrize("case", sorted(CHISQ))
def test_chisq_matches_svychisq(case, statistic):
    ref = REFS[f"{case}_{statistic}"]
    name, row, col = CHISQ[case]
    d, where = design(name)
    r = ss.chisq_test(d, row, col, statistic=statistic, where=where)
    assert_allclose(r.statistic, ref["statistic"], rtol=1e-8)
    if statistic == "Chisq":
        assert r.ndf == ref["parameter"] and r.ddf == float("inf")
    elif statistic == "F":  # non-integer df
        assert_allclose([r.ndf, r.ddf], ref["parameter"], rtol=1e-6)
    else:
        assert [r.ndf, r.ddf] == ref["parameter"]
    assert_allclose(r.p_value, ref["p_value"], rtol=1e-6)


def test_chisq_table_and_errors():
    d, _ = design("dstrat")
    r = ss.chisq_test(d, "sch.wide", "stype")
    assert r.table.shape == (2, 3) and np.isclose(r.table.to_numpy().sum(), d.population_size)
    assert "Rao-Scott" in repr(r) and "<table" in r._repr_html_()
    with pytest.raises(ss.MethodError, match="statistic"):
        ss.chisq_test(d, "sch.wide", "stype", statistic="lincom")  # type: ignore[arg-type]
    with pytest.raises(ss.DataError, match="2 × 2"):
        ss.chisq_test(d, "sch.wide", "stype", where=d.column("stype") == "E")
    with pytest.raises(ss.DataError, match="nope"):
        ss.chisq_test(d, "nope", "stype")


def test_chisq_independent_columns_not_rejected():
    """A column made independent of stype (same share in each stratum) gives X² = 0 and p = 1."""
    d, _ = design("dstrat")
    df = d.data
    df["half"] = df.groupby("stype").cumcount() % 2
    r = ss.chisq_test(ss.Design(df, strata="stype", weights="pw", fpc="fpc"), "half", "stype")
    assert r.pearson < 1e-20 and r.p_value == pytest.approx(1.0)


TTEST = {
    "ttest_strat_api00_schwide": ("dstrat", "api00", "sch.wide"),
    "ttest_clus1_enroll_compimp": ("dclus1", "enroll", "comp.imp"),
    "ttest_subset_strat_api00_schwide": ("dstrat_HM", "api00", "sch.wide"),
    "ttest_strat_growth_onesample": ("dstrat", "growth", None),
    "ttest_jk1_api00_schwide": ("jk1_clus1", "api00", "sch.wide"),
}


@pytest.mark.parametrize("case", sorted(TTEST))
def test_ttest_matches_svyttest(case):
    ref = REFS[case]
    name, y, by = TTEST[case]
    d, where = design(name)
    t = ss.t_test(d, y, by=by, where=where)
    assert t.df == ref["df"]
    assert_allclose([t.estimate, t.statistic, t.ci_low, t.ci_high],
                    [ref["estimate"], ref["statistic"], ref["ci_lower"], ref["ci_upper"]], rtol=1e-8)
    assert_allclose(t.p_value, ref["p_value"], rtol=1e-6)


def test_ttest_needs_two_groups():
    d, _ = design("dstrat")
    with pytest.raises(ss.DataError, match="two groups"):
        ss.t_test(d, "api00", by="stype")
    t = ss.t_test(d, "api00", by="sch.wide")
    assert t.groups == ("No", "Yes") and "t-test" in repr(t) and len(t.to_frame()) == 1
