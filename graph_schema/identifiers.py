"""Validation and normalisation of Chinese identifiers.

Covered identifiers:

* 公民身份号码 (resident identity number, GB 11643-1999), checked with
  ISO 7064 MOD 11-2.
* 残疾人证号 (disability certificate number): the holder's 18-character
  identity number followed by one category digit (1-7) and one grade
  digit (1-4).
* 统一社会信用代码 (unified social credit code, GB 32100-2015).
* 区划代码 (12-digit statistical division code: 2 province + 2 city +
  2 county + 3 township + 3 village).

All ``normalize_*`` functions return the canonical string form or raise
:class:`IdentifierError`, which carries a stable machine-readable ``code``.
Values are never guessed or repaired: a number that a spreadsheet turned
into a float, or an identity number that lost its trailing ``X``, is
rejected with a specific reason.
"""

from __future__ import annotations

import numbers
import re
from functools import lru_cache
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

__all__ = [
    "IdentifierError",
    "RegionLevel",
    "normalize_id_number",
    "id_birth_date",
    "id_sex",
    "mask_id_number",
    "id_check_char",
    "normalize_cert_number",
    "cert_parts",
    "normalize_uscc",
    "uscc_check_char",
    "normalize_region_code",
    "region_level",
    "region_parent",
    "region_prefix",
    "region_ancestors",
]


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class IdentifierError(ValueError):
    """An identifier failed validation.

    Attributes:
        code: stable machine code such as ``"ID_CHECKSUM"``.
        value: the offending input value (as received).
        reason_zh: human-readable reason in Chinese.
        reason_en: human-readable reason in English.
    """

    def __init__(self, code: str, value: object, reason_zh: str, reason_en: str) -> None:
        self.code = code
        self.value = value
        self.reason_zh = reason_zh
        self.reason_en = reason_en
        super().__init__(f"{reason_zh} / {reason_en}: {value!r}")

    def __reduce__(self):  # keep the exception picklable despite the custom signature
        return (type(self), (self.code, self.value, self.reason_zh, self.reason_en))


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------

# Full-width ASCII variants (U+FF01..U+FF5E) -> ASCII, ideographic space -> space.
_FULLWIDTH_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH_TABLE[0x3000] = 0x20

# A decimal or scientific-notation number, as produced when a spreadsheet
# stores a long digit string as a floating-point value.
_FLOAT_TEXT_RE = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")

_ASCII_DIGITS = frozenset("0123456789")


def _clean_text(text: str) -> str:
    """Normalise full-width characters to ASCII and strip surrounding whitespace."""
    return text.translate(_FULLWIDTH_TABLE).strip()


def _looks_like_float_text(text: str) -> bool:
    """True for strings such as ``"6.2e+17"`` or ``"620822198903216000.0"``."""
    if "." not in text and "e" not in text.lower():
        return False
    return _FLOAT_TEXT_RE.fullmatch(text) is not None


def _is_float_value(value: object) -> bool:
    """True for floating-point values (including numpy floats and Decimal)."""
    if isinstance(value, (float, Decimal)):
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)


