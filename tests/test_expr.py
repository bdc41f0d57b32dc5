"""The safe expression language: the bundled files, attacks, memory = SQL, no eval/query left in src/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import survey_stats as ss
from survey_stats import review
from survey_stats.expr import MAX_DEPTH, MAX_LENGTH, parse

SRC = Path(ss.__file__).parent


# ---------------------------------------------------------------------------------------- bundled files
def _indicator_expressions() -> list[tuple[str, str, str]]:
    spec = json.loads((SRC / "indicators" / "data" / "indicators.json").read_text("utf-8"))
    out = []
    for ind in spec["indicators"]:
        for part in [ind, *ind.get("parts", [])]:
            for role in ("numerator", "denominator"):
                if part.get(role):
                    out.append((ind["id"], role, part[role]))
    return out


def _review_frame(seed: int) -> pd.DataFrame:
    reg = ss.datasets.simulate_review(seed=seed)["registry"].reset_index(drop=True).copy()
    for c in ("registered_on", "exited_on", "birth_date"):
        reg[c] = pd.to_datetime(reg[c], errors="coerce")
    return reg


def test_every_bundled_indicator_expression_parses_and_selects_the_same_rows_as_pandas():
    data = ss.datasets.load_poverty_survey()
    exprs = _indicator_expressions()
    assert len(exprs) >= 10
    rng = np.random.default_rng(1)
    for text in (t for _, _, t in exprs):  # columns of other samples (e.g. unregistered): random 0/1 with gaps
        for c in parse(text).columns - set(data.columns):
            texts = re.findall(rf"\b{re.escape(c)}\s*(?:==|!=)\s*'([^']*)'", text)  # a text column (e.g. a group)
            values = [*texts, "other", None] if texts else [0.0, 1.0, np.nan]
            data[c] = pd.Series(rng.choice(np.array(values, dtype=object), size=len(data)), index=data.index)
    data.loc[data.index[::9], "status"] = None
    compared = 0
    for iid, role, text in exprs:
        e = parse(text, source=f"indicators.json: {iid}, {role}")
        if e.columns <= set(data.columns):
            compared += 1
            # the previous implementation: pandas eval on the trusted shipped string (tests only)
            before = np.asarray(data.eval(text, engine="python"))
            now = e.mask(data) if role == "denominator" else e.evaluate(data)
            assert_allclose(np.asarray(now, dtype=float), np.asarray(before, dtype=float), equal_nan=True)
    assert compared == len(exprs)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_bundled_rule_condition_selects_the_same_rows_as_pandas_query(seed):
    rules = review.default_rules()
    parsed = review.check_rules(rules)
    assert set(parsed) == {r["id"] for r in rules["rules"] if r["kind"] == "expression"}
    reg = _review_frame(seed)
    for rid, e in parsed.items():
        before = np.zeros(len(reg), dtype=bool)
        before[reg.query(e.text, local_dict=dict(rules["thresholds"]), engine="python").index] = True
        assert (e.mask(reg) == before).all(), rid


# ---------------------------------------------------------------------------------------- attacks
ATTACKS = [
    "@pd.io.common.os.system('touch {x}') == 0",
    "@data.to_csv('{x}')",
    "@data.to_csv('{x}') == 0",
    "__import__('os').system('touch {x}')",
    "().__class__.__bases__",
    "().__class__.__bases__[0].__subclasses__()",
    "status.__class__",
    "a.b",
    "a[0]",
    "[x for x in y]",
    "{{x for x in y}}",
    "lambda: 1",
    "(lambda: open('{x}', 'w'))()",
    "f'{{a}}'",
    "(a := 1)",
    "open('{x}', 'w')",
    "print(1)",
    "getattr(a, 'b')",
    "exec('1')",
    "eval('1')",
    "a if b else c",
    "{{'a': 1}}",
    "*a",
    "a @ b",
    "`a` . b",
    "status == 'x' or __builtins__",
    "a in b",
    "a is None",
    "~a",
    "a << 1",
    "b'x' == a",
    "1j == a",
    "x ** y",
    "isna(a, b)",
    "round(a, b)",
    "startswith(a, b)",
    "abs(a=1)",
    "@undeclared > 1",
    "status = 'exited'",
    "a == 'x' 'y'",
    "a" * (MAX_LENGTH + 1),
    "(" * 1000 + "a" + ")" * 1000,
    "-" * (MAX_LENGTH - 1) + "a",
    "not " * (MAX_DEPTH + 5) + "a",
    "a" + " + a" * 400,
    "x in [" + ", ".join(["[1]"] * 300) + "]",
]


@pytest.mark.parametrize("template", ATTACKS)
def test_attack_corpus_is_refused_before_any_data_and_writes_nothing(template, tmp_path):
    text = template.format(x=tmp_path / "pwned")
    data = pd.DataFrame({"a": [1, 2], "b": [3, 4], "status": ["x", "y"]})
    with pytest.raises(ss.ExpressionError):
        parse(text, params={"line": 800}, source="attack")
    # the same string through every place that accepts one
    spec = {"indicators": [{"id": "evil", "kind": "rate", "sample": "s", "numerator": text, "denominator": text}]}
    with pytest.raises(ss.ExpressionError, match="indicator 'evil'"):
        ss.IndicatorSystem(spec, source="evil.json")
    rules = {"thresholds": {}, "rules": [{"id": "evil", "kind": "expression", "category": "illogical",
                                          "condition": text, "message_zh": "", "message_en": ""}]}
    with pytest.raises((ss.ExpressionError, ss.DataError), match="rule 'evil'"):
        review.audit_registry(data.assign(household_id=["1", "2"]), rules=rules)
    design = ss.Design(data.assign(w=1.0), weights="w")
    with pytest.raises(ss.ExpressionError):
        ss.mean(design, "a", where=text)
    assert list(tmp_path.iterdir()) == []


def test_dangerous_objects_cannot_be_passed_as_parameters(tmp_path):
    df = pd.DataFrame({"a": [1]})
    for bad in (df, pd, np.array([1]), print, {"k": 1}, None, float("nan"), [df]):
        with pytest.raises(ss.ExpressionError, match="parameter @p"):
            parse("a == @p", params={"p": bad})


def test_errors_name_the_file_entry_and_construct(tmp_path):
    path = tmp_path / "indicators.json"
    spec = json.loads(json.dumps(ss.IndicatorSystem.default().spec))
    spec["indicators"][1]["denominator"] = "@pd.io.common.os.system('touch x') == 0"
    path.write_text(json.dumps(spec), encoding="utf-8")
    iid = spec["indicators"][1]["id"]
    with pytest.raises(ss.ExpressionError) as info:
        ss.IndicatorSystem.from_file(path)
    msg = str(info.value)
    assert str(path) in msg and f"indicator {iid!r}" in msg and "denominator" in msg and "attribute access" in msg
    rules_path = tmp_path / "rules.json"
    rules = review.default_rules()
    at = next(i for i, r in enumerate(rules["rules"]) if r["id"] == "income_above_threshold")
    rules["rules"][at]["condition"] = "income_per_head > @data.shape"
    rules_path.write_text(json.dumps(rules), encoding="utf-8")
    with pytest.raises(ss.ExpressionError, match=f"{re.escape(str(rules_path))}: rule 'income_above_threshold', "
                                                 "condition: attribute access"):
        review.load_rules(rules_path)


def test_cli_analyze_refuses_a_malicious_indicator_file_before_reading_data(tmp_path, capsys):
    from survey_stats.cli import main

    target = tmp_path / "pwned"
    spec = {"indicators": [{"id": "evil", "kind": "rate", "sample": "s",
                            "numerator": f"@pd.io.common.os.system('touch {target}') == 0"}]}
    bad = tmp_path / "evil.json"
    bad.write_text(json.dumps(spec), encoding="utf-8")
    code = main(["analyze", "--sample", f"s={tmp_path}/no_units.csv:{tmp_path}/no_resp.csv:home_visit",
                 "--indicators", str(bad), "--out", str(tmp_path / "out.json")])
    err = capsys.readouterr().err
    assert code != 0 and "evil.json" in err and "indicator 'evil'" in err and "attribute access" in err
    assert not target.exists() and not (tmp_path / "out.json").exists()


def test_unknown_column_names_it_and_lists_the_available_ones():
    with pytest.raises(ss.ExpressionError, match=r"unknown column\(s\) 'statsu' \(did you mean 'status'\?\); "
                                                 r"available columns: 'status', 'x'"):
        parse("statsu == 'a'", source="where=").mask(pd.DataFrame({"status": ["a"], "x": [1]}))


# ---------------------------------------------------------------------------------------- semantics
FRAME = pd.DataFrame({
    "x": [1.0, np.nan, -2.5, 0.0, 3.0],
    "s": ["ab", None, "b", "a%_", "it's"],
    "flag": [True, False, True, False, True],
    "d": pd.to_datetime(["2024-01-01", None, "2025-06-30", "2023-12-31", "2024-01-01"]),
    "my col": [1, 2, 3, 4, 5],
})


@pytest.mark.parametrize("text, expected", [
    ("x > 0", [True, False, False, False, True]),
    ("x != 1", [False, False, True, True, True]),           # missing: False, also for !=
    ("not (x == 1)", [False, True, True, True, True]),       # not of False is True
    ("isna(x) or x < 0", [False, True, True, False, False]),
    ("-3 < x <= 1", [True, False, True, True, False]),
    ("s in ['ab', 'b']", [True, False, True, False, False]),
    ("s not in ('ab',)", [False, False, True, True, True]),
    ("startswith(s, 'a')", [True, False, False, True, False]),
    ("contains(s, '%_')", [False, False, False, True, False]),
    ("s == \"it's\"", [False, False, False, False, True]),
    ("flag and d >= '2024-01-01'", [True, False, True, False, True]),
    ("`my col` % 2 == 1", [True, False, True, False, True]),
    ("x / (`my col` - 2) > 0", [False, False, False, False, True]),   # 1/-1 < 0, ÷0 missing, 0/2 = 0
    ("round(x * 0.5) == 2 or abs(x) == 2.5", [False, False, True, False, True]),
])
def test_conditions_and_missing_values(text, expected):
    assert parse(text).mask(FRAME).tolist() == expected


def test_type_errors_are_expression_errors():
    with pytest.raises(ss.ExpressionError, match="cannot compare column 's' \\(text\\) with 1"):
        parse("s == 1 or x > 0").mask(FRAME)
    with pytest.raises(ss.ExpressionError, match="not a condition"):
        parse("x + 1").mask(FRAME)
    with pytest.raises(ss.ExpressionError, match="arithmetic on column 's'"):
        parse("s * 2 > 1").mask(FRAME)


def test_where_string_is_an_expression_and_a_column_name_stays_a_column():
    d = ss.Design(FRAME.assign(y=[1.0, 2.0, 3.0, 4.0, 5.0], w=1.0), weights="w")
    a = ss.mean(d, "y", where="flag")
    b = ss.mean(d, "y", where=FRAME["flag"].to_numpy())
    c = ss.mean(d, "y", where="flag == True")
    assert a.estimate == b.estimate == c.estimate == 3.0
    with pytest.raises(ss.DataError, match="selects no rows"):
        ss.mean(d, "y", where="x > 100")


def test_one_where_string_means_the_same_rows_in_memory_and_on_duckdb():
    from _refs import ref_data

    df = ref_data("apistrat.csv")
    df.loc[::7, "api99"] = np.nan
    kw = dict(strata="stype", weights="pw", fpc="fpc")
    con = duckdb.connect()
    con.register("api", df)
    mem, sql = ss.Design(df, **kw), ss.SQLDesign("api", con=con, **kw)
    for where in ["stype == 'H' and api00 > 600", "not (api99 > 650) or isna(api99)", "api99 < 700",
                  "api00 - api99 >= 20 and stype in ['E', 'M']", "`yr.rnd` == 'No'"]:
        a, b = ss.mean(mem, "api00", where=where), ss.mean(sql, "api00", where=where)
        assert a.n == b.n, where
        assert_allclose([a.estimate, a.se], [b.estimate, b.se], rtol=1e-9)
    with pytest.raises(ss.ExpressionError, match="compare with '=='"):
        ss.mean(sql, "api00", where="stype = 'H'")
    for injection in ["stype == 'H'; DROP TABLE api", "stype == 'H' OR 1=1 --", "stype == 'x'' OR ''1'' = ''1'"]:
        with pytest.raises(ss.ExpressionError):
            ss.mean(sql, "api00", where=injection)
    assert ss.mean(sql, "api00", where="stype == 'H'").n == 50
    with pytest.raises(ss.DataError, match="no rows"):  # a quote inside text stays text
        ss.mean(sql, "api00", where="stype == \"H' OR '1' = '1\"")


# ---------------------------------------------------------------------------------------- memory = SQL
_NUM_LEAF = st.sampled_from(["x", "y", "0", "1", "2", "-3", "0.5", "2.25"])
_STR_LEAF = st.sampled_from(["s", "'a'", "'b'", "'ab'", "\"it's\"", "'a%_'"])


def _num(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "//", "%"]), children).map(" ".join).map(
        lambda t: f"({t})")
    return st.one_of(
        binary, binary, binary,
        st.tuples(st.sampled_from(["-", "abs", "round"]), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, st.sampled_from([", 1", ", 2"])).map(lambda t: f"round({t[0]}{t[1]})"),
        st.tuples(children, st.sampled_from(["2", "0.5", "-1", "3"])).map(lambda t: f"({t[0]}) ** {t[1]}"),
    )


NUM = st.recursive(_NUM_LEAF, _num, max_leaves=10)
_ATOM_COND = st.one_of(
    st.tuples(NUM, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), NUM).map(" ".join),
    st.tuples(NUM, st.sampled_from(["<", "<="]), NUM, st.sampled_from(["<", "<="]), NUM).map(" ".join),
    st.tuples(_STR_LEAF, st.sampled_from(["==", "!=", "<", ">="]), _STR_LEAF).map(" ".join),
    st.tuples(st.sampled_from(["s", "'a'"]), st.sampled_from(["in", "not in"]),
              st.sampled_from(["['a', 'b']", "('ab',)", "[]", "[\"it's\", 'a%_']"])).map(" ".join),
    st.tuples(NUM, st.sampled_from(["in", "not in"]), st.sampled_from(["[1, 2]", "(0.5, -3)", "[]"])).map(" ".join),
    st.tuples(st.sampled_from(["isna", "notna"]), st.one_of(NUM, _STR_LEAF)).map(lambda t: f"{t[0]}({t[1]})"),
    st.tuples(st.sampled_from(["startswith", "endswith", "contains"]), st.sampled_from(["'a'", "'%_'", "''", "'b'"])
              ).map(lambda t: f"{t[0]}(s, {t[1]})"),
    st.sampled_from(["flag", "True", "False"]),
)
COND = st.recursive(_ATOM_COND, lambda c: st.one_of(
    c.map(lambda a: f"not ({a})"),
    st.tuples(c, st.sampled_from(["and", "or"]), c).map(lambda t: f"({t[0]} {t[1]} {t[2]})")), max_leaves=5)

DATA = st.integers(1, 12).flatmap(lambda n: st.fixed_dictionaries({
    "x": st.lists(st.sampled_from([-2.5, -1.0, 0.0, 0.5, 1.0, 3.0, np.nan]), min_size=n, max_size=n),
    "y": st.lists(st.integers(-3, 3), min_size=n, max_size=n),
    "s": st.lists(st.sampled_from(["a", "b", "ab", "ba", "", None, "it's", "a%_", "A"]), min_size=n, max_size=n),
    "flag": st.lists(st.booleans(), min_size=n, max_size=n),
}))


_CON = duckdb.connect()


def _duckdb(frame: pd.DataFrame, sql: str) -> list:
    _CON.register("t", frame.assign(__row=np.arange(len(frame))))
    return [r[0] for r in _CON.execute(f"SELECT {sql} FROM t ORDER BY __row").fetchall()]


@settings(max_examples=150, deadline=None)
@given(COND, DATA)
def test_random_conditions_select_the_same_rows_in_memory_and_on_duckdb(text, data):
    frame = pd.DataFrame(data)
    e = parse(text)
    assert e.mask(frame).tolist() == _duckdb(frame, e.to_sql(condition=True)), e.to_sql(condition=True)


@settings(max_examples=150, deadline=None)
@given(NUM, DATA)
def test_random_arithmetic_gives_the_same_numbers_in_memory_and_on_duckdb(text, data):
    frame = pd.DataFrame(data)
    e = parse(text)
    got = np.array([np.nan if v is None else float(v) for v in _duckdb(frame, e.to_sql())])
    assert_allclose(e.evaluate(frame), got, rtol=1e-12, equal_nan=True, err_msg=e.to_sql())


# ---------------------------------------------------------------------------------------- no eval left
_EXCLUDED: set = set()  # no file is exempt: the XLSForm XPath evaluator has its own grammar and no eval either
_FORBIDDEN = re.compile(r"\.eval\(|\.query\(|(?<![\w.])eval\(|(?<![\w.])exec\(|\bpd\.eval\b|\bpandas\.eval\(")


def test_no_eval_or_query_in_the_package():
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        if path in _EXCLUDED:
            continue
        for i, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if _FORBIDDEN.search(line):
                hits.append(f"{path.relative_to(SRC)}:{i}: {line.strip()}")
    assert hits == []


def test_the_eval_check_catches_what_it_should():
    for line in ["df.eval('a')", "df.query('a > 1')", "eval(code)", "exec(code)", "pd.eval('1')", "x = pandas.eval(s)"]:
        assert _FORBIDDEN.search(line), line
    for line in ["e.evaluate(data)", "ast.parse(src, mode='eval')", "_eval(x)", "evaluate_indicators("]:
        assert not _FORBIDDEN.search(line), line


_TOKENS = st.sampled_from(["x", "s", "flag", "`my col`", "@p", "@q", "1", "-2.5", "'a'", '"b"', "None", "True", "(", ")",
                           "[", "]", ",", ".", "==", "!=", "<", ">=", "and", "or", "not", "in", "+", "-", "*", "/",
                           "//", "%", "**", "isna", "round", "startswith", "__class__", "lambda", ":", "@", "`",
                           "'", "f'", "=", "if", "else", "for", "~", "|"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_TOKENS, max_size=25).map(" ".join)))
def test_any_string_parses_or_gives_an_expression_error_and_never_anything_else(text):
    try:
        e = parse(text, params={"p": 2, "q": ["a", "b"]})
    except ss.ExpressionError:
        return
    frame = FRAME.rename(columns={"d": "date"})
    try:
        e.evaluate(frame)
        if e.is_condition:
            e.mask(frame)
        e.to_sql()
    except ss.ExpressionError:
        pass
