"""Design construction: derived weights, FPC, certainty units, census strata, validation errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import survey_stats as ss
from _refs import ref_data


def small(**over):
    df = pd.DataFrame(
        {
            "s": ["a", "a", "a", "b", "b", "c", "c"],
            "N": [30, 30, 30, 10, 10, 2, 2],
            "w": [10.0, 10, 10, 5, 5, 1, 1],
            "psu": [1, 1, 2, 3, 4, 5, 6],
            "y": [1.0, 0, 1, 1, 0, 1, 0],
        }
    )
    for k, v in over.items():
        df[k] = v
    return df


def test_weights_derived_from_population_sizes():
    d = ss.Design(small(), strata="s", fpc="N")
    assert_allclose(d.weights, [10, 10, 10, 5, 5, 1, 1])
    assert d.degf == 7 - 3
    s = d.summary()
    assert s["census"].tolist() == [False, False, True]
    assert_allclose(s["fraction"], [0.1, 0.2, 1.0])


def test_weights_derived_from_fractions_match_sizes():
    df = small()
    df["f"] = df.groupby("s")["s"].transform("size") / df["N"]
    a = ss.mean(ss.Design(df, strata="s", fpc="f"), "y")
    b = ss.mean(ss.Design(df, strata="s", fpc="N"), "y")
    assert_allclose([a.estimate, a.se], [b.estimate, b.se], rtol=1e-12)


def test_census_stratum_has_no_variance():
    d = ss.Design(small(), strata="s", fpc="N")
    t = ss.mean(d, "y", by="s")
    assert t["c"].se == 0.0
    assert t["a"].se > 0


def test_design_is_immutable():
    d = ss.Design(small(), strata="s", fpc="N")
    with pytest.raises(AttributeError, match="immutable"):
        d.n = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        d.weights[0] = 2.0
    df = small()
    d = ss.Design(df, strata="s", fpc="N")
    df.loc[0, "y"] = 99
    assert d.column("y").iloc[0] == 1.0


def test_certainty_units_weight_one_and_no_variance():
    """Flagged files enter with probability 1; the rest of the stratum is an SRS of N_h - c_h."""
    df = pd.DataFrame({"s": ["a"] * 6, "N": [20] * 6, "flag": [True, True, False, False, False, False],
                       "y": [1.0, 0.0, 1, 0, 0, 1]})
    d = ss.Design(df, strata="s", fpc="N", certainty="flag")
    assert_allclose(d.weights, [1, 1, 4.5, 4.5, 4.5, 4.5])  # (20 - 2) / (6 - 2)
    assert d.n_strata == 2 and d.summary()["census"].tolist() == [False, True]
    # same as an explicit two-stratum design: certainty units a census stratum
    df2 = df.assign(s2=np.where(df["flag"], "cert", "rest"), N2=np.where(df["flag"], 2, 18))
    ref = ss.Design(df2, strata="s2", fpc="N2")
    a, b = ss.total(d, "y"), ss.total(ref, "y")
    assert_allclose([a.estimate, a.se], [b.estimate, b.se], rtol=1e-12)
    assert d.degf == ref.degf


def test_certainty_units_with_given_weights_must_be_one():
    df = pd.DataFrame({"s": ["a"] * 4, "w": [2.0, 3, 3, 3], "flag": [1, 0, 0, 0], "y": [1.0, 0, 1, 0]})
    with pytest.raises(ss.DesignError, match="certainty units must have weight 1.*'w'"):
        ss.Design(df, strata="s", weights="w", certainty="flag")


def test_no_weights_warns():
    with pytest.warns(ss.SurveyStatsWarning, match="equal probability"):
        d = ss.Design(small(), strata="s")
    assert_allclose(d.weights, 1.0)


@pytest.mark.parametrize(
    "kwargs, frame, error, pattern",
    [
        ({"strata": "stratum"}, {}, ss.DesignError, "not in data: strata='stratum'"),
        ({"strata": "s", "weights": "w"}, {"w": [1, np.nan, 1, 1, 1, 1, 1]}, ss.DesignError,
         "weights column 'w' has missing values in 1 row"),
        ({"strata": "s", "weights": "w"}, {"s": ["a", None, "a", "b", "b", "c", "c"]}, ss.DesignError,
         "strata column 's' has missing values.*index 1"),
        ({"strata": "s", "weights": "w"}, {"w": [1, 0, 1, 1, 1, 1, 1]}, ss.DesignError,
         "'w' has values ≤ 0 in 1 row.*index 1"),
        ({"strata": "s", "weights": "w"}, {"w": [1, -2, 1, 1, 1, 1, 1]}, ss.DesignError, "≤ 0"),
        ({"strata": "s", "fpc": "N"}, {"N": [30, 30, 30, 10, 10, 1, 1]}, ss.DesignError,
         "stratum 'c' has n_h = 2.*N_h = 1"),
        ({"strata": "s", "fpc": "N"}, {"N": [30, 31, 30, 10, 10, 2, 2]}, ss.DesignError,
         "not constant within stratum.*'a'"),
        ({"strata": "s", "fpc": "N", "fpc_type": "fraction"}, {"N": [0.1] * 5 + [1.5, 1.5]}, ss.DesignError,
         "sampling fraction > 1.*'c'"),
        ({"strata": "s", "fpc": "N"}, {"N": [0.1] * 5 + [2, 2]}, ss.DesignError, "mixes values"),
        ({"strata": "s", "fpc": "N"}, {"N": [0] * 7}, ss.DesignError, "≤ 0"),
        ({"strata": "s", "weights": "w", "ids": "psu"}, {"psu": [1, 1, 2, 2, 4, 5, 6]}, ss.DesignError,
         "not nested in strata.*PSU id.*2.*nest=True"),
        ({"strata": "s", "weights": "w"}, {"w": ["x", 1, 1, 1, 1, 1, 1]}, ss.DesignError,
         "weights column 'w' is not numeric"),
        ({"strata": "s", "weights": "w", "certainty": "y"}, {"y": [2, 0, 1, 0, 1, 0, 1]}, ss.DesignError,
         "certainty column 'y' must be boolean"),
        ({"strata": "s", "weights": "w", "lonely_psu": "drop"}, {}, ss.MethodError, "lonely_psu='drop'.*'adjust'"),
        ({"strata": "s", "weights": "w", "ids": "psu"}, {"psu": [1, 1, 1, 3, 4, 5, 6]}, ss.LonelyPSUError,
         "stratum/strata 'a' has a single PSU.*lonely_psu="),
    ],
)
def test_bad_design_input(kwargs, frame, error, pattern):
    with pytest.raises(error, match=pattern):
        ss.Design(small(**frame), **kwargs)


def test_nest_true_makes_psu_ids_stratum_local():
    d = ss.Design(small(psu=[1, 1, 2, 1, 2, 1, 2]), strata="s", weights="w", ids="psu", nest=True)
    assert d.n_psu == 6 and d.degf == 3


def test_empty_and_non_frame_input():
    with pytest.raises(ss.DataError, match="no rows"):
        ss.Design(small().iloc[:0], strata="s", weights="w")
    with pytest.raises(ss.DesignError, match="DataFrame"):
        ss.Design({"a": [1]})  # type: ignore[arg-type]


def test_repr_and_summary_of_cluster_design():
    d = ss.Design(ref_data("apiclus1.csv"), ids="dnum", weights="pw", fpc="fpc")
    assert "15 PSUs" in repr(d) and d.degf == 14
    s = d.summary()
    assert s["n_psu"].tolist() == [15] and s["N_psu"].tolist() == [757.0]
