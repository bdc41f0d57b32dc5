"""Personal data: recognise it by name *and by content*, and mask it before it reaches any output.

Household data hold names, ID-card numbers (身份证号), phone numbers and addresses
(SPEC §5, seed 000 §九).  Columns are not trusted to be named helpfully — a registry exported
from a local system may call the ID column ``公民身份号码``, ``sfzh`` or ``col7`` — so every
value is scanned for:

* **18-character resident ID numbers** (GB 11643-1999): six region digits, an eight-digit
  birth date, three sequence digits and a check character.  The check character is the
  ISO 7064 MOD 11-2 check of the first 17 digits (:func:`id_card_check_char`).
  :func:`is_id_card` checks both; masking takes as an ID every 18-character number that
  encodes a real birth date, whether its check character is right or not (a mistyped ID is
  still personal data).  An 18-digit household or account code without a birth date is a
  ``long_number`` (below), not an ID.
* **15-digit ID numbers** (the pre-1999 format): region, a six-digit birth date ``YYMMDD`` of
  the 1900s that must be a real date, three sequence digits.
* **Mainland mobile numbers**: ``1[3-9]`` and nine more digits, with or without separators
  (``138-1234-5678``, ``138 1234 5678``) or a ``+86`` / ``0086`` prefix.
* **Landlines**: ``0``, a two- or three-digit area code (``010``, ``021``, ``0551``...),
  then a seven- or eight-digit local number, with or without a hyphen or brackets.
* **Any other run of 15 or more digits** (``long_number``: bank-card and account numbers, or an
  ID number glued to other digits), of which only the last four are shown.

:func:`mask_frame` and :func:`mask_text` replace every such value (``138****5678``,
``3401************3X``) and say what they masked, by kind and column, so that writers and
the command line can report it.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "PII_KINDS",
    "MaskReport",
    "detect_pii_columns",
    "find_pii",
    "id_card_check_char",
    "is_id_card",
    "mask_frame",
    "mask_id_card",
    "mask_phone",
    "mask_text",
    "scan_frame",
]

#: Column-name patterns (case-insensitive) for each kind of personal data.  Pinyin
#: abbreviations are matched as whole words (``sfzh``, ``hz_sfzh``, but not ``sfzhxx_count``).
PII_KINDS: dict[str, tuple[str, ...]] = {
    "id_card": (r"身份证", r"身份号码", r"公民身份", r"证件号", r"id[_ ]?card", r"idcard", r"id[_ ]?number",
                r"id[_ ]?no$", r"national[_ ]?id", r"(?:^|_)(?:sfz|sfzh|sfzhm|sfzjhm|zjh|zjhm)(?:$|_)"),
    "phone": (r"电话", r"手机", r"联系号码", r"联系方式", r"号码$", r"phone", r"mobile", r"tel(ephone)?$",
              r"(?:^|_)(?:lxdh|lxfs|sjh|sjhm|lxhm|dh|dhhm|gddh|shouji|dianhua)(?:$|_)"),
    "name": (r"姓名", r"户主", r"联系人", r"^name$", r"_name$", r"^name_", r"full[_ ]?name", r"householder",
             r"(?:^|_)(?:xm|hzxm|xingming|lxr)(?:$|_)"),
    "address": (r"地址", r"住址", r"住所", r"address", r"(?:^|_)(?:dz|jtdz|jtzz|zz|dizhi|zhuzhi)(?:$|_)"),
}

Kind = Literal["id_card", "mobile", "landline", "long_number"]

# ISO 7064 MOD 11-2 as used by GB 11643-1999: weight of position i (1-based from the left over the
# first 17 digits) is 2**(18 - i) mod 11; the check value is (12 - S mod 11) mod 11, written "X" for 10.
_W = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"  # indexed by S mod 11

_DATE6 = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_PATTERN = re.compile(
    r"(?<!\d)(?:(?:"
    r"(?P<id18>[1-9]\d{16}[\dXx])"
    r"|(?P<id15>[1-9]\d{5}" + _DATE6 + r"\d{3})"
    r"|(?P<mobile>(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2})"
    r"|(?P<landline>(?:\(0(?:10|2\d|[3-9]\d{2})\)|0(?:10|2\d|[3-9]\d{2}))[\s-]?[2-9]\d{6,7})"
    r")(?![\dXx])"
    # anything else with 15+ digits in a row, with the digit groups that follow it; possessive
    # quantifiers, so no input can make the engine backtrack
    r"|(?P<long_number>\d{15}[\dXx]*+(?:[\s-]\d++)*+))"
)
_QUICK = re.compile(r"\d{7}")  # every pattern holds 7 digits in a row; most cells do not
# A hexadecimal digest or UUID-like token (32+ hex characters with a letter among them): its loose
# matches are not personal data — a SHA-256 such as ...f08806122511e3... holds a "landline" by chance.
# A valid ID-card number (date and check character) or a mobile number is masked even there: text such
# as "a<ID number>a<phone>a" is hexadecimal too.
_HEX_TOKEN = re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")


def id_card_check_char(first17: str) -> str:
    """The check character of an 18-character resident ID number (GB 11643-1999).

    ISO 7064 MOD 11-2: multiply the 17 digits by the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
    (2^(18−i) mod 11 for position i), sum, and read ``"10X98765432"`` at the sum mod 11.

    Examples
    --------
    >>> id_card_check_char("11010519491231002")
    'X'
    >>> id_card_check_char("34130219800101001")
    '1'
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need the first 17 digits of an ID number, got {len(first17)} character(s).")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _W)) % 11]


