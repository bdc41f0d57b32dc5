"""Text helpers shared by the report writers (internal to :mod:`survey_stats.report`).

* :func:`cell_text` — a value as cell or paragraph text, ID-card and phone numbers masked,
  missing values empty — used by the rectification workbook and the Word reports;
* :data:`COLUMNS_EN` — English headers of the rectification plan's columns.
"""

from __future__ import annotations

import math
from typing import Any

from ..privacy import mask_text

__all__ = ["COLUMNS_EN", "cell_text"]

#: English column headers of the rectification plan (the plan's columns keep their Chinese keys).
COLUMNS_EN = {"序号": "No.", "类别": "Category", "县区": "County", "问题": "Problem", "依据": "Basis",
              "整改措施": "Measure", "整改要求": "Requirement", "整改时限": "Deadline", "责任单位": "Responsible unit",
              "状态": "Status"}


def cell_text(value: Any) -> str:
    """*value* as text with ID-card and phone numbers masked (:func:`survey_stats.privacy.mask_text`);
    missing values are empty.

    Examples
    --------
    >>> cell_text(None), cell_text(3)
    ('', '3')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return mask_text(str(value))[0]
