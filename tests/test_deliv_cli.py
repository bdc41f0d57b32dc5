"""The CLI builds designs with the library (Sample.from_units → Sample.design): PPS estimates equal the
API's, the lonely-PSU option, and Sample.from_units itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey_stats as ss
from survey_stats import cli
from survey_stats.sampling import Frame, Sample, select

from test_cli import one_line_error, run  # noqa: E402 - shared CLI helpers
from test_cli_config import chinese_registry, configure, responses_for  # noqa: E402


@pytest.fixture
def project(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    reg = chinese_registry()
    Path("登记表.csv").write_bytes(reg.to_csv(index=False).encode("gbk"))
    assert run(capsys, "init")[0] == 0
    configure(tmp_path, id="户号", strata=["县区"], county="县区", status="状态", certainty=[])
    return reg


def _api_estimates(lib: Sample, raw: pd.DataFrame, **design) -> pd.DataFrame:
    form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
    coded = ss.code_responses(ss.read_export("hv.csv", form), form)
    d = lib.design(coded.rename(columns={"household_id": "户号"}), **design)
    t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["misidentification_rate", "method_match_rate", "beneficiary_satisfaction"]),
                               {"registered": d}, na="drop")
    return t.to_frame().set_index("id")


@pytest.mark.parametrize("drop", [0, 3])
def test_pps_sample_through_the_cli_gives_the_api_estimates(project, capsys, drop):
    code, out, err = run(capsys, "sample", "登记表.csv", "--method", "pps", "--size", "家庭人口", "--n", "10",
                         "--seed", "3", "--out", "s")
    assert code == 0, err
    lib = select(Frame(project, id="户号", strata="县区", size="家庭人口"), n=10, method="pps", seed=3)
    units = ss.read_table("s/sample_units.csv", text_columns=["户号"])
    raw = responses_for(units)
    raw = raw[~raw["household_id"].isin(units["户号"].iloc[:drop])]  # nonresponse in the first stratum
    raw.to_csv("hv.csv", index=False)
    args = ["analyze", "--sample", "registered=s/sample_units.csv:hv.csv:home_visit", "--select",
            "misidentification_rate", "method_match_rate", "beneficiary_satisfaction", "--out", "a.json"]
    if drop:
        args += ["--nonresponse", "stratum"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    got = pd.DataFrame(json.loads(Path("a.json").read_text(encoding="utf-8"))["indicators"]).set_index("id")
    want = _api_estimates(lib, raw, nonresponse="stratum" if drop else "fail")
    for col in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(got.loc[want.index, col].astype(float), want[col], rtol=1e-12)
    if drop:  # weighting class: the respondents of a stratum carry its drawn units' Σ 1/π
        free = lib.units[~lib.units["certainty"]]
        h = free["stratum"].iloc[0]
        d = lib.design(ss.code_responses(ss.read_export("hv.csv", ss.load_questionnaire(
            ss.questionnaire_path("home_visit"))), ss.load_questionnaire(ss.questionnaire_path("home_visit")))
            .rename(columns={"household_id": "户号"}), nonresponse="stratum")
        mine = d.data["stratum"] == h
        assert d.weights[mine.to_numpy()].sum() == pytest.approx(free.loc[free["stratum"] == h, "weight"].sum())


def test_lonely_psu_option_and_its_error(project, capsys):
    code, out, err = run(capsys, "sample", "登记表.csv", "--n", "2", "--seed", "4", "--out", "s")
    assert code == 0, err
    units = ss.read_table("s/sample_units.csv", text_columns=["户号"])
    first = units.groupby("stratum")["户号"].first()
    responses_for(units)[lambda r: r["household_id"] != first.iloc[0]].to_csv("hv.csv", index=False)
    base = ["analyze", "--sample", "registered=s/sample_units.csv:hv.csv:home_visit", "--select",
            "misidentification_rate", "--nonresponse", "stratum", "--out", "a.json"]
    code, out, err = run(capsys, *base)
    assert code == 2 and "--lonely-psu adjust|average|certainty|remove" in one_line_error(err)
    assert repr(first.index[0]) in err or str(first.index[0]) in err
    for policy in ("adjust", "average", "certainty", "remove"):
        code, out, err = run(capsys, *base, "--lonely-psu", policy)
        assert code == 0, err
        assert json.loads(Path("a.json").read_text(encoding="utf-8"))["lonely_psu"] == policy
    Path("survey-stats.toml").write_text(Path("survey-stats.toml").read_text(encoding="utf-8").replace(
        'lonely_psu = "fail"', 'lonely_psu = "average"'), encoding="utf-8")
    code, out, err = run(capsys, *base)
    assert code == 0 and json.loads(Path("a.json").read_text(encoding="utf-8"))["lonely_psu"] == "average", err


def test_analyze_help_lists_lonely_psu(capsys):
    with pytest.raises(SystemExit):
        cli.main(["analyze", "--help"])
    assert "--lonely-psu {fail,adjust,average,certainty,remove}" in capsys.readouterr().out


def test_from_units_rebuilds_the_sample_design():
    reg = chinese_registry()
    frame = Frame(reg, id="户号", strata="县区", certainty="问题户")
    s = select(frame, fraction=0.3, seed=2)
    cols = ["户号", "stratum", "certainty", "pi"]
    back = Sample.from_units(s.units[cols], id="户号")
    with_manifest = Sample.from_units(s.units[cols], id="户号", manifest=s.manifest)
    assert back.method == with_manifest.method == "srs"
    pd.testing.assert_series_equal(back.summary()["N"], s.summary()["N"], check_names=False)
    resp = s.units[["户号"]].assign(y=np.arange(len(s)) % 3 == 0)
    for other in (back, with_manifest):
        a, b = s.design(resp), other.design(resp)
        assert ss.mean(a, "y").estimate == pytest.approx(ss.mean(b, "y").estimate, rel=1e-14)
        assert ss.mean(a, "y").se == pytest.approx(ss.mean(b, "y").se, rel=1e-12)
    pps = select(Frame(reg, id="户号", strata="县区", size="家庭人口"), n=6, method="pps", seed=1)
    assert Sample.from_units(pps.units[cols], id="户号").method == "pps"
    with pytest.raises(ss.errors.DataError, match="pi"):
        Sample.from_units(s.units[["户号", "stratum", "certainty"]], id="户号")
    with pytest.raises(ss.errors.DataError, match="inclusion probability"):
        Sample.from_units(s.units[cols].assign(pi=0.0), id="户号")


def _docx_text(path) -> str:
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_cli_report_has_rates_by_stratum_manifest_hash_and_extra_sample(project, capsys):
    import hashlib

    from docx import Document

    from survey_stats.indicators.checks import additional_sample

    configure(Path.cwd(), strata=["县区", "状态"])
    assert run(capsys, "sample", "登记表.csv", "--seed", "7", "--out", "s")[0] == 0
    units = ss.read_table("s/sample_units.csv", text_columns=["户号"])
    raw = responses_for(units)
    raw[raw["household_id"] != units["户号"].iloc[0]].to_csv("hv.csv", index=False)
    code, out, err = run(capsys, "analyze", "--sample", "registered=s/sample_units.csv:hv.csv:home_visit", "--select",
                         "misidentification_rate", "method_match_rate", "--nonresponse", "stratum", "--out", "a.json")
    assert code == 0, err
    code, out, err = run(capsys, "report", "a.json", "--out", "r")
    assert code == 0, err
    doc = Document("r/评估报告.docx")
    text = _docx_text("r/评估报告.docx")
    digest = hashlib.sha256(Path("s/manifest.json").read_bytes()).hexdigest()
    shown = [line for line in text.splitlines() if line.startswith("清单文件 SHA-256")]
    assert shown == [f"清单文件 SHA-256：{digest}"], (shown, json.loads(Path("a.json").read_text(encoding="utf-8"))
                                                     ["fieldwork"]["registered"]["manifest"]["sha256"])
    manifest = json.loads(Path("s/manifest.json").read_text(encoding="utf-8"))
    assert f"(SHA-256)：{manifest['frame_fingerprint']}" in text
    rates = pd.DataFrame(json.loads(Path("a.json").read_text(encoding="utf-8"))["response_rates"])
    rr = next(t for t in doc.tables if t.rows[0].cells[1].text == "层级")
    body = [[c.text for c in row.cells] for row in rr.rows[1:]]
    assert len(body) == len(rates)
    strata = [r for r in body if r[1] == "层"]
    assert sorted(r[2] for r in strata) == sorted(rates.loc[rates["level"] == "stratum", "group"])
    assert {r[2] for r in body if r[1] == "分组（状态）"} == {"exited", "unexited"}
    for row, want in zip(body, rates.itertuples()):
        assert row[3:7] == [str(want.eligible), str(want.complete), str(want.nonrespondents),
                            f"{want.response_rate * 100:.1f}%"]
    table = cli._table_from_json("a.json")
    need = additional_sample(table).set_index("id")
    ind = next(t for t in doc.tables if t.rows[0].cells[0].text == "指标")
    assert ind.rows[0].cells[-1].text == "判定所需追加样本"
    for row, r in zip(ind.rows[1:], table):
        cell = row.cells[-1].text
        if r.verdict != "inconclusive":
            assert cell == "—"
        elif pd.isna(need.at[r.id, "additional"]):
            assert cell == "抽样无法判定"
        else:
            assert cell.startswith(f"+{int(need.at[r.id, 'additional'])}户（共{int(need.at[r.id, 'n_needed'])}")
