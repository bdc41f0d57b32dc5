"""The ODK XPath parser/evaluator, bounded regex, not-evaluated reporting, and XLSForm layouts via pyxform."""

from __future__ import annotations

import math
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import survey_stats as ss
from survey_stats.errors import SurveyStatsWarning
from survey_stats.questionnaires import expressions as ex
from survey_stats.questionnaires.expressions import NotEvaluated, UnsupportedExpression, parse_expression

V = {"a": "2", "b": "x z", "c": "", "n": "7", "d": "2024-02-29", "s": "Hello World", "m": "tv wechat"}


@pytest.mark.parametrize("text, expected", [
    ("${a} > 1 and (${b} != '')", True),            # `and (` is an operator, not a call
    ("(${a} = 2) and (${n} = 7)", True),
    ("${c} = '' or (${a} = 3 and ${n} = 7)", True),
    ("not(${a} = 2) or ${c} != ''", False),
    ("1 + 2 * 3", 7.0), ("(1 + 2) * 3", 9.0), ("10 - 4 - 3", 3.0), ("2 * 3 div 4", 1.5),
    ("-${n} + 10", 3.0), ("- (2 - 5)", 3.0), ("7 mod 3", 1.0), ("-7 mod 3", -1.0), ("1 div 0", math.inf),
    ("${a} = \u20182\u2019", True), ("${s} = \u201cHello World\u201d", True), ('${s} = "Hello World"', True),
    ("true() and not(false())", True), (". >= 5", True), ("string-length(.) = 1", True),
    ("${n} > ${a}", True), ("${n} > '10'", False), ("${a} = 2.0", True), ("${a} = '2.0'", False),
    ("selected(${m}, 'tv')", True), ("count-selected(${m})", 2.0), ("selected-at(${m}, 1)", "wechat"),
    ("contains(${s}, 'lo W')", True), ("starts-with(${s}, 'He')", True), ("ends-with(${s}, 'ld')", True),
    ("substr(${s}, 0, 5)", "Hello"), ("substring(${s}, 7)", "World"), ("substring-before(${s}, ' ')", "Hello"),
    ("substring-after(${s}, ' ')", "World"), ("concat(${a}, '-', ${n})", "2-7"), ("coalesce(${c}, ${a})", "2"),
    ("if(${a} > 1, 'big', 'small')", "big"), ("number('3.5') + int(2.9)", 5.5), ("round(2.345, 2)", 2.35),
    ("round(-2.5)", -2.0), ("string(${n} * 2)", "14"), ("boolean-from-string('true')", True),
    ("translate('abc', 'ab', 'AB')", "ABc"), ("max(1, ${n}, 3)", 7.0), ("min(4, ${a})", 2.0),
    ("format-date(${d}, '%d/%m/%Y')", "29/02/2024"), ("decimal-date-time('1970-01-02')", 1.0),
    ("date(${d}) < today()", True), ("${d} < '2024-03-01'", True), ("regex(${s}, '^H.*d$')", True),
    ("string-length(uuid()) = 36", True), ("normalize-space('  a  b ')", "a b"),
])
def test_expression_values(text, expected):
    got = parse_expression(text).value(V, 5)
    if isinstance(expected, float):
        assert isinstance(got, float) and (got == expected or (math.isinf(got) and math.isinf(expected)))
    else:
        assert got == expected


@pytest.mark.parametrize("text", ["pulldata('f', 'a', 'b', ${a})", "indexed-repeat(${x}, ${r}, 1)",
                                  "instance('x')/root/item[name = 1]/label", "${a} ==", "digest(${a}, 'MD5')",
                                  "../item[1]", "${a} = 'instance(' and ${b}[2]", "__import__('os').system('id')",
                                  "${a}.__class__", "lambda: 1"])
def test_outside_the_subset_is_unsupported_not_guessed(text):
    with pytest.raises(UnsupportedExpression, match="not evaluated"):
        parse_expression(text)


