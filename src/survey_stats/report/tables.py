"""Display tables: formatting only — every number comes from the estimation layers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..indicators import IndicatorTable, ScoreResult, ScoringRules

__all__ = ["VERDICT_LABELS", "indicator_frame", "methods_frame", "rectification_frame", "scoring_frame"]

VERDICT_LABELS = {"meets": "达标 meets", "fails": "未达标 fails", "inconclusive": "无法判定 inconclusive",
                  "no reference": "无参考值 no reference"}
RELIABILITY_LABELS = {"reliable": "可靠 reliable", "review": "需复核 review", "unreliable": "不可靠 unreliable"}
DIRECTION = {"le": "≤", "ge": "≥"}

#: Suggested rectification measure per indicator (整改措施).
MEASURES = {
    "misidentification_rate": "复核错评家庭档案，严格执行认定标准，完善入户核查和公示程序",
    "omission_rate": "健全县级工会主动发现、基层摸底排查和职工自主申报机制，及时纳入符合条件家庭",
    "wrong_exit_rate": "复核错退家庭，恢复帮扶；规范退出评估，落实渐退期管理",
    "missed_exit_rate": "对已达脱困标准家庭履行退出程序，加强动态管理和定期走访",
    "pairing_coverage": "为未结对家庭落实结对帮扶责任人，明确联系频次",
    "method_match_rate": "按致困原因调整帮扶方式，做到因户施策",
    "info_check_rate": "对未比对家庭开展家庭经济状况信息比对",
    "satisfaction": "回访不满意家庭，改进帮扶方式与政策宣传，提升帮扶成效",
    "beneficiary_satisfaction": "回访受助家庭，针对不满意原因改进帮扶措施",
}


def _scored(rules: ScoringRules, score: ScoreResult) -> dict[str, str]:
    items = score.items.set_index("id")
    out: dict[str, str] = {}
    for item in rules.items:
        for c in item["components"]:
            if c["type"] == "rate_threshold":
                it = items.loc[item["id"]]
                out[c["indicator"]] = (f"{item['name_zh']} {it['score']:.2f}/{item['points']:g} "
                                       f"[{it['score_low']:.2f}, {it['score_high']:.2f}]")
    return out


def indicator_frame(table: IndicatorTable, score: ScoreResult | None = None,
                    rules: ScoringRules | None = None) -> pd.DataFrame:
    """The indicator table with bilingual headers, as handed to the client."""
    points = _scored(rules or ScoringRules.default(), score) if score is not None else {}
    rows = []
    for r in table:
        rows.append({
            "指标 Indicator": r.name_zh, "Indicator (en)": r.name_en, "分母 Denominator": r.denominator,
            "n": r.n, "估计值 Estimate": r.estimate, "标准误 SE": r.se, "置信下限 CI low": r.ci_low,
            "置信上限 CI high": r.ci_high, "区间方法 CI method": r.ci_method, "设计效应 deff": r.deff,
            "可靠性 Reliability": RELIABILITY_LABELS.get(r.reliability, r.reliability),
            "参考值 Reference": r.reference,
            "方向 Direction": DIRECTION.get(r.direction, r.direction) if r.reference is not None else "",
            "结论 Verdict": VERDICT_LABELS.get(r.verdict, r.verdict), "得分 Points": points.get(r.id, ""),
            "id": r.id, "verdict": r.verdict,
        })
    return pd.DataFrame(rows)


def scoring_frame(score: ScoreResult) -> pd.DataFrame:
    """The 19 scored items with points, score and interval."""
    it = score.items
    return pd.DataFrame({
        "序号 No": it["no"], "一级指标 Level 1": it["level1"], "二级指标 Level 2": it["level2"],
        "三级指标 Item": it["name_zh"], "Item (en)": it["name_en"], "分值 Points": it["points"],
        "得分 Score": it["score"], "下限 Low": it["score_low"], "上限 High": it["score_high"],
        "依据 Detail": it["detail"],
    })


def rectification_frame(table: IndicatorTable) -> pd.DataFrame:
    """整改清单: every failing or inconclusive indicator, a suggested measure, empty deadline/owner."""
    rows = []
    for r in table:
        if r.verdict not in ("fails", "inconclusive"):
            continue
        ref = f"{DIRECTION[r.direction]} {r.reference:.0%}" if r.reference is not None else ""
        problem = (f"{r.name_zh}为{r.estimate:.1%}（95%置信区间 {r.ci_low:.1%}–{r.ci_high:.1%}），参考值{ref}："
                   + ("未达标" if r.verdict == "fails" else "样本不足以判定是否达标，需扩大样本或逐户核实"))
        rows.append({"指标 Indicator": r.name_zh, "结论 Verdict": VERDICT_LABELS[r.verdict], "问题 Problem": problem,
                     "整改措施 Measure": MEASURES.get(r.id, "分析原因并制定针对性措施"),
                     "整改时限 Deadline": "", "责任单位 Responsible unit": ""})
    return pd.DataFrame(rows, columns=["指标 Indicator", "结论 Verdict", "问题 Problem", "整改措施 Measure",
                                       "整改时限 Deadline", "责任单位 Responsible unit"])


def methods_frame(meta: dict[str, Any], table: IndicatorTable, score: ScoreResult) -> pd.DataFrame:
    """How the numbers were produced: designs, interval method, level, df, seed, version, date."""
    import datetime as _dt

    rows = [("报告 Report", meta.get("title", "")), ("Report (en)", meta.get("title_en", "")),
            ("置信水平 Confidence level", f"{table.level:.0%}"),
            ("比例区间 Proportion CI", f"{table.ci_method} (Korn-Graubard when 'beta'); composites: Wald, Satterthwaite df"),
            ("方差估计 Variance", "Taylor linearisation, stratified with FPC; certainty units and census strata no variance"),
            ("结论规则 Verdict rule", "≤: meets if CI upper ≤ reference, fails if CI lower > reference, else inconclusive"),
            ("可靠性 Reliability", "NCHS Data Presentation Standards for Proportions (2017)"),
            ("评分不确定性 Score uncertainty", f"{score.n_sim} draws from N(θ̂, V), seed {score.seed}"),
            ("随机种子 Seed", str(meta.get("seed", ""))), ("软件 Software", f"survey_stats {meta.get('version', '')}"),
            ("日期 Date", _dt.date.today().isoformat())]
    for name, d in meta.get("designs", {}).items():
        rows.append((f"样本 Sample: {name}", d))
    for name, text in meta.get("methods", {}).items():
        rows.append((name, text))
    return pd.DataFrame(rows, columns=["项目 Item", "内容 Value"])
