"""The one safe expression language for strings that users and data files supply.

Indicator numerators and denominators (``indicators.json``), review-rule conditions
(``rules.json``) and ``where=`` strings are all written in this language.  A string is
parsed with :mod:`ast` and every node is checked against a short whitelist *before any
data are touched*; nothing is ever handed to ``eval``, ``exec``, ``pandas.eval`` or
``DataFrame.query``.  The same parsed expression is evaluated vectorised on pandas
columns and translated to standard SQL, so one string selects the same rows in memory
and on an SQL backend.

Grammar (docs/expressions.md has the full description)::

    expr      := expr "or" expr | expr "and" expr | "not" expr
               | arith (cmp arith)+               # == != < <= > >=, chained
               | arith ["not"] "in" list
               | arith
    arith     := arith ("+" | "-" | "*" | "/" | "//" | "%") arith
               | arith "**" number | "-" arith | "+" arith | atom
    atom      := name | `any column name` | @parameter | literal
               | function "(" args ")" | "(" expr ")"
    list      := "[" literal, ... "]" | "(" literal, ... ")" | @parameter
    literal   := integer | float | 'text' | "text" | True | False | None
    function  := isna | notna | abs | round | startswith | endswith | contains

Missing values: a comparison, ``in`` / ``not in`` or string test with a missing operand
is False (also ``!=``), so a condition is never missing; ``isna``/``notna`` test for
missing; arithmetic with a missing operand, division by zero and undefined powers give
a missing value.  In SQL the translation wraps every comparison in
``COALESCE(..., FALSE)`` so ``not`` behaves the same on both sides.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from ._validation import describe_values
from .errors import ExpressionError

__all__ = ["FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "Expression", "parse", "quote_identifier"]

MAX_LENGTH = 2000
"""Longest expression accepted, in characters."""
MAX_DEPTH = 50
"""Deepest syntax tree accepted (nesting of operators, calls and parentheses)."""

FUNCTIONS: Mapping[str, str] = MappingProxyType({
    "isna": "isna(x): True where x is missing",
    "notna": "notna(x): True where x is not missing",
    "abs": "abs(x): absolute value",
    "round": "round(x[, digits]): rounded half away from zero to 0–10 digits",
    "startswith": "startswith(text, 'prefix'): the text column starts with the literal prefix",
    "endswith": "endswith(text, 'suffix'): the text column ends with the literal suffix",
    "contains": "contains(text, 'part'): the text column contains the literal part (no regex)",
})
"""The functions an expression may call, with what each does."""

_PREDICATES = ("isna", "notna", "startswith", "endswith", "contains")
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**"}
_SQL_CMP = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NP_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
           ">=": operator.ge}
_CONSTRUCTS = {
    ast.Attribute: "attribute access ('.')", ast.Subscript: "subscript ('[...]')", ast.Lambda: "lambda",
    ast.ListComp: "comprehension", ast.SetComp: "comprehension", ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension", ast.JoinedStr: "f-string", ast.FormattedValue: "f-string",
    ast.NamedExpr: "assignment expression (':=')", ast.Starred: "starred expression ('*')",
    ast.IfExp: "conditional expression (if/else)", ast.Dict: "dict literal", ast.Set: "set literal",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slice",
}
_INT64 = 2**63


def quote_identifier(name: str) -> str:
    """A column name as a standard SQL identifier: double quotes, inner ``"`` doubled.

    Examples
    --------
    >>> print(quote_identifier('my col'), quote_identifier('a"b'))
    "my col" "a""b"
    """
    return '"' + str(name).replace('"', '""') + '"'


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"CAST({value!r} AS DOUBLE)"
    return "'" + str(value).replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------- tree
@dataclass(frozen=True)
class _Col:
    name: str


@dataclass(frozen=True)
class _Lit:
    value: Any  # int, float, str, bool or None
    param: str | None = None  # the @name it came from


@dataclass(frozen=True)
class _Cmp:
    ops: tuple[str, ...]
    operands: tuple[Any, ...]


@dataclass(frozen=True)
class _In:
    left: Any
    values: tuple[Any, ...]
    negate: bool


@dataclass(frozen=True)
class _Logic:
    op: str  # "and", "or", "not"
    items: tuple[Any, ...]


@dataclass(frozen=True)
class _Arith:
    op: str  # + - * / // % ** neg
    items: tuple[Any, ...]


@dataclass(frozen=True)
class _Call:
    func: str
    args: tuple[Any, ...]


def _lit_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "num"
    return "str"


def _static_kind(node: Any) -> str:
    """What a node yields whatever the data: bool, num, str, null, or any (a column)."""
    if isinstance(node, _Col):
        return "any"
    if isinstance(node, _Lit):
        return _lit_kind(node.value)
    if isinstance(node, (_Cmp, _In, _Logic)):
        return "bool"
    if isinstance(node, _Arith):
        return "num"
    return "bool" if node.func in _PREDICATES else "num"


# ---------------------------------------------------------------------------------------- parsing
def _scan(text: str, fail: Callable[[str], NoReturn]) -> tuple[str, dict[str, tuple[str, str]]]:
    """Replace `backtick names` and @params by placeholder identifiers; leave string literals alone."""
    prefix = "_sx"
    while prefix in text:
        prefix += "x"
    out: list[str] = []
    holders: dict[str, tuple[str, str]] = {}
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            j = _string_end(text, i)
            out.append(text[i:j])
            i = j
            if text[j:].lstrip()[:1] in ("'", '"'):
                fail("two text literals side by side; write a quote inside text as \"it's\" or 'it\\'s'")
        elif ch == "`":
            j, name = _backtick(text, i + 1, fail)
            holder = f"{prefix}{len(holders)}"
            holders[holder] = ("column", name)
            out.append(holder)
            i = j
        elif ch == "@":
            m = re.match(r"[^\W\d]\w*", text[i + 1:])
            if not m:
                fail("'@' must be followed by a parameter name, e.g. @income_line")
            holder = f"{prefix}{len(holders)}"
            holders[holder] = ("param", m.group(0))
            out.append(holder)
            i += 1 + len(m.group(0))
        else:
            out.append(ch)
            i += 1
    return "".join(out), holders


def _string_end(text: str, i: int) -> int:
    """Index just after the string literal starting at *i* (or the end of text if unclosed)."""
    quote = text[i] * 3 if text.startswith(text[i] * 3, i) else text[i]
    j = i + len(quote)
    while j < len(text):
        if text[j] == "\\":
            j += 2
        elif text.startswith(quote, j):
            return j + len(quote)
        else:
            j += 1
    return len(text)


def _backtick(text: str, j: int, fail: Callable[[str], NoReturn]) -> tuple[int, str]:
    """Read a `quoted` column name from *j*; a doubled backtick stands for one."""
    buf: list[str] = []
    while True:
        if j >= len(text):
            fail("a `backtick-quoted` column name is not closed")
        if text[j] == "`":
            if text.startswith("``", j):
                buf.append("`")
                j += 2
                continue
            break
        buf.append(text[j])
        j += 1
    if not buf:
        fail("an empty `` column name")
    return j + 1, "".join(buf)


def _depth(tree: ast.AST) -> int:
    """Depth of the syntax tree, computed without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(node))
    return deepest


