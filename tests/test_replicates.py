"""Replicate-weight designs: R's deterministic JK1/JKn/BRR/Fay values, bootstrap vs Taylor, composites."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import load_r_refs, ref_data

REFS = load_r_refs()


def scd_design():
    scd = ref_data("scd.csv").assign(fpc=5)
    return ss.Design(scd, ids="ambulance", strata="ESA", fpc="fpc", nest=True)


def test_jk1_matches_r():
    """as.svrepdesign(dclus1, type = 'JK1'): svymean(~api00), svytotal(~enroll)."""
    ref = REFS["rep_jk1_clus1"]
    d = ss.replicate_design(ss.datasets.apiclus1_design(), "JK1")
    m, t = ss.mean(d, "api00"), ss.total(d, "enroll")
    assert d._rep.weights.shape[1] == ref["n_rep"]
    assert_allclose(d._rep.scale, ref["scale"], rtol=1e-12)
    assert_allclose([m.estimate, m.se, t.estimate, t.se],
                    [ref["mean_estimate"], ref["mean_se"], ref["total_estimate"], ref["total_se"]], rtol=1e-8)


def test_jkn_matches_r_including_domains():
    """as.svrepdesign(dstrat, type = 'JKn'): svymean, and svyby(~api00, ~awards, svymean, covmat = TRUE)."""
    ref = REFS["rep_jkn_strat"]
    d = ss.replicate_design(ss.datasets.apistrat_design(), "JKn")
    assert_allclose(d._rep.rscales[:3], ref["rscales_head"], rtol=1e-12)
    m = ss.mean(d, "api00")
    assert_allclose([m.estimate, m.se], [ref["mean_estimate"], ref["mean_se"]], rtol=1e-8)
    t = ss.mean(d, "api00", by="awards")
    assert_allclose(t.estimates, ref["by_estimate"], rtol=1e-10)
    assert_allclose(np.asarray(t.vcov), np.asarray(ref["by_vcov"]), rtol=1e-8)


@pytest.mark.parametrize("kind, rid", [("BRR", "rep_brr_scd"), ("Fay", "rep_fay_scd")])
def test_brr_and_fay_match_r(kind, rid):
    """svydesign(ids=~ambulance, strata=~ESA, fpc=~rep(5,6), data=scd, nest=TRUE) → as.svrepdesign(type=...)."""
    ref = REFS[rid]
    d = ss.replicate_design(scd_design(), kind, fay_rho=0.3)
    t = ss.total(d, "alive")
    assert_allclose([t.estimate, t.se], [ref["estimate"], ref["se"]], rtol=1e-8)


def test_bootstrap_close_to_taylor_on_large_design():
    """Rao-Wu bootstrap SE within Monte Carlo error of the Taylor SE (seeded; 400 replicates → ~3.5% MC error)."""
    rng = np.random.default_rng(11)
    n_h = 40
    df = pd.DataFrame({"h": np.repeat(np.arange(20), n_h), "y": rng.gamma(2.0, 3.0, 20 * n_h), "w": 25.0})
    df["y"] += df["h"] * 0.5
    d = ss.Design(df, strata="h", weights="w")
    taylor = ss.mean(d, "y").se
    boot = ss.mean(ss.replicate_design(d, "bootstrap", replicates=400, seed=3), "y").se
    assert abs(boot / taylor - 1) < 3 * np.sqrt(2 / 400)


def test_replicate_design_feeds_composites_and_quantiles():
    pov = ss.datasets.load_poverty_survey()
    reg = pov[pov.status.isin(["exited", "deregistered"])]
    base = ss.Design(reg, strata="status", weights="weight", fpc="N_h")
    jk = ss.replicate_design(base, "JKn")
    sat_t, sat_r = ss.proportion(base, "satisfied", by="status"), ss.proportion(jk, "satisfied", by="status")
    # for a stratified SRS with FPC the JKn variance of a stratum mean equals the Taylor one exactly
    assert_allclose(sat_r.se, sat_t.se, rtol=1e-10)
    c = ss.linear_combination(sat_r, {"exited": 0.8, "deregistered": 0.2})
    assert c.se > 0 and c.ci_low < c.estimate < c.ci_high
    q = ss.quantile(ss.replicate_design(ss.datasets.apistrat_design(), "JKn"), "api00", 0.5)
    assert q.ci_low < q.estimate < q.ci_high


def test_supplied_replicate_columns_reproduce_built_ones():
    d = ss.replicate_design(ss.datasets.apiclus1_design(), "JK1")
    data = ss.datasets.load_api("clus1")
    reps = pd.DataFrame(d._rep.weights, columns=[f"repw{i}" for i in range(15)])
    data = pd.concat([data, reps], axis=1)
    s = ss.from_replicate_weights(data, weights="pw", repweights="repw", type="JK1", scale=d._rep.scale)
    assert s.degf == 14
    assert_allclose(ss.mean(s, "api00").se, ss.mean(d, "api00").se, rtol=1e-12)
    with pytest.raises(ss.DesignError, match="rscales"):
        ss.from_replicate_weights(data, weights="pw", repweights="repw", type="JKn")


def test_calibrating_a_replicate_design_calibrates_every_replicate():
    d = ss.replicate_design(ss.datasets.apiclus1_design(), "JK1")
    p = ss.poststratify(d, "stype", {"E": 4421, "H": 755, "M": 1018})
    totals = np.array([[(p._rep.weights[:, r] * (p.column("stype") == s)).sum() for s in "EHM"] for r in range(15)])
    assert_allclose(totals, np.tile([4421, 755, 1018], (15, 1)), rtol=1e-10)
    taylor = ss.mean(ss.poststratify(ss.datasets.apiclus1_design(), "stype", {"E": 4421, "H": 755, "M": 1018}), "api00")
    m = ss.mean(p, "api00")
    assert_allclose(m.estimate, taylor.estimate, rtol=1e-12)
    assert 0.8 < m.se / taylor.se < 1.3


@pytest.mark.parametrize(
    "kind, kw, pattern",
    [("JK1", {}, "unstratified"), ("BRR", {}, "exactly 2 PSUs"), ("bootstrap", {}, "seed="), ("Fay", {"fay_rho": 1.5}, "fay_rho")],
)
def test_bad_replicate_requests(kind, kw, pattern):
    d = scd_design() if kind == "Fay" else ss.datasets.apistrat_design()
    with pytest.raises(ss.DesignError, match=pattern):
        ss.replicate_design(d, kind, **kw)


def test_progress_bar_runs(capsys):
    d = ss.replicate_design(ss.datasets.apistrat_design(), "bootstrap", replicates=250, seed=1, progress=True)
    assert d._rep.weights.shape == (200, 250)
    assert "bootstrap" in capsys.readouterr().err
