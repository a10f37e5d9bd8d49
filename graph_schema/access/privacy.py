"""The field-level privacy policy: which personal field each role sees shown, masked or withheld.

ID numbers and phone numbers are personal information and disability is sensitive personal
information (PIPL arts. 28–32): each role gets the minimum its job needs. The policy is written
once, here, as a table (:data:`RULES`: the fields of an object × the five roles), and every
channel applies it through the functions below: the REST answers, the GraphQL types, the report
rows (JSON pages, CSV and XLSX downloads, GraphQL lists) and the console's pages. Nothing outside
this module decides whether a role sees a field.

- **shown**: the value as stored;
- **masked**: the value through its mask (:func:`mask_name` ``张*华``, :func:`mask_phone`
  ``138****1234``, :func:`mask_id` ``620822********123X``);
- **withheld**: null in JSON and GraphQL (the schema declares such fields nullable), an empty
  cell in CSV and XLSX (the columns stay, so a file has the same layout for every role), not drawn
  in the console.

A caller's own record is shown in full: a cadre's own cadre record, an organisation's own record,
and the ledger entries a cadre or an organisation recorded itself. Fields not in the table
(:data:`PUBLIC`) are keys, codes, dates and counts that every role reaching the object may see.
Scope is a separate matter: which objects a role reaches at all is decided in the store queries
(:class:`graph_schema.access.models.Scope`); this table decides what it sees of them.

Aggregates are not rows: the counts, rates and sums of the statistics reports (coverage, problem
closure, post-evaluation totals, disabled persons by category) stay available to every role that
reads reports.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from graph_schema.access.models import Role, User


class View(StrEnum):
    SHOWN = "shown"
    MASKED = "masked"
    WITHHELD = "withheld"


#: The roles in the order of the table's columns.
ROLES = (Role.ADMIN, Role.ORGANIZER, Role.CADRE, Role.ORG, Role.PORTAL)
_LETTERS = {"S": View.SHOWN, "M": View.MASKED, "W": View.WITHHELD}


Mask = Callable[[str | None], str | None]


# --- the masks ----------------------------------------------------------------------------------

def mask_name(value: str | None) -> str | None:
    """A person's name with the first and last characters kept: 张三华 → 张*华, 欧阳明华 → 欧**华,
    张伟 → 张*; a one-character name is hidden whole."""
    if not value:
        return value
    text = value.strip()
    if len(text) <= 2:
        return text[:len(text) - 1] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


_MOBILE = re.compile(r"1[0-9]{10}")
_LANDLINE = re.compile(r"(0[0-9]{2,3})-([0-9]{5,8})(?:-([0-9]{1,6}))?")


def mask_phone(value: str | None) -> str | None:
    """A phone number with its last four digits kept: a mobile keeps its first three too
    (138****1234), a landline its area code (0933-***3456; an extension is hidden). Anything
    else keeps only its last four characters, and a value of seven characters or fewer keeps
    nothing."""
    if not value:
        return value
    text = value.strip()
    if _MOBILE.fullmatch(text):
        return text[:3] + "****" + text[-4:]
    landline = _LANDLINE.fullmatch(text)
    if landline:
        area, number, extension = landline.groups()
        return f"{area}-{'*' * (len(number) - 4)}{number[-4:]}" + (f"-{'*' * len(extension)}" if extension else "")
    if len(text) <= 7:
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]


def mask_id(value: str | None) -> str | None:
    """An ID number (or a certificate number, which starts with it) shown as 620822********123X:
    the county and the last four characters stay, the birth date and sequence are hidden."""
    if not value or len(value) < 18:
        return value
    return value[:6] + "*" * 8 + value[14:]


# --- the table ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One row of the table: some fields of one kind of object, what each role sees of them, and
    why (the job each role does with them)."""

    subject: str  # household, person, cadre, org, pairing, ledger, problem, risk, benefit, exclusion
    fields: tuple[str, ...]
    views: Mapping[Role, View]
    reason: str
    mask: Mask | None = None

    @property
    def names(self) -> list[str]:
        return [f"{self.subject}.{f}" for f in self.fields]


