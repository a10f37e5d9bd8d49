"""Reading organisers' files: encodings detected, header rows found below title rows, row numbers
as the spreadsheet shows them, and damaged or foreign files refused with their code."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import random
from pathlib import Path

import pytest
import xlsxwriter

from importers import cells
from importers.contract import SPECS, Code
from importers.readers import ReadError, Table, normalise_header, read_table

KNOWN = {name for spec in SPECS for column in spec.columns for name in (column.header, *column.aliases)}


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def refused(code: Code, path: Path, known=KNOWN) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_table(path, known)
    assert info.value.code is code
    assert info.value.path == path
    assert info.value.zh and info.value.en
    return info.value


def write_household_book(path: Path) -> Path:
    """A sheet as organisers make them: merged title, starred header with a unit, a blank row."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("家庭")
    book.add_worksheet("说明").write(0, 0, "第二个工作表不读取")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range(0, 0, 0, 5, "某某县监测户家庭信息表（2024年）")
    sheet.write_row(1, 0, ["户编号*", "户主姓名 *", "年人均纯收入（元）", "开始日期", "联系电话", "家庭\n人口"])
    sheet.write_number(2, 0, 1001)  # typed as a number: comes back as 1001.0
    sheet.write_string(2, 1, "张三")
    sheet.write_number(2, 2, 5600.5)
    sheet.write_datetime(2, 3, dt.datetime(2024, 3, 1), day)
    sheet.write_number(2, 4, 13912345678)
    sheet.write_formula(2, 5, "=2+3", None, 5)  # the cached result is what is read
    # row 4 left blank
    sheet.write_row(4, 0, ["H0002", "李四"])
    sheet.write_row(5, 0, ["  ", "\u3000"])  # only spaces: as good as blank
    sheet.write_row(6, 0, ["H0003", "王五", "", "2024/3/2", "", 3, "表外备注"])
    book.close()
    return path


# --- normalise_header -----------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [
    (" 户编号* ", "户编号"),
    ("*户编号", "户编号"),
    ("户编号＊", "户编号"),
    ("年人均纯收入（元）", "年人均纯收入"),
    ("年人均纯收入(元)", "年人均纯收入"),
    ("金额（元）*", "金额"),
    ("*金额 (元)", "金额"),
    ("家庭\n人口", "家庭人口"),
    ("户 编 号", "户编号"),
    ("\u3000户主姓名\u3000", "户主姓名"),
    ("ｈｏｕｓｅｈｏｌｄ＿ｎｏ", "household_no"),
    ("Household_No", "Household_No"),
    ("（元）", "(元)"),  # nothing but a bracket: kept rather than emptied
    ("", ""),
    ("风险因素（可多选，用、分隔）", "风险因素"),
])
def test_normalise_header(raw, expected):
    assert normalise_header(raw) == expected


# --- xlsx -----------------------------------------------------------------------------------


def test_xlsx_title_row_starred_headers_float_ids_dates_and_blank_rows(tmp_path):
    table = read_table(write_household_book(tmp_path / "家庭.xlsx"), KNOWN)
    assert isinstance(table, Table)
    assert table.path == tmp_path / "家庭.xlsx" and table.encoding is None
    assert table.header_row == 2
    assert table.headers == ["户编号", "户主姓名", "年人均纯收入", "开始日期", "联系电话", "家庭人口"]
    assert [number for number, _ in table.rows] == [3, 5, 7]
    first = table.rows[0][1]
    assert first[0] == 1001.0 and isinstance(first[0], float)
    assert cells.key(first[0]) == "1001"
    assert first[1] == "张三" and first[2] == 5600.5
    assert first[3] == dt.date(2024, 3, 1) and cells.date(first[3]) == dt.date(2024, 3, 1)
    assert cells.phone(first[4]) == "13912345678"
    assert first[5] == 5.0
    second = table.rows[1][1]
    assert len(second) == 6 and second[:2] == ["H0002", "李四"]
    assert all(cells.text(value) is None for value in second[2:])
    third = table.rows[2][1]
    assert third == ["H0003", "王五", "", "2024/3/2", "", 3.0]  # cut to the header width


