"""survey-stats: the evaluation workflow from the command line.

    survey-stats frame REGISTRY --id COL [--strata COL ...] [--certainty COL ...]
    survey-stats sample REGISTRY --id COL --strata COL ... --fraction 0.3 --seed N --out DIR
    survey-stats validate RESPONSES --form home_visit [--out report.xlsx] [--strict]
    survey-stats analyze --sample registered=units.csv:responses.csv:home_visit ... --out analysis.json
    survey-stats report analysis.json --out DIR
    survey-stats demo --out DIR

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
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from . import __version__
from .errors import DataError, SurveyStatsError
from .privacy import mask_frame, mask_text
from .readers import file_rows, read_table, sniff_encoding

__all__ = ["main"]

_ID = "household_id"


class _UsageError(SurveyStatsError, ValueError):
    """Wrong command-line usage (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing the usage and exiting, so main() prints one line."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _read(path: str, *, id_column: str | None = None) -> pd.DataFrame:
    """A registry or units table with the id column as text; says which encoding it read."""
    table = read_table(path, text_columns=[id_column] if id_column else ())
    table.index = pd.Index(file_rows(table), name="row")  # messages name rows as Excel/WPS show them
    skipped = [f"{len(table.attrs['dropped_columns'])} empty unnamed column(s)"] if table.attrs["dropped_columns"] else []
    skipped += [f"{table.attrs['blank_rows']} blank row(s)"] if table.attrs["blank_rows"] else []
    print(f"read {path}: {len(table)} rows, {table.attrs['encoding']}"
          + (f"; skipped {' and '.join(skipped)}" if skipped else ""))
    return table


def _show(df: pd.DataFrame) -> str:
    """A table for the terminal, ID-card and phone numbers masked, names and addresses hidden."""
    return mask_frame(df, personal="mask")[0].to_string(index=False)


def _form(name: str):  # type: ignore[no-untyped-def]
    from .questionnaires import FORMS, load_questionnaire, questionnaire_path

    if name not in FORMS and not Path(name).is_file():
        raise _UsageError(f"--form {name!r}: neither a shipped form ({', '.join(FORMS)}) nor an XLSForm file.")
    return load_questionnaire(questionnaire_path(name) if name in FORMS else name)


def cmd_frame(a: argparse.Namespace) -> int:
    from .sampling import Frame

    f = Frame(_read(a.registry, id_column=a.id), id=a.id, strata=a.strata or None,
              certainty=a.certainty or None, on_invalid="exclude" if a.exclude_invalid else "fail")
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


def cmd_sample(a: argparse.Namespace) -> int:
    from .sampling import Frame, select

    if (a.fraction is None) == (a.n is None):
        raise _UsageError("survey-stats sample: give --fraction or --n (one of them).")
    f = Frame(_read(a.registry, id_column=a.id), id=a.id, strata=a.strata or None,
              certainty=a.certainty or None)
    s = select(f, fraction=a.fraction, n=a.n, census=a.census or (), seed=a.seed, reserve=a.reserve,
               method=a.method)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    s.write_manifest(out / "manifest.json")
    units_masked = s.write_units(out / "sample_units.csv")
    reserve_masked = s.write_reserve(out / "reserve.csv")
    field_list = bool(a.field_list_by or a.field_columns)
    if field_list:
        s.field_lists(out / "field_list.xlsx", by=a.field_list_by, columns=a.field_columns or None)
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


def _load_units(path: str) -> pd.DataFrame:
    units = _read(path, id_column=_ID)  # a missing id column is a DataError naming the columns
    need = [_ID, "stratum", "certainty", "pi"]
    missing = [c for c in need if c not in units.columns]
    if missing:
        raise DataError(f"{path}: no column(s) {', '.join(map(repr, missing))}; give the sample_units.csv "
                        "written by 'survey-stats sample'.")
    key = units[_ID].map(lambda v: str(v).strip(), na_action="ignore")
    if key.isna().any() or key.duplicated().any():
        bad = key[key.isna() | key.duplicated(keep=False)]
        raise DataError(f"{path}: {_ID} is missing or repeated in {len(bad)} row(s) "
                        f"(rows {', '.join(str(i) for i in bad.index[:5])} of the file).")
    pi = pd.to_numeric(units["pi"], errors="coerce")
    if not ((pi > 0) & (pi <= 1)).all():
        raise DataError(f"{path}: column 'pi' must hold inclusion probabilities in (0, 1] on every row.")
    units[_ID] = key
    units["pi"] = pi
    return units


def _design_from_files(units_path: str, responses_path: str, form_name: str, nonresponse: str,
                       unmatched: str):  # type: ignore[no-untyped-def]
    from .design import Design
    from .questionnaires import code_responses, read_export, validate

    units = _load_units(units_path)
    form = _form(form_name)
    data = read_export(responses_path, form)
    print(f"read {responses_path}: {len(data)} rows, {sniff_encoding(responses_path)}")
    if _ID not in data.columns:
        raise DataError(f"{responses_path}: no {_ID!r} column, so responses cannot be matched to the sample.")
    report = validate(data, form)
    bad = sorted(set(report.problems["row"].dropna()))
    coded = code_responses(data.drop(index=bad), form)
    coded[_ID] = coded[_ID].map(lambda v: str(v).strip(), na_action="ignore")
    stray = coded[~coded[_ID].isin(set(units[_ID]))]
    if len(stray) and unmatched == "fail":
        shown = ", ".join(str(mask_text(repr(v))[0]) for v in stray[_ID].head(5))
        raise DataError(f"{len(stray)} response(s) in {responses_path} have a {_ID} that is not in {units_path} "
                        f"(ids {shown}{' ...' if len(stray) > 5 else ''}); fix the ids, or pass "
                        "--unmatched set-aside to leave them out (they are counted in the analysis file).")
    coded = coded.drop(index=stray.index)
    merged = coded.merge(units[[_ID, "stratum", "certainty", "pi"]], on=_ID, how="inner", validate="one_to_one")
    missing = len(units) - len(merged)
    if missing and nonresponse == "fail":
        raise DataError(f"{missing} sampled unit(s) in {units_path} have no valid response; "
                        "pass --nonresponse stratum to treat respondents as each stratum's sample.")
    # stratum sizes from the inclusion probabilities: Σ 1/π = c_h + m_h (N_h − c_h)/m_h = N_h (SRS/systematic)
    N = (1 / units["pi"]).groupby(units["stratum"]).sum().round()
    merged["N_h"] = merged["stratum"].map(N).astype(float)
    counts = {"responses": int(report.n_rows), "invalid": len(bad), "unmatched": int(len(stray)),
              "unmatched_ids": [mask_text(str(v))[0] for v in stray[_ID]], "nonrespondents": int(missing)}
    return Design(merged, strata="stratum", fpc="N_h", certainty="certainty"), counts


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
    designs = {}
    notes = {}
    for name, units, responses, form in specs:
        designs[name], counts = _design_from_files(units, responses, form, a.nonresponse, a.unmatched)
        notes[name] = (f"{counts['responses']} responses, {counts['invalid']} set aside after validation, "
                       f"{counts['unmatched']} set aside as not in the units file")
        print(f"{name}: {notes[name]}"
              + (f" (ids {', '.join(counts['unmatched_ids'][:5])})" if counts["unmatched"] else ""))
    table = evaluate_indicators(system, designs, administrative=admin, ci_method=a.ci_method, na="drop")
    out = {"version": __version__, "level": table.level, "ci_method": table.ci_method, "samples": notes,
           "indicators": table.to_frame().replace({np.nan: None}).to_dict("records"),
           "parts": table.parts.replace({np.nan: None}).to_dict("records"),
           "part_ids": list(table.part_ids), "theta": table.theta.tolist(), "vcov": table.vcov.tolist(),
           "forms": {r.id: (r.coefficients, r.constant) for r in table}}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, ensure_ascii=False, indent=1, default=float), encoding="utf-8")
    print(table.to_frame()[["name_zh", "n", "estimate", "se", "ci_low", "ci_high", "verdict", "reliability"]]
          .to_string(index=False))
    print(f"\nwrote {a.out}")
    return 0


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


