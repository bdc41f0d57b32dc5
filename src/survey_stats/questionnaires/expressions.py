"""The ODK XPath subset of XLSForm ``relevant``, ``constraint``, ``calculation`` and ``choice_filter``.

Expressions are parsed with a lark grammar (:data:`GRAMMAR`) into a tree, and the tree is
turned into nested Python closures: nothing is ever passed to ``eval`` or ``exec``.  The
value rules are those of XPath 1.0 as ODK's JavaRosa applies them: answers are strings,
``=`` compares as numbers when one side is a number or date and as strings otherwise,
``<``/``>`` compare numbers, dates count as days since 1970-01-01, an empty answer is the
empty string (``number('')`` is NaN).

Two things make an expression *not evaluated* (:class:`NotEvaluated`), never guessed:

* a function outside :data:`SUPPORTED_FUNCTIONS` or a construct outside the grammar
  (predicates ``[...]``, ``instance(...)``): :class:`UnsupportedExpression`, raised when the
  expression is parsed, so the caller can report it once per question;
* a value that cannot be computed from one flat row: ``count()``/``sum()``/``position()``
  over repeat instances that are not in the row, or a ``regex()`` whose pattern RE2 refuses
  as too costly (RE2 matches in time linear in the answer, so no pattern can hang).
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import random
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import re2
from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from ..errors import QuestionnaireError

__all__ = [
    "GRAMMAR",
    "SUPPORTED_FUNCTIONS",
    "Expression",
    "NotEvaluated",
    "UnsupportedExpression",
    "compile_expression",
    "evaluate_frame",
    "parse_expression",
]


class NotEvaluated(QuestionnaireError):
    """An expression that cannot be evaluated here; ``reason`` says why (e.g. ``"regex too costly"``).

    Examples
    --------
    >>> try:
    ...     parse_expression("count(${kids}) > 0").test({"kids": "k1"})
    ... except NotEvaluated as exc:
    ...     print(exc.reason)
    count() needs the repeat instances, which a flat row does not hold
    """

    def __init__(self, reason: str, expression: str = "") -> None:
        self.reason, self.expression = reason, expression
        super().__init__(f"not evaluated: {reason}" + (f" in {expression!r}" if expression else ""))


class UnsupportedExpression(NotEvaluated):
    """The expression uses a function or construct outside the supported ODK XPath subset."""


#: The grammar (lark, LALR).  Precedence from loosest to tightest: or, and, = !=,
#: < <= > >=, + -, * div mod, unary minus, then literals, ``${name}``, paths, calls, ``( )``.
GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr | or_expr "or" and_expr -> or_
?and_expr: eq_expr | and_expr "and" eq_expr -> and_
?eq_expr: rel_expr | eq_expr EQOP rel_expr -> compare
?rel_expr: add_expr | rel_expr RELOP add_expr -> compare
?add_expr: mul_expr | add_expr ADDOP mul_expr -> arith
?mul_expr: unary | mul_expr MULOP unary -> arith
?unary: primary | "-" unary -> neg
?primary: NUMBER -> number
    | STRING -> string
    | REF -> ref
    | "(" or_expr ")"
    | FNAME "(" [or_expr ("," or_expr)*] ")" -> call
    | path
path: ROOT? step ("/" step)* | ROOT
step: NAME | DOT | DOTDOT
EQOP: "!=" | "="
RELOP: "<=" | ">=" | "<" | ">"
ADDOP: "+" | "-"
MULOP: "*" | "div" | "mod"
ROOT: "/"
DOT: "."
DOTDOT: ".."
REF: /\$\{\s*[A-Za-z_:][\w.:-]*\s*\}/
FNAME.2: /[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?(?=\s*\()/
NAME: /[A-Za-z_][\w.-]*(::?[A-Za-z_][\w.-]*)?/
NUMBER.2: /\d+(\.\d*)?|\.\d+/
STRING: /'[^']*'|"[^"]*"/
%ignore /\s+/
"""

