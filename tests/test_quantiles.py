"""Quantiles against R svyquantile (survey 4.1, replicate Woodruff types as survey 4.5) and their options.

Designs: apistrat (stratified), apiclus1 (one-stage cluster), JK1 and JKn from them, and a
bootstrap design whose replicate weights R drew and the JSON stores.

Reference values: tests/reference/make_refs_quantile.R → r_refs_quantile.json (the R call is
stored with every case).  Estimates, CI ends, SEs and df to 1e-8 relative.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs_quantile import design, load_quantile_refs, quantile_of, r_float
from survey_stats.quantiles import _qrule, _zeroin

REFS = load_quantile_refs()
QCASES = sorted(k for k in REFS if k.startswith("q"))


def _close(mine: float, ref: object) -> bool:
    r = r_float(ref)
    return (math.isnan(r) and math.isnan(mine)) or mine == r or abs(mine - r) <= 1e-8 * abs(r)


@pytest.mark.parametrize("cid", QCASES)
def test_quantile_matches_r(cid):
    ref = REFS[cid]
    e = quantile_of(ref)
    got = {"estimate": e.estimate, "ci_lower": e.ci_low, "ci_upper": e.ci_high, "se": e.se, "df": e.df}
    wrong = {k: (v, ref[k]) for k, v in got.items() if not _close(v, ref[k])}
    assert not wrong, f"{ref['r_call']}: {wrong}"


def test_reference_covers_every_interval_type_and_rule():
    seen = {(REFS[k]["interval_type"], REFS[k]["qrule"]) for k in QCASES}
    types = ("mean", "beta", "xlogit", "asin", "score", "quantile")
    rules = ("math", "school", "shahvaish") + tuple(f"hf{i}" for i in range(1, 10))
    assert seen >= {(t, r) for t in types for r in rules}
    assert len(QCASES) >= 800


def test_na_drop_uses_the_subset_df():
    """R: degf(dclus1[!is.na(apiclus1$acs.46), ]) — clusters with data minus 1, not the design's 14."""
    d = design("dclus1")
    e = ss.quantile(d, "acs.46", 0.5, na="drop")
    ref = REFS["qna_dclus1_mean_0.5"]
    assert e.df == ref["df"] and e.n_missing == 26
    assert ss.quantile(d, "acs.46", 0.5, na="drop", df="design").df == ref["df"]
    assert ss.quantile(d, "acs.46", 0.5, na="drop", df=5).df == 5.0


def test_estimation_module_still_exports_quantile():
    from survey_stats import estimation, quantiles

    assert estimation.quantile is quantiles.quantile is ss.quantile
    with pytest.raises(AttributeError):
        estimation.no_such_name  # noqa: B018


def test_interval_type_is_a_deprecated_alias():
    d = design("dstrat")
    with pytest.warns(DeprecationWarning, match="ci_method"):
        old = ss.quantile(d, "api00", 0.5, interval_type="beta")
    assert old == ss.quantile(d, "api00", 0.5, ci_method="beta")
    with pytest.warns(DeprecationWarning), pytest.raises(ss.MethodError, match="disagree"):
        ss.quantile(d, "api00", 0.5, ci_method="xlogit", interval_type="beta")


@pytest.mark.parametrize(
    ("name", "method", "match"),
    [
        ("jk1_clus1", "score", "Taylor design"),
        ("dstrat", "quantile", "replicate design"),
        ("dstrat", "wilson", "ci_method"),
    ],
)
def test_interval_needs_the_right_design(name, method, match):
    col = "api00"
    with pytest.raises(ss.MethodError, match=match):
        ss.quantile(design(name), col, 0.5, ci_method=method)


def test_r_quantile_rules_below_the_first_value_and_with_zero_weights():
    """R: qrule_math(1:3, c(1,1,1), 0.1) = 2; qrule_hf4 = 0.3; zero-weight rows are dropped first."""
    x, w = np.array([1.0, 2.0, 3.0]), np.ones(3)
    assert [_qrule(x, w, 0.1, r) for r in ("math", "school", "hf3")] == [2.0, 2.0, 2.0]
    assert _qrule(x, w, 0.1, "hf4") == pytest.approx(0.3, rel=1e-14)
    x0, w0 = np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 1.0, 1.0])
    assert [_qrule(x0, w0, 0.1, r) for r in ("math", "hf7")] == [_qrule(x, w, 0.1, r) for r in ("math", "hf7")]
    assert math.isnan(_qrule(x, np.zeros(3), 0.5, "math"))


def test_zeroin_finds_roots_like_brent():
    root = _zeroin(lambda t: t**3 - 2, 0.0, 2.0, -2.0, 6.0, tol=1e-12)
    assert root == pytest.approx(2 ** (1 / 3), abs=1e-11)
    assert _zeroin(lambda t: t, 0.0, 1.0, 0.0, 1.0, tol=1e-3) == 0.0  # root at an end point


def test_replicates_without_the_domain_are_dropped_with_a_warning():
    """A domain inside one PSU: the JK1 replicate deleting it has no rows (R's svrVar drops it, warning)."""
    df = pd.DataFrame({"psu": np.repeat(np.arange(6), 5), "y": np.arange(30.0), "w": 2.0,
                       "g": np.where(np.arange(30) < 5, "a", "b")})
    d = ss.replicate_design(ss.Design(df, ids="psu", weights="w"), "JK1")
    with pytest.warns(ss.SurveyStatsWarning, match="discarded"):
        t = ss.quantile(d, "y", 0.5, by="g", ci_method="quantile")
    a = next(r for r in t if r.domain == (("g", "a"),))
    assert a.estimate == 2.0 and a.se == 0.0  # the five kept replicates all give 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isfinite(ss.quantile(d, "y", 0.5, ci_method="quantile").se)


def test_score_interval_end_is_nan_when_the_score_does_not_change_sign():
    """Two distinct values: the score over [min + IQR/100, max − IQR/100] keeps one sign (R stops)."""
    df = pd.DataFrame({"y": [1.0] * 10 + [2.0] * 10, "w": 1.0})
    e = ss.quantile(ss.Design(df, weights="w"), "y", 0.5, ci_method="score")
    assert e.estimate == 1.0
    assert math.isnan(e.ci_low) or math.isnan(e.ci_high)


def test_quantile_table_rows_have_no_joint_covariance():
    t = ss.quantile(design("jkn_strat"), "api00", [0.25, 0.5], ci_method="quantile")
    cov = t.vcov
    assert np.isnan(cov[0, 1]) and cov[0, 0] == pytest.approx(t[0].se ** 2)
    assert_allclose(np.diag(cov), [r.se ** 2 for r in t])


def test_edge_cases_give_nan_not_errors():
    d = design("dstrat")
    top = ss.quantile(d, "api00", 1.0, ci_method="xlogit")  # F(max) = 1: the logit is infinite
    assert top.estimate == d.column("api00").max() and math.isnan(top.ci_low) and math.isnan(top.ci_high)
    t = ss.quantile(d, "api00", 0.5, by="stype", where="stype != 'E'", ci_method="score")
    empty = next(r for r in t if r.domain == (("stype", "E"),))
    assert empty.n == 0 and math.isnan(empty.estimate) and "empty domain" in empty.method
    assert all(math.isfinite(r.ci_low) for r in t if r.n > 0)
