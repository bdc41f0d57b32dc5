"""Read KoboToolbox/ODK exports, validate them against the questionnaire, code them for analysis."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import QuestionnaireError
from ..privacy import detect_pii_columns, mask_id_card, mask_phone, mask_text
from .exports import canonical_code, canonical_multi, form_fields, is_normalised, read_export
from .expressions import NotEvaluated
from .schema import Question, Questionnaire

__all__ = ["ValidationReport", "code_responses", "read_export", "validate"]

_SUBMISSION_IDS = ("_uuid", "KEY", "meta/instanceID", "meta-instanceID", "instanceID")


@dataclass(frozen=True)
class ValidationReport:
    """Problems found in a response file: one row per (row, column, problem)."""

    problems: pd.DataFrame
    n_rows: int
    form_id: str

    @property
    def ok(self) -> bool:
        return len(self.problems) == 0

    def summary(self) -> pd.DataFrame:
        """Count of problems by kind and column."""
        if self.ok:
            return pd.DataFrame(columns=["problem", "column", "count"])
        return self.problems.groupby(["problem", "column"], dropna=False).size().rename("count").reset_index()

    def to_excel(self, path: str | Path, sheet: str = "validation") -> Path:
        """Write the problem list as an Excel sheet (text cells never formulas; ID/phone numbers masked)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        from ..safe_output import write_workbook

        write_workbook(path, {sheet: self.problems}, mask=True, personal="mask")
        return path

    def __str__(self) -> str:
        if self.ok:
            return f"{self.form_id}: {self.n_rows} rows, no problems"
        summary = self.summary().to_string(index=False)
        return f"{self.form_id}: {self.n_rows} rows, {len(self.problems)} problem(s)\n{summary}"


