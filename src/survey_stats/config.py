"""Project settings of the ``survey-stats`` command: a commented TOML file, read with ``tomllib``.

``survey-stats init [DIR]`` writes :data:`TEMPLATE` to ``DIR/survey-stats.toml``; every command
reads ``survey-stats.toml`` from the current folder (or ``--config FILE``) and command-line
options override it.  Unknown sections or keys are refused by name, so a typo cannot silently
fall back to a default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import DataError

__all__ = ["CONFIG_NAME", "DEFAULTS", "TEMPLATE", "ConfigError", "check_config", "find_config", "load_config",
           "write_template"]

CONFIG_NAME = "survey-stats.toml"


class ConfigError(DataError):
    """A project settings file that cannot be used (unknown key, wrong type, bad TOML)."""


#: section → key → (default, allowed type(s), allowed values or None)
_SCHEMA: dict[str, dict[str, tuple[Any, tuple[type, ...], tuple[Any, ...] | None]]] = {
    "columns": {
        "id": ("household_id", (str,), None),
        "strata": ([], (list,), None),
        "county": ("county", (str,), None),
        "status": ("status", (str,), None),
        "certainty": ([], (list,), None),
        "size": ("", (str,), None),
        "response_id": ("household_id", (str,), None),
    },
    "sample": {
        "method": ("srs", (str,), ("srs", "systematic", "pps")),
        "fraction": (None, (float, int), None),
        "n": (None, (int,), None),
        "allocation": ("", (str,), ("", "proportional", "neyman", "optimal")),
        "minimum": (2, (int,), None),
        "flagged": ("in_addition", (str,), ("in_addition", "within")),
        "reserve": (0, (float, int), None),
        "seed": (None, (int,), None),
    },
    "analyze": {
        "nonresponse": ("fail", (str,), ("fail", "stratum")),
        "unmatched": ("fail", (str,), ("fail", "set-aside")),
        "ci_method": ("beta", (str,), ("beta", "logit", "wilson", "wald", "xlogit", "asin", "likelihood")),
        "lonely_psu": ("fail", (str,), ("fail", "adjust", "average", "certainty", "remove")),
    },
    "report": {
        "title": ("困难职工帮扶工作第三方评估报告", (str,), None),
        "language": ("zh", (str,), ("zh", "en")),
        "working_days": (30, (int,), None),
        "unit": ("市总工会", (str,), None),
    },
}

#: The built-in settings (what applies when neither the file nor an option sets a value).
DEFAULTS: dict[str, dict[str, Any]] = {s: {k: v[0] for k, v in keys.items()} for s, keys in _SCHEMA.items()}

TEMPLATE = '''\
# survey-stats.toml — settings of the survey-stats command for this project.
# Every command reads this file from the folder it runs in (or --config FILE);
# an option given on the command line overrides the value here.
# Delete or comment out a line to use the built-in default shown.
# An unknown key is an error (so a misspelt key cannot be ignored silently).

[columns]
# Household id column of the registry (also written to sample_units.csv).
# Read as text: leading zeros are kept.  Chinese headers are fine, e.g. id = "户号".
id = "household_id"
# Stratum column(s), crossed: ["县区", "状态"] gives strata like "萧县 / exited".
# An empty list draws one unstratified sample.
strata = ["county", "status"]
# County (or union unit) column: default field-list sheets, responsible units in
# the rectification plan, unvisited flagged households by county.
county = "county"
# Status / group column (e.g. exited, unexited): response rates are shown per value.
status = "status"
# Flag column(s) of files visited with certainty (1/0, true/false, 是/否).
certainty = []
# Measure of size for --method pps (positive numbers); "" for none.
size = ""
# Id question in the questionnaire exports (the shipped forms call it household_id).
response_id = "household_id"

[sample]
# srs (simple random), systematic, or pps (needs columns.size).
method = "srs"
# Give a sampling fraction per stratum ...
fraction = 0.3
# ... or a sample size n: per stratum, or the total when allocation is set.
# n = 200
# "" (n per stratum), proportional, neyman or optimal (n is then the total;
# neyman/optimal need --sd-column or --strata-file, see 'survey-stats sample --help').
allocation = ""
# Smallest sample per stratum under an allocation (2 gives every stratum a variance).
minimum = 2
# Certainty (flagged) households: "in_addition" to the fraction / n (every flagged file
# visited on top of the random sample), or "within" (counted in it).
flagged = "in_addition"
# Reserve units per stratum: a count, or a share of n_h below 1.
reserve = 0.2
# Random seed; required (here or --seed) so the draw can be repeated exactly.
# seed = 20261123

[analyze]
# Sampled households without a usable response: "fail" (stop and list them) or
# "stratum" (respondents stand for their stratum; response rates are reported).
nonresponse = "fail"
# Responses whose id is not in the units file: "fail" or "set-aside" (counted).
unmatched = "fail"
# Confidence interval for rates: beta (Korn-Graubard), logit, wilson, wald, xlogit, asin, likelihood.
ci_method = "beta"
# A stratum with a single respondent (its variance cannot be estimated): "fail" (stop and
# name it), "adjust" (centre it on the overall mean, R's "adjust"), "average" (the average
# variance of the other strata), "certainty" (no variance) or "remove" (no contribution).
lonely_psu = "fail"

[report]
title = "困难职工帮扶工作第三方评估报告"
# Language of the Word report: zh or en.
language = "zh"
# Rectification deadline: this many working days after the report date.
working_days = 30
# Responsible unit of city-wide problems in the rectification plan.
unit = "市总工会"
'''


def write_template(folder: str | Path = ".", *, overwrite: bool = False) -> Path:
    """Write the commented settings file :data:`TEMPLATE` to *folder*; returns its path.

    Examples
    --------
    >>> import tempfile
    >>> p = write_template(tempfile.mkdtemp())
    >>> load_config(p)["columns"]["id"]
    'household_id'
    """
    path = Path(folder) / CONFIG_NAME
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} exists already; edit it, or delete it first to write a fresh one.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEMPLATE, encoding="utf-8")
    return path


def find_config(folder: str | Path = ".") -> Path | None:
    """``survey-stats.toml`` in *folder*, or None."""
    path = Path(folder) / CONFIG_NAME
    return path if path.is_file() else None


def _check_value(where: str, value: Any, types: tuple[type, ...], allowed: tuple[Any, ...] | None) -> Any:
    if isinstance(value, bool) or not isinstance(value, types):
        names = " or ".join({"str": "text", "list": "list of text", "int": "whole number",
                             "float": "number"}[t.__name__] for t in types)
        raise ConfigError(f"{where} = {value!r}: must be {names}.")
    if isinstance(value, list) and not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: every entry must be a column name (text).")
    if allowed is not None and value not in allowed:
        raise ConfigError(f"{where} = {value!r}: use one of {', '.join(repr(a) for a in allowed)}.")
    return value


def check_config(data: Mapping[str, Any], source: str = "settings") -> dict[str, dict[str, Any]]:
    """Validate parsed settings against the schema; return them merged over :data:`DEFAULTS`.

    Examples
    --------
    >>> check_config({"columns": {"id": "户号"}})["columns"]["id"]
    '户号'
    >>> check_config({"columns": {"idd": "户号"}}, "p.toml")
    Traceback (most recent call last):
    ...
    survey_stats.config.ConfigError: p.toml: unknown key 'columns.idd' (known: id, strata, county, status, certainty, size, response_id).
    """
    out = {s: dict(v) for s, v in DEFAULTS.items()}
    for section, keys in data.items():
        if section not in _SCHEMA:
            raise ConfigError(f"{source}: unknown section [{section}] (known: {', '.join(_SCHEMA)}).")
        if not isinstance(keys, Mapping):
            raise ConfigError(f"{source}: {section} must be a [{section}] section of key = value lines.")
        for key, value in keys.items():
            if key not in _SCHEMA[section]:
                raise ConfigError(f"{source}: unknown key '{section}.{key}' (known: {', '.join(_SCHEMA[section])}).")
            _, types, allowed = _SCHEMA[section][key]
            out[section][key] = _check_value(f"{source}: {section}.{key}", value, types, allowed)
    return out


def load_config(path: str | Path | None) -> dict[str, dict[str, Any]]:
    """Read and validate a settings file (None: the built-in defaults).

    Raises
    ------
    ConfigError
        Bad TOML, an unknown section or key, or a value of the wrong type (one line, naming it).
    """
    if path is None:
        return check_config({})
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file ({exc.reason}).") from exc
    return check_config(data, str(path))
