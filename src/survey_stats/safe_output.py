"""The one way the package writes data to spreadsheets and CSV files.

Two dangers sit in every table written from data (household names, free-text answers, ids):

* **Formula injection** (OWASP "CSV Injection").  A cell whose text starts with ``=``, ``+``,
  ``-`` or ``@`` is run as a formula by Excel, WPS and LibreOffice: ``=HYPERLINK("http://…",
  "点击")`` or ``=cmd|' /C calc'!A0``.  In workbooks every cell written from data is a *string
  cell* (openpyxl ``data_type = "s"``) whatever its first character, so nothing is ever a
  formula; numbers stay numbers, dates stay dates.  In CSV files, where the reader decides,
  a text cell that starts with ``= + - @``, a tab or a carriage return is prefixed with a
  single quote ``'`` as OWASP recommends (spreadsheet programs hide the quote and show the
  text); numbers are written as they are.  :func:`survey_stats.readers.read_table` removes
  that quote again, so a file the package wrote reads back unchanged.
* **Personal data.**  Writers mask ID-card, mobile and landline numbers found in any cell
  (:func:`survey_stats.privacy.mask_frame`) unless told not to, and return a
  :class:`~survey_stats.privacy.MaskReport` saying what they masked.

Examples
--------
>>> import tempfile, os, openpyxl, pandas as pd
>>> folder = tempfile.mkdtemp()
>>> df = pd.DataFrame({"户号": ["=HYPERLINK(\\"http://x\\")", "00124"], "n": [3, -1]})
>>> _ = write_workbook(os.path.join(folder, "t.xlsx"), {"list": df})
>>> ws = openpyxl.load_workbook(os.path.join(folder, "t.xlsx"))["list"]
>>> [(c.value, c.data_type) for c in ws["A"]][1:], [c.value for c in ws["B"]][1:]
([('=HYPERLINK("http://x")', 's'), ('00124', 's')], [3, -1])
>>> _ = write_csv(df, os.path.join(folder, "t.csv"))
>>> from pathlib import Path
>>> Path(folder, "t.csv").read_text(encoding="utf-8-sig").splitlines()
['户号,n', '"\\'=HYPERLINK(""http://x"")",3', '00124,-1']
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .errors import DataError
from .privacy import MaskReport, mask_frame

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written, not with the package
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "CSV_TRIGGERS",
    "append_row",
    "csv_cell",
    "excel_cell",
    "neutralise",
    "sheet_name",
    "write_cell",
    "write_csv",
    "write_frame",
    "write_workbook",
]

#: First characters that make a spreadsheet program treat a CSV cell as a formula (OWASP).
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_MAX_TEXT = 32767
# Control characters an .xlsx file cannot hold (the same set as openpyxl's ILLEGAL_CHARACTERS_RE).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def neutralise(text: str) -> str:
    """Prefix a single quote to text that a spreadsheet would run as a formula (OWASP).

    Examples
    --------
    >>> neutralise("=1+1"), neutralise("-1+1"), neutralise("@SUM(A1)"), neutralise("张三")
    ("'=1+1", "'-1+1", "'@SUM(A1)", '张三')
    """
    return "'" + text if text.startswith(CSV_TRIGGERS) else text


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, (float, np.floating)) and math.isnan(v))


def excel_cell(v: Any) -> tuple[Any, bool]:
    """The value to store in a workbook cell, and whether it must be a string cell.

    Numbers (finite), booleans and dates are stored as such; missing values as empty cells;
    everything else as text without the control characters Excel refuses.

    Examples
    --------
    >>> excel_cell("=1+1"), excel_cell(2.5), excel_cell(float("nan")), excel_cell(float("inf"))
    (('=1+1', True), (2.5, False), (None, False), ('inf', True))
    """
    if _is_missing(v):
        return None, False
    if isinstance(v, (bool, np.bool_)):
        return bool(v), False
    if isinstance(v, (int, np.integer)):
        return int(v), False
    if isinstance(v, (float, np.floating)):
        return (float(v), False) if math.isfinite(v) else (str(float(v)), True)
    if isinstance(v, (pd.Timestamp, _dt.datetime)):
        ts = pd.Timestamp(v)
        return (ts.to_pydatetime(), False) if ts.tzinfo is None else (ts.isoformat(), True)
    if isinstance(v, _dt.date):
        return v, False
    text = _ILLEGAL.sub("", str(v))
    return text[:_EXCEL_MAX_TEXT], True


def write_cell(ws: Worksheet, row: int, column: int, value: Any) -> None:
    """Write one data value to ``ws`` at (row, column), as a string cell when it is text.

    Examples
    --------
    >>> from openpyxl import Workbook
    >>> ws = Workbook().active
    >>> write_cell(ws, 1, 1, "=1+1"); write_cell(ws, 1, 2, 2.5)
    >>> [(c.value, c.data_type) for c in ws[1]]
    [('=1+1', 's'), (2.5, 'n')]
    """
    stored, text = excel_cell(value)
    cell = ws.cell(row=row, column=column)
    cell.value = stored
    if text:
        cell.data_type = "s"  # never "f" (formula) or "e" (error), whatever the first character


def _cell(ws: Worksheet, value: Any) -> Cell:
    from openpyxl.cell.cell import Cell

    stored, text = excel_cell(value)
    cell = Cell(ws, value=stored)
    if text:
        cell.data_type = "s"
    return cell


def append_row(ws: Worksheet, values: Iterable[Any]) -> None:
    """Append one row of data values below the last row of ``ws``: the safe ``ws.append``.

    Same placement as :meth:`openpyxl.worksheet.worksheet.Worksheet.append` (an empty row
    appended before still counts), but text is always a string cell, never a formula.

    Examples
    --------
    >>> from openpyxl import Workbook
    >>> ws = Workbook().active
    >>> append_row(ws, ["户主", "人口"]); ws.append([]); append_row(ws, ["@SUM(A1)", 3])
    >>> [(c.coordinate, c.value, c.data_type) for c in ws[3]]
    [('A3', '@SUM(A1)', 's'), ('B3', 3, 'n')]
    """
    ws.append([_cell(ws, v) for v in values])


def write_frame(ws: Worksheet, data: pd.DataFrame, *, header: bool = True, start_row: int = 1) -> int:
    """Write a DataFrame (header row, then values) from ``start_row``; return the next free row.

    Examples
    --------
    >>> from openpyxl import Workbook
    >>> ws = Workbook().active
    >>> write_frame(ws, pd.DataFrame({"=a": ["-1+1"], "n": [-1]}))
    3
    >>> [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()]
    [[('=a', 's'), ('n', 's')], [('-1+1', 's'), (-1, 'n')]]
    """
    row = start_row
    if header:
        for j, c in enumerate(data.columns, start=1):
            write_cell(ws, row, j, str(c))
        row += 1
    for values in data.itertuples(index=False, name=None):
        for j, v in enumerate(values, start=1):
            write_cell(ws, row, j, v)
        row += 1
    return row


def sheet_name(name: object, taken: Sequence[str] = ()) -> str:
    """A valid, unused Excel sheet name (≤ 31 characters, no ``[]:*?/\\``).

    Examples
    --------
    >>> sheet_name("姑苏区/2026"), sheet_name("a", ["a"])
    ('姑苏区_2026', 'a (2)')
    """
    clean = "".join("_" if ch in '[]:*?/\\' else ch for ch in _ILLEGAL.sub("", str(name)))
    clean = clean.strip("'")[:31] or "sheet"
    candidate, k = clean, 2
    lowered = {t.lower() for t in taken}
    while candidate.lower() in lowered:
        suffix = f" ({k})"
        candidate, k = clean[: 31 - len(suffix)] + suffix, k + 1
    return candidate


def write_workbook(
    path: str | Path,
    sheets: Mapping[str, pd.DataFrame],
    *,
    mask: bool = True,
    personal: Literal["keep", "mask", "drop"] = "keep",
    freeze_header: bool = True,
) -> MaskReport:
    """Write DataFrames to an .xlsx workbook, one sheet each, through :func:`write_frame`.

    Parameters
    ----------
    path
        The workbook to write (folders are created).
    sheets
        Sheet name → table.  Names are made valid and unique (:func:`sheet_name`).
    mask
        Mask ID-card and phone numbers by content and by column name
        (:func:`~survey_stats.privacy.mask_frame`).
    personal
        What to do with columns named like names or addresses: ``"keep"``, ``"mask"``, ``"drop"``.
    freeze_header
        Freeze the first row and size the columns to their content.

    Returns
    -------
    MaskReport
        What was masked, over all sheets.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "list.xlsx")
    >>> write_workbook(p, {"名单": pd.DataFrame({"lxdh": ["13812345678"], "备注": ["+cmd"]})}).describe()
    "personal data: masked 1 value(s): 1 phone in 'lxdh'"
    """
    from openpyxl import Workbook

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    report = MaskReport()
    for name, df in sheets.items():
        if mask:
            df, found = mask_frame(df, personal=personal)
            report = report.merge(found)
        ws = wb.create_sheet(sheet_name(name, wb.sheetnames))
        write_frame(ws, df)
        if freeze_header:
            ws.freeze_panes = "A2"
            for j, c in enumerate(df.columns, start=1):
                width = max([len(str(c))] + [len(str(v)) for v in df.iloc[:200, j - 1]]) + 2
                ws.column_dimensions[ws.cell(1, j).column_letter].width = min(max(width * 1.3, 8), 40)
    if not wb.sheetnames:
        wb.create_sheet("sheet")
    try:
        wb.save(path)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}.") from exc
    return report


def csv_cell(v: Any) -> Any:
    """The value written to a CSV cell: numbers as they are, text neutralised (:func:`neutralise`).

    Examples
    --------
    >>> csv_cell(-1.5), csv_cell("-1.5"), csv_cell(None), csv_cell(True)
    (-1.5, "'-1.5", '', True)
    """
    if _is_missing(v):
        return ""
    if isinstance(v, (bool, np.bool_, int, np.integer)):
        return v.item() if isinstance(v, np.generic) else v
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else neutralise(str(float(v)))
    if isinstance(v, (pd.Timestamp, _dt.datetime, _dt.date)):
        return v.isoformat()
    return neutralise(str(v))


def write_csv(
    data: pd.DataFrame,
    path: str | Path,
    *,
    mask: bool = True,
    personal: Literal["keep", "mask", "drop"] = "keep",
    encoding: str = "utf-8-sig",
) -> MaskReport:
    """Write a DataFrame as CSV (UTF-8 with BOM, so Excel opens Chinese text right).

    Every text cell and header goes through :func:`neutralise`; with ``mask`` ID-card and
    phone numbers are masked first (see :func:`write_workbook` for ``personal``).  Returns what
    was masked.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "units.csv")
    >>> write_csv(pd.DataFrame({"id": ["-007"], "备注": ["call 13812345678"]}), p).total
    1
    >>> Path(p).read_text(encoding="utf-8-sig").splitlines()
    ['id,备注', "'-007,call 138****5678"]
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    report = MaskReport()
    if mask:
        data, report = mask_frame(data, personal=personal)
    try:
        with path.open("w", encoding=encoding, newline="") as fh:
            w = csv.writer(fh)
            w.writerow([neutralise(str(c)) for c in data.columns])
            for values in data.itertuples(index=False, name=None):
                w.writerow([csv_cell(v) for v in values])
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}.") from exc
    return report
