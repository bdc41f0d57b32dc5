"""Shared fixtures: reference values stored in tests/reference (never computed by R at test time)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

REF = Path(__file__).parent / "reference"
SHARED_ORACLE = Path(__file__).resolve().parents[2] / "shared" / "oracle"


def load_oracle() -> dict:
    """R survey 4.1 oracle values (a copy of ../shared/oracle/cases.json)."""
    return json.loads((REF / "oracle_cases.json").read_text())


def load_r_refs() -> dict:
    """Extra R survey 4.1 values written by tests/reference/make_refs.R."""
    return json.loads((REF / "r_refs.json").read_text())["refs"]


def ref_data(name: str) -> pd.DataFrame:
    df = pd.read_csv(REF / "data" / name)
    if "N_h" in df and "n_h" in df:  # the CSVs keep 15 digits; R used the exact N_h/n_h
        df["weight"] = df["N_h"] / df["n_h"]
    return df


