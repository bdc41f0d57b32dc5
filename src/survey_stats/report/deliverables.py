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

import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..design import Design
from ..errors import SurveyStatsWarning
from ..indicators import IndicatorSystem
from .county import CountyTables, county_indicators
from .docx import fieldwork_summary, write_county_report_docx, write_report_docx
from .rectification import rectification_plan, write_rectification

__all__ = ["SAMPLE_LABELS", "plan_for_run", "run_designs", "unvisited_flagged", "write_deliverables"]

#: Display names of the model evaluation's samples.
SAMPLE_LABELS = {"registered": "建档户入户调查", "phone": "未脱困户电话调查", "unregistered": "非建档户调查",
                 "deregistered": "注销户调查", "spot_check": "档案抽检", "social": "社会满意度调查"}
_SAMPLE_LABELS_EN = {"registered": "Home visits (registered)", "phone": "Telephone census (unexited)",
                     "unregistered": "Unregistered households", "deregistered": "Deregistered households",
                     "spot_check": "File spot check", "social": "Social satisfaction survey"}


def unvisited_flagged(sample: Any, responses: pd.DataFrame) -> pd.DataFrame:
    """Certainty units (flagged files) of *sample* without a usable response.

    Examples
    --------
    >>> import survey_stats as ss
    >>> reg = pd.DataFrame({"household_id": [f"H{i}" for i in range(6)], "county": ["萧县"] * 6,
    ...                     "flagged": [True, True, False, False, False, False]})
    >>> s = ss.select(ss.Frame(reg, id="household_id", certainty="flagged"), n=3, seed=1)
    >>> unvisited_flagged(s, s.units[s.units["household_id"] != "H1"])["household_id"].tolist()
    ['H1']
    """
    units = sample.units
    got = set(responses[sample.id]) if sample.id in responses.columns else set()
    mask = units["certainty"].astype(bool) & ~units[sample.id].isin(got)
    cols = [c for c in (sample.id, "county") if c in units.columns]
    return units.loc[mask, cols].reset_index(drop=True)


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