def cmd_report(a: argparse.Namespace) -> int:
    from .indicators import ScoringRules, score
    from .pipeline import scoring_inputs
    from .report import write_excel, write_figures, write_html

    inputs = _load_json(a.scoring_inputs, "scoring-inputs file") if a.scoring_inputs else scoring_inputs()
    if not isinstance(inputs, dict):
        raise DataError(f"{a.scoring_inputs}: scoring inputs must be a JSON object (name → value).")
    table = _table_from_json(a.analysis)
    result = score(ScoringRules.default(), inputs, table, seed=a.seed, missing="zero" if a.missing_zero else "fail")
    out = Path(a.out)
    meta = {"title": a.title, "title_en": "", "seed": a.seed, "version": __version__}
    figs = write_figures(table, result, out / "figures")
    x = write_excel(out / "evaluation_report.xlsx", table, result, meta=meta)
    h = write_html(out / "evaluation_report.html", table, result, meta=meta, figures=figs)
    print(result.summary())
    print(f"wrote {x}, {h} and {len(figs)} figures")
    return 0


def cmd_demo(a: argparse.Namespace) -> int:
    from .pipeline import run_evaluation

    run = run_evaluation(a.out, seed=a.seed, progress=not a.quiet)
    assert run.indicators is not None and run.score is not None
    print(run.indicators.to_frame()[["name_zh", "name_en", "estimate", "ci_low", "ci_high", "verdict"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\n" + run.score.summary())
    print("\noutputs:")
    for k, v in run.outputs.items():
        print(f"  {k:<24} {v}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="survey-stats", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Run 'survey-stats <command> --help' for the options of a command.")
    p.add_argument("--version", action="version", version=f"survey_stats {__version__}")
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = p.add_subparsers(dest="command", required=True, metavar="command")

    f = sub.add_parser("frame", help="validate and summarise a household registry (CSV or Excel)")
    f.add_argument("registry", help="registry file (.csv or .xlsx; Chinese headers fine)")
    f.add_argument("--id", required=True, help="household id column")
    f.add_argument("--strata", nargs="*", help="stratum column(s), e.g. county status")
    f.add_argument("--certainty", nargs="*", help="flag column(s) of files to visit with certainty")
    f.add_argument("--exclude-invalid", action="store_true", help="leave out (and list) units that cannot be sampled")
    f.set_defaults(func=cmd_frame)

    s = sub.add_parser("sample", help="draw a stratified sample, write manifest, units and field lists")
    s.add_argument("registry")
    s.add_argument("--id", required=True)
    s.add_argument("--strata", nargs="*")
    s.add_argument("--certainty", nargs="*")
    s.add_argument("--fraction", type=float, help="sampling fraction per stratum, e.g. 0.3")
    s.add_argument("--n", type=int, help="units per stratum")
    s.add_argument("--census", nargs="*", help="strata taken whole")
    s.add_argument("--method", default="srs", choices=["srs", "systematic", "pps"])
    s.add_argument("--reserve", type=float, default=0, help="reserve units per stratum (count, or share below 1)")
    s.add_argument("--seed", type=int, required=True, help="random seed (the draw can be repeated exactly)")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--field-list-by", help="one field-list sheet per value of this column, e.g. county")
    s.add_argument("--field-columns", nargs="*", help="columns of the field list (phones masked, ID numbers never)")
    s.set_defaults(func=cmd_sample)

    v = sub.add_parser("validate", help="check a KoboToolbox/ODK export against its questionnaire")
    v.add_argument("responses", help="export file (.csv or .xlsx)")
    v.add_argument("--form", required=True, help="shipped form name (home_visit, phone_unexited, ...) or XLSForm path")
    v.add_argument("--out", help="write the problem list to this .xlsx")
    v.add_argument("--strict", action="store_true", help="exit with code 1 when problems are found")
    v.set_defaults(func=cmd_validate)

    an = sub.add_parser("analyze", help="indicator table from sample units and responses")
    an.add_argument("--sample", action="append", required=True,
                    help="name=units.csv:responses.csv:form, e.g. registered=s/sample_units.csv:hv.csv:home_visit")
    an.add_argument("--admin", action="append", help="administrative counts, e.g. info_check_rate=612/656")
    an.add_argument("--indicators", help="indicator system JSON (default: the shipped one)")
    an.add_argument("--select", nargs="*", help="only these indicator ids (and what their composites need)")
    an.add_argument("--ci-method", default="beta", choices=["beta", "logit", "wilson", "wald", "xlogit", "asin",
                                                              "likelihood"])
    an.add_argument("--nonresponse", default="stratum", choices=["fail", "stratum"])
    an.add_argument("--unmatched", default="fail", choices=["fail", "set-aside"],
                    help="responses whose household_id is not in the units file: stop (default) or leave them "
                         "out, counted and listed (masked) in the output")
    an.add_argument("--out", required=True, help="analysis JSON to write")
    an.set_defaults(func=cmd_analyze)

    r = sub.add_parser("report", help="Excel workbook, HTML report and figures from an analysis JSON")
    r.add_argument("analysis")
    r.add_argument("--out", required=True)
    r.add_argument("--scoring-inputs", help="JSON with checklist answers and numbers for the 100-point score")
    r.add_argument("--missing-zero", action="store_true", help="score absent scoring inputs as 0")
    r.add_argument("--title", default="困难职工帮扶工作第三方评估报告")
    r.add_argument("--seed", type=int, default=1)
    r.set_defaults(func=cmd_report)

    d = sub.add_parser("demo", help="the whole evaluation on simulated data")
    d.add_argument("--out", default="output")
    d.add_argument("--seed", type=int, default=20261123)
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=cmd_demo)
    for command in (f, s, v, an, r, d):  # --debug also after the command name
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return p


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
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except (SurveyStatsError, OSError) as exc:
        if debug:
            raise
        if isinstance(exc, OSError) and exc.filename is not None:
            text = f"{exc.filename}: {exc.strerror or exc}"
        else:
            text = str(exc)
        print(f"error: {_one_line(text)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if debug:
            raise
        print(f"internal error: {type(exc).__name__}: {_one_line(str(exc))} (run again with --debug and report "
              "the traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
