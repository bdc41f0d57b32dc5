"""问题清单 and 整改方案: one editable workbook, and the rows the written report's chapter uses.

Seed 000 §七 asks for a 整改方案 naming 整改时限、整改措施、整改要求; seed 001 第八条 asks
for a 问题整改清单.  :func:`rectification_plan` collects every problem the evaluation
found, one row each:

* indicators that **fail** their reference value (the whole confidence interval on the
  wrong side);
* **inconclusive** indicators whose estimate is on the wrong side of the reference,
  labelled 需补充核实, with the extra sample that would decide (exact sample size from
  :func:`survey_stats.sampling.decision_sample_size`, times the design effect).
  Inconclusive indicators whose estimate meets the reference are *not* problems;
* score **deductions**, with the scoring rule and the evidence;
* **document-review** problems from :func:`survey_stats.audit_registry` and
  :func:`survey_stats.audit_ledger`, one row per county and rule;
* **flagged households not visited** (a table the evaluator supplies).

Every row has a measure, a requirement, a deadline (report date + N working days on
the mainland-China calendar, ``chinesecalendar``) and a responsible unit; the workbook
writes every cell as text, never as a formula.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from scipy import stats

from ..errors import DataError
from ..indicators import IndicatorTable, ScoreResult, ScoringRules
from ..indicators.compute import IndicatorResult
from ..privacy import mask_id_card, mask_phone
from ..sampling import decision_sample_size
from .tables import MEASURES

__all__ = ["PLAN_COLUMNS", "STATUSES", "deadline_after", "extra_sample", "mask_text", "problem_side",
           "rectification_plan", "units_from_registry", "write_rectification"]

#: Columns of the plan, in order.
PLAN_COLUMNS = ["序号", "类别", "县区", "问题", "依据", "整改措施", "整改要求", "整改时限", "责任单位", "状态"]
#: Values of the 状态 column offered in the workbook's drop-down.
STATUSES = ("待整改", "待核实", "整改中", "已整改", "已销号")
_REQUIRED = ("整改措施", "整改要求", "整改时限", "责任单位")

_ID_RE = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")
_PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")


def mask_text(value: Any) -> str:
    """The text of *value* with ID-card and mobile numbers inside it masked.

    Recognised by content (18-character resident ID pattern, 11-digit mobile pattern),
    whatever column they come from.

    Examples
    --------
    >>> mask_text("户主 341302198001010011，电话 13812345678")
    '户主 3413************11，电话 138****5678'
    >>> mask_text(None)
    ''
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    s = _ID_RE.sub(lambda m: str(mask_id_card(m.group(0))), str(value))
    return _PHONE_RE.sub(lambda m: str(mask_phone(m.group(0))), s)


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


def extra_sample(r: IndicatorResult, *, power: float = 0.8, max_n: int = 20_000) -> int | None:
    """Further respondents that would give a decided verdict with probability *power*.

    For a rate: the exact size from :func:`~survey_stats.sampling.decision_sample_size`
    (the interval must land wholly on the estimate's side of the reference, assuming
    the estimate is the true rate), times the design effect, minus the respondents
    already surveyed.  For a composite: the normal approximation — the standard error
    must shrink to |estimate − reference| / (z₁₋α/₂ + z_power), and variance falls as
    1/n.  None when the estimate equals the reference or more than *max_n* respondents
    would be needed (only a full check of every household decides then).

    Examples
    --------
    >>> import dataclasses, survey_stats as ss
    >>> t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["misidentification_rate"]),
    ...                            {"registered": ss.datasets.poverty_design()})
    >>> r = dataclasses.replace(t["misidentification_rate"], reference=0.025)   # 3.4% (n = 406) against ≤ 2.5%
    >>> extra_sample(r)
    4257
    """
    if r.reference is None or r.estimate == r.reference or math.isnan(r.estimate):
        return None
    z = stats.norm.ppf((1 + r.level) / 2) + stats.norm.ppf(power)
    p, ref = r.estimate, r.reference
    if r.kind in ("rate", "administrative"):
        approx = z * z * p * (1 - p) / (p - ref) ** 2 * max(1.0, 1.0 if math.isnan(r.deff) else r.deff)
        if approx > max_n:
            return None
        side = "le" if p < ref else "ge"  # the decision the estimate points to, as a 'meets' on that side
        d = decision_sample_size(p, ref, direction=side, power=power, level=r.level,  # type: ignore[arg-type]
                                 max_n=min(max_n, int(3 * approx) + 200))
        if d.n is None:
            return None
        deff = 1.0 if math.isnan(r.deff) else max(1.0, r.deff)
        need = math.ceil((d.n_stable or d.n) * deff)
    else:
        if not r.se > 0:
            return None
        target = abs(p - ref) / z
        need = math.ceil(r.n * (r.se / target) ** 2)
        if need > max_n:
            return None
    return max(0, need - int(r.n))


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


