"""Unit tests for graph_schema.identifiers.

Check characters are recomputed here from the published algorithms
(GB 11643-1999 / ISO 7064 MOD 11-2 and GB 32100-2015) instead of reusing
the helpers under test.
"""

from __future__ import annotations

import pickle
from datetime import date, timedelta
from decimal import Decimal

import pytest

from graph_schema.identifiers import (
    IdentifierError,
    RegionLevel,
    cert_parts,
    id_birth_date,
    id_check_char,
    id_sex,
    mask_id_number,
    normalize_cert_number,
    normalize_id_number,
    normalize_region_code,
    normalize_uscc,
    region_ancestors,
    region_level,
    region_parent,
    region_prefix,
    uscc_check_char,
)

# ---------------------------------------------------------------------------
# Independent reference implementations
# ---------------------------------------------------------------------------

REF_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
REF_ID_CHECK = "10X98765432"

REF_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
REF_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def ref_id_check(first17: str) -> str:
    total = 0
    for position, digit in enumerate(first17):
        total += int(digit) * REF_ID_WEIGHTS[position]
    return REF_ID_CHECK[total % 11]


def make_id(region: str = "620822", birth: str = "19890321", seq: str = "643") -> str:
    body = region + birth + seq
    assert len(body) == 17
    return body + ref_id_check(body)


def ref_uscc_check(first17: str) -> str:
    total = 0
    for position, char in enumerate(first17):
        total += REF_USCC_ALPHABET.index(char) * REF_USCC_WEIGHTS[position]
    value = 31 - total % 31
    return REF_USCC_ALPHABET[0 if value == 31 else value]


def make_uscc(first17: str) -> str:
    return first17 + ref_uscc_check(first17)


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def wrong_last_chars(valid: str, alphabet: str) -> list[str]:
    return [valid[:-1] + ch for ch in alphabet if ch != valid[-1]]


def assert_error(func, value, code: str, **kwargs) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        func(value, **kwargs)
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value}"
    return info.value


KNOWN_VALID_IDS = [
    "62082219890321643X",
    "620822196512091335",
    "620802198802075134",
    "62082219550620305X",
]

GENERATED_IDS = [
    make_id("110101", "19000101", "001"),
    make_id("440305", "20000229", "002"),
    make_id("620822", "19991231", "999"),
    make_id("650102", "19800615", "123"),
    make_id("620802", "20121130", "010"),
    make_id("310115", "19700101", "555"),
]

# A body whose check character is X, found with the reference algorithm.
X_BODY = next(
    f"62082219890321{seq:03d}" for seq in range(1000)
    if ref_id_check(f"62082219890321{seq:03d}") == "X"
)
X_ID = X_BODY + "X"


# ---------------------------------------------------------------------------
# Reference implementation sanity (guards the tests themselves)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("id_number", KNOWN_VALID_IDS)
def test_reference_algorithm_agrees_with_published_samples(id_number):
    assert ref_id_check(id_number[:17]) == id_number[17]


@pytest.mark.parametrize("code", ["52620800P32462330H", "52620822774Q21896Y", "91350100M000100Y43"])
def test_reference_uscc_algorithm_agrees_with_published_samples(code):
    assert ref_uscc_check(code[:17]) == code[17]


# ---------------------------------------------------------------------------
# IdentifierError
# ---------------------------------------------------------------------------


def test_identifier_error_attributes_and_message():
    err = assert_error(normalize_id_number, "62082219890321643", "ID_LENGTH")
    assert isinstance(err, ValueError)
    assert err.value == "62082219890321643"
    assert err.reason_zh and err.reason_en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.reason_zh)
    assert str(err) == f"{err.reason_zh} / {err.reason_en}: '62082219890321643'"


