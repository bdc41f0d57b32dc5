"""The Taylor-linearisation variance kernel.

Every design-based variance in survey_stats is the variance of an estimated total
of *linearised values* (influence values) ``z_i``: for a mean, ``z_i = w_i (y_i - ȳ)/N̂``;
for a total, ``z_i = w_i y_i``; for a ratio, ``z_i = w_i (y_i - R x_i)/X̂``.  For a
stratified design with first-stage PSUs the estimator of that variance is

    V = Σ_h s_h Σ_{i∈h} (z_hi - z̄_h)(z_hi - z̄_h)ᵀ,   s_h = (1 - f_h) n_h / (n_h - 1),

where ``z_hi`` are PSU totals, ``n_h`` the number of PSUs and ``f_h`` the first-stage
sampling fraction (Wolter 2007, ch. 6; Lumley 2010, §2.2; R ``survey``'s
``svyrecvar``/``onestage``).  Expanding the square gives

    V = Σ_h s_h Σ_i z_hi z_hiᵀ  -  Σ_h (s_h / n_h) S_h S_hᵀ,   S_h = Σ_i z_hi,

so the kernel needs only per-stratum sums: a few vectorised ``numpy.bincount``
passes over the rows (no loop over strata or rows).  To avoid cancellation the
squares are taken about per-stratum (and per-domain) means, which costs one more
pass and keeps a zero variance exactly zero.

The linearised values are passed in a sparse "row contributes to columns" form:
``values[i, j]`` is added to column ``cols[i, j]`` of a ``k``-column influence matrix.
Domain estimates (``by=``) use one value per row (the row's domain column), so the
cost does not grow with the number of domains; ``cols=None`` means a dense matrix.
"""

from __future__ import annotations

import numpy as np

from .design import Design
from .errors import EstimationError

_MAX_DENSE_CELLS = 50_000_000