_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_EPOCH = _dt.date(1970, 1, 1)
_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?)?")
_NUM = re.compile(r"^\s*-?(\d+(\.\d*)?|\.\d+)\s*$")


# ----------------------------------------------------------------------------------- values
def _to_string(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, _dt.datetime):
        return v.isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return _to_string(v[0]) if v else ""
    return "" if v is None else str(v)


def _days(v: _dt.date) -> float:
    if isinstance(v, _dt.datetime):
        return (v.replace(tzinfo=None) - _dt.datetime(1970, 1, 1)).total_seconds() / 86400.0
    return float((v - _EPOCH).days)


def _to_number(v: Any) -> float:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, _dt.date):
        return _days(v)
    s = _to_string(v)
    if _NUM.match(s):
        return float(s)
    d = _parse_date(s)
    return _days(d) if d is not None else math.nan


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        return not (v == 0 or math.isnan(v))
    if isinstance(v, list):
        return bool(v)
    if isinstance(v, _dt.date):
        return True
    return _to_string(v) != ""


def _parse_date(s: str) -> _dt.date | None:
    m = _DATE.match(s)
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    try:
        if hh is None:
            return _dt.date(int(y), int(mo), int(d))
        sec = float(ss or 0)
        return _dt.datetime(int(y), int(mo), int(d), int(hh), int(mm), int(sec), int(round((sec % 1) * 1e6)) % 1000000)
    except ValueError:
        return None


def _as_date(v: Any) -> _dt.date | float:
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _EPOCH + _dt.timedelta(days=float(v)) if math.isfinite(v) else math.nan
    d = _parse_date(_to_string(v))
    return d if d is not None else math.nan


def _node(v: Any) -> Any:
    """A data value as an XPath node value: text, or a list of texts for repeat instances."""
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (list, tuple)):
        return [_node(x) for x in v]
    if isinstance(v, float) and math.isnan(v):
        return ""
    if isinstance(v, (bool, int, float)) or hasattr(v, "dtype"):
        return _to_string(v.item() if hasattr(v, "item") else v)
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat() if v == v.normalize() else v.isoformat()
    return v if isinstance(v, (str, _dt.date)) else str(v)


# -------------------------------------------------------------------------------- context
@dataclass
class _Ctx:
    values: Mapping[str, Any]
    self_value: Any = None
    here: tuple[str, ...] = ()
    resolve: Callable[[tuple[str, ...]], str | None] | None = None
    choice: Mapping[str, Any] | None = None
    position: int | None = None
    choice_label: Callable[[str, str], str] | None = None
    expression: str = ""

    def lookup(self, name: str) -> Any:
        return _node(self.values.get(name))

    def path(self, absolute: bool, steps: tuple[str, ...]) -> Any:
        if not absolute and steps == (".",):
            return _node(self.self_value)
        if not absolute and len(steps) == 1 and self.choice is not None and steps[0] in self.choice:
            return _node(self.choice[steps[0]])
        if not absolute and not self.here:  # no position in the form known: the last named step
            named = [s for s in steps if s not in (".", "..")]
            return self.lookup(named[-1]) if named else _node(self.self_value)
        where = [] if absolute else list(self.here)
        for i, s in enumerate(steps):
            if s == "..":
                if not where:
                    raise NotEvaluated("path leaves the form", self.expression)
                where.pop()
            elif s != "." and not (absolute and i == 0):  # the first step of /data/... is the form root
                where.append(s)
        if not absolute and tuple(where) == self.here:
            return _node(self.self_value)
        key = self.resolve(tuple(where)) if self.resolve else (where[-1] if where else None)
        if key is None:
            raise NotEvaluated(f"path {'/'.join(steps)} names no question", self.expression)
        return self.lookup(key)


Fn = Callable[..., Any]


