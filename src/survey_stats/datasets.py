"""Bundled example data and ready-made designs.

* ``apistrat`` / ``apiclus1``: California Academic Performance Index samples shipped
  with R's ``survey`` package (stratified by school type; one-stage cluster sample of
  school districts).  Used to check survey_stats against published R output.
* ``poverty_survey``: a synthetic evaluation survey of the model case — 656 registered
  poor-worker households in two strata (exited: N = 400, n = 150; unexited: N = 256,
  a telephone census) plus separate samples of unregistered (N = 5000, n = 120) and
  deregistered (N = 120, n = 40) households, with satisfaction and four 0/1
  accuracy outcomes (``misidentified``, ``omitted``, ``wrong_exit``, ``missed_exit``,
  blank where the question does not apply).
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

import pandas as pd

from .design import Design

__all__ = ["apiclus1_design", "apistrat_design", "load_api", "load_poverty_survey", "poverty_design"]


def _read(name: str) -> pd.DataFrame:
    with resources.files("survey_stats").joinpath("data", name).open("rb") as fh:
        return pd.read_csv(fh)


def load_api(which: Literal["strat", "clus1"] = "strat") -> pd.DataFrame:
    """The ``apistrat`` or ``apiclus1`` data frame from R's survey package.

    Examples
    --------
    >>> load_api("strat").shape
    (200, 39)
    """
    if which not in ("strat", "clus1"):
        raise ValueError(f"which={which!r}: use 'strat' or 'clus1'.")
    return _read(f"api{which}.csv")


def apistrat_design() -> Design:
    """``svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)``."""
    return Design(load_api("strat"), strata="stype", weights="pw", fpc="fpc")


def apiclus1_design() -> Design:
    """``svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)``."""
    return Design(load_api("clus1"), ids="dnum", weights="pw", fpc="fpc")


def load_poverty_survey() -> pd.DataFrame:
    """The synthetic evaluation survey (566 respondents in four household groups).

    Weights are recomputed as ``N_h / n_h`` at full precision.

    Examples
    --------
    >>> load_poverty_survey().groupby("status").size().to_dict()
    {'deregistered': 40, 'exited': 150, 'unexited': 256, 'unregistered': 120}
    """
    df = _read("poverty_survey.csv")
    df["weight"] = df["N_h"] / df["n_h"]
    return df


def poverty_design() -> Design:
    """Stratified design of :func:`load_poverty_survey` by household group, with FPC."""
    return Design(load_poverty_survey(), strata="status", weights="weight", fpc="N_h")
