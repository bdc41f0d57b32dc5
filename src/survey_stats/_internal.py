"""The internal API: what modules outside the estimation core may use of it.

Not part of the public API (it may change between releases without deprecation), but
the one documented place where the evaluation layers and the core's own sibling
modules get shared internals, under public names, instead of importing another
module's ``_private`` names.  ``tests/test_internal_api.py`` parses every module and
fails when one imports a ``_name`` from a module that is not internal (internal
modules are those whose own name starts with ``_``: this one, :mod:`_domains`,
:mod:`_linear`, :mod:`_assembly`, :mod:`_kernel`, :mod:`_setup`, :mod:`_replication`,
:mod:`_sqlengine`, :mod:`_validation`, :mod:`_version`).

What it offers, and to whom
---------------------------
Domains and variables (from :mod:`survey_stats._domains`):
    ``where_mask`` (``where=`` as a boolean row mask; a column, a mask or a condition in
    the safe expression language) — indicators/channels, models, association;
    ``domains``, ``Domains``, ``Part``, ``numeric``, ``check_common``, ``resolve_df``,
    ``is_sql``, ``domain_df``, ``By``, ``DfOption``, ``NaPolicy`` — quantiles;
    ``subset_df`` (R's ``degf`` of a subset of the design) — models, association, quantiles.
The linear core (from :mod:`survey_stats._linear`):
    ``proportion_parts`` (several proportions over their own domains, joint covariance) —
    indicators/compute, indicators/channels; ``linear_core`` — quantiles.
Result plumbing (from :mod:`survey_stats.results`):
    ``Origin`` (where an estimate came from: designs and covariance, for contrasts) —
    contrasts, quantiles, indicators; ``cv`` (coefficient of variation) — contrasts,
    quantiles; ``html_table``, ``text_table``, ``indicator_frame`` (notebook and text
    display of result tables) — indicators/compute, indicators/scoring.
Interval pieces (from :mod:`survey_stats.ci`):
    ``beta_bounds``, ``beta_df_factor`` (Korn-Graubard bounds) — quantiles.
Designs of either backend:
    ``has_census`` (some stratum of an in-memory or SQL design is a census) — indicators/compute.
Formulas:
    ``quote_column`` (a column name as a formula term), ``FORMULA_FUNCTIONS`` — models,
    association.

The design's rows are read through the public, read-only ``Design.data`` property;
reaching into a design's private attributes is reserved to the core modules
(``_kernel``, ``_linear``, ``_domains``, estimation, replicates, weighting, trimming).
"""

from __future__ import annotations

import keyword
from typing import Any

import numpy as np

from ._domains import (
    By,
    DfOption,
    Domains,
    NaPolicy,
    Part,
    check_common,
    domain_df,
    domains,
    is_sql,
    numeric,
    resolve_df,
    subset_df,
    where_mask,
)
from ._linear import linear_core, proportion_parts
from .ci import _beta_bounds as beta_bounds
from .ci import _beta_df_factor as beta_df_factor
from .results import _cv as cv
from .results import _html_table as html_table
from .results import _indicator_frame as indicator_frame
from .results import _Origin as Origin
from .results import _text_table as text_table

__all__ = [
    "By",
    "DfOption",
    "Domains",
    "FORMULA_FUNCTIONS",
    "NaPolicy",
    "Origin",
    "Part",
    "beta_bounds",
    "beta_df_factor",
    "check_common",
    "cv",
    "domain_df",
    "domains",
    "has_census",
    "html_table",
    "indicator_frame",
    "is_sql",
    "linear_core",
    "numeric",
    "proportion_parts",
    "quote_column",
    "resolve_df",
    "subset_df",
    "text_table",
    "where_mask",
]

#: Functions a model formula may call (R-style name → formulaic's), see :mod:`survey_stats.models`.
FORMULA_FUNCTIONS = {"C": "C", "factor": "C", "I": "I", "log": "log", "exp": "exp", "sqrt": "sqrt"}


def quote_column(name: str) -> str:
    """A column name as a formula term: bare when it is a plain identifier, else in backticks.

    Examples
    --------
    >>> quote_column("api00"), quote_column("api.stu"), quote_column("log")
    ('api00', '`api.stu`', '`log`')
    """
    plain = name.isidentifier() and not keyword.iskeyword(name) and name not in FORMULA_FUNCTIONS and name != "np"
    return name if plain else f"`{name}`"


def has_census(design: Any) -> bool:
    """True when some stratum of *design* — a :class:`~survey_stats.Design` or an SQL design — is a census.

    Both backends set up their strata through :mod:`survey_stats._setup`, which marks
    census strata (sampling fraction 1) the same way.

    Examples
    --------
    >>> import survey_stats as ss
    >>> has_census(ss.datasets.apistrat_design()), has_census(ss.datasets.poverty_design())
    (False, True)
    """
    return bool(np.any(design._census_h))