def test_identifier_error_direct_construction_and_pickle():
    err = IdentifierError("ID_CHECKSUM", "abc", "校验码错误", "checksum mismatch")
    assert str(err) == "校验码错误 / checksum mismatch: 'abc'"
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.code, clone.value, clone.reason_zh, clone.reason_en) == (
        "ID_CHECKSUM", "abc", "校验码错误", "checksum mismatch",
    )
    assert str(clone) == str(err)


# ---------------------------------------------------------------------------
# 公民身份号码: valid values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("id_number", KNOWN_VALID_IDS + GENERATED_IDS + [X_ID])
def test_normalize_id_number_accepts_valid(id_number):
    assert normalize_id_number(id_number) == id_number


@pytest.mark.parametrize("id_number", KNOWN_VALID_IDS + GENERATED_IDS + [X_ID])
def test_id_check_char_matches_reference(id_number):
    assert id_check_char(id_number[:17]) == ref_id_check(id_number[:17])
    assert id_check_char(id_number[:17]) == id_number[17]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("62082219890321643x", "62082219890321643X"),
        ("62082219550620305x", "62082219550620305X"),
        ("  62082219890321643X  ", "62082219890321643X"),
        ("\t620822196512091335\n", "620822196512091335"),
        ("\u3000620822196512091335\u3000", "620822196512091335"),
        (to_fullwidth("620822196512091335"), "620822196512091335"),
        (to_fullwidth("62082219890321643X"), "62082219890321643X"),
        (to_fullwidth("62082219890321643x"), "62082219890321643X"),
        ("６２０８２２１９８９０３２１６４３ｘ", "62082219890321643X"),
        (" ６２０８０２１９８８０２０７５１３４ ", "620802198802075134"),
        (620822196512091335, "620822196512091335"),
        (620802198802075134, "620802198802075134"),
    ],
)
def test_normalize_id_number_normalises(raw, expected):
    assert normalize_id_number(raw) == expected


def test_normalize_id_number_accepts_numpy_integer():
    np = pytest.importorskip("numpy")
    assert normalize_id_number(np.int64(620822196512091335)) == "620822196512091335"


def test_normalize_id_number_accepts_birth_today():
    today = date.today()
    id_number = make_id(birth=today.strftime("%Y%m%d"))
    assert normalize_id_number(id_number) == id_number


# ---------------------------------------------------------------------------
# 公民身份号码: invalid values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   ", "\u3000", "\t\n"])
def test_id_empty(value):
    assert_error(normalize_id_number, value, "ID_EMPTY")


@pytest.mark.parametrize(
    "value",
    [
        6.2e17,
        620822196512091335.0,
        6.20822198903216e17,
        float("nan"),
        Decimal("620822196512091335"),
        "6.2e+17",
        "6.2E+17",
        "6.20822E+17",
        "620822198903216000.0",
        "620822196512091335.00",
        " 6.2e17 ",
        to_fullwidth("6.2e+17"),
    ],
)
def test_id_float(value):
    assert_error(normalize_id_number, value, "ID_FLOAT")


def test_id_float_numpy():
    np = pytest.importorskip("numpy")
    assert_error(normalize_id_number, np.float64(6.2e17), "ID_FLOAT")


@pytest.mark.parametrize("value", ["62082219890321643", "62082219651209133", 62082219651209133])
def test_id_length_seventeen_digits_mentions_lost_check_char(value):
    err = assert_error(normalize_id_number, value, "ID_LENGTH")
    assert "校验码" in err.reason_zh
    assert "check character" in err.reason_en
    assert "17" in err.reason_en


@pytest.mark.parametrize(
    "value",
    ["6208221989032164", "6208221989032164351", "620822198903216430X", "620822", "1", "6208221989032164X"],
)
def test_id_length_other(value):
    err = assert_error(normalize_id_number, value, "ID_LENGTH")
    assert "check character" not in err.reason_en


