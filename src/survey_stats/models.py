"""Design-based generalised linear models (R ``survey``'s ``svyglm``).

Point estimates solve the weighted score equations
Σᵢ wᵢ xᵢ (yᵢ − μᵢ) μ'(ηᵢ) / V(μᵢ) = 0 (pseudo-likelihood; Binder 1983), found by
iteratively reweighted least squares.  Their covariance is the sandwich
A⁻¹ Var(Σ Uᵢ) A⁻¹ with A = Σ wᵢ xᵢxᵢᵀ μ'(ηᵢ)²/V(μᵢ) and Uᵢ = wᵢ xᵢ (yᵢ − μᵢ) μ'(ηᵢ)/V(μᵢ):
the variance of the total of the linearised values zᵢ = Uᵢ A⁻¹, computed by the
package's variance kernel exactly as for a mean or a total (Binder 1983; Lumley &
Scott 2017; R ``svy.varcoef``).  Replicate designs refit the model with each
replicate's weights instead, as R's ``svyglm.svyrep.design``.

The formula is an R-style string read by *formulaic* after a whitelist check: only
column names of the design, numbers, quoted strings, the operators ``~ + - * : / ^
** ( ) ,`` and comparisons, and the functions ``C``, ``factor`` (an alias of ``C``),
``I``, ``log``, ``exp`` and ``sqrt`` may appear.  The checked formula is rebuilt
from those tokens, with column names quoted, before formulaic sees it.
"""

from __future__ import annotations

import html
import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _kernel
from ._internal import FORMULA_FUNCTIONS, quote_column, subset_df, where_mask
from ._lazy import LazyModule
from ._validation import check_level, check_option, describe_rows, describe_values
from .design import Design
from .errors import DataError, EstimationError, MethodError, SurveyStatsWarning

stats = LazyModule("scipy.stats")

__all__ = ["GLMResult", "glm"]

Family = Literal["gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson"]
_FAMILIES = ("gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson")
_TOKEN = re.compile(
    r"""\s+|(?P<bt>`[^`]*`)|(?P<str>'[^'\\]*'|"[^"\\]*")|(?P<num>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"""
    r"""|(?P<name>[A-Za-z_.][A-Za-z0-9_.]*)|(?P<op>\*\*|==|!=|<=|>=|[~+\-*:/^(),<>])"""
)
_MAX_ITER = 100
_TOL = 1e-13


# ---------------------------------------------------------------------------------------
# the formula: whitelist, then formulaic
# ---------------------------------------------------------------------------------------
def _safe_formula(formula: str, columns: list[str]) -> tuple[str, list[str]]:
    """Check *formula* token by token; return it rebuilt from checked tokens and the columns used."""
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise MethodError(f"formula={formula!r} must be a string with one '~', e.g. 'api00 ~ ell + C(stype)'.")
    out: list[str] = []
    used: list[str] = []
    pos = 0
    skip_paren = False
    toks = list(_TOKEN.finditer(formula))
    for i, m in enumerate(toks):
        if m.start() != pos:
            raise MethodError(f"formula {formula!r}: cannot read {formula[pos:m.start()]!r} at position {pos}.")
        pos = m.end()
        kind = m.lastgroup
        text = m.group()
        if kind is None:  # whitespace
            continue
        if kind == "op" and skip_paren:
            skip_paren = False
            continue
        if kind == "op":
            out.append("**" if text == "^" and _inside_call(out) else text)
            continue
        if kind in ("num", "str"):
            out.append(text)
            continue
        name = text[1:-1] if kind == "bt" else text
        nxt = next((t for t in toks[i + 1:] if t.lastgroup is not None), None)
        if kind == "name" and nxt is not None and nxt.group() == "(":
            if name not in FORMULA_FUNCTIONS:
                raise MethodError(
                    f"formula {formula!r}: function {name!r} is not allowed; "
                    f"use {', '.join(sorted(FORMULA_FUNCTIONS))}."
                )
            out.append(FORMULA_FUNCTIONS[name] + "(")
            skip_paren = True
            continue
        if name not in columns:
            raise DataError(
                f"formula {formula!r}: {name!r} is not a column of the design's data; available columns: "
                f"{describe_values(columns)}."
            )
        used.append(name)
        out.append(quote_column(name))
    if pos != len(formula):
        raise MethodError(f"formula {formula!r}: cannot read {formula[pos:]!r} at position {pos}.")
    return " ".join(out), list(dict.fromkeys(used))