# ------------------------------------------------------------------------------ functions
def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, list) or isinstance(b, list):  # node-set: true if any member compares true
        la = a if isinstance(a, list) else [a]
        lb = b if isinstance(b, list) else [b]
        return any(_compare(op, x, y) for x in la for y in lb)
    if op in ("=", "!="):
        if isinstance(a, bool) or isinstance(b, bool):
            eq = _to_bool(a) == _to_bool(b)
        elif isinstance(a, (float, _dt.date)) or isinstance(b, (float, _dt.date)):
            eq = _to_number(a) == _to_number(b)
        else:
            eq = _to_string(a) == _to_string(b)
        return eq if op == "=" else not eq
    x, y = _to_number(a), _to_number(b)
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def _arith(op: str, a: Any, b: Any) -> float:
    x, y = _to_number(a), _to_number(b)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "div":
        if y == 0:
            return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x) * math.copysign(1, y)
        return x / y
    return math.fmod(x, y) if y != 0 and math.isfinite(x) else math.nan  # mod truncates, as Java's %


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> Any:
    opts = re2.Options()
    opts.log_errors = False
    opts.max_mem = 8 << 20
    try:
        return re2.compile(pattern, options=opts)
    except re2.error as exc:
        raw = exc.args[0] if exc.args else exc
        msg = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        if "too large" in msg or "repetition" in msg or "memory" in msg:
            return NotEvaluated("regex too costly", pattern)
        return NotEvaluated(f"regex not supported by RE2 ({msg.strip()})", pattern)


def _fn_regex(ctx: _Ctx, value: Any, pattern: Any) -> bool:
    compiled = _regex(_to_string(pattern))
    if isinstance(compiled, NotEvaluated):
        raise NotEvaluated(compiled.reason, ctx.expression)
    return compiled.search(_to_string(value)) is not None


def _nodeset(ctx: _Ctx, v: Any, fname: str) -> list[Any]:
    if isinstance(v, list):
        return v
    raise NotEvaluated(f"{fname}() needs the repeat instances, which a flat row does not hold", ctx.expression)


def _round(x: Any, digits: Any = 0.0) -> float:
    v, d = _to_number(x), int(_to_number(digits))
    if not math.isfinite(v):
        return v
    f = 10.0**d
    return math.floor(v * f + 0.5) / f  # half up, as JavaRosa's round()


def _int(x: Any) -> float:
    v = _to_number(x)
    return float(math.trunc(v)) if math.isfinite(v) else v


def _math(g: Callable[[float], float], x: Any) -> float:
    try:
        return g(_to_number(x))
    except ValueError:  # outside the function's domain
        return math.nan


def _substr(s: Any, start: Any, end: Any = None) -> str:
    t = _to_string(s)
    a = int(_to_number(start))
    return t[a:] if end is None else t[a:int(_to_number(end))]


def _substring(s: Any, start: Any, length: Any = None) -> str:
    t, a = _to_string(s), _round(start)
    b = math.inf if length is None else a + _round(length)
    return "".join(ch for i, ch in enumerate(t, 1) if a <= i < b)


def _format_date(d: Any, fmt: Any) -> str:
    v = _as_date(d)
    if not isinstance(v, _dt.date):
        return ""
    t = v if isinstance(v, _dt.datetime) else _dt.datetime(v.year, v.month, v.day)
    codes = {"%Y": f"{t.year:04d}", "%y": f"{t.year % 100:02d}", "%m": f"{t.month:02d}", "%n": str(t.month),
             "%b": t.strftime("%b"), "%d": f"{t.day:02d}", "%e": str(t.day), "%H": f"{t.hour:02d}",
             "%h": str(t.hour), "%M": f"{t.minute:02d}", "%S": f"{t.second:02d}", "%3": f"{t.microsecond // 1000:03d}",
             "%a": t.strftime("%a")}
    return re.sub(r"%[YymnbdeHhMS3a]", lambda m: codes[m.group(0)], _to_string(fmt))


def _decimal_time(v: Any) -> float:
    m = re.match(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?", _to_string(v))
    if not m:
        return math.nan
    return (int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3) or 0)) / 86400.0


def _numbers(ctx: _Ctx, args: tuple[Any, ...]) -> list[float]:
    flat: list[Any] = []
    for a in args:
        flat.extend(a if isinstance(a, list) else [a])
    return [_to_number(x) for x in flat]


