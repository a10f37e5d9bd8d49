"""Small builders of valid domain records for tests (IDs computed, never hard-coded)."""

from __future__ import annotations

import datetime as dt
import itertools

from graph_schema.cadre.models import Cadre
from graph_schema.household.models import Household, Person
from graph_schema.identifiers import id_check_char, uscc_check_char
from graph_schema.org.models import Org

VILLAGE = "620822100201"
OTHER_VILLAGE = "620822100202"
OTHER_COUNTY_VILLAGE = "620802101203"
_seq = itertools.count(1)


def id_number(county: str = "620822", born: dt.date = dt.date(1970, 1, 1)) -> str:
    first17 = f"{county}{born:%Y%m%d}{next(_seq) % 1000:03d}"
    return first17 + id_check_char(first17)


def uscc(county: str = "620822") -> str:
    first17 = f"52{county}{next(_seq):09d}"
    return first17 + uscc_check_char(first17)


def household(no: str, region: str = VILLAGE, **fields) -> Household:
    values = {"household_no": no, "head_name": "测试户主", "head_id": id_number(region[:6]), "region_code": region,
              "size": 3, "labour": 1} | fields
    return Household(**values)


def person(household_no: str, grade: int = 4, category: int = 4, **fields) -> Person:
    number = fields.pop("id_number", None) or id_number()
    return Person(id_number=number, name="测试人", cert_no=f"{number}{category}{grade}", household_no=household_no,
                  category=category, grade=grade, **fields)


def cadre(no: str, station: str = VILLAGE, **fields) -> Cadre:
    values = {"cadre_no": no, "name": "测试干部", "unit": "县残联", "unit_level": "县", "station_code": station} | fields
    return Cadre(**values)


def org(code: str | None = None, region: str = "620822", **fields) -> Org:
    return Org(**{"uscc": code or uscc(), "name": "测试组织", "service_region_code": region} | fields)