def test_xlsx_leading_blank_rows_and_columns_keep_sheet_numbering(tmp_path):
    path = tmp_path / "干部.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(2, 1, ["干部编号", "姓名", "手机号"])  # B3
    sheet.write_row(3, 1, ["C001", "赵六", "13800000000"])
    sheet.write_row(6, 1, ["C002", "钱七"])
    book.close()
    table = read_table(path, KNOWN)
    assert table.header_row == 3
    assert table.headers == ["", "干部编号", "姓名", "手机号"]
    assert table.rows == [(4, ["", "C001", "赵六", "13800000000"]), (7, ["", "C002", "钱七", ""])]


def test_xlsx_extension_is_case_insensitive(tmp_path):
    path = write_household_book(tmp_path / "家庭.XLSX")
    assert read_table(path, KNOWN).header_row == 2


def test_truncated_xlsx_is_unreadable(tmp_path):
    path = write_household_book(tmp_path / "家庭.xlsx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    error = refused(Code.UNREADABLE, path)
    assert "Excel" in error.zh and "workbook" in error.en
    assert error.__cause__ is not None


def test_random_bytes_named_xlsx_are_unreadable(tmp_path):
    path = tmp_path / "家庭.xlsx"
    path.write_bytes(random.Random(7).randbytes(4096))
    refused(Code.UNREADABLE, path)


def test_missing_workbook_is_unreadable(tmp_path):
    refused(Code.UNREADABLE, tmp_path / "没有.xlsx")


def test_empty_sheet_is_an_unknown_file(tmp_path):
    path = tmp_path / "空.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet()
    book.close()
    error = refused(Code.UNKNOWN_FILE, path)
    assert "空.xlsx" in error.zh and "空.xlsx" in error.en


def test_sheet_without_known_headers_is_an_unknown_file(tmp_path):
    path = tmp_path / "工资表.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["工号", "月份", "应发工资"])
    sheet.write_row(1, 0, ["001", "2024-01", 5000])
    book.close()
    error = refused(Code.UNKNOWN_FILE, path)
    assert "工资表.xlsx" in error.zh and "工资表.xlsx" in error.en


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list open files")
def test_files_are_not_held_open_after_return(tmp_path):
    book = write_household_book(tmp_path / "家庭.xlsx")
    text = write_csv(tmp_path / "家庭.csv", "户编号,户主姓名\nH1,张三\n")
    broken = tmp_path / "坏.xlsx"
    broken.write_bytes(b"PK\x03\x04" + bytes(100))

    def open_files() -> set[str]:
        found = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                found.add(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                continue
        return found

    read_table(book, KNOWN)
    read_table(text, KNOWN)
    with pytest.raises(ReadError):
        read_table(broken, KNOWN)
    assert not {str(book), str(text), str(broken)} & open_files()


# --- csv encodings --------------------------------------------------------------------------

CSV_TEXT = "户编号,户主姓名,详细地址\nH001,张三,临洮县（东）\nH002,李四,\n"


@pytest.mark.parametrize("encoding,detected", [
    ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"),
    ("gbk", "gb18030"),
    ("gb18030", "gb18030"),
    ("utf-16", "utf-16"),
])
def test_csv_encodings_are_detected(tmp_path, encoding, detected):
    path = write_csv(tmp_path / "家庭.csv", CSV_TEXT, encoding)
    table = read_table(path, KNOWN)
    assert table.encoding == detected
    assert table.headers == ["户编号", "户主姓名", "详细地址"]  # no BOM glued to the first header
    assert table.header_row == 1
    assert table.rows == [(2, ["H001", "张三", "临洮县（东）"]), (3, ["H002", "李四", ""])]


def test_gb18030_characters_outside_gbk_are_read(tmp_path):
    name = "王䶮𠀀"
    with pytest.raises(UnicodeEncodeError):
        name.encode("gbk")
    path = write_csv(tmp_path / "家庭.csv", f"户编号,户主姓名\nH001,{name}\n", "gb18030")
    assert path.read_bytes().decode("gb18030")  # and it is not UTF-8:
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    table = read_table(path, KNOWN)
    assert table.encoding == "gb18030" and table.rows == [(2, ["H001", name])]


def test_bytes_that_decode_in_no_encoding_are_unreadable(tmp_path):
    data = "户编号,户主姓名\n".encode() + b"H001,\x80\xff\xfe\xfd\n"
    for encoding in ("utf-8", "gb18030"):
        with pytest.raises(UnicodeDecodeError):
            data.decode(encoding)
    assert not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))
    path = tmp_path / "家庭.csv"
    path.write_bytes(data)
    error = refused(Code.UNREADABLE, path)
    assert "编码" in error.zh and "decode" in error.en