def _extreme(pick: Callable[[list[float]], float]) -> Fn:
    def run(ctx: _Ctx, *args: Any) -> float:
        xs = _numbers(ctx, args)
        return math.nan if not xs or any(math.isnan(x) for x in xs) else pick(xs)
    return run


def _position(ctx: _Ctx, *_: Any) -> float:
    if ctx.position is None:
        raise NotEvaluated("position() needs the repeat instance, which a flat row does not hold", ctx.expression)
    return float(ctx.position)


def _choice_name(ctx: _Ctx, code: Any, ref: Any) -> str:
    if ctx.choice_label is None:
        raise NotEvaluated("jr:choice-name() needs the form's choice lists", ctx.expression)
    return ctx.choice_label(_to_string(ref), _to_string(code))


def _pure(f: Callable[..., Any]) -> Fn:
    return lambda ctx, *args: f(*args)


_S, _N, _B = _to_string, _to_number, _to_bool

#: Function name → (minimum arguments, maximum arguments or None, implementation(ctx, *values)).
SUPPORTED_FUNCTIONS: dict[str, tuple[int, int | None, Fn]] = {
    "selected": (2, 2, _pure(lambda a, c: _S(c).strip() in _S(a).split())),
    "count-selected": (1, 1, _pure(lambda a: float(len(_S(a).split())))),
    "selected-at": (2, 2, _pure(lambda a, i: (_S(a).split()[int(_N(i))] if 0 <= _N(i) < len(_S(a).split()) else ""))),
    "jr:choice-name": (2, 2, _choice_name),
    "string-length": (0, 1, lambda ctx, *a: float(len(_S(a[0] if a else ctx.self_value)))),
    "regex": (2, 2, _fn_regex),
    "contains": (2, 2, _pure(lambda a, b: _S(b) in _S(a))),
    "starts-with": (2, 2, _pure(lambda a, b: _S(a).startswith(_S(b)))),
    "ends-with": (2, 2, _pure(lambda a, b: _S(a).endswith(_S(b)))),
    "substr": (2, 3, _pure(_substr)),
    "substring": (2, 3, _pure(_substring)),
    "substring-before": (2, 2, _pure(lambda a, b: _S(a).split(_S(b), 1)[0] if _S(b) in _S(a) else "")),
    "substring-after": (2, 2, _pure(lambda a, b: _S(a).split(_S(b), 1)[1] if _S(b) in _S(a) else "")),
    "concat": (0, None, _pure(lambda *a: "".join("".join(map(_S, x)) if isinstance(x, list) else _S(x) for x in a))),
    "join": (1, None, _pure(lambda sep, *a: _S(sep).join(_S(y) for x in a for y in (x if isinstance(x, list) else [x])))),
    "coalesce": (2, 2, _pure(lambda a, b: a if _S(a) != "" else b)),
    "if": (3, 3, _pure(lambda c, a, b: a if _B(c) else b)),
    "number": (1, 1, _pure(_N)),
    "int": (1, 1, _pure(_int)),
    "round": (1, 2, _pure(_round)),
    "floor": (1, 1, _pure(lambda x: float(math.floor(_N(x))) if math.isfinite(_N(x)) else _N(x))),
    "ceiling": (1, 1, _pure(lambda x: float(math.ceil(_N(x))) if math.isfinite(_N(x)) else _N(x))),
    "abs": (1, 1, _pure(lambda x: abs(_N(x)))),
    "pow": (2, 2, _pure(lambda x, y: math.pow(_N(x), _N(y)) if _N(x) >= 0 or float(_N(y)).is_integer() else math.nan)),
    "sqrt": (1, 1, _pure(lambda x: math.sqrt(_N(x)) if _N(x) >= 0 else math.nan)),
    "exp": (1, 1, _pure(lambda x: math.exp(_N(x)))),
    "log": (1, 1, _pure(lambda x: math.log(_N(x)) if _N(x) > 0 else math.nan)),
    "log10": (1, 1, _pure(lambda x: math.log10(_N(x)) if _N(x) > 0 else math.nan)),
    "pi": (0, 0, _pure(lambda: math.pi)),
    **{f: (1, 1, _pure(lambda x, g=getattr(math, f): _math(g, x))) for f in ("sin", "cos", "tan", "asin", "acos", "atan")},
    "atan2": (2, 2, _pure(lambda y, x: math.atan2(_N(y), _N(x)))),
    "today": (0, 0, _pure(lambda: _dt.date.today())),
    "now": (0, 0, _pure(lambda: _dt.datetime.now())),
    "date": (1, 1, _pure(_as_date)),
    "date-time": (1, 1, _pure(_as_date)),
    "decimal-date-time": (1, 1, _pure(lambda d: _N(_as_date(d)))),
    "decimal-date": (1, 1, _pure(lambda d: _N(_as_date(d)))),
    "decimal-time": (1, 1, _pure(_decimal_time)),
    "format-date": (2, 2, _pure(_format_date)),
    "format-date-time": (2, 2, _pure(_format_date)),
    "true": (0, 0, _pure(lambda: True)),
    "false": (0, 0, _pure(lambda: False)),
    "boolean": (1, 1, _pure(_B)),
    "boolean-from-string": (1, 1, _pure(lambda s: _S(s).strip().lower() in ("true", "1"))),
    "string": (0, 1, lambda ctx, *a: _S(a[0] if a else ctx.self_value)),
    "not": (1, 1, _pure(lambda x: not _B(x))),
    "translate": (3, 3, _pure(lambda s, f, t: _S(s).translate({ord(c): (_S(t)[i] if i < len(_S(t)) else None)
                                                                for i, c in reversed(list(enumerate(_S(f))))}))),
    "normalize-space": (0, 1, lambda ctx, *a: " ".join(_S(a[0] if a else ctx.self_value).split())),
    "uuid": (0, 1, _pure(lambda *a: str(uuid.uuid4()))),
    "random": (0, 0, _pure(random.random)),
    "once": (1, 1, _pure(lambda x: x)),
    "position": (0, 1, _position),
    "count": (1, 1, lambda ctx, x: float(len(_nodeset(ctx, x, "count")))),
    "count-non-empty": (1, 1, lambda ctx, x: float(sum(_S(v) != "" for v in _nodeset(ctx, x, "count-non-empty")))),
    "sum": (1, 1, lambda ctx, x: float(sum(_N(v) for v in _nodeset(ctx, x, "sum")))),
    "max": (1, None, _extreme(max)),
    "min": (1, None, _extreme(min)),
    "checklist": (2, None, lambda ctx, lo, hi, *a: _checklist(_N(lo), _N(hi), [_B(x) for x in a])),
}


