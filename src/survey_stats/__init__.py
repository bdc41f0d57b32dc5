"""survey_stats: design-based survey statistics for programme evaluations.

One :class:`Design` object, estimators that take it (:func:`mean`, :func:`total`,
:func:`proportion`, :func:`ratio`, :func:`quantile`), results that carry a standard
error and a confidence interval next to every point estimate, and linear
combinations with their full covariance (:func:`linear_combination`).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import ci, datasets, errors
from .ci import PROPORTION_METHODS, proportion_interval, t_quantile, wald_interval
from .contrasts import linear_combination
from .design import Design
from .errors import (
    DataError,
    DesignError,
    EstimationError,
    LonelyPSUError,
    MethodError,
    QuestionnaireError,
    SurveyStatsError,
    SurveyStatsWarning,
)
from .estimation import mean, proportion, quantile, ratio, total
from .results import Estimate, EstimateTable

try:
    __version__ = version("survey-stats")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "PROPORTION_METHODS",
    "DataError",
    "Design",
    "DesignError",
    "Estimate",
    "EstimateTable",
    "EstimationError",
    "LonelyPSUError",
    "MethodError",
    "QuestionnaireError",
    "SurveyStatsError",
    "SurveyStatsWarning",
    "__version__",
    "ci",
    "datasets",
    "errors",
    "linear_combination",
    "mean",
    "proportion",
    "proportion_interval",
    "quantile",
    "ratio",
    "t_quantile",
    "total",
    "wald_interval",
]
