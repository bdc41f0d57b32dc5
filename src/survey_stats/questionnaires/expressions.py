"""A small evaluator for the XLSForm expressions used in ``relevant`` and ``constraint``.

Supported: ``${name}``, ``.`` (the answer itself), string and number literals,
``= != < <= > >=``, ``and``, ``or``, ``not(...)``, ``+ - * div``, and the functions
``selected(${x}, 'code')``, ``count-selected(${x})``, ``string-length(.)`` and
``regex(., 'pattern')``.  Anything else raises :class:`UnsupportedExpression`, and the
caller reports the check as not evaluated rather than guessing.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["UnsupportedExpression", "compile_expression"]


class UnsupportedExpression(ValueError):
    """The expression uses XPath this evaluator does not know."""


_TOKEN = re.compile(
    r"\s*(?:(?P<ref>\$\{[A-Za-z_][\w.-]*\})|(?P<str>'[^']*'|\"[^\"]*\")|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,)|(?P<func>[a-z][a-z-]*(?=\s*\())|(?P<word>and|or|div|mod)"
    r"|(?P<dot>\.(?![\w]))"
    r")"
)
_FUNCS = {"selected": "_selected", "count-selected": "_count_selected", "string-length": "_strlen", "regex": "_regex",
          "not": "_not"}


def _num(x: Any) -> Any:
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return x
    return x


def _cmp(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        a = "" if a is None or (isinstance(a, float) and math.isnan(a)) else a
        b = "" if b is None else b
    if op in ("=", "!="):
        na, nb = _num(a), _num(b)
        eq = na == nb if isinstance(na, float) and isinstance(nb, float) else str(a) == str(b)
        return eq if op == "=" else not eq
    na, nb = _num(a), _num(b)
    if not (isinstance(na, float) and isinstance(nb, float)):
        return False
    return {"<": na < nb, "<=": na <= nb, ">": na > nb, ">=": na >= nb}[op]


_HELPERS = {
    "_cmp": _cmp,
    "_selected": lambda v, code: code in str(v or "").split(),
    "_count_selected": lambda v: len(str(v or "").split()),
    "_strlen": lambda v: len("" if v is None else str(v)),
    "_regex": lambda v, pat: re.search(pat, "" if v is None else str(v)) is not None,
    "_not": lambda x: not x,
    "_arith": lambda op, a, b: {"+": _num(a) + _num(b), "-": _num(a) - _num(b), "*": _num(a) * _num(b),
                                "div": _num(a) / _num(b), "mod": _num(a) % _num(b)}[op],
}


def _tokens(expr: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise UnsupportedExpression(f"cannot read {expr[pos:pos + 20]!r} in {expr!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))  # type: ignore[arg-type]
        pos = m.end()
    return out


class _Parser:
    """Recursive descent: or → and → comparison → additive → multiplicative → atom."""

    def __init__(self, tokens: list[tuple[str, str]], expr: str) -> None:
        self.t, self.i, self.expr = tokens, 0, expr

    def peek(self) -> tuple[str, str] | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> tuple[str, str]:
        tok = self.t[self.i]
        self.i += 1
        return tok

    def parse(self) -> str:
        out = self.or_()
        if self.peek() is not None:
            raise UnsupportedExpression(f"unexpected {self.peek()[1]!r} in {self.expr!r}")  # type: ignore[index]
        return out

    def or_(self) -> str:
        left = self.and_()
        while self.peek() == ("word", "or"):
            self.take()
            left = f"({left} or {self.and_()})"
        return left

    def and_(self) -> str:
        left = self.cmp()
        while self.peek() == ("word", "and"):
            self.take()
            left = f"({left} and {self.cmp()})"
        return left

    def cmp(self) -> str:
        left = self.add()
        tok = self.peek()
        if tok and tok[0] == "op" and tok[1] in ("=", "!=", "<", "<=", ">", ">="):
            self.take()
            return f"_cmp({tok[1]!r}, {left}, {self.add()})"
        return left

    def add(self) -> str:
        left = self.mul()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            left = f"_arith({op!r}, {left}, {self.mul()})"
        return left

    def mul(self) -> str:
        left = self.atom()
        while self.peek() in (("op", "*"), ("word", "div"), ("word", "mod")):
            op = self.take()[1]
            left = f"_arith({op!r}, {left}, {self.atom()})"
        return left

    def atom(self) -> str:
        if self.peek() is None:
            raise UnsupportedExpression(f"{self.expr!r} ends too early")
        kind, val = self.take()
        if kind == "ref":
            return f"v.get({val[2:-1]!r})"
        if kind == "dot":
            return "self_"
        if kind == "str":
            return repr(val[1:-1])
        if kind == "num":
            return repr(float(val))
        if kind == "op" and val == "(":
            inner = self.or_()
            self.expect(")")
            return f"({inner})"
        if kind == "func":
            if val not in _FUNCS:
                raise UnsupportedExpression(f"function {val}() in {self.expr!r}")
            self.expect("(")
            args = [] if self.peek() == ("op", ")") else [self.or_()]
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.or_())
            self.expect(")")
            return f"{_FUNCS[val]}({', '.join(args)})"
        raise UnsupportedExpression(f"unexpected {val!r} in {self.expr!r}")

    def expect(self, op: str) -> None:
        tok = self.peek()
        if tok != ("op", op):
            raise UnsupportedExpression(f"expected {op!r} in {self.expr!r}")
        self.take()


def compile_expression(expr: str):  # type: ignore[no-untyped-def]
    """Compile an XLSForm expression into ``f(values: dict, self_value) -> bool``.

    Examples
    --------
    >>> f = compile_expression("${status} = 'exited' and . >= 1")
    >>> f({"status": "exited"}, 3), f({"status": "unexited"}, 3)
    (True, False)
    >>> compile_expression("selected(${channels}, 'tv')")({"channels": "wechat tv"}, None)
    True
    """
    code = compile(_Parser(_tokens(expr), expr).parse(), "<xlsform>", "eval")

    def run(values: dict[str, Any], self_value: Any = None) -> bool:
        try:
            return bool(eval(code, {"__builtins__": {}, **_HELPERS}, {"v": values, "self_": self_value}))  # noqa: S307
        except (TypeError, ZeroDivisionError, ValueError):
            return False

    return run
