"""Personal data recognised by content (GB 11643 ID numbers, phones) and masked in data and messages."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import survey_stats as ss
from survey_stats.privacy import (
    MaskReport,
    detect_pii_columns,
    find_pii,
    id_card_check_char,
    is_id_card,
    mask_frame,
    mask_text,
    scan_frame,
)
from survey_stats.review import check_id_card

ID_A = "11010519491231002X"  # the worked example of GB 11643-1999


def make_id(region: str, birth: dt.date, seq: int) -> str:
    """An ID number whose check character is computed by hand, independently of the package."""
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def test_check_character_follows_iso_7064_mod_11_2():
    assert id_card_check_char(ID_A[:17]) == "X"
    assert is_id_card(ID_A) and is_id_card(ID_A.lower())
    for last in "0123456789":
        assert not is_id_card(ID_A[:17] + last)
    with pytest.raises(ValueError):
        id_card_check_char("12345")


@given(st.from_regex(r"[1-6]\d{5}", fullmatch=True), st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)),
       st.integers(0, 999))
def test_check_character_agrees_with_an_independent_implementation(region, birth, seq):
    number = make_id(region, birth, seq)
    assert is_id_card(number) and check_id_card(number) is None
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert not is_id_card(wrong) and check_id_card(wrong) == "check digit"
    assert is_id_card(wrong, strict=False)  # a mistyped ID is still personal data
    assert not is_id_card(number[:6] + "0001" + number[10:17] + id_card_check_char(number[:6] + "0001" + number[10:17]),
                          strict=False)  # right check character but no birth date: not an ID
    assert find_pii(f"x{number}y") == [("id_card", 1, 19)]


def test_fifteen_digit_ids_need_a_real_date():
    assert is_id_card("110105491231002") and not is_id_card("110105491331002")
    assert [k for k, *_ in find_pii("旧证 110105491231002 号")] == ["id_card"]
    assert [k for k, *_ in find_pii("110105491331002")] == ["long_number"]  # not an ID, still masked


@pytest.mark.parametrize("text", ["13812345678", "138-1234-5678", "138 1234 5678", "+86 13812345678",
                                  "+86-138-1234-5678", "008613812345678", "19912345678", "电话:13812345678。"])
def test_mobiles_in_every_usual_spelling(text):
    assert [k for k, *_ in find_pii(text)] == ["mobile"]
    masked, counts = mask_text(text)
    assert "5678" in masked and "1234" not in masked.replace("+86", "") and counts == {"mobile": 1}


@pytest.mark.parametrize("text", ["0551-62345678", "055162345678", "010-88886666", "01088886666", "(0551)6234567",
                                  "021 62345678", "0755-8123456"])
def test_landlines_with_or_without_hyphen(text):
    assert [k for k, *_ in find_pii(text)] == ["landline"]


@pytest.mark.parametrize("text", ["00123", "H00123", "20240105", "1380000", "12812345678", "0012345678",
                                  "金额 13800.50 元", "12345678901234", "2024-01-05 10:30", "v1.3.812345678"])
def test_no_false_alarms_on_ids_amounts_dates(text):
    assert find_pii(text) == []


def test_column_names_in_pinyin_and_chinese():
    names = ["公民身份号码", "sfzh", "zjhm", "hz_sfzh", "身份证号码", "lxdh", "联系号码", "手机号码", "sjhm", "gddh",
             "xm", "hzxm", "jtzz", "户号", "county", "col7", "sfzhxx_count", "dhl"]
    found = detect_pii_columns(names)
    assert found == {"公民身份号码": "id_card", "sfzh": "id_card", "zjhm": "id_card", "hz_sfzh": "id_card",
                     "身份证号码": "id_card", "lxdh": "phone", "联系号码": "phone", "手机号码": "phone", "sjhm": "phone",
                     "gddh": "phone", "xm": "name", "hzxm": "name", "jtzz": "address"}


def planted_frame() -> pd.DataFrame:
    ids = [make_id("340123", dt.date(1980, 1, 1) + dt.timedelta(days=300 * i), i) for i in range(4)]
    return pd.DataFrame({
        "户号": ["00001", "00002", "00003", "00004"],
        "col7": ids,  # ID numbers under a meaningless name
        "c8": [13812345678, 13998765432, 15011112222, 18600001111],  # mobiles stored as integers
        "备注": ["联系 138-1234-5678", "ok", None, "座机 0551-62345678"],
        "amount": [1200.5, 13812.0, 800.0, 2_000_000.0],
        "flag": [True, False, True, False],
    })


def test_scan_and_mask_a_frame_whatever_the_column_names():
    df = planted_frame()
    assert {c: dict(n) for c, n in scan_frame(df).items()} == {
        "col7": {"id_card": 4}, "c8": {"mobile": 4}, "备注": {"mobile": 1, "landline": 1}}
    masked, report = mask_frame(df)
    assert report.counts == {("col7", "id_card"): 4, ("c8", "mobile"): 4, ("备注", "mobile"): 1,
                             ("备注", "landline"): 1}
    assert report.total == 10 and "4 id_card in 'col7'" in report.describe()
    assert scan_frame(masked) == {}
    assert masked["col7"].str.fullmatch(r"3401\*{12}\w\w").all()
    assert masked["c8"].tolist()[0] == "138****5678" and masked["备注"][0] == "联系 138****5678"
    assert masked["户号"].tolist() == df["户号"].tolist() and masked["amount"].tolist() == df["amount"].tolist()
    assert pd.isna(masked["备注"][2]) and masked["flag"].tolist() == df["flag"].tolist()
    pd.testing.assert_frame_equal(df, planted_frame())  # the input is not changed


def test_mask_report_merge_and_bool():
    a = MaskReport({("x", "mobile"): 1})
    b = MaskReport({("x", "mobile"): 2}, ("name",))
    assert not MaskReport() and a and a.merge(b).counts == {("x", "mobile"): 3} and a.merge(b).dropped == ("name",)


def test_error_messages_name_rows_but_never_show_id_or_phone_numbers():
    df = planted_frame()
    df.loc[1, "col7"] = df.loc[0, "col7"]
    with pytest.raises(ss.DataError) as err:
        ss.Frame(df, id="col7")
    msg = str(err.value)
    assert "duplicated id" in msg and "row(s) (index 0, 1)" in msg
    assert find_pii(msg) == [] and df.loc[0, "col7"] not in msg and df.loc[0, "col7"][:4] + "*" in msg
    s = ss.select(ss.Frame(planted_frame(), id="c8"), n=2, seed=1)
    with pytest.raises(ss.DataError) as err:
        s.design(pd.DataFrame({"c8": [13512345678], "y": [1.0]}))
    assert "not sampled" in str(err.value) and "135****5678" in str(err.value) and find_pii(str(err.value)) == []


def test_float_ids_that_lost_digits_are_refused():
    df = pd.DataFrame({"id": [340123198001010016.0, 340123198001010017.0, np.nan], "y": [1, 2, 3]})
    with pytest.raises(ss.DataError, match="lost their last digits"):
        ss.Frame(df, id="id")


def test_duplicate_ids_are_checked_on_the_text():
    df = pd.DataFrame({"id": ["00123", " 00123", "00124", "123", 123], "y": [1, 2, 3, 4, 5]})
    f = ss.Frame(df, id="id", on_invalid="exclude")
    assert sorted(f.excluded["row"]) == [0, 1, 3, 4] and f.data["id"].tolist() == ["00124"]


_FILLER = st.text(alphabet=st.sampled_from(list("户号电话身份证:，。 abc-()+")), max_size=8)


@given(_FILLER, st.integers(0, 10**6), _FILLER, st.integers(3, 9), st.integers(0, 10**9 - 1), _FILLER,
       st.sampled_from(["", "-", " "]))
def test_planted_numbers_in_free_text_are_always_masked(a, k, b, second, rest, c, sep):
    number = make_id("340123", dt.date(1950, 1, 1) + dt.timedelta(days=k % 25000), k % 1000)
    phone = f"1{second}{rest:09d}"
    spaced = sep.join([phone[:3], phone[3:7], phone[7:]])
    text = f"{a}{number}{b}{spaced}{c}"
    masked, counts = mask_text(text)
    assert number not in masked and phone not in re.sub(r"\D", "", masked)
    if re.search(r"[^\d\s-]", b) or (b and sep):  # a separator between them: both recognised
        assert counts["id_card"] == 1 and counts["mobile"] == 1
    assert find_pii(masked) == [] and mask_text(masked) == (masked, {})


def test_long_digit_runs_are_masked_whatever_they_are():
    glued = ID_A + "13812345678"
    masked, counts = mask_text(f"账号 6222020200112233445，{glued}")
    assert masked == "账号 ***************3445，" + "*" * (len(glued) - 4) + "5678"
    assert counts == {"long_number": 2}


def test_pathological_texts_are_scanned_without_backtracking():
    # possessive quantifiers: each of these finishes at once (a backtracking pattern would not end)
    texts = ["123456789012345 " + "1" * 40 + "X", ("1" * 30 + " ") * 300 + "X", ("1" * 14 + "-") * 3000 + "X"]
    assert [len(find_pii(t)) for t in texts] == [1, 1, 0]
    assert "1" * 15 not in mask_text(texts[0])[0]


def test_hex_digests_are_not_masked_but_numbers_beside_them_are():
    """A SHA-256 in a report can hold a 'landline' by chance (seen in a manifest hash): it stays whole."""
    from survey_stats.privacy import find_pii, mask_text

    digest = "c49ac90e50a7a4b953390a2040f08806122511e3b923a1c7cf71082641161bd0"
    assert find_pii(f"清单文件 SHA-256：{digest}") == []
    masked, counts = mask_text(f"{digest} 电话 0551-62345678，13812345678")
    assert masked == f"{digest} 电话 055*****5678，138****5678"
    assert counts == {"landline": 1, "mobile": 1}
    # a short hex-like prefix does not protect a phone number
    assert find_pii("ab13812345678") == [("mobile", 2, 13)]


def test_valid_id_and_mobile_numbers_inside_hex_looking_text_are_masked():
    """Found by the property test: 'a<ID>a<mobile>a' is 32 hexadecimal characters, and the digest
    exemption let both through.  Only loose matches (landline-like runs) are exempt inside digests."""
    from survey_stats.privacy import mask_text
    from survey_stats.report.docx import _digest

    text = "a340123195001020013a13000000000a"
    masked, counts = mask_text(text)
    assert "340123195001020013" not in masked and "13000000000" not in masked
    assert counts == {"id_card": 1, "mobile": 1}
    # the report's annex writes a SHA-256 whole even when a digit run in it looks like a mobile number
    sha = "ab13812345678" + "c" * 51
    assert mask_text(sha)[0] != sha and _digest(sha) == sha
    assert _digest("340123195001020013") != "340123195001020013" and _digest(None) == "—"