@pytest.mark.parametrize(
    "value",
    [
        "62082219890321A43X",
        "6208221989032164XX",
        "X2082219890321643X",
        "62O82219890321643X",  # letter O instead of zero
        "620822-19890321643",
        "620822 19890321643X",
        "62082219890321643Y",
        "abcdefghijklmnopqr",
        "６２０８２２１９８９０３２１６４３Ｙ",
        "62082219890321643\u0663",  # Arabic-Indic digit three
        -620822196512091335,
        True,
        ["62082219890321643X"],
        b"62082219890321643X",
    ],
)
def test_id_chars(value):
    assert_error(normalize_id_number, value, "ID_CHARS")


@pytest.mark.parametrize(
    "birth",
    [
        "19890230",  # Feb 30
        "20010229",  # not a leap year
        "19000229",  # 1900 is not a leap year
        "19891301",  # month 13
        "19890001",  # month 0
        "19890100",  # day 0
        "19890431",  # April 31
        "18991231",  # before 1900-01-01
        "00000000",
    ],
)
def test_id_birth_date_invalid(birth):
    id_number = make_id(birth=birth)
    assert ref_id_check(id_number[:17]) == id_number[17]  # checksum is right on purpose
    assert_error(normalize_id_number, id_number, "ID_BIRTH_DATE")


@pytest.mark.parametrize("days_ahead", [1, 400, 365 * 30])
def test_id_birth_date_in_future(days_ahead):
    future = date.today() + timedelta(days=days_ahead)
    id_number = make_id(birth=future.strftime("%Y%m%d"))
    err = assert_error(normalize_id_number, id_number, "ID_BIRTH_DATE")
    assert "future" in err.reason_en


@pytest.mark.parametrize(
    "value",
    [bad for sample in KNOWN_VALID_IDS for bad in wrong_last_chars(sample, "0123456789X")],
)
def test_id_checksum_every_wrong_check_char(value):
    assert_error(normalize_id_number, value, "ID_CHECKSUM")


@pytest.mark.parametrize(
    "value",
    [
        "62082219890321634X",  # two digits swapped
        "620822198903216430",
        "620822196512091336",
        "720822196512091335",
        "620822196512091353",
    ],
)
def test_id_checksum_transcription_errors(value):
    assert_error(normalize_id_number, value, "ID_CHECKSUM")


def test_id_checksum_lower_case_x_on_wrong_number():
    assert_error(normalize_id_number, "62082219890321644x", "ID_CHECKSUM")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("6208221989032164", "ID_LENGTH"),
        ("62082219890321643A", "ID_CHARS"),
        ("6208221989032164.3", "ID_CHARS"),
        ("６２０８２２１９８９０３２１６４", "ID_LENGTH"),
        (None, "ID_CHARS"),
        (62082219890321643, "ID_CHARS"),
    ],
)
def test_id_check_char_rejects_bad_input(value, code):
    assert_error(id_check_char, value, code)


# ---------------------------------------------------------------------------
# 公民身份号码: derived data and masking
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_number", "expected"),
    [
        ("62082219890321643X", date(1989, 3, 21)),
        ("620822196512091335", date(1965, 12, 9)),
        ("620802198802075134", date(1988, 2, 7)),
        ("62082219550620305X", date(1955, 6, 20)),
        (make_id(birth="20000229"), date(2000, 2, 29)),
        (make_id(birth="19000101"), date(1900, 1, 1)),
        ("62082219890321643x", date(1989, 3, 21)),
    ],
)
def test_id_birth_date(id_number, expected):
    assert id_birth_date(id_number) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("62082219890321644X", "ID_CHECKSUM"),
        (make_id(birth="19890230"), "ID_BIRTH_DATE"),
        ("62082219890321643", "ID_LENGTH"),
    ],
)
def test_id_birth_date_rejects_invalid(value, code):
    assert_error(id_birth_date, value, code)


@pytest.mark.parametrize(
    ("id_number", "expected"),
    [
        ("62082219890321643X", "男"),
        ("620822196512091335", "男"),
        ("620802198802075134", "男"),
        ("62082219550620305X", "男"),
        (make_id(seq="001"), "男"),
        (make_id(seq="002"), "女"),
        (make_id(seq="010"), "女"),
        (make_id(seq="999"), "男"),
        (make_id(seq="648"), "女"),
    ],
)
def test_id_sex(id_number, expected):
    assert id_sex(id_number) == expected


