"""The survey_stats exception and warning hierarchy.

Every error the package raises on bad input derives from :class:`SurveyStatsError`
and from the built-in exception it resembles, so ``except ValueError`` keeps working.
Messages say what was wrong, where (column, stratum, row ids) and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "DesignError",
    "EstimationError",
    "ExpressionError",
    "LonelyPSUError",
    "MethodError",
    "QuestionnaireError",
    "SurveyStatsError",
    "SurveyStatsWarning",
]


class SurveyStatsError(Exception):
    """Base class of every error raised by survey_stats."""


class DesignError(SurveyStatsError, ValueError):
    """The survey design is inconsistent (strata, weights, FPC, clusters)."""


class LonelyPSUError(DesignError):
    """A stratum has a single PSU and the design's ``lonely_psu`` policy is ``"fail"``."""


class DataError(SurveyStatsError, ValueError):
    """The analysis data are unusable as given (missing values, wrong type, empty domain)."""


class MethodError(SurveyStatsError, ValueError):
    """An unknown option value or a method that does not apply to the input."""


class EstimationError(SurveyStatsError, ArithmeticError):
    """An estimate cannot be computed (for example a zero denominator)."""


class ExpressionError(SurveyStatsError, ValueError):
    """An expression string (indicator definition, review rule, ``where=``) is not in the safe language,
    names an unknown column or parameter, or does not fit the data's types."""


class QuestionnaireError(SurveyStatsError, ValueError):
    """A questionnaire definition or the responses to it are invalid."""


class SurveyStatsWarning(UserWarning):
    """A result was computed, but with a caveat the user should know about."""
