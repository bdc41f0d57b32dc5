"""Fuzz the public boundary: random messy frames through designs, estimators, sampling,
scores, verdicts and questionnaire exports.

Each call must either raise a :class:`SurveyStatsError` subclass or return a result
that passes the checks below (finite estimates, ordered intervals, proportions in
[0, 1], scores in [0, total]).  A bare Python exception (TypeError, ZeroDivisionError,
KeyError...) or a numpy RuntimeWarning is a failure.  The example sequence is fixed
(``derandomize=True``) so a failure reproduces exactly.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import survey_stats as ss
from survey_stats.errors import SurveyStatsError, SurveyStatsWarning
from strategies import messy_column, messy_floats, messy_frames



def fuzz(examples: int) -> settings:
    """The deterministic "fuzz" profile (tests/conftest.py) with this many examples."""
    return settings(settings.get_profile("fuzz"), max_examples=examples)

TOL = 1e-9


def attempt(fn, *args, **kwargs):
    """Call fn; a SurveyStatsError is an accepted answer (None), anything else propagates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyStatsWarning)
        try:
            return fn(*args, **kwargs)
        except SurveyStatsError:
            return None


def check_estimate(e: ss.Estimate, statistic: str) -> None:
    if e.n == 0:  # an empty domain is reported as such
        assert math.isnan(e.estimate)
        return
    assert math.isfinite(e.estimate), e
    lo, hi = e.ci_low, e.ci_high
    # a variance that cannot be estimated (e.g. lonely_psu="average" with no other stratum) is NaN, as R's NA,
    # and then so is the interval; otherwise the SE is a finite number ≥ 0
    # a Woodruff end beyond [0, 1] is NaN (as in R), and then so is the quantile's SE
    no_ci = (math.isnan(lo) or math.isnan(hi)) if statistic == "quantile" else (math.isnan(lo) and math.isnan(hi))
    assert (e.se >= 0 and math.isfinite(e.se)) or (math.isnan(e.se) and no_ci), e
    if not (math.isnan(lo) or math.isnan(hi)):
        scale = TOL * max(1.0, abs(e.estimate))
        assert lo <= e.estimate + scale and e.estimate <= hi + scale, e
    if statistic == "proportion":
        assert -TOL <= e.estimate <= 1 + TOL, e
        for b in (lo, hi):
            assert math.isnan(b) or -TOL <= b <= 1 + TOL, e


def check_result(r, statistic: str) -> None:
    if r is None:
        return
    rows = [r] if isinstance(r, ss.Estimate) else list(r)
    assert rows
    for e in rows:
        check_estimate(e, statistic)


# -- designs and estimators -------------------------------------------------------------------
design_options = st.fixed_dictionaries({
    "strata": st.sampled_from([None, "h"]),
    "weights": st.sampled_from([None, "w"]),
    "ids": st.sampled_from([None, None, "psu"]),
    "lonely_psu": st.sampled_from(["fail", "adjust", "average", "certainty", "remove"]),
})


@fuzz(200)
@given(df=messy_frames(), opts=design_options, data=st.data())
def test_design_and_estimators_give_typed_errors_or_checked_results(df, opts, data):
    d = attempt(ss.Design, df, **opts, nest=opts["ids"] is not None)
    if d is None:
        return
    assert d.n == len(df) and np.isfinite(d.weights).all() and (d.weights > 0).all()
    by = data.draw(st.sampled_from([None, "g", ["g", "h"]]), label="by")
    where = data.draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=len(df), max_size=len(df))
                                .map(np.array)), label="where")
    na = data.draw(st.sampled_from(["fail", "drop"]), label="na")
    common = {"by": by, "where": where, "na": na}
    check_result(attempt(ss.mean, d, "y", **common), "mean")
    check_result(attempt(ss.total, d, "y", **common), "total")
    check_result(attempt(ss.proportion, d, "y", **common,
                         ci_method=data.draw(st.sampled_from(ss.PROPORTION_METHODS), label="ci")), "proportion")
    check_result(attempt(ss.ratio, d, "y", "x", **common), "ratio")
    q = data.draw(st.sampled_from([0.0, 0.25, 0.5, 1.0]), label="q")
    check_result(attempt(ss.quantile, d, "y", q, **common), "quantile")


@fuzz(60)
@given(df=messy_frames(min_rows=2), data=st.data())
def test_replicate_and_weighting_give_typed_errors_or_checked_results(df, data):
    d = attempt(ss.Design, df, strata="h", weights="w", lonely_psu="adjust")
    if d is None:
        return
    kind = data.draw(st.sampled_from(["JKn", "bootstrap", "BRR", "poststratify", "nonresponse"]), label="kind")
    if kind == "poststratify":
        pop = {k: data.draw(messy_floats, label=f"N[{k!r}]") for k in pd.unique(df["h"])}
        d2 = attempt(ss.poststratify, d, "h", pop)
    elif kind == "nonresponse":
        attempt(ss.nonresponse_adjust, df, weights="w", respondent="x", classes="h")
        return
    else:
        reps = data.draw(st.integers(-1, 30), label="replicates")
        d2 = attempt(ss.replicate_design, d, kind, replicates=reps, seed=1)
    if d2 is not None:
        assert np.isfinite(d2.weights).all()
        check_result(attempt(ss.mean, d2, "y", na="drop"), "mean")
        check_result(attempt(ss.proportion, d2, "g", na="drop"), "proportion")


