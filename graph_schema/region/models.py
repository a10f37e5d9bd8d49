"""Regions: the 12-digit statistical division codes and their hierarchy."""

from __future__ import annotations

from pydantic import computed_field

from graph_schema.identifiers import RegionLevel, region_level, region_parent
from graph_schema.models import Model, OptionalText, RegionCode


class Region(Model):
    code: RegionCode
    name: OptionalText = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def level(self) -> RegionLevel:
        return region_level(self.code)

    @property
    def parent(self) -> str | None:
        return region_parent(self.code)

    def to_row(self) -> dict:
        # a region created implicitly from a code used elsewhere is named by its code
        return {"code": self.code, "level": self.level.value, "name": self.name or self.code}
