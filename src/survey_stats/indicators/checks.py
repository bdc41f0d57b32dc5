"""Checks on the indicator table: triangulation of two sources, and the sample a verdict needs.

* :func:`triangulate` — households answered in two surveys (the telephone census and
  the home visit): agreement, Cohen's kappa, disagreements with masked ids.
* :func:`additional_sample` — for an inconclusive indicator, how many more households
  would give a verdict at the observed rate with 80% power.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import describe_values
from ..errors import DataError
from ..sampling.size import decision_sample_size
from .compute import IndicatorTable, evaluate_indicators
from .definitions import IndicatorSystem

__all__ = ["additional_sample", "by_domain", "cohen_kappa", "domain_tables", "mask_household_id", "triangulate"]


def cohen_kappa(a: Sequence[float], b: Sequence[float]) -> float:
    """Cohen's kappa of two ratings of the same units: (p_o − p_e) / (1 − p_e).

    p_o is the observed share of agreement and p_e the agreement expected if the two
    ratings were independent with their own marginal shares (Cohen 1960, *Educational
    and Psychological Measurement* 20:37-46).  NaN when p_e = 1 (both ratings constant
    and equal: kappa is undefined).

    Examples
    --------
    >>> round(cohen_kappa([1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 0]), 3)
    0.667
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.size == 0:
        raise DataError("cohen_kappa needs two ratings of the same, non-empty set of units.")
    cats = np.union1d(x, y)
    po = float(np.mean(x == y))
    pe = float(sum(np.mean(x == c) * np.mean(y == c) for c in cats))
    return math.nan if pe >= 1 - 1e-12 else (po - pe) / (1 - pe)


def mask_household_id(value: object) -> str:
    """Keep the first two and the last two characters of an id: SZ0123 → SZ**23.

    Examples
    --------
    >>> mask_household_id("SZ0123"), mask_household_id("A1")
    ('SZ**23', '**')
    """
    s = str(value)
    return "*" * len(s) if len(s) <= 4 else s[:2] + "*" * (len(s) - 4) + s[-2:]


