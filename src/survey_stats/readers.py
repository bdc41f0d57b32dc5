"""Read tables from files written by others: CSV in the encodings Chinese Excel/WPS write, and Excel.

This is the one door through which registries, unit lists and exports enter the package
(base layer: it imports only :mod:`survey_stats.errors`).  What it guarantees:

* **Encodings.**  A byte-order mark decides first (UTF-8, UTF-16); otherwise strict UTF-8, then
  strict GB18030 (a superset of GBK and GB2312, the default "CSV" of Chinese Excel and WPS), then
  the best guess of ``charset-normalizer``.  The encoding used is recorded in
  ``table.attrs["encoding"]`` so callers can say which one they read.
* **Separators.**  ``,``, ``;`` (KoboToolbox's default CSV export), tab or ``|``, sniffed from the
  header line (separators inside quotes do not count).
* **Identifiers stay text.**  Every cell is read as text first.  A column becomes numeric only
  when every non-blank value is a plain decimal number *and* nothing marks it as an identifier:
  it is not named in ``text_columns`` and no value has a leading zero (``00123``), 12 or more
  digits (ID-card, phone and account numbers, which float64 cannot hold exactly past 15–16
  digits), the shape of a mainland mobile number (``1[3-9]`` and 9 digits) or of an ID-card number (17 digits and a check character).  Excel cells that
  hold an identifier typed as a number are turned back into their integer text; one that already
  lost digits (16 or more digits stored as a number) is refused.
* **Neutralised formulas come back.**  A CSV text cell that starts with ``'`` followed by
  ``= + - @``, a tab or a carriage return is read without the quote: that is how
  :mod:`survey_stats.safe_output` (and Excel's own "text" prefix) protects such cells, so a
  file the package wrote reads back unchanged.
* **Typed errors.**  A missing, empty, undecodable or corrupt file, a ragged row, a column
  without a header that holds data, or two columns with the same header raise
  :class:`~survey_stats.errors.DataError` naming the file and the columns.  Columns with neither
  a header nor data (a trailing separator) are removed and listed in
  ``table.attrs["dropped_columns"]``; rows with no value at all (blank lines, empty worksheet
  rows) are removed and counted in ``table.attrs["blank_rows"]`` (empty rows above the header
  are skipped); nothing else is ever dropped.  :func:`file_rows` gives each row's number in
  the file, for messages.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = ["decode_text", "file_rows", "read_table", "sniff_encoding", "sniff_separator"]

_SEPARATORS = (",", ";", "\t", "|")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_IDENTIFIER = re.compile(r"^(?:0\d+|1[3-9]\d{9}|\d{12,}|\d{17}[\dXx])$")
_BOOL = {"true": True, "false": False}
_EXCEL = (".xlsx", ".xlsm", ".xls")
_QUOTED_TRIGGER = re.compile(r"^'[=+\-@\t\r]")


def decode_text(raw: bytes, *, source: str = "input") -> tuple[str, str]:
    """Decode the bytes of a text file; return ``(text, encoding)``.

    Order: byte-order mark, strict UTF-8, strict GB18030, then ``charset-normalizer``'s best guess.

    Examples
    --------
    >>> decode_text("户号,县区\\n001,姑苏区\\n".encode("gbk"))
    ('户号,县区\\n001,姑苏区\\n', 'gb18030')
    >>> decode_text(codecs.BOM_UTF8 + "a,b".encode())[1]
    'utf-8-sig'
    """
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise DataError(f"{source}: starts with a {enc} byte-order mark but is not valid {enc} "
                                f"(byte {exc.start}).") from exc
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise DataError(f"{source}: cannot tell the text encoding (not UTF-8, GBK/GB18030 or another known "
                        "encoding); save it from Excel/WPS as 'CSV UTF-8' and try again.")
    return str(best), str(best.encoding)


def sniff_separator(header_line: str) -> str:
    """The separator of a CSV header line: the most frequent of ``, ; tab |`` outside quotes.

    Examples
    --------
    >>> sniff_separator('"start";"end";"q1"'), sniff_separator("a,b;c,d"), sniff_separator("one")
    (';', ',', ',')
    """
    counts = dict.fromkeys(_SEPARATORS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_SEPARATORS, key=lambda s: counts[s])  # ties: first in _SEPARATORS, so "," wins
    return best if counts[best] else ","


def sniff_encoding(path: str | Path) -> str:
    """The encoding :func:`read_table` would use for *path* (``"xlsx"``/``"xls"`` for workbooks).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "r.csv")
    >>> with open(p, "w", encoding="utf-8-sig") as fh:
    ...     _ = fh.write("户号\\n00123\\n")
    >>> sniff_encoding(p)
    'utf-8-sig'
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: No such file or directory.")
    if p.suffix.lower() in _EXCEL:
        return p.suffix.lower().lstrip(".")
    return decode_text(_read_bytes(p), source=p.name)[1]


