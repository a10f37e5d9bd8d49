"""A column's repeated cells are parsed once: the same values and the same problems as without."""

from __future__ import annotations

from importers import cells
from importers.contract import HOUSEHOLDS
from importers.mapping import Row, Seen


def rows(seen: Seen | None, cells_of: list[dict]) -> list[Row]:
    return [Row(HOUSEHOLDS, "家庭.csv", n, values, seen) for n, values in enumerate(cells_of, 2)]


def test_values_and_problems_are_those_of_rows_read_alone():
    cells_of = [{"dibao": "是", "address": True}, {"dibao": "也许", "address": 1}, {"dibao": "是", "address": 1.0},
                {"dibao": "也许", "address": True}, {"dibao": None, "address": None}]
    seen = Seen()
    together = [(r.get("dibao", cells.boolean), r.get("address"), [p.code for p in r.problems])
                for r in rows(seen, cells_of)]
    alone = [(r.get("dibao", cells.boolean), r.get("address"), [p.code for p in r.problems])
             for r in rows(None, cells_of)]
    assert together == alone
    assert [a for _, a, _ in together] == ["TRUE", "1", "1", "TRUE", None]  # True, 1 and 1.0 kept apart
    assert [p for _, _, p in together] == [[], ["BAD_BOOLEAN"], [], ["BAD_BOOLEAN"], []]  # each bad cell reported


def test_a_required_empty_cell_is_reported_every_time():
    seen = Seen()
    assert [[p.code for p in (r, r.get("head_name"))[0].problems] for r in rows(seen, [{"head_name": " "}] * 2)] \
        == [["REQUIRED"], ["REQUIRED"]]


def test_a_parser_made_for_one_row_and_a_column_of_distinct_cells_are_not_remembered():
    seen = Seen(limit=2)
    calls = []

    def counted(raw):
        calls.append(raw)
        return cells.text(raw)

    for r in rows(seen, [{"address": "甲"}, {"address": "甲"}, {"address": "乙"}, {"address": "丙"}, {"address": "甲"}]):
        r.get("address", counted)
    assert calls == ["甲", "乙", "丙", "甲"]  # the second 甲 remembered; past the limit, nothing is
    made = []
    for r in rows(seen, [{"head_name": "张"}, {"head_name": "张"}]):
        r.get("head_name", lambda raw: made.append(raw) or raw)  # a new parser each row
    assert made == ["张", "张"]
