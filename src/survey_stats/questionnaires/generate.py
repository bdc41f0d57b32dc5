"""Synthetic responses driven by a questionnaire: valid data, or data with planted errors."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import describe_values, rng_for
from ..errors import QuestionnaireError
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


def _answer(form: Questionnaire, q: Question, rng: np.random.Generator, i: int, id_prefix: str,
            probs: Mapping[str, Mapping[str, float]]) -> Any:
    if q.type == "select_one":
        codes = form.codes(q.name, missing=False)
        if q.name in probs:
            p = probs[q.name]
            return str(rng.choice(list(p), p=np.asarray(list(p.values())) / sum(p.values())))
        if rng.random() < 0.03 and form.codes(q.name, missing=True):
            return form.codes(q.name, missing=True)[0]
        return str(rng.choice(codes))
    if q.type == "select_multiple":
        codes = [c for c in form.codes(q.name, missing=False) if c != "none"]
        k = int(rng.integers(1, min(3, len(codes)) + 1))
        return " ".join(sorted(rng.choice(codes, size=k, replace=False), key=codes.index))
    if q.type in ("integer", "decimal"):
        lo, hi = _range(q.constraint)
        hi = min(hi, lo + 3000)
        x = rng.uniform(lo, hi)
        return int(round(x)) if q.type == "integer" else round(float(x), 1)
    if q.type == "text":
        if q.name == "household_id":
            return f"{id_prefix}{i + 1:05d}"
        if "regex" in q.constraint:
            return f"13{rng.integers(0, 10**9):09d}"
        return f"记录{i + 1}"
    return None


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
    such as "don't know"), numbers inside their constraints, relevance respected
    (non-relevant questions left blank).  ``errors`` plants one instance of each kind
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
    qs = [q for q in questionnaire.questions if q.answered]
    records = []
    for i in range(n):
        values: dict[str, Any] = {}
        for q in qs:
            if q.name in fixed:
                values[q.name] = fixed[q.name][i]
                continue
            ok = True
            for e in [*questionnaire.group_relevance(q), q.relevant]:
                if e:
                    from .expressions import compile_expression

                    if not compile_expression(e)(values, None):
                        ok = False
            values[q.name] = _answer(questionnaire, q, rng, i, id_prefix, answers) if ok else None
            if not q.required and rng.random() < 0.05:
                values[q.name] = None
        records.append(values)
    df = pd.DataFrame(records, columns=[q.name for q in qs])
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
    from .expressions import compile_expression

    return any(e and not compile_expression(e)(values, None) for e in [*form.group_relevance(q), q.relevant])


def _export_layout(df: pd.DataFrame, form: Questionnaire, sep: str | None, one_hot: bool) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {}
    for q in form.questions:
        if not q.answered or q.name not in df.columns:
            continue
        name = q.name if not sep or not q.group else sep.join([*q.group, q.name])
        cols[name] = df[q.name]
        if one_hot and q.type == "select_multiple":
            for code in form.codes(q.name):
                hit = df[q.name].map(lambda v, c=code: np.nan if v is None or v != v else float(c in str(v).split()))
                cols[f"{name}/{code}"] = hit
    return pd.DataFrame(cols)
