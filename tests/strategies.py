"""Hypothesis strategies shared by the invariant tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st


@st.composite
def stratified_frames(draw, binary: bool = False, clusters: bool = False, census: bool | None = None):
    """A stratified sample with FPC: 1-4 strata, 2-7 PSUs each, y continuous or 0/1, a domain column g."""
    H = draw(st.integers(1, 4))
    rows = []
    psu_id = 0
    for h in range(H):
        n_h = draw(st.integers(2, 7))
        is_census = draw(st.booleans()) if census is None else census
        N_h = n_h if is_census else n_h + draw(st.integers(1, 60))
        for _ in range(n_h):
            psu_id += 1
            size = draw(st.integers(1, 3)) if clusters else 1
            for _ in range(size):
                y = draw(st.integers(0, 1)) if binary else draw(st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 3)))
                rows.append({"h": f"s{h}", "N": N_h, "psu": psu_id, "y": float(y), "g": draw(st.sampled_from("ab"))})
    df = pd.DataFrame(rows)
    counts = df.groupby("h")["psu"].transform("nunique")
    df["w"] = df["N"] / counts
    return df


def shuffled(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return df.iloc[rng.permutation(len(df))].reset_index(drop=True)


# -- messy frames for the fuzz tests (tests/test_fuzz.py) -----------------------------------------
#: Numbers a careless export can hold: NaN, ±inf, zero, negatives, huge and tiny values.
messy_floats = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False),
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1.0, 1e300, 1e-300, 1.0]),
)
#: Labels of mixed types, with missing values.
messy_labels = st.sampled_from(["a", "b", "c", 1, 2.5, None, np.nan, "", " a"])


@st.composite
def messy_column(draw, n: int, kind: str | None = None) -> pd.Series:
    """One column of length n in one of many dtypes (float, int, nullable, object, string, category)."""
    kind = kind or draw(st.sampled_from(["float", "int", "binary", "Int64", "Float64", "boolean", "object",
                                         "string", "category", "constant", "text"]))
    if kind == "float":
        return pd.Series(draw(st.lists(messy_floats, min_size=n, max_size=n)), dtype=float)
    if kind == "int":
        return pd.Series(draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), dtype="int64")
    if kind == "binary":
        return pd.Series(draw(st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=n, max_size=n)))
    if kind == "constant":
        return pd.Series([draw(st.sampled_from([0.0, 1.0, 7.5]))] * n)
    if kind in ("Int64", "boolean"):
        vals = draw(st.lists(st.sampled_from([0, 1, None]), min_size=n, max_size=n))
        return pd.Series(pd.array([None if v is None else (bool(v) if kind == "boolean" else v) for v in vals],
                                  dtype=kind))
    if kind == "Float64":
        vals = draw(st.lists(st.one_of(st.none(), st.floats(-10, 10, allow_nan=False)), min_size=n, max_size=n))
        return pd.Series(pd.array(vals, dtype="Float64"))
    if kind == "object":
        return pd.Series(draw(st.lists(st.one_of(messy_labels, messy_floats, st.booleans()), min_size=n, max_size=n)),
                         dtype=object)
    if kind == "string":
        return pd.Series(pd.array(draw(st.lists(st.sampled_from(["x", "y", None]), min_size=n, max_size=n)),
                                  dtype="string"))
    if kind == "text":
        return pd.Series(draw(st.lists(st.sampled_from(["1", "0", "yes", "no", "是", "2.5", "n/a", ""]),
                                       min_size=n, max_size=n)), dtype=object)
    return pd.Series(draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n)), dtype="category")


@st.composite
def messy_frames(draw, min_rows: int = 0, max_rows: int = 12) -> pd.DataFrame:
    """A survey-like frame h (stratum), w (weight), psu, y, x, g (domain); any column may be messy.

    Sometimes clean (so that results get checked, not only errors), sometimes with NaN,
    inf, zero/negative/huge weights, mixed or nullable dtypes, a duplicated column name,
    one row or none.
    """
    n = draw(st.integers(min_rows, max_rows))
    clean = draw(st.booleans())
    h = draw(st.lists(st.sampled_from(["s1", "s2"]), min_size=n, max_size=n)) if clean else \
        draw(messy_column(n, draw(st.sampled_from(["object", "int", "constant", "category"]))))
    w = draw(st.lists(st.floats(0.5, 50), min_size=n, max_size=n)) if clean else draw(messy_column(n))
    df = pd.DataFrame({
        "h": pd.Series(h, dtype=object if clean else None),
        "w": pd.Series(w),
        "psu": draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)),
        "y": pd.Series(draw(st.lists(st.floats(-50, 50), min_size=n, max_size=n)), dtype=float) if clean
        else draw(messy_column(n)),
        "x": draw(messy_column(n, draw(st.sampled_from(["float", "int", "constant", "Float64"])))),
        "g": draw(messy_column(n, "category" if clean else None)),
    })
    if draw(st.integers(0, 9)) == 0:
        df.columns = ["h", "w", "psu", "y", "y", "g"]  # duplicate column name
    return df
