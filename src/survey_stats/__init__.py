"""survey_stats: design-based survey statistics for programme evaluations.

One :class:`Design` object, estimators that take it (:func:`mean`, :func:`total`,
:func:`proportion`, :func:`ratio`, :func:`quantile`), results that carry a standard
error and a confidence interval next to every point estimate, and linear
combinations with their full covariance (:func:`linear_combination`); nonlinear
contrasts (:func:`contrast`), design-based regression (:func:`glm`), tests of
association and t-tests (:func:`chisq_test`, :func:`t_test`) and weight trimming
(:func:`trim_weights`).
"""

from __future__ import annotations


from . import ci, datasets, errors, indicators, privacy, questionnaires, readers, replicates, review, sampling, weighting
from . import safe_output
from . import sql  # the SQL backend; it also keeps the deprecated Design.from_duckdb / from_parquet
from .ci import PROPORTION_METHODS, proportion_interval, t_quantile, wald_interval
from .contrasts import contrast, linear_combination
from .design import Design
from .errors import (
    DataError,
    DesignError,
    EstimationError,
    ExpressionError,
    LonelyPSUError,
    MethodError,
    QuestionnaireError,
    SurveyStatsError,
    SurveyStatsWarning,
)
from .estimation import mean, proportion, quantile, ratio, total
from . import expr  # the safe expression language (docs/expressions.md)
from .association import ChisqResult, TTestResult, chisq_test, t_test
from .models import GLMResult, glm
from .indicators import (
    IndicatorSystem,
    IndicatorTable,
    ScoreResult,
    ScoringRules,
    channel_reach,
    evaluate_indicators,
    grade_of,
    score,
    verdict,
)
from .questionnaires import (
    Questionnaire,
    code_responses,
    generate_responses,
    load_questionnaire,
    questionnaire_path,
    read_export,
    validate,
    write_export,
)
from .replicates import from_replicate_weights, replicate_design
from .readers import read_table
from .results import Estimate, EstimateTable
from .trimming import trim_weights
from .weighting import calibrate, nonresponse_adjust, poststratify, rake
from .sampling import (
    Allocation,
    Frame,
    Sample,
    allocate,
    decision_sample_size,
    expected_half_width,
    minimum_detectable_difference,
    sample_size_proportion,
    select,
)

def __getattr__(name: str):  # lazy submodules: figures/reports import matplotlib, sql imports duckdb
    if name == "SQLDesign":
        from .sql import SQLDesign

        return SQLDesign
    if name in ("report", "pipeline", "cli", "sql"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'survey_stats' has no attribute {name!r}")


from ._version import __version__  # noqa: E402

__all__ = [
    "Allocation",
    "ChisqResult",
    "DataError",
    "Design",
    "DesignError",
    "Estimate",
    "EstimateTable",
    "EstimationError",
    "ExpressionError",
    "Frame",
    "GLMResult",
    "IndicatorSystem",
    "IndicatorTable",
    "LonelyPSUError",
    "MethodError",
    "PROPORTION_METHODS",
    "Questionnaire",
    "QuestionnaireError",
    "Sample",
    "ScoreResult",
    "ScoringRules",
    "SurveyStatsError",
    "SurveyStatsWarning",
    "TTestResult",
    "__version__",
    "allocate",
    "calibrate",
    "channel_reach",
    "chisq_test",
    "ci",
    "code_responses",
    "contrast",
    "datasets",
    "decision_sample_size",
    "errors",
    "evaluate_indicators",
    "expected_half_width",
    "expr",
    "from_replicate_weights",
    "generate_responses",
    "glm",
    "grade_of",
    "indicators",
    "linear_combination",
    "load_questionnaire",
    "mean",
    "minimum_detectable_difference",
    "nonresponse_adjust",
    "pipeline",
    "poststratify",
    "privacy",
    "proportion",
    "proportion_interval",
    "quantile",
    "questionnaire_path",
    "questionnaires",
    "rake",
    "ratio",
    "read_export",
    "read_table",
    "readers",
    "replicate_design",
    "replicates",
    "report",
    "review",
    "safe_output",
    "sample_size_proportion",
    "sampling",
    "score",
    "select",
    "t_quantile",
    "t_test",
    "total",
    "trim_weights",
    "validate",
    "verdict",
    "wald_interval",
    "weighting",
    "write_export",
]
