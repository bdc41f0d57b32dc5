"""The documents an evaluator signs, from one evaluation run: 评估报告 (总报告), 问题清单及整改方案
and the county sub-reports (分报告).

:func:`write_deliverables` takes the run object of :mod:`survey_stats.pipeline` (or
anything with the same attributes: ``samples``, ``coded``, ``set_aside``, ``forms``,
``indicators``, ``score``) and writes::

    评估报告.docx                 the report, chapters after seed 000
    问题清单及整改方案.xlsx        the editable problem list and plan
    分报告/<county>.docx          one sub-report per county
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..design import Design
from ..errors import DataError, SurveyStatsWarning
from ..indicators import IndicatorSystem
from .county import CountyTables, county_indicators
from .docx import fieldwork_summary, response_rates, write_county_report_docx, write_report_docx
from .rectification import rectification_plan, write_rectification

__all__ = ["SAMPLE_LABELS", "PlanOptions", "plan_for_run", "run_designs", "write_deliverables"]

#: Display names of the model evaluation's samples.
SAMPLE_LABELS = {"registered": "建档户入户调查", "phone": "未脱困户电话调查", "unregistered": "非建档户调查",
                 "deregistered": "注销户调查", "spot_check": "档案抽检", "social": "社会满意度调查"}
_SAMPLE_LABELS_EN = {"registered": "Home visits (registered)", "phone": "Telephone census (unexited)",
                     "unregistered": "Unregistered households", "deregistered": "Deregistered households",
                     "spot_check": "File spot check", "social": "Social satisfaction survey"}


@dataclass(frozen=True)
class PlanOptions:
    """How the rectification plan of a run is made (:func:`plan_for_run`, :func:`write_deliverables`).

    Attributes
    ----------
    county : str
        County column of the samples' units (responsible units, county rows).
    report_date : date-like, optional
        Default today; the deadline is *working_days* working days later.
    working_days : int
    units : mapping county → responsible unit, optional
        Default ``<county>总工会`` for every county of the samples.
    default_unit : str
        Responsible unit of city-wide problems.
    inputs : mapping, optional
        Scoring inputs key → value, to name unmet criteria (default ``run.scoring_inputs``).
    registry_audit, ledger_audit : optional
        Document-review results (default ``run.registry_audit`` / ``run.ledger_audit``).
    unvisited : DataFrame, optional
        Flagged households not visited (default ``run.unverified``, else
        :meth:`Sample.unverified <survey_stats.sampling.Sample.unverified>` of the home-visit sample).
    language : {"zh", "en"}
        Language of the plan's text.

    Examples
    --------
    >>> PlanOptions(working_days=20).working_days
    20
    """

    county: str = "county"
    report_date: Any = None
    working_days: int = 30
    units: Mapping[str, str] | None = None
    default_unit: str = "市总工会"
    inputs: Mapping[str, Any] | None = None
    registry_audit: Any = None
    ledger_audit: Any = None
    unvisited: pd.DataFrame | None = None
    language: str = "zh"

    def date(self) -> dt.date:
        """The report date (today when not set)."""
        return pd.Timestamp(self.report_date).date() if self.report_date is not None else dt.date.today()


def _county_of(samples: Mapping[str, Any], column: str) -> pd.Series | None:
    parts = [s.units.set_index(s.id)[column] for s in samples.values() if column in s.units.columns]
    if not parts:
        return None
    s = pd.concat(parts)
    return s[~s.index.duplicated()]


def run_designs(run: Any, *, nonresponse: str = "stratum", lonely_psu: str = "adjust") -> dict[str, Design]:
    """The designs behind ``run.indicators``: ``run.designs`` when the run has them, else
    rebuilt from ``run.samples`` and ``run.coded`` with *nonresponse* and *lonely_psu*
    (as the pipeline does).

    Rebuilding may warn that flagged households did not respond (未完成核查, see
    :meth:`survey_stats.sampling.Sample.design`); such warnings become notes in
    ``run.notes`` (when the run has a list there), as in the pipeline, not uncaught
    warnings.

    Examples
    --------
    >>> import survey_stats as ss
    >>> from types import SimpleNamespace
    >>> reg = pd.DataFrame({"household_id": [f"H{i}" for i in range(8)], "flagged": [True, True] + [False] * 6,
    ...                     "poor": [1, 0, 1, 0, 0, 1, 0, 0]})
    >>> s = ss.select(ss.Frame(reg, id="household_id", certainty="flagged"), n=5, seed=1)
    >>> got = reg[reg["household_id"].isin(s.units["household_id"]) & (reg["household_id"] != "H1")]
    >>> run = SimpleNamespace(samples={"registered": s}, coded={"registered": got[["household_id", "poor"]]}, notes=[])
    >>> sorted(run_designs(run)), "未完成核查" in run.notes[0]
    (['registered'], True)
    """
    given = getattr(run, "designs", None)
    if given:
        return dict(given)
    samples = dict(run.samples)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SurveyStatsWarning)
        designs = {n: samples[n].design(run.coded[n], nonresponse=nonresponse, lonely_psu=lonely_psu)
                   for n in samples if n in run.coded}
    notes = getattr(run, "notes", None)
    for w in caught:
        if not issubclass(w.category, SurveyStatsWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        elif isinstance(notes, list) and str(w.message) not in notes:
            notes.append(str(w.message))
    return designs


def plan_for_run(run: Any, options: PlanOptions | None = None, **changes: Any) -> pd.DataFrame:
    """The rectification plan of *run* (:func:`~survey_stats.report.rectification_plan`).

    *options* (:class:`PlanOptions`; keyword arguments replace single fields) say how;
    what they leave unset comes from the run: the flagged households 未完成核查 are
    ``run.unverified`` (else :meth:`Sample.unverified
    <survey_stats.sampling.Sample.unverified>` of the home-visit sample), the scoring
    inputs ``run.scoring_inputs`` (key → value, to name unmet criteria), the audits
    ``run.registry_audit`` and ``run.ledger_audit``; one responsible unit per county of
    the samples (``<county>总工会`` unless ``units`` says).

    Examples
    --------
    >>> import survey_stats as ss
    >>> from types import SimpleNamespace
    >>> t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]),
    ...                            {"phone": ss.datasets.poverty_design()}, na="drop")
    >>> run = SimpleNamespace(samples={}, coded={}, indicators=t, score=None,
    ...                       unverified=pd.DataFrame({"household_id": ["H7"], "county": ["萧县"],
    ...                                                "reason": ["无人在家"]}))
    >>> plan_for_run(run, report_date="2026-01-05")[["类别", "县区", "责任单位"]].values.tolist()
    [['指标未达标', '全市', '市总工会'], ['问题户未入户核查', '萧县', '萧县总工会']]
    """
    unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(PlanOptions)})
    if unknown:
        raise DataError(f"plan_for_run: unknown option(s) {', '.join(unknown)}; the fields of PlanOptions are "
                        f"{', '.join(f.name for f in dataclasses.fields(PlanOptions))}.")
    o = dataclasses.replace(options or PlanOptions(), **changes)
    samples = dict(run.samples)
    unvisited = o.unvisited if o.unvisited is not None else getattr(run, "unverified", None)
    if unvisited is None and "registered" in samples and "registered" in run.coded:
        unvisited = samples["registered"].unverified(run.coded["registered"])
    inputs = o.inputs
    if inputs is None and getattr(run, "scoring_inputs", None) is not None:
        inputs = dict(zip(run.scoring_inputs["key"], run.scoring_inputs["value"]))
    registry_audit = o.registry_audit if o.registry_audit is not None else getattr(run, "registry_audit", None)
    ledger_audit = o.ledger_audit if o.ledger_audit is not None else getattr(run, "ledger_audit", None)
    county, county_of = o.county, _county_of(samples, o.county)
    if unvisited is not None and county not in unvisited.columns and county_of is not None:
        id_col = samples["registered"].id if "registered" in samples else "household_id"
        if id_col in unvisited.columns:
            unvisited = unvisited.assign(**{county: unvisited[id_col].map(county_of)})
    plan_units = dict(o.units or {})
    seen = [] if county_of is None else list(pd.unique(county_of))
    if unvisited is not None and county in unvisited.columns:
        seen += list(pd.unique(unvisited[county].dropna()))
    for c in seen:
        plan_units.setdefault(str(c), f"{c}总工会")
    return rectification_plan(run.indicators, run.score, inputs=inputs, registry_audit=registry_audit,
                              ledger_audit=ledger_audit, unvisited=unvisited, report_date=o.date(),
                              working_days=o.working_days, units=plan_units, default_unit=o.default_unit,
                              decisions=getattr(run, "decisions", None), language=o.language)


def write_deliverables(
    run: Any,
    out: str | Path,
    *,
    plan: pd.DataFrame | None = None,
    options: PlanOptions | None = None,
    figures: Mapping[str, Path] | None = None,
    meta: Mapping[str, Any] | None = None,
    designs: Mapping[str, Design] | None = None,
    system: IndicatorSystem | None = None,
    cases: Sequence[Mapping[str, str]] | None = None,
    manifest_files: Mapping[str, Path] | None = None,
    language: str = "zh",
    template: str | Path | None = None,
    nonresponse: str = "stratum",
    ci_method: str = "beta",
    na: str = "drop",
) -> dict[str, Path]:
    """Write the report, the rectification workbook and the county reports of *run*.

    Parameters
    ----------
    run : EvaluationRun
        After :func:`survey_stats.pipeline.estimate` (indicators set; score optional —
        without it the report is indicator-only).
    out : folder
    plan : DataFrame, optional
        The rectification plan (default :func:`plan_for_run` with *options*).
    options : PlanOptions, optional
        Report date, deadline, responsible units, scoring inputs, audits and unvisited
        households of the plan (defaults from the run, see :func:`plan_for_run`); its
        ``county`` is also the county column of the county reports.
    figures : mapping, optional
        Figure paths for the report.
    designs : mapping, optional
        The designs behind ``run.indicators`` (default :func:`run_designs`: ``run.designs``,
        else rebuilt from ``run.samples`` and ``run.coded`` with *nonresponse*), for the
        county tables (the telephone census gives the unexited parts).
    cases : sequence of {"title", "text"}, optional
        Case notes for 典型案例.
    language : {"zh", "en"}
        Language of the report, the county reports and (unless *options* say) the plan.
    template : path, optional
        The institute's .docx template (letterhead, styles) for the report and county reports.

    County reports take administrative counts per county from ``run.county_administrative``
    (county → {indicator id: (numerator, denominator)}; the pipeline sets it) when the run has it.

    Returns
    -------
    dict
        ``report_docx``, ``rectification``, ``county_<name>`` → path.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table, score = run.indicators, run.score
    o = options or PlanOptions(language=language)
    meta = {"report_date": o.date().isoformat(), **dict(meta or {})}
    lost = o.unvisited if o.unvisited is not None else getattr(run, "unverified", None)
    meta.setdefault("flagged", getattr(run, "flagged", None))
    meta.setdefault("unverified", len(lost) if lost is not None else None)
    samples = dict(run.samples)
    county_of = _county_of(samples, o.county)
    if plan is None:
        plan = plan_for_run(run, o)
    paths: dict[str, Path] = {}
    paths["rectification"] = write_rectification(out / "问题清单及整改方案.xlsx", plan,
                                                 title=f"{meta.get('title', '')} 问题清单及整改方案".strip()
                                                 if language == "zh" else None)
    labels = SAMPLE_LABELS if language == "zh" else _SAMPLE_LABELS_EN
    surveyed = {n: s for n, s in samples.items() if n in run.coded}  # samples with coded responses (not interviews)
    fw = fieldwork_summary(surveyed, run.coded, set_aside=run.set_aside, frames=getattr(run, "frames", None),
                           labels=labels)
    if designs is None:
        designs = run_designs(run, nonresponse=nonresponse)
    ct: CountyTables | None = None
    if county_of is not None:
        ct = county_indicators(system or IndicatorSystem.default().select([r.id for r in table]), designs,
                               county_of=county_of, id_column=next(iter(samples.values())).id,
                               administrative=getattr(run, "county_administrative", None),
                               ci_method=ci_method, na=na)
    instruments = [{"title": f.title, "form_id": f.form_id, "version": f.version, "questions": len(f.questions)}
                   for f in getattr(run, "forms", {}).values()]
    manifests = {n: s.manifest for n, s in samples.items()}
    paths["report_docx"] = write_report_docx(
        out / ("评估报告.docx" if language == "zh" else "evaluation_report.docx"), table, score, meta=meta,
        problems=plan, fieldwork=fw, figures=figures, county=ct.to_frame() if ct is not None else None, cases=cases,
        instruments=instruments, manifests=manifests, manifest_files=manifest_files,
        response_rates=_run_rates(surveyed, run.coded), decisions=getattr(run, "decisions", None),
        language=language, template=template)
    if ct is not None:
        for name, t in ct.tables.items():
            rows = _county_fieldwork(surveyed, run.coded, county_of, name, labels)
            paths[f"county_{name}"] = write_county_report_docx(
                out / "分报告" / f"{name}.docx", name, t, problems=plan, omitted=ct.omitted, fieldwork=rows,
                names={r.id: (r.name_zh if language == "zh" else r.name_en) for r in table},
                meta=meta, language=language, template=template)
    return paths


def _run_rates(samples: Mapping[str, Any], coded: Mapping[str, pd.DataFrame], group: str = "status") -> pd.DataFrame:
    """AAPOR RR1 per stratum, status group and total of every sample (usable coded responses)."""
    parts = []
    for n, s in samples.items():
        got = coded.get(n)
        ids = set(got[s.id]) if got is not None and s.id in got.columns else set()
        parts.append(response_rates(s.units, s.units[s.id].isin(ids), sample=n, group=group))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _county_fieldwork(samples: Mapping[str, Any], coded: Mapping[str, pd.DataFrame], county_of: pd.Series,
                      name: str, labels: Mapping[str, str]) -> pd.DataFrame:
    rows = []
    for n, s in samples.items():
        ids = s.units[s.id]
        mine = ids[ids.map(county_of) == name]
        got = coded.get(n)
        resp = int(got[s.id].isin(set(mine)).sum()) if got is not None and s.id in got.columns else 0
        if len(mine):
            rows.append({"label": labels.get(n, n), "sampled": int(len(mine)), "responded": resp})
    return pd.DataFrame(rows, columns=["label", "sampled", "responded"])