def _read_bytes(p: Path) -> bytes:
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataError(f"{p.name}: cannot read the file ({exc.strerror or exc}).") from exc
    if not data.strip():
        raise DataError(f"{p.name}: the file is empty.")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(f"{p.name}: this is an Excel workbook, not a text (CSV) file; give it the .xlsx or "
                        ".xls extension, or save it from Excel/WPS as CSV.")
    return data


def read_table(
    path: str | Path,
    *,
    text_columns: Iterable[str] = (),
    all_text: bool = False,
    sheet: str | int = 0,
    sep: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or Excel file with identifiers kept as text.

    Parameters
    ----------
    path
        A ``.csv`` (or ``.txt``/``.tsv``) file in UTF-8 (with or without BOM), GBK/GB18030 or
        UTF-16, or an Excel workbook (``.xlsx``, ``.xlsm``, ``.xls``).
    text_columns
        Columns always kept as text (household ids, ID-card numbers, phones).  Columns that look
        like identifiers by content are kept as text too, named here or not.
    all_text
        Keep every column as text (exports are coded later against their questionnaire).
    sheet
        The Excel sheet, by name or position.
    sep
        The CSV separator; sniffed from the header line when not given.

    Returns
    -------
    DataFrame
        Blank cells are missing.  ``attrs`` holds ``source``, ``encoding`` (``"xlsx"`` for
        workbooks), ``separator``, ``dropped_columns``, ``header_row`` (the first non-blank row,
        1-based), ``blank_rows`` and ``blank_row_numbers`` (see :func:`file_rows`).

    Raises
    ------
    DataError
        Missing, empty, undecodable or corrupt file; ragged rows; duplicate or missing headers;
        an identifier that Excel stored as a number and already rounded.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> p = os.path.join(folder, "registry.csv")
    >>> with open(p, "w", encoding="gbk") as fh:
    ...     _ = fh.write("户号,身份证号,人口\\n00123,11010519491231002X,3\\n00124,110105194912310037,2\\n")
    >>> t = read_table(p)
    >>> t["户号"].tolist(), t["人口"].tolist(), t.attrs["encoding"]
    (['00123', '00124'], [3, 2], 'gb18030')
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: No such file or directory.")
    if p.suffix.lower() in _EXCEL:
        raw, encoding, separator = _read_excel_cells(p, sheet), p.suffix.lower().lstrip("."), None
    else:
        text, encoding = decode_text(_read_bytes(p), source=p.name)
        separator = sep or sniff_separator(text.lstrip("\ufeff").split("\n", 1)[0])
        raw = _read_csv_cells(text, separator, p.name)
    table, dropped, header_row, blank_rows = _with_header(raw, p.name)
    keep_text = set(map(str, text_columns))
    missing = keep_text - set(table.columns)
    if missing:
        raise DataError(f"{p.name}: no column {', '.join(map(repr, sorted(missing)))}; "
                        f"columns are {', '.join(map(repr, table.columns[:20]))}.")
    out = pd.DataFrame({c: _column(table[c], text=all_text or c in keep_text, source=f"{p.name}, column {c!r}")
                        for c in table.columns}, index=pd.RangeIndex(len(table)))
    out.attrs.update(source=str(p), encoding=encoding, separator=separator, dropped_columns=dropped,
                     header_row=header_row, blank_rows=len(blank_rows), blank_row_numbers=blank_rows)
    return out


def _read_csv_cells(text: str, sep: str, name: str) -> pd.DataFrame:
    try:
        raw = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), sep=sep, header=None, dtype=object,
                          keep_default_na=False, na_values=[], skip_blank_lines=False)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{name}: the file holds no table.") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{name}: not a regular table with separator {sep!r} ({exc}).") from exc
    return _map_cells(raw, _unquote)


