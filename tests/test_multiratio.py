"""ss.ratio with several numerators and denominators against R svyratio(..., covmat=TRUE)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs_models import design, load_model_refs

REFS = load_model_refs()


@pytest.mark.parametrize("name", ["dstrat", "dclus1"])
def test_matches_svyratio_covmat(name):
    ref = REFS[f"multiratio_{name}"]
    d, _ = design(name)
    t = ss.ratio(d, ["api.stu", "api00"], ["enroll", "api99"])
    assert t.keys == ref["names"]
    assert_allclose(t.estimates, ref["estimate"], rtol=1e-8)
    assert_allclose(t.se, ref["se"], rtol=1e-8)
    assert_allclose(np.array(t.vcov), np.array(ref["vcov"]), rtol=1e-8, atol=1e-20)


def test_each_pair_equals_the_single_ratio_and_contrasts_work():
    d, _ = design("dclus1")
    t = ss.ratio(d, ["api.stu", "api00"], "enroll")
    one = ss.ratio(d, "api00", "enroll")
    assert isinstance(one, ss.Estimate)
    assert_allclose([t["api00/enroll"].estimate, t["api00/enroll"].se], [one.estimate, one.se], rtol=1e-12)
    c = ss.contrast(t, "`api00/enroll` / `api.stu/enroll`")
    assert np.isfinite(c.se) and c.se > 0


def test_multi_ratio_by_domain_and_replicates():
    d, _ = design("dstrat")
    t = ss.ratio(d, ["api.stu", "api00"], ["enroll"], by="awards")
    assert len(t) == 4 and [r.domain[0][1] for r in t] == ["No", "Yes", "No", "Yes"]
    jk = ss.replicate_design(d, "JKn")
    r = ss.ratio(jk, ["api.stu", "api00"], ["enroll", "api99"])
    assert r.vcov.shape == (4, 4) and (np.diag(r.vcov) > 0).all()
