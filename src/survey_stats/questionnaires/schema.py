"""Questionnaires as XLSForm, read through pyxform: questions, choice lists, settings.

The workbook is parsed by pyxform itself (the converter KoboToolbox and ODK use), so every
layout pyxform accepts loads with pyxform's names, types, labels, bindings and choices:
``.xlsx`` and ``.xls``, header aliases and case, ``label:English`` or ``label::English``,
``or_other``, ``choice_filter``, external choices, groups, repeats, legacy ``begin loop``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import warnings
from collections import ChainMap, Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import QuestionnaireError
from .expressions import Expression, NotEvaluated, UnsupportedExpression, parse_expression

__all__ = ["Choice", "Question", "Questionnaire", "load_questionnaire"]

#: Types without a value of their own in a submission's data columns (notes, device metadata).
_NO_ANSWER = {"note", "start", "end", "today", "deviceid", "uri:deviceid", "username", "phonenumber",
              "simserial", "subscriberid", "audit", "hidden", "xml-external", "csv-external", "start-geopoint",
              "background-audio", "background-geopoint", "email", "uri:email", "uri:username", "uri:phonenumber",
              "uri:subscriberid", "uri:simserial"}
_CODINGS = ("top2", "yes", "no", "value", "multi")
_XSD_TYPES = {"int": "integer", "decimal": "decimal", "date": "date", "time": "time", "dateTime": "dateTime",
              "geopoint": "geopoint", "geotrace": "geotrace", "geoshape": "geoshape", "barcode": "barcode"}
_CHOICE_FILES = (".csv", ".xml", ".geojson")
_SELECTS = {"select one": "select_one", "select all that apply": "select_multiple", "select one external":
            "select_one_external", "rank": "rank", "odk:rank": "rank"}


@dataclass(frozen=True)
class Choice:
    """One answer option of a choice list.

    ``properties`` holds the choices sheet's other columns (those ``choice_filter`` reads).
    """

    name: str
    labels: dict[str, str]
    missing: bool = False  # a declared missing code ("don't know", "refused")
    properties: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Question:
    """One question as pyxform built it.

    ``type`` is the XLSForm base type (``select_one``, ``select_multiple``, ``integer``,
    ``decimal``, ``text``, ``date``, ``note``, ``calculate``...); ``group`` the enclosing
    groups (and repeats, and loop items) from the outside in; ``path`` is ``group`` plus the
    name; ``repeat`` the path of the innermost enclosing repeat (None outside repeats);
    ``key`` the column it is read from: the name, or ``a/b/name`` when another question
    of the form has the same name.
    """

    name: str
    type: str
    list_name: str | None
    labels: dict[str, str]
    required: bool
    relevant: str
    constraint: str
    group: tuple[str, ...]
    indicator: str = ""
    coding: str = ""
    path: tuple[str, ...] = ()
    repeat: tuple[str, ...] | None = None
    key: str = ""
    choice_filter: str = ""
    calculation: str = ""
    required_if: str = ""  # a dynamic ``required`` expression (then ``required`` is False)
    or_other: bool = False  # select with pyxform's added "other" code and ``<name>_other`` question
    appearance: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict, compare=False)
    xform_type: str = ""  # pyxform's own type name

    @property
    def answered(self) -> bool:
        """Whether the question has a data column of its own: answers and calculations, not notes or metadata."""
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
    external_choices: dict[str, tuple[Choice, ...]] = field(default_factory=dict)  # the external_choices sheet
    pyxform_warnings: tuple[str, ...] = ()  # what pyxform said while converting the form
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, name: str) -> Question:
        index = self._compiled.get("__index__")
        if index is None:
            index = self._compiled["__index__"] = {}
            for q in self.questions:
                for k in dict.fromkeys((q.key or q.name, "/".join(q.path) or q.name, q.name)):
                    index.setdefault(k, []).append(q)
        hits = index.get(name, [])
        exact = [q for q in hits if name in (q.key, "/".join(q.path))]
        hits = exact or hits
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise QuestionnaireError(f"form {self.form_id!r} has {len(hits)} questions named {name!r}; "
                                     f"use the path: {', '.join('/'.join(q.path) for q in hits)}.")
        raise QuestionnaireError(f"form {self.form_id!r} has no question {name!r}.")

    def names(self) -> list[str]:
        """Keys (column names) of the questions that hold an answer."""
        return [q.key or q.name for q in self.questions if q.answered]

    def codes(self, question: str, *, missing: bool | None = None) -> list[str]:
        """Choice codes of a select question (``missing`` filters declared missing codes)."""
        q = self[question]
        if not q.list_name:
            raise QuestionnaireError(f"question {question!r} is not a select question.")
        lists = self.external_choices if q.type == "select_one_external" else self.choices
        if q.list_name not in lists:
            raise QuestionnaireError(f"question {question!r} takes its choices from {q.list_name!r}, "
                                     "which is not part of the form (an external file).")
        return [c.name for c in lists[q.list_name] if missing is None or c.missing == missing]

    def indicator_map(self) -> pd.DataFrame:
        """Which analysable item feeds which indicator, and how it is coded."""
        return pd.DataFrame([{"question": q.name, "indicator": q.indicator, "coding": q.coding, "type": q.type,
                              "label_zh": q.labels.get("Chinese (zh)", ""), "label_en": q.labels.get("English (en)", "")}
                             for q in self.questions if q.indicator])

    # --------------------------------------------------------------- expressions
    def expression(self, q: Question, kind: str) -> Expression | None:
        """The parsed ``relevant``, ``constraint``, ``calculation``, ``choice_filter`` or ``required_if``.

        Raises
        ------
        UnsupportedExpression
            The expression is outside the supported ODK XPath subset (report it as not evaluated).

        Examples
        --------
        >>> import survey_stats as ss
        >>> form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
        >>> sorted(form.expression(form["exit_right"], "relevant").references)
        ['status']
        """
        text = getattr(q, kind)
        return parse_expression(text) if text else None

    def context(self, q: Question, here: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Keyword context for :meth:`Expression.value` at question *q* (paths, choice labels).

        Examples
        --------
        >>> import survey_stats as ss
        >>> form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
        >>> form.context(form["members"])["here"]
        ('verify', 'members')
        """
        return {"here": q.path if here is None else here, "resolve": self._resolve, "choice_label": self._choice_label}

    def is_relevant(self, q: Question, values: Mapping[str, Any]) -> bool:
        """Whether *q* applies given the answers (its groups' and its own ``relevant``).

        Raises
        ------
        NotEvaluated
            A relevance expression cannot be evaluated (unsupported, or needs data not in *values*).

        Examples
        --------
        >>> import survey_stats as ss
        >>> form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
        >>> form.is_relevant(form["exit_right"], {"status": "exited"})
        True
        >>> form.is_relevant(form["exit_right"], {"status": "unexited"})
        False
        """
        for text, here in self.relevance_chain(q):
            if not parse_expression(text).test(values, None, **self.context(q, here)):
                return False
        return True

    def relevance_chain(self, q: Question) -> list[tuple[str, tuple[str, ...]]]:
        """(expression, path it is evaluated at) for the groups around *q* and *q* itself.

        Examples
        --------
        >>> import survey_stats as ss
        >>> form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
        >>> form.relevance_chain(form["exit_right"])
        [("${status} = 'exited'", ('verify', 'exit_right'))]
        """
        rel = self._group_relevant_by_path
        chain = [(rel[q.path[:i]], q.path[:i]) for i in range(1, len(q.path)) if rel.get(q.path[:i])]
        return [*chain, (q.relevant, q.path)] if q.relevant else chain

    def is_required(self, q: Question, values: Mapping[str, Any]) -> bool:
        """Whether *q* must be answered given the answers (``required`` or its dynamic ``required_if``).

        Raises NotEvaluated when ``required_if`` cannot be evaluated.

        Examples
        --------
        >>> import survey_stats as ss
        >>> form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
        >>> form.is_required(form["members"], {}), form.is_required(form["channels"], {})
        (True, False)
        """
        e = None if q.required else self.expression(q, "required_if")
        return q.required or bool(e and e.test(values, None, **self.context(q)))

    def satisfies(self, q: Question, values: Mapping[str, Any], value: Any) -> bool:
        """Whether *value* meets *q*'s ``constraint`` (True when it has none). Raises NotEvaluated.

        Examples
        --------
        >>> import survey_stats as ss
        >>> form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
        >>> form.satisfies(form["members"], {}, 4), form.satisfies(form["members"], {}, 40)
        (True, False)
        """
        e = self.expression(q, "constraint")
        if e is None:
            return True
        return e.test(ChainMap({q.key or q.name: value}, values), value, **self.context(q))  # type: ignore[arg-type]

    def choices_for(self, q: Question, values: Mapping[str, Any]) -> tuple[Choice, ...]:
        """The choices *q* offers given the answers (its ``choice_filter`` applied). Raises NotEvaluated.

        Examples
        --------
        >>> import survey_stats as ss
        >>> form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
        >>> [c.name for c in form.choices_for(form["status"], {})]
        ['exited', 'unexited']
        """
        lists = self.external_choices if q.type == "select_one_external" else self.choices
        options = lists.get(q.list_name or "", ())
        e = self.expression(q, "choice_filter")
        if e is None:
            return options
        ctx = self.context(q)
        return tuple(c for c in options if e.test(values, None, choice=_choice_row(c), **ctx))

    def check(self, kind: str, q: Question):  # type: ignore[no-untyped-def]
        """``f(values, self_value) -> bool`` for *q*'s ``relevant`` or ``constraint``; None when empty,
        ``"unsupported"`` when outside the supported subset.  ``f`` raises :class:`NotEvaluated`
        when a value cannot be computed (e.g. a regex too costly)."""
        try:
            e = self.expression(q, kind)
        except UnsupportedExpression:
            return "unsupported"
        if e is None:
            return None
        ctx = self.context(q)
        return lambda values, self_value=None: e.test(values, self_value, **ctx)

    def group_relevance(self, q: Question) -> list[str]:
        """The ``relevant`` expressions of the groups around *q*, outside in."""
        rel = self._group_relevant_by_path
        return [rel[q.path[:i]] for i in range(1, len(q.path)) if rel.get(q.path[:i])]

    @property
    def _group_relevant(self) -> dict[str, str]:
        return self._compiled.setdefault("__groups__", {})

    @property
    def _group_relevant_by_path(self) -> dict[tuple[str, ...], str]:
        return self._compiled.setdefault("__group_paths__", {})

    def _resolve(self, path: tuple[str, ...]) -> str | None:
        table = self._compiled.get("__keys__")
        if table is None:
            table = self._compiled["__keys__"] = {q.path: q.key or q.name for q in self.questions}
        return table.get(path)

    def _choice_label(self, ref: str, code: str) -> str:
        name = ref.strip().removeprefix("${").removesuffix("}").rsplit("/", 1)[-1]
        try:
            q = self[name]
        except QuestionnaireError:
            raise NotEvaluated(f"jr:choice-name() names no question ({ref})") from None
        for c in self.choices.get(q.list_name or "", ()):
            if c.name == code:
                return next(iter(c.labels.values()), code)
        return ""


