"""The linear (ratio-of-totals) core: estimates and their covariance for parts × domains.

Internal module (part of the internal API, see :mod:`survey_stats._internal`).  Means,
totals, proportions and ratios are all ratios of weighted totals, R̂ = Σwy / Σwx, so
one pass serves them all: per part (an analysis column or category indicator) and
domain it forms the weighted sums, the point estimate and the linearised values
z_i (Binder 1983; Woodruff 1971; Lumley 2010, §2.2), and hands the z's to the shared
variance kernel (:func:`survey_stats._kernel.vcov`) — or, on a replicate design, the
replicate estimates to the replicate variance (Wolter 2007, ch. 3-4).
:func:`assemble` adds domain df and census flags and finishes through
:func:`survey_stats._assembly.assemble`.

* :func:`linear_core` — estimates, covariance, weight sums, counts for parts × domains;
* :func:`assemble` — a core's result as an Estimate or EstimateTable;
* :func:`proportion_parts` — several proportions, each over its own domain, with
  their joint covariance (the indicators layer's rates with different denominators).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _assembly, _kernel
from ._assembly import domain_text
from ._domains import DfOption, Domains, Part, domain_df, resolve_df
from ._validation import check_level, check_option
from .ci import PROPORTION_METHODS, ProportionMethod
from .design import Design
from .errors import EstimationError
from .results import Estimate, EstimateTable


@dataclass
class Core:
    est: np.ndarray  # k
    cov: np.ndarray  # k x k
    wsum: np.ndarray  # k: domain weight sums
    n: np.ndarray  # k: respondents
    n_missing: np.ndarray  # k
    ss: np.ndarray  # k: Σ w (y - ȳ_d)² within the domain (for deff)
    dj: list[np.ndarray]  # per part: domain code per row (D = outside)


def linear_core(design: Design, parts: list[Part], dom: Domains, kind: str) -> Core:
    """Estimates and covariance for every part × domain (variable-major order).

    Floating-point overflow is not reported here: :func:`assemble` refuses any
    non-finite estimate or infinite variance with an :class:`EstimationError`.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _core_sums(design, parts, dom, kind)


def _core_sums(design: Design, parts: list[Part], dom: Domains, kind: str) -> Core:
    D = dom.D
    m = len(parts)
    k = m * D
    n_rows = design.n
    vs: list[np.ndarray] = []
    cs: list[np.ndarray | None] = []
    est = np.empty(k)
    wsum = np.empty(k)
    cnt = np.empty(k)
    nmiss = np.zeros(k)
    ss = np.full(k, np.nan)
    djs = []
    for j, part in enumerate(parts):
        sl = slice(j * D, (j + 1) * D)
        if part.miss is None:
            dj = dom.codes
            sink = not dom.all_in
        else:
            dj = np.where(part.miss, D, dom.codes)
            nmiss[sl] = np.bincount(dom.codes[part.miss], minlength=D + 1)[:D]
            sink = True
        djs.append(dj)
        if D == 1 and not sink:  # whole population, nothing missing: plain dot products
            e, Wd, v, s2 = _whole(design, kind, part.y, part.x, part.variable)
            est[sl], wsum[sl], cnt[sl], ss[sl] = e, Wd, n_rows, s2
            vs.append(v)
            cs.append(None if m == 1 else np.full(n_rows, j, dtype=np.intp))
            continue
        est[sl], wsum[sl], cnt[sl], ss[sl], v = _domain_sums(design, part, dj, sink, dom, kind)
        if sink:
            out = dj == D
            v = np.where(out, 0.0, v)
            col = np.where(out, 0, dj)
        else:
            col = dj
        vs.append(v)
        cs.append(col + j * D if j else col)
    cov = _covariance(design, parts, djs, vs, cs, D, kind, est)
    empty = cnt == 0
    if empty.any():
        est[empty] = np.nan
        cov[empty, :] = np.nan
        cov[:, empty] = np.nan
    return Core(est, cov, wsum, cnt.astype(int), nmiss.astype(int), ss, djs)


