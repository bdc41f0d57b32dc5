"""The whole third-party evaluation in one script, on simulated data.

The model case: a city trade union's aid to 656 registered poor-worker households in
埇桥区, 砀山县, 萧县, 灵璧县 and 泗县.  The steps are the ones the terms of reference set:

0. document review — the registry audit flags incomplete or illogical files; the ledger
   audit gives off-standard households, transfer days and payment checks for the score;
1. frames and samples — home visits to 30% of the non-flagged households at random
   (county × status strata) plus every flagged file, the telephone census of unexited
   households (the source of 漏退率 and 未脱困户认可度), and samples of unregistered (120)
   and deregistered (40) households;
2. fieldwork — here simulated: KoboToolbox exports of the five questionnaires, with
   nonresponse and a few data-entry errors;
3. validation and coding — problem rows set aside and listed, never silently dropped;
4. indicators and scoring — every rate with SE, CI, verdict and reliability flag; the
   0.4/0.4/0.1/0.1 satisfaction index; the 100-point score with its interval and the
   probability of each grade;
5. reports — Excel workbook, HTML report, figures, sample manifests and field lists.

Run:  python examples/suzhou_evaluation.py [--out output] [--seed 20261123]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import survey_stats as ss
from survey_stats import pipeline


def main(out: Path, seed: int) -> pipeline.EvaluationRun:
    run = pipeline.EvaluationRun(seed=seed, sim=ss.datasets.simulate_evaluation(seed=seed))

    print("0. document review")
    pipeline.review_documents(run)
    assert run.registry_audit is not None and run.ledger_audit is not None
    print(f"   registry: {int(run.registry_audit.households['flagged'].sum())} file(s) flagged "
          f"{run.registry_audit.problems['rule'].value_counts().to_dict()}")
    print(f"   ledger: {run.ledger_audit.scoring_inputs()}")

    print("1. frames and samples")
    pipeline.draw_samples(run)
    for name, sample in run.samples.items():
        print(f"   {name:<13} {sample}  (frame: {run.frames[name]})")
    m = run.samples["registered"].manifest
    print(f"   home visits: {m['random_units']} at random + {m['certainty_units']} flagged (flagged={m['flagged']!r})")

    print("2. fieldwork (simulated KoboToolbox exports)")
    pipeline.fieldwork(run)
    for name, raw in run.raw.items():
        print(f"   {name:<13} {len(raw)} submissions from {len(run.samples[name])} sampled households")

    print("3. validation and coding")
    pipeline.check_and_code(run)
    for name, problems in run.validation.items():
        print(f"   {name:<13} {len(problems)} problem(s); set aside: {run.set_aside[name]['household_id'].tolist()}")

    print("4. indicators and score")
    pipeline.estimate(run)
    assert run.indicators is not None and run.score is not None
    table = run.indicators.to_frame()
    table["truth"] = table["id"].map(run.sim.truth)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table[["name_zh", "n", "estimate", "se", "ci_low", "ci_high", "reference", "verdict", "reliability",
                     "truth"]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"   score: {run.score.summary()}")
    print("   flagged households not verified (未完成核查):")
    print(run.unverified.to_string(index=False) if run.unverified is not None and len(run.unverified) else "   none")
    print("   census vs home visits of the same unexited households:")
    print(run.triangulation.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("   extra sample for a verdict (80% power at the observed rate):")
    print(run.decisions.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    aw = run.awareness
    print("   policy awareness, registered households pooled:",
          {r.level: round(r.estimate, 3) for r in aw[aw["group"] == "registered"].itertuples()})
    for note in run.notes:
        print(f"   note: {note}")

    print("5. reports")
    paths = pipeline.write_outputs(run, out)
    for key in ("excel", "html", "figure_forest", "field_list"):
        print(f"   {key:<14} {paths[key]}")
    print(f"\nDone. Open {paths['html']} in a browser, or {paths['excel']} in Excel.")
    return run


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("output"))
    ap.add_argument("--seed", type=int, default=20261123)
    a = ap.parse_args()
    main(a.out, a.seed)
