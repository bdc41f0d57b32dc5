"""Display tables: formatting only — every number comes from the estimation layers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..indicators import IndicatorTable, ScoreResult, ScoringRules

__all__ = ["HEADERS", "VERDICT_LABELS", "indicator_frame", "localise_headers", "methods_frame", "rectification_frame",
           "scoring_frame"]

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


#: leaning of an inconclusive indicator (the verdict its estimate points to)
LEANING_LABELS = {"meets": "倾向达标 leans meets", "fails": "倾向未达标 leans fails"}
#: the three decision columns of the indicator table
DECISION_COLUMNS = ("倾向 Leaning", "判定所需样本量 n needed", "需追加户数 Additional households")
NO_FEASIBLE_SAMPLE = "无可行样本 none feasible"


def _decision_cells(table: IndicatorTable, decisions: pd.DataFrame | None,
                    populations: dict[str, int] | None) -> dict[str, tuple[Any, Any, Any]]:
    """Leaning, n needed and additional households per inconclusive indicator id."""
    from ..indicators.checks import additional_sample

    if decisions is None:
        decisions = additional_sample(table, populations=populations)
    cells = {}
    for r in decisions.itertuples(index=False):
        needed = "" if pd.isna(r.n_needed) else int(r.n_needed)
        extra = NO_FEASIBLE_SAMPLE if pd.isna(r.additional) else int(r.additional)
        cells[str(r.id)] = (LEANING_LABELS.get(str(r.leaning), str(r.leaning)), needed, extra)
    return cells


def indicator_frame(table: IndicatorTable, score: ScoreResult | None = None,
                    rules: ScoringRules | None = None, *, decisions: pd.DataFrame | None = None,
                    populations: dict[str, int] | None = None) -> pd.DataFrame:
    """The indicator table with bilingual headers, as handed to the client.

    For each inconclusive indicator the last three shown columns give the verdict its
    estimate leans to, the households a verdict needs at the observed rate (80% power,
    finite-population corrected) and how many more than were surveyed — from
    :func:`~survey_stats.indicators.checks.additional_sample` (pass its result as
    *decisions*, or *populations* to let it be computed here with the FPC).  The cells
    are empty for decided indicators; "无可行样本" when no sample up to the whole group
    would decide at that rate.

    Examples
    --------
    >>> import survey_stats as ss
    >>> d = ss.Design(pd.DataFrame({"status": "unexited", "N_h": 256, "missed_exit": [1] * 2 + [0] * 98}), fpc="N_h")
    >>> t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]), {"phone": d})
    >>> f = indicator_frame(t, populations={"missed_exit_rate": 256})
    >>> f.loc[0, list(DECISION_COLUMNS)].astype(str).tolist()
    ['倾向达标 leans meets', '227', '127']
    """
    points = _scored(rules or ScoringRules.default(), score) if score is not None else {}
    cells = _decision_cells(table, decisions, populations)
    rows = []
    for r in table:
        rows.append({
            "指标 Indicator": r.name_zh, "Indicator (en)": r.name_en, "分母 Denominator": r.denominator,
            "n": r.n, "估计值 Estimate": r.estimate, "标准误（百分点） SE (pp)": r.se * 100, "置信下限 CI low": r.ci_low,
            "置信上限 CI high": r.ci_high, "区间方法 CI method": r.ci_method, "设计效应 deff": r.deff,
            "可靠性 Reliability": RELIABILITY_LABELS.get(r.reliability, r.reliability),
            "参考值 Reference": r.reference,
            "方向 Direction": DIRECTION.get(r.direction, r.direction) if r.reference is not None else "",
            "结论 Verdict": VERDICT_LABELS.get(r.verdict, r.verdict), "得分 Points": points.get(r.id, ""),
            **dict(zip(DECISION_COLUMNS, cells.get(r.id, ("", "", "")))),
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


def rectification_frame(table: IndicatorTable, score: ScoreResult | None = None, **kwargs: Any) -> pd.DataFrame:
    """整改清单: :func:`~survey_stats.report.rectification_plan` (every column filled)."""
    from .rectification import rectification_plan

    return rectification_plan(table, score, **kwargs)


#: Bilingual headers of the side tables (awareness, channels, validation, samples).
HEADERS = {"group": "组别 Group", "channel": "渠道 Channel", "n": "n", "estimate": "估计值 Estimate",
           "se": "标准误（百分点） SE (pp)", "ci_low": "置信下限 CI low", "ci_high": "置信上限 CI high",
           "row": "行号 Row", "submission": "提交编号 Submission", "column": "字段 Column", "problem": "问题 Problem",
           "value": "取值 Value", "table": "重复组 Repeat group", "sample": "样本 Sample", "form": "问卷 Form",
           "result": "结果 Result",
           "method": "抽样方法 Method", "seed": "随机种子 Seed", "frame_fingerprint": "抽样框指纹 Frame SHA-256",
           "stratum": "层 Stratum", "N_h": "层规模 N_h", "n_h": "样本量 n_h", "certainty": "必选户 Certainty",
           "census": "普查层 Census", "reserve": "备选户 Reserve", "level": "级别 Level", "random": "随机抽取户 Random",
           "eligible": "合格样本 Eligible", "complete": "完成访问 Complete", "nonrespondents": "未应答 Nonrespondents",
           "response_rate": "应答率（RR1） Response rate"}


def localise_headers(df: pd.DataFrame, headers: str = "bilingual") -> pd.DataFrame:
    """Headers for readers: ``"bilingual"`` (中文 English) or ``"zh"`` (Chinese only).

    Raw column names are translated with :data:`HEADERS`; in ``"zh"`` mode the English
    half of a bilingual header is dropped, and English-only duplicate columns
    (``Indicator (en)``, ``Item (en)``, ``Report (en)``) are removed.

    Examples
    --------
    >>> df = pd.DataFrame(columns=["指标 Indicator", "Indicator (en)", "se"])
    >>> localise_headers(df).columns.tolist()
    ['指标 Indicator', 'Indicator (en)', '标准误（百分点） SE (pp)']
    >>> localise_headers(df, "zh").columns.tolist()
    ['指标', '标准误（百分点）']
    """
    if headers not in ("bilingual", "zh"):
        from ..errors import DataError

        raise DataError(f"headers={headers!r}: use 'bilingual' or 'zh'.")
    out = df.rename(columns={c: HEADERS.get(c, c) for c in df.columns})
    if headers == "zh":
        out = out.drop(columns=[c for c in out.columns if str(c).endswith("(en)")])
        out = out.rename(columns={c: _zh_part(str(c)) for c in out.columns})
    return out


def _zh_part(header: str) -> str:
    head, _, tail = header.partition(" ")
    return head if tail and any("\u4e00" <= ch <= "\u9fff" for ch in head) else header


_METHOD_ZH = {"srs": "分层简单随机抽样", "systematic": "分层系统抽样", "pps": "按规模大小成比例概率抽样（PPS）"}


def _sample_statement(name: str, m: dict[str, Any]) -> str:
    strata = m.get("strata", [])
    n = sum(int(s.get("n_h", 0)) for s in strata)
    cert = sum(int(s.get("certainty", 0)) for s in strata)
    census = [s["stratum"] for s in strata if s.get("census")]
    cols = "×".join(m.get("strata_columns") or [])
    layout = f"（分层：{cols}，{len(strata)}层）" if cols else "（不分层）"
    method = _METHOD_ZH.get(m.get("method", ""), m.get("method", ""))
    method = method if cols else method.replace("分层", "")
    rate = f"，抽样比{m['fraction']:.0%}" if isinstance(m.get("fraction"), (int, float)) else ""
    text = (f"{method}{layout}{rate}；"
            f"抽样框{m.get('frame_units', '')}户，抽中{n}户，其中必选户{cert}户")
    if census:
        text += f"，普查层{len(census)}个"
    return text + f"；随机种子{m.get('seed', '')}；抽样框指纹{str(m.get('frame_fingerprint', ''))[:16]}…"


def methods_frame(meta: dict[str, Any], table: IndicatorTable, score: ScoreResult | None = None,
                  manifests: dict[str, dict[str, Any]] | None = None) -> pd.DataFrame:
    """How the numbers were produced, one plain statement per row (no code, no JSON)."""
    import datetime as _dt

    ci = "Korn-Graubard（beta）" if table.ci_method == "beta" else table.ci_method
    rows = [("报告 Report", meta.get("title", "")), ("Report (en)", meta.get("title_en", "")),
            ("置信水平 Confidence level", f"{table.level:.0%}"),
            ("比例区间 Proportion CI", f"单一比率：{ci}区间；合成指标：线性组合的t区间（Satterthwaite自由度）"),
            ("方差估计 Variance", "分层抽样泰勒线性化方差，含有限总体校正；必选户和普查层不计抽样误差"),
            ("加权 Weighting", "权数 = 层抽样框户数 ÷ 层有效应答户数（层内无应答调整）"),
            ("结论规则 Verdict rule", "“≤参考值”指标：区间上限≤参考值为达标，下限>参考值为未达标，否则无法判定；“≥”反之"),
            ("可靠性 Reliability", "美国国家卫生统计中心《比例数据发布标准》（2017）：n或有效样本量<30、区间过宽为不可靠"),
            ("合成指标样本量 Composite n", "各样本中参与计算的不同受访户数之和（行政记录不计）")]
    capped = [r.name_zh for r in table if "n_eff capped" in r.ci_method]
    if capped:
        rows.append(("有效样本量上限 n_eff cap",
                     f"{'、'.join(capped)}：设计方差所对应的有效样本量超出上限（如事件全部落在必选户中），"
                     "区间按上限计算（上限见区间方法列：SRSWOR为同样本量不放回简单随机抽样，n为样本量）；标准误仍为设计标准误"))
    if score is not None:
        rows.append(("评分不确定性 Score uncertainty",
                     f"从各基础比率的抽样分布模拟{score.n_sim}次（随机种子{score.seed}），取{score.level:.0%}区间"))
    rows += [("随机种子 Seed", str(meta.get("seed", ""))), ("软件 Software", f"survey_stats {meta.get('version', '')}"),
             ("日期 Date", _dt.date.today().isoformat())]
    for name, m in (manifests or {}).items():
        rows.append((f"样本 Sample: {name}", _sample_statement(name, m)))
    for name, text in meta.get("methods", {}).items():
        rows.append((name, text))
    return pd.DataFrame(rows, columns=["项目 Item", "内容 Value"])