def test_utf16_bom_with_broken_content_is_unreadable(tmp_path):
    path = tmp_path / "家庭.csv"
    path.write_bytes("户编号,户主姓名\n".encode("utf-16") + b"\x41")  # odd length: truncated
    refused(Code.UNREADABLE, path)


def test_utf8_bom_with_broken_content_is_unreadable(tmp_path):
    path = tmp_path / "家庭.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "户编号,户主姓名\n".encode("gbk"))
    refused(Code.UNREADABLE, path)


def test_binary_that_happens_to_decode_is_an_unknown_file_not_a_crash(tmp_path):
    data = bytes(range(0x20, 0x7f)) * 3 + "乱码".encode("gbk")
    assert data.decode("gb18030")
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    refused(Code.UNKNOWN_FILE, path)


def test_missing_csv_is_unreadable(tmp_path):
    refused(Code.UNREADABLE, tmp_path / "没有.csv")


def test_empty_csv_is_an_unknown_file(tmp_path):
    refused(Code.UNKNOWN_FILE, write_csv(tmp_path / "家庭.csv", ""))


# --- csv layout -----------------------------------------------------------------------------


def test_csv_title_row_and_blank_rows_are_counted(tmp_path):
    text = ("某某县监测户家庭信息表,,\n"
            ",,\n"
            "户编号*,户主姓名,年人均纯收入（元）\n"
            "H001,张三,\"5,600\"\n"
            ",,\n"
            "\n"
            " , \u3000 ,\n"
            "H002,李四,90\n")
    table = read_table(write_csv(tmp_path / "家庭.csv", text, "utf-8-sig"), KNOWN)
    assert table.header_row == 3
    assert table.headers == ["户编号", "户主姓名", "年人均纯收入"]
    assert table.rows == [(4, ["H001", "张三", "5,600"]), (8, ["H002", "李四", "90"])]


def test_csv_rows_are_padded_and_cut_to_the_header_width(tmp_path):
    text = "户编号,户主姓名,详细地址,,\nH001\nH002,李四,1号,多余,更多\n"
    table = read_table(write_csv(tmp_path / "家庭.csv", text), KNOWN)
    assert table.headers == ["户编号", "户主姓名", "详细地址"]  # trailing empty header cells dropped
    assert table.rows == [(2, ["H001", None, None]), (3, ["H002", "李四", "1号"])]


def test_csv_inner_empty_header_is_kept_in_place(tmp_path):
    text = "户编号,,户主姓名\nH001,x,张三\n"
    table = read_table(write_csv(tmp_path / "家庭.csv", text), KNOWN)
    assert table.headers == ["户编号", "", "户主姓名"]
    assert table.rows == [(2, ["H001", "x", "张三"])]


def test_csv_quoted_line_break_is_one_spreadsheet_row(tmp_path):
    text = "户编号,详细地址,户主姓名\nH001,\"一号\n二单元\",张三\nH002,,李四\n"
    table = read_table(write_csv(tmp_path / "家庭.csv", text), KNOWN)
    assert table.rows == [(2, ["H001", "一号\n二单元", "张三"]), (3, ["H002", "", "李四"])]


def test_semicolon_delimited_csv(tmp_path):
    text = "户编号;户主姓名;风险因素\nH001;张三;\"因残;缺劳力\"\nH002;李四,王;因病\n"
    table = read_table(write_csv(tmp_path / "家庭.csv", text), KNOWN)
    assert table.headers == ["户编号", "户主姓名", "风险因素"]
    assert table.rows == [(2, ["H001", "张三", "因残;缺劳力"]), (3, ["H002", "李四,王", "因病"])]


