"""The indicator system as data: rates, administrative counts, weighted parts and composites."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .._validation import describe_values
from ..errors import DataError, ExpressionError
from ..expr import parse

__all__ = ["Indicator", "IndicatorSystem"]

KINDS = ("rate", "administrative", "weighted_parts", "composite")
DIRECTIONS = ("le", "ge")


@dataclass(frozen=True)
class Indicator:
    """One indicator of the system (see ``indicators.json`` for the shipped ones).

    Attributes
    ----------
    id, name_zh, name_en : str
    kind : {"rate", "administrative", "weighted_parts", "composite"}
        ``rate``: share of a sample's denominator households with the numerator
        property (sampling error).  ``administrative``: a count ratio from records
        (no sampling error).  ``weighted_parts``: Σ wⱼ·rateⱼ over parts that each
        have their own sample and denominator (the satisfaction index).
        ``composite``: constant + Σ cⱼ·indicatorⱼ over other indicators.
    sample : str or None
        Key of the design the rate is estimated from (``rate``).
    denominator : str or None
        Condition picking the denominator households, in the safe expression language
        (docs/expressions.md); None = all.
    numerator : str or None
        0/1 column or condition (same language) for the numerator property.
    reference : float or None
        Reference value (参考值); None when the indicator has none.
    direction : {"le", "ge"}
        ``le``: the indicator meets its reference when at most it (错评率 ≤ 3%).
    parts : tuple of dict
        For ``weighted_parts``: id, name_zh, weight, sample, denominator, numerator.
        ``weight`` is a number, or ``"population"`` for every part: each part weighs
        its estimated population share (a rate pooled over groups surveyed by
        independent samples, e.g. 错退率 over exited and deregistered households).
    terms : dict
        For ``composite``: indicator id → coefficient.
    constant : float
        For ``composite``.
    weights_sum : float or None
        Declared sum of the weights/coefficients; checked when given.
    """

    id: str
    name_zh: str
    name_en: str
    kind: str
    reference: float | None = None
    direction: str = "le"
    sample: str | None = None
    denominator: str | None = None
    denominator_zh: str = ""
    numerator: str | None = None
    parts: tuple[dict[str, Any], ...] = ()
    terms: dict[str, float] = field(default_factory=dict)
    constant: float = 0.0
    weights_sum: float | None = None


_FIELDS = {f for f in Indicator.__dataclass_fields__}


class IndicatorSystem:
    """A validated set of indicators with their reference values and composite formulas.

    Examples
    --------
    >>> import survey_stats as ss
    >>> system = ss.IndicatorSystem.default()
    >>> system["missed_exit_rate"].name_zh, system["missed_exit_rate"].reference
    ('漏退率', 0.03)
    >>> stricter = system.with_overrides(reference={"missed_exit_rate": 0.02})
    >>> stricter["missed_exit_rate"].reference
    0.02
    """

    def __init__(self, spec: Mapping[str, Any], *, source: str = "indicator system") -> None:
        self.source = str(source)
        if not isinstance(spec, Mapping) or "indicators" not in spec:
            raise DataError("an indicator system needs an 'indicators' list.")
        self.spec = copy.deepcopy(dict(spec))
        self.name = str(spec.get("name", ""))
        self.level = float(spec.get("level", 0.95))
        inds = []
        for i, raw in enumerate(spec["indicators"]):
            if not isinstance(raw, Mapping) or "id" not in raw:
                raise DataError(f"indicator #{i + 1} has no id.")
            unknown = set(raw) - _FIELDS
            if unknown:
                raise DataError(f"indicator {raw['id']!r}: unknown field(s) {describe_values(sorted(unknown))}.")
            d = dict(raw)
            d["parts"] = tuple(dict(p) for p in d.get("parts", ()))
            d.setdefault("name_en", d["id"])
            d.setdefault("name_zh", d["id"])
            inds.append(Indicator(**d))
        self.indicators: tuple[Indicator, ...] = tuple(inds)
        self._by_id = {x.id: x for x in inds}
        self._validate()

    # -- construction -------------------------------------------------------------------
    @classmethod
    def default(cls) -> IndicatorSystem:
        """The shipped system (SPEC §2, seed 000's 评估指标体系)."""
        text = resources.files("survey_stats.indicators").joinpath("data", "indicators.json").read_text("utf-8")
        return cls(json.loads(text), source="indicators.json (shipped)")

    @classmethod
    def from_file(cls, path: str | Path) -> IndicatorSystem:
        """Load a system from a JSON file of the same shape as the shipped one."""
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")), source=str(path))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: not valid JSON ({exc}).") from exc

    def with_overrides(
        self,
        *,
        reference: Mapping[str, float | None] | None = None,
        weights: Mapping[str, Mapping[str, float]] | None = None,
        level: float | None = None,
    ) -> IndicatorSystem:
        """A copy with other reference values, part weights / composite terms, or level.

        ``weights`` maps an indicator id to {part id or term id: weight}; other
        provinces weight the satisfaction groups differently.
        """
        spec = copy.deepcopy(self.spec)
        by_id = {d["id"]: d for d in spec["indicators"]}
        for iid, ref in (reference or {}).items():
            if iid not in by_id:
                raise DataError(f"reference override for unknown indicator {iid!r}.")
            by_id[iid]["reference"] = ref
        for iid, w in (weights or {}).items():
            if iid not in by_id:
                raise DataError(f"weights override for unknown indicator {iid!r}.")
            d = by_id[iid]
            if d["kind"] == "weighted_parts":
                parts = {p["id"]: p for p in d["parts"]}
                for pid, val in w.items():
                    if pid not in parts:
                        raise DataError(f"indicator {iid!r} has no part {pid!r}; parts are {list(parts)}.")
                    parts[pid]["weight"] = float(val)
            elif d["kind"] == "composite":
                for tid, val in w.items():
                    if tid not in d["terms"]:
                        raise DataError(f"indicator {iid!r} has no term {tid!r}; terms are {list(d['terms'])}.")
                    d["terms"][tid] = float(val)
            else:
                raise DataError(f"indicator {iid!r} is a {d['kind']}: it has no weights.")
        if level is not None:
            spec["level"] = level
        return IndicatorSystem(spec, source=self.source)

    def select(self, ids: list[str]) -> IndicatorSystem:
        """A copy with only *ids* (and the indicators their composites need)."""
        need: list[str] = []

        def add(i: str) -> None:
            if i not in self._by_id:
                raise DataError(f"unknown indicator {i!r}.")
            for t in self._by_id[i].terms:
                add(t)
            if i not in need:
                need.append(i)

        for i in ids:
            add(i)
        spec = copy.deepcopy(self.spec)
        spec["indicators"] = [d for d in spec["indicators"] if d["id"] in need]
        return IndicatorSystem(spec, source=self.source)

    # -- access -------------------------------------------------------------------------
    def __getitem__(self, iid: str) -> Indicator:
        if iid not in self._by_id:
            raise DataError(f"unknown indicator {iid!r}; known: {describe_values(self._by_id)}.")
        return self._by_id[iid]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    def ids(self) -> list[str]:
        return [x.id for x in self.indicators]

    def to_frame(self) -> pd.DataFrame:
        """One row per indicator: names, kind, sample, denominator, reference, direction."""
        return pd.DataFrame([{"id": x.id, "name_zh": x.name_zh, "name_en": x.name_en, "kind": x.kind,
                              "sample": x.sample, "denominator": x.denominator_zh or x.denominator,
                              "numerator": x.numerator, "reference": x.reference, "direction": x.direction}
                             for x in self.indicators])

    # -- validation ---------------------------------------------------------------------
    def _validate(self) -> None:
        seen: set[str] = set()
        for x in self.indicators:
            where = f"indicator {x.id!r}"
            if x.id in seen:
                raise DataError(f"{where} is defined twice.")
            seen.add(x.id)
            if x.kind not in KINDS:
                raise DataError(f"{where}: kind {x.kind!r} is unknown; use one of {', '.join(KINDS)}.")
            if x.direction not in DIRECTIONS:
                raise DataError(f"{where}: direction {x.direction!r} is unknown; use 'le' (≤ reference) or 'ge' (≥).")
            if x.reference is not None and not (isinstance(x.reference, (int, float)) and 0 <= x.reference <= 1):
                raise DataError(f"{where}: reference {x.reference!r} must be a proportion in [0, 1] or null.")
            if x.kind == "rate" and (not x.sample or not x.numerator):
                raise DataError(f"{where}: a rate needs 'sample' and 'numerator'.")
            self._check_expressions(x, [dict(numerator=x.numerator, denominator=x.denominator)] if x.kind == "rate"
                                    else list(x.parts))
            if x.kind == "weighted_parts":
                if not x.parts:
                    raise DataError(f"{where}: weighted_parts needs a non-empty 'parts' list.")
                ids = set()
                for p in x.parts:
                    missing = {"id", "weight", "sample", "numerator"} - set(p)
                    if missing:
                        raise DataError(f"{where}: part {p.get('id', '?')!r} lacks {describe_values(sorted(missing))}.")
                    if p["id"] in ids:
                        raise DataError(f"{where}: part {p['id']!r} appears twice.")
                    ids.add(p["id"])
                kinds = {p["weight"] == "population" for p in x.parts}
                if kinds == {True, False}:
                    raise DataError(f"{where}: part weights are either all numbers or all \"population\".")
                if kinds == {False}:
                    self._check_sum(x, sum(float(p["weight"]) for p in x.parts))
            if x.kind == "composite":
                if not x.terms:
                    raise DataError(f"{where}: a composite needs 'terms'.")
                self._check_sum(x, sum(float(v) for v in x.terms.values()))
        for x in self.indicators:
            for t in x.terms:
                if t not in self._by_id:
                    raise DataError(f"indicator {x.id!r}: term {t!r} is not an indicator of this system.")
        # no cycles
        state: dict[str, int] = {}

        def visit(i: str, path: list[str]) -> None:
            if state.get(i) == 1:
                raise DataError(f"composite indicators refer to each other in a cycle: {' → '.join(path + [i])}.")
            if state.get(i) == 2:
                return
            state[i] = 1
            for t in self._by_id[i].terms:
                visit(t, path + [i])
            state[i] = 2

        for x in self.indicators:
            visit(x.id, [])

    def _check_expressions(self, x: Indicator, specs: list[dict[str, Any]]) -> None:
        """Parse numerators and denominators now, so a bad file fails at load, before any data."""
        for spec in specs:
            part = f", part {spec['id']!r}" if "id" in spec else ""
            for role in ("numerator", "denominator"):
                text = spec.get(role)
                if text is None:
                    continue
                e = parse(text, source=f"{self.source}: indicator {x.id!r}{part}, {role}")
                if role == "denominator" and not (e.is_condition or e.is_column):
                    raise ExpressionError(f"{e.source}: {text!r} is not a condition (a comparison, and/or/not, "
                                          "or a True/False column).")

    @staticmethod
    def _check_sum(x: Indicator, total: float) -> None:
        if x.weights_sum is not None and abs(total - float(x.weights_sum)) > 1e-9:
            raise DataError(
                f"indicator {x.id!r}: weights sum to {total:g} but the definition declares {x.weights_sum:g}; "
                "fix the weights or the declared weights_sum."
            )
