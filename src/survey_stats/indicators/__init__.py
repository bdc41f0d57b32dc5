"""Indicators, composites, verdicts and the 100-point score with uncertainty.

Builds on the estimation core: every rate is a design-based proportion with SE and CI;
composites are linear combinations with the right covariance; verdicts compare CIs
with reference values; scores carry intervals and grade probabilities.
"""

from __future__ import annotations

from .channels import channel_reach, one_hot
from .compute import IndicatorResult, IndicatorTable, evaluate_indicators
from .definitions import Indicator, IndicatorSystem
from .scoring import ScoreResult, ScoringRules, grade_of, score
from .verdicts import RELIABILITY_RULES, reliability, verdict

__all__ = [
    "RELIABILITY_RULES",
    "Indicator",
    "IndicatorResult",
    "IndicatorSystem",
    "IndicatorTable",
    "ScoreResult",
    "ScoringRules",
    "channel_reach",
    "evaluate_indicators",
    "grade_of",
    "one_hot",
    "reliability",
    "score",
    "verdict",
]
