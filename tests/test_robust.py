"""Silent wrong numbers and raw exceptions turned into typed errors or right values (issue 12).

Each test reproduces one defect of the issue: before the fix the input gave a number
(or a bare Python exception); now it gives the right value or a SurveyStatsError.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import survey_stats as ss
from survey_stats.indicators.verdicts import reliability
from survey_stats._validation import flag_value, parse_flags, real_number
from survey_stats.errors import DataError, DesignError, EstimationError, MethodError, SurveyStatsError

RULES = ss.ScoringRules.default()


def full_inputs(**over):
    x = {k: True for k in RULES.needs()["checklist"]}
    x.update(fund_transfer_working_days=10, fund_entry_working_days=10, households_aided=656, households_target=656,
             off_standard_households=0, beneficiary_satisfaction=0.95, social_satisfaction=0.96)
    x.update(over)
    return x


# -- scoring ------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["households_aided", "households_target", "fund_transfer_working_days",
                                 "off_standard_households", "social_satisfaction", "beneficiary_satisfaction"])
@pytest.mark.parametrize("bad", [math.nan, None, "many", math.inf])
def test_score_refuses_missing_or_non_numbers_given_as_inputs(key, bad):
    # households_aided=NaN used to earn full coverage points; satisfaction=NaN dropped its item
    with pytest.raises(DataError, match=key):
        ss.score(RULES, full_inputs(**{key: bad}))


@pytest.mark.parametrize("key", ["fund_transfer_working_days", "fund_entry_working_days", "off_standard_households",
                                 "households_aided", "households_target"])
def test_score_refuses_negative_counts(key):
    # negative working days earned the top step; negative off-standard counts added points
    with pytest.raises(DataError, match="below 0"):
        ss.score(RULES, full_inputs(**{key: -3}))


@pytest.mark.parametrize("rate", [1.2, -0.1])
def test_score_refuses_rates_outside_0_1(rate):
    with pytest.raises(DataError, match="satisfaction"):
        ss.score(RULES, full_inputs(social_satisfaction=rate))


def test_zero_target_is_an_error_not_zero_points():
    with pytest.raises(DataError, match="households_target"):
        ss.score(RULES, full_inputs(households_target=0))


def test_numbers_as_text_and_numpy_numbers_still_score():
    r = ss.score(RULES, full_inputs(households_aided="656", fund_transfer_working_days=np.int64(10),
                                    social_satisfaction=np.float64(0.96)))
    assert r.total == 100


@pytest.mark.parametrize("answer, points", [("0", 0.0), ("no", 0.0), ("否", 0.0), ("1", None), ("是", None)])
def test_checklist_strings_use_the_flag_mapping(answer, points):
    key = RULES.needs()["checklist"][0]
    r = ss.score(RULES, full_inputs(**{key: answer}))
    assert (r.total < 100) == (points == 0.0)


def test_checklist_nan_is_refused():
    key = RULES.needs()["checklist"][0]
    with pytest.raises(DataError, match=key):
        ss.score(RULES, full_inputs(**{key: math.nan}))


@pytest.mark.parametrize("total", [math.nan, math.inf, "85", None])
def test_grade_of_refuses_non_numbers(total):
    if total == "85":
        assert ss.grade_of(total) == "优秀"  # numeric text is a number
        return
    with pytest.raises(DataError):  # grade_of(nan) used to be 差
        ss.grade_of(total)


# -- verdicts -----------------------------------------------------------------------------
def test_verdict_refuses_an_inverted_interval():
    with pytest.raises(DataError, match="low end above"):  # used to say "meets"
        ss.verdict(0.5, 0.1, 0.6, "le")


def test_verdict_refuses_unknown_direction_and_nan_reference():
    with pytest.raises(MethodError):  # anything but "le" used to be read as "ge"
        ss.verdict(0.1, 0.5, 0.3, "less")
    with pytest.raises(DataError):
        ss.verdict(0.1, 0.5, math.nan, "le")
    assert ss.verdict(math.nan, math.nan, 0.3, "le") == "inconclusive"
    assert ss.verdict(-math.inf, 0.2, 0.3, "le") == "meets"


def test_reliability_refuses_impossible_proportions():
    with pytest.raises(DataError):
        reliability(math.nan, 400, 380.0, 0.02, 300)
    with pytest.raises(DataError):
        reliability(1.5, 400, 380.0, 0.02, 300)


# -- flags ------------------------------------------------------------------------------
def test_flag_mapping_is_explicit():
    assert [flag_value(v) for v in ("1", "0", "TRUE", "false", "Yes", "no", "y", "N", "是", "否")] == \
        [True, False, True, False, True, False, True, False, True, False]
    assert flag_value("2") is None and flag_value(2) is None and flag_value("") is None and flag_value(None) is None
    with pytest.raises(DataError, match="'x'.*index 1"):
        parse_flags(pd.Series(["1", "maybe"]), "x")
    with pytest.raises(DataError, match="missing"):
        parse_flags(pd.Series([1.0, np.nan]), "x")
    with pytest.raises(DataError):
        real_number(True, "flag as number")


# -- nonresponse adjustment ---------------------------------------------------------------------
@pytest.mark.parametrize("flags", [["1", "1", "0", "0"], ["yes", "Yes", "no", "NO"], ["是", "是", "否", "否"],
                                   [True, True, False, False], [1.0, 1.0, 0.0, 0.0], ["y", "y", "n", "n"]])
def test_nonresponse_flags_are_parsed_not_truth_tested(flags):
    df = pd.DataFrame({"w": [10.0] * 4, "resp": flags})
    out, rep = ss.nonresponse_adjust(df, weights="w", respondent="resp")
    assert len(out) == 2 and out["nr_weight"].tolist() == [20.0, 20.0]  # "0"/"no" used to count as responses


@pytest.mark.parametrize("bad", [["1", "maybe"], ["1", None], [2, 0]])
def test_nonresponse_refuses_unknown_flags(bad):
    df = pd.DataFrame({"w": [10.0, 10.0], "resp": bad})
    with pytest.raises(DataError, match="resp"):
        ss.nonresponse_adjust(df, weights="w", respondent="resp")


@pytest.mark.parametrize("w", [[10.0, -1.0], [10.0, math.inf], [10.0, "ten"], [10.0, 0.0]])
def test_nonresponse_refuses_bad_base_weights(w):
    df = pd.DataFrame({"w": w, "resp": [1, 1]})
    with pytest.raises(DataError, match="'w'"):
        ss.nonresponse_adjust(df, weights="w", respondent="resp")


# -- weighting ------------------------------------------------------------------------------
def test_poststratify_refuses_nan_and_text_counts():
    d = ss.datasets.apiclus1_design()
    for bad in (math.nan, "many", -5, math.inf):
        with pytest.raises(DataError, match="post-stratification"):  # NaN used to give NaN weights
            ss.poststratify(d, "stype", {"E": 4421, "H": bad, "M": 1018})


def test_calibrate_and_rake_refuse_non_finite_targets_and_bad_options():
    d = ss.datasets.apistrat_design()
    with pytest.raises(DataError):
        ss.calibrate(d, {"(Intercept)": 6194, "api99": math.nan})
    with pytest.raises(DataError):
        ss.calibrate(d, {"(Intercept)": 6194, "api99": 3914069}, bounds=(2.0, 0.5))
    with pytest.raises(DataError):
        ss.rake(d, {"stype": {"E": 4421, "H": math.nan, "M": 1018}})
    with pytest.raises(DataError):
        ss.rake(d, {"stype": {"E": 4421, "H": 755, "M": 1018}}, maxit=0)


# -- replicates -----------------------------------------------------------------------------
@pytest.mark.parametrize("replicates", [0, 1, -5, 2.5, True])
def test_bootstrap_needs_at_least_two_replicates(replicates):
    d = ss.datasets.apistrat_design()
    with pytest.raises(DesignError, match="replicates"):  # replicates=0 used to report SE 0
        ss.replicate_design(d, "bootstrap", replicates=replicates, seed=1)


def test_supplied_replicate_weights_need_two_finite_columns():
    df = pd.DataFrame({"w": [1.0, 2.0, 3.0], "r1": [1.0, 2.0, 3.0], "r2": [2.0, math.inf, 1.0]})
    with pytest.raises(DesignError, match="at least 2"):
        ss.from_replicate_weights(df, weights="w", repweights=["r1"], type="bootstrap")
    with pytest.raises(DesignError, match="'r2'"):
        ss.from_replicate_weights(df, weights="w", repweights=["r1", "r2"])


# -- design and estimators --------------------------------------------------------------------
def _d(**cols):
    df = pd.DataFrame({"w": [1.0, 2.0, 3.0, 4.0], **cols})
    return ss.Design(df, weights="w")


def test_ratio_with_zero_denominator_is_an_estimation_error():
    d = _d(y=[1.0, 2, 3, 4], x=[0.0, 0, 0, 0], g=list("aabb"))
    with pytest.raises(EstimationError, match="denominator"):  # was a bare ZeroDivisionError
        ss.ratio(d, "y", "x")
    d = _d(y=[1.0, 2, 3, 4], x=[0.0, 0, 1, 1], g=list("aabb"))
    with pytest.raises(EstimationError, match="g='a'"):  # the domain used to get estimate inf
        ss.ratio(d, "y", "x", by="g")
    assert ss.ratio(d, "y", "x", where=d.data["g"].eq("b").to_numpy()).estimate == pytest.approx(25 / 7)


def test_duplicate_column_names_are_refused_at_construction():
    df = pd.DataFrame([[1.0, 2.0, 1.0], [1.0, 3.0, 2.0]], columns=["w", "y", "y"])
    with pytest.raises(DataError, match="duplicate column"):  # mean() used to raise AttributeError
        ss.Design(df, weights="w")


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "boolean"])
def test_nullable_dtypes_work_like_float_with_nan(dtype):
    ref = _d(y=[1.0, 0.0, np.nan, 1.0])
    d = _d(y=pd.array([1, 0, None, 1], dtype=dtype))
    for f in (ss.mean, ss.total, ss.proportion):
        a, b = f(d, "y", na="drop"), f(ref, "y", na="drop")
        assert (a.estimate, a.se, a.ci_low, a.ci_high) == pytest.approx((b.estimate, b.se, b.ci_low, b.ci_high))
        with pytest.raises(DataError, match="missing"):
            f(d, "y")


@pytest.mark.parametrize("dtype", ["string", object])
def test_string_columns_with_missing_values_are_categories(dtype):
    d = _d(y=pd.array(["a", "b", None, "a"], dtype=dtype))
    for f in (ss.proportion, ss.total):
        t = f(d, "y", na="drop")  # a pandas string column used to raise "boolean value of NA is ambiguous"
        assert [r.category for r in t] == ["a", "b"] and all(r.n_missing == 1 for r in t)
        with pytest.raises(DataError, match="missing"):
            f(d, "y")
    assert ss.proportion(d, "y", na="drop")["a"].estimate == pytest.approx(5 / 7)


def test_infinite_answers_and_overflowing_weights_are_refused():
    with pytest.raises(DataError, match="infinite"):  # the mean used to be inf with SE NaN
        ss.mean(_d(y=[1.0, math.inf, 2.0, 3.0]), "y")
    with pytest.raises(DesignError, match="floating point"):
        ss.Design(pd.DataFrame({"w": [1e308, 1e308], "y": [1.0, 2.0]}), weights="w")
    with pytest.raises(EstimationError, match="not a finite number"):
        ss.total(_d(y=[1e308, 1e308, 1e308, 1e308]), "y")
    with pytest.raises(DesignError, match="infinite"):
        ss.Design(pd.DataFrame({"N": [math.inf] * 3, "y": [1.0, 2, 3]}), fpc="N")


def test_bad_option_types_are_method_errors():
    d = _d(y=[1.0, 2, 3, 4], g=list("aabb"))
    for kwargs in ({"by": 3}, {"df": math.nan}, {"df": -1}, {"df": 0}, {"by": []}, {"by": ["g", "g"]}):
        with pytest.raises(MethodError):
            ss.mean(d, "y", **kwargs)
    with pytest.raises(MethodError):
        ss.mean(d, 3)


def test_certainty_flags_use_the_mapping():
    df = pd.DataFrame({"h": ["a"] * 4, "N": [10] * 4, "c": ["是", "否", "否", "否"], "y": [1.0, 2, 3, 4]})
    d = ss.Design(df, strata="h", fpc="N", certainty="c")
    assert d.weights[0] == 1.0
    df["c"] = ["x", "否", "否", "否"]
    with pytest.raises(DesignError, match="certainty column 'c'"):
        ss.Design(df, strata="h", fpc="N", certainty="c")


def test_every_error_here_is_a_survey_stats_error():
    for cls in (DataError, DesignError, EstimationError, MethodError):
        assert issubclass(cls, SurveyStatsError)


def test_malformed_scoring_rules_are_data_errors(tmp_path):
    bad = tmp_path / "rules.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read"):  # was json.JSONDecodeError
        ss.ScoringRules.from_file(bad)
    for spec in ([], {"items": [{"id": "a", "points": "ten", "components": []}]},
                 {"items": [{"points": 100}]}, {"items": "x"}):
        with pytest.raises(DataError):  # were TypeError / KeyError / ValueError
            ss.ScoringRules(spec)


def test_quantile_probabilities_of_any_numeric_type():
    d = _d(y=[1.0, 2, 3, 4])
    assert ss.quantile(d, "y", np.float32(0.5)).estimate == ss.quantile(d, "y", 0.5).estimate
    for q in (math.nan, "0.5", 1.5, True):
        with pytest.raises(MethodError):
            ss.quantile(d, "y", q)
