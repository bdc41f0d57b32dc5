"""Linear combinations: one design (full covariance), independent designs, misuse."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import ref_data

W = {"exited": 0.4, "unexited": 0.4, "unregistered": 0.1, "deregistered": 0.1}


def pov():
    return ss.Design(ref_data("poverty_survey.csv"), strata="status", weights="weight", fpc="N_h")


def test_satisfaction_composite_matches_svycontrast():
    """svycontrast(svyby(~satisfied, ~status, dpov, svymean, covmat=TRUE), c(0.4, 0.4, 0.1, 0.1))."""
    t = ss.proportion(pov(), "satisfied", by="status")
    c = ss.linear_combination(t, W, df=float("inf"), variable="satisfaction")
    assert_allclose([c.estimate, c.se], [0.774270833333333, 0.0111143778845718], rtol=1e-8)
    assert_allclose([c.ci_low, c.ci_high], [0.752487052969004, 0.796054613697662], rtol=1e-9)
    assert c.df == math.inf and c.variable == "satisfaction" and c.n == 566


def test_separate_samples_are_independent():
    """Each household group surveyed as its own sample: same composite, zero covariance, Satterthwaite df."""
    data = ref_data("poverty_survey.csv")
    parts = {}
    for g, sub in data.groupby("status"):
        parts[g] = ss.proportion(ss.Design(sub, weights="weight", fpc="N_h"), "satisfied")
    c = ss.linear_combination(parts, W)
    one = ss.linear_combination(ss.proportion(pov(), "satisfied", by="status"), W)
    assert_allclose([c.estimate, c.se], [one.estimate, one.se], rtol=1e-10)
    v = {g: (W[g] ** 2) * parts[g].se ** 2 for g in W}
    nu = sum(v.values()) ** 2 / sum(v[g] ** 2 / parts[g].df for g in W if v[g] > 0)
    assert_allclose(c.df, nu, rtol=1e-12)


def test_same_design_separate_calls_is_refused():
    d = pov()
    a = ss.proportion(d, "satisfied", where=d.column("status") == "exited")
    b = ss.proportion(d, "satisfied", where=d.column("status") == "unexited")
    with pytest.raises(ss.DataError, match="separate calls"):
        ss.linear_combination({"a": a, "b": b}, {"a": 0.5, "b": 0.5})


def test_rows_of_a_table_passed_as_mapping_keep_covariance():
    t = ss.mean(ss.Design(ref_data("apiclus1.csv"), ids="dnum", weights="pw", fpc="fpc"), "api00", by="stype")
    c1 = ss.linear_combination({"e": t["E"], "m": t["M"]}, {"e": 1, "m": -1})
    c2 = ss.linear_combination(t, {"E": 1, "M": -1})
    assert_allclose(c1.se, c2.se, rtol=1e-14)
    V = np.asarray(t.vcov)
    i, j = t.index("E"), t.index("M")
    assert_allclose(c2.se ** 2, V[i, i] + V[j, j] - 2 * V[i, j], rtol=1e-12)


@pytest.mark.parametrize(
    "coefs, pattern",
    [({"nobody": 1.0}, "no part is named 'nobody'"), ([1.0, 2.0], "2 coefficient"), ([np.nan] * 4, "finite")],
)
def test_bad_coefficients(coefs, pattern):
    t = ss.proportion(pov(), "satisfied", by="status")
    with pytest.raises(ss.DataError, match=pattern):
        ss.linear_combination(t, coefs)


def test_composite_of_a_composite_with_its_own_parts_is_refused():
    t = ss.proportion(pov(), "satisfied", by="status")
    c = ss.linear_combination(t, W)
    with pytest.raises(ss.DataError, match="separate calls"):
        ss.linear_combination([c, t["exited"]], [1, -1])
