"""Personal data: recognise and mask it so it never reaches reports or logs.

Household data hold names, ID-card numbers (身份证号), phone numbers and addresses
(SPEC §5, seed 000 §九).  Field lists show only what fieldwork needs, with phone
numbers masked; ID-card numbers are never written anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

__all__ = ["PII_KINDS", "detect_pii_columns", "mask_id_card", "mask_phone"]

#: Column-name patterns (case-insensitive) for each kind of personal data.
PII_KINDS: dict[str, tuple[str, ...]] = {
    "id_card": (r"身份证", r"id[_ ]?card", r"idcard", r"id[_ ]?number", r"national[_ ]?id", r"证件号"),
    "phone": (r"电话", r"手机", r"phone", r"mobile", r"tel(ephone)?$", r"联系方式"),
    "name": (r"姓名", r"户主", r"^name$", r"_name$", r"^name_", r"full[_ ]?name", r"householder"),
    "address": (r"地址", r"住址", r"address", r"住所"),
}


def detect_pii_columns(columns: Iterable[str]) -> dict[str, str]:
    """Map each column whose name looks like personal data to its kind.

    Examples
    --------
    >>> detect_pii_columns(["hh_id", "户主姓名", "手机号", "身份证号", "county"])
    {'户主姓名': 'name', '手机号': 'phone', '身份证号': 'id_card'}
    """
    found: dict[str, str] = {}
    for col in columns:
        name = str(col).lower()
        if name.endswith("_masked"):
            continue
        for kind, patterns in PII_KINDS.items():
            if any(re.search(p, name) for p in patterns):
                found[str(col)] = kind
                break
    return found


def mask_phone(value: object) -> object:
    """Keep the first 3 and last 4 digits of a phone number: 13812345678 → 138****5678.

    Missing values stay missing; anything shorter than a mobile number (11 digits) is fully masked.

    Examples
    --------
    >>> mask_phone("138-1234-5678"), mask_phone(13812345678), mask_phone("12345")
    ('138****5678', '138****5678', '*****')
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    digits = re.sub(r"\D", "", str(value).split(".")[0] if isinstance(value, float) else str(value))
    if len(digits) < 11:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_card(value: object) -> object:
    """Show only the region code and the check digit: 340123********123X → 3401************3X.

    Examples
    --------
    >>> mask_id_card("34012319800101123X")
    '3401************3X'
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    s = str(value).strip()
    if len(s) < 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 6) + s[-2:]
