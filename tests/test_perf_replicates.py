"""Replicate weights built in place: Rao-Wu per-stratum totals, JKn on rows in any order, batching."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey_stats as ss
from survey_stats import replicates


def _unsorted_rows(n=300, H=3, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"h": rng.integers(0, H, n), "w": rng.uniform(1, 3, n), "y": rng.normal(size=n)})


def test_rao_wu_keeps_each_strata_total_when_rows_are_not_sorted_by_stratum():
    """Each stratum's n_h − 1 draws go to its own PSUs: Σ multipliers = n_h in every replicate."""
    df = _unsorted_rows()
    d = ss.Design(df.assign(w=1.0), strata="h", weights="w")
    W = np.asarray(ss.replicate_design(d, "bootstrap", replicates=7, seed=1)._rep.weights)
    sums = pd.DataFrame(W).groupby(df["h"].to_numpy()).sum().to_numpy()
    assert np.allclose(sums, df["h"].value_counts().sort_index().to_numpy()[:, None], rtol=1e-12)


def test_batches_of_strata_give_the_same_weights(monkeypatch):
    df = _unsorted_rows(n=2000, H=40, seed=2)
    d = ss.Design(df, strata="h", weights="w")
    one = np.asarray(ss.replicate_design(d, "bootstrap", replicates=230, seed=4)._rep.weights)
    monkeypatch.setattr(replicates, "_DRAWS_PER_BATCH", 500)  # many batches, several per chunk of 100
    many = np.asarray(ss.replicate_design(d, "bootstrap", replicates=230, seed=4)._rep.weights)
    assert np.array_equal(one, many)


@pytest.mark.parametrize("sizes", [[3, 2, 4], [200, 150]])  # per-draw bounds vs one call per stratum
def test_stratum_counts_match_the_per_stratum_draws(sizes):
    k = np.array(sizes)
    a = replicates._stratum_counts(np.random.default_rng(9), k, 5)
    rng = np.random.default_rng(9)
    expect = np.concatenate([np.bincount((rng.integers(0, kh, size=(kh - 1, 5)) + np.arange(5) * kh).ravel(),
                                         minlength=5 * kh).reshape(5, kh).T for kh in sizes])
    assert np.array_equal(a, expect)


def test_jkn_on_unsorted_rows_matches_the_definition():
    df = _unsorted_rows(n=40, H=3, seed=5)
    d = ss.Design(df, strata="h", weights="w")
    W = np.asarray(ss.replicate_design(d, "JKn")._rep.weights)
    h, w = df["h"].to_numpy(), df["w"].to_numpy()
    n_h = np.bincount(h)
    for r in range(len(df)):  # replicate r drops row r, rest of its stratum × n_h/(n_h − 1)
        expect = np.where(h == h[r], w * n_h[h[r]] / (n_h[h[r]] - 1), w)
        expect[r] = 0.0
        assert np.allclose(W[:, r], expect, rtol=1e-15)


def test_brr_pairs_are_taken_within_strata_when_rows_are_not_sorted():
    """Each replicate gives one PSU of every pair factor 2 and the other 0, whatever the row order."""
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"h": rng.permutation(np.repeat(np.arange(6), 2)), "w": rng.uniform(1, 2, 12)})
    W = np.asarray(ss.replicate_design(ss.Design(df, strata="h", weights="w"), "BRR")._rep.weights)
    fac = W / df["w"].to_numpy()[:, None]
    per_stratum = pd.DataFrame(fac).groupby(df["h"].to_numpy()).agg(sorted)
    assert all(v == [0.0, 2.0] for col in per_stratum for v in per_stratum[col])
