"""Normalisation of single spreadsheet cells, as the data contract describes them.

Every function takes a raw cell value exactly as a reader hands it over — a ``str`` from a CSV
file; a ``str``, ``float``, ``int``, ``bool``, ``datetime.date`` or ``datetime.datetime`` from an
Excel sheet; ``None`` for a missing cell — and returns the normalised Python value, or raises
:class:`CellError` with a stable :class:`~importers.contract.Code`.

Why so lenient in some places and so strict in others: organisers' files are typed by hand and
pass through Excel, which turns ``1001`` into ``1001.0``, accepts full-width digits from Chinese
input methods and stores dates as numbers. Those are normalised because the intended value is
unambiguous. Anything that would need a guess (``"1,5"`` as money, ``"有"`` as a boolean, a date
given as a bare serial-number string) is rejected so the clerk fixes the source instead of the
import silently inventing a value.

An empty cell means "unknown" and yields ``None`` (``[]`` for lists), never a default such as 否;
whether a column may be empty is decided by the caller, which knows the contract.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

from importers.contract import Code
from importers.csv_escape import unescape

__all__ = [
    "CellError",
    "halfwidth",
    "looks_like_formula",
    "text",
    "key",
    "boolean",
    "integer",
    "date",
    "month",
    "money_fen",
    "items",
    "phone",
]


class CellError(ValueError):
    """A cell could not be normalised.

    Attributes:
        code: the stable reason (a :class:`Code` member) shown in the import report.
        zh: the reason in Chinese, for the clerk.
        en: the same reason in English.
    """

    def __init__(self, code: Code, zh: str, en: str) -> None:
        self.code = code
        self.zh = zh
        self.en = en
        super().__init__(f"{zh} / {en}")

    def __reduce__(self):  # keep the exception picklable despite the custom signature
        return (type(self), (self.code, self.zh, self.en))


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------

# Full-width ASCII variants (U+FF01..U+FF5E) -> ASCII, ideographic space -> space. Deliberately
# not NFKC: that would also rewrite Chinese punctuation (，、（) in free text and the circled or
# compatibility characters some names legitimately contain.
_HALFWIDTH_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALFWIDTH_TABLE[0x3000] = 0x20

# Python's ``\s`` already covers U+3000 and U+00A0; the zero-width space and a stray byte-order
# mark are added because they arrive with text pasted from web pages and are invisible to clerks.
# every character Python counts as whitespace, plus zero-width space and a stray BOM; str.strip
# with an explicit set runs for every cell of an import, an order of magnitude faster than a regex
_EDGE_CHARS = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "\u200b\ufeff"

# A spreadsheet formula or a CSV-injection payload: =SUM(…), +cmd|…, -HYPERLINK(…), @A1 …
# Only ASCII letters count, because function names and cell references are ASCII while notes
# such as "-张三反映…" are ordinary text.
# Also =<anything> (=1+1 is a formula too) and a signed number followed by an operator or a name
# (-2+3+cmd|' /C calc'!A0, the classic DDE payload); a plain -5 or +86 139… stays text.
_FORMULA_RE = re.compile(r"=.|@[A-Za-z(]|[+\-][0-9.]*[A-Za-z(|]|[+\-][0-9.]+[+\-*/^&]", re.DOTALL)


def looks_like_formula(value: str) -> bool:
    """Whether a spreadsheet would run ``value`` (after surrounding space) as a formula."""
    return bool(_FORMULA_RE.match(_strip(value)))

# The first Excel serial and the serial of 9999-12-31. Excel's own epoch is 1900-01-01 = 1, but
# its fictitious 1900-02-29 shifts every later date by one day, so 1899-12-30 as day 0 gives the
# right answer for every date after February 1900 — which is every date this data can contain.
_SERIAL_MIN, _SERIAL_MAX = 1, 2958465
_SERIAL_EPOCH = dt.date(1899, 12, 30)

_SHOW_MAX = 40


def halfwidth(text: str) -> str:
    """Full-width ASCII forms (U+FF01–U+FF5E) to ASCII and U+3000 to a space; nothing else."""
    return text.translate(_HALFWIDTH_TABLE)


def _strip(value: str) -> str:
    return value.strip(_EDGE_CHARS)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not _strip(value))


def _shown(value: object) -> str:
    """The value as quoted in a message, shortened so one bad cell cannot flood the report."""
    shown = _strip(value) if isinstance(value, str) else str(value)
    return shown if len(shown) <= _SHOW_MAX else shown[: _SHOW_MAX - 1] + "…"


def _is_number(value: object) -> bool:
    # bool is an int subclass, but a TRUE cell is not the number 1 for any column here
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integral(value: float) -> bool:
    return math.isfinite(value) and value == int(value)


def _number_text(value: int | float) -> str:
    """Excel stores every number as a float, so 1001 arrives as 1001.0: show its digits."""
    if isinstance(value, int) or _integral(value):
        return str(int(value))
    return repr(value)  # shortest round-trip form, never with trailing zeros


def _clean(value: str) -> str:
    """Halfwidth forms folded and surrounding space stripped: the canonical input for parsing."""
    return _strip(halfwidth(value))


# ---------------------------------------------------------------------------
# Text and keys
# ---------------------------------------------------------------------------


def text(value: object, *, max_len: int = 200) -> str | None:
    """Free text: stripped, ``None`` when empty, numbers shown as the sheet shows them.

    A value starting like a formula is refused rather than stored: a clerk most likely pasted a
    formula where its value belongs. The same text after an apostrophe, as spreadsheets mark text
    and as every CSV writer of this system escapes it (``importers/csv_escape.py``), is that text:
    so exports and backups import back unchanged.
    """
    if _blank(value):
        return None
    if isinstance(value, str):
        result = _strip(value)
        quoted = unescape(result)
        if quoted is not None:
            result = _strip(quoted)
        elif _FORMULA_RE.match(result):
            raise CellError(
                Code.BAD_TEXT,
                f"「{_shown(result)}」看起来是公式，请填写公式的计算结果而不是公式本身",
                f"'{_shown(result)}' looks like a formula; enter its value, not the formula",
            )
    elif isinstance(value, bool):
        result = "TRUE" if value else "FALSE"  # as Excel displays a logical cell
    elif _is_number(value):
        if isinstance(value, float) and not math.isfinite(value):
            raise CellError(Code.BAD_TEXT, f"无效的数值：{value}", f"invalid number: {value}")
        result = _number_text(value)
    elif isinstance(value, dt.datetime):
        result = value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    elif isinstance(value, dt.date):
        result = value.isoformat()
    else:
        result = _strip(str(value))
    if len(result) > max_len:
        raise CellError(
            Code.BAD_TEXT,
            f"内容过长：{len(result)} 个字符，最多 {max_len} 个",
            f"text too long: {len(result)} characters, at most {max_len}",
        )
    return result


def key(value: object) -> str | None:
    """A code or number such as 户编号, 干部编号 or 问题编号.

    Like :func:`text`, with full-width letters and digits folded to ASCII so that ``Ｈ１００１``
    and ``H1001`` are the same key. Strings are kept as typed, so leading zeros survive; only a
    number cell (where Excel has already dropped them) is turned into its digits.
    """
    return text(halfwidth(value) if isinstance(value, str) else value)


# ---------------------------------------------------------------------------
# Booleans and integers
# ---------------------------------------------------------------------------

_TRUE = frozenset({"是", "y", "yes", "1", "true"})
_FALSE = frozenset({"否", "n", "no", "0", "false"})


def _bad_boolean(value: object) -> CellError:
    return CellError(
        Code.BAD_BOOLEAN,
        f"「{_shown(value)}」不是有效的是/否值（可填：是/否、Y/N、1/0、true/false）",
        f"'{_shown(value)}' is not a yes/no value (use 是/否, Y/N, 1/0 or true/false)",
    )


def boolean(value: object) -> bool | None:
    """是/否, Y/N, yes/no, 1/0, true/false in any case or width; empty means unknown.

    有/无 is not accepted: in these registers it answers "is there any?" rather than yes/no
    and has been seen in columns where it meant something else.
    """
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if _is_number(value):
        if value == 1:
            return True
        if value == 0:
            return False
        raise _bad_boolean(value)
    if isinstance(value, str):
        word = _clean(value).lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise _bad_boolean(value)


_INTEGER_RE = re.compile(r"[+-]?[0-9]+(?:\.0+)?")


def integer(value: object) -> int | None:
    """A whole number: ``3``, ``3.0`` (an Excel number), ``"3"``, ``"３"``.

    ``"3.0"`` as text is accepted too, because files exported from other systems write numbers
    that way; ``"3.5"`` is refused rather than rounded.
    """
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(Code.BAD_INTEGER, "应为整数，而不是是/否值", "expected a whole number, not a logical value")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and _integral(value):
        return int(value)
    if isinstance(value, str):
        cleaned = _clean(value)
        if _INTEGER_RE.fullmatch(cleaned):
            return int(cleaned.split(".")[0])
    raise CellError(
        Code.BAD_INTEGER,
        f"「{_shown(value)}」不是整数",
        f"'{_shown(value)}' is not a whole number",
    )


# ---------------------------------------------------------------------------
# Dates and months
# ---------------------------------------------------------------------------

# An optional time after a date, as databases and some exports write datetimes.
_TIME = r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
_DATE_PATTERNS = (
    re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})" + _TIME),  # 2024-03-01, 2024/3/1, 2024.3.1
    re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日?"),  # 2024年3月1日
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),  # 20240301
)
_MONTH_PATTERNS = (
    re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})"),  # 2024-01, 2024/1, 2024.1
    re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月?"),  # 2024年1月
    re.compile(r"([0-9]{4})([0-9]{2})"),  # 202401
)


def _date_from_text(cleaned: str) -> tuple[int, int, int] | None:
    """(year, month, day) of a date string in one of the contract's styles, not yet validated."""
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match:
            parts = [g for g in match.groups() if g and g.isdigit()]
            return int(parts[0]), int(parts[1]), int(parts[2])
    return None


