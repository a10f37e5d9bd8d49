"""Accounts in the console, on both engines: an organiser makes the accounts of the region's cadres
(their one-time codes come back once, as an .xlsx), a cadre's first sign-in turns the code into a
password, a reset and a disable take effect at once; an organisation asks to join from the
sign-in page and an organiser approves it (its code shown once)."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook

from api.app import create_app
from api.security import csrf_token
from factories import uscc
from graph_schema.access.audit import audit_entries
from graph_schema.access.accounts import code_matches
from graph_schema.org.service import get_org
from graph_schema.pagination import PageRequest
from graph_schema.store import GraphStore

_spec = importlib.util.spec_from_file_location("api_world", Path(__file__).parent.parent / "api" / "conftest.py")
api_world = sys.modules.setdefault("api_world", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(api_world)

PASSWORD = "cadre-password-2024"
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){3}")


@pytest.fixture
def world(store: GraphStore):
    return api_world.build_world(store)


@pytest.fixture
def client(world) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def as_user(client: TestClient, world, user: str) -> None:
    client.cookies.clear()
    client.cookies.set("jiedui_session", world.tokens[user])
    client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, world.tokens[user])


def signed_out(client: TestClient) -> None:
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)


def make_cadre_accounts(client: TestClient, world) -> dict[str, list]:
    """The organiser of county A makes its cadres' accounts: the .xlsx's rows by cadre number."""
    as_user(client, world, "organizer-a")
    page = client.get("/accounts").text
    assert "CA1" in page and "CA2" in page and "CB1" not in page and "无账号" in page
    answer = client.post("/accounts/create", data={"region": "620822000000", "kind": "cadre"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxml")
    assert "attachment" in answer.headers["content-disposition"]
    rows = CalamineWorkbook.from_filelike(io.BytesIO(answer.content)).get_sheet_by_name("登录码").to_python()
    assert rows[0] == ["姓名", "干部编号", "用户名", "一次性登录码", "有效期至"]
    return {r[1]: r for r in rows[1:]}


def test_a_cadres_first_sign_in_turns_the_code_into_a_password(client, world):
    made = make_cadre_accounts(client, world)
    assert set(made) == {"CA2"}  # CA1 has its account already (cadre-a)
    _, number, user, code, _ = made["CA2"]
    assert CODE.fullmatch(code)
    page = client.get("/accounts").text
    assert code not in page and "待首次登录" in page  # the code is never shown again
    writes = audit_entries(store=world.store, user_id="organizer-a", page=PageRequest(1, 100)).items
    assert any(e.object_kind == "user" and user in e.object_keys and e.action == "write" for e in writes)

    signed_out(client)
    wrong = client.post("/login", data={"user": user, "password": "AAAA-BBBB-CCCC-DDDD"}, follow_redirects=False)
    assert wrong.status_code == 401
    first = client.post("/login", data={"user": user, "password": code.lower().replace("-", " ")},
                        follow_redirects=False)
    assert first.status_code == 200 and "设置密码" in first.text and "jiedui_session" not in first.cookies
    for password, confirm, why in (("short", "short", "10"), (PASSWORD, PASSWORD + "x", "不一致")):
        refused = client.post("/login/first", data={"user": user, "code": code, "password": password,
                                                    "confirm": confirm}, follow_redirects=False)
        assert refused.status_code == 422 and why in refused.text
    done = client.post("/login/first", data={"user": user, "code": code, "password": PASSWORD, "confirm": PASSWORD},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/mine"
    assert client.get("/mine").status_code == 200
    signed_out(client)
    again = client.post("/login", data={"user": user, "password": code}, follow_redirects=False)
    assert again.status_code == 401  # used: it answers as a wrong password
    replay = client.post("/login/first", data={"user": user, "code": code, "password": "another-password-1",
                                               "confirm": "another-password-1"}, follow_redirects=False)
    assert replay.status_code == 401
    assert client.post("/login", data={"user": user, "password": PASSWORD},
                       follow_redirects=False).headers["location"] == "/"


def test_setting_the_first_password_is_guarded_as_the_sign_in_is(client, world):
    _, _, user, code, _ = make_cadre_accounts(client, world)["CA2"]
    signed_out(client)
    other_site = client.post("/login/first", data={"user": user, "code": code, "password": PASSWORD,
                                                   "confirm": PASSWORD},
                             headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert other_site.status_code == 403
    for n in range(5):
        client.post("/login/first", data={"user": user, "code": f"WRONG-{n}", "password": PASSWORD,
                                          "confirm": PASSWORD}, follow_redirects=False)
    held = client.post("/login/first", data={"user": user, "code": code, "password": PASSWORD, "confirm": PASSWORD},
                       follow_redirects=False)
    assert held.status_code == 429 and held.headers["Retry-After"]
    assert code_matches(store=world.store, user_id=user, code=code)  # still good once the wait is over


def test_a_reset_and_a_disable_take_effect_at_once(client, world):
    made = make_cadre_accounts(client, world)
    _, _, user, code, _ = made["CA2"]
    signed_out(client)
    client.post("/login", data={"user": user, "password": code})
    client.post("/login/first", data={"user": user, "code": code, "password": PASSWORD, "confirm": PASSWORD})
    session = client.cookies.get("jiedui_session")
    assert client.get("/mine", follow_redirects=False).status_code == 200

    as_user(client, world, "organizer-a")
    reset = client.post("/accounts/reset", data={"user": user, "region": "620822000000", "kind": "cadre"})
    fresh = CODE.search(reset.text.split('class="card issued"')[1]).group(0)
    assert reset.status_code == 200 and fresh != code and code_matches(store=world.store, user_id=user, code=fresh)
    assert fresh not in client.get("/accounts").text  # shown once
    signed_out(client)
    client.cookies.set("jiedui_session", session)
    assert client.get("/mine", follow_redirects=False).status_code == 303  # the session ended with the reset
    signed_out(client)
    assert client.post("/login", data={"user": user, "password": PASSWORD}, follow_redirects=False).status_code == 401

    client.post("/login", data={"user": user, "password": fresh})
    client.post("/login/first", data={"user": user, "code": fresh, "password": PASSWORD, "confirm": PASSWORD})
    session = client.cookies.get("jiedui_session")
    as_user(client, world, "organizer-a")
    assert client.post("/accounts/disable", data={"user": user}, follow_redirects=False).status_code == 303
    assert "已停用" in client.get("/accounts").text
    signed_out(client)
    client.cookies.set("jiedui_session", session)
    assert client.get("/mine", follow_redirects=False).status_code == 303  # refused from the next request on
    signed_out(client)
    assert client.post("/login", data={"user": user, "password": PASSWORD}, follow_redirects=False).status_code == 401
    as_user(client, world, "organizer-a")
    client.post("/accounts/disable", data={"user": user, "enable": "true"})
    signed_out(client)
    assert client.post("/login", data={"user": user, "password": PASSWORD}, follow_redirects=False).status_code == 303

    as_user(client, world, "organizer-b")  # another county's organiser: as for a user that does not exist
    assert client.post("/accounts/reset", data={"user": user}).status_code == 404
    assert client.post("/accounts/disable", data={"user": user}).status_code == 404
    as_user(client, world, "organizer-a")
    assert client.post("/accounts/reset", data={"user": "organizer-b"}).status_code == 404
    assert client.post("/accounts/create", data={"region": "620822", "kind": "nobody"}).status_code == 422


def test_organisations_of_the_region_get_their_accounts_too(client, world):
    as_user(client, world, "organizer-a")
    page = client.get("/accounts?kind=org").text
    assert world.org_a in page and world.org_b not in page
    answer = client.post("/accounts/create", data={"region": "620822000000", "kind": "org"}, follow_redirects=False)
    assert answer.status_code == 303  # org-a has its account: nobody is waiting
    assert "没有需要建账号的人" in client.get(answer.headers["location"]).text


def join(client: TestClient, **fields) -> object:
    form = {"name": "阳光助残志愿者协会", "uscc": uscc(), "service_region_code": "620822000000", "contact": "李四",
            "phone": "13900001111"} | fields
    return client.post("/join", data=form, follow_redirects=False)


def test_an_organisation_asks_to_join_and_an_organiser_approves(client, world):
    signed_out(client)
    assert "社会组织申请入驻" in client.get("/login").text
    form = client.get("/join")
    assert form.status_code == 200 and 'action="/join"' in form.text
    assert 'autocomplete="organization"' in form.text and 'type="tel"' in form.text  # attributes, not escaped text
    code = uscc()
    asked = join(client, uscc=code)
    assert asked.status_code == 200 and "申请已收到" in asked.text
    known = join(client, uscc=world.org_a)  # registered already: the same answer
    assert known.status_code == 200 and known.text.replace(world.org_a, "") == asked.text.replace(code, "")
    bad = world.org_a[:-1] + ("0" if world.org_a[-1] != "0" else "1")
    for fields, words in (({"uscc": bad}, "校验"), ({"service_region_code": "650000000000"}, "区划不存在"),
                          ({"service_region_code": "62x"}, ""), ({"phone": "12345"}, "电话"), ({"name": ""}, "请填写")):
        refused = join(client, **fields)
        (field,) = fields
        assert refused.status_code == 422 and f'id="join-{field}-error"' in refused.text, fields
        assert words in refused.text.split(f'id="join-{field}-error"')[1].split("</p>")[0], fields
        assert 'aria-invalid="true"' in refused.text and "申请已收到" not in refused.text
    other = join(client, service_region_code="620802000000", name="别县协会")
    assert other.status_code == 200
    trail = audit_entries(store=world.store, user_id="anonymous", page=PageRequest(1, 100)).items
    assert len(trail) == 3 and {e.object_kind for e in trail} == {"join_request"}

    as_user(client, world, "organizer-b")
    assert "阳光助残" not in client.get("/join-requests").text and "别县协会" in client.get("/join-requests").text
    as_user(client, world, "organizer-a")
    page = client.get("/join-requests").text
    assert "共 2 条" in page and "别县协会" not in page and "13900001111" in page and "李四" in page
    assert "已登记" in page and page.count("/approve") == 1  # the registered code gets no approve button
    request_id = re.search(r'/join-requests/([0-9a-f]+)/approve', page).group(1)
    approved = client.post(f"/join-requests/{request_id}/approve", data={"note": "资质已核"})
    assert approved.status_code == 200 and "已批准" in approved.text
    issued = CODE.search(approved.text.split('class="card issued"')[1]).group(0)
    assert get_org(store=world.store, uscc=code).name == "阳光助残志愿者协会"
    assert issued not in client.get("/join-requests?status=all").text
    assert client.post(f"/join-requests/{request_id}/approve", follow_redirects=False).status_code == 303  # decided

    signed_out(client)
    first = client.post("/login", data={"user": code, "password": issued})
    assert "设置密码" in first.text
    done = client.post("/login/first", data={"user": code, "code": issued, "password": PASSWORD, "confirm": PASSWORD},
                       follow_redirects=False)
    assert done.headers["location"] == "/aux-pairings"
    assert "阳光助残志愿者协会" in client.get("/aux-pairings").text


def test_the_form_is_throttled_and_guarded_against_other_sites(client, world):
    signed_out(client)
    refused = client.post("/join", data={"name": "x"}, headers={"Origin": "https://evil.example"},
                          follow_redirects=False)
    assert refused.status_code == 403
    answers = [join(client, **({"name": ""} if n % 2 else {})).status_code for n in range(10)]
    assert answers == [200, 422] * 5  # good and bad requests alike count
    held = join(client)
    assert held.status_code == 429 and held.headers["Retry-After"] and "申请已收到" not in held.text
