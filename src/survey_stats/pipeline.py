"""The model evaluation, step by step, on simulated data (used by the example and ``survey-stats demo``).

Each step is a small function on public API, so a script can run them one at a time:

0. :func:`review_documents` — document review (文档审查): the registry audit flags
   incomplete or illogical files; the ledger audit gives the scoring inputs it can
   (off-standard households, transfer working days, bank card, regularity).
1. :func:`draw_samples` — frames and samples: home visits to 30% of the non-flagged
   registered households at random (county × status strata) plus every flagged
   household; the telephone census of unexited households (seed 000 §五.2); samples of
   unregistered (120 of 5 000) and deregistered (40 of 120) households.
2. :func:`fieldwork` — simulated KoboToolbox exports of the questionnaires, answers
   following each household's true situation, with nonresponse and a few data errors.
3. :func:`check_and_code` — validation reports; rows with problems are set aside
   (listed, never silently dropped); the rest coded for analysis, "说不清" per the
   ``dont_know`` policy.
4. :func:`estimate` — designs (nonresponse handled within strata; flagged households
   within their own group), the indicator table (unexited parts from the census),
   triangulation of census and home visits, awareness levels, channels, the extra
   sample inconclusive indicators need, and the 100-point score with uncertainty.
5. :func:`write_outputs` — Excel workbook, HTML report (the indicator table carries the
   extra sample each inconclusive indicator needs), figures, manifests, field lists.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._version import __version__
from ._validation import check_option, describe_values, rng_for
from .datasets import AID_KINDS, CHANNELS, PHONE_RESPONSE_ERROR, SimulatedEvaluation, misreport, simulate_evaluation
from .datasets import simulate_interviews
from .errors import DataError
from .indicators import IndicatorSystem, IndicatorTable, ScoreResult, ScoringRules, evaluate_indicators, score
from .indicators.checks import additional_sample, by_domain, mask_household_id, triangulate
from .indicators.groups import awareness_levels, channels_by_group, recode_dont_know
from .interviews import code_interviews, interview_plan, quotes, theme_frequencies
from .questionnaires import Questionnaire, code_responses, generate_responses, load_questionnaire, questionnaire_path
from .questionnaires import read_export, validate
from .review import LedgerAudit, RegistryAudit, audit_ledger, audit_registry, re_aid
from .sampling import Frame, Sample, select

__all__ = ["EvaluationRun", "administrative_counts", "aid_kind_columns", "aid_mix", "check_and_code", "draw_samples",
           "estimate", "fieldwork", "review_documents", "run_evaluation", "scoring_inputs", "social_survey_plan",
           "write_outputs"]

#: sample name → (population in the simulator, questionnaire)
SAMPLES = {"registered": ("registry", "home_visit"), "phone": ("registry", "phone_unexited"),
           "unregistered": ("unregistered", "unregistered"), "deregistered": ("deregistered", "deregistered"),
           "social": ("social", "social_satisfaction")}
#: interviewees per role in each county
INTERVIEWS_PER_ROLE = {"union_cadre": 2, "enterprise": 2, "community": 2}
#: planning assumption of the 社会满意度 survey: satisfaction anticipated in each group
SOCIAL_ANTICIPATED = {"official": 0.95, "worker": 0.95, "union": 0.95, "beneficiary": 0.95}
_COUNTY_CODES = {"埇桥区": "yongqiao", "砀山县": "dangshan", "萧县": "xiao", "灵璧县": "lingbi", "泗县": "si"}
#: raw satisfaction answer → coded column (the "说不清" policy applies to these)
SATISFACTION_ITEMS = {"sat_overall": "satisfied", "sat_method": "satisfaction_method",
                      "sat_result": "satisfaction_result", "sat_publicity": "satisfaction_publicity"}
#: triangulated items: coded column → label
TRIANGULATED = {"missed_exit": "漏退 (should have exited)", "paired_helper": "结对帮扶 (paired helper)",
                "satisfied": "满意 (satisfied)"}


@dataclass
class EvaluationRun:
    """Everything one evaluation run produced.

    Options: ``flagged`` (``"in_addition"``: 30% of the non-flagged households plus
    every flagged one; ``"within"``: flagged households count toward the 30%),
    ``flagged_nonresponse`` (``"within"`` or ``"separate"``, see
    :meth:`survey_stats.sampling.Sample.design`) and ``dont_know`` (``"not_satisfied"``
    per seed 001, or ``"exclude"``).  ``phone_error`` is the simulated telephone
    response error (:func:`survey_stats.datasets.misreport`; 0 = truthful answers).
    """

    seed: int
    sim: SimulatedEvaluation
    flagged: Literal["in_addition", "within"] = "in_addition"
    flagged_nonresponse: Literal["within", "separate"] = "within"
    dont_know: Literal["not_satisfied", "exclude"] = "not_satisfied"
    spot_check_fraction: float = 0.10
    phone_error: float = PHONE_RESPONSE_ERROR
    registry_audit: RegistryAudit | None = None
    ledger_audit: LedgerAudit | None = None
    frames: dict[str, Frame] = field(default_factory=dict)
    samples: dict[str, Sample] = field(default_factory=dict)
    forms: dict[str, Questionnaire] = field(default_factory=dict)
    raw: dict[str, pd.DataFrame] = field(default_factory=dict)
    validation: dict[str, pd.DataFrame] = field(default_factory=dict)
    coded: dict[str, pd.DataFrame] = field(default_factory=dict)
    set_aside: dict[str, pd.DataFrame] = field(default_factory=dict)
    dont_know_counts: dict[str, int] = field(default_factory=dict)
    indicators: IndicatorTable | None = None
    score: ScoreResult | None = None
    scoring_inputs: pd.DataFrame | None = None
    unverified: pd.DataFrame | None = None
    designs: dict[str, Any] | None = None
    triangulation: pd.DataFrame | None = None
    disagreements: pd.DataFrame | None = None
    awareness: pd.DataFrame | None = None
    channels: pd.DataFrame | None = None
    decisions: pd.DataFrame | None = None
    by_county: pd.DataFrame | None = None
    county_administrative: dict[str, dict[str, tuple[int, int]]] | None = None
    social_plan: pd.DataFrame | None = None
    aid_kinds: pd.DataFrame | None = None
    re_aid: pd.DataFrame | None = None
    interview_notes: pd.DataFrame | None = None
    interview_themes: pd.DataFrame | None = None
    interview_quotes: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)


def review_documents(run: EvaluationRun) -> None:
    """Audit the registry files and the aid ledger (step 0, seed 000 §五.1)."""
    docs = run.sim.documents
    run.registry_audit = audit_registry(run.sim.registry, ledger=docs["ledger"])
    run.ledger_audit = audit_ledger(docs["ledger"], registry=run.sim.registry, standards=docs["standards"],
                                    transfers=docs["transfers"], deregistered=docs["deregistered"])


def social_survey_plan(sizes: Mapping[str, int], anticipated: Mapping[str, float] | None = None, *,
                       reference: float = 0.90, power: float = 0.8, level: float = 0.95) -> pd.DataFrame:
    """Respondents per group for the 社会满意度 survey (seed 001 item 19, full marks at ≥ 90%).

    For each group, the simple-random-sample size that shows satisfaction ≥ *reference*
    with probability *power* if it really is the anticipated rate
    (:func:`~survey_stats.sampling.decision_sample_size`, exact binomial), reduced by the
    finite-population correction n/(1 + (n − 1)/N) and capped at the group's size.

    Examples
    --------
    >>> social_survey_plan({"official": 3000, "union": 400}, {"official": 0.95, "union": 0.97})
          group     N  anticipated  n_srs    n
    0  official  3000         0.95    231  215
    1     union   400         0.97    100   81
    """
    from .sampling import decision_sample_size

    anticipated = dict(anticipated or SOCIAL_ANTICIPATED)
    rows = []
    for g, N in sizes.items():
        if g not in anticipated:
            raise DataError(f"social survey plan: no anticipated satisfaction for group {g!r}.")
        r = decision_sample_size(anticipated[g], reference, direction="ge", power=power, level=level)
        if r.n is None:
            raise DataError(f"group {g!r}: no sample size up to 20 000 shows ≥ {reference} at {anticipated[g]}.")
        n = min(int(N), math.ceil(r.n / (1 + (r.n - 1) / N)))
        rows.append({"group": g, "N": int(N), "anticipated": anticipated[g], "n_srs": r.n, "n": n})
    return pd.DataFrame(rows)


def draw_samples(run: EvaluationRun) -> None:
    """Frames and the four samples (step 1); flagged files from the registry audit are certainty units."""
    sim, seed = run.sim, run.seed
    if run.registry_audit is None:
        review_documents(run)
    assert run.registry_audit is not None
    flags = run.registry_audit.flags()
    registry = sim.registry.assign(flagged=sim.registry["household_id"].map(flags).fillna(False).astype(bool))
    reg = Frame(registry, id="household_id", strata=["county", "status"], certainty="flagged")
    unexited = Frame(sim.registry[sim.registry["status"] == "unexited"], id="household_id", strata="county")
    unreg = Frame(sim.unregistered, id="household_id", strata="county")
    dereg = Frame(sim.deregistered, id="household_id")
    files = Frame(sim.registry, id="household_id", strata=["county", "status"])
    social = Frame(sim.social, id="household_id", strata="respondent_group")
    run.frames = {"registered": reg, "phone": unexited, "unregistered": unreg, "deregistered": dereg,
                  "spot_check": files, "social": social}
    run.social_plan = social_survey_plan(social.stratum_sizes().to_dict())
    from .sampling import allocate

    unreg_n = allocate(120, unreg.stratum_sizes(), minimum=2).n_h.to_dict()
    run.samples = {
        "registered": select(reg, fraction=0.30, seed=seed, reserve=0.2, flagged=run.flagged),
        "phone": select(unexited, fraction=1.0, seed=seed),
        "unregistered": select(unreg, n=unreg_n, seed=seed, reserve=5),
        "deregistered": select(dereg, n=40, seed=seed, reserve=5),
        # 档案抽检 (seed 000 attachment: 抽检比例原则上不低于10%), its own seed stream
        "spot_check": select(files, fraction=run.spot_check_fraction, seed=seed + 1),
        "social": select(social, n=run.social_plan.set_index("group")["n"].to_dict(), seed=seed + 2),
        # semi-structured interviews (seed 000 §五.2): 2 union cadres, 2 enterprise heads, 2 community workers per county
        "interviews": interview_plan(sim.documents["interview_roster"], INTERVIEWS_PER_ROLE, seed=seed + 3),
    }
    run.frames["interviews"] = Frame(sim.documents["interview_roster"], id="interviewee_id", strata=["county", "role"])


def _likert(v: float, rng: np.random.Generator) -> str:
    """A 5-point answer (or "说不清") coding back to *v* under top-2 coding with dk = not satisfied."""
    if v == 1:
        return str(rng.choice(["4", "5"]))
    return str(rng.choice(["1", "2", "3", "dk"], p=[.15, .25, .35, .25]))


def _truth_answers(form: Questionnaire, truth: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[Any]]:
    """Answer codes that code back to each household's true values (inverse of the coding)."""
    fixed: dict[str, list[Any]] = {"household_id": truth["household_id"].tolist()}
    if "county" in form.names():
        fixed["county"] = truth["county"].map(_COUNTY_CODES).tolist()
    for col in ("status", "respondent_group"):
        if col in form.names():
            fixed[col] = truth[col].tolist()
    if "consent" in form.names():
        fixed["consent"] = ["yes"] * len(truth)
    if "aware" in form.names() and "awareness_level" in truth.columns:
        fixed["aware"] = truth["awareness_level"].tolist()
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
                out.append(_likert(v, rng))
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
    return fixed


