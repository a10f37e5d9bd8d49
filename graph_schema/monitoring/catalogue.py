"""Every monitoring report by the name the CLI, REST and GraphQL give it."""

from __future__ import annotations

from graph_schema.monitoring.common import Report
from graph_schema.monitoring.coverage import COVERAGE
from graph_schema.monitoring.unpaired import UNPAIRED

REPORTS: dict[str, Report] = {r.name: r for r in (UNPAIRED, COVERAGE)}