class _Builder:
    """Checks a Python syntax tree against the whitelist and turns it into the small tree above."""

    def __init__(self, text: str, src: str, holders: dict[str, tuple[str, str]],
                 params: Mapping[str, Any], where: str) -> None:
        self.text, self.src, self.holders, self.params, self.where = text, src, holders, params, where
        self.columns: set[str] = set()

    def fail(self, message: str) -> NoReturn:
        raise ExpressionError(_message(self.where, self.text, message))

    _ALLOWED = frozenset({"Name", "Constant", "BoolOp", "UnaryOp", "BinOp", "Compare", "Call"})

    def build(self, node: ast.AST) -> Any:
        kind = type(node).__name__
        if kind not in self._ALLOWED:
            self.fail(f"{self._construct(node)} is not allowed")
        return getattr(self, "_" + kind)(node)

    def _construct(self, node: ast.AST) -> str:
        for cls, what in _CONSTRUCTS.items():
            if isinstance(node, cls):
                return what
        if isinstance(node, (ast.List, ast.Tuple)):
            return "a list or tuple (only allowed after 'in' / 'not in')"
        if isinstance(node, ast.BinOp):
            return f"operator {type(node.op).__name__}"
        if isinstance(node, ast.Compare):
            return "comparison 'is' / 'is not' (use isna(x) / notna(x))"
        return f"construct {type(node).__name__}"

    # -- leaves ----------------------------------------------------------------------------
    def _Name(self, node: ast.Name) -> Any:
        raw = ast.get_source_segment(self.src, node) or node.id
        if raw in self.holders:
            kind, name = self.holders[raw]
            return self._param(name) if kind == "param" else self._column(name)
        if raw.startswith("__") and raw.endswith("__"):
            self.fail(f"the dunder name {raw!r} is not allowed")
        return self._column(raw)

    def _column(self, name: str) -> _Col:
        self.columns.add(name)
        return _Col(name)

    def _param(self, name: str) -> _Lit | tuple[_Lit, ...]:
        if name not in self.params:
            declared = describe_values(sorted(self.params)) if self.params else "none"
            self.fail(f"@{name} is not a declared parameter (declared: {declared})")
        value = self.params[name]
        if isinstance(value, tuple):
            return tuple(_Lit(v, name) for v in value)
        return _Lit(value, name)

    def _Constant(self, node: ast.Constant) -> _Lit:
        v = node.value
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return _Lit(v)
        if isinstance(v, int):
            if abs(v) >= _INT64:
                self.fail(f"the integer {str(v)[:20]}... does not fit in 64 bits")
            return _Lit(v)
        if isinstance(v, float):
            if not math.isfinite(v):
                self.fail(f"the number {v!r} is not finite")
            return _Lit(v)
        self.fail(f"the literal {type(v).__name__} {str(v)[:20]!r} is not allowed (numbers, 'text', True, False, None)")

    # -- operators -------------------------------------------------------------------------
    def _BoolOp(self, node: ast.BoolOp) -> _Logic:
        items = tuple(self._condition(self.build(v)) for v in node.values)
        return _Logic("and" if isinstance(node.op, ast.And) else "or", items)

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        if isinstance(node.op, ast.Not):
            return _Logic("not", (self._condition(self.build(node.operand)),))
        if isinstance(node.op, ast.Invert):
            self.fail("operator '~' is not allowed (use not)")
        item = self._number(self.build(node.operand))
        if isinstance(item, _Lit) and item.param is None:  # a negative literal stays a literal
            return _Lit(-item.value if isinstance(node.op, ast.USub) else item.value)
        return _Arith("neg", (item,)) if isinstance(node.op, ast.USub) else item

    def _BinOp(self, node: ast.BinOp) -> _Arith:
        op = _ARITH.get(type(node.op))
        if op is None:
            self.fail(f"operator {type(node.op).__name__} is not allowed (use + - * / // % **)")
        left = self._number(self.build(node.left))
        right = self._number(self.build(node.right))
        if op == "**" and not (isinstance(right, _Lit) and _lit_kind(right.value) == "num"):
            self.fail("the exponent of '**' must be a number or a numeric @parameter")
        return _Arith(op, (left, right))  # type: ignore[arg-type]

    def _Compare(self, node: ast.Compare) -> Any:
        if any(isinstance(o, (ast.In, ast.NotIn)) for o in node.ops):
            if len(node.ops) > 1:
                self.fail("'in' / 'not in' cannot be chained with other comparisons; use and")
            return self._in(node)
        if any(type(o) not in _CMP for o in node.ops):
            self.fail(self._construct(node) + " is not allowed")
        operands = tuple(self._value(self.build(x)) for x in [node.left, *node.comparators])
        kinds = [_static_kind(x) for x in operands]
        if "null" in kinds:
            self.fail("comparing with None is always False; use isna(x) or notna(x)")
        known = {k if k != "bool" else "num" for k in kinds if k != "any"}
        if len(known) > 1:
            self.fail("a comparison mixes text and numbers")
        return _Cmp(tuple(_CMP[type(o)] for o in node.ops), operands)

    def _in(self, node: ast.Compare) -> _In:
        left = self._value(self.build(node.left))
        right = node.comparators[0]
        if isinstance(right, (ast.List, ast.Tuple)):
            values = tuple(self._list_item(x) for x in right.elts)
        else:
            got = self.build(right)
            if not isinstance(got, tuple):
                self.fail("'in' needs a literal list like ['a', 'b'] or a list @parameter")
            values = got
        kinds = {"num" if k == "bool" else k for k in [_static_kind(left), *(_lit_kind(v.value) for v in values)]}
        if "null" in kinds:
            self.fail("None in an 'in' list never matches; use isna(x)")
        if "str" in kinds and len(kinds - {"any"}) > 1:
            self.fail("an 'in' test mixes text and numbers")
        return _In(left, values, isinstance(node.ops[0], ast.NotIn))

    def _list_item(self, node: ast.AST) -> _Lit:
        item = self.build(node)
        if not isinstance(item, _Lit):
            self.fail("an 'in' list may hold only literals (numbers, 'text', True, False) and @parameters")
        return item

    def _Call(self, node: ast.Call) -> _Call:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name is None:
            self.build(node.func)  # names the construct (attribute access, @parameter...) first
        if name not in FUNCTIONS:
            shown = repr(name) if name else "a computed function"
            self.fail(f"calling {shown} is not allowed (functions: {', '.join(FUNCTIONS)})")
        if node.keywords:
            self.fail(f"{name}() takes no keyword arguments")
        args = tuple(self._value(self.build(a)) for a in node.args)
        arity = {"round": (1, 2), "startswith": (2, 2), "endswith": (2, 2), "contains": (2, 2)}.get(name, (1, 1))
        if not arity[0] <= len(args) <= arity[1]:
            self.fail(f"{FUNCTIONS[name]} — got {len(args)} argument(s)")  # type: ignore[index]
        if name in ("abs", "round"):
            self._number(args[0])
        if name == "round" and len(args) == 2 and not (
                isinstance(args[1], _Lit) and type(args[1].value) is int and 0 <= args[1].value <= 10):
            self.fail("round()'s digits must be an integer literal from 0 to 10")
        if name in ("startswith", "endswith", "contains"):
            if _static_kind(args[0]) not in ("any", "str"):
                self.fail(f"{name}() tests a text column")
            if not (isinstance(args[1], _Lit) and isinstance(args[1].value, str)):
                self.fail(f"{name}()'s second argument must be a 'text' literal or a text @parameter")
        return _Call(name, args)  # type: ignore[arg-type]

    # -- context checks --------------------------------------------------------------------
    def _value(self, item: Any) -> Any:
        if isinstance(item, tuple):
            self.fail("a list @parameter can only follow 'in' / 'not in'")
        return item

    def _number(self, item: Any) -> Any:
        item = self._value(item)
        if _static_kind(item) in ("str", "null"):
            self.fail("arithmetic needs numbers, not text or None")
        return item

    def _condition(self, item: Any) -> Any:
        item = self._value(item)
        kind = _static_kind(item)
        if kind in ("num", "str", "null") or (isinstance(item, _Lit) and not isinstance(item.value, bool)):
            self.fail("'and' / 'or' / 'not' need conditions (comparisons, True/False, or True/False columns)")
        return item


