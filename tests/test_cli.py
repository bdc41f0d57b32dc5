"""The command line at its edges: encodings, ids as text, personal data, formulas, one-line typed errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import survey_stats as ss
from survey_stats import cli
from survey_stats.indicators import ScoringRules, score
from survey_stats.report import write_excel, write_html

from test_privacy_outputs import (  # noqa: E402 - shared planting helpers
    assert_csv_neutralised,
    assert_no_formulas,
    assert_no_pii,
    make_id,
    make_phone,
    output_text,
)


def registry(n: int = 200) -> pd.DataFrame:
    """The simulator's registry with zero-padded ids, PII under unusual names and planted formulas."""
    reg = ss.datasets.simulate_registry(n=n, n_exited=n * 3 // 5, seed=2)
    reg["household_id"] = [f"{i + 1:05d}" for i in range(n)]
    reg = reg.rename(columns={"id_card": "col7", "phone": "lxdh", "name": "hzxm", "address": "jtzz"})
    reg["联系号码"] = [make_phone(i + 500) for i in range(n)]
    reg["zjhm"] = [make_id(i + 500) for i in range(n)]
    reg["备注"] = [f"=HYPERLINK(\"http://x\",\"{make_phone(i + 900)}\")" if i % 3 == 0 else "@SUM(A1)"
                 for i in range(n)]
    return reg


def planted(reg: pd.DataFrame) -> list[str]:
    return [*reg["col7"], *reg["lxdh"], *reg["联系号码"], *reg["zjhm"], *(make_phone(i + 900) for i in range(len(reg)))]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("error: "), err
    return err


@pytest.fixture
def flow(tmp_path, capsys):
    """GBK registry → sample → responses for exactly the sampled ids."""
    reg = registry()
    path = tmp_path / "registry.csv"
    path.write_bytes(reg.to_csv(index=False).encode("gbk"))
    code, out, err = run(capsys, "sample", path, "--id", "household_id", "--strata", "county", "status",
                         "--certainty", "flagged", "--fraction", "0.3", "--seed", "5", "--reserve", "0.2",
                         "--out", tmp_path / "s", "--field-list-by", "county",
                         "--field-columns", "household_id", "hzxm", "lxdh", "col7", "备注", "status")
    assert code == 0, err
    units = ss.read_table(tmp_path / "s" / "sample_units.csv", text_columns=["household_id"])
    form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
    raw = ss.generate_responses(form, len(units), seed=1, fixed={"household_id": units["household_id"].tolist(),
                                                                 "status": units["status"].tolist()})
    raw.to_csv(tmp_path / "hv.csv", index=False)
    return {"reg": reg, "dir": tmp_path, "sample_out": out, "units": units, "raw": raw}


def test_sample_reads_gbk_keeps_zeros_masks_personal_data_and_formulas(flow):
    out, d, reg = flow["sample_out"], flow["dir"], flow["reg"]
    assert f"read {d / 'registry.csv'}: 200 rows, gb18030" in out
    assert "(no personal data)" not in out
    assert re.search(r"sample_units.csv personal data: dropped column\(s\) 'hzxm', 'lxdh', 'jtzz', '联系号码', "
                     r"'zjhm'; masked \d+ value\(s\): \d+ id_card in 'col7', \d+ mobile in '备注'", out), out
    assert re.search(r"field_list.xlsx personal data: masked \d+ value\(s\)", out)
    units = flow["units"]
    assert units["household_id"].str.fullmatch(r"\d{5}").all()  # 00001 kept its zeros
    assert not {"lxdh", "hzxm", "jtzz", "联系号码", "zjhm"} & set(units.columns)
    assert units["col7"].str.fullmatch(r"34\d\d\*{12}\w\w").all()  # ID numbers under a meaningless name: masked
    for name in ("sample_units.csv", "reserve.csv", "manifest.json", "field_list.xlsx"):
        assert_no_pii(output_text(d / "s" / name), planted(reg), name)
    assert_no_pii(out, planted(reg), "stdout")
    assert_csv_neutralised(d / "s" / "sample_units.csv")
    assert_no_formulas(d / "s" / "field_list.xlsx", expect_text=("=HYPERLINK", "@SUM(A1)"))


def test_zero_padded_ids_through_validate_analyze_and_report(flow, capsys):
    d = flow["dir"]
    code, out, err = run(capsys, "validate", d / "hv.csv", "--form", "home_visit", "--out", d / "v.xlsx")
    assert code == 0 and "utf-8" in out, err
    spec = f"registered={d / 's' / 'sample_units.csv'}:{d / 'hv.csv'}:home_visit"
    code, out, err = run(capsys, "analyze", "--sample", spec, "--select", "misidentification_rate", "--out", d / "a.json")
    assert code == 0, err
    assert f"{len(flow['units'])} responses, 0 set aside after validation, 0 set aside as not in the units file" in out
    data = json.loads((d / "a.json").read_text(encoding="utf-8"))
    assert "0 set aside as not in the units file" in data["samples"]["registered"]  # every response matched
    code, out, err = run(capsys, "report", d / "a.json", "--out", d / "r", "--missing-zero")
    assert code == 0, err
    for name in ("evaluation_report.xlsx", "evaluation_report.html"):
        assert_no_pii(output_text(d / "r" / name), planted(flow["reg"]), name)
    assert_no_formulas(d / "r" / "evaluation_report.xlsx")


def test_report_writers_with_planted_validation_rows(flow, capsys, tmp_path):
    d = flow["dir"]
    spec = f"registered={d / 's' / 'sample_units.csv'}:{d / 'hv.csv'}:home_visit"
    assert run(capsys, "analyze", "--sample", spec, "--select", "misidentification_rate", "--out", d / "a.json")[0] == 0
    table = cli._table_from_json(str(d / "a.json"))
    result = score(ScoringRules.default(), {}, table, seed=1, missing="zero")  # evidence not needed here
    validation = pd.DataFrame({"row": [1, 2], "column": ["备注", "=cmd"], "problem": ["=HYPERLINK(\"http://x\")", "-1+1"],
                               "value": [make_id(3), f"call {make_phone(4)}"]})
    x = write_excel(tmp_path / "w.xlsx", table, result, meta={"title": "@SUM(A1)"}, validation=validation,
                    manifests={"s": {"strata": [{"stratum": "=A1", "N_h": 1}], "method": "+srs", "seed": 1,
                                     "frame_fingerprint": "-x"}})
    h = write_html(tmp_path / "w.html", table, result, meta={"title": "t"}, validation=validation)
    assert_no_formulas(x, expect_text=("=HYPERLINK", "-1+1", "@SUM(A1)", "=A1"))
    for p in (x, h):
        assert_no_pii(output_text(p), [make_id(3), make_phone(4)], p.name)


def test_responses_not_in_the_units_file_are_counted_never_dropped_silently(flow, capsys):
    d = flow["dir"]
    raw = flow["raw"].copy()
    raw.attrs = {}  # the generator keeps its planted errors there; concat would compare them
    extra = raw.iloc[:2].copy()
    extra["household_id"] = [make_id(7), "99999"]
    extra["_uuid"] = ["extra-1", "extra-2"]
    pd.concat([raw, extra]).to_csv(d / "hv2.csv", index=False)
    spec = f"registered={d / 's' / 'sample_units.csv'}:{d / 'hv2.csv'}:home_visit"
    code, out, err = run(capsys, "analyze", "--sample", spec, "--select", "misidentification_rate", "--out", d / "a.json")
    assert code == 2 and not (d / "a.json").exists()
    one_line_error(err)
    assert "2 response(s)" in err and "'99999'" in err and make_id(7) not in err and make_id(7)[:4] + "*" in err
    code, out, err = run(capsys, "analyze", "--sample", spec, "--select", "misidentification_rate", "--unmatched",
                         "set-aside", "--out", d / "a.json")
    assert code == 0, err
    assert "2 set aside as not in the units file" in out and make_id(7) not in out
    notes = json.loads((d / "a.json").read_text(encoding="utf-8"))["samples"]["registered"]
    assert "2 set aside as not in the units file" in notes


def test_frame_exclude_invalid_output_and_errors_are_masked(tmp_path, capsys):
    reg = registry(30)
    reg.loc[1, "col7"] = reg.loc[0, "col7"]
    path = tmp_path / "reg.csv"
    path.write_text(reg.to_csv(index=False), encoding="utf-8-sig")
    code, out, err = run(capsys, "frame", path, "--id", "col7", "--strata", "county", "--exclude-invalid")
    assert code == 0 and "2 unit(s) excluded" in out and "utf-8-sig" in out, err
    assert_no_pii(out, planted(reg), "frame stdout")
    assert re.search(r"\n\s*34\d\d\*{12}\w\w\s+2 ", out) and re.search(r"\n\s*34\d\d\*{12}\w\w\s+3 ", out)  # file rows
    code, out, err = run(capsys, "frame", path, "--id", "col7")
    assert code == 2 and "duplicated id ('col7'): 2 row(s) (index 2, 3)" in one_line_error(err)
    assert_no_pii(err, planted(reg), "frame error")


def test_gb18030_registry_with_chinese_headers(tmp_path, capsys):
    path = tmp_path / "登记表.csv"
    path.write_bytes("户号,县区,困难类型\n00123,姑苏区,因病\n00124,吴中区,因学\n00125,姑苏区,因病\n"
                     .encode("gb18030"))
    code, out, err = run(capsys, "frame", path, "--id", "户号", "--strata", "县区")
    assert code == 0 and "gb18030" in out and "Frame(N=3, strata=2" in out, err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyze", "--sample", "nounits", "--out", "a.json"], "must look like name=units.csv:responses.csv:form"),
        (["analyze", "--sample", "a=u.csv:r.csv", "--out", "a.json"], "must look like name="),
        (["analyze", "--sample", "=u.csv:r.csv:f", "--out", "a.json"], "must look like name="),
        (["analyze", "--sample", "a=u:r:f", "--sample", "a=u:r:f", "--out", "a.json"], "names must differ"),
        (["analyze", "--sample", "a=u:r:f", "--admin", "info_check_rate", "--out", "a.json"], "--admin 'info_check_rate'"),
        (["analyze", "--sample", "a=u:r:f", "--admin", "info_check_rate=a/b", "--out", "a.json"], "numerator/denominator"),
        (["analyze", "--sample", "a=u:r:f", "--admin", "info_check_rate=5/0", "--out", "a.json"], "denominator > 0"),
        (["analyze", "--sample", "a=u:r:f", "--admin", "info_check_rate=7/5", "--out", "a.json"], "0 ≤ numerator"),
        (["analyze", "--sample", "a=u:r:f", "--admin", "nosuch=1/2", "--out", "a.json"], "nosuch not in the indicator system"),
        (["analyze", "--sample", "a=missing.csv:r.csv:home_visit", "--out", "a.json"], "No such file"),
        (["frame", "missing.csv", "--id", "x"], "No such file"),
        (["validate", "r.csv", "--form", "no_such_form"], "neither a shipped form"),
        (["sample", "reg.csv", "--id", "x", "--seed", "1", "--out", "o"], "give --fraction or --n"),
        (["sample", "reg.csv", "--id", "x", "--seed", "one", "--out", "o", "--n", "2"], "invalid int value"),
        (["frame"], "required: registry"),
        (["frame", "x.csv", "--id", "x", "--bogus"], "unrecognized arguments: --bogus"),
        (["nosuchcommand"], "invalid choice"),
        (["report", "bad.json", "--out", "o"], "not a JSON analysis file"),
        (["report", "wrong.json", "--out", "o"], "not an analysis file written by"),
        (["report", "a.json", "--out", "o", "--scoring-inputs", "bad.json"], "not a JSON scoring-inputs file"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    Path("bad.json").write_text("{not json", encoding="utf-8")
    Path("wrong.json").write_text('{"indicators": [{"id": "x"}]}', encoding="utf-8")
    Path("a.json").write_text('{"indicators": []}', encoding="utf-8")
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in one_line_error(err)


def test_unreadable_inputs_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "corrupt.xlsx").write_bytes(b"PK\x03\x04garbage")
    (tmp_path / "dup.csv").write_text("户号,户号\n1,2\n", encoding="utf-8")
    for name, message in (("empty.csv", "empty"), ("corrupt.xlsx", "Excel workbook"), ("dup.csv", "more than once")):
        code, out, err = run(capsys, "frame", tmp_path / name, "--id", "户号")
        assert code == 2 and message in one_line_error(err)


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(tmp_path, where):
    argv = ["frame", str(tmp_path / "missing.csv"), "--id", "x"]
    with pytest.raises(ss.DataError, match="No such file"):
        cli.main(["--debug", *argv] if where == "before" else [*argv, "--debug"])


def test_internal_errors_are_one_line_with_exit_code_3(monkeypatch, capsys, tmp_path):
    def boom(_args):
        raise RuntimeError("unexpected 13812345678")

    monkeypatch.setattr(cli, "cmd_frame", boom)
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["frame"].set_defaults(func=boom)
    code = cli.main(["frame", str(tmp_path / "x.csv"), "--id", "x"])
    err = capsys.readouterr().err
    assert code == 3 and err.startswith("internal error: RuntimeError") and "138****5678" in err
    assert err.count("\n") == 1


def test_field_list_workbook_has_no_formula_even_for_sheet_names(flow):
    wb = openpyxl.load_workbook(flow["dir"] / "s" / "field_list.xlsx")
    assert set(wb.sheetnames) <= set(flow["reg"]["county"])


def test_validate_output_and_report_mask_personal_data_and_formulas(tmp_path, capsys):
    form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
    raw = ss.generate_responses(form, 6, seed=2)
    raw["household_id"] = [make_id(i) for i in range(6)]
    raw.loc[1, "household_id"] = raw.loc[0, "household_id"]
    raw["verify/members"] = [f'=HYPERLINK("http://x","{make_phone(i)}")' for i in range(6)]
    raw.to_csv(tmp_path / "hv.csv", index=False)
    code, out, err = run(capsys, "validate", tmp_path / "hv.csv", "--form", "home_visit", "--out", tmp_path / "v.xlsx",
                         "--strict")
    assert code == 1 and "not a number" in out and "duplicate submission" in out, err
    planted_pii = [make_id(i) for i in range(6)] + [make_phone(i) for i in range(6)]
    assert_no_pii(out, planted_pii, "validate stdout")
    assert_no_pii(output_text(tmp_path / "v.xlsx"), planted_pii, "validation workbook")
    assert_no_formulas(tmp_path / "v.xlsx", expect_text=("=HYPERLINK",))
