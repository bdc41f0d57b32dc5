"""survey-stats: the evaluation workflow from the command line, on the user's own files.

    survey-stats init [DIR]                        write a commented survey-stats.toml
    survey-stats frame REGISTRY [--id COL] [--strata COL ...] [--certainty COL ...]
    survey-stats sample REGISTRY --fraction 0.3 | --n N [--allocation neyman ...] --seed N --out DIR
    survey-stats validate RESPONSES --form home_visit [--out report.xlsx] [--strict]
    survey-stats analyze --sample registered=units.csv:responses.csv:home_visit ... --out analysis.json
    survey-stats report analysis.json --out DIR [--scoring-inputs inputs.toml]
    survey-stats demo --out DIR

Column names (id, strata, county, status, certainty flags, size) come from the options, else from
survey-stats.toml in the current folder (or --config FILE), else the built-in defaults.

Exit codes: 0 success; 1 ``validate --strict`` found problems (listed); 2 wrong usage, an unreadable
or malformed input, or data that cannot be used (one line on stderr, naming the file, column or rows;
ID-card and phone numbers masked); 3 an internal error.  ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tomllib
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from ._version import __version__
from ._validation import flag_value  # the same yes/no mapping as the frame
from .config import CONFIG_NAME, find_config, load_config, write_template
from .errors import DataError, SurveyStatsError
from .privacy import mask_frame, mask_text
from .readers import file_rows, read_table, sniff_encoding

__all__ = ["main"]


class _UsageError(SurveyStatsError, ValueError):
    """Wrong command-line usage (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing the usage and exiting, so main() prints one line."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


#: option attribute → (config section, key): the option wins, else the file, else the default
_FROM_CONFIG = {
    "id": ("columns", "id"), "strata": ("columns", "strata"), "county": ("columns", "county"),
    "status": ("columns", "status"), "certainty": ("columns", "certainty"), "size": ("columns", "size"),
    "response_id": ("columns", "response_id"),
    "method": ("sample", "method"), "fraction": ("sample", "fraction"), "n": ("sample", "n"),
    "allocation": ("sample", "allocation"), "minimum": ("sample", "minimum"), "reserve": ("sample", "reserve"),
    "flagged": ("sample", "flagged"),
    "seed": ("sample", "seed"),
    "nonresponse": ("analyze", "nonresponse"), "unmatched": ("analyze", "unmatched"),
    "ci_method": ("analyze", "ci_method"), "lonely_psu": ("analyze", "lonely_psu"),
    "title": ("report", "title"), "language": ("report", "language"), "working_days": ("report", "working_days"),
    "unit": ("report", "unit"),
}


def _settle(a: argparse.Namespace) -> argparse.Namespace:
    """Fill every option the user did not give from the settings file (or the built-in defaults)."""
    if a.command == "init":
        return a
    path = a.config if getattr(a, "config", None) else find_config()
    cfg = load_config(path)
    a.config_path = str(path) if path else None
    given = {k for k in ("n", "fraction") if getattr(a, k, None) is not None}
    for attr, (section, key) in _FROM_CONFIG.items():
        if hasattr(a, attr) and getattr(a, attr) is None:
            setattr(a, attr, cfg[section][key])
    if a.command == "sample" and a.n is not None and a.fraction is not None:
        if given == {"n"}:
            a.fraction = None  # --n on the command line replaces the file's fraction
        elif given == {"fraction"}:
            a.n = None
        elif not given:
            raise _UsageError(f"{path}: sample.fraction and sample.n are both set; keep one of them.")
    return a


def _read(path: str, *, id_column: str | None = None) -> pd.DataFrame:
    """A registry or units table with the id column as text; says which encoding it read."""
    try:
        table = read_table(path, text_columns=[id_column] if id_column else ())
    except DataError as exc:
        if id_column and f"no column {id_column!r}" in str(exc):
            raise DataError(f"{str(exc).rstrip('.')} (the id column: --id or columns.id in {CONFIG_NAME}).") from exc
        raise
    table.index = pd.Index(file_rows(table), name="row")  # messages name rows as Excel/WPS show them
    skipped = [f"{len(table.attrs['dropped_columns'])} empty unnamed column(s)"] if table.attrs["dropped_columns"] else []
    skipped += [f"{table.attrs['blank_rows']} blank row(s)"] if table.attrs["blank_rows"] else []
    print(f"read {path}: {len(table)} rows, {table.attrs['encoding']}"
          + (f"; skipped {' and '.join(skipped)}" if skipped else ""))
    return table


def _need_columns(table: pd.DataFrame, path: str, wanted: dict[str, str | list[str] | None]) -> None:
    """Every configured column is in the file; else one line naming the option and the file's columns."""
    for option, cols in wanted.items():
        for col in [cols] if isinstance(cols, str) else (cols or []):
            if col and col not in table.columns:
                raise DataError(f"{path}: no column {col!r} (given by {option} or columns.{option.lstrip('-')} in "
                                f"{CONFIG_NAME}); the file has {', '.join(map(repr, map(str, table.columns)))}.")


def _show(df: pd.DataFrame) -> str:
    """A table for the terminal, ID-card and phone numbers masked, names and addresses hidden."""
    return mask_frame(df, personal="mask")[0].to_string(index=False)


def _form(name: str):  # type: ignore[no-untyped-def]
    from .questionnaires import FORMS, load_questionnaire, questionnaire_path

    if name not in FORMS and not Path(name).is_file():
        raise _UsageError(f"--form {name!r}: neither a shipped form ({', '.join(FORMS)}) nor an XLSForm file.")
    return load_questionnaire(questionnaire_path(name) if name in FORMS else name)


def cmd_init(a: argparse.Namespace) -> int:
    path = write_template(a.dir, overwrite=a.force)
    print(f"wrote {path}: edit the column names to match your registry; options on the command line override it.")
    return 0


def _frame(a: argparse.Namespace, *, on_invalid: str = "fail"):  # type: ignore[no-untyped-def]
    from .sampling import Frame

    table = _read(a.registry, id_column=a.id)
    size = getattr(a, "size", "") or None
    certainty = list(a.certainty or [])
    _need_columns(table, a.registry, {"--id": a.id, "--strata": a.strata, "--certainty": certainty,
                                      "--size": size})
    if getattr(a, "audit", False):  # document review → flags → certainty units (seed 000 §五.3)
        from .review import audit_registry

        audit = audit_registry(table, ledger=_read(a.ledger) if a.ledger else None, id_column=a.id)
        table = table.assign(flagged_by_audit=table[a.id].map(audit.flags()).fillna(False).astype(bool))
        certainty.append("flagged_by_audit")
        print(f"registry audit: {int(audit.households['flagged'].sum())} file(s) incomplete or illogical")
    return Frame(table, id=a.id, strata=a.strata or None, certainty=certainty or None, size=size,
                 on_invalid=on_invalid)  # type: ignore[arg-type]


def cmd_frame(a: argparse.Namespace) -> int:
    f = _frame(a, on_invalid="exclude" if a.exclude_invalid else "fail")
    print(f)
    print(_show(f.summary()))
    if len(f.excluded):
        print(f"\n{len(f.excluded)} unit(s) excluded (row = its row number in the file):")
        shown, masked = mask_frame(f.excluded, personal="mask")
        print(shown.to_string(index=False))
        if masked:
            print(masked.describe())
    print(f"\nfingerprint {f.fingerprint}")
    return 0


def _stratum_sd(a: argparse.Namespace, frame: Any) -> tuple[pd.Series | None, pd.Series | None]:
    """Unit standard deviations (and costs) per stratum for Neyman/optimal allocation."""
    labels = frame.stratum_sizes().index
    if a.sd_column and a.strata_file:
        raise _UsageError("give --sd-column or --strata-file, not both.")
    if a.sd_column:
        if a.sd_column not in frame.data.columns:
            raise DataError(f"--sd-column {a.sd_column!r}: no such column in {a.registry}.")
        x = pd.to_numeric(frame.data[a.sd_column], errors="coerce")
        if x.isna().any():
            raise DataError(f"--sd-column {a.sd_column!r}: {int(x.isna().sum())} value(s) are not numbers "
                            f"(rows {', '.join(str(i + 2) for i in np.flatnonzero(x.isna())[:5])} of the file).")
        return x.groupby(frame.data["stratum"]).std(ddof=1).fillna(0.0).reindex(labels), None
    if not a.strata_file:
        return None, None
    t = read_table(a.strata_file, text_columns=["stratum"])
    if "stratum" not in t.columns or not ({"sd", "p"} & set(t.columns)):
        raise DataError(f"--strata-file {a.strata_file}: needs a 'stratum' column and an 'sd' (unit standard "
                        "deviation) or 'p' (anticipated proportion) column, and 'cost' for --allocation optimal.")
    t = t.set_index("stratum")
    unknown = sorted(set(labels) - set(t.index))
    if unknown:
        raise DataError(f"--strata-file {a.strata_file}: no row for stratum/strata {', '.join(map(repr, unknown[:5]))}"
                        f" (labels as 'survey-stats frame' prints them).")
    if "sd" in t.columns:
        sd = pd.to_numeric(t["sd"], errors="coerce")
    else:
        p = pd.to_numeric(t["p"], errors="coerce")
        sd = np.sqrt(p * (1 - p))
    cost = pd.to_numeric(t["cost"], errors="coerce").reindex(labels) if "cost" in t.columns else None
    sd = sd.reindex(labels)
    if sd.isna().any() or (sd < 0).any() or (cost is not None and (cost.isna().any() or (cost <= 0).any())):
        raise DataError(f"--strata-file {a.strata_file}: sd/p must be numbers ≥ 0 and cost numbers > 0 on every row.")
    return sd, cost


def _allocation(a: argparse.Namespace, frame: Any) -> dict[Any, int] | int | None:
    """n per stratum: the --n itself, or the total split by --allocation."""
    from .sampling import allocate

    if not a.allocation:
        return a.n
    if a.n is None:
        raise _UsageError(f"--allocation {a.allocation} splits a total: give --n TOTAL (not --fraction).")
    sd, cost = _stratum_sd(a, frame)
    if a.allocation in ("neyman", "optimal") and sd is None:
        raise _UsageError(f"--allocation {a.allocation} needs the variability per stratum: --sd-column COL "
                          "(its standard deviation in each stratum of the registry) or --strata-file FILE.")
    if a.allocation == "optimal" and cost is None:
        raise _UsageError("--allocation optimal needs interview costs per stratum: a 'cost' column in --strata-file.")
    if a.allocation == "proportional" and (a.sd_column or a.strata_file):
        raise _UsageError("--sd-column/--strata-file are for --allocation neyman or optimal, not proportional.")
    certainty = frame.summary().set_index("stratum")["certainty"]
    census = list(a.census or ())
    N_h = frame.stratum_sizes()
    if a.flagged == "within":  # certainty units count toward n_h
        alloc = allocate(a.n, N_h, method=a.allocation, S_h=sd, cost_h=cost, minimum=a.minimum, census=census,
                         certainty=certainty)
        return {k: int(v) for k, v in alloc.n_h.items()}
    # in addition: the total is the random part, over the units that are not certainty units
    free = (N_h - certainty.reindex(N_h.index).fillna(0)).astype(int)
    free = free[(free > 0) | free.index.isin(census)]
    alloc = allocate(a.n, free.clip(lower=1), method=a.allocation, S_h=None if sd is None else sd[free.index],
                     cost_h=None if cost is None else cost[free.index], minimum=a.minimum,
                     census=[c for c in census if c in free.index])
    return {k: int(alloc.n_h.get(k, 0)) for k in N_h.index}


def cmd_sample(a: argparse.Namespace) -> int:
    from .sampling import select

    if a.method == "pps" and not a.size:
        raise _UsageError("--method pps needs --size COL (the measure of size column), or columns.size in "
                          "survey-stats.toml.")
    if (a.fraction is None) == (a.n is None):
        raise _UsageError("survey-stats sample: give --fraction or --n (one of them).")
    if a.seed is None:
        raise _UsageError("survey-stats sample: give --seed N (or sample.seed in survey-stats.toml) so the draw "
                          "can be repeated exactly.")
    if a.method != "pps":
        a.size = ""
    f = _frame(a, on_invalid="exclude" if a.exclude_invalid else "fail")
    if len(f.excluded):
        print(f"{len(f.excluded)} unit(s) excluded (not sampled); 'survey-stats frame --exclude-invalid' lists them")
    n = _allocation(a, f)
    if a.allocation:
        part = "certainty units counted in it" if a.flagged == "within" else "random units; certainty units on top"
        print(f"{a.allocation} allocation of n = {a.n} ({part}): "
              + ", ".join(f"{k} {v}" for k, v in n.items()))  # type: ignore[union-attr]
    s = select(f, fraction=a.fraction, n=n, census=a.census or (), seed=a.seed, reserve=a.reserve,
               method=a.method, flagged=a.flagged)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    s.write_manifest(out / "manifest.json")
    units_masked = s.write_units(out / "sample_units.csv")
    reserve_masked = s.write_reserve(out / "reserve.csv")
    by = a.field_list_by or (a.county if a.field_columns and a.county in f.data.columns else None)
    field_list = bool(by or a.field_columns)
    if field_list:
        s.field_lists(out / "field_list.xlsx", by=by, columns=a.field_columns or None)
    print(s)
    print(_show(s.summary()))
    print(f"\nwrote {out}/manifest.json, sample_units.csv, reserve.csv" + (", field_list.xlsx" if field_list else ""))
    print(f"sample_units.csv {units_masked.describe()}")
    if reserve_masked:
        print(f"reserve.csv {reserve_masked.describe()}")
    if field_list:
        print(f"field_list.xlsx {s.masked.describe()} (names and addresses kept for fieldwork)")
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    from .questionnaires import read_export, validate

    form = _form(a.form)
    encoding = sniff_encoding(a.responses)
    data = read_export(a.responses, form)
    print(f"read {a.responses}: {len(data)} rows, {encoding}")
    report = validate(data, form)
    print(report)
    if a.out:
        print(f"wrote {report.to_excel(a.out)} (ID-card and phone numbers masked)")
    if not report.ok:
        print(_show(report.problems.head(30)))
    return 0 if report.ok or not a.strict else 1


def _parse_sample(spec: str) -> tuple[str, str, str, str]:
    name, eq, rest = spec.partition("=")
    parts = rest.split(":") if eq else []
    if not name.strip() or len(parts) != 3 or not all(p.strip() for p in parts):
        raise _UsageError(f"--sample {spec!r} must look like name=units.csv:responses.csv:form, e.g. "
                          "registered=s/sample_units.csv:hv.csv:home_visit.")
    return name.strip(), parts[0], parts[1], parts[2]


def _parse_admin(spec: str) -> tuple[str, tuple[float, float]]:
    m = re.fullmatch(r"\s*([A-Za-z_][\w.]*)\s*=\s*([^/]+)/(.+)", spec)
    try:
        num, den = (float(m.group(2)), float(m.group(3))) if m else (math.nan, math.nan)
    except ValueError:
        num = den = math.nan
    if not (math.isfinite(num) and math.isfinite(den) and den > 0 and 0 <= num <= den):
        raise _UsageError(f"--admin {spec!r} must look like indicator_id=numerator/denominator with "
                          "0 ≤ numerator ≤ denominator > 0, e.g. info_check_rate=612/656.")
    return m.group(1), (num, den)  # type: ignore[union-attr]


def _load_units(path: str, id_col: str) -> pd.DataFrame:
    units = _read(path, id_column=id_col)
    need = [id_col, "stratum", "certainty", "pi"]
    missing = [c for c in need if c not in units.columns]
    if missing:
        raise DataError(f"{path}: no column(s) {', '.join(map(repr, missing))}; give the sample_units.csv "
                        f"written by 'survey-stats sample' and its id column with --id (now {id_col!r}).")
    key = units[id_col].map(lambda v: str(v).strip(), na_action="ignore")
    if key.isna().any() or key.duplicated().any():
        bad = key[key.isna() | key.duplicated(keep=False)]
        raise DataError(f"{path}: {id_col} is missing or repeated in {len(bad)} row(s) "
                        f"(rows {', '.join(str(i) for i in bad.index[:5])} of the file).")
    pi = pd.to_numeric(units["pi"], errors="coerce")
    if not ((pi > 0) & (pi <= 1)).all():
        raise DataError(f"{path}: column 'pi' must hold inclusion probabilities in (0, 1] on every row.")
    units[id_col] = key
    units["pi"] = pi
    units["certainty"] = [flag_value(v) is True for v in units["certainty"].astype(object)]
    return units


def _manifest_of(units_path: str) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """The manifest 'survey-stats sample' wrote beside *units_path*: (content, path, SHA-256 of the file)."""
    import hashlib

    path = Path(units_path).with_name("manifest.json")
    if not path.is_file():
        return None, None, None
    return _load_json(str(path), "sample manifest"), str(path), hashlib.sha256(path.read_bytes()).hexdigest()


def _design_of(units: pd.DataFrame, coded: pd.DataFrame, units_path: str, id_col: str, rid: str,
               a: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The design of the respondents, built by the library (:meth:`Sample.from_units` and
    :meth:`Sample.design`) as for a sample drawn in Python: FPC and N_h/r_h weights for
    equal-probability draws, 1/π for PPS.  The manifest next to the units file (written by
    'survey-stats sample') gives the method and N_h when present.  Library warnings (flagged
    households not verified) are printed as notes."""
    import warnings

    from .errors import SurveyStatsWarning
    from .sampling import Sample

    manifest = _manifest_of(units_path)[0]
    sample = Sample.from_units(units, id=id_col, manifest=manifest)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SurveyStatsWarning)
        design = sample.design(coded, on=rid, nonresponse=a.nonresponse, lonely_psu=a.lonely_psu)
    for w in caught:
        if issubclass(w.category, SurveyStatsWarning):
            print(f"note: {_one_line(str(w.message))}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return design


def _design_from_files(units_path: str, responses_path: str, form_name: str, a: argparse.Namespace,
                       name: str = "sample"):  # type: ignore[no-untyped-def]
    from .questionnaires import code_responses, read_export, validate
    from .report import response_rates

    id_col, rid = a.id, a.response_id
    units = _load_units(units_path, id_col)
    form = _form(form_name)
    data = read_export(responses_path, form)
    print(f"read {responses_path}: {len(data)} rows, {sniff_encoding(responses_path)}")
    if rid not in data.columns:
        raise DataError(f"{responses_path}: no {rid!r} column, so responses cannot be matched to the sample; "
                        "name the id question with --response-id (or columns.response_id in survey-stats.toml).")
    report = validate(data, form)
    bad = sorted(set(report.problems["row"].dropna()))
    coded = code_responses(data.drop(index=bad), form)
    coded[rid] = coded[rid].map(lambda v: str(v).strip(), na_action="ignore")
    stray = coded[~coded[rid].isin(set(units[id_col]))]
    if len(stray) and a.unmatched == "fail":
        shown = ", ".join(str(mask_text(repr(v))[0]) for v in stray[rid].head(5))
        raise DataError(f"{len(stray)} response(s) in {responses_path} have a {rid} that is not in {units_path} "
                        f"(ids {shown}{' ...' if len(stray) > 5 else ''}); fix the ids, or pass "
                        "--unmatched set-aside to leave them out (they are counted in the analysis file).")
    coded = coded.drop(index=stray.index)
    clash = [c for c in ("stratum", "certainty", "pi", "N_h", "weight", "design_stratum") if c in coded.columns]
    coded = coded.drop(columns=clash)
    dup = coded[rid].duplicated(keep=False)
    if dup.any():
        shown = ", ".join(str(mask_text(str(v))[0]) for v in pd.unique(coded.loc[dup, rid])[:5])
        raise DataError(f"{responses_path}: {int(dup.sum())} responses repeat a {rid} (ids {shown}); keep one "
                        "response per household.")
    responded = units[id_col].isin(set(coded[rid]))
    missing = units.loc[~responded, id_col]
    if len(missing) and a.nonresponse == "fail":
        shown = ", ".join(str(mask_text(str(v))[0]) for v in missing.head(5))
        raise DataError(f"{len(missing)} sampled unit(s) in {units_path} have no usable response (ids {shown}"
                        f"{' ...' if len(missing) > 5 else ''}); pass --nonresponse stratum to let each stratum's "
                        "respondents stand for it (response rates are then reported).")
    rates = response_rates(units, responded, sample=name, group=a.status)
    unvisited = units.loc[units["certainty"] & ~responded, [c for c in (id_col, a.county) if c in units.columns]]
    counts = {"responses": int(report.n_rows), "invalid": len(bad), "unmatched": int(len(stray)),
              "unmatched_ids": [mask_text(str(v))[0] for v in stray[rid]], "nonrespondents": int(len(missing)),
              "sampled": int(len(units)), "certainty": int(units["certainty"].sum()),
              "frame_units": int(round(float((1 / units["pi"]).sum()))),
              "manifest": dict(zip(("content", "file", "sha256"), _manifest_of(units_path))),
              "unvisited_flagged": unvisited.astype(str).rename(columns={id_col: "id", a.county: "county"})
              .to_dict("records")}
    design = _design_of(units.drop(columns="weight", errors="ignore"), coded, units_path, id_col, rid, a)  # 1/π
    return design, counts, rates


def cmd_analyze(a: argparse.Namespace) -> int:
    from .indicators import IndicatorSystem, evaluate_indicators

    specs = [_parse_sample(spec) for spec in a.sample]
    names = [s[0] for s in specs]
    if len(set(names)) < len(names):
        raise _UsageError(f"--sample names must differ; got {', '.join(names)}.")
    admin = dict(_parse_admin(spec) for spec in a.admin or [])
    if len(admin) < len(a.admin or []):
        raise _UsageError("--admin gives the same indicator twice.")
    system = IndicatorSystem.from_file(a.indicators) if a.indicators else IndicatorSystem.default()
    unknown = sorted(set(admin) - set(system.ids()))
    if unknown:
        raise _UsageError(f"--admin names indicator(s) {', '.join(unknown)} not in the indicator system.")
    if a.select:
        system = system.select(a.select)
    designs, notes, fieldwork, rates = {}, {}, {}, []
    for name, units, responses, form in specs:
        designs[name], counts, r = _design_from_files(units, responses, form, a, name)
        rates.append(r)
        fieldwork[name] = {k: counts[k] for k in ("sampled", "certainty", "frame_units", "nonrespondents",
                                                  "invalid", "unmatched", "unvisited_flagged", "manifest")}
        notes[name] = (f"{counts['responses']} responses, {counts['invalid']} set aside after validation, "
                       f"{counts['unmatched']} set aside as not in the units file")
        print(f"{name}: {notes[name]}"
              + (f" (ids {', '.join(counts['unmatched_ids'][:5])})" if counts["unmatched"] else ""))
    if not a.select:  # the indicators the given samples and --admin counts can produce; the rest are named, not dropped
        ready, skipped = _computable(system, set(names), set(admin))
        if skipped:
            print(f"not estimated ({len(skipped)}; give their samples, --admin counts or --select): "
                  + "; ".join(f"{i} (needs {need})" for i, need in skipped.items()))
        if not ready:
            raise _UsageError("survey-stats analyze: the given --sample/--admin inputs produce no indicator of the "
                              "system; see 'not estimated' above.")
        system = system.select(ready)
    rr = pd.concat(rates, ignore_index=True)
    print(f"\nresponse rates (AAPOR RR1: complete interviews / eligible sampled units; nonresponse: {a.nonresponse})")
    print(rr.to_string(index=False, formatters={"response_rate": lambda v: f"{v:.1%}"}))
    table = evaluate_indicators(system, designs, administrative=admin, ci_method=a.ci_method, na="drop")
    out = {"version": __version__, "level": table.level, "ci_method": table.ci_method, "samples": notes,
           "nonresponse": a.nonresponse, "lonely_psu": a.lonely_psu, "response_rates": rr.replace({np.nan: None}).to_dict("records"),
           "fieldwork": fieldwork, "columns": {"id": a.id, "county": a.county, "status": a.status},
           "indicators": table.to_frame().replace({np.nan: None}).to_dict("records"),
           "parts": table.parts.replace({np.nan: None}).to_dict("records"),
           "part_ids": list(table.part_ids), "theta": table.theta.tolist(), "vcov": table.vcov.tolist(),
           "forms": {r.id: (r.coefficients, r.constant) for r in table}}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, ensure_ascii=False, indent=1, default=float), encoding="utf-8")
    print()
    print(table.to_frame()[["name_zh", "n", "estimate", "se", "ci_low", "ci_high", "verdict", "reliability"]]
          .to_string(index=False))
    print(f"\nwrote {a.out}")
    return 0


def _computable(system: Any, samples: set[str], admin: set[str]) -> tuple[list[str], dict[str, str]]:
    """Ids of the indicators computable from *samples* and *admin* counts; the others with what they need."""
    needs: dict[str, set[str]] = {}
    for ind in system:  # composites come after their terms in a valid system
        if ind.kind == "rate":
            need = {f"sample {ind.sample}"}
        elif ind.kind == "weighted_parts":
            need = {f"sample {p['sample']}" for p in ind.parts}
        elif ind.kind == "administrative":
            need = {f"--admin {ind.id}"}
        else:
            need = set().union(*(needs.get(t, {f"indicator {t}"}) for t in ind.terms))
        needs[ind.id] = need
    have = {f"sample {s}" for s in samples} | {f"--admin {i}" for i in admin}
    ready = [i for i, need in needs.items() if need <= have]
    skipped = {i: ", ".join(sorted(need - have)) for i, need in needs.items() if not need <= have}
    return ready, skipped


def _load_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a JSON {what} ({exc}).") from exc


def _table_from_json(path: str):  # type: ignore[no-untyped-def]
    from .indicators import IndicatorResult, IndicatorTable

    d = _load_json(path, "analysis file")
    try:
        rows = []
        for r in d["indicators"]:
            coef, const = d["forms"][r["id"]]
            rows.append(IndicatorResult(**{**{k: (np.nan if v is None and k in ("estimate", "se", "ci_low", "ci_high",
                                                                                 "deff", "n_eff", "df") else v)
                                              for k, v in r.items()}, "coefficients": coef, "constant": const}))
        return IndicatorTable(tuple(rows), pd.DataFrame(d["parts"]), np.array(d["theta"]), np.array(d["vcov"]),
                              tuple(d["part_ids"]), d["level"], d["ci_method"])
    except SurveyStatsError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{path}: not an analysis file written by 'survey-stats analyze' "
                        f"({type(exc).__name__}: {exc}).") from exc


def _load_scoring_inputs(path: str) -> pd.DataFrame:
    """The evaluator's findings for the 100-point score: rows of key, value, evidence (JSON or TOML).

    JSON: a list of ``{"key": ..., "value": ..., "evidence": ...}`` objects.  TOML: ``[[input]]``
    tables with the same three keys.  Every key must be one the scoring rules ask for
    (``ScoringRules.needs()``); checklist answers must be true/false, numbers finite and ≥ 0,
    and every row needs its evidence (document, page).  Errors name the key and the row.
    """
    from .indicators import ScoringRules

    text = Path(path).read_text(encoding="utf-8-sig")
    toml = Path(path).suffix.lower() == ".toml"
    try:
        rows = tomllib.loads(text).get("input", None) if toml else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{path}: not a {'TOML' if toml else 'JSON'} scoring-inputs file ({exc}).") from exc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        shape = "[[input]] tables" if toml else 'a JSON list of {"key": ..., "value": ..., "evidence": ...} objects'
        raise DataError(f"{path}: scoring inputs must be {shape}.")
    needs = ScoringRules.default().needs()
    checklist, numbers = set(needs["checklist"]), set(needs["numbers"])
    for i, r in enumerate(rows, start=1):
        k, v, ev = r.get("key"), r.get("value"), r.get("evidence")
        extra = sorted(set(r) - {"key", "value", "evidence"})
        if extra:
            raise DataError(f"{path}: input {i} has unknown field(s) {', '.join(map(repr, extra))} "
                            "(use key, value, evidence).")
        if k in checklist:
            if not isinstance(v, bool):
                raise DataError(f"{path}: {k} = {v!r}: a checklist answer must be true or false.")
        elif k in numbers:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise DataError(f"{path}: {k} = {v!r}: must be a number ≥ 0.")
        else:
            close = sorted(n for n in checklist | numbers if n.split(".")[-1] == str(k).split(".")[-1])
            raise DataError(f"{path}: unknown scoring input {k!r} (input {i})"
                            + (f"; did you mean {close[0]!r}?" if close else
                               "; see docs/cli.md for the names the scoring rules use."))
        if not isinstance(ev, str) or not ev.strip():
            raise DataError(f"{path}: {k}: give its evidence (document and page) in 'evidence'.")
    return pd.DataFrame(rows, columns=["key", "value", "evidence"])


def _score(a: argparse.Namespace, table: Any) -> tuple[Any, dict[str, Any] | None]:
    """The score from the evaluator's inputs and the ledger audit; (None, None) when neither is given."""
    from .indicators import ScoringRules, score
    from .pipeline import scoring_inputs

    rows = _load_scoring_inputs(a.scoring_inputs) if a.scoring_inputs else None
    ledger_audit = None
    if a.ledger:  # ledger audit → off-standard households, transfer days, payment checks
        from .review import audit_ledger

        if not (a.registry and a.standards):
            raise _UsageError("survey-stats report: --ledger needs --registry and --standards.")
        ledger_audit = audit_ledger(_read(a.ledger), registry=_read(a.registry), standards=_read(a.standards),
                                    transfers=_read(a.transfers) if a.transfers else None)
    if rows is None and ledger_audit is None:
        return None, None
    found = scoring_inputs(rows if rows is not None else pd.DataFrame(columns=["key", "value", "evidence"]),
                           ledger_audit=ledger_audit, require_all=not a.missing_zero)
    inputs = dict(zip(found["key"], found["value"]))
    evidence = dict(zip(found["key"], found["evidence"]))
    result = score(ScoringRules.default(), inputs, table, seed=a.seed, evidence=evidence,
                   missing="zero" if a.missing_zero else "fail")
    return result, inputs


def _fieldwork_frame(d: dict[str, Any]) -> pd.DataFrame | None:
    """The Word report's sample table (per sample: frame, sampled, certainty, responded, RR1)."""
    fw = d.get("fieldwork") or {}
    if not fw:
        return None
    rows = []
    for name, f in fw.items():
        responded = f["sampled"] - f["nonrespondents"]
        rows.append({"sample": name, "label": name, "frame_units": f["frame_units"], "sampled": f["sampled"],
                     "certainty": f["certainty"], "responded": responded, "set_aside": f["invalid"] + f["unmatched"],
                     "response_rate": responded / f["sampled"] if f["sampled"] else math.nan})
    return pd.DataFrame(rows)


def cmd_report(a: argparse.Namespace) -> int:
    from .indicators.checks import additional_sample
    from .report import rectification_plan, write_excel, write_figures, write_html, write_rectification
    from .report import write_report_docx

    if a.scoring_inputs:  # a malformed inputs file is reported before the analysis is read
        _load_scoring_inputs(a.scoring_inputs)
    d = _load_json(a.analysis, "analysis file")
    table = _table_from_json(a.analysis)
    result, inputs = _score(a, table)
    if result is None:
        print("no --scoring-inputs or --ledger given: indicator-only report (no 100-point score); give the "
              "evaluator's findings (key, value, evidence) in a JSON or TOML file to add it.")
    out = Path(a.out)
    rates = pd.DataFrame(d.get("response_rates") or [])
    unvisited = pd.DataFrame([u for f in (d.get("fieldwork") or {}).values() for u in f.get("unvisited_flagged", [])])
    decisions = additional_sample(table)  # the extra households each inconclusive indicator needs
    plan = rectification_plan(table, result, inputs=inputs, unvisited=unvisited if len(unvisited) else None,
                              id_column="id", county_column="county", working_days=a.working_days,
                              default_unit=a.unit, decisions=decisions, language=a.language)
    kept = {n: f.get("manifest") or {} for n, f in (d.get("fieldwork") or {}).items()}
    meta = {"title": a.title, "title_en": "", "seed": a.seed, "version": __version__}
    figs = write_figures(table, result, out / "figures")
    x = write_excel(out / "evaluation_report.xlsx", table, result, meta=meta, plan=plan,
                    response_rates=rates if len(rates) else None)
    h = write_html(out / "evaluation_report.html", table, result, meta=meta, figures=figs,
                   response_rates=rates if len(rates) else None)
    w = write_report_docx(out / ("评估报告.docx" if a.language == "zh" else "evaluation_report.docx"), table, result,
                          meta=meta, problems=plan, fieldwork=_fieldwork_frame(d), figures=figs, language=a.language,
                          response_rates=rates if len(rates) else None, decisions=decisions,
                          manifests={n: m["content"] for n, m in kept.items() if m.get("content")},
                          manifest_sha256={n: m["sha256"] for n, m in kept.items() if m.get("sha256")})
    p = write_rectification(out / "问题清单及整改方案.xlsx", plan, title=a.title)
    if result is not None:
        print(result.summary())
    if len(rates):
        print(f"response rates ({d.get('nonresponse', '?')} nonresponse): "
              + "; ".join(f"{r.sample} {r.response_rate:.1%}" for r in rates[rates["level"] == "total"].itertuples()))
    print(f"{len(plan)} problem(s) in the rectification plan")
    print(f"wrote {x}, {h}, {w}, {p} and {len(figs)} figures")
    return 0


def cmd_demo(a: argparse.Namespace) -> int:
    from .pipeline import run_evaluation

    if a.n_sim < 100:
        raise _UsageError(f"--n-sim {a.n_sim}: give at least 100 draws (default 10000).")
    run = run_evaluation(a.out, seed=a.seed, progress=not a.quiet, n_sim=a.n_sim)
    assert run.indicators is not None and run.score is not None
    print(run.indicators.to_frame()[["name_zh", "name_en", "estimate", "ci_low", "ci_high", "verdict"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\n" + run.score.summary())
    print("\noutputs:")
    for k, v in run.outputs.items():
        print(f"  {k:<24} {v}")
    return 0


_COLUMNS_NOTE = "default from survey-stats.toml [columns], else "


def _columns_options(p: argparse.ArgumentParser, *, size: bool = False, county: bool = True) -> None:
    p.add_argument("--id", metavar="COL", help=f"household id column, read as text ({_COLUMNS_NOTE}household_id)")
    p.add_argument("--strata", nargs="*", metavar="COL",
                   help=f"stratum column(s), crossed, e.g. 县区 状态 ({_COLUMNS_NOTE}none: unstratified)")
    p.add_argument("--certainty", nargs="*", metavar="COL",
                   help=f"flag column(s) of files visited with certainty, yes/no values ({_COLUMNS_NOTE}none)")
    if county:
        p.add_argument("--county", metavar="COL", help=f"county / union unit column, the default --field-list-by "
                                                       f"({_COLUMNS_NOTE}county)")
    if size:
        p.add_argument("--size", metavar="COL", help="measure-of-size column for --method pps (positive numbers)")


def build_parser() -> argparse.ArgumentParser:  # long but flat: one add_argument per option, with its help
    p = _Parser(prog="survey-stats", description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter,
                epilog="Run 'survey-stats <command> --help' for the options of a command.")
    p.add_argument("--version", action="version", version=f"survey_stats {__version__}",
                   help="show the version and exit")
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = p.add_subparsers(dest="command", required=True, metavar="command", help="what to do")

    i = sub.add_parser("init", help=f"write a commented {CONFIG_NAME} describing every setting")
    i.add_argument("dir", nargs="?", default=".", help="folder to write it to (default: the current folder)")
    i.add_argument("--force", action="store_true", help="replace an existing settings file")
    i.set_defaults(func=cmd_init)

    f = sub.add_parser("frame", help="validate and summarise a household registry (CSV or Excel)")
    f.add_argument("registry", help="registry file (.csv or .xlsx; UTF-8 or GBK; Chinese headers fine)")
    _columns_options(f, size=True, county=False)
    f.add_argument("--exclude-invalid", action="store_true", help="leave out (and list) units that cannot be sampled")
    f.set_defaults(func=cmd_frame)

    s = sub.add_parser("sample", help="draw a stratified sample, write manifest, units and field lists")
    s.add_argument("registry", help="registry file (.csv or .xlsx)")
    _columns_options(s, size=True)
    s.add_argument("--audit", action="store_true",
                   help="audit the registry files and take every flagged (incomplete/illogical) file with certainty")
    s.add_argument("--ledger", metavar="FILE", help="aid ledger for the audit's cause/aid and aid-after-exit rules")
    s.add_argument("--flagged", choices=["in_addition", "within"],
                   help="certainty units on top of the fraction or n (default in_addition) or counted in it (within)")
    s.add_argument("--fraction", type=float, help="sampling fraction per stratum, e.g. 0.3 (or sample.fraction)")
    s.add_argument("--n", type=int, help="sample size: per stratum, or the total when --allocation is given")
    s.add_argument("--allocation", choices=["proportional", "neyman", "optimal"],
                   help="split the total --n over strata: proportional (n_h ∝ N_h), neyman (n_h ∝ N_h·S_h) or "
                        "optimal (n_h ∝ N_h·S_h/√cost_h); certainty units and --census strata count toward n_h")
    s.add_argument("--sd-column", metavar="COL",
                   help="for neyman/optimal: S_h is this numeric registry column's standard deviation in each "
                        "stratum (e.g. income)")
    s.add_argument("--strata-file", metavar="FILE",
                   help="for neyman/optimal: CSV/Excel with columns stratum, sd (or p, an anticipated proportion) "
                        "and cost (optimal); stratum labels as 'survey-stats frame' prints them")
    s.add_argument("--minimum", type=int, help="smallest n_h under --allocation (default 2)")
    s.add_argument("--census", nargs="*", metavar="STRATUM", help="strata taken whole")
    s.add_argument("--method", choices=["srs", "systematic", "pps"],
                   help="srs (default), systematic, or pps (probability proportional to --size)")
    s.add_argument("--reserve", type=float, help="reserve units per stratum (count, or share below 1; default 0)")
    s.add_argument("--seed", type=int, help="random seed (the draw can be repeated exactly); required here or "
                                            "as sample.seed")
    s.add_argument("--exclude-invalid", action="store_true",
                   help="leave out units that cannot be sampled (missing or repeated id, bad flag or size) instead "
                        "of stopping")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--field-list-by", metavar="COL",
                   help="one field-list sheet per value of this column (default: --county when --field-columns)")
    s.add_argument("--field-columns", nargs="*", metavar="COL",
                   help="columns of the field list (phones masked, ID numbers never)")
    s.set_defaults(func=cmd_sample)

    v = sub.add_parser("validate", help="check a KoboToolbox/ODK export against its questionnaire")
    v.add_argument("responses", help="export file (.csv or .xlsx)")
    v.add_argument("--form", required=True, help="shipped form name (home_visit, phone_unexited, ...) or XLSForm path")
    v.add_argument("--out", help="write the problem list to this .xlsx")
    v.add_argument("--strict", action="store_true", help="exit with code 1 when problems are found")
    v.set_defaults(func=cmd_validate)

    an = sub.add_parser("analyze", help="indicator table and response rates from sample units and responses")
    an.add_argument("--sample", action="append", required=True,
                    help="name=units.csv:responses.csv:form, e.g. registered=s/sample_units.csv:hv.csv:home_visit "
                         "(repeat for each sample)")
    an.add_argument("--id", metavar="COL", help=f"id column of the units file ({_COLUMNS_NOTE}household_id)")
    an.add_argument("--response-id", metavar="COL",
                    help=f"id question in the exports ({_COLUMNS_NOTE}household_id, as in the shipped forms)")
    an.add_argument("--county", metavar="COL", help=f"county column of the units file ({_COLUMNS_NOTE}county)")
    an.add_argument("--status", metavar="COL",
                    help=f"group column of the units file; response rates per value ({_COLUMNS_NOTE}status)")
    an.add_argument("--admin", action="append", help="administrative counts, e.g. info_check_rate=612/656")
    an.add_argument("--indicators", help="indicator system JSON (default: the shipped one)")
    an.add_argument("--select", nargs="*", metavar="ID", help="only these indicator ids (and what their composites need)")
    an.add_argument("--ci-method", choices=["beta", "logit", "wilson", "wald", "xlogit", "asin", "likelihood"],
                    help="confidence interval for rates (default beta: Korn-Graubard)")
    an.add_argument("--nonresponse", choices=["fail", "stratum"],
                    help="sampled units without a usable response: fail (default: stop and list them) or stratum "
                         "(respondents stand for their stratum); response rates are reported either way")
    an.add_argument("--lonely-psu", choices=["fail", "adjust", "average", "certainty", "remove"],
                    help="a stratum with one respondent: fail (default: stop and name it), adjust (centre it on "
                         "the overall mean, R's 'adjust'), average (the other strata's average variance), "
                         "certainty (no variance) or remove (no variance contribution)")
    an.add_argument("--unmatched", choices=["fail", "set-aside"],
                    help="responses whose id is not in the units file: stop (default) or leave them "
                         "out, counted and listed (masked) in the output")
    an.add_argument("--out", required=True, help="analysis JSON to write")
    an.set_defaults(func=cmd_analyze)

    r = sub.add_parser("report", help="Word report, rectification plan, Excel, HTML and figures from an analysis JSON")
    r.add_argument("analysis", help="analysis JSON written by 'survey-stats analyze'")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--scoring-inputs", metavar="FILE",
                   help="the evaluator's findings for the 100-point score: JSON list of {key, value, evidence} or "
                        "TOML [[input]] tables; without it (and without --ledger) the report is indicator-only")
    r.add_argument("--ledger", metavar="FILE",
                   help="aid ledger: its audit supplies off-standard households, transfer days, payments")
    r.add_argument("--registry", metavar="FILE", help="household registry (for the ledger audit)")
    r.add_argument("--standards", metavar="FILE", help="aid standards table (aid_type, period, min_amount, max_amount)")
    r.add_argument("--transfers", metavar="FILE", help="fund transfers (fund_source, arrived_on, transferred_on)")
    r.add_argument("--missing-zero", action="store_true", help="score scoring inputs absent from the file as 0")
    r.add_argument("--title", help="report title (default from [report] title)")
    r.add_argument("--language", choices=["zh", "en"], help="language of the Word report (default zh)")
    r.add_argument("--working-days", type=int, help="rectification deadline in working days after today (default 30)")
    r.add_argument("--unit", help="responsible unit of city-wide problems (default 市总工会)")
    r.add_argument("--seed", type=int, default=1, help="seed of the score's simulation interval")
    r.set_defaults(func=cmd_report)

    d = sub.add_parser("demo", help="the whole evaluation on simulated data (uses the demo's own scoring evidence)")
    d.add_argument("--out", default="output", help="output folder (default: output)")
    d.add_argument("--seed", type=int, default=20261123, help="seed of the simulation and the draws")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.add_argument("--n-sim", type=int, default=10_000, metavar="N",
                   help="draws of the score's simulation interval and grade probabilities (default 10000; "
                        "at least 100)")
    d.set_defaults(func=cmd_demo)
    for command in (i, f, s, v, an, r, d):
        if command not in (i, d):
            command.add_argument("--config", metavar="FILE",
                                 help=f"settings file (default: {CONFIG_NAME} in the current folder, if any)")
        # --debug also after the command name
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return p


#: the API's words in library messages → the option that does the same on the command line
_API_TO_CLI = (
    (r"pass on_invalid='exclude'", "pass --exclude-invalid"),
    (r"\(they are listed in frame\.excluded\)", "(they are then listed)"),
    (r"missing='zero'", "--missing-zero"),
    (r"nonresponse='stratum'", "--nonresponse stratum"),
    (r"set Design\(lonely_psu='adjust'\|'average'\|'certainty'\|'remove'\)",
     "pass --lonely-psu adjust|average|certainty|remove (or analyze.lonely_psu in survey-stats.toml)"),
    (r"add them to the evaluator inputs with an evidence reference\.",
     "add them to --scoring-inputs with an evidence reference, or pass --missing-zero to score them 0."),
    (r"pass them in samples=, or drop those indicators with system\.select\(\[\.\.\.\]\)",
     "add --sample NAME=units.csv:responses.csv:form for each, or keep only other indicators with --select ID ..."),
    (r"administrative=\{'(\w+)': \(numerator, denominator\)\}", r"--admin \1=numerator/denominator"),
)


def _cli_words(message: str) -> str:
    """A library message with its keyword arguments named as the command's options."""
    for api, option in _API_TO_CLI:
        message = re.sub(api, option, message)
    return message


def _one_line(message: str) -> str:
    """An error message on one line, with ID-card and phone numbers masked."""
    return re.sub(r"\s*\n\s*", "; ", mask_text(str(message))[0]).replace(":;", ":").strip()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``survey-stats`` command.

    Errors in the input (unreadable or malformed files, bad options, data that cannot be
    used) print one line on stderr and return 2; ``--debug`` shows the traceback instead.
    ``validate --strict`` returns 1 when the responses have problems.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        args = _settle(build_parser().parse_args(argv))
        return int(args.func(args))
    except (SurveyStatsError, OSError) as exc:
        if debug:
            raise
        if isinstance(exc, OSError) and exc.filename is not None:
            text = f"{exc.filename}: {exc.strerror or exc}"
        else:
            text = str(exc)
        print(f"error: {_one_line(_cli_words(text))}", file=sys.stderr)
        return 2
    except Exception as exc:
        if debug:
            raise
        print(f"internal error: {type(exc).__name__}: {_one_line(str(exc))} (run again with --debug and report "
              "the traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
