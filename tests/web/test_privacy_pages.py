"""The privacy table (graph_schema/access/privacy.py) on the console's pages, for every role, on
both engines: the household page and the monitoring lists draw what the table shows, the mask of
what it masks, and nothing of what it withholds (no value, no column). The world and the
expectations are in tests/privacy_world.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph_schema.access.privacy import BY_FIELD, REPORT_FIELDS, View
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.store import GraphStore
from console_client import sign_in
from privacy_world import READERS, USERS, World, build, expected, own, report_rows, stored


@pytest.fixture
def world(store: GraphStore) -> World:
    return build(store)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def shown_as(kind: str, name: str, raw: dict) -> str | None:
    """How the console writes one stored value (None: it does not draw this field)."""
    value = raw.get(name)
    if value is None:
        return None
    match f"{kind}.{name}":
        case "person.category":
            return "视力 听力 言语 肢体 智力 精神 多重".split()[value - 1]
        case "person.grade":
            return "一级 二级 三级 四级".split()[value - 1]
        case "person.needs":
            return "、".join(value)
        case "ledger.amount_fen" | "ledger.in_kind_fen":
            return f"{value / 100:.2f}"
        case ("household.head_name" | "household.head_id" | "household.address" | "household.phone"
              | "household.monitoring" | "person.name" | "person.id_number" | "person.cert_no" | "person.relation"
              | "person.cert_expiry" | "pairing.end_reason" | "problem.description" | "problem.resolution"
              | "ledger.note"):
            return str(value)
    return None


#: fields the console shows by a heading or label rather than a distinctive value
LABELS = {"household.labour": "劳动力 / labour", "household.dibao": "低保 / 特困 / 以老养残",
          "risk.score": "分值 / score", "risk.reasons": "重度残疾成员1人", "benefit.item": "享受的服务 困难残疾人生活补贴"}


def test_console_household_page_follows_the_table(client, world):
    raws = stored(world.store)
    problem_texts = {p[f] for p in raws["problem"].values() for f in ("description", "resolution")}
    drawn: set[str] = set()
    for user in USERS:
        sign_in(client, world, user)
        page = client.get("/households/H1")
        assert page.status_code == 200, (user, page.text)
        html = page.text
        for kind in ("household", "person", "pairing", "ledger", "problem", "cadre", "org"):
            for raw in raws[kind].values():
                if kind in ("household", "problem") and raw.get("household_no") != "H1":
                    continue
                if kind == "person" and raw["household_no"] != "H1":
                    continue
                mine = own(kind, raw, user)
                for name, value in raw.items():
                    rule_name = f"{kind}.{name}"
                    if rule_name not in BY_FIELD or value is None or (kind == "ledger" and value in problem_texts):
                        continue  # a problem entry's note is the problem's description or resolution: checked as that
                    text = shown_as(kind, name, raw)
                    want = expected(rule_name, value, user, mine)
                    raw_text = text if text is not None else str(value)
                    if len(raw_text) < 2:
                        continue  # a one-character value (无) is no evidence either way
                    if want == value:
                        if text is not None:
                            assert text in html, (user, rule_name, text)
                            drawn.add(rule_name)
                    elif want is None:  # withheld: neither the value nor its mask is on the page
                        assert raw_text not in html, (user, rule_name)
                        if BY_FIELD[rule_name].mask:
                            assert BY_FIELD[rule_name].mask(raw_text) not in html, (user, rule_name)
                    else:  # masked: the mask, never the value
                        assert raw_text not in html, (user, rule_name)
                        if text is not None:
                            assert want in html, (user, rule_name, want)
        for rule_name, label in LABELS.items():
            assert (label in html) == (BY_FIELD[rule_name].views[USERS[user][0]] is not View.WITHHELD), \
                (user, rule_name)
    assert drawn >= {"household.head_name", "household.head_id", "household.address", "household.phone",
                     "person.name", "person.id_number", "person.category", "person.grade", "person.needs",
                     "person.cert_expiry", "pairing.end_reason", "problem.description", "problem.resolution",
                     "ledger.note",
                     "ledger.amount_fen"}


#: the console's list pages: path → the report it shows
LIST_PAGES = {"/unpaired": "unpaired", "/problems": "open-problems", "/cert-expiry": "cert-expiry",
              "/benefit-gaps": "benefit-gaps", "/overdue": "overdue-visits", "/cadre-load": "cadre-load"}


def test_console_lists_follow_the_table(client, world):
    for user in USERS:
        sign_in(client, world, user)
        for path, name in LIST_PAGES.items():
            page = client.get(path)
            if user not in READERS:
                assert page.status_code == 403
                continue
            html = page.text
            headers = REPORTS[name].headers
            for raw in report_rows(world.store, name):
                for column, rule_name in REPORT_FIELDS[name].items():
                    if not rule_name or raw[column] in (None, []):
                        continue
                    want = expected(rule_name, raw[column], user)
                    text = "；".join(raw[column]) if isinstance(raw[column], list) else str(raw[column])
                    if want is None:  # withheld: no column, and (for a text) not on the page
                        assert isinstance(raw[column], int) or text not in html, (user, path, column)
                        assert f'<th scope="col">{headers[column]}' not in html or column == "id_masked", (user, path)
                    elif want == raw[column]:
                        assert text in html, (user, path, column, text)
                    else:
                        assert text not in html and str(want) in html, (user, path, column)
    sign_in(client, world, "portal")
    unpaired = client.get("/unpaired").text
    assert "欧**华" in unpaired and "欧阳明华" not in unpaired and 'id="reason"' not in unpaired
    # no row matches a reason the portal may not see, so the filter tells nothing about a household
    assert "/households/H2" not in client.get("/unpaired", params={"reason": "特困"}).text
    sign_in(client, world, "organizer")
    assert "/households/H2" in client.get("/unpaired", params={"reason": "特困"}).text


def test_console_never_shows_the_fields_it_does_not_draw(client, world):
    """Income, risk factors, labour ability, contacts and the phones of cadres and organisations
    are not on the console's pages for any role."""
    hidden = ["12345.00", "1234500", "因病", "孙联系", "周其他", "13900001111", "13700002222", "0931-8123456",
              "13600003333"]
    for user in USERS:
        sign_in(client, world, user)
        for path in ["/households/H1", *(LIST_PAGES if user in READERS else [])]:
            html = client.get(path).text
            assert not [h for h in hidden if h in html], (user, path)