def _real_date(y: int, m: int, d: int) -> bool:
    try:
        day = _dt.date(y, m, d)
    except ValueError:
        return False
    return _dt.date(1900, 1, 1) <= day <= _dt.date.today()


def is_id_card(value: object, *, strict: bool = True) -> bool:
    """Whether *value* is a resident ID number.

    ``strict=True``: an 18-character number needs a real birth date and the right check
    character (GB 11643-1999); a 15-digit one a real 19YYMMDD birth date.  ``strict=False``
    (what masking uses) accepts an 18-character number with a real birth date whatever its
    check character: a mistyped ID number.

    Examples
    --------
    >>> is_id_card("11010519491231002X"), is_id_card("110105194912310021")
    (True, False)
    >>> is_id_card("110105194912310021", strict=False), is_id_card("110105491231002")
    (True, True)
    >>> is_id_card("341302000100000001", strict=False)   # no birth date: a household code
    False
    """
    s = str(value).strip().upper()
    if len(s) == 15 and s.isdigit():
        return _real_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return False
    dated = _real_date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    checked = id_card_check_char(s[:17]) == s[17]
    return dated and (checked or not strict)


def find_pii(text: str) -> list[tuple[Kind, int, int]]:
    """ID-card, mobile and landline numbers in *text*: ``(kind, start, end)`` for each.

    Examples
    --------
    >>> find_pii("户主 11010519491231002X，电话 138-1234-5678 或 0551-62345678")
    [('id_card', 3, 21), ('mobile', 25, 38), ('landline', 41, 54)]
    >>> find_pii("户号 00123，金额 1380000")
    []
    >>> find_pii("SHA-256 c49ac90e50a7a4b953390a2040f08806122511e3b923a1c7cf71082641161bd0")  # a digest
    []
    """
    if not _QUICK.search(re.sub(r"[\s()+-]", "", text)):
        return []
    digests = [m.span() for m in _HEX_TOKEN.finditer(text)]
    found: list[tuple[Kind, int, int]] = []
    for m in _PATTERN.finditer(text):
        kind = m.lastgroup
        valid = kind in ("id18", "id15") and is_id_card(m.group())  # real date and check character
        if kind == "id18":
            kind = "id_card" if valid or is_id_card(m.group(), strict=False) else "long_number"
        elif kind == "id15":
            kind = "id_card" if valid else "long_number"
        strong = kind == "mobile" or valid
        if not strong and any(a <= m.start() and m.end() <= b for a, b in digests):
            continue
        found.append((kind, m.start(), m.end()))  # type: ignore[arg-type]
    return found


def mask_phone(value: object) -> object:
    """Keep the first 3 and last 4 digits of a phone number: 13812345678 → 138****5678.

    A ``+86``/``0086`` prefix is dropped; missing values stay missing; anything shorter than
    a mobile number (11 digits) is fully masked.

    Examples
    --------
    >>> mask_phone("138-1234-5678"), mask_phone(13812345678), mask_phone("+86 13812345678")
    ('138****5678', '138****5678', '138****5678')
    >>> mask_phone("0551-62345678"), mask_phone("12345")
    ('055*****5678', '*****')
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    if isinstance(value, str) and "*" in value:
        return value  # already masked
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    digits = re.sub(r"\D", "", text)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * len(digits)


def mask_id_card(value: object) -> object:
    """Show only the region code and the last two characters: 34012319800101123X → 3401************3X.

    Examples
    --------
    >>> mask_id_card("34012319800101123X")
    '3401************3X'
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    s = str(value).strip()
    if "*" in s:
        return s  # already masked
    if len(s) < 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 6) + s[-2:]