def _inside_call(out: list[str]) -> bool:
    """True when the tokens so far leave a function call open (``^`` is then a power, as R's I())."""
    depth = 0
    for t in out:
        depth += t.endswith("(")
        depth -= t == ")"
    return depth > 0


def _categorise(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas categoricals (sorted levels, as R's factor()), whatever the string dtype."""
    out = frame.copy()
    for c in out.columns:
        s = out[c]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
                or isinstance(s.dtype, pd.CategoricalDtype)):
            out[c] = s.astype(object).astype("category")
    return out


def _model_matrices(safe: str, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str], Any]:
    from formulaic import model_matrix

    data = _categorise(data)
    ctx = {"log": np.log, "exp": np.exp, "sqrt": np.sqrt}
    try:
        mm = model_matrix(safe, data, context=ctx, na_action="raise")
    except Exception as exc:  # formulaic raises many types; report them as a typed error
        raise DataError(f"cannot build the model matrix for {safe!r}: {exc}") from exc
    lhs, rhs = mm.lhs, mm.rhs
    if lhs.shape[1] != 1:
        raise DataError(f"the response of {safe!r} must be one numeric column, got {list(lhs.columns)}.")
    return (np.asarray(lhs, dtype=float)[:, 0], np.asarray(rhs, dtype=float), [str(c) for c in rhs.columns],
            rhs.model_spec)


# ---------------------------------------------------------------------------------------
# the fit
# ---------------------------------------------------------------------------------------
def _family(name: str) -> Any:
    from statsmodels.genmod import families

    if name == "gaussian":
        return families.Gaussian()
    if name in ("binomial", "quasibinomial"):
        return families.Binomial()
    return families.Poisson()


def _irls(X: np.ndarray, y: np.ndarray, w: np.ndarray, fam: Any, start: np.ndarray | None = None
          ) -> tuple[np.ndarray, int]:
    """Weighted IRLS (McCullagh & Nelder 1989, §2.5) to a relative deviance change below 1e-13."""
    if start is None:
        eta = fam.link(fam.starting_mu(y))
    else:
        eta = X @ start
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        beta, it = _irls_loop(X, y, w, fam, eta)
    if not np.isfinite(beta).all():
        raise EstimationError("the model's coefficients are not finite; check for separation or collinearity.")
    return beta, it


def _irls_loop(X: np.ndarray, y: np.ndarray, w: np.ndarray, fam: Any, eta: np.ndarray) -> tuple[np.ndarray, int]:
    dev_old = math.inf
    beta = np.zeros(X.shape[1])
    for it in range(1, _MAX_ITER + 1):
        mu = fam.link.inverse(eta)
        d = fam.link.inverse_deriv(eta)
        ww = w * d * d / fam.variance(mu)
        z = eta + (y - mu) / d
        sw = np.sqrt(ww)
        if not (np.isfinite(sw).all() and np.isfinite(z).all()):
            raise EstimationError("the fit diverged (fitted means at 0 or 1, or overflow); check for separation "
                                  "(a covariate predicting the outcome perfectly) or rescale covariates.")
        beta = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)[0]
        eta = X @ beta
        dev = float(fam.deviance(y, fam.link.inverse(eta), var_weights=w))
        if abs(dev - dev_old) <= _TOL * (abs(dev) + 0.1):
            return beta, it
        dev_old = dev
    raise EstimationError(
        f"the model did not converge in {_MAX_ITER} iterations (deviance still changing); "
        "check for separation (a covariate predicting the outcome perfectly) or rescale covariates."
    )