def test_repeat_aggregates_need_the_instances():
    e = parse_expression("count(${kids}) >= 1 and sum(${age}) > 10")
    assert e.test({"kids": ["k1", "k2"], "age": ["4", "9"]})
    with pytest.raises(NotEvaluated, match="repeat instances"):
        e.test({"kids": "k1", "age": "4"})
    assert parse_expression("position(..) = 2").test({}, position=2)


def test_relative_paths_resolve_from_the_question():
    keys = {("g", "a"): "a", ("g", "h", "b"): "b"}
    e = parse_expression("../../a = 1 and ../b = 2")
    assert e.test({"a": "1", "b": "2"}, here=("g", "h", "x"), resolve=keys.get)


def test_evaluator_never_calls_python_eval():
    source = Path(ex.__file__).read_text(encoding="utf-8")
    assert not re.search(r"(?<![\w.])(eval|exec|compile)\(", source)


def test_pathological_regex_is_linear_and_costly_pattern_is_not_evaluated():
    slow = parse_expression("regex(., '(a+)+$')")
    assert slow.test({}, "a" * 100_000) and not slow.test({}, "a" * 100_000 + "!")  # no backtracking
    with pytest.raises(NotEvaluated, match="regex too costly"):
        parse_expression("regex(., '((a{1000}){1000}){1000}')").test({}, "aaa")
    with pytest.raises(NotEvaluated, match="not supported by RE2"):
        parse_expression("regex(., '(?=a)b')").test({}, "ab")


def test_evaluate_frame_marks_rows_not_evaluated():
    df = pd.DataFrame({"kids": [["a"], "b"]})
    out = ex.evaluate_frame("count(${kids})", df)
    assert out["value"].tolist()[0] == 1.0 and out["not_evaluated"].tolist()[1].startswith("count()")