def _mask_token(kind: str, token: str) -> str:
    if kind == "id_card":
        return str(mask_id_card(token))
    if kind == "long_number":
        return "*" * (len(token) - 4) + token[-4:]
    return str(mask_phone(token))


def mask_text(text: str) -> tuple[str, Counter[str]]:
    """Mask every ID-card, mobile and landline number in a free text; count them by kind.

    Examples
    --------
    >>> masked, counts = mask_text("duplicated ids: '11010519491231002X', '13812345678'")
    >>> masked
    "duplicated ids: '1101************2X', '138****5678'"
    >>> dict(counts)
    {'id_card': 1, 'mobile': 1}
    """
    hits = find_pii(text)
    counts: Counter[str] = Counter()
    if not hits:
        return text, counts
    parts: list[str] = []
    pos = 0
    for kind, start, end in hits:
        token = text[start:end]
        parts += [text[pos:start], _mask_token(kind, token)]
        counts[kind] += 1
        pos = end
    parts.append(text[pos:])
    return "".join(parts), counts


@dataclass(frozen=True)
class MaskReport:
    """What was masked: number of values per ``(column, kind)``.

    Kinds are ``id_card``, ``mobile``, ``landline`` (found by content), ``phone`` (a column
    named like a phone column), ``name`` and ``address`` (by column name), and columns
    dropped whole are listed in ``dropped``.
    """

    counts: Mapping[tuple[str, str], int] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """Number of values masked."""
        return int(sum(self.counts.values()))

    def __bool__(self) -> bool:
        return bool(self.total or self.dropped)

    def merge(self, other: MaskReport) -> MaskReport:
        """Both reports added up."""
        counts = Counter(dict(self.counts))
        counts.update(dict(other.counts))
        return MaskReport(dict(counts), tuple(dict.fromkeys(self.dropped + other.dropped)))

    def describe(self) -> str:
        """One line for a log or a command's summary.

        Examples
        --------
        >>> MaskReport({("col7", "id_card"): 3, ("lxdh", "mobile"): 2}, ("户主姓名",)).describe()
        "personal data: dropped column(s) '户主姓名'; masked 5 value(s): 3 id_card in 'col7', 2 mobile in 'lxdh'"
        >>> MaskReport().describe()
        'personal data: none found'
        """
        if not self:
            return "personal data: none found"
        parts = []
        if self.dropped:
            parts.append("dropped column(s) " + ", ".join(map(repr, self.dropped)))
        if self.total:
            items = ", ".join(f"{n} {kind} in {col!r}" for (col, kind), n in sorted(self.counts.items()))
            parts.append(f"masked {self.total} value(s): {items}")
        return "personal data: " + "; ".join(parts)


def detect_pii_columns(columns: Iterable[str]) -> dict[str, str]:
    """Map each column whose *name* looks like personal data to its kind.

    Examples
    --------
    >>> detect_pii_columns(["hh_id", "户主姓名", "手机号", "身份证号", "county", "sfzh", "lxdh", "公民身份号码"])
    {'户主姓名': 'name', '手机号': 'phone', '身份证号': 'id_card', 'sfzh': 'id_card', 'lxdh': 'phone', '公民身份号码': 'id_card'}
    """
    found: dict[str, str] = {}
    for col in columns:
        name = str(col).lower().strip()
        if name.endswith("_masked"):
            continue
        for kind, patterns in PII_KINDS.items():
            if any(re.search(p, name) for p in patterns):
                found[str(col)] = kind
                break
    return found


def _cell_text(v: Any) -> str | None:
    """The text to scan in a cell (numbers included: an ID or phone stored as a number)."""
    if v is None or isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if np.isfinite(v) and float(v).is_integer() and abs(v) < 1e19 else None
    return None


