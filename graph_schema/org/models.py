"""Social organisations (社会组织), keyed by their unified social credit code."""

from __future__ import annotations

from graph_schema.enums import OrgType, ServiceMode
from graph_schema.models import Model, OptionalText, RegionCode, Text, Uscc, list_of


class Org(Model):
    uscc: Uscc
    name: Text
    org_type: OrgType | None = None
    service_region_code: RegionCode
    service_modes: list_of(ServiceMode) = []
    contact: OptionalText = None
    phone: OptionalText = None
