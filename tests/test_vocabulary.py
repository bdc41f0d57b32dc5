"""One vocabulary: ci_method, weights, ids, level, one fay_rho rule; old names warn for one release."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from survey_stats._validation import renamed
from survey_stats.errors import MethodError

#: Old keyword names that still work (with a DeprecationWarning) until the next release.
DEPRECATED = {("quantile", "interval_type"), ("nonresponse_adjust", "weight"), ("proportion_interval", "method")}
#: Names the vocabulary replaced: intervals are ci_method, weights weights, clusters ids, levels level.
RETIRED = {"interval_type", "interval", "conf_level", "confidence", "alpha", "weight", "cluster", "clusters", "psu",
           "rho"}

#: Public names whose ``method`` is not an interval choice: a selection, allocation or raking
#: method, or a result field recording which method was used.
NOT_INTERVALS = {"Allocation", "ChisqResult", "Estimate", "Sample", "ScoreResult", "TTestResult", "allocate", "rake",
                 "select"}


def _public_callables():
    for name in ss.__all__:
        obj = getattr(ss, name)
        if inspect.isclass(obj):
            yield name, obj.__init__
            for meth_name, meth in vars(obj).items():
                if not meth_name.startswith("_") and callable(meth):
                    yield f"{name}.{meth_name}", meth
        elif callable(obj):
            yield name, obj


def test_public_signatures_use_one_vocabulary():
    bad = []
    checked = list(_public_callables())
    assert len(checked) > 100 and any(name == "quantile" for name, _ in checked)
    for name, fn in checked:
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            continue
        for p in params:
            if p in RETIRED and (name.rsplit(".", 1)[-1], p) not in DEPRECATED:
                bad.append(f"{name}({p}=)")
            if p == "method" and (name, p) not in DEPRECATED and name.split(".")[0] not in NOT_INTERVALS:
                bad.append(f"{name}(method=): an interval choice is called ci_method")
    assert not bad, bad


def test_every_deprecated_name_is_documented_as_such():
    for func, old in DEPRECATED:
        doc = inspect.getdoc(getattr(ss, func)) or ""
        assert f"\n{old} :" in doc and "Deprecated" in doc.split(f"\n{old} :")[1][:200], (func, old)


def test_renamed_helper():
    assert renamed("f", "weight", None, "weights", "w") == "w"
    with pytest.warns(DeprecationWarning, match=r"f\(weight=\.\.\.\) is deprecated.*pass weights="):
        assert renamed("f", "weight", "w", "weights", None) == "w"
    with pytest.warns(DeprecationWarning), pytest.raises(MethodError, match="disagree"):
        renamed("f", "weight", "w", "weights", "v")


# -- weights ------------------------------------------------------------------------------
NR = pd.DataFrame({"w": [10.0, 10, 10, 10, 12, 12, 12], "resp": [1, 1, 0, 0, 1, 1, 0], "g": list("aaaabbb")})


def test_nonresponse_adjust_weight_is_a_deprecated_alias():
    new_out, new_rep = ss.nonresponse_adjust(NR, weights="w", respondent="resp", classes="g")
    with pytest.warns(DeprecationWarning, match=r"nonresponse_adjust\(weight=\.\.\.\).*weights="):
        old_out, old_rep = ss.nonresponse_adjust(NR, weight="w", respondent="resp", classes="g")
    pd.testing.assert_frame_equal(new_out, old_out)
    pd.testing.assert_frame_equal(new_rep, old_rep)
    with pytest.warns(DeprecationWarning), pytest.raises(MethodError, match="disagree"):
        ss.nonresponse_adjust(NR.assign(v=1.0), weights="v", weight="w", respondent="resp")
    with pytest.raises(MethodError, match="weights="):
        ss.nonresponse_adjust(NR, respondent="resp")


# -- ci_method ----------------------------------------------------------------------------
@pytest.mark.parametrize("ci_method", ss.PROPORTION_METHODS)
def test_proportion_interval_method_is_a_deprecated_alias(ci_method):
    new = ss.proportion_interval(0.3575, 0.0416463086555164, 120, df=117, ci_method=ci_method)
    with pytest.warns(DeprecationWarning, match=r"proportion_interval\(method=\.\.\.\).*ci_method="):
        old = ss.proportion_interval(0.3575, 0.0416463086555164, 120, df=117, method=ci_method)
    assert new == old
    if ci_method != "logit":  # both given and different
        with pytest.warns(DeprecationWarning), pytest.raises(MethodError, match="disagree"):
            ss.proportion_interval(0.3, 0.04, 120, ci_method=ci_method, method="logit")


def test_estimators_pass_ci_method_without_warnings():
    d = ss.datasets.poverty_design()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = ss.proportion(d, "satisfied", by="status", ci_method="beta")
    lo, hi, _, _ = ss.proportion_interval(t["exited"].estimate, t["exited"].se, t["exited"].n, df=t["exited"].df,
                                          ci_method="beta")
    assert_allclose([lo, hi], [t["exited"].ci_low, t["exited"].ci_high], rtol=1e-12)


# -- fay_rho ------------------------------------------------------------------------------
def _two_psu_design() -> ss.Design:
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"h": np.repeat(np.arange(6), 4), "psu": np.repeat(np.arange(12), 2),
                       "w": 5.0, "y": rng.normal(10, 2, 24)})
    return ss.Design(df, strata="h", ids="psu", weights="w")


def test_fay_needs_an_explicit_rho_old_default_warns():
    d = _two_psu_design()
    explicit = ss.replicate_design(d, "Fay", fay_rho=0.3)
    with pytest.warns(DeprecationWarning, match=r"replicate_design\(type='Fay'\) without fay_rho="):
        implicit = ss.replicate_design(d, "Fay")
    assert_allclose(implicit._rep.weights, explicit._rep.weights, rtol=0, atol=0)
    assert ss.mean(implicit, "y").se == ss.mean(explicit, "y").se
    with warnings.catch_warnings():  # BRR has no rho: nothing to warn about
        warnings.simplefilter("error")
        ss.replicate_design(d, "BRR")


def test_from_replicate_weights_fay_rho_rule_matches_replicate_design():
    d = ss.replicate_design(_two_psu_design(), "Fay", fay_rho=0.5)
    data = d.data.assign(**{f"r{i}": d._rep.weights[:, i] for i in range(d._rep.weights.shape[1])})
    cols = [f"r{i}" for i in range(d._rep.weights.shape[1])]
    same = ss.from_replicate_weights(data, weights="w", repweights=cols, type="Fay", fay_rho=0.5)
    assert_allclose(ss.mean(same, "y").se, ss.mean(d, "y").se, rtol=1e-12)
    with pytest.warns(DeprecationWarning, match=r"from_replicate_weights\(type='Fay'\) without fay_rho="):
        old = ss.from_replicate_weights(data, weights="w", repweights=cols, type="Fay")
    explicit0 = ss.from_replicate_weights(data, weights="w", repweights=cols, type="Fay", fay_rho=0.0)
    assert ss.mean(old, "y").se == ss.mean(explicit0, "y").se
    with pytest.raises(ss.errors.DesignError, match="fay_rho"):
        ss.from_replicate_weights(data, weights="w", repweights=cols, type="Fay", fay_rho="0.5")


# -- quantile(interval_type=): the existing alias now goes through the same words ----------
def test_quantile_interval_type_still_warns_and_agrees():
    d = ss.datasets.apistrat_design()
    new = ss.quantile(d, "api00", 0.5, ci_method="beta")
    with pytest.warns(DeprecationWarning, match="interval_type"):
        old = ss.quantile(d, "api00", 0.5, interval_type="beta")
    assert (new.estimate, new.ci_low, new.ci_high, new.se) == (old.estimate, old.ci_low, old.ci_high, old.se)


# -- where=: indicator files use the one safe expression language ---------------------------
def test_indicator_modules_never_evaluate_text_with_pandas_or_python():
    import ast
    from pathlib import Path

    root = Path(ss.__file__).resolve().parent
    calls = []
    for path in sorted((root / "indicators").glob("*.py")) + [root / "questionnaires" / "analysis.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
                if name in ("query", "eval", "exec"):
                    calls.append(f"{path.name}:{node.lineno} {name}()")
    assert not calls, calls


def test_indicator_conditions_mean_what_where_means():
    import json

    system = ss.IndicatorSystem.default().select(["missed_exit_rate"])
    df = ss.datasets.load_poverty_survey()
    d = ss.Design(df[df["status"] == "unexited"], fpc="N_h")
    spec = json.loads(json.dumps(system.spec))
    ind = spec["indicators"][0]
    ind["denominator"] = "id > 340 and id <= 400"
    r = ss.evaluate_indicators(ss.IndicatorSystem(spec), {ind["sample"]: d})["missed_exit_rate"]
    direct = ss.mean(d, ind["numerator"], where="id > 340 and id <= 400")
    assert_allclose([r.estimate, r.se], [direct.estimate, direct.se], rtol=1e-12)
    ind["denominator"] = "__import__('os').getcwd() == ''"  # Python, not the expression language: refused
    with pytest.raises(ss.ExpressionError):
        ss.evaluate_indicators(ss.IndicatorSystem(spec), {ind["sample"]: d})
