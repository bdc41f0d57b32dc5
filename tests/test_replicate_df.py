"""Every replicate design's df is R's degf: rank of the replicate weights − 1, however it was built."""

from __future__ import annotations

import pytest

import survey_stats as ss
from _refs import ref_data
from _refs_models import design, load_model_refs

REFS = load_model_refs()


@pytest.mark.parametrize("name", ["jk1_clus1", "jkn_strat"])
def test_degf_matches_r(name):
    d, _ = design(name)
    assert d.degf == REFS[f"degf_{name}"]["degf"]


def test_bootstrap_df_is_rank_not_psus_minus_strata():
    """R: degf(as.svrepdesign(dstrat, type = "bootstrap", replicates = 50)) is 49, not 197."""
    d, _ = design("dstrat")
    b = ss.replicate_design(d, "bootstrap", replicates=50, seed=1)
    assert b.degf == 49
    same = ss.from_replicate_weights(b.data.assign(w=b.weights, **{f"r{i}": b._rep.weights[:, i] for i in range(50)}),
                                     weights="w", repweights=[f"r{i}" for i in range(50)], type="bootstrap")
    assert same.degf == b.degf
    assert ss.mean(b, "api00").df == 49


def test_brr_df():
    """R: degf(as.svrepdesign(svydesign(ids=~ambulance, strata=~ESA, ..., data=scd, nest=TRUE), "BRR")) is 3."""
    scd = ref_data("scd.csv").assign(fpc=5)
    d = ss.Design(scd, ids="ambulance", strata="ESA", fpc="fpc", nest=True)
    assert ss.replicate_design(d, "BRR").degf == 3
