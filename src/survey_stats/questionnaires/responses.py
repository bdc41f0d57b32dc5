"""Read KoboToolbox/ODK exports, validate them against the questionnaire, code them for analysis."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_option
from ..errors import QuestionnaireError
from ..privacy import detect_pii_columns, mask_id_card, mask_phone
from .expressions import NotEvaluated
from .schema import Question, Questionnaire

__all__ = ["ValidationReport", "code_responses", "read_export", "validate"]

_META = {"start", "end", "today", "deviceid", "username", "simserial", "subscriberid", "phonenumber",
         "instanceID", "meta/instanceID", "__version__", "formhub/uuid"}


def _is_meta(col: str) -> bool:
    return col.startswith("_") or col in _META or col.startswith("meta/") or col.startswith("formhub/")


def read_export(data: pd.DataFrame | str | Path, questionnaire: Questionnaire) -> pd.DataFrame:
    """Normalise a KoboToolbox/ODK export to one column per question.

    Accepts a DataFrame or a CSV/XLSX path.  Group prefixes (``grp/q`` or ``grp-q``) are
    removed; select-multiple answers exported as one 0/1 column per code (``q/code``)
    are joined into the usual space-separated form; metadata columns (``_uuid``,
    ``_submission_time``, ``start``...) are kept as they are.

    Examples
    --------
    >>> import pandas as pd, survey_stats as ss
    >>> form = ss.load_questionnaire(ss.questionnaire_path("deregistered"))
    >>> raw = pd.DataFrame({"policy/channels/tv": [1, 0], "policy/channels/wechat": [1, 1], "_uuid": ["a", "b"]})
    >>> ss.read_export(raw, form)["channels"].tolist()
    ['tv wechat', 'wechat']
    """
    if isinstance(data, (str, Path)):
        p = Path(data)
        if p.suffix.lower() in (".xlsx", ".xlsm"):
            data = pd.read_excel(p, dtype=str, engine="openpyxl")
        else:
            data = pd.read_csv(p, dtype=str, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    df = data.copy()
    names = set(questionnaire.names())
    multi = {q.name for q in questionnaire.questions if q.type == "select_multiple"}
    groups = sorted(questionnaire.groups, key=len, reverse=True)
    out: dict[str, pd.Series] = {}
    onehot: dict[str, dict[str, pd.Series]] = {}
    for col in df.columns:
        c = str(col)
        if _is_meta(c):
            out[c] = df[col]
            continue
        parts = c.split("/")
        if len(parts) == 1:
            stripped = c
            changed = True
            while changed:  # "grp-q" exports: strip known group names followed by "-"
                changed = False
                for g in groups:
                    if stripped.startswith(g + "-") and stripped[len(g) + 1:]:
                        stripped, changed = stripped[len(g) + 1:], True
            parts = [stripped]
        if parts[-1] in names and not (len(parts) >= 2 and parts[-2] in multi):
            out[parts[-1]] = df[col]
        elif len(parts) >= 2 and parts[-2] in multi:
            onehot.setdefault(parts[-2], {})[parts[-1]] = df[col]
        else:
            out[c] = df[col]  # unknown column: kept, reported by validate()
    for q, cols in onehot.items():
        if q in out:
            continue
        frame = pd.DataFrame(cols).apply(pd.to_numeric, errors="coerce")
        answered = frame.notna().any(axis=1)
        joined = frame.apply(lambda r: " ".join(k for k, v in r.items() if v == 1), axis=1)
        out[q] = joined.where(answered, np.nan)
    return pd.DataFrame(out, index=df.index)


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
        return self.problems.groupby(["problem", "column"]).size().rename("count").reset_index()

    def to_excel(self, path: str | Path, sheet: str = "validation") -> Path:
        """Write the problem list as an Excel sheet."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            self.problems.to_excel(xw, sheet_name=sheet[:31], index=False)
        return path

    def __str__(self) -> str:
        if self.ok:
            return f"{self.form_id}: {self.n_rows} rows, no problems"
        return f"{self.form_id}: {self.n_rows} rows, {len(self.problems)} problem(s)\n{self.summary().to_string(index=False)}"


def _present(v: Any) -> bool:
    return not (v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v.strip() == ""))


def _shown(value: Any, column: str, pii: dict[str, str]) -> Any:
    kind = pii.get(column)
    if kind == "phone":
        return mask_phone(value)
    if kind == "id_card":
        return mask_id_card(value)
    if kind in ("name", "address"):
        return "***"
    return value


