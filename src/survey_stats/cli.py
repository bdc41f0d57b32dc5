"""survey-stats: the evaluation workflow from the command line.

    survey-stats frame REGISTRY --id COL [--strata COL ...] [--certainty COL ...]
    survey-stats sample REGISTRY --id COL --strata COL ... --fraction 0.3 --seed N --out DIR
    survey-stats validate RESPONSES --form home_visit [--out report.xlsx] [--strict]
    survey-stats analyze --sample registered=units.csv:responses.csv:home_visit ... --out analysis.json
    survey-stats report analysis.json --out DIR
    survey-stats demo --out DIR

Exit codes: 0 success, 1 the data have problems (listed), 2 wrong usage or unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .errors import SurveyStatsError

__all__ = ["main"]


def _read_table(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(p, engine="openpyxl")
    return pd.read_csv(p, encoding="utf-8-sig")


def _form(name: str):  # type: ignore[no-untyped-def]
    from .questionnaires import FORMS, load_questionnaire, questionnaire_path

    return load_questionnaire(questionnaire_path(name) if name in FORMS else name)


def cmd_frame(a: argparse.Namespace) -> int:
    from .sampling import Frame

    f = Frame(_read_table(a.registry), id=a.id, strata=a.strata or None, certainty=a.certainty or None,
              on_invalid="exclude" if a.exclude_invalid else "fail")
    print(f)
    print(f.summary().to_string(index=False))
    if len(f.excluded):
        print(f"\n{len(f.excluded)} unit(s) excluded:")
        print(f.excluded.to_string(index=False))
    print(f"\nfingerprint {f.fingerprint}")
    return 0


def cmd_sample(a: argparse.Namespace) -> int:
    from .privacy import detect_pii_columns
    from .sampling import Frame, select

    registry = _read_table(a.registry)
    certainty = list(a.certainty or [])
    if a.audit:  # document review → flags → certainty units (seed 000 §五.3)
        from .review import audit_registry

        audit = audit_registry(registry, ledger=_read_table(a.ledger) if a.ledger else None, id_column=a.id)
        registry = registry.assign(flagged_by_audit=registry[a.id].map(audit.flags()).fillna(False).astype(bool))
        certainty.append("flagged_by_audit")
        print(f"registry audit: {int(audit.households['flagged'].sum())} file(s) incomplete or illogical")
    f = Frame(registry, id=a.id, strata=a.strata or None, certainty=certainty or None)
    if (a.fraction is None) == (a.n is None):
        print("error: give --fraction or --n", file=sys.stderr)
        return 2
    s = select(f, fraction=a.fraction, n=a.n, census=a.census or (), seed=a.seed, reserve=a.reserve,
               method=a.method, flagged=a.flagged)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    s.write_manifest(out / "manifest.json")
    pii = detect_pii_columns(s.units.columns)
    keep = [c for c in s.units.columns if c not in pii]
    s.units[keep].to_csv(out / "sample_units.csv", index=False, encoding="utf-8-sig")
    s.reserve.to_csv(out / "reserve.csv", index=False, encoding="utf-8-sig")
    if a.field_list_by or a.field_columns:
        s.field_lists(out / "field_list.xlsx", by=a.field_list_by, columns=a.field_columns or None)
    print(s)
    print(s.summary().to_string(index=False))
    print(f"\nwrote {out}/manifest.json, sample_units.csv (no personal data), reserve.csv"
          + (", field_list.xlsx" if a.field_list_by or a.field_columns else ""))
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    from .questionnaires import read_export, validate

    form = _form(a.form)
    report = validate(read_export(a.responses, form), form)
    print(report)
    if a.out:
        print(f"wrote {report.to_excel(a.out)}")
    if not report.ok:
        print(report.problems.head(30).to_string(index=False))
    return 0 if report.ok or not a.strict else 1


def _design_from_files(units_path: str, responses_path: str, form_name: str, nonresponse: str):  # type: ignore[no-untyped-def]
    from .design import Design
    from .questionnaires import code_responses, read_export, validate

    units = _read_table(units_path)
    form = _form(form_name)
    data = read_export(responses_path, form)
    report = validate(data, form)
    bad = sorted(set(report.problems["row"].dropna()))
    coded = code_responses(data.drop(index=bad), form)
    id_col = "household_id"
    merged = coded.merge(units[[id_col, "stratum", "certainty", "pi"]], on=id_col, how="inner", validate="one_to_one")
    missing = len(units) - len(merged)
    if missing and nonresponse == "fail":
        raise SurveyStatsError(f"{missing} sampled unit(s) in {units_path} have no valid response; "
                               "pass --nonresponse stratum to treat respondents as each stratum's sample.")
    # stratum sizes from the inclusion probabilities: Σ 1/π = c_h + m_h (N_h − c_h)/m_h = N_h (SRS/systematic)
    N = (1 / units["pi"]).groupby(units["stratum"]).sum().round()
    merged["N_h"] = merged["stratum"].map(N).astype(float)
    return Design(merged, strata="stratum", fpc="N_h", certainty="certainty"), report, len(bad)


def cmd_analyze(a: argparse.Namespace) -> int:
    from .indicators import IndicatorSystem, evaluate_indicators

    designs = {}
    notes = {}
    for spec in a.sample:
        try:
            name, rest = spec.split("=", 1)
            units, responses, form = rest.split(":")
        except ValueError:
            print(f"error: --sample {spec!r} must look like name=units.csv:responses.csv:form", file=sys.stderr)
            return 2
        designs[name], report, n_bad = _design_from_files(units, responses, form, a.nonresponse)
        notes[name] = f"{report.n_rows} responses, {n_bad} set aside after validation"
    admin = {}
    for spec in a.admin or []:
        key, frac = spec.split("=")
        num, den = frac.split("/")
        admin[key] = (float(num), float(den))
    system = IndicatorSystem.from_file(a.indicators) if a.indicators else IndicatorSystem.default()
    if a.select:
        system = system.select(a.select)
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


def _table_from_json(path: str):  # type: ignore[no-untyped-def]
    from .indicators import IndicatorResult, IndicatorTable

    d = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = []
    for r in d["indicators"]:
        coef, const = d["forms"][r["id"]]
        rows.append(IndicatorResult(**{**{k: (np.nan if v is None and k in ("estimate", "se", "ci_low", "ci_high", "deff",
                                                                             "n_eff", "df") else v)
                                          for k, v in r.items()}, "coefficients": coef, "constant": const}))
    return IndicatorTable(tuple(rows), pd.DataFrame(d["parts"]), np.array(d["theta"]), np.array(d["vcov"]),
                          tuple(d["part_ids"]), d["level"], d["ci_method"])


def cmd_report(a: argparse.Namespace) -> int:
    from .indicators import ScoringRules, score
    from .pipeline import scoring_inputs
    from .report import write_excel, write_figures, write_html

    table = _table_from_json(a.analysis)
    inputs: dict = {}
    evidence: dict = {}
    ledger_audit = None
    if a.ledger:  # ledger audit → off-standard households, transfer days, payment checks
        from .review import audit_ledger

        if not (a.registry and a.standards):
            print("error: --ledger needs --registry and --standards", file=sys.stderr)
            return 2
        ledger_audit = audit_ledger(_read_table(a.ledger), registry=_read_table(a.registry),
                                    standards=_read_table(a.standards),
                                    transfers=_read_table(a.transfers) if a.transfers else None)
    if a.scoring_inputs or ledger_audit is not None:  # evaluator rows {"key", "value", "evidence"}
        rows = json.loads(Path(a.scoring_inputs).read_text(encoding="utf-8")) if a.scoring_inputs else []
        found = scoring_inputs(pd.DataFrame(rows, columns=["key", "value", "evidence"]), ledger_audit=ledger_audit,
                               require_all=not a.missing_zero)
        inputs = dict(zip(found["key"], found["value"]))
        evidence = dict(zip(found["key"], found["evidence"]))
    result = score(ScoringRules.default(), inputs, table, seed=a.seed, evidence=evidence,
                   missing="zero" if a.missing_zero else "fail")
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
    p = argparse.ArgumentParser(prog="survey-stats", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Run 'survey-stats <command> --help' for the options of a command.")
    p.add_argument("--version", action="version", version=f"survey_stats {__version__}")
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
    s.add_argument("--audit", action="store_true",
                   help="audit the registry files and take every flagged (incomplete/illogical) file with certainty")
    s.add_argument("--ledger", help="aid ledger for the audit's cause/aid and aid-after-exit rules")
    s.add_argument("--flagged", default="in_addition", choices=["in_addition", "within"],
                   help="certainty units on top of the fraction (default) or counted in it")
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
    an.add_argument("--out", required=True, help="analysis JSON to write")
    an.set_defaults(func=cmd_analyze)

    r = sub.add_parser("report", help="Excel workbook, HTML report and figures from an analysis JSON")
    r.add_argument("analysis")
    r.add_argument("--out", required=True)
    r.add_argument("--scoring-inputs", help="JSON list of {key, value, evidence}: checklist findings and numbers for "
                   "the 100-point score, each with its evidence reference")
    r.add_argument("--ledger", help="aid ledger: its audit supplies off-standard households, transfer days, payments")
    r.add_argument("--registry", help="household registry (for the ledger audit)")
    r.add_argument("--standards", help="aid standards table (aid_type, period, min_amount, max_amount)")
    r.add_argument("--transfers", help="fund transfers (fund_source, arrived_on, transferred_on)")
    r.add_argument("--missing-zero", action="store_true", help="score absent scoring inputs as 0")
    r.add_argument("--title", default="困难职工帮扶工作第三方评估报告")
    r.add_argument("--seed", type=int, default=1)
    r.set_defaults(func=cmd_report)

    d = sub.add_parser("demo", help="the whole evaluation on simulated data")
    d.add_argument("--out", default="output")
    d.add_argument("--seed", type=int, default=20261123)
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``survey-stats`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SurveyStatsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