def test_comma_csv_with_semicolons_inside_cells_stays_comma(tmp_path):
    text = "户编号,户主姓名,风险因素\nH001,张三,因残;缺劳力;因病\n"
    table = read_table(write_csv(tmp_path / "家庭.csv", text), KNOWN)
    assert table.rows == [(2, ["H001", "张三", "因残;缺劳力;因病"])]


def test_tab_delimited_txt(tmp_path):
    text = "户编号\t户主姓名\t详细地址\nH001\t张三\t1号, 2单元\n"
    table = read_table(write_csv(tmp_path / "家庭.txt", text, "gbk"), KNOWN)
    assert table.headers == ["户编号", "户主姓名", "详细地址"]
    assert table.rows == [(2, ["H001", "张三", "1号, 2单元"])]


def test_english_aliases_match_case_insensitively_and_keep_their_spelling(tmp_path):
    text = "Household_No,HEAD_NAME,address\nH001,张三,1号\n"
    table = read_table(write_csv(tmp_path / "households.csv", text), KNOWN)
    assert table.header_row == 1
    assert table.headers == ["Household_No", "HEAD_NAME", "address"]


def test_header_is_the_row_with_most_known_names(tmp_path):
    text = ("说明：户编号,姓名\n"  # a note naming one known header plus 姓名 : 1 hit after normalising
            "户编号,户主姓名\n"  # 2 hits
            "户编号,户主姓名,详细地址,家庭人口\n"  # 4 hits: the header
            "H001,张三,1号,3\n")
    table = read_table(write_csv(tmp_path / "家庭.csv", text), KNOWN)
    assert table.header_row == 3
    assert table.rows == [(4, ["H001", "张三", "1号", "3"])]


def test_the_first_of_equally_good_header_rows_wins(tmp_path):
    text = "户编号,户主姓名\n户编号,户主姓名\nH001,张三\n"
    table = read_table(write_csv(tmp_path / "家庭.csv", text), KNOWN)
    assert table.header_row == 1
    assert table.rows == [(2, ["户编号", "户主姓名"]), (3, ["H001", "张三"])]


def test_one_known_name_is_not_a_header(tmp_path):
    error = refused(Code.UNKNOWN_FILE, write_csv(tmp_path / "a.csv", "户编号,说明\nH001,x\n"))
    assert "a.csv" in error.zh


def test_header_below_the_first_twenty_rows_is_not_searched(tmp_path):
    at_20 = "说明\n" * 19 + "户编号,户主姓名\nH001,张三\n"
    assert read_table(write_csv(tmp_path / "a.csv", at_20), KNOWN).header_row == 20
    at_21 = "说明\n" * 20 + "户编号,户主姓名\nH001,张三\n"
    refused(Code.UNKNOWN_FILE, write_csv(tmp_path / "b.csv", at_21))


def test_known_headers_are_the_callers(tmp_path):
    path = write_csv(tmp_path / "a.csv", "工号,应发工资\n1,2\n")
    refused(Code.UNKNOWN_FILE, path)
    assert read_table(path, ["工号", "应发工资（元）"]).headers == ["工号", "应发工资"]


# --- other files ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["家庭.pdf", "家庭.json", "家庭", "家庭.csv.bak"])
def test_unknown_extension_is_an_unknown_file(tmp_path, name):
    path = write_csv(tmp_path / name, "户编号,户主姓名\nH001,张三\n")
    error = refused(Code.UNKNOWN_FILE, path)
    assert name in error.zh and name in error.en


def test_read_error_shape():
    error = ReadError(Code.UNREADABLE, "坏了", "broken", Path("a.csv"))
    assert isinstance(error, Exception)
    assert (error.code, error.zh, error.en, error.path) == (Code.UNREADABLE, "坏了", "broken", Path("a.csv"))
    assert str(error) == "坏了 / broken"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.zh, copy.en, copy.path) == (Code.UNREADABLE, "坏了", "broken", Path("a.csv"))


def test_accepts_a_string_path(tmp_path):
    path = write_csv(tmp_path / "家庭.csv", "户编号,户主姓名\nH001,张三\n")
    table = read_table(str(path), KNOWN)
    assert table.path == path and isinstance(table.path, Path)
