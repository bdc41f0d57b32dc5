"""Questionnaires: XLSForm conversion, loading, validation with planted errors, coding, round trip."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from survey_stats.questionnaires import ERROR_KINDS, FORMS

ROOT = Path(__file__).resolve().parents[1]
ANALYSABLE = [f for f in FORMS if f != "cadre_interview"]


def form(name):
    return ss.load_questionnaire(ss.questionnaire_path(name))


def sheet_values(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb}


@pytest.mark.parametrize("name", list(FORMS))
def test_every_form_converts_with_pyxform_without_warnings(name, tmp_path):
    from pyxform.xls2xform import convert

    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = convert(xlsform=str(ROOT / "questionnaires" / f"{name}.xlsx"), validate=False, warnings=found)
    assert found == [] and [str(w.message) for w in caught] == []
    assert "<h:html" in result.xform and "Chinese (zh)" in result.xform and "English (en)" in result.xform


@pytest.mark.parametrize("name", list(FORMS))
def test_shipped_copy_and_build_script_agree_with_repository_forms(name):
    assert sheet_values(ROOT / "questionnaires" / f"{name}.xlsx") == sheet_values(ss.questionnaire_path(name))


def test_forms_carry_indicator_mapping_and_constraints():
    hv = form("home_visit")
    m = hv.indicator_map().set_index("question")
    assert m.loc["registration_right", "indicator"] == "misidentified" and m.loc["registration_right", "coding"] == "no"
    assert m.loc["sat_overall", "coding"] == "top2" and m.loc["channels", "coding"] == "multi"
    assert hv["income_per_head"].constraint == ". >= 0" and hv["exit_right"].relevant == "${status} = 'exited'"
    assert hv.codes("sat_overall", missing=True) == ["dk"]
    phone = form("phone_unexited")
    assert "regex" in phone["callback_phone"].constraint
    assert set(phone.languages) == {"Chinese (zh)", "English (en)"}
    assert {"missed_exit", "paired_helper", "satisfied", "aware", "channels"} <= set(phone.indicator_map()["indicator"])
    assert form("cadre_interview")["problems"].type == "text"


@pytest.mark.parametrize("name", ANALYSABLE)
@pytest.mark.parametrize("seed", [0, 1])
def test_valid_generated_data_passes(name, seed):
    f = form(name)
    raw = ss.generate_responses(f, 120, seed=seed, one_hot=bool(seed))
    report = ss.validate(ss.read_export(raw, f), f)
    assert report.ok, str(report)


@pytest.mark.parametrize("name", ANALYSABLE)
def test_each_planted_error_is_reported_once_at_its_place(name):
    f = form(name)
    raw = ss.generate_responses(f, 60, seed=5, errors=list(ERROR_KINDS))
    injected = raw.attrs["injected"]
    report = ss.validate(ss.read_export(raw, f), f)
    p = report.problems
    assert len(p) == len(injected) == len(ERROR_KINDS)
    for _, e in injected.iterrows():
        hit = p[(p["row"] == e["row"]) & (p["column"] == e["column"]) & p["problem"].str.startswith(e["problem"])]
        assert len(hit) == 1, (e.to_dict(), p)


@pytest.mark.parametrize("prefix", ["/", "-", None])
def test_group_prefix_styles_read_the_same(prefix):
    f = form("phone_unexited")
    base = ss.read_export(ss.generate_responses(f, 30, seed=3, group_prefix="/"), f)
    other = ss.read_export(ss.generate_responses(f, 30, seed=3, group_prefix=prefix), f)
    pd.testing.assert_frame_equal(base[f.names()], other[f.names()])


def test_strict_mode_and_masked_values():
    f = form("phone_unexited")
    raw = ss.read_export(ss.generate_responses(f, 20, seed=1), f)
    raw.loc[3, "callback_phone"] = "13912345"  # too short
    with pytest.raises(ss.QuestionnaireError, match="violates constraint"):
        ss.validate(raw, f, strict=True)
    rep = ss.validate(raw, f)
    assert rep.problems.iloc[0]["value"] == "*" * 8  # phone numbers never shown in full


def test_unknown_columns_are_reported_not_dropped():
    f = form("deregistered")
    raw = ss.read_export(ss.generate_responses(f, 10, seed=1), f)
    raw["extra_note"] = "x"
    rep = ss.validate(raw, f)
    assert rep.problems["problem"].tolist() == ["column not in the questionnaire"]


def test_coding_declared_missing_codes_are_nan():
    f = form("home_visit")
    raw = pd.DataFrame({"household_id": ["H1", "H2", "H3", "H4"], "status": ["exited", "unexited", "exited", "exited"],
                        "sat_overall": ["4", "2", "dk", None], "exit_right": ["no", None, "yes", "dk"],
                        "aware": ["well", "none", "some", "well"]})
    c = ss.code_responses(raw, f)
    assert c["satisfied"].tolist()[:2] == [1.0, 0.0] and c["satisfied"].isna().tolist() == [False, False, True, True]
    assert c["wrong_exit"].tolist()[0] == 1.0 and c["wrong_exit"].tolist()[2] == 0.0 and math.isnan(c["wrong_exit"][3])
    assert c["aware"].tolist() == [1.0, 0.0, 1.0, 1.0]


def test_round_trip_csv_and_xlsx_to_estimates(tmp_path):
    """generate → export like Kobo (CSV and XLSX) → read → validate → code → design → estimates."""
    f = form("phone_unexited")
    probs = {"sat_overall": {"5": 0.3, "4": 0.5, "3": 0.15, "dk": 0.05}, "consent": {"yes": 1.0}}
    raw = ss.generate_responses(f, 180, seed=8, answers=probs, one_hot=True)
    raw.to_csv(tmp_path / "kobo.csv", index=False, encoding="utf-8-sig")
    raw.to_excel(tmp_path / "kobo.xlsx", index=False)
    frames = [ss.read_export(tmp_path / "kobo.csv", f), ss.read_export(tmp_path / "kobo.xlsx", f)]
    coded = []
    for fr in frames:
        assert ss.validate(fr, f).ok
        coded.append(ss.code_responses(fr, f))
    pd.testing.assert_series_equal(coded[0]["satisfied"], coded[1]["satisfied"])
    data = coded[0].assign(N=256)
    d = ss.Design(data, fpc="N")
    e = ss.proportion(d, "satisfied", na="drop")
    answered = data["satisfied"].dropna()
    assert e.n == len(answered) and e.n_missing == data["satisfied"].isna().sum()
    assert_allclose(e.estimate, answered.mean(), rtol=1e-12)
    # the same through where= on the respondents who answered (domain estimation, same SE)
    w = ss.proportion(d.__class__(data.assign(satisfied=data["satisfied"].fillna(0)), fpc="N"), "satisfied",
                      where=data["satisfied"].notna().to_numpy())
    assert_allclose([e.estimate, e.se], [w.estimate, w.se], rtol=1e-12)
    reach = ss.channel_reach(d, "channels")
    direct = data["channels"].dropna().str.split().explode().value_counts() / data["channels"].notna().sum()
    top = reach.rows[0]
    assert_allclose(top.estimate, direct.iloc[0], rtol=1e-12)
    dims = ss.questionnaires.satisfaction_dimensions(d)
    assert [r.variable for r in dims] == ["satisfaction_method", "satisfaction_result", "satisfaction_publicity", "satisfied"]


def test_cronbach_alpha_matches_formula():
    rng = np.random.default_rng(2)
    base = rng.integers(2, 6, 300)
    df = pd.DataFrame({f"i{k}": np.clip(base + rng.integers(-1, 2, 300), 1, 5).astype(str) for k in range(4)})
    df.loc[5, "i2"] = "dk"
    res = ss.questionnaires.cronbach_alpha(df, ["i0", "i1", "i2", "i3"])
    x = df.drop(index=5).astype(float)
    k = 4
    alpha = k / (k - 1) * (1 - x.var(ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    assert_allclose(res["alpha"], alpha, rtol=1e-10)
    assert res["n_excluded"] == 1 and res["ci_low"] < res["alpha"] < res["ci_high"]


@pytest.mark.parametrize(
    "mutate, pattern",
    [
        (lambda wb: wb.remove(wb["choices"]), "pyxform rejects the form: There should be a choices sheet"),
        (lambda wb: wb["survey"].cell(2, 1, "select_one nolist"), r"\[row : 2\] List name not in choices sheet: nolist"),
        (lambda wb: wb["survey"].cell(3, 2, "household_id"), r"pyxform rejects the form: .*'household_id'"),
        (lambda wb: wb["survey"].cell(5, 15, "top3"), "unknown coding 'top3'"),
    ],
)
def test_bad_forms_are_rejected(mutate, pattern, tmp_path):
    wb = openpyxl.load_workbook(ss.questionnaire_path("deregistered"))
    mutate(wb)
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(ss.QuestionnaireError, match=pattern):
        ss.load_questionnaire(tmp_path / "bad.xlsx")
