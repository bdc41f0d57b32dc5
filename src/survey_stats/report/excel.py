"""The evaluator's workbook (openpyxl): formatting only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..indicators import IndicatorTable, ScoreResult
from .tables import indicator_frame, methods_frame, rectification_frame, scoring_frame

__all__ = ["write_excel"]

_FILL = {"meets": "C8E6C9", "fails": "FFCDD2", "inconclusive": "FFE0B2", "no reference": "ECEFF1"}
_PERCENT_COLS = ("估计值 Estimate", "置信下限 CI low", "置信上限 CI high", "参考值 Reference")
_HEADER = PatternFill("solid", fgColor="263238")


def _sheet(wb: Workbook, title: str, df: pd.DataFrame, *, percent: tuple[str, ...] = (), decimals: dict[str, str] | None = None,
           fills: list[str] | None = None) -> None:
    ws = wb.create_sheet(title[:31])
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and pd.isna(v)) else v for v in row])
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


def write_excel(
    path: str | Path,
    table: IndicatorTable,
    score: ScoreResult,
    *,
    meta: dict[str, Any] | None = None,
    validation: pd.DataFrame | None = None,
    manifests: dict[str, dict[str, Any]] | None = None,
    awareness: pd.DataFrame | None = None,
    channels: pd.DataFrame | None = None,
    tables: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the indicator workbook.

    Sheets: ``indicators`` (bilingual frozen headers, percent formats, rows coloured by
    verdict), ``scoring`` (19 items, points, score interval, grade probabilities),
    ``rectification`` (整改清单), ``awareness`` and ``channels`` when given, ``methods``,
    ``validation`` and ``samples`` (the sample manifests); one more sheet per entry of
    ``tables`` (sheet name → frame).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    wb = Workbook()
    wb.remove(wb.active)
    ind = indicator_frame(table, score)
    verdicts = ind.pop("verdict").tolist()
    ind = ind.drop(columns=["id"])
    _sheet(wb, "indicators", ind, percent=_PERCENT_COLS,
           decimals={"标准误 SE": "0.0000", "设计效应 deff": "0.00"}, fills=verdicts)
    sc = scoring_frame(score)
    _sheet(wb, "scoring", sc, decimals={"得分 Score": "0.00", "下限 Low": "0.00", "上限 High": "0.00"})
    ws = wb["scoring"]
    ws.append([])
    ws.append(["总分 Total", None, None, None, None, float(sc["分值 Points"].sum()), score.total, score.total_low,
               score.total_high, f"{score.grade}"])
    for g, p in score.grade_probabilities.items():
        ws.append([f"P({g})", None, None, None, None, None, p])
        ws.cell(ws.max_row, 7).number_format = "0.00"
    _sheet(wb, "rectification", rectification_frame(table))
    if awareness is not None:
        _sheet(wb, "awareness", awareness, percent=("estimate", "ci_low", "ci_high"), decimals={"se": "0.0000"})
    if channels is not None:
        _sheet(wb, "channels", channels, percent=("estimate", "ci_low", "ci_high"), decimals={"se": "0.0000"})
    for name, frame in (tables or {}).items():
        _sheet(wb, name[:31], frame if len(frame) else pd.DataFrame({"result": ["none"]}))
    _sheet(wb, "methods", methods_frame(meta, table, score))
    if validation is not None:
        _sheet(wb, "validation", validation if len(validation) else
               pd.DataFrame({"result": ["no problems found"]}))
    if manifests:
        rows = []
        for name, m in manifests.items():
            for st in m["strata"]:
                rows.append({"sample": name, "method": m["method"], "seed": m["seed"],
                             "frame_fingerprint": m["frame_fingerprint"], **st})
        _sheet(wb, "samples", pd.DataFrame(rows))
        wb["samples"].append([])
        wb["samples"].append(["manifests (JSON)", json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "strata"}
                                                             for k, v in manifests.items()}, ensure_ascii=False)])
    wb.save(path)
    return path
