"""Designs and reference values for tests/reference/make_refs_quantile.R (quantiles and raking)."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd

import survey_stats as ss
from _refs import REF, ref_data

TYPES = {"E": 4421, "H": 755, "M": 1018}
SCHWIDE = {"No": 1072, "Yes": 5122}


def load_quantile_refs() -> dict:
    """R survey 4.1 values written by tests/reference/make_refs_quantile.R."""
    return json.loads((REF / "r_refs_quantile.json").read_text())["refs"]


@cache
def design(name: str) -> ss.Design:
    """The R design a reference names (``designs`` in make_refs_quantile.R); designs are immutable."""
    if name == "dstrat":
        return ss.Design(ref_data("apistrat.csv"), strata="stype", weights="pw", fpc="fpc")
    if name == "dclus1":
        return ss.Design(ref_data("apiclus1.csv"), ids="dnum", weights="pw", fpc="fpc")
    if name == "jk1_clus1":
        return ss.replicate_design(design("dclus1"), "JK1")
    if name == "jkn_strat":
        return ss.replicate_design(design("dstrat"), "JKn")
    if name == "ps_awards_strat":
        return ss.poststratify(design("dstrat"), "awards", {"No": 2500, "Yes": 3694})
    if name in ("bs_strat",):  # random replicates: R's analysis weights are stored in the JSON
        rd = json.loads((REF / "r_refs_quantile.json").read_text())["replicate_designs"][name]
        W = np.array(rd["analysis_weights"], dtype=float)  # 17-digit text: exact doubles
        cols = [f"rw{i + 1}" for i in range(W.shape[1])]
        data = pd.concat([ref_data("apistrat.csv"), pd.DataFrame(W, columns=cols)], axis=1)
        return ss.from_replicate_weights(data, weights="pw", repweights=cols, type="bootstrap", scale=float(rd["scale_text"]),
                                         rscales=rd["rscales"], mse=rd["mse"])
    raise KeyError(name)


def r_float(v: object) -> float:
    """A number from the JSON (jsonlite writes Inf and NaN as strings)."""
    return {"Inf": float("inf"), "-Inf": float("-inf"), "NaN": float("nan"), "NA": float("nan")}.get(v, v) \
        if isinstance(v, str) else float("nan") if v is None else float(v)  # type: ignore[arg-type]


def quantile_of(ref: dict) -> ss.Estimate:
    """survey_stats' counterpart of one svyquantile reference."""
    d = design(ref["design"])
    kw: dict = {"qrule": ref["qrule"], "ci_method": ref["interval_type"]}
    if ref.get("na_rm"):
        kw["na"] = "drop"
    if ref.get("df_arg"):  # jsonlite writes NULL as {}
        kw["df"] = r_float(ref["df_arg"])
    if ref.get("domain"):
        col, lv = ref["domain"]
        t = ss.quantile(d, ref["variable"], ref["q"], by=col, df=kw.pop("df", "domain"), **kw)
        return next(r for r in t if r.domain == ((col, lv),))
    return ss.quantile(d, ref["variable"], ref["q"], **kw)
