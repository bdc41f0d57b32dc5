"""Results read well: one-line Estimate repr, compact tables, format specs, notebook HTML."""

from __future__ import annotations

import numpy as np
import pandas as pd

import survey_stats as ss
from survey_stats.indicators.compute import IndicatorResult, IndicatorTable


def _design():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"s": np.repeat(list("ab"), 50), "N": 500.0, "g": rng.choice(["x<y", "z"], 100),
                       "y": rng.integers(0, 2, 100), "v": rng.normal(10, 2, 100)})
    return ss.Design(df, strata="s", fpc="N")


def test_estimate_repr_is_one_informative_line():
    e = ss.mean(_design(), "v")
    r = repr(e)
    assert "\n" not in r and r.startswith("<Estimate mean v: ")
    for part in (f"{e.estimate:.6g}", f"SE {e.se:.4g}", "95% CI", f"{e.ci_low:.6g}", f"{e.ci_high:.6g}", "n=100"):
        assert part in r


def test_format_spec_applies_to_every_number():
    e = ss.proportion(_design(), "y")
    assert format(e, ".3f") == (f"y: {e.estimate:.3f} (SE {e.se:.3f}; 95% CI {e.ci_low:.3f} to {e.ci_high:.3f})")
    assert f"{e}" == str(e)


def test_table_repr_is_compact_without_covariance():
    t = ss.mean(_design(), "v", by="g")
    r = repr(t)
    lines = r.splitlines()
    assert lines[0] == "<EstimateTable: 2 mean estimates, 95% CI>" and len(lines) == 4
    assert "array" not in r and "vcov" not in r and "v | g=x<y" in r
    assert format(t, ".1f").splitlines()[1].startswith("v | g=z: ")


def test_long_table_shows_first_and_last_rows():
    rows = tuple(ss.Estimate("mean", f"y{i}", float(i), 0.1, 0, 1, 0.95, 10, 5, 5, 1, 0.1, "taylor")
                 for i in range(100))
    t = ss.EstimateTable(rows, np.eye(100))
    lines = repr(t).splitlines()
    assert len(lines) == 1 + 1 + 30 + 1 and "70 more rows" in lines[17] and lines[-1].lstrip().startswith("y99")


def test_html_escapes_and_is_a_table():
    t = ss.mean(_design(), "v", by="g")
    h = t._repr_html_()
    assert h.count("<tr") == 3 and "x&lt;y" in h and "x<y" not in h
    assert "<table" in ss.mean(_design(), "v")._repr_html_()


def _indicator(i, name):
    return IndicatorResult(id=f"i{i}", name_zh="指标", name_en=name, kind="rate", denominator="all", n=100,
                           estimate=0.9, se=0.01, ci_low=0.88, ci_high=0.92, level=0.95, df=99, ci_method="logit",
                           deff=1.0, n_eff=100.0, reference=0.9, direction="higher", verdict="达标", reliability="ok",
                           reliability_reason="")


def test_indicator_table_repr_and_html():
    t = IndicatorTable((_indicator(1, "coverage"), _indicator(2, "<b>")), pd.DataFrame(), np.zeros(0),
                       np.zeros((0, 0)), (), 0.95, "logit")
    r = repr(t)
    assert r.splitlines()[0] == "<IndicatorTable: 2 indicators, 95% CI (logit)>" and "coverage" in r
    assert "parts" not in r and "array" not in r
    assert "&lt;b&gt;" in t._repr_html_()
    assert format(t, ".2f").splitlines()[0] == "i1 coverage: 0.90 (SE 0.01; 95% CI 0.88 to 0.92) 达标"


def test_score_result_repr_and_html():
    rules = ss.ScoringRules.default()
    x = {k: True for k in rules.needs()["checklist"]}
    x.update(fund_transfer_working_days=10, fund_entry_working_days=10, households_aided=656, households_target=656,
             off_standard_households=0, beneficiary_satisfaction=0.95, social_satisfaction=0.96)
    s = ss.score(rules, x)
    r = repr(s)
    assert "\n" not in r and r.startswith("<ScoreResult 100.0") and f"{len(s.items)} items" in r
    assert format(s, ".2f").startswith("100.00 (95% interval 100.00 to 100.00)")
    assert s._repr_html_().count("<tr") == len(s.items) + 1
