"""Households (户) and the disabled persons (残疾人) who are their members."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import BeforeValidator, Field, field_validator, model_validator

from graph_schema.enums import (
    DisabilityCategory,
    DisabilityGrade,
    LabourAbility,
    MonitoringCategory,
    Need,
    Relation,
    RiskFactor,
)
from graph_schema.identifiers import RegionLevel, cert_parts, region_level
from graph_schema.models import CertNumber, Fen, IdNumber, Key, Model, OptionalText, RegionCode, Text, list_of


class Household(Model):
    household_no: Key
    head_name: Text
    head_id: IdNumber
    region_code: RegionCode
    address: OptionalText = None
    size: int = Field(ge=1, le=50)
    labour: int | None = Field(None, ge=0)
    income_fen: Fen | None = None
    monitoring: MonitoringCategory | None = None
    formerly_poor: bool | None = None
    dibao: bool | None = None
    tekun: bool | None = None
    elderly_carer: bool | None = None
    risk_factors: list_of(RiskFactor) = []
    phone: OptionalText = None

    @field_validator("region_code")
    @classmethod
    def _village(cls, code: str) -> str:
        if region_level(code) is not RegionLevel.VILLAGE:
            raise ValueError(f"户的区划代码必须是12位村级代码 / a household's region must be a village: {code}")
        return code

    @model_validator(mode="after")
    def _labour_within_size(self) -> Self:
        if self.labour is not None and self.labour > self.size:
            raise ValueError(f"劳动力人数 {self.labour} 大于家庭人口 {self.size} / "
                             f"labour force {self.labour} exceeds household size {self.size}")
        return self


class Person(Model):
    """A certified disabled person; the certificate number embeds the ID, category and grade."""

    id_number: IdNumber
    name: Text
    cert_no: CertNumber
    household_no: Key
    relation: Relation | None = None
    category: Annotated[DisabilityCategory, BeforeValidator(DisabilityCategory.parse)]
    grade: Annotated[DisabilityGrade, BeforeValidator(DisabilityGrade.parse)]
    cert_expiry: dt.date | None = None
    labour_ability: LabourAbility | None = None
    needs: list_of(Need) = []

    @model_validator(mode="after")
    def _cert_matches(self) -> Self:
        holder, category, grade = cert_parts(self.cert_no)
        if holder != self.id_number:
            raise ValueError("残疾人证号的前18位与身份证号不一致 / certificate number does not start with the ID number")
        if (category, grade) != (int(self.category), int(self.grade)):
            raise ValueError(
                f"残疾人证号的类别/等级位（{category}{grade}）与残疾类别/等级（{int(self.category)}{int(self.grade)}）不一致 / "
                "certificate category/grade digits disagree with the category and grade columns")
        return self