def _message(where: str, text: str, what: str) -> str:
    shown = text if len(text) <= 120 else text[:117] + "..."
    return f"{where}: {what}, in expression {shown!r}; see docs/expressions.md for the language."


def _check_params(params: Mapping[str, Any] | None, where: str, text: str) -> dict[str, Any]:
    """Parameters as plain numbers, text or tuples of them."""
    out: dict[str, Any] = {}
    for name, value in dict(params or {}).items():
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, (list, tuple)):
            items = tuple(v.item() if isinstance(v, np.generic) else v for v in value)
            if all(_plain(v) for v in items):
                out[str(name)] = items
                continue
        elif _plain(value):
            out[str(name)] = value
            continue
        raise ExpressionError(_message(where, text, f"parameter @{name} is a {type(value).__name__}; parameters "
                                                   "must be numbers, text, True/False or lists of them"))
    return out


def _plain(v: Any) -> bool:
    if isinstance(v, (bool, str)):
        return True
    if isinstance(v, int):
        return abs(v) < _INT64
    return isinstance(v, float) and math.isfinite(v)


def parse(expr: str, *, params: Mapping[str, Any] | None = None, source: str | None = None) -> Expression:
    """Parse *expr* in the safe expression language; nothing is evaluated.

    Parameters
    ----------
    expr : str
        The expression, e.g. ``"status == 'exited' and income_per_head > @line"``.
        Columns are bare names or `backtick quoted` (a doubled backtick inside
        stands for one).
    params : mapping, optional
        Declared ``@name`` parameters: numbers, text, True/False or lists of them.
    source : str, optional
        Where the string comes from (file and entry), used in every error message.

    Returns
    -------
    Expression

    Raises
    ------
    ExpressionError
        On anything outside the language (attribute access, subscripts, calls other
        than :data:`FUNCTIONS`, dunder names, lambdas, comprehensions, f-strings,
        undeclared parameters...), on more than :data:`MAX_LENGTH` characters or a tree
        deeper than :data:`MAX_DEPTH`.

    Examples
    --------
    >>> import pandas as pd
    >>> e = parse("status == 'exited' and income > @line", params={"line": 800})
    >>> sorted(e.columns)
    ['income', 'status']
    >>> df = pd.DataFrame({"status": ["exited", "exited", "unexited"], "income": [900, None, 950]})
    >>> e.mask(df)
    array([ True, False, False])
    >>> parse("x.__class__", source="rules.json, rule 'r1'")
    Traceback (most recent call last):
    ...
    survey_stats.errors.ExpressionError: rules.json, rule 'r1': attribute access ('.') is not allowed, in expression 'x.__class__'; see docs/expressions.md for the language.
    """
    where = source or "expression"
    if not isinstance(expr, str):
        raise ExpressionError(f"{where}: an expression must be a string, got {type(expr).__name__}.")
    if len(expr) > MAX_LENGTH:
        raise ExpressionError(_message(where, expr, f"the expression has {len(expr)} characters, more than "
                                                    f"the {MAX_LENGTH} allowed"))
    if not expr.strip():
        raise ExpressionError(f"{where}: the expression is empty.")
    checked = _check_params(params, where, expr)
    builder = _Builder(expr, "", {}, checked, where)
    src, holders = _scan(expr, builder.fail)
    tree = _syntax(src, expr, where)
    builder.src, builder.holders = src, holders
    node = builder._value(builder.build(tree.body))
    return Expression(expr, where, frozenset(builder.columns), MappingProxyType(checked), node)


