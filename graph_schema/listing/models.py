"""Other departments' lists (部门名单) for data comparison (数据比对).

A listing is kept as its own node, joined to persons by ID number, because a list may name people
the disability registry does not know: that is one of the findings comparison looks for.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from graph_schema.enums import Department
from graph_schema.models import Fen, IdNumber, Model, Text


#: The items of the contract's lists that the comparison reports read (项目 may hold any text).
LIVING_SUBSIDY = "困难残疾人生活补贴"
CARE_SUBSIDY = "重度残疾人护理补贴"
MONITORED = "监测对象"


class Listing(Model):
    dept: Department
    item: Text  # 项目: 低保, 特困, 困难残疾人生活补贴 … or other text
    id_number: IdNumber
    name: Text
    valid_from: dt.date | None = None  # first day of 起始年月
    valid_to: dt.date | None = None  # first day of 截止年月
    amount_fen: Fen | None = None  # per month

    @property
    def listing_id(self) -> str:
        """The natural key (department, item, person, start month) as one value."""
        text = "\x1f".join(str(v) for v in (self.dept.value, self.item, self.id_number, self.valid_from))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def to_row(self) -> dict:
        return {"listing_id": self.listing_id, **super().to_row()}
