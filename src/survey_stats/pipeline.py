"""The model evaluation, step by step, on simulated data (used by the example and ``survey-stats demo``).

Each step is a small function on public API, so a script can run them one at a time:

1. :func:`draw_samples` — frames and samples: a 30% home-visit sample of the 656
   registered households (county × status strata, flagged files with certainty), the
   telephone census of unexited households, and samples of unregistered (120 of 5 000)
   and deregistered (40 of 120) households.
2. :func:`fieldwork` — simulated KoboToolbox exports of the questionnaires, answers
   following each household's true situation, with nonresponse and a few data errors.
3. :func:`check_and_code` — validation reports; rows with problems are set aside
   (listed, never silently dropped); the rest coded for analysis.
4. :func:`estimate` — designs (nonresponse handled within strata), the indicator table
   and the 100-point score with uncertainty.
5. :func:`write_outputs` — Excel workbook, HTML report, figures, manifests, field lists.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from ._validation import rng_for
from .datasets import CHANNELS, SimulatedEvaluation, simulate_evaluation
from .indicators import IndicatorSystem, IndicatorTable, ScoreResult, ScoringRules, evaluate_indicators, score
from .questionnaires import Questionnaire, code_responses, generate_responses, load_questionnaire, questionnaire_path
from .questionnaires import read_export, validate
from .sampling import Frame, Sample, select

__all__ = ["EvaluationRun", "check_and_code", "draw_samples", "estimate", "fieldwork", "run_evaluation",
           "scoring_inputs", "write_outputs"]

#: sample name → (population in the simulator, questionnaire)
SAMPLES = {"registered": ("registry", "home_visit"), "phone": ("registry", "phone_unexited"),
           "unregistered": ("unregistered", "unregistered"), "deregistered": ("deregistered", "deregistered")}
_COUNTY_CODES = {"埇桥区": "yongqiao", "砀山县": "dangshan", "萧县": "xiao", "灵璧县": "lingbi", "泗县": "si"}


@dataclass
class EvaluationRun:
    """Everything one evaluation run produced."""

    seed: int
    sim: SimulatedEvaluation
    frames: dict[str, Frame] = field(default_factory=dict)
    samples: dict[str, Sample] = field(default_factory=dict)
    forms: dict[str, Questionnaire] = field(default_factory=dict)
    raw: dict[str, pd.DataFrame] = field(default_factory=dict)
    validation: dict[str, pd.DataFrame] = field(default_factory=dict)
    coded: dict[str, pd.DataFrame] = field(default_factory=dict)
    set_aside: dict[str, pd.DataFrame] = field(default_factory=dict)
    indicators: IndicatorTable | None = None
    score: ScoreResult | None = None
    awareness: pd.DataFrame | None = None
    channels: pd.DataFrame | None = None
    outputs: dict[str, Path] = field(default_factory=dict)


def draw_samples(run: EvaluationRun) -> None:
    """Frames and the four samples (step 1)."""
    sim, seed = run.sim, run.seed
    reg = Frame(sim.registry, id="household_id", strata=["county", "status"], certainty="flagged")
    unexited = Frame(sim.registry[sim.registry["status"] == "unexited"], id="household_id", strata="county")
    unreg = Frame(sim.unregistered, id="household_id", strata="county")
    dereg = Frame(sim.deregistered, id="household_id")
    run.frames = {"registered": reg, "phone": unexited, "unregistered": unreg, "deregistered": dereg}
    from .sampling import allocate

    unreg_n = allocate(120, unreg.stratum_sizes(), minimum=2).n_h.to_dict()
    run.samples = {
        "registered": select(reg, fraction=0.30, seed=seed, reserve=0.2),
        "phone": select(unexited, fraction=1.0, seed=seed),
        "unregistered": select(unreg, n=unreg_n, seed=seed, reserve=5),
        "deregistered": select(dereg, n=40, seed=seed, reserve=5),
    }


def _truth_answers(form: Questionnaire, truth: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    """Answer codes that code back to each household's true values (inverse of the coding)."""
    fixed: dict[str, list[Any]] = {"household_id": truth["household_id"].tolist()}
    if "county" in form.names():
        fixed["county"] = truth["county"].map(_COUNTY_CODES).tolist()
    if "status" in form.names():
        fixed["status"] = truth["status"].tolist()
    if "consent" in form.names():
        fixed["consent"] = ["yes"] * len(truth)
    for q in form.questions:
        if not q.indicator or q.indicator not in truth.columns or q.name in fixed:
            continue
        vals = truth[q.indicator].tolist()
        if q.coding == "multi":
            fixed[q.name] = [v if isinstance(v, str) and v else None for v in vals]
            continue
        out = []
        for v in vals:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                out.append(None)
            elif q.coding == "top2":
                out.append(str(rng.choice(["4", "5"])) if v == 1 else str(rng.choice(["1", "2", "3"], p=[.2, .3, .5])))
            elif q.coding in ("yes", "no"):
                other = "no" if q.coding == "yes" else "yes"
                out.append(q.coding if v == 1 else other)
            elif q.coding.startswith("in:"):
                hits = q.coding[3:].split()
                rest = [c for c in form.codes(q.name, missing=False) if c not in hits]
                out.append(str(rng.choice(hits)) if v == 1 else str(rng.choice(rest)))
            else:
                out.append(v)
        fixed[q.name] = out
    # satisfaction sub-dimensions follow overall satisfaction with some noise
    if "sat_overall" in fixed:
        for name in ("sat_method", "sat_result", "sat_publicity"):
            if name in form.names():
                fixed[name] = [None if s is None else (s if rng.random() < 0.8 else str(rng.choice(["2", "3", "4", "5"])))
                               for s in fixed["sat_overall"]]
    return fixed


