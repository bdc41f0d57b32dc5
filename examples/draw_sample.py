"""Draw the evaluation's samples from the 656-household registry, with an audit trail.

1. Telephone survey: every unexited household (a census).
2. Home visits: 30% of the households whose files are in order, at random by county ×
   status, plus every file the registry audit flags incomplete or illogical.
3. Planning: how many unexited households must be interviewed to show 漏退率 ≤ 3%
   if it is really 1%?

Writes the manifests (JSON) and field lists (Excel, one sheet per county, phone numbers
masked, no ID-card numbers) to the output folder.

Run:  python examples/draw_sample.py [--out output/sample] [--seed 20261123]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import survey_stats as ss
from survey_stats.review import audit_registry


def main(out: Path, seed: int) -> ss.Sample:
    sim = ss.datasets.simulate_evaluation(seed=seed)
    files = audit_registry(sim.registry, ledger=sim.documents["ledger"])  # document review flags the files
    registry = sim.registry.assign(flagged=sim.registry["household_id"].map(files.flags()))
    frame = ss.Frame(registry, id="household_id", strata=["county", "status"], certainty="flagged")
    print(frame)
    print(frame.summary().to_string(index=False), "\n")

    # 1. telephone census of unexited households
    unexited = ss.Frame(registry[registry["status"] == "unexited"], id="household_id", strata="county")
    phone = ss.select(unexited, fraction=1.0, seed=seed)
    print(f"telephone census: {len(phone)} unexited households")

    # 2. home visits: 30% of the non-flagged households at random + every flagged file,
    #    20% reserve for unreachable households
    visits = ss.select(frame, fraction=0.30, seed=seed, reserve=0.2, flagged="in_addition")
    print(visits)
    print(visits.summary().to_string(index=False), "\n")

    out.mkdir(parents=True, exist_ok=True)
    phone.write_manifest(out / "telephone_manifest.json")
    visits.write_manifest(out / "home_visit_manifest.json")
    visits.field_lists(out / "home_visit_field_list.xlsx", by="county",
                       columns=["household_id", "county", "status", "name", "phone", "address", "certainty"])
    print(f"wrote manifests and field lists to {out}/")

    # 3. decision-oriented sample size
    plan = ss.decision_sample_size(0.01, 0.03, direction="le", power=0.8, N=len(unexited.data))
    print(f"\n漏退率: to show ≤ 3% when the truth is 1% with power 0.8, interview n = {plan.n} "
          f"of {len(unexited.data)} unexited households (power at n: {plan.power:.3f}).")
    cochran = ss.sample_size_proportion(0.5, 0.05, N=len(registry))
    print(f"Cochran: ±5 points at 95% for the 656 households needs n = {cochran.n} (n0 = {cochran.n0:.1f}).")
    return visits


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("output/sample"))
    ap.add_argument("--seed", type=int, default=20261123)
    a = ap.parse_args()
    main(a.out, a.seed)