# ------------------------------------------------------------------ forms built for the test
def write_form(path: Path, survey: list[list], choices: list[list] | None = None, *, sheets=("survey", "choices"),
               settings: list[list] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheets[0]
    for row in survey:
        ws.append(row)
    if choices is not None:
        wc = wb.create_sheet(sheets[1])
        for row in choices:
            wc.append(row)
    if settings:
        st = wb.create_sheet("settings")
        for row in settings:
            st.append(row)
    wb.save(path)
    return path


def test_regex_constraint_in_a_form_never_hangs_validate(tmp_path):
    form = ss.load_questionnaire(write_form(tmp_path / "re.xlsx", [
        ["type", "name", "label", "constraint"],
        ["text", "code", "Code", "regex(., '(a+)+$')"],
        ["text", "other", "Other", "regex(., '((a{1000}){1000}){1000}')"]], None))
    raw = pd.DataFrame({"code": ["a" * 50_000 + "!", "aaa"], "other": ["x", "y"]})
    p = ss.validate(raw, form).problems
    assert p[p["column"] == "code"]["problem"].str.startswith("violates constraint").tolist() == [True]
    assert p[p["column"] == "other"]["problem"].tolist() == ["not evaluated: regex too costly (constraint)"]


def test_unsupported_relevance_is_reported_once_per_question_and_counted(tmp_path):
    form = ss.load_questionnaire(write_form(tmp_path / "u.xlsx", [
        ["type", "name", "label", "required", "relevant"],
        ["text", "a", "A", "yes", ""],
        ["text", "b", "B", "yes", "digest(${a}, 'MD5') != ''"]], None))
    report = ss.validate(pd.DataFrame({"a": ["x", "y", "z"], "b": [None, None, "q"]}), form)
    assert report.problems["problem"].tolist() == ["not evaluated: function digest() is not supported (relevant)"]
    summary = report.summary()
    assert summary.loc[summary["problem"].str.startswith("not evaluated"), "count"].tolist() == [1]
    with pytest.warns(SurveyStatsWarning, match="b relevant: function digest"):
        raw = ss.generate_responses(form, 20, seed=1, group_prefix=None)
    assert raw["b"].notna().all()  # unconstrained, never a crash


def test_cross_field_constraints_are_met_by_generated_data(tmp_path):
    form = ss.load_questionnaire(write_form(tmp_path / "x.xlsx", [
        ["type", "name", "label", "required", "constraint"],
        ["integer", "members", "Members", "yes", ". >= 1 and . <= 12"],
        ["integer", "workers", "Workers", "yes", ". <= ${members} and . >= 0"],
        ["decimal", "share", "Share", "yes", ". = ${workers} div ${members} or . <= 1"],
        ["date", "visit", "Visit", "yes", ". <= today()"]], None))
    raw = ss.generate_responses(form, 80, seed=5, group_prefix=None)
    assert (raw["workers"].astype(float) <= raw["members"].astype(float)).all()
    assert ss.validate(raw, form).ok


LAYOUTS = {
    "list name with a space, capitalised sheets and headers, trailing spaces": (
        [["Type ", "Name", "Label ", "Required"], ["select_one yn", "q", "Q?", "yes"]],
        [["list name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]], ("Survey", "Choices")),
    "no choices sheet": ([["type", "name", "label"], ["integer", "n", "N"], ["text", "t", "T"]], None, ("survey", "")),
    "same name in different groups, note without a name": (
        [["type", "name", "label"], ["note", "", "Welcome"], ["begin group", "g1", "G1"], ["integer", "age", "Age"],
         ["end group", "", ""], ["begin group", "g2", "G2"], ["integer", "age", "Age"], ["end group", "", ""]],
        None, ("survey", "")),
    "label:English with one colon and legacy select one from": (
        [["type", "name", "label:English", "label:French"], ["select one from yn", "q", "Q?", "Q ?"]],
        [["list_name", "name", "label:English", "label:French"], ["yn", "1", "Yes", "Oui"], ["yn", "0", "No", "Non"]],
        ("survey", "choices")),
    "begin loop and or_other": (
        [["type", "name", "label"], ["select_multiple pets or_other", "pets", "Pets"],
         ["begin loop over pets", "each", "Each"], ["integer", "count", "How many %(label)s?"], ["end loop", "", ""]],
        [["list_name", "name", "label"], ["pets", "cat", "Cat"], ["pets", "dog", "Dog"]], ("survey", "choices")),
    "an Excel FALSE cell as a name": (
        [["type", "name", "label"], ["select_one tf", "answer", "A"]],
        [["list_name", "name", "label"], ["tf", False, "No"], ["tf", True, "Yes"]], ("survey", "choices")),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layouts_pyxform_accepts_load_with_its_names(layout, tmp_path):
    from pyxform.xls2xform import convert

    survey, choices, sheets = LAYOUTS[layout]
    path = write_form(tmp_path / "f.xlsx", survey, choices, sheets=sheets)
    result = convert(xlsform=str(path), validate=False, warnings=[])
    form = ss.load_questionnaire(path)
    pyxform_names = [e.name for e in result._survey.iter_descendants()
                     if type(e).__name__ not in ("Survey", "GroupedSection", "RepeatingSection")
                     and "/meta/" not in e.get_xpath()]
    assert [q.name for q in form.questions] == pyxform_names
    xml = result.xform
    for q in form.questions:
        for code in (form.codes(q.key) if q.list_name else []):
            assert f"<value>{code}</value>" in xml or f"<name>{code}</name>" in xml
    if "FALSE" in layout:
        assert form.codes("answer") == ["FALSE", "TRUE"]  # as pyxform writes them, never Python's False
    if "one colon" in layout:
        assert form["q"].labels == {"English": "Q?", "French": "Q ?"} and form["q"].type == "select_one"
    if "same name" in layout:
        assert [q.key for q in form.questions if q.name == "age"] == ["g1/age", "g2/age"]
        assert form["g2/age"].group == ("g2",)
    if "loop" in layout:
        assert form["pets"].or_other and "other" in form.codes("pets")
        assert [q.key for q in form.questions if q.name == "count"] == ["each/cat/count", "each/dog/count",
                                                                        "each/other/count"]


def test_xls_workbooks_load(tmp_path):
    form = ss.load_questionnaire(Path(__file__).parent / "data" / "forms" / "kobocat__transportation.xls")
    assert form.form_id and "available_transportation_types_to_referral_facility" in form.names()


def test_choice_name_and_dynamic_required_use_the_form(tmp_path):
    form = ss.load_questionnaire(write_form(tmp_path / "c.xlsx", [
        ["type", "name", "label", "required", "constraint"],
        ["select_one yn", "q", "Q?", "", ""],
        ["text", "why", "Why?", "${q} = 'no'", "jr:choice-name(${q}, '${q}') = 'No'"]],
        [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]))
    why = form["why"]
    assert why.required_if == "${q} = 'no'" and not why.required
    assert form.is_required(why, {"q": "no"}) and not form.is_required(why, {"q": "yes"})
    assert form.satisfies(why, {"q": "no"}, "x") and not form.satisfies(why, {"q": "yes"}, "x")
    raw = ss.generate_responses(form, 40, seed=2, group_prefix=None)
    assert raw.loc[raw["q"] == "no", "why"].notna().all()


# ------------------------------------------------------------- precedence, property-based
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_LEVEL = {"or": 1, "and": 2, "=": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "div": 6,
          "mod": 6}


def _num(v):
    return (1.0 if v else 0.0) if isinstance(v, bool) else float(v)


def _truth(v):
    return v if isinstance(v, bool) else (v != "" if isinstance(v, str) else not (v == 0 or math.isnan(v)))


def _reference(op, a, b):
    """XPath 1.0 semantics of one operator (answers are strings), written out independently of the module."""
    if op in ("or", "and"):
        return (_truth(a) or _truth(b)) if op == "or" else (_truth(a) and _truth(b))
    if op in ("=", "!="):
        if isinstance(a, bool) or isinstance(b, bool):
            eq = _truth(a) == _truth(b)
        elif isinstance(a, float) or isinstance(b, float):
            eq = _num(a) == _num(b)
        else:
            eq = a == b
        return eq if op == "=" else not eq
    x, y = _num(a), _num(b)
    if op in ("<", "<=", ">", ">="):
        return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
    if op == "div":
        return x / y if y else (math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x) * math.copysign(1, y))
    if op == "mod":
        return math.fmod(x, y) if y and math.isfinite(x) else math.nan
    return {"+": x + y, "-": x - y, "*": x * y}[op]


@st.composite
def trees(draw, depth=0, ops=tuple(_LEVEL)):
    """(text, value, level) of a random expression; parentheses only where precedence needs them (or at random)."""
    if depth > 3 or (depth > 1 and draw(st.integers(0, 3)) == 0):
        n = draw(st.integers(0, 9))
        return (f"${{v{n}}}", str(n), 9) if draw(st.booleans()) else (str(n), float(n), 9)
    if draw(st.integers(0, 5)) == 0:
        text, value, level = draw(trees(depth + 1, ops))
        inner = f"({text})" if level < 7 else text
        return f"-{inner}", -_num(value), 7
    op = draw(st.sampled_from(ops))
    (lt, lv, ll), (rt, rv, rl) = draw(trees(depth + 1, ops)), draw(trees(depth + 1, ops))
    p = _LEVEL[op]
    left = f"({lt})" if ll < p or draw(st.integers(0, 6)) == 0 else lt  # left-associative
    right = f"({rt})" if rl <= p or draw(st.integers(0, 6)) == 0 else rt
    if op in ("=", "!=", "<", "<=", ">", ">=") and (ll in (3, 4) or rl in (3, 4)):
        left, right = f"({lt})", f"({rt})"  # keep comparisons of comparisons explicit
    return f"{left} {op} {right}", _reference(op, lv, rv), p


ARITHMETIC = ("+", "-", "*", "div", "mod")


@settings(max_examples=300)
@given(st.one_of(trees(ops=ARITHMETIC), trees(ops=("and", "or", "=", "<", ">=", *ARITHMETIC)), trees()))
def test_precedence_and_parentheses_match_xpath(tree):
    text, expected, _ = tree
    got = parse_expression(text).value({f"v{n}": str(n) for n in range(10)})
    if isinstance(expected, (bool, str)):
        assert got == expected, text
    elif math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got), text
    else:
        assert isinstance(got, float) and (got == expected or math.isclose(got, expected, rel_tol=1e-12)), text