def _estfun(X: np.ndarray, y: np.ndarray, w: np.ndarray, fam: Any, beta: np.ndarray) -> np.ndarray:
    """Linearised values zᵢ = Uᵢ A⁻¹ (n × p)."""
    eta = X @ beta
    mu = fam.link.inverse(eta)
    d = fam.link.inverse_deriv(eta)
    v = fam.variance(mu)
    A = (X * (w * d * d / v)[:, None]).T @ X
    U = X * (w * (y - mu) * d / v)[:, None]
    return np.linalg.solve(A, U.T).T


def _fit(design: Design, X: np.ndarray, y: np.ndarray, used: np.ndarray, family: str
         ) -> tuple[np.ndarray, np.ndarray, int]:
    """Coefficients and their design-based covariance for rows *used* (X, y hold those rows only)."""
    fam = _family(family)
    w = design._w[used]
    beta, iters = _irls(X, y, w, fam)
    if family in ("binomial", "quasibinomial"):
        mu = fam.link.inverse(X @ beta)
        if ((mu < 1e-10) | (mu > 1 - 1e-10)).any():  # R: "fitted probabilities numerically 0 or 1 occurred"
            warnings.warn("fitted probabilities numerically 0 or 1 occurred (separation?); the coefficients "
                          "and their SEs may be meaningless.", SurveyStatsWarning, stacklevel=3)
    p = X.shape[1]
    if design._rep is not None:
        rep = design._rep
        W = rep.weights[used]
        reps = np.empty((W.shape[1], p))
        for r in range(W.shape[1]):
            reps[r] = _irls(X, y, W[:, r], fam, start=beta)[0]
        return beta, rep.variance(beta, reps), iters
    Z = np.zeros((design.n, p))
    Z[used] = _estfun(X, y, w, fam, beta)
    return beta, _kernel.vcov(design, Z, None, p, None if used.all() else used), iters


def _check_response(y: np.ndarray, family: str, name: str) -> None:
    if family in ("binomial", "quasibinomial") and ((y < 0) | (y > 1)).any():
        raise DataError(f"response {name!r} must be 0/1 (or a proportion in [0, 1]) for family={family!r}.")
    if family in ("poisson", "quasipoisson") and (y < 0).any():
        raise DataError(f"response {name!r} must be ≥ 0 (a count) for family={family!r}.")


