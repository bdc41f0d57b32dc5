"""The written evaluation report (评估报告) and county sub-reports (分报告) as Word files.

Built with python-docx.  The chapters follow seed 000 (评估背景与目的、评估原则、评估内容、
评估方法、评估结果、绩效评分、存在问题、整改建议与整改方案、典型案例、附件).  Every number
in the text is formatted from the result objects (:class:`~survey_stats.IndicatorTable`,
:class:`~survey_stats.ScoreResult`, the rectification plan, the fieldwork summary);
nothing is typed in.  Chinese text uses an East-Asian font (``w:eastAsia``) in body
and tables; text from data has ID-card and phone numbers masked.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ..errors import DataError
from ..indicators import IndicatorTable, ScoreResult
from ..indicators.verdicts import RELIABILITY_RULES
from ._text import COLUMNS_EN as _COLUMNS_EN
from ._text import cell_text as _text  # masks ID-card and phone numbers; "" for missing

__all__ = ["CHAPTERS", "fieldwork_summary", "format_ci", "format_pct", "response_rates", "write_county_report_docx",
           "write_report_docx"]

#: Chapter titles of the report, in order.
CHAPTERS = {
    "zh": ["一、评估背景与目的", "二、评估原则", "三、评估内容", "四、评估方法", "五、评估结果", "六、绩效评分",
           "七、存在问题", "八、整改建议与整改方案", "九、典型案例", "十、附件"],
    "en": ["1. Background and purpose", "2. Principles", "3. Scope", "4. Methods", "5. Results",
           "6. Performance score", "7. Problems found", "8. Recommendations and rectification plan",
           "9. Case studies", "10. Annexes"],
}
_VERDICT = {"zh": {"meets": "达标", "fails": "未达标", "inconclusive": "无法判定", "no reference": "无参考值"},
            "en": {"meets": "meets", "fails": "fails", "inconclusive": "inconclusive", "no reference": "no reference"}}
_RELIAB = {"zh": {"reliable": "可靠", "review": "需复核", "unreliable": "不可靠"},
           "en": {"reliable": "reliable", "review": "review", "unreliable": "unreliable"}}
#: The reliability rules of :data:`survey_stats.indicators.verdicts.RELIABILITY_RULES`, in Chinese.
_RELIABILITY_ZH = ("样本量n < 30为不可靠", "有效样本量n_eff < 30为不可靠", "Korn-Graubard置信区间宽度≥30个百分点为不可靠",
                   "区间宽度超过5个百分点且相对宽度（宽度/估计值）超过130%为不可靠", "区间宽度不超过5个百分点为可靠",
                   "其余为可靠；自由度小于8、估计值为0或1、或补数的相对宽度超过130%时标为需复核；"
                   "合成指标按区间宽度判断（≤5个百分点可靠，≥30个百分点不可靠，其间需复核）")
#: The grades of seed 001 in English.
_GRADE_EN = {"优秀": "excellent", "良好": "good", "中等": "fair", "差": "poor"}
_FONT_EA = "宋体"
_FONT_HEAD_EA = "黑体"


def format_pct(v: float, digits: int = 1) -> str:
    """A proportion as a percentage string, as printed in the report.

    Examples
    --------
    >>> format_pct(0.05943), format_pct(float("nan"))
    ('5.9%', '—')
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v * 100:.{digits}f}%"


def format_ci(low: float, high: float, digits: int = 1) -> str:
    """A confidence interval as printed in the report: ``1.5%–15.4%``.

    Examples
    --------
    >>> format_ci(0.01454, 0.1535)
    '1.5%–15.4%'
    """
    return f"{format_pct(low, digits)}–{format_pct(high, digits)}"


# ------------------------------------------------------------------------------ docx helpers
def _east_asian(run: Any, font: str = _FONT_EA) -> None:
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)


def _style_fonts(doc: Any) -> None:
    names = {s.name for s in doc.styles}
    for name, ea, size in (("Normal", _FONT_EA, 10.5), ("Heading 1", _FONT_HEAD_EA, 16), ("Heading 2", _FONT_HEAD_EA, 13),
                           ("Heading 3", _FONT_HEAD_EA, 11.5), ("Title", _FONT_HEAD_EA, 20)):
        if name not in names:
            continue
        st = doc.styles[name]
        st.font.name = "Times New Roman"
        st.font.size = Pt(size)
        if name != "Normal":
            st.font.color.rgb = RGBColor(0x1A, 0x23, 0x7E)
        st.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), ea)


