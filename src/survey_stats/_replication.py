"""Replicate weights as the core holds them, and R's degrees of freedom of a replicate design.

Internal module shared by the estimators (:mod:`survey_stats.estimation`,
:mod:`survey_stats.quantiles`) and the replicate constructors
(:mod:`survey_stats.replicates`).  A :class:`~survey_stats.Design` with replicate weights
carries one :class:`ReplicateWeights`; the variance formula is R ``svrVar``'s:
``scale · Σ_r rscales_r (θ̂_r − θ̄)(θ̂_r − θ̄)ᵀ`` with θ̄ the replicate mean, or θ̂ when
``mse`` is true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ReplicateWeights", "rank_df"]


@dataclass(frozen=True, eq=False)
class ReplicateWeights:
    """Replicate weights (n × R, full 'analysis' weights) and how to combine them."""

    weights: np.ndarray
    scale: float
    rscales: np.ndarray
    mse: bool
    type: str

    def with_weights(self, w: np.ndarray) -> ReplicateWeights:
        w = np.asarray(w, dtype=float)
        w.setflags(write=False)
        return ReplicateWeights(w, self.scale, self.rscales, self.mse, self.type)

    def variance(self, theta: np.ndarray, reps: np.ndarray) -> np.ndarray:
        """Covariance from replicate estimates ``reps`` (R × k) around ``theta`` (k)."""
        centre = theta if self.mse else np.nanmean(reps, axis=0)
        d = reps - centre
        return self.scale * (d * self.rscales[:, None]).T @ d


def rank_df(rw: np.ndarray) -> int:
    """R's ``degf`` of a replicate design: rank of the replicate weights − 1 (relative tolerance 1e-5)."""
    if rw.size > 2e7:  # too large to factorise: one df per replicate
        return rw.shape[1] - 1
    # Rank from the R × R Gram matrix scaled to unit diagonal (columns of unit norm): one BLAS
    # product instead of an SVD of the n × R weights, and no n × R temporary.  A singular value
    # s of the unit-norm columns is √λ; λ is accurate to ~1e-15, far below the threshold (1e-5)².
    gram = rw.T @ rw
    d = np.sqrt(np.diag(gram))
    keep = d > 0
    if not keep.any():
        return -1
    lam = np.linalg.eigvalsh(gram[np.ix_(keep, keep)] / np.outer(d[keep], d[keep]))
    return int(np.count_nonzero(lam > 1e-10)) - 1
