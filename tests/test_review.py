"""Document review: every planted problem found exactly once and nothing else; working days; flags → sample."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import survey_stats as ss
from survey_stats import review


def audits(seed):
    r = ss.datasets.simulate_review(seed=seed)
    ra = review.audit_registry(r["registry"], ledger=r["ledger"])
    la = review.audit_ledger(r["ledger"], registry=r["registry"], standards=r["standards"], transfers=r["transfers"],
                             allocations=r["allocations"], deregistered=r["deregistered"])
    return r, ra, la


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_planted_problem_found_exactly_once_and_nothing_else(seed):
    r, ra, la = audits(seed)
    found = pd.concat([ra.problems[["household_id", "rule"]], la.problems[["household_id", "rule"]]], ignore_index=True)
    key = lambda df: sorted(zip(df["household_id"].fillna("-"), df["rule"]))  # noqa: E731
    assert key(found) == key(r["planted"])
    flagged = set(ra.households.loc[ra.households["flagged"], "household_id"])
    assert flagged == set(ra.problems["household_id"])
    assert ra.households.loc[ra.households.household_id.isin(ra.problems.loc[ra.problems.category == "incomplete",
                                                                             "household_id"]), "incomplete"].all()


def test_scoring_inputs_from_the_ledger():
    _, _, la = audits(1)
    x = la.scoring_inputs()
    assert x == {"off_standard_households": 1, "fund_transfer_working_days": 7, "fund_payment.bank_card": False,
                 "fund_payment.monthly_quarterly": False}
    rec = la.reconciliation.set_index("fund_source")
    assert rec.loc["provincial", "difference"] == -1000 and rec.loc["central", "difference"] == 0


@pytest.mark.parametrize(
    "start, end, expected",
    [
        # Spring Festival 2025: holiday 28 Jan – 4 Feb; make-up workdays Sun 26 Jan and Sat 8 Feb.
        # Workdays after Fri 24 Jan through Mon 10 Feb: 26, 27 Jan; 5, 6, 7, 8, 10 Feb = 7
        ("2025-01-24", "2025-02-10", 7),
        # National Day 2025: holiday 1–8 Oct; make-up Sun 28 Sep and Sat 11 Oct.
        # After Fri 26 Sep through Mon 13 Oct: 28, 29, 30 Sep; 9, 10, 11, 13 Oct = 7
        ("2025-09-26", "2025-10-13", 7),
        # Spring Festival 2026: holiday 15–23 Feb; make-up Sat 14 Feb and Sat 28 Feb.
        # After Fri 13 Feb through Fri 27 Feb: 14 Feb; 24, 25, 26, 27 Feb = 5
        ("2026-02-13", "2026-02-27", 5),
        ("2025-03-07", "2025-03-10", 1),  # an ordinary weekend
        ("2025-03-10", "2025-03-10", 0),
    ],
)
def test_working_days_follow_the_official_calendar(start, end, expected):
    assert review.working_days(start, end) == expected


def test_working_day_points_at_the_boundary():
    """20 working days → 4 points, 21 → 2 (资金到位及时率)."""
    rules = ss.ScoringRules.default()
    arrival = "2025-03-03"  # Monday; 20 workdays later is Mon 31 Mar (no holidays in March 2025)
    assert review.working_days(arrival, "2025-03-31") == 20
    assert review.working_days(arrival, "2025-04-01") == 21
    base = {k: True for k in rules.needs()["checklist"]}
    base.update(fund_entry_working_days=1, households_aided=1, households_target=1, off_standard_households=0,
                beneficiary_satisfaction=1.0, social_satisfaction=1.0)
    s20 = ss.score(rules, {**base, "fund_transfer_working_days": 20}).items.set_index("id").loc["fund_timeliness", "score"]
    s21 = ss.score(rules, {**base, "fund_transfer_working_days": 21}).items.set_index("id").loc["fund_timeliness", "score"]
    assert (s20, s21) == (4, 2)


def test_flags_drive_the_home_visit_sample():
    r, ra, _ = audits(2)
    reg = r["registry"].assign(flagged=r["registry"]["household_id"].map(ra.flags()))
    frame = ss.Frame(reg, id="household_id", strata=["county", "status"], certainty="flagged")
    s = ss.select(frame, fraction=0.3, seed=4)
    chosen = s.units.set_index("household_id")
    for hh in ra.households.loc[ra.households["flagged"], "household_id"]:
        assert hh in chosen.index and chosen.at[hh, "weight"] == 1.0 and chosen.at[hh, "pi"] == 1.0


def test_id_numbers_never_echoed_in_full():
    r, ra, la = audits(1)
    text = ra.problems.to_string() + la.problems.to_string()
    assert not any(v in text for v in r["registry"]["id_card"].dropna())
    assert not any(v in text for v in r["registry"]["phone"])


def test_users_add_rules_as_data():
    r = ss.datasets.simulate_review(seed=1)
    rules = copy.deepcopy(review.default_rules())
    rules["rules"].append({"id": "large_household", "kind": "expression", "category": "illogical",
                           "condition": "members >= @big", "message_zh": "家庭人口多", "message_en": "large household"})
    rules["thresholds"]["big"] = 5
    ra = review.audit_registry(r["registry"], rules=rules)
    expected = set(r["registry"].loc[r["registry"]["members"] >= 5, "household_id"])
    assert set(ra.problems.loc[ra.problems.rule == "large_household", "household_id"]) == expected


@pytest.mark.parametrize(
    "change, pattern",
    [({"kind": "magic"}, "unknown kind 'magic'"), ({"kind": "expression", "condition": "nonsense >> 1"}, "RShift is not allowed")],
)
def test_bad_rules_are_clear_errors(change, pattern):
    r = ss.datasets.simulate_review(seed=1)
    rules = copy.deepcopy(review.default_rules())
    rules["rules"][0].update(change)
    with pytest.raises((ss.DataError, ss.ExpressionError), match=pattern):
        review.audit_registry(r["registry"], rules=rules)


def test_missing_standard_is_an_error():
    r = ss.datasets.simulate_review(seed=1)
    with pytest.raises(ss.DataError, match="no standard for aid type/period"):
        review.audit_ledger(r["ledger"], registry=r["registry"], standards=r["standards"].iloc[:2])


@pytest.mark.parametrize("value, why", [("34130219800101001", "format"), ("341302198013010011", "birth date"),
                                        ("341302199902300012", "birth date")])
def test_id_card_checks(value, why):
    assert review.check_id_card(value) == why


def test_problem_list_to_excel(tmp_path):
    _, ra, _ = audits(1)
    p = ra.to_excel(tmp_path / "review.xlsx")
    with pd.ExcelFile(p) as xf:
        assert set(xf.sheet_names) == {"problems", "summary", "households"}
