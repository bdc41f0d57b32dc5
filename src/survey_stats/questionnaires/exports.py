"""KoboToolbox and ODK Central exports: read every layout they produce, and write them for tests.

What the servers write (checked against KoboToolbox's ``formpack`` export code and ODK Central's
``lib/data/briefcase.js``; see ``docs/questionnaires.md``):

* **KoboToolbox** (formpack): CSV separated by ``;`` with every cell quoted (the default) or
  XLSX; headers are XML names or labels in one form language; with "include groups in
  headers" the group path is joined by ``/`` (default) or another separator, such as ``-``;
  a select-multiple question is one space-separated column, one ``1``/``0`` column per choice
  (``grp/q/code``, or ``Question label/Choice label``), or both; geopoints add
  ``_q_latitude``, ``_q_longitude``, ``_q_altitude``, ``_q_precision``; metadata
  ``_id``, ``_uuid``, ``_submission_time``, ``_validation_status``, ``_notes``, ``_status``,
  ``_submitted_by``, ``__version__``, ``_tags``, ``_index``.  Repeat groups are extra XLSX
  sheets whose ``_parent_index`` points at the parent sheet's ``_index`` (the CSV export
  holds the main table only).
* **ODK Central**: CSV with ``,``; ``SubmissionDate`` first, group paths joined by ``-``
  (or bare names), select-multiple choices split as ``grp-q/code`` columns (``0`` also for
  unanswered questions), geopoints as ``q-Latitude`` … ``q-Accuracy``, then ``KEY``,
  ``SubmitterID``, ``SubmitterName``, ``AttachmentsPresent``, ``AttachmentsExpected``,
  ``Status``, ``ReviewState``, ``DeviceID``, ``Edits``, ``FormVersion``; repeat groups are
  separate CSV files in the zip whose ``PARENT_KEY`` points at the parent's ``KEY``.

Every export column is mapped to a question, recognised as metadata, or reported; no row is
dropped.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import tempfile
import uuid
import zipfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import DataError, QuestionnaireError
from ..readers import read_table
from ..safe_output import neutralise, write_workbook
from .schema import Question, Questionnaire

__all__ = ["EXPORT_LAYOUTS", "ExportLayout", "read_export", "write_export"]

#: Metadata columns KoboToolbox adds to every export (main sheet and, prefixed ``_submission_``, repeat sheets).
KOBO_METADATA = ("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
                 "__version__", "_tags", "_index", "_parent_table_name", "_parent_index", "_attachments",
                 "_geolocation", "_xform_id_string", "_media_count", "_total_media", "_media_all_received",
                 "_version_", "_edited", "_duration", "_bamboo_dataset_id")
#: Metadata columns ODK Central adds (main table and repeat tables) and ODK Briefcase's ``SET-OF-`` links.
CENTRAL_METADATA = ("SubmissionDate", "KEY", "PARENT_KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
                    "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion", "instanceID",
                    "instanceName")
#: XLSForm metadata question types a server may export although the form does not list them.
ODK_METADATA_QUESTIONS = ("start", "end", "today", "deviceid", "username", "simserial", "subscriberid",
                          "phonenumber", "email", "audit", "start-geopoint", "background-audio")
_META_PREFIXES = ("meta/", "meta-", "formhub/", "formhub-", "_submission_", "SET-OF-")
_METADATA = frozenset(KOBO_METADATA + CENTRAL_METADATA + ODK_METADATA_QUESTIONS)
_KOBO_GEO = re.compile(r"^(?:(?P<prefix>.+)[/-])?_(?P<name>[^/]+?)_(?P<part>latitude|longitude|altitude|precision)$")
_CENTRAL_GEO = re.compile(r"^(?P<name>.+)-(?P<part>Latitude|Longitude|Altitude|Accuracy)$")
_GEO_ORDER = {"latitude": 0, "longitude": 1, "altitude": 2, "precision": 3, "accuracy": 3}
_TRUE = {"1", "1.0", "true", "yes"}
_FALSE = {"0", "0.0", "false", "no"}


@dataclass(frozen=True)
class ExportLayout:
    """How a server lays out an export (see :data:`EXPORT_LAYOUTS` for the real ones).

    Attributes
    ----------
    server : {"kobo", "central"}
        Which metadata columns, one-hot headers and repeat links to write.
    headers : {"xml", "labels"}
        XML names (and codes as values), or labels in ``language`` (and choice labels as values).
    language : str, optional
        Form language of label headers; the form's first language when None.
    group_sep : str or None
        Separator of group paths in headers (``"/"``, ``"-"``); None writes bare names.
    select_multiple : {"summary", "details", "both"}
        One space-separated column, one 0/1 column per choice, or both.
    sep : str
        CSV separator.
    encoding : str
        CSV encoding (``"utf-8"``, ``"utf-8-sig"``, ``"gbk"``...).
    """

    server: Literal["kobo", "central"] = "kobo"
    headers: Literal["xml", "labels"] = "xml"
    language: str | None = None
    group_sep: str | None = "/"
    select_multiple: Literal["summary", "details", "both"] = "both"
    sep: str = ";"
    encoding: str = "utf-8"


#: The layouts KoboToolbox and ODK Central produce, by name.  ``kobo_default`` is what KoboToolbox's
#: export page gives unless told otherwise: labels in the form's first language, no group names,
#: select-multiple as one column plus one 0/1 column per choice, ``;``-separated.
EXPORT_LAYOUTS: dict[str, ExportLayout] = {
    "kobo_default": ExportLayout(headers="labels", group_sep=None),
    "kobo_xml": ExportLayout(),
    "kobo_xml_dash_details": ExportLayout(group_sep="-", select_multiple="details", sep=","),
    "kobo_xml_no_groups_summary": ExportLayout(group_sep=None, select_multiple="summary", sep=","),
    "kobo_labels_groups": ExportLayout(headers="labels"),
    "kobo_labels_gbk": ExportLayout(headers="labels", group_sep=None, select_multiple="summary", encoding="gbk"),
    "central": ExportLayout(server="central", group_sep="-", select_multiple="both", sep=","),
    "central_no_groups": ExportLayout(server="central", group_sep=None, select_multiple="summary", sep=","),
}


# ---------------------------------------------------------------- the form's fields

@dataclass(frozen=True)
class _Field:
    key: str  # output column: the question name, or its path when the name is not unique
    q: Question
    path: tuple[str, ...]
    repeat: str | None  # innermost repeat group
    repeats: tuple[str, ...]  # enclosing repeat groups, outermost first


def repeat_groups(form: Questionnaire) -> tuple[str, ...]:
    """Names of the form's repeat groups (from its questions' ``repeat`` paths, and from the file).

    Examples
    --------
    >>> import survey_stats as ss
    >>> repeat_groups(ss.load_questionnaire(ss.questionnaire_path("home_visit")))
    ()
    """
    names = [p[-1] for q in form.questions for p in [getattr(q, "repeat", None)] if p]
    if form.path and Path(form.path).is_file():
        names += _repeats_in_file(form.path, Path(form.path).stat().st_mtime_ns)
    return tuple(dict.fromkeys(names))


@functools.lru_cache(maxsize=64)
def _repeats_in_file(path: str, mtime: int) -> tuple[str, ...]:  # noqa: ARG001  (mtime: cache key only)
    """``begin repeat`` rows of the survey sheet (a repeat holding only another repeat has no question of its own)."""
    try:
        name = next((n for n in _sheet_names(Path(path)) if n.strip().lower() == "survey"), None)
        survey = read_table(path, all_text=True, sheet=name) if name is not None else None
    except Exception:  # noqa: BLE001  (an unreadable form file gives no extra repeat names)
        return ()
    if survey is None:
        return ()
    cols = {str(c).strip().lower(): c for c in survey.columns}
    if "type" not in cols or "name" not in cols:
        return ()
    out = []
    for typ, name in zip(survey[cols["type"]], survey[cols["name"]]):
        begins = isinstance(typ, str) and re.sub(r"[\s_]+", " ", typ.strip().lower()) == "begin repeat"
        if begins and isinstance(name, str):
            out.append(name.strip())
    return tuple(out)


def form_fields(form: Questionnaire) -> list[_Field]:
    """Every question with its output column (``q.key``: its name, or its path when the name is used twice),
    path and enclosing repeat groups.

    Examples
    --------
    >>> import survey_stats as ss
    >>> f = form_fields(ss.load_questionnaire(ss.questionnaire_path("deregistered")))[-1]
    >>> f.key, f.path, f.repeat
    ('channels', ('policy', 'channels'), None)
    """
    reps = set(repeat_groups(form))
    names = Counter(q.name for q in form.questions)
    out = []
    for q in form.questions:
        path = tuple(getattr(q, "path", ()) or (*q.group, q.name))
        chain = tuple(g for g in path[:-1] if g in reps)
        key = getattr(q, "key", "") or (q.name if names[q.name] == 1 else "/".join(path))
        out.append(_Field(key, q, path, chain[-1] if chain else None, chain))
    return out


def _present(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return False
    if isinstance(v, float) and np.isnan(v):
        return False
    return not (isinstance(v, str) and not v.strip())


def canonical_code(value: Any, codes: list[str]) -> Any:
    """The choice code a value stands for: ``5.0``/``"5.0"``/``5`` → ``"5"`` when ``"5"`` is a code.

    Examples
    --------
    >>> canonical_code("5.0", ["1", "5"]), canonical_code(5.0, ["1", "5"]), canonical_code(" yes", ["yes"])
    ('5', '5', 'yes')
    """
    if not _present(value):
        return value
    s = str(value).strip()
    if s in codes:
        return s
    try:
        x = float(s)
    except ValueError:
        return s
    for c in codes:
        try:
            if np.isfinite(x) and float(c) == x:
                return c
        except ValueError:
            continue
    return s


def canonical_multi(value: Any, codes: list[str]) -> Any:
    """Each code of a space-separated select-multiple answer as the form writes it (see :func:`canonical_code`).

    Examples
    --------
    >>> canonical_multi("1.0 3", ["1", "2", "3"])
    '1 3'
    """
    if not _present(value):
        return value
    return " ".join(str(canonical_code(t, codes)) for t in str(value).split())


# ---------------------------------------------------------------- loading tables

class MissingExportError(DataError, FileNotFoundError):
    """The export file does not exist (a :class:`DataError` that is also a ``FileNotFoundError``)."""


def _load_tables(data: Any) -> tuple[list[tuple[str, pd.DataFrame]], dict[str, Any]]:
    if isinstance(data, pd.DataFrame):
        return [("main", data)], {"source": "DataFrame"}
    if isinstance(data, Mapping):
        tables = [(str(k), v) for k, v in data.items()]
        if not tables or not all(isinstance(v, pd.DataFrame) for _, v in tables):
            raise DataError("an export given as a mapping must map sheet names to DataFrames.")
        return tables, {"source": "mapping"}
    if not isinstance(data, (str, Path)):
        raise DataError(f"an export is a DataFrame, a mapping of sheets or a file path, not {type(data).__name__}.")
    p = Path(data)
    if not p.is_file():
        raise MissingExportError(f"No such file: {p}")
    suffix = p.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            return _load_workbook(p)
        if suffix == ".zip":
            return _load_zip(p)
        table = read_table(p, all_text=True)
    except DataError as exc:
        if "more than once" in str(exc):
            raise DataError(f"{exc} {_SHARED_HEADER}") from exc
        raise
    return [(p.stem, table)], {"source": str(p), "encoding": table.attrs.get("encoding"),
                               "separator": table.attrs.get("separator")}


def _load_workbook(p: Path) -> tuple[list[tuple[str, pd.DataFrame]], dict[str, Any]]:
    if not p.is_file():
        raise DataError(f"{p}: no such file.")
    try:
        names = _sheet_names(p)
    except Exception as exc:  # noqa: BLE001  (openpyxl/xlrd raise their own classes on corrupt files)
        raise DataError(f"{p.name}: cannot read it as an Excel workbook ({type(exc).__name__}).") from exc
    tables, empty = [], []
    for i, name in enumerate(names):
        try:
            tables.append((str(name), read_table(p, all_text=True, sheet=name)))
        except DataError as exc:
            if i == 0 or "no table" not in str(exc):
                raise
            empty.append(str(name))
    return tables, {"source": str(p), "encoding": "xlsx", "empty_sheets": empty}


_SHARED_HEADER = ("Two questions share that name or label (in different groups), so their columns cannot be told "
                  "apart: download the export again with group names in the headers, or with 'XML values and "
                  "headers' if two questions share a label.")


def _sheet_names(p: Path) -> list[str]:
    """Sheet names of an .xlsx/.xlsm (openpyxl) or .xls (xlrd) workbook, in order."""
    if p.suffix.lower() == ".xls":
        import xlrd

        book = xlrd.open_workbook(str(p), on_demand=True)
        try:
            return [str(n) for n in book.sheet_names()]
        finally:
            book.release_resources()
    from openpyxl import load_workbook

    wb = load_workbook(p, read_only=True)
    try:
        return [str(n) for n in wb.sheetnames]
    finally:
        wb.close()


def _load_zip(p: Path) -> tuple[list[tuple[str, pd.DataFrame]], dict[str, Any]]:
    try:
        with zipfile.ZipFile(p) as zf, tempfile.TemporaryDirectory() as tmp:
            members = [m for m in zf.namelist() if m.lower().endswith(".csv") and not m.endswith("/")]
            if not members:
                raise DataError(f"{p.name}: the zip file holds no CSV table.")
            tables = []
            for i, m in enumerate(members):
                target = Path(tmp) / f"{i}.csv"
                target.write_bytes(zf.read(m))
                tables.append((Path(m).stem, read_table(target, all_text=True)))
    except zipfile.BadZipFile as exc:
        raise DataError(f"{p.name}: not a readable zip file.") from exc
    return tables, {"source": str(p), "encoding": tables[0][1].attrs.get("encoding")}


# ---------------------------------------------------------------- mapping headers

@dataclass(frozen=True)
class _Col:
    kind: str  # question, one_hot, geo_part, metadata, unrecognised, ambiguous
    key: str = ""
    part: str = ""  # choice code of a one-hot column, or geopoint part
    note: str = ""


def _xml_index(fields: list[_Field]) -> dict[str, set[str]]:
    """Every header a field can have: its path or any tail of it (paths relative to a repeat), joined by / or -."""
    index: dict[str, set[str]] = {}
    for f in fields:
        path = f.path
        for k in range(len(path)):
            for sep in ("/", "-"):
                index.setdefault(sep.join(path[k:]), set()).add(f.key)
    return index


def _label_index(fields: list[_Field], language: str) -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for f in fields:
        label = _norm_label(f.q.labels.get(language, ""))
        if label:
            index.setdefault(label, set()).add(f.key)
    return index


def _norm_label(s: Any) -> str:
    return re.sub(r"\s+", " ", str(s)).strip()


#: Characters a group or choice separator can be (KoboToolbox lets the user choose it; "/" and "-" are usual).
_SEPARATOR_CHARS = "/-%|:\\>"


def _splits(h: str) -> list[int]:
    return [i for i, ch in enumerate(h) if ch in _SEPARATOR_CHARS]


def _match(h: str, index: dict[str, set[str]], *, tails: bool) -> set[str]:
    hit = index.get(h, set())
    if hit or not tails:
        return hit
    for i in _splits(h):  # a group-label prefix the form does not describe
        hit = index.get(h[i + 1:], set())
        if hit:
            return hit
    return set()


def _map_header(h: str, fields: dict[str, _Field], index: dict[str, set[str]], form: Questionnaire,
                language: str | None) -> _Col:
    labels = language is not None
    keys = _match(_norm_label(h) if labels else h, index, tails=labels)
    if len(keys) == 1:
        return _Col("question", next(iter(keys)))
    if len(keys) > 1:
        return _Col("ambiguous", note=", ".join(sorted(keys)))
    for i in reversed(_splits(h)):  # one-hot column: <question header><sep><choice>
        base, code = h[:i], h[i + 1:]
        cand = [k for k in _match(_norm_label(base) if labels else base, index, tails=labels)
                if fields[k].q.type == "select_multiple"]
        if len(cand) == 1:
            return _Col("one_hot", cand[0], _choice_code(form, fields[cand[0]].q, code, language))
    geo = _geo_part(h, fields, index, labels)
    if geo is not None:
        return geo
    if is_metadata(h):
        return _Col("metadata", note="server metadata")
    return _Col("unrecognised")


def _geo_part(h: str, fields: dict[str, _Field], index: dict[str, set[str]], labels: bool) -> _Col | None:
    for rx in (_KOBO_GEO, _CENTRAL_GEO):
        m = rx.match(h)
        if not m:
            continue
        prefix = m.groupdict().get("prefix")
        name = m.group("name")
        base = f"{prefix}/{name}" if prefix else name
        keys = _match(_norm_label(base) if labels else base, index, tails=labels) or \
            _match(_norm_label(name) if labels else name, index, tails=labels)
        keys = {k for k in keys if fields[k].q.type == "geopoint"}
        if len(keys) == 1:
            return _Col("geo_part", next(iter(keys)), m.group("part").lower())
    return None


def _choice_code(form: Questionnaire, q: Question, text: str, language: str | None) -> str:
    """The code a one-hot header's choice part stands for: a label in *language*, a code, or a label in
    another language (a question without a label in the export's language is matched by name)."""
    choices = form.choices.get(q.list_name or "", ())
    wanted = _norm_label(text)
    if language is not None:
        for c in choices:
            if _norm_label(c.labels.get(language, "")) == wanted:
                return c.name
    code = str(canonical_code(text, [c.name for c in choices]))
    if code in {c.name for c in choices}:
        return code
    by_label = {c.name for c in choices for lab in c.labels.values() if _norm_label(lab) == wanted}
    return by_label.pop() if len(by_label) == 1 else code


def _header_style(frames: list[pd.DataFrame], fields: list[_Field], form: Questionnaire,
                  language: str | None) -> str | None:
    """None for XML headers, else the language whose labels the headers are.

    The style matching more columns wins; on a tie (labels equal to names) the values decide:
    choice labels where codes are expected mean a labels export.
    """
    if language is not None:
        if language not in form.languages:
            raise QuestionnaireError(f"form {form.form_id!r} has no language {language!r}; "
                                     f"its languages are {', '.join(map(repr, form.languages))}.")
        return language
    columns = [str(c) for df in frames for c in df.columns]
    by_key = {f.key: f for f in fields}

    xml = _xml_index(fields)
    by_name = [_map_header(c, by_key, xml, form, None).kind in ("question", "one_hot") for c in columns]

    def hits(lang: str) -> int:  # a question without a label in that language is exported under its name
        index = _label_index(fields, lang)
        return sum(named or _map_header(c, by_key, index, form, lang).kind in ("question", "one_hot")
                   for c, named in zip(columns, by_name))

    best, best_hits = None, sum(by_name)
    for lang in form.languages:
        n = hits(lang)
        if n > best_hits or (n == best_hits and n and best is None
                             and sum(_label_values(df, by_key, form, lang) for df in frames) > 0):
            best, best_hits = lang, n
    return best


def _label_values(df: pd.DataFrame, by_key: dict[str, _Field], form: Questionnaire, lang: str) -> int:
    """How many more select answers are choice labels (in *lang*) than codes."""
    index, xml = _label_index(list(by_key.values()), lang), _xml_index(list(by_key.values()))
    codes = labels = 0
    for c in df.columns:
        m = _map_header(str(c), by_key, index, form, lang)
        if m.kind != "question":  # a question without a label in that language is exported under its name
            m = _map_header(str(c), by_key, xml, form, None)
        q = by_key[m.key].q if m.kind == "question" else None
        if q is None or q.type != "select_one":
            continue
        choices = form.choices.get(q.list_name or "", ())
        names = {ch.name for ch in choices}
        texts = {_norm_label(ch.labels.get(lang, "")) for ch in choices} - names
        for v in df[c]:
            if _present(v):
                codes += str(v).strip() in names
                labels += _norm_label(v) in texts
    return labels - codes


# ---------------------------------------------------------------- normalising one table

def _flag(v: Any) -> int | None | str:
    if not _present(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    s = str(v).strip().lower()
    if s in _TRUE:
        return 1
    if s in _FALSE:
        return 0
    return "bad"


def _label_lookup(q: Question, form: Questionnaire, language: str) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for c in form.choices.get(q.list_name or "", ()):
        lookup.setdefault(_norm_label(c.labels.get(language, "")), c.name)
    lookup.pop("", None)
    return lookup


def _decode_labels(value: Any, q: Question, lookup: dict[str, str]) -> Any:
    """Choice labels back to codes (KoboToolbox "Labels" exports write labels as values)."""
    if not _present(value):
        return value
    text = _norm_label(value)
    if q.type == "select_one":
        return lookup.get(text, value)
    return _segment(text, lookup) or value


def _segment(text: str, lookup: dict[str, str]) -> str | None:
    """Split space-joined choice labels (which may contain spaces) into codes; None if impossible."""
    tokens = text.split(" ")
    best: list[list[str] | None] = [None] * (len(tokens) + 1)
    best[0] = []
    for i in range(len(tokens)):
        if best[i] is None:
            continue
        for j in range(i + 1, len(tokens) + 1):
            code = lookup.get(" ".join(tokens[i:j]))
            if code is not None and best[j] is None:
                best[j] = [*best[i], code]  # type: ignore[misc]
    return " ".join(best[-1]) if best[-1] is not None else None


@dataclass
class _Table:
    name: str
    out: pd.DataFrame
    columns: dict[str, str]  # export column → what it was read as
    problems: list[dict[str, Any]]
    repeat: str | None = None


def _problem(row: Any, column: str, problem: str, value: Any = None, table: str | None = None) -> dict[str, Any]:
    return {"row": row, "column": column, "problem": problem, "value": value, "table": table}


def _normalise(name: str, df: pd.DataFrame, form: Questionnaire, fields: list[_Field], language: str | None,
               repeat: str | None) -> _Table:
    by_key = {f.key: f for f in fields}
    table_label = None if repeat is None else repeat
    own = [f for f in fields if f.repeat is None] if repeat is None else fields
    cols = _map_columns(df, fields, form, language, own)
    problems: list[dict[str, Any]] = []
    out: dict[str, pd.Series] = {}
    described: dict[str, str] = {}
    summary: dict[str, list[str]] = {}
    onehot: dict[str, dict[str, list[str]]] = {}
    geo: dict[str, dict[str, str]] = {}
    for c, m in cols.items():
        if m.kind == "question":
            summary.setdefault(m.key, []).append(c)
        elif m.kind == "one_hot":
            onehot.setdefault(m.key, {}).setdefault(m.part, []).append(c)
        elif m.kind == "geo_part":
            geo.setdefault(m.key, {})[m.part] = c
    for c in map(str, df.columns):
        m = cols[c]
        if m.kind == "question" and m.key not in out:
            out[m.key] = _question_column(df, summary[m.key], by_key[m.key], form, language, described)
        elif m.kind in ("one_hot", "geo_part") and m.key not in out and m.key not in summary:
            if m.kind == "one_hot":
                out[m.key] = pd.Series(np.nan, index=df.index, dtype=object)
            else:
                out[m.key] = _join_geo(df, geo[m.key])
        elif m.kind in ("metadata", "unrecognised", "ambiguous"):
            out[c] = df[c]
            described[c] = {"metadata": "metadata", "unrecognised": "not in the questionnaire",
                            "ambiguous": f"matches several questions ({m.note})"}[m.kind]
            if m.kind == "unrecognised":
                problems.append(_problem(None, c, "column not in the questionnaire", table=table_label))
            elif m.kind == "ambiguous":
                problems.append(_problem(None, c, f"column matches several questions ({m.note}); export with XML "
                                                  "headers and group names", table=table_label))
    for key, by_code in onehot.items():
        joined, bad = _join_onehot(df, by_code, form, by_key[key].q)
        for idx, col, v in bad:
            problems.append(_problem(idx, col, "one-hot column value is not 0 or 1", v, table_label))
        for code, cs in by_code.items():
            for col in cs:
                described[col] = f"{key} (choice {code})"
        if key in summary:
            problems += _compare_multi(out[key], joined, set(by_code), key, summary[key][0], table_label)
        else:
            out[key] = joined
    for key, parts in geo.items():
        for part, col in parts.items():
            described[col] = f"{key} ({part})"
    result = pd.DataFrame(out, index=df.index)
    return _Table(name, result, described, problems, repeat)


def _map_columns(df: pd.DataFrame, fields: list[_Field], form: Questionnaire, language: str | None,
                 first: list[_Field]) -> dict[str, _Col]:
    """What each column is.  *first* (the main table's own questions) are tried before the rest, so a
    name that a repeat group reuses is read as the main table's question; a question without a label
    in a labels export is looked up by its name, as the servers then write it."""
    by_key = {f.key: f for f in fields}
    passes = [(first, language), (fields, language)]
    if language is not None:
        passes += [(first, None), (fields, None)]
    indexes = [(_xml_index(subset) if lang is None else _label_index(subset, lang), lang) for subset, lang in passes]
    cols: dict[str, _Col] = {}
    for c in map(str, df.columns):
        found = None
        for index, lang in indexes:
            m = _map_header(c, by_key, index, form, lang)
            if m.kind in ("question", "one_hot", "geo_part", "ambiguous"):
                found = m
                break
            found = found or m
        cols[c] = found  # type: ignore[assignment]
    return cols


def _question_column(df: pd.DataFrame, cols: list[str], f: _Field, form: Questionnaire, language: str | None,
                     described: dict[str, str]) -> pd.Series:
    series = [_decode_column(df[c], f.q, form, language) for c in cols]
    first = series[0]
    described[cols[0]] = f.key
    for c, s in zip(cols[1:], series[1:]):
        a, b = first.map(_as_key), s.map(_as_key)
        differ = a != b
        if differ.any():
            rows = list(df.index[differ.to_numpy()][:5])
            raise QuestionnaireError(
                f"columns {cols[0]!r} and {c!r} both hold question {f.key!r} but differ in {int(differ.sum())} "
                f"row(s) (rows {', '.join(map(str, rows))}); keep one of them and read the export again.")
        described[c] = f"{f.key} (same values as {cols[0]!r})"
    return first


def _as_key(v: Any) -> str:
    return str(v).strip() if _present(v) else ""


def _decode_column(s: pd.Series, q: Question, form: Questionnaire, language: str | None) -> pd.Series:
    """Blank cells as missing; choice labels (labels exports) and numbers (``5.0``) as the form's codes."""
    if q.type not in ("select_one", "select_multiple"):
        return s.map(lambda v: v if _present(v) else np.nan)
    codes = [c.name for c in form.choices.get(q.list_name or "", ())]
    lookup = _label_lookup(q, form, language) if language is not None else {}
    canon = canonical_code if q.type == "select_one" else canonical_multi

    def one(v: Any) -> Any:
        if not _present(v):
            return np.nan
        return canon(_decode_labels(v, q, lookup) if lookup else v, codes)

    cache: dict[Any, Any] = {}
    out = []
    for v in s.to_numpy(dtype=object):
        try:
            key = (type(v), v)  # 5, 5.0 and True are equal keys otherwise
            if key not in cache:
                cache[key] = one(v)
            out.append(cache[key])
        except TypeError:  # an unhashable cell
            out.append(one(v))
    return pd.Series(out, index=s.index, dtype=object)


def _join_onehot(df: pd.DataFrame, by_code: dict[str, list[str]], form: Questionnaire,
                 q: Question) -> tuple[pd.Series, list[tuple[Any, str, Any]]]:
    """The space-separated answer the 0/1 columns spell (form order), and the cells that are not 0/1."""
    order = [c.name for c in form.choices.get(q.list_name or "", ())]
    codes = sorted(by_code, key=lambda c: (order.index(c) if c in order else len(order), c))
    bad: list[tuple[Any, str, Any]] = []
    chosen: list[list[str]] = [[] for _ in range(len(df))]
    for code in codes:
        for col in by_code[code]:
            cells = df[col].to_numpy(dtype=object)
            for i, (idx, v) in enumerate(zip(df.index, cells)):
                flag = _flag(v)
                if flag == "bad":
                    bad.append((idx, col, v))
                elif flag == 1 and code not in chosen[i]:
                    chosen[i].append(code)
    values = [" ".join(c) if c else np.nan for c in chosen]
    return pd.Series(values, index=df.index, dtype=object), bad


def _compare_multi(summary: pd.Series, joined: pd.Series, with_columns: set[str], key: str, col: str,
                   table: str | None) -> list[dict[str, Any]]:
    """Rows where the space-separated column and the 0/1 columns (for the codes that have one) disagree."""
    problems = []
    for idx, s, j in zip(summary.index, summary.to_numpy(dtype=object), joined.to_numpy(dtype=object)):
        a = set(str(s).split()) & with_columns if _present(s) else set()
        b = set(str(j).split()) if _present(j) else set()
        if a != b:
            problems.append(_problem(idx, key, f"select-multiple columns disagree: {col!r} says "
                                               f"{' '.join(sorted(a)) or 'nothing'}, the 0/1 columns say "
                                               f"{' '.join(sorted(b)) or 'nothing'}", table=table))
    return problems


def _join_geo(df: pd.DataFrame, parts: dict[str, str]) -> pd.Series:
    """ODK Central's four geopoint columns back into one ``lat lon alt accuracy`` answer."""
    cols = [df[parts[p]].to_numpy(dtype=object) for p in sorted(parts, key=lambda p: _GEO_ORDER[p])]
    values = []
    for row in zip(*cols):
        present = [str(v).strip() for v in row if _present(v)]
        values.append(" ".join(present) if present else np.nan)
    return pd.Series(values, index=df.index, dtype=object)


def _drop_tag_row(df: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Remove KoboToolbox's HXL hashtag row (``#indicator+...``) under the header, if there is one."""
    if len(df) == 0:
        return df, False
    first = [v for v in df.iloc[0].tolist() if _present(v)]
    if first and all(isinstance(v, str) and v.strip().startswith("#") for v in first):
        return df.iloc[1:], True
    return df, False


# ---------------------------------------------------------------- repeats

class RepeatTables(dict):  # type: ignore[type-arg]
    """Repeat-group tables by group name; compares by content so pandas can carry it in ``attrs``.

    pandas deep-copies ``attrs`` into the result of every operation on the main table; the repeat
    tables are shared instead (``copy.deepcopy`` returns the same object), so deriving a column
    does not copy every repeat group.  Change a repeat table by assigning a new one to its key.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> RepeatTables:
        return self

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if not isinstance(other, dict) or set(self) != set(other):
            return False
        return all(isinstance(other[k], pd.DataFrame) and self[k].equals(other[k]) for k in self)

    __hash__ = None  # type: ignore[assignment]


def _repeat_of(name: str, table: pd.DataFrame, reps: tuple[str, ...], fields: list[_Field]) -> str | None:
    for r in reps:
        if name == r or name.endswith("-" + r) or (name.endswith("...") and r.startswith(name[:-3])):
            return r
    best, hits = None, 0
    for r in reps:
        rf = [f for f in fields if f.repeat == r]
        idx = _xml_index(rf)
        n = sum(str(c) in idx for c in table.columns)
        if n > hits:
            best, hits = r, n
    return best


def _link_repeats(main_raw: pd.DataFrame, reps: list[tuple[_Table, pd.DataFrame]],
                  fields: list[_Field]) -> list[dict[str, Any]]:
    """Add ``_row`` (row of the submission in the main table) and ``_parent_row`` to each repeat table.

    ODK Central links a row to its parent by ``PARENT_KEY`` = the parent's ``KEY`` (the instance id
    for the main table); KoboToolbox by ``_parent_index`` = the parent sheet's ``_index``.  Parents
    are read before their children.  Returns the rows whose parent is not in the export (kept, with
    a missing ``_row``)."""
    parent_of = {f.repeat: f.repeats[-2] for f in fields if f.repeat and len(f.repeats) > 1}
    depth = {f.repeat: len(f.repeats) for f in fields if f.repeat}
    keyed: dict[str, tuple[str | None, Any]] = {}
    for col in ("KEY", "meta-instanceID", "meta/instanceID", "instanceID", "_uuid"):
        for idx, v in (main_raw[col].items() if col in main_raw.columns else ()):
            if _present(v):
                keyed.setdefault(str(v).strip(), (None, idx))
    indexed: dict[str | None, dict[str, Any]] = {None: _kobo_index(main_raw)}
    root_of: dict[tuple[str | None, Any], Any] = {(None, i): i for i in main_raw.index}
    problems: list[dict[str, Any]] = []
    for t, raw in sorted(reps, key=lambda tr: depth.get(tr[0].repeat, 0)):
        parent = parent_of.get(t.repeat or "")
        hits = [_parent_of_row(raw, idx, keyed, indexed.get(parent, {}), parent) for idx in raw.index]
        roots = [np.nan if h is None else root_of.get(h, np.nan) for h in hits]
        for idx, h in zip(raw.index, hits):
            if h is None:
                problems.append(_problem(None, "PARENT_KEY" if "PARENT_KEY" in raw.columns else "_parent_index",
                                         f"repeat row {idx} has no parent row in the export", table=t.repeat))
        t.out.insert(0, "_parent_row", pd.Series([np.nan if h is None else h[1] for h in hits], index=raw.index,
                                                 dtype=object))
        t.out.insert(0, "_row", pd.Series(roots, index=raw.index, dtype=object))
        for idx, root in zip(raw.index, roots):
            root_of[(t.repeat, idx)] = root
            if "KEY" in raw.columns and _present(raw.at[idx, "KEY"]):
                keyed[str(raw.at[idx, "KEY"]).strip()] = (t.repeat, idx)
        indexed[t.repeat] = _kobo_index(raw)
    return problems


def _kobo_index(raw: pd.DataFrame) -> dict[str, Any]:
    if "_index" not in raw.columns:
        return {}
    return {_as_key(v): i for i, v in raw["_index"].items() if _present(v)}


def _parent_of_row(raw: pd.DataFrame, idx: Any, keyed: dict[str, tuple[str | None, Any]],
                   parent_index: dict[str, Any], parent: str | None) -> tuple[str | None, Any] | None:
    """(parent table, parent row) of one repeat row, or None."""
    if "PARENT_KEY" in raw.columns and _present(raw.at[idx, "PARENT_KEY"]):
        return keyed.get(str(raw.at[idx, "PARENT_KEY"]).strip())
    if "_parent_index" in raw.columns and _present(raw.at[idx, "_parent_index"]):
        row = parent_index.get(_as_key(raw.at[idx, "_parent_index"]))
        return None if row is None else (parent, row)
    return None


# ---------------------------------------------------------------- read_export

def read_export(
    data: pd.DataFrame | Mapping[str, pd.DataFrame] | str | Path,
    questionnaire: Questionnaire,
    *,
    language: str | None = None,
) -> pd.DataFrame:
    """Normalise a KoboToolbox/ODK export to one column per question, whatever its layout.

    Reads CSV (``,`` or ``;``, quoted, UTF-8/BOM/GBK/UTF-16), XLSX with one sheet per repeat
    group, ODK Central's zip of CSVs, a DataFrame or a mapping of sheet name → DataFrame.
    Headers may be XML names with or without group paths (``/`` or ``-``), or labels in any
    form language (then choice labels in the values are turned back into codes).
    Select-multiple questions may come as one space-separated column, as one 0/1 column per
    choice (``grp/q/code``, ``grp-q-code``, ``grp-q/code``), or both (then they are compared).
    Numeric codes written as numbers (``5.0``) become the form's code (``"5"``).

    Parameters
    ----------
    data : DataFrame, mapping of DataFrames, or path
    questionnaire : Questionnaire
    language : str, optional
        Language of label headers; detected when None.

    Returns
    -------
    DataFrame
        One row per submission (the export's rows, none dropped), one column per question
        (its name), then metadata and unrecognised columns as they were.  ``attrs`` holds
        ``export`` (layout found: server, headers, encoding, separator, tables),
        ``export_columns`` (each export column → what it was read as), ``export_problems``
        (unrecognised columns, one-hot disagreements...; :func:`validate` reports them),
        ``absent_questions`` and ``repeats`` (repeat-group tables with ``_row``, the
        submission's row in this table, and ``_parent_row``).

    Raises
    ------
    QuestionnaireError
        No column matches the form, or two columns hold the same question with different
        values (both named).
    DataError
        Unreadable file, duplicate column names.

    Examples
    --------
    >>> import pandas as pd, survey_stats as ss
    >>> form = ss.load_questionnaire(ss.questionnaire_path("deregistered"))
    >>> raw = pd.DataFrame({"policy/channels/tv": [1, 0], "policy-channels-wechat": ["1", "1"], "_uuid": ["a", "b"]})
    >>> ss.read_export(raw, form)["channels"].tolist()
    ['wechat tv', 'wechat']
    """
    tables, info = _load_tables(data)
    tables = [(n, _working_copy(n, t)) for n, t in tables]
    fields = form_fields(questionnaire)
    main_i = next((i for i, (_, t) in enumerate(tables) if not set(_PARENT_LINKS) & set(t.columns)), 0)
    main_name, main_raw = tables[main_i]
    main_raw, tag_row = _drop_tag_row(main_raw)
    lang = _header_style([main_raw] + [t for i, (_, t) in enumerate(tables) if i != main_i], fields, questionnaire,
                         language)
    main = _normalise(main_name, main_raw, questionnaire, fields, lang, None)
    _check_recognised(main, main_raw, fields, questionnaire)
    others = [(n, t) for i, (n, t) in enumerate(tables) if i != main_i]
    repeat_tables, problems = _read_repeats(others, questionnaire, fields, lang)
    problems = main.problems + problems + _link_repeats(main_raw, repeat_tables, fields)
    columns = {f"{main_name}:{k}" if len(tables) > 1 else k: v for k, v in main.columns.items()}
    for t, _ in repeat_tables:
        columns.update({f"{t.name}:{k}": v for k, v in t.columns.items()})
    repeats = RepeatTables({t.repeat: t.out for t, _ in repeat_tables})
    if not repeats and isinstance(data, pd.DataFrame) and data.attrs.get("repeats"):
        repeats = RepeatTables(data.attrs["repeats"])  # a frame read before, with columns added since
    out = main.out
    present = set(out.columns) | {c for t in repeats.values() for c in t.columns}
    out.attrs.update(
        export={**info, "server": _server(list(main_raw.columns)), "tables": [n for n, _ in tables],
                "headers": "xml" if lang is None else f"labels:{lang}", "hxl_tag_row": tag_row},
        export_columns=columns, export_problems=problems, repeats=repeats,
        absent_questions=[f.key for f in fields if f.q.answered and f.key not in present],
        export_output_columns=[str(c) for c in out.columns])
    return out


_PARENT_LINKS = ("_parent_index", "PARENT_KEY", "_parent_table_name")


def _check_recognised(main: _Table, raw: pd.DataFrame, fields: list[_Field], form: Questionnaire) -> None:
    """Refuse an export none of whose (non-metadata) columns is a question of the form."""
    keys = {f.key for f in fields}
    cols = [str(c) for c in raw.columns]
    if any(not is_metadata(c) for c in cols) and not keys & set(main.out.columns):
        raise QuestionnaireError(
            f"no column of this export matches a question of form {form.form_id!r} "
            f"(first columns: {', '.join(map(repr, cols[:6]))}); is it the export of another form, or labels in a "
            f"language the form does not have (form languages: {', '.join(form.languages) or 'none'})?")


def _read_repeats(tables: list[tuple[str, pd.DataFrame]], form: Questionnaire, fields: list[_Field],
                  language: str | None) -> tuple[list[tuple[_Table, pd.DataFrame]], list[dict[str, Any]]]:
    """Each further sheet/table read as the repeat group it holds (or reported when it holds none)."""
    reps = repeat_groups(form)
    read: list[tuple[_Table, pd.DataFrame]] = []
    problems: list[dict[str, Any]] = []
    for name, raw in tables:
        raw, _ = _drop_tag_row(raw)
        rep = _repeat_of(name, raw, reps, fields)
        if rep is None:
            problems.append(_problem(None, name, "sheet/table not matched to a repeat group of the form; not read",
                                     table=name))
            continue
        t = _normalise(name, raw, form, [f for f in fields if f.repeat == rep], language, rep)
        read.append((t, raw))
        problems += t.problems
    return read, problems


def _working_copy(name: str, t: pd.DataFrame) -> pd.DataFrame:
    """The table with text headers and no ``attrs`` (pandas copies ``attrs`` on every operation)."""
    out = t.set_axis([str(c).strip() for c in t.columns], axis=1)
    out.attrs = {}
    dup = sorted(c for c, k in Counter(out.columns).items() if k > 1)
    if dup:
        raise DataError(f"export table {name!r}: column name(s) {', '.join(map(repr, dup))} appear more than once. "
                        + _SHARED_HEADER)
    if not out.index.is_unique:
        raise DataError(f"export table {name!r}: the row index has duplicate labels; call reset_index() first.")
    return out


def _server(cols: list[str]) -> str:
    if {"SubmissionDate", "KEY", "ReviewState"} & set(cols):
        return "central"
    if {"_uuid", "_submission_time", "_index", "_id"} & set(cols):
        return "kobo"
    return "unknown"


def is_metadata(column: str) -> bool:
    """True for the metadata columns KoboToolbox, ODK Central and ODK Briefcase add to exports.

    Examples
    --------
    >>> [is_metadata(c) for c in ("_uuid", "meta-instanceID", "ReviewState", "age")]
    [True, True, True, False]
    """
    return column in _METADATA or column.startswith(_META_PREFIXES)


def is_normalised(df: Any) -> bool:
    """True when *df* came from :func:`read_export` and has no column added since (so it need not be read again).

    Examples
    --------
    >>> import pandas as pd, survey_stats as ss
    >>> form = ss.load_questionnaire(ss.questionnaire_path("deregistered"))
    >>> raw = pd.DataFrame({"household_id": ["D1"]})
    >>> is_normalised(raw), is_normalised(ss.read_export(raw, form))
    (False, True)
    """
    if not isinstance(df, pd.DataFrame) or "export_output_columns" not in df.attrs:
        return False
    return set(map(str, df.columns)) <= set(df.attrs["export_output_columns"])


# ---------------------------------------------------------------- write_export

_Pairs = list[tuple[str, list[str]]]  # (header, cells) in export order; headers may repeat

def write_export(
    data: pd.DataFrame,
    questionnaire: Questionnaire,
    layout: str | ExportLayout = "kobo_default",
    *,
    path: str | Path | None = None,
) -> dict[str, pd.DataFrame]:
    """Lay out normalised responses as KoboToolbox or ODK Central would export them (for tests).

    Parameters
    ----------
    data : DataFrame
        Answers with XML codes: the result of :func:`read_export`, or anything it reads (such
        as :func:`generate_responses` output); ``_uuid`` and ``_submission_time`` are used
        when present.
    questionnaire : Questionnaire
    layout : str or ExportLayout
        A name in :data:`EXPORT_LAYOUTS` or an :class:`ExportLayout`.
    path : path, optional
        Also write the export: ``.csv`` (main table, the layout's separator and encoding,
        KoboToolbox quotes every cell), ``.xlsx`` (a sheet per table) or ``.zip`` (a CSV per
        table, as ODK Central).  Cells are written as text, never as formulas.

    Returns
    -------
    dict
        Table name → DataFrame of text cells; the main table first, then one per repeat
        group (each submission gets one repeat instance).

    Examples
    --------
    >>> import survey_stats as ss
    >>> form = ss.load_questionnaire(ss.questionnaire_path("deregistered"))
    >>> data = ss.read_export(ss.generate_responses(form, 3, seed=1), form)
    >>> main = next(iter(write_export(data, form, "central").values()))
    >>> [c for c in main.columns if "channels" in c][:2], main.columns[0]
    (['policy-channels', 'policy-channels/community'], 'SubmissionDate')
    >>> ss.read_export(main, form)["channels"].equals(data["channels"])
    True
    """
    lay = EXPORT_LAYOUTS[layout] if isinstance(layout, str) and layout in EXPORT_LAYOUTS else layout
    if not isinstance(lay, ExportLayout):
        raise QuestionnaireError(f"unknown export layout {layout!r}; use one of {', '.join(EXPORT_LAYOUTS)} "
                                 "or an ExportLayout.")
    if lay.headers == "labels":
        lang = lay.language or (questionnaire.languages[0] if questionnaire.languages else None)
        if lang is None or lang not in questionnaire.languages:
            raise QuestionnaireError(f"form {questionnaire.form_id!r} has no language {lang!r} for label headers.")
        lay = replace(lay, language=lang)
    if not is_normalised(data):
        data = read_export(data, questionnaire)
    fields = [f for f in form_fields(questionnaire) if f.key in data.columns]
    ids = _submission_ids(data, questionnaire)
    tables: dict[str, pd.DataFrame] = {}
    main_name = re.sub(r"[\[\]:*?/\\]", "_", questionnaire.form_id)[:31] or "data"
    main_cols = _table_columns(data, questionnaire, [f for f in fields if f.repeat is None], lay, ())
    tables[main_name] = _with_metadata(main_cols, data, ids, lay)
    for rep in dict.fromkeys(f.repeat for f in fields if f.repeat):
        rf = [f for f in fields if f.repeat == rep]
        base = rf[0].path[:rf[0].path.index(rep) + 1]
        cols = _table_columns(data, questionnaire, rf, lay, base if lay.server == "central" else ())
        chain = rf[0].repeats
        name = f"{main_name}-{rep}" if lay.server == "central" else rep[:31]
        tables[name] = _repeat_metadata(cols, ids, lay, chain, main_name, base)
    if path is not None:
        _save(tables, Path(path), lay)
    return tables


def _submission_ids(data: pd.DataFrame, form: Questionnaire) -> list[str]:
    if "_uuid" in data.columns and all(_present(v) for v in data["_uuid"]):
        return [str(v) for v in data["_uuid"]]
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{form.form_id}/{i}")) for i in range(len(data))]


def _header(f: _Field, lay: ExportLayout, base: tuple[str, ...]) -> str:
    path = f.path[len(base):]
    if lay.headers == "labels":
        label = _norm_label(f.q.labels.get(lay.language or "", "")) or f.q.name
        path = (*path[:-1], label)
    if lay.group_sep is None:
        return path[-1]
    return lay.group_sep.join(path)


def _table_columns(data: pd.DataFrame, form: Questionnaire, fields: list[_Field], lay: ExportLayout,
                   base: tuple[str, ...]) -> _Pairs:
    cols: _Pairs = []
    for f in fields:
        h = _header(f, lay, base)
        values = data[f.key].tolist()
        q = f.q
        if q.type == "geopoint":
            _geo_columns(cols, h, values, lay)
            continue
        if q.type == "select_multiple" and lay.select_multiple in ("details", "both"):
            if lay.select_multiple == "both":
                cols.append((h, [_value_text(v, q, form, lay) for v in values]))
            sep = "/" if lay.server == "central" else (lay.group_sep or "/")
            for c in form.choices.get(q.list_name or "", ()):
                text = _norm_label(c.labels.get(lay.language or "", "")) if lay.headers == "labels" else ""
                label = text or c.name
                cols.append((f"{h}{sep}{label}", [_onehot_text(v, c.name, lay) for v in values]))
            continue
        cols.append((h, [_value_text(v, q, form, lay) for v in values]))
    return cols


def _geo_columns(cols: _Pairs, h: str, values: list[Any], lay: ExportLayout) -> None:
    parts = [str(v).split() if _present(v) else [] for v in values]
    if lay.server == "central":
        for i, name in enumerate(("Latitude", "Longitude", "Altitude", "Accuracy")):
            cols.append((f"{h}-{name}", [p[i] if len(p) > i else "" for p in parts]))
        return
    cols.append((h, [_text(v) for v in values]))
    prefix = h[: len(h) - len(h.split(lay.group_sep)[-1])] if lay.group_sep else ""
    own = h[len(prefix):]  # the question's name, or its label in a labels export
    for i, name in enumerate(("latitude", "longitude", "altitude", "precision")):
        cols.append((f"{prefix}_{own}_{name}", [p[i] if len(p) > i else "" for p in parts]))


def _text(v: Any) -> str:
    if not _present(v):
        return ""
    if isinstance(v, float) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _value_text(v: Any, q: Question, form: Questionnaire, lay: ExportLayout) -> str:
    s = _text(v)
    if not s or lay.headers == "xml" or q.type not in ("select_one", "select_multiple"):
        return s
    labels = {c.name: _norm_label(c.labels.get(lay.language or "", "")) or c.name
              for c in form.choices.get(q.list_name or "", ())}
    return " ".join(labels.get(t, t) for t in s.split()) if q.type == "select_multiple" else labels.get(s, s)


def _onehot_text(v: Any, code: str, lay: ExportLayout) -> str:
    if not _present(v):
        return "0" if lay.server == "central" else ""
    return "1" if code in str(v).split() else "0"


def _with_metadata(cols: _Pairs, data: pd.DataFrame, ids: list[str], lay: ExportLayout) -> pd.DataFrame:
    n = len(ids)
    times = [_text(v) for v in data["_submission_time"]] if "_submission_time" in data.columns else [""] * n
    if lay.server == "central":
        inst = "meta-instanceID" if lay.group_sep else "instanceID"
        keys = [f"uuid:{u}" for u in ids]
        return _frame([("SubmissionDate", times), *cols, (inst, keys), ("KEY", keys), ("SubmitterID", ["5"] * n),
                       ("SubmitterName", ["enumerator"] * n), ("AttachmentsPresent", ["0"] * n),
                       ("AttachmentsExpected", ["0"] * n), ("Status", [""] * n), ("ReviewState", [""] * n),
                       ("DeviceID", [""] * n), ("Edits", ["0"] * n), ("FormVersion", ["1"] * n)])
    count = [str(i + 1) for i in range(n)]
    return _frame([*cols, ("_id", count), ("_uuid", ids), ("_submission_time", times), ("_validation_status", [""] * n),
                   ("_notes", [""] * n), ("_status", ["submitted_via_web"] * n), ("_submitted_by", [""] * n),
                   ("_tags", [""] * n), ("_index", count)])


def _repeat_metadata(cols: _Pairs, ids: list[str], lay: ExportLayout, chain: tuple[str, ...], main_name: str,
                     base: tuple[str, ...]) -> pd.DataFrame:
    """Link columns of a repeat table whose every submission has one instance (``chain``: its repeats, outside in)."""
    n = len(ids)
    parent = chain[-2] if len(chain) > 1 else None
    if lay.server == "central":  # KEY = instance id, then each group, with [1] after every repeat
        def key_at(path: tuple[str, ...], u: str) -> str:
            return f"uuid:{u}" + "".join(f"/{g}" + ("[1]" if g in chain else "") for g in path)

        parent_path = base[: base.index(parent) + 1] if parent else ()
        return _frame([*cols, ("PARENT_KEY", [key_at(parent_path, u) for u in ids]),
                       ("KEY", [key_at(base, u) for u in ids])])
    count = [str(i + 1) for i in range(n)]
    return _frame([*cols, ("_index", count), ("_parent_table_name", [parent or main_name] * n),
                   ("_parent_index", count), ("_submission__id", count), ("_submission__uuid", ids)])


def _frame(pairs: _Pairs) -> pd.DataFrame:
    """A table of text cells; two columns may share a header, as in a labels export of two same-labelled questions."""
    n = len(pairs[0][1]) if pairs else 0
    table = pd.DataFrame({i: pd.Series(values, dtype=object) for i, (_, values) in enumerate(pairs)},
                         index=pd.RangeIndex(n))
    table.columns = [h for h, _ in pairs]
    return table


def _csv_bytes(table: pd.DataFrame, lay: ExportLayout) -> bytes:
    buf = io.StringIO()
    quoting = csv.QUOTE_ALL if lay.server == "kobo" else csv.QUOTE_MINIMAL
    w = csv.writer(buf, delimiter=lay.sep, quoting=quoting, lineterminator="\r\n" if lay.server == "central" else "\n")
    w.writerow([neutralise(str(c)) for c in table.columns])
    for row in table.itertuples(index=False):
        w.writerow([neutralise(_text(v)) for v in row])
    try:
        return buf.getvalue().encode(lay.encoding)
    except UnicodeEncodeError as exc:
        raise DataError(f"the export holds text that {lay.encoding} cannot encode ({exc.object[exc.start:exc.end]!r}); "
                        "use utf-8.") from exc


def _save(tables: dict[str, pd.DataFrame], path: Path, lay: ExportLayout) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_bytes(_csv_bytes(next(iter(tables.values())), lay))
    elif suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, t in tables.items():
                zf.writestr(f"{name}.csv", _csv_bytes(t, lay))
    elif suffix == ".xlsx":
        _save_xlsx(tables, path)
    else:
        raise DataError(f"{path.name}: write an export as .csv, .xlsx or .zip.")


def _save_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table; every cell a text cell (never a formula), nothing masked: it is the data itself."""
    write_workbook(path, tables, mask=False, freeze_header=False)