def test_id_sex_rejects_invalid():
    assert_error(id_sex, "620822196512091336", "ID_CHECKSUM")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("62082219890321643X", "620822********643X"),
        ("620822196512091335", "620822********1335"),
        ("620802198802075134", "620802********5134"),
        ("62082219550620305X", "620822********305X"),
        ("620822198903211234", "620822********1234"),
        ("ABCDEFGHIJKLMNOPQR", "ABCDEF********OPQR"),
        ("620822000000000000", "620822********0000"),  # not validated, only masked
        (" 62082219890321643X ", "620822********643X"),
        (to_fullwidth("620822196512091335"), "620822********1335"),
        (620822196512091335, "620822********1335"),
    ],
)
def test_mask_id_number(value, expected):
    masked = mask_id_number(value)
    assert masked == expected
    assert len(masked) == 18
    assert masked[6:14] == "*" * 8


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("62082219890321643", "ID_LENGTH"),
        ("62082219890321643X1", "ID_LENGTH"),
        ("", "ID_EMPTY"),
        (None, "ID_EMPTY"),
        (6.2e17, "ID_FLOAT"),
    ],
)
def test_mask_id_number_rejects(value, code):
    assert_error(mask_id_number, value, code)


# ---------------------------------------------------------------------------
# 残疾人证号
# ---------------------------------------------------------------------------

VALID_CERT = "62082219890321643X14"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (VALID_CERT, VALID_CERT),
        ("62082219890321643x14", VALID_CERT),
        (f"  {VALID_CERT}\n", VALID_CERT),
        (to_fullwidth("62082219890321643x14"), VALID_CERT),
        ("62082219651209133572", "62082219651209133572"),
        (62082219651209133572, "62082219651209133572"),
        (make_id(birth="20000229") + "71", make_id(birth="20000229") + "71"),
    ],
)
def test_normalize_cert_number_valid(raw, expected):
    assert normalize_cert_number(raw) == expected


@pytest.mark.parametrize("category", range(1, 8))
@pytest.mark.parametrize("grade", range(1, 5))
def test_cert_every_category_and_grade(category, grade):
    cert = f"620822196512091335{category}{grade}"
    assert normalize_cert_number(cert, category=category, grade=grade) == cert
    assert cert_parts(cert) == ("620822196512091335", category, grade)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"id_number": "62082219890321643X"},
        {"id_number": "62082219890321643x"},
        {"id_number": " ６２０８２２１９８９０３２１６４３Ｘ "},
        {"category": 1},
        {"grade": 4},
        {"id_number": "62082219890321643X", "category": 1, "grade": 4},
    ],
)
def test_normalize_cert_number_matching_expectations(kwargs):
    assert normalize_cert_number(VALID_CERT, **kwargs) == VALID_CERT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (VALID_CERT, ("62082219890321643X", 1, 4)),
        ("62082219890321643x14", ("62082219890321643X", 1, 4)),
        ("62080219880207513473", ("620802198802075134", 7, 3)),
        ("62082219550620305X21", ("62082219550620305X", 2, 1)),
    ],
)
def test_cert_parts(value, expected):
    parts = cert_parts(value)
    assert parts == expected
    assert isinstance(parts[1], int) and isinstance(parts[2], int)


@pytest.mark.parametrize(
    "id_number",
    ["620822196512091335", "620802198802075134", "62082219550620305X", make_id(seq="645")],
)
def test_cert_id_mismatch(id_number):
    err = assert_error(normalize_cert_number, VALID_CERT, "CERT_ID_MISMATCH", id_number=id_number)
    assert "********" in err.reason_en  # the expected ID is masked in the message


