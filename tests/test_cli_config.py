"""The command line on a user's own files: settings file, non-default column names, indicator-only
reports, nonresponse and response rates, PPS and allocation options."""

from __future__ import annotations

import argparse
import ast
import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from docx import Document

import survey_stats as ss
from survey_stats import cli
from survey_stats.config import CONFIG_NAME, TEMPLATE, load_config
from survey_stats.sampling import Frame, allocate, select

from test_cli import one_line_error, run  # noqa: E402 - shared CLI helpers


def chinese_registry(n: int = 200) -> pd.DataFrame:
    """A registry as a county office keeps it: Chinese headers, zero-padded ids, 是/否 flags."""
    reg = ss.datasets.simulate_registry(n=n, n_exited=n * 3 // 5, seed=2)
    return pd.DataFrame({"户号": [f"{i + 1:05d}" for i in range(n)], "县区": reg["county"], "状态": reg["status"],
                         "问题户": np.where(reg["flagged"], "是", "否"), "家庭人口": reg["members"],
                         "人均收入": reg["income_per_head"]})


def configure(folder: Path, **columns: object) -> Path:
    """`survey-stats init` output with the [columns] lines replaced."""
    path = folder / CONFIG_NAME
    text = path.read_text(encoding="utf-8")
    for key, value in columns.items():
        toml = json.dumps(value, ensure_ascii=False)
        text, k = re.subn(rf"(?m)^{key} = .*$", f"{key} = {toml}", text, count=1)
        assert k == 1, key
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    reg = chinese_registry()
    Path("登记表.csv").write_bytes(reg.to_csv(index=False).encode("gbk"))
    code, out, err = run(capsys, "init")
    assert code == 0 and CONFIG_NAME in out, err
    configure(tmp_path, id="户号", strata=["县区", "状态"], county="县区", status="状态", certainty=["问题户"])
    return {"dir": tmp_path, "reg": reg}


def responses_for(units: pd.DataFrame, id_col: str = "户号", status: str = "状态", seed: int = 1) -> pd.DataFrame:
    form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
    raw = ss.generate_responses(form, len(units), seed=seed, fixed={"household_id": units[id_col].tolist(),
                                                                    "status": units[status].tolist()})
    raw.attrs = {}
    return raw


def test_init_frame_sample_validate_analyze_report_on_a_gbk_registry_with_chinese_headers(project, capsys):
    d = project["dir"]
    code, out, err = run(capsys, "frame", "登记表.csv")
    assert code == 0 and "gb18030" in out and "Frame(N=200, strata=10" in out, err
    code, out, err = run(capsys, "sample", "登记表.csv", "--seed", "7", "--out", "s")
    assert code == 0, err
    units = ss.read_table(d / "s" / "sample_units.csv", text_columns=["户号"])
    assert units["户号"].str.fullmatch(r"\d{5}").all() and "household_id" not in units.columns
    manifest = json.loads((d / "s" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fraction"] == 0.3 and len(manifest["strata"]) == 10  # fraction from the settings file
    flagged = units[units["certainty"].astype(str) == "True"]
    assert len(flagged) == (project["reg"]["问题户"] == "是").sum()  # 是/否 flags taken with certainty

    raw = responses_for(units)
    gone = [flagged["户号"].iloc[0], *units.loc[~units["户号"].isin(flagged["户号"]), "户号"].iloc[:2]]
    raw[~raw["household_id"].isin(gone)].to_csv("hv.csv", index=False)
    assert run(capsys, "validate", "hv.csv", "--form", "home_visit")[0] == 0

    spec = "registered=s/sample_units.csv:hv.csv:home_visit"
    code, out, err = run(capsys, "analyze", "--sample", spec, "--select", "misidentification_rate", "--out", "a.json")
    assert code == 2 and not Path("a.json").exists()  # nonresponse refused by default
    assert "3 sampled unit(s)" in one_line_error(err) and "--nonresponse stratum" in err and gone[0] in err

    code, out, err = run(capsys, "analyze", "--sample", spec, "--select", "misidentification_rate", "--nonresponse",
                         "stratum", "--out", "a.json")
    assert code == 0, err
    assert "response rates (AAPOR RR1" in out
    rates = pd.DataFrame(json.loads(Path("a.json").read_text(encoding="utf-8"))["response_rates"])
    total = rates[rates["level"] == "total"].iloc[0]
    assert (total["eligible"], total["complete"]) == (len(units), len(units) - 3)
    assert total["response_rate"] == pytest.approx((len(units) - 3) / len(units))
    per_stratum = rates[rates["level"] == "stratum"]
    assert per_stratum["eligible"].sum() == len(units) and per_stratum["complete"].sum() == len(units) - 3
    assert set(rates.loc[rates["level"] == "状态", "group"]) == {"exited", "unexited"}  # per group (status)

    code, out, err = run(capsys, "report", "a.json", "--out", "r")
    assert code == 0, err
    assert "indicator-only report" in out and "总分" not in out and "grade" not in out.lower()
    assert f"registered {total['response_rate']:.1%}" in out
    assert not (d / "r" / "figures" / "score.png").exists()
    text = "\n".join(p.text for p in Document(str(d / "r" / "评估报告.docx")).paragraphs)
    assert "仅报告指标结果，不计算绩效评分" in text and "总应答率" in text
    assert f"{(len(units) - 3) / len(units) * 100:.1f}%" in text
    wb = openpyxl.load_workbook(d / "r" / "evaluation_report.xlsx")
    assert "response_rates" in wb.sheetnames and "indicator-only" in str(wb["scoring"]["A2"].value)
    html = (d / "r" / "evaluation_report.html").read_text(encoding="utf-8")
    assert "应答率 Response rates" in html and "indicator-only" in html
    plan = pd.read_excel(d / "r" / "问题清单及整改方案.xlsx", dtype=str, header=1)  # row 1 is the title
    unvisited = plan[plan["类别"] == "问题户未入户核查"]
    county = flagged.set_index("户号").loc[gone[0], "县区"]
    assert len(unvisited) == 1 and unvisited["县区"].iloc[0] == county and gone[0] in unvisited["依据"].iloc[0]
    assert unvisited["责任单位"].iloc[0] == f"{county}总工会"


def test_scoring_inputs_from_toml_are_validated_and_scored(project, capsys, tmp_path):
    from survey_stats.indicators import ScoringRules

    reg = project["reg"]
    run(capsys, "sample", "登记表.csv", "--seed", "7", "--out", "s")
    units = ss.read_table("s/sample_units.csv", text_columns=["户号"])
    responses_for(units).to_csv("hv.csv", index=False)
    assert run(capsys, "analyze", "--sample", "registered=s/sample_units.csv:hv.csv:home_visit", "--select",
               "misidentification_rate", "--out", "a.json")[0] == 0
    needs = ScoringRules.default().needs()
    Path("in.toml").write_text('[[input]]\nkey = "households_aided"\nvalue = 640\nevidence = "帮扶台账 p.3"\n'
                               '[[input]]\nkey = "households_target"\nvalue = 656\nevidence = "任务书"\n'
                               '[[input]]\nkey = "capacity.inspections"\nvalue = false\nevidence = "无督查报告"\n',
                               encoding="utf-8")
    code, out, err = run(capsys, "report", "a.json", "--out", "r", "--scoring-inputs", "in.toml", "--missing-zero")
    assert code == 0 and "indicator-only" not in out and "capacity.inspections" in needs["checklist"], err
    assert (tmp_path / "r" / "figures" / "score.png").exists() and len(reg)
    wb = openpyxl.load_workbook(tmp_path / "r" / "evaluation_report.xlsx")
    detail = " ".join(str(c.value) for row in wb["scoring"].iter_rows() for c in row)
    assert "households_aided/households_target = 0.9756" in detail and "inspections: 无督查报告" in detail
    row = {"key": "households_aided", "value": 640, "evidence": "台账"}
    for rows, message in (([{**row, "value": "640"}], "households_aided = '640': must be a number"),
                          ([{**row, "key": "capacity.inspections", "value": 1}],
                           "capacity.inspections = 1: a checklist answer must be"),
                          ([{**row, "key": "inspections"}], "unknown scoring input 'inspections' (input 1); did you "
                                                            "mean 'capacity.inspections'?"),
                          ([{**row, "value": -1}], "must be a number ≥ 0"),
                          ([{**row, "evidence": " "}], "households_aided: give its evidence"),
                          ([{**row, "source": "x"}], "unknown field(s) 'source'"),
                          ({"households_aided": 640}, "must be a JSON list of")):
        Path("bad.json").write_text(json.dumps(rows), encoding="utf-8")
        code, out, err = run(capsys, "report", "a.json", "--out", "r2", "--scoring-inputs", "bad.json")
        assert code == 2 and message in one_line_error(err), err


def test_pps_through_the_cli_has_weights_one_over_pi_as_the_library(project, capsys):
    reg = project["reg"]
    code, out, err = run(capsys, "sample", "登记表.csv", "--method", "pps", "--out", "s")
    assert code == 2 and "--method pps needs --size COL" in one_line_error(err)
    code, out, err = run(capsys, "sample", "登记表.csv", "--method", "pps", "--size", "家庭人口", "--strata", "县区",
                         "--certainty", "--n", "8", "--seed", "3", "--out", "s")
    assert code == 0, err
    units = ss.read_table("s/sample_units.csv", text_columns=["户号"]).set_index("户号")
    lib = select(Frame(reg, id="户号", strata="县区", size="家庭人口"), n=8, method="pps", seed=3)
    assert sorted(units.index) == sorted(lib.ids())
    assert np.allclose(units.loc[lib.ids(), "pi"], lib.units["pi"]) and units["pi"].nunique() > 5
    assert np.allclose(units.loc[lib.ids(), "weight"], 1 / lib.units["pi"])
    raw = responses_for(lib.units)
    raw.to_csv("hv.csv", index=False)
    a = argparse.Namespace(id="户号", response_id="household_id", unmatched="fail", nonresponse="fail", lonely_psu="fail",
                           status="状态",
                           county="县区")
    design, counts, rates = cli._design_from_files("s/sample_units.csv", "hv.csv", "home_visit", a)
    coded = ss.code_responses(ss.read_export("hv.csv", ss.load_questionnaire(ss.questionnaire_path("home_visit"))),
                              ss.load_questionnaire(ss.questionnaire_path("home_visit")))
    ref = lib.design(coded.assign(户号=coded["household_id"]).drop(columns="household_id"))
    mine = pd.Series(design.weights, index=design.data["household_id"]).sort_index()
    theirs = pd.Series(ref.weights, index=ref.data["户号"]).sort_index()
    assert np.allclose(mine.to_numpy(), theirs.to_numpy()) and np.allclose(mine.to_numpy(), 1 / lib.units.set_index(
        "户号").loc[mine.index, "pi"].to_numpy())
    assert rates["response_rate"].eq(1.0).all() and counts["sampled"] == len(lib)


def _manifest_n(folder: str) -> dict[str, int]:
    m = json.loads(Path(folder, "manifest.json").read_text(encoding="utf-8"))
    return {s["stratum"]: s["n_h"] for s in m["strata"]}


def test_allocation_options_match_the_library(project, capsys):
    reg = project["reg"]
    frame = Frame(reg, id="户号", strata=["县区", "状态"], certainty="问题户")
    cert = frame.summary().set_index("stratum")["certainty"]
    code, out, err = run(capsys, "sample", "登记表.csv", "--allocation", "proportional", "--n", "80", "--seed", "1",
                         "--out", "p")
    assert code == 0 and "proportional allocation of n = 80 (random units; certainty units on top)" in out, err
    free = frame.stratum_sizes() - cert  # flagged files are visited in addition to the allocated random part
    assert _manifest_n("p") == (allocate(80, free, minimum=2).n_h + cert).to_dict()
    assert sum(_manifest_n("p").values()) == 80 + cert.sum()
    code, out, err = run(capsys, "sample", "登记表.csv", "--allocation", "proportional", "--n", "80", "--flagged",
                         "within", "--seed", "1", "--out", "pw")
    assert code == 0, err
    assert _manifest_n("pw") == allocate(80, frame.stratum_sizes(), minimum=2, certainty=cert).n_h.to_dict()
    assert sum(_manifest_n("pw").values()) == 80

    code, out, err = run(capsys, "sample", "登记表.csv", "--allocation", "neyman", "--n", "80", "--sd-column", "人均收入",
                         "--flagged", "within", "--seed", "1", "--out", "ny")
    assert code == 0, err
    sd = frame.data.groupby("stratum")["人均收入"].std()
    expected = allocate(80, frame.stratum_sizes(), method="neyman", S_h=sd, minimum=2, certainty=cert).n_h.to_dict()
    assert _manifest_n("ny") == expected and expected != _manifest_n("pw")

    labels = frame.stratum_sizes().index
    pd.DataFrame({"stratum": labels, "sd": np.linspace(100, 300, len(labels)),
                  "cost": [1.0, 4.0] * (len(labels) // 2)}).to_csv("strata.csv", index=False)
    code, out, err = run(capsys, "sample", "登记表.csv", "--allocation", "optimal", "--n", "80", "--strata-file",
                         "strata.csv", "--seed", "1", "--out", "op")
    assert code == 0, err
    t = pd.read_csv("strata.csv").set_index("stratum")
    random_part = allocate(80, free, method="optimal", S_h=t["sd"], cost_h=t["cost"], minimum=2).n_h
    assert _manifest_n("op") == (random_part + cert).to_dict()

    pd.DataFrame({"stratum": labels, "sd": 1.0}).to_csv("nocost.csv", index=False)
    for argv, message in ((["--allocation", "neyman", "--n", "80"], "needs the variability per stratum: --sd-column"),
                          (["--allocation", "optimal", "--n", "80", "--strata-file", "nocost.csv"],
                           "a 'cost' column in --strata-file"),
                          (["--allocation", "proportional", "--fraction", "0.3"], "give --n TOTAL"),
                          (["--allocation", "neyman", "--n", "80", "--sd-column", "县区"], "are not numbers"),
                          (["--allocation", "neyman", "--n", "80", "--sd-column", "nope"], "--sd-column 'nope'")):
        code, out, err = run(capsys, "sample", "登记表.csv", *argv, "--seed", "1", "--out", "x")
        assert code == 2 and message in one_line_error(err), err


def test_options_override_the_settings_file_and_config_option(project, capsys):
    code, out, err = run(capsys, "frame", "登记表.csv")
    assert "strata=10" in out, err
    code, out, err = run(capsys, "frame", "登记表.csv", "--strata", "县区")  # the option wins
    assert code == 0 and "strata=5" in out, err
    Path("other").mkdir()
    Path("other", CONFIG_NAME).write_text('[columns]\nid = "户号"\nstrata = ["状态"]\n', encoding="utf-8")
    code, out, err = run(capsys, "frame", "登记表.csv", "--config", "other/" + CONFIG_NAME)
    assert code == 0 and "strata=2" in out, err
    code, out, err = run(capsys, "frame", "登记表.csv", "--id", "户号x")
    assert code == 2 and "no column '户号x'" in err and "(the id column: --id or columns.id in survey-stats.toml)" in one_line_error(err)
    # --n on the command line replaces the file's fraction
    code, out, err = run(capsys, "sample", "登记表.csv", "--n", "3", "--seed", "1", "--out", "s")
    assert code == 0 and set(_manifest_n("s").values()) >= {3}, err


def test_no_hard_coded_data_columns_in_the_cli():
    """Registry/response columns come from options or the settings file, never from literals in cli.py."""
    tree = ast.parse(Path(cli.__file__).read_text(encoding="utf-8"))
    names = {"household_id", "county", "status", "户号", "县区"}
    indexed = [n.slice.value for n in ast.walk(tree)
               if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and n.slice.value in names]
    literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in {"household_id", "户号"}]
    assert not indexed and not literals, (indexed, literals)


@pytest.mark.parametrize("text, message", [
    ('[columns]\nidd = "户号"\n', "unknown key 'columns.idd' (known: id, strata"),
    ('[colums]\nid = "户号"\n', "unknown section [colums]"),
    ('[columns]\nstrata = "县区"\n', "columns.strata = '县区': must be list of text"),
    ('[sample]\nmethod = "cluster"\n', "sample.method = 'cluster': use one of 'srs'"),
    ('[sample]\nseed = true\n', "sample.seed = True: must be whole number"),
    ('[columns\nid = 1\n', "not valid TOML"),
])
def test_bad_settings_file_is_one_line_exit_2(tmp_path, monkeypatch, capsys, text, message):
    monkeypatch.chdir(tmp_path)
    Path(CONFIG_NAME).write_text(text, encoding="utf-8")
    Path("r.csv").write_text("户号\n1\n", encoding="utf-8")
    code, out, err = run(capsys, "frame", "r.csv")
    assert code == 2 and message in one_line_error(err) and CONFIG_NAME in err


def test_init_writes_every_setting_and_refuses_to_overwrite(tmp_path, capsys):
    code, out, err = run(capsys, "init", tmp_path / "proj")
    assert code == 0, err
    cfg = load_config(tmp_path / "proj" / CONFIG_NAME)
    assert cfg["analyze"]["nonresponse"] == "fail" and cfg["columns"]["id"] == "household_id"
    for section, keys in cfg.items():
        for key in keys:
            assert re.search(rf"(?m)^#? ?{key} = ", TEMPLATE), f"{section}.{key} not described"
    code, out, err = run(capsys, "init", tmp_path / "proj")
    assert code == 2 and "exists already" in one_line_error(err)
    assert run(capsys, "init", tmp_path / "proj", "--force")[0] == 0


def test_every_option_has_help():
    parser = cli.build_parser()
    missing = []

    def walk(p: argparse.ArgumentParser, where: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{where} {name}")
            if action.help == argparse.SUPPRESS and action.dest == "debug" and where != "survey-stats":
                continue  # the top-level --debug is documented; repeated after the command name
            if not (action.help or "").strip():
                missing.append(f"{where} {'/'.join(action.option_strings) or action.dest}")

    walk(parser, "survey-stats")
    assert not missing, missing


def test_the_scoring_inputs_example_in_the_docs_is_accepted(tmp_path):
    page = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", page, re.S).group(1)
    (tmp_path / "inputs.toml").write_text(block, encoding="utf-8")
    inputs = cli._load_scoring_inputs(str(tmp_path / "inputs.toml")).set_index("key")["value"]
    assert inputs["capacity.inspections"] is False and inputs["households_target"] == 656


def test_library_errors_name_the_command_options(project, capsys):
    reg = project["reg"].copy()
    reg.loc[1, "户号"] = reg.loc[0, "户号"]
    reg.to_csv("dup.csv", index=False)
    for command in ("frame", "sample"):
        code, out, err = run(capsys, command, "dup.csv", "--seed", "1", "--out", "o") if command == "sample" else \
            run(capsys, command, "dup.csv")
        assert code == 2 and "pass --exclude-invalid" in one_line_error(err) and "on_invalid" not in err
    code, out, err = run(capsys, "sample", "dup.csv", "--exclude-invalid", "--seed", "1", "--out", "o")
    assert code == 0 and "2 unit(s) excluded" in out, err
    units = ss.read_table("o/sample_units.csv", text_columns=["户号"])
    responses_for(units).to_csv("hv.csv", index=False)
    assert run(capsys, "analyze", "--sample", "registered=o/sample_units.csv:hv.csv:home_visit", "--select",
               "misidentification_rate", "--out", "a.json")[0] == 0
    Path("in.json").write_text('[{"key": "households_aided", "value": 640, "evidence": "台账"}]', encoding="utf-8")
    code, out, err = run(capsys, "report", "a.json", "--out", "r", "--scoring-inputs", "in.json")
    assert code == 2 and "pass --missing-zero" in one_line_error(err) and "missing='zero'" not in err


@pytest.mark.parametrize("message, expected", [
    ("no design given for sample(s) 'x', needed by 'y'; pass them in samples=, or drop those indicators with "
     "system.select([...]).", "add --sample NAME=units.csv:responses.csv:form for each, or keep only other "
                              "indicators with --select ID ..."),
    ("administrative indicator 'info_check_rate' needs its counts: administrative={'info_check_rate': "
     "(numerator, denominator)}.", "needs its counts: --admin info_check_rate=numerator/denominator."),
])
def test_api_words_become_options(message, expected):
    assert expected in cli._cli_words(message)


def test_analyze_without_a_needed_sample_names_the_options(project, capsys):
    run(capsys, "sample", "登记表.csv", "--seed", "7", "--out", "s")
    units = ss.read_table("s/sample_units.csv", text_columns=["户号"])
    responses_for(units).to_csv("hv.csv", index=False)
    spec = "registered=s/sample_units.csv:hv.csv:home_visit"
    code, out, err = run(capsys, "analyze", "--sample", spec, "--select", "missed_exit_rate", "--out", "a.json")
    assert code == 2 and "add --sample NAME=" in one_line_error(err) and "samples=" not in err
    code, out, err = run(capsys, "analyze", "--sample", spec, "--out", "a.json")  # what can be estimated, the rest named
    assert code == 0 and "not estimated (" in out and "missed_exit_rate (needs sample phone)" in out, err
