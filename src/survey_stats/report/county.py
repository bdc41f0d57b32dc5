"""Indicator tables by county (分报告), as domain estimates of the city-wide samples.

When county is a stratification variable of a sample (every stratum lies in one
county, as in the county × status home-visit sample), the county is a union of whole
strata.  Strata are sampled independently, so the domain estimate of a county — its
estimate and its Taylor-linearised variance (Cochran 1977, §5A.14: domain totals in
stratified sampling) — is exactly the estimate from that county's strata alone.  This
module therefore evaluates the indicator system on each county's strata, which gives
every indicator, composite, verdict and reliability flag with the same code as the
city-wide table; the degrees of freedom are the county's own (PSUs − strata), which is
conservative for small counties.  Samples not stratified by county (and administrative
counts without county figures) give no county estimate: indicators that need them are
left out of the county tables and listed in ``omitted``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..design import Design
from ..errors import DataError
from ..indicators import IndicatorSystem, IndicatorTable, evaluate_indicators

__all__ = ["CountyTables", "county_indicators", "county_stratified"]

_COLS = ["county", "id", "name_zh", "name_en", "n", "estimate", "se", "ci_low", "ci_high", "df", "reference",
         "direction", "verdict", "reliability", "reliability_reason"]


@dataclass(frozen=True)
class CountyTables:
    """Result of :func:`county_indicators`.

    Attributes
    ----------
    tables : dict county → IndicatorTable
    omitted : dict indicator id → reason
        Indicators without county estimates (sample not stratified by county, no
        county counts, or no respondents in a county's denominator).
    """

    tables: dict[str, IndicatorTable]
    omitted: dict[str, str] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Long frame: one row per county × indicator."""
        rows = []
        for c, t in self.tables.items():
            f = t.to_frame().assign(county=c)
            rows.append(f)
        if not rows:
            return pd.DataFrame(columns=_COLS)
        return pd.concat(rows, ignore_index=True)[_COLS]


def county_stratified(design: Design, county: str | pd.Series) -> bool:
    """Whether every stratum of *design* lies within one county.

    *county* is a column of the design data, or a Series of county values aligned with
    its rows.

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.poverty_design()                 # strata: status
    >>> county_stratified(d, "status")
    True
    """
    if isinstance(county, str):
        if county not in design._data.columns:
            return False
        county = design._data[county]
    values = pd.Series(county.to_numpy(), index=design._data.index)
    strata = design.columns["strata"]
    if strata is None:
        return values.nunique(dropna=False) <= 1
    return bool((values.groupby(design._data[strata].to_numpy(), sort=False).nunique(dropna=False) <= 1).all())


def _county_values(design: Design, county: str, county_of: Mapping[Any, Any] | None, id_column: str) -> pd.Series:
    data = design._data
    if county_of is None:
        if county not in data.columns:
            raise DataError(f"the response data have no county column {county!r}; pass county= or county_of=.")
        return data[county]
    if id_column not in data.columns:
        raise DataError(f"the response data have no id column {id_column!r}.")
    values = data[id_column].map(dict(county_of))
    if values.isna().any():
        raise DataError(f"{int(values.isna().sum())} respondent(s) have no county in county_of.")
    return values


def _samples_of(system: IndicatorSystem, iid: str) -> set[str]:
    ind = system[iid]
    if ind.kind == "rate":
        return {str(ind.sample)}
    if ind.kind == "administrative":
        return {"<administrative>"}
    if ind.kind == "weighted_parts":
        return {str(p["sample"]) for p in ind.parts}
    out: set[str] = set()
    for t in ind.terms:
        out |= _samples_of(system, t)
    return out


def _subset(design: Design, rows: pd.Series) -> Design:
    cols = design.columns
    return Design(design._data[rows.to_numpy()], strata=cols["strata"], weights=cols["weights"], fpc=cols["fpc"],
                  ids=cols["ids"], certainty=cols["certainty"], lonely_psu=design.lonely_psu)  # type: ignore[arg-type]


def county_indicators(
    system: IndicatorSystem,
    samples: Mapping[str, Design],
    *,
    county: str = "county",
    county_of: Mapping[Any, Any] | None = None,
    id_column: str = "household_id",
    labels: Mapping[Any, str] | None = None,
    administrative: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    ci_method: str = "beta",
    na: str = "fail",
) -> CountyTables:
    """Every indicator of *system* by county, from the county-stratified samples.

    Parameters
    ----------
    system : IndicatorSystem
    samples : mapping sample name → Design
        As for :func:`~survey_stats.evaluate_indicators`.
    county : str
        County column of the response data.
    county_of : mapping id → county, optional
        The sampling frame's county per household (use it when respondents' own answer
        may differ from the frame); *id_column* names the id column of the responses.
    labels : mapping, optional
        Display name per county value (e.g. ``{"xiao": "萧县"}``).
    administrative : mapping county → {indicator id: (numerator, denominator)}, optional
        County counts of administrative indicators.
    ci_method, na
        As for :func:`~survey_stats.evaluate_indicators`.

    Returns
    -------
    CountyTables

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.datasets.poverty_design()
    >>> system = ss.IndicatorSystem.default().select(["misidentification_rate"])
    >>> ct = county_indicators(system, {"registered": d}, county="status")
    >>> {c: round(t["misidentification_rate"].estimate, 3) for c, t in ct.tables.items()}
    {'exited': 0.033, 'unexited': 0.035}
    >>> list(ct.omitted)            # no registered household in the other two domains
    ['misidentification_rate']
    """
    labels = dict(labels or {})
    administrative = {str(k): dict(v) for k, v in (administrative or {}).items()}
    where = {name: _county_values(d, county, county_of, id_column) for name, d in samples.items()
             if county_of is not None or county in d._data.columns}
    usable = {name for name, v in where.items() if county_stratified(samples[name], v)}
    omitted: dict[str, str] = {}
    keep = []
    for ind in system:
        need = _samples_of(system, ind.id)
        bad = sorted(s for s in need if s not in usable and s != "<administrative>")
        if bad:
            omitted[ind.id] = f"所需样本（{'、'.join(bad)}）未按县区分层 / sample(s) {', '.join(bad)} not stratified by county"
        elif "<administrative>" in need and not administrative:
            omitted[ind.id] = "无分县区的行政记录数 / no county counts for the administrative indicator"
        else:
            keep.append(ind.id)
    values = sorted({v for name in usable for v in where[name].dropna().unique()}, key=str)
    tables: dict[str, IndicatorTable] = {}
    for v in values:
        name = labels.get(v, str(v))
        designs = {s: _subset(samples[s], where[s] == v) for s in usable if (where[s] == v).any()}
        ids = [i for i in keep if _samples_of(system, i) - {"<administrative>"} <= set(designs)]
        admin = administrative.get(name, administrative.get(str(v), {}))
        ids = [i for i in ids if "<administrative>" not in _samples_of(system, i)
               or all(a in admin for a in _admin_ids(system, i))]
        table = _evaluate(system, ids, designs, admin, ci_method, na, omitted, name)
        if table is not None:
            tables[name] = table
    return CountyTables(tables, omitted)


def _admin_ids(system: IndicatorSystem, iid: str) -> list[str]:
    ind = system[iid]
    if ind.kind == "administrative":
        return [iid]
    return [a for t in ind.terms for a in _admin_ids(system, t)]


def _evaluate(system: IndicatorSystem, ids: list[str], designs: dict[str, Design], admin: dict[str, Any],
              ci_method: str, na: str, omitted: dict[str, str], name: str) -> IndicatorTable | None:
    """The county's table; an indicator whose denominator is empty there is dropped (and noted)."""
    ids = list(ids)
    while ids:
        sub = system.select(ids)
        used = {a for i in sub.ids() for a in _admin_ids(sub, i)}
        try:
            return evaluate_indicators(sub, {k: d for k, d in designs.items()},
                                       administrative={k: v for k, v in admin.items() if k in used},
                                       ci_method=ci_method, na=na)  # type: ignore[arg-type]
        except DataError as exc:
            culprit = next((i for i in ids if repr(i) in str(exc)), None)
            if culprit is None:
                raise
            omitted.setdefault(culprit, f"{name}没有可用于估计的受访户 / {name}: {exc}")
            ids = [i for i in ids if i != culprit and culprit not in system.select([i]).ids()]
    return None
