"""Deliverables: the Word report, county sub-reports and the rectification workbook, read back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn

import survey_stats as ss
from survey_stats.report.county import county_indicators
from survey_stats.report.docx import CHAPTERS, format_ci, format_pct, write_report_docx
from survey_stats.indicators.checks import additional_sample
from survey_stats.report.rectification import PLAN_COLUMNS, deadline_after, rectification_plan, write_rectification

REQUIRED = ("整改措施", "整改要求", "整改时限", "责任单位")


@pytest.fixture(scope="module")
def run(evaluation_run):
    return evaluation_run  # one shared run of the whole evaluation (tests/conftest.py)


def docx_text(path) -> str:
    doc = Document(path)
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_report_has_every_chapter_and_the_api_numbers(run):
    path = run.outputs["report_docx"]
    assert path.name == "评估报告.docx"
    doc = Document(path)
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == CHAPTERS["zh"]
    text = docx_text(path)
    for r in run.indicators:
        sentence = f"{r.name_zh}为{format_pct(r.estimate)}（95%置信区间{format_ci(r.ci_low, r.ci_high)}，n = {r.n}）"
        assert sentence in text, sentence
    s = run.score
    assert f"绩效评价总分{s.total:.2f}分（95%区间{s.total_low:.2f}–{s.total_high:.2f}分），等级为{s.grade}" in text
    for g, p in s.grade_probabilities.items():
        assert f"{g}{p:.2f}" in text
    for it in s.items.itertuples():
        assert f"{it.score:.2f}" in text
    # sample sizes and response rates come from the samples and the coded responses
    n = len(run.samples["registered"])
    r = len(run.coded["registered"])
    assert re.search(rf"建档户入户调查\n\d+\n{n}\n\d+\n{r}\n\d+\n{re.escape(format_pct(r / n))}", text)
    # every flagged household that was not visited is in the plan
    units = run.samples["registered"].units
    missing = set(units.loc[units["certainty"], "household_id"]) - set(run.coded["registered"]["household_id"])
    assert all(h in text for h in missing)


def test_report_tables_use_an_east_asian_font(run):
    doc = Document(run.outputs["report_docx"])
    runs = [r for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert runs and all(r._element.rPr.rFonts.get(qn("w:eastAsia")) in ("宋体", "黑体") for r in runs)
    assert len(doc.inline_shapes) >= 2  # figures embedded


def test_report_masks_personal_data_and_english_version(run, tmp_path):
    plan = pd.DataFrame([["1", "档案审查", "萧县", "户主身份证341302198001010011有误", "电话13812345678", "措施", "要求",
                          "2026-02-02", "萧县总工会", "待整改"]], columns=PLAN_COLUMNS)
    p = write_report_docx(tmp_path / "r.docx", run.indicators, run.score, problems=plan,
                          cases=[{"title": "萧县结对帮扶", "text": "联系人 13912345678 每月走访"}])
    text = docx_text(p)
    assert "341302198001010011" not in text and "13812345678" not in text and "13912345678" not in text
    assert "3413************11" in text and "案例1：萧县结对帮扶" in text
    p = write_report_docx(tmp_path / "en.docx", run.indicators, None, language="en")
    doc = Document(p)
    assert [x.text for x in doc.paragraphs if x.style.name == "Heading 1"] == CHAPTERS["en"]
    assert "indicator-only report" in docx_text(p)
    with pytest.raises(ss.errors.DataError):
        write_report_docx(tmp_path / "x.docx", run.indicators, language="fr")


def test_county_reports_have_each_countys_domain_estimates(run):
    counties = sorted(k[7:] for k in run.outputs if k.startswith("county_"))
    assert counties == sorted(run.sim.registry["county"].unique())
    text = docx_text(run.outputs["county_萧县"])
    assert "萧县困难职工帮扶工作评估分报告" in text and "SZ" not in text.split("三、存在问题与整改")[0]
    assert re.search(r"错评率为\d+\.\d%（95%置信区间\d+\.\d%–\d+\.\d%，n = \d+）", text)
    # administrative rates from the county's own registry and ledger counts (no sampling error)
    for name in ("信息比对率", "就业帮扶覆盖率", "返困再帮扶率"):
        assert name in text
    admin = run.county_administrative["萧县"]
    num, den = admin["info_check_rate"]
    assert f"{100 * num / den:.1f}%" in text.split("三、存在问题与整改")[0]


def test_county_estimates_equal_domain_estimates_with_by(run):
    designs = run.designs  # the run's designs: flagged households in their own groups, phone census
    parts = [pd.Series(s.units[s.id].to_numpy(), name="id").to_frame().assign(county=s.units["county"].to_numpy())
             for s in run.samples.values() if "county" in s.units.columns]
    county_of = pd.concat(parts).drop_duplicates("id").set_index("id")["county"]
    single = {"misidentification_rate": ("registered", lambda x: x["status"].isin(["exited", "unexited"])),
              "method_match_rate": ("registered", lambda x: x["status"].isin(["exited", "unexited"])),
              "return_to_hardship_rate": ("registered", lambda x: x["status"] == "exited"),
              "missed_exit_rate": ("phone", lambda x: pd.Series(True, index=x.index)),
              "file_completeness": ("spot_check", lambda x: pd.Series(True, index=x.index))}
    system = ss.IndicatorSystem.default().select(list(single))
    ct = county_indicators(system, designs, county_of=county_of, na="drop")
    assert sorted(ct.tables) == sorted(run.sim.registry["county"].unique()) and not ct.omitted
    checked = 0
    for iid, (sample, where) in single.items():
        d = designs[sample]
        assert system[iid].sample == sample
        # domain estimation over the whole design, by county (frame county added to the design's data)
        data = d.data.assign(frame_county=d.data["household_id"].map(county_of))
        cols = {k: v for k, v in d.columns.items() if v is not None}
        full = ss.Design(data, **cols, lonely_psu=d.lonely_psu)
        num = system[iid].numerator
        ok = where(data) & data[num].notna()
        byc = ss.proportion(full, num, by="frame_county", where=ok.to_numpy(), na="drop", ci_method="beta")
        for c, t in ct.tables.items():
            assert t[iid].estimate == pytest.approx(byc[c].estimate, abs=1e-12)
            assert t[iid].se == pytest.approx(byc[c].se, rel=1e-9, abs=1e-12)
            checked += 1
    assert checked == len(single) * 5
    # the county reports show these county estimates
    xiao = ct.tables["萧县"]["missed_exit_rate"]
    text = docx_text(run.outputs["county_萧县"])
    assert f"漏退率为{format_pct(xiao.estimate)}（95%置信区间{format_ci(xiao.ci_low, xiao.ci_high)}，n = {xiao.n}）" in text


def test_rectification_workbook_complete_and_formula_free(run):
    wb = openpyxl.load_workbook(run.outputs["rectification"])
    ws = wb["问题清单及整改方案"]
    header = [c.value for c in ws[2]]
    assert header == PLAN_COLUMNS
    rows = list(ws.iter_rows(min_row=3))
    assert rows
    for row in rows:
        cells = dict(zip(header, row))
        for col in REQUIRED:
            assert cells[col].value and str(cells[col].value).strip(), col
    for sheet in wb:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f" and not (isinstance(c.value, str) and c.value.startswith("="))


def test_plan_rules_for_inconclusive_indicators(run):
    inputs = dict(zip(run.scoring_inputs["key"], run.scoring_inputs["value"]))
    plan = rectification_plan(run.indicators, run.score, inputs=inputs, report_date="2026-01-05")
    listed = set(plan["问题"])
    for r in run.indicators:
        wrong_side = r.reference is not None and (r.estimate > r.reference if r.direction == "le"
                                                  else r.estimate < r.reference)
        hit = any(q.startswith(r.name_zh) for q in listed)
        if r.verdict == "fails" or (r.verdict == "inconclusive" and wrong_side):
            assert hit, r.id
        elif r.verdict == "inconclusive":
            assert not hit, r.id  # estimate meets the reference: not a problem
    checks = plan[plan["类别"] == "需补充核实"]
    assert (checks["状态"] == "待核实").all()
    lost = run.score.items[run.score.items["points"] - run.score.items["score"] >= 0.005]
    assert (plan["类别"] == "绩效评分扣分").sum() == len(lost)
    assert "未满足：年度内组织检查或抽查" in " ".join(plan["依据"]) or "capacity" not in set(lost["id"])
    assert (plan[list(REQUIRED)].map(lambda v: v.strip() != "")).all().all()


def test_plan_deadline_units_and_overrides():
    t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]),
                               {"phone": ss.datasets.poverty_design()}, na="drop")  # unexited stratum: a census
    plan = rectification_plan(t, report_date="2025-09-26", working_days=7, default_unit="市总工会帮扶中心")
    assert plan["整改时限"].tolist() == ["2025-10-13"] and plan["责任单位"].tolist() == ["市总工会帮扶中心"]
    plan = rectification_plan(t, deadline="2026-03-31")
    assert plan["整改时限"].tolist() == ["2026-03-31"]
    # beyond the holiday data: weekdays, and the plan says so
    day = deadline_after("2035-01-01", 5)
    assert day == dt.date(2035, 1, 8)
    with pytest.raises(ss.errors.DataError):
        deadline_after("2035-01-01", 5, beyond="fail")
    far = rectification_plan(t, report_date="2035-01-01")
    assert "按周一至周五计算" in far.attrs["calendar_note"]


def test_plan_from_document_review_and_unvisited(tmp_path):
    t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]),
                               {"phone": ss.datasets.poverty_design()}, na="drop")  # unexited stratum: a census
    reg = pd.DataFrame({"household_id": ["A1", "A2", "B1"], "county": ["萧县", "萧县", "泗县"],
                        "status": ["exited", "unexited", "exited"], "members": [3, 2, 4], "listed_members": [3, 2, 4],
                        "income_per_head": [800, 700, 900], "cause": ["illness", "illness", "disability"],
                        "registered_on": ["2024-01-01"] * 3, "reviewed_on": ["2023-12-20"] * 3, "exited_on": ["2025-01-01", None, None],
                        "birth_date": ["1980-01-01"] * 3,
                        "id_card": ["341302198001010011", "341302198001010010", "341302198001010011"]})
    audit = ss.review.audit_registry(reg)
    assert len(audit.problems)
    unvisited = pd.DataFrame({"household_id": ["A2"], "county": ["萧县"]})
    plan = rectification_plan(t, registry_audit=audit, unvisited=unvisited, report_date="2026-01-05",
                              units={"萧县": "萧县总工会帮扶中心"})
    assert {"档案审查", "问题户未入户核查"} <= set(plan["类别"])
    xiao = plan[plan["县区"] == "萧县"]
    assert (xiao["责任单位"] == "萧县总工会帮扶中心").all()
    assert not plan.apply(lambda col: col.str.contains("341302198001010011")).any().any()
    p = write_rectification(tmp_path / "plan.xlsx", plan)
    ws = openpyxl.load_workbook(p)["问题清单及整改方案"]
    assert ws.max_row == len(plan) + 2


def test_plan_takes_the_extra_sample_from_additional_sample():
    t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["misidentification_rate"]),
                               {"registered": ss.datasets.poverty_design()})
    r = dataclasses.replace(t["misidentification_rate"], reference=0.025, verdict="inconclusive")  # 3.4% vs ≤ 2.5%
    table = dataclasses.replace(t, rows=(r,))
    extra = int(additional_sample(table)["additional"].iloc[0])
    assert extra > 0
    plan = rectification_plan(table, report_date="2026-01-05")
    assert f"需再调查约{extra}户" in plan.loc[0, "整改要求"]
    given = pd.DataFrame({"id": ["misidentification_rate"], "additional": [123.0]})  # the run's own table wins
    assert "需再调查约123户" in rectification_plan(table, report_date="2026-01-05", decisions=given).loc[0, "整改要求"]
    hopeless = pd.DataFrame({"id": ["misidentification_rate"], "additional": [np.nan]})
    assert "逐户核实" in rectification_plan(table, report_date="2026-01-05", decisions=hopeless).loc[0, "整改要求"]


def test_plan_masks_personal_data_by_content():
    t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]),
                               {"phone": ss.datasets.poverty_design()}, na="drop")
    lost = pd.DataFrame({"household_id": ["SZ0001"], "county": ["萧县"],
                         "reason": ["户主 34130219800101001X 手机 139-1234-5678"]})
    plan = rectification_plan(t, unvisited=lost, report_date="2026-01-05")
    basis = plan.loc[plan["类别"] == "问题户未入户核查", "依据"].iloc[0]
    assert "3413************1X" in basis and "139****5678" in basis and "SZ0001" in basis


def test_english_plan_and_workbook(run, tmp_path):
    from survey_stats.report.deliverables import PlanOptions, plan_for_run

    plan = plan_for_run(run, PlanOptions(report_date="2026-01-05", language="en"), default_unit="City union")
    zh = plan_for_run(run, report_date="2026-01-05")
    assert len(plan) == len(zh) and list(plan["整改时限"]) == list(zh["整改时限"])
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for col in ("类别", "整改措施", "整改要求", "状态"):
        assert not plan[col].str.contains(cjk).any(), col
    assert not plan["问题"][plan["类别"].isin(["indicator fails", "to verify"])].str.contains(cjk).any()
    rules = plan.loc[plan["类别"] == "score deduction", "依据"].str.split("; evidence").str[0]
    assert len(rules) and not rules.str.contains(cjk).any()  # the scoring rules' English texts (text_en)
    from survey_stats.indicators.scoring import ScoringRules

    texts = [k for it in ScoringRules.default().items for c in it["components"] for k in [c, *c.get("criteria", [])]
             if "text_zh" in k]
    assert len(texts) == 60 and all(k.get("text_en") and not cjk.search(k["text_en"]) for k in texts)
    assert set(plan["状态"]) <= {"to rectify", "to verify"}
    assert (plan.loc[plan["县区"] == "city-wide", "责任单位"] == "City union").all()
    wb = openpyxl.load_workbook(write_rectification(tmp_path / "plan.xlsx", plan))
    ws = wb["问题清单及整改方案"]
    assert [c.value for c in ws[2]][:4] == ["No.", "Category", "County", "Problem"]
    assert "to rectify" in ws.data_validations.dataValidation[0].formula1
    with pytest.raises(ss.errors.DataError, match="language"):
        rectification_plan(run.indicators, language="fr")
    with pytest.raises(ss.errors.DataError, match="working_day.*PlanOptions"):
        plan_for_run(run, working_day=3)


def test_workbook_for_readers(run, tmp_path):
    wb = openpyxl.load_workbook(run.outputs["excel"])
    ind = wb["indicators"]
    header = [c.value for c in ind[1]]
    se = header.index("标准误（百分点） SE (pp)") + 1
    assert ind.cell(2, se).number_format == "0.00"
    assert ind.cell(2, se).value == pytest.approx(run.indicators.rows[0].se * 100)
    county = wb["by_county"]  # indicator rows of the extra sheets read like the indicator sheet
    header = [c.value for c in county[1]]
    se, est = header.index("标准误（百分点） SE (pp)") + 1, header.index("估计值 Estimate") + 1
    assert county.cell(2, se).value == pytest.approx(run.by_county["se"].iloc[0] * 100)
    assert county.cell(2, se).number_format == "0.00" and county.cell(2, est).number_format == "0.0%"
    sc = wb["scoring"]
    total = next(r for r in sc.iter_rows() if r[0].value == "总分 Total")
    assert total[6].value == pytest.approx(run.score.total) and total[6].number_format == "0.00"
    methods = [r[1].value for r in wb["methods"].iter_rows(min_row=2)]
    assert not any(re.search(r"Sample\(|Design\(|[{}\[\]]", str(v)) for v in methods)
    assert any("分层简单随机抽样" in str(v) for v in methods)
    for name in ("awareness", "channels", "validation", "samples"):
        heads = [c.value for c in wb[name][1]]
        assert all(re.search(r"[\u4e00-\u9fff]", h) or h == "n" for h in heads), (name, heads)
    assert "标准误（百分点） SE (pp)" in [c.value for c in wb["awareness"][1]]
    p = ss.report.write_excel(tmp_path / "zh.xlsx", run.indicators, run.score, headers="zh",
                              awareness=run.awareness, validation=pd.DataFrame())
    wz = openpyxl.load_workbook(p)
    heads = [c.value for c in wz["indicators"][1]]
    assert "指标" in heads and "Indicator (en)" not in heads and not any(" " in h for h in heads if h != "n")
    assert [c.value for c in wz["validation"][1]] == ["结果"]


def test_figures_at_200_dpi_and_forest_in_two_panels(run):
    from PIL import Image

    from survey_stats.report import plots

    for key in ("figure_forest", "figure_score"):
        with Image.open(run.outputs[key]) as im:
            assert round(im.info["dpi"][0]) == 200
    fig = plots.forest_figure(run.indicators)
    panels = [a for a in fig.axes if a.get_yticks().size]  # low, mid-range (kinds of aid), high rates
    low, high = panels[0], panels[-1]
    assert low.get_xlim()[1] < 50 < high.get_xlim()[0]
    assert sum(len(a.get_yticks()) for a in panels) == len(run.indicators)


def test_composite_n_counts_distinct_respondents(run):
    r = run.indicators["aid_accuracy"]
    system = ss.IndicatorSystem.default()

    def leaves(iid):
        ind = system[iid]
        return {iid} if ind.kind != "composite" else set().union(*(leaves(t) for t in ind.terms))

    mine = leaves("aid_accuracy")
    assert {"missed_exit_rate", "wrong_exit_rate", "info_check_rate", "satisfaction"} <= mine
    parts = run.indicators.parts
    parts = parts[parts["part"].str.split(".").str[0].isin(mine)]
    per_sample = parts.dropna(subset=["sample"]).groupby("sample")["n"].max()
    assert set(per_sample.index) == {"registered", "phone", "unregistered", "deregistered"}
    assert r.n == per_sample.sum()  # distinct households per sample; administrative records not counted


def test_institute_template_keeps_letterhead(run, tmp_path):
    from docx import Document as NewDocument

    tpl = NewDocument()
    tpl.sections[0].header.paragraphs[0].text = "某某评估研究院"
    tpl.add_paragraph("模板正文，应被替换")
    tpl.save(tmp_path / "tpl.docx")
    p = write_report_docx(tmp_path / "r.docx", run.indicators, run.score, template=tmp_path / "tpl.docx")
    doc = Document(p)
    assert doc.sections[0].header.paragraphs[0].text == "某某评估研究院"
    assert "模板正文" not in docx_text(p)
    assert [x.text for x in doc.paragraphs if x.style.name == "Heading 1"] == CHAPTERS["zh"]
    with pytest.raises(ss.errors.DataError, match="template"):
        write_report_docx(tmp_path / "x.docx", run.indicators, template=tmp_path / "missing.docx")


def test_inconclusive_meeting_estimate_is_not_a_problem():
    t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["misidentification_rate"]),
                               {"registered": ss.datasets.poverty_design()})
    r = t["misidentification_rate"]                             # 3.4% (CI 2.2%–5.1%)
    meets_side = dataclasses.replace(r, reference=0.04, verdict="inconclusive")
    wrong_side = dataclasses.replace(r, reference=0.025, verdict="inconclusive")
    for row, listed in ((meets_side, False), (wrong_side, True)):
        table = dataclasses.replace(t, rows=(row,))
        plan = rectification_plan(table, report_date="2026-01-05")
        assert (len(plan) == 1) is listed
        if listed:
            assert plan.loc[0, "类别"] == "需补充核实" and "需再调查约" in plan.loc[0, "整改要求"]


def test_methods_describe_census_flagged_spot_check_and_social(run):
    text = docx_text(run.outputs["report_docx"])
    units = run.samples["registered"].units
    flagged = int(units["certainty"].sum())
    lost = len(run.unverified)
    assert lost > 0
    assert (f"入户核查：随机抽取非问题档案户{len(units) - flagged}户，档案审查发现的问题档案户{flagged}户在随机样本之外"
            f"全部入户核查，其中{lost}户未完成核查") in text
    assert (f"未脱困户电话普查：对全部{len(run.samples['phone'])}户未脱困户（抽样框"
            f"{int((run.sim.registry['status'] == 'unexited').sum())}户）电话调查，有效应答{len(run.coded['phone'])}户") in text
    assert f"档案抽检：随机抽取{len(run.samples['spot_check'])}份档案" in text
    assert (f"社会满意度调查：抽取{len(run.samples['social'])}人，有效应答{len(run.coded['social'])}人") in text


def test_plan_for_run_uses_unverified_and_scoring_inputs(run):
    from survey_stats.report.deliverables import plan_for_run

    plan = plan_for_run(run, report_date="2026-01-05")
    inputs = dict(zip(run.scoring_inputs["key"], run.scoring_inputs["value"]))
    explicit = plan_for_run(run, report_date="2026-01-05", inputs=inputs, unvisited=run.unverified,
                            registry_audit=run.registry_audit, ledger_audit=run.ledger_audit)
    pd.testing.assert_frame_equal(plan, explicit)
    rows = plan[plan["类别"] == "问题户未入户核查"]
    county = run.sim.registry.set_index("household_id")["county"]
    assert sorted(rows["县区"]) == sorted(county[run.unverified["household_id"]].unique())
    assert (rows["责任单位"] == rows["县区"] + "总工会").all()
    basis = " ".join(rows["依据"])
    for h, why in run.unverified[["household_id", "reason"]].itertuples(index=False):
        assert f"{h}（{why[:10]}" in basis
    assert rows["问题"].str.extract(r"^(\d+)户")[0].astype(int).sum() == len(run.unverified)


def test_rebuilt_designs_keep_the_flagged_warning_as_a_note(run):
    from survey_stats.report.deliverables import run_designs

    bare = dataclasses.replace(run, designs=None, notes=[])
    designs = run_designs(bare)  # pytest turns uncaught warnings into errors
    assert sorted(designs) == sorted(run.designs)
    assert len(bare.notes) == 1 and "未完成核查" in bare.notes[0] and bare.notes[0] in run.notes
    assert run_designs(run) == run.designs


def test_report_shows_extra_sample_and_response_rates_of_the_run(run):
    from survey_stats.report import response_rates
    from survey_stats.report.deliverables import SAMPLE_LABELS

    doc = Document(run.outputs["report_docx"])
    ind = next(t for t in doc.tables if t.rows[0].cells[0].text == "指标")
    assert ind.rows[0].cells[-1].text == "判定所需追加样本"
    need = run.decisions.set_index("id")
    seen = 0
    for row, r in zip(ind.rows[1:], run.indicators):
        assert row.cells[0].text == r.name_zh
        cell = row.cells[-1].text
        if r.verdict != "inconclusive" or r.id not in need.index:
            assert cell == "—"
        elif pd.isna(need.at[r.id, "additional"]):
            assert cell == "抽样无法判定"
        else:
            seen += 1
            assert cell.startswith(f"+{int(need.at[r.id, 'additional'])}户（共{int(need.at[r.id, 'n_needed'])}")
    assert seen >= 1
    rr = next(t for t in doc.tables if t.rows[0].cells[1].text == "层级")
    body = [[c.text for c in row.cells] for row in rr.rows[1:]]
    s = run.samples["registered"]
    want = response_rates(s.units, s.units[s.id].isin(run.coded["registered"][s.id]), sample="registered",
                          group="status")
    mine = [r for r in body if r[0] == SAMPLE_LABELS["registered"]]
    assert len(mine) == len(want) and {r[1] for r in mine} == {"层", "分组（status）", "合计"}
    for row, w in zip(mine, want.itertuples()):
        assert row[2:7] == [w.group if w.group != "(all)" else "全部", str(w.eligible), str(w.complete),
                            str(w.nonrespondents), f"{w.response_rate * 100:.1f}%"]
    assert {r[0] for r in body} == {SAMPLE_LABELS[n] for n in run.samples if n in run.coded}
    assert "interviews" in run.samples and "interviews" not in run.coded  # no survey responses: not in the table
    text = docx_text(run.outputs["report_docx"])
    for name, s in run.samples.items():
        assert s.manifest["frame_fingerprint"] in text


def test_county_overview_has_one_row_per_indicator_and_header_rows_repeat(run):
    doc = Document(run.outputs["report_docx"])
    counties = sorted(run.sim.registry["county"].unique())
    t = next(t for t in doc.tables if [c.text for c in t.rows[0].cells][1:] == counties)
    xiao = Document(run.outputs["county_萧县"]).tables
    county_table = next(x for x in xiao if x.rows[0].cells[0].text == "指标")
    shown = {row.cells[0].text: row.cells[1 + counties.index("萧县")].text for row in t.rows[1:]}
    for row in county_table.rows[1:]:
        name, est, ci = row.cells[0].text, row.cells[2].text, row.cells[3].text
        assert shown[name] == f"{est}\n{ci}"
    for table in doc.tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_english_report_has_english_plan_headers_and_grades(run, tmp_path):
    from survey_stats.report.deliverables import plan_for_run

    plan = plan_for_run(run, report_date="2026-01-05", language="en", default_unit="City union")
    p = write_report_docx(tmp_path / "en.docx", run.indicators, run.score, problems=plan, language="en",
                          decisions=run.decisions)
    doc = Document(p)
    heads = [[c.text for c in t.rows[0].cells] for t in doc.tables]
    assert ["No.", "Problem", "Measure", "Requirement", "Deadline", "Responsible unit"] in heads
    assert any(h[-1] == "Extra sample" for h in heads)
    text = docx_text(p)
    assert f"grade {dict(优秀='excellent', 良好='good', 中等='fair', 差='poor')[run.score.grade]}." in text
    assert "to rectify" not in text.split("7. Problems found")[0]  # plan text appears in chapters 7-8 only
    assert "indicator fails" in text or "to verify" in text