def aid_kind_columns(kinds: pd.Series) -> dict[str, pd.Series]:
    """0/1 columns from the kinds of aid a file documents (space-separated codes of ``AID_KINDS``).

    ``aid_material``, ``aid_psychological``, ``aid_skills`` (物质援助、心理关怀、技能培训,
    seed 000 三.3) and ``aid_diverse`` (two kinds or more); a missing record stays missing.

    Examples
    --------
    >>> cols = aid_kind_columns(pd.Series(["material psychological", "", None]))
    >>> pd.DataFrame(cols).values.tolist()
    [[1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [nan, nan, nan, nan]]
    """
    missing = kinds.isna()
    split = kinds.fillna("").astype(str).str.split()
    bad = split.apply(lambda ks: any(k not in AID_KINDS for k in ks))
    if bad.any():
        raise DataError(f"aid_kinds: unknown kind in row(s) {describe_values(list(kinds.index[bad]))}; "
                        f"use {', '.join(AID_KINDS)}.")
    out = {f"aid_{k}": split.apply(lambda ks, k=k: float(k in ks)).mask(missing) for k in AID_KINDS}
    out["aid_diverse"] = split.apply(lambda ks: float(len(set(ks)) >= 2)).mask(missing)
    return out


def fieldwork(run: EvaluationRun, *, nonresponse: float = 0.06, errors: bool = True) -> None:
    """Simulated KoboToolbox exports, one per sample, and the file spot-check record (step 2).

    Answers follow each household's true values, except that telephone answers carry the
    documented response error of :func:`~survey_stats.datasets.misreport` (``run.phone_error``),
    so the census and the home visits of the same households do not always agree.
    """
    if run.spot_check_fraction < 0.10:
        raise DataError(f"spot_check_fraction={run.spot_check_fraction}: 档案抽检 covers at least 10% of the files.")
    rng = rng_for(run.seed, "survey_stats.fieldwork")
    files = run.sim.respond(run.samples["spot_check"].ids(), "registry")  # every sampled file is inspected
    roster = run.sim.documents["interview_roster"]
    chosen = roster[roster["interviewee_id"].isin(run.samples["interviews"].ids())]
    run.interview_notes = simulate_interviews(chosen, seed=run.seed)
    run.coded["spot_check"] = files[["household_id", "county", "status", "file_complete", "file_consistent"]].assign(
        county=files["county"].map(_COUNTY_CODES), **aid_kind_columns(files["aid_kinds"]))
    for name, (population, form_name) in SAMPLES.items():
        form = load_questionnaire(questionnaire_path(form_name))
        run.forms[name] = form
        truth = run.sim.respond(run.samples[name].ids(), population, nonresponse=nonresponse,
                                seed=run.seed + zlib.crc32(name.encode()) % 1000)
        if name == "phone":  # telephone answers carry response error (datasets.misreport)
            truth = misreport(truth, [c for c in TRIANGULATED if c in truth.columns], rate=run.phone_error,
                              seed=run.seed)
        fixed = _truth_answers(form, truth, rng)
        kinds = ["unknown_choice", "out_of_range", "duplicate"] if errors and len(truth) > 10 else []
        run.raw[name] = generate_responses(form, len(truth), seed=run.seed, errors=kinds, fixed=fixed,
                                           one_hot=name == "phone")