def _rule(subject: str, fields: str, views: str, reason: str, mask: Mask | None = None) -> Rule:
    """``views`` is one letter per role of :data:`ROLES` (admin, organizer, cadre, org, portal):
    S shown, M masked, W withheld."""
    by_role = {role: _LETTERS[letter] for role, letter in zip(ROLES, views, strict=True)}
    if View.MASKED in by_role.values() and mask is None:
        raise ValueError(f"{subject}.{fields}: a masked field needs a mask")
    return Rule(subject, tuple(fields.split()), by_role, reason, mask)


#: The table. Columns: admin, organizer, cadre, org, portal.
RULES: tuple[Rule, ...] = (
    _rule("household", "head_name", "SSSSM",
          "Cadres and organisations address the family they help; a portal's lists only tell rows apart.",
          mask_name),
    _rule("household", "head_id", "SSMMM",
          "Organisers compare households with other departments' lists by ID number; no other job needs it.",
          mask_id),
    _rule("household", "address", "SSSSW",
          "The cadre visits at home; organisations deliver in-kind help and volunteer services there; "
          "a portal visits nobody."),
    _rule("household", "phone", "SSMMM",
          "A phone number is personal information as an ID number is, and is masked for every role that "
          "sees ID numbers masked: the cadre, who visits the household and meets it in person, included; "
          "organisers, who keep the registry, see it whole.", mask_phone),
    _rule("household", "income_fen labour", "SSSWW",
          "The cadre checks eligibility for 低保 and subsidies and records changes on visits; "
          "organisations and portals need no household's finances."),
    _rule("household", "monitoring formerly_poor dibao tekun elderly_carer", "SSSWW",
          "The cadre carries out the policies these statuses open; an organisation helps without "
          "them, a portal counts them in the statistics."),
    _rule("household", "risk_factors", "SSSWW",
          "因病, 因残 … describe health: the cadre needs them to help; others do not."),
    _rule("risk", "score reasons", "SSSWW",
          "The reasons name the statuses and severe disability above, and the score is the sum of their "
          "weights, so either would tell them; the level (高/中/低) and priority stay for every role."),
    _rule("person", "name", "SSSSM",
          "Cadres and organisations address the person they help; a portal's lists only tell rows apart.",
          mask_name),
    _rule("person", "id_number cert_no", "SSMMM",
          "Organisers match persons with other departments' lists and certificates by number; no other job "
          "needs it.", mask_id),
    _rule("person", "relation", "SSSSW",
          "Who is who in the family, for those who visit it; a portal needs no family tree."),
    _rule("person", "category grade", "SSSSW",
          "Disability is sensitive personal information (PIPL art. 28). The cadre's and the organisation's "
          "help (rehabilitation, devices, care) depends on it; a portal gets counts by category, not rows."),
    _rule("person", "needs", "SSSSW",
          "What help the person needs, for those who give it; a portal gets counts."),
    _rule("person", "cert_expiry", "SSSWS",
          "The cadre reminds the holder before the certificate expires and a portal follows the reminders "
          "(the certificate-expiry list); an organisation has no part in it."),
    _rule("person", "labour_ability", "SSSWW",
          "The cadre arranges employment and training; no one else needs it."),
    _rule("cadre", "phone", "SSWMM",
          "Organisers reach their cadres. A cadre sees its own number only: a former cadre's number is "
          "none of its business; organisations and portals see it masked.", mask_phone),
    _rule("org", "contact", "SSSSM",
          "Cadres coordinate with the organisation's contact person; a portal needs the organisation, "
          "not its staff.", mask_name),
    _rule("org", "phone", "SSMMM",
          "Organisers reach the organisations. An organisation sees its own number (its own record) and "
          "those of the other organisations of its households masked, like cadres and portals.", mask_phone),
    _rule("ledger", "amount_fen in_kind_fen", "SSSWW",
          "The cadre sees what its household received; an organisation sees its own entries only; "
          "a portal gets the sums (coverage)."),
    _rule("ledger", "note", "SSSWW",
          "Free text about a family, written by its cadre: for the cadre and the organisers. An "
          "organisation sees the notes of its own entries; a portal sees none."),
    _rule("problem", "description resolution", "SSSSW",
          "What the household asked help for: the cadre and the organisation help with it; a portal gets "
          "the counts (problem closure)."),
    _rule("pairing", "end_reason", "SSSSW",
          "Free text on why a pairing ended, for those who carry on the work; a portal counts pairings."),
    _rule("benefit", "item finding detail", "SSSWW",
          "The subsidies and measures a person receives (低保, 两项补贴 …) and the comparison's findings tell "
          "income and severe disability: for the cadre who follows them up, not for organisations and "
          "portals, which get the totals."),
    _rule("service_record", "id_number", "SSMMM",
          "A person's needs, deliveries and referrals are read by the roles that help them; the number "
          "itself is for the organisers' comparisons, as a person's.", mask_id),
    _rule("service_record", "note item cost_fen subsidy_fen", "SSSSW",
          "What was assessed, given and paid for one person: for those who serve them; a portal gets the "
          "rates (service-rates), not the records."),
    _rule("aux_request", "reason decision_note consent_note", "SSWSW",
          "Why an organisation asks for a household, and the household's consent as recorded: for the "
          "organisation that asks (its own requests) and the organisers who decide; a portal counts "
          "requests, a cadre has no part in them."),
    _rule("join_request", "contact phone", "SSWWW",
          "Who to call about an organisation's request to join: the organisers who decide it; no other role "
          "reaches the requests at all."),
    _rule("exclusion", "reason note", "SSWWW",
          "Why a cadre may not be paired with a household (a relative …): the organisers' matching only."),
)