def _map_cells(df: pd.DataFrame, fn: Any) -> pd.DataFrame:
    """Cell-wise map (``DataFrame.map`` since pandas 2.1, ``applymap`` before)."""
    return df.map(fn) if hasattr(df, "map") else df.applymap(fn)


def _unquote(v: object) -> object:
    """``'=x`` → ``=x``: undo the quote that protects a CSV cell from being run as a formula."""
    return v[1:] if isinstance(v, str) and _QUOTED_TRIGGER.match(v) else v


def _read_excel_cells(p: Path, sheet: str | int) -> pd.DataFrame:
    if p.suffix.lower() == ".xls":
        return _read_xls_cells(p, sheet)
    try:
        return pd.read_excel(p, sheet_name=sheet, header=None, dtype=object, engine="openpyxl")
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise DataError(f"{p.name}: cannot read it as an Excel workbook (sheet {sheet!r}): "
                        f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # openpyxl raises its own classes on corrupt files
        raise DataError(f"{p.name}: the workbook is damaged or not Excel ({type(exc).__name__}).") from exc


def _read_xls_cells(p: Path, sheet: str | int) -> pd.DataFrame:
    """Old-format (BIFF) workbooks through ``xlrd`` directly: numbers, text, dates, booleans."""
    try:
        import xlrd
    except ImportError as exc:
        raise DataError(f"{p.name}: reading old .xls workbooks needs the xlrd package "
                        "(pip install 'survey-stats[xls]'), or save the file as .xlsx.") from exc
    try:
        book = xlrd.open_workbook(str(p))
        ws = book.sheet_by_name(sheet) if isinstance(sheet, str) else book.sheet_by_index(sheet)
        rows = [[_xls_value(ws.cell(i, j), book.datemode) for j in range(ws.ncols)] for i in range(ws.nrows)]
    except (xlrd.XLRDError, IndexError, OSError, ValueError, AssertionError, KeyError) as exc:
        raise DataError(f"{p.name}: cannot read it as an .xls workbook (sheet {sheet!r}): "
                        f"{type(exc).__name__}: {exc}") from exc
    return pd.DataFrame(rows, dtype=object)


def _xls_value(cell: Any, datemode: int) -> object:
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return np.nan
    if cell.ctype == xlrd.XL_CELL_DATE:
        return pd.Timestamp(xlrd.xldate_as_datetime(cell.value, datemode))
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return int(cell.value) if float(cell.value).is_integer() and abs(cell.value) < 2**53 else cell.value
    return cell.value


def _with_header(raw: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[int], int, list[int]]:
    """First non-blank row as header; blank cells as missing; check headers; remove blank rows.

    Returns the table, the dropped (empty, unnamed) column numbers, the header's row number and
    the row numbers of the blank rows removed (1-based, as a spreadsheet shows them).
    """
    if raw.shape[0] == 0 or raw.shape[1] == 0:
        raise DataError(f"{name}: the file holds no table.")
    raw = _map_cells(raw, _blank_to_na)
    filled = raw.notna().any(axis=1).to_numpy()
    if not filled.any():
        raise DataError(f"{name}: the file holds no table.")
    h = int(np.argmax(filled))  # leading empty rows (a sheet that starts lower down) are skipped
    header = ["" if pd.isna(v) else str(_as_text(v, name)).strip().lstrip("\ufeff") for v in raw.iloc[h]]
    body = raw.iloc[h + 1:]
    dropped: list[int] = []
    keep: list[int] = []
    for j, col in enumerate(header):
        if col:
            keep.append(j)
        elif body.iloc[:, j].notna().any():
            raise DataError(f"{name}: column {j + 1} has values but no header; name it.")
        else:
            dropped.append(j + 1)
    names = [header[j] for j in keep]
    dup = sorted({col for col in names if names.count(col) > 1})
    if dup:
        raise DataError(f"{name}: column name(s) {', '.join(map(repr, dup))} appear more than once; "
                        "each column needs its own name.")
    blank = ~filled[h + 1:]
    rows = np.arange(h + 2, h + 2 + len(body))
    table = body.iloc[~blank, keep].copy()
    table.columns = names
    return table.reset_index(drop=True), dropped, h + 1, rows[blank].tolist()


def file_rows(table: pd.DataFrame) -> np.ndarray:
    """The row number in its file (header row = its own number, usually 1) of each row of *table*.

    For a table as :func:`read_table` returned it: blank rows it removed are skipped, so error
    messages can name rows as Excel/WPS show them.  (CSV: records, which are lines unless a
    quoted cell holds a line break.)

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> with open(p, "w", encoding="utf-8") as fh:
    ...     _ = fh.write("a,b\\n1,2\\n,\\n3,4\\n")
    >>> file_rows(read_table(p)).tolist()
    [2, 4]
    """
    header = int(table.attrs.get("header_row", 1))
    blank = set(table.attrs.get("blank_row_numbers", ()))
    numbers = [r for r in range(header + 1, header + 1 + len(table) + len(blank)) if r not in blank]
    return np.array(numbers[: len(table)], dtype=int)


def _blank_to_na(v: object) -> object:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return np.nan
    if isinstance(v, str) and not v.strip():
        return np.nan
    return v


def _as_text(v: object, source: str) -> object:
    if isinstance(v, str) or v is np.nan or v is pd.NaT:
        return v
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, np.integer, float, np.floating)) and np.isfinite(v) and float(v).is_integer():
        if abs(v) >= 1e15:
            raise DataError(f"{source}: a {len(str(int(v)))}-digit number stored as a number; Excel keeps 15 "
                            "digits, so its last digits are lost. Format the column as text and re-enter it.")
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (pd.Timestamp, datetime)):
        return pd.Timestamp(v).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _column(s: pd.Series, *, text: bool, source: str) -> pd.Series:
    values = s.to_numpy(dtype=object)
    present = [v for v in values if not (isinstance(v, float) and np.isnan(v))]
    if not text and present and all(isinstance(v, (datetime, np.datetime64)) for v in present):
        return pd.to_datetime(pd.Series(values, dtype=object))
    as_text = pd.Series([_as_text(v, source) for v in values], dtype=object)
    if not present:
        return pd.Series(np.full(len(values), np.nan), dtype=object if text else float)
    if text:
        return as_text
    strings = [str(v).strip() for v in as_text if isinstance(v, str)]
    if any(_IDENTIFIER.match(v) for v in strings):
        return as_text
    if all(_NUMBER.match(v) for v in strings):
        return pd.to_numeric(pd.Series([v.strip() if isinstance(v, str) else v for v in as_text], dtype=object))
    if all(v.lower() in _BOOL for v in strings) and len(strings) == len(values):
        return pd.Series([_BOOL[v.lower()] for v in strings], dtype=bool)
    return as_text