def _checklist(lo: float, hi: float, hits: list[bool]) -> bool:
    n = sum(hits)
    return (lo < 0 or n >= lo) and (hi < 0 or n <= hi)


# -------------------------------------------------------------------------------- compile
def _compile(t: Tree | Token, text: str) -> tuple[Fn, set[str], set[str]]:
    """Tree → (closure(ctx), referenced ${names}, called functions)."""
    if isinstance(t, Token):
        raise UnsupportedExpression(f"unexpected {t!s}", text)
    kind = t.data
    if kind == "number":
        v = float(t.children[0])
        return (lambda ctx: v), set(), set()
    if kind == "string":
        s = str(t.children[0])[1:-1]
        return (lambda ctx: s), set(), set()
    if kind == "ref":
        name = str(t.children[0])[2:-1].strip()
        return (lambda ctx: ctx.lookup(name)), {name}, set()
    if kind == "path":
        absolute = bool(t.children) and isinstance(t.children[0], Token) and t.children[0].type == "ROOT"
        steps = tuple(str(s.children[0]) for s in t.children if isinstance(s, Tree))
        if absolute and not steps:
            raise UnsupportedExpression("the bare root path '/'", text)
        return (lambda ctx: ctx.path(absolute, steps)), set(), set()
    if kind == "call":
        return _compile_call(t, text)
    parts = [_compile(c, text) for c in t.children if isinstance(c, Tree) or c.type not in ("EQOP", "RELOP", "ADDOP", "MULOP")]
    refs = set().union(*(p[1] for p in parts))
    funcs = set().union(*(p[2] for p in parts))
    fs = [p[0] for p in parts]
    if kind == "neg":
        return (lambda ctx: -_to_number(fs[0](ctx))), refs, funcs
    if kind == "or_":
        return (lambda ctx: _to_bool(fs[0](ctx)) or _to_bool(fs[1](ctx))), refs, funcs
    if kind == "and_":
        return (lambda ctx: _to_bool(fs[0](ctx)) and _to_bool(fs[1](ctx))), refs, funcs
    op = str(next(c for c in t.children if isinstance(c, Token)))
    if kind == "compare":
        return (lambda ctx: _compare(op, fs[0](ctx), fs[1](ctx))), refs, funcs
    if kind == "arith":
        return (lambda ctx: _arith(op, fs[0](ctx), fs[1](ctx))), refs, funcs
    raise UnsupportedExpression(f"construct {kind!r}", text)


