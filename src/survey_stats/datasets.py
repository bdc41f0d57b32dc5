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

import numpy as np
import pandas as pd

from .design import Design

__all__ = [
    "COUNTIES",
    "apiclus1_design",
    "apistrat_design",
    "load_api",
    "load_poverty_survey",
    "poverty_design",
    "simulate_registry",
]

#: The five counties/districts of the model city (Suzhou, Anhui) and their 6-digit region codes.
COUNTIES = {"埇桥区": "341302", "砀山县": "341321", "萧县": "341322", "灵璧县": "341323", "泗县": "341324"}
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
_CAUSES = ["illness", "disability", "schooling", "unemployment", "disaster", "other"]


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


def _id_check_digit(body: str) -> str:
    """GB 11643-1999 check digit (ISO 7064 MOD 11-2) of the first 17 digits."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def simulate_registry(n: int = 656, *, n_exited: int = 400, flag_rate: float = 0.06, seed: int = 0) -> pd.DataFrame:
    """A synthetic registry of poor-worker households (困难职工档案) like the model case.

    Parameters
    ----------
    n : int
        Households (656 in the model case).
    n_exited : int
        Of which exited hardship (已脱困); the rest are unexited (未脱困).
    flag_rate : float
        Share of files flagged incomplete or illogical during document review.
    seed : int
        Random seed.

    Returns
    -------
    DataFrame
        ``household_id, county, status, cause, members, income_per_head, flagged`` plus
        synthetic personal data that must never reach a report: ``name`` (户主姓名),
        ``id_card`` (身份证号, valid check digit), ``phone`` (手机号), ``address``.

    Examples
    --------
    >>> reg = simulate_registry(seed=1)
    >>> reg.shape, reg["status"].value_counts().to_dict()
    ((656, 11), {'exited': 400, 'unexited': 256})
    """
    if not 0 <= n_exited <= n:
        raise ValueError("n_exited must be between 0 and n.")
    rng = np.random.default_rng(seed)
    counties = list(COUNTIES)
    county = rng.choice(counties, n, p=[0.3, 0.17, 0.2, 0.17, 0.16])
    status = np.array(["exited"] * n_exited + ["unexited"] * (n - n_exited))
    rng.shuffle(status)
    members = rng.integers(1, 6, n)
    income = np.where(status == "exited", rng.normal(900, 180, n), rng.normal(560, 140, n)).round(0)
    births = pd.to_datetime("1960-01-01") + pd.to_timedelta(rng.integers(0, 365 * 40, n), unit="D")
    ids = []
    for c, b in zip(county, births):
        body = COUNTIES[c] + b.strftime("%Y%m%d") + f"{rng.integers(0, 1000):03d}"
        ids.append(body + _id_check_digit(body))
    names = [rng.choice(list(_SURNAMES)) + "".join(rng.choice(list(_GIVEN), rng.integers(1, 3))) for _ in range(n)]
    return pd.DataFrame({
        "household_id": [f"SZ{i + 1:04d}" for i in range(n)],
        "county": county,
        "status": status,
        "cause": rng.choice(_CAUSES, n, p=[0.35, 0.15, 0.15, 0.2, 0.05, 0.1]),
        "members": members,
        "income_per_head": income,
        "flagged": rng.random(n) < flag_rate,
        "name": names,
        "id_card": ids,
        "phone": [f"1{rng.choice([3, 5, 8])}{rng.integers(0, 10**9):09d}" for _ in range(n)],
        "address": [f"{c}某街道{rng.integers(1, 300)}号" for c in county],
    })
