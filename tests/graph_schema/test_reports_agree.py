"""Every monitoring report gives the same rows on both engines, over the synthetic county preset."""

from __future__ import annotations

import datetime as dt

import pytest

from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.common import as_dict
from graph_schema.pagination import PageRequest
from graph_schema.store.embedded import EmbeddedStore
from importers import synth

AS_OF = dt.date(2024, 12, 31)  # the preset's own as-of date: a year of ledger before it


@pytest.fixture(scope="module")
def county():
    return synth.generate("county", seed=3, as_of=AS_OF)


@pytest.fixture(scope="module")
def both(county, neo4j_store, tmp_path_factory):
    embedded = EmbeddedStore(tmp_path_factory.mktemp("agree") / "store")
    neo4j_store.wipe()
    for s in (embedded, neo4j_store):
        synth.load(s, county)
    yield embedded, neo4j_store
    embedded.close()
    neo4j_store.wipe()


def every_row(report, store, region):
    options = {"as_of": AS_OF} | ({"period_start": dt.date(2024, 1, 1)} if report.ranged else {})
    rows, number = [], 1
    while True:
        page = report.run(store=store, region=region, page=PageRequest(number, 1000), **options)
        rows += [as_dict(r) for r in page.items]
        if number >= page.pages:
            return rows, page.total
        number += 1


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_the_engines_agree(both, county, name):
    embedded, neo4j = both
    county_code = county.households[0].region_code[:6]
    township = county.households[0].region_code[:9]
    rows_of = {}
    for region in ("62", county_code, township):
        rows, total = every_row(REPORTS[name], embedded, region)
        assert rows == every_row(REPORTS[name], neo4j, region)[0], (name, region)
        assert total == len(rows)
        rows_of[region] = rows
    assert rows or name in ("cadre-load",), f"{name}: an empty report proves little"
    if name in ("unpaired", "overdue-visits", "benefit-gaps", "post-evaluation", "post-evaluation-totals"):
        # a province's list is read another way than a county's
        assert rows_of["62"] == rows_of[county_code]


@pytest.mark.parametrize("name", ["benefit-gaps", "post-evaluation"])
def test_a_wide_scopes_pages_are_the_countys(both, county, name):
    """A scope wider than a county reads its first pages its own way (post-evaluation lists the
    stopped measures first without ordering every row; once a page reaches the continued ones,
    Neo4j walks the households in 户编号 order and LadybugDB reads each measure's first ones):
    pages of 50 rows, up to the first page past the stopped rows, equal the county's on both
    engines."""
    embedded, neo4j = both
    county_code = county.households[0].region_code[:6]
    report, options = REPORTS[name], {"as_of": AS_OF}
    whole = every_row(report, embedded, county_code)[0]
    stopped = sum(1 for r in whole if r.get("continued") is False)
    if name == "post-evaluation":
        assert stopped >= 50, "the first page should be all stopped measures"
    last = min(max(len(whole) // 50, 1) + 1, stopped // 50 + 2)
    for number in range(1, last + 1):
        pages = [report.run(store=s, region=region, page=PageRequest(number, 50), **options)
                 for s in (embedded, neo4j) for region in ("62", county_code)]
        expected = [as_dict(r) for r in pages[-1].items]
        assert expected == whole[(number - 1) * 50:number * 50], (name, number)
        for found in pages:
            assert [as_dict(r) for r in found.items] == expected, (name, number)
            assert found.total == len(whole)