def fieldwork(run: EvaluationRun, *, nonresponse: float = 0.06, errors: bool = True) -> None:
    """Simulated KoboToolbox exports, one per sample (step 2)."""
    rng = rng_for(run.seed, "survey_stats.fieldwork")
    for name, (population, form_name) in SAMPLES.items():
        form = load_questionnaire(questionnaire_path(form_name))
        run.forms[name] = form
        truth = run.sim.respond(run.samples[name].ids(), population, nonresponse=nonresponse,
                                seed=run.seed + zlib.crc32(name.encode()) % 1000)
        fixed = _truth_answers(form, truth, rng)
        kinds = ["unknown_choice", "out_of_range", "duplicate"] if errors and len(truth) > 10 else []
        run.raw[name] = generate_responses(form, len(truth), seed=run.seed, errors=kinds, fixed=fixed,
                                           one_hot=name == "phone")


def check_and_code(run: EvaluationRun) -> None:
    """Validate every export, set problem rows aside (listed), code the rest (step 3)."""
    for name, raw in run.raw.items():
        form = run.forms[name]
        data = read_export(raw, form)
        report = validate(data, form)
        problems = report.problems.assign(sample=name, form=form.form_id)
        run.validation[name] = problems
        bad_rows = set(problems["row"].dropna())
        run.set_aside[name] = data.loc[sorted(bad_rows), ["household_id"]].assign(
            reason=[", ".join(problems.loc[problems["row"] == r, "problem"]) for r in sorted(bad_rows)])
        run.coded[name] = code_responses(data.drop(index=sorted(bad_rows)), form)


def scoring_inputs() -> dict[str, Any]:
    """The evaluator's checklist and administrative inputs used by the demo (documented evidence)."""
    rules = ScoringRules.default()
    answers: dict[str, Any] = {k: True for k in rules.needs()["checklist"]}
    answers.update({"capacity.inspections": False, "regular_work.publicity_column": False,
                    "sustainability.media_provincial": True, "fund_allocation.factor_other": False})
    answers.update(fund_transfer_working_days=23, fund_entry_working_days=26, households_aided=640,
                   households_target=656, off_standard_households=4)
    return answers


