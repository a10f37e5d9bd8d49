"""The file of one-time sign-in codes an organiser hands out, shared by ``jiedui user
import-cadres``/``import-orgs`` and the console's accounts page.

One row per new account: name, number (干部编号 or 统一社会信用代码), user name, code and the time
the code stops working, and a second sheet saying how to hand the codes out. The codes exist
nowhere else (the store keeps their hashes), so the file is written once: the command creates it
with permissions 0600 before making the accounts and refuses to overwrite a file, and the console sends it as the answer to
the request that made the accounts, keeping no copy.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import xlsxwriter

from api.report_output import XLSX
from graph_schema.access.accounts import IssuedCode
from graph_schema.access.models import Role
from graph_schema.errors import JieduiError

__all__ = ["XLSX", "codes_xlsx", "file_name", "open_codes_file"]

HEADERS = {Role.CADRE: ["姓名", "干部编号", "用户名", "一次性登录码", "有效期至"],
           Role.ORG: ["名称", "统一社会信用代码", "用户名", "一次性登录码", "有效期至"]}
NOTES = (
    "一次性登录码 / one-time sign-in codes",
    "每人只交给本人自己那一行（当面或短信），不要转发整个文件。/ Give each person their own line only (in person or by text), never the file.",
    "登录页输入用户名，在「密码」处输入登录码，然后设置自己的密码；登录码只能用一次。/ "
    "On the sign-in page: the user name, the code where the password goes, then a password of their own; a code works once.",
    "过期或遗失的登录码由组织者在「账号」页重置。/ An expired or lost code is reset by an organiser on the accounts page.",
    "发放完毕后删除本文件。/ Delete this file once the codes are handed out.",
)


def _local_time(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def codes_xlsx(issued: Sequence[IssuedCode]) -> bytes:
    """The workbook of the codes (every cell text, so a number never loses its zeros)."""
    role = issued[0].role if issued else Role.CADRE
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                      "strings_to_formulas": False}) as book:
        sheet = book.add_worksheet("登录码")
        sheet.write_row(0, 0, HEADERS[role], book.add_format({"bold": True}))
        for i, row in enumerate(issued, start=1):
            sheet.write_row(i, 0, [row.name, row.number, row.user_id, row.code, _local_time(row.valid_until)])
        sheet.set_column(0, 0, 24)
        sheet.set_column(1, 4, 22)
        notes = book.add_worksheet("说明")
        for i, line in enumerate(NOTES):
            notes.write_string(i, 0, line)
        notes.set_column(0, 0, 120)
    return buffer.getvalue()


def file_name(role: Role, region: str, day: dt.date) -> str:
    return f"登录码-{'干部' if role is Role.CADRE else '社会组织'}-{region}-{day.isoformat()}.xlsx"


def open_codes_file(path: str | Path) -> BinaryIO:
    """A new file for the codes, readable by its owner only, opened before the accounts are made
    (so a path that cannot be written costs no codes); an existing file is never overwritten."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise JieduiError(f"文件已存在，不覆盖：{path}", f"the file exists and is not overwritten: {path}") from exc
    except OSError as exc:
        raise JieduiError(f"无法写入文件 {path}：{exc.strerror}", f"cannot write {path}: {exc.strerror}") from exc
    os.fchmod(fd, 0o600)  # whatever the umask
    return os.fdopen(fd, "wb")