def check_and_code(run: EvaluationRun) -> None:
    """Validate every export, set problem rows aside (listed), code the rest (step 3).

    The awareness answer keeps its three levels (``awareness_level``) beside the 0/1
    ``aware``; "说不清" satisfaction answers follow ``run.dont_know``.
    """
    check_option(run.dont_know, "dont_know", ("not_satisfied", "exclude"))
    for name, raw in run.raw.items():
        form = run.forms[name]
        data = read_export(raw, form)
        report = validate(data, form)
        problems = report.problems.assign(sample=name, form=form.form_id)
        run.validation[name] = problems
        bad_rows = sorted(set(problems["row"].dropna()))
        run.set_aside[name] = data.loc[bad_rows, ["household_id"]].assign(
            reason=[", ".join(problems.loc[problems["row"] == r, "problem"]) for r in bad_rows])
        kept = data.drop(index=bad_rows)
        coded = code_responses(kept, form)
        if "aware" in kept.columns:
            coded["awareness_level"] = kept["aware"].where(kept["aware"].isin(["well", "some", "none"]))
        items = {k: v for k, v in SATISFACTION_ITEMS.items() if k in coded.columns and v in coded.columns}
        run.coded[name], run.dont_know_counts[name] = recode_dont_know(coded, items, policy=run.dont_know)


