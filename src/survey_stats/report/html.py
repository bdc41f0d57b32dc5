"""One self-contained HTML report (tables + embedded figures): formatting only."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd

from ..indicators import IndicatorTable, ScoreResult
from ..privacy import mask_text
from .tables import indicator_frame, localise_headers, methods_frame, rectification_frame, scoring_frame

__all__ = ["render_html", "write_html"]

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;
max-width:1200px;color:#212121;line-height:1.45}
h1{font-size:1.5em;border-bottom:3px solid #263238;padding-bottom:.3em}h2{margin-top:1.8em;color:#263238}
table{border-collapse:collapse;width:100%;font-size:.86em;margin:.6em 0}
th{background:#263238;color:#fff;padding:.45em;text-align:left;position:sticky;top:0}
td{padding:.35em .45em;border-bottom:1px solid #e0e0e0;vertical-align:top}
tr.meets td{background:#e8f5e9}tr.fails td{background:#ffebee}tr.inconclusive td{background:#fff3e0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.summary{font-size:1.15em;background:#eceff1;padding:.8em 1em;border-left:5px solid #1565c0}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #e0e0e0}figcaption{font-size:.85em;color:#555}
.note{font-size:.85em;color:#555}
"""


def _fmt(v: Any, col: str) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        if any(k in col for k in ("Estimate", "CI low", "CI high", "Reference", "estimate", "ci_low", "ci_high",
                                  "Response rate")):
            return f"{v:.1%}"
        if "SE" in col or col == "se":
            return f"{v:.4f}"
        return f"{v:.2f}"
    return html.escape(mask_text(str(v))[0])  # ID-card and phone numbers never reach the report


def _table(df: pd.DataFrame, row_classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for i, row in enumerate(df.itertuples(index=False)):
        cls = f' class="{row_classes[i]}"' if row_classes else ""
        cells = "".join(f'<td class="num">{_fmt(v, c)}</td>' if isinstance(v, (int, float)) and not isinstance(v, bool)
                        else f"<td>{_fmt(v, c)}</td>" for v, c in zip(row, df.columns))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(table: IndicatorTable, score: ScoreResult | None, *, meta: dict[str, Any] | None = None,
                figures: dict[str, Path] | None = None, validation: pd.DataFrame | None = None,
                awareness: pd.DataFrame | None = None, channels: pd.DataFrame | None = None,
                tables: dict[str, pd.DataFrame] | None = None,
                response_rates: pd.DataFrame | None = None, plan: pd.DataFrame | None = None,
                decisions: pd.DataFrame | None = None, populations: dict[str, int] | None = None) -> str:
    """The report as one HTML string with figures embedded as base64 PNG.

    *plan* is the rectification plan already built (default: computed from *table*).
    *decisions* / *populations*: the extra sample inconclusive indicators need, shown in
    the indicator table (see :func:`~survey_stats.report.indicator_frame`).

    Without *score* the report is indicator-only and says so; *response_rates* (AAPOR RR1
    per sample, stratum and group) adds a table.
    """
    meta = dict(meta or {})
    ind = indicator_frame(table, score, decisions=decisions, populations=populations)
    classes = [v.replace(" ", "-") for v in ind.pop("verdict")]
    ind = ind.drop(columns=["id", "区间方法 CI method"])
    parts = [f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(meta.get('title', 'report'))}"
             f"</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(meta.get('title', ''))}</h1><p class='note'>{html.escape(meta.get('title_en', ''))}</p>",
             (f"<p class='summary'>绩效评价总分 Total score <b>{score.total:.1f}</b>（95%区间 {score.total_low:.1f}–"
              f"{score.total_high:.1f}）：<b>{html.escape(score.grade)}</b>，概率 probability "
              f"{score.grade_probabilities.get(score.grade, 0):.2f}</p>" if score is not None else
              "<p class='summary'>未提供评分输入：本报告仅含指标结果，不计算绩效评分。"
              "No scoring inputs: indicator-only report.</p>"),
             "<h2>评估指标 Indicators</h2>", _table(ind, classes),
             f"<p class='note'>{int(table.level * 100)}% 置信区间；比例区间方法 {html.escape(table.ci_method)}；"
             "结论依据置信区间与参考值比较；可靠性按 NCHS 比例数据发布标准；无法判定的指标给出倾向结论、"
             "按观测比率以80%把握度得出结论所需的样本量及需追加户数（含有限总体校正）。</p>"]
    figs = figures or {}
    captions = {"figure_forest": "各指标估计值与置信区间 Indicators with CIs",
                "figure_satisfaction": "各类家庭满意度 Satisfaction by group",
                "figure_channels": "政策宣传渠道 Publicity channels", "figure_score": "总分与等级 Score and grades"}
    for key in ("figure_forest", "figure_satisfaction"):
        if key in figs:
            parts.append(_img(figs[key], captions[key]))
    if awareness is not None:
        parts += ["<h2>职工了解程度 Policy awareness</h2>", _table(awareness)]
    if channels is not None:
        parts += ["<h2>政策宣传渠道 Publicity channels</h2>", _table(channels)]
        if "figure_channels" in figs:
            parts.append(_img(figs["figure_channels"], captions["figure_channels"]))
    for title, frame in (tables or {}).items():
        parts += [f"<h2>{html.escape(title)}</h2>", _table(frame) if len(frame) else "<p>—</p>"]
    if response_rates is not None:
        parts += ["<h2>应答率 Response rates (AAPOR RR1)</h2>", _table(localise_headers(response_rates))]
    if score is not None:
        parts += ["<h2>绩效评分 Performance score</h2>", _table(scoring_frame(score))]
    if "figure_score" in figs:
        parts.append(_img(figs["figure_score"], captions["figure_score"]))
    parts += ["<h2>整改清单 Rectification list</h2>", _table(plan if plan is not None else rectification_frame(table))]
    if validation is not None:
        parts += [f"<h2>数据核验 Data validation</h2><p class='note'>{len(validation)} problem(s); rows with "
                  "problems were set aside and are listed here.</p>",
                  _table(validation) if len(validation) else "<p>No problems found.</p>"]
    parts += ["<h2>方法 Methods</h2>", _table(methods_frame(meta, table, score)), "</body></html>"]
    return "\n".join(parts)


def _img(path: Path, caption: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def write_html(path: str | Path, table: IndicatorTable, score: ScoreResult | None, **kwargs: Any) -> Path:
    """Write :func:`render_html` to *path* (UTF-8)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(table, score, **kwargs), encoding="utf-8")
    return path