def _syntax(src: str, text: str, where: str) -> ast.Expression:
    try:
        tree = ast.parse(src, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        what = getattr(exc, "msg", None) or type(exc).__name__
        hint = ""
        if re.search(r"(?<![=!<>])=(?!=)", re.sub(r"('[^']*'|\"[^\"]*\")", "", src)):
            hint = " (compare with '==', not '=')"
        raise ExpressionError(_message(where, text, f"not a valid expression: {what}{hint}")) from None
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionError(_message(where, text, f"the expression is nested deeper than {MAX_DEPTH} levels"))
    return tree


# ---------------------------------------------------------------------------------------- values
@dataclass(frozen=True)
class _V:
    """Values of a node on every row: kind (num, str, bool, date, null), data and missing mask."""

    kind: str
    data: np.ndarray
    miss: np.ndarray
    const: bool = False


def _column_values(s: pd.Series) -> _V:
    miss = s.isna().to_numpy(dtype=bool)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if miss.all():
        return _V("null", np.zeros(len(s)), miss)
    if pd.api.types.is_bool_dtype(s.dtype):
        return _V("bool", s.fillna(False).to_numpy(dtype=bool), miss)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dtype, "tz", None) is not None:
            s = s.dt.tz_convert(None)
        return _V("date", s.to_numpy(dtype="datetime64[ns]"), miss)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return _V("num", s.to_numpy(dtype=float, na_value=np.nan), miss)
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    if inferred == "string":
        return _V("str", np.where(miss, "", s.to_numpy(dtype=object, na_value="")).astype(object), miss)
    if inferred == "boolean":
        return _V("bool", np.where(miss, False, s.to_numpy(dtype=object, na_value=False)).astype(bool), miss)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return _V("num", pd.to_numeric(s).to_numpy(dtype=float, na_value=np.nan), miss)
    raise TypeError(f"holds {inferred} values, which expressions cannot use (numbers, text, True/False or dates)")