def scoring_inputs(evaluator_inputs: pd.DataFrame, *, ledger_audit: LedgerAudit | None = None,
                   registry_audit: RegistryAudit | None = None, ledger: pd.DataFrame | None = None,
                   spot_check: pd.DataFrame | None = None, rules: ScoringRules | None = None,
                   require_all: bool = True) -> pd.DataFrame:
    """Every non-survey scoring input with its source and evidence; nothing is assumed.

    Parameters
    ----------
    evaluator_inputs : DataFrame
        key, value, evidence — what the evaluator found in documents the data cannot
        supply (checklist findings, 目标任务数, system entry days).  Every row needs an
        evidence reference.
    ledger_audit : LedgerAudit, optional
        Supplies off-standard households, the longest transfer in working days, and
        the bank-card and monthly/quarterly payment checks.
    registry_audit : RegistryAudit, optional
        Supplies 档案动态管理's "archives complete" criterion (no incomplete or
        illogical file).
    ledger : DataFrame, optional
        Supplies ``households_aided`` (distinct registered households paid).
    spot_check : DataFrame, optional
        File spot-check results (``file_complete``, ``file_consistent`` 0/1 per file):
        the "archives complete" point also needs every inspected file to pass.
    rules : ScoringRules, optional
        Whose inputs are needed (default: the shipped rules).
    require_all : bool
        Raise when an input of *rules* has no source (default); False leaves them out
        (then score with ``missing="zero"``).

    Returns
    -------
    DataFrame
        key, value, source (document review / evaluator), evidence.  Raises
        :class:`~survey_stats.errors.DataError` naming any input still missing or
        without evidence.
    """
    rules = rules or ScoringRules.default()
    rows: dict[str, tuple[Any, str, str]] = {}
    if ledger_audit is not None:
        n_problems = len(ledger_audit.problems)
        for k, v in ledger_audit.scoring_inputs().items():
            rows[k] = (v, "资金台账审查 (ledger audit)", f"audit_ledger: {n_problems} problem(s) listed")
    if registry_audit is not None:
        n_flag = int(registry_audit.households["flagged"].sum())
        ok, ev = n_flag == 0, f"audit_registry: {n_flag} file(s) incomplete or illogical"
        if spot_check is not None:
            bad = int(((spot_check["file_complete"] == 0) | (spot_check["file_consistent"] == 0)).sum())
            ok = ok and bad == 0
            ev += f"; 档案抽检 {len(spot_check)} file(s), {bad} incomplete or not matching the electronic file"
        rows["archive_management.archives_complete"] = (ok, "档案审查与抽检 (registry audit, spot check)", ev)
    if ledger is not None and registry_audit is not None:
        reg_ids = set(registry_audit.households["household_id"])
        aided = int(ledger.loc[ledger["household_id"].isin(reg_ids), "household_id"].nunique())
        rows["households_aided"] = (aided, "资金台账审查 (ledger audit)", "registered households paid in the ledger")
    need = {"key", "value", "evidence"} - set(evaluator_inputs.columns)
    if need:
        raise DataError(f"evaluator inputs lack column(s) {describe_values(sorted(need))}; give key, value, evidence.")
    no_ev = evaluator_inputs["evidence"].isna() | (evaluator_inputs["evidence"].astype(str).str.strip() == "")
    if no_ev.any():
        raise DataError(f"evaluator input(s) {describe_values(evaluator_inputs.loc[no_ev, 'key'])} have no evidence "
                        "reference; every finding must cite its document.")
    for k, v, ev in evaluator_inputs[["key", "value", "evidence"]].itertuples(index=False):
        if k not in rows:  # data-derived values win; the evaluator fills what data cannot
            rows[k] = (v, "评估员核查 (evaluator)", str(ev))
    needs = rules.needs()
    absent = [k for k in needs["checklist"] + needs["numbers"] if k not in rows]
    if absent and require_all:
        raise DataError(f"{len(absent)} scoring input(s) have no source: {describe_values(absent)}; add them to the "
                        "evaluator inputs with an evidence reference.")
    return pd.DataFrame([(k, v, src, ev) for k, (v, src, ev) in rows.items()],
                        columns=["key", "value", "source", "evidence"])