def triangulate(
    first: pd.DataFrame,
    second: pd.DataFrame,
    columns: Sequence[str] | Mapping[str, str],
    *,
    id_column: str = "household_id",
    names: tuple[str, str] = ("phone", "home_visit"),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare the 0/1 answers of households present in two sources.

    Parameters
    ----------
    first, second : DataFrame
        Coded answers of each source, one row per household.
    columns : list of column names, or mapping column → label
        0/1 columns both sources hold.
    id_column : str
    names : (str, str)
        Labels of the two sources in the output.

    Returns
    -------
    (summary, disagreements)
        summary: item, label, households (answered in both), agreement, kappa, and the
        share with 1 in each source.  disagreements: masked id, item and both values.

    Examples
    --------
    >>> a = pd.DataFrame({"household_id": ["SZ0001", "SZ0002", "SZ0003", "SZ0004"], "y": [1, 0, 0, 1]})
    >>> b = pd.DataFrame({"household_id": ["SZ0001", "SZ0002", "SZ0003", "SZ0009"], "y": [1, 1, 0, 0]})
    >>> s, d = triangulate(a, b, ["y"])
    >>> s[["item", "households", "agreement", "kappa"]].round(3).values.tolist()
    [['y', 3, 0.667, 0.4]]
    >>> d.values.tolist()
    [['SZ**02', 'y', 0.0, 1.0]]
    """
    labels = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    for name, df in zip(names, (first, second)):
        missing = [c for c in [id_column, *labels] if c not in df.columns]
        if missing:
            raise DataError(f"triangulation: source {name!r} lacks column(s) {describe_values(missing)}.")
    both = first[[id_column, *labels]].merge(second[[id_column, *labels]], on=id_column, suffixes=("_1", "_2"))
    rows, diffs = [], []
    for c, label in labels.items():
        a = pd.to_numeric(both[f"{c}_1"], errors="coerce")
        b = pd.to_numeric(both[f"{c}_2"], errors="coerce")
        ok = a.notna() & b.notna()
        n = int(ok.sum())
        rows.append({"item": c, "label": label, "households": n,
                     "agreement": float((a[ok] == b[ok]).mean()) if n else math.nan,
                     "kappa": cohen_kappa(a[ok], b[ok]) if n else math.nan,
                     f"share_{names[0]}": float(a[ok].mean()) if n else math.nan,
                     f"share_{names[1]}": float(b[ok].mean()) if n else math.nan})
        bad = ok & (a != b)
        for hh, x, y in zip(both.loc[bad, id_column], a[bad], b[bad]):
            diffs.append({"household": mask_household_id(hh), "item": c, names[0]: float(x), names[1]: float(y)})
    return pd.DataFrame(rows), pd.DataFrame(diffs, columns=["household", "item", names[0], names[1]])


def _normal_n(p: float, ref: float, power: float, level: float) -> float:
    """Normal-approximation SRS size for a one-sided verdict (a screen before the exact search)."""
    from scipy import stats

    za, zb = stats.norm.ppf(1 - (1 - level) / 2), stats.norm.ppf(power)
    return float(((za * math.sqrt(ref * (1 - ref)) + zb * math.sqrt(p * (1 - p))) / (p - ref)) ** 2)


def additional_sample(table: IndicatorTable, *, populations: Mapping[str, int] | None = None, power: float = 0.8,
                      max_n: int = 5000) -> pd.DataFrame:
    """Extra households each inconclusive indicator needs for a verdict at its observed rate.

    For an inconclusive indicator with reference r and estimate p̂ ≠ r, the verdict the
    data lean to is ``meets`` (p̂ on the good side of r) or ``fails``; showing ``fails``
    for a "≤" indicator is the "≥" problem with the same r.  The simple-random-sample
    size from :func:`~survey_stats.sampling.decision_sample_size` (exact binomial
    power) is multiplied by the design effect estimated from the table (n · SE² /
    p̂(1 − p̂), divided by 1 − n/N when the population N is known), reduced by the
    finite-population correction n/(1 + (n − 1)/N) when *populations* (indicator id → N)
    gives N (Cochran 1977, eq. 4.2), and the extra need is that minus the households
    already surveyed.  A need of the whole group or more means even a census of it
    cannot decide at that rate (NaN).

    Returns
    -------
    DataFrame
        id, name_zh, estimate, reference, leaning (meets/fails), n, n_needed,
        additional (NaN when the rate equals the reference or more than *max_n*
        households would be needed — then no feasible sample decides).

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.Design(pd.DataFrame({"status": "unexited", "N_h": 256, "missed_exit": [1] * 2 + [0] * 98}), fpc="N_h")
    >>> t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]), {"phone": d})
    >>> additional_sample(t, populations={"missed_exit_rate": 256})[["leaning", "n", "n_needed", "additional"]].values.tolist()
    [['meets', 100, 227, 127]]
    """
    out = []
    for r in table:
        if r.verdict != "inconclusive" or r.reference is None or not np.isfinite(r.se):
            continue
        p, ref = float(r.estimate), float(r.reference)
        meets_side = p < ref if r.direction == "le" else p > ref
        leaning = "meets" if meets_side else "fails"
        row = {"id": r.id, "name_zh": r.name_zh, "estimate": p, "reference": ref, "leaning": leaning, "n": r.n,
               "n_needed": math.nan, "additional": math.nan}
        if p != ref and 0 < p < 1:
            direction = r.direction if meets_side else ("ge" if r.direction == "le" else "le")
            N = (populations or {}).get(r.id)
            fpc = 1 - r.n / N if N and r.n < N else 1.0
            deff = max(1.0, r.n * r.se ** 2 / (p * (1 - p) * fpc)) if r.se > 0 and fpc > 0 else 1.0
            guess = _normal_n(p, ref, power, r.level) * deff
            if guess > max_n or (N and guess / (1 + (guess - 1) / N) >= N):  # not even the whole group decides
                out.append(row)
                continue
            res = decision_sample_size(p, ref, direction=direction, power=power, level=r.level,  # type: ignore[arg-type]
                                       max_n=min(max_n, 2 * math.ceil(guess) + 100))
            if res.n is not None:
                need = res.n * deff
                need = need / (1 + (need - 1) / N) if N else need  # finite population correction
                if not N or math.ceil(need) < N:
                    row["n_needed"] = math.ceil(need)
                    row["additional"] = max(0, row["n_needed"] - r.n)
        out.append(row)
    return pd.DataFrame(out, columns=["id", "name_zh", "estimate", "reference", "leaning", "n", "n_needed", "additional"])


_SAFE_VALUE = re.compile(r"^[\w\u4e00-\u9fff /·-]+$")
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _restrict(expr: str | None, column: str, value: str) -> str:
    """Add ``column == 'value'`` to a denominator; the value can only be a plain literal."""
    if not _SAFE_NAME.match(column) or not _SAFE_VALUE.match(str(value)):
        raise DataError(f"domain {column!r} = {str(value)!r}: use an identifier column and values of letters, "
                        "digits, Chinese characters, spaces, '-', '/' or '·' only.")
    cond = f"{column} == '{value}'"
    return cond if expr is None else f"({expr}) and {cond}"


def domain_tables(
    system: IndicatorSystem,
    samples: Mapping[str, Any],
    column: str,
    values: Sequence[str],
    *,
    administrative: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    ci_method: str = "beta",
    na: str = "drop",
) -> dict[str, IndicatorTable]:
    """The indicator table of each domain (value of *column*): the tables behind :func:`by_domain`.

    Each rate's and part's denominator is restricted to ``column == value`` and the
    system is evaluated on the full designs (domain estimation); administrative
    indicators without counts for a domain (and composites using them) are left out of
    that domain's table.  Parameters as for :func:`by_domain`.

    Examples
    --------
    >>> import survey_stats as ss
    >>> df = pd.DataFrame({"county": ["a"] * 50 + ["b"] * 50, "N_h": 256, "missed_exit": ([1] + [0] * 9) * 10})
    >>> t = domain_tables(ss.IndicatorSystem.default().select(["missed_exit_rate"]),
    ...                   {"phone": ss.Design(df, fpc="N_h")}, "county", ["a", "b"])
    >>> {k: v["missed_exit_rate"].n for k, v in t.items()}
    {'a': 50, 'b': 50}
    """
    out = {}
    for value in values:
        spec = json.loads(json.dumps(system.spec))
        for ind in spec["indicators"]:
            if ind["kind"] == "rate":
                ind["denominator"] = _restrict(ind.get("denominator"), column, value)
            for part in ind.get("parts", []):
                part["denominator"] = _restrict(part.get("denominator"), column, value)
        sub = IndicatorSystem(spec)
        admin = dict((administrative or {}).get(value, {}))
        missing = [i.id for i in sub if i.kind == "administrative" and i.id not in admin]
        if missing:
            sub = sub.select([i.id for i in sub if i.id not in missing and not set(i.terms) & set(missing)])
        out[value] = evaluate_indicators(sub, samples, administrative=admin, ci_method=ci_method, na=na)  # type: ignore[arg-type]
    return out


def by_domain(
    system: IndicatorSystem,
    samples: Mapping[str, Any],
    column: str,
    values: Sequence[str],
    *,
    administrative: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    ci_method: str = "beta",
    na: str = "drop",
    suppress: bool = False,
) -> pd.DataFrame:
    """Every indicator of *system* in each domain (e.g. county) — the basis of 分报告.

    Each rate's and part's denominator is restricted to ``column == value`` on the full
    designs (domain estimation: the variance counts the random domain size), so the
    verdicts and NCHS reliability flags are those of the domain estimates.  With
    ``suppress=True`` the estimate and CI of unreliable cells are blanked (NCHS
    presentation standards: do not show), the flag stays.

    Parameters
    ----------
    system, samples
        As for :func:`~survey_stats.evaluate_indicators`.
    column : str
        Domain column present in every sample's data (e.g. ``"county"``).
    values : sequence of str
        Domain values, in display order.
    administrative : mapping value → {indicator id: (numerator, denominator)}, optional
        Administrative counts per domain.

    Returns
    -------
    DataFrame
        One row per (domain, indicator): domain, id, name_zh, n, estimate, se, ci_low,
        ci_high, verdict, reliability, reliability_reason.

    Examples
    --------
    >>> import survey_stats as ss
    >>> df = pd.DataFrame({"county": ["a"] * 50 + ["b"] * 50, "N_h": 256, "missed_exit": ([1] + [0] * 9) * 10})
    >>> t = by_domain(ss.IndicatorSystem.default().select(["missed_exit_rate"]), {"phone": ss.Design(df, fpc="N_h")},
    ...               "county", ["a", "b"])
    >>> t[["domain", "n", "estimate", "reliability"]].values.tolist()
    [['a', 50, 0.1, 'unreliable'], ['b', 50, 0.1, 'unreliable']]
    """
    tables = domain_tables(system, samples, column, values, administrative=administrative, ci_method=ci_method, na=na)
    rows = [t.to_frame()[["id", "name_zh", "n", "estimate", "se", "ci_low", "ci_high", "verdict", "reliability",
                          "reliability_reason"]].assign(domain=value) for value, t in tables.items()]
    out = pd.concat(rows, ignore_index=True)
    if suppress:
        bad = out["reliability"] == "unreliable"
        out.loc[bad, ["estimate", "se", "ci_low", "ci_high"]] = np.nan
        out.loc[bad, "verdict"] = "suppressed"
    return out[["domain", *[c for c in out.columns if c != "domain"]]]