def estimate(run: EvaluationRun, *, ci_method: str = "beta", n_sim: int = 10_000) -> None:
    """Designs, indicators and score (step 4)."""
    designs = {}
    for name in ("registered", "unregistered", "deregistered"):
        designs[name] = run.samples[name].design(run.coded[name], nonresponse="stratum")
    checked = int(round(0.93 * len(run.sim.registry)))
    run.indicators = evaluate_indicators(IndicatorSystem.default(), designs,
                                         administrative={"info_check_rate": (checked, len(run.sim.registry))},
                                         ci_method=ci_method, na="drop")  # type: ignore[arg-type]
    run.score = score(ScoringRules.default(), scoring_inputs(), run.indicators, seed=run.seed, n_sim=n_sim,
                      evidence={"capacity.inspections": "no inspection report for the year (document review)"})
    # policy awareness by group and channel reach (telephone census + other samples)
    from .estimation import proportion
    from .indicators import channel_reach

    rows = []
    phone = run.samples["phone"].design(run.coded["phone"], nonresponse="stratum")
    for label, d in (("exited", designs["registered"]), ("unexited", phone),
                     ("unregistered", designs["unregistered"]), ("deregistered", designs["deregistered"])):
        where = d.column("status") == "exited" if label == "exited" else None
        e = proportion(d, "aware", where=where, na="drop", ci_method=ci_method)  # type: ignore[arg-type]
        rows.append({"group": label, **e.to_frame().iloc[0][["n", "estimate", "se", "ci_low", "ci_high"]].to_dict()})
    run.awareness = pd.DataFrame(rows)
    labels = {code: f"{zh} ({code})" for code, zh in CHANNELS.items()}
    t = channel_reach(phone, "channels", labels=labels, ci_method=ci_method)  # type: ignore[arg-type]
    reach = t.to_frame()[["category", "n", "estimate", "se", "ci_low", "ci_high"]]
    run.channels = reach.rename(columns={"category": "channel"})


def write_outputs(run: EvaluationRun, out: str | Path) -> dict[str, Path]:
    """Excel, HTML, figures, manifests and field lists (step 5)."""
    from .report import write_excel, write_figures, write_html

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, s in run.samples.items():
        paths[f"manifest_{name}"] = s.write_manifest(out / "samples" / f"{name}_manifest.json")
    paths["field_list"] = run.samples["registered"].field_lists(
        out / "samples" / "home_visit_field_list.xlsx", by="county",
        columns=["household_id", "county", "status", "phone", "certainty"])
    validation = pd.concat(run.validation.values(), ignore_index=True)
    manifests = {name: s.manifest for name, s in run.samples.items()}
    assert run.indicators is not None and run.score is not None
    meta = {"title": "宿州市总工会困难职工帮扶工作第三方评估（模拟数据）",
            "title_en": "Third-party evaluation of the city trade union's aid to poor-worker households (simulated data)",
            "seed": run.seed, "version": __version__, "level": run.indicators.level,
            "ci_method": run.indicators.ci_method,
            "designs": {name: repr(s) for name, s in run.samples.items()}}
    figs = write_figures(run.indicators, run.score, out / "figures", awareness=run.awareness, channels=run.channels)
    from .report.deliverables import plan_for_run, write_deliverables  # 评估报告.docx, 问题清单及整改方案.xlsx, 分报告/

    plan = plan_for_run(run, inputs=scoring_inputs())
    paths.update(figs)
    paths["excel"] = write_excel(out / "evaluation_report.xlsx", run.indicators, run.score, meta=meta,
                                 validation=validation, manifests=manifests, awareness=run.awareness,
                                 channels=run.channels, plan=plan)
    paths["html"] = write_html(out / "evaluation_report.html", run.indicators, run.score, meta=meta,
                               figures=figs, validation=validation, awareness=run.awareness, channels=run.channels)
    paths.update(write_deliverables(run, out, plan=plan, figures=figs, meta={**meta, "households": len(run.sim.registry)},
                                    manifest_files={k[9:]: v for k, v in paths.items() if k.startswith("manifest_")}))
    run.outputs = paths
    return paths


def run_evaluation(out: str | Path, *, seed: int = 20261123, progress: bool = False) -> EvaluationRun:
    """All five steps on a fresh simulation; returns the run (outputs in ``run.outputs``)."""
    steps = [("draw samples", draw_samples), ("fieldwork", fieldwork), ("validate and code", check_and_code),
             ("estimate", estimate)]
    run = EvaluationRun(seed=seed, sim=simulate_evaluation(seed=seed))
    it = steps
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(steps, desc="evaluation", unit="step")
    for _, fn in it:
        fn(run)
    write_outputs(run, out)
    return run
