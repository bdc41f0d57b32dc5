"""Indicator tables by county (分报告), as domain estimates of the city-wide samples.

Each county's table comes from :func:`survey_stats.indicators.checks.domain_tables`:
every rate's denominator is restricted to the county and the system is evaluated on
the full designs, so the variance counts the county's random sample size (domain
estimation, Cochran 1977 §2.13 and §5A.14; R ``svyby``).  When the county is a union of
whole strata this gives the same estimate and standard error as the county's strata
alone, since strata are sampled independently; the degrees of freedom are the whole
design's.  The county of a respondent is the sampling frame's (``county_of``) or a
column of the response data.  Samples without county information (and
administrative counts without county figures) give no county estimate: indicators
that need them are left out of the county tables and listed in ``omitted``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..design import Design
from ..errors import DataError
from ..indicators import IndicatorSystem, IndicatorTable
from ..indicators.checks import domain_tables

__all__ = ["CountyTables", "county_indicators"]

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


def _county_values(design: Design, county: str, county_of: Mapping[Any, Any] | None, id_column: str) -> pd.Series:
    data = design.data
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


_DOMAIN = "county_domain_"  # the county column added to each design (an identifier the denominators can name)


def _with_county(design: Design, values: pd.Series) -> Design:
    """The same design with the county of each row in column :data:`_DOMAIN`."""
    cols = {k: v for k, v in design.columns.items() if v is not None}
    data = design.data.assign(**{_DOMAIN: values.astype(str).to_numpy()})
    return Design(data, **cols, lonely_psu=design.lonely_psu)  # type: ignore[arg-type]


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
    """Every indicator of *system* by county: domain estimates on the city-wide designs.

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
        County counts of administrative indicators (keyed by value or display name).
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
    where = {name: _county_values(d, county, county_of, id_column) for name, d in samples.items()
             if county_of is not None or county in d.data.columns}
    designs = {name: _with_county(samples[name], v) for name, v in where.items()}
    omitted: dict[str, str] = {}
    keep = []
    for ind in system:
        need = _samples_of(system, ind.id)
        bad = sorted(s for s in need if s not in designs and s != "<administrative>")
        if bad:
            omitted[ind.id] = f"所需样本（{'、'.join(bad)}）无县区信息 / sample(s) {', '.join(bad)} have no county"
        elif "<administrative>" in need and not administrative:
            omitted[ind.id] = "无分县区的行政记录数 / no county counts for the administrative indicator"
        else:
            keep.append(ind.id)
    admin = {str(k): dict(v) for k, v in (administrative or {}).items()}
    values = sorted({str(v) for w in where.values() for v in w.dropna().unique()})
    tables: dict[str, IndicatorTable] = {}
    for v in values:
        name = labels.get(v, v)
        mine = [i for i in keep if all((where[s].astype(str) == v).any()
                                       for s in _samples_of(system, i) - {"<administrative>"})]
        table = _evaluate(system, mine, designs, v, admin.get(name, admin.get(v, {})), ci_method, na, omitted, name)
        if table is not None:
            tables[name] = table
    return CountyTables(tables, omitted)


def _evaluate(system: IndicatorSystem, ids: list[str], designs: dict[str, Design], value: str,
              admin: dict[str, Any], ci_method: str, na: str, omitted: dict[str, str],
              name: str) -> IndicatorTable | None:
    """The county's table; an indicator whose denominator is empty there is dropped (and noted)."""
    ids = list(ids)
    while ids:
        try:
            got = domain_tables(system.select(ids), designs, _DOMAIN, [value], administrative={value: admin},
                                ci_method=ci_method, na=na)
        except DataError as exc:
            culprit = next((i for i in ids if repr(i) in str(exc)), None)
            if culprit is None:
                raise
            omitted.setdefault(culprit, f"{name}没有可用于估计的受访户 / {name}: {exc}")
            ids = [i for i in ids if i != culprit and culprit not in system.select([i]).ids()]
            continue
        table = got[value]
        done = {r.id for r in table}
        for i in ids:
            if i not in done:
                omitted.setdefault(i, "无分县区的行政记录数 / no county counts for the administrative indicator")
        return table if len(table) else None
    return None