def plan_for_run(
    run: Any,
    *,
    county: str = "county",
    report_date: Any = None,
    working_days: int = 30,
    units: Mapping[str, str] | None = None,
    default_unit: str = "市总工会",
    inputs: Mapping[str, Any] | None = None,
    registry_audit: Any = None,
    ledger_audit: Any = None,
    unvisited: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The rectification plan of *run* (:func:`~survey_stats.report.rectification_plan`).

    Defaults come from the run: the flagged households 未完成核查 are ``run.unverified``
    (else the home-visit sample's certainty units without a usable response), the scoring
    inputs ``run.scoring_inputs`` (key → value, to name unmet criteria), the audits
    ``run.registry_audit`` and ``run.ledger_audit``; one responsible unit per county of
    the samples (``<county>总工会`` unless *units* says).

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
    samples = dict(run.samples)
    if unvisited is None:
        unvisited = getattr(run, "unverified", None)
    if unvisited is None and "registered" in samples and "registered" in run.coded:
        unvisited = unvisited_flagged(samples["registered"], run.coded["registered"])
    if inputs is None and getattr(run, "scoring_inputs", None) is not None:
        inputs = dict(zip(run.scoring_inputs["key"], run.scoring_inputs["value"]))
    registry_audit = registry_audit if registry_audit is not None else getattr(run, "registry_audit", None)
    ledger_audit = ledger_audit if ledger_audit is not None else getattr(run, "ledger_audit", None)
    county_of = _county_of(samples, county)
    if unvisited is not None and county not in unvisited.columns and county_of is not None:
        id_col = samples["registered"].id if "registered" in samples else "household_id"
        if id_col in unvisited.columns:
            unvisited = unvisited.assign(**{county: unvisited[id_col].map(county_of)})
    plan_units = dict(units or {})
    seen = [] if county_of is None else list(pd.unique(county_of))
    if unvisited is not None and county in unvisited.columns:
        seen += list(pd.unique(unvisited[county].dropna()))
    for c in seen:
        plan_units.setdefault(str(c), f"{c}总工会")
    date = pd.Timestamp(report_date).date() if report_date is not None else dt.date.today()
    return rectification_plan(run.indicators, run.score, inputs=inputs, registry_audit=registry_audit,
                              ledger_audit=ledger_audit, unvisited=unvisited, report_date=date,
                              working_days=working_days, units=plan_units, default_unit=default_unit,
                              decisions=getattr(run, "decisions", None))


def write_deliverables(
    run: Any,
    out: str | Path,
    *,
    plan: pd.DataFrame | None = None,
    figures: Mapping[str, Path] | None = None,
    meta: Mapping[str, Any] | None = None,
    designs: Mapping[str, Design] | None = None,
    system: IndicatorSystem | None = None,
    county: str = "county",
    report_date: Any = None,
    working_days: int = 30,
    units: Mapping[str, str] | None = None,
    default_unit: str = "市总工会",
    inputs: Mapping[str, Any] | None = None,
    registry_audit: Any = None,
    ledger_audit: Any = None,
    unvisited: pd.DataFrame | None = None,
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
        The rectification plan (default :func:`plan_for_run` with the arguments below).
    figures : mapping, optional
        Figure paths for the report.
    designs : mapping, optional
        The designs behind ``run.indicators`` (default :func:`run_designs`: ``run.designs``,
        else rebuilt from ``run.samples`` and ``run.coded`` with *nonresponse*), for the
        county tables (the telephone census gives the unexited parts).
    report_date, working_days, units, default_unit
        Deadline and responsible units of the plan (see
        :func:`~survey_stats.report.rectification_plan`).
    inputs, registry_audit, ledger_audit, unvisited, cases
        Scoring inputs (to name unmet criteria), document-review results, flagged
        households not visited, case notes (defaults from the run, see :func:`plan_for_run`).
    template : path, optional
        The institute's .docx template (letterhead, styles) for the report and county reports.

    Returns
    -------
    dict
        ``report_docx``, ``rectification``, ``county_<name>`` → path.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table, score = run.indicators, run.score
    date = pd.Timestamp(report_date).date() if report_date is not None else dt.date.today()
    meta = {"report_date": date.isoformat(), **dict(meta or {})}
    lost = unvisited if unvisited is not None else getattr(run, "unverified", None)
    meta.setdefault("flagged", getattr(run, "flagged", None))
    meta.setdefault("unverified", len(lost) if lost is not None else None)
    samples = dict(run.samples)
    county_of = _county_of(samples, county)
    if plan is None:
        plan = plan_for_run(run, county=county, report_date=date, working_days=working_days, units=units,
                            default_unit=default_unit, inputs=inputs, registry_audit=registry_audit,
                            ledger_audit=ledger_audit, unvisited=unvisited)
    paths: dict[str, Path] = {}
    paths["rectification"] = write_rectification(out / "问题清单及整改方案.xlsx", plan,
                                                 title=f"{meta.get('title', '')} 问题清单及整改方案".strip())
    labels = SAMPLE_LABELS if language == "zh" else _SAMPLE_LABELS_EN
    fw = fieldwork_summary(samples, run.coded, set_aside=run.set_aside, frames=getattr(run, "frames", None),
                           labels=labels)
    if designs is None:
        designs = run_designs(run, nonresponse=nonresponse)
    ct: CountyTables | None = None
    if county_of is not None:
        ct = county_indicators(system or IndicatorSystem.default().select([r.id for r in table]), designs,
                               county_of=county_of, id_column=next(iter(samples.values())).id,
                               ci_method=ci_method, na=na)
    instruments = [{"title": f.title, "form_id": f.form_id, "version": f.version, "questions": len(f.questions)}
                   for f in getattr(run, "forms", {}).values()]
    manifests = {n: s.manifest for n, s in samples.items()}
    paths["report_docx"] = write_report_docx(
        out / ("评估报告.docx" if language == "zh" else "evaluation_report.docx"), table, score, meta=meta,
        problems=plan, fieldwork=fw, figures=figures, county=ct.to_frame() if ct is not None else None, cases=cases,
        instruments=instruments, manifests=manifests, manifest_files=manifest_files, language=language,
        template=template)
    if ct is not None:
        for name, t in ct.tables.items():
            rows = _county_fieldwork(samples, run.coded, county_of, name, labels)
            paths[f"county_{name}"] = write_county_report_docx(
                out / "分报告" / f"{name}.docx", name, t, problems=plan, omitted=ct.omitted, fieldwork=rows,
                names={r.id: (r.name_zh if language == "zh" else r.name_en) for r in table},
                meta=meta, language=language, template=template)
    return paths


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
