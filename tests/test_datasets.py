"""The bundled simulator: known truths, responses, and recovery through the whole pipeline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import survey_stats as ss

ROOT = Path(__file__).resolve().parents[1]


def test_registry_ids_are_valid_and_pii_is_synthetic():
    reg = ss.datasets.simulate_registry(seed=2)
    assert reg["household_id"].is_unique and len(reg) == 656
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for s in reg["id_card"].head(50):
        assert "10X98765432"[sum(int(d) * k for d, k in zip(s[:17], w)) % 11] == s[17]
    assert set(reg["county"]) == set(ss.datasets.COUNTIES)


def test_truth_matches_population():
    sim = ss.datasets.simulate_evaluation(seed=4)
    ex = sim.registry["status"] == "exited"
    wrong = sim.registry.loc[ex, "wrong_exit"].sum() + sim.deregistered["wrong_exit"].sum()
    assert sim.truth["wrong_exit_rate"] == wrong / (ex.sum() + len(sim.deregistered))  # 已脱困(已注销) pooled
    assert "flagged" not in sim.registry  # flags come from auditing the files
    assert sim.registry.loc[ex, "missed_exit"].isna().all()
    r = sim.respond(sim.registry["household_id"][:100], "registry", nonresponse=0.2, seed=1)
    assert 60 < len(r) < 95 and "name" not in r and "id_card" not in r
    with pytest.raises(ValueError, match="not in the unregistered"):
        sim.respond(["SZ0001"], "unregistered")


def test_example_pipeline_recovers_truth_on_average():
    spec = importlib.util.spec_from_file_location("ex", ROOT / "examples" / "indicators_and_score.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)  # type: ignore[union-attr]
    covered, total = 0, 0
    for seed in range(6):
        table, result, sim = ex.run(seed)
        for r in table:
            if r.id in sim.truth and r.se > 0:
                total += 1
                covered += r.ci_low <= sim.truth[r.id] <= r.ci_high
        assert 0 <= result.total <= 100
    assert covered / total > 0.85
