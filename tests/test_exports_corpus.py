"""Every form — bundled and the public corpus in tests/data/forms — round-trips through every export layout.

For each form: generate 50 submissions, lay them out as KoboToolbox and ODK Central export them
(every entry of EXPORT_LAYOUTS, as DataFrames and as CSV / XLSX / zip files), read them back and
compare the coded data.  A labels export of a form whose labels cannot identify its questions
(blank or repeated labels) must not come back silently different: it is refused with a typed
error or reported.  The corpus directory can be pointed elsewhere with SURVEY_STATS_FORMS_DIR.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
from _exports import assert_same, headers_unique, labels_usable, round_trip

import survey_stats as ss
from survey_stats.errors import SurveyStatsWarning
from survey_stats.questionnaires import EXPORT_LAYOUTS, FORMS
from survey_stats.questionnaires.exports import repeat_groups

CORPUS = Path(os.environ.get("SURVEY_STATS_FORMS_DIR", Path(__file__).resolve().parent / "data" / "forms"))
CORPUS_FORMS = sorted(p for p in CORPUS.glob("*") if p.suffix.lower() in (".xlsx", ".xls")) if CORPUS.is_dir() else []
CASES = [(name, "frame") for name in EXPORT_LAYOUTS]
CASES += [("kobo_default", ".csv"), ("kobo_xml", ".csv"), ("kobo_labels_gbk", ".csv"), ("kobo_xml", ".xlsx"),
          ("kobo_labels_groups", ".xlsx"), ("central", ".zip"), ("central_no_groups", ".csv")]


def _params():
    bundled = [pytest.param(ss.questionnaire_path(n), id=f"bundled-{n}") for n in FORMS]
    corpus = [pytest.param(p, id=p.name) for p in CORPUS_FORMS]
    return bundled + corpus


def test_corpus_directory():
    if not CORPUS.is_dir():
        pytest.skip(f"no form corpus at {CORPUS}")
    assert CORPUS_FORMS, f"{CORPUS} holds no .xlsx/.xls form"


@pytest.mark.parametrize("path", _params())
def test_form_round_trips_through_every_export_layout(path, tmp_path):
    try:
        form = ss.load_questionnaire(path)
    except ss.QuestionnaireError as exc:
        if "pyxform rejects the form" in str(exc):
            pytest.skip(f"pyxform rejects the form (tested in test_forms_corpus): {exc}")
        raise
    with warnings.catch_warnings():  # expressions it cannot evaluate: tested in test_forms_corpus
        warnings.simplefilter("ignore", SurveyStatsWarning)
        data = ss.read_export(ss.generate_responses(form, 50, seed=7), form)
    assert len(data) == 50
    found = _kinds(ss.validate(data, form))  # whatever the answers hold, every layout must report the same
    other_languages = [(replace(EXPORT_LAYOUTS["kobo_default"], language=lang), "frame") for lang in form.languages[1:]]
    for layout, suffix in CASES + other_languages:
        lay = EXPORT_LAYOUTS[layout] if isinstance(layout, str) else layout
        language = lay.language or (form.languages[0] if form.languages else None)
        labels_ok = lay.headers == "xml" or bool(language and labels_usable(form, language))
        if not headers_unique(form, lay) or not labels_ok:
            _refused_or_reported(data, form, layout, suffix, tmp_path)
            continue
        back = round_trip(data, form, layout, suffix, tmp_path)
        try:
            assert_same(data, back, form, repeats=suffix != ".csv")
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{lay} {suffix}: {exc!r}") from exc
        unread = [p for p in back.attrs["export_problems"] if p["row"] is None]
        assert not unread, (layout, suffix, unread[:3])
        if suffix != ".csv" or not repeat_groups(form):
            assert _kinds(ss.validate(back, form)) == found, (layout, suffix)
    if path.parent.name == "forms" and path.parent.parent.name == "questionnaires":  # bundled: valid by design
        assert found == []


def _kinds(report):
    return sorted(report.problems[["row", "column", "problem"]].astype(str).itertuples(index=False, name=None))


def _refused_or_reported(data, form, layout, suffix, tmp_path):
    try:
        back = round_trip(data, form, layout, suffix, tmp_path)
    except ss.SurveyStatsError:
        return
    try:
        assert_same(data, back, form, repeats=suffix != ".csv")
    except (AssertionError, KeyError):  # a value differs, or a question was not read
        assert back.attrs["export_problems"], f"{layout}{suffix}: labels export read back differently, unreported"
