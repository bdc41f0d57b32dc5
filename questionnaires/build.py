"""Build the evaluation's XLSForm questionnaires (the .xlsx files in this folder).

The forms are written from the definitions below so that they stay reviewable in code
review; the .xlsx files are what field teams upload to KoboToolbox / ODK.  Extra
columns ``survey_stats::indicator`` (which indicator an item feeds) and
``survey_stats::coding`` (how its answer becomes 0/1) are ignored by ODK and read by
``survey_stats.load_questionnaire``; choice codes marked in the ``survey_stats_missing`` choices column
("don't know", "refused") are declared missing values, not answers.

Run:  python questionnaires/build.py
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HERE = Path(__file__).parent
#: the package ships the same files (survey_stats.questionnaire_path)
PACKAGE_COPY = HERE.parent / "src" / "survey_stats" / "questionnaires" / "forms"
ZH, EN = "label::Chinese (zh)", "label::English (en)"
SURVEY_COLS = ["type", "name", ZH, EN, "hint::Chinese (zh)", "hint::English (en)", "required", "relevant",
               "constraint", "constraint_message::Chinese (zh)", "constraint_message::English (en)", "appearance",
               "calculation", "survey_stats::indicator", "survey_stats::coding"]
CHOICE_COLS = ["list_name", "name", ZH, EN, "survey_stats_missing"]

# ------------------------------------------------------------------ shared choice lists
CHOICES = {
    "yesno": [("yes", "是", "Yes"), ("no", "否", "No"), ("dk", "不知道", "Don't know", 1)],
    "likert5": [("5", "非常满意", "Very satisfied"), ("4", "满意", "Satisfied"), ("3", "一般", "Neutral"),
                ("2", "不满意", "Dissatisfied"), ("1", "非常不满意", "Very dissatisfied"),
                ("dk", "说不清", "Cannot say", 1)],
    "aware3": [("well", "很了解", "Knows well"), ("some", "了解一些", "Knows somewhat"),
               ("none", "不了解", "Does not know")],
    "status": [("exited", "已脱困户", "Exited hardship"), ("unexited", "未脱困户", "Still in hardship")],
    "county": [("yongqiao", "埇桥区", "Yongqiao"), ("dangshan", "砀山县", "Dangshan"), ("xiao", "萧县", "Xiao"),
               ("lingbi", "灵璧县", "Lingbi"), ("si", "泗县", "Si")],
    "causes": [("illness", "因病", "Illness"), ("disability", "因残", "Disability"), ("schooling", "因学", "Schooling"),
               ("unemployment", "失业", "Unemployment"), ("disaster", "因灾", "Disaster"), ("other", "其他", "Other")],
    "aid_types": [("living", "生活救助", "Living aid"), ("medical", "医疗救助", "Medical aid"),
                  ("schooling", "子女助学", "Schooling aid"), ("employment", "就业帮扶", "Employment aid"),
                  ("none", "未获帮扶", "No aid")],
    "channels": [("community", "社区/村委会", "Community office"), ("union", "工会干部", "Union cadre"),
                 ("wechat", "微信/公众号", "WeChat"), ("tv", "电视/广播", "TV / radio"),
                 ("poster", "宣传栏/海报", "Notice board / poster"), ("app", "职工之家APP", "Workers' Home app")],
    "documents": [("id", "身份证件", "ID documents"), ("income", "收入证明", "Proof of income"),
                  ("medical", "医疗票据", "Medical bills"), ("school", "入学证明", "School enrolment"),
                  ("none", "未见材料", "No documents")],
    "housing": [("good", "较好", "Good"), ("fair", "一般", "Fair"), ("poor", "较差", "Poor")],
    "role": [("union_cadre", "工会干部", "Union cadre"), ("enterprise", "企业负责人", "Enterprise head"),
             ("community", "社区工作人员", "Community worker")],
    # seed 001 item 19: the four respondent groups of 社会满意度
    "social_group": [("official", "党政机关事业单位工作人员", "Staff of Party, government and public institutions"),
                     ("worker", "产业工人", "Industrial worker"), ("union", "工会工作者", "Trade-union worker"),
                     ("beneficiary", "受益对象（受助困难职工）", "Beneficiary (aided worker)")],
    "survey_mode": [("questionnaire", "随机问卷调查", "Random questionnaire"), ("phone", "电话访问", "Telephone interview"),
                    ("visit", "现场走访", "On-site visit")],
}

PHONE = r"regex(., '^1[3-9][0-9]{9}$')"


def q(type_, name, zh, en, *, required="yes", relevant="", constraint="", cmsg=("", ""), hint=("", ""),
      indicator="", coding="", appearance="", calculation=""):
    return {"type": type_, "name": name, ZH: zh, EN: en, "hint::Chinese (zh)": hint[0], "hint::English (en)": hint[1],
            "required": required, "relevant": relevant, "constraint": constraint,
            "constraint_message::Chinese (zh)": cmsg[0], "constraint_message::English (en)": cmsg[1],
            "appearance": appearance, "calculation": calculation,
            "survey_stats::indicator": indicator, "survey_stats::coding": coding}


def group(name, zh, en, rows, relevant=""):
    return [{"type": "begin_group", "name": name, ZH: zh, EN: en, "relevant": relevant}, *rows,
            {"type": "end_group", "name": name}]


def household_id():
    return q("text", "household_id", "户号", "Household ID", constraint="string-length(.) >= 4",
             cmsg=("户号至少4位", "At least 4 characters"))


def county():
    return q("select_one county", "county", "所在县区", "County / district")


def members():
    return q("integer", "members", "家庭人口数", "Household members", constraint=". >= 1 and . <= 15",
             cmsg=("1-15人", "1 to 15"))


def income():
    return q("decimal", "income_per_head", "家庭月人均收入（元）", "Monthly income per head (yuan)",
             constraint=". >= 0", cmsg=("收入不能为负", "Income cannot be negative"))


def satisfaction_block():
    return group("satisfaction", "满意度", "Satisfaction", [
        q("select_one likert5", "sat_method", "对帮扶方式的满意度", "Satisfaction with the aid method",
          indicator="satisfaction_method", coding="top2"),
        q("select_one likert5", "sat_result", "对帮扶成效的满意度", "Satisfaction with the results of aid",
          indicator="satisfaction_result", coding="top2"),
        q("select_one likert5", "sat_publicity", "对帮扶政策宣传方式及力度的满意度",
          "Satisfaction with the publicity of aid policies", indicator="satisfaction_publicity", coding="top2"),
        q("select_one likert5", "sat_overall", "总体满意度", "Overall satisfaction", indicator="satisfied",
          coding="top2"),
    ])


def awareness_block():
    return group("policy", "政策知晓", "Policy awareness", [
        q("select_one aware3", "aware", "您对困难职工帮扶救助政策的了解程度", "How well do you know the aid policies?",
          indicator="aware", coding="in:well some"),
        q("select_multiple channels", "channels", "您从哪些渠道了解到帮扶政策（可多选）",
          "Where did you hear about the aid policies? (several answers)", required="no", indicator="channels",
          coding="multi"),
    ])


FORMS = {
    "phone_unexited": {
        "title": ("未脱困在档户电话调查问卷", "Telephone survey of unexited registered households"),
        "rows": [
            household_id(),
            county(),
            q("select_one yesno", "consent", "是否同意接受访问", "Consents to the interview"),
            *group("situation", "家庭状况", "Household situation", [
                members(),
                q("integer", "age", "户主年龄", "Age of the household head", constraint=". >= 16 and . <= 100",
                  cmsg=("16-100岁", "16 to 100")),
                income(),
                q("select_multiple causes", "causes", "致困原因（可多选）", "Causes of hardship (several answers)"),
                q("select_one yesno", "still_hardship", "目前家庭是否仍然困难", "Is the household still in hardship?",
                  indicator="missed_exit", coding="no"),
            ], relevant="${consent} = 'yes'"),
            *group("aid", "帮扶情况", "Aid received", [
                q("select_multiple aid_types", "aid_received", "获得的帮扶类型（可多选）", "Types of aid received"),
                q("select_one yesno", "paired", "是否有结对帮扶人", "Has a paired helper", indicator="paired_helper",
                  coding="yes"),
            ], relevant="${consent} = 'yes'"),
            *satisfaction_block(),
            *awareness_block(),
            q("text", "callback_phone", "回访电话", "Phone number for call-back", required="no", constraint=PHONE,
              cmsg=("请输入11位手机号", "Enter an 11-digit mobile number")),
        ],
    },
    "home_visit": {
        "title": ("建档户入户核查问卷", "Home-visit verification form for registered households"),
        "rows": [
            household_id(),
            county(),
            q("select_one status", "status", "档案状态", "Registry status"),
            *group("verify", "入户核查", "Verification", [
                q("select_one housing", "housing", "住房条件", "Housing conditions"),
                members(),
                income(),
                q("select_multiple documents", "documents_seen", "核查的证明材料", "Documents seen"),
                q("select_one yesno", "registration_right", "评估员判断：建档是否准确", "Interviewer: was registration right?",
                  indicator="misidentified", coding="no"),
                q("select_one yesno", "exit_right", "评估员判断：脱困退出是否准确", "Interviewer: was the exit right?",
                  relevant="${status} = 'exited'", indicator="wrong_exit", coding="no"),
                q("select_one yesno", "should_exit", "评估员判断：是否已达到脱困标准", "Interviewer: should it have exited?",
                  relevant="${status} = 'unexited'", indicator="missed_exit", coding="yes"),
                q("select_one yesno", "returned", "脱困后是否返困", "Returned to hardship after exiting",
                  relevant="${status} = 'exited'", indicator="returned", coding="yes"),
                q("select_one yesno", "paired", "是否有结对帮扶人", "Has a paired helper", indicator="paired_helper",
                  coding="yes"),
                q("select_one yesno", "method_matches", "评估员判断：帮扶方式与致困原因是否对应",
                  "Interviewer: does the aid method match the cause?", indicator="method_matches", coding="yes"),
            ]),
            *satisfaction_block(),
            *awareness_block(),
        ],
    },
    "unregistered": {
        "title": ("非建档职工家庭筛查问卷", "Screening of unregistered worker households"),
        "rows": [
            household_id(),
            county(),
            members(),
            income(),
            q("select_multiple causes", "causes", "家庭困难原因（可多选）", "Causes of hardship", required="no"),
            q("select_one yesno", "eligible", "评估员判断：是否符合建档条件", "Interviewer: eligible for registration?",
              indicator="omitted", coding="yes"),
            *satisfaction_block(),
            *awareness_block(),
        ],
    },
    "deregistered": {
        "title": ("注销户回访问卷", "Follow-up of deregistered households"),
        "rows": [
            household_id(),
            county(),
            members(),
            income(),
            q("select_one yesno", "exit_right", "评估员判断：注销是否准确", "Interviewer: was the removal right?",
              indicator="wrong_exit", coding="no"),
            q("select_one yesno", "returned", "注销后是否返困", "Returned to hardship after removal",
              indicator="returned", coding="yes"),
            *satisfaction_block(),
            *awareness_block(),
        ],
    },
    "social_satisfaction": {
        "title": ("社会满意度调查问卷", "Social satisfaction survey (seed 001 item 19)"),
        "rows": [
            q("text", "household_id", "受访者编号", "Respondent ID", constraint="string-length(.) >= 4",
              cmsg=("编号至少4位", "At least 4 characters")),
            q("select_one social_group", "respondent_group", "受访者类别", "Respondent group"),
            q("integer", "age", "受访者年龄", "Age of the respondent", constraint=". >= 16 and . <= 90",
              cmsg=("16-90岁", "16 to 90")),
            q("select_one survey_mode", "mode", "调查方式", "Survey mode"),
            county(),
            q("select_one yesno", "consent", "是否同意接受调查", "Consents to the survey"),
            *group("opinion", "满意度", "Satisfaction", [
                q("select_one likert5", "sat_overall", "您对本地困难职工帮扶工作的总体满意度",
                  "Overall satisfaction with the local aid to poor workers", indicator="satisfied", coding="top2"),
                q("select_one likert5", "sat_result", "您对帮扶工作成效的满意度", "Satisfaction with the results of aid",
                  indicator="satisfaction_result", coding="top2"),
                q("select_one aware3", "aware", "您对困难职工帮扶救助政策的了解程度", "How well do you know the aid policies?",
                  indicator="aware", coding="in:well some"),
            ], relevant="${consent} = 'yes'"),
        ],
    },
    "cadre_interview": {
        "title": ("工会干部、企业负责人、社区工作人员访谈提纲", "Interview guide for cadres, enterprise heads and community workers"),
        "rows": [
            q("select_one role", "role", "受访者身份", "Role of the interviewee"),
            county(),
            q("note", "intro", "半结构化访谈：请围绕以下主题记录要点", "Semi-structured interview: record the main points",
              required=""),
            q("text", "identification", "困难职工认定标准与主动发现机制", "Identification standards and outreach",
              appearance="multiline"),
            q("text", "dynamic_management", "动态管理：退出机制、渐退期、新增审核", "Dynamic management: exit, phase-out, new cases",
              appearance="multiline"),
            q("text", "funds", "资金使用与发放（标准、效率、台账）", "Use and payment of funds", appearance="multiline"),
            q("text", "measures", "帮扶方式多样性与因户施策", "Variety of aid and tailoring to households",
              appearance="multiline"),
            q("text", "problems", "存在的问题与改进建议", "Problems and suggestions", appearance="multiline"),
        ],
    },
}


def write_form(name: str, spec: dict) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(SURVEY_COLS)
    for row in spec["rows"]:
        ws.append([row.get(c, "") or None for c in SURVEY_COLS])
    used = sorted({r["type"].split()[1] for r in spec["rows"] if r["type"].startswith("select_")})
    wc = wb.create_sheet("choices")
    wc.append(CHOICE_COLS)
    for lst in used:
        for ch in CHOICES[lst]:
            wc.append([lst, ch[0], ch[1], ch[2], "yes" if len(ch) > 3 else None])
    st = wb.create_sheet("settings")
    st.append(["form_title", "form_id", "version", "default_language"])
    st.append([spec["title"][0], name, "2026112301", "Chinese (zh)"])
    for sheet in (ws, wc, st):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    path = HERE / f"{name}.xlsx"
    wb.save(path)
    PACKAGE_COPY.mkdir(parents=True, exist_ok=True)
    wb.save(PACKAGE_COPY / f"{name}.xlsx")
    return path


if __name__ == "__main__":
    import sys

    for form_name, form in FORMS.items():
        if len(sys.argv) == 1 or form_name in sys.argv[1:]:  # python build.py [form names]
            print("wrote", write_form(form_name, form))
