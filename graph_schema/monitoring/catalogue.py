"""Every monitoring report by the name the CLI, REST and GraphQL give it."""

from __future__ import annotations

from graph_schema.monitoring.benefits import BENEFIT_GAPS
from graph_schema.monitoring.cadres import CADRE_LOAD
from graph_schema.monitoring.certificates import CERT_EXPIRY
from graph_schema.monitoring.common import Report
from graph_schema.monitoring.coverage import COVERAGE
from graph_schema.monitoring.disability import DISABILITY_COUNTS
from graph_schema.monitoring.post_evaluation import POST_EVALUATION, POST_EVALUATION_TOTALS
from graph_schema.monitoring.overdue_referrals import OVERDUE_REFERRALS
from graph_schema.monitoring.problems import OPEN_PROBLEMS, PROBLEM_CLOSURE
from graph_schema.monitoring.service_deserts import SERVICE_DESERTS
from graph_schema.monitoring.service_rates import SERVICE_RATES
from graph_schema.monitoring.unmet_needs import UNMET_NEEDS
from graph_schema.monitoring.unpaired import UNPAIRED
from graph_schema.monitoring.visits import OVERDUE_VISITS

REPORTS: dict[str, Report] = {r.name: r for r in (
    UNPAIRED, OVERDUE_VISITS, OPEN_PROBLEMS, PROBLEM_CLOSURE, BENEFIT_GAPS, CERT_EXPIRY, COVERAGE,
    POST_EVALUATION, POST_EVALUATION_TOTALS, CADRE_LOAD, DISABILITY_COUNTS, SERVICE_RATES, UNMET_NEEDS,
    OVERDUE_REFERRALS, SERVICE_DESERTS)}
