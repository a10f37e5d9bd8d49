"""Cell normalisation: every accepted spelling of the contract, and every refusal with its code."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

from importers import cells
from importers.cells import CellError
from importers.contract import Code

D = dt.date


def raises(code: Code, func, *args, **kwargs) -> CellError:
    with pytest.raises(CellError) as info:
        func(*args, **kwargs)
    assert info.value.code is code
    return info.value


# --- CellError ------------------------------------------------------------------------------


def test_cell_error_carries_code_and_both_languages():
    error = CellError(Code.BAD_DATE, "不是日期", "not a date")
    assert isinstance(error, ValueError)
    assert (error.code, error.zh, error.en) == (Code.BAD_DATE, "不是日期", "not a date")
    assert str(error) == "不是日期 / not a date"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.zh, copy.en) == (Code.BAD_DATE, "不是日期", "not a date")


def test_a_raised_error_has_chinese_and_english_reasons():
    error = raises(Code.BAD_BOOLEAN, cells.boolean, "有")
    assert "有" in error.zh and "是/否" in error.zh
    assert "yes/no" in error.en
    assert str(error) == f"{error.zh} / {error.en}"


# --- halfwidth ------------------------------------------------------------------------------


def test_halfwidth_folds_fullwidth_ascii_and_ideographic_space_only():
    assert cells.halfwidth("Ｈ１００１　ａ！～") == "H1001 a!~"
    # Chinese punctuation and other compatibility characters stay as they are (no NFKC)
    assert cells.halfwidth("因残、缺劳力。") == "因残、缺劳力。"
    assert cells.halfwidth("①㎡ﬁ") == "①㎡ﬁ"
    assert cells.halfwidth("￥") == "￥"  # U+FFE5 lies outside U+FF01–U+FF5E


def test_halfwidth_range_edges():
    assert cells.halfwidth("\uff01\uff5e") == "!~"
    assert cells.halfwidth("\uff00\uff5f") == "\uff00\uff5f"


# --- text and key ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [
    ("  张三 ", "张三"),
    ("\u3000张三\u00a0", "张三"),
    ("\u200b张三\ufeff", "张三"),
    ("甘肃省，临洮县（东）", "甘肃省，临洮县（东）"),  # free text keeps Chinese punctuation
    ("Ａ栋", "Ａ栋"),  # and full-width letters: only key() folds them
    (1001, "1001"),
    (1001.0, "1001"),
    (1.50, "1.5"),
    (0.25, "0.25"),
    (True, "TRUE"),
    (D(2024, 3, 1), "2024-03-01"),
    (dt.datetime(2024, 3, 1), "2024-03-01"),
    (dt.datetime(2024, 3, 1, 8, 30), "2024-03-01 08:30:00"),
    ("-张三反映", "-张三反映"),  # a dash before Chinese text is not a formula
    ("-1", "-1"),
    ("=", "="),
    ("a=b", "a=b"),
])
def test_text_accepts(raw, expected):
    assert cells.text(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000\u00a0\n"])
def test_text_empty_is_none(raw):
    assert cells.text(raw) is None


@pytest.mark.parametrize("raw", ["=SUM(A1:A3)", "+cmd|' /C calc'!A0", "-HYPERLINK(\"x\")", "@SUM(A1)",
                                 "=(1+1)", "  =A1"])
def test_text_refuses_formulas(raw):
    error = raises(Code.BAD_TEXT, cells.text, raw)
    assert "公式" in error.zh and "formula" in error.en


def test_text_length_limit():
    assert cells.text("字" * 200) == "字" * 200
    assert cells.text(" " + "字" * 200 + " ") == "字" * 200  # counted after stripping
    error = raises(Code.BAD_TEXT, cells.text, "字" * 201)
    assert "201" in error.zh and "200" in error.en
    assert cells.text("abcd", max_len=4) == "abcd"
    raises(Code.BAD_TEXT, cells.text, "abcde", max_len=4)


def test_text_refuses_non_finite_numbers():
    raises(Code.BAD_TEXT, cells.text, float("nan"))


@pytest.mark.parametrize("raw,expected", [
    ("Ｈ１００１", "H1001"),
    ("\u3000H1001\u3000", "H1001"),
    ("00123", "00123"),  # leading zeros of text survive
    (1001.0, "1001"),
    (1001, "1001"),
    (" P0001 ", "P0001"),
])
def test_key(raw, expected):
    assert cells.key(raw) == expected


def test_key_empty_and_formula():
    assert cells.key(None) is None and cells.key("\u3000") is None
    raises(Code.BAD_TEXT, cells.key, "＝SUM(A1)")  # a full-width = becomes a real one
    raises(Code.BAD_TEXT, cells.key, "H" * 201)


# --- boolean --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["是", "Y", "y", "Yes", "YES", "1", "true", "TRUE", "True", " 是 ", "Ｙ", "１",
                                 "ｔｒｕｅ", True, 1, 1.0])
def test_boolean_true(raw):
    assert cells.boolean(raw) is True


@pytest.mark.parametrize("raw", ["否", "N", "n", "no", "NO", "0", "false", "False", "\u3000否", "Ｎ", "０", False, 0, 0.0])
def test_boolean_false(raw):
    assert cells.boolean(raw) is False


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000"])
def test_boolean_empty_means_unknown_not_no(raw):
    assert cells.boolean(raw) is None


@pytest.mark.parametrize("raw", ["有", "无", "对", "x", "2", 2, 0.5, -1, "是的", "yes!", D(2024, 1, 1), float("nan")])
def test_boolean_refuses(raw):
    raises(Code.BAD_BOOLEAN, cells.boolean, raw)


# --- integer --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [("3", 3), (3, 3), (3.0, 3), ("３", 3), (" 12 ", 12), ("-2", -2),
                                          ("+4", 4), ("3.0", 3), ("０", 0), (0, 0)])
def test_integer_accepts(raw, expected):
    value = cells.integer(raw)
    assert value == expected and type(value) is int


@pytest.mark.parametrize("raw", [None, "", " \u3000"])
def test_integer_empty(raw):
    assert cells.integer(raw) is None


@pytest.mark.parametrize("raw", ["3.5", 3.5, "abc", "3人", "1,000", True, False, "1e3", float("inf"),
                                 D(2024, 1, 1), "٣"])
def test_integer_refuses(raw):
    raises(Code.BAD_INTEGER, cells.integer, raw)


# --- date -----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [
    ("2024-03-01", D(2024, 3, 1)),
    ("2024-3-1", D(2024, 3, 1)),
    ("2024/3/1", D(2024, 3, 1)),
    ("2024/03/01", D(2024, 3, 1)),
    ("2024.3.1", D(2024, 3, 1)),
    ("2024年3月1日", D(2024, 3, 1)),
    ("2024年03月01日", D(2024, 3, 1)),
    ("2024 年 3 月 1 日", D(2024, 3, 1)),
    ("2024年3月1", D(2024, 3, 1)),
    ("20240301", D(2024, 3, 1)),
    ("２０２４－０３－０１", D(2024, 3, 1)),
    ("２０２４年３月１日", D(2024, 3, 1)),
    ("\u30002024-03-01 ", D(2024, 3, 1)),
    ("2024-03-01 00:00:00", D(2024, 3, 1)),
    ("2024-03-01T08:15", D(2024, 3, 1)),
    ("2024-02-29", D(2024, 2, 29)),
    (D(2024, 3, 1), D(2024, 3, 1)),
    (dt.datetime(2024, 3, 1, 23, 59), D(2024, 3, 1)),
    (45352, D(2024, 3, 1)),  # Excel serial of 2024-03-01
    (45352.0, D(2024, 3, 1)),
    (45352.99, D(2024, 3, 1)),  # the fraction is the time of day
    (1, D(1899, 12, 31)),
    (2958465, D(9999, 12, 31)),
    (20240301, D(2024, 3, 1)),  # typed 20240301 that Excel made a number
    (20240301.0, D(2024, 3, 1)),
])
def test_date_accepts(raw, expected):
    value = cells.date(raw)
    assert value == expected and type(value) is dt.date


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_date_empty(raw):
    assert cells.date(raw) is None


@pytest.mark.parametrize("raw", ["2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "20241301", "20240230",
                                 "2024年2月30日", "0000-01-01"])
def test_date_refuses_impossible_calendar_dates(raw):
    error = raises(Code.BAD_DATE, cells.date, raw)
    assert "没有这一天" in error.zh


@pytest.mark.parametrize("raw", ["45352", "2024-03", "24-3-1", "2024-3/1", "2024/03/01/", "明天", "abc", "2024031",
                                 0, 0.5, -1, 2958466, 3_000_000.0, 20241301, True, float("nan"), dt.time(8, 0)])
def test_date_refuses(raw):
    error = raises(Code.BAD_DATE, cells.date, raw)
    assert "2024-03-01" in error.zh and "2024-03-01" in error.en


# --- month ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [
    ("2024-01", D(2024, 1, 1)),
    ("2024-1", D(2024, 1, 1)),
    ("2024/1", D(2024, 1, 1)),
    ("2024/12", D(2024, 12, 1)),
    ("2024.7", D(2024, 7, 1)),
    ("2024年1月", D(2024, 1, 1)),
    ("2024年11月", D(2024, 11, 1)),
    ("202401", D(2024, 1, 1)),
    ("２０２４－０１", D(2024, 1, 1)),
    ("2024-01-15", D(2024, 1, 1)),
    ("2024/1/31", D(2024, 1, 1)),
    ("2024年1月15日", D(2024, 1, 1)),
    ("20240115", D(2024, 1, 1)),
    (D(2024, 1, 15), D(2024, 1, 1)),
    (dt.datetime(2024, 1, 15, 9), D(2024, 1, 1)),
    (202401, D(2024, 1, 1)),
    (202401.0, D(2024, 1, 1)),
    (45352.0, D(2024, 3, 1)),  # a date cell formatted as General
    (20240115, D(2024, 1, 1)),
])
def test_month_accepts(raw, expected):
    assert cells.month(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "\u3000"])
def test_month_empty(raw):
    assert cells.month(raw) is None


@pytest.mark.parametrize("raw", ["2024-13", "2024-00", "202413", "2024年13月", "2024-02-30", "24-01", "2024",
                                 "一月", "2024-01-", 202413, 202413.0, 0, -5, True, "45352", 2958466])
def test_month_refuses(raw):
    error = raises(Code.BAD_MONTH, cells.month, raw)
    assert "2024-01" in error.zh and "month" in error.en


# --- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [
    ("1,234.56", 123456),
    ("¥1,234.5", 123450),
    ("￥1,234.5", 123450),
    ("¥ 90", 9000),
    ("1234元", 123400),
    ("1234.5 元", 123450),
    (" 90 ", 9000),
    ("１２３４．５６", 123456),
    ("１，２３４", 123400),
    ("0", 0),
    ("0.01", 1),
    ("1.230", 123),  # still exact in fen
    ("12,345,678", 1234567800),
    ("RMB 5", 500),
    (90, 9000),
    (0, 0),
    (1234.56, 123456),
    (0.1 + 0.2, 30),  # binary noise below a fen is not "more decimals"
    (19.99, 1999),
    (5600.0, 560000),
])
def test_money_accepts(raw, expected):
    value = cells.money_fen(raw)
    assert value == expected and type(value) is int


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000"])
def test_money_empty(raw):
    assert cells.money_fen(raw) is None


@pytest.mark.parametrize("raw", ["1.234", "0.001", 1.234, 0.005])
def test_money_refuses_more_than_two_decimals(raw):
    error = raises(Code.BAD_MONEY, cells.money_fen, raw)
    assert "两位" in error.zh and "2 decimals" in error.en


@pytest.mark.parametrize("raw", ["-5", "-0.5", "¥-5", -5, -0.5])
def test_money_refuses_negative(raw):
    error = raises(Code.BAD_MONEY, cells.money_fen, raw)
    assert "负" in error.zh and "negative" in error.en


@pytest.mark.parametrize("raw", ["abc", "1,5", "12,34.5", "1.2.3", ".5", "5.", "1 234", "五百", "1e3", "$5",
                                 True, float("inf"), float("nan"), D(2024, 1, 1)])
def test_money_refuses_non_amounts(raw):
    raises(Code.BAD_MONEY, cells.money_fen, raw)


# --- hours (a volunteer service's duration), in minutes ---------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [("1.5", 90), ("0.25", 15), (2, 120), (1.5, 90), ("２", 120),
                                               ("3小时", 180), ("0:10", 10), ("12:05", 725), (" 1.50 ", 90)])
def test_hours_become_minutes(raw, expected):
    value = cells.hours_minutes(raw)
    assert value == expected and type(value) is int


@pytest.mark.parametrize("raw", ["0.01", "1.333", 0.1234, "abc", "1:75", "-1", -1.5, True, float("nan"),
                                 float("inf"), D(2024, 1, 1), "1,5"])
def test_hours_refuses_what_is_no_whole_number_of_minutes(raw):
    raises(Code.BAD_HOURS, cells.hours_minutes, raw)


# --- items ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [
    ("因残、缺劳力", ["因残", "缺劳力"]),
    ("因残，缺劳力,因病;因学；因灾", ["因残", "缺劳力", "因病", "因学", "因灾"]),
    ("因残\n缺劳力\r\n因病", ["因残", "缺劳力", "因病"]),
    (" 因残 、、 缺劳力 、", ["因残", "缺劳力"]),
    ("\u3000因残\u3000、缺劳力", ["因残", "缺劳力"]),
    ("因病、因残、因病", ["因病", "因残"]),
    ("因残", ["因残"]),
    (3, ["3"]),
    (3.0, ["3"]),
])
def test_items(raw, expected):
    assert cells.items(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "  ", "、，;"])
def test_items_empty(raw):
    assert cells.items(raw) == []


# --- phone ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [
    ("13912345678", "13912345678"),
    (" 139 1234 5678 ", "13912345678"),
    ("139-1234-5678", "13912345678"),
    ("１３９１２３４５６７８", "13912345678"),
    ("+86 139 1234 5678", "13912345678"),
    (13912345678, "13912345678"),
    (13912345678.0, "13912345678"),
    ("0931-8123456", "0931-8123456"),
    ("09318123456", "0931-8123456"),
    ("0931 8123456", "0931-8123456"),
    ("(0931)8123456", "0931-8123456"),
    ("（0931）8123456", "0931-8123456"),
    ("010-62345678", "010-62345678"),
    ("01062345678", "010-62345678"),
    ("02087654321", "020-87654321"),
    ("0931-8123456-8001", "0931-8123456-8001"),
    ("0931-8123456转8001", "0931-8123456-8001"),
])
def test_phone_accepts(raw, expected):
    assert cells.phone(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_phone_empty(raw):
    assert cells.phone(raw) is None and cells.phone(raw, mobile_only=True) is None


@pytest.mark.parametrize("raw", ["1391234567", "139123456789", "23912345678", "abc", "0931-123456", "0931-0123456",
                                 "0931-812345678", "8123456", "00931-8123456", "0931-8123456-1234567", "1391234567x",
                                 13912345678.5, True, 1391234567, D(2024, 1, 1)])
def test_phone_refuses(raw):
    error = raises(Code.BAD_PHONE, cells.phone, raw)
    assert "电话" in error.zh and "phone" in error.en


def test_phone_mobile_only():
    assert cells.phone("139-1234-5678", mobile_only=True) == "13912345678"
    for landline in ("0931-8123456", "09318123456", "0931-8123456-8001"):
        error = raises(Code.BAD_PHONE, cells.phone, landline, mobile_only=True)
        assert "固定电话" in error.zh and "landline" in error.en
    error = raises(Code.BAD_PHONE, cells.phone, "12345", mobile_only=True)
    assert "手机号" in error.zh and "mobile" in error.en
