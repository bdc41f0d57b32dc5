"""Monte Carlo: design-based CIs on a simulated two-stage population cover at their nominal rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey_stats as ss

N_VILLAGES, HH_PER_VILLAGE, n_villages, n_hh = 300, 40, 30, 4


def _population(rng: np.random.Generator) -> pd.DataFrame:
    village = np.repeat(np.arange(N_VILLAGES), HH_PER_VILLAGE)
    effect = rng.normal(0, 1.0, N_VILLAGES)[village]  # intra-village correlation
    x = rng.normal(0, 1, len(village)) + 0.5 * effect
    y = 1.0 + 2.0 * x + effect + rng.normal(0, 1.5, len(village))
    return pd.DataFrame({"village": village, "household": np.arange(len(village)), "x": x, "y": y})


def _sample(pop: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    villages = rng.choice(N_VILLAGES, n_villages, replace=False)
    parts = [pop[pop["village"] == v].sample(n_hh, random_state=rng) for v in villages]
    return pd.concat(parts).assign(N1=N_VILLAGES, N2=HH_PER_VILLAGE)


@pytest.fixture(scope="module")
def coverage() -> dict[str, float]:
    rng = np.random.default_rng(20261202)
    pop = _population(rng)
    X = np.column_stack([np.ones(len(pop)), pop["x"]])
    beta = np.linalg.lstsq(X, pop["y"].to_numpy(), rcond=None)[0]  # the census (finite-population) fit
    mean_y = pop["y"].mean()
    hits = {"intercept": 0, "slope": 0, "mean": 0}
    reps = 300
    for _ in range(reps):
        d = ss.Design(_sample(pop, rng), ids=["village", "household"], fpc=["N1", "N2"])
        m = ss.glm(d, "y ~ x")
        inside = (m.ci_low <= beta) & (beta <= m.ci_high)
        hits["intercept"] += bool(inside[0])
        hits["slope"] += bool(inside[1])
        e = ss.mean(d, "y")
        hits["mean"] += bool(e.ci_low <= mean_y <= e.ci_high)
    return {k: v / reps for k, v in hits.items()}


@pytest.mark.parametrize("what", ["intercept", "slope", "mean"])
def test_two_stage_ci_coverage(coverage, what):
    assert 0.93 <= coverage[what] <= 0.985
