"""Random frames through read_export / validate / code_responses: a result or a typed error, never a crash."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import survey_stats as ss

FORM = ss.load_questionnaire(ss.questionnaire_path("phone_unexited"))
POOL = [
    *FORM.names(),
    *(f"{'/'.join(q.group)}/{q.name}" for q in FORM.questions if q.group),
    *(f"{'-'.join(q.group)}-{q.name}" for q in FORM.questions if q.group),
    "aid/aid_received/cash", "aid-aid_received-cash", "aid-aid_received/zz", "policy/channels/tv",
    "_uuid", "_index", "_parent_index", "KEY", "PARENT_KEY", "SubmissionDate", "meta-instanceID", "_mystery",
    "户号", "满意度", "", " ", "0", "a/b/c", "-", "/",
]
VALUES = st.one_of(
    st.none(), st.just(math.nan), st.just(math.inf), st.just(-math.inf), st.booleans(),
    st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6),
    st.sampled_from(["5", "5.0", "dk", "yes", "1", "0", "tv wechat", "13912345678", "=1+1", "  "]),
)


@st.composite
def frames(draw):
    cols = draw(st.lists(st.sampled_from(POOL), min_size=0, max_size=8, unique=True))
    n = draw(st.integers(0, 5))
    data = {c: draw(st.lists(VALUES, min_size=n, max_size=n)) for c in cols}
    df = pd.DataFrame(data, index=pd.RangeIndex(n), columns=cols, dtype=object)
    for c in cols:
        kind = draw(st.sampled_from(["object", "object", "Int64", "boolean", "string", "float", "category"]))
        try:
            df[c] = df[c].astype(kind)
        except (TypeError, ValueError, OverflowError):
            pass
    if cols and draw(st.booleans()):
        df.columns = [*cols[:-1], cols[0]]  # a duplicate column name
    return df


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(frames())
def test_random_frames_give_a_result_or_a_typed_error(df):
    for call in (lambda: ss.read_export(df, FORM), lambda: ss.validate(df, FORM), lambda: ss.code_responses(df, FORM)):
        try:
            out = call()
        except ss.SurveyStatsError:
            continue
        rows = out.n_rows if isinstance(out, ss.questionnaires.ValidationReport) else len(out)
        assert rows == len(df)  # no row lost


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(["5", 5.0, "5.0", 4, "4.0", "3", 3.0, "dk", None, np.nan, " 5 "]),
                min_size=1, max_size=8))
def test_numeric_spellings_code_like_their_code(values):
    raw = pd.DataFrame({"household_id": [f"H{i}" for i in range(len(values))], "sat_overall": values})
    coded = ss.code_responses(raw, FORM)["satisfied"]
    for v, c in zip(values, coded):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v == "dk":
            assert math.isnan(c)
        else:
            assert c == (1.0 if float(str(v)) >= 4 else 0.0)