def test_cert_id_number_argument_must_be_valid():
    assert_error(normalize_cert_number, VALID_CERT, "ID_CHECKSUM", id_number="62082219890321644X")


@pytest.mark.parametrize("category", [2, 3, 7, 8, 0])
def test_cert_category_mismatch(category):
    assert_error(normalize_cert_number, VALID_CERT, "CERT_CATEGORY", category=category)


@pytest.mark.parametrize("grade", [1, 2, 3, 5, 0])
def test_cert_grade_mismatch(grade):
    assert_error(normalize_cert_number, VALID_CERT, "CERT_GRADE", grade=grade)


@pytest.mark.parametrize("category_digit", ["8", "9", "0"])
def test_cert_category_out_of_range(category_digit):
    assert_error(normalize_cert_number, f"62082219890321643X{category_digit}4", "CERT_CATEGORY")


@pytest.mark.parametrize("grade_digit", ["5", "0", "9"])
def test_cert_grade_out_of_range(grade_digit):
    assert_error(normalize_cert_number, f"62082219890321643X1{grade_digit}", "CERT_GRADE")


@pytest.mark.parametrize(
    "value",
    [
        "62082219890321643X",  # ID only
        "62082219890321643X1",
        "62082219890321643X141",
        "6208221989032164314",
        "",
        "   ",
        None,
    ],
)
def test_cert_length(value):
    assert_error(normalize_cert_number, value, "CERT_LENGTH")


def test_cert_length_hint_when_only_id_given():
    err = assert_error(normalize_cert_number, "62082219890321643X", "CERT_LENGTH")
    assert "category" in err.reason_en


@pytest.mark.parametrize(
    "value",
    [
        "62082219890321643X1A",
        "62082219890321643X1X",
        "6208221989032164X314",
        "62082219890321643Y14",
        "62082219890321643X-4",
        "6.2082219890321643e19",
        6.208221965120913e19,
        True,
        object(),
    ],
)
def test_cert_chars(value):
    assert_error(normalize_cert_number, value, "CERT_CHARS")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("62082219890321644X14", "ID_CHECKSUM"),
        (make_id(birth="19890230") + "14", "ID_BIRTH_DATE"),
    ],
)
def test_cert_embedded_id_invalid(value, code):
    err = assert_error(normalize_cert_number, value, code)
    assert err.value == value
    assert "certificate" in err.reason_en


def test_cert_parts_rejects_invalid():
    assert_error(cert_parts, "62082219890321643X84", "CERT_CATEGORY")


# ---------------------------------------------------------------------------
# 统一社会信用代码
# ---------------------------------------------------------------------------

KNOWN_VALID_USCC = ["52620800P32462330H", "52620822774Q21896Y", "91350100M000100Y43"]

GENERATED_USCC = [
    make_uscc("91110000600037341"),
    make_uscc("12100000400000624"),
    make_uscc("Y1440300MA5DABCDE"),
    make_uscc("00000000000000000"),  # sum 0 -> 31 -> written as "0"
    make_uscc("93620822MA7XYWUTR"),
]


@pytest.mark.parametrize("code", KNOWN_VALID_USCC + GENERATED_USCC)
def test_normalize_uscc_valid(code):
    assert normalize_uscc(code) == code


@pytest.mark.parametrize("code", KNOWN_VALID_USCC + GENERATED_USCC)
def test_uscc_check_char_matches_reference(code):
    assert uscc_check_char(code[:17]) == ref_uscc_check(code[:17])
    assert uscc_check_char(code[:17]) == code[17]


def test_uscc_check_char_zero_when_remainder_is_zero():
    assert uscc_check_char("0" * 17) == "0"
    assert normalize_uscc("0" * 18) == "0" * 18


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("52620800p32462330h", "52620800P32462330H"),
        ("  52620822774Q21896Y\t", "52620822774Q21896Y"),
        (to_fullwidth("91350100M000100Y43"), "91350100M000100Y43"),
        (to_fullwidth("91350100m000100y43"), "91350100M000100Y43"),
        (make_uscc("91110000600037341").lower(), make_uscc("91110000600037341")),
    ],
)
def test_normalize_uscc_normalises(raw, expected):
    assert normalize_uscc(raw) == expected