#: Every field of the objects the service returns that is not personal: keys, codes, dates,
#: counts and the organisation's own public facts. Shown to whoever reaches the object.
PUBLIC: dict[str, frozenset[str]] = {
    "household": frozenset({"household_no", "region_code", "size"}),
    "risk": frozenset({"priority", "level"}),
    "person": frozenset({"household_no"}),
    "cadre": frozenset({"cadre_no", "name", "unit", "unit_level", "role", "station_code", "pair_limit", "on_duty",
                        "load"}),
    "org": frozenset({"uscc", "name", "org_type", "service_region_code", "service_modes"}),
    "pairing": frozenset({"pairing_id", "household_no", "cadre_no", "uscc", "started_on", "ended_on", "source",
                          "proposal_id"}),
    "ledger": frozenset({"entry_id", "entry_date", "household_no", "cadre_no", "uscc", "kind", "problem_no",
                         "volunteers", "minutes", "record_no"}),
    "problem": frozenset({"problem_no", "household_no", "opened_on", "closed_on", "reported_by", "resolved_by"}),
    "exclusion": frozenset({"household_no", "cadre_no", "since"}),
    "service_record": frozenset({"need_id", "delivery_id", "referral_id", "record_no", "service_code",
                                 "category", "assessed_on", "confirmed_on", "closed_on", "status", "source",
                                 "assessor", "delivered_on", "ended_on", "uscc", "dept", "quantity", "outcome",
                                 "provider_uscc", "provider_dept", "made_on", "made_by", "due_on", "accepted_on",
                                 "reason", "proposal_id", "as_of", "needs", "assessments", "open"}),
    "aux_request": frozenset({"request_id", "household_no", "uscc", "region_code", "service", "status",
                              "requested_at", "requested_by", "decided_at", "decided_by", "pairing_id"}),
    "join_request": frozenset({"request_id", "name", "uscc", "service_region_code", "status", "requested_at",
                               "decided_at", "decided_by", "decision_note", "user_id"}),
}

#: field name ("household.head_name") → its rule
BY_FIELD: dict[str, Rule] = {name: rule for rule in RULES for name in rule.names}

