"""Allocation: oracle values, a textbook Neyman example, bounds and rounding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import load_oracle

ORACLE = {c["id"]: c for c in load_oracle()["cases"]}["allocation_n200_proportional_neyman"]


def test_oracle_proportional_and_neyman():
    inp, exp = ORACLE["inputs"], ORACLE["expected"]
    a = ss.allocate(inp["n"], inp["N_h"])
    b = ss.allocate(inp["n"], inp["N_h"], method="neyman", p_h=inp["p_h"])
    assert_allclose(a.exact.to_numpy(), list(exp["proportional"].values()), rtol=1e-12)
    assert_allclose(b.exact.to_numpy(), list(exp["neyman"].values()), rtol=1e-12)
    assert a.n_h.to_dict() == exp["proportional_rounded"]
    assert b.n_h.to_dict() == exp["neyman_rounded"]
    assert_allclose(a.variance_of_mean(inp["S_h"], exact=True), exp["var_stratified_mean_proportional"], rtol=1e-12)
    assert_allclose(b.variance_of_mean(inp["S_h"], exact=True), exp["var_stratified_mean_neyman"], rtol=1e-12)


def test_neyman_worked_example():
    """Worked by hand: N = (1000, 2000), S = (10, 40), n = 90.
    N·S = (10 000, 80 000), total 90 000 → n_h = 90 · (1/9, 8/9) = (10, 80)."""
    a = ss.allocate(90, {"small": 1000, "large": 2000}, method="neyman", S_h={"small": 10, "large": 40})
    assert a.n_h.tolist() == [10, 80]


def test_optimal_with_costs_worked_example():
    """N·S/√c = (1000·10/√1, 2000·40/√16) = (10 000, 20 000) → n = 90 · (1/3, 2/3) = (30, 60)."""
    a = ss.allocate(90, {"a": 1000, "b": 2000}, method="optimal", S_h={"a": 10, "b": 40}, cost_h={"a": 1, "b": 16})
    assert a.n_h.tolist() == [30, 60]


def test_bounds_census_certainty_and_caps():
    N = {"exited": 400, "unexited": 256, "unregistered": 5000, "deregistered": 120}
    a = ss.allocate(500, N, census=["unexited"], minimum=30, certainty={"exited": 40})
    assert a.n_h["unexited"] == 256 and a.n == 500
    assert (a.n_h >= 30).all() and a.n_h["exited"] >= 40
    b = ss.allocate(300, {"a": 10, "b": 1000}, method="equal")
    assert b.n_h.tolist() == [10, 290]  # capped at N_h, the rest re-allocated


def test_equal_rounding_ties_go_to_first_strata():
    assert ss.allocate(10, {"a": 100, "b": 100, "c": 100}, method="equal").n_h.tolist() == [4, 3, 3]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 500), min_size=1, max_size=8), st.data())
def test_allocations_sum_to_n_within_bounds(sizes, data):
    N = {f"s{i}": v for i, v in enumerate(sizes)}
    n = data.draw(st.integers(0, sum(sizes)))
    method = data.draw(st.sampled_from(["proportional", "equal", "neyman"]))
    S = {k: data.draw(st.floats(0.1, 5)) for k in N}
    a = ss.allocate(n, N, method=method, S_h=S)
    assert a.n == n
    assert (a.n_h >= 0).all() and (a.n_h <= a.N_h).all()


@pytest.mark.parametrize(
    "kw, error, pattern",
    [
        ({"n": 10, "N_h": {"a": 5}, "census": ["b"]}, ss.DataError, "census names"),
        ({"n": 10, "N_h": {"a": 5, "b": 50}, "census": ["b"]}, ss.DataError, "smaller than"),
        ({"n": 100, "N_h": {"a": 5, "b": 50}}, ss.DataError, "exceeds"),
        ({"n": 10, "N_h": {"a": 5, "b": 50}, "method": "neyman"}, ss.MethodError, "needs S_h"),
        ({"n": 10, "N_h": {"a": 5, "b": 50}, "method": "neyman", "S_h": {"a": 1, "c": 2}}, ss.DataError, "not in N_h"),
        ({"n": 10, "N_h": {"a": -5, "b": 50}}, ss.DataError, "positive"),
        ({"n": 10, "N_h": {"a": 5, "b": 50}, "method": "best"}, ss.MethodError, "method='best'"),
    ],
)
def test_bad_allocation_input(kw, error, pattern):
    with pytest.raises(error, match=pattern):
        ss.allocate(**kw)
