"""The evaluator's workbook (openpyxl): formatting only.

Every value goes in through :func:`survey_stats.safe_output.append_row`, so text from data is
always a string cell and never a formula.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..indicators import IndicatorTable, ScoreResult
from ..privacy import mask_frame
from ..safe_output import append_row
from .tables import indicator_frame, localise_headers, methods_frame, rectification_frame, scoring_frame

__all__ = ["write_excel"]

_FILL = {"meets": "C8E6C9", "fails": "FFCDD2", "inconclusive": "FFE0B2", "no reference": "ECEFF1"}
_PERCENT_COLS = ("估计值 Estimate", "置信下限 CI low", "置信上限 CI high", "参考值 Reference", "估计值", "置信下限", "置信上限",
                 "参考值")
_DECIMALS = {"标准误（百分点） SE (pp)": "0.00", "标准误（百分点）": "0.00", "设计效应 deff": "0.00", "设计效应": "0.00",
             "得分 Score": "0.00", "下限 Low": "0.00", "上限 High": "0.00", "得分": "0.00", "下限": "0.00", "上限": "0.00"}
_HEADER = PatternFill("solid", fgColor="263238")


def _sheet(wb: Workbook, title: str, df: pd.DataFrame, *, percent: tuple[str, ...] = (), decimals: dict[str, str] | None = None,
           fills: list[str] | None = None) -> None:
    ws = wb.create_sheet(title[:31])
    append_row(ws, list(df.columns))
    for row in df.itertuples(index=False):
        append_row(ws, row)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.freeze_panes = "B2"
    decimals = decimals or {}
    for j, col in enumerate(df.columns, start=1):
        letter = get_column_letter(j)
        fmt = "0.0%" if col in percent else decimals.get(col)
        if fmt:
            for i in range(2, len(df) + 2):
                ws[f"{letter}{i}"].number_format = fmt
        width = max([len(str(col))] + [len(str(v)) for v in df[col].head(100)]) if len(df) else len(str(col))
        ws.column_dimensions[letter].width = min(max(width * 1.15 + 2, 9), 60)
    if fills:
        for i, key in enumerate(fills, start=2):
            fill = PatternFill("solid", fgColor=_FILL.get(key, "FFFFFF"))
            for cell in ws[i]:
                cell.fill = fill
    ws.row_dimensions[1].height = 32


def _pp(df: pd.DataFrame) -> pd.DataFrame:
    """Standard errors of percentages in percentage points."""
    return df.assign(se=df["se"] * 100) if "se" in df.columns else df


def write_excel(
    path: str | Path,
    table: IndicatorTable,
    score: ScoreResult | None,
    *,
    meta: dict[str, Any] | None = None,
    validation: pd.DataFrame | None = None,
    manifests: dict[str, dict[str, Any]] | None = None,
    awareness: pd.DataFrame | None = None,
    channels: pd.DataFrame | None = None,
    plan: pd.DataFrame | None = None,
    headers: str = "bilingual",
    response_rates: pd.DataFrame | None = None,
    tables: dict[str, pd.DataFrame] | None = None,
    decisions: pd.DataFrame | None = None,
    populations: dict[str, int] | None = None,
) -> Path:
    """Write the indicator workbook.

    Sheets: ``indicators`` (frozen headers, percent formats, SEs in percentage points,
    rows coloured by verdict), ``scoring`` (19 items, points, score interval, grade
    probabilities, scores to 2 decimals), ``rectification`` (问题清单及整改方案: *plan*,
    default :func:`~survey_stats.report.rectification_plan`), ``awareness`` and
    ``channels`` when given, one more sheet per entry of *tables* (sheet name → frame),
    ``response_rates`` when given (AAPOR RR1 per sample, stratum and group), ``methods``
    (one statement per row), ``validation`` and ``samples`` (the sample manifests, one
    stratum per row).  Without *score* (an indicator-only report) the ``scoring`` sheet
    says that no score was computed.  The ``indicators`` sheet shows, for each
    inconclusive indicator, its leaning and the additional households a verdict needs
    (*decisions* from :func:`~survey_stats.indicators.checks.additional_sample`, or
    computed with *populations* for the FPC; see
    :func:`~survey_stats.report.indicator_frame`).  *headers* is ``"bilingual"`` (中文 English) or
    ``"zh"`` (Chinese only) on every sheet.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    wb = Workbook()
    wb.remove(wb.active)
    ind = indicator_frame(table, score, decisions=decisions, populations=populations)
    verdicts = ind.pop("verdict").tolist()
    ind = localise_headers(ind.drop(columns=["id"]), headers)
    _sheet(wb, "indicators", ind, percent=_PERCENT_COLS, decimals=_DECIMALS, fills=verdicts)
    if score is None:
        _sheet(wb, "scoring", pd.DataFrame({"评分 Score": ["未提供评分输入，本报告仅含指标结果 "
                                                          "no scoring inputs: indicator-only report"]}))
    else:
        sc = localise_headers(scoring_frame(score), headers)
        _sheet(wb, "scoring", sc, decimals=_DECIMALS)
        ws = wb["scoring"]
        ws.append([])
        col = {str(c).split(" ")[0]: j for j, c in enumerate(sc.columns)}  # 分值, 得分, 下限, 上限, 依据 → position
        total = [None] * len(sc.columns)
        total[0] = "总分 Total" if headers == "bilingual" else "总分"
        for key, v in (("分值", float(sc.iloc[:, col["分值"]].sum())), ("得分", score.total), ("下限", score.total_low),
                       ("上限", score.total_high), ("依据", score.grade)):
            total[col[key]] = v
        append_row(ws, total)
        for key in ("分值", "得分", "下限", "上限"):
            ws.cell(ws.max_row, col[key] + 1).number_format = "0.00"
        for g, p in score.grade_probabilities.items():
            row = [None] * len(sc.columns)
            row[0], row[col["得分"]] = f"P({g})", p
            append_row(ws, row)
            ws.cell(ws.max_row, col["得分"] + 1).number_format = "0.00"
    _sheet(wb, "rectification", plan if plan is not None else rectification_frame(table, score))
    if awareness is not None:
        _sheet(wb, "awareness", localise_headers(_pp(awareness), headers), percent=_PERCENT_COLS, decimals=_DECIMALS)
    if channels is not None:
        _sheet(wb, "channels", localise_headers(_pp(channels), headers), percent=_PERCENT_COLS, decimals=_DECIMALS)
    for name, frame in (tables or {}).items():
        if not len(frame):
            frame = pd.DataFrame({"result": ["无 none"]})
        rates = {"estimate", "se"} <= set(frame.columns)  # indicator rows (e.g. by county): percentages, SE in pp
        _sheet(wb, name[:31], localise_headers(_pp(frame) if rates else frame, headers),
               percent=_PERCENT_COLS if rates else (), decimals=_DECIMALS if rates else None)
    if response_rates is not None:
        _sheet(wb, "response_rates", localise_headers(response_rates, headers),
               percent=("应答率（RR1） Response rate", "应答率（RR1）"))
    _sheet(wb, "methods", localise_headers(methods_frame(meta, table, score, manifests), headers))
    if validation is not None:
        validation = mask_frame(validation, personal="mask")[0]  # ID/phone numbers in answers or messages
        _sheet(wb, "validation", localise_headers(validation if len(validation) else
                                                  pd.DataFrame({"result": ["未发现问题 no problems found"]}), headers))
    if manifests:
        rows = []
        for name, m in manifests.items():
            for st in m["strata"]:
                rows.append({"sample": name, "method": m["method"], "seed": m["seed"],
                             "frame_fingerprint": m["frame_fingerprint"], **st})
        _sheet(wb, "samples", localise_headers(pd.DataFrame(rows), headers))
    wb.save(path)
    return path