def _choice_row(c: Choice) -> dict[str, str]:
    row = {"name": c.name, **dict(c.properties)}
    for lang, text in c.labels.items():
        row.setdefault("label", text)
        row[f"label::{lang}"] = text
    return row


def _labels(value: Any, default: str) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    return {default: str(value)}


def _convert(path: Path) -> tuple[Any, list[str]]:
    """pyxform's parse of the workbook (its XForm conversion, without ODK Validate) and its warnings."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    if not path.is_file():
        raise QuestionnaireError(f"no form file {path}.")
    found: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return convert(xlsform=str(path), validate=False, warnings=found), found
    except PyXFormError as exc:
        raise QuestionnaireError(f"{path.name}: pyxform rejects the form: {exc}") from exc
    except Exception as exc:  # unreadable workbook: pyxform's readers raise what their libraries raise
        raise QuestionnaireError(f"{path.name}: cannot read the form ({type(exc).__name__}: {exc}).") from exc


def _choice_lists(result: Any, default: str) -> tuple[dict[str, tuple[Choice, ...]], dict[str, tuple[Choice, ...]]]:
    """(choices sheet lists, external_choices sheet lists)."""
    lists: dict[str, tuple[Choice, ...]] = {}
    external: dict[str, tuple[Choice, ...]] = {}
    for name, itemset in (result._survey.choices or {}).items():
        opts = []
        for o in itemset.options:
            extra = {str(k): str(v) for k, v in (o.extra_data or {}).items() if isinstance(v, (str, int, float))}
            miss = extra.get("survey_stats_missing", "").strip().lower() in ("yes", "1", "true")
            opts.append(Choice(str(o.name), _labels(o.label, default), miss, extra))
        lists[str(name)] = tuple(opts)
    if result.itemsets:  # the external_choices sheet, as pyxform writes itemsets.csv
        for r in csv.DictReader(io.StringIO(result.itemsets)):
            row = {str(k).strip(): (v or "") for k, v in r.items() if k}
            low = {k.lower(): v for k, v in row.items()}
            lst, code = low.get("list_name", ""), low.get("name", "")
            labels = {(k.split(":")[-1] if ":" in k else default): v for k, v in row.items() if k.lower().startswith("label")}
            props = {k: v for k, v in row.items() if k.lower() not in ("list_name", "name")}
            external[lst] = (*external.get(lst, ()), Choice(code, labels or {default: code}, False, props))
    return lists, external


def _base_type(e: Any) -> tuple[str, str | None]:
    """(XLSForm base type, choice list) of a pyxform element."""
    t = str(e.type)
    if t in _SELECTS:
        lst = getattr(e, "list_name", None) or getattr(e, "itemset", None) or getattr(e, "query", None)
        base = _SELECTS[t]
        if lst and str(lst).lower().endswith(_CHOICE_FILES) and base in ("select_one", "select_multiple"):
            base += "_from_file"  # choices in a file sent with the form, unknown here
        return base, (str(lst) if lst else None)
    if type(e).__name__ == "InputQuestion" and t != "note":
        xsd = (e.bind or {}).get("type", "string")
        return _XSD_TYPES.get(xsd, "text"), None
    if type(e).__name__ == "TriggerQuestion":
        return "acknowledge", None
    if type(e).__name__ == "UploadQuestion":
        return {"photo": "image"}.get(t, t), None
    if t == "range":
        return "range", None
    return t, None


def _required(value: Any) -> tuple[bool, str]:
    v = str(value or "").strip()
    if v.lower() in ("", "no", "false", "false()", "0"):
        return False, ""
    if v.lower() in ("yes", "true", "true()", "1"):
        return True, ""
    return False, v


class _Walker:
    """Turns pyxform's survey tree into :class:`Question` rows."""

    def __init__(self, source: str, default: str) -> None:
        self.source, self.default = source, default
        self.rows: list[dict[str, Any]] = []
        self.groups: list[str] = []
        self.group_rel: dict[tuple[str, ...], str] = {}

    def walk(self, element: Any, path: tuple[str, ...], repeat: tuple[str, ...] | None) -> None:
        for e in element.children or ():
            kind = type(e).__name__
            if kind in ("GroupedSection", "RepeatingSection"):
                if not path and e.name == "meta" and (e.control or {}).get("bodyless"):
                    continue  # pyxform's own instanceID / entity block
                sub = (*path, str(e.name))
                self.groups.append(str(e.name))
                if (e.bind or {}).get("relevant"):
                    self.group_rel[sub] = str(e.bind["relevant"])
                self.walk(e, sub, sub if kind == "RepeatingSection" else repeat)
            elif kind not in ("EntityDeclaration", "Attribute", "Label"):
                self.rows.append(self.question(e, path, repeat))

    def question(self, e: Any, path: tuple[str, ...], repeat: tuple[str, ...] | None) -> dict[str, Any]:
        bind = e.bind or {}
        base, lst = _base_type(e)
        extra = (e.extra_data or {}).get("survey_stats", {}) if isinstance(e.extra_data, Mapping) else {}
        coding = str(extra.get("coding", "") or "").strip()
        if coding and not (coding in _CODINGS or coding.startswith("in:")):
            raise QuestionnaireError(f"{self.source}: question {e.name!r} has unknown coding {coding!r}; use top2, "
                                     "yes, no, in:<codes>, value or multi.")
        required, required_if = _required(bind.get("required"))
        control = e.control if isinstance(getattr(e, "control", None), Mapping) else {}
        params = getattr(e, "parameters", None)
        params = params if isinstance(params, Mapping) else {}
        return {"name": str(e.name), "type": base, "list_name": lst, "labels": _labels(e.label, self.default),
                "required": required, "relevant": str(bind.get("relevant", "") or ""),
                "constraint": str(bind.get("constraint", "") or ""), "group": path,
                "indicator": str(extra.get("indicator", "") or "").strip(), "coding": coding,
                "path": (*path, str(e.name)), "repeat": repeat, "choice_filter": str(getattr(e, "choice_filter", "") or ""),
                "calculation": str(bind.get("calculate", "") or ""), "required_if": required_if,
                "appearance": str(control.get("appearance", "") or ""),
                "parameters": {str(k): str(v) for k, v in params.items()}, "xform_type": str(e.type)}


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read an XLSForm workbook through pyxform.

    Any file pyxform converts loads (``.xlsx``, ``.xls``; see the module notes), with
    pyxform's names, types, labels per language, ``relevant``, ``constraint``, ``required``,
    ``calculation``, ``choice_filter`` and choice lists; each question records its group
    path and enclosing repeat.  pyxform's ``meta`` block (``instanceID``) is left out.
    Columns ``survey_stats::indicator`` and ``survey_stats::coding`` say which indicator an
    item feeds and how (``top2``, ``yes``, ``no``, ``in:code code``, ``value``, ``multi``);
    a ``survey_stats_missing`` column in ``choices`` marks declared missing codes.

    Raises
    ------
    QuestionnaireError
        The file cannot be read, pyxform rejects it (its message, with the row when it
        gives one, is quoted), or a ``survey_stats::coding`` is unknown.

    Examples
    --------
    >>> import survey_stats as ss
    >>> form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
    >>> form["exit_right"].relevant, form["exit_right"].indicator, form["exit_right"].coding
    ("${status} = 'exited'", 'wrong_exit', 'no')
    >>> form["exit_right"].group, form["exit_right"].repeat
    (('verify',), None)
    """
    path = Path(path)
    try:
        key = (str(path), hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    except OSError:
        key = None  # _convert names the problem
    if key in _LOADED:
        return _LOADED[key]
    form = _load(path)
    if key is not None:
        if len(_LOADED) >= 64:
            _LOADED.clear()
        _LOADED[key] = form
    return form


# Forms already converted, by path and content: a Questionnaire is immutable, and pyxform's
# conversion (~0.1 s a form) is the slow part of reading one; an edited file has a new key.
_LOADED: dict[tuple[str, bytes] | None, Questionnaire] = {}


def _load(path: Path) -> Questionnaire:
    """:func:`load_questionnaire` without the cache."""
    result, said = _convert(path)
    survey = result._survey
    default = str(getattr(survey, "default_language", "") or "default")
    walker = _Walker(path.name, default)
    walker.walk(survey, (), None)
    counts = Counter(r["name"] for r in walker.rows)
    names = {r["name"] for r in walker.rows}
    questions = []
    for r in walker.rows:
        r["key"] = r["name"] if counts[r["name"]] == 1 else "/".join(r["path"])
        if r["list_name"] and r["type"] in ("select_one", "select_multiple"):
            other = f"{r['name']}_other"
            r["or_other"] = other in names and any(
                o["name"] == other and o["path"][:-1] == r["path"][:-1] and f"../{r['name']}, 'other')" in o["relevant"]
                for o in walker.rows)
        questions.append(Question(**r))
    choices, external = _choice_lists(result, default)
    langs: list[str] = []
    for labels in [q.labels for q in questions] + [c.labels for cs in choices.values() for c in cs]:
        langs.extend(k for k in labels if k not in langs)
    form = Questionnaire(str(survey.id_string or path.stem), str(survey.title or path.stem), str(survey.version or ""),
                         tuple(questions), choices, tuple(langs) or (default,), tuple(dict.fromkeys(walker.groups)),
                         str(path), external, tuple(said))
    form._group_relevant_by_path.update(walker.group_rel)
    form._group_relevant.update({p[-1]: v for p, v in walker.group_rel.items()})
    return form
