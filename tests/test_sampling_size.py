"""Sample sizes: Cochran against the oracle, decision-based sizes against brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import survey_stats as ss
from _refs import load_oracle

CASES = {c["id"]: c for c in load_oracle()["cases"]}


@pytest.mark.parametrize("cid", ["samplesize_cochran_N656", "samplesize_cochran_N5000", "samplesize_cochran_N120"])
def test_cochran_matches_oracle(cid):
    """Explicit formula in make_oracle.R: n0 = z² pq / e², n = n0 / (1 + (n0 - 1)/N), ceiling."""
    inp, exp = CASES[cid]["inputs"], CASES[cid]["expected"]
    s = ss.sample_size_proportion(inp["p"], inp["e"], level=inp["conf"], N=inp["N"])
    assert_allclose([s.n0, s.n_exact], [exp["n0"], exp["n_fpc"]], rtol=1e-12)
    assert s.n == exp["n_fpc_ceiling"]


def test_cochran_textbook_and_deff():
    # Cochran (1977) §4.4: p = 0.5, e = 0.05, 95% → n0 = 384.16 (z = 1.96); N = 656 → 243
    assert ss.sample_size_proportion(0.5, 0.05).n == 385
    assert ss.sample_size_proportion(0.5, 0.05, N=656).n == 243
    assert ss.sample_size_proportion(0.5, 0.05, deff=2).n0 == pytest.approx(2 * 384.1459, rel=1e-6)


def test_half_width_inverts_cochran():
    s = ss.sample_size_proportion(0.3, 0.04, N=656)
    assert ss.expected_half_width(s.n, 0.3, N=656) <= 0.04
    assert ss.expected_half_width(s.n - 1, 0.3, N=656) > 0.04


def test_minimum_detectable_difference_formula():
    mdd = ss.minimum_detectable_difference(150, 0.03, N=400, power=0.8)
    z = stats.norm.ppf(0.95) + stats.norm.ppf(0.8)
    assert_allclose(mdd, z * math.sqrt(0.03 * 0.97 / 150 * (400 - 150) / 399), rtol=1e-12)


def brute_binomial_power(n, p_true, r, alpha=0.05):
    """Enumerate x, form the Clopper-Pearson interval directly, count 'meets' (upper <= r)."""
    power = 0.0
    for x in range(n + 1):
        upper = 1.0 if x == n else stats.beta.ppf(1 - alpha / 2, x + 1, n - x)
        if upper <= r:
            power += stats.binom.pmf(x, n, p_true)
    return power


def brute_hypergeom_power(n, N, p_true, r, alpha=0.05):
    """Exact hypergeometric upper bound: largest M with P(X <= x | M) > alpha/2, scanned."""
    M_true = round(p_true * N)
    power = 0.0
    for x in range(n + 1):
        M_up = max(M for M in range(N + 1) if stats.hypergeom.cdf(x, N, M, n) > alpha / 2)
        if M_up / N <= r:
            power += stats.hypergeom.pmf(x, N, M_true, n)
    return power


@pytest.mark.parametrize("n", [60, 150, 301])
def test_decision_power_binomial_matches_brute_force(n):
    r = ss.decision_sample_size(0.01, 0.05, max_n=n)
    assert_allclose(r.curve["power"].iloc[-1], brute_binomial_power(n, 0.01, 0.05), atol=1e-12)


@pytest.mark.parametrize("n", [40, 90])
def test_decision_power_hypergeometric_matches_brute_force(n):
    r = ss.decision_sample_size(0.02, 0.08, N=120, max_n=n)
    assert_allclose(r.curve["power"].iloc[-1], brute_hypergeom_power(n, 120, 0.02, 0.08), atol=1e-12)


def test_decision_size_reaches_power_and_ge_direction():
    r = ss.decision_sample_size(0.01, 0.03, power=0.8)
    assert r.power >= 0.8 and (r.curve.loc[r.curve.n < r.n, "power"] < 0.8).all()
    assert (r.curve.loc[r.curve.n >= r.n_stable, "power"] >= 0.8).all()
    g = ss.decision_sample_size(0.97, 0.90, direction="ge", N=400)
    assert g.power >= 0.8 and g.n < 400


@pytest.mark.parametrize(
    "kw, pattern",
    [({"p_true": 0.05, "reference": 0.03}, "p_true < reference"), ({"p_true": 0.01, "reference": 0.03, "power": 1.2}, "power"),
     ({"p_true": 0.01, "reference": 0.03, "direction": "<="}, "direction")],
)
def test_decision_bad_input(kw, pattern):
    with pytest.raises(ss.MethodError, match=pattern):
        ss.decision_sample_size(**kw)


def test_size_bad_input():
    with pytest.raises(ss.MethodError, match="margin"):
        ss.sample_size_proportion(0.5, 0)
    with pytest.raises(ss.MethodError, match="proportion"):
        ss.sample_size_proportion(1.5, 0.05)
    with pytest.raises(ss.MethodError, match="N="):
        ss.sample_size_proportion(0.5, 0.05, N=-3)


def _brute_powers(p_true, reference, direction, N, sizes, tail=0.025):
    """P(meets) by definition: every count of every size (the former implementation)."""
    from scipy import stats

    out = []
    for n in sizes:
        x = np.arange(n + 1)
        if N is None:
            ok = (stats.binom.cdf(x, n, reference) <= tail if direction == "le"
                  else stats.binom.sf(x - 1, n, reference) <= tail)
            dist, args = stats.binom, (n, p_true)
        else:
            edge = math.floor(reference * N) + 1 if direction == "le" else math.ceil(reference * N) - 1
            if not 0 <= edge <= N:
                out.append(0.0)
                continue
            ok = (stats.hypergeom.cdf(x, N, edge, n) <= tail if direction == "le"
                  else stats.hypergeom.sf(x - 1, N, edge, n) <= tail)
            dist, args = stats.hypergeom, (N, int(round(p_true * N)), n)
        xs = x[ok]
        if not len(xs):
            out.append(0.0)
        elif direction == "le":
            out.append(float(dist.cdf(xs[-1], *args)))
        else:
            out.append(float(dist.sf(xs[0] - 1, *args)))
    return np.array(out)


@pytest.mark.parametrize("N", [None, 120, 656])
@pytest.mark.parametrize(("p_true", "reference", "direction"),
                         [(0.01, 0.03, "le"), (0.2, 0.3, "le"), (0.95, 0.9, "ge"), (0.7, 0.5, "ge"), (0.0, 0.05, "le")])
def test_decision_power_curve_equals_the_definition(N, p_true, reference, direction):
    """The all-sizes-at-once power curve (quantile plus neighbour check) equals the count-by-count search."""
    if p_true == 0.0:
        p_true = 0.001
    top = min(300, N or 300)
    r = ss.decision_sample_size(p_true, reference, direction=direction, N=N, max_n=top)
    assert_allclose(r.curve["power"].to_numpy(), _brute_powers(p_true, reference, direction, N, range(1, top + 1)),
                    rtol=0, atol=1e-12)