def _compile_call(t: Tree, text: str) -> tuple[Fn, set[str], set[str]]:
    name = str(t.children[0])
    if name not in SUPPORTED_FUNCTIONS:
        raise UnsupportedExpression(f"function {name}() is not supported", text)
    lo, hi, impl = SUPPORTED_FUNCTIONS[name]
    parts = [_compile(c, text) for c in t.children[1:]]
    if len(parts) < lo or (hi is not None and len(parts) > hi):
        raise UnsupportedExpression(f"{name}() takes {lo}{'' if hi == lo else '+' if hi is None else f'-{hi}'} "
                                    f"argument(s), got {len(parts)}", text)
    fs = [p[0] for p in parts]
    refs = set().union(*(p[1] for p in parts))
    funcs = {name}.union(*(p[2] for p in parts))
    if name == "position":  # its argument only names the repeat
        return (lambda ctx: _position(ctx)), refs, funcs
    if name == "if":  # evaluate only the branch taken
        return (lambda ctx: fs[1](ctx) if _to_bool(fs[0](ctx)) else fs[2](ctx)), refs, funcs
    return (lambda ctx: impl(ctx, *(f(ctx) for f in fs))), refs, funcs


@dataclass(frozen=True)
class Expression:
    """A parsed XLSForm expression; evaluate it with :meth:`value` or :meth:`test`.

    ``references`` are the ``${name}`` it reads, ``functions`` the functions it calls.

    Examples
    --------
    >>> e = parse_expression("if(${n} > 2, 'many', 'few')")
    >>> e.value({"n": "3"}), e.as_string({"n": "1"}), e.test({"n": ""})
    ('many', 'few', True)
    """

    text: str
    references: frozenset[str]
    functions: frozenset[str]
    _run: Fn = field(repr=False, compare=False)

    def value(self, values: Mapping[str, Any], self_value: Any = None, **context: Any) -> Any:
        """The XPath value (str, float, bool, date or list) for one row of answers.

        ``context`` may give ``here`` (the question's path, for ``..``), ``resolve``
        (path → answer key), ``choice`` (a choice row, for ``choice_filter``),
        ``position`` (repeat instance number) and ``choice_label(ref, code)``.

        Raises
        ------
        NotEvaluated
            When the value cannot be computed from this row (see the module notes).
        """
        return self._run(_Ctx(values, self_value, expression=self.text, **context))

    def test(self, values: Mapping[str, Any], self_value: Any = None, **context: Any) -> bool:
        """The expression as a boolean (XPath ``boolean()``), e.g. for ``relevant``."""
        return _to_bool(self.value(values, self_value, **context))

    def as_number(self, values: Mapping[str, Any], self_value: Any = None, **context: Any) -> float:
        """The expression as a number (XPath ``number()``), NaN when it is not one."""
        return _to_number(self.value(values, self_value, **context))

    def as_string(self, values: Mapping[str, Any], self_value: Any = None, **context: Any) -> str:
        """The expression as text (XPath ``string()``), as ODK stores a calculation."""
        return _to_string(self.value(values, self_value, **context))


