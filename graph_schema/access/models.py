"""Users, roles and the scope each role gives."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graph_schema.errors import InvalidValue, NotFound
from graph_schema.region.service import scope_prefix


class Role(StrEnum):
    """What a user is for. Every role but ``admin`` is bounded by a region, a cadre or an org."""

    ADMIN = "admin"  # the whole store; reads the audit log
    ORGANIZER = "organizer"  # a 残联 organiser: everything under one region
    CADRE = "cadre"  # a cadre: the households they are paired with now, and their own records
    ORG = "org"  # a social organisation: the households of its auxiliary pairings, its own records
    PORTAL = "portal"  # a read-only portal: everything under one region


@dataclass(frozen=True)
class Scope:
    """What one user may reach, as Cypher the store queries embed (never a filter applied to
    results afterwards). Region scopes are code prefixes ('' is the whole store). What the user
    sees of the objects reached is the privacy policy's business (``access/privacy.py``)."""

    prefix: str = ""
    cadre_no: str | None = None
    uscc: str | None = None

    @property
    def params(self) -> dict[str, str]:
        if self.cadre_no:
            return {"scope_cadre": self.cadre_no}
        if self.uscc:
            return {"scope_org": self.uscc}
        if not self.prefix:
            return {}
        wider = [self.prefix[:n].ljust(12, "0") for n in (2, 4, 6, 9, 12) if n <= len(self.prefix)]
        return {"scope_prefix": self.prefix, "scope_wider": wider}

    def households(self, var: str = "h") -> str:
        """Cypher to append after a MATCH that binds household ``var``: it keeps the household only
        if it is in scope (a region prefix, or an active pairing of the cadre or organisation)."""
        if self.cadre_no:
            return (f" MATCH (:Cadre {{cadre_no: $scope_cadre}})-[scope_p:PAIRED_WITH]->({var})"
                    " WHERE scope_p.ended_on IS NULL")
        if self.uscc:
            return (f" MATCH (:Org {{uscc: $scope_org}})-[scope_p:AUX_PAIRED_WITH]->({var})"
                    " WHERE scope_p.ended_on IS NULL")
        return f" WHERE {var}.region_code STARTS WITH $scope_prefix" if self.prefix else ""

    def region_households(self, region: str | None) -> tuple[str, dict[str, object]]:
        """A MATCH binding ``h`` to the households under ``region`` (any level; default the whole
        scope) that lie in the scope, and its parameters. A region outside a region scope is
        NotFound, as if it did not exist. Region scopes go through the villages' edges: the
        embedded engine indexes only primary keys."""
        prefix = scope_prefix(region) if region else self.prefix
        if self.cadre_no or self.uscc:
            match = f"MATCH (h:Household){self.households()} WITH h WHERE h.region_code STARTS WITH $prefix"
        elif not self.holds_region(prefix):
            raise NotFound("区划", "region", region or "")
        else:
            match = "MATCH (v:Region) WHERE v.code STARTS WITH $prefix MATCH (h:Household)-[:IN_REGION]->(v)"
        return match, {"prefix": prefix} | self.params

    def cadres(self, var: str = "c") -> str:
        """A WHERE clause for cadre ``var``: stationed in the region, or the cadre themself."""
        if self.cadre_no:
            return f" WHERE {var}.cadre_no = $scope_cadre"
        if self.uscc:
            return " WHERE false"
        return f" WHERE {var}.station_code STARTS WITH $scope_prefix" if self.prefix else ""

    def orgs(self, var: str = "o") -> str:
        """A WHERE clause for organisation ``var``: serving the region (or a wider one that holds
        it), or the organisation itself."""
        if self.uscc:
            return f" WHERE {var}.uscc = $scope_org"
        if self.cadre_no:
            return " WHERE false"
        if not self.prefix:
            return ""
        return (f" WHERE ({var}.service_region_code STARTS WITH $scope_prefix"
                f" OR {var}.service_region_code IN $scope_wider)")

    def aux_requests(self, var: str = "q") -> str:
        """A WHERE clause for an auxiliary pairing request ``var``: the organisation's own, or
        those of the region's households (by the village each was asked for in); a cadre's none."""
        if self.uscc:
            return f" WHERE {var}.uscc = $scope_org"
        if self.cadre_no:
            return " WHERE false"
        return f" WHERE {var}.region_code STARTS WITH $scope_prefix" if self.prefix else ""

    def join_requests(self, var: str = "j") -> str:
        """A WHERE clause for an organisation's request to join ``var``: those naming a service
        region inside the region (an organisation or a cadre sees none)."""
        if self.cadre_no or self.uscc:
            return " WHERE false"
        return f" WHERE {var}.service_region_code STARTS WITH $scope_prefix" if self.prefix else ""

    def claims(self, var: str = "c") -> str:
        """A WHERE clause for a claim ``var``: those an organiser whose region holds both the
        claimant's region and the record's may decide (the claimant alone sees none of them)."""
        if self.cadre_no or self.uscc:
            return " WHERE false"
        return f" WHERE {var}.common_region STARTS WITH $scope_prefix" if self.prefix else ""

    def holds_region(self, prefix: str) -> bool:
        """Whether a region (given by its code prefix) lies inside a region scope."""
        return not (self.cadre_no or self.uscc) and prefix.startswith(self.prefix)

    def region(self, region: str | None) -> str:
        """The region a regional query (a report, a matching run) runs on: the one asked for if it
        lies in the scope, NotFound if not (as for a region that does not exist), and by default
        the scope's own region. InvalidValue when there is neither."""
        if region:
            if not self.holds_region(scope_prefix(region)):
                raise NotFound("区划", "region", region)
            return region
        if self.prefix and not (self.cadre_no or self.uscc):
            return self.prefix
        raise InvalidValue("region", region, "必须指定区划代码", "a region code is required", code="REGION_REQUIRED")


#: The scope of local operators (the CLI) and of admins: everything.
EVERYTHING = Scope()


@dataclass(frozen=True)
class User:
    user_id: str
    role: Role
    region_code: str | None = None
    cadre_no: str | None = None
    uscc: str | None = None

    @property
    def scope(self) -> Scope:
        match self.role:
            case Role.ADMIN:
                return EVERYTHING
            case Role.CADRE:
                return Scope(cadre_no=self.cadre_no)
            case Role.ORG:
                return Scope(uscc=self.uscc)
            case _:
                return Scope(prefix=scope_prefix(self.region_code))