@pytest.mark.parametrize(
    "value",
    [bad for code in KNOWN_VALID_USCC for bad in wrong_last_chars(code, "0123456789ABCDEFGHJKLMNPQRTUWXY")[:5]]
    + ["52620800P32462330A", "91350100M000100Y44", "52620822774Q21869Y"],
)
def test_uscc_checksum(value):
    err = assert_error(normalize_uscc, value, "USCC_CHECKSUM")
    assert ref_uscc_check(value[:17].upper()) in err.reason_en


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z", "i", "o", "s", "v", "z"])
def test_uscc_chars_forbidden_letters(letter):
    value = "52620800" + letter + "32462330H"
    assert len(value) == 18
    assert_error(normalize_uscc, value, "USCC_CHARS")


@pytest.mark.parametrize(
    "value",
    ["526208-0P32462330H", "52620800P3246233 H", "52620800P32462330中", 9.135e17, True, ["x"]],
)
def test_uscc_chars_other(value):
    assert_error(normalize_uscc, value, "USCC_CHARS")


@pytest.mark.parametrize(
    "value",
    ["52620800P32462330", "52620800P32462330HH", "9135", "", "   ", None, 12345],
)
def test_uscc_length(value):
    assert_error(normalize_uscc, value, "USCC_LENGTH")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("52620800P3246233", "USCC_LENGTH"),
        ("52620800P324623300", "USCC_LENGTH"),
        ("52620800O32462330", "USCC_CHARS"),
        (None, "USCC_CHARS"),
    ],
)
def test_uscc_check_char_rejects_bad_input(value, code):
    assert_error(uscc_check_char, value, code)


def test_uscc_check_char_accepts_lower_case():
    assert uscc_check_char("52620800p32462330") == "H"


# ---------------------------------------------------------------------------
# 区划代码
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "value", "label", "prefix_length"),
    [
        (RegionLevel.PROVINCE, "province", "省", 2),
        (RegionLevel.CITY, "city", "市", 4),
        (RegionLevel.COUNTY, "county", "县", 6),
        (RegionLevel.TOWNSHIP, "township", "乡", 9),
        (RegionLevel.VILLAGE, "village", "村", 12),
    ],
)
def test_region_level_enum(level, value, label, prefix_length):
    assert level == value
    assert str(level) == value
    assert RegionLevel(value) is level
    assert level.label == label
    assert level.prefix_length == prefix_length


def test_region_level_enum_members_in_order():
    assert [m.value for m in RegionLevel] == ["province", "city", "county", "township", "village"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("62", "620000000000"),
        ("6208", "620800000000"),
        ("620822", "620822000000"),
        ("620822100", "620822100000"),
        ("620822100201", "620822100201"),
        ("620000000000", "620000000000"),
        ("6200", "620000000000"),
        ("620800", "620800000000"),
        (" 620822 ", "620822000000"),
        (to_fullwidth("620822100"), "620822100000"),
        (620822, "620822000000"),
        (62, "620000000000"),
        (620822100201, "620822100201"),
        ("110101001001", "110101001001"),
        ("429004", "429004000000"),
    ],
)
def test_normalize_region_code(raw, expected):
    assert normalize_region_code(raw) == expected


