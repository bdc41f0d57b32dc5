"""Evaluation rates with confidence intervals from the bundled synthetic survey.

The survey (``survey_stats.datasets.load_poverty_survey``) covers the four household
groups of the model evaluation: exited (N = 400, n = 150) and unexited (N = 256,
telephone census) registered households, and samples of unregistered (N = 5000,
n = 120) and deregistered (N = 120, n = 40) households.  Every rate is printed with
its standard error and 95% confidence interval, never as a bare number.

Run:  python examples/estimate_rates.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import survey_stats as ss

#: (id, Chinese name, outcome column, household groups in the denominator)
RATES = [
    ("misidentification_rate", "错评率", "misidentified", ["exited", "unexited"]),
    ("omission_rate", "漏评率", "omitted", ["unregistered"]),
    ("wrong_exit_rate", "错退率", "wrong_exit", ["exited"]),
    ("missed_exit_rate", "漏退率", "missed_exit", ["unexited"]),
]
SATISFACTION_WEIGHTS = {"exited": 0.4, "unexited": 0.4, "unregistered": 0.1, "deregistered": 0.1}


def main(out: Path | None) -> pd.DataFrame:
    data = ss.datasets.load_poverty_survey()
    design = ss.Design(data, strata="status", weights="weight", fpc="N_h")
    print(design)
    print(design.summary().to_string(index=False), "\n")

    rows = []
    for rate_id, zh, column, groups in RATES:
        in_groups = design.column("status").isin(groups)
        est = ss.proportion(design, column, where=in_groups, na="drop", ci_method="beta")
        rows.append({"indicator": rate_id, "name_zh": zh, "groups": "+".join(groups), **_cols(est)})

    by_group = ss.proportion(design, "satisfied", by="status", ci_method="beta")
    for e in by_group:
        group = e.domain[0][1]
        rows.append({"indicator": f"satisfaction_{group}", "name_zh": "满意度", "groups": group, **_cols(e)})
    composite = ss.linear_combination(by_group, SATISFACTION_WEIGHTS, variable="satisfaction")
    rows.append({"indicator": "satisfaction", "name_zh": "帮扶工作满意度", "groups": "0.4/0.4/0.1/0.1",
                 **_cols(composite)})

    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        path = out / "rates.csv"
        table.to_csv(path, index=False, encoding="utf-8-sig")
        print(f"\nwrote {path}")
    return table


def _cols(e: ss.Estimate) -> dict:
    return {"n": e.n, "estimate": e.estimate, "se": e.se, "ci_low": e.ci_low, "ci_high": e.ci_high,
            "df": e.df, "deff": e.deff, "method": e.method}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for rates.csv")
    main(parser.parse_args().out)