def scan_frame(data: pd.DataFrame) -> dict[str, Counter[str]]:
    """Count the ID-card, mobile and landline numbers in each column (by content only).

    Examples
    --------
    >>> df = pd.DataFrame({"col7": ["11010519491231002X", None], "备注": ["call 13812345678", "ok"]})
    >>> {c: dict(n) for c, n in scan_frame(df).items()}
    {'col7': {'id_card': 1}, '备注': {'mobile': 1}}
    """
    out: dict[str, Counter[str]] = {}
    for j, col in enumerate(data.columns):
        counts: Counter[str] = Counter()
        s = data.iloc[:, j]
        for v in s.iloc[_candidates(s)].tolist():
            text = _cell_text(v)
            if text:
                counts.update(kind for kind, _, _ in find_pii(text))
        if counts:
            out[str(col)] = counts
    return out


def _candidates(s: pd.Series) -> np.ndarray:
    """Positions of the cells of *s* that could hold an ID or phone number (text, or numbers of 7+ digits)."""
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return np.zeros(0, dtype=np.intp)
    if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        return np.flatnonzero(np.isfinite(v) & (np.abs(v) >= 1e6))
    return np.flatnonzero(s.notna().to_numpy())


def mask_frame(
    data: pd.DataFrame,
    *,
    personal: Literal["keep", "mask", "drop"] = "mask",
) -> tuple[pd.DataFrame, MaskReport]:
    """A copy of *data* with personal data masked, and what was masked.

    Every cell of every column is scanned by content (:func:`find_pii`); numbers found are
    masked inside the text.  Columns *named* like ID-card or phone columns are masked whole
    (:func:`mask_id_card`, :func:`mask_phone`) whatever their values look like.  Columns
    named like names or addresses are replaced by ``***`` (``personal="mask"``) or kept
    (``"keep"``, e.g. field lists whose teams must find the household).  ``personal="drop"``
    drops every column named like personal data (ID, phone, name, address) and masks what
    the other columns hold.

    Examples
    --------
    >>> df = pd.DataFrame({"户号": ["00123", "00124"], "col7": ["11010519491231002X", "n/a"],
    ...                    "lxdh": ["12345", "0551-62345678"], "户主姓名": ["张三", "李四"]})
    >>> masked, report = mask_frame(df)
    >>> masked.values.tolist()
    [['00123', '1101************2X', '*****', '***'], ['00124', 'n/a', '055*****5678', '***']]
    >>> report.describe()
    "personal data: masked 5 value(s): 1 id_card in 'col7', 2 phone in 'lxdh', 2 name in '户主姓名'"
    >>> masked, report = mask_frame(df, personal="drop")
    >>> masked.columns.tolist(), report.describe()
    (['户号', 'col7'], "personal data: dropped column(s) 'lxdh', '户主姓名'; masked 1 value(s): 1 id_card in 'col7'")
    """
    out = data.copy()
    counts: Counter[tuple[str, str]] = Counter()
    dropped: list[str] = []
    by_name = detect_pii_columns(map(str, data.columns))
    for j, col in enumerate(data.columns):
        kind = by_name.get(str(col))
        s = data.iloc[:, j]
        present = s.notna()
        if kind is not None and personal == "drop":
            dropped.append(str(col))
            continue
        if kind in ("id_card", "phone"):
            fn = mask_id_card if kind == "id_card" else mask_phone
            out.isetitem(j, s.astype(object).map(fn, na_action="ignore"))
            counts[(str(col), kind)] += int(present.sum())
            continue
        if kind in ("name", "address") and personal == "mask":
            out.isetitem(j, s.astype(object).where(~present, "***"))
            counts[(str(col), kind)] += int(present.sum())
            continue
        _mask_cells(out, j, s, counts)
    if dropped:
        out = out.drop(columns=dropped)
    return out, MaskReport(dict(counts), tuple(dropped))


def _mask_cells(out: pd.DataFrame, j: int, s: pd.Series, counts: Counter[tuple[str, str]]) -> None:
    col = str(out.columns[j])
    positions = _candidates(s)
    hits: dict[int, str] = {}
    for pos, v in zip(positions, s.iloc[positions].tolist()):
        text = _cell_text(v)
        if not text:
            continue
        masked, found = mask_text(text)
        if found:
            hits[int(pos)] = masked
            for kind, n in found.items():
                counts[(col, kind)] += n
    if hits:
        values = out.iloc[:, j].to_numpy(dtype=object).copy()
        for pos, masked in hits.items():
            values[pos] = masked
        out.isetitem(j, pd.Series(values, index=out.index, name=out.columns[j]))
