"""survey_stats.readers.read_table: encodings, separators, identifiers as text, typed errors."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import survey_stats as ss
from survey_stats.readers import decode_text, file_rows, read_table, sniff_encoding, sniff_separator
from survey_stats.safe_output import write_csv

DATA = Path(__file__).parent / "data" / "readers"
ID_A = "11010519491231002X"  # the example number of GB 11643-1999
ID_B = "110105194912310037"


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


REGISTRY = ("户号,身份证号,户主姓名,人口,县区\n"
            f"00123,{ID_A},张三,3,姑苏区\n"
            "00124,,李四,2,吴中区\n"
            f"00125,{ID_B},王五,4,相城区\n")


@pytest.mark.parametrize("encoding, recorded", [("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-8", "utf-8"),
                                                ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16")])
def test_chinese_csv_in_every_encoding_excel_and_wps_write(tmp_path, encoding, recorded):
    t = read_table(_write(tmp_path / "reg.csv", REGISTRY, encoding))
    assert t.attrs["encoding"] == recorded and sniff_encoding(tmp_path / "reg.csv") == recorded
    assert list(t.columns) == ["户号", "身份证号", "户主姓名", "人口", "县区"]  # no BOM left in the first header
    assert t["户号"].tolist() == ["00123", "00124", "00125"]
    assert t["身份证号"].tolist()[0] == ID_A and pd.isna(t["身份证号"][1]) and t["身份证号"][2] == ID_B
    assert t["人口"].tolist() == [3, 2, 4] and t["人口"].dtype.kind == "i"
    assert t["县区"].tolist() == ["姑苏区", "吴中区", "相城区"]


def test_18_digit_ids_with_a_blank_stay_distinct(tmp_path):
    ids = ["340123198001010016", "340123198001010017", "340123198001010018"]  # equal as float64
    assert len({float(v) for v in ids}) == 1
    text = "hh,id\n" + "\n".join(f"h{i},{v}" for i, v in enumerate(ids)) + "\nh9,\n"
    t = read_table(_write(tmp_path / "ids.csv", text, "gbk"))
    assert t["id"].tolist()[:3] == ids and not t["id"].duplicated().iloc[:3].any()
    f = ss.Frame.from_file(tmp_path / "ids.csv", id="id", on_invalid="exclude")
    assert f.N == 3 and f.excluded["reason"].tolist() == ["missing id ('id')"]


def test_semicolon_separator_quotes_and_quoted_newlines(tmp_path):
    text = '"start";"household_id";"note"\n"2026-01-05";"00123";"a; b, c"\n"2026-01-06";"00124";"two\nlines"\n'
    t = read_table(_write(tmp_path / "kobo.csv", text, "utf-8"))
    assert t.attrs["separator"] == ";"
    assert t["household_id"].tolist() == ["00123", "00124"]
    assert t["note"].tolist() == ["a; b, c", "two\nlines"]
    assert sniff_separator('a\tb\tc') == "\t" and sniff_separator("a|b|c") == "|"


def test_tab_separated_utf16_as_excel_unicode_text(tmp_path):
    t = read_table(_write(tmp_path / "u.txt", "户号\t金额\r\n00123\t1.5\r\n00124\t-2\r\n", "utf-16"))
    assert t.attrs["separator"] == "\t" and t["户号"].tolist() == ["00123", "00124"]
    assert t["金额"].tolist() == [1.5, -2.0]


def test_identifiers_by_content_and_by_name(tmp_path):
    text = "a,mobile,count,flag,code\n1,13812345678,5,true,7\n2,13998765432,6,false,8\n"
    t = read_table(_write(tmp_path / "x.csv", text, "utf-8"), text_columns=["code"])
    assert t["mobile"].tolist() == ["13812345678", "13998765432"]  # phone shape: text
    assert t["code"].tolist() == ["7", "8"]  # named: text
    assert t["a"].dtype.kind == "i" and t["count"].tolist() == [5, 6]
    assert t["flag"].tolist() == [True, False]
    t = read_table(tmp_path / "x.csv", all_text=True)
    assert all(t[c].map(type).eq(str).all() for c in t.columns)


def test_excel_with_chinese_headers_and_ids_typed_as_numbers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["户号", "手机号", "登记日期", "人口", 2024])
    ws.append([123, 13812345678, dt.datetime(2024, 1, 5), 3, 1.5])
    ws.append(["00124", 13998765432, dt.datetime(2024, 2, 6), 2, 2])
    wb.save(tmp_path / "reg.xlsx")
    t = read_table(tmp_path / "reg.xlsx", text_columns=["户号"])
    assert list(t.columns) == ["户号", "手机号", "登记日期", "人口", "2024"]  # numeric header as text, not "2024.0"
    assert t["户号"].tolist() == ["123", "00124"]
    assert t["手机号"].tolist() == ["13812345678", "13998765432"]  # never 1.38e10
    assert t["登记日期"].dtype.kind == "M" and t["人口"].tolist() == [3, 2]
    assert t.attrs["encoding"] == "xlsx"


def test_excel_id_numbers_already_rounded_are_refused(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["户号", "身份证号"])
    wb.active.append(["00123", 110105194912310021])
    wb.save(tmp_path / "reg.xlsx")
    with pytest.raises(ss.DataError, match="身份证号.*18-digit number stored as a number"):
        read_table(tmp_path / "reg.xlsx")


def test_old_xls_workbooks():
    t = read_table(DATA / "profiles.xls")
    assert t.attrs["encoding"] == "xls" and list(t.columns[:3]) == ["PROFIL", "a", "b"]
    assert t["PROFIL"].iloc[0] == "P8.2" and t["a"].iloc[:3].tolist() == [100, 112, 124]
    assert t["a"].dtype.kind == "i"
    with pytest.raises(ss.DataError, match="column 4 has values but no header"):
        read_table(DATA / "ragged.xls")


def test_csv_written_by_the_package_reads_back_unchanged(tmp_path):
    df = pd.DataFrame({"户号": ["=1+1", "+cmd", "-1+1", "@SUM(A1)", "00123"], "n": [1, -2, 3, 4, 5]})
    write_csv(df, tmp_path / "out.csv")
    raw = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert "'=1+1" in raw and "'-1+1" in raw
    back = read_table(tmp_path / "out.csv", text_columns=["户号"])
    assert back["户号"].tolist() == df["户号"].tolist() and back["n"].tolist() == [1, -2, 3, 4, 5]


def test_trailing_separator_column_is_dropped_and_listed(tmp_path):
    t = read_table(_write(tmp_path / "t.csv", "a,b,\n1,2,\n3,4,\n", "utf-8"))
    assert list(t.columns) == ["a", "b"] and t.attrs["dropped_columns"] == [3]


@pytest.mark.parametrize(
    "name, content, pattern",
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"  \r\n\n", "empty"),
        ("dup.csv", "户号,县区,户号\n1,a,2\n".encode("gbk"), "'户号' appear more than once"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5\n", "not a regular table"),
        ("noheader.csv", b"a,,c\n1,2,3\n", "column 2 has values but no header"),
        ("bad.xlsx", b"PK\x03\x04 this is not really a zip archive", "cannot read it as an Excel workbook"),
        ("bad.xls", b"\xd0\xcf\x11\xe0 not a real compound file" * 20, "cannot read it as an .xls workbook"),
        ("book.csv", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "Excel workbook, not a text"),
        ("bom.csv", codecs.BOM_UTF16_LE + b"a\x00,", "byte-order mark but is not valid"),
    ],
)
def test_unreadable_files_raise_a_typed_error_naming_the_file(tmp_path, name, content, pattern):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ss.DataError, match=pattern) as err:
        read_table(tmp_path / name)
    assert name in str(err.value)


def test_truncated_xlsx_is_a_data_error(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["a"])
    wb.save(tmp_path / "ok.xlsx")
    data = (tmp_path / "ok.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    with pytest.raises(ss.DataError, match="cut.xlsx"):
        read_table(tmp_path / "cut.xlsx")


def test_missing_file_sheet_and_columns(tmp_path):
    with pytest.raises(ss.DataError, match="No such file"):
        read_table(tmp_path / "nope.csv")
    _write(tmp_path / "t.csv", "a,b\n1,2\n", "utf-8")
    with pytest.raises(ss.DataError, match="no column 'id'; columns are 'a', 'b'"):
        read_table(tmp_path / "t.csv", text_columns=["id"])
    wb = openpyxl.Workbook()
    wb.active.append(["a"])
    wb.save(tmp_path / "t.xlsx")
    with pytest.raises(ss.DataError, match="sheet 'other'"):
        read_table(tmp_path / "t.xlsx", sheet="other")


def test_header_only_and_blank_named_text_column(tmp_path):
    t = read_table(_write(tmp_path / "h.csv", "户号,县区\n", "gbk"))
    assert list(t.columns) == ["户号", "县区"] and len(t) == 0
    t = read_table(_write(tmp_path / "b.csv", "户号,备注\n1,\n2,\n", "utf-8"), text_columns=["备注"])
    assert t["备注"].dtype == object and t["备注"].isna().all()


def test_decode_text_order():
    assert decode_text("户号".encode("gbk"))[1] == "gb18030"
    assert decode_text("户号".encode())[1] == "utf-8"
    assert decode_text(codecs.BOM_UTF16_BE + "户号".encode("utf-16-be")) == ("户号", "utf-16")


def test_blank_rows_are_removed_and_counted(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["户号", "人口"])
    ws.append(["00123", 3])
    ws.append([None, None])
    ws.append(["00124", 2])
    ws["A7"] = "00125"
    wb.save(tmp_path / "gaps.xlsx")
    t = read_table(tmp_path / "gaps.xlsx")
    assert t["户号"].tolist() == ["00123", "00124", "00125"] and t.attrs["blank_rows"] == 3
    t = read_table(_write(tmp_path / "gaps.csv", "a,b\n1,2\n,\n3,4\n", "utf-8"))
    assert t["a"].tolist() == [1, 3] and t.attrs["blank_rows"] == 1


_CELL = st.text(alphabet=st.sampled_from(list("0123456789户号张三姑苏区,;|\"'\n=+-@ xX.")), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=6),
       st.sampled_from(["utf-8-sig", "gb18030", "utf-16"]))
def test_any_text_table_round_trips_through_write_csv_and_read_table(tmp_path_factory, rows, encoding):
    rows = [[c for c in r] for r in rows]
    for r in rows:
        for j, c in enumerate(r):
            if not c.strip() or c.startswith("'"):
                r[j] = "x" + c  # blank cells read as missing; a quote before = + - @ is the neutraliser
    df = pd.DataFrame(rows, columns=["户号", "b", "c"])
    path = tmp_path_factory.mktemp("rt") / "t.csv"
    write_csv(df, path, mask=False, encoding=encoding)
    back = read_table(path, all_text=True)
    assert back.values.tolist() == df.values.tolist()


def test_sheet_starting_lower_down_and_file_rows(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A3"], ws["B3"] = "户号", "人口"
    ws["A4"], ws["B4"] = "00123", 3
    ws["A6"], ws["B6"] = "00124", 2
    wb.save(tmp_path / "lower.xlsx")
    t = read_table(tmp_path / "lower.xlsx")
    assert t["户号"].tolist() == ["00123", "00124"] and t.attrs["header_row"] == 3
    assert file_rows(t).tolist() == [4, 6]
