"""Figures (matplotlib ``Figure`` objects, no pyplot state): forest plot, satisfaction by group,
channel reach, score against the grade bands."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

from ..indicators import IndicatorTable, ScoreResult, ScoringRules
from .fonts import cjk_font_path, label

__all__ = ["channel_figure", "forest_figure", "satisfaction_figure", "score_figure", "write_figures"]

#: Resolution of the PNG files (dots per inch).
DPI = 200
_VERDICT_COLOURS = {"meets": "#2e7d32", "fails": "#c62828", "inconclusive": "#ef6c00", "no reference": "#546e7a"}
GROUPS = {"exited": ("已脱困户", "exited"), "unexited": ("未脱困户", "unexited"),
          "unregistered": ("非建档户", "unregistered"), "deregistered": ("注销户", "deregistered")}


def _figure(width: float, height: float) -> tuple[Figure, Path | None]:
    return Figure(figsize=(width, height), dpi=110, layout="constrained"), cjk_font_path()


def _apply_font(fig: Figure, font: Path | None) -> None:
    """Draw every text of the figure with the CJK font (sizes kept)."""
    if font is None:
        return
    prop = font_manager.FontProperties(fname=str(font))
    for text in fig.findobj(lambda o: hasattr(o, "set_fontproperties") and hasattr(o, "get_text")):
        size = text.get_fontsize()
        text.set_fontproperties(prop)
        text.set_fontsize(size)


def _forest_panel(ax, rows: list, font: Path | None) -> None:  # type: ignore[no-untyped-def]
    y = np.arange(len(rows))[::-1]
    lo_x, hi_x = [], []
    for yi, r in zip(y, rows):
        c = _VERDICT_COLOURS.get(r.verdict, "#546e7a")
        ax.plot([r.ci_low * 100, r.ci_high * 100], [yi, yi], color=c, lw=2.2)
        ax.plot(r.estimate * 100, yi, "o", color=c, ms=6)
        lo_x += [r.ci_low * 100]
        hi_x += [r.ci_high * 100]
        if r.reference is not None:
            ax.plot(r.reference * 100, yi, marker="|", color="black", ms=14, mew=2)
            lo_x.append(r.reference * 100)
            hi_x.append(r.reference * 100)
    span = max(hi_x) - min(lo_x)
    pad = max(span * 0.08, 0.5)
    ax.set_xlim(max(0.0, min(lo_x) - pad), min(100.0, max(hi_x) + pad))
    ax.set_yticks(y, [r.name_zh if font else r.name_en for r in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(axis="x", alpha=0.3)


def forest_figure(table: IndicatorTable, *, bands: tuple[float, float] = (0.2, 0.8)) -> Figure:
    """Every rate with its CI, reference value marked, coloured by verdict.

    Panels with their own axes: low rates (estimate below ``bands[0]``, e.g. 错评率 near
    2%), mid-range rates (e.g. the share of households receiving each kind of aid) and
    high rates (from ``bands[1]``: 覆盖率, 满意度 near 90%), so no group is squeezed; an
    empty panel is left out.
    """
    rows = list(table)
    low = [r for r in rows if r.estimate < bands[0]]
    mid = [r for r in rows if bands[0] <= r.estimate < bands[1]]
    high = [r for r in rows if r.estimate >= bands[1]]
    groups = [(g, zh, en) for g, zh, en in ((low, "低比率指标", "low rates"), (mid, "中等比率指标", "mid-range rates"),
                                            (high, "高比率指标", "high rates")) if g]
    fig, font = _figure(8.5, 0.42 * len(rows) + 1.0 + 0.6 * len(groups))
    axes = fig.subplots(len(groups), 1, squeeze=False, gridspec_kw={"height_ratios": [len(g) for g, _, _ in groups]})
    for ax, (g, zh, en) in zip(axes[:, 0], groups):
        _forest_panel(ax, g, font)
        ax.set_title(label(zh, en, font), fontsize=9, loc="left")
    axes[-1, 0].set_xlabel(label("估计值与95%置信区间（%）；竖线为参考值", "estimate and 95% CI (%); bar = reference value",
                                 font))
    fig.suptitle(label("评估指标", "Evaluation indicators", font))
    handles = [axes[0, 0].plot([], [], "o-", color=c, label=label(zh, en, font))[0] for (zh, en), c in
               ((("达标", "meets"), _VERDICT_COLOURS["meets"]), (("未达标", "fails"), _VERDICT_COLOURS["fails"]),
                (("无法判定", "inconclusive"), _VERDICT_COLOURS["inconclusive"]),
                (("无参考值", "no reference"), _VERDICT_COLOURS["no reference"]))]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    _apply_font(fig, font)
    return fig


def satisfaction_figure(table: IndicatorTable) -> Figure:
    """Approval by household group (the parts of the satisfaction index) and the weighted index."""
    parts = table.parts[table.parts["part"].str.startswith("satisfaction.")]
    fig, font = _figure(7, 3.8)
    ax = fig.add_subplot()
    names, est, lo, hi = [], [], [], []
    parts = parts.assign(group=parts["part"].str.split("_").str[-1])
    order = {g: i for i, g in enumerate(GROUPS)}
    for _, p in parts.sort_values("group", key=lambda s: s.map(order)).iterrows():
        zh, en = GROUPS.get(p["group"], (p["group"], p["group"]))
        names.append(f"{zh}\n{en}" if font else en)
        est.append(p["estimate"]), lo.append(p["ci_low"]), hi.append(p["ci_high"])
    s = table["satisfaction"]
    names.append("加权满意度\nweighted index" if font else "weighted index")
    est.append(s.estimate), lo.append(s.ci_low), hi.append(s.ci_high)
    x = np.arange(len(names))
    e = np.array(est) * 100
    ax.bar(x, e, color=["#64b5f6"] * (len(names) - 1) + ["#1565c0"])
    ax.errorbar(x, e, yerr=[e - np.array(lo) * 100, np.array(hi) * 100 - e], fmt="none", color="black", capsize=4)
    if s.reference is not None:
        ax.axhline(s.reference * 100, color="#c62828", ls="--", lw=1.2)
        ax.text(len(names) - 0.5, s.reference * 100 + 1, label("参考值", "reference", font), color="#c62828",
                ha="right", fontsize=8)
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_ylabel(label("满意比例（%）", "satisfied (%)", font))
    ax.set_title(label("帮扶工作满意度（0.4/0.4/0.1/0.1）", "Satisfaction by group (weights 0.4/0.4/0.1/0.1)", font))
    _apply_font(fig, font)
    return fig


def channel_figure(channels: pd.DataFrame) -> Figure:
    """Share of respondents reached by each publicity channel, with CIs."""
    fig, font = _figure(7, 0.45 * len(channels) + 1.4)
    ax = fig.add_subplot()
    y = np.arange(len(channels))[::-1]
    e = channels["estimate"].to_numpy() * 100
    ax.barh(y, e, color="#7e57c2")
    ax.errorbar(e, y, xerr=[e - channels["ci_low"].to_numpy() * 100, channels["ci_high"].to_numpy() * 100 - e],
                fmt="none", color="black", capsize=3)
    # labels look like "微信/公众号 (wechat)": without a CJK font show the code in parentheses
    names = [str(c) if font else (re.search(r"\(([^)]*)\)\s*$", str(c)) or re.match(r"(.*)", str(c))).group(1)
             for c in channels["channel"]]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel(label("知晓渠道覆盖比例（%）", "respondents reached (%)", font))
    ax.set_title("政策宣传渠道（未脱困户电话调查，可多选）\nPublicity channels (telephone census, multiple answers)"
                 if font else label("", "Publicity channels (telephone census, multiple answers)", font))
    _apply_font(fig, font)
    return fig


def score_figure(score: ScoreResult, rules: ScoringRules | None = None) -> Figure:
    """Total score with its interval against the grade bands, and the grade probabilities."""
    rules = rules or ScoringRules.default()
    fig, font = _figure(7.5, 2.6)
    ax = fig.add_subplot()
    bands = sorted(rules.grades, key=lambda g: g["min"])
    colours = ["#ffcdd2", "#ffe0b2", "#fff9c4", "#c8e6c9"]
    for i, g in enumerate(bands):
        top = bands[i + 1]["min"] if i + 1 < len(bands) else 100
        ax.axvspan(g["min"], top, color=colours[i % 4], alpha=0.9)
        p = score.grade_probabilities.get(g["grade"], 0.0)
        ax.text((max(g["min"], 40) + top) / 2, 0.85, label(g["grade"], g.get("grade_en", ""), font) + f"\nP = {p:.2f}",
                ha="center", va="top", fontsize=8, transform=ax.get_xaxis_transform())
    # the point score can sit on (or a rounding error beyond) an end of the simulated interval
    ax.errorbar([score.total], [0.3], xerr=[[max(0.0, score.total - score.total_low)],
                                            [max(0.0, score.total_high - score.total)]],
                fmt="o", color="black", capsize=6, ms=7)
    ax.set_xlim(40, 100)
    ax.set_yticks([])
    ax.set_xlabel(label("总分及95%区间", "total score and 95% interval", font))
    ax.set_title(label(f"绩效评价得分 {score.total:.1f}（{score.grade}）", f"Performance score {score.total:.1f}", font))
    _apply_font(fig, font)
    return fig


def write_figures(table: IndicatorTable, score: ScoreResult | None, folder: str | Path, *,
                  awareness: pd.DataFrame | None = None, channels: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write every figure as PNG; returns name → path (no score figure when *score* is None)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figs = {"forest": forest_figure(table)}
    if score is not None:
        figs["score"] = score_figure(score)
    if "satisfaction" in [r.id for r in table]:
        figs["satisfaction"] = satisfaction_figure(table)
    if channels is not None and len(channels):
        figs["channels"] = channel_figure(channels)
    paths = {}
    for name, fig in figs.items():
        p = folder / f"{name}.png"
        fig.savefig(p, dpi=DPI)
        paths[f"figure_{name}"] = p
    return paths
