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
             off_standard_households=0, beneficiary_satisfaction=0.95, satisfaction=0.96)
    x.update(over)
    return x


# -- scoring ------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["households_aided", "households_target", "fund_transfer_working_days",
                                 "off_standard_households", "satisfaction", "beneficiary_satisfaction"])
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
        ss.score(RULES, full_inputs(satisfaction=rate))


def test_zero_target_is_an_error_not_zero_points():
    with pytest.raises(DataError, match="households_target"):
        ss.score(RULES, full_inputs(households_target=0))


def test_numbers_as_text_and_numpy_numbers_still_score():
    r = ss.score(RULES, full_inputs(households_aided="656", fund_transfer_working_days=np.int64(10),
                                    satisfaction=np.float64(0.96)))
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
