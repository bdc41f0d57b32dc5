"""Modules imported on first use (internal, base layer).

``import survey_stats`` should not pay for SciPy's statistics, special-function, optimisation
and linear-algebra packages — about 1.5 s together, more than the rest of the package — before an
estimate needs them.  The modules that use them hold a :class:`LazyModule` under the usual name
(``stats = LazyModule("scipy.stats")``), so the code reads ``stats.t.ppf(...)`` as before and the
import happens at the first such call.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["LazyModule"]


class LazyModule:
    """Stands for the module *name* and imports it at the first attribute access.

    Examples
    --------
    >>> special = LazyModule("scipy.special")
    >>> float(special.expit(0.0))
    0.5
    """

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"
