"""From samples to the evaluation's indicator table and 100-point score, on simulated data.

* registered households: strata county × status; unexited households are a telephone
  census, exited households a 30% home-visit sample with flagged files taken for certain;
* unregistered households: simple random sample of 120 from the 5 000 on the lists;
* deregistered households: simple random sample of 40 of 120.

Every rate is printed with its SE, CI, verdict against the reference value and NCHS
reliability flag; the score gets an interval and the probability of each grade.

Run:  python examples/indicators_and_score.py [--seed 7]
"""

from __future__ import annotations

import argparse

import pandas as pd

import survey_stats as ss


def run(seed: int = 7) -> tuple[ss.IndicatorTable, ss.ScoreResult, ss.datasets.SimulatedEvaluation]:
    sim = ss.datasets.simulate_evaluation(seed=seed)

    reg_frame = ss.Frame(sim.registry, id="household_id", strata=["county", "status"], certainty="flagged")
    census = [h for h in reg_frame.stratum_sizes().index if h.endswith("unexited")]
    reg_sample = ss.select(reg_frame, fraction=0.30, census=census, seed=seed)
    unreg_sample = ss.select(ss.Frame(sim.unregistered, id="household_id"), n=120, seed=seed)
    dereg_sample = ss.select(ss.Frame(sim.deregistered, id="household_id"), n=40, seed=seed)

    samples = {
        "registered": reg_sample.design(sim.respond(reg_sample.ids(), "registry")),
        "unregistered": unreg_sample.design(sim.respond(unreg_sample.ids(), "unregistered")),
        "deregistered": dereg_sample.design(sim.respond(dereg_sample.ids(), "deregistered")),
    }
    table = ss.evaluate_indicators(ss.IndicatorSystem.default(), samples,
                                   administrative={"info_check_rate": (612, 656)}, ci_method="beta")

    rules = ss.ScoringRules.default()
    answers = {k: True for k in rules.needs()["checklist"]}
    answers.update({"capacity.inspections": False, "regular_work.publicity_column": False,
                    "sustainability.media_provincial": True})
    answers.update(fund_transfer_working_days=23, fund_entry_working_days=26, households_aided=640,
                   households_target=656, off_standard_households=4)
    result = ss.score(rules, answers, table, seed=seed)
    return table, result, sim


def main(seed: int) -> None:
    table, result, sim = run(seed)
    fr = table.to_frame()
    fr["truth"] = fr["id"].map(sim.truth)
    cols = ["name_zh", "n", "estimate", "se", "ci_low", "ci_high", "reference", "verdict", "reliability", "truth"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(fr[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print("\nscore by first-level indicator:")
    print(result.by_level1().to_string(index=False))
    print("\ntotal:", result.summary())
    print("grade probabilities:", {k: round(v, 3) for k, v in result.grade_probabilities.items()})


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    main(ap.parse_args().seed)
