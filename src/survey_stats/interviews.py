"""Semi-structured interviews (seed 000 §五.2: 对工会干部、企业负责人、社区工作人员进行半结构化访谈).

* :func:`interview_plan` — who to interview: a stratified random draw of roles × counties
  from the roster, with its manifest (so the choice of interviewees is reproducible).
* :func:`code_interviews` — the coding frame (``indicators/data/interview_codes.json``)
  applied to each answer: a code applies when the answer contains one of its key
  phrases; an answer can carry several codes.
* :func:`theme_frequencies` — share of interviewees of each role mentioning each code.
* :func:`quotes` — short anonymised quotes per code: no names or ids, phone and
  ID-card numbers masked, attributed to role and county only.

Keyword coding is a first pass for the analyst to review (every code keeps the answer it
came from), not a substitute for reading the transcripts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

import pandas as pd

from ._validation import describe_values
from .errors import DataError
from .privacy import mask_id_card, mask_phone
from .sampling import Frame, Sample, select

__all__ = ["code_interviews", "default_codebook", "interview_plan", "mask_text", "quotes", "theme_frequencies"]

_ID_RE = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def default_codebook() -> dict[str, Any]:
    """The shipped coding frame: roles, and per topic its codes with labels and key phrases."""
    text = resources.files("survey_stats.indicators").joinpath("data", "interview_codes.json").read_text("utf-8")
    return json.loads(text)


def mask_text(text: Any) -> str:
    """Mask ID-card and mobile numbers inside free text.

    Examples
    --------
    >>> mask_text("联系电话13812345678，身份证341302198001010011")
    '联系电话138****5678，身份证3413************11'
    """
    s = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    s = _ID_RE.sub(lambda m: str(mask_id_card(m.group(0))), s)
    return _PHONE_RE.sub(lambda m: str(mask_phone(m.group(0))), s)


def interview_plan(roster: pd.DataFrame, per_role: Mapping[str, int], *, id_column: str = "interviewee_id",
                   role: str = "role", county: str = "county", seed: int) -> Sample:
    """Draw interviewees: *per_role[r]* of each role in every county (all when fewer), at random.

    Examples
    --------
    >>> roster = pd.DataFrame({"interviewee_id": [f"I{i}" for i in range(12)], "role": ["union_cadre", "community"] * 6,
    ...                        "county": ["a"] * 6 + ["b"] * 6})
    >>> interview_plan(roster, {"union_cadre": 2, "community": 1}, seed=1).summary()[["stratum", "N", "n"]]
                  stratum  N  n
    0    a / community  3  1
    1  a / union_cadre  3  2
    2    b / community  3  1
    3  b / union_cadre  3  2
    """
    missing = [c for c in (id_column, role, county) if c not in roster.columns]
    if missing:
        raise DataError(f"interview roster lacks column(s) {describe_values(missing)}.")
    unknown = sorted(set(roster[role]) - set(per_role))
    if unknown:
        raise DataError(f"interview plan gives no number for role(s) {describe_values(unknown)}.")
    frame = Frame(roster, id=id_column, strata=[county, role])
    sizes = frame.stratum_sizes()
    n = {h: min(int(per_role[str(h).split(" / ")[1]]), int(N)) for h, N in sizes.items()}
    return select(frame, n=n, seed=seed)


def code_interviews(answers: pd.DataFrame, codebook: Mapping[str, Any] | None = None, *,
                    id_column: str = "interviewee_id", role: str = "role") -> pd.DataFrame:
    """Codes of every answer: one row per (interviewee, topic, code); several codes per answer allowed.

    Examples
    --------
    >>> ans = pd.DataFrame({"interviewee_id": ["I1"], "role": ["union_cadre"],
    ...                     "funds": ["按标准打卡发放，台账齐全"]})
    >>> code_interviews(ans)[["topic", "code"]].values.tolist()
    [['funds', 'standards'], ['funds', 'ledger'], ['funds', 'bank_card']]
    """
    book = dict(codebook or default_codebook())
    rows = []
    for topic, spec in book["topics"].items():
        if topic not in answers.columns:
            continue
        for hh, rl, text in zip(answers[id_column], answers[role], answers[topic]):
            t = "" if pd.isna(text) else str(text)
            for code, c in spec["codes"].items():
                if any(k.lower() in t.lower() for k in c["keywords"]):
                    rows.append({id_column: hh, role: rl, "topic": topic, "code": code, "label": c["label"],
                                 "answer": t})
    return pd.DataFrame(rows, columns=[id_column, role, "topic", "code", "label", "answer"])


def theme_frequencies(coded: pd.DataFrame, answers: pd.DataFrame, codebook: Mapping[str, Any] | None = None, *,
                      id_column: str = "interviewee_id", role: str = "role") -> pd.DataFrame:
    """Share of the interviewees of each role who mention each code (codes never mentioned show 0).

    Returns
    -------
    DataFrame
        topic, code, label, role, role_zh, interviewees, mentioned, share.
    """
    book = dict(codebook or default_codebook())
    per_role = answers.groupby(role)[id_column].nunique()
    hits = coded.groupby(["topic", "code", role])[id_column].nunique()
    rows = []
    for topic, spec in book["topics"].items():
        for code, c in spec["codes"].items():
            for r, n in per_role.items():
                k = int(hits.get((topic, code, r), 0))
                rows.append({"topic": topic, "code": code, "label": c["label"], "role": r,
                             "role_zh": book.get("roles", {}).get(r, r), "interviewees": int(n), "mentioned": k,
                             "share": k / n if n else float("nan")})
    return pd.DataFrame(rows)


def quotes(coded: pd.DataFrame, answers: pd.DataFrame, codebook: Mapping[str, Any] | None = None, *,
           id_column: str = "interviewee_id", role: str = "role", county: str = "county",
           per_code: int = 1, width: int = 60) -> pd.DataFrame:
    """Short anonymised quotes per code, attributed to role and county only.

    Examples
    --------
    >>> ans = pd.DataFrame({"interviewee_id": ["I1"], "role": ["community"], "county": ["萧县"],
    ...                     "problems": ["人手不足，有事打13812345678"]})
    >>> quotes(code_interviews(ans), ans)[["who", "quote"]].values.tolist()
    [['社区工作人员（萧县）', '人手不足，有事打138****5678']]
    """
    book = dict(codebook or default_codebook())
    where = dict(zip(answers[id_column], answers[county])) if county in answers.columns else {}
    out = []
    for (topic, code), g in coded.groupby(["topic", "code"], sort=False):
        keys = book["topics"][topic]["codes"][code]["keywords"]
        for _, r in g.head(per_code).iterrows():
            clauses = [c for c in re.split(r"[。；;！!？?\n]", str(r["answer"])) if c.strip()]
            hit = next((c for c in clauses if any(k.lower() in c.lower() for k in keys)), str(r["answer"]))
            text = mask_text(hit.strip())
            out.append({"topic": topic, "code": code, "label": r["label"],
                        "who": f"{book.get('roles', {}).get(r[role], r[role])}（{where.get(r[id_column], '')}）",
                        "quote": text if len(text) <= width else text[: width - 1] + "…"})
    return pd.DataFrame(out, columns=["topic", "code", "label", "who", "quote"])
