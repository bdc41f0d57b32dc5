"""问题清单 and 整改方案: one editable workbook, and the rows the written report's chapter uses.

Seed 000 §七 asks for a 整改方案 naming 整改时限、整改措施、整改要求; seed 001 第八条 asks
for a 问题整改清单.  :func:`rectification_plan` collects every problem the evaluation
found, one row each:

* indicators that **fail** their reference value (the whole confidence interval on the
  wrong side);
* **inconclusive** indicators whose estimate is on the wrong side of the reference,
  labelled 需补充核实, with the extra sample that would decide
  (:func:`survey_stats.indicators.checks.additional_sample`).
  Inconclusive indicators whose estimate meets the reference are *not* problems;
* score **deductions**, with the scoring rule and the evidence;
* **document-review** problems from :func:`survey_stats.audit_registry` and
  :func:`survey_stats.audit_ledger`, one row per county and rule;
* **flagged households not visited** (a table the evaluator supplies).

Every row has a measure, a requirement, a deadline (report date + N working days on
the mainland-China calendar, ``chinesecalendar``) and a responsible unit; the workbook
writes every cell as text, never as a formula.  The text is Chinese by default, English
with ``language="en"``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import DataError
from ..indicators import IndicatorTable, ScoreResult, ScoringRules
from ..indicators.checks import additional_sample
from ..indicators.compute import IndicatorResult
from ._text import COLUMNS_EN as _COLUMNS_EN
from ._text import cell_text as _text
from .tables import MEASURES

__all__ = ["PLAN_COLUMNS", "STATUSES", "deadline_after", "problem_side", "rectification_plan", "units_from_registry",
           "write_rectification"]

#: Columns of the plan, in order.
PLAN_COLUMNS = ["序号", "类别", "县区", "问题", "依据", "整改措施", "整改要求", "整改时限", "责任单位", "状态"]
#: Values of the 状态 column offered in the workbook's drop-down.
STATUSES = ("待整改", "待核实", "整改中", "已整改", "已销号")
_REQUIRED = ("整改措施", "整改要求", "整改时限", "责任单位")

#: The 状态 values in English (same order as :data:`STATUSES`).
_STATUSES_EN = ("to rectify", "to verify", "in progress", "rectified", "closed")


def _covered(day: dt.date) -> bool:
    import chinese_calendar

    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def deadline_after(start: Any, working_days: int, *, beyond: str = "weekdays") -> dt.date:
    """The date *working_days* working days after *start* on the mainland-China calendar.

    Public holidays are skipped and the make-up workdays (调休) count, as in
    :func:`survey_stats.working_days` (``chinesecalendar``).  For a year whose holidays
    the calendar does not know yet, ``beyond="weekdays"`` counts Monday to Friday (the
    plan then says so); ``beyond="fail"`` raises instead.

    Examples
    --------
    >>> deadline_after("2025-09-26", 7)     # National Day holiday, make-up days 28 Sep and 11 Oct
    datetime.date(2025, 10, 13)
    >>> deadline_after("2025-01-06", 0)
    datetime.date(2025, 1, 6)
    """
    import chinese_calendar

    if beyond not in ("weekdays", "fail"):
        raise DataError(f"beyond={beyond!r}: use 'weekdays' or 'fail'.")
    if working_days < 0:
        raise DataError(f"working_days must be 0 or more, got {working_days}.")
    day = pd.Timestamp(start).date()
    left = int(working_days)
    while left:
        day += dt.timedelta(days=1)
        try:
            left -= bool(chinese_calendar.is_workday(day))
        except NotImplementedError as exc:
            if beyond == "fail":
                raise DataError(f"the holiday calendar does not cover {day} yet ({exc}); update chinesecalendar "
                                "or pass deadline= explicitly.") from exc
            left -= day.weekday() < 5
    return day


def units_from_registry(registry: pd.DataFrame, *, county: str = "county", unit: str | None = None,
                        suffix: str = "总工会") -> dict[str, str]:
    """Responsible unit per county: the registry's *unit* column (most frequent value per
    county), or ``county + suffix`` (e.g. 萧县总工会) without one.

    Examples
    --------
    >>> reg = pd.DataFrame({"county": ["萧县", "泗县"], "union": ["萧县总工会帮扶中心", None]})
    >>> units_from_registry(reg, unit="union")
    {'泗县': '泗县总工会', '萧县': '萧县总工会帮扶中心'}
    """
    for col in (county, unit):
        if col is not None and col not in registry.columns:
            raise DataError(f"registry has no column {col!r}.")
    out: dict[str, str] = {}
    for c, g in registry.groupby(county, sort=True):
        vals = g[unit].dropna().astype(str).str.strip() if unit else pd.Series(dtype=str)
        vals = vals[vals != ""]
        out[str(c)] = str(vals.mode().iloc[0]) if len(vals) else f"{c}{suffix}"
    return out


def problem_side(r: IndicatorResult) -> bool:
    """Whether the point estimate is on the wrong side of the reference (False without one).

    Examples
    --------
    >>> import survey_stats as ss
    >>> t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]),
    ...                            {"phone": ss.datasets.poverty_design()}, na="drop")  # unexited: a census
    >>> problem_side(t["missed_exit_rate"])           # 8.2% against ≤ 3%
    True
    """
    if r.reference is None or math.isnan(r.estimate):
        return False
    return r.estimate > r.reference if r.direction == "le" else r.estimate < r.reference


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


_MEASURES_EN = {
    "misidentification_rate": "re-examine the files of wrongly registered households; apply the registration "
                              "standard strictly, with home checks and public notice",
    "omission_rate": "set up active finding by county unions, grassroots screening and self-application, and "
                     "register eligible households promptly",
    "wrong_exit_rate": "re-examine wrongly exited households and resume aid; standardise exit assessment and the "
                       "gradual-exit period",
    "missed_exit_rate": "complete the exit procedure for households that meet the exit standard; strengthen dynamic "
                        "management and regular visits",
    "pairing_coverage": "assign a paired helper to every unpaired household, with a set contact frequency",
    "method_match_rate": "match the aid method to each household's cause of hardship",
    "info_check_rate": "cross-check the economic information of households not yet checked",
    "satisfaction": "revisit dissatisfied households; improve aid methods and policy publicity",
    "beneficiary_satisfaction": "revisit aided households and address the reasons for dissatisfaction",
}

#: Fixed texts of the plan per language; ``{...}`` fields are filled from the results.
_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "city": "全市", "fails": "指标未达标", "unsure": "需补充核实", "deduction": "绩效评分扣分", "registry": "档案审查",
        "ledger": "资金台账审查", "unvisited": "问题户未入户核查",
        "basis": "{name}估计值{est}（{lvl}置信区间{low}–{high}，n = {n}），参考值{sign}{ref}",
        "fails_problem": "{name}未达到参考值", "fails_measure": "分析{name}未达标原因，制定针对性措施",
        "fails_req": "逐户查明原因并建立台账，限期整改到位；整改完成后报送整改报告及佐证材料，由评估组复核",
        "unsure_problem": "{name}可能未达参考值，样本不足以判定", "unsure_basis": "；置信区间包含参考值",
        "unsure_measure": "扩大调查样本或逐户核实，据核实结果再行判定是否整改",
        "unsure_census": "估计值与参考值过于接近，抽样无法判定，需对分母范围内家庭逐户核实",
        "unsure_req": "需再调查约{extra}户（按{power}把握度，含设计效应）后重新估计",
        "missed": "未满足：{text}（{points}分）", "rule": "评分标准：{text}", "rule_default": "评分标准见评价指标",
        "evidence": "；证据：{detail}", "sep": "；",
        "deduction_problem": "{name}（第{no}项）得分{score}/{points}分，扣{lost}分",
        "deduction_measure": "对照“{name}”评分标准补齐制度、台账和工作措施",
        "deduction_req": "逐条对照扣分原因整改，形成书面整改报告并附佐证材料",
        "ids": "；户号：{ids}", "more": " 等{k}户", "id_sep": "、",
        "registry_problem": "{k}户困难职工档案：{message}", "registry_basis": "档案审查规则 {rule}（{category}）",
        "registry_measure": "逐户补齐、更正档案资料，做到一户一档、纸质档案与电子档案一致",
        "registry_req": "整改后重新审查上述档案，更正情况报评估组复核",
        "ledger_problem": "{message}（{k}笔）", "ledger_basis": "台账审查规则 {rule}",
        "ledger_measure": "核对资金发放台账，追回或补发不合规资金，规范发放渠道与周期",
        "ledger_req": "逐笔核对并更正台账，附银行流水等佐证材料",
        "unvisited_problem": "{k}户资料不齐全或不符合逻辑的困难职工家庭未完成入户调查",
        "unvisited_basis": "评估方案要求问题户全部纳入入户调查", "reason": "（{why}）",
        "unvisited_measure": "配合评估组完成入户核查，无法联系的说明原因并提供佐证",
        "unvisited_req": "全部完成入户核查，核查结果补充进入评估",
    },
    "en": {
        "city": "city-wide", "fails": "indicator fails", "unsure": "to verify", "deduction": "score deduction",
        "registry": "file review", "ledger": "ledger review", "unvisited": "flagged household not visited",
        "basis": "{name}: estimate {est} ({lvl} CI {low}–{high}, n = {n}); reference {sign}{ref}",
        "fails_problem": "{name} does not reach the reference", "fails_measure": "analyse why {name} fails and act "
                                                                                "on the causes",
        "fails_req": "find the cause household by household and keep a register; report the rectification with "
                     "evidence by the deadline, for review by the evaluators",
        "unsure_problem": "{name} may not reach the reference; the sample cannot decide",
        "unsure_basis": "; the confidence interval contains the reference",
        "unsure_measure": "enlarge the sample or check every household, then decide whether to rectify",
        "unsure_census": "the estimate is too close to the reference for any sample to decide: check every "
                         "household in the denominator",
        "unsure_req": "survey about {extra} more households ({power} power, design effect included) and estimate "
                      "again",
        "missed": "Not met: {text_en} ({points} pt)", "rule": "Scoring rule: {text_en}",
        "rule_default": "See the scoring rules", "evidence": "; evidence: {detail}", "sep": "; ",
        "deduction_problem": "{name_en} (item {no}) scored {score}/{points}, {lost} points deducted",
        "deduction_measure": "complete the rules, registers and measures the item '{name_en}' asks for",
        "deduction_req": "rectify each reason for the deduction; send a written report with evidence",
        "ids": "; households: {ids}", "more": " and others ({k} in all)", "id_sep": ", ",
        "registry_problem": "{k} household files: {message}", "registry_basis": "file review rule {rule} ({category})",
        "registry_measure": "complete and correct the files: one file per household, paper and electronic files "
                            "consistent",
        "registry_req": "review the files again after correction and report to the evaluators",
        "ledger_problem": "{message} ({k} payments)", "ledger_basis": "ledger review rule {rule}",
        "ledger_measure": "check the payment ledger; recover or complete non-compliant payments; keep payment "
                          "channels and periods to the rules",
        "ledger_req": "check and correct every payment, with bank statements as evidence",
        "unvisited_problem": "{k} flagged households (incomplete or illogical files) were not visited",
        "unvisited_basis": "the evaluation plan visits every flagged household", "reason": " ({why})",
        "unvisited_measure": "help the evaluators finish the visits; explain and document households that cannot "
                             "be reached",
        "unvisited_req": "finish every visit and add the findings to the evaluation",
    },
}


def _id_list(ids: list[str], w: Mapping[str, str]) -> str:
    if not ids:
        return ""
    return w["ids"].format(ids=w["id_sep"].join(ids[:20])) + (w["more"].format(k=len(ids)) if len(ids) > 20 else "")


def _indicator_rows(table: IndicatorTable, power: float, decisions: pd.DataFrame | None,
                    lang: str) -> list[dict[str, Any]]:
    w, zh = _WORDS[lang], lang == "zh"
    statuses = dict(zip(STATUSES, STATUSES if zh else _STATUSES_EN))
    if decisions is None:  # the extra sample per inconclusive indicator (without the run's populations)
        decisions = additional_sample(table, power=power)
    extra_of = dict(zip(decisions["id"], decisions["additional"]))
    rows = []
    for r in table:
        if r.reference is None or r.verdict not in ("fails", "inconclusive"):
            continue
        if r.verdict == "inconclusive" and not problem_side(r):
            continue  # the estimate meets the reference: not a problem
        name = r.name_zh if zh else r.name_en
        basis = w["basis"].format(name=name, est=_pct(r.estimate), lvl=f"{table.level:.0%}", low=_pct(r.ci_low),
                                  high=_pct(r.ci_high), n=r.n, sign="≤" if r.direction == "le" else "≥",
                                  ref=_pct(r.reference))
        if r.verdict == "fails":
            measure = (MEASURES if zh else _MEASURES_EN).get(r.id, w["fails_measure"].format(name=name))
            rows.append({"类别": w["fails"], "县区": w["city"], "问题": w["fails_problem"].format(name=name),
                         "依据": basis, "整改措施": measure, "整改要求": w["fails_req"], "状态": statuses["待整改"],
                         "_indicator": r.id})
            continue
        extra = extra_of.get(r.id)
        extra = None if extra is None or pd.isna(extra) else int(extra)
        need = w["unsure_census"] if extra is None else w["unsure_req"].format(extra=extra, power=f"{power:.0%}")
        rows.append({"类别": w["unsure"], "县区": w["city"], "问题": w["unsure_problem"].format(name=name),
                     "依据": basis + w["unsure_basis"], "整改措施": w["unsure_measure"], "整改要求": need,
                     "状态": statuses["待核实"], "_indicator": r.id, "_extra": extra})
    return rows


def _criteria_missed(rules: ScoringRules, item_id: str, inputs: Mapping[str, Any], w: Mapping[str, str]) -> list[str]:
    out = []
    for item in rules.items:
        if item["id"] != item_id:
            continue
        for c in item["components"]:
            if c["type"] == "checklist":
                for k in c["criteria"]:
                    v = inputs.get(f"{item_id}.{k['id']}")
                    if v is False or (isinstance(v, str) and v.strip().lower() in ("no", "n", "否", "false", "0")):
                        out.append(w["missed"].format(text=k["text_zh"], text_en=k.get("text_en") or k["text_zh"],
                                                      points=f"{k['points']:g}"))
            elif c.get("text_zh"):
                out.append(w["rule"].format(text=c["text_zh"], text_en=c.get("text_en") or c["text_zh"]))
    return out


def _score_rows(score: ScoreResult, rules: ScoringRules, inputs: Mapping[str, Any] | None,
                lang: str) -> list[dict[str, Any]]:
    w = _WORDS[lang]
    rows = []
    for it in score.items.itertuples(index=False):
        lost = float(it.points) - float(it.score)
        if lost < 0.005:
            continue
        why = _criteria_missed(rules, str(it.id), inputs or {}, w)
        evidence = w["evidence"].format(detail=it.detail) if it.detail else ""
        names = {"name": it.name_zh, "name_en": it.name_en}
        rows.append({"类别": w["deduction"], "县区": w["city"],
                     "问题": w["deduction_problem"].format(**names, no=it.no, score=f"{it.score:.2f}",
                                                         points=f"{it.points:g}", lost=f"{lost:.2f}"),
                     "依据": (w["sep"].join(why) or w["rule_default"]) + evidence,
                     "整改措施": w["deduction_measure"].format(**names), "整改要求": w["deduction_req"],
                     "状态": STATUSES[0] if lang == "zh" else _STATUSES_EN[0], "_item": it.id})
    return rows


def _audit_rows(registry_audit: Any, ledger_audit: Any, lang: str) -> list[dict[str, Any]]:
    w = _WORDS[lang]
    status = STATUSES[0] if lang == "zh" else _STATUSES_EN[0]
    message = "message_zh" if lang == "zh" else "message_en"
    rows = []
    if registry_audit is not None and len(registry_audit.problems):
        p = registry_audit.problems
        msg = message if message in p.columns else "message_zh"
        for (county, rule), g in p.groupby(["county", "rule"], sort=True):
            ids = sorted(map(str, pd.unique(g["household_id"])))
            rows.append({"类别": w["registry"], "县区": str(county),
                         "问题": w["registry_problem"].format(k=len(ids), message=g[msg].iloc[0]),
                         "依据": w["registry_basis"].format(rule=rule, category=g["category"].iloc[0])
                                 + _id_list(ids, w),
                         "整改措施": w["registry_measure"], "整改要求": w["registry_req"], "状态": status})
    if ledger_audit is not None and len(ledger_audit.problems):
        p = ledger_audit.problems
        msg = message if message in p.columns else "message_zh"
        for rule, g in p.groupby("rule", sort=True):
            ids = sorted(map(str, pd.unique(g["household_id"].dropna())))
            rows.append({"类别": w["ledger"], "县区": w["city"],
                         "问题": w["ledger_problem"].format(message=g[msg].iloc[0], k=len(g)),
                         "依据": w["ledger_basis"].format(rule=rule) + _id_list(ids, w),
                         "整改措施": w["ledger_measure"], "整改要求": w["ledger_req"], "状态": status})
    return rows


def _unvisited_rows(unvisited: pd.DataFrame | None, id_column: str, county: str, lang: str) -> list[dict[str, Any]]:
    if unvisited is None or not len(unvisited):
        return []
    if id_column not in unvisited.columns:
        raise DataError(f"unvisited households have no id column {id_column!r}.")
    w = _WORDS[lang]
    u = unvisited.assign(_c=unvisited[county].astype(str) if county in unvisited.columns else w["city"])
    rows = []
    for c, g in u.groupby("_c", sort=True):
        g = g.sort_values(id_column, key=lambda c: c.astype(str))
        ids = [str(i) + (w["reason"].format(why=why) if isinstance(why, str) and why.strip() else "")
               for i, why in zip(g[id_column], g["reason"] if "reason" in g.columns else [None] * len(g))]
        rows.append({"类别": w["unvisited"], "县区": str(c), "问题": w["unvisited_problem"].format(k=len(ids)),
                     "依据": w["unvisited_basis"] + _id_list(ids, w), "整改措施": w["unvisited_measure"],
                     "整改要求": w["unvisited_req"], "状态": STATUSES[1] if lang == "zh" else _STATUSES_EN[1]})
    return rows


def rectification_plan(
    table: IndicatorTable,
    score: ScoreResult | None = None,
    *,
    rules: ScoringRules | None = None,
    inputs: Mapping[str, Any] | None = None,
    registry_audit: Any = None,
    ledger_audit: Any = None,
    unvisited: pd.DataFrame | None = None,
    id_column: str = "household_id",
    county_column: str = "county",
    report_date: Any = None,
    working_days: int = 30,
    deadline: Any = None,
    units: Mapping[str, str] | None = None,
    default_unit: str = "市总工会",
    power: float = 0.8,
    decisions: pd.DataFrame | None = None,
    language: str = "zh",
) -> pd.DataFrame:
    """The problem list and rectification plan (问题清单/整改方案), one row per problem.

    Parameters
    ----------
    table : IndicatorTable
    score : ScoreResult, optional
        Items that lost points become rows (with the rule text and the evidence).
    rules, inputs : optional
        Scoring rules (default: the shipped ones) and the checklist answers, to name
        the criteria that were not met.
    registry_audit, ledger_audit : RegistryAudit, LedgerAudit, optional
        Document-review results; one row per county and rule (registry) or rule (ledger).
    unvisited : DataFrame, optional
        Flagged households that were not visited (id column, optional county and reason
        columns, e.g. :meth:`Sample.unverified() <survey_stats.sampling.Sample.unverified>`).
    report_date : date-like, optional
        Default today.  The deadline is *working_days* working days later.
    deadline : date-like, optional
        A fixed deadline for every row instead.
    units : mapping county → unit, optional
        Responsible unit of county rows (see :func:`units_from_registry`; default
        ``county + "总工会"``); city-wide rows get *default_unit*.
    power : float
        Power for the extra sample of inconclusive indicators.
    decisions : DataFrame, optional
        Extra sample per inconclusive indicator already computed
        (:func:`~survey_stats.indicators.checks.additional_sample`, columns ``id`` and
        ``additional``); default: computed from *table* with *power* (without
        population sizes, so without the finite-population correction).
    language : {"zh", "en"}
        Language of the text (类别, 问题, 依据, 整改措施, 整改要求, 状态); the column
        names stay the keys of :data:`PLAN_COLUMNS`.

    Returns
    -------
    DataFrame
        Columns :data:`PLAN_COLUMNS`; every 整改措施/整改要求/整改时限/责任单位 cell
        filled.  Each row's text has ID-card and phone numbers masked.

    Examples
    --------
    >>> import survey_stats as ss
    >>> t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]),
    ...                            {"phone": ss.datasets.poverty_design()}, na="drop")  # unexited: a census
    >>> plan = rectification_plan(t, report_date="2026-01-05", working_days=20)
    >>> plan[["类别", "问题", "整改时限", "责任单位"]].values.tolist()
    [['指标未达标', '漏退率未达到参考值', '2026-02-02', '市总工会']]
    >>> rectification_plan(t, report_date="2026-01-05", language="en", default_unit="City union")[
    ...     ["类别", "问题", "状态"]].values.tolist()
    [['indicator fails', 'Missed-exit rate does not reach the reference', 'to rectify']]
    """
    if language not in _WORDS:
        raise DataError(f"language={language!r}: use 'zh' or 'en'.")
    if deadline is not None:
        due = pd.Timestamp(deadline).date()
    else:
        due = deadline_after(report_date if report_date is not None else dt.date.today(), working_days)
    rows = _indicator_rows(table, power, decisions, language)
    if score is not None:
        rows += _score_rows(score, rules or ScoringRules.default(), inputs, language)
    rows += _audit_rows(registry_audit, ledger_audit, language)
    rows += _unvisited_rows(unvisited, id_column, county_column, language)
    units = dict(units or {})
    out = pd.DataFrame(rows, columns=[c for c in PLAN_COLUMNS if c not in ("序号", "整改时限", "责任单位")])
    out["整改时限"] = due.isoformat()
    city = _WORDS[language]["city"]
    out["责任单位"] = [units.get(c, default_unit if c in (city, "") else f"{c}总工会") for c in out["县区"]]
    out["序号"] = [str(i) for i in range(1, len(out) + 1)]
    out = out[PLAN_COLUMNS].astype(str).map(_text)
    if deadline is None and not _covered(due):
        out.attrs["calendar_note"] = (f"{due.year}年节假日安排尚未收录于日历数据，整改时限中该年部分按周一至周五计算，"
                                      "国务院公布节假日安排后请核对。" if language == "zh" else
                                      f"The holiday calendar does not cover {due.year} yet: deadlines in that year "
                                      "count Monday to Friday; check them once the State Council publishes the "
                                      "holidays.")
    out.attrs["language"] = language
    for col in _REQUIRED:
        if (out[col].str.strip() == "").any():
            raise DataError(f"rectification plan has an empty {col} cell; pass units=/default_unit=/deadline=.")
    return out.reset_index(drop=True)


_HEADER = PatternFill("solid", fgColor="263238")
_WIDTHS = {"序号": 6, "类别": 14, "县区": 9, "问题": 36, "依据": 48, "整改措施": 36, "整改要求": 36, "整改时限": 12,
           "责任单位": 16, "状态": 9}


def _text_cell(ws: Any, row: int, col: int, value: Any) -> None:
    """Write *value* as a plain string cell: never a formula, whatever it starts with."""
    cell = ws.cell(row=row, column=col)
    cell.value = _text(value)
    cell.data_type = "s"


def write_rectification(path: str | Path, plan: pd.DataFrame, *, title: str | None = None,
                        summary: pd.DataFrame | None = None, language: str | None = None) -> Path:
    """Write the plan as an editable workbook: sheet 问题清单及整改方案 (wrapped text,
    frozen header, drop-down 状态), and sheet 说明 (what each column means).

    Every cell is a string cell (``data_type 's'``): text starting with ``=`` stays text.
    *language* (default: the plan's, see :func:`rectification_plan`) sets the headers,
    the 状态 drop-down and the notes; the sheet names stay Chinese.

    Examples
    --------
    >>> import tempfile, openpyxl
    >>> plan = pd.DataFrame([["1", "指标未达标", "全市", "=1+1", "依据", "措施", "要求", "2026-02-02", "市总工会", "待整改"]],
    ...                     columns=PLAN_COLUMNS)
    >>> p = write_rectification(tempfile.mkdtemp() + "/plan.xlsx", plan)
    >>> c = openpyxl.load_workbook(p)["问题清单及整改方案"]["D3"]
    >>> c.value, c.data_type
    ('=1+1', 's')
    """
    missing = [c for c in PLAN_COLUMNS if c not in plan.columns]
    if missing:
        raise DataError(f"plan lacks column(s) {', '.join(missing)}; build it with rectification_plan().")
    zh = (language or plan.attrs.get("language", "zh")) == "zh"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单及整改方案"
    _text_cell(ws, 1, 1, title or ("问题清单及整改方案" if zh else "Problems and rectification plan"))
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(PLAN_COLUMNS))
    for j, col in enumerate(PLAN_COLUMNS, start=1):
        _text_cell(ws, 2, j, col if zh else _COLUMNS_EN[col])
        c = ws.cell(2, j)
        c.font, c.fill = Font(bold=True, color="FFFFFF"), _HEADER
        c.alignment = Alignment(horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(j)].width = _WIDTHS.get(col, 14)
    for i, row in enumerate(plan[PLAN_COLUMNS].itertuples(index=False), start=3):
        for j, v in enumerate(row, start=1):
            _text_cell(ws, i, j, v)
            ws.cell(i, j).alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A3"
    if len(plan):
        dv = DataValidation(type="list", formula1='"' + ",".join(STATUSES if zh else _STATUSES_EN) + '"',
                            allow_blank=False)
        ws.add_data_validation(dv)
        col = get_column_letter(PLAN_COLUMNS.index("状态") + 1)
        dv.add(f"{col}3:{col}{len(plan) + 2}")
    _notes_sheet(wb.create_sheet("说明"), plan, zh)
    if summary is not None:
        s = wb.create_sheet("汇总")
        for j, col in enumerate(summary.columns, start=1):
            _text_cell(s, 1, j, col)
        for i, row in enumerate(summary.itertuples(index=False), start=2):
            for j, v in enumerate(row, start=1):
                _text_cell(s, i, j, v)
    wb.save(path)
    return path


def _notes_sheet(notes: Any, plan: pd.DataFrame, zh: bool) -> None:
    w = _WORDS["zh" if zh else "en"]
    cats = " / ".join(w[k] for k in ("fails", "unsure", "deduction", "registry", "ledger", "unvisited"))
    lines = [("类别", cats),
             ("需补充核实", "置信区间包含参考值且估计值未达参考值：样本不足以判定，列出判定所需的补充样本量"),
             ("整改时限", "默认为报告日期后若干个工作日（按国务院公布的节假日和调休安排计算），可逐行修改"),
             ("责任单位", "县区问题为该县区总工会（或登记表中的工会单位），全市问题为市总工会，可逐行修改"),
             ("状态", "可选：" + "、".join(STATUSES))] if zh else [
             ("Category", cats),
             ("to verify", "the interval contains the reference and the estimate misses it: the sample cannot "
                           "decide; the extra sample that would decide is given"),
             ("Deadline", "by default the report date plus N working days on the official holiday calendar; "
                          "edit per row"),
             ("Responsible unit", "the county union for county problems (or the registry's unit), the city union "
                                  "for city-wide ones; edit per row"),
             ("Status", "one of: " + ", ".join(_STATUSES_EN))]
    if plan.attrs.get("calendar_note"):
        lines.append(("日历说明" if zh else "Calendar", plan.attrs["calendar_note"]))
    for i, (k, v) in enumerate(lines, start=1):
        _text_cell(notes, i, 1, k)
        _text_cell(notes, i, 2, v)
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width = 16, 90
