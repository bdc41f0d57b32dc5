"""Answers by respondent group: "说不清" in satisfaction rates, awareness levels, channels.

Seed 001 (items 17 and 19) defines a satisfaction rate as 回答满意的人数 / 实际调查人员总数:
everybody surveyed is in the denominator, so "说不清" (cannot say) counts as not
satisfied.  Seed 000 asks for 困难职工对帮扶救助政策的了解程度 (a degree, not yes/no)
and the channels through which the policies reached people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validation import check_option, describe_values
from ..ci import ProportionMethod
from ..contrasts import linear_combination
from ..design import Design
from ..errors import DataError
from ..estimation import proportion
from .channels import channel_reach

__all__ = ["DONT_KNOW_POLICIES", "awareness_levels", "channels_by_group", "recode_dont_know"]

DONT_KNOW_POLICIES = ("not_satisfied", "exclude")
#: One group: (design, domain filter as a 0/1 or boolean array, or None for the whole design).
Group = tuple[Design, Any]


def recode_dont_know(
    coded: pd.DataFrame,
    items: Mapping[str, str],
    *,
    codes: Sequence[str] = ("dk",),
    policy: Literal["not_satisfied", "exclude"] = "not_satisfied",
) -> tuple[pd.DataFrame, int]:
    """Apply the "说不清" policy to coded satisfaction items.

    Parameters
    ----------
    coded : DataFrame
        Coded answers that still hold the raw answer columns (as
        :func:`survey_stats.code_responses` leaves them).
    items : mapping raw answer column → coded 0/1 column
        e.g. ``{"sat_overall": "satisfied"}``.
    codes : sequence of str
        Answer codes meaning "cannot say".
    policy : {"not_satisfied", "exclude"}
        ``"not_satisfied"`` (default, seed 001: 回答满意的人数 / 实际调查人员总数): the
        answer counts in the denominator as not satisfied (0).  ``"exclude"``: it is
        left out of the rate (missing), as a "valid answers only" rate.

    Returns
    -------
    (DataFrame, int)
        The recoded copy and the number of "cannot say" answers recoded.

    Examples
    --------
    >>> df = pd.DataFrame({"sat_overall": ["5", "dk", "2"], "satisfied": [1.0, np.nan, 0.0]})
    >>> out, k = recode_dont_know(df, {"sat_overall": "satisfied"})
    >>> out["satisfied"].tolist(), k
    ([1.0, 0.0, 0.0], 1)
    >>> recode_dont_know(df, {"sat_overall": "satisfied"}, policy="exclude")[0]["satisfied"].isna().tolist()
    [False, True, False]
    """
    check_option(policy, "dont_know", DONT_KNOW_POLICIES)
    out = coded.copy()
    count = 0
    for raw, col in items.items():
        if raw not in out.columns or col not in out.columns:
            raise DataError(f"dont_know: column {raw if raw not in out.columns else col!r} is not in the coded data.")
        dk = out[raw].astype("string").str.strip().isin(list(codes)).fillna(False).to_numpy(dtype=bool)
        count += int(dk.sum())
        out.loc[dk, col] = 0.0 if policy == "not_satisfied" else np.nan
    return out, count


def _mask(design: Design, where: Any) -> np.ndarray:
    n = design.n
    return np.ones(n, dtype=bool) if where is None else np.asarray(where, dtype=bool)


def awareness_levels(
    groups: Mapping[str, Group],
    column: str = "awareness_level",
    *,
    pooled: Mapping[str, Sequence[str]] | None = None,
    levels: Sequence[str] = ("well", "some", "none"),
    level: float = 0.95,
    ci_method: ProportionMethod = "beta",
) -> pd.DataFrame:
    """Distribution of a 3-level answer (很了解 / 了解一些 / 不了解) by group, and pooled.

    Parameters
    ----------
    groups : mapping label → (design, domain mask or None)
        Each group's respondents; groups may come from different (independent) samples.
    column : str
        The level column (raw answer codes).
    pooled : mapping label → list of group labels, optional
        Pooled rows over groups from independent samples, e.g. ``{"registered": ["exited", "unexited"]}``: each level's share
        over the union of the groups, each group weighing its estimated population
        (Σ N̂_g p̂_g / Σ N̂_g, independent samples; Cochran 1977 §5.7).
    levels : sequence of str
        The answer codes in display order.

    Returns
    -------
    DataFrame
        group, level, n, estimate, se, ci_low, ci_high (Wald interval for pooled rows).

    Examples
    --------
    >>> a = Design(pd.DataFrame({"N": 40, "lvl": ["well", "some", "none", "some"]}), fpc="N")
    >>> b = Design(pd.DataFrame({"N": 80, "lvl": ["none", "none", "some", "well"]}), fpc="N")
    >>> t = awareness_levels({"a": (a, None), "b": (b, None)}, "lvl", pooled={"all": ["a", "b"]})
    >>> t[t["group"] == "all"].set_index("level")["estimate"].round(3).to_dict()
    {'well': 0.25, 'some': 0.333, 'none': 0.417}
    """
    rows, parts = [], {}
    for label, (design, where) in groups.items():
        m = _mask(design, where)
        if column not in design.variables.columns:
            raise DataError(f"group {label!r}: column {column!r} is not in the design's data.")
        answered = m & design.column(column).notna().to_numpy()
        size = float(np.asarray(design.weights)[answered].sum())
        t = proportion(design, column, where=m, na="drop", level=level, ci_method=ci_method)
        by_level = {r.category: r for r in t}
        unknown = set(by_level) - set(levels)
        if unknown:
            raise DataError(f"group {label!r}: {column!r} holds level(s) {describe_values(sorted(unknown))} "
                            f"besides {describe_values(levels)}.")
        for lv in levels:
            e = by_level.get(lv)
            parts[(label, lv)] = (e, size)
            rows.append({"group": label, "level": lv, "n": int(answered.sum()),
                         **({"estimate": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0} if e is None else
                            {"estimate": e.estimate, "se": e.se, "ci_low": e.ci_low, "ci_high": e.ci_high})})
    for label, members in (pooled or {}).items():
        unknown = [g for g in members if g not in groups]
        if unknown:
            raise DataError(f"pooled group {label!r} names unknown group(s) {describe_values(unknown)}.")
        total = sum(parts[(g, levels[0])][1] for g in members)
        n = int(sum(r["n"] for r in rows if r["group"] in members and r["level"] == levels[0]))
        for lv in levels:
            ests = {g: parts[(g, lv)][0] for g in members if parts[(g, lv)][0] is not None}
            if not ests:
                rows.append({"group": label, "level": lv, "n": n, "estimate": 0.0, "se": 0.0, "ci_low": 0.0,
                             "ci_high": 0.0})
                continue
            lc = linear_combination(ests, {g: parts[(g, lv)][1] / total for g in ests}, level=level,
                                    variable=f"{label}:{lv}")
            rows.append({"group": label, "level": lv, "n": n, "estimate": lc.estimate, "se": lc.se,
                         "ci_low": max(0.0, lc.ci_low), "ci_high": min(1.0, lc.ci_high)})
    return pd.DataFrame(rows)


def channels_by_group(
    groups: Mapping[str, Group],
    column: str = "channels",
    *,
    labels: Mapping[str, str] | None = None,
    level: float = 0.95,
    ci_method: ProportionMethod = "beta",
) -> pd.DataFrame:
    """Reach of each publicity channel in every group that was asked (政策宣传渠道).

    Returns
    -------
    DataFrame
        group, channel, n, estimate, se, ci_low, ci_high.

    Examples
    --------
    >>> df = pd.DataFrame({"N": [40] * 4, "heard": ["tv wechat", "tv", "", "wechat"]})
    >>> t = channels_by_group({"all": (Design(df, fpc="N"), None)}, "heard")
    >>> t[["group", "channel", "estimate"]].values.tolist()
    [['all', 'tv', 0.5], ['all', 'wechat', 0.5], ['all', '(none)', 0.25]]
    """
    out = []
    for label, (design, where) in groups.items():
        t = channel_reach(design, column, labels=labels, where=where, level=level, ci_method=ci_method)
        f = t.to_frame()[["category", "n", "estimate", "se", "ci_low", "ci_high"]].rename(columns={"category": "channel"})
        out.append(f.assign(group=label))
    if not out:
        raise DataError("channels_by_group needs at least one group.")
    df = pd.concat(out, ignore_index=True)
    return df[["group", "channel", "n", "estimate", "se", "ci_low", "ci_high"]]