def _date_from_number(value: int | float) -> dt.date | None:
    """An Excel serial number, or the 20240301 style after Excel turned it into a number.

    The two cannot be confused: eight-digit numbers lie far beyond the last serial (9999-12-31).
    """
    if not math.isfinite(value):
        return None
    if _integral(value) and 10_000_000 <= value <= 99_991_231:
        digits = str(int(value))
        try:
            return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            return None
    if _SERIAL_MIN <= value <= _SERIAL_MAX:
        return _SERIAL_EPOCH + dt.timedelta(days=math.floor(value))  # the fraction is the time of day
    return None


def date(value: object) -> dt.date | None:
    """A day: 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日, 20240301, a date cell or a serial.

    A serial number is accepted only from a number cell (a date cell formatted as General); as
    text, ``"45352"`` is far more likely a typo than a date, so it is refused.
    """
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if _is_number(value):
        parsed = _date_from_number(value)
        if parsed is not None:
            return parsed
    elif isinstance(value, str):
        parts = _date_from_text(_clean(value))
        if parts is not None:
            try:
                return dt.date(*parts)
            except ValueError:
                raise CellError(
                    Code.BAD_DATE,
                    f"「{_shown(value)}」不是有效日期（没有这一天）",
                    f"'{_shown(value)}' is not a calendar date",
                ) from None
    raise CellError(
        Code.BAD_DATE,
        f"「{_shown(value)}」不是可识别的日期（可填：2024-03-01、2024/3/1、2024年3月1日、20240301）",
        f"'{_shown(value)}' is not a recognised date (use 2024-03-01, 2024/3/1, 2024年3月1日 or 20240301)",
    )