# -- sampling ---------------------------------------------------------------------------------
@fuzz(60)
@given(n=st.integers(0, 15), data=st.data())
def test_frame_and_select_give_typed_errors_or_valid_samples(n, data):
    reg = pd.DataFrame({
        "hh": data.draw(messy_column(n, data.draw(st.sampled_from(["int", "object", "text", "float"]))), label="id"),
        "county": data.draw(messy_column(n, data.draw(st.sampled_from(["category", "object", "constant"]))),
                            label="county"),
        "flag": data.draw(messy_column(n, data.draw(st.sampled_from(["binary", "text", "int"]))), label="flag"),
        "size": data.draw(messy_column(n, "float"), label="size"),
    })
    frame = attempt(ss.Frame, reg, id="hh", strata="county", certainty="flag",
                    size=data.draw(st.sampled_from([None, "size"]), label="size_col"),
                    on_invalid=data.draw(st.sampled_from(["fail", "exclude"]), label="on_invalid"))
    if frame is None:
        return
    method = data.draw(st.sampled_from(["srs", "systematic", "pps"]), label="method")
    size = data.draw(st.one_of(st.integers(-1, 6), st.floats(0, 1.5)), label="n")
    kw = {"fraction": size} if isinstance(size, float) else {"n": size}
    s = attempt(ss.select, frame, method=method, seed=3, **kw)
    if s is not None:
        pi = s.units["pi"].to_numpy(dtype=float)
        assert ((pi > 0) & (pi <= 1 + TOL)).all()
        assert s.units["weight"].to_numpy(dtype=float) == pytest.approx(1 / pi)


def test_frame_with_missing_nullable_flag_is_a_typed_error():
    reg = pd.DataFrame({"hh": [1, 2], "county": ["x", "x"], "flag": pd.array([True, None], dtype="boolean")})
    assert attempt(ss.Frame, reg, id="hh", strata="county", certainty="flag") is None


# -- scores and verdicts ------------------------------------------------------------------------
RULES = ss.ScoringRules.default()
answers = st.one_of(messy_floats, st.integers(-3, 700), st.booleans(), st.none(),
                    st.sampled_from(["yes", "否", "0", "1", "maybe", "", "0.9", "nan"]))


@fuzz(100)
@given(data=st.data())
def test_score_gives_typed_errors_or_a_score_in_range(data):
    needs = RULES.needs()
    inputs = {}
    for key in needs["checklist"] + needs["numbers"] + needs["indicators"]:
        if data.draw(st.integers(0, 5), label=f"has {key}"):  # mostly supplied
            inputs[key] = data.draw(answers if data.draw(st.booleans()) else _plausible(key), label=key)
    r = attempt(ss.score, RULES, inputs, missing=data.draw(st.sampled_from(["fail", "zero"]), label="missing"),
                n_sim=200)
    if r is None:
        return
    assert 0 <= r.total <= RULES.total_points + TOL
    assert r.total_low <= r.total_high + TOL
    assert r.items["score"].notna().all() and (r.items["score"] <= r.items["points"] + TOL).all()
    assert r.grade == ss.grade_of(r.total, RULES)
    assert sum(r.grade_probabilities.values()) == pytest.approx(1.0)


def _plausible(key: str):
    if "satisfaction" in key:
        return st.floats(0, 1)
    if key.startswith(("fund_", "households", "off_standard")) or "days" in key:
        return st.integers(0, 700)
    return st.booleans()


@fuzz(150)
@given(lo=messy_floats, hi=messy_floats, ref=st.one_of(st.none(), messy_floats),
       direction=st.sampled_from(["le", "ge", "lt", ""]))
def test_verdict_gives_typed_errors_or_a_consistent_verdict(lo, hi, ref, direction):
    v = attempt(ss.verdict, lo, hi, ref, direction)
    if v is None:
        return
    assert v in ("meets", "fails", "inconclusive", "no reference")
    if v in ("meets", "fails"):
        assert lo <= hi and ref is not None and math.isfinite(ref)
        inside = lo <= ref <= hi
        assert not (inside and lo < ref < hi)  # an interval straddling r is never conclusive


# -- questionnaire exports -------------------------------------------------------------------
FORM = ss.load_questionnaire(ss.questionnaire_path("deregistered"))
QUESTIONS = [q.name for q in FORM.questions]


@fuzz(60)
@given(n=st.integers(0, 6), data=st.data())
def test_read_export_and_validate_give_typed_errors_or_reports(n, data):
    cols = data.draw(st.lists(st.sampled_from(QUESTIONS + ["grp/members", "channels/tv", "_uuid", "junk"]),
                              min_size=1, max_size=6, unique=True), label="columns")
    kinds = ["float", "int", "binary", "object", "category", "constant", "text"]  # nullable and string: see below
    raw = pd.DataFrame({c: data.draw(messy_column(n, data.draw(st.sampled_from(kinds))), label=c) for c in cols})
    out = attempt(ss.read_export, raw, FORM)
    if out is not None:
        assert len(out) == n
        attempt(ss.validate, out, FORM)


@pytest.mark.parametrize("values", [pd.array([1, None], dtype="Int64"), pd.array([1.0, None], dtype="Float64"),
                                    pd.array([True, None], dtype="boolean"), pd.array(["x", "x"], dtype="string")])
def test_read_export_with_missing_nullable_values(values):
    raw = pd.DataFrame({"household_id": ["a", "b"], "channels/tv": values})
    out = attempt(ss.read_export, raw, FORM)
    assert out is None or len(out) == 2
