"""Reporting: indicator tables, the Excel workbook, the HTML report, figures, the Word report
(评估报告), county sub-reports (分报告) and the rectification plan (问题清单及整改方案).

Reporting formats, never computes: every number comes from the estimation, indicator
and scoring layers.
"""

from __future__ import annotations

from .county import CountyTables, county_indicators
from .deliverables import PlanOptions, plan_for_run, run_designs, write_deliverables
from .docx import fieldwork_summary, response_rates, write_county_report_docx, write_report_docx
from .excel import write_excel
from .fonts import cjk_font_path
from .html import render_html, write_html
from .plots import channel_figure, forest_figure, satisfaction_figure, score_figure, write_figures
from .rectification import deadline_after, rectification_plan, units_from_registry, write_rectification
from .tables import indicator_frame, localise_headers, methods_frame, rectification_frame, scoring_frame

__all__ = [
    "CountyTables",
    "PlanOptions",
    "channel_figure",
    "cjk_font_path",
    "county_indicators",
    "deadline_after",
    "fieldwork_summary",
    "forest_figure",
    "indicator_frame",
    "localise_headers",
    "methods_frame",
    "plan_for_run",
    "rectification_frame",
    "rectification_plan",
    "render_html",
    "response_rates",
    "run_designs",
    "satisfaction_figure",
    "score_figure",
    "scoring_frame",
    "units_from_registry",
    "write_county_report_docx",
    "write_deliverables",
    "write_excel",
    "write_figures",
    "write_html",
    "write_rectification",
    "write_report_docx",
]