def _indicator_rows(table: IndicatorTable, power: float,
                    decisions: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    rows = []
    lvl = f"{table.level:.0%}"
    for r in table:
        if r.reference is None or r.verdict not in ("fails", "inconclusive"):
            continue
        if r.verdict == "inconclusive" and not problem_side(r):
            continue  # the estimate meets the reference: not a problem
        sign = "≤" if r.direction == "le" else "≥"
        basis = (f"{r.name_zh}估计值{_pct(r.estimate)}（{lvl}置信区间{_pct(r.ci_low)}–{_pct(r.ci_high)}，"
                 f"n = {r.n}），参考值{sign}{_pct(r.reference)}")
        if r.verdict == "fails":
            rows.append({"类别": "指标未达标", "县区": "全市", "问题": f"{r.name_zh}未达到参考值", "依据": basis,
                         "整改措施": MEASURES.get(r.id, f"分析{r.name_zh}未达标原因，制定针对性措施"),
                         "整改要求": "逐户查明原因并建立台账，限期整改到位；整改完成后报送整改报告及佐证材料，由评估组复核",
                         "状态": "待整改", "_indicator": r.id})
            continue
        known = decisions is not None and r.id in set(decisions["id"])
        if known:  # already computed for the run (indicators.checks.additional_sample, with the FPC)
            extra = decisions.set_index("id").at[r.id, "additional"]
            extra = None if pd.isna(extra) else int(extra)
        else:
            extra = extra_sample(r, power=power)
        if extra is None:
            need = "估计值与参考值过于接近，抽样无法判定，需对分母范围内家庭逐户核实"
        else:
            need = f"需再调查约{extra}户（按{power:.0%}把握度，含设计效应）后重新估计"
        rows.append({"类别": "需补充核实", "县区": "全市", "问题": f"{r.name_zh}可能未达参考值，样本不足以判定",
                     "依据": basis + "；置信区间包含参考值", "整改措施": "扩大调查样本或逐户核实，据核实结果再行判定是否整改",
                     "整改要求": need, "状态": "待核实", "_indicator": r.id, "_extra": extra})
    return rows


def _criteria_missed(rules: ScoringRules, item_id: str, inputs: Mapping[str, Any]) -> list[str]:
    out = []
    for item in rules.items:
        if item["id"] != item_id:
            continue
        for c in item["components"]:
            if c["type"] == "checklist":
                for k in c["criteria"]:
                    v = inputs.get(f"{item_id}.{k['id']}")
                    if v is False or (isinstance(v, str) and v.strip().lower() in ("no", "n", "否", "false", "0")):
                        out.append(f"未满足：{k['text_zh']}（{k['points']:g}分）")
            elif c.get("text_zh"):
                out.append(f"评分标准：{c['text_zh']}")
    return out


def _score_rows(score: ScoreResult, rules: ScoringRules, inputs: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    for it in score.items.itertuples(index=False):
        lost = float(it.points) - float(it.score)
        if lost < 0.005:
            continue
        why = _criteria_missed(rules, str(it.id), inputs or {})
        evidence = f"；证据：{it.detail}" if it.detail else ""
        rows.append({"类别": "绩效评分扣分", "县区": "全市",
                     "问题": f"{it.name_zh}（第{it.no}项）得分{it.score:.2f}/{it.points:g}分，扣{lost:.2f}分",
                     "依据": ("；".join(why) or "评分标准见评价指标") + evidence,
                     "整改措施": f"对照“{it.name_zh}”评分标准补齐制度、台账和工作措施",
                     "整改要求": "逐条对照扣分原因整改，形成书面整改报告并附佐证材料",
                     "状态": "待整改", "_item": it.id})
    return rows


def _audit_rows(registry_audit: Any, ledger_audit: Any) -> list[dict[str, Any]]:
    rows = []
    if registry_audit is not None and len(registry_audit.problems):
        p = registry_audit.problems
        for (county, rule), g in p.groupby(["county", "rule"], sort=True):
            ids = sorted(map(str, pd.unique(g["household_id"])))
            sample_msg = g["message_zh"].iloc[0]
            rows.append({"类别": "档案审查", "县区": str(county), "问题": f"{len(ids)}户困难职工档案：{sample_msg}",
                         "依据": f"档案审查规则 {rule}（{g['category'].iloc[0]}）；户号：{'、'.join(ids[:20])}"
                                 + (f" 等{len(ids)}户" if len(ids) > 20 else ""),
                         "整改措施": "逐户补齐、更正档案资料，做到一户一档、纸质档案与电子档案一致",
                         "整改要求": "整改后重新审查上述档案，更正情况报评估组复核",
                         "状态": "待整改"})
    if ledger_audit is not None and len(ledger_audit.problems):
        p = ledger_audit.problems
        for rule, g in p.groupby("rule", sort=True):
            ids = sorted(map(str, pd.unique(g["household_id"].dropna())))
            rows.append({"类别": "资金台账审查", "县区": "全市", "问题": f"{g['message_zh'].iloc[0]}（{len(g)}笔）",
                         "依据": f"台账审查规则 {rule}" + (f"；户号：{'、'.join(ids[:20])}" if ids else "")
                                 + (f" 等{len(ids)}户" if len(ids) > 20 else ""),
                         "整改措施": "核对资金发放台账，追回或补发不合规资金，规范发放渠道与周期",
                         "整改要求": "逐笔核对并更正台账，附银行流水等佐证材料",
                         "状态": "待整改"})
    return rows


def _unvisited_rows(unvisited: pd.DataFrame | None, id_column: str, county: str) -> list[dict[str, Any]]:
    if unvisited is None or not len(unvisited):
        return []
    if id_column not in unvisited.columns:
        raise DataError(f"unvisited households have no id column {id_column!r}.")
    u = unvisited.assign(_c=unvisited[county].astype(str) if county in unvisited.columns else "全市")
    rows = []
    for c, g in u.groupby("_c", sort=True):
        g = g.sort_values(id_column, key=lambda c: c.astype(str))
        ids = [str(i) + (f"（{w}）" if isinstance(w, str) and w.strip() else "")
               for i, w in zip(g[id_column], g["reason"] if "reason" in g.columns else [None] * len(g))]
        rows.append({"类别": "问题户未入户核查", "县区": str(c),
                     "问题": f"{len(ids)}户资料不齐全或不符合逻辑的困难职工家庭未完成入户调查",
                     "依据": f"评估方案要求问题户全部纳入入户调查；户号：{'、'.join(ids[:20])}"
                             + (f" 等{len(ids)}户" if len(ids) > 20 else ""),
                     "整改措施": "配合评估组完成入户核查，无法联系的说明原因并提供佐证",
                     "整改要求": "全部完成入户核查，核查结果补充进入评估", "状态": "待核实"})
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
        ``additional``); indicators it lists are not searched again.

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
    """
    if deadline is not None:
        due = pd.Timestamp(deadline).date()
    else:
        due = deadline_after(report_date if report_date is not None else dt.date.today(), working_days)
    rows = _indicator_rows(table, power, decisions)
    if score is not None:
        rows += _score_rows(score, rules or ScoringRules.default(), inputs)
    rows += _audit_rows(registry_audit, ledger_audit)
    rows += _unvisited_rows(unvisited, id_column, county_column)
    units = dict(units or {})
    out = pd.DataFrame(rows, columns=[c for c in PLAN_COLUMNS if c not in ("序号", "整改时限", "责任单位")])
    out["整改时限"] = due.isoformat()
    out["责任单位"] = [units.get(c, default_unit if c in ("全市", "") else f"{c}总工会") for c in out["县区"]]
    out["序号"] = [str(i) for i in range(1, len(out) + 1)]
    out = out[PLAN_COLUMNS].astype(str).map(mask_text)
    if deadline is None and not _covered(due):
        out.attrs["calendar_note"] = (f"{due.year}年节假日安排尚未收录于日历数据，整改时限中该年部分按周一至周五计算，"
                                      "国务院公布节假日安排后请核对。")
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
    cell.value = mask_text(value)
    cell.data_type = "s"


def write_rectification(path: str | Path, plan: pd.DataFrame, *, title: str | None = None,
                        summary: pd.DataFrame | None = None) -> Path:
    """Write the plan as an editable workbook: sheet 问题清单及整改方案 (wrapped text,
    frozen header, drop-down 状态), and sheet 说明 (what each column means).

    Every cell is a string cell (``data_type 's'``): text starting with ``=`` stays text.

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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单及整改方案"
    _text_cell(ws, 1, 1, title or "问题清单及整改方案")
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(PLAN_COLUMNS))
    for j, col in enumerate(PLAN_COLUMNS, start=1):
        _text_cell(ws, 2, j, col)
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
        dv = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"', allow_blank=False)
        ws.add_data_validation(dv)
        col = get_column_letter(PLAN_COLUMNS.index("状态") + 1)
        dv.add(f"{col}3:{col}{len(plan) + 2}")
    notes = wb.create_sheet("说明")
    lines = [("类别", "指标未达标 / 需补充核实 / 绩效评分扣分 / 档案审查 / 资金台账审查 / 问题户未入户核查"),
             ("需补充核实", "置信区间包含参考值且估计值未达参考值：样本不足以判定，列出判定所需的补充样本量"),
             ("整改时限", "默认为报告日期后若干个工作日（按国务院公布的节假日和调休安排计算），可逐行修改"),
             ("责任单位", "县区问题为该县区总工会（或登记表中的工会单位），全市问题为市总工会，可逐行修改"),
             ("状态", "可选：" + "、".join(STATUSES))]
    if plan.attrs.get("calendar_note"):
        lines.append(("日历说明", plan.attrs["calendar_note"]))
    for i, (k, v) in enumerate(lines, start=1):
        _text_cell(notes, i, 1, k)
        _text_cell(notes, i, 2, v)
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width = 14, 90
    if summary is not None:
        s = wb.create_sheet("汇总")
        for j, col in enumerate(summary.columns, start=1):
            _text_cell(s, 1, j, col)
        for i, row in enumerate(summary.itertuples(index=False), start=2):
            for j, v in enumerate(row, start=1):
                _text_cell(s, i, j, v)
    wb.save(path)
    return path
