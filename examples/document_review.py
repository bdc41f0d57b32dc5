"""Document review: audit the registry and the aid ledger, write the problem list, flag files.

Uses the bundled simulator (a 200-household registry and its 2025 ledger with one planted
problem of each kind).  Writes ``output/document_review.xlsx`` (problem list, per-county
summary, per-household flags) and shows how the flags become certainty units of the
home-visit sample.

Run:  python examples/document_review.py [--out output]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import survey_stats as ss
from survey_stats import review


def main(out: Path) -> None:
    data = ss.datasets.simulate_review(seed=1)
    registry, ledger = data["registry"], data["ledger"]

    files = review.audit_registry(registry, ledger=ledger)
    print(f"registry: {len(files.problems)} problem(s) in {int(files.households['flagged'].sum())} household file(s)")
    print(files.problems[["household_id", "rule", "message_zh", "message_en"]].to_string(index=False))

    money = review.audit_ledger(ledger, registry=registry, standards=data["standards"], transfers=data["transfers"],
                                allocations=data["allocations"], deregistered=data["deregistered"])
    print(f"\nledger: {len(money.problems)} problem(s)")
    print(money.problems[["household_id", "rule", "message_zh", "detail"]].to_string(index=False))
    print("\nfund transfers (working days on the official calendar):")
    print(money.transfers.to_string(index=False))
    print("\nscoring inputs:", money.scoring_inputs())

    out.mkdir(parents=True, exist_ok=True)
    path = files.to_excel(out / "document_review.xlsx")
    print(f"\nwrote {path}")

    # flagged files enter the home-visit sample with certainty
    frame = ss.Frame(registry.assign(flagged=registry["household_id"].map(files.flags())), id="household_id",
                     strata=["county", "status"], certainty="flagged")
    sample = ss.select(frame, fraction=0.30, seed=2026)
    flagged = set(files.households.loc[files.households["flagged"], "household_id"])
    print(f"home-visit sample: {len(sample)} households, all {len(flagged)} flagged files included: "
          f"{flagged <= set(sample.ids())}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("output"))
    main(ap.parse_args().out)