def _domain_sums(
    design: Design, part: Part, dj: np.ndarray, sink: bool, dom: Domains, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One part's (estimate, weight sum, count, Σw(y − ȳ_d)²) per domain and its linearised values.

    Rows with code ``D`` (outside every domain, or missing) form a sink group when *sink*
    is set; its estimate is set to 0 so that their linearised values stay finite.
    """
    w = design._w
    D = dom.D
    y = part.y
    L = D + 1 if sink else D
    Wd = np.bincount(dj, weights=w, minlength=L)
    wy = w * y
    Yd = np.bincount(dj, weights=wy, minlength=L)
    nd = np.bincount(dj, minlength=L)
    ss = np.full(D, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "ratio":
            x = part.x
            assert x is not None
            Xd = np.bincount(dj, weights=w * x, minlength=L)
            _check_denominator(Xd[:D], nd[:D], part.variable, dom)
            e = Yd / Xd
            if sink:
                e[D], Xd[D] = 0.0, 1.0
            v = (wy - w * x * e[dj]) / Xd[dj]
        elif kind == "total":
            e = Yd.copy()
            v = wy
            mu = Yd / Wd
            if sink:
                mu[D] = 0.0
            r = y - mu[dj]
            ss = np.bincount(dj, weights=w * r * r, minlength=L)[:D]
        else:  # mean, proportion
            e = Yd / Wd
            if sink:
                e[D], Wd[D] = 0.0, 1.0
            r = y - e[dj]
            wr = w * r
            v = wr / Wd[dj]
            if kind == "mean":
                ss = np.bincount(dj, weights=wr * r, minlength=L)[:D]
            else:
                ss = Wd[:D] * e[:D] * (1 - e[:D])
    return e[:D], Wd[:D], nd[:D], ss, v


def _covariance(design: Design, parts: list[Part], djs: list[np.ndarray], vs: list[np.ndarray],
                cs: list[np.ndarray | None], D: int, kind: str, est: np.ndarray) -> np.ndarray:
    """Covariance of all part × domain estimates: replicate variance, or the kernel on the z's."""
    if design._rep is not None:
        return _replicate_cov(design, parts, djs, D, kind, est)
    if len(parts) == 1:
        values, cols = vs[0], cs[0]
    else:
        values = np.column_stack(vs)
        cols = np.column_stack([c if c is not None else np.zeros(design.n, dtype=np.intp) for c in cs])
    member = None
    if _kernel.domain_sensitive(design):  # lonely-PSU rules that look at the strata a domain reaches
        member = np.column_stack([np.where(dj == D, -1, dj + j * D) for j, dj in enumerate(djs)])
    return _kernel.vcov(design, values, cols, len(parts) * D, member)


def _check_denominator(X: np.ndarray, n: np.ndarray, variable: str, dom: Domains) -> None:
    """A ratio's estimated denominator total must not be 0 in a domain with respondents."""
    zero = (X == 0) & (n > 0)
    if zero.any():
        where = [domain_text(dom.labels[d]) or " the whole sample" for d in np.flatnonzero(zero)]
        raise EstimationError(f"ratio {variable}: the denominator's estimated total is 0 in"
                              f"{';'.join(where[:5])}, so the ratio is undefined; restrict the domain "
                              "(where=/by=) to units with a non-zero denominator.")


def _group_sums(W: np.ndarray, dj: np.ndarray, L: int, y: np.ndarray | None) -> np.ndarray:
    """Σ_i W[i, r] · y_i per group: an L × R matrix, in one product over all replicates."""
    vals = np.ones(len(dj)) if y is None else y
    if L == 1:
        return (W.T @ vals)[None, :]
    if L <= 64:
        A = np.zeros((len(dj), L))
        A[np.arange(len(dj)), dj] = vals
        return A.T @ W
    from scipy import sparse

    S = sparse.csr_matrix((vals, (dj, np.arange(len(dj)))), shape=(L, len(dj)))
    return np.asarray(S @ W)


def _replicate_cov(
    design: Design, parts: list[Part], djs: list[np.ndarray], D: int, kind: str, est: np.ndarray
) -> np.ndarray:
    """Covariance of all part × domain estimates from replicate weights (one product per part)."""
    rep = design._rep
    W = rep.weights
    R = W.shape[1]
    theta = np.empty((R, len(parts) * D))
    for j, (part, dj) in enumerate(zip(parts, djs)):
        L = int(dj.max()) + 1 if len(dj) else D
        L = max(L, D)
        Y = _group_sums(W, dj, L, part.y)[:D]
        with np.errstate(divide="ignore", invalid="ignore"):
            if kind == "total":
                e = Y
            elif kind == "ratio":
                e = Y / _group_sums(W, dj, L, part.x)[:D]
            else:
                e = Y / _group_sums(W, dj, L, None)[:D]
        theta[:, j * D:(j + 1) * D] = e.T
    return rep.variance(est, theta)


def _whole(
    design: Design, kind: str, y: np.ndarray, x: np.ndarray | None, variable: str = ""
) -> tuple[float, float, np.ndarray, float]:
    """(estimate, weight sum, linearised values, Σw(y-ȳ)²) over all rows."""
    w = design._w
    W = design.population_size
    Y = float(np.dot(w, y))
    if kind == "ratio":
        assert x is not None
        X = float(np.dot(w, x))
        _check_denominator(np.array([X]), np.array([len(x)]), variable, Domains(np.zeros(0, np.intp), [()], True))
        e = Y / X
        return e, W, w * (y - e * x) / X, math.nan
    if kind == "total":
        r = y - Y / W
        return Y, W, w * y, float(np.dot(w * r, r))
    e = Y / W
    wr = w * (y - e)
    if kind == "proportion":
        return e, W, wr / W, W * e * (1 - e)
    return e, W, wr / W, float(np.dot(wr, y - e))


def assemble(
    design: Design,
    statistic: str,
    parts: list[Part],
    dom: Domains,
    core: Core,
    level: float,
    df: float | str,
    ci_method: str | None,
    single: bool,
) -> Estimate | EstimateTable:
    """Domain df and census flags from the rows, then the shared :func:`survey_stats._assembly.assemble`."""
    D = dom.D
    dfs = (np.concatenate([domain_df(design, dj, D) for dj in core.dj]) if df == "domain"
           else np.full(len(core.est), float(df)))
    outside = design._census_rows()  # a domain is a census when every row of it lies in a census stratum
    touched = (core.n if outside is None or statistic != "proportion"
               else np.concatenate([np.bincount(dj, weights=outside, minlength=D + 1)[:D] for dj in core.dj]))
    stats = {"est": core.est, "cov": core.cov, "wsum": core.wsum, "n": core.n, "n_missing": core.n_missing,
             "ss": core.ss, "df": dfs, "touched": touched}
    return _assembly.assemble(design, statistic, [(p.variable, p.category) for p in parts], dom.labels, stats, level,
                              ci_method, single)


def proportion_parts(
    design: Design,
    parts: Sequence[tuple[str, np.ndarray, np.ndarray]],
    *,
    level: float = 0.95,
    df: DfOption = None,
    ci_method: ProportionMethod = "logit",
) -> EstimateTable:
    """Several proportions, each over its own domain of one design, with their joint covariance.

    ``parts`` holds (label, 0/1 values, domain mask); rows outside a part's domain are
    treated as a domain would be (zero linearised values, full design kept).  Used by
    the indicators layer so that rates with different denominators from one sample
    covary correctly.
    """
    level = check_level(level)
    check_option(ci_method, "ci_method", PROPORTION_METHODS)
    dfr = resolve_df(design, df)
    dom = Domains(np.zeros(design.n, dtype=np.intp), [()], True)
    ps = []
    for label, y, mask in parts:
        mask = np.asarray(mask, dtype=bool)
        ps.append(Part(label, np.where(mask, np.asarray(y, dtype=float), 0.0), None, ~mask if not mask.all() else None))
    core = linear_core(design, ps, dom, "proportion")
    core.n_missing[:] = 0  # rows outside a part's domain are not missing answers
    return assemble(design, "proportion", ps, dom, core, level, dfr, ci_method, False)  # type: ignore[return-value]
