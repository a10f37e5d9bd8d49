"""What a REST request may carry: the patterns and strict types of every path, query and body
value, so that the OpenAPI document states exactly what the server checks.

Each pattern here is both published (the JSON Schema ``pattern`` of the parameter or property)
and enforced (pydantic checks the same expression before anything else runs), so a client
generated from the document is refused nothing the document allows, and the server accepts
nothing the document forbids. Values are taken as written: no "0.5" for an integer or a time,
no "yes" for a boolean, no full-width digits in a region code (the importers, which read what
people typed into spreadsheets, are lenient; the API is a contract between programs).

A few rules cannot be written as a schema: the check character of an ID number or a USCC, a
region required of a caller who has no jurisdiction of their own, a list that must name items of
the document sent with it, the file names of a multipart upload. Requests that break them answer
422 with one of the codes of :data:`SEMANTIC_CODES`, which the document lists in its 422 answers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict

from graph_schema.identifiers import normalize_id_number, normalize_uscc
from graph_schema.models import _strip

#: Spaces a key may not begin or end with (ASCII controls and space, NEL, no-break and
#: ideographic spaces …): the domain strips them, so a key that carried them would not be the
#: key the server uses.
_EDGE = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_INNER = r"[^\x00-\x1f\x7f-\x9f]"
#: A household, cadre or problem number: 1–64 characters, no control characters, no
#: surrounding spaces (numbers are kept as given: leading zeros and letters included).
KEY_PATTERN = rf"^{_EDGE}(?:{_INNER}*{_EDGE})?$"

_NZ2 = "(?:0[1-9]|[1-9][0-9])"  # a two-digit part that is not 00
_NZ3 = "(?:00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})"  # a three-digit part that is not 000
#: A region code of 2, 4, 6, 9 or 12 digits (province, city, county, township, village): the
#: province part is never 00 (000000000000 is no region: GB/T 2260 numbers provinces from 11),
#: and once a part is zero every part below it is zero too (620022 would be a county of no city).
REGION_PATTERN = (rf"^{_NZ2}(?:00(?:00(?:000(?:000)?)?)?|{_NZ2}(?:00(?:000(?:000)?)?"
                  rf"|{_NZ2}(?:000(?:000)?|{_NZ3}(?:[0-9]{{3}})?)?)?)?$")
#: 公民身份号码: 17 digits and a check character (x and X alike); the check character itself is
#: verified by the server (ISO 7064 MOD 11-2), answered 422 ``ID_CHECKSUM`` when wrong.
ID_PATTERN = r"^[0-9]{17}[0-9Xx]$"
#: 统一社会信用代码: 18 characters of the code's alphabet (no I, O, S, V, Z); the check character
#: is verified by the server (GB 32100), answered 422 ``USCC_CHECKSUM`` when wrong.
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
_DATE = r"(?:19[0-9]{2}|2[0-9]{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
#: A calendar day between 1900 and 2999, as YYYY-MM-DD (the format ``date`` rules out 2024-02-30).
DAY_PATTERN = rf"^{_DATE}$"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
#: An RFC 3339 time with its offset, seconds included (Z or ±hh:mm; up to six decimals; no
#: leap second, which Python's times cannot hold).
INSTANT_PATTERN = rf"^{_DATE}T{_TIME}(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"

#: The codes of the 422 answers to requests the schema allows but a rule beyond it refuses.
SEMANTIC_CODES = {
    "ID_CHECKSUM": "身份证号校验码错误 / the ID number's check character is wrong",
    "ID_BIRTH_DATE": "身份证号中的出生日期无效 / the birth date inside the ID number is no valid day, before 1900 "
                     "or in the future",
    "USCC_CHECKSUM": "统一社会信用代码校验码错误 / the USCC's check character is wrong",
    "REGION_REQUIRED": "调用者没有辖区（管理员）时须指定区划 / a caller without a jurisdiction (an admin) must "
                       "name the region",
    "NOT_IN_PROPOSAL": "only 中的户不在所附方案中 / `only` names households that are not in the proposal",
    "PERIOD_ORDER": "统计期开始晚于截止日期 / the period starts after `as_of`",
    "SERVICE_OR_CATEGORY": "需求须有服务编码或类别 / a need names a service code or a category",
    "NEED_SOURCE": "来源「登记」只用于残疾人登记的需求列 / source 登记 is the registry's own",
    "DATE_ORDER": "结束日期早于开始日期 / a period ends before it starts",
    "PROVIDER": "须有提供方：一个组织或一个部门 / an organisation or a department must provide it",
    "SUBSIDY_OVER_COST": "补贴金额大于费用 / the subsidy exceeds the cost",
    "VOLUNTEER_FIGURES": "只有志愿服务记录填写志愿者人数和服务时长 / only a volunteer service entry has volunteers "
                         "and minutes",
    "DUPLICATE_KEY": "同一批次中一个编码出现两次 / one key appears twice in one batch",
    "FILE_NAME": "上传文件名为空、含路径、过长或重复 / an upload's file name is empty, a path, too long or repeated",
    "IDEMPOTENCY_KEY_REUSED": "Idempotency-Key 已随另一个请求发送过 / the Idempotency-Key was sent before with another "
                              "request",
}


def _matching(pattern: str, what: str, wanted: type | tuple[type, ...] = ()):
    """A validator that lets a value through only as text matching ``pattern`` (or, from Python
    callers, already of type ``wanted``)."""
    compiled = re.compile(pattern)

    def check(value: Any) -> Any:
        if wanted and isinstance(value, wanted):
            return value
        if isinstance(value, str) and compiled.fullmatch(value):
            return value
        raise ValueError(f"须为{what}")

    return BeforeValidator(check)


Day = Annotated[dt.date, Strict(False), _matching(DAY_PATTERN, " YYYY-MM-DD（1900–2999 年）/ a day YYYY-MM-DD, "
                                                               "years 1900–2999", dt.date),
                Field(json_schema_extra={"pattern": DAY_PATTERN})]
Instant = Annotated[dt.datetime, Strict(False), _matching(INSTANT_PATTERN, "带时区的 RFC 3339 时间 / an RFC 3339 time "
                                                                           "with its offset", dt.datetime),
                    Field(json_schema_extra={"pattern": INSTANT_PATTERN})]


def whole(low: int, high: int) -> Any:
    """A whole number from ``low`` to ``high`` in a query string: digits only ("1.0", "+1",
    "1_000" are refused). (The bounds come before the check, or pydantic would publish them as
    unknown keywords instead of ``minimum`` and ``maximum``.)"""
    return Annotated[int, Field(ge=low, le=high), _matching(r"^-?[0-9]+$", "整数 / an integer", int)]


def _flag(value: Any) -> Any:
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


#: A yes/no in a query string: exactly ``true`` or ``false``.
Flag = Annotated[bool, Strict(), BeforeValidator(_flag)]


def _json_number(integral: bool):
    """A number as JSON Schema counts it: an integer may be written 490.0, but no text ("490")
    and no boolean is a number (pydantic alone would take both, or refuse the 490.0)."""
    def check(value: Any) -> Any:
        if isinstance(value, float) and integral and value.is_integer():
            return int(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise ValueError("须为整数 / an integer" if integral else "须为数 / a number")

    return BeforeValidator(check)


#: An integer or a number of a JSON body. (Bounds go before the check, as for :func:`whole`.)
JsonInt = Annotated[int, Strict(False), _json_number(True)]


def counted(low: int, high: int) -> Any:
    """A whole number from ``low`` to ``high`` in a JSON body."""
    return Annotated[int, Field(ge=low, le=high), Strict(False), _json_number(True)]
JsonFloat = Annotated[float, Strict(False), _json_number(False)]

Key = Annotated[str, Field(min_length=1, max_length=64, pattern=KEY_PATTERN)]
RegionCode = Annotated[str, Field(max_length=12, pattern=REGION_PATTERN)]
#: (The check characters are verified after the pattern: 422 with the error's ``code``.)
IdNumber = Annotated[str, Field(min_length=18, max_length=18, pattern=ID_PATTERN), AfterValidator(normalize_id_number)]
Uscc = Annotated[str, Field(min_length=18, max_length=18, pattern=USCC_PATTERN), AfterValidator(normalize_uscc)]
Money = Annotated[int, Field(ge=0, le=100_000_000_000, description="分 / fen (1 yuan = 100 fen)"), Strict(False),
                  _json_number(True)]


def optional_text(most: int, description: str | None = None) -> Any:
    """Optional text of at most ``most`` characters, stripped as the domain strips it (blank =
    None): the bound applies to the text, never to the None a blank becomes."""
    return Annotated[Annotated[str, Field(max_length=most, description=description)] | None,
                     BeforeValidator(_strip)]


class Body(BaseModel):
    """A JSON request body: no unknown fields, and no value of another JSON type converted
    (``"1"`` is no integer, ``0`` no boolean); days and times still come as text."""

    model_config = ConfigDict(extra="forbid", strict=True)


HouseholdNoP = Annotated[Key, Path(description="户编号 / household number")]
CadreNoP = Annotated[Key, Path(description="干部编号 / cadre number")]
UsccP = Annotated[Uscc, Path(description="统一社会信用代码（校验码错误时 422 USCC_CHECKSUM）/ unified social credit "
                                         "code (a wrong check character answers 422 USCC_CHECKSUM)")]
IdNumberP = Annotated[IdNumber, Path(description="完整身份证号，x 与 X 相同（校验码或出生日期无效时 422）/ the full ID "
                                                 "number, x as X (a wrong check character or birth date answers 422)")]
