"""Questionnaires as XLSForm: load, validate responses, code them, analyse them.

Builds on the core estimators.  The shipped instruments (telephone survey of unexited
households, home-visit form, unregistered and deregistered household forms, cadre
interview guide) are in the repository's ``questionnaires/`` folder and bundled with
the package (:func:`questionnaire_path`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import QuestionnaireError
from .analysis import SATISFACTION_DIMENSIONS, cronbach_alpha, satisfaction_dimensions
from .exports import EXPORT_LAYOUTS, ExportLayout, write_export
from .expressions import Expression, NotEvaluated, UnsupportedExpression, parse_expression
from .generate import ERROR_KINDS, generate_responses
from .responses import ValidationReport, code_responses, read_export, validate
from .schema import Choice, Question, Questionnaire, load_questionnaire

__all__ = [
    "ERROR_KINDS",
    "EXPORT_LAYOUTS",
    "FORMS",
    "SATISFACTION_DIMENSIONS",
    "Choice",
    "ExportLayout",
    "Expression",
    "NotEvaluated",
    "Question",
    "Questionnaire",
    "UnsupportedExpression",
    "ValidationReport",
    "code_responses",
    "cronbach_alpha",
    "generate_responses",
    "load_questionnaire",
    "parse_expression",
    "questionnaire_path",
    "read_export",
    "satisfaction_dimensions",
    "validate",
    "write_export",
]

#: The shipped forms: name → what it is for.
FORMS = {
    "phone_unexited": "telephone survey of every unexited household (census)",
    "home_visit": "home-visit verification of sampled exited and unexited households",
    "unregistered": "screening of unregistered worker households (omission)",
    "deregistered": "follow-up of households removed from the registry",
    "cadre_interview": "semi-structured interviews of union cadres, enterprise heads, community workers",
    "social_satisfaction": "social satisfaction survey of the four respondent groups of seed 001 item 19",
}


def questionnaire_path(name: str) -> Path:
    """Path of a shipped XLSForm (see :data:`FORMS`).

    Examples
    --------
    >>> questionnaire_path("home_visit").name
    'home_visit.xlsx'
    """
    if name not in FORMS:
        raise QuestionnaireError(f"no shipped form {name!r}; forms: {', '.join(FORMS)}.")
    return Path(str(resources.files("survey_stats.questionnaires").joinpath("forms", f"{name}.xlsx")))
