"""Designs and reference values for the model/test references (tests/reference/make_refs_models.R)."""

from __future__ import annotations

import json

import numpy as np

import survey_stats as ss
from _refs import REF, ref_data


def load_model_refs() -> dict:
    """R survey 4.1 values written by tests/reference/make_refs_models.R."""
    return json.loads((REF / "r_refs_models.json").read_text())["refs"]


def api(name: str):
    df = ref_data(name)
    df["sw"] = (df["sch.wide"] == "Yes").astype(int)
    return df


def design(name: str):
    """The R design named in a reference, with the domain mask for subset(...) designs."""
    base = {
        "dstrat": lambda: ss.Design(api("apistrat.csv"), strata="stype", weights="pw", fpc="fpc"),
        "dclus1": lambda: ss.Design(api("apiclus1.csv"), ids="dnum", weights="pw", fpc="fpc"),
        "dnh": lambda: ss.Design(ref_data("nhanes.csv"), ids="SDMVPSU", strata="SDMVSTRA", weights="WTMEC2YR",
                                 nest=True),
    }
    if name in base:
        return base[name](), None
    if name == "jk1_clus1":
        return ss.replicate_design(base["dclus1"](), "JK1"), None
    if name == "jkn_strat":
        return ss.replicate_design(base["dstrat"](), "JKn"), None
    if name == "ps_clus1":
        return ss.poststratify(base["dclus1"](), "stype", {"E": 4421, "H": 755, "M": 1018}), None
    sub = {
        "dstrat_HM": ("dstrat", "stype", lambda s: s.isin(["H", "M"])),
        "dclus1_yrno": ("dclus1", "yr.rnd", lambda s: s == "No"),
        "dstrat_awards": ("dstrat", "awards", lambda s: s == "Yes"),
        "dstrat_E": ("dstrat", "stype", lambda s: s == "E"),
        "jk1_clus1_yrno": ("jk1_clus1", "yr.rnd", lambda s: s == "No"),
    }
    b, col, f = sub[name]
    d = design(b)[0]
    return d, np.asarray(f(d.column(col)))
