"""Questionnaires as XLSForm: load the survey, choices and settings sheets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import QuestionnaireError
from .expressions import UnsupportedExpression, compile_expression

__all__ = ["Choice", "Question", "Questionnaire", "load_questionnaire"]

_STRUCTURAL = {"begin_group", "end_group", "begin group", "end group", "begin_repeat", "end_repeat",
               "begin repeat", "end repeat"}
_NO_ANSWER = {"note", "calculate", "start", "end", "today", "deviceid", "username", "phonenumber", "audit"}


@dataclass(frozen=True)
class Choice:
    """One answer option of a choice list."""

    name: str
    labels: dict[str, str]
    missing: bool = False  # a declared missing code ("don't know", "refused")


@dataclass(frozen=True)
class Question:
    """One question (row of the survey sheet)."""

    name: str
    type: str  # base type: select_one, select_multiple, integer, decimal, text, note, ...
    list_name: str | None
    labels: dict[str, str]
    required: bool
    relevant: str
    constraint: str
    group: tuple[str, ...]
    indicator: str = ""
    coding: str = ""

    @property
    def answered(self) -> bool:
        return self.type not in _NO_ANSWER

    def label(self, language: str = "Chinese (zh)") -> str:
        return self.labels.get(language) or next(iter(self.labels.values()), self.name)


@dataclass(frozen=True)
class Questionnaire:
    """An XLSForm instrument: questions, choice lists, settings and the indicator mapping."""

    form_id: str
    title: str
    version: str
    questions: tuple[Question, ...]
    choices: dict[str, tuple[Choice, ...]]
    languages: tuple[str, ...]
    groups: tuple[str, ...]
    path: str = ""
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise QuestionnaireError(f"form {self.form_id!r} has no question {name!r}.")

    def names(self) -> list[str]:
        return [q.name for q in self.questions if q.answered]

    def codes(self, question: str, *, missing: bool | None = None) -> list[str]:
        """Choice codes of a select question (``missing`` filters declared missing codes)."""
        q = self[question]
        if not q.list_name:
            raise QuestionnaireError(f"question {question!r} is not a select question.")
        return [c.name for c in self.choices[q.list_name] if missing is None or c.missing == missing]

    def indicator_map(self) -> pd.DataFrame:
        """Which analysable item feeds which indicator, and how it is coded."""
        return pd.DataFrame([{"question": q.name, "indicator": q.indicator, "coding": q.coding, "type": q.type,
                              "label_zh": q.labels.get("Chinese (zh)", ""), "label_en": q.labels.get("English (en)", "")}
                             for q in self.questions if q.indicator])

    def check(self, kind: str, q: Question):  # type: ignore[no-untyped-def]
        """The compiled ``relevant`` or ``constraint`` of *q*, or None when it cannot be evaluated."""
        key = f"{kind}:{q.name}"
        if key not in self._compiled:
            expr = getattr(q, kind)
            try:
                self._compiled[key] = compile_expression(expr) if expr else None
            except UnsupportedExpression:
                self._compiled[key] = "unsupported"
        return self._compiled[key]

    def group_relevance(self, q: Question) -> list[str]:
        return [self._group_relevant.get(g, "") for g in q.group if self._group_relevant.get(g)]

    @property
    def _group_relevant(self) -> dict[str, str]:
        return self._compiled.setdefault("__groups__", {})


def _cell(row: pd.Series, col: str) -> str:
    v = row.get(col)
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip()


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read an XLSForm workbook (``survey``, ``choices``, ``settings`` sheets).

    Columns ``label::<Language>`` give labels per language; ``survey_stats::indicator``
    and ``survey_stats::coding`` say which indicator an item feeds and how
    (``top2``, ``yes``, ``no``, ``in:code code``, ``value``, ``multi``); a
    ``survey_stats_missing`` column in ``choices`` marks declared missing codes.

    Raises
    ------
    QuestionnaireError
        Missing sheets, unknown choice lists, duplicate names, unknown codings.

    Examples
    --------
    >>> from pathlib import Path
    >>> import survey_stats as ss
    >>> form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
    >>> form["exit_right"].relevant, form["exit_right"].indicator, form["exit_right"].coding
    ("${status} = 'exited'", 'wrong_exit', 'no')
    """
    path = Path(path)
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    except Exception as exc:  # unreadable file
        raise QuestionnaireError(f"cannot read {path}: {exc}") from exc
    for need in ("survey", "choices"):
        if need not in sheets:
            raise QuestionnaireError(f"{path.name}: no {need!r} sheet; an XLSForm needs 'survey' and 'choices'.")
    survey, choices_df = sheets["survey"], sheets["choices"]
    settings = sheets.get("settings", pd.DataFrame())
    label_cols = [c for c in survey.columns if str(c).startswith("label")]
    languages = tuple(c.split("::", 1)[1] if "::" in c else "default" for c in label_cols)

    choices: dict[str, list[Choice]] = {}
    for _, r in choices_df.iterrows():
        lst, name = _cell(r, "list_name"), _cell(r, "name")
        if not lst or not name:
            continue
        labels = {lang: _cell(r, col) for lang, col in zip(languages, [c for c in choices_df.columns if str(c).startswith("label")])}
        miss = _cell(r, "survey_stats_missing").lower() in ("yes", "1", "true")
        choices.setdefault(lst, []).append(Choice(name, labels, miss))

    questions: list[Question] = []
    stack: list[str] = []
    groups: list[str] = []
    group_rel: dict[str, str] = {}
    seen: set[str] = set()
    for i, r in survey.iterrows():
        typ = _cell(r, "type")
        if not typ:
            continue
        name = _cell(r, "name")
        if typ in ("begin_group", "begin group", "begin_repeat", "begin repeat"):
            stack.append(name)
            groups.append(name)
            group_rel[name] = _cell(r, "relevant")
            continue
        if typ in _STRUCTURAL:
            if stack:
                stack.pop()
            continue
        parts = typ.split()
        base = parts[0]
        lst = parts[1] if base in ("select_one", "select_multiple") and len(parts) > 1 else None
        if base in ("select_one", "select_multiple") and lst not in choices:
            raise QuestionnaireError(f"{path.name} row {i + 2}: question {name!r} uses choice list {lst!r}, "
                                     "which the choices sheet does not define.")
        if name in seen:
            raise QuestionnaireError(f"{path.name} row {i + 2}: question name {name!r} is used twice.")
        seen.add(name)
        coding = _cell(r, "survey_stats::coding")
        if coding and not (coding in ("top2", "yes", "no", "value", "multi") or coding.startswith("in:")):
            raise QuestionnaireError(f"{path.name}: question {name!r} has unknown coding {coding!r}; use top2, yes, no, "
                                     "in:<codes>, value or multi.")
        labels = {lang: _cell(r, col) for lang, col in zip(languages, label_cols)}
        questions.append(Question(name, base, lst, labels, _cell(r, "required").lower() in ("yes", "true", "1"),
                                  _cell(r, "relevant"), _cell(r, "constraint"), tuple(stack),
                                  _cell(r, "survey_stats::indicator"), coding))
    st = settings.iloc[0] if len(settings) else pd.Series(dtype=str)
    form = Questionnaire(_cell(st, "form_id") or path.stem, _cell(st, "form_title") or path.stem, _cell(st, "version"),
                         tuple(questions), {k: tuple(v) for k, v in choices.items()}, languages, tuple(groups), str(path))
    form._group_relevant.update(group_rel)
    return form
