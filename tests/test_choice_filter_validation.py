"""validate checks cascading selects: an answer the choice_filter does not offer is a problem."""

import warnings
from pathlib import Path

import pandas as pd

import survey_stats as ss
from survey_stats.errors import SurveyStatsWarning

FORM = Path(__file__).parent / "data" / "forms" / "pyxform__choice_filter_test.xlsx"


def test_answer_outside_the_choice_filter_is_reported_and_generated_data_are_clean():
    form = ss.load_questionnaire(FORM)
    city = form["city"]
    assert city.choice_filter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyStatsWarning)
        raw = ss.generate_responses(form, 40, seed=3)
    assert ss.validate(raw, form, id_column=None).ok
    first = {k: (None if pd.isna(v) else v) for k, v in raw.iloc[0].to_dict().items()}
    offered = {c.name for c in form.choices_for(city, first)}
    outside = next(c.name for c in form.choices[city.list_name] if c.name not in offered)
    bad = raw.copy()
    bad.loc[bad.index[0], "city"] = outside
    problems = ss.validate(bad, form, id_column=None).problems
    hit = problems[problems["problem"].str.startswith("choice not offered by the choice_filter")]
    assert hit[["row", "column"]].values.tolist() == [[bad.index[0], "city"]]
