"""The typed models refuse what the data contract forbids."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from factories import household, id_number, person
from graph_schema.cadre.models import Cadre
from graph_schema.enums import DisabilityCategory, DisabilityGrade
from graph_schema.household.models import Person
from graph_schema.ledger.models import LedgerEntry
from graph_schema.org.models import Org
from graph_schema.region.models import Region


def test_household_region_must_be_a_village():
    with pytest.raises(ValidationError, match="village"):
        household("H1", region="620822100000")


def test_household_labour_cannot_exceed_its_size():
    with pytest.raises(ValidationError, match="exceeds household size"):
        household("H1", size=2, labour=3)
    assert household("H1", size=2, labour=2).labour == 2


@pytest.mark.parametrize("bad", [0, -1, 51])
def test_household_size_range(bad):
    with pytest.raises(ValidationError):
        household("H1", size=bad, labour=0)


def test_household_head_id_is_checked_and_normalised():
    number = id_number()
    assert household("H1", head_id=number.lower()).head_id == number
    with pytest.raises(ValidationError, match="ID_CHECKSUM|校验"):
        household("H1", head_id=number[:17] + ("0" if number[17] != "0" else "1"))


def test_empty_text_and_lists_mean_unknown():
    h = household("H1", address="　 ", risk_factors=None)
    assert h.address is None and h.risk_factors == []


def test_person_certificate_must_embed_the_id_category_and_grade():
    number = id_number()
    ok = Person(id_number=number, name="a", cert_no=f"{number}74", household_no="H1", category="多重", grade="四级")
    assert (ok.category, ok.grade) == (DisabilityCategory.MULTIPLE, DisabilityGrade.FOUR)
    with pytest.raises(ValidationError, match="disagree"):
        Person(id_number=number, name="a", cert_no=f"{number}74", household_no="H1", category=7, grade=3)
    other = id_number()
    with pytest.raises(ValidationError, match="does not start with the ID"):
        Person(id_number=number, name="a", cert_no=f"{other}74", household_no="H1", category=7, grade=4)


@pytest.mark.parametrize("text,value", [("视力", 1), ("视力残疾", 1), ("7", 7), (4, 4)])
def test_disability_category_spellings(text, value):
    assert DisabilityCategory.parse(text) == value


@pytest.mark.parametrize("text", ["八", "0", "8", "残疾"])
def test_unknown_disability_category(text):
    with pytest.raises(ValueError):
        DisabilityCategory.parse(text)


@pytest.mark.parametrize("text,value", [("一级", 1), ("4", 4), ("2级", 2)])
def test_disability_grade_spellings(text, value):
    assert DisabilityGrade.parse(text) == value
    assert DisabilityGrade(value).severe is (value <= 2)


def test_person_grade_out_of_range():
    with pytest.raises(ValidationError):
        person("H1", grade=5)


def test_cadre_limit_and_station():
    c = Cadre(cadre_no="C1", name="a", unit="u", unit_level="乡", station_code="620822100")
    assert c.pair_limit == 3 and c.on_duty is True and c.station_code == "620822100000"
    for bad in (0, 11):
        with pytest.raises(ValidationError):
            Cadre(cadre_no="C1", name="a", unit="u", unit_level="乡", station_code="620822100201", pair_limit=bad)
    with pytest.raises(ValidationError, match="village or township"):
        Cadre(cadre_no="C1", name="a", unit="u", unit_level="县", station_code="620822")
    with pytest.raises(ValidationError):
        Cadre(cadre_no="C1", name="a", unit="u", unit_level="部", station_code="620822100201")


def test_org_code_is_checked():
    with pytest.raises(ValidationError):
        Org(uscc="52620800P32462330X", name="o", service_region_code="6208")
    assert Org(uscc="52620800p32462330h", name="o", service_region_code="6208").uscc == "52620800P32462330H"


def test_region_level_and_name_default():
    r = Region(code="6208")
    assert r.code == "620800000000" and r.level.value == "city" and r.to_row()["name"] == "620800000000"


def test_ledger_entry_names_exactly_one_actor():
    base = {"entry_date": dt.date(2024, 1, 1), "household_no": "H1", "kind": "入户走访"}
    with pytest.raises(ValidationError, match="exactly one"):
        LedgerEntry(**base)
    with pytest.raises(ValidationError, match="exactly one"):
        LedgerEntry(**base, cadre_no="C1", uscc="52620800P32462330H")
    assert LedgerEntry(**base, cadre_no="C1").actor == "C1"


def test_a_reported_difficulty_needs_a_problem_number():
    with pytest.raises(ValidationError, match="problem number"):
        LedgerEntry(entry_date=dt.date(2024, 1, 1), household_no="H1", kind="反映困难", cadre_no="C1")


def test_ledger_entry_id_follows_the_content():
    a = LedgerEntry(entry_date=dt.date(2024, 1, 1), household_no="H1", kind="资助", cadre_no="C1", amount_fen=100)
    assert a.entry_id == a.model_copy().entry_id
    assert a.entry_id != a.model_copy(update={"amount_fen": 101}).entry_id


def test_negative_money_is_refused():
    with pytest.raises(ValidationError):
        LedgerEntry(entry_date=dt.date(2024, 1, 1), household_no="H1", kind="资助", cadre_no="C1", amount_fen=-1)
