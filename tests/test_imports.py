"""`import survey_stats` stays light: heavy optional libraries load only when a feature needs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ["pingouin", "sklearn", "seaborn", "xarray", "matplotlib", "duckdb", "statsmodels", "sympy", "formulaic",
         "pyxform", "docx"]


def _loaded_after(code: str) -> list[str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(set(m.split('.')[0] for m in sys.modules))))"
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", probe], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_loads_no_heavy_optional_library():
    loaded = _loaded_after("import survey_stats")
    assert "survey_stats" in loaded
    assert [m for m in HEAVY if m in loaded] == []


def test_public_names_resolve_without_heavy_libraries():
    """Touching every name in __all__ except the lazy report/SQL layers still loads none of them."""
    code = ("import survey_stats as ss\n"
            "[getattr(ss, n) for n in ss.__all__ if n not in ('report', 'pipeline', 'cli', 'sql', 'SQLDesign')]")
    loaded = _loaded_after(code)
    assert [m for m in HEAVY if m in loaded] == []


def test_lazy_attributes_still_work():
    loaded = _loaded_after("import survey_stats as ss\nassert ss.SQLDesign.__name__ == 'SQLDesign'\n"
                           "import survey_stats.report.plots")
    assert "matplotlib" in loaded  # figures load it when they are used


def test_scipy_loads_at_the_first_estimate_not_at_import():
    """SciPy's stats/special/optimize/linalg (≈1.5 s) are imported by the first call that needs them."""
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = ("import sys, json\nimport survey_stats as ss\nimport pandas as pd\n"
            "before = sorted(m for m in sys.modules if m.startswith('scipy'))\n"
            "d = ss.Design(pd.DataFrame({'y': [0.0, 1.0, 1.0, 0.0, 1.0]}), weights=None)\n"
            "est = ss.proportion(d, 'y')\n"
            "print(json.dumps([before, 'scipy.stats' in sys.modules, est.ci_low < est.estimate < est.ci_high]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    before, loaded_after, ok = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == [] and loaded_after and ok
