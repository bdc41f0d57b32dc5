"""Exports as KoboToolbox and ODK Central write them (tests/data/exports/SOURCES) read to the submitted values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import survey_stats as ss

DATA = Path(__file__).resolve().parent / "data" / "exports"
SAMPLES = sorted(p for p in DATA.glob("*__*") if p.suffix in (".csv", ".xlsx", ".zip"))

# The submissions behind the KoboToolbox samples (kpi's mock submissions, in XML values)
ANIMALS = {
    "What_kind_of_symmetry_do_you_have": ["spherical radial bilateral", "radial", "bilateral"],
    "How_many_segments_does_your_body_have": ["6", "3", "2"],
    "Do_you_have_body_flu_intracellular_space": ["yes__and_some_", "yes", "no___unsure"],
    "Do_you_descend_from_unicellular_organism": ["no", "no", "yes"],
    "_uuid": ["48583952-1892-4931-8d9c-869e7b49bafb", "317ba7b7-bea4-4a8c-8620-a483c3079c4b",
              "3f15cdfe-3eab-4678-8352-7806febf158d"],
}
STRUCTURED = {"name": ["Alice", "Bob", "Chelsea"], "type": ["Apartment", "Condo", "House"],
              "street": ["101 Pike St", "20 Broadway", "99 Mission Ave"],
              "city": ["Seattle, WA", "Portland, OR", "San Francisco, CA"]}
EXPECTED = {
    "animals": ANIMALS,
    "geopoint": {"name": ["Alice", "Bob", "Chelsea"],
                 "location": ["47.649434 -122.347737 26.8 3.14", "47.599115 -122.331753 10", None]},
    "structuredform": STRUCTURED,
    "selectMultiple": {"q1": ["a b", "b"]},
}


def form_of(path):
    return ss.load_questionnaire(DATA / "forms" / f"{path.name.split('__')[0]}.xlsx")


def values(series):
    return [None if pd.isna(v) else str(v) for v in series]


def test_samples_are_there():
    assert len(SAMPLES) >= 10 and (DATA / "SOURCES").is_file()


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_reads_with_every_column_accounted_for(path):
    try:
        form = form_of(path)
    except ss.QuestionnaireError as exc:  # singlerepeat: the loader before pyxform refused a name used in two groups
        pytest.skip(f"this loader refuses the form: {exc}")
    back = ss.read_export(path, form)
    assert not back.attrs["export_problems"], back.attrs["export_problems"]
    for key, expected in EXPECTED.get(path.name.split("__")[0], {}).items():
        assert values(back[key]) == expected, key
    assert ss.validate(back, form).ok


def test_kobo_samples_say_what_they_are():
    for name, headers in [("animals__kobo_default_labels_hxl.csv", "labels:English"),
                          ("animals__kobo_spanish_labels.csv", "labels:Spanish")]:
        info = ss.read_export(DATA / name, form_of(DATA / name)).attrs["export"]
        assert info["headers"] == headers and info["separator"] == ";" and info["hxl_tag_row"]
        assert info["server"] == "kobo"


def test_central_split_select_multiple_with_values_not_in_the_columns():
    path = DATA / "selectMultiple__central_split.csv"
    back = ss.read_export(path, form_of(path))
    assert values(back["q2"]) == ["x y z", "m x"]  # the summary column; its m/n 0/1 columns agree
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw.loc[1, "g1-q2/m"] = "0"
    p = ss.validate(raw, form_of(path)).problems
    assert p["problem"].str.startswith("select-multiple columns disagree").tolist() == [True]


def test_kobo_repeat_sheet_joined_to_its_submission():
    path = DATA / "simple_repeat__kobo_repeat_sheets.xlsx"
    back = ss.read_export(path, form_of(path))
    person = back.attrs["repeats"]["person"]
    assert values(person["name"]) == ["Julius Caesar", "Augustus"] and values(person["age"]) == ["55", "75"]
    assert person["_row"].tolist() == [0, 0] and len(back) == 1


def test_central_repeat_zip_with_a_name_the_main_table_also_uses():
    path = DATA / "singlerepeat__central.zip"
    try:
        form = form_of(path)
    except ss.QuestionnaireError as exc:  # the loader before pyxform refused a name used in two groups
        pytest.skip(f"this loader refuses the form: {exc}")
    back = ss.read_export(path, form)
    child = back.attrs["repeats"]["child"]
    keys = {f.q.name: f.key for f in ss.questionnaires.exports.form_fields(form) if f.repeat}
    assert values(back["name"]) == ["Alice", "Bob", "Chelsea"]
    assert values(child[keys["name"]]) == ["Billy", "Blaine", "Candace"] and child["_row"].tolist() == [1, 1, 2]
    assert not back.attrs["export_problems"]
