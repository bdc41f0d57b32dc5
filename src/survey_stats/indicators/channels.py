"""Multi-response items: reach of each publicity channel (政策宣传渠道) with CIs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._internal import Origin, proportion_parts, where_mask
from .._validation import describe_values
from ..ci import ProportionMethod
from ..design import Design
from ..errors import DataError
from ..results import EstimateTable

__all__ = ["channel_reach", "one_hot"]


def one_hot(values: pd.Series, sep: str = " ") -> pd.DataFrame:
    """Split a select-multiple answer ("tv radio") into 0/1 columns, one per code.

    Missing answers stay missing in every column.

    Examples
    --------
    >>> one_hot(pd.Series(["tv wechat", "tv", None]))
        tv  wechat
    0  1.0     1.0
    1  1.0     0.0
    2  NaN     NaN
    """
    miss = values.isna()
    codes = values.fillna("").astype(str).str.split(sep)
    names = sorted({c for row in codes for c in row if c})
    out = pd.DataFrame({n: codes.map(lambda row, n=n: float(n in row)) for n in names}, index=values.index)
    out[miss.to_numpy()] = np.nan
    return out


def channel_reach(
    design: Design,
    channels: str | Sequence[str],
    *,
    sep: str = " ",
    labels: Mapping[str, str] | None = None,
    where: Any = None,
    level: float = 0.95,
    ci_method: ProportionMethod = "beta",
) -> EstimateTable:
    """Share of respondents reached by each channel, and by none, with joint covariance.

    Parameters
    ----------
    design : Design
    channels : str or list of str
        One select-multiple column of space-separated codes (KoboToolbox/ODK export), or
        a list of 0/1 columns, one per channel.
    sep : str
        Separator of the select-multiple codes.
    labels : mapping, optional
        Display name per channel code (e.g. {"wechat": "微信"}); used as the category.
    where : optional
        Restrict to a domain (respondents asked the question), keeping the full design.
    level, ci_method
        As for :func:`survey_stats.proportion`.

    Returns
    -------
    EstimateTable
        One row per channel, ordered by reach (largest first), then ``"(none)"``.
        Shares do not add up to 1: a respondent can name several channels.

    Examples
    --------
    >>> import pandas as pd, survey_stats as ss
    >>> df = pd.DataFrame({"h": ["a"] * 4 + ["b"] * 4, "N": [40] * 4 + [80] * 4,
    ...                    "heard": ["tv wechat", "tv", "", "wechat", "tv", "", "", "poster"]})
    >>> t = ss.channel_reach(ss.Design(df, strata="h", fpc="N"), "heard")
    >>> [(r.category, round(r.estimate, 3)) for r in t]
    [('tv', 0.333), ('poster', 0.167), ('wechat', 0.167), ('(none)', 0.417)]
    """
    data = design.variables
    if isinstance(channels, str):
        if channels not in data.columns:
            raise DataError(f"column {channels!r} is not in the design's data.")
        hot = one_hot(data[channels], sep)
        if hot.shape[1] == 0:
            raise DataError(f"column {channels!r} names no channel at all.")
    else:
        cols = list(channels)
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise DataError(f"channel column(s) {describe_values(missing)} are not in the design's data.")
        hot = data[cols].apply(pd.to_numeric, errors="coerce").astype(float)
        bad = ~hot.isin([0.0, 1.0]) & hot.notna()
        if bad.any().any():
            raise DataError(f"channel columns must be 0/1; see {describe_values(hot.columns[bad.any()])}.")
    answered = hot.notna().all(axis=1).to_numpy()
    if where is not None:
        answered = answered & where_mask(design, where)
    if not answered.any():
        raise DataError("nobody answered the channel question.")
    vals = hot.fillna(0.0)
    none = (vals.sum(axis=1) == 0).astype(float)
    labels = dict(labels or {})
    parts = [(labels.get(c, c), vals[c].to_numpy(), answered) for c in vals.columns]
    parts.append(("(none)", none.to_numpy(), answered))
    tab = proportion_parts(design, parts, level=level, ci_method=ci_method)
    name = channels if isinstance(channels, str) else "channels"
    order = sorted(range(len(parts) - 1), key=lambda i: -tab.rows[i].estimate) + [len(parts) - 1]
    V = np.array(np.asarray(tab.vcov)[np.ix_(order, order)])
    V.setflags(write=False)
    rows = tuple(dataclasses.replace(tab.rows[i], variable=name, category=parts[i][0], source=Origin((design,), V, k))
                 for k, i in enumerate(order))
    return EstimateTable(rows, V, source=design)
