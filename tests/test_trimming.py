"""ss.trim_weights against R trimWeights (tests/reference/make_refs_models.R)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs_models import design, load_model_refs

REFS = load_model_refs()


@pytest.mark.parametrize("case", sorted(k for k in REFS if k.startswith("trim_")))
def test_matches_trimweights(case):
    ref = REFS[case]
    d, _ = design(ref["design"])
    lower = None if ref["lower"] == "-Inf" else ref["lower"]
    t = ss.trim_weights(d, lower=lower, upper=ref["upper"], strict=ref["strict"])
    assert_allclose(t.weights, ref["weights"], rtol=1e-12)
    na = "drop" if ref["design"] == "dnh" else "fail"
    m = ss.mean(t, ref["variable"], na=na)
    s = ss.total(t, ref["variable"], na=na)
    assert_allclose([m.estimate, m.se, s.estimate, s.se],
                    [float(np.ravel(ref[k])[0]) for k in ("mean_estimate", "mean_se", "total_estimate", "total_se")], rtol=1e-8)
    assert_allclose(t.weights.sum(), d.weights.sum(), rtol=1e-12)
    if ref["strict"]:
        assert t.weights.max() <= ref["upper"] and (lower is None or t.weights.min() >= lower)


def test_nothing_outside_returns_the_design():
    d, _ = design("dstrat")
    assert ss.trim_weights(d, upper=1e9) is d


def test_bad_bounds():
    d, _ = design("dstrat")
    with pytest.raises(ss.MethodError, match="above"):
        ss.trim_weights(d, lower=50, upper=40)
    with pytest.raises(ss.MethodError, match="impossible"):
        ss.trim_weights(d, upper=30, strict=True)  # mean weight 30.97: R recurses forever here
    with pytest.raises(ss.MethodError, match="number"):
        ss.trim_weights(d, upper="40")  # type: ignore[arg-type]


def test_replicate_designs_trim_every_replicate():
    d, _ = design("dclus1")
    jk = ss.replicate_design(ss.Design(d.data.assign(pw=d.weights * np.linspace(0.5, 1.5, d.n)), ids="dnum",
                                       weights="pw", fpc="fpc"), "JK1")
    t = ss.trim_weights(jk, upper=45, strict=True)
    assert t.weights.max() <= 45 and math.isclose(t.weights.sum(), jk.weights.sum())
    W = t._rep.weights
    assert (W.max(axis=0) <= 45 + 1e-9).all()
    assert_allclose(W.sum(axis=0), jk._rep.weights.sum(axis=0))
    assert (W[jk._rep.weights == 0] == 0).all()
    assert ss.mean(t, "api00").se > 0