# ---------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GLMResult:
    """A fitted design-based GLM: coefficients, their covariance and R's residual df.

    Attributes
    ----------
    formula, family : str
    terms : tuple of str
        Column names of the model matrix (formulaic's naming, e.g. ``stype[T.H]``).
    coef : ndarray
        Estimated coefficients.
    vcov : ndarray
        Their design-based covariance (sandwich or replicate).
    df_residual : float
        R's residual df: design df − p + 1, with the design df of the rows used
        (a subset's own PSUs − strata when ``where=`` or missing values leave rows out).
    level : float
        Confidence level of the intervals.
    n : int
        Rows used in the fit.
    n_missing : int
        Rows of the domain left out for missing values (``na="drop"``).
    iterations : int
        IRLS iterations of the full-sample fit.
    """

    formula: str
    family: str
    terms: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    df_residual: float
    level: float
    n: int
    n_missing: int
    iterations: int
    _spec: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("coef", "vcov"):
            a = np.array(getattr(self, name), dtype=float)
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def se(self) -> np.ndarray:
        """Standard errors of the coefficients."""
        return np.sqrt(np.clip(np.diag(self.vcov), 0.0, None))

    @property
    def t(self) -> np.ndarray:
        """t statistics, coef / se."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.coef / self.se

    @property
    def p(self) -> np.ndarray:
        """Two-sided p-values from t with ``df_residual`` (NaN when df ≤ 0, as R)."""
        if self.df_residual <= 0:
            return np.full(len(self.coef), np.nan)
        return 2 * stats.t.sf(np.abs(self.t), self.df_residual)

    def _tq(self, level: float) -> float:
        return float(stats.t.ppf(0.5 + level / 2, self.df_residual)) if self.df_residual > 0 else math.nan

    @property
    def ci_low(self) -> np.ndarray:
        """Lower Wald limits, t quantile with ``df_residual`` (R ``confint.svyglm``)."""
        return self.coef - self._tq(self.level) * self.se

    @property
    def ci_high(self) -> np.ndarray:
        """Upper Wald limits."""
        return self.coef + self._tq(self.level) * self.se

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table: one row per term.

        Examples
        --------
        >>> import survey_stats as ss
        >>> m = ss.glm(ss.datasets.apistrat_design(), "api00 ~ ell + meals")
        >>> list(m.to_frame().columns)
        ['estimate', 'se', 't', 'p', 'ci_low', 'ci_high', 'df']
        """
        return pd.DataFrame(
            {"estimate": self.coef, "se": self.se, "t": self.t, "p": self.p, "ci_low": self.ci_low,
             "ci_high": self.ci_high, "df": self.df_residual},
            index=pd.Index(list(self.terms), name="term"),
        )

    def __repr__(self) -> str:
        head = f"GLMResult({self.formula!r}, family={self.family!r}, n={self.n}, df_residual={self.df_residual:g})"
        return head + "\n" + self.to_frame().to_string(float_format=lambda v: f"{v:.6g}")

    def _repr_html_(self) -> str:
        cap = f"{self.formula} — {self.family}, n = {self.n}, residual df = {self.df_residual:g}"
        return f"<p>{html.escape(cap)}</p>" + self.to_frame().to_html(float_format=lambda v: f"{v:.6g}")

    def predict(self, newdata: pd.DataFrame, *, type: Literal["link", "response"] = "link"  # noqa: A002
                ) -> pd.DataFrame:
        """Predictions for *newdata* with their design-based standard errors (R ``predict.svyglm``).

        Parameters
        ----------
        newdata : DataFrame
            Rows holding the model's covariates (categorical levels as in the fit).
        type : {"link", "response"}
            Linear predictor η = xᵀβ̂, or the mean g⁻¹(η).

        Returns
        -------
        DataFrame
            ``estimate``, ``se``, ``ci_low``, ``ci_high`` with the index of *newdata*.  SE of η is
            √(xᵀVx); on the response scale it is multiplied by dμ/dη (delta method, as R).  The
            response-scale interval is the link-scale interval mapped through g⁻¹ (so it stays in
            the range of the mean).

        Examples
        --------
        >>> import survey_stats as ss
        >>> d = ss.datasets.apistrat_design()
        >>> m = ss.glm(d, "api00 ~ ell + meals")
        >>> m.predict(d.data.head(2))[["estimate", "se"]].round(2)
           estimate     se
        0    708.56   6.54
        1    480.08  14.59
        """
        check_option(type, "type", ("link", "response"))
        if not isinstance(newdata, pd.DataFrame):
            raise DataError("newdata must be a pandas DataFrame with the model's covariates.")
        try:
            X = np.asarray(self._spec.get_model_matrix(_categorise(newdata), na_action="raise"), dtype=float)
        except Exception as exc:
            raise DataError(f"cannot build the model matrix of newdata: {exc}") from exc
        eta = X @ self.coef
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", X, self.vcov, X), 0.0, None))
        tq = self._tq(self.level)
        lo, hi = eta - tq * se, eta + tq * se
        if type == "response":
            fam = _family(self.family)
            se = se * fam.link.inverse_deriv(eta)
            eta, lo, hi = fam.link.inverse(eta), fam.link.inverse(lo), fam.link.inverse(hi)
            lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        return pd.DataFrame({"estimate": eta, "se": se, "ci_low": lo, "ci_high": hi}, index=newdata.index)


