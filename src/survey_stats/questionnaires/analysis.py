"""Analyses of coded questionnaire data: satisfaction dimensions and scale reliability."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .._validation import check_level, describe_values
from ..ci import ProportionMethod
from ..design import Design
from ..errors import DataError
from ..estimation import proportion
from ..results import EstimateTable

__all__ = ["SATISFACTION_DIMENSIONS", "cronbach_alpha", "satisfaction_dimensions"]

#: Coded satisfaction items (indicator names in the shipped forms) and their Chinese labels.
SATISFACTION_DIMENSIONS = {
    "satisfaction_method": "帮扶方式满意度",
    "satisfaction_result": "帮扶成效满意度",
    "satisfaction_publicity": "政策宣传满意度",
    "satisfied": "总体认可度",
}


def satisfaction_dimensions(
    design: Design, *, by: str | Sequence[str] | None = None, level: float = 0.95, ci_method: ProportionMethod = "beta",
    na: str = "drop",
) -> EstimateTable:
    """Share satisfied (top two of five) per dimension — aid method, results, publicity — and overall.

    The last row, ``satisfied``, is the approval that enters the satisfaction composite.
    All dimensions come from one call, so their covariance is available for contrasts.
    """
    cols = [c for c in SATISFACTION_DIMENSIONS if c in design.variables.columns]
    if not cols:
        raise DataError(f"no coded satisfaction columns ({describe_values(SATISFACTION_DIMENSIONS)}); "
                        "run code_responses() on the export first.")
    return proportion(design, cols, by=by, level=level, ci_method=ci_method, na=na)  # type: ignore[arg-type,return-value]


def cronbach_alpha(data: pd.DataFrame, items: Sequence[str], *, level: float = 0.95,
                   missing_codes: Sequence[Any] = ("dk",)) -> dict[str, Any]:
    """Cronbach's alpha of a multi-item scale with its confidence interval (pingouin).

    Declared missing codes become missing; respondents with any missing item are left
    out (listwise, pingouin's ``nan_policy="listwise"``) and counted.

    Returns
    -------
    dict
        ``alpha``, ``ci_low``, ``ci_high``, ``n`` (respondents used), ``n_excluded``, ``items``.

    Notes
    -----
    The interval is Feldt's F-based interval that pingouin implements; it assumes
    simple random sampling of respondents (unweighted).
    """
    import pingouin as pg

    level = check_level(level)
    missing = [c for c in items if c not in data.columns]
    if missing:
        raise DataError(f"scale item(s) {describe_values(missing)} are not in the data.")
    if len(items) < 2:
        raise DataError("Cronbach's alpha needs at least two items.")
    frame = data[list(items)].replace(list(missing_codes), pd.NA).apply(pd.to_numeric, errors="coerce")
    complete = frame.dropna()
    if len(complete) < 3:
        raise DataError("fewer than 3 respondents answered every item; alpha cannot be computed.")
    alpha, ci = pg.cronbach_alpha(data=complete, ci=level)
    return {"alpha": float(alpha), "ci_low": float(ci[0]), "ci_high": float(ci[1]), "n": int(len(complete)),
            "n_excluded": int(len(frame) - len(complete)), "items": list(items)}
