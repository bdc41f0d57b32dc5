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

so the kernel needs only per-stratum sums ``S_h`` and one weighted cross-product:
a single vectorised pass of ``numpy.bincount`` calls over the rows (no loop over
strata or rows).  The same finishing code serves every estimator.

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


def vcov(design: Design, values: np.ndarray, cols: np.ndarray | None, k: int) -> np.ndarray:
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
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if cols is not None and cols.ndim == 1:
        cols = cols[:, None]
    if design._psu is None:
        s1, cross = _row_sums(design, values, cols, k)
    else:
        s1, cross = _psu_sums(design, values, cols, k)
    return _finish(design, s1, cross)


def _row_sums(design: Design, v: np.ndarray, cols: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-stratum sums and the scaled cross-product when every row is a PSU."""
    h = design._h
    H = design.n_strata
    c = design._c_row
    n, m = v.shape
    if cols is None:
        s1 = np.empty((H, k))
        for j in range(k):
            s1[:, j] = np.bincount(h, weights=v[:, j], minlength=H)
        cross = (v * c[:, None]).T @ v if k > 1 else np.array([[np.dot(c * v[:, 0], v[:, 0])]])
        return s1, cross
    hk = h * k
    s1f = np.zeros(H * k)
    for j in range(m):
        s1f += np.bincount(hk + cols[:, j], weights=v[:, j], minlength=H * k)
    if m == 1:
        d = np.bincount(cols[:, 0], weights=c * v[:, 0] * v[:, 0], minlength=k)
        cross = np.diag(d)
    else:
        cf = np.zeros(k * k)
        for a in range(m):
            ca = c * v[:, a]
            for b in range(m):
                cf += np.bincount(cols[:, a] * k + cols[:, b], weights=ca * v[:, b], minlength=k * k)
        cross = cf.reshape(k, k)
    return s1f.reshape(H, k), cross


def _psu_sums(design: Design, v: np.ndarray, cols: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-stratum sums and the scaled cross-product over PSU totals."""
    psu = design._psu
    psu_h = design._psu_h
    assert psu is not None and psu_h is not None  # clustered designs only
    P = len(psu_h)
    if P * k > _MAX_DENSE_CELLS:
        raise EstimationError(
            f"{P} PSUs × {k} estimates is too many for one call; split the by= domains into several calls."
        )
    n, m = v.shape
    t = np.zeros(P * k)
    if cols is None:
        t = np.empty((P, k))
        for j in range(k):
            t[:, j] = np.bincount(psu, weights=v[:, j], minlength=P)
    else:
        pk = psu * k
        for j in range(m):
            t += np.bincount(pk + cols[:, j], weights=v[:, j], minlength=P * k)
        t = t.reshape(P, k)
    starts = np.concatenate(([0], np.cumsum(design._n_h)[:-1]))
    s1 = np.add.reduceat(t, starts, axis=0)
    c = design._scale_h[psu_h]
    cross = (t * c[:, None]).T @ t
    return s1, cross


def _finish(design: Design, s1: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """Combine per-stratum sums into the covariance, applying the lonely-PSU policy."""
    n_h = design._n_h
    scale = design._scale_h
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(n_h > 1, scale / n_h, 0.0)
    s1a = s1 * np.sqrt(a)[:, None]
    cov = cross - s1a.T @ s1a
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
    cov = (cov + cov.T) / 2
    neg = np.diag(cov) < 0
    if neg.any():  # rounding in the expanded square; a variance is never negative
        cov[neg, :] = 0.0
        cov[:, neg] = 0.0
    return cov