@functools.lru_cache(maxsize=4096)
def parse_expression(text: str) -> Expression:
    """Parse an XLSForm expression (``relevant``, ``constraint``, ``calculation``, ``choice_filter``).

    Typographic quotes are read as straight quotes.

    Raises
    ------
    UnsupportedExpression
        Syntax outside the grammar, an unknown function, or a wrong number of arguments.

    Examples
    --------
    >>> e = parse_expression("${a} > 1 and (selected(${b}, 'x') or not(${c} = ‘y’))")
    >>> sorted(e.references), sorted(e.functions)
    (['a', 'b', 'c'], ['not', 'selected'])
    >>> e.test({"a": "2", "b": "x z", "c": "y"}), e.test({"a": "2", "b": "z", "c": "y"})
    (True, False)
    >>> parse_expression("-(${n} + 1) * 2 div 4 mod 3").as_number({"n": 5})
    -0.0
    >>> parse_expression("pulldata('f', 'x', 'y', ${a})")
    Traceback (most recent call last):
    ...
    survey_stats.questionnaires.expressions.UnsupportedExpression: not evaluated: function pulldata() is not supported in "pulldata('f', 'x', 'y', ${a})"
    """
    clean = text.translate(_QUOTES).strip()
    if not clean:
        raise UnsupportedExpression("empty expression", text)
    bare = re.sub(r"'[^']*'|\"[^\"]*\"", "''", clean)  # outside string literals
    if re.search(r"(?<![\w:-])instance\s*\(", bare):
        raise UnsupportedExpression("instance() lookups in a secondary instance are not supported", text)
    if "[" in bare:
        raise UnsupportedExpression("path predicates [...] are not supported", text)
    try:
        tree = _PARSER.parse(clean)
    except LarkError as exc:
        col = getattr(exc, "column", None)
        where = f" at {clean[col - 1:col + 11]!r}" if isinstance(col, int) and col > 0 else ""
        raise UnsupportedExpression(f"cannot parse{where} (outside the ODK XPath subset read here)", text) from None
    run, refs, funcs = _compile(tree, text)
    return Expression(text, frozenset(refs), frozenset(funcs), run)


def compile_expression(expr: str) -> Callable[..., bool]:
    """``parse_expression(expr).test``: a function ``f(values, self_value=None, **context) -> bool``.

    Examples
    --------
    >>> f = compile_expression("${status} = 'exited' and . >= 1")
    >>> f({"status": "exited"}, 3), f({"status": "unexited"}, 3)
    (True, False)
    >>> compile_expression("selected(${channels}, 'tv')")({"channels": "wechat tv"}, None)
    True
    """
    return parse_expression(expr).test


def evaluate_frame(expr: str, frame: pd.DataFrame, *, self_column: str | None = None) -> pd.DataFrame:
    """Evaluate *expr* on every row of *frame* (columns named like the ``${names}``).

    Returns
    -------
    DataFrame
        Same index; ``value`` (the XPath value, or None where not evaluated) and
        ``not_evaluated`` (the reason, or None).

    Examples
    --------
    >>> df = pd.DataFrame({"age": [15, 30, None], "code": ["aaaa", "ab", "(a+)+$"]})
    >>> evaluate_frame(". >= 18 and regex(${code}, '^a+$')", df, self_column="age")["value"].tolist()
    [False, False, False]
    """
    e = parse_expression(expr)
    out, why = [], []
    for rec in frame.to_dict("records"):
        try:
            out.append(e.value(rec, rec.get(self_column) if self_column else None))
            why.append(None)
        except NotEvaluated as exc:
            out.append(None)
            why.append(exc.reason)
    return pd.DataFrame({"value": out, "not_evaluated": why}, index=frame.index)