class _Evaluator:
    def __init__(self, expression: Expression, data: pd.DataFrame) -> None:
        self.e, self.data, self.n = expression, data, len(data)

    def fail(self, message: str) -> NoReturn:
        raise ExpressionError(_message(self.e.source, self.e.text, message))

    def run(self, node: Any) -> _V:
        return getattr(self, "_" + type(node).__name__.lstrip("_"))(node)

    def _Col(self, node: _Col) -> _V:
        s = self.data[node.name]
        if isinstance(s, pd.DataFrame):
            self.fail(f"column {node.name!r} appears more than once in the data")
        try:
            return _column_values(s)
        except TypeError as exc:
            self.fail(f"column {node.name!r} {exc}")

    def _Lit(self, node: _Lit) -> _V:
        kind = _lit_kind(node.value)
        value = np.array(np.nan if node.value is None else node.value,
                         dtype=object if kind == "str" else bool if kind == "bool" else float)
        # read-only views of one value (no copy per row)
        return _V(kind, np.broadcast_to(value, (self.n,)), np.broadcast_to(np.array(node.value is None), (self.n,)),
                  const=True)

    def truth(self, node: Any) -> np.ndarray:
        """A node as a condition: True/False per row, missing counted as False."""
        v = self.run(node)
        if v.kind == "bool":
            return v.data & ~v.miss
        if v.kind == "null":
            return np.zeros(self.n, dtype=bool)
        if v.kind == "num" and np.isin(v.data[~v.miss], (0.0, 1.0)).all():
            return (v.data == 1.0) & ~v.miss
        self.fail(f"{_describe(node)} is not a condition (True/False or 0/1 values)")

    def _Logic(self, node: _Logic) -> _V:
        parts = [self.truth(x) for x in node.items]
        out = ~parts[0] if node.op == "not" else (np.logical_and if node.op == "and" else np.logical_or).reduce(parts)
        return _V("bool", out, np.zeros(self.n, dtype=bool))

    def _Cmp(self, node: _Cmp) -> _V:
        vals = [self.run(x) for x in node.operands]
        out = np.ones(self.n, dtype=bool)
        for i, op in enumerate(node.ops):
            a, b = self._align(vals[i], vals[i + 1], node.operands[i], node.operands[i + 1])
            if "null" in (a.kind, b.kind):
                out[:] = False
                continue
            with np.errstate(invalid="ignore"):
                out &= np.asarray(_NP_CMP[op](a.data, b.data), dtype=bool) & ~a.miss & ~b.miss
        return _V("bool", out, np.zeros(self.n, dtype=bool))

    def _align(self, a: _V, b: _V, na: Any, nb: Any) -> tuple[_V, _V]:
        """Make two operands comparable (True/False as 1/0; a date against a 'text' literal)."""
        if "null" in (a.kind, b.kind) or a.kind == b.kind:
            return a, b
        num = {"num", "bool"}
        if a.kind in num and b.kind in num:
            return _as_num(a), _as_num(b)
        if {a.kind, b.kind} == {"date", "str"}:
            date, text, tnode = (a, b, nb) if a.kind == "date" else (b, a, na)
            if text.const:
                conv = _V("date", self._date(tnode), text.miss, True)
                return (date, conv) if a.kind == "date" else (conv, date)
        self.fail(f"cannot compare {_describe(na)} ({_KIND_WORDS[a.kind]}) with {_describe(nb)} "
                  f"({_KIND_WORDS[b.kind]})")

    def _date(self, node: _Lit) -> np.ndarray:
        try:
            stamp = pd.Timestamp(node.value)
        except (ValueError, TypeError):
            self.fail(f"{node.value!r} is not a date")
        return np.full(self.n, stamp.to_datetime64(), dtype="datetime64[ns]")

    def _In(self, node: _In) -> _V:
        left = self.run(node.left)
        out = np.zeros(self.n, dtype=bool)
        if node.values and left.kind != "null":
            items = _V(*self._in_items(left, node), const=True)  # type: ignore[misc]
            data = _as_num(left).data if left.kind in ("num", "bool") else left.data
            out = np.isin(data, items.data)
        if node.negate:
            out = ~out
        return _V("bool", out & ~left.miss, np.zeros(self.n, dtype=bool))

    def _in_items(self, left: _V, node: _In) -> tuple[str, np.ndarray, np.ndarray]:
        kinds = {_lit_kind(v.value) for v in node.values}
        values = [v.value for v in node.values]
        if left.kind in ("num", "bool") and kinds <= {"num", "bool"}:
            return "num", np.array([float(v) for v in values]), np.zeros(len(values), dtype=bool)
        if left.kind == "str" and kinds == {"str"}:
            return "str", np.array(values, dtype=object), np.zeros(len(values), dtype=bool)
        if left.kind == "date" and kinds == {"str"}:
            dates = [self._date(_Lit(v))[:1] for v in values]
            return "date", np.concatenate(dates), np.zeros(len(values), dtype=bool)
        self.fail(f"{_describe(node.left)} ({_KIND_WORDS[left.kind]}) is tested against a list of "
                  f"{' and '.join(_KIND_WORDS[k] for k in sorted(kinds))}")

    def number(self, node: Any) -> _V:
        v = self.run(node)
        if v.kind in ("num", "bool"):
            return _as_num(v)
        if v.kind == "null":
            return _V("num", np.full(self.n, np.nan), np.ones(self.n, dtype=bool))
        self.fail(f"arithmetic on {_describe(node)}, which holds {_KIND_WORDS[v.kind]}")

    def _Arith(self, node: _Arith) -> _V:
        vals = [self.number(x) for x in node.items]
        miss = np.logical_or.reduce([v.miss for v in vals])
        a = vals[0].data
        with np.errstate(all="ignore"):
            if node.op == "neg":
                out, bad = -a, np.zeros(self.n, dtype=bool)
            else:
                out, bad = _arith(node.op, a, vals[1].data)
        miss = miss | bad | np.isnan(out)
        return _V("num", np.where(miss, np.nan, out), miss)

    def _Call(self, node: _Call) -> _V:
        no_miss = np.zeros(self.n, dtype=bool)
        if node.func in ("isna", "notna"):
            m = self.run(node.args[0]).miss
            return _V("bool", m.copy() if node.func == "isna" else ~m, no_miss)
        if node.func in ("abs", "round"):
            v = self.number(node.args[0])
            digits = node.args[1].value if len(node.args) == 2 else 0
            out = np.abs(v.data) if node.func == "abs" else _round_half_away(v.data, digits)
            return _V("num", out, v.miss)
        text = self.run(node.args[0])
        if text.kind == "null":
            return _V("bool", no_miss.copy(), no_miss)
        if text.kind != "str":
            self.fail(f"{node.func}() needs a text column; {_describe(node.args[0])} holds {_KIND_WORDS[text.kind]}")
        strings, part = pd.Series(text.data, dtype=object).str, node.args[1].value
        out = (strings.contains(part, regex=False) if node.func == "contains"  # literal text, never a regex
               else getattr(strings, node.func)(part)).to_numpy(dtype=bool)
        return _V("bool", out & ~text.miss, no_miss)


