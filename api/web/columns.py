"""The console's column titles: each report's Chinese title with an English one beside it, as
every table of the console is headed ("户编号 household"). The report files keep the Chinese
titles alone, as organisers' spreadsheets have them."""

from __future__ import annotations

from api.report_output import header
from graph_schema.monitoring.common import Report

#: English column titles by report field (the fields are shared across the reports)
EN = {
    "household_no": "household", "region_code": "region", "head_name": "head", "risk_level": "risk",
    "risk_score": "score", "reasons": "reasons", "cadre_no": "cadre", "pairing_started_on": "paired since",
    "pairing_ended_on": "pairing ended", "last_visit_date": "last visit", "days_since": "days since",
    "problem_no": "problem", "opened_on": "opened", "age_days": "days open", "reported_by": "reported by",
    "reporter_name": "reporter", "description": "description", "id_masked": "ID number", "name": "name",
    "item": "item", "finding": "finding", "detail": "detail", "cert_expiry": "expires", "days_left": "days left",
    "within": "within", "reminders_sent": "sent", "reminders_due": "due", "station_code": "station",
    "on_duty": "on duty", "pair_limit": "limit", "load": "load", "households": "households",
    "region_name": "region name", "level": "level", "priority_households": "priority", "paired": "paired",
    "pairing_rate": "pairing rate", "aux_pairings": "auxiliary pairings", "contacts": "contacts",
    "home_visits": "home visits", "policies": "policies", "problems_solved": "problems solved",
    "problems_escalated": "problems escalated", "practical_help": "practical help",
    "volunteer_services": "volunteering", "volunteers": "volunteers", "volunteer_minutes": "volunteer hours",
    "org_donations": "donations",
    "funds_cash_fen": "cash (yuan)", "funds_in_kind_fen": "in kind (yuan)", "org_donations_fen": "donated (yuan)",
    "carried_over": "carried over", "opened": "opened", "closed": "closed", "still_open": "still open",
    "closure_rate": "closure rate", "measure": "measure", "continued": "continued", "last_year": "last year",
    "stopped": "stopped", "continuation_rate": "continuation rate",
}


def title(report: Report, field: str) -> str:
    """``户编号 household``: the report's Chinese title and the English one."""
    return f"{header(report, field)} {EN.get(field, field.replace('_', ' '))}"


def titles(report: Report) -> dict[str, str]:
    return {f: title(report, f) for f in report.fields}
