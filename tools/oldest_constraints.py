"""Write pip constraints pinning every declared dependency to its lowest declared version.

pip has no "lowest direct" resolution, so ``make test-oldest`` installs the package with
``-c`` and the file this script prints: one ``name==minimum`` line for every requirement
of ``[project].dependencies`` and of the extras named on the command line.  A requirement
without a ``>=`` lower bound is an error: an unbounded range cannot be tested at its floor.

Usage: ``python tools/oldest_constraints.py [pyproject.toml] [extra ...] > constraints.txt``
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*(;.*)?$")


def lowest(requirement: str) -> str:
    """``"numpy>=1.26,<3"`` -> ``"numpy==1.26"``; raises ValueError without a ``>=`` bound."""
    m = _REQ.match(requirement)
    if m is None:
        raise ValueError(f"cannot parse requirement {requirement!r}")
    name, _, spec, marker = m.groups()
    floors = [s.strip()[2:].strip() for s in spec.split(",") if s.strip().startswith(">=")]
    if len(floors) != 1:
        raise ValueError(f"requirement {requirement!r} has no single '>=' lower bound")
    return f"{name}=={floors[0]}" + (f" {marker}" if marker else "")


def constraints(pyproject: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    reqs = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        reqs += optional[extra]
    pins = {}
    for r in reqs:
        pin = lowest(r)
        name = re.split(r"[=\s]", pin, maxsplit=1)[0].lower().replace("_", "-")
        pins.setdefault(name, pin)
    return list(pins.values())


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv and argv[0].endswith(".toml") else Path("pyproject.toml")
    extras = [a for a in argv if not a.endswith(".toml")]
    print("\n".join(constraints(path, extras)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