#: The columns of the monitoring reports that show a personal field, by report: column → the
#: field whose rule it follows. Every other column is a key, a date, a code or a count (a test
#: checks that each report's columns are all classified, so a new column cannot slip through).
REPORT_FIELDS: dict[str, dict[str, str | None]] = {
    "unpaired": {"household_no": None, "region_code": None, "head_name": "household.head_name",
                 "risk_level": None, "risk_score": "risk.score", "reasons": "risk.reasons"},
    "overdue-visits": dict.fromkeys(("household_no", "region_code", "cadre_no", "pairing_started_on",
                                     "pairing_ended_on", "last_visit_date", "days_since")),
    "open-problems": {"problem_no": None, "household_no": None, "region_code": None,
                      "head_name": "household.head_name", "opened_on": None, "age_days": None, "reported_by": None,
                      "reporter_name": None, "cadre_no": None, "description": "problem.description"},
    "problem-closure": dict.fromkeys(("region_code", "region_name", "carried_over", "opened", "closed", "still_open",
                                      "closure_rate")),
    "benefit-gaps": {"id_masked": "person.id_number", "name": "person.name", "household_no": None,
                     "region_code": None, "item": "benefit.item", "finding": "benefit.finding",
                     "detail": "benefit.detail"},
    "cert-expiry": {"id_masked": "person.id_number", "name": "person.name", "household_no": None,
                    "region_code": None, "cert_expiry": "person.cert_expiry", "days_left": None, "within": None,
                    "reminders_sent": None, "reminders_due": None},
    "post-evaluation": {"household_no": None, "region_code": None, "measure": "benefit.item", "continued": None},
    "post-evaluation-totals": dict.fromkeys(("measure", "last_year", "continued", "stopped", "continuation_rate")),
    "coverage": dict.fromkeys(("region_code", "region_name", "level", "priority_households", "paired",
                               "pairing_rate", "aux_pairings", "contacts", "home_visits", "policies",
                               "problems_solved", "problems_escalated", "practical_help", "volunteer_services",
                               "volunteers", "volunteer_minutes", "funds_cash_fen", "funds_in_kind_fen", "org_donations", "org_donations_fen")),
    "cadre-load": dict.fromkeys(("cadre_no", "name", "station_code", "on_duty", "pair_limit", "load", "finding",
                                 "households")),
    "disability-counts": dict.fromkeys(("region_code", "region_name", "level", "persons", "severe", "visual",
                                        "hearing", "speech", "physical", "intellectual", "mental", "multiple",
                                        "grade_1", "grade_2", "grade_3", "grade_4")),
    "service-rates": dict.fromkeys(("region_code", "region_name", "level", "category", "persons_in_need",
                                    "persons_served", "rate", "deliveries", "severe_in_need", "severe_served",
                                    "severe_rate", "children_in_need", "children_served", "children_rate")),
    "service-deserts": dict.fromkeys(("region_code", "region_name", "level", "category", "persons_in_need",
                                      "villages_in_need", "desert_villages")),
    # the two named lists are the organisers' only (``Report.organisers_only``); classified all the same
    "unmet-needs": {"household_no": None, "region_code": None, "name": "person.name", "id_masked": "person.id_number",
                    "category": None, "service_code": None, "confirmed_on": None, "due_on": None,
                    "days_overdue": None, "risk_level": None, "risk_score": "risk.score", "providers": None,
                    "need_id": None},
    "overdue-referrals": {"provider": None, "provider_name": None, "overdue_at_provider": None,
                          "id_masked": "person.id_number", "name": "person.name", "household_no": None,
                          "region_code": None, "category": None, "service_code": None, "made_on": None,
                          "due_on": None, "days_overdue": None, "status": None, "referral_id": None},
}


# --- applying it ----------------------------------------------------------------------------------

def view(field: str, role: Role) -> View:
    """What ``role`` sees of ``field`` (``subject.field``); fields not in the table are shown."""
    rule = BY_FIELD.get(field)
    return rule.views[role] if rule else View.SHOWN