def _bad_month(value: object) -> CellError:
    return CellError(
        Code.BAD_MONTH,
        f"「{_shown(value)}」不是可识别的年月（可填：2024-01、2024/1、2024年1月、202401）",
        f"'{_shown(value)}' is not a recognised month (use 2024-01, 2024/1, 2024年1月 or 202401)",
    )


def month(value: object) -> dt.date | None:
    """A month, returned as its first day: 2024-01, 2024/1, 2024年1月, 202401, or a full date.

    A number cell of six digits is read as 202401 (Excel turns the typed text into a number);
    other number cells are read like :func:`date`.
    """
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    parts: tuple[int, int] | None = None
    if _is_number(value):
        if isinstance(value, int) or _integral(value):
            if 100_000 <= value <= 999_912:
                digits = str(int(value))
                parts = int(digits[:4]), int(digits[4:])
        if parts is None:
            day = _date_from_number(value)
            if day is None:
                raise _bad_month(value)
            return day.replace(day=1)
    elif isinstance(value, str):
        cleaned = _clean(value)
        for pattern in _MONTH_PATTERNS:
            match = pattern.fullmatch(cleaned)
            if match:
                parts = int(match.group(1)), int(match.group(2))
                break
        else:
            full = _date_from_text(cleaned)
            if full is not None:
                try:
                    return dt.date(*full).replace(day=1)
                except ValueError:
                    raise _bad_month(value) from None
    if parts is None:
        raise _bad_month(value)
    try:
        return dt.date(parts[0], parts[1], 1)
    except ValueError:
        raise _bad_month(value) from None


