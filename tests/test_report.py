"""Reports: workbook numbers equal the API's, no personal data anywhere, HTML structure, CLI, fonts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from docx import Document
from matplotlib.ft2font import FT2Font

import survey_stats as ss
from survey_stats import cli
from survey_stats.report import fonts, plots


@pytest.fixture(scope="module")
def run(evaluation_run):
    return evaluation_run  # one shared run of the whole evaluation (tests/conftest.py)


def sheet_rows(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    return rows[0], rows[1:]


def test_workbook_numbers_equal_api_values(run):
    header, rows = sheet_rows(run.outputs["excel"], "indicators")
    col = {h: i for i, h in enumerate(header)}
    assert len(rows) == len(run.indicators)
    for r, api in zip(rows, run.indicators):
        assert r[col["指标 Indicator"]] == api.name_zh and r[col["Indicator (en)"]] == api.name_en
        for h, v in (("估计值 Estimate", api.estimate), ("标准误（百分点） SE (pp)", api.se * 100),
                     ("置信下限 CI low", api.ci_low), ("置信上限 CI high", api.ci_high)):
            assert r[col[h]] == pytest.approx(v, rel=1e-14, abs=1e-300)  # Excel keeps 15 significant digits
        assert r[col["n"]] == api.n
        assert api.verdict in r[col["结论 Verdict"]]
    wb = openpyxl.load_workbook(run.outputs["excel"])
    assert wb["indicators"].freeze_panes == "B2"
    assert wb["indicators"]["E2"].number_format == "0.0%"
    header, rows = sheet_rows(run.outputs["excel"], "scoring")
    scores = [r[header.index("得分 Score")] for r in rows[:19]]
    np.testing.assert_allclose(scores, run.score.items["score"].to_numpy(), rtol=1e-14)
    assert {"indicators", "scoring", "rectification", "methods", "validation", "samples", "awareness",
            "channels"} <= set(wb.sheetnames)
    header, rect = sheet_rows(run.outputs["excel"], "rectification")
    failing = [r for r in run.indicators if r.verdict == "fails"]
    assert len(rect) >= len(failing)
    for h in ("整改措施", "整改要求", "整改时限", "责任单位"):
        assert all(r[header.index(h)] for r in rect)


def _all_text(folder: Path) -> str:
    chunks = []
    for p in folder.rglob("*"):
        if p.suffix == ".xlsx":
            wb = openpyxl.load_workbook(p)
            chunks += [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
        elif p.suffix in (".html", ".json", ".csv", ".txt"):
            chunks.append(p.read_text(encoding="utf-8"))
    return "\n".join(chunks)


def test_no_personal_data_in_any_output(run):
    """The registry carries names, ID-card numbers, phones and addresses; none may leave in outputs."""
    text = _all_text(Path(run.outputs["excel"]).parent)
    reg = run.sim.registry
    assert len(text) > 10_000
    for column in ("name", "id_card", "phone", "address"):
        leaked = [v for v in reg[column].astype(str) if v in text]
        assert leaked == [], (column, leaked[:3])
    for header in ("id_card", "姓名", "address", "地址"):  # (身份证 appears in audit problems, e.g. 出生日期与身份证号不一致)
        assert header not in text
    assert re.search(r"1[3-9]\d\*{4}\d{4}", text)  # phones appear only masked (field list)


def test_html_structure(run):
    html = Path(run.outputs["html"]).read_text(encoding="utf-8")
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings == ["评估指标 Indicators", "职工了解程度 Policy awareness", "政策宣传渠道 Publicity channels",
                        "未完成核查 Unverified flagged files", "电话调查与入户核查比对 Census vs home visits",
                        "比对不一致 Disagreements",
                        "分县区指标 Indicators by county", "社会满意度调查样本量 Social survey plan",
                        "帮扶类型 Aid received by kind", "返困再帮扶 Households back in hardship aided again",
                        "访谈主题 Interview themes by role",
                        "访谈引语 Interview quotes (anonymised)", "评分输入 Scoring inputs",
                        "绩效评分 Performance score", "整改清单 Rectification list", "数据核验 Data validation",
                        "方法 Methods"]
    assert html.count("<img") == 4 and "data:image/png;base64," in html and "src='http" not in html
    first = re.search(r"<thead><tr>(.*?)</tr></thead>", html).group(1)
    assert re.findall(r"<th>(.*?)</th>", first)[:5] == ["指标 Indicator", "Indicator (en)", "分母 Denominator", "n",
                                                      "估计值 Estimate"]
    assert "需追加户数 Additional households" in re.findall(r"<th>(.*?)</th>", first)  # extra sample in the table
    assert html.count('<tr class="meets">') == sum(r.verdict == "meets" for r in run.indicators)


def test_cli_demo_runs_into_a_folder(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path / "demo"), "--seed", "3", "--quiet", "--n-sim", "200"]) == 0
    out = capsys.readouterr().out
    assert "outputs:" in out and "with probability" in out
    assert "200次" in "\n".join(p.text for p in Document(tmp_path / "demo" / "评估报告.docx").paragraphs)
    assert cli.main(["demo", "--out", str(tmp_path / "x"), "--n-sim", "5"]) == 2
    assert "--n-sim" in capsys.readouterr().err
    for name in ("evaluation_report.xlsx", "evaluation_report.html", "figures/forest.png", "samples/registered_manifest.json"):
        assert (tmp_path / "demo" / name).exists()


def test_cli_errors_have_exit_codes(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "missing.csv"), "--form", "home_visit"]) == 2
    assert "No such file" in capsys.readouterr().err
    reg = ss.datasets.simulate_registry(seed=1)
    reg.loc[3, "household_id"] = reg.loc[4, "household_id"]
    reg.to_csv(tmp_path / "reg.csv", index=False)
    assert cli.main(["frame", str(tmp_path / "reg.csv"), "--id", "household_id"]) == 2
    assert "duplicated id" in capsys.readouterr().err
    assert cli.main(["sample"]) == 2  # usage errors: one line, no SystemExit


def test_cli_sample_analyze_report(tmp_path, capsys):
    reg = ss.datasets.simulate_registry(seed=2)
    reg.to_excel(tmp_path / "registry.xlsx", index=False)
    assert cli.main(["sample", str(tmp_path / "registry.xlsx"), "--id", "household_id", "--strata", "county", "status",
                     "--certainty", "flagged", "--fraction", "0.3", "--seed", "5", "--out", str(tmp_path / "s")]) == 0
    units = __import__("pandas").read_csv(tmp_path / "s" / "sample_units.csv")
    assert not {"name", "id_card", "phone", "address"} & set(units.columns)
    form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
    raw = ss.generate_responses(form, len(units), seed=1,
                                fixed={"household_id": units["household_id"].tolist(), "status": units["status"].tolist()})
    raw.to_csv(tmp_path / "hv.csv", index=False)
    spec = f"registered={tmp_path / 's' / 'sample_units.csv'}:{tmp_path / 'hv.csv'}:home_visit"
    assert cli.main(["analyze", "--sample", spec, "--select", "misidentification_rate", "--out",
                     str(tmp_path / "a.json")]) == 0
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert data["indicators"][0]["id"] == "misidentification_rate"
    assert cli.main(["report", str(tmp_path / "a.json"), "--out", str(tmp_path / "r"), "--missing-zero"]) == 0
    assert (tmp_path / "r" / "evaluation_report.html").exists()


def test_chinese_font_has_every_glyph_we_draw(run):
    font = fonts.cjk_font_path()
    if font is None:
        pytest.skip("no CJK font installed (install survey-stats[fonts]); the fallback test covers this case")
    ft = FT2Font(str(font))
    text = "".join(r.name_zh for r in run.indicators) + "评估指标估计值与置信区间参考值帮扶工作满意度已脱困户未脱困户非建档户注销户优秀良好中等差"
    missing = [ch for ch in set(text) if ft.get_char_index(ord(ch)) == 0]
    assert missing == []
    fig = plots.forest_figure(run.indicators)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in labels)


def test_english_fallback_when_no_cjk_font(run, monkeypatch):
    monkeypatch.setattr(plots, "cjk_font_path", lambda: None)
    fonts.reset_warning()
    with pytest.warns(ss.SurveyStatsWarning, match="English labels"):
        fig = plots.forest_figure(run.indicators)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0] == run.indicators.rows[0].name_en
    texts = [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))]
    assert not any(re.search(r"[\u4e00-\u9fff]", t) for t in texts)
    ch = plots.channel_figure(run.channels)
    assert all(t.get_text().isascii() for t in ch.axes[0].get_yticklabels())
