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