def _present(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return False
    if isinstance(v, float) and math.isnan(v):
        return False
    return not (isinstance(v, str) and v.strip() == "")


def _mask_text(value: Any) -> Any:
    """Mask ID-card, mobile and landline numbers found anywhere in a value, whatever its column is called."""
    return mask_text(str(value))[0] if _present(value) else value


def _shown(value: Any, column: str, pii: dict[str, str]) -> Any:
    kind = pii.get(column)
    if not _present(value):
        return value
    if kind == "phone":
        return mask_phone(value)
    if kind == "id_card":
        return mask_id_card(value)
    if kind in ("name", "address"):
        return "***"
    return _mask_text(value) if isinstance(value, str) else value


class _Skipped:
    """Expressions that could not be evaluated: reported once per (question, kind), never guessed."""

    def __init__(self) -> None:
        self.reasons: dict[tuple[str, str], str] = {}

    def run(self, key: str, kind: str, test: Callable[..., bool], *args: Any) -> bool | None:
        try:
            return bool(test(*args))
        except NotEvaluated as exc:
            self.reasons.setdefault((key, kind), exc.reason)
            return None


def validate(
    responses: pd.DataFrame | Mapping[str, pd.DataFrame] | str | Path,
    questionnaire: Questionnaire,
    *,
    id_column: str | None = "household_id",
    strict: bool = False,
    language: str | None = None,
) -> ValidationReport:
    """Check responses against the questionnaire; nothing is dropped or changed.

    A raw export (DataFrame, path, or mapping of sheets) is first read with
    :func:`read_export`, so every layout KoboToolbox and ODK Central write is checked the same
    way, group-prefixed columns included.  Reports unknown choice codes, missing required
    answers (where the question is relevant), required questions absent from the export,
    non-numeric or non-integer numbers, constraint violations, duplicate submissions
    (repeated submission id or household id), export columns the form does not define,
    select-multiple columns that disagree, repeat rows without a parent, and expressions
    that cannot be evaluated ("not evaluated", once per question).  Repeat-group rows are
    checked with their submission's answers in scope.  Phone and ID-card numbers in
    ``value`` are masked, whatever their column is called.

    Parameters
    ----------
    responses : DataFrame, mapping of DataFrames, or path
        A raw export or the result of :func:`read_export`.
    questionnaire : Questionnaire
    id_column : str, optional
        Household id column used to find duplicate submissions.
    strict : bool
        Raise :class:`QuestionnaireError` when anything is found.
    language : str, optional
        Language of label headers (detected when None).

    Returns
    -------
    ValidationReport
        ``problems`` has columns ``row, submission, column, problem, value, table``
        (``table`` names the repeat group of a repeat-row problem; ``row`` is always the
        submission's row).

    Examples
    --------
    >>> import pandas as pd, survey_stats as ss
    >>> form = ss.load_questionnaire(ss.questionnaire_path("deregistered"))
    >>> raw = ss.generate_responses(form, 5, seed=1).drop(columns=["household_id"])
    >>> ss.validate(raw, form).problems[["column", "problem"]].values.tolist()
    [['household_id', 'required question not in the export']]
    """
    df = responses if is_normalised(responses) else read_export(responses, questionnaire, language=language)
    fields = form_fields(questionnaire)
    by_key = {f.key: f for f in fields}
    repeats: dict[str, pd.DataFrame] = dict(df.attrs.get("repeats", {}))
    pii = detect_pii_columns([*df.columns, *(c for t in repeats.values() for c in t.columns)])
    sub_col = next((c for c in _SUBMISSION_IDS if c in df.columns), None)
    rows: list[dict[str, Any]] = []

    def add(idx: Any, col: str | None, problem: str, value: Any = None, table: str | None = None) -> None:
        submission = df.at[idx, sub_col] if sub_col is not None and idx is not None and idx in df.index else None
        rows.append({"row": idx, "submission": submission, "column": col, "problem": problem,
                     "value": _shown(value, col or "", pii), "table": table})

    for p in df.attrs.get("export_problems", []):
        add(p["row"], p["column"], p["problem"], p.get("value"), p.get("table"))
    _absent(df, by_key, repeats, add)
    skipped = _Skipped()
    main_fields = [f for f in fields if f.q.answered and f.key in df.columns]
    records = df.to_dict("index")
    for idx, rec in records.items():
        _check_row(questionnaire, main_fields, _context(fields, rec), rec, skipped, lambda *a, i=idx: add(i, *a))
    rows_of = {rep: table.to_dict("index") for rep, table in repeats.items()}
    parent_of = {f.repeat: f.repeats[-2] for f in fields if f.repeat and len(f.repeats) > 1}
    for rep, table in repeats.items():
        rep_fields = [f for f in fields if f.q.answered and f.key in table.columns]
        for rec in rows_of[rep].values():
            root = rec.get("_row")
            scope = _context(fields, records.get(root, {}) if _present(root) else {})
            for ancestor in _ancestors(rep, rec, parent_of, rows_of):
                scope.update(_context(fields, ancestor))
            _check_row(questionnaire, rep_fields, scope, rec, skipped,
                       lambda c, pr, v=None, r=root, t=rep: add(r if _present(r) else None, c, pr, v, t))
    for (key, kind), reason in skipped.reasons.items():  # once per question; counted in summary()
        add(None, key, f"not evaluated: {reason} ({kind})")
    for key in dict.fromkeys(k for k in (sub_col, id_column) if k):
        if key in df.columns:
            cells = df[key].astype(object)
            present = np.array([_present(v) for v in cells], dtype=bool)
            dup = cells.duplicated(keep="first").to_numpy(dtype=bool) & present
            for idx in df.index[dup]:
                add(idx, key, "duplicate submission", df.at[idx, key])
    problems = pd.DataFrame(rows, columns=["row", "submission", "column", "problem", "value", "table"])
    report = ValidationReport(problems, len(df), questionnaire.form_id)
    if strict and not report.ok:
        raise QuestionnaireError(f"responses do not validate against {questionnaire.form_id!r}:\n{report}")
    return report


def _ancestors(rep: str, rec: dict[str, Any], parent_of: dict[str, str],
               rows_of: dict[str, dict[Any, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The enclosing repeat rows of a repeat row, outermost first, then the row itself."""
    chain = [rec]
    while rep in parent_of and _present(chain[0].get("_parent_row")):
        rep = parent_of[rep]
        parent = rows_of.get(rep, {}).get(chain[0]["_parent_row"])
        if parent is None:
            break
        chain.insert(0, parent)
    return chain


def _absent(df: pd.DataFrame, by_key: dict[str, Any], repeats: dict[str, pd.DataFrame], add: Any) -> None:
    for key in df.attrs.get("absent_questions", []):
        f = by_key.get(key)
        if f is None or not f.q.required:
            continue
        note = ""
        if f.repeat is not None and f.repeat not in repeats:
            note = (f" (it is in repeat group {f.repeat!r}, and the export has no sheet for it: KoboToolbox's CSV "
                    "export leaves repeat groups out; download XLSX, or ODK Central's zip)")
        add(None, key, "required question not in the export" + note)


def _context(fields: list[Any], rec: dict[str, Any]) -> dict[str, Any]:
    """Answers by question key, as the form's expressions look them up."""
    return {f.key: (rec[f.key] if _present(rec[f.key]) else None) for f in fields if f.key in rec}


def _check_row(form: Questionnaire, fields: list[Any], values: dict[str, Any], rec: dict[str, Any],
               skipped: _Skipped, add: Any) -> None:
    for f in fields:
        q, v = f.q, rec.get(f.key)
        relevant = skipped.run(f.key, "relevant", form.is_relevant, q, values)
        if not _present(v):
            if relevant and skipped.run(f.key, "required", form.is_required, q, values):
                add(f.key, "missing required answer")
            continue
        problem = _check_value(form, q, v)
        if problem:
            add(f.key, problem, v)
            continue
        if q.constraint and skipped.run(f.key, "constraint", form.satisfies, q, values, _typed(q, v)) is False:
            add(f.key, f"violates constraint {q.constraint}", v)
        if q.choice_filter and q.type in ("select_one", "select_multiple"):
            offered = _offered(form, q, values, skipped, f.key)
            if offered is not None and any(c not in offered for c in _chosen(form, q, v)):
                add(f.key, f"choice not offered by the choice_filter {q.choice_filter}", v)


def _offered(form: Questionnaire, q: Question, values: dict[str, Any], skipped: _Skipped, key: str) -> set[str] | None:
    """Codes the form offers *q* given the other answers (its choice_filter), None when not evaluated."""
    try:
        return {c.name for c in form.choices_for(q, values)}
    except NotEvaluated as exc:
        skipped.reasons.setdefault((key, "choice_filter"), exc.reason)
        return None


def _chosen(form: Questionnaire, q: Question, v: Any) -> list[str]:
    codes = _codes(form, q)
    parts = [v] if q.type == "select_one" else str(v).split()
    return [canonical_code(c, codes) for c in parts]


def _typed(q: Question, v: Any) -> Any:
    if q.type in ("integer", "decimal"):
        try:
            return float(v)
        except (TypeError, ValueError):
            return v
    return v


def _codes(form: Questionnaire, q: Question, *, missing: bool | None = None) -> list[str]:
    """Choice codes of a select question (``missing`` filters declared missing codes)."""
    return [c.name for c in form.choices.get(q.list_name or "", ()) if missing is None or c.missing == missing]


def _check_value(form: Questionnaire, q: Question, v: Any) -> str | None:
    if q.type == "select_one":
        if canonical_code(v, _codes(form, q)) not in _codes(form, q):
            return "unknown choice code"
    elif q.type == "select_multiple":
        codes = _codes(form, q)
        if any(canonical_code(c, codes) not in codes for c in str(v).split()):
            return "unknown choice code"
    elif q.type in ("integer", "decimal"):
        try:
            x = float(str(v).strip()) if not isinstance(v, (bool, np.bool_)) else math.nan
        except (TypeError, ValueError):
            return "not a number"
        if not math.isfinite(x):
            return "not a number"
        if q.type == "integer" and not x.is_integer():
            return "not a whole number"
    return None


def code_responses(
    responses: pd.DataFrame | Mapping[str, pd.DataFrame] | str | Path,
    questionnaire: Questionnaire,
    *,
    language: str | None = None,
) -> pd.DataFrame:
    """Turn answers into analysis columns named after the indicators they feed.

    Codings (``survey_stats::coding``): ``top2`` — a 5-point scale is 1 for its two top
    codes (4, 5), else 0; ``yes`` / ``no`` — 1 for that answer, 0 for the other;
    ``in:a b`` — 1 for the listed codes; ``value`` — the number; ``multi`` — the
    space-separated codes (for :func:`survey_stats.channel_reach`).  Declared missing
    codes (don't know, refused) and unanswered or non-relevant items become NaN, never
    0.  Numeric answers written as numbers (``5.0``, ``"5.0"``) are read as the form's code
    (``"5"``).  Other questions are kept as they are, numbers converted to numbers.  A raw
    export is read with :func:`read_export` first.  The result carries no ``attrs`` (repeat
    tables stay on the :func:`read_export` result).

    Examples
    --------
    >>> import pandas as pd, survey_stats as ss
    >>> form = ss.load_questionnaire(ss.questionnaire_path("deregistered"))
    >>> raw = pd.DataFrame({"household_id": ["DR1", "DR2", "DR3", "DR4"], "sat_overall": ["5", "3", "dk", 5.0],
    ...                     "exit_right": ["no", "yes", "dk", "no"]})
    >>> code_responses(raw, form)[["satisfied", "wrong_exit"]].values.tolist()
    [[1.0, 1.0], [0.0, 0.0], [nan, nan], [1.0, 1.0]]
    """
    df = responses if is_normalised(responses) else read_export(responses, questionnaire, language=language)
    out = df.copy()
    out.attrs = {}  # analysis frames travel light: pandas copies attrs (repeat tables included) on every step
    for f in form_fields(questionnaire):
        q = f.q
        if f.key not in df.columns:
            continue
        col = df[f.key]
        if q.type in ("integer", "decimal"):
            out[f.key] = pd.to_numeric(col.map(lambda v: str(v).strip() if _present(v) else np.nan), errors="coerce")
        elif q.type in ("select_one", "select_multiple") and q.list_name:
            canon = canonical_code if q.type == "select_one" else canonical_multi
            codes = _codes(questionnaire, q)
            col = col.map(lambda v, c=codes, f=canon: f(v, c)).astype(object)
            out[f.key] = col
        if not q.indicator:
            continue
        out[q.indicator] = _code(col, q, questionnaire)
    return out


def _code(col: pd.Series, q: Question, form: Questionnaire) -> pd.Series:
    miss_codes = set(_codes(form, q, missing=True))
    s = col.map(lambda v: str(v).strip() if _present(v) else None)
    missing = s.isna() | s.isin(miss_codes) | (s == "")
    c = q.coding
    if c == "multi":
        return col.where(col.map(_present), np.nan)
    if c == "value":
        coded = pd.to_numeric(s, errors="coerce")
    else:
        hits = {"4", "5"} if c == "top2" else {c} if c in ("yes", "no") else set(c[3:].split())
        coded = s.isin(hits).astype(float)
    return coded.where(~missing, np.nan)