# ---------------------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------------------
def glm(
    design: Design,
    formula: str,
    *,
    family: Family = "gaussian",
    where: Any = None,
    na: Literal["fail", "drop"] = "fail",
    level: float = 0.95,
) -> GLMResult:
    """Fit a generalised linear model to survey data (R ``svyglm``).

    Parameters
    ----------
    design : Design
        A Taylor or replicate-weight design.
    formula : str
        R-style model formula, e.g. ``"api00 ~ ell + meals + C(stype)"``.  Text columns
        are categorical automatically (treatment coding, first level in sorted order as
        the reference, as R); ``C(x)`` or ``factor(x)`` makes a numeric column
        categorical; ``a:b`` and ``a*b`` give interactions; ``I(x ** 2)``, ``log(x)``,
        ``exp(x)``, ``sqrt(x)`` transform.  Column names that are not Python names
        (``api.stu``) may be written as they are.
    family : {"gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson"}
        R's family with its canonical link (identity, logit, log).  The quasi families
        give the same estimates and design-based SEs as their namesakes (the sandwich
        does not use the dispersion).
    where : column name or boolean array, optional
        Fit on a domain, keeping the full design for the variance (R ``svyglm(...,
        design = subset(design, ...))``).
    na : {"fail", "drop"}
        Missing values in the model's columns: raise (default) or leave those rows out as
        a domain would (R's default ``na.omit``).
    level : float
        Confidence level of the coefficient intervals.

    Returns
    -------
    GLMResult

    Raises
    ------
    MethodError
        A formula with a disallowed token or function; an unknown family.
    DataError
        Unknown columns, missing values with ``na="fail"``, a response outside the
        family's range, aliased (collinear) model columns.
    EstimationError
        IRLS does not converge (e.g. complete separation in a logistic model).

    Notes
    -----
    Residual df = design df − p + 1 (R ``svyglm``'s ``df.residual``), where the design df
    is that of the rows used.  t = β̂/SE, p-values and intervals use t with that df
    (R ``summary.svyglm`` and ``confint.svyglm``).  Weights are the design's weights;
    R rescales them to mean 1, which changes neither estimates nor SEs.

    References
    ----------
    Binder, D. A. (1983). On the variances of asymptotically normal estimators from
    complex surveys. *International Statistical Review* 51, 279-292.  Lumley, T. and
    Scott, A. (2017). Fitting regression models to survey data. *Statistical Science*
    32(2), 265-278.

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.apistrat_design()
    >>> m = ss.glm(d, "api00 ~ ell + meals + stype")
    >>> m.to_frame().loc["meals", ["estimate", "se"]].round(6).tolist()   # R: svyglm(api00 ~ ..., dstrat)
    [-3.426937, 0.237894]
    >>> m.df_residual
    193.0
    """
    if getattr(design, "_sql_backend", False):
        raise MethodError("glm runs in memory only; load the model's columns into a Design first.")
    check_option(family, "family", _FAMILIES)
    check_option(na, "na", ("fail", "drop"))
    level = check_level(level)
    data = design._data
    safe, cols = _safe_formula(formula, [str(c) for c in data.columns])
    keep = np.ones(design.n, dtype=bool) if where is None else where_mask(design, where)
    miss = data[cols].isna().any(axis=1).to_numpy() & keep if cols else np.zeros(design.n, dtype=bool)
    if miss.any() and na == "fail":
        bad = [c for c in cols if (data[c].isna().to_numpy() & keep).any()]
        raise DataError(
            f"model column(s) {describe_values(bad)} have missing values in {describe_rows(data.index, miss)}; "
            "pass na='drop' to fit on the rows with data (treated as a domain), or impute them first."
        )
    used = keep & ~miss
    y, X, terms, spec = _model_matrices(safe, data.loc[used, cols])
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise DataError(f"the model matrix of {formula!r} has non-finite values (log of 0? division by 0?).")
    _check_response(y, family, safe.split("~")[0].strip())
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        raise DataError(f"the model columns {terms} are collinear (rank {rank} < {X.shape[1]}); drop aliased terms.")
    beta, cov, iters = _fit(design, X, y, used, family)
    df_res = subset_df(design, None if used.all() else used) + 1 - X.shape[1]
    return GLMResult(formula, family, tuple(terms), beta, cov, df_res, level, int(used.sum()),
                     int(miss.sum()), iters, spec)