def _designs(run: EvaluationRun) -> dict[str, Any]:
    """Designs of the four samples, warnings on flagged nonresponse kept as notes."""
    designs: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        designs["registered"] = run.samples["registered"].design(
            run.coded["registered"], nonresponse="stratum", flagged_nonresponse=run.flagged_nonresponse,
            lonely_psu="adjust")
        for name in ("phone", "unregistered", "deregistered", "spot_check", "social"):
            designs[name] = run.samples[name].design(run.coded[name], nonresponse="stratum", lonely_psu="adjust")
    run.notes += [str(w.message) for w in caught]
    return designs


def aid_mix(ledger: pd.DataFrame, registry_ids: Any) -> tuple[dict[str, tuple[int, int]], pd.DataFrame]:
    """就业帮扶 coverage and the kinds of money aid, from the aid ledger (no sampling error).

    Returns the administrative counts of ``employment_aid_coverage`` (households paid
    employment aid / registered households) and the share of registered households paid
    each kind of aid.  (帮扶方式多样性 — 物质援助、心理关怀、技能培训 — needs the files'
    visit and training records: the spot-check indicators ``aid_diversity``,
    ``aid_material``, ``aid_psychological``, ``aid_skills``.)

    Examples
    --------
    >>> led = pd.DataFrame({"household_id": ["A", "A", "B", "C"], "aid_type": ["living", "medical", "living", "employment"]})
    >>> counts, kinds = aid_mix(led, ["A", "B", "C", "D"])
    >>> counts
    {'employment_aid_coverage': (1, 4)}
    >>> kinds.set_index("aid_type")["households"].to_dict()
    {'living': 2, 'employment': 1, 'medical': 1}
    """
    ids = pd.Index(pd.unique(pd.Series(list(registry_ids))))
    led = ledger[ledger["household_id"].isin(ids)]
    emp = led.loc[led["aid_type"] == "employment", "household_id"].nunique()
    by_kind = led.groupby("aid_type")["household_id"].nunique().sort_values(ascending=False, kind="stable")
    kinds = pd.DataFrame({"aid_type": by_kind.index, "households": by_kind.to_numpy(),
                          "share": by_kind.to_numpy() / len(ids)})
    return {"employment_aid_coverage": (int(emp), int(len(ids)))}, kinds