def vcov(design: Design, values: np.ndarray, cols: np.ndarray | None, k: int,
         member: np.ndarray | None = None) -> np.ndarray:
    """Covariance matrix (k × k) of the estimated totals of linearised values.

    Parameters
    ----------
    design : Design
    values : ndarray, shape (n, m)
        Linearised values; row i adds ``values[i, j]`` to influence column ``cols[i, j]``.
    cols : ndarray of int, shape (n, m), or None
        Target columns in ``[0, k)``; ``None`` means ``values`` is dense (m == k).
    k : int
        Number of estimates.
    member : ndarray, optional
        Which rows belong to each estimate's domain (subset), for the lonely-PSU
        rules that depend on the strata a domain reaches: an int array shaped like
        ``cols`` giving the estimate of the row (-1 outside every domain), or a
        boolean array (n,) shared by all k estimates.  ``None``: every row counts.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if cols is not None and cols.ndim == 1:
        cols = cols[:, None]
    if design._cal:
        # calibrated weights: variance of the residuals from each calibration model
        values = dense(values, cols, k)
        cols = None
        for step in design._cal:
            values = step.residualize(values)
        member = None  # R keeps every row of a calibrated design in its subsets (weights set to 0)
    if member is not None and domain_sensitive(design):
        cov = _domain_lonely(design, values, cols, k, member)
    elif design._psu is None:
        cov = _finish(design, *_row_sums(design, values, cols, k))
    else:
        cov = _finish(design, *_psu_sums(design, values, cols, k))
    if design._stages:
        for stage in design._stages:  # R multistage: within-unit variance of each later stage
            t = _unit_totals(values, cols, k, stage.unit, len(stage._psu_h))
            cov = cov + psu_covariance(stage, t)[1]
        cov = (cov + cov.T) / 2
    return cov


def domain_sensitive(design: Design) -> bool:
    """Whether the variance of a domain estimate depends on which strata the domain reaches.

    True for ``lonely_psu`` "average" or "adjust" when the design has lonely PSUs
    or ``adjust_domain_lonely`` is set (R's ``onestage``/``onestrat`` on a subset).
    """
    return design.lonely_psu in ("average", "adjust") and (
        bool(design._singleton_h.any()) or design._adjust_domain_lonely)


def dense(values: np.ndarray, cols: np.ndarray | None, k: int) -> np.ndarray:
    """The n × k influence matrix from the sparse (values, cols) form."""
    if cols is None:
        return values
    n, m = values.shape
    out = np.zeros((n, k))
    rows = np.arange(n)
    for j in range(m):
        np.add.at(out, (rows, cols[:, j]), values[:, j])
    return out


def _row_sums(design: Design, v: np.ndarray, cols: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-stratum sums and Σ_h s_h Σ_i (z_i - z̄_h)(z_i - z̄_h)ᵀ when every row is a PSU.

    Squares are taken about per-(stratum, column) means so that no large sums of
    squares cancel: a stratum whose values are all equal contributes exactly 0.
    """
    h = design._h
    H = design.n_strata
    n_h = design._n_h
    n, m = v.shape
    if cols is None:
        s1 = np.empty((H, k))
        for j in range(k):
            s1[:, j] = np.bincount(h, weights=v[:, j], minlength=H)
        u = v - (s1 / n_h[:, None])[h]
        c = design._c_row
        cov = (u * c[:, None]).T @ u if k > 1 else np.array([[np.dot(c * u[:, 0], u[:, 0])]])
        return s1, cov
    HK = H * k
    hk = design._hk(k)
    cells = [hk + cols[:, j] for j in range(m)]
    s1 = np.zeros((m, HK))
    cnt = np.zeros(HK)
    for j in range(m):
        s1[j] = np.bincount(cells[j], weights=v[:, j], minlength=HK)
        cnt += np.bincount(cells[j], minlength=HK)
    if m == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            mu = np.where(cnt > 0, s1[0] / cnt, 0.0)
        u = v[:, 0] - mu[cells[0]]
        q = np.bincount(cells[0], weights=u * u, minlength=HK)
        total = s1[0].reshape(H, k)
        return total, cell_covariance(design, total, cnt.reshape(H, k), q.reshape(H, k))
    # several values per row (categories, several variables): the general cross-product form
    c = design._c_row
    cf = np.zeros(k * k)
    for x in range(m):
        cx = c * v[:, x]
        for y in range(m):
            cf += np.bincount(cols[:, x] * k + cols[:, y], weights=cx * v[:, y], minlength=k * k)
    total_f = s1.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.where(cnt > 0, total_f / cnt, 0.0)
    q = np.zeros(HK)
    for j in range(m):
        u = v[:, j] - mu[cells[j]]
        q += np.bincount(cells[j], weights=u * u, minlength=HK)
    total = total_f.reshape(H, k)
    # cell_covariance gives −Σ (s_h/n_h) S_h S_hᵀ off the diagonal and the centred variances on it;
    # rows carrying several columns add their within-row cross-products cf off the diagonal
    exact = cell_covariance(design, total, cnt.reshape(H, k), q.reshape(H, k))
    cov = cf.reshape(k, k) + exact
    np.fill_diagonal(cov, np.diag(exact))  # variances from centred squares (a zero variance stays 0)
    return total, cov


def cell_covariance(info, s1: np.ndarray, cnt: np.ndarray, q: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Σ_h s_h Σ_i (z_i − z̄_h)(z_i − z̄_h)ᵀ from per-(stratum, column) cell statistics.

    Every row is a PSU and carries one column.  ``s1`` are the cell sums of z, ``cnt``
    the rows in each cell, ``q`` the squares about the cell mean, Σ(z − μ_cell)² —
    all H × k.  Rows of the stratum outside a column's cell hold 0 for it, so
    Σ_i (z_ic − z̄_hc)² = q + n_hc μ² (1 − n_hc/n_h) and, for two columns,
    −S_ha S_hb / n_h.  This finishing step is shared by the in-memory backend and the
    SQL backend (:mod:`survey_stats.sql`), which computes the same cell statistics with
    one grouped query.
    """
    n_h = np.asarray(info._n_h, dtype=float)
    scale = np.asarray(info._scale_h, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.where(cnt > 0, s1 / cnt, 0.0)
        a = np.where(n_h > 1, scale / n_h, 0.0)
    diag_h = q + cnt * mu**2 * (1.0 - cnt / n_h[:, None])
    reg = np.where(n_h > 1, scale, 0.0)
    s1a = s1 * np.sqrt(a)[:, None]
    cov = -(s1a.T @ s1a)
    np.fill_diagonal(cov, reg @ diag_h)
    return cov


def _psu_sums(design: Design, values: np.ndarray, cols: np.ndarray | None, k: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Per-stratum sums and Σ_h s_h Σ_i (t_i - t̄_h)(t_i - t̄_h)ᵀ over PSU totals t_i."""
    assert design._psu is not None  # clustered designs only
    return psu_covariance(design, _unit_totals(values, cols, k, design._psu, len(design._psu_h)))


def _unit_totals(v: np.ndarray, cols: np.ndarray | None, k: int, unit: np.ndarray, P: int) -> np.ndarray:
    """Totals (P × k) of the linearised values over the sampling units coded by *unit*."""
    if P * k > _MAX_DENSE_CELLS:
        raise EstimationError(
            f"{P} PSUs × {k} estimates is too many for one call; split the by= domains into several calls."
        )
    if cols is None:
        t = np.empty((P, k))
        for j in range(k):
            t[:, j] = np.bincount(unit, weights=v[:, j], minlength=P)
        return t
    tf = np.zeros(P * k)
    pk = unit * k
    for j in range(v.shape[1]):
        tf += np.bincount(pk + cols[:, j], weights=v[:, j], minlength=P * k)
    return tf.reshape(P, k)


def _presence(design: Design, member: np.ndarray, cols: np.ndarray | None, k: int,
              unit: np.ndarray, unit_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(strata reached, PSUs reached) per stratum × estimate by the rows of each estimate's domain."""
    H = design.n_strata
    P = len(unit_h)
    if member.dtype == bool:
        reached = np.zeros(P, dtype=bool)
        reached[unit[member]] = True
        n_in = np.bincount(unit_h[reached], minlength=H)
        return np.repeat((n_in > 0)[:, None], k, axis=1), np.repeat(n_in[:, None], k, axis=1)
    m = member if member.ndim == 2 else member[:, None]
    pk = np.concatenate([(unit * k + m[:, j])[m[:, j] >= 0] for j in range(m.shape[1])])
    pairs = np.unique(pk)
    cell = unit_h[pairs // k] * k + pairs % k
    n_in = np.bincount(cell, minlength=H * k).reshape(H, k)
    return n_in > 0, n_in


def _domain_lonely(design: Design, values: np.ndarray, cols: np.ndarray | None, k: int,
                   member: np.ndarray) -> np.ndarray:
    """First-stage covariance with R's lonely-PSU rules evaluated within each estimate's domain.

    R analyses a domain on the subset of its rows (``[.survey.design2`` drops the
    other rows of an uncalibrated design), so ``onestage`` sees only the strata the
    domain reaches: "average" multiplies by (strata reached) / (strata reached
    that are not lonely), and "adjust" centres a lonely PSU at the column total
    divided by the PSUs of the strata reached.  With ``adjust_domain_lonely``
    (R's ``survey.adjust.domain.lonely=TRUE``) a stratum of which the domain
    reaches one PSU is treated as lonely too.  Masking the centred PSU totals per
    stratum × estimate before the cross-product applies the rules column by column.
    """
    psu = design._psu if design._psu is not None else np.arange(design.n, dtype=np.intp)
    psu_h = design._psu_h if design._psu_h is not None else design._h
    n_h = design._n_h
    t = _unit_totals(values, cols, k, psu, len(psu_h))
    H = design.n_strata
    S = np.zeros((H, k))
    np.add.at(S, psu_h, t)
    present, n_in = _presence(design, member, cols, k, psu, psu_h)
    lonely = np.repeat((design._singleton_h > 0)[:, None], k, axis=1)
    if design._adjust_domain_lonely:
        lonely = lonely | ((n_in == 1) & (n_h > 1)[:, None] & ~design._census_h[:, None])
    center = S / n_h[:, None]
    scale = np.where(n_h > 1, design._scale_h, design._singleton_h)
    if design.lonely_psu == "adjust":
        with np.errstate(divide="ignore", invalid="ignore"):
            grand = (S * present).sum(axis=0) / (n_h[:, None] * present).sum(axis=0)
        center = np.where(lonely, np.nan_to_num(grand)[None, :], center)
        ok = present
    else:  # average
        ok = present & ~lonely
    dev = (t - center[psu_h]) * ok[psu_h]
    cov = (dev * scale[psu_h][:, None]).T @ dev
    if design.lonely_psu == "average":
        n_strata, n_ok = present.sum(axis=0), ok.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(n_strata > 0, n_strata / n_ok, 1.0)  # no stratum left: NaN, as R
        root = np.sqrt(factor)
        cov = cov * root[:, None] * root[None, :]
    return _symmetric(cov)


def psu_covariance(info, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Per-stratum sums and Σ_h s_h Σ_i (t_i − t̄_h)(t_i − t̄_h)ᵀ from PSU totals t (P × k),
    PSUs ordered by stratum (shared by the in-memory and SQL backends)."""
    n_h = info._n_h
    starts = np.concatenate(([0], np.cumsum(n_h)[:-1]))
    s1 = np.add.reduceat(t, starts, axis=0)
    tc = t - (s1 / n_h[:, None])[info._psu_h]
    c = info._scale_h[info._psu_h]
    cov = (tc * c[:, None]).T @ tc
    return s1, cov


def _finish(design, s1: np.ndarray, cov: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Apply the lonely-PSU policy to the regular-strata covariance."""
    n_h = design._n_h
    single = design._singleton_h > 0
    if single.any():
        policy = design.lonely_psu
        if policy == "adjust":
            grand = s1.sum(axis=0) / n_h.sum()
            dev = (s1[single] - grand) * np.sqrt(design._singleton_h[single])[:, None]
            cov = cov + dev.T @ dev
        elif policy == "average":
            H = design.n_strata
            ok = H - int(single.sum())
            cov = cov * (H / ok) if ok > 0 else cov * np.nan
    return _symmetric(cov)


def _symmetric(cov: np.ndarray) -> np.ndarray:
    """The covariance made exactly symmetric, rows and columns of a (rounding-)negative variance zeroed."""
    cov = (cov + cov.T) / 2
    neg = np.diag(cov) < 0
    if neg.any():  # rounding; a variance is never negative
        cov[neg, :] = 0.0
        cov[:, neg] = 0.0
    return cov
