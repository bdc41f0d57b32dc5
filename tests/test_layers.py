"""The import layers hold: pyproject's [tool.importlinter] contracts, checked by import-linter.

The core (design, kernel, estimators, intervals, results) imports no backend, sampling,
evaluation, instrument or report module; a new upward import or cycle fails here, so
``make test`` (and CI) catch it.  ``lint-imports`` on the command line prints the same report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

cli = pytest.importorskip("importlinter.cli")  # importing it also configures import-linter

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_import_contracts_hold(capsys):
    status = cli.lint_imports(config_filename=str(PYPROJECT), no_cache=True)
    report = capsys.readouterr().out
    assert status == cli.EXIT_STATUS_SUCCESS, report
    assert "Contracts: 1 kept, 0 broken." in report