def administrative_counts(registry: pd.DataFrame, ledger: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Counts of the administrative indicators from the registry and the aid ledger.

    ``info_check_rate`` (households with 信息比对 done, column ``info_checked``),
    ``employment_aid_coverage`` (:func:`aid_mix`) and ``re_aid_rate`` (返困再帮扶:
    households recorded as back in hardship and paid again, :func:`survey_stats.review.re_aid`;
    left out when the registry records no return — then drop the indicator).

    Examples
    --------
    >>> reg = pd.DataFrame({"household_id": ["A", "B"], "info_checked": [True, False],
    ...                     "returned_on": [pd.Timestamp("2025-03-01"), pd.NaT]})
    >>> led = pd.DataFrame({"household_id": ["A"], "aid_type": ["employment"], "paid_on": [pd.Timestamp("2025-04-01")]})
    >>> administrative_counts(reg, led)
    {'info_check_rate': (1, 2), 'employment_aid_coverage': (1, 2), 're_aid_rate': (1, 1)}
    """
    out = {"info_check_rate": (int(registry["info_checked"].sum()), len(registry)),
           **aid_mix(ledger, registry["household_id"])[0]}
    back = re_aid(registry, ledger)
    if len(back):
        out["re_aid_rate"] = (int(back["re_aided"].sum()), len(back))
    return out


def _system(admin: Mapping[str, tuple[int, int]]) -> IndicatorSystem:
    """The default system without administrative indicators the data give no counts for."""
    system = IndicatorSystem.default()
    absent = {i.id for i in system if i.kind == "administrative" and i.id not in admin}
    return system.select([i.id for i in system if i.id not in absent]) if absent else system


def _populations(run: EvaluationRun) -> dict[str, int]:
    reg = run.sim.registry
    n_ex = int((reg["status"] == "exited").sum())
    return {"misidentification_rate": len(reg), "omission_rate": len(run.sim.unregistered),
            "wrong_exit_rate": n_ex + len(run.sim.deregistered), "missed_exit_rate": len(reg) - n_ex,
            "pairing_coverage": len(reg), "method_match_rate": len(reg), "beneficiary_satisfaction": len(reg),
            "return_to_hardship_rate": n_ex}


def estimate(run: EvaluationRun, *, ci_method: str = "beta", n_sim: int = 10_000,
             with_score: bool = True, with_decisions: bool = True) -> None:
    """Designs, indicators, checks and score (step 4).

    ``with_score=False`` skips the score simulation and ``with_decisions=False`` the
    extra-sample search (both for quick repeated runs, e.g. coverage studies).
    """
    designs = run.designs = _designs(run)
    reg, phone = designs["registered"], designs["phone"]
    run.unverified = run.samples["registered"].unverified(run.coded["registered"], set_aside=run.set_aside["registered"])
    reg_files, ledger = run.sim.registry, run.sim.documents["ledger"]
    run.aid_kinds = aid_mix(ledger, reg_files["household_id"])[1]
    back = re_aid(reg_files, ledger)
    run.re_aid = back.assign(household_id=back["household_id"].map(mask_household_id))
    admin = administrative_counts(reg_files, ledger)
    run.indicators = evaluate_indicators(_system(admin), designs, administrative=admin, ci_method=ci_method,
                                         na="drop")  # type: ignore[arg-type]
    if with_decisions:
        run.decisions = additional_sample(run.indicators, populations=_populations(run))
        # every indicator by county (分报告), NCHS flags on each cell (by_domain drops a county's missing counts)
        run.county_administrative = {name: administrative_counts(reg_files[reg_files["county"] == name], ledger)
                                     for name in _COUNTY_CODES}  # the county reports' administrative rates
        by_county = {code: run.county_administrative[name] for name, code in _COUNTY_CODES.items()}
        run.by_county = by_domain(_system(admin), designs, "county", list(_COUNTY_CODES.values()),
                                  administrative=by_county, ci_method=ci_method)
    # the census verified by the home visits of the same unexited households
    hv = run.coded["registered"]
    run.triangulation, run.disagreements = triangulate(run.coded["phone"], hv[hv["status"] == "unexited"],
                                                       TRIANGULATED, names=("phone", "home_visit"))
    exited = reg.column("status") == "exited"
    groups = {"exited": (reg, np.asarray(exited)), "unexited": (phone, None),
              "unregistered": (designs["unregistered"], None), "deregistered": (designs["deregistered"], None)}
    run.awareness = awareness_levels(groups, pooled={"registered": ["exited", "unexited"]}, ci_method=ci_method)  # type: ignore[arg-type]
    labels = {code: f"{zh} ({code})" for code, zh in CHANNELS.items()}
    run.channels = channels_by_group(groups, labels=labels, ci_method=ci_method)  # type: ignore[arg-type]
    if run.interview_notes is not None:
        codes = code_interviews(run.interview_notes)
        run.interview_themes = theme_frequencies(codes, run.interview_notes)
        run.interview_quotes = quotes(codes, run.interview_notes)
    docs = run.sim.documents
    run.scoring_inputs = scoring_inputs(docs["evaluator_inputs"], ledger_audit=run.ledger_audit,
                                        registry_audit=run.registry_audit, ledger=docs["ledger"],
                                        spot_check=run.coded.get("spot_check"))
    if with_score:
        inputs = dict(zip(run.scoring_inputs["key"], run.scoring_inputs["value"]))
        evidence = {k: f"{src}: {ev}" for k, src, ev in run.scoring_inputs[["key", "source", "evidence"]].itertuples(index=False)}
        run.score = score(ScoringRules.default(), inputs, run.indicators, seed=run.seed, n_sim=n_sim, evidence=evidence)


def methods_text(run: EvaluationRun) -> str:
    """The methods paragraph of the report: samples, census, flagged files, "说不清" policy."""
    reg = run.samples["registered"].manifest
    dk = {"not_satisfied": "“说不清”计入分母、按不满意处理（回答满意的人数/实际调查人员总数，皖工发〔2019〕22号）",
          "exclude": "“说不清”不计入分母（仅有效回答）"}[run.dont_know]
    lost = 0 if run.unverified is None else len(run.unverified)
    spot = run.samples.get("spot_check")
    spot_text = (f"档案抽检：按县区×状态分层随机抽取{len(spot)}份档案（{len(spot) / run.frames['spot_check'].N:.0%}），"
                 "估计档案完整率和纸质电子档案一致率。") if spot is not None else ""
    return (f"入户核查：随机抽取非问题档案户的30%（{reg['random_units']}户）并全部纳入问题档案户"
            f"（{reg['certainty_units']}户，来自档案审查）；{lost}户问题档案未完成核查，其权重不转移给随机抽取户。"
            f"未脱困户全部电话调查（{len(run.samples['phone'])}户），漏退率、未脱困户认可度和未脱困户结对帮扶据此估计，"
            f"无应答在县内调整。满意度：{dk}。{spot_text}")


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
            "designs": {name: repr(s) for name, s in run.samples.items()},
            "methods": {"抽样与数据来源 Samples and sources": methods_text(run),
                        **{f"说明 Note {i + 1}": n for i, n in enumerate(run.notes)}}}
    tables = {"未完成核查 Unverified flagged files": run.unverified,
              "电话调查与入户核查比对 Census vs home visits": run.triangulation,
              "比对不一致 Disagreements": run.disagreements,
              "分县区指标 Indicators by county": run.by_county,
              "社会满意度调查样本量 Social survey plan": run.social_plan,
              "帮扶类型 Aid received by kind": run.aid_kinds,
              "返困再帮扶 Households back in hardship aided again": run.re_aid,
              "访谈主题 Interview themes by role": run.interview_themes,
              "访谈引语 Interview quotes (anonymised)": run.interview_quotes,
              "评分输入 Scoring inputs": run.scoring_inputs}
    tables = {k: v for k, v in tables.items() if v is not None}
    phone_channels = run.channels[run.channels["group"] == "unexited"] if run.channels is not None else None
    figs = write_figures(run.indicators, run.score, out / "figures", awareness=run.awareness, channels=phone_channels)
    from .report.deliverables import plan_for_run, write_deliverables  # 评估报告.docx, 问题清单及整改方案.xlsx, 分报告/

    inputs = dict(zip(run.scoring_inputs["key"], run.scoring_inputs["value"])) if run.scoring_inputs is not None else None
    plan = plan_for_run(run, inputs=inputs, registry_audit=run.registry_audit, ledger_audit=run.ledger_audit,
                        unvisited=run.unverified)
    paths.update(figs)
    sheet = {"未完成核查 Unverified flagged files": "unverified", "电话调查与入户核查比对 Census vs home visits": "triangulation",
             "比对不一致 Disagreements": "disagreements",
             "分县区指标 Indicators by county": "by_county",
             "社会满意度调查样本量 Social survey plan": "social_plan", "帮扶类型 Aid received by kind": "aid_kinds",
             "返困再帮扶 Households back in hardship aided again": "re_aid",
             "访谈主题 Interview themes by role": "interview_themes",
             "访谈引语 Interview quotes (anonymised)": "interview_quotes", "评分输入 Scoring inputs": "scoring_inputs"}
    paths["excel"] = write_excel(out / "evaluation_report.xlsx", run.indicators, run.score, meta=meta,
                                 validation=validation, manifests=manifests, awareness=run.awareness,
                                 channels=run.channels, plan=plan, tables={sheet[k]: v for k, v in tables.items()},
                                 decisions=run.decisions, populations=_populations(run))
    paths["html"] = write_html(out / "evaluation_report.html", run.indicators, run.score, meta=meta,
                               figures=figs, validation=validation, awareness=run.awareness, channels=run.channels,
                               tables=tables, plan=plan, decisions=run.decisions, populations=_populations(run))
    paths.update(write_deliverables(run, out, plan=plan, figures=figs, designs=run.designs, meta={**meta, "households": len(run.sim.registry)},
                                    manifest_files={k[9:]: v for k, v in paths.items() if k.startswith("manifest_")}))
    run.outputs = paths
    return paths


def run_evaluation(out: str | Path, *, seed: int = 20261123, progress: bool = False,
                   n_sim: int = 10_000) -> EvaluationRun:
    """All five steps on a fresh simulation; returns the run (outputs in ``run.outputs``).
    *n_sim* is the number of draws of the score's simulation interval."""
    steps = [("document review", review_documents), ("draw samples", draw_samples), ("fieldwork", fieldwork),
             ("validate and code", check_and_code), ("estimate", lambda r: estimate(r, n_sim=n_sim))]
    run = EvaluationRun(seed=seed, sim=simulate_evaluation(seed=seed))
    it = steps
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(steps, desc="evaluation", unit="step")
    for _, fn in it:
        fn(run)
    write_outputs(run, out)
    return run
