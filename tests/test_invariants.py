"""Invariants that must hold for any design (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import survey_stats as ss
from strategies import shuffled, stratified_frames

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def design(df, clusters=False):
    """clusters=False treats every row as a PSU: population sizes scale up so rows never exceed them."""
    if clusters:
        return ss.Design(df, strata="h", weights="w", fpc="N", ids="psu")
    return ss.Design(df, strata="h", weights="w", fpc="N")


@SETTINGS
@given(st.booleans().flatmap(lambda c: st.tuples(st.just(c), stratified_frames(clusters=c))), st.integers(0, 2**31))
def test_row_order_changes_nothing(case, seed):
    clusters, df = case
    a = ss.mean(design(df, clusters), "y", by="g")
    b = ss.mean(design(shuffled(df, seed), clusters), "y", by="g")
    assert_allclose(a.estimates, b.estimates, rtol=1e-10, atol=1e-12)
    assert_allclose(np.asarray(a.vcov), np.asarray(b.vcov), rtol=1e-8, atol=1e-10)


@SETTINGS
@given(st.booleans().flatmap(lambda c: st.tuples(st.just(c), stratified_frames(census=True, clusters=c))))
def test_census_has_zero_variance(case):
    clusters, df = case
    d = design(df, clusters)
    for est in (ss.mean(d, "y", by="g"), ss.total(d, "y", by="g")):
        assert_allclose(np.asarray(est.vcov), 0.0, atol=0)
        for r in est:
            assert r.ci_low == r.ci_high == r.estimate


@SETTINGS
@given(stratified_frames(binary=True), st.sampled_from(ss.PROPORTION_METHODS), st.sampled_from([0.8, 0.95, 0.99]))
def test_proportion_interval_brackets_estimate_inside_unit_interval(df, method, level):
    t = ss.proportion(design(df), "y", by="g", ci_method=method, level=level)
    for r in t:
        if r.n == 0:
            continue
        assert 0.0 <= r.ci_low <= r.estimate <= r.ci_high <= 1.0


@SETTINGS
@given(stratified_frames(), st.floats(0.01, 100))
def test_scaling_weights_with_explicit_fpc(df, c):
    a = design(df)
    b = design(df.assign(w=df["w"] * c))
    for fn in (ss.mean, ss.proportion if set(df["y"]) <= {0.0, 1.0} else ss.mean):
        ea, eb = fn(a, "y", by="g"), fn(b, "y", by="g")
        assert_allclose(ea.estimates, eb.estimates, rtol=1e-9, atol=1e-12)
        assert_allclose(ea.se, eb.se, rtol=1e-7, atol=1e-10)
    ta, tb = ss.total(a, "y", by="g"), ss.total(b, "y", by="g")
    assert_allclose(tb.estimates, c * ta.estimates, rtol=1e-9, atol=1e-9)
    assert_allclose(tb.se, c * ta.se, rtol=1e-7, atol=1e-9)


@SETTINGS
@given(stratified_frames())
def test_variance_matches_naive_stratum_loop(df):
    """The vectorised kernel equals the textbook per-stratum sum for a total (no clusters)."""
    e = ss.total(design(df), "y")
    z = df["w"] * df["y"]
    var = 0.0
    for _, g in df.groupby("h"):
        n, N = len(g), g["N"].iloc[0]
        zz = z[g.index]
        if n < N:
            var += (1 - n / N) * n / (n - 1) * ((zz - zz.mean()) ** 2).sum()
    assert math.isclose(e.se, math.sqrt(var), rel_tol=1e-8, abs_tol=1e-9)