def _para(doc: Any, text: str, *, bold: bool = False, size: float | None = None, align: Any = None,
          masked: bool = True) -> Any:
    """A paragraph; its text is masked for personal data unless *masked* is False (text the
    package composed from fixed labels and checked digests, see :func:`_digest`)."""
    p = doc.add_paragraph()
    run = p.add_run(_text(text) if masked else text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    _east_asian(run)
    if align is not None:
        p.alignment = align
    return p


def _heading(doc: Any, text: str, level: int) -> Any:
    if f"Heading {level}" in {s.name for s in doc.styles}:
        h = doc.add_heading(level=level)
    else:  # a template without heading styles: bold paragraph
        h = doc.add_paragraph()
    run = h.add_run(text)
    run.bold = True
    _east_asian(run, _FONT_HEAD_EA)
    return h


def _repeat_header(row: Any) -> None:
    """Mark a table's first row to repeat at the top of every page the table runs onto."""
    trpr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    trpr.append(flag)


def _table(doc: Any, header: Sequence[str], rows: Sequence[Sequence[Any]], *, widths: Sequence[float] | None = None,
           size: float = 8.5) -> Any:
    t = doc.add_table(rows=1, cols=len(header))
    if "Table Grid" in {s.name for s in doc.styles}:
        t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    _repeat_header(t.rows[0])
    for cell, h in zip(t.rows[0].cells, header):
        run = cell.paragraphs[0].add_run(str(h))
        run.bold = True
        run.font.size = Pt(size)
        _east_asian(run, _FONT_HEAD_EA)
    for row in rows:
        cells = t.add_row().cells
        for cell, v in zip(cells, row):
            run = cell.paragraphs[0].add_run(_text(v))
            run.font.size = Pt(size)
            _east_asian(run)
    if widths:
        t.autofit = False
        for col, w in zip(t.columns, widths):
            col.width = Cm(w)
        for row in t.rows:
            for cell, w in zip(row.cells, widths):
                cell.width = Cm(w)
    doc.add_paragraph().paragraph_format.space_after = Pt(2)
    return t


# ------------------------------------------------------------------------------ inputs
def fieldwork_summary(samples: Mapping[str, Any], responses: Mapping[str, pd.DataFrame], *,
                      set_aside: Mapping[str, pd.DataFrame] | None = None,
                      frames: Mapping[str, Any] | None = None,
                      labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Sample sizes and response rates per group, for the methods chapter.

    Parameters
    ----------
    samples : mapping name → Sample
    responses : mapping name → DataFrame
        The usable (coded) responses of each sample, one row per household.
    set_aside : mapping name → DataFrame, optional
        Submissions set aside by validation.
    frames : mapping name → Frame, optional
        For the frame size (default: the manifest's ``frame_units``).
    labels : mapping name → display name, optional

    Returns
    -------
    DataFrame
        sample, label, frame_units, sampled, certainty, responded, set_aside,
        response_rate (= responded / sampled: usable interviews over sampled units,
        AAPOR RR1 with every sampled unit taken as eligible).

    Examples
    --------
    >>> import survey_stats as ss
    >>> frame = ss.Frame(pd.DataFrame({"household_id": [f"H{i}" for i in range(10)]}), id="household_id")
    >>> s = ss.select(frame, n=4, seed=1)
    >>> fieldwork_summary({"x": s}, {"x": s.units[["household_id"]].head(3)})[["sampled", "responded", "response_rate"]]
       sampled  responded  response_rate
    0        4          3           0.75
    """
    labels = dict(labels or {})
    rows = []
    for name, s in samples.items():
        m = s.manifest
        sampled = int(len(s))
        got = responses.get(name)
        responded = 0 if got is None else int(len(got))
        aside = 0 if not set_aside or name not in set_aside else int(len(set_aside[name]))
        certainty = int(sum(int(st.get("certainty", 0)) for st in m.get("strata", [])))
        units = len(frames[name]) if frames and name in frames and hasattr(frames[name], "__len__") else m.get("frame_units")
        rows.append({"sample": name, "label": labels.get(name, name), "frame_units": int(units or 0),
                     "sampled": sampled, "certainty": certainty, "responded": responded, "set_aside": aside,
                     "response_rate": responded / sampled if sampled else math.nan})
    return pd.DataFrame(rows)


def response_rates(units: pd.DataFrame, responded: Any, *, sample: str, group: str | None = None) -> pd.DataFrame:
    """AAPOR RR1-style response rates per stratum, per group and in total.

    Every sampled unit is taken as eligible (the registry defines the population), so
    RR1 = I / (I + P + R + NC + O) reduces to usable interviews over sampled units (AAPOR,
    *Standard Definitions*, 2023).

    Parameters
    ----------
    units : DataFrame
        The sampled units, with a ``stratum`` column.
    responded : sequence of bool
        Whether each unit gave a usable response.
    sample : str
        The sample's name (first column).
    group : str, optional
        A column of *units* (e.g. status) with a row per value.

    Returns
    -------
    DataFrame
        sample, level (``stratum``, *group* or ``total``), group, eligible, complete,
        nonrespondents, response_rate.

    Examples
    --------
    >>> u = pd.DataFrame({"stratum": ["a", "a", "b", "b"], "status": ["x", "y", "x", "x"]})
    >>> response_rates(u, [True, False, True, True], sample="s", group="status")[["level", "group", "response_rate"]]
         level  group  response_rate
    0  stratum      a            0.5
    1  stratum      b            1.0
    2   status      x            1.0
    3   status      y            0.0
    4    total  (all)            0.75
    """
    u = units.assign(_r=np.asarray(responded, dtype=bool))
    rows = []

    def add(level: str, label: Any, g: pd.DataFrame) -> None:
        n, r = len(g), int(g["_r"].sum())
        rows.append({"sample": sample, "level": level, "group": str(label), "eligible": n, "complete": r,
                     "nonrespondents": n - r, "response_rate": r / n if n else math.nan})

    for label, g in u.groupby(u["stratum"].astype(str), sort=True):
        add("stratum", label, g)
    if group and group in u.columns:
        for label, g in u.groupby(u[group].astype(str), sort=True):
            add(group, label, g)
    add("total", "(all)", u)
    return pd.DataFrame(rows)


def _digest(value: Any) -> str:
    """A SHA-256 as written (64 hexadecimal characters: a checksum, not personal data, so never
    masked — a digit run in it can look like a phone number); anything else masked as usual."""
    text = "" if value is None else str(value)
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return text
    return _text(text) or "—"


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ------------------------------------------------------------------------------ chapters
_TEXT = {
    "zh": {
        "background": ("{client}帮扶建档困难职工{households}户。本次评估由第三方评估机构按照《安徽省职工困难帮扶资金项目管理办法》"
                       "《安徽省工会困难职工建档帮扶实施细则》及《安徽省困难职工帮扶民生工程绩效评价办法（试行）》开展，"
                       "全面掌握困难职工帮扶工作的实施效果，客观评价政策落实、资金使用、帮扶措施的科学性与有效性，发现存在问题并提出改进建议。"),
        "purposes": ["检验帮扶政策与措施的实际成效；", "分析帮扶过程中存在的短板与不足；",
                     "为优化帮扶机制、提升精准化水平提供数据支撑；", "增强帮扶工作的透明度和公信力。"],
        "principles": ["坚持实事求是。注重困难帮扶质量，坚决防止虚假脱困，确保评估工作反映客观实际、经得起检验。",
                       "全面覆盖。涵盖帮扶对象识别、政策执行、资金管理、效果反馈等全流程。",
                       "坚持规范操作。严格执行标准、规范工作流程，做到全程透明；所有数字由统计程序从调查数据计算，可复核、可重现。"],
        "content": ["（一）帮扶对象识别精准性：认定标准、主动发现与摸底排查机制、审核流程（漏评、错评）、动态管理（退出、渐退、新增审核）。",
                    "（二）帮扶措施执行情况：政策落实与因户施策、帮扶资金使用合规性、帮扶方式多样性、动态调整机制。"],
        "content_ind": "本次评估计算的指标共{k}项：{names}。绩效评分按{items}个三级指标、满分100分计。",
    },
    "en": {
        "background": ("{client} supports {households} registered poor-worker households. This third-party evaluation "
                       "follows the provincial rules on aid funds, registration and performance evaluation; it assesses "
                       "how policies, funds and aid measures were implemented and what they achieved, finds problems "
                       "and proposes improvements."),
        "purposes": ["test the effect of aid policies and measures;", "analyse weaknesses in the aid process;",
                     "give evidence for improving targeting;", "make the aid work more transparent and credible."],
        "principles": ["Truthfulness: the evaluation reflects the facts and can be checked.",
                       "Full coverage: identification, implementation, funds and feedback.",
                       "Standard procedures: every number is computed from the survey data by a program, "
                       "reproducibly."],
        "content": ["(1) Accuracy of identifying aid recipients.", "(2) Implementation of aid measures."],
        "content_ind": "{k} indicators were computed: {names}. The performance score has {items} items, 100 points.",
    },
}


def _rates_table(doc: Any, rates: pd.DataFrame, zh: bool, labels: Mapping[str, str]) -> None:
    """The AAPOR RR1 table per sample: its strata, its groups and its total."""
    words = {"stratum": "层", "total": "合计"} if zh else {"stratum": "stratum", "total": "total"}
    header = (["样本", "层级", "层/组", "抽中户数", "有效应答", "未应答", "应答率"] if zh else
              ["Sample", "Level", "Stratum / group", "Sampled", "Complete", "Nonresp.", "Response rate"])
    rows = [[labels.get(r.sample, r.sample), words.get(r.level, f"分组（{r.level}）" if zh else f"group ({r.level})"),
             "全部" if zh and r.group == "(all)" else r.group, r.eligible, r.complete, r.nonrespondents,
             format_pct(r.response_rate)] for r in rates.itertuples(index=False)]
    _table(doc, header, rows, widths=[3.4, 2.6, 3.6, 1.7, 1.7, 1.7, 1.7])
    _para(doc, ("应答率为有效应答户数除以抽中户数（AAPOR RR1，抽中户均视为合格），按层、按分组和合计列出。" if zh else
                "Response rate = usable responses / sampled units (AAPOR RR1, every sampled unit eligible), by "
                "stratum, by group and in total."), size=9)


def _methods(doc: Any, lang: str, table: IndicatorTable, score: ScoreResult | None, fieldwork: pd.DataFrame | None,
             meta: Mapping[str, Any], rates: pd.DataFrame | None = None) -> None:
    zh = lang == "zh"
    lvl = f"{table.level:.0%}"
    _heading(doc, "（一）抽样框与样本" if zh else "4.1 Frames and samples", 2)
    if fieldwork is not None and len(fieldwork):
        header = (["样本", "抽样框户数", "抽中户数", "必选户", "有效应答", "核验剔除", "应答率"] if zh else
                  ["Sample", "Frame units", "Sampled", "Certainty", "Responded", "Set aside", "Response rate"])
        rows = [[r.label, r.frame_units, r.sampled, r.certainty, r.responded, r.set_aside, format_pct(r.response_rate)]
                for r in fieldwork.itertuples(index=False)]
        _table(doc, header, rows, widths=[4.2, 2.2, 2.0, 1.8, 2.0, 2.0, 2.0])
        tot_s, tot_r = int(fieldwork["sampled"].sum()), int(fieldwork["responded"].sum())
        _para(doc, (f"合计抽中{tot_s}户，有效应答{tot_r}户，总应答率{format_pct(tot_r / tot_s if tot_s else math.nan)}。"
                    "应答率为有效应答户数除以抽中户数（AAPOR RR1，抽中户均视为合格）。必选户为档案资料不齐全或不符合逻辑、"
                    "按评估方案全部纳入入户调查的家庭，其抽中概率为1，不产生抽样误差。") if zh else
              (f"{tot_s} households sampled, {tot_r} usable responses, response rate "
               f"{format_pct(tot_r / tot_s if tot_s else math.nan)} (usable responses / sampled units, AAPOR RR1 with "
               "all sampled units eligible). Certainty units (flagged files) are all visited and carry no sampling error."))
        for text in _sample_notes(fieldwork, zh, meta):
            _para(doc, text)
    if rates is not None and len(rates):
        _para(doc, "各层、各组应答率：" if zh else "Response rates by stratum and group:", bold=True)
        labels = {} if fieldwork is None else dict(zip(fieldwork["sample"], fieldwork["label"]))
        _rates_table(doc, rates, zh, labels)
    _heading(doc, "（二）加权与方差估计" if zh else "4.2 Weighting and variance", 2)
    _para(doc, ("每户的抽样权数为所在层的抽样框户数除以该层有效应答户数（层内无应答调整，假定层内随机缺失）；"
                "方差按分层抽样的泰勒线性化公式计算并作有限总体校正，普查层和必选户不计抽样误差。") if zh else
          ("Each household's weight is its stratum's frame size over the stratum's respondents (nonresponse adjusted "
           "within strata); variances by Taylor linearisation for stratified sampling with finite population "
           "correction; census strata and certainty units carry no variance."))
    _heading(doc, "（三）置信区间、结论与可靠性规则" if zh else "4.3 Intervals, verdicts and reliability", 2)
    ci = ("Korn-Graubard（beta）" if zh else "Korn-Graubard (beta)") if table.ci_method == "beta" else table.ci_method
    _para(doc, (f"比例指标报告{lvl}置信区间，区间方法为{ci}；合成指标（满意度指数、动态管理精准率等）为各组成部分的线性组合，"
                "方差含各部分间的协方差，区间为t分布区间（Satterthwaite自由度）。") if zh else
          (f"Rates are reported with {lvl} confidence intervals ({ci}); composites are linear combinations of their "
           "parts with covariances, with t intervals (Satterthwaite df)."))
    _para(doc, ("结论规则：对“≤参考值”的指标，置信区间上限不超过参考值为达标，下限超过参考值为未达标，区间包含参考值为无法判定；"
                "“≥参考值”的指标反之。无法判定表示样本不足以区分，需补充核实，而不是达标或未达标。") if zh else
          ("Verdict rule: for a '≤ reference' indicator, meets when the CI's upper end is at most the reference, fails "
           "when its lower end is above it, inconclusive when the CI contains it; mirrored for '≥'."))
    _para(doc, ("可靠性规则（美国国家卫生统计中心《比例数据发布标准》，2017）：" + "；".join(_RELIABILITY_ZH) + "。")
          if zh else "Reliability rule (NCHS Data Presentation Standards for Proportions, 2017): "
          + "; ".join(RELIABILITY_RULES) + ".")
    if score is not None:
        _para(doc, (f"绩效评分的区间：从各基础比率估计值的抽样分布中模拟{score.n_sim}次（随机种子{score.seed}），"
                    f"计算总分的{score.level:.0%}区间和各等级的概率。") if zh else
              (f"Score interval: {score.n_sim} draws from the sampling distribution of the base rates (seed "
               f"{score.seed}), giving the total's {score.level:.0%} interval and each grade's probability."))
    bits = []
    if meta.get("seed") is not None:
        bits.append(f"抽样随机种子{meta['seed']}" if zh else f"sampling seed {meta['seed']}")
    if meta.get("version"):
        bits.append(f"计算软件survey_stats {meta['version']}" if zh else f"software survey_stats {meta['version']}")
    if bits:
        _para(doc, ("；".join(bits) + "。") if zh else ("; ".join(bits).capitalize() + "."))


def _sample_notes(fieldwork: pd.DataFrame, zh: bool, meta: Mapping[str, Any]) -> list[str]:
    """One sentence per special sample of the evaluation (home visits with flagged files,
    telephone census, spot check, social survey), numbers from the fieldwork summary."""
    out = []
    lost = meta.get("unverified")
    for r in fieldwork.itertuples(index=False):
        name, rate = getattr(r, "sample", ""), format_pct(r.response_rate)
        if name == "registered" and r.certainty:
            within = meta.get("flagged") == "within"
            extra = "计入30%样本" if within else "在随机样本之外"
            miss = f"，其中{int(lost)}户未完成核查（见整改方案），其权数不转移给随机抽取户" if lost else ""
            miss_en = (f"; {int(lost)} of them were not verified (see the plan) and their weight is not moved to "
                       "randomly drawn households") if lost else ""
            out.append(f"入户核查：随机抽取非问题档案户{r.sampled - r.certainty}户，档案审查发现的问题档案户"
                       f"{r.certainty}户{extra}全部入户核查{miss}；有效应答{r.responded}户（应答率{rate}）。" if zh else
                       f"Home visits: {r.sampled - r.certainty} non-flagged households drawn at random and all "
                       f"{r.certainty} flagged files {'within' if within else 'in addition to'} that sample{miss_en}; "
                       f"{r.responded} usable responses ({rate}).")
        elif name == "phone":
            out.append(f"未脱困户电话普查：对全部{r.sampled}户未脱困户（抽样框{r.frame_units}户）电话调查，有效应答"
                       f"{r.responded}户（应答率{rate}），无应答在层内调整；漏退率及未脱困户部分的结对帮扶、满意度据此估计。"
                       if zh else
                       f"Telephone census of unexited households: all {r.sampled} (frame {r.frame_units}) called, "
                       f"{r.responded} usable responses ({rate}), nonresponse adjusted within strata; the missed-exit "
                       "rate and the unexited parts of pairing and satisfaction come from it.")
        elif name == "spot_check":
            out.append(f"档案抽检：随机抽取{r.sampled}份档案（抽样框{r.frame_units}份），完成核对{r.responded}份，"
                       "估计档案完整率和纸质与电子档案一致率。" if zh else
                       f"File spot check: {r.sampled} of {r.frame_units} files drawn at random, {r.responded} checked, "
                       "for file completeness and paper–electronic consistency.")
        elif name == "social":
            out.append(f"社会满意度调查：抽取{r.sampled}人，有效应答{r.responded}人（应答率{rate}），"
                       "用于绩效评分第19项社会满意度。" if zh else
                       f"Social satisfaction survey: {r.sampled} people sampled, {r.responded} usable responses "
                       f"({rate}), for item 19 of the score.")
    return out


def _indicator_sentence(r: Any, lang: str, level: float) -> str:
    lvl = f"{level:.0%}"
    v = _VERDICT[lang].get(r.verdict, r.verdict)
    if lang == "zh":
        ref = "" if r.reference is None else f"，参考值{'≤' if r.direction == 'le' else '≥'}{format_pct(r.reference)}，结论：{v}"
        return (f"{r.name_zh}为{format_pct(r.estimate)}（{lvl}置信区间{format_ci(r.ci_low, r.ci_high)}，n = {r.n}）"
                f"{ref}；可靠性：{_RELIAB[lang].get(r.reliability, r.reliability)}。")
    ref = "" if r.reference is None else f"; reference {'≤' if r.direction == 'le' else '≥'}{format_pct(r.reference)}: {v}"
    return (f"{r.name_en}: {format_pct(r.estimate)} ({lvl} CI {format_ci(r.ci_low, r.ci_high)}, n = {r.n}){ref}; "
            f"reliability: {_RELIAB[lang].get(r.reliability, r.reliability)}.")


def _additional(r: Any, decisions: pd.DataFrame, zh: bool) -> str:
    """Households to add before an inconclusive indicator can be decided (from additional_sample)."""
    if r.verdict != "inconclusive" or r.id not in set(decisions["id"]):
        return "—"
    d = decisions.set_index("id").loc[r.id]
    if pd.isna(d["additional"]):
        return "抽样无法判定" if zh else "no sample decides"
    lean = {"meets": "倾向达标", "fails": "倾向未达标"} if zh else {"meets": "leans meets", "fails": "leans fails"}
    return (f"+{int(d['additional'])}户（共{int(d['n_needed'])}，{lean.get(d['leaning'], d['leaning'])}）" if zh else
            f"+{int(d['additional'])} (n = {int(d['n_needed'])}, {lean.get(d['leaning'], d['leaning'])})")


def _indicator_table(doc: Any, table: IndicatorTable, lang: str, decisions: pd.DataFrame | None = None) -> None:
    zh = lang == "zh"
    header = (["指标", "n", "估计值", f"{table.level:.0%}置信区间", "标准误（百分点）", "参考值", "结论", "可靠性"] if zh else
              ["Indicator", "n", "Estimate", f"{table.level:.0%} CI", "SE (pp)", "Reference", "Verdict", "Reliability"])
    rows = []
    for r in table:
        ref = "—" if r.reference is None else f"{'≤' if r.direction == 'le' else '≥'}{format_pct(r.reference)}"
        rows.append([r.name_zh if zh else r.name_en, r.n, format_pct(r.estimate), format_ci(r.ci_low, r.ci_high),
                     f"{r.se * 100:.2f}", ref, _VERDICT[lang].get(r.verdict, r.verdict),
                     _RELIAB[lang].get(r.reliability, r.reliability)])
    if decisions is None:
        _table(doc, header, rows, widths=[3.4, 1.2, 1.7, 2.9, 1.9, 1.7, 1.7, 1.6] if zh else
               [3.6, 1.1, 1.6, 2.6, 1.4, 1.7, 2.2, 2.0])
        return
    header.append("判定所需追加样本" if zh else "Extra sample")
    if not zh:  # short English headers: long words would break inside narrow columns
        header[2], header[5] = "Est.", "Ref."
    for row, r in zip(rows, table):
        row.append(_additional(r, decisions, zh))
    _table(doc, header, rows, widths=[2.9, 1.0, 1.5, 2.5, 1.5, 1.5, 1.5, 1.4, 2.6] if zh else
           [2.6, 0.9, 1.3, 2.5, 1.2, 1.5, 2.0, 1.9, 2.3])
    _para(doc, ("判定所需追加样本：对无法判定的指标，按当前估计值、80%把握度和设计效应，再调查多少户可得出达标或未达标的结论；"
                "“抽样无法判定”表示估计值与参考值过于接近，只有逐户核实才能判定。" if zh else
                "Extra sample: for an inconclusive indicator, the further households that would decide it with 80% "
                "power at the current estimate and design effect; 'no sample decides' means only a full check "
                "can."), size=9)


def _figures(doc: Any, figures: Mapping[str, Path] | None, lang: str) -> None:
    captions = {"figure_forest": ("图1 各指标估计值与置信区间", "Figure 1. Indicators with confidence intervals"),
                "figure_satisfaction": ("图2 各类家庭满意度", "Figure 2. Satisfaction by household group"),
                "figure_channels": ("图3 政策宣传渠道", "Figure 3. Publicity channels"),
                "figure_score": ("图4 绩效评价总分与等级", "Figure 4. Score and grades")}
    for key, (zh, en) in captions.items():
        if figures and key in figures and Path(figures[key]).exists():
            doc.add_picture(str(figures[key]), width=Cm(14.5))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _para(doc, zh if lang == "zh" else en, size=9, align=WD_ALIGN_PARAGRAPH.CENTER)


def _score_chapter(doc: Any, score: ScoreResult, lang: str) -> None:
    zh = lang == "zh"
    it = score.items
    header = (["序号", "一级指标", "二级指标", "三级指标", "分值", "得分", f"{score.level:.0%}区间"] if zh else
              ["No", "Level 1", "Level 2", "Item", "Points", "Score", f"{score.level:.0%} interval"])
    rows = [[r.no, r.level1, r.level2, r.name_zh if zh else r.name_en, f"{r.points:g}", f"{r.score:.2f}",
             f"{r.score_low:.2f}–{r.score_high:.2f}"] for r in it.itertuples(index=False)]
    _table(doc, header, rows, widths=[1.1, 1.6, 2.0, 3.6, 1.3, 1.5, 2.6])
    grade = (lambda g: g) if zh else (lambda g: _GRADE_EN.get(g, g))
    probs = "，".join(f"{g}{p:.2f}" for g, p in score.grade_probabilities.items()) if zh else \
        ", ".join(f"{grade(g)} {p:.2f}" for g, p in score.grade_probabilities.items())
    _para(doc, (f"绩效评价总分{score.total:.2f}分（{score.level:.0%}区间{score.total_low:.2f}–{score.total_high:.2f}分），"
                f"等级为{score.grade}。考虑抽样误差，各等级的概率为：{probs}。") if zh else
          (f"Total score {score.total:.2f} ({score.level:.0%} interval {score.total_low:.2f}–{score.total_high:.2f}), "
           f"grade {grade(score.grade)}. Probability of each grade given sampling error: {probs}."), bold=True)
    lost = it[it["points"] - it["score"] >= 0.005]
    if len(lost):
        _para(doc, "扣分情况：" if zh else "Deductions:", bold=True)
        for r in lost.itertuples(index=False):
            why = f"（{r.detail}）" if r.detail else ""
            _para(doc, (f"第{r.no}项“{r.name_zh}”扣{r.points - r.score:.2f}分{why}。" if zh else
                        f"Item {r.no} '{r.name_en}': −{r.points - r.score:.2f}{' (' + r.detail + ')' if r.detail else ''}."))


def _problems_chapter(doc: Any, plan: pd.DataFrame | None, lang: str) -> None:
    zh = lang == "zh"
    if plan is None or not len(plan):
        _para(doc, "未发现需整改的问题。" if zh else "No problems requiring rectification were found.")
        return
    for cat, g in plan.groupby("类别", sort=False):
        _para(doc, f"{cat}（{len(g)}项）" if zh else f"{cat} ({len(g)})", bold=True)
        for r in g.itertuples(index=False):
            _para(doc, f"{r.序号}. {r.问题}。{r.依据}" if zh else f"{r.序号}. {r.问题}. {r.依据}")


def _plan_chapter(doc: Any, plan: pd.DataFrame | None, lang: str) -> None:
    zh = lang == "zh"
    if plan is None or not len(plan):
        _para(doc, "无。" if zh else "None.")
        return
    _para(doc, (f"针对上述{len(plan)}项问题，制定整改方案如下，明确整改措施、整改要求、整改时限和责任单位"
                "（可编辑的问题清单及整改方案另附Excel文件）。") if zh else
          (f"Rectification plan for the {len(plan)} problems (an editable workbook accompanies this report)."))
    header = ["序号", "问题", "整改措施", "整改要求", "整改时限", "责任单位"]
    _table(doc, header if zh else [_COLUMNS_EN[h] for h in header], plan[header].values.tolist(),
           widths=[1.0, 4.0, 4.0, 3.6, 1.9, 2.0], size=8)


def _cases_chapter(doc: Any, cases: Sequence[Mapping[str, str]] | None, lang: str) -> None:
    zh = lang == "zh"
    if not cases:
        _heading(doc, "（一）创新做法" if zh else "9.1 Innovative practice", 2)
        _heading(doc, "（二）典型问题" if zh else "9.2 Typical problems", 2)
        return
    for i, c in enumerate(cases, start=1):
        title = str(c.get("title", "")).strip()
        if not title:
            raise DataError(f"case note {i} has no title.")
        _heading(doc, f"案例{i}：{_text(title)}" if zh else f"Case {i}: {_text(title)}", 2)
        for part in str(c.get("text", "")).split("\n"):
            if part.strip():
                _para(doc, part.strip())


def _annex(doc: Any, lang: str, instruments: Sequence[Mapping[str, Any]] | None,
           manifests: Mapping[str, Mapping[str, Any]] | None, hashes: Mapping[str, str]) -> None:
    zh = lang == "zh"
    _heading(doc, "附件1 调查问卷" if zh else "Annex 1. Questionnaires", 2)
    if instruments:
        _table(doc, ["问卷", "表单编号", "版本", "题目数"] if zh else ["Questionnaire", "Form id", "Version", "Questions"],
               [[i.get("title", ""), i.get("form_id", ""), i.get("version", ""), i.get("questions", "")]
                for i in instruments])
    else:
        _para(doc, "未提供问卷信息。" if zh else "No questionnaire information was supplied.")
    _heading(doc, "附件2 抽样清单与校验值" if zh else "Annex 2. Sample manifests and hashes", 2)
    if not manifests:
        _para(doc, "未提供抽样清单。" if zh else "No sample manifests were supplied.")
        return
    rows = [[name, m.get("method", ""), m.get("seed", ""), m.get("sample_size", ""), m.get("frame_units", "")]
            for name, m in manifests.items()]
    _table(doc, ["样本", "抽样方法", "随机种子", "样本量", "抽样框户数"] if zh else
           ["Sample", "Method", "Seed", "n", "Frame units"], rows, widths=[4.0, 2.6, 2.6, 2.2, 2.6])
    for name, m in manifests.items():
        _para(doc, f"{name}：" if zh else f"{name}:", bold=True, size=9)
        _para(doc, f"{'抽样框指纹' if zh else 'Frame fingerprint'} (SHA-256)：{_digest(m.get('frame_fingerprint'))}",
              size=8, masked=False)
        _para(doc, f"{'清单文件' if zh else 'Manifest file'} SHA-256：{_digest(hashes.get(name))}", size=8, masked=False)
    _para(doc, ("抽样框指纹为抽样框内容的SHA-256摘要；用同一抽样框和随机种子可重现同一样本。清单文件的SHA-256可用于核对"
                "清单未被改动（如 sha256sum manifest.json）。" if zh else
                "The frame fingerprint is the SHA-256 of the frame; the same frame and seed reproduce the sample. "
                "The manifest file's SHA-256 shows it was not changed (e.g. sha256sum manifest.json)."), size=9)


def _title_page(doc: Any, meta: Mapping[str, Any], lang: str, default: str) -> None:
    title = meta.get("title" if lang == "zh" else "title_en") or meta.get("title") or default
    p = _para(doc, str(title), bold=True, size=20, align=WD_ALIGN_PARAGRAPH.CENTER)
    p.paragraph_format.space_before = Pt(120)
    _para(doc, "评估报告" if lang == "zh" else "Evaluation report", bold=True, size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    for key, zh, en in (("client", "委托方", "Client"), ("evaluator", "评估机构", "Evaluator"),
                        ("report_date", "报告日期", "Date")):
        if meta.get(key):
            _para(doc, f"{zh if lang == 'zh' else en}：{meta[key]}", size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    doc.add_page_break()


def _new_document(template: str | Path | None = None) -> Any:
    """A blank document, or the institute's own template (letterhead, headers, styles) with its
    body cleared; styles the template lacks fall back to python-docx's defaults."""
    if template is None:
        doc = Document()
        for s in doc.sections:
            s.left_margin = s.right_margin = Cm(2.2)
    else:
        if not Path(template).is_file():
            raise DataError(f"report template {str(template)!r} does not exist.")
        doc = Document(str(template))
        body = doc.element.body
        for child in list(body):
            if child.tag != qn("w:sectPr"):
                body.remove(child)
    _style_fonts(doc)
    return doc


def write_report_docx(
    path: str | Path,
    table: IndicatorTable,
    score: ScoreResult | None = None,
    *,
    meta: Mapping[str, Any] | None = None,
    problems: pd.DataFrame | None = None,
    fieldwork: pd.DataFrame | None = None,
    figures: Mapping[str, Path] | None = None,
    county: pd.DataFrame | None = None,
    cases: Sequence[Mapping[str, str]] | None = None,
    instruments: Sequence[Mapping[str, Any]] | None = None,
    manifests: Mapping[str, Mapping[str, Any]] | None = None,
    manifest_files: Mapping[str, Path] | None = None,
    manifest_sha256: Mapping[str, str] | None = None,
    response_rates: pd.DataFrame | None = None,
    decisions: pd.DataFrame | None = None,
    language: str = "zh",
    template: str | Path | None = None,
) -> Path:
    """Write the evaluation report (总报告) as a .docx file.

    Parameters
    ----------
    path : path of the .docx to write
    table : IndicatorTable
    score : ScoreResult, optional
        Without it the report is indicator-only and says so in 绩效评分.
    meta : mapping, optional
        ``title``, ``title_en``, ``client`` (委托方), ``evaluator``, ``report_date``,
        ``households`` (registered households), ``seed``, ``version``; ``flagged`` (``"in_addition"``
        or ``"within"``) and ``unverified`` (flagged households not verified) for the methods.
    problems : DataFrame, optional
        The plan from :func:`~survey_stats.report.rectification_plan` (存在问题 and 整改方案).
    fieldwork : DataFrame, optional
        :func:`fieldwork_summary` (sample sizes and response rates per group).
    figures : mapping, optional
        PNG paths from :func:`~survey_stats.report.write_figures`.
    county : DataFrame, optional
        County estimates (:meth:`CountyTables.to_frame`), summarised in 评估结果.
    cases : sequence of {"title", "text"}, optional
        Case notes for 典型案例; without them the chapter has its two headings only.
    instruments : sequence of {"title", "form_id", "version", "questions"}, optional
    manifests, manifest_files : optional
        Sample manifests and the files they were written to; 附件 lists each manifest with
        the SHA-256 of its file.
    manifest_sha256 : mapping name → hex digest, optional
        Hashes taken earlier (e.g. when the CLI's analyze read the manifests); they win
        over *manifest_files*.
    response_rates : DataFrame, optional
        :func:`response_rates` rows of every sample (AAPOR RR1 by stratum, group, total),
        shown in 评估方法.
    decisions : DataFrame, optional
        :func:`~survey_stats.indicators.checks.additional_sample` of *table*: the indicator
        table then shows the extra households each inconclusive indicator needs.
    language : {"zh", "en"}
    template : path, optional
        A .docx whose page setup, letterhead, headers/footers and styles the report uses
        (its body text is dropped).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, survey_stats as ss
    >>> from docx import Document
    >>> t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]),
    ...                            {"phone": ss.datasets.poverty_design()}, na="drop")  # unexited: a census
    >>> p = write_report_docx(tempfile.mkdtemp() + "/report.docx", t)
    >>> text = "\\n".join(p.text for p in Document(p).paragraphs)
    >>> "漏退率为8.2%" in text, all(c in text for c in CHAPTERS["zh"])
    (True, True)
    """
    if language not in CHAPTERS:
        raise DataError(f"language={language!r}: use 'zh' or 'en'.")
    lang, zh = language, language == "zh"
    meta = dict(meta or {})
    txt = _TEXT[lang]
    doc = _new_document(template)
    _title_page(doc, meta, lang, "困难职工帮扶工作第三方评估" if zh else "Third-party evaluation")
    ch = CHAPTERS[lang]
    _heading(doc, ch[0], 1)
    households = meta.get("households")
    _para(doc, txt["background"].format(client=meta.get("client", "评估对象共" if zh else "The programme"),
                                        households=households if households is not None else "—"))
    for i, s in enumerate(txt["purposes"], start=1):
        _para(doc, f"{i}. {s}")
    _heading(doc, ch[1], 1)
    for i, s in enumerate(txt["principles"], start=1):
        _para(doc, f"{i}. {s}")
    _heading(doc, ch[2], 1)
    for s in txt["content"]:
        _para(doc, s)
    names = ("、" if zh else ", ").join(r.name_zh if zh else r.name_en for r in table)
    _para(doc, txt["content_ind"].format(k=len(table), names=names,
                                         items=len(score.items) if score is not None else 19))
    _heading(doc, ch[3], 1)
    _para(doc, ("评估采用文档审查、电话调查与访谈、实地入户调查和综合评分法。" if zh else
                "Document review, telephone survey and interviews, home visits, and the scoring method."))
    _methods(doc, lang, table, score, fieldwork, meta, response_rates)
    _heading(doc, ch[4], 1)
    _heading(doc, "（一）指标结果" if zh else "5.1 Indicators", 2)
    _indicator_table(doc, table, lang, decisions)
    for r in table:
        _para(doc, _indicator_sentence(r, lang, table.level))
    _figures(doc, figures, lang)
    if county is not None and len(county):
        _heading(doc, "（二）分县区结果" if zh else "5.2 By county", 2)
        _county_overview(doc, county, lang)
    _heading(doc, ch[5], 1)
    if score is None:
        _para(doc, ("本报告未提供评分所需的清单与行政数据，仅报告指标结果，不计算绩效评分。" if zh else
                    "No scoring inputs were supplied: this is an indicator-only report without a performance score."))
    else:
        _score_chapter(doc, score, lang)
    _heading(doc, ch[6], 1)
    _problems_chapter(doc, problems, lang)
    _heading(doc, ch[7], 1)
    _plan_chapter(doc, problems, lang)
    _heading(doc, ch[8], 1)
    _cases_chapter(doc, cases, lang)
    _heading(doc, ch[9], 1)
    hashes = {k: _sha256(Path(f)) for k, f in (manifest_files or {}).items() if f and Path(f).exists()}
    _annex(doc, lang, instruments, manifests, {**hashes, **dict(manifest_sha256 or {})})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def _county_overview(doc: Any, county: pd.DataFrame, lang: str) -> None:
    """Indicators (rows) by county (columns): estimate, and the interval on a second line."""
    zh = lang == "zh"
    ids = list(dict.fromkeys(county["id"]))
    names = county.drop_duplicates("id").set_index("id")["name_zh" if zh else "name_en"]
    counties = sorted(county["county"].unique(), key=str)
    cells = county.set_index(["id", "county"])
    rows = []
    for i in ids:
        row = [str(names[i])]
        for c in counties:
            if (i, c) in cells.index:
                r = cells.loc[(i, c)]
                row.append(f"{format_pct(r['estimate'])}\n{format_ci(r['ci_low'], r['ci_high'])}")
            else:
                row.append("—")
        rows.append(row)
    first = 3.6
    each = min(2.6, (16.2 - first) / max(1, len(counties)))
    _table(doc, ["指标" if zh else "Indicator", *map(str, counties)], rows, widths=[first] + [each] * len(counties),
           size=7.5)
    _para(doc, ("各县区为全市样本的子总体（域估计），每格为估计值及其置信区间；县区样本较小，多数区间较宽，详见各县区分报告。" if zh else
                "Counties are domains of the city-wide samples; each cell is the estimate and its confidence "
                "interval; see the county reports."), size=9)


def write_county_report_docx(
    path: str | Path,
    county: str,
    table: IndicatorTable,
    *,
    problems: pd.DataFrame | None = None,
    omitted: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
    fieldwork: pd.DataFrame | None = None,
    meta: Mapping[str, Any] | None = None,
    language: str = "zh",
    template: str | Path | None = None,
) -> Path:
    """Write one county's sub-report (分报告): its indicator table with CIs, verdicts and
    reliability flags, the indicators without county estimates, and its problems.

    Parameters
    ----------
    county : str
        The county's display name.
    table : IndicatorTable
        The county's table (:func:`~survey_stats.report.county_indicators`).
    problems : DataFrame, optional
        The rectification plan; rows of this county (column 县区) are shown.
    omitted : mapping id → reason, optional
    names : mapping id → display name, optional
        Names of the omitted indicators (e.g. from the city-wide table).
    fieldwork : DataFrame, optional
        Rows ``label, sampled, responded`` for this county.
    template : path, optional
        As for :func:`write_report_docx`.

    Examples
    --------
    >>> import tempfile, survey_stats as ss
    >>> from docx import Document
    >>> t = ss.evaluate_indicators(ss.IndicatorSystem.default().select(["missed_exit_rate"]),
    ...                            {"phone": ss.datasets.poverty_design()}, na="drop")  # unexited: a census
    >>> p = write_county_report_docx(tempfile.mkdtemp() + "/萧县.docx", "萧县", t)
    >>> Document(p).paragraphs[0].text
    '萧县困难职工帮扶工作评估分报告'
    """
    if language not in CHAPTERS:
        raise DataError(f"language={language!r}: use 'zh' or 'en'.")
    zh = language == "zh"
    meta = dict(meta or {})
    doc = _new_document(template)
    _para(doc, f"{county}困难职工帮扶工作评估分报告" if zh else f"{county}: county evaluation report", bold=True, size=18,
          align=WD_ALIGN_PARAGRAPH.CENTER)
    if meta.get("report_date"):
        _para(doc, f"{'报告日期' if zh else 'Date'}：{meta['report_date']}", align=WD_ALIGN_PARAGRAPH.CENTER)
    _heading(doc, "一、样本情况" if zh else "1. Sample", 1)
    if fieldwork is not None and len(fieldwork):
        _table(doc, ["样本", "抽中户数", "有效应答", "应答率"] if zh else ["Sample", "Sampled", "Responded", "Response rate"],
               [[r.label, r.sampled, r.responded, format_pct(r.responded / r.sampled if r.sampled else math.nan)]
                for r in fieldwork.itertuples(index=False)], widths=[5.0, 3.0, 3.0, 3.0])
    _para(doc, ("县区结果为全市样本的域估计：各指标的分母限定为本县区的受访户，方差按全市抽样设计计算（计入县区样本量的随机性）；"
                "置信区间和可靠性标识据此得出。样本较小的指标区间较宽，结论多为无法判定，应结合逐户核实结果使用。") if zh else
          ("County results are domain estimates from the city-wide samples: each denominator is restricted to the "
           "county's respondents and the variance follows the whole design; small samples give wide intervals."))
    _heading(doc, "二、指标结果" if zh else "2. Indicators", 1)
    _indicator_table(doc, table, language)
    for r in table:
        _para(doc, _indicator_sentence(r, language, table.level))
    if omitted:
        _para(doc, "未分县区估计的指标：" if zh else "Indicators without county estimates:", bold=True)
        for iid, why in omitted.items():
            zh_why, _, en_why = why.partition(" / ")
            _para(doc, f"{(names or {}).get(iid, iid)}：{zh_why if zh or not en_why else en_why}")
    _heading(doc, "三、存在问题与整改" if zh else "3. Problems and rectification", 1)
    failing = [r for r in table if r.verdict == "fails"]
    if failing:
        _para(doc, "本县区未达标的指标（置信区间整体劣于参考值）：" if zh else "Indicators failing in this county:", bold=True)
        for r in failing:
            _para(doc, _indicator_sentence(r, language, table.level))
    rows = problems[problems["县区"] == county] if problems is not None and len(problems) else None
    if rows is None or not len(rows):
        _para(doc, "本县区无单列问题；全市性问题见总报告。" if zh else "No county-specific problems; see the main report.")
    else:
        header = ["序号", "问题", "依据", "整改措施", "整改要求", "整改时限", "责任单位"]
        _table(doc, header if zh else [_COLUMNS_EN[h] for h in header], rows[header].values.tolist(),
               widths=[1.0, 3.2, 3.2, 3.0, 3.0, 1.9, 2.1], size=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