def _is_int_value(value: object) -> bool:
    """True for integer values (including numpy integers) but not booleans."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# 公民身份号码 (GB 11643-1999)
# ---------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_ALLOWED = _ASCII_DIGITS | {"X"}
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_ID_MIN_BIRTH = date(1900, 1, 1)


def id_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for 17 identity digits."""
    if not isinstance(first17, str):
        raise IdentifierError(
            "ID_CHARS", first17,
            "身份证号前17位必须是字符串",
            "the first 17 characters of an ID number must be a string",
        )
    text = _clean_text(first17)
    if not all(ch in _ASCII_DIGITS for ch in text):
        raise IdentifierError(
            "ID_CHARS", first17,
            "身份证号前17位只能包含数字",
            "the first 17 characters of an ID number must be digits",
        )
    if len(text) != 17:
        raise IdentifierError(
            "ID_LENGTH", first17,
            f"计算校验码需要17位数字，实际为{len(text)}位",
            f"computing the check character needs 17 digits, got {len(text)}",
        )
    total = sum(int(ch) * w for ch, w in zip(text, _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11]


def _id_text(value: object) -> str:
    """Convert an incoming ID value to cleaned text or raise a typed error."""
    if value is None:
        raise IdentifierError("ID_EMPTY", value, "身份证号为空", "ID number is empty")
    if isinstance(value, bool):
        raise IdentifierError(
            "ID_CHARS", value, "身份证号不能是布尔值", "ID number must not be a boolean",
        )
    if _is_float_value(value):
        raise IdentifierError(
            "ID_FLOAT", value,
            "身份证号被存成了浮点数（表格中常见），末位可能已丢失，请以文本格式重新导出",
            "ID number was stored as a floating-point number (common in spreadsheets); "
            "digits may have been lost, re-export the column as text",
        )
    if _is_int_value(value):
        return str(int(value))
    if not isinstance(value, str):
        raise IdentifierError(
            "ID_CHARS", value,
            f"身份证号类型不支持：{type(value).__name__}",
            f"unsupported ID number type: {type(value).__name__}",
        )
    text = _clean_text(value)
    if not text:
        raise IdentifierError("ID_EMPTY", value, "身份证号为空", "ID number is empty")
    if _looks_like_float_text(text):
        raise IdentifierError(
            "ID_FLOAT", value,
            "身份证号看起来是被表格转换成的浮点数或科学计数法，末位可能已丢失，请以文本格式重新导出",
            "ID number looks like a spreadsheet float or scientific notation; "
            "digits may have been lost, re-export the column as text",
        )
    return text.upper()


@lru_cache(maxsize=1 << 16)
def _normalize_id_text(value: str) -> str:
    return _normalize_id_number(value)


def _parse_birth_date(digits8: str) -> date | None:
    """Parse YYYYMMDD into a date, or return None when it is not a calendar date."""
    try:
        return date(int(digits8[0:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None


def normalize_id_number(value: object) -> str:
    """Validate a 公民身份号码 and return its canonical 18-character form (see below)."""
    # an import checks each ID several times (the cell, the certificate, the model): text inputs
    # are memoised; errors are not cached, so a bad value is reported every time
    if type(value) is str:
        return _normalize_id_text(value)
    return _normalize_id_number(value)


def _normalize_id_number(value: object) -> str:
    """Validate a 公民身份号码 and return its canonical 18-character form.

    Surrounding whitespace is stripped, full-width digits and letters are
    converted to ASCII, and a lower-case ``x`` is upper-cased. Floats,
    scientific notation and 17-character values are rejected, never repaired.
    """
    text = _id_text(value)

    if any(ch not in _ID_ALLOWED for ch in text) or "X" in text[:-1]:
        raise IdentifierError(
            "ID_CHARS", value,
            "身份证号只能包含数字，且仅最后一位可以是X",
            "ID number may contain only digits, with X allowed only as the last character",
        )
    if len(text) != 18:
        if len(text) == 17 and "X" not in text:
            raise IdentifierError(
                "ID_LENGTH", value,
                "身份证号只有17位，末位校验码（可能是X）可能已丢失",
                "ID number has 17 characters; the trailing check character (possibly X) "
                "may have been lost",
            )
        raise IdentifierError(
            "ID_LENGTH", value,
            f"身份证号应为18位，实际为{len(text)}位",
            f"ID number must have 18 characters, got {len(text)}",
        )
    if _ID_RE.fullmatch(text) is None:  # defensive; covered by the checks above
        raise IdentifierError(
            "ID_CHARS", value,
            "身份证号格式不正确",
            "ID number has an invalid format",
        )

    birth = _parse_birth_date(text[6:14])
    if birth is None:
        raise IdentifierError(
            "ID_BIRTH_DATE", value,
            f"身份证号中的出生日期不是有效日期：{text[6:14]}",
            f"birth date in ID number is not a valid calendar date: {text[6:14]}",
        )
    if birth < _ID_MIN_BIRTH:
        raise IdentifierError(
            "ID_BIRTH_DATE", value,
            f"身份证号中的出生日期早于1900-01-01：{birth.isoformat()}",
            f"birth date in ID number is before 1900-01-01: {birth.isoformat()}",
        )
    if birth > date.today():
        raise IdentifierError(
            "ID_BIRTH_DATE", value,
            f"身份证号中的出生日期晚于今天：{birth.isoformat()}",
            f"birth date in ID number is in the future: {birth.isoformat()}",
        )

    expected = id_check_char(text[:17])
    if text[17] != expected:
        raise IdentifierError(
            "ID_CHECKSUM", value,
            f"身份证号校验码错误：末位应为{expected}，实际为{text[17]}",
            f"ID number checksum mismatch: last character should be {expected}, "
            f"got {text[17]}",
        )
    return text


def id_birth_date(id_number: str) -> date:
    """Return the birth date encoded in a valid identity number."""
    text = normalize_id_number(id_number)
    birth = _parse_birth_date(text[6:14])
    assert birth is not None  # guaranteed by normalize_id_number
    return birth


def id_sex(id_number: str) -> Literal["男", "女"]:
    """Return the sex encoded in a valid identity number (odd sequence = male)."""
    text = normalize_id_number(id_number)
    return "男" if int(text[14:17]) % 2 == 1 else "女"


def mask_id_number(id_number: str) -> str:
    """Mask an 18-character identity number as first 6 + 8 asterisks + last 4.

    The value is not validated beyond its length, so any 18-character string
    can be masked (e.g. for logging rejected rows); surrounding whitespace is
    stripped and full-width characters are converted, but letter case is kept.
    Other lengths raise ``ID_LENGTH``.
    """
    if isinstance(id_number, str):
        text = _clean_text(id_number)
        if not text:
            raise IdentifierError("ID_EMPTY", id_number, "身份证号为空", "ID number is empty")
    else:
        text = _id_text(id_number)
    if len(text) != 18:
        raise IdentifierError(
            "ID_LENGTH", id_number,
            f"只能对18位身份证号脱敏，实际为{len(text)}位",
            f"only 18-character ID numbers can be masked, got {len(text)}",
        )
    return f"{text[:6]}{'*' * 8}{text[-4:]}"


# ---------------------------------------------------------------------------
# 残疾人证号
# ---------------------------------------------------------------------------

_CERT_RE = re.compile(r"[0-9]{17}[0-9X][0-9]{2}")
_CERT_CATEGORIES = range(1, 8)
_CERT_GRADES = range(1, 5)


def _cert_text(value: object) -> str:
    """Convert an incoming certificate value to cleaned upper-case text."""
    if value is None:
        raise IdentifierError("CERT_LENGTH", value, "残疾人证号为空", "certificate number is empty")
    if isinstance(value, bool):
        raise IdentifierError(
            "CERT_CHARS", value,
            "残疾人证号不能是布尔值", "certificate number must not be a boolean",
        )
    if _is_float_value(value):
        raise IdentifierError(
            "CERT_CHARS", value,
            "残疾人证号被存成了浮点数（表格中常见），请以文本格式重新导出",
            "certificate number was stored as a floating-point number (common in "
            "spreadsheets); re-export the column as text",
        )
    if _is_int_value(value):
        return str(int(value))
    if not isinstance(value, str):
        raise IdentifierError(
            "CERT_CHARS", value,
            f"残疾人证号类型不支持：{type(value).__name__}",
            f"unsupported certificate number type: {type(value).__name__}",
        )
    text = _clean_text(value).upper()
    if not text:
        raise IdentifierError("CERT_LENGTH", value, "残疾人证号为空", "certificate number is empty")
    return text


def normalize_cert_number(
    value: object,
    *,
    id_number: str | None = None,
    category: int | None = None,
    grade: int | None = None,
) -> str:
    """Validate a 残疾人证号 and return its canonical 20-character form.

    The certificate is the holder's 18-character identity number followed by
    a category digit (1-7) and a grade digit (1-4). When ``id_number``,
    ``category`` or ``grade`` are given, the certificate must match them.
    An invalid embedded identity number is reported with its ``ID_*`` code.
    """
    text = _cert_text(value)

    if any(ch not in _ID_ALLOWED for ch in text):
        raise IdentifierError(
            "CERT_CHARS", value,
            "残疾人证号只能包含数字和X",
            "certificate number may contain only digits and X",
        )
    if len(text) != 20:
        hint_zh = "，可能缺少残疾类别和等级两位" if len(text) == 18 else ""
        hint_en = "; the category and grade digits may be missing" if len(text) == 18 else ""
        raise IdentifierError(
            "CERT_LENGTH", value,
            f"残疾人证号应为20位，实际为{len(text)}位{hint_zh}",
            f"certificate number must have 20 characters, got {len(text)}{hint_en}",
        )
    if _CERT_RE.fullmatch(text) is None:
        raise IdentifierError(
            "CERT_CHARS", value,
            "残疾人证号中X只能出现在第18位（身份证号末位）",
            "X may appear only at position 18 (end of the ID number) of a certificate number",
        )

    cert_category = int(text[18])
    cert_grade = int(text[19])
    if cert_category not in _CERT_CATEGORIES:
        raise IdentifierError(
            "CERT_CATEGORY", value,
            f"残疾类别应为1至7，实际为{cert_category}",
            f"disability category must be 1-7, got {cert_category}",
        )
    if cert_grade not in _CERT_GRADES:
        raise IdentifierError(
            "CERT_GRADE", value,
            f"残疾等级应为1至4，实际为{cert_grade}",
            f"disability grade must be 1-4, got {cert_grade}",
        )

    try:
        holder_id = normalize_id_number(text[:18])
    except IdentifierError as exc:
        raise IdentifierError(
            exc.code, value,
            f"残疾人证号中的身份证号无效：{exc.reason_zh}",
            f"ID number inside the certificate number is invalid: {exc.reason_en}",
        ) from exc

    if id_number is not None:
        expected_id = normalize_id_number(id_number)
        if holder_id != expected_id:
            raise IdentifierError(
                "CERT_ID_MISMATCH", value,
                f"残疾人证号前18位与身份证号{mask_id_number(expected_id)}不一致",
                f"the first 18 characters of the certificate number do not match "
                f"ID number {mask_id_number(expected_id)}",
            )
    if category is not None and cert_category != category:
        raise IdentifierError(
            "CERT_CATEGORY", value,
            f"残疾类别不一致：证号为{cert_category}，期望{category}",
            f"disability category mismatch: certificate has {cert_category}, "
            f"expected {category}",
        )
    if grade is not None and cert_grade != grade:
        raise IdentifierError(
            "CERT_GRADE", value,
            f"残疾等级不一致：证号为{cert_grade}，期望{grade}",
            f"disability grade mismatch: certificate has {cert_grade}, expected {grade}",
        )
    return text


def cert_parts(cert_number: str) -> tuple[str, int, int]:
    """Split a valid certificate number into (id_number, category, grade)."""
    text = normalize_cert_number(cert_number)
    return text[:18], int(text[18]), int(text[19])


# ---------------------------------------------------------------------------
# 统一社会信用代码 (GB 32100-2015)
# ---------------------------------------------------------------------------

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_INDEX = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters."""
    if not isinstance(first17, str):
        raise IdentifierError(
            "USCC_CHARS", first17,
            "统一社会信用代码前17位必须是字符串",
            "the first 17 characters of a USCC must be a string",
        )
    text = _clean_text(first17).upper()
    if any(ch not in _USCC_INDEX for ch in text):
        raise IdentifierError(
            "USCC_CHARS", first17,
            "统一社会信用代码含有不允许的字符（不使用I、O、S、V、Z）",
            "USCC contains characters outside the code alphabet (I, O, S, V, Z are not used)",
        )
    if len(text) != 17:
        raise IdentifierError(
            "USCC_LENGTH", first17,
            f"计算校验码需要17位，实际为{len(text)}位",
            f"computing the check character needs 17 characters, got {len(text)}",
        )
    total = sum(_USCC_INDEX[ch] * w for ch, w in zip(text, _USCC_WEIGHTS))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: object) -> str:
    """Validate a 统一社会信用代码 and return its canonical upper-case form."""
    if value is None:
        raise IdentifierError("USCC_LENGTH", value, "统一社会信用代码为空", "USCC is empty")
    if isinstance(value, bool) or _is_float_value(value):
        raise IdentifierError(
            "USCC_CHARS", value,
            "统一社会信用代码必须是文本，不能是布尔值或浮点数",
            "USCC must be text, not a boolean or floating-point number",
        )
    if _is_int_value(value):
        text = str(int(value))
    elif isinstance(value, str):
        text = _clean_text(value).upper()
    else:
        raise IdentifierError(
            "USCC_CHARS", value,
            f"统一社会信用代码类型不支持：{type(value).__name__}",
            f"unsupported USCC type: {type(value).__name__}",
        )
    if not text:
        raise IdentifierError("USCC_LENGTH", value, "统一社会信用代码为空", "USCC is empty")
    if any(ch not in _USCC_INDEX for ch in text):
        raise IdentifierError(
            "USCC_CHARS", value,
            "统一社会信用代码含有不允许的字符（只能是数字和除I、O、S、V、Z以外的大写字母）",
            "USCC may contain only digits and upper-case letters except I, O, S, V, Z",
        )
    if len(text) != 18:
        raise IdentifierError(
            "USCC_LENGTH", value,
            f"统一社会信用代码应为18位，实际为{len(text)}位",
            f"USCC must have 18 characters, got {len(text)}",
        )
    expected = uscc_check_char(text[:17])
    if text[17] != expected:
        raise IdentifierError(
            "USCC_CHECKSUM", value,
            f"统一社会信用代码校验码错误：末位应为{expected}，实际为{text[17]}",
            f"USCC checksum mismatch: last character should be {expected}, got {text[17]}",
        )
    return text


# ---------------------------------------------------------------------------
# 区划代码 (statistical division code)
# ---------------------------------------------------------------------------


class RegionLevel(StrEnum):
    """Administrative level of a 12-digit statistical division code."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"

    @property
    def label(self) -> str:
        """Chinese label of the level (省/市/县/乡/村)."""
        return _REGION_LABELS[self]

    @property
    def prefix_length(self) -> int:
        """Number of significant leading digits at this level (2/4/6/9/12)."""
        return _REGION_PREFIX_LENGTHS[self]


_REGION_LABELS = {
    RegionLevel.PROVINCE: "省",
    RegionLevel.CITY: "市",
    RegionLevel.COUNTY: "县",
    RegionLevel.TOWNSHIP: "乡",
    RegionLevel.VILLAGE: "村",
}

# Levels in order with the end offset of their part in the 12-digit code.
_REGION_PREFIX_LENGTHS = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}
_REGION_ORDER = tuple(_REGION_PREFIX_LENGTHS)
_REGION_ACCEPTED_LENGTHS = frozenset(_REGION_PREFIX_LENGTHS.values())
_REGION_DIGITS_RE = re.compile(r"[0-9]+")


def normalize_region_code(value: object) -> str:
    """Validate a region code and return it zero-padded to 12 digits.

    Accepts 2, 4, 6, 9 or 12 digits. The province part must not be ``00``
    and a lower part must be zero whenever a higher part is zero.
    """
    if value is None or isinstance(value, bool) or _is_float_value(value):
        raise IdentifierError(
            "REGION_FORMAT", value,
            "区划代码必须是数字文本（不能为空、布尔值或浮点数）",
            "region code must be a digit string (not empty, boolean or floating-point)",
        )
    if _is_int_value(value):
        text = str(int(value))
    elif isinstance(value, str):
        text = _clean_text(value)
    else:
        raise IdentifierError(
            "REGION_FORMAT", value,
            f"区划代码类型不支持：{type(value).__name__}",
            f"unsupported region code type: {type(value).__name__}",
        )
    if _REGION_DIGITS_RE.fullmatch(text) is None:
        raise IdentifierError(
            "REGION_FORMAT", value,
            "区划代码只能包含数字",
            "region code may contain only digits",
        )
    if len(text) not in _REGION_ACCEPTED_LENGTHS:
        raise IdentifierError(
            "REGION_FORMAT", value,
            f"区划代码应为2、4、6、9或12位，实际为{len(text)}位",
            f"region code must have 2, 4, 6, 9 or 12 digits, got {len(text)}",
        )
    code = text.ljust(12, "0")
    if code[:2] == "00":
        raise IdentifierError(
            "REGION_STRUCTURE", value,
            "区划代码的省级部分不能为00",
            "the province part of a region code must not be 00",
        )
    start = 2
    for level in _REGION_ORDER[1:]:
        end = _REGION_PREFIX_LENGTHS[level]
        if set(code[start:end]) == {"0"} and set(code[end:]) - {"0"}:
            raise IdentifierError(
                "REGION_STRUCTURE", value,
                f"区划代码结构不一致：{level.label}级部分为零，但下级部分不为零",
                f"inconsistent region code: the {level.value} part is zero "
                f"but a lower part is not",
            )
        start = end
    return code


def region_level(code: str) -> RegionLevel:
    """Return the level of a region code, derived from its trailing zeros."""
    normalized = normalize_region_code(code)
    for level in _REGION_ORDER:
        if set(normalized[_REGION_PREFIX_LENGTHS[level]:]) <= {"0"}:
            return level
    return RegionLevel.VILLAGE  # pragma: no cover - the loop always returns


def region_prefix(code: str) -> str:
    """Return the significant prefix (2/4/6/9/12 digits) for STARTS WITH queries."""
    normalized = normalize_region_code(code)
    return normalized[: region_level(normalized).prefix_length]


@lru_cache(maxsize=65536)
def region_parent(code: str) -> str | None:
    """Return the 12-digit code of the next level up, or None for a province.

    Cached: a province's referral proposal asks it once per waiting need (~229k), over a few
    thousand villages."""
    normalized = normalize_region_code(code)
    index = _REGION_ORDER.index(region_level(normalized))
    if index == 0:
        return None
    keep = _REGION_ORDER[index - 1].prefix_length
    return normalized[:keep].ljust(12, "0")


def region_ancestors(code: str) -> list[str]:
    """Return the 12-digit codes of all higher levels, province first."""
    normalized = normalize_region_code(code)
    index = _REGION_ORDER.index(region_level(normalized))
    return [
        normalized[: level.prefix_length].ljust(12, "0")
        for level in _REGION_ORDER[:index]
    ]