# ---------------------------------------------------------------------------
# Money
# ---------------------------------------------------------------------------

# Thousands separators only in proper groups of three: "1,5" is a decimal comma in some locales,
# and reading it as 15 would silently multiply the amount.
_MONEY_RE = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
_CURRENCY_PREFIXES = ("¥", "￥", "RMB", "CNY")  # ￥ (U+FFE5) lies outside the halfwidth range
_CENT = Decimal("0.01")


def _bad_money(value: object, why_zh: str, why_en: str) -> CellError:
    return CellError(Code.BAD_MONEY, f"「{_shown(value)}」{why_zh}", f"'{_shown(value)}' {why_en}")


def money_fen(value: object) -> int | None:
    """An amount in yuan, returned in integer fen: ``"1,234.56"`` → 123456.

    Strings go through Decimal so that no binary rounding creeps in. Trailing zeros beyond the
    second decimal (``"1.230"``) are accepted because the value is still exact in fen.
    """
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise _bad_money(value, "不是金额", "is not an amount")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _bad_money(value, "不是金额", "is not an amount")
        cents = value * 100
        if abs(cents - round(cents)) >= 1e-6:
            raise _bad_money(value, "的小数超过两位（金额以元为单位，精确到分）",
                             "has more than 2 decimals (amounts are in yuan, to the fen)")
        if value < 0:
            raise _bad_money(value, "是负数，金额不能为负", "is negative; amounts cannot be negative")
        return int(round(cents))
    elif isinstance(value, str):
        cleaned = _clean(value)
        for prefix in _CURRENCY_PREFIXES:
            if cleaned.upper().startswith(prefix):
                cleaned = _strip(cleaned[len(prefix):])
                break
        cleaned = _strip(cleaned.removesuffix("元"))
        negative = cleaned.startswith("-")
        if not _MONEY_RE.fullmatch(cleaned.removeprefix("-")):
            raise _bad_money(value, "不是金额（应为以元为单位的数字，如 1234.56 或 1,234.56）",
                             "is not an amount (expected yuan such as 1234.56 or 1,234.56)")
        try:
            amount = Decimal(cleaned.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            raise _bad_money(value, "不是金额", "is not an amount") from None
        if negative and amount:
            raise _bad_money(value, "是负数，金额不能为负", "is negative; amounts cannot be negative")
        amount = abs(amount)
    else:
        raise _bad_money(value, "不是金额", "is not an amount")
    if amount < 0:
        raise _bad_money(value, "是负数，金额不能为负", "is negative; amounts cannot be negative")
    if amount != amount.quantize(_CENT):
        raise _bad_money(value, "的小数超过两位（金额以元为单位，精确到分）",
                         "has more than 2 decimals (amounts are in yuan, to the fen)")
    return int(amount * 100)


_HOURS_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_HOURS_MINUTES_RE = re.compile(r"([0-9]+):([0-5][0-9])")


def hours_minutes(value: object) -> int | None:
    """A duration in hours, returned in whole minutes: ``1.5`` → 90, ``"0.25"`` → 15, and
    ``"0:10"`` (hours and minutes) → 10, for a duration no decimal of hours writes exactly.

    Hours that are no whole number of minutes (``0.01``) are refused rather than rounded, as
    amounts beyond the fen are."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(Code.BAD_HOURS, "应为小时数，而不是是/否值", "expected hours, not a logical value")
    cleaned = _strip(_clean(value).removesuffix("小时")) if isinstance(value, str) else ""
    if isinstance(value, (int, float)) and math.isfinite(value):
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif clock := _HOURS_MINUTES_RE.fullmatch(cleaned):
        return int(clock.group(1)) * 60 + int(clock.group(2))
    elif _HOURS_RE.fullmatch(cleaned):
        amount = Decimal(cleaned)
    else:
        raise CellError(Code.BAD_HOURS, f"「{_shown(value)}」不是小时数（如 1.5）",
                        f"'{_shown(value)}' is not a number of hours (such as 1.5)")
    if amount < 0:
        raise CellError(Code.BAD_HOURS, f"「{_shown(value)}」是负数，时长不能为负", f"'{_shown(value)}' is negative")
    minutes = amount * 60
    if minutes != minutes.to_integral_value():
        raise CellError(Code.BAD_HOURS, f"「{_shown(value)}」小时不是整分钟数",
                        f"'{_shown(value)}' hours is not a whole number of minutes")
    return int(minutes)


# ---------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------

# Every separator organisers were seen to use; a half-width comma needs no quoting inside an
# Excel cell, and CSV quoting takes care of it there.
_ITEM_SPLIT_RE = re.compile(r"[、，,;；\r\n]+")


def items(value: object) -> list[str]:
    """A list inside one cell: split on 、 ， , ; ； and line breaks, first occurrence kept."""
    if _blank(value):
        return []
    raw = value if isinstance(value, str) else text(value) or ""
    seen: dict[str, None] = {}
    for part in _ITEM_SPLIT_RE.split(raw):
        item = _strip(part)
        if item:
            seen.setdefault(item, None)
    return list(seen)


# ---------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"(?:\+86)?(1[0-9]{10})")
# Area code written off (0931-…, (0931)…): take it as given.
_LANDLINE_MARKED_RE = re.compile(r"(?:\((0[0-9]{2,3})\)-?|(0[0-9]{2,3})-)([2-9][0-9]{6,7})(?:(?:-|转)([0-9]{1,6}))?")
# Area code run together with the number: only 010 and 020–029 are three digits long on the
# mainland, every other area code has four, so the split is unambiguous.
_LANDLINE_PLAIN_RE = re.compile(r"(0[12][0-9]|0[3-9][0-9]{2})([2-9][0-9]{6,7})(?:(?:-|转)([0-9]{1,6}))?")


def phone(value: object, *, mobile_only: bool = False) -> str | None:
    """A mainland phone number in canonical form.

    Mobile: 11 digits starting with 1, spaces and hyphens removed (``+86`` dropped). Landline:
    ``0931-8123456`` with the hyphen, an extension appended as ``-8001`` (also from ``转8001``).
    Local numbers never start with 0 or 1, which is what keeps the two kinds apart.
    """
    if _blank(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raw = None
    elif isinstance(value, str):
        raw = _clean(value)
    elif isinstance(value, int) or _integral(value):
        raw = str(int(value))  # a number cell: 13912345678.0
    else:
        raw = None
    if raw is not None:
        compact = re.sub(r"\s+", "", raw)
        mobile = _MOBILE_RE.fullmatch(compact.replace("-", ""))
        if mobile:
            return mobile.group(1)
        marked = _LANDLINE_MARKED_RE.fullmatch(compact)
        plain = None if marked else _LANDLINE_PLAIN_RE.fullmatch(compact)
        if marked or plain:
            if mobile_only:
                raise CellError(
                    Code.BAD_PHONE,
                    f"「{_shown(value)}」是固定电话，此处需要11位手机号",
                    f"'{_shown(value)}' is a landline; an 11-digit mobile number is required here",
                )
            if marked:
                area, number, extension = marked.group(1) or marked.group(2), marked.group(3), marked.group(4)
            else:
                area, number, extension = plain.group(1), plain.group(2), plain.group(3)  # type: ignore[union-attr]
            return f"{area}-{number}" + (f"-{extension}" if extension else "")
    if mobile_only:
        raise CellError(
            Code.BAD_PHONE,
            f"「{_shown(value)}」不是有效的手机号（应为以1开头的11位数字）",
            f"'{_shown(value)}' is not a mobile number (11 digits starting with 1)",
        )
    raise CellError(
        Code.BAD_PHONE,
        f"「{_shown(value)}」不是有效的电话号码（手机号11位；固定电话如 0931-8123456）",
        f"'{_shown(value)}' is not a phone number (mobile: 11 digits; landline such as 0931-8123456)",
    )
