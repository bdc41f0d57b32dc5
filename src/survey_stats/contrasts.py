"""Linear and nonlinear combinations of estimates with their full covariance (R ``svycontrast``).

A composite such as the satisfaction index
``0.4·p_exited + 0.4·p_unexited + 0.1·p_unregistered + 0.1·p_deregistered`` is a
linear function aᵀθ̂ of estimates, so Var(aᵀθ̂) = aᵀ V a where V is their covariance
matrix.  Estimates from one call on one design carry that matrix (domains of one
design generally covary); estimates from different samples (different
:class:`~survey_stats.Design` objects) are independent, so V is block diagonal.
Estimates from one design but separate calls cannot be combined: their covariance
was never computed — estimate them in one call (several variables or ``by=``).

:func:`contrast` handles a smooth nonlinear function g(θ̂) — a ratio of ratios, a log
odds ratio — by the delta method, Var g(θ̂) ≈ ∇gᵀ V ∇g, with the gradient derived
exactly by sympy from the expression after a whitelist check (R ``svycontrast(stat,
quote(...))``, which uses ``deriv``).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any
import numpy as np

from ._validation import check_level
from .ci import wald_interval
from .errors import DataError, EstimationError, MethodError
from ._internal import Origin, cv
from .results import Estimate, EstimateTable

__all__ = ["contrast", "linear_combination"]

Estimates = EstimateTable | Estimate | Mapping[Hashable, Estimate] | Sequence[Estimate | EstimateTable]


def _flatten(estimates: Estimates) -> tuple[list[Hashable], list[Estimate]]:
    if isinstance(estimates, EstimateTable):
        return list(estimates.keys), list(estimates.rows)
    if isinstance(estimates, Estimate):
        return [estimates.key], [estimates]
    if isinstance(estimates, Mapping):
        keys = list(estimates.keys())
        vals = list(estimates.values())
        if not all(isinstance(v, Estimate) for v in vals):
            raise MethodError("a mapping passed to linear_combination must map names to Estimate objects.")
        return keys, vals
    keys: list[Hashable] = []
    rows: list[Estimate] = []
    for item in estimates:
        k, r = _flatten(item)
        keys.extend(k)
        rows.extend(r)
    return keys, rows


def linear_combination(
    estimates: Estimates,
    coefficients: Mapping[Hashable, float] | Sequence[float],
    *,
    level: float = 0.95,
    df: float | None = None,
    variable: str = "linear combination",
    constant: float = 0.0,
) -> Estimate:
    """Estimate Σ aⱼ θ̂ⱼ with its standard error from the full covariance.

    Parameters
    ----------
    estimates : EstimateTable, Estimate, mapping of name to Estimate, or a list of these
        The parts.  Rows of one table covary as its ``vcov`` says; parts from
        different designs are independent.
    coefficients : mapping or sequence of float
        A mapping from row name (:attr:`Estimate.key`, e.g. the ``by=`` domain value,
        or the mapping's own keys) to coefficient — rows not named get 0 — or one
        coefficient per row in order.
    level : float
        Confidence level of the Wald interval.
    df : float, optional
        Degrees of freedom of the t quantile.  Default: the parts' df when they come
        from one design, else the Welch-Satterthwaite combination
        ν = (Σ_g v_g)² / Σ_g (v_g² / ν_g) over the independent samples g, where
        v_g is sample g's share of the variance.
    variable : str
        Name of the result (e.g. ``"satisfaction"``).
    constant : float
        Added to the combination (no variance), e.g. 1 in 1 − (0.2·a + 0.3·b).

    Returns
    -------
    Estimate
        ``statistic="linear combination"``; ``n`` is the sum of the parts' n.

    Raises
    ------
    DataError
        Unknown row names, a coefficient count that does not match, parts from one
        design estimated in separate calls, or parts with unknown covariance
        (quantiles).

    Notes
    -----
    Var = aᵀ V a (Lumley 2010, §3.3; R ``svycontrast``).  R's ``confint`` on a
    ``svycontrast`` uses the normal quantile; pass ``df=float("inf")`` for that.

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.poverty_design()
    >>> sat = ss.proportion(d, "satisfied", by="status")
    >>> c = ss.linear_combination(sat, {"exited": 0.4, "unexited": 0.4,
    ...                                 "unregistered": 0.1, "deregistered": 0.1}, variable="satisfaction")
    >>> round(c.estimate, 6), round(c.se, 6)   # R: svycontrast(svyby(...), c(...))
    (0.774271, 0.011114)
    """
    level = check_level(level)
    keys, rows = _flatten(estimates)
    a = _coefficients(coefficients, keys)
    used = [i for i in range(len(rows)) if a[i] != 0]
    groups, vcovs = _covariance_groups(rows, keys, used)
    est = float(constant) + float(sum(a[i] * rows[i].estimate for i in used))
    var = 0.0
    contrib: list[tuple[float, float]] = []
    for gid, members in groups.items():
        V = vcovs[gid]
        idx = [rows[i].source.index for i in members]  # type: ignore[union-attr]
        sub = V[np.ix_(idx, idx)]
        if not np.isfinite(sub).all():
            raise DataError(
                "the covariance of some parts is unknown (quantiles have no joint covariance); "
                "they cannot enter a linear combination."
            )
        av = a[members]
        vg = float(av @ sub @ av)
        var += vg
        contrib.append((vg, min(rows[i].df for i in members)))
    var = max(var, 0.0)
    se = math.sqrt(var)
    df_used = _combined_df(df, var, contrib)
    lo, hi = wald_interval(est, se, level, df_used)
    designs = tuple({id(d): d for i in used for d in rows[i].source.designs}.values())  # type: ignore[union-attr]
    own = np.array([[var]])
    own.setflags(write=False)
    n = int(sum(rows[i].n for i in used))
    return Estimate(
        "linear combination", variable, est, se, lo, hi, level, df_used, n, math.nan, math.nan, cv(est, se),
        "wald (linear combination)", (), None, 0, Origin(designs, own, 0),
    )


def _coefficients(coefficients: Any, keys: list[Any]) -> np.ndarray:
    """One finite coefficient per estimate, from a sequence or a mapping of part names."""
    k = len(keys)
    if isinstance(coefficients, Mapping):
        a = np.zeros(k)
        for name, coef in coefficients.items():
            hits = [i for i, key in enumerate(keys) if key == name]
            if len(hits) != 1:
                how = "no" if not hits else "several"
                raise DataError(f"{how} part is named {name!r}; parts are {keys}.")
            a[hits[0]] = float(coef)
    else:
        a = np.asarray(list(coefficients), dtype=float)
        if a.shape != (k,):
            raise DataError(f"{len(a)} coefficient(s) for {k} estimate(s); give one per estimate or a mapping.")
    if not np.isfinite(a).all():
        raise DataError("coefficients must be finite numbers.")
    return a


def _covariance_groups(rows: list[Estimate], keys: list[Any], used: list[int]
                       ) -> tuple[dict[int, list[int]], dict[int, np.ndarray]]:
    """The used rows grouped by the call (covariance matrix) they came from; one call per design."""
    groups: dict[int, list[int]] = {}
    vcovs: dict[int, np.ndarray] = {}
    for i in used:
        origin = rows[i].source
        if not isinstance(origin, Origin):
            raise DataError(f"estimate {keys[i]!r} carries no covariance information; build it with survey_stats.")
        groups.setdefault(id(origin.vcov), []).append(i)
        vcovs[id(origin.vcov)] = origin.vcov
    # parts from one design must come from one call
    owners: dict[int, int] = {}
    for gid, members in groups.items():
        for dsg in rows[members[0]].source.designs:  # type: ignore[union-attr]
            if id(dsg) in owners and owners[id(dsg)] != gid:
                raise DataError(
                    "some parts come from the same design but from separate calls, so their covariance is "
                    "unknown; estimate them in one call (a list of variables or by=) and combine that table."
                )
            owners[id(dsg)] = gid
    return groups, vcovs


def _combined_df(df: Any, var: float, contrib: list[tuple[float, float]]) -> float:
    """The df given, or one call's df, or Satterthwaite's over independent calls (Satterthwaite 1946)."""
    if df is not None:
        if isinstance(df, bool) or not isinstance(df, (int, float)):
            raise MethodError(f"df={df!r} must be a number or float('inf').")
        return float(df)
    if len(contrib) == 1:
        return contrib[0][1]
    denom = sum(v * v / d for v, d in contrib if v > 0 and d > 0)
    return var * var / denom if denom > 0 else min(d for _, d in contrib)



# ---------------------------------------------------------------------------------------
# nonlinear contrasts (delta method)
# ---------------------------------------------------------------------------------------
_MAX_EXPRESSION = 2000
_BACKTICK = re.compile(r"`([^`]*)`")


def _sympy_of(node: ast.AST, names: dict[str, Any], sp: Any) -> Any:
    """Translate a checked Python AST into a sympy expression; anything off the whitelist is refused."""
    if isinstance(node, ast.Expression):
        return _sympy_of(node.body, names, sp)
    if isinstance(node, ast.BinOp):
        a, b = _sympy_of(node.left, names, sp), _sympy_of(node.right, names, sp)
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
               ast.Pow: lambda: a**b}
        for op, make in ops.items():
            if isinstance(node.op, op):
                return make()
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _sympy_of(node.operand, names, sp)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return sp.Integer(node.value) if isinstance(node.value, int) else sp.Float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise DataError(f"{node.id!r} is not the name of an estimate; names are {list(names)}.")
        return names[node.id]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("log", "exp", "sqrt")
            and len(node.args) == 1 and not node.keywords):
        return getattr(sp, node.func.id)(_sympy_of(node.args[0], names, sp))
    raise MethodError(
        f"{ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__!r} is not allowed in a contrast; "
        "use estimate names, numbers, + - * / ** (or ^), parentheses and log, exp, sqrt."
    )


def _parse_contrast(expression: str, keys: list[str]) -> tuple[Any, dict[str, int]]:
    """The sympy expression and the estimate position of each symbol it uses."""
    import sympy as sp

    if not isinstance(expression, str) or not expression.strip():
        raise MethodError("expression must be a non-empty string such as 'a / b - c / d'.")
    if len(expression) > _MAX_EXPRESSION:
        raise MethodError(f"expression is longer than {_MAX_EXPRESSION} characters.")
    quoted: dict[str, str] = {}

    def hold(m: re.Match[str]) -> str:
        quoted[f"_q{len(quoted)}_"] = m.group(1)
        return f"_q{len(quoted) - 1}_"

    text = _BACKTICK.sub(hold, expression).replace("^", "**")  # R's power, with R's precedence
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise MethodError(f"cannot read expression {expression!r}: {exc.msg}.") from exc
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    symbols: dict[str, Any] = {}
    positions: dict[str, int] = {}
    for name in used:
        if isinstance(getattr(_call_of(tree, name), "func", None), ast.Name):
            continue  # a function name (checked by _sympy_of)
        label = quoted.get(name, name)
        hits = [i for i, k in enumerate(keys) if k == label]
        if len(hits) != 1:
            raise DataError(f"{label!r} names {'no' if not hits else 'several'} estimate(s); names are {keys} "
                            "(write names that are not Python names in backticks, e.g. `api.stu`).")
        symbols[name] = sp.Symbol(f"x{hits[0]}")
        positions[name] = hits[0]
    return _sympy_of(tree, symbols, sp), positions


def _call_of(tree: ast.AST, name: str) -> ast.Call | None:
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name:
            return n
    return None


def contrast(
    estimates: Any,
    expression: str,
    *,
    level: float = 0.95,
    df: float | None = None,
    variable: str | None = None,
) -> Estimate:
    """A nonlinear function of estimates with its delta-method SE (R ``svycontrast(stat, quote(...))``).

    Parameters
    ----------
    estimates : EstimateTable or GLMResult
        Estimates from one call (so their covariance is known): rows are named by
        :attr:`Estimate.key` (variable names, ``by=`` domain values), a model's
        coefficients by its ``terms``.
    expression : str
        E.g. ``"a / b - c / d"``, ``"log(a) - log(b)"``, ``"exp(a)"``.  Allowed: names of
        the estimates (names that are not Python names, or numbers as names, in
        backticks: ```api.stu```, ```1```), numbers, ``+ - * / **`` (``^`` as in R),
        parentheses and ``log``, ``exp``, ``sqrt``.  The string is parsed, never
        evaluated.
    level : float
        Confidence level of the Wald interval.
    df : float, optional
        df of its t quantile; default the estimates' (smallest) df, a model's residual
        df.  R's ``confint`` on a contrast uses the normal: ``df=float("inf")``.
    variable : str, optional
        Name of the result (default: the expression).

    Returns
    -------
    Estimate
        ``statistic="nonlinear contrast"``, ``method="delta method"``.

    Raises
    ------
    MethodError
        Anything outside the whitelist (attribute access, other functions, comparisons).
    DataError
        A name that is no estimate's, or estimates without a covariance.
    EstimationError
        The function or its gradient is not finite at the estimates (log of a negative).

    Notes
    -----
    ĝ = g(θ̂), Var(ĝ) ≈ ∇g(θ̂)ᵀ V ∇g(θ̂) (the delta method; Lumley 2010, §3.3; Wolter
    2007, ch. 6).  The gradient is exact: sympy differentiates the parsed expression.

    Examples
    --------
    >>> import survey_stats as ss
    >>> tot = ss.total(ss.datasets.apistrat_design(), ["api00", "api99"])
    >>> c = ss.contrast(tot, "log(api00) - log(api99)")
    >>> round(c.estimate, 6), round(c.se, 8)   # R: svycontrast(svytotal(...), quote(log(api00) - log(api99)))
    (0.050941, 0.00346295)
    """
    level = check_level(level)
    if hasattr(estimates, "terms") and hasattr(estimates, "coef"):  # a GLMResult
        keys = [str(t) for t in estimates.terms]
        theta = np.asarray(estimates.coef, dtype=float)
        V = np.asarray(estimates.vcov, dtype=float)
        dfs = np.full(len(keys), float(estimates.df_residual))
        n, designs = int(estimates.n), ()
    elif isinstance(estimates, EstimateTable):
        keys = [k if isinstance(k, str) else str(k) for k in estimates.keys]
        theta, V = estimates.estimates, np.asarray(estimates.vcov, dtype=float)
        dfs = np.array([r.df for r in estimates.rows])
        n = max(r.n for r in estimates.rows)
        designs = tuple({id(d): d for r in estimates.rows if isinstance(r.source, Origin)
                         for d in r.source.designs}.values())
    else:
        raise MethodError("contrast() takes an EstimateTable (one call's estimates) or a GLMResult.")
    expr, pos = _parse_contrast(expression, keys)
    idx = sorted(set(pos.values()))
    import sympy as sp

    syms = [sp.Symbol(f"x{i}") for i in idx]
    at = {s: sp.Float(float(theta[i]), 30) for s, i in zip(syms, idx)}
    value = complex(expr.evalf(30, subs=at))
    grad = np.array([complex(sp.diff(expr, s).evalf(30, subs=at)) for s in syms])
    if not (np.isfinite(value) and value.imag == 0 and np.isfinite(grad).all() and (grad.imag == 0).all()):
        raise EstimationError(f"{expression!r} or its derivative is not a finite real number at the estimates.")
    sub = V[np.ix_(idx, idx)]
    if not np.isfinite(sub).all():
        raise DataError("the covariance of these estimates is unknown (quantiles); they cannot enter a contrast.")
    g = grad.real
    est = value.real
    se = math.sqrt(max(float(g @ sub @ g), 0.0))
    df_used = float(min(dfs[idx])) if df is None else float(df)
    lo, hi = wald_interval(est, se, level, df_used)
    own = np.array([[se * se]])
    own.setflags(write=False)
    return Estimate("nonlinear contrast", variable or expression, est, se, lo, hi, level, df_used, n, math.nan,
                    math.nan, cv(est, se), "delta method", (), None, 0, Origin(designs, own, 0))
