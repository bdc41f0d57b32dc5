"""Shared internals go through the internal API, not through other modules' private names.

Every module under src/survey_stats is parsed with ``ast``.  A module may import a
``_name`` only from an internal module — one whose own name starts with ``_`` (for
example ``survey_stats._internal``, ``survey_stats._domains``) — or a dunder such as
``__version__``.  The only exceptions are listed in ``BRIDGES`` with their reason.  The
evaluation layers (indicators, questionnaires, report, sampling) also may not read a
Design's private attributes: they use ``Design.variables``, ``Design.weights``,
``Design.column()``, ``Design.has_census``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import survey_stats
from survey_stats import _internal
from survey_stats.design import Design

SRC = Path(survey_stats.__file__).resolve().parent

#: (importer, source module) pairs allowed to import private names, and why.
BRIDGES = {
    # the internal API itself re-exports results' and ci's helpers under public names
    ("survey_stats._internal", "survey_stats.results"),
    ("survey_stats._internal", "survey_stats.ci"),
    # _assembly sits below _internal (which imports _linear, which imports _assembly):
    # importing the same two helpers through _internal would be an import cycle
    ("survey_stats._assembly", "survey_stats.results"),
}
EVALUATION_LAYERS = ("indicators", "questionnaires", "report", "sampling")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_internal(module: str) -> bool:
    return module.rsplit(".", 1)[-1].startswith("_")


def _is_module(dotted: str) -> bool:
    path = SRC.joinpath(*dotted.split(".")[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def private_imports(source: str, importer: str, is_package: bool = False) -> list[str]:
    """``module:line name`` for every private name imported from a non-internal module."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        origin = _resolve(importer, is_package, node)
        for alias in node.names:
            name = alias.name
            if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
                continue
            if _is_internal(origin) or _is_module(f"{origin}.{name}"):
                continue  # an internal module's names, or an internal module itself (from . import _kernel)
            if (importer, origin) in BRIDGES:
                continue
            bad.append(f"{importer}:{node.lineno} {origin}.{name}")
    return bad


def _modules() -> list[tuple[str, Path]]:
    return [(_module_name(p), p) for p in sorted(SRC.rglob("*.py"))]


def test_no_private_name_is_imported_across_modules():
    bad = []
    for name, path in _modules():
        bad += private_imports(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
    assert not bad, "import these through survey_stats._internal (or give them public names):\n" + "\n".join(bad)


def test_the_checker_catches_a_private_import():
    src = "from ..estimation import _where_mask\nfrom .._internal import where_mask\n"
    assert private_imports(src, "survey_stats.indicators.channels") == [
        "survey_stats.indicators.channels:1 survey_stats.estimation._where_mask"]
    src = "from .results import Estimate, _Origin as O\nfrom . import _kernel\nfrom ._version import __version__\n"
    assert private_imports(src, "survey_stats.contrasts") == ["survey_stats.contrasts:1 survey_stats.results._Origin"]
    assert private_imports(src, "survey_stats._assembly") == []  # a listed bridge


def _design_private_names() -> set[str]:
    names = {s for s in Design.__slots__ if s.startswith("_") and not s.startswith("__")}
    names |= {k for k in vars(Design) if k.startswith("_") and not k.startswith("__")}
    return names


def _own_private_names(package_dir: Path) -> set[str]:
    """Private attribute names the package's own classes define (self._x = ..., def _x, __slots__)."""
    own: set[str] = set()
    for path in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and \
                    isinstance(node.value, ast.Name) and node.value.id == "self":
                own.add(node.attr)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                own.add(node.name)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                own.add(node.value)  # __slots__ entries
    return own


def design_private_reads(source: str, forbidden: set[str]) -> list[str]:
    """``line attr`` for every ``x._attr`` (x not self/cls) naming one of *forbidden*."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in forbidden:
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            out.append(f"{node.lineno} .{node.attr}")
    return out


@pytest.mark.parametrize("package", EVALUATION_LAYERS)
def test_evaluation_layers_do_not_read_design_privates(package):
    forbidden = _design_private_names() - _own_private_names(SRC / package)
    bad = [f"{package}/{p.relative_to(SRC / package)}:{hit}" for p in sorted((SRC / package).rglob("*.py"))
           for hit in design_private_reads(p.read_text(encoding="utf-8"), forbidden)]
    assert not bad, "use Design.variables / .weights / .column() / .has_census instead:\n" + "\n".join(bad)


def test_the_design_check_catches_a_private_read():
    forbidden = _design_private_names()
    assert sorted(design_private_reads("n = len(design._data)\nw = samples[k]._w\nself._data = 1\n", forbidden)) == [
        "1 ._data", "2 ._w"]


def test_internal_api_lists_what_it_offers():
    doc = _internal.__doc__ or ""
    for name in _internal.__all__:
        assert hasattr(_internal, name), name
        assert f"``{name}``" in doc, f"_internal's docstring does not document {name}"
    assert _internal.__all__ == sorted(_internal.__all__)


def test_design_accessors_read_without_copying_values():
    d = survey_stats.datasets.apistrat_design()
    v = d.variables
    assert v.shape == (d.n, len(v.columns)) and list(v.columns) == list(d.data.columns)
    v["new"] = 1  # a shallow copy: adding a column does not change the design
    assert "new" not in d.variables.columns
    assert not d.has_census and survey_stats.datasets.poverty_design().has_census