REGION_CASES = [
    # code, level, parent, prefix, ancestors
    ("62", RegionLevel.PROVINCE, None, "62", []),
    ("620000000000", RegionLevel.PROVINCE, None, "62", []),
    ("6208", RegionLevel.CITY, "620000000000", "6208", ["620000000000"]),
    ("620800000000", RegionLevel.CITY, "620000000000", "6208", ["620000000000"]),
    ("620822", RegionLevel.COUNTY, "620800000000", "620822", ["620000000000", "620800000000"]),
    ("620802000000", RegionLevel.COUNTY, "620800000000", "620802", ["620000000000", "620800000000"]),
    (
        "620822100",
        RegionLevel.TOWNSHIP,
        "620822000000",
        "620822100",
        ["620000000000", "620800000000", "620822000000"],
    ),
    (
        "620822001000",
        RegionLevel.TOWNSHIP,
        "620822000000",
        "620822001",
        ["620000000000", "620800000000", "620822000000"],
    ),
    (
        "620822100201",
        RegionLevel.VILLAGE,
        "620822100000",
        "620822100201",
        ["620000000000", "620800000000", "620822000000", "620822100000"],
    ),
    (
        "620822100010",
        RegionLevel.VILLAGE,
        "620822100000",
        "620822100010",
        ["620000000000", "620800000000", "620822000000", "620822100000"],
    ),
]


@pytest.mark.parametrize(("code", "level", "parent", "prefix", "ancestors"), REGION_CASES)
def test_region_level(code, level, parent, prefix, ancestors):
    assert region_level(code) is level


@pytest.mark.parametrize(("code", "level", "parent", "prefix", "ancestors"), REGION_CASES)
def test_region_parent(code, level, parent, prefix, ancestors):
    assert region_parent(code) == parent


@pytest.mark.parametrize(("code", "level", "parent", "prefix", "ancestors"), REGION_CASES)
def test_region_prefix(code, level, parent, prefix, ancestors):
    result = region_prefix(code)
    assert result == prefix
    assert len(result) == level.prefix_length
    assert normalize_region_code(code).startswith(result)


@pytest.mark.parametrize(("code", "level", "parent", "prefix", "ancestors"), REGION_CASES)
def test_region_ancestors(code, level, parent, prefix, ancestors):
    result = region_ancestors(code)
    assert result == ancestors
    assert normalize_region_code(code) not in result


def test_region_parent_chain_reaches_province():
    chain = []
    code: str | None = "620822100201"
    while code is not None:
        chain.append(code)
        code = region_parent(code)
    assert chain == ["620822100201", "620822100000", "620822000000", "620800000000", "620000000000"]
    assert [region_level(c) for c in chain] == [
        RegionLevel.VILLAGE, RegionLevel.TOWNSHIP, RegionLevel.COUNTY,
        RegionLevel.CITY, RegionLevel.PROVINCE,
    ]


def test_region_prefix_selects_descendants_only():
    prefix = region_prefix("620822")
    assert "620822100201".startswith(prefix)
    assert not "620802100201".startswith(prefix)
    assert not "620823000000".startswith(prefix)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        None,
        "6",
        "620",
        "62082",
        "6208221",
        "62082210",
        "6208221002",
        "62082210020",
        "6208221002011",
        "62a8",
        "62-08",
        "62082210020X",
        "6208 22",
        "-62",
        "62\u0668",  # Arabic-Indic digit
        620822.0,
        6.2e11,
        True,
        ["62"],
    ],
)
def test_region_format(value):
    assert_error(normalize_region_code, value, "REGION_FORMAT")


@pytest.mark.parametrize(
    "value",
    [
        "00",
        "0000",
        "000000000000",
        "001234567890",
        "620800100000",  # county 00 but township filled
        "620022",  # city 00 but county filled
        "620022100201",
        "620800000001",  # county 00 but village filled
        "620822000001",  # township 000 but village filled
        "620000000100",
        "620000100",
    ],
)
def test_region_structure(value):
    assert_error(normalize_region_code, value, "REGION_STRUCTURE")


@pytest.mark.parametrize("func", [region_level, region_parent, region_prefix, region_ancestors])
@pytest.mark.parametrize(("value", "code"), [("620800100000", "REGION_STRUCTURE"), ("62082", "REGION_FORMAT")])
def test_region_helpers_reject_invalid(func, value, code):
    assert_error(func, value, code)
