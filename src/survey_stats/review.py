"""Document review (文档审查): audit the household registry and the aid ledger.

Seed 000 §五.1/§五.3: evaluators pull the registry files and the fund ledger; every
household whose file is incomplete or illogical enters the home-visit sample with
certainty.  Seed 001 scores fund timeliness in working days, payment by bank card,
monthly/quarterly living aid, and deducts 0.1 point per household paid off-standard.

* :func:`audit_registry` applies declarative rules (``review_data/rules.json``; add your
  own ``expression`` rules without code) and returns one row per (household, rule)
  problem with a Chinese and an English message, a per-household ``flagged`` column for
  :class:`~survey_stats.sampling.Frame` (certainty units), and a summary per county.
* :func:`audit_ledger` checks payments against standards, channels, regularity,
  eligibility, fund transfer times (working days on the mainland-China calendar, with
  its make-up workdays, from the ``chinesecalendar`` package) and reconciles totals.

ID-card and phone numbers are checked but only ever shown masked.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._validation import describe_values
from .errors import DataError
from .expr import Expression, parse
from .privacy import mask_id_card

__all__ = ["LedgerAudit", "RegistryAudit", "audit_ledger", "audit_registry", "check_id_card", "check_rules", "re_aid",
           "default_rules", "load_rules", "working_days"]

_RULE_KINDS = ("required", "id_card", "unique", "id_birth", "expression", "cause_aid", "aid_after_exit")

_PROBLEM_COLS = ["household_id", "county", "rule", "category", "message_zh", "message_en"]


def default_rules() -> dict[str, Any]:
    """The shipped registry rules (a dict; copy and edit it to add rules)."""
    rules = json.loads(resources.files("survey_stats").joinpath("review_data", "rules.json").read_text("utf-8"))
    check_rules(rules, source="rules.json (shipped)")
    return rules


def load_rules(path: str | Path) -> dict[str, Any]:
    """Read a rule file shaped like ``rules.json`` and check it (see :func:`check_rules`).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> bad = {"thresholds": {}, "rules": [{"id": "r1", "kind": "expression", "category": "illogical",
    ...        "condition": "@data.columns == 0", "message_zh": "", "message_en": ""}]}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rules.json"
    >>> _ = p.write_text(json.dumps(bad), encoding="utf-8")
    >>> load_rules(p)
    Traceback (most recent call last):
    ...
    survey_stats.errors.ExpressionError: ...rules.json: rule 'r1', condition: attribute access ('.') is not allowed...
    """
    try:
        rules = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc}).") from exc
    check_rules(rules, source=str(path))
    return rules


def check_rules(rules: Mapping[str, Any], *, source: str = "rules") -> dict[str, Expression]:
    """Check a rule set before any data are read; return the parsed ``expression`` conditions.

    Every rule needs an id, a known kind, a category and both messages; ``expression``
    conditions are parsed in the safe expression language (docs/expressions.md) with
    the file's ``thresholds`` as their only ``@parameters``.

    Raises
    ------
    DataError
        A rule lacks a field or has an unknown kind.
    ExpressionError
        A condition is not in the language or uses an undeclared ``@parameter``; the
        message names the file (*source*), the rule and the construct.

    Examples
    --------
    >>> sorted(check_rules(default_rules()))
    ['exit_before_registration', 'income_above_threshold', 'income_below_threshold_exited', 'members_mismatch',
     'registered_before_review']
    """
    if not isinstance(rules, Mapping) or not isinstance(rules.get("rules"), list):
        raise DataError(f"{source}: a rule set needs a 'rules' list.")
    thresholds = rules.get("thresholds", {})
    if not isinstance(thresholds, Mapping):
        raise DataError(f"{source}: 'thresholds' must be an object of name: value.")
    parsed: dict[str, Expression] = {}
    for i, rule in enumerate(rules["rules"]):
        if not isinstance(rule, Mapping) or not isinstance(rule.get("id"), str):
            raise DataError(f"{source}: rule #{i + 1} has no id.")
        where = f"{source}: rule {rule['id']!r}"
        missing = [k for k in ("kind", "category", "message_zh", "message_en") if k not in rule]
        if missing:
            raise DataError(f"{where} lacks {describe_values(missing)}.")
        if rule["kind"] not in _RULE_KINDS:
            raise DataError(f"{where}: unknown kind {rule['kind']!r}; use one of {', '.join(_RULE_KINDS)}.")
        if rule["kind"] == "expression":
            e = parse(rule.get("condition"), params=thresholds, source=f"{where}, condition")
            if not (e.is_condition or e.is_column):
                raise DataError(f"{where}: condition {rule['condition']!r} is not a condition (True/False per row).")
            parsed[rule["id"]] = e
    return parsed


_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def check_id_card(value: Any) -> str | None:
    """Why an 18-digit resident ID number (GB 11643-1999) is invalid, or None when it is valid.

    Checks the format, the birth date it encodes and the ISO 7064 MOD 11-2 check digit.

    Examples
    --------
    >>> check_id_card("341302198001010011") is None
    True
    >>> check_id_card("341302198001010010")
    'check digit'
    >>> check_id_card("341302198013010011")
    'birth date'
    """
    s = str(value).strip().upper()
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return "format"
    try:
        birth = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return "birth date"
    if not dt.date(1900, 1, 1) <= birth <= dt.date.today():
        return "birth date"
    if "10X98765432"[sum(int(d) * w for d, w in zip(s[:17], _W)) % 11] != s[17]:
        return "check digit"
    return None


def _id_birth(value: Any) -> dt.date | None:
    s = str(value)
    try:
        return dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except (ValueError, IndexError):
        return None


@dataclass(frozen=True)
class RegistryAudit:
    """Result of :func:`audit_registry`.

    Attributes
    ----------
    problems : DataFrame
        household_id, county, rule, category (incomplete / illogical), message_zh,
        message_en — one row per (household, rule).
    households : DataFrame
        household_id, county, incomplete, illogical, flagged (either) for every household.
    """

    problems: pd.DataFrame
    households: pd.DataFrame

    def flags(self) -> pd.Series:
        """``flagged`` indexed by household id (certainty units for the sampling frame)."""
        return self.households.set_index("household_id")["flagged"]

    def summary(self) -> pd.DataFrame:
        """Problems per county and rule, plus flagged households per county."""
        if self.problems.empty:
            return pd.DataFrame(columns=["county", "rule", "households"])
        return (self.problems.groupby(["county", "rule"])["household_id"].nunique().rename("households")
                .reset_index())

    def to_excel(self, path: str | Path) -> Path:
        """Problem list, per-household flags and the summary as an Excel workbook.

        Written through :func:`survey_stats.safe_output.write_workbook`: no cell is ever a
        formula, and ID-card and phone numbers are masked wherever they appear.
        """
        from .safe_output import write_workbook

        write_workbook(path, {"problems": self.problems, "summary": self.summary(), "households": self.households},
                       mask=True, personal="mask")
        return Path(path)


def audit_registry(registry: pd.DataFrame, *, ledger: pd.DataFrame | None = None,
                   rules: Mapping[str, Any] | None = None, id_column: str = "household_id") -> RegistryAudit:
    """Apply the registry rules; flag incomplete or illogical files.

    Parameters
    ----------
    registry : DataFrame
        One row per household: id, county, status, members, listed_members,
        income_per_head, cause, registered_on, exited_on, birth_date, id_card, ...
    ledger : DataFrame, optional
        Payments (household_id, aid_type, paid_on, ...), needed by the ``cause_aid`` and
        ``aid_after_exit`` rules (skipped without it).
    rules : mapping, optional
        Rule set shaped like :func:`default_rules`; rule kinds: ``required``,
        ``id_card``, ``unique``, ``id_birth``, ``expression`` (a condition in the safe
        expression language, docs/expressions.md, flagging the rows where it is true;
        ``@name`` refers to ``thresholds``), ``cause_aid``, ``aid_after_exit`` (payments of
        ``aid_type`` later than ``grace_days`` after the exit date: the 渐退期 phase-out period,
        180 days in the shipped rules; payments on or after the date in the rule's optional
        ``returned_column`` — the household's recorded return to hardship — are aid given
        again, not a phase-out breach).  The rules are checked (:func:`check_rules`) before
        the registry is read.

    Returns
    -------
    RegistryAudit
    """
    rules = dict(rules or default_rules())
    conditions = check_rules(rules, source="rules")
    if id_column not in registry.columns:
        raise DataError(f"registry has no id column {id_column!r}.")
    reg = registry.reset_index(drop=True).copy()
    for c in ("registered_on", "exited_on", "birth_date", "reviewed_on"):
        if c in reg.columns:
            reg[c] = pd.to_datetime(reg[c], errors="coerce")
    county = reg["county"] if "county" in reg.columns else pd.Series("", index=reg.index)
    rows: list[dict[str, Any]] = []

    def hit(mask: np.ndarray, rule: dict[str, Any], **fmt: Any) -> None:
        for i in np.flatnonzero(mask):
            f = {k: (v[i] if isinstance(v, (list, np.ndarray, pd.Series)) else v) for k, v in fmt.items()}
            rows.append({"household_id": reg.at[i, id_column], "county": county.iat[i], "rule": rule["id"],
                         "category": rule["category"], "message_zh": rule["message_zh"].format(**f),
                         "message_en": rule["message_en"].format(**f)})

    aid_types = None
    if ledger is not None:
        aid_types = ledger.groupby("household_id")["aid_type"].agg(lambda s: set(s))
    for rule in rules["rules"]:
        kind = rule["kind"]
        if kind == "required":
            for col in rule["columns"]:
                if col not in reg.columns:
                    raise DataError(f"rule {rule['id']!r}: registry has no column {col!r}.")
                blank = reg[col].isna().to_numpy() | (reg[col].astype(str).str.strip() == "").to_numpy()
                hit(blank, rule, column=col)
        elif kind == "id_card":
            col = reg[rule["column"]]
            why = [None if pd.isna(v) else check_id_card(v) for v in col]
            hit(np.array([w is not None for w in why]), rule, detail=why,
                value=[mask_id_card(v) for v in col])
        elif kind == "unique":
            col = reg[rule["column"]]
            dup = (col.duplicated(keep=False) & col.notna()).to_numpy()
            hit(dup, rule, value=[mask_id_card(v) for v in col])
        elif kind == "id_birth":
            births = [_id_birth(v) for v in reg[rule["column"]]]
            rec = reg[rule["birth_column"]]
            bad = np.array([b is not None and pd.notna(r) and r.date() != b for b, r in zip(births, rec)])
            hit(bad, rule)
        elif kind == "expression":
            hit(conditions[rule["id"]].mask(reg), rule)
        elif kind == "cause_aid":
            if aid_types is None:
                continue
            table = rules.get("cause_aid", {})
            got = reg[id_column].map(aid_types)
            bad = np.array([isinstance(g, set) and bool(table.get(c)) and not (g & set(table[c]))
                            for c, g in zip(reg["cause"], got)])
            hit(bad, rule)
        elif kind == "aid_after_exit":
            if ledger is None:
                continue
            led = ledger[ledger["aid_type"] == rule["aid_type"]].copy()
            led["paid_on"] = pd.to_datetime(led["paid_on"])
            back = rule.get("returned_column")
            if back and back in reg.columns:  # aid from a recorded return to hardship on is 返困再帮扶
                since = pd.to_datetime(reg.set_index(id_column)[back], errors="coerce")
                led = led[~(led["paid_on"] >= led["household_id"].map(since))]
            last = led.groupby("household_id")["paid_on"].max()
            lp = reg[id_column].map(last)
            grace = pd.Timedelta(days=int(rule.get("grace_days", 0)))  # 渐退期: aid may continue this long
            bad = ((reg["status"] == "exited") & reg["exited_on"].notna() & lp.notna()
                   & (lp > reg["exited_on"] + grace)).to_numpy()
            hit(bad, rule)
        else:
            raise DataError(f"rule {rule['id']!r}: unknown kind {kind!r}.")
    problems = pd.DataFrame(rows, columns=_PROBLEM_COLS)
    inc = set(problems.loc[problems["category"] == "incomplete", "household_id"])
    ill = set(problems.loc[problems["category"] == "illogical", "household_id"])
    hh = pd.DataFrame({"household_id": reg[id_column], "county": county})
    hh["incomplete"] = hh["household_id"].isin(inc)
    hh["illogical"] = hh["household_id"].isin(ill)
    hh["flagged"] = hh["incomplete"] | hh["illogical"]
    return RegistryAudit(problems, hh)


def re_aid(registry: pd.DataFrame, ledger: pd.DataFrame, *, returned_column: str = "returned_on",
           id_column: str = "household_id") -> pd.DataFrame:
    """返困再帮扶: were households recorded as back in hardship aided again?

    Seed 000 (帮扶可持续性) asks whether a mechanism re-aids exited households that fell back
    into hardship.  From the registry's record of the return (*returned_column*, a date)
    and the aid ledger, each recorded household is aided again when the ledger holds a
    payment to it on or after that date.  An administrative check on the whole registry:
    no sampling error.

    Returns
    -------
    DataFrame
        household_id, county, returned_on, re_aided (bool), first_aid_on (NaT when none),
        one row per household with a recorded return.

    Examples
    --------
    >>> reg = pd.DataFrame({"household_id": ["A", "B", "C"], "county": "萧县",
    ...                     "returned_on": [pd.Timestamp("2025-03-01"), pd.Timestamp("2025-05-01"), pd.NaT]})
    >>> led = pd.DataFrame({"household_id": ["A", "B"], "aid_type": "living",
    ...                     "paid_on": [pd.Timestamp("2025-04-10"), pd.Timestamp("2025-04-10")]})
    >>> re_aid(reg, led)[["household_id", "re_aided"]].values.tolist()
    [['A', True], ['B', False]]
    """
    for name, df, cols in (("registry", registry, [id_column, returned_column]),
                           ("ledger", ledger, ["household_id", "paid_on"])):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise DataError(f"re_aid: the {name} has no column(s) {', '.join(map(repr, missing))}.")
    since = pd.to_datetime(registry[returned_column], errors="coerce")
    rec = registry.loc[since.notna(), [id_column]].assign(returned_on=since[since.notna()])
    rec["county"] = registry.loc[since.notna(), "county"] if "county" in registry.columns else ""
    paid = ledger[["household_id", "paid_on"]].assign(paid_on=lambda d: pd.to_datetime(d["paid_on"]))
    paid = paid.merge(rec.rename(columns={id_column: "household_id"}), on="household_id")
    first = paid[paid["paid_on"] >= paid["returned_on"]].groupby("household_id")["paid_on"].min()
    out = rec.rename(columns={id_column: "household_id"})[["household_id", "county", "returned_on"]]
    out["first_aid_on"] = pd.to_datetime(out["household_id"].map(first.to_dict()))
    out.insert(3, "re_aided", out["first_aid_on"].notna())
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------- ledger
def working_days(start: Any, end: Any) -> int:
    """Working days after *start* up to and including *end*, on the mainland-China calendar.

    Public holidays are off and the make-up workdays (调休) on weekends count, as the
    State Council's schedule says (``chinesecalendar``).  Funds arriving on a Friday and
    transferred the next Monday took 1 working day.

    Examples
    --------
    >>> working_days("2025-01-24", "2025-02-10")   # Spring Festival, make-up days 26 Jan and 8 Feb
    7
    >>> working_days("2025-09-26", "2025-10-13")   # National Day, make-up days 28 Sep and 11 Oct
    7
    """
    import chinese_calendar

    a, b = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    if b < a:
        raise DataError(f"transfer date {b} is before the arrival date {a}.")
    days = pd.date_range(a + dt.timedelta(days=1), b, freq="D")
    try:
        return int(sum(chinese_calendar.is_workday(d.date()) for d in days))
    except NotImplementedError as exc:
        raise DataError(f"the holiday calendar does not cover {a}–{b} yet ({exc}); update chinesecalendar.") from exc


@dataclass(frozen=True)
class LedgerAudit:
    """Result of :func:`audit_ledger`.

    Attributes
    ----------
    problems : DataFrame
        household_id, rule, message_zh, message_en, detail — one row per problem.
    off_standard_households : list
        Households paid off-standard at least once (帮扶标准: −0.1 point each).
    transfers : DataFrame
        Fund transfers with the working days each took.
    reconciliation : DataFrame
        Payments vs allocations per fund source, with the difference.
    """

    problems: pd.DataFrame
    off_standard_households: list[Any]
    transfers: pd.DataFrame
    reconciliation: pd.DataFrame

    def scoring_inputs(self) -> dict[str, Any]:
        """Inputs for :func:`survey_stats.score`: off-standard count, longest transfer, payment checks."""
        rules = set(self.problems["rule"])
        return {"off_standard_households": len(self.off_standard_households),
                "fund_transfer_working_days": int(self.transfers["working_days"].max()) if len(self.transfers) else 0,
                "fund_payment.bank_card": "not_bank_card" not in rules,
                "fund_payment.monthly_quarterly": "living_aid_irregular" not in rules}


def audit_ledger(
    ledger: pd.DataFrame,
    *,
    registry: pd.DataFrame,
    standards: pd.DataFrame,
    transfers: pd.DataFrame | None = None,
    allocations: Mapping[str, float] | None = None,
    deregistered: pd.DataFrame | None = None,
    tolerance_days: int = 10,
) -> LedgerAudit:
    """Check the aid ledger (资金使用台账).

    Parameters
    ----------
    ledger : DataFrame
        household_id, aid_type (living/medical/schooling/employment), amount, paid_on,
        channel ("bank_card" expected), fund_source.
    registry : DataFrame
        household_id (and status) of registered households.
    standards : DataFrame
        aid_type, period (e.g. "2026"), min_amount, max_amount: payments outside are
        off-standard.  The period of a payment is its year.
    transfers : DataFrame, optional
        fund_source, arrived_on, transferred_on: central/provincial funds passed down.
    allocations : mapping, optional
        fund_source → amount allocated; payments are reconciled against it.
    deregistered : DataFrame, optional
        household_id, deregistered_on: payments after that date are errors.
    tolerance_days : int
        Slack when checking that living aid is paid monthly or quarterly.

    Returns
    -------
    LedgerAudit
    """
    need = {"household_id", "aid_type", "amount", "paid_on", "channel", "fund_source"}
    missing = need - set(ledger.columns)
    if missing:
        raise DataError(f"ledger lacks column(s) {describe_values(sorted(missing))}.")
    led = ledger.reset_index(drop=True).copy()
    led["paid_on"] = pd.to_datetime(led["paid_on"])
    rows: list[dict[str, Any]] = []

    def add(hh: Any, rule: str, zh: str, en: str, detail: str = "") -> None:
        rows.append({"household_id": hh, "rule": rule, "message_zh": zh, "message_en": en, "detail": detail})

    # amounts vs standards
    std = standards.copy()
    std["period"] = std["period"].astype(str)
    led["period"] = led["paid_on"].dt.year.astype(str)
    m = led.merge(std, on=["aid_type", "period"], how="left")
    nostd = m["min_amount"].isna()
    if nostd.any():
        combos = sorted(set(zip(m.loc[nostd, "aid_type"], m.loc[nostd, "period"])))
        raise DataError(f"no standard for aid type/period {describe_values(combos)}; add them to standards.")
    off = (m["amount"] < m["min_amount"]) | (m["amount"] > m["max_amount"])
    for _, r in m[off].iterrows():
        add(r["household_id"], "off_standard", f"{r['aid_type']}发放金额{r['amount']:g}元不符合标准",
            f"{r['aid_type']} payment of {r['amount']:g} yuan outside the standard",
            f"{r['paid_on'].date()} standard {r['min_amount']:g}-{r['max_amount']:g}")
    off_households = sorted(set(m.loc[off, "household_id"]))
    # channel
    for _, r in led[led["channel"] != "bank_card"].iterrows():
        add(r["household_id"], "not_bank_card", "未通过银行卡发放", "not paid by bank card",
            f"{r['paid_on'].date()} via {r['channel']}")
    # living aid monthly or quarterly
    living = led[led["aid_type"] == "living"].sort_values(["household_id", "paid_on"])
    for hh, g in living.groupby("household_id"):
        gaps = g["paid_on"].diff().dt.days.dropna()
        ok = gaps.apply(lambda d: abs(d - 30.4) <= tolerance_days or abs(d - 91.3) <= tolerance_days)
        if len(gaps) and not ok.all():
            add(hh, "living_aid_irregular", "生活救助未按月或按季发放", "living aid not paid monthly or quarterly",
                "gaps (days): " + ", ".join(str(int(x)) for x in gaps))
    # eligibility
    registered = set(registry["household_id"])
    dereg = {} if deregistered is None else dict(zip(deregistered["household_id"],
                                                      pd.to_datetime(deregistered["deregistered_on"])))
    for _, r in led.iterrows():
        hh = r["household_id"]
        if hh in dereg and r["paid_on"] > dereg[hh]:
            add(hh, "paid_after_deregistration", "注销后仍发放帮扶资金", "paid after deregistration",
                f"{r['paid_on'].date()} > {dereg[hh].date()}")
        elif hh not in registered and hh not in dereg:
            add(hh, "not_in_registry", "帮扶对象不在困难职工档案中", "paid to a household not in the registry",
                f"{r['paid_on'].date()}")
    # transfer times
    tr = pd.DataFrame(columns=["fund_source", "arrived_on", "transferred_on", "working_days"])
    if transfers is not None and len(transfers):
        tr = transfers.copy()
        tr["working_days"] = [working_days(a, b) for a, b in zip(tr["arrived_on"], tr["transferred_on"])]
    # reconciliation
    paid = led.groupby("fund_source")["amount"].sum()
    rec = pd.DataFrame({"paid": paid})
    if allocations is not None:
        rec = rec.join(pd.Series(dict(allocations), name="allocated"), how="outer").fillna(0.0)
        rec["difference"] = rec["paid"] - rec["allocated"]
        for src, r in rec[rec["difference"].abs() > 0.005].iterrows():
            add(None, "unreconciled", f"{src}资金发放合计与下达额度不符（差额{r['difference']:.2f}元）",
                f"{src}: payments differ from the allocation by {r['difference']:.2f} yuan", src)
    problems = pd.DataFrame(rows, columns=["household_id", "rule", "message_zh", "message_en", "detail"])
    return LedgerAudit(problems, off_households, tr.reset_index(drop=True), rec.reset_index(names="fund_source"))