_KIND_WORDS = {"num": "numbers", "str": "text", "bool": "True/False", "date": "dates", "null": "only missing values"}


def _describe(node: Any) -> str:
    if isinstance(node, _Col):
        return f"column {node.name!r}"
    if isinstance(node, _Lit):
        return f"@{node.param}" if node.param else repr(node.value)
    return "a sub-expression"


def _as_num(v: _V) -> _V:
    return v if v.kind == "num" else _V("num", v.data.astype(float), v.miss, v.const)


def _arith(op: str, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(result, undefined) of a binary operation; / // % by zero and bad powers are undefined."""
    zero = b == 0
    if op == "+":
        return a + b, np.zeros(a.shape, dtype=bool)
    if op == "-":
        return a - b, np.zeros(a.shape, dtype=bool)
    if op == "*":
        return a * b, np.zeros(a.shape, dtype=bool)
    if op == "/":
        return a / b, zero
    if op == "//":
        return np.floor(a / b), zero
    if op == "%":
        return a - b * np.floor(a / b), zero
    e = b[0] if len(b) else 0.0
    bad = (a < 0) & (e != math.floor(e)) | (a == 0) & (e < 0)
    return np.power(a, b), bad


def _round_half_away(x: np.ndarray, digits: int) -> np.ndarray:
    """Round half away from zero (as SQL ROUND and C ``round``), not half to even."""
    scale = 10.0 ** digits
    y = x * scale if digits else x
    t = np.trunc(y)
    r = np.where(np.abs(y - t) >= 0.5, t + np.sign(y), t)
    return r / scale if digits else r


# ---------------------------------------------------------------------------------------- SQL
class _SQL:
    def __init__(self, quote: Callable[[str], str]) -> None:
        self.q = quote

    def value(self, node: Any) -> str:
        if isinstance(node, _Col):
            return self.q(node.name)
        if isinstance(node, _Lit):
            return _sql_literal(node.value)
        return self.predicate(node) if _static_kind(node) == "bool" else self.arith(node)

    def cond(self, node: Any) -> str:
        if isinstance(node, (_Col, _Lit)) and not (isinstance(node, _Lit) and isinstance(node.value, bool)):
            return f"COALESCE(CAST({self.value(node)} AS BOOLEAN), FALSE)"
        return self.value(node)

    def num(self, node: Any) -> str:
        if isinstance(node, (_Col, _Lit)) or _static_kind(node) == "bool":
            return f"CAST({self.value(node)} AS DOUBLE)"
        return self.arith(node)

    def predicate(self, node: Any) -> str:
        if isinstance(node, _Lit):
            return _sql_literal(node.value)
        if isinstance(node, _Logic):
            if node.op == "not":
                return f"(NOT {self.cond(node.items[0])})"
            return "(" + f" {node.op.upper()} ".join(self.cond(x) for x in node.items) + ")"
        if isinstance(node, _Cmp):
            pairs = [f"COALESCE(({self.value(a)} {_SQL_CMP[op]} {self.value(b)}), FALSE)"
                     for op, a, b in zip(node.ops, node.operands, node.operands[1:])]
            return pairs[0] if len(pairs) == 1 else "(" + " AND ".join(pairs) + ")"
        if isinstance(node, _In):
            left = self.value(node.left)
            if not node.values:
                return f"({left} IS NOT NULL)" if node.negate else "FALSE"
            items = ", ".join(_sql_literal(v.value) for v in node.values)
            return f"COALESCE(({left} {'NOT IN' if node.negate else 'IN'} ({items})), FALSE)"
        return self.call(node)

    def call(self, node: _Call) -> str:
        if node.func in ("isna", "notna"):
            return f"({self.value(node.args[0])} IS {'NOT ' if node.func == 'notna' else ''}NULL)"
        pattern = str(node.args[1].value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"startswith": pattern + "%", "endswith": "%" + pattern, "contains": "%" + pattern + "%"}[node.func]
        return f"COALESCE(({self.value(node.args[0])} LIKE {_sql_literal(pattern)} ESCAPE '\\'), FALSE)"

    def arith(self, node: Any) -> str:
        if isinstance(node, _Call):
            digits = node.args[1].value if len(node.args) == 2 else 0
            x = self.num(node.args[0])
            return f"ABS({x})" if node.func == "abs" else f"ROUND({x}, {digits})"
        a = self.num(node.items[0])
        if node.op == "neg":
            return f"(-{a})"
        b = self.num(node.items[1])
        if node.op in "+-*":
            return f"({a} {node.op} {b})"
        if node.op == "/":
            return f"({a} / NULLIF({b}, 0))"
        if node.op == "//":
            return f"FLOOR({a} / NULLIF({b}, 0))"
        if node.op == "%":
            return f"({a} - {b} * FLOOR({a} / NULLIF({b}, 0)))"
        e = float(node.items[1].value)
        guards = ([f"{a} < 0"] if e != math.floor(e) else []) + ([f"{a} = 0"] if e < 0 else [])
        power = f"POWER({a}, {b})"
        return f"(CASE WHEN {' OR '.join(guards)} THEN NULL ELSE {power} END)" if guards else power


# ---------------------------------------------------------------------------------------- public
@dataclass(frozen=True, eq=False)
class Expression:
    """A parsed, checked expression (build it with :func:`parse`).

    Attributes
    ----------
    text : str
        The expression as written.
    source : str
        Where it came from (used in error messages).
    columns : frozenset of str
        The columns it reads.
    params : mapping
        The declared parameters it was parsed with (read-only).

    Examples
    --------
    >>> import pandas as pd
    >>> e = parse("`household size` >= 3 and region in ['north', 'east']")
    >>> sorted(e.columns)
    ['household size', 'region']
    >>> print(e.to_sql())
    (COALESCE(("household size" >= 3), FALSE) AND COALESCE(("region" IN ('north', 'east')), FALSE))
    >>> df = pd.DataFrame({"household size": [4, 2, None], "region": ["north", "east", "east"]})
    >>> e.mask(df)
    array([ True, False, False])
    """

    text: str
    source: str
    columns: frozenset[str]
    params: Mapping[str, Any] = field(repr=False)
    _tree: Any = field(repr=False)

    @property
    def is_condition(self) -> bool:
        """True when the expression is a condition whatever the data (a comparison, and/or/not, a test)."""
        return _static_kind(self._tree) == "bool"

    @property
    def is_column(self) -> bool:
        """True when the expression is one column name and nothing else."""
        return isinstance(self._tree, _Col)

    def check_columns(self, available: Any) -> None:
        """Raise :class:`ExpressionError` naming any referenced column not in *available*."""
        have = [str(c) for c in available]
        unknown = sorted(self.columns - set(have))
        if unknown:
            near = difflib.get_close_matches(unknown[0], have, n=3)
            hint = f" (did you mean {describe_values(near)}?)" if near else ""
            raise ExpressionError(_message(self.source, self.text,
                                           f"unknown column(s) {describe_values(unknown)}{hint}; available columns: "
                                           f"{', '.join(repr(c) for c in have[:40])}{' ...' if len(have) > 40 else ''}"))

    def _run(self, data: pd.DataFrame) -> _Evaluator:
        if not isinstance(data, pd.DataFrame):
            raise ExpressionError(f"{self.source}: expressions are evaluated on a pandas DataFrame, "
                                  f"got {type(data).__name__}.")
        self.check_columns(data.columns)
        return _Evaluator(self, data)

    def evaluate(self, data: pd.DataFrame) -> np.ndarray:
        """The expression's value on every row of *data*.

        Numbers come back as float with NaN where missing; conditions as bool; text as
        object (None where missing); dates as datetime64 (NaT where missing).  A column
        of True/False with missing values comes back as float 1/0/NaN.

        Examples
        --------
        >>> import pandas as pd
        >>> parse("income / members").evaluate(pd.DataFrame({"income": [900, 800], "members": [3, 0]}))
        array([300.,  nan])
        """
        ev = self._run(data)
        v = ev.run(self._tree)
        if v.kind in ("num", "null"):
            return np.where(v.miss, np.nan, v.data.astype(float))
        if v.kind == "bool":
            return v.data.copy() if not v.miss.any() else np.where(v.miss, np.nan, v.data.astype(float))
        if v.kind == "str":
            return np.where(v.miss, None, v.data).astype(object)
        return np.where(v.miss, np.datetime64("NaT"), v.data)

    def mask(self, data: pd.DataFrame) -> np.ndarray:
        """The rows where the condition holds (a bool array; missing counts as False).

        Raises :class:`ExpressionError` when the expression is not a condition: a
        comparison, and/or/not, a test function, or a column of True/False or 0/1.

        Examples
        --------
        >>> import pandas as pd
        >>> parse("not (age > 60)").mask(pd.DataFrame({"age": [70, 50, None]}))
        array([False,  True,  True])
        """
        kind = _static_kind(self._tree)
        if kind in ("num", "str", "null") or (isinstance(self._tree, _Lit) and not isinstance(self._tree.value, bool)):
            raise ExpressionError(_message(self.source, self.text, "this is not a condition (it gives "
                                                                   f"{_KIND_WORDS.get(kind, 'values')}, not True/False)"))
        return self._run(data).truth(self._tree)

    def to_sql(self, quote: Callable[[str], str] = quote_identifier, *, condition: bool = False) -> str:
        """The expression in standard SQL (``=``, ``<>``, ``AND``, ``IN``, ``IS NULL``...).

        Parameters
        ----------
        quote : callable
            Quotes a column name as an SQL identifier (default: double quotes, inner
            ``"`` doubled).
        condition : bool
            Translate as a WHERE condition: a lone column or literal becomes
            ``COALESCE(CAST(x AS BOOLEAN), FALSE)``.

        Examples
        --------
        >>> print(parse("status != 'exited' or isna(exited_on)").to_sql())
        (COALESCE(("status" <> 'exited'), FALSE) OR ("exited_on" IS NULL))
        >>> print(parse("name == 'it''s'", source="demo").to_sql())
        Traceback (most recent call last):
        ...
        survey_stats.errors.ExpressionError: demo: ...
        >>> print(parse('`a"b` in @names', params={"names": ["O'Brien"]}).to_sql())
        COALESCE(("a""b" IN ('O''Brien')), FALSE)
        """
        sql = _SQL(quote)
        return sql.cond(self._tree) if condition else sql.value(self._tree)

    def __str__(self) -> str:
        return self.text
