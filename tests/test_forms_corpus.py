"""Public XLSForms written by others (tests/data/forms, see SOURCES): load, count, generate, validate."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import survey_stats as ss
from survey_stats.errors import SurveyStatsWarning
from survey_stats.questionnaires import FORMS

DATA = Path(__file__).resolve().parent / "data" / "forms"
SOURCES = [line.split(" | ") for line in (DATA / "SOURCES").read_text(encoding="utf-8").splitlines()
           if line.strip() and not line.startswith("#")]
REJECTED = {"pyxform__group_name_test.xls": r"\[row : 3\] Question or group with no name"}
CORPUS = [row[0] for row in SOURCES if row[0] not in REJECTED]

#: Expressions a form uses that are knowingly not evaluated: (question, expression kind) → reason.
KNOWN_NOT_EVALUATED = {
    # choice_filter `pastel=yes` compares with a child node `yes` that no choice has (ODK shows no choice either)
    "pyxform__or_other.xlsx": {("fav_pastel", "choice_filter"): "path yes names no question"},
    "pyxform__pull_data.xlsx": {("fruit", "calculation"): "function pulldata() is not supported"},
}


def pyxform_counts(path: Path) -> tuple[int, dict[str, int]]:
    """Questions (groups, repeats and pyxform's meta block left out; loops expanded) and choices per list."""
    from pyxform.xls2json import parse_file_to_json

    data = parse_file_to_json(str(path), warnings=[])

    def leaves(children: list[dict], top: bool) -> int:
        n = 0
        for c in children:
            if top and c.get("name") == "meta" and c.get("control", {}).get("bodyless"):
                continue
            if c.get("type") == "loop":
                n += len(c["columns"]) * leaves(c["children"], False)
            elif "children" in c and c.get("type") in ("group", "repeat"):
                n += leaves(c["children"], False)
            else:
                n += 1
        return n

    return leaves(data["children"], True), {k: len(v) for k, v in data.get("choices", {}).items()}


def test_sources_list_every_fixture_with_repository_commit_and_licence():
    files = {p.name for p in DATA.iterdir() if p.suffix in (".xls", ".xlsx")}
    assert files == {row[0] for row in SOURCES} and len(CORPUS) >= 15
    for name, repo, path, commit, licence in SOURCES:
        assert "/" in repo and path.endswith(name.split("__", 1)[1]) and len(commit.strip()) == 40
        assert (DATA / licence.split("(")[1].split(")")[0]).is_file()


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_form_loads_with_pyxform_counts(name):
    form = ss.load_questionnaire(DATA / name)
    n_questions, choices = pyxform_counts(DATA / name)
    assert len(form.questions) == n_questions
    assert {k: len(v) for k, v in form.choices.items()} == choices
    assert len({q.key for q in form.questions}) == len(form.questions)  # every question addressable


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_form_generates_data_that_validate(name):
    form = ss.load_questionnaire(DATA / name)
    known = KNOWN_NOT_EVALUATED.get(name, {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = ss.generate_responses(form, 60, seed=3, group_prefix=None)
    said = [str(w.message) for w in caught if issubclass(w.category, SurveyStatsWarning)]
    assert len(said) == (1 if known else 0), said
    for (question, kind), reason in known.items():
        assert f"{question} {kind}: {reason}" in said[0]
    assert len(raw) == 60 and set(form.names()) <= set(raw.columns)
    report = ss.validate(raw, form)
    reported = {(r.column, r.problem) for r in report.problems.itertuples()}
    expected = {(q, f"not evaluated: {reason} ({kind})") for (q, kind), reason in known.items()
                if kind in ("relevant", "required", "constraint", "choice_filter")}
    assert reported == expected, str(report)  # nothing else, and every knowingly unevaluated part is reported


def test_form_pyxform_rejects_is_refused_with_its_message_and_row():
    with pytest.raises(ss.QuestionnaireError, match=REJECTED["pyxform__group_name_test.xls"]):
        ss.load_questionnaire(DATA / "pyxform__group_name_test.xls")


def test_corpus_features_are_read_as_pyxform_defines_them():
    loop = ss.load_questionnaire(DATA / "pyxform__loop.xlsx")  # begin loop: one group per choice
    assert [q.key for q in loop.questions if q.name == "number"] == [
        f"loop_toilet_types/{c}/number" for c in loop.codes("available_toilet_types")]
    other = ss.load_questionnaire(DATA / "pyxform__or_other.xlsx")
    assert other["fav_color"].or_other and "other" in other.codes("fav_color")
    assert other["fav_color_other"].relevant == "selected(../fav_color, 'other')"
    assert other["fav_pastel"].choice_filter == "pastel=yes"
    reps = ss.load_questionnaire(DATA / "kobocat__nested_repeats.xls")
    assert any(q.repeat and len(q.repeat) == 2 for q in reps.questions)  # a repeat inside a repeat
    multi = ss.load_questionnaire(DATA / "kobocat__good_eats_multilang.xls")
    assert {"English", "French"} <= set(multi.languages)
    ext = ss.load_questionnaire(DATA / "pyxform__case_insensitivity.xlsx")  # capitalised sheets, external choices
    assert ext["q2"].type == "select_one_external" and ext.codes("q2") == ["n1-e", "n2-e"]
    assert ext.codes("q1") == ["n1-c", "n2-c"]
    ucl = ss.load_questionnaire(DATA / "pyxform__UCL_Biomass_Plot_Form.xlsx")
    assert ucl["district_id"].type == "select_one_from_file" and ucl["district_id"].list_name == "UCL_districts.csv"
    assert set(ucl.languages) == {"English (en)", "Swahili (sw)"}


def test_cascading_choice_filter_is_honoured_in_generated_data():
    form = ss.load_questionnaire(DATA / "pyxform__choice_filter_test.xlsx")
    raw = ss.generate_responses(form, 80, seed=2, group_prefix=None)
    allowed = {(c.properties["cf"], c.name) for c in form.choices["counties"]}  # "king" is in two states
    rows = raw.dropna(subset=["state", "county"])
    assert len(rows) > 40 and set(zip(rows["state"], rows["county"])) <= allowed


def test_or_other_text_follows_the_other_code():
    form = ss.load_questionnaire(DATA / "pyxform__or_other.xlsx")
    with pytest.warns(SurveyStatsWarning, match="fav_pastel choice_filter"):
        raw = ss.generate_responses(form, 120, seed=4, group_prefix=None)
    chose = raw["fav_color"] == "other"
    assert chose.any() and raw.loc[chose, "fav_color_other"].notna().all()
    assert raw.loc[~chose, "fav_color_other"].isna().all()


@pytest.mark.parametrize("name", list(FORMS))
def test_bundled_forms_load_without_pyxform_warnings(name):
    form = ss.load_questionnaire(ss.questionnaire_path(name))
    assert form.pyxform_warnings == () and form.questions


@pytest.mark.parametrize("name", ["pyxform__UCL_Biomass_Plot_Form.xlsx", "pyxform__xlsform_spec_test.xlsx",
                                  "kobocat__exp.xlsx", "kobocat__tutorial.xls"])
def test_blanked_required_answer_in_corpus_data_is_reported(name):
    form = ss.load_questionnaire(DATA / name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyStatsWarning)
        raw = ss.generate_responses(form, 60, seed=3, group_prefix=None)
    q = next(q for q in form.questions if q.required and q.answered and raw[q.key].notna().any())
    row = raw.index[raw[q.key].notna()][0]
    raw.loc[row, q.key] = None
    p = ss.validate(raw, form).problems
    assert p[["row", "column", "problem"]].values.tolist() == [[row, q.key, "missing required answer"]]


def test_same_name_in_different_loop_items_is_validated_per_column():
    form = ss.load_questionnaire(DATA / "pyxform__loop.xlsx")
    raw = ss.generate_responses(form, 60, seed=1, group_prefix=None)
    key = "loop_toilet_types/bucket_system/number"
    row = raw.index[0]
    raw[key] = raw[key].astype(object)
    raw.loc[row, key] = "many"
    p = ss.validate(raw, form).problems
    assert p[["row", "column", "problem"]].values.tolist() == [[row, key, "not a number"]]
