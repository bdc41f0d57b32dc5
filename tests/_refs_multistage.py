"""Designs and reference values for tests/reference/make_refs_multistage.R (multistage, lonely PSUs in domains)."""

from __future__ import annotations

import json

import survey_stats as ss
from _refs import REF, ref_data


def load_multistage_refs() -> dict:
    """R survey 4.1 values written by tests/reference/make_refs_multistage.R."""
    return json.loads((REF / "r_refs_multistage.json").read_text())["refs"]


def multistage_design(name: str, lonely_psu: str = "fail") -> ss.Design:
    """The R design named *name* in make_refs_multistage.R."""
    if name == "d2":
        return ss.Design(ref_data("apiclus2.csv"), ids=["dnum", "snum"], fpc=["fpc1", "fpc2"], lonely_psu=lonely_psu)
    if name == "d2w":
        return ss.Design(ref_data("apiclus2.csv"), ids=["dnum", "snum"], weights="pw", lonely_psu=lonely_psu)
    if name == "ds2":
        return ss.Design(ref_data("apistrat2stage.csv"), ids=["dnum", "snum"], strata="stype",
                         fpc=["fpc1", "fpc2"], nest=True, lonely_psu=lonely_psu)
    if name == "d3":
        return ss.Design(ref_data("api3stage.csv"), ids=["cnum", "dnum", "snum"], fpc=["fpc1", "fpc2", "fpc3"],
                         lonely_psu=lonely_psu)
    raise KeyError(name)


def lonely_domain_design(policy: str, adjust_domain_lonely: bool, clustered: bool = False) -> ss.Design:
    """apistrat by county (``id=~1``) or apiclus2 districts by county, with a lonely-PSU policy."""
    if clustered:
        return ss.Design(ref_data("apiclus2.csv"), ids="dnum", strata="cname", weights="pw", lonely_psu=policy,
                         adjust_domain_lonely=adjust_domain_lonely)
    return ss.Design(ref_data("apistrat.csv"), strata="cname", weights="pw", lonely_psu=policy,
                     adjust_domain_lonely=adjust_domain_lonely)
