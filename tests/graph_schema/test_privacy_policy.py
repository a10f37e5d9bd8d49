"""The privacy table itself: its masks on good and bad values, its shape (every role, every report
column classified, no field in two rows), redaction of records and report rows, and the copy of
the table in docs/api.md. No store: the table is plain data."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from graph_schema.access.models import Role, User
from graph_schema.access.privacy import (
    BY_FIELD,
    PUBLIC,
    REPORT_FIELDS,
    ROLES,
    RULES,
    View,
    mask_id,
    mask_name,
    mask_phone,
    markdown_table,
    redact,
    report_columns,
    report_row,
    view,
)
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.unpaired import UnpairedHousehold

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
PORTAL, CADRE, ORG = User("p", Role.PORTAL, region_code="620822"), User("c", Role.CADRE, cadre_no="C1"), \
    User("o", Role.ORG, uscc="52620822000000031G")


@pytest.mark.parametrize("value,masked", [
    ("张三华", "张*华"), ("欧阳明华", "欧**华"), ("张伟", "张*"), ("李", "*"), (" 张三华 ", "张*华"),
    ("阿卜杜·热合曼", "阿*****曼"), ("", ""), (None, None)])
def test_names_keep_the_first_and_last_characters(value, masked):
    assert mask_name(value) == masked


@pytest.mark.parametrize("value,masked", [
    ("13812341234", "138****1234"),
    ("0933-8123456", "0933-***3456"),
    ("010-12345678", "010-****5678"),
    ("0931-8123456-8001", "0931-***3456-****"),
    ("+86 138 1234 5678", "*************5678"),  # not stored like this, but never more than four digits kept
    ("12345", "*****"),
    ("8123456", "*******"),
    ("", ""), (None, None)])
def test_phones_keep_the_last_four_and_the_mobile_prefix_or_area_code(value, masked):
    assert mask_phone(value) == masked


def test_ids_keep_the_county_and_the_last_four():
    assert mask_id("62082219700101123X") == "620822********123X"
    assert mask_id("62082219700101123X41") == "620822********123X41"  # a certificate number
    assert mask_id(mask_id("62082219700101123X")) == "620822********123X"  # masking twice changes nothing


def test_the_table_has_a_view_for_every_role_and_a_reason_for_every_row():
    seen: set[str] = set()
    for rule in RULES:
        assert set(rule.views) == set(ROLES) and rule.reason.strip(), rule.names
        assert (View.MASKED in rule.views.values()) == (rule.mask is not None), rule.names
        assert not seen & set(rule.names), rule.names  # no field in two rows
        seen |= set(rule.names)
        assert not set(rule.fields) & PUBLIC.get(rule.subject, frozenset()), rule.names
    # admins and organisers do the work every field exists for
    assert {rule.views[Role.ADMIN] for rule in RULES} == {rule.views[Role.ORGANIZER] for rule in RULES} == {View.SHOWN}


def test_finding_7_rows_read_as_the_issue_asks():
    assert view("household.head_name", Role.PORTAL) is View.MASKED
    for role in (Role.PORTAL, Role.CADRE, Role.ORG):
        assert view("household.head_id", role) is view("person.id_number", role) is View.MASKED
    for role in ROLES:  # a phone number is masked for every role that sees ID numbers masked
        assert (view("household.phone", role) is View.MASKED) == (view("household.head_id", role) is View.MASKED)
    assert view("person.category", Role.PORTAL) is view("person.grade", Role.PORTAL) is View.WITHHELD
    assert view("person.category", Role.CADRE) is View.SHOWN
    assert view("ledger.note", Role.PORTAL) is View.WITHHELD
    assert view("cadre.phone", Role.CADRE) is View.WITHHELD  # other cadres' (a cadre's own: its own record)


def test_every_report_column_is_classified():
    """A new report, or a new column, must say which field's rule it follows (None: not personal)."""
    assert set(REPORT_FIELDS) == set(REPORTS)
    for name, report in REPORTS.items():
        assert set(REPORT_FIELDS[name]) == set(report.fields), name
        for column, rule_name in REPORT_FIELDS[name].items():
            assert rule_name is None or rule_name in BY_FIELD, (name, column)


def test_redact_masks_withholds_and_keeps_every_key():
    household = {"household_no": "H1", "head_name": "张三华", "phone": "13812341234", "income_fen": 100, "size": 3}
    assert redact("household", household, PORTAL) == {"household_no": "H1", "head_name": "张*华",
                                                      "phone": "138****1234", "income_fen": None, "size": 3}
    assert redact("household", household, CADRE) == household | {"phone": "138****1234"}


def test_a_callers_own_record_is_shown_in_full():
    mine = {"cadre_no": "C1", "phone": "13700002222"}
    other = {"cadre_no": "C0", "phone": "13900001111"}
    assert redact("cadre", mine, CADRE)["phone"] == "13700002222"
    assert redact("cadre", other, CADRE)["phone"] is None
    entry = {"entry_id": "e", "uscc": ORG.uscc, "cadre_no": None, "note": "捐赠轮椅", "amount_fen": 100}
    assert redact("ledger", entry, ORG) == entry
    assert redact("ledger", entry | {"uscc": "52620822000000032K"}, ORG)["note"] is None
    assert redact("ledger", entry | {"uscc": None, "cadre_no": None}, ORG)["note"] is None  # no actor is no owner


def test_report_rows_are_copied_only_when_something_is_hidden():
    row = UnpairedHousehold(household_no="H2", region_code="620822100202", head_name="欧阳明华", risk_level="高",
                            risk_score=45, reasons=["特困"])
    assert report_row("unpaired", row, User("a", Role.ADMIN)) is row
    seen = report_row("unpaired", row, PORTAL)
    assert dataclasses.asdict(seen) == dataclasses.asdict(row) | {"head_name": "欧**华", "risk_score": None,
                                                                  "reasons": None}
    assert report_columns("unpaired", REPORTS["unpaired"].fields, Role.PORTAL) == \
        ["household_no", "region_code", "head_name", "risk_level"]


def test_the_docs_show_the_table_as_the_code_has_it():
    assert markdown_table() in DOCS.read_text(encoding="utf-8")
