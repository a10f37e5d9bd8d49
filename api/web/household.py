"""One household in the console: its members, pairings, auxiliary pairings, ledger, problems and
risk, and a drawing of its assistance network (server-side SVG with the same links as a list).

The household is read through the caller's scope: one outside it answers 404, as one that does
not exist. What the page shows of it follows the privacy policy (``graph_schema/access/privacy.py``):
every record goes through ``privacy.redact`` before it reaches the template, and the template
draws no line or column of a field the caller's role is denied (``shows``). The reads are recorded
in the audit trail as the REST routes record them."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web.lists import show
from api.web.pages import Who
from graph_schema.access import privacy
from graph_schema.access.models import User
from graph_schema.cadre.service import cadres_in
from graph_schema.household.models import Household, Person
from graph_schema.household.service import get_household, members_in
from graph_schema.listing.models import Listing
from graph_schema.listing.service import listings_in
from graph_schema.ledger.service import ledger_in, problems_in
from graph_schema.models import today
from graph_schema.monitoring import risk
from graph_schema.org.service import orgs_in
from graph_schema.pagination import Page
from graph_schema.pairing.service import aux_pairings_in, pairings_in
from graph_schema.region.service import get_region
from graph_schema.settings import get_settings

router = APIRouter(include_in_schema=False)

LEDGER_PAGE = 50
#: the members table's columns after name and numbers: field → heading (a column is drawn for the
#: roles the privacy policy lets see the field)
MEMBER_COLUMNS = {"relation": "与户主关系 relation", "category": "类别 category", "grade": "等级 grade",
                  "cert_expiry": "有效期至 expires", "needs": "需求 needs"}
#: how a pairing's source reads on the page
SOURCES = {"import": "导入 / import", "manual": "手工 / manual", "matcher": "匹配 / matcher", "transfer": "转移 / transfer"}


@router.get("/households/{household_no}", response_class=HTMLResponse)
def household_page(request: Request, who: Who, household_no: str, ledger_page: int = 1) -> HTMLResponse:
    """一户：成员、结对历史、辅助结对、台账、困难、风险与帮扶关系图 / one household."""
    found = get_household(store=who.store, household_no=household_no, scope=who.scope)
    keys = [household_no]

    def work(tx: Any) -> dict[str, Any]:
        parts = {"members": members_in(tx, keys)[household_no], "pairings": pairings_in(tx, keys)[household_no],
                 "aux": aux_pairings_in(tx, keys)[household_no], "ledger": ledger_in(tx, keys)[household_no],
                 "problems": problems_in(tx, keys)[household_no]}
        cadre_nos = sorted({p.cadre_no for p in parts["pairings"]} | {e.cadre_no for e in parts["ledger"] if e.cadre_no})
        usccs = sorted({a.uscc for a in parts["aux"]} | {e.uscc for e in parts["ledger"] if e.uscc})
        ids = [m.id_number for m in parts["members"]]
        parts["listings"] = [item for found in listings_in(tx, ids).values() for item in found] if ids else []
        parts["cadres"] = cadres_in(tx, cadre_nos, who.scope) if cadre_nos else {}
        parts["orgs"] = orgs_in(tx, usccs, who.scope) if usccs else {}
        return parts

    parts = who.store.read(work)
    who.read("household", keys)
    who.read("person", [p.id_number for p in parts["members"]])
    user = who.user
    names = {no: c.name for no, c in parts["cadres"].items()} | {u: o.name for u, o in parts["orgs"].items()}
    newest_first = [_seen("ledger", e, user) | {"actor": e.actor} for e in reversed(parts["ledger"])]
    page = max(1, ledger_page)
    ledger = Page(newest_first[(page - 1) * LEDGER_PAGE:page * LEDGER_PAGE], len(newest_first), page, LEDGER_PAGE)
    seen = _seen("household", found, user)
    links = network_links(found, parts["pairings"], parts["aux"], names)
    if privacy.shows("benefit.item", user.role):
        links += service_links(parts["listings"])
    region = get_region(store=who.store, code=found.region_code)
    return show(request, who, "household.html", household=seen, region=region,
                members=[_member(p, user) for p in parts["members"]],
                member_columns=[(f, t) for f, t in MEMBER_COLUMNS.items() if privacy.shows(f"person.{f}", user.role)],
                pairings=[_seen("pairing", p, user) for p in reversed(parts["pairings"])],
                aux=[_seen("pairing", a, user) for a in reversed(parts["aux"])],
                ledger=ledger, sources=SOURCES, problems=[_seen("problem", p, user) for p in reversed(parts["problems"])],
                names=names, risk=_risk(found, parts["members"], user), links=links,
                network=network_svg(found.household_no, seen["head_name"], links),
                shows=lambda field: privacy.shows(field, user.role),
                own_entries=any(privacy.owns("ledger", e, user) for e in newest_first))


def _seen(subject: str, record: Any, user: User) -> dict[str, Any]:
    return privacy.redact(subject, record.model_dump(), user)


def _member(p: Person, user: User) -> dict[str, Any]:
    seen = _seen("person", p, user)
    return seen | {"category": None if seen["category"] is None else p.category.zh,
                   "grade": None if seen["grade"] is None else p.grade.zh}


def _risk(h: Household, members: list[Person], user: User) -> dict[str, Any]:
    """Priority and risk score, as the monitoring lists and GraphQL compute them."""
    facts = risk.RiskFacts(monitoring=h.monitoring, tekun=h.tekun, dibao=h.dibao, elderly_carer=h.elderly_carer,
                           labour=h.labour, disabled=len(members), severe=sum(1 for m in members if m.grade <= 2))
    weights = get_settings().risk
    score = risk.score(facts, weights)
    return privacy.redact("risk", {"priority": facts.priority, "score": score, "level": risk.level(score, weights).value,
                                   "reasons": risk.reasons(facts)}, user)


# --- the assistance network --------------------------------------------------------------------

KIND_NAMES = {"cadre": "结对干部", "org": "辅助结对组织", "service": "享受的服务"}
SHORT_NAMES = {"cadre": "干部", "org": "组织", "service": "服务"}
CORNERS = {"cadre": 30, "org": 6, "service": 14}  # a cadre is a pill, an organisation a box


@dataclass(frozen=True)
class Link:
    kind: str  # "cadre" | "org" | "service"
    key: str
    name: str
    active: bool
    since: str
    until: str | None

    @property
    def text(self) -> str:
        who = f"{KIND_NAMES[self.kind]} {self.name}（{self.key}）"
        when = f"{self.since} 起，进行中 / active" if self.active else f"{self.since} 至 {self.until}，已结束 / ended"
        return f"{who}：{when}"


def network_links(h: Household, pairings: list, aux: list, names: dict[str, str]) -> list[Link]:
    """The household's links: its cadres (one-to-one pairings, past ones too) and the
    organisations of its auxiliary pairings; active ones first."""
    links = [Link("cadre", p.cadre_no, names.get(p.cadre_no, p.cadre_no), p.ended_on is None, str(p.started_on),
                  str(p.ended_on) if p.ended_on else None) for p in pairings]
    links += [Link("org", a.uscc, names.get(a.uscc, a.uscc), a.ended_on is None, str(a.started_on),
                   str(a.ended_on) if a.ended_on else None) for a in aux]
    return sorted(links, key=lambda link: (not link.active, link.kind, link.since))


def service_links(listings: list[Listing]) -> list[Link]:
    """What the household's members receive by the departments' lists (subsidies, 低保, care…),
    one link per department and item: active while some entry of it is valid today."""
    day = today()
    by_item: dict[tuple[str, str], list[Listing]] = {}
    for item in listings:
        by_item.setdefault((item.dept.value, item.item), []).append(item)
    links = []
    for (dept, name), found in sorted(by_item.items()):
        valid = [x for x in found if (x.valid_from or day) <= day and (x.valid_to is None or x.valid_to >= day)]
        latest = max(found, key=lambda x: (x.valid_to or dt.date.max))
        links.append(Link("service", f"{dept}·{name}", name, bool(valid), str(min(x.valid_from or day for x in found)),
                          None if valid else str(latest.valid_to)))
    return links


def network_svg(household_no: str, head_name: str, links: list[Link], *, size: int = 560) -> str:
    """The household in the centre, its cadres and organisations around it; an active link is a
    bold solid line, an ended one thin and dashed. A title and a description name every link.
    ``head_name`` is the name as the caller may see it."""
    cx = cy = size / 2
    radius = size / 2 - 70
    title = f"户 {household_no} 的帮扶关系 / assistance network"
    active = [link for link in links if link.active]
    desc = (f"中心为户 {household_no}（户主 {head_name}），共 {len(links)} 条帮扶关系，其中 {len(active)} 条进行中："
            + "；".join(link.text for link in links) if links else f"户 {household_no} 还没有结对、辅助结对或服务")
    out = [f'<svg role="img" aria-labelledby="net-t net-d" viewBox="0 0 {size} {size}" class="network" '
           f'xmlns="http://www.w3.org/2000/svg">',
           f'<title id="net-t">{escape(title)}</title><desc id="net-d">{escape(desc)}</desc>']
    spots = []
    for i, link in enumerate(links):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(links), 1)
        spots.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    for link, (x, y) in zip(links, spots, strict=True):
        style = "edge active" if link.active else "edge ended"
        out.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" class="{style} {link.kind}"/>')
    out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="46" class="node household"/>')
    out.append(f'<text x="{cx:.1f}" y="{cy - 4:.1f}" text-anchor="middle" class="label strong">户 {escape(household_no)}</text>')
    out.append(f'<text x="{cx:.1f}" y="{cy + 16:.1f}" text-anchor="middle" class="label">{escape(head_name)}</text>')
    for link, (x, y) in zip(links, spots, strict=True):
        state = "active" if link.active else "ended"
        out.append(f'<rect x="{x - 56:.1f}" y="{y - 30:.1f}" width="112" height="60" rx="{CORNERS[link.kind]}" '
                   f'class="node {link.kind} {state}"/>')
        kind = SHORT_NAMES[link.kind]
        out.append(f'<text x="{x:.1f}" y="{y - 6:.1f}" text-anchor="middle" class="label">'
                   f'{kind}·{"进行中" if link.active else "已结束"}</text>')
        out.append(f'<text x="{x:.1f}" y="{y + 16:.1f}" text-anchor="middle" class="label strong">{escape(_short(link.name))}</text>')
    out.append("</svg>")
    return "".join(out)


def _short(name: str, width: int = 7) -> str:
    return name if len(name) <= width else name[:width - 1] + "…"
