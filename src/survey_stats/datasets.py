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

from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._validation import rng_for
from .design import Design
from .errors import DataError

__all__ = [
    "COUNTIES",
    "apiclus1_design",
    "apistrat_design",
    "load_api",
    "load_poverty_survey",
    "misreport",
    "poverty_design",
    "SimulatedEvaluation",
    "simulate_evaluation",
    "simulate_interviews",
    "simulate_registry",
    "simulate_review",
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
    rng = rng_for(seed, "survey_stats.simulate_registry")
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


#: Publicity channels (政策宣传渠道) used by the simulator and the questionnaires.
CHANNELS = {"community": "社区/村委会", "union": "工会干部", "wechat": "微信/公众号", "tv": "电视/广播",
            "poster": "宣传栏/海报", "app": "职工之家APP"}

# true probabilities of the simulated population (documented in simulate_evaluation)
_P_REG = {"paired_helper": 0.96, "method_matches": 0.92, "aware": 0.82}
_P_MISIDENTIFIED = {False: 0.025, True: 0.10}  # by whether document review flags the file
_P_EXITED = {"wrong_exit": 0.03, "returned": 0.02, "satisfied": 0.93}
_P_UNEXITED = {"missed_exit": 0.04, "satisfied": 0.88}
_P_UNREG = {"omitted": 0.04, "satisfied": 0.70, "aware": 0.45}
_P_DEREG = {"satisfied": 0.80, "wrong_exit": 0.05, "returned": 0.03, "aware": 0.75}
_P_CHANNEL = {"community": 0.50, "union": 0.35, "wechat": 0.55, "tv": 0.30, "poster": 0.20, "app": 0.25}
#: P(satisfied with a dimension | satisfied overall), P(... | not satisfied overall)
_P_DIMENSION = {"method": (0.95, 0.40), "result": (0.93, 0.30), "publicity": (0.90, 0.45)}
_P_WELL = 0.4  # of those aware of the policies, share who know them well (很了解)
_FLAG_RATE = 0.06
#: 社会满意度 respondent groups (seed 001 item 19): population on the lists, P(satisfied), P(aware)
_SOCIAL = {"official": (3000, 0.94, 0.90), "worker": (20000, 0.86, 0.55), "union": (400, 0.97, 0.98),
           "beneficiary": (656, 0.91, 0.82)}
_ONE_OFF = {"medical": 3000.0, "schooling": 2000.0, "employment": 800.0}
_AFTER_EXIT = {"illness": "medical", "disability": "medical", "schooling": "schooling", "unemployment": "employment"}
#: kinds of aid a household's paper file (帮扶记录) documents (seed 000 三.3: 物质援助、心理关怀、技能培训)
AID_KINDS = {"material": "物质援助", "psychological": "心理关怀/心理疏导", "skills": "技能培训"}
#: P(psychological care documented) by status; P(skills training) by status and unemployment cause
_P_PSYCH = {"unexited": 0.45, "exited": 0.15}
_P_SKILLS = {("unexited", True): 0.60, ("unexited", False): 0.12, ("exited", True): 0.10, ("exited", False): 0.05}
#: of the exited households that fell back into hardship: share the union recorded (returned_on),
#: and of those, the share aided again (返困再帮扶) in the ledger year
_P_RETURN_RECORDED = 0.80
_P_RE_AID = 0.75
_AID_FOR = {"illness": "medical", "disability": "living", "schooling": "schooling", "unemployment": "living",
            "disaster": "living", "other": "living"}


@dataclass
class SimulatedEvaluation:
    """A synthetic population for the model evaluation, with known true rates.

    Attributes
    ----------
    registry : DataFrame
        656 registered households (:func:`simulate_registry`) with the file contents
        document review reads (listed members, dates, birth date) and their true
        outcome values (the columns a perfect survey would record).  No ``flagged``
        column: flags come from auditing the files (:func:`survey_stats.audit_registry`).
    unregistered : DataFrame
        5 000 worker households never registered (enterprise/community lists).
    deregistered : DataFrame
        120 households removed from the registry.
    social : DataFrame
        Lists the 社会满意度 survey samples from (seed 001 item 19): ``respondent_group``
        official (党政机关事业单位工作人员, 3 000), worker (产业工人, 20 000), union (工会工作者,
        400) and beneficiary (受益对象, 656), with their true satisfaction.
    truth : dict
        Population values of every indicator, computed from the true outcomes.
    seed : int
    documents : dict
        What document review reads: ``ledger``, ``standards``, ``transfers``,
        ``deregistered`` (ids and dates), ``evaluator_inputs`` — the checklist
        findings and figures the data cannot supply (key, value, evidence), as an
        evaluator would record them — and ``interview_roster`` (union cadres, enterprise
        heads and community workers per county, for the semi-structured interviews).
    """

    registry: pd.DataFrame
    unregistered: pd.DataFrame
    deregistered: pd.DataFrame
    truth: dict[str, float]
    seed: int
    documents: dict[str, Any] = field(default_factory=dict)
    social: pd.DataFrame | None = None
    outcome_columns: tuple[str, ...] = field(default=(
        "misidentified", "omitted", "wrong_exit", "missed_exit", "paired_helper", "method_matches",
        "satisfied", "satisfaction_method", "satisfaction_result", "satisfaction_publicity", "returned", "aware",
        "awareness_level", "channels", "file_complete", "file_consistent", "aid_kinds"))

    def population(self, name: str) -> pd.DataFrame:
        """``"registry"``, ``"unregistered"``, ``"deregistered"`` or ``"social"``."""
        pops = {"registry": self.registry, "unregistered": self.unregistered, "deregistered": self.deregistered}
        if self.social is not None:
            pops["social"] = self.social
        if name not in pops:
            raise ValueError(f"population {name!r} is unknown; use one of {sorted(pops)}.")
        return pops[name]

    def respond(self, ids: Any, population: str, *, nonresponse: float = 0.0, seed: int | None = None,
                id_column: str = "household_id") -> pd.DataFrame:
        """Coded answers of the sampled households that respond.

        Parameters
        ----------
        ids : iterable
            Sampled household ids (e.g. ``sample.ids()``).
        population : str
            Which population they were drawn from.
        nonresponse : float
            Probability that a sampled household cannot be reached or refuses.
        seed : int, optional
            Seed of the nonresponse draw (default: the simulation's seed).

        Returns
        -------
        DataFrame
            id, status (household group), county and the coded outcome columns (0/1; ``channels`` is a
            space-separated multi-select; ``awareness_level`` well/some/none), one row per
            responding household.  Questions that do not apply to a group are left blank (NaN).
        """
        pop = self.population(population).set_index(id_column)
        ids = list(ids)
        unknown = [i for i in ids if i not in pop.index]
        if unknown:
            raise ValueError(f"{len(unknown)} id(s) are not in the {population} population, e.g. {unknown[:3]}.")
        rng = rng_for(self.seed if seed is None else seed, "survey_stats.respond")
        keep = rng.random(len(ids)) >= nonresponse
        cols = [c for c in ("status", "respondent_group") if c in pop.columns] + ["county"]
        cols += [c for c in self.outcome_columns if c in pop.columns]
        out = pop.loc[[i for i, k in zip(ids, keep) if k], cols].reset_index()
        return out


#: share of the minority answers of each 0/1 item swapped in telephone answers (see :func:`misreport`)
PHONE_RESPONSE_ERROR = 0.15


def misreport(answers: pd.DataFrame, columns: Any, *, rate: float = PHONE_RESPONSE_ERROR,
              seed: int = 0) -> pd.DataFrame:
    """Response error: some households answer a 0/1 item differently from the truth.

    The model (documented assumption of the simulator): for each item, a number of
    households k ~ Binomial(m, *rate*), where m is the count of the rarer answer among
    the households that answered, have their answer swapped from the rarer to the
    commoner value, and as many households with the commoner answer swap to the rarer
    one.  Each respondent's answer may then differ from the truth (and from a home visit
    that records the truth), so a comparison of the two sources shows agreement and
    Cohen's kappa below 1, while the item's share among the respondents — and with it
    the estimates and their coverage — stays exactly what a truthful answer gives.  This
    is the "balanced misclassification" case (errors that cancel in the total; Biemer
    2011, *Total Survey Error*, ch. 2); errors that do not cancel would bias the estimate
    and are not simulated.

    Parameters
    ----------
    answers : DataFrame
        One row per respondent (e.g. from :meth:`SimulatedEvaluation.respond`).
    columns : iterable of str
        0/1 columns to perturb; missing values (items that do not apply) stay missing.
    rate : float
        Expected share of the rarer answers swapped (0 ≤ rate ≤ 1).
    seed : int

    Returns
    -------
    DataFrame
        A copy of *answers* with the swapped answers.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0] * 20 + [0.0] * 80})
    >>> out = misreport(df, ["y"], rate=0.5, seed=1)
    >>> int(out["y"].sum()), int((out["y"] != df["y"]).sum()) > 0
    (20, True)
    """
    if not 0 <= rate <= 1:
        raise DataError(f"misreport: rate={rate} is not a share between 0 and 1.")
    rng = rng_for(seed, "survey_stats.misreport")
    out = answers.copy()
    for c in columns:
        v = out[c].to_numpy(dtype=float, copy=True)
        ones, zeros = np.flatnonzero(v == 1), np.flatnonzero(v == 0)
        rare, common = (ones, zeros) if len(ones) <= len(zeros) else (zeros, ones)
        k = int(rng.binomial(len(rare), rate))
        if k:
            a, b = rng.choice(rare, k, replace=False), rng.choice(common, k, replace=False)
            v[a], v[b] = v[b].copy(), v[a].copy()
            out[c] = v
    return out


def _draw(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    return (rng.random(n) < p).astype(float)


def _channels(rng: np.random.Generator, n: int) -> list[str]:
    picks = {c: rng.random(n) < p for c, p in _P_CHANNEL.items()}
    return [" ".join(c for c in _P_CHANNEL if picks[c][i]) for i in range(n)]


def _opinions(df: pd.DataFrame, rng: np.random.Generator) -> None:
    """Satisfaction dimensions and awareness levels that follow the overall answers."""
    sat = df["satisfied"].to_numpy()
    for dim, (p1, p0) in _P_DIMENSION.items():
        u = rng.random(len(df))
        df[f"satisfaction_{dim}"] = np.where(np.isnan(sat), np.nan, (u < np.where(sat == 1, p1, p0)).astype(float))
    well = rng.random(len(df)) < _P_WELL
    df["awareness_level"] = np.where(df["aware"] == 1, np.where(well, "well", "some"), "none")


def _review_files(reg: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """File contents document review reads, consistent with the shipped registry rules."""
    n = len(reg)
    exited = (reg["status"] == "exited").to_numpy()
    reg["income_per_head"] = np.where(exited, rng.uniform(850, 1500, n), rng.uniform(300, 750, n)).round(0)
    reg["listed_members"] = reg["members"]
    reg["registered_on"] = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 365 * 4, n), unit="D")
    reg["exited_on"] = pd.NaT
    reg.loc[exited, "exited_on"] = (pd.Timestamp("2023-06-01")
                                    + pd.to_timedelta(rng.integers(0, 500, int(exited.sum())), unit="D"))
    reg["birth_date"] = pd.to_datetime(reg["id_card"].str[6:14], format="%Y%m%d")
    reg["reviewed_on"] = reg["registered_on"] - pd.to_timedelta(rng.integers(3, 30, n), unit="D")
    reg["info_checked"] = rng.random(n) < 0.93  # 信息比对 done for the household (administrative record)
    # what a file spot check (档案抽检) of the paper file finds
    reg["file_complete"] = (rng.random(n) < 0.92).astype(float)
    reg["file_consistent"] = (rng.random(n) < 0.95).astype(float)
    return reg


def _plant_file_problems(reg: pd.DataFrame, rng: np.random.Generator, rate: float) -> None:
    """Make about *rate* of the files incomplete or illogical, one problem each."""
    exited = (reg["status"] == "exited").to_numpy()
    for i in np.flatnonzero(rng.random(len(reg)) < rate):
        kinds = ["required_missing", "members_mismatch", "birth_mismatch", "registered_before_review"]
        kinds += ["income_below_threshold_exited", "exit_before_registration"] if exited[i] else ["income_above_threshold"]
        kind = kinds[rng.integers(len(kinds))]
        if kind == "required_missing":
            reg.loc[i, "cause"] = None
        elif kind == "members_mismatch":
            reg.loc[i, "listed_members"] = reg.at[i, "members"] + 1
        elif kind == "birth_mismatch":
            reg.loc[i, "birth_date"] = reg.at[i, "birth_date"] + pd.Timedelta(days=366)
        elif kind == "income_below_threshold_exited":
            reg.loc[i, "income_per_head"] = 700.0
        elif kind == "registered_before_review":
            reg.loc[i, "reviewed_on"] = reg.at[i, "registered_on"] + pd.Timedelta(days=15)
        elif kind == "exit_before_registration":
            reg.loc[i, "exited_on"] = reg.at[i, "registered_on"] - pd.Timedelta(days=100)
        else:
            reg.loc[i, "income_per_head"] = 950.0


def _ledger(reg: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The 2025 aid ledger: aid by cause of hardship, paid by bank card, living aid monthly.

    About 2% of households received nothing; four are paid off-standard once and one
    is paid once in cash (problems the ledger audit must find).
    """
    pay: list[dict[str, Any]] = []
    for hh, cause, status in zip(reg["household_id"], reg["cause"], reg["status"]):
        if rng.random() < 0.02:
            continue
        if status == "exited":  # after exit, half get one-off help matching the cause (never living aid)
            kind = _AFTER_EXIT.get(cause)
            if kind and rng.random() < 0.5:
                pay.append({"household_id": hh, "aid_type": kind, "amount": _ONE_OFF[kind], "channel": "bank_card",
                            "paid_on": pd.Timestamp(2025, 4, 8), "fund_source": "provincial"})
            continue
        kind = _AID_FOR.get(cause, "living")
        if kind == "living":
            pay += [{"household_id": hh, "aid_type": "living", "amount": 500.0, "channel": "bank_card",
                     "paid_on": pd.Timestamp(2025, m, 10), "fund_source": "central"} for m in range(1, 13)]
        else:
            pay.append({"household_id": hh, "aid_type": kind, "amount": _ONE_OFF[kind],
                        "channel": "bank_card", "paid_on": pd.Timestamp(2025, 9, 5), "fund_source": "provincial"})
        if cause == "unemployment" and rng.random() < 0.5:
            pay.append({"household_id": hh, "aid_type": "employment", "amount": 800.0, "channel": "bank_card",
                        "paid_on": pd.Timestamp(2025, 6, 2), "fund_source": "provincial"})
    ledger = pd.DataFrame(pay)
    living = ledger.index[(ledger["aid_type"] == "living") & (ledger["paid_on"].dt.month == 4)].to_numpy()
    picks = rng.choice(living, 5, replace=False)
    ledger.loc[picks[:4], "amount"] = 450.0
    ledger.loc[picks[4], "channel"] = "cash"
    return ledger


def _re_aid(reg: pd.DataFrame, ledger: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Record returns to hardship (``returned_on``) and pay some of them again (返困再帮扶).

    Of the exited households that truly fell back into hardship, 80% are recorded by the
    union on a date in 2025; 75% of those are aided again from that date, with the aid
    their cause of hardship calls for (living aid monthly to December, or a one-off).
    """
    reg["returned_on"] = pd.NaT
    back = np.flatnonzero((reg["status"] == "exited").to_numpy() & (reg["returned"] == 1).to_numpy())
    recorded = back[rng.random(len(back)) < _P_RETURN_RECORDED]
    dates = pd.Timestamp("2025-01-15") + pd.to_timedelta(rng.integers(0, 280, len(recorded)), unit="D")
    reg.loc[recorded, "returned_on"] = dates
    pay: list[dict[str, Any]] = []
    for i, day in zip(recorded, dates):
        if rng.random() >= _P_RE_AID:
            continue
        hh, kind = reg.at[i, "household_id"], _AID_FOR.get(reg.at[i, "cause"], "living")
        if kind == "living":
            pay += [{"household_id": hh, "aid_type": "living", "amount": 500.0, "channel": "bank_card",
                     "paid_on": pd.Timestamp(2025, m, 10), "fund_source": "central"} for m in range(day.month + 1, 13)]
        else:  # returns are recorded by late October, so living aid has at least one month to run
            pay.append({"household_id": hh, "aid_type": kind, "amount": _ONE_OFF[kind],
                        "channel": "bank_card", "paid_on": day + pd.Timedelta(days=20), "fund_source": "provincial"})
    return pd.concat([ledger, pd.DataFrame(pay, columns=ledger.columns)], ignore_index=True) if pay else ledger


def _aid_kinds(reg: pd.DataFrame, ledger: pd.DataFrame, rng: np.random.Generator) -> None:
    """The kinds of aid each household's paper file documents (``aid_kinds``, space-separated).

    物质援助 = any payment in the ledger; 心理关怀 and 技能培训 leave no payment, only the
    file's visit and training records: psychological care 45% of unexited / 15% of exited
    households; skills training 60% of unexited households in hardship through
    unemployment, 12% of the other unexited, 10% / 5% of exited ones.
    """
    n = len(reg)
    status = reg["status"].to_numpy()
    unemployed = (reg["cause"] == "unemployment").to_numpy()
    material = reg["household_id"].isin(ledger["household_id"]).to_numpy()
    psych = rng.random(n) < np.array([_P_PSYCH[s] for s in status])
    skills = rng.random(n) < np.array([_P_SKILLS[(s, bool(u))] for s, u in zip(status, unemployed)])
    reg["aid_kinds"] = [" ".join(k for k, on in zip(AID_KINDS, flags) if on)
                        for flags in zip(material, psych, skills)]


def _evaluator_inputs() -> pd.DataFrame:
    """Simulated checklist findings and figures that no data file supplies, each with its evidence.

    In a real evaluation the evaluator records these from the documents; here they
    stand for such a record (every value carries a document reference).
    """
    from .indicators import ScoringRules

    derived = {"fund_payment.bank_card", "fund_payment.monthly_quarterly", "archive_management.archives_complete"}
    rows = [(k, True, f"模拟档案：{k} 相关文件 (simulated document)") for k in ScoringRules.default().needs()["checklist"]
            if k not in derived]
    no = {"capacity.inspections": "未见年度检查或抽查通知及报告 (no inspection report for the year)",
          "regular_work.publicity_column": "工会网、微信未见困难职工宣传专栏 (no publicity column found)",
          "fund_allocation.factor_other": "资金分配文件仅列三项因素 (allocation notice lists three factors)"}
    rows = [(k, (False if k in no else v), no.get(k, e)) for k, v, e in rows]
    rows += [("fund_entry_working_days", 26, "全国工会帮扶管理系统录入日志 (system entry log)"),
             ("households_target", 410, "民生工程目标责任书：年度帮扶目标任务 (target responsibility letter)")]
    return pd.DataFrame(rows, columns=["key", "value", "evidence"])


def simulate_evaluation(seed: int = 0) -> SimulatedEvaluation:
    """Simulate the model case: registry files, aid ledger and households with true outcomes.

    The registry's files carry what document review reads (and what a spot check of
    the paper files finds: 92% complete, 95% matching the electronic file); about 6%
    are made incomplete or illogical (the households :func:`~survey_stats.audit_registry` will
    flag).  The true probabilities are: registered households misidentified 2.5%
    (10% among files with problems), with a paired helper 96%, aid method matching
    the cause 92%, aware of the policies 82% (of whom 40% know them well); exited
    households wrongly exited 3%, returned to hardship 2%, satisfied 93%; unexited
    households that should have exited 4%, satisfied 88%; unregistered households
    eligible but missed 4%, satisfied 70%, aware 45%; deregistered households
    satisfied 80%, wrongly removed 5%, returned 3%, aware 75%.  Satisfaction with the
    aid method, its results and publicity follows the overall answer (95/93/90% of
    the satisfied, 40/30/45% of the others).  The paper files document the kinds of aid
    received (``aid_kinds``: 物质援助 = paid in the ledger, 心理关怀 and 技能培训 from visit and
    training records, see ``_aid_kinds``) and the union's record of returns to hardship
    (``returned_on``, 80% of the true returns; 75% of those aided again in the ledger).
    Telephone answers can be given a response error with :func:`misreport`.  Each household's values are drawn
    once, so ``truth`` holds the exact finite-population values.

    Examples
    --------
    >>> sim = simulate_evaluation(seed=3)
    >>> len(sim.registry), len(sim.unregistered), len(sim.deregistered)
    (656, 5000, 120)
    >>> 0 < sim.truth["missed_exit_rate"] < 0.1
    True
    >>> sorted(sim.documents)
    ['deregistered', 'evaluator_inputs', 'interview_roster', 'ledger', 'standards', 'transfers']
    """
    from .review import audit_registry

    rng = rng_for(seed, "survey_stats.simulate_evaluation")
    reg = _review_files(simulate_registry(seed=seed).drop(columns=["flagged"]), rng)
    ledger = _ledger(reg, rng)
    _plant_file_problems(reg, rng, _FLAG_RATE)
    flagged = reg["household_id"].map(audit_registry(reg, ledger=ledger).flags()).to_numpy(dtype=bool)
    n = len(reg)
    reg["misidentified"] = (rng.random(n) < np.where(flagged, _P_MISIDENTIFIED[True], _P_MISIDENTIFIED[False])
                            ).astype(float)
    for c, p in _P_REG.items():
        reg[c] = _draw(rng, n, p)
    ex = (reg["status"] == "exited").to_numpy()
    for c in ("wrong_exit", "returned", "missed_exit", "satisfied"):
        reg[c] = np.nan
    for c, p in _P_EXITED.items():
        reg.loc[ex, c] = _draw(rng, int(ex.sum()), p)
    for c, p in _P_UNEXITED.items():
        reg.loc[~ex, c] = _draw(rng, int((~ex).sum()), p)
    reg["channels"] = _channels(rng, n)
    _opinions(reg, rng)

    counties = list(COUNTIES)
    def other(size: int, prefix: str, group: str, probs: dict[str, float]) -> pd.DataFrame:
        df = pd.DataFrame({"household_id": [f"{prefix}{i + 1:05d}" for i in range(size)],
                           "county": rng.choice(counties, size), "status": group})
        for c, p in probs.items():
            df[c] = _draw(rng, size, p)
        df["channels"] = _channels(rng, size)
        _opinions(df, rng)
        return df

    unreg = other(5000, "UR", "unregistered", _P_UNREG)
    dereg = other(120, "DR", "deregistered", _P_DEREG)
    social = pd.concat([other(size, f"S{g[0].upper()}", "social", {"satisfied": p, "aware": a}).assign(respondent_group=g)
                        for g, (size, p, a) in _SOCIAL.items()], ignore_index=True).drop(columns="status")
    social["household_id"] = [f"SO{i + 1:05d}" for i in range(len(social))]
    documents = {
        "ledger": ledger,
        "standards": pd.DataFrame({"aid_type": ["living", "medical", "schooling", "employment"], "period": "2025",
                                   "min_amount": [500.0, 500.0, 1000.0, 200.0],
                                   "max_amount": [500.0, 20000.0, 3000.0, 2000.0]}),
        "transfers": pd.DataFrame({"fund_source": ["central", "provincial"], "arrived_on": ["2025-01-24", "2025-03-03"],
                                   "transferred_on": ["2025-03-04", "2025-03-24"]}),
        "deregistered": pd.DataFrame({"household_id": dereg["household_id"], "deregistered_on": pd.Timestamp("2024-12-31")}),
        "evaluator_inputs": _evaluator_inputs(),
        "interview_roster": _roster(rng),
    }
    ledger = documents["ledger"] = _re_aid(reg, ledger, rng)
    _aid_kinds(reg, ledger, rng)
    truth = _truth(reg, unreg, dereg)
    paid = ledger[ledger["household_id"].isin(reg["household_id"])]
    truth["employment_aid_coverage"] = float(paid.loc[paid["aid_type"] == "employment", "household_id"].nunique() / n)
    kinds = reg["aid_kinds"].str.split()
    truth["aid_diversity"] = float((kinds.str.len() >= 2).mean())
    for k in AID_KINDS:
        truth[f"aid_{k}"] = float(kinds.apply(lambda ks, k=k: k in ks).mean())
    recorded = reg[reg["returned_on"].notna()]
    again = paid[paid["household_id"].isin(recorded["household_id"])].merge(recorded[["household_id", "returned_on"]])
    if len(recorded):
        truth["re_aid_rate"] = float(again.loc[again["paid_on"] >= again["returned_on"], "household_id"].nunique()
                                     / len(recorded))
    weights = {p["id"]: float(p["weight"]) for p in _social_parts()}
    truth["social_satisfaction"] = float(sum(w * social.loc[social["respondent_group"] == g, "satisfied"].mean()
                                             for g, w in weights.items()))
    return SimulatedEvaluation(reg, unreg, dereg, truth, seed, documents, social)


def _social_parts() -> tuple[dict[str, Any], ...]:
    """The group weights declared in the shipped indicator file."""
    from .indicators import IndicatorSystem

    return IndicatorSystem.default()["social_satisfaction"].parts


def _truth(reg: pd.DataFrame, unreg: pd.DataFrame, dereg: pd.DataFrame) -> dict[str, float]:
    """Population values of the indicators (as the indicator file defines them)."""
    ex = (reg["status"] == "exited").to_numpy()
    groups = {"exited": reg[ex], "unexited": reg[~ex], "unregistered": unreg, "deregistered": dereg}

    def index(col: str) -> float:
        return float(sum(w * groups[g][col].mean() for g, w in
                         (("exited", .4), ("unexited", .4), ("unregistered", .1), ("deregistered", .1))))

    truth = {
        "misidentification_rate": float(reg["misidentified"].mean()),
        "omission_rate": float(unreg["omitted"].mean()),
        "wrong_exit_rate": float((reg.loc[ex, "wrong_exit"].sum() + dereg["wrong_exit"].sum()) / (ex.sum() + len(dereg))),
        "missed_exit_rate": float(reg.loc[~ex, "missed_exit"].mean()),
        "pairing_coverage": float(reg["paired_helper"].mean()),
        "method_match_rate": float(reg["method_matches"].mean()),
        "info_check_rate": float(reg["info_checked"].mean()),
        "file_completeness": float(reg["file_complete"].mean()),
        "file_consistency": float(reg["file_consistent"].mean()),
        "return_to_hardship_rate": float(reg.loc[ex, "returned"].mean()),
        "beneficiary_satisfaction": float(reg["satisfied"].mean()),
        "satisfaction": index("satisfied"),
    }
    for dim in _P_DIMENSION:
        truth[f"satisfaction_{dim}_index"] = index(f"satisfaction_{dim}")
    truth["dynamic_accuracy"] = 1 - (0.2 * truth["omission_rate"] + 0.3 * truth["misidentification_rate"]
                                     + 0.3 * truth["wrong_exit_rate"] + 0.2 * truth["missed_exit_rate"])
    truth["aid_accuracy"] = (0.3 * truth["dynamic_accuracy"] + 0.2 * truth["pairing_coverage"]
                             + 0.2 * truth["method_match_rate"] + 0.2 * truth["satisfaction"]
                             + 0.1 * truth["info_check_rate"])
    for g, df in groups.items():
        for level in ("well", "some", "none"):
            truth[f"awareness.{g}.{level}"] = float((df["awareness_level"] == level).mean())
    for level in ("well", "some", "none"):
        truth[f"awareness.registered.{level}"] = float((reg["awareness_level"] == level).mean())
    return truth


#: interviewees on the roster per county and role, and how often each role raises each topic's codes
_ROSTER = {"union_cadre": 6, "enterprise": 10, "community": 8}
_MENTION = {"union_cadre": 0.55, "enterprise": 0.30, "community": 0.45}
_OPENERS = ["我们这里在", "说到", "这两年在", "群众反映", "关于"]
_CLOSERS = ["方面做了一些工作", "这一块还有欠缺", "方面情况比较好", "上还需要加强", "的问题比较突出"]


def simulate_interviews(roster: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Simulated notes of semi-structured interviews (one row per interviewee, one column per topic).

    Each topic's answer raises each code of the shipped coding frame with a probability
    depending on the role (union cadres 55%, community workers 45%, enterprise heads
    30%), phrased with one of the code's key phrases; a few notes carry a phone number,
    as real notes do, which reports must mask.

    Examples
    --------
    >>> roster = pd.DataFrame({"interviewee_id": ["IV001"], "role": ["community"], "county": ["萧县"]})
    >>> list(simulate_interviews(roster, seed=1).columns)[:4]
    ['interviewee_id', 'role', 'county', 'identification']
    """
    from .interviews import default_codebook

    rng = rng_for(seed, "survey_stats.simulate_interviews")
    book = default_codebook()
    out = roster[["interviewee_id", "role", "county"]].copy().reset_index(drop=True)
    for topic, spec in book["topics"].items():
        notes = []
        for r in out["role"]:
            said = [f"{rng.choice(_OPENERS)}{rng.choice(c['keywords'])}{rng.choice(_CLOSERS)}"
                    for c in spec["codes"].values() if rng.random() < _MENTION[r]]
            if rng.random() < 0.05:
                said.append(f"联系电话1{rng.choice([3, 5, 8])}{rng.integers(0, 10**9):09d}")
            notes.append("；".join(said) if said else "无补充")
        out[topic] = notes
    return out


def _roster(rng: np.random.Generator) -> pd.DataFrame:
    rows = [(c, r) for c in COUNTIES for r, k in _ROSTER.items() for _ in range(k)]
    return pd.DataFrame({"interviewee_id": [f"IV{i + 1:03d}" for i in range(len(rows))],
                         "county": [c for c, _ in rows], "role": [r for _, r in rows]})


def simulate_review(seed: int = 0, n: int = 200) -> dict[str, Any]:  # long but linear: one planted problem after another
    """A registry and aid ledger for document review, with one planted problem of each kind.

    Clean households satisfy every rule of :mod:`survey_stats.review` (incomes on the right
    side of the 800-yuan threshold, aid matching the cause of hardship, living aid of
    500 yuan paid monthly by bank card, funds passed down within 7 working days, totals
    reconciled).  Then exactly one problem of each registry and ledger rule is planted on
    its own household.

    Returns
    -------
    dict
        ``registry``, ``ledger``, ``standards``, ``transfers``, ``allocations``,
        ``deregistered`` and ``planted`` (household_id, rule) — what an audit must find.

    Examples
    --------
    >>> r = simulate_review(seed=1)
    >>> sorted(r)[:4], len(r["planted"])
    (['allocations', 'deregistered', 'ledger', 'planted'], 18)
    """
    rng = rng_for(seed, "survey_stats.simulate_review")
    reg = simulate_registry(n, n_exited=n // 2, seed=seed).drop(columns=["flagged"])
    exited = (reg["status"] == "exited").to_numpy()
    reg["income_per_head"] = np.where(exited, rng.uniform(850, 1500, n), rng.uniform(300, 750, n)).round(0)
    reg["listed_members"] = reg["members"]
    reg["registered_on"] = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 365 * 4, n), unit="D")
    reg["exited_on"] = pd.NaT
    reg.loc[exited, "exited_on"] = pd.Timestamp("2023-06-01") + pd.to_timedelta(rng.integers(0, 500, int(exited.sum())), unit="D")
    reg["reviewed_on"] = reg["registered_on"] - pd.Timedelta(days=10)  # 新增审核 before registration
    reg["birth_date"] = pd.to_datetime(reg["id_card"].str[6:14], format="%Y%m%d")
    aid_for = {"illness": "medical", "disability": "living", "schooling": "schooling", "unemployment": "living",
               "disaster": "living", "other": "living"}
    pay: list[dict[str, Any]] = []

    def living(hh: str, months: list[int], amount: float = 500.0, channel: str = "bank_card") -> None:
        for mth in months:
            pay.append({"household_id": hh, "aid_type": "living", "amount": amount, "channel": channel,
                        "paid_on": pd.Timestamp(2025, mth, 10), "fund_source": "central"})

    def other(hh: str, kind: str, when: pd.Timestamp) -> None:
        amount = {"medical": 3000.0, "schooling": 2000.0, "employment": 800.0}[kind]
        pay.append({"household_id": hh, "aid_type": kind, "amount": amount, "channel": "bank_card", "paid_on": when,
                    "fund_source": "provincial"})

    for hh, cause, ex in zip(reg["household_id"], reg["cause"], exited):
        if ex:
            continue
        kind = aid_for[cause]
        if kind == "living":
            living(hh, list(range(1, 13)))
        else:
            other(hh, kind, pd.Timestamp(2025, 9, 5))
    ids = list(reg["household_id"])
    unex = [h for h, e in zip(ids, exited) if not e]
    exd = [h for h, e in zip(ids, exited) if e]
    living_unex = [h for h in unex if aid_for[reg.set_index("household_id").at[h, "cause"]] == "living"]
    planted: list[tuple[str, str]] = []
    idx = reg.set_index("household_id")
    def at(hh: str) -> int:
        return int(np.flatnonzero(reg["household_id"].to_numpy() == hh)[0])

    # registry problems
    a, b, c1, c2, d = unex[0], unex[1], unex[2], unex[3], unex[4]
    reg.loc[at(a), "cause"] = None
    planted.append((a, "required_missing"))
    s = reg.at[at(b), "id_card"]
    reg.loc[at(b), "id_card"] = s[:17] + ("0" if s[17] != "0" else "1")
    planted.append((b, "id_invalid"))
    reg.loc[at(c1), "id_card"] = reg.at[at(c2), "id_card"]
    reg.loc[at(c1), "birth_date"] = reg.at[at(c2), "birth_date"]
    planted += [(c1, "id_duplicate"), (c2, "id_duplicate")]
    reg.loc[at(d), "birth_date"] = reg.at[at(d), "birth_date"] + pd.Timedelta(days=366)
    planted.append((d, "birth_mismatch"))
    e, g, j = exd[0], exd[1], exd[2]
    reg.loc[at(e), "exited_on"] = reg.at[at(e), "registered_on"] - pd.Timedelta(days=100)
    planted.append((e, "exit_before_registration"))
    rv = unex[8]
    reg.loc[at(rv), "reviewed_on"] = reg.at[at(rv), "registered_on"] + pd.Timedelta(days=20)
    planted.append((rv, "registered_before_review"))
    f, h = unex[5], unex[6]
    reg.loc[at(f), "income_per_head"] = 950.0
    planted.append((f, "income_above_threshold"))
    reg.loc[at(g), "income_per_head"] = 600.0
    planted.append((g, "income_below_threshold_exited"))
    reg.loc[at(h), "listed_members"] = reg.at[at(h), "members"] + 1
    planted.append((h, "members_mismatch"))
    i_ = next(x for x in unex[7:] if idx.at[x, "cause"] == "illness")
    pay[:] = [p for p in pay if p["household_id"] != i_]
    living(i_, list(range(1, 13)))
    planted.append((i_, "cause_aid_mismatch"))
    reg.loc[at(j), "cause"] = "other"
    reg.loc[at(j), "exited_on"] = pd.Timestamp("2024-06-30")
    living(j, [3])
    planted.append((j, "living_aid_after_exit"))
    # ledger problems
    k, l_, m = [x for x in living_unex if x not in {a, b, c1, c2, d, f, h, i_}][:3]
    next(p for p in pay if p["household_id"] == k and p["paid_on"].month == 4)["amount"] = 450.0
    planted.append((k, "off_standard"))
    next(p for p in pay if p["household_id"] == l_ and p["paid_on"].month == 6)["channel"] = "cash"
    planted.append((l_, "not_bank_card"))
    pay[:] = [p for p in pay if not (p["household_id"] == m and p["paid_on"].month == 5)]
    planted.append((m, "living_aid_irregular"))
    dereg = pd.DataFrame({"household_id": [f"DR{i + 1:04d}" for i in range(30)],
                          "deregistered_on": pd.Timestamp("2024-12-31")})
    other("DR0007", "medical", pd.Timestamp(2025, 3, 3))
    planted.append(("DR0007", "paid_after_deregistration"))
    other("SZ9999", "medical", pd.Timestamp(2025, 3, 3))
    planted.append(("SZ9999", "not_in_registry"))
    ledger = pd.DataFrame(pay)
    alloc = ledger.groupby("fund_source")["amount"].sum().to_dict()
    alloc["provincial"] += 1000.0
    planted.append((None, "unreconciled"))  # type: ignore[arg-type]
    standards = pd.DataFrame({"aid_type": ["living", "medical", "schooling", "employment"], "period": "2025",
                              "min_amount": [500.0, 500.0, 1000.0, 200.0], "max_amount": [500.0, 20000.0, 3000.0, 2000.0]})
    transfers = pd.DataFrame({"fund_source": ["central", "provincial"], "arrived_on": ["2025-01-24", "2025-09-26"],
                              "transferred_on": ["2025-02-10", "2025-10-13"]})
    return {"registry": reg, "ledger": ledger, "standards": standards, "transfers": transfers, "allocations": alloc,
            "deregistered": dereg, "planted": pd.DataFrame(planted, columns=["household_id", "rule"])}
