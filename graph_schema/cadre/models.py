"""Cadres (结对干部): the people responsible for households."""

from __future__ import annotations

from pydantic import Field, field_validator

from graph_schema.enums import CadreRole, UnitLevel
from graph_schema.identifiers import RegionLevel, region_level
from graph_schema.models import Key, Model, OptionalText, RegionCode, Text

DEFAULT_PAIR_LIMIT = 3


class Cadre(Model):
    cadre_no: Key
    name: Text
    phone: OptionalText = None
    unit: Text
    unit_level: UnitLevel
    role: CadreRole | None = None
    station_code: RegionCode
    pair_limit: int = Field(DEFAULT_PAIR_LIMIT, ge=1, le=10)
    on_duty: bool = True

    @field_validator("station_code")
    @classmethod
    def _village_or_township(cls, code: str) -> str:
        if region_level(code) not in (RegionLevel.VILLAGE, RegionLevel.TOWNSHIP):
            raise ValueError(f"驻点区划必须是村或乡镇 / a cadre is stationed in a village or township: {code}")
        return code
