"""KoboToolbox / ODK Central exports: every layout read back to the same coded data; validate on raw exports."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from _exports import LAYOUT_FILES, assert_same, canon, round_trip

import survey_stats as ss
from survey_stats.questionnaires import (
    ERROR_KINDS,
    EXPORT_LAYOUTS,
    ExportLayout,
    write_export,
)

DATA = Path(__file__).resolve().parent / "data" / "exports"


def bundled(name):
    return ss.load_questionnaire(ss.questionnaire_path(name))


# A form with nested groups, a repeat inside which another repeat sits, a geopoint, a calculate,
# choice labels with spaces, two languages (one Chinese) — the shapes the bundled forms lack.
SURVEY = [
    ["type", "name", "label::English (en)", "label::Chinese (zh)", "required", "relevant", "constraint",
     "calculation", "survey_stats::indicator", "survey_stats::coding"],
    ["start", "start"], ["end", "end"],
    ["text", "household_id", "Household id", "户号", "yes"],
    ["begin_group", "info", "Information", "信息"],
    ["begin_group", "address", "Address", "地址"],
    ["select_one county", "county", "County", "县区", "yes"],
    ["geopoint", "location", "Location", "位置"],
    ["end_group"],
    ["integer", "members_n", "Number of members", "家庭人口", "yes", "", ". >= 1 and . <= 15"],
    ["select_multiple aid", "aid", "Aid received", "获得帮扶", "yes"],
    ["select_one sat5", "sat", "Satisfaction", "满意度", "yes", "", "", "", "satisfied", "top2"],
    ["text", "contact_phone", "Phone for call-back", "回访电话", "", "", "regex(., '^1[3-9][0-9]{9}$')"],
    ["end_group"],
    ["begin_repeat", "members", "Members", "成员"],
    ["text", "member_name", "Member name", "成员姓名", "yes"],
    ["integer", "member_age", "Age", "年龄", "yes", "", ". >= 0 and . <= 110"],
    ["begin_repeat", "jobs", "Jobs", "工作"],
    ["select_one job", "job", "Job", "工作类型", "yes", "${member_age} >= 16"],
    ["end_repeat"],
    ["end_repeat"],
    ["calculate", "total_calc", "", "", "", "", "", "1"],
]
CHOICES = [
    ["list_name", "name", "label::English (en)", "label::Chinese (zh)", "survey_stats_missing"],
    ["county", "gusu", "Gusu district", "姑苏区"], ["county", "wuzhong", "Wuzhong district", "吴中区"],
    ["aid", "cash", "Cash", "现金"], ["aid", "jobhelp", "Job help", "就业 帮扶"],
    ["aid", "medical", "Medical care", "医疗 救助"],
    *[["sat5", str(k), f"{k} points", f"{k} 分"] for k in range(1, 6)], ["sat5", "dk", "Don't know", "不知道", "yes"],
    ["job", "worker", "Factory worker", "工人"], ["job", "farmer", "Farmer", "农民"],
]


def write_form(path, survey=SURVEY, choices=CHOICES):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    for r in survey:  # Chinese labels first, as in the bundled forms
        ws.append(r[:2] + r[3:4] + r[2:3] + r[4:] if len(r) > 3 else r)
    ch = wb.create_sheet("choices")
    for r in choices:
        ch.append(r[:2] + r[3:4] + r[2:3] + r[4:])
    st = wb.create_sheet("settings")
    st.append(["form_id", "form_title", "version"])
    st.append(["household_roster", "Household roster", "1"])
    wb.save(path)
    return ss.load_questionnaire(path)


@pytest.fixture(scope="module")
def roster(tmp_path_factory):
    return write_form(tmp_path_factory.mktemp("form") / "household_roster.xlsx")


def roster_data(form, n=40, seed=4):
    data = ss.read_export(ss.generate_responses(form, n, seed=seed), form)
    data["location"] = [f"31.{i} 120.{i} {i} 5" if i % 4 else np.nan for i in range(n)]
    data["contact_phone"] = [f"139{i:08d}" for i in range(n)]
    return data


@pytest.mark.parametrize("layout, suffix", LAYOUT_FILES)
def test_roster_round_trips_through_every_layout(roster, layout, suffix, tmp_path):
    data = roster_data(roster)
    back = round_trip(data, roster, layout, suffix, tmp_path)
    assert_same(data, back, roster, repeats=suffix != ".csv")
    report = ss.validate(back, roster)
    if suffix == ".csv":  # KoboToolbox/Central CSV holds the main table only: repeat questions are absent
        absent = report.problems[report.problems["problem"].str.startswith("required question not in the export")]
        assert set(absent["column"]) == {"member_name", "member_age", "job"} and len(report.problems) == 3
        assert "repeat group 'members'" in absent["problem"].iloc[0]
    else:
        assert report.ok, str(report)
    info = back.attrs["export"]
    lay = EXPORT_LAYOUTS[layout]
    assert roster.languages[0] == "Chinese (zh)"
    assert info["headers"] == ("xml" if lay.headers == "xml" else "labels:Chinese (zh)")
    assert info["server"] == lay.server
    if suffix == ".csv":
        assert info["separator"] == lay.sep and (info["encoding"] == "gb18030") == (lay.encoding == "gbk")


def test_kobo_default_csv_has_kobos_real_shape(tmp_path):
    """Same shape as the export KoboToolbox's own tests pin down (tests/data/exports/animals__kobo_default...)."""
    real = (DATA / "animals__kobo_default_labels_hxl.csv").read_bytes().decode().split("\r\n")[0].split(";")
    form = bundled("phone_unexited")
    data = ss.read_export(ss.generate_responses(form, 5, seed=1), form)
    write_export(data, form, "kobo_default", path=tmp_path / "kobo.csv")
    lines = (tmp_path / "kobo.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    assert all(h.startswith('"') and h.endswith('"') for h in header)  # every cell quoted, ';' separated
    names = [h.strip('"') for h in header]
    assert names[-9:] == [h.strip('"') for h in real[-9:]]  # the same metadata, in the same order
    aid = form["aid_received"].label("Chinese (zh)")
    first = form.choices[form["aid_received"].list_name][0].labels["Chinese (zh)"]
    assert aid in names and f"{aid}/{first}" in names  # label, and label/choice label, as KoboToolbox writes
    back = ss.read_export(tmp_path / "kobo.csv", form)
    assert back.attrs["export"]["separator"] == ";" and back.attrs["export"]["server"] == "kobo"
    assert back.attrs["export"]["headers"] == "labels:Chinese (zh)"
    assert_same(data, back, form)
    xml = next(iter(write_export(data, form, "kobo_xml").values()))
    code = form.codes("aid_received")[0]
    assert {"situation/still_hardship", "aid/aid_received", f"aid/aid_received/{code}"} <= set(xml.columns)


def test_gbk_semicolon_csv_with_chinese_label_headers(roster, tmp_path):
    data = roster_data(roster)
    path = tmp_path / "wps.csv"
    write_export(data, roster, "kobo_labels_gbk", path=path)
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    first = raw.decode("gbk").splitlines()[0]
    assert first.startswith('"户号";') and '"获得帮扶"' in first
    assert "就业 帮扶" in raw.decode("gbk")  # choice labels (with spaces) as values
    back = ss.read_export(path, roster)
    assert back.attrs["export"]["headers"] == "labels:Chinese (zh)" and back.attrs["export"]["encoding"] == "gb18030"
    assert_same(data, back, roster, repeats=False)


def test_planted_errors_in_a_labels_export_are_found(roster):
    data = roster_data(roster, n=10)
    tables = write_export(data, roster, "kobo_default")  # main sheet and the two repeat sheets
    main = next(iter(tables.values()))
    main.loc[2, "县区"] = "不存在的区"  # a label the form does not have
    main.loc[4, "家庭人口"] = "很多"  # not a number
    main.loc[6, "户号"] = None  # required
    p = ss.validate(tables, roster).problems
    assert p[["row", "column", "problem"]].values.tolist() == [
        [2, "county", "unknown choice code"], [4, "members_n", "not a number"],
        [6, "household_id", "missing required answer"]]


def test_label_headers_in_the_second_language_and_explicit_language(roster):
    data = roster_data(roster)
    lay = ExportLayout(headers="labels", language="English (en)", group_sep="-", select_multiple="both", sep=",")
    main = next(iter(write_export(data, roster, lay).values()))
    assert "info-Aid received-Job help" in main.columns
    back = ss.read_export(main, roster)
    assert back.attrs["export"]["headers"] == "labels:English (en)"
    assert_same(data, back, roster, repeats=False)
    assert ss.read_export(main, roster, language="English (en)")["aid"].equals(back["aid"])
    with pytest.raises(ss.QuestionnaireError, match="no language 'French'"):
        ss.read_export(main, roster, language="French")


def test_label_export_in_a_language_the_form_lacks_is_refused_with_the_reason(roster):
    raw = pd.DataFrame({"Numéro du ménage": ["H1"], "Âge": ["3"], "_uuid": ["u1"]})
    with pytest.raises(ss.QuestionnaireError, match="labels in a language the form does not have"):
        ss.validate(raw, roster)


def test_labels_export_with_two_questions_sharing_a_label_is_refused_with_the_reason(tmp_path):
    survey = [r[:] for r in SURVEY]
    survey[9][3] = "获得帮扶"  # members_n gets aid's Chinese label
    form = write_form(tmp_path / "dup.xlsx", survey)
    data = roster_data(form, n=5)
    write_export(data, form, "kobo_default", path=tmp_path / "dup.csv")
    with pytest.raises(ss.DataError, match="appear more than once.*XML values and headers"):
        ss.validate(tmp_path / "dup.csv", form)


def test_ambiguous_label_headers_are_reported(tmp_path):
    survey = [r[:] for r in SURVEY]
    survey[9][2] = "Aid received"  # members_n gets the same English label as aid
    form = write_form(tmp_path / "dup.xlsx", survey)
    raw = pd.DataFrame({"Household id": ["H1"], "Aid received": ["Cash"], "County": ["Gusu district"]})
    rep = ss.validate(raw, form)
    hit = rep.problems[rep.problems["column"] == "Aid received"]
    assert hit["problem"].str.contains("matches several questions").all() and len(hit) == 1


@pytest.mark.parametrize("layout", ["kobo_xml", "central"])
def test_both_select_multiple_columns_disagreeing_are_reported(roster, layout):
    data = roster_data(roster)
    main = next(iter(write_export(data, roster, layout).values())).copy()
    one_hot = "info/aid/cash" if layout == "kobo_xml" else "info-aid/cash"
    summary = "info/aid" if layout == "kobo_xml" else "info-aid"
    row = int(np.flatnonzero(main[one_hot] == "0")[0])
    main.loc[row, one_hot] = "1"
    main.loc[row + 1, one_hot] = "maybe"
    rep = ss.validate(main, roster)
    p = rep.problems
    assert p.loc[p["row"] == row, "problem"].str.startswith("select-multiple columns disagree").sum() == 1
    bad = p[p["problem"] == "one-hot column value is not 0 or 1"]
    assert bad["column"].tolist() == [one_hot] and bad["row"].tolist() == [row + 1]
    assert ss.read_export(main, roster)["aid"].equals(data["aid"].astype(object))  # the summary column is kept
    assert summary in main.columns


def test_central_unanswered_select_multiple_zeros_are_not_a_disagreement(roster):
    data = roster_data(roster)
    data.loc[0, "aid"] = np.nan
    main = next(iter(write_export(data, roster, "central").values()))
    assert main.loc[0, "info-aid/cash"] == "0" and main.loc[0, "info-aid"] == ""
    back = ss.read_export(main, roster)
    assert not back.attrs["export_problems"] and pd.isna(back.loc[0, "aid"])


def test_two_columns_for_one_question(roster):
    data = roster_data(roster, n=6)
    raw = data[["household_id", "county", "members_n"]].copy()
    raw["info/address/county"] = raw["county"]
    same = ss.read_export(raw, roster)
    assert same["county"].equals(raw["county"].astype(object)) and not same.attrs["export_problems"]
    assert "same values as 'county'" in same.attrs["export_columns"]["info/address/county"]
    raw.loc[3, "info/address/county"] = "wuzhong" if raw.loc[3, "county"] != "wuzhong" else "gusu"
    with pytest.raises(ss.QuestionnaireError, match=r"columns 'county' and 'info/address/county' .* differ in 1 row"):
        ss.read_export(raw, roster)
    with pytest.raises(ss.QuestionnaireError, match="info/address/county"):
        ss.validate(raw, roster)


def test_metadata_of_both_servers_is_recognised_and_unknown_columns_reported(roster):
    data = roster_data(roster, n=4)
    raw = data[["household_id", "county"]].copy()
    meta = ["_id", "_index", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
            "_submitted_by", "__version__", "_tags", "meta/instanceID", "formhub/uuid", "SubmissionDate", "KEY",
            "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState",
            "DeviceID", "Edits", "FormVersion", "meta-instanceID", "instanceID", "deviceid", "today"]
    for m in meta:
        raw[m] = "x"
    raw["_mystery"] = "1"
    raw["comment"] = "2"
    back = ss.read_export(raw, roster)
    assert list(back.index) == list(raw.index) and set(raw.columns) <= set(back.columns)  # nothing dropped
    flagged = {p["column"] for p in back.attrs["export_problems"]}
    assert flagged == {"_mystery", "comment"}
    assert all(back.attrs["export_columns"][m] == "metadata" for m in meta)


def test_validate_reads_raw_group_prefixed_exports_and_finds_every_planted_error():
    for name in ("phone_unexited", "home_visit"):
        form = bundled(name)
        for prefix in ("/", "-"):
            raw = ss.generate_responses(form, 60, seed=5, errors=list(ERROR_KINDS), group_prefix=prefix, one_hot=True)
            injected = raw.attrs["injected"]
            p = ss.validate(raw, form).problems
            assert len(p) == len(injected)
            for _, e in injected.iterrows():
                at = (p["row"] == e["row"]) & (p["column"] == e["column"])
                hit = p[at & p["problem"].str.startswith(e["problem"])]
                assert len(hit) == 1, (name, prefix, e.to_dict())


def test_dash_one_hot_from_generate_responses_is_read():
    form = bundled("phone_unexited")
    raw = ss.generate_responses(form, 20, seed=3, group_prefix="-", one_hot=True)
    only_hot = raw.drop(columns=[c for c in raw.columns if c.endswith(("aid_received", "channels", "causes"))])
    assert any(c.startswith(("aid-aid_received/", "aid-aid_received-")) for c in only_hot.columns)
    base = ss.read_export(ss.generate_responses(form, 20, seed=3, group_prefix=None), form)
    back = ss.read_export(only_hot, form)
    for q in ("aid_received", "channels", "causes"):
        assert canon(back[q]) == canon(base[q])


def test_required_question_absent_from_export_is_a_problem():
    form = bundled("home_visit")
    raw = ss.generate_responses(form, 10, seed=1).drop(columns=["status", "verify/exit_right"])
    p = ss.validate(raw, form).problems
    assert p["problem"].tolist() == ["required question not in the export"] * 2
    assert p["column"].tolist() == ["status", "exit_right"]


def test_repeat_tables_join_to_their_parent_and_are_validated(roster, tmp_path):
    data = roster_data(roster, n=12)
    data.loc[5, "member_age"] = 130  # out of range, in a repeat row
    data.loc[7, "member_name"] = np.nan  # required, in a repeat row
    path = tmp_path / "kobo.xlsx"
    write_export(data, roster, "kobo_xml", path=path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["household_roster", "members", "jobs"]
    assert [c.value for c in wb["members"][1]][-5:] == ["_index", "_parent_table_name", "_parent_index",
                                                         "_submission__id", "_submission__uuid"]
    rep = ss.validate(path, roster)
    p = rep.problems.set_index("problem")
    assert p.loc["violates constraint . >= 0 and . <= 110", "row"] == 5
    assert p.loc["violates constraint . >= 0 and . <= 110", "table"] == "members"
    missing = rep.problems[rep.problems["problem"] == "missing required answer"]
    assert ["member_name", 7, "members"] in missing[["column", "row", "table"]].values.tolist()
    # a job is required from 16 on: row 5's member, now 130, had none (children have no job)
    expected_jobs = int(pd.isna(data.loc[5, "job"]))
    assert len(missing) == 1 + expected_jobs and len(rep.problems) == 2 + expected_jobs
    jobs = ss.read_export(path, roster).attrs["repeats"]["jobs"]
    assert jobs["_row"].tolist() == list(range(12)) and jobs["_parent_row"].tolist() == list(range(12))


def test_repeat_tables_are_shared_not_copied_by_operations_on_the_main_table(roster, tmp_path):
    """pandas deep-copies attrs after every operation; the repeat tables ride along by reference."""
    path = tmp_path / "kobo.xlsx"
    write_export(roster_data(roster, n=12), roster, "kobo_xml", path=path)
    table = ss.read_export(path, roster)
    repeats = table.attrs["repeats"]
    derived = table.assign(extra=1).iloc[:5]
    assert derived.attrs["repeats"] is repeats and derived.attrs["repeats"] == repeats
    assert pd.concat([table, table]).attrs["repeats"] is repeats  # equal attrs are kept by concat


def test_nested_repeat_rows_see_their_parent_repeat_row(roster, tmp_path):
    data = roster_data(roster, n=20)
    adult = int(np.flatnonzero(pd.to_numeric(data["member_age"]) >= 16)[0])
    child = int(np.flatnonzero(pd.to_numeric(data["member_age"]) < 16)[0])
    data.loc[[adult, child], "job"] = np.nan  # required only where the parent member is 16 or older
    write_export(data, roster, "central", path=tmp_path / "central.zip")
    p = ss.validate(tmp_path / "central.zip", roster).problems
    found = p[["row", "column", "problem", "table"]].values.tolist()
    assert found == [[adult, "job", "missing required answer", "jobs"]]


def test_central_zip_repeat_keys_and_orphans(roster):
    data = roster_data(roster, n=6)
    tables = write_export(data, roster, "central")
    assert list(tables) == ["household_roster", "household_roster-members", "household_roster-jobs"]
    jobs = tables["household_roster-jobs"]
    assert jobs.loc[0, "PARENT_KEY"].endswith("/members[1]") and jobs.loc[0, "KEY"].endswith("/members[1]/jobs[1]")
    tables["household_roster-members"].loc[2, "PARENT_KEY"] = "uuid:not-there"
    back = ss.read_export(tables, roster)
    members = back.attrs["repeats"]["members"]
    assert len(members) == 6 and pd.isna(members.loc[2, "_row"])  # kept, not dropped
    orphans = [p for p in back.attrs["export_problems"] if "has no parent row" in p["problem"]]
    assert len(orphans) == 1 and orphans[0]["table"] == "members"
    assert pd.isna(back.attrs["repeats"]["jobs"].loc[2, "_row"])  # its child has no submission either


def test_unmatched_sheet_is_reported(roster):
    data = roster_data(roster, n=3)
    tables = write_export(data, roster, "kobo_default")
    tables["notes"] = pd.DataFrame({"_parent_index": ["1"], "remark": ["x"]})
    back = ss.read_export(tables, roster)
    assert any(p["column"] == "notes" and "not matched to a repeat group" in p["problem"]
               for p in back.attrs["export_problems"])


def test_geopoint_parts_of_both_servers(roster):
    data = roster_data(roster, n=8)
    parts = {"kobo_xml": "info/address/_location_latitude", "central": "info-address-location-Latitude"}
    for layout, part in parts.items():
        main = next(iter(write_export(data, roster, layout).values()))
        assert part in main.columns
        assert canon(ss.read_export(main, roster)["location"]) == canon(data["location"])


def test_hxl_tag_row_is_not_a_submission(roster):
    data = roster_data(roster, n=3)
    main = next(iter(write_export(data, roster, "kobo_xml_no_groups_summary").values()))
    tags = pd.DataFrame([["#loc" if c == "county" else "" for c in main.columns]], columns=main.columns)
    back = ss.read_export(pd.concat([tags, main], ignore_index=True), roster)
    assert len(back) == 3 and back.attrs["export"]["hxl_tag_row"]


@pytest.mark.parametrize("value", ["5.0", 5.0, 5, "5", " 5 "])
def test_numeric_answers_written_as_numbers_are_coded(value):
    form = bundled("deregistered")
    raw = pd.DataFrame({"household_id": ["D1", "D2"], "sat_overall": [value, "2"], "age": [value, "3.0"]})
    coded = ss.code_responses(raw, form)
    assert coded["satisfied"].tolist() == [1.0, 0.0] and coded["sat_overall"].tolist() == ["5", "2"]
    assert ss.validate(raw, form).problems.query("column == 'sat_overall'").empty


def test_numeric_codes_from_excel_cells(tmp_path):
    form = bundled("deregistered")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["household_id", "satisfaction/sat_overall"])
    ws.append(["D1", 5.0])
    ws.append(["D2", 4])
    wb.save(tmp_path / "numbers.xlsx")
    assert ss.code_responses(tmp_path / "numbers.xlsx", form)["satisfied"].tolist() == [1.0, 1.0]


def test_personal_data_in_problems_are_masked_whatever_the_column(roster):
    data = roster_data(roster, n=5)
    data.loc[1, "contact_phone"] = "1391234567"  # 10 digits: violates the regex
    data.loc[2, "household_id"] = data.loc[1, "household_id"]
    data.loc[2, "household_id"] = "110105194912310037"
    data.loc[3, "household_id"] = "110105194912310037"
    p = ss.validate(data, roster).problems
    text = p.to_string()
    assert "1391234567" not in text and "110105194912310037" not in text
    assert "1101************37" in set(p["value"])


def test_written_exports_hold_no_formulas(roster, tmp_path):
    data = roster_data(roster, n=3)
    data.loc[0, "household_id"] = "=HYPERLINK(\"http://x\")"
    write_export(data, roster, "kobo_default", path=tmp_path / "x.xlsx")
    write_export(data, roster, "central", path=tmp_path / "x.csv")
    wb = openpyxl.load_workbook(tmp_path / "x.xlsx")
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)
    assert "'=HYPERLINK" in (tmp_path / "x.csv").read_text(encoding="utf-8")
    rep = ss.validate(data.assign(household_id=["=1+1", "@x", "-3"]), roster)
    rep.to_excel(tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert all(c.data_type != "f" for row in wb.active.iter_rows() for c in row)


def test_unsupported_expression_is_reported_not_skipped(roster, tmp_path):
    survey = [r[:] for r in SURVEY]
    survey[9][5] = "some-unknown-function(${county}) = 1"  # members_n relevant
    form = write_form(tmp_path / "f.xlsx", survey)
    data = roster_data(roster, n=5)
    data.loc[0, "members_n"] = np.nan
    p = ss.validate(data, form).problems
    hit = p[p["problem"].str.startswith("not evaluated")]
    assert hit["problem"].tolist() == ["not evaluated: function some-unknown-function() is not supported (relevant)"]
    assert hit["column"].tolist() == ["members_n"] and hit["row"].isna().all()


def test_concat_of_read_exports_keeps_working(roster):
    data = roster_data(roster, n=4)
    tables = write_export(data, roster, "kobo_default")
    a, b = ss.read_export(tables, roster), ss.read_export(tables, roster)
    assert len(pd.concat([a, b])) == 8


def test_bad_inputs_give_typed_errors(tmp_path, roster):
    with pytest.raises(ss.SurveyStatsError):
        ss.read_export(42, roster)  # type: ignore[arg-type]
    with pytest.raises(ss.SurveyStatsError):
        ss.read_export(tmp_path / "missing.csv", roster)
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(ss.SurveyStatsError):
        ss.read_export(tmp_path / "bad.zip", roster)
    (tmp_path / "bad.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(ss.SurveyStatsError):
        ss.validate(tmp_path / "bad.xlsx", roster)
    frame = pd.DataFrame([[1, 2]], columns=["county", "county"])
    with pytest.raises(ss.DataError, match="more than once"):
        ss.read_export(frame, roster)
    with pytest.raises(ss.QuestionnaireError, match="unknown export layout"):
        write_export(roster_data(roster, n=2), roster, "spss")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(ss.DataError, match="no CSV"):
        ss.read_export(tmp_path / "empty.zip", roster)
