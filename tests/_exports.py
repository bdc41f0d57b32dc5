"""Helpers shared by the export tests: server-like value comparison and layout round trips."""

from __future__ import annotations

import math

import survey_stats as ss
from survey_stats.questionnaires import EXPORT_LAYOUTS, write_export
from survey_stats.questionnaires.exports import form_fields


def canon(values):
    """Values as a server writes them: missing → None, numbers → float, else stripped text."""
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()):
            out.append(None)
            continue
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(str(v).strip())
    return out


def assert_same(original, back, form, *, repeats=True):
    """Identical coded data: every question (main and repeat tables) and every indicator."""
    c1, c2 = ss.code_responses(original, form), ss.code_responses(back, form)
    fields = [f for f in form_fields(form) if f.key in original.columns]
    main = [f.key for f in fields if f.repeat is None or f.key in back.columns]
    indicators = [f.q.indicator for f in fields if f.q.indicator]
    assert len(back) == len(original)
    for col in main + indicators:
        assert canon(c1[col]) == canon(c2[col]), col
    rep_fields = [f for f in fields if f.repeat is not None and f.key not in back.columns]
    if not repeats:
        return
    tables = back.attrs["repeats"]
    for f in rep_fields:
        t = tables[f.repeat]
        assert t["_row"].tolist() == list(original.index)  # each repeat row joined to its submission
        assert canon(t[f.key]) == canon(original[f.key]), f.key


LAYOUT_FILES = [(name, suffix) for name in EXPORT_LAYOUTS for suffix in ("frame", ".csv", ".xlsx")]
LAYOUT_FILES += [("central", ".zip"), ("central_no_groups", ".zip")]


def round_trip(data, form, layout, suffix, tmp_path):
    if suffix == "frame":
        tables = write_export(data, form, layout)
        return ss.read_export(tables if len(tables) > 1 else next(iter(tables.values())), form)
    path = tmp_path / f"export{suffix}"
    write_export(data, form, layout, path=path)
    return ss.read_export(path, form)


def labels_usable(form, language):
    """Whether a labels export in *language* identifies every question and choice (as a person could).

    Blank labels are fine (the servers then write the name); two questions or two choices of a
    list sharing one label are not.
    """
    def norm(text):
        return " ".join(str(text).split())

    labels = [norm(f.q.labels.get(language, "")) for f in form_fields(form) if f.q.answered]
    labels = [x for x in labels if x]
    if len(set(labels)) != len(labels):
        return False
    for choices in form.choices.values():
        by_label = {}
        for c in choices:
            if norm(c.labels.get(language, "")):
                by_label.setdefault(norm(c.labels.get(language, "")), set()).add(c.name)
        if any(len(names) > 1 for names in by_label.values()):
            return False
    return True


def headers_unique(form, layout):
    """Whether a layout gives every question its own header: without group names, two questions of one
    table that share a name (in different groups, or loop items) would share a header."""
    if layout.group_sep is not None:
        return True
    seen = set()
    for f in form_fields(form):
        if f.q.answered:
            label = " ".join(str(f.q.labels.get(layout.language or "", "")).split())
            label = label if layout.headers == "labels" else ""
            header = (f.repeat, label or f.q.name)
            if header in seen:
                return False
            seen.add(header)
    return True