def validate(
    responses: pd.DataFrame,
    questionnaire: Questionnaire,
    *,
    id_column: str | None = "household_id",
    strict: bool = False,
) -> ValidationReport:
    """Check responses against the questionnaire; nothing is dropped or changed.

    Reports unknown choice codes, missing required answers (where the question is
    relevant), non-numeric or non-integer numbers, constraint violations, duplicate
    submissions (repeated ``_uuid`` or id), and columns the form does not define.
    Personal data in the ``value`` column are masked.

    Parameters
    ----------
    responses : DataFrame
        As returned by :func:`read_export` (or already one column per question).
    questionnaire : Questionnaire
    id_column : str, optional
        Household id column used to find duplicate submissions.
    strict : bool
        Raise :class:`QuestionnaireError` when anything is found.

    Returns
    -------
    ValidationReport
        ``problems`` has columns ``row, submission, column, problem, value``.
    """
    df = responses if set(questionnaire.names()) & set(responses.columns) else read_export(responses, questionnaire)
    rows: list[dict[str, Any]] = []
    pii = detect_pii_columns(df.columns)
    sub = df["_uuid"] if "_uuid" in df.columns else pd.Series([None] * len(df), index=df.index)

    def add(idx: Any, col: str | None, problem: str, value: Any = None) -> None:
        rows.append({"row": idx, "submission": sub.get(idx) if idx is not None else None, "column": col,
                     "problem": problem, "value": _shown(value, col or "", pii)})

    known = set(questionnaire.names())
    for c in df.columns:
        if not _is_meta(str(c)) and c not in known:
            add(None, str(c), "column not in the questionnaire")
    records = df.to_dict("index")
    skipped: dict[tuple[str, str], str] = {}  # (question, expression kind) → why it was not evaluated
    for idx, rec in records.items():
        values = {k: (None if not _present(v) else v) for k, v in rec.items()}
        for q in questionnaire.questions:
            col = q.key or q.name  # the name, or grp/name when two groups use the same name
            if not q.answered or col not in df.columns:
                continue
            v = values.get(col)
            relevant: bool | None = None
            try:
                relevant = questionnaire.is_relevant(q, values)
            except NotEvaluated as exc:
                skipped.setdefault((col, "relevant"), exc.reason)
            if not _present(v):
                if q.required and relevant is True:
                    add(idx, col, "missing required answer")
                continue
            problem = _check_value(questionnaire, q, v)
            if problem:
                add(idx, col, problem, v)
                continue
            try:
                if not questionnaire.satisfies(q, values, _typed(q, v)):
                    add(idx, col, f"violates constraint {q.constraint}", v)
            except NotEvaluated as exc:
                skipped.setdefault((col, "constraint"), exc.reason)
    for (col, kind), reason in skipped.items():  # once per question, counted in summary()
        add(None, col, f"not evaluated: {reason} ({kind})")
    for key in ("_uuid", id_column):
        if key and key in df.columns:
            dup = df[key].duplicated(keep="first") & df[key].notna()
            for idx in df.index[dup]:
                add(idx, key, "duplicate submission", df.at[idx, key])
    problems = pd.DataFrame(rows, columns=["row", "submission", "column", "problem", "value"])
    report = ValidationReport(problems, len(df), questionnaire.form_id)
    if strict and not report.ok:
        raise QuestionnaireError(f"responses do not validate against {questionnaire.form_id!r}:\n{report}")
    return report


def _relevant(form: Questionnaire, q: Question, values: dict[str, Any]) -> bool | None:
    """True / False, or None when a relevance expression cannot be evaluated."""
    exprs = [*form.group_relevance(q), q.relevant]
    for e in exprs:
        if not e:
            continue
        from .expressions import UnsupportedExpression, compile_expression

        try:
            f = compile_expression(e)
        except UnsupportedExpression:
            return None
        if not f(values, None):
            return False
    return True


def _typed(q: Question, v: Any) -> Any:
    if q.type in ("integer", "decimal"):
        try:
            return float(v)
        except (TypeError, ValueError):
            return v
    return v


def _check_value(form: Questionnaire, q: Question, v: Any) -> str | None:
    if q.type == "select_one":
        if str(v).strip() not in form.codes(q.key or q.name):
            return "unknown choice code"
    elif q.type == "select_multiple":
        bad = [c for c in str(v).split() if c not in form.codes(q.key or q.name)]
        if bad:
            return "unknown choice code"
    elif q.type in ("integer", "decimal"):
        try:
            x = float(v)
        except (TypeError, ValueError):
            return "not a number"
        if q.type == "integer" and not float(x).is_integer():
            return "not a whole number"
    return None


def code_responses(responses: pd.DataFrame, questionnaire: Questionnaire, *, language: str | None = None) -> pd.DataFrame:
    """Turn answers into analysis columns named after the indicators they feed.

    Codings (``survey_stats::coding``): ``top2`` — a 5-point scale is 1 for its two top
    codes (4, 5), else 0; ``yes`` / ``no`` — 1 for that answer, 0 for the other;
    ``in:a b`` — 1 for the listed codes; ``value`` — the number; ``multi`` — the
    space-separated codes (for :func:`survey_stats.channel_reach`).  Declared missing
    codes (don't know, refused) and unanswered or non-relevant items become NaN, never
    0.  Other questions are kept as they are, numbers converted to numbers.

    Examples
    --------
    >>> import pandas as pd, survey_stats as ss
    >>> form = ss.load_questionnaire(ss.questionnaire_path("deregistered"))
    >>> raw = pd.DataFrame({"household_id": ["DR1", "DR2", "DR3"], "sat_overall": ["5", "3", "dk"],
    ...                     "exit_right": ["no", "yes", "dk"]})
    >>> code_responses(raw, form)[["satisfied", "wrong_exit"]].values.tolist()
    [[1.0, 1.0], [0.0, 0.0], [nan, nan]]
    """
    df = responses if set(questionnaire.names()) & set(responses.columns) else read_export(responses, questionnaire)
    out = df.copy()
    for q in questionnaire.questions:
        if q.name not in df.columns:
            continue
        col = df[q.name]
        if q.type in ("integer", "decimal"):
            out[q.name] = pd.to_numeric(col, errors="coerce")
        if not q.indicator:
            continue
        miss_codes = set(questionnaire.codes(q.name, missing=True)) if q.list_name else set()
        s = col.astype("string").str.strip()
        missing = col.isna() | s.isin(miss_codes).fillna(False) | (s == "")
        c = q.coding
        if c == "multi":
            coded = col.where(~col.isna(), np.nan)
        elif c == "value":
            coded = pd.to_numeric(col, errors="coerce")
        else:
            if c == "top2":
                hits = {"4", "5"}
            elif c in ("yes", "no"):
                hits = {c}
            else:
                hits = set(c[3:].split())
            coded = s.isin(hits).astype(float)
        out[q.indicator] = coded.where(~missing, np.nan) if c != "multi" else coded
    return out
