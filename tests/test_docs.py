"""Documentation that runs: every ```python block of README.md and docs/*.md is executed.

Blocks of one page share a namespace and run in order, in a temporary folder (so files
they write do not land in the checkout).  Fenced blocks in any other language (``sh``,
``text``, ``sql``, ...) are not run.  docs/index.md must link every page.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of every block fenced as ```python."""
    out = []
    for m in _FENCE.finditer(text):
        if m.group(1).strip().lower() in ("python", "py"):
            out.append((text.count("\n", 0, m.start()) + 2, m.group(2)))
    return out


def test_fence_parser():
    text = "a\n```python\nx = 1\n```\n```sh\nls\n```\n```python\ny = x\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (9, "y = x\n")]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_code_blocks_run(page, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip("no python blocks")
    ns: dict = {"__name__": "__docs__"}
    for line, code in blocks:
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), ns)  # noqa: S102 - our own documentation
        except Exception as exc:  # report the page and line of the failing block
            raise AssertionError(f"{page.relative_to(ROOT)} block at line {line} fails: "
                                 f"{type(exc).__name__}: {exc}") from exc


def test_index_links_every_page():
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([^)#]+\.md)", index))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"index.md"}
    assert pages <= linked, sorted(pages - linked)
    assert all((ROOT / "docs" / p).exists() for p in linked)


def test_license_matches_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text
