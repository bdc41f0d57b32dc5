"""Reporting: indicator tables, the Excel workbook, the HTML report and figures.

Reporting formats, never computes: every number comes from the estimation, indicator
and scoring layers.
"""

from __future__ import annotations

from .excel import write_excel
from .fonts import cjk_font_path
from .html import render_html, write_html
from .plots import channel_figure, forest_figure, satisfaction_figure, score_figure, write_figures
from .tables import indicator_frame, methods_frame, rectification_frame, scoring_frame

__all__ = [
    "channel_figure",
    "cjk_font_path",
    "forest_figure",
    "indicator_frame",
    "methods_frame",
    "rectification_frame",
    "render_html",
    "satisfaction_figure",
    "score_figure",
    "scoring_frame",
    "write_excel",
    "write_figures",
    "write_html",
]
