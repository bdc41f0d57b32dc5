"""Synthetic responses driven by a questionnaire: valid data, or data with planted errors."""

from __future__ import annotations

import datetime as _dt
import re
import uuid
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import describe_values, rng_for
from ..errors import QuestionnaireError, SurveyStatsWarning
from .expressions import NotEvaluated
from .schema import Question, Questionnaire

__all__ = ["ERROR_KINDS", "generate_responses"]

#: What :func:`generate_responses` can plant, and the problem :func:`validate` reports for it.
ERROR_KINDS = {
    "unknown_choice": "unknown choice code",
    "missing_required": "missing required answer",
    "type_error": "not a number",
    "out_of_range": "violates constraint",
    "duplicate": "duplicate submission",
}


def _range(constraint: str) -> tuple[float, float]:
    lo = re.search(r"\.\s*>=?\s*(-?\d+(?:\.\d+)?)", constraint)
    hi = re.search(r"\.\s*<=?\s*(-?\d+(?:\.\d+)?)", constraint)
    return (float(lo.group(1)) if lo else 0.0), (float(hi.group(1)) if hi else 5000.0)


class _Notes:
    """Expressions the generator could not honour: (question, kind) → reason, warned once at the end."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def add(self, q: Question, kind: str, exc: NotEvaluated) -> None:
        self.items.setdefault((q.key or q.name, kind), exc.reason)

    def warn(self, form_id: str) -> None:
        if self.items:
            listed = "; ".join(f"{q} {k}: {r}" for (q, k), r in list(self.items.items())[:8])
            more = f" (and {len(self.items) - 8} more)" if len(self.items) > 8 else ""
            warnings.warn(f"form {form_id!r}: {len(self.items)} expression(s) not evaluated, values left unconstrained "
                          f"there: {listed}{more}", SurveyStatsWarning, stacklevel=3)


def _options(form: Questionnaire, q: Question, values: dict[str, Any], notes: _Notes) -> list[Any]:
    """The choices *q* offers here (its choice_filter applied when it can be evaluated)."""
    try:
        return list(form.choices_for(q, values))
    except NotEvaluated as exc:
        notes.add(q, "choice_filter", exc)
        lists = form.external_choices if q.type == "select_one_external" else form.choices
        return list(lists.get(q.list_name or "", ()))


def _numeric(q: Question, values: dict[str, Any], rng: np.random.Generator) -> Any:
    lo, hi = _range(q.constraint.replace(f"${{{q.name}}}", "."))
    if lo > hi:
        lo, hi = hi, lo
    hi = min(hi, lo + 3000)
    x = rng.uniform(lo, hi)
    return int(round(x)) if q.type == "integer" else round(float(x), 1)


def _near_references(form: Questionnaire, q: Question, values: dict[str, Any]) -> list[Any]:
    """Candidates next to the numbers a cross-field constraint compares with (``. <= ${a}``)."""
    try:
        refs = form.expression(q, "constraint").references  # type: ignore[union-attr]
    except NotEvaluated:
        return []
    out: list[Any] = []
    for r in sorted(refs):
        try:
            x = float(values.get(r))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        out += [x, x - 1, x + 1, x / 2, x * 2, 0, 1]
    return [int(v) if q.type == "integer" else float(v) for v in out if np.isfinite(v)]


def _candidate(form: Questionnaire, q: Question, rng: np.random.Generator, i: int, id_prefix: str,
               probs: Mapping[str, Mapping[str, float]], values: dict[str, Any], notes: _Notes) -> Any:
    if q.type in ("select_one", "select_one_external"):
        opts = _options(form, q, values, notes)
        codes = [c.name for c in opts if not c.missing]
        if q.name in probs:
            p = probs[q.name]
            return str(rng.choice(list(p), p=np.asarray(list(p.values())) / sum(p.values())))
        missing = [c.name for c in opts if c.missing]
        if rng.random() < 0.03 and missing:
            return missing[0]
        return str(rng.choice(codes)) if codes else None
    if q.type in ("select_one_from_file", "select_multiple_from_file"):  # codes in a file we do not have
        return str(rng.integers(1, 6))
    if q.type in ("select_multiple", "rank"):
        codes = [c.name for c in _options(form, q, values, notes) if not c.missing and c.name != "none"]
        if not codes:
            return None
        k = len(codes) if q.type == "rank" else int(rng.integers(1, min(3, len(codes)) + 1))
        return " ".join(sorted(rng.choice(codes, size=k, replace=False), key=codes.index))
    if q.type in ("integer", "decimal"):
        return _numeric(q, values, rng)
    if q.type == "range":
        start, end = float(q.parameters.get("start", 1)), float(q.parameters.get("end", 10))
        step = float(q.parameters.get("step", 1)) or 1.0
        x = start + step * int(rng.integers(0, int((end - start) / step) + 1))
        return int(x) if float(x).is_integer() else x
    return _other_type(q, rng, i, id_prefix)


def _other_type(q: Question, rng: np.random.Generator, i: int, id_prefix: str) -> Any:
    day = int(rng.integers(1, 29))
    if q.type == "date":
        return f"2026-11-{day:02d}"
    if q.type == "time":
        return f"{int(rng.integers(8, 18)):02d}:{int(rng.integers(0, 60)):02d}:00"
    if q.type == "dateTime":
        return f"2026-11-{day:02d}T{int(rng.integers(8, 18)):02d}:00:00"
    if q.type in ("geopoint", "geotrace", "geoshape"):
        pts = [f"{33.6 + rng.uniform(0, .1):.6f} {117.0 + rng.uniform(0, .1):.6f} 0 5" for _ in range(
            {"geopoint": 1, "geotrace": 2, "geoshape": 3}[q.type])]
        return ";".join(pts + pts[:1] if q.type == "geoshape" else pts)
    if q.type in ("image", "audio", "video", "file", "signature"):
        return f"{q.name}_{i + 1}.{ {'audio': 'm4a', 'video': 'mp4', 'file': 'pdf'}.get(q.type, 'jpg') }"
    if q.type == "acknowledge":
        return "OK"
    if q.type == "barcode":
        return f"{int(rng.integers(10**11, 10**12))}"
    if q.name == "household_id":
        return f"{id_prefix}{i + 1:05d}"
    if "regex" in q.constraint:
        return f"13{rng.integers(0, 10**9):09d}"
    return f"记录{i + 1}"


_TEXT_TRIES = ("{i}", "a", "abcd", "Text {i}", "{i:011d}", "2026-11-15")


def _answer(form: Questionnaire, q: Question, rng: np.random.Generator, i: int, id_prefix: str,
            probs: Mapping[str, Mapping[str, float]], values: dict[str, Any], notes: _Notes) -> Any:
    """A value for *q* that meets its constraint (rejection sampling), or unconstrained when it cannot be checked."""
    first = _candidate(form, q, rng, i, id_prefix, probs, values, notes)
    extra: list[Any] = []
    for attempt in range(60):
        value = first if attempt == 0 else (extra.pop() if extra else _candidate(form, q, rng, i, id_prefix, probs,
                                                                              values, notes))
        if value is None or not q.constraint:
            return value
        try:
            if form.satisfies(q, values, float(value) if q.type in ("integer", "decimal") else value):
                return value
        except NotEvaluated as exc:
            notes.add(q, "constraint", exc)
            return value
        if attempt == 0:
            extra = _near_references(form, q, values)[::-1]
            if q.type in ("integer", "decimal"):
                extra = [100, 50, 20, 10, 5, 2, 0, 1, *extra]
            if q.type == "text":
                extra += [t.format(i=i + 1) for t in _TEXT_TRIES]
            if q.type in ("date", "dateTime"):
                today = _dt.date.today()
                extra += [(today + _dt.timedelta(days=d)).isoformat() for d in (-3650, -365, -30, -1, 0, 1, 30, 365)]
    if not q.required:
        return None  # no value meets the constraint given the earlier answers: ODK would accept only a blank
    notes.add(q, "constraint", NotEvaluated("no value found that meets it"))
    return first


def _relevant(form: Questionnaire, q: Question, values: dict[str, Any], notes: _Notes) -> bool:
    try:
        return form.is_relevant(q, values)
    except NotEvaluated as exc:
        notes.add(q, "relevant", exc)
        return True


def _calculate(form: Questionnaire, q: Question, values: dict[str, Any], notes: _Notes) -> Any:
    try:
        e = form.expression(q, "calculation")
        return None if e is None else e.as_string(values, None, **form.context(q))
    except NotEvaluated as exc:
        notes.add(q, "calculation", exc)
        return None


def _must_answer(form: Questionnaire, q: Question, values: dict[str, Any], notes: _Notes) -> bool:
    try:
        return form.is_required(q, values)
    except NotEvaluated as exc:
        notes.add(q, "required", exc)
        return True


def _record(form: Questionnaire, qs: list[Question], i: int, rng: np.random.Generator, id_prefix: str,
            answers: Mapping[str, Mapping[str, float]], fixed: Mapping[str, Sequence[Any]], notes: _Notes
            ) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for q in qs:
        key = q.key or q.name
        if key in fixed:
            values[key] = fixed[key][i]
            continue
        if not _relevant(form, q, values, notes):
            values[key] = None
            continue
        if q.type == "calculate":
            values[key] = _calculate(form, q, values, notes)
            continue
        if not q.answered:
            continue
        values[key] = _answer(form, q, rng, i, id_prefix, answers, values, notes)
        if not _must_answer(form, q, values, notes) and rng.random() < 0.05:
            values[key] = None
    return values


def generate_responses(
    questionnaire: Questionnaire,
    n: int,
    *,
    seed: int = 0,
    errors: Sequence[str] = (),
    id_prefix: str = "H",
    group_prefix: str | None = "/",
    one_hot: bool = False,
    answers: Mapping[str, Mapping[str, float]] | None = None,
    fixed: Mapping[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    """Simulate a KoboToolbox-style export of *n* submissions.

    Answers follow the form: choice codes from the lists (a few declared missing codes
    such as "don't know") as its ``choice_filter`` leaves them, values that meet their
    constraints, cross-field ones included (``. <= ${a}``; found by drawing again), the
    ``<name>_other`` text where ``or_other``'s "other" is chosen, relevance respected
    (non-relevant questions left blank), calculations computed.  Where an expression
    cannot be evaluated (see :mod:`.expressions`), the value there is left unconstrained
    and one :class:`SurveyStatsWarning` lists those places.  Questions inside repeats get
    one instance per submission.  ``errors`` plants one instance of each kind
    in :data:`ERROR_KINDS`; where they are is in ``result.attrs["injected"]`` (row,
    column, problem), so tests can check each is reported once.

    Parameters
    ----------
    questionnaire : Questionnaire
    n : int
    seed : int
    errors : sequence of str
        Kinds to plant (keys of :data:`ERROR_KINDS`).
    id_prefix : str
        Prefix of generated household ids.
    group_prefix : str or None
        ``"/"`` (KoboToolbox's default) or ``"-"`` to write ``group/question``
        columns; None for bare question names.
    one_hot : bool
        Also write select-multiple answers as one 0/1 column per code.
    answers : mapping, optional
        Probabilities per code for chosen select_one questions, e.g.
        ``{"sat_overall": {"5": .4, "4": .4, "3": .2}}``.
    fixed : mapping, optional
        Column → values (length n) to use instead of random answers, e.g. sampled ids.

    Returns
    -------
    DataFrame
    """
    unknown = [e for e in errors if e not in ERROR_KINDS]
    if unknown:
        raise QuestionnaireError(f"unknown error kind(s) {describe_values(unknown)}; use {list(ERROR_KINDS)}.")
    if n < 2 and errors:
        raise QuestionnaireError("planting errors needs at least 2 submissions.")
    rng = rng_for(seed, f"survey_stats.generate.{questionnaire.form_id}")
    answers = dict(answers or {})
    fixed = dict(fixed or {})
    qs = [q for q in questionnaire.questions if q.answered or q.type == "calculate"]
    notes = _Notes()
    records = [_record(questionnaire, qs, i, rng, id_prefix, answers, fixed, notes) for i in range(n)]
    notes.warn(questionnaire.form_id)
    qs = [q for q in qs if q.answered]
    df = pd.DataFrame(records, columns=[q.key or q.name for q in qs])
    injected = []
    rows = list(rng.permutation(n))

    def pick(pred) -> Question:  # type: ignore[no-untyped-def]
        cands = [q for q in qs if pred(q) and q.name != "household_id"]
        if not cands:
            raise QuestionnaireError(f"form {questionnaire.form_id!r} has no question to plant this error in.")
        return cands[int(rng.integers(0, len(cands)))]

    def relevant_row(q: Question) -> int:
        for k in range(len(rows) - 1, -1, -1):
            if not _row_hidden(questionnaire, q, df.loc[rows[k]].to_dict()):
                return int(rows.pop(k))
        raise QuestionnaireError(f"no submission where {q.name!r} is relevant to plant an error in.")

    for kind in errors:
        if kind == "unknown_choice":
            q = pick(lambda q: q.type == "select_one" and not q.relevant and not q.group)
            r = rows.pop()
            df.at[r, q.name] = "zz_unknown"
        elif kind == "missing_required":
            q = pick(lambda q: q.required and not q.relevant and not q.group and q.name != "household_id")
            r = rows.pop()
            df.at[r, q.name] = None
        elif kind == "type_error":
            q = pick(lambda q: q.type in ("integer", "decimal"))
            r = relevant_row(q)
            df[q.name] = df[q.name].astype(object)
            df.at[r, q.name] = "abc"
        elif kind == "out_of_range":
            q = pick(lambda q: q.type in ("integer", "decimal") and q.constraint.strip().startswith(". >="))
            r = relevant_row(q)
            df[q.name] = df[q.name].astype(object)
            df.at[r, q.name] = _range(q.constraint)[0] - 5
        else:  # duplicate: copy another row's id onto row r
            if "household_id" not in df.columns:
                raise QuestionnaireError("duplicate planting needs a household_id question.")
            q = questionnaire["household_id"]
            r = rows.pop()
            src = rows[-1] if rows else (r + 1) % n
            df.at[r, "household_id"] = df.at[src, "household_id"]
            if r < src:  # the report falls on the later row
                r = src
        injected.append({"row": int(r), "column": q.name if kind != "duplicate" else "household_id",
                         "problem": ERROR_KINDS[kind]})
    out = _export_layout(df, questionnaire, group_prefix, one_hot)
    out["_uuid"] = [str(uuid.UUID(int=int(rng.integers(0, 2**62)) << 64 | i)) for i in range(n)]
    out["_submission_time"] = (pd.Timestamp("2026-11-01") + pd.to_timedelta(rng.integers(0, 86400 * 20, n), unit="s")
                               ).strftime("%Y-%m-%dT%H:%M:%S")
    out.attrs["injected"] = pd.DataFrame(injected, columns=["row", "column", "problem"])
    return out


def _row_hidden(form: Questionnaire, q: Question, values: dict[str, Any]) -> bool:
    try:
        return not form.is_relevant(q, values)
    except NotEvaluated:
        return True  # never plant an error where relevance is unknown


def _export_layout(df: pd.DataFrame, form: Questionnaire, sep: str | None, one_hot: bool) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {}
    for q in form.questions:
        if not q.answered or (q.key or q.name) not in df.columns:
            continue
        key = q.key or q.name
        name = key if not sep or not q.group else sep.join(q.path)
        cols[name] = df[key]
        if one_hot and q.type == "select_multiple":
            for code in form.codes(key):
                hit = df[key].map(lambda v, c=code: np.nan if v is None or v != v else float(c in str(v).split()))
                cols[f"{name}{sep or '/'}{code}"] = hit
    return pd.DataFrame(cols)