def withholdable(field: str) -> bool:
    """Whether some role is denied ``field``: its place in a schema must then be nullable."""
    rule = BY_FIELD.get(field)
    return bool(rule) and View.WITHHELD in rule.views.values()


def shows(field: str, role: Role) -> bool:
    """Whether ``role`` sees anything of ``field`` (shown or masked), on records not its own."""
    return view(field, role) is not View.WITHHELD


def owns(subject: str, values: Mapping[str, Any], user: User) -> bool:
    """Whether the record is the caller's own: its cadre record, its organisation's record, a
    ledger entry it recorded, or an organisation's own request for a pairing."""
    if user.role is Role.CADRE and user.cadre_no:
        return subject in ("cadre", "ledger") and values.get("cadre_no") == user.cadre_no
    if user.role is Role.ORG and user.uscc:
        return subject in ("org", "ledger", "aux_request") and values.get("uscc") == user.uscc
    return False


def _mask_or_none(field: str, role: Role) -> Mask | None:
    """The mask ``role`` sees ``field`` through (None: the field is withheld from it)."""
    rule = BY_FIELD[field]
    return rule.mask if rule.views[role] is View.MASKED else None


@cache
def _hidden(subject: str, role: Role) -> tuple[tuple[str, Mask | None], ...]:
    """The fields of ``subject`` that ``role`` does not see as stored, with their masks: worked out
    once per kind and role, so a record costs only a lookup and a mask per hidden field."""
    return tuple((name, _mask_or_none(f"{subject}.{name}", role)) for rule in RULES
                 if rule.subject == subject and rule.views[role] is not View.SHOWN for name in rule.fields)


@cache
def _blind(report: str, role: Role) -> tuple[tuple[str, Mask | None], ...]:
    """The report's columns that ``role`` does not see as stored, with their masks."""
    return tuple((column, _mask_or_none(field, role)) for column, field in REPORT_FIELDS.get(report, {}).items()
                 if field and view(field, role) is not View.SHOWN)


def _hide(value: Any, mask: Mask | None) -> Any:
    return None if value is None or mask is None else mask(value)


def redact(subject: str, values: Mapping[str, Any], user: User) -> dict[str, Any]:
    """A record (its fields as a dict) as the caller may see it; keys are kept, withheld values
    become None."""
    out = dict(values)
    if owns(subject, values, user):
        return out
    for name, mask in _hidden(subject, user.role):
        if name in out:
            out[name] = _hide(out[name], mask)
    return out


def report_row(report: str, row: Any, user: User) -> Any:
    """One report row (a frozen dataclass) as the caller may see it: the same row when nothing in it
    is hidden from the role, else a copy with the masked and withheld columns changed."""
    columns = _blind(report, user.role)
    if not columns:
        return row
    return dataclasses.replace(row, **{c: _hide(getattr(row, c), mask) for c, mask in columns})


def report_rows(report: str, rows: list[Any], user: User) -> list[Any]:
    """A report's rows as the caller may see them (the same list when the role sees them all)."""
    if not _blind(report, user.role):
        return rows
    return [report_row(report, row, user) for row in rows]


def report_columns(report: str, columns: list[str], role: Role) -> list[str]:
    """The columns of a report the role sees anything of (the console draws only these)."""
    fields = REPORT_FIELDS.get(report, {})
    return [c for c in columns if shows(fields.get(c) or "", role)]


def markdown_table() -> str:
    """The table as docs/api.md shows it (a test keeps the two the same)."""
    head = ["| field | " + " | ".join(r.value for r in ROLES) + " | why |",
            "| --- | " + " | ".join("---" for _ in ROLES) + " | --- |"]
    body = [f"| {', '.join(f'`{n}`' for n in rule.names)} | "
            + " | ".join(rule.views[r].value for r in ROLES) + f" | {rule.reason} |" for rule in RULES]
    return "\n".join(head + body)
