"""The service keeps report runs for a while, and forgets them at every change it makes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from api.bookmarks import sign
from api.report_cache import ReportCache
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.pagination import PageRequest
from graph_schema.pairing.service import end_pairing
from graph_schema.store import bookmarks


def _unpaired(client, world) -> set[str]:
    got = client.get("/api/v1/reports/unpaired?region=620822", headers=world.auth("organizer-a"))
    assert got.status_code == 200, got.json()
    return {row["household_no"] for row in got.json()["items"]}


def test_a_change_through_the_service_empties_the_cache(world):
    with TestClient(create_app(world.store, report_ttl=600)) as client:
        assert _unpaired(client, world) == set()  # HA1 (a priority household) is paired
        # a change that bypasses the service is not seen while the run is kept…
        end_pairing(store=world.store, household_no="HA1", reason="测试")
        assert _unpaired(client, world) == set()
        # …and after any change made through the service, the list is computed again
        paired = client.post("/api/v1/pairings", json={"household_no": "HA2", "cadre_no": "CA2"},
                             headers=world.auth("organizer-a"))
        assert paired.status_code == 201, paired.json()
        assert _unpaired(client, world) == {"HA1"}


def test_without_a_ttl_every_request_runs_the_report(world):
    with TestClient(create_app(world.store)) as client:
        assert "HA1" not in _unpaired(client, world)
        end_pairing(store=world.store, household_no="HA1", reason="测试")
        assert "HA1" in _unpaired(client, world)


def test_a_request_with_bookmarks_never_gets_a_kept_run(world):
    """A change made through another worker does not empty this worker's cache; a client that
    made it sends its bookmarks back, and its list is computed afresh (and kept for the others)."""
    with TestClient(create_app(world.store, report_ttl=600)) as client:
        assert _unpaired(client, world) == set()
        with bookmarks.causal() as wrote:  # as another worker would, answering the change
            end_pairing(store=world.store, household_no="HA1", reason="测试")
        assert _unpaired(client, world) == set()  # the kept run
        # the embedded engine makes no bookmarks and ignores those it is sent: any signed value
        header = {"Jiedui-Bookmark": sign(client.app.state.csrf_secret, wrote.made or ["FB:none"])}
        got = client.get("/api/v1/reports/unpaired?region=620822", headers=world.auth("organizer-a") | header)
        assert got.status_code == 200 and {r["household_no"] for r in got.json()["items"]} == {"HA1"}
        assert _unpaired(client, world) == {"HA1"}  # the fresh run is kept



class Recording:
    """A report that notes the pages it is asked for (and answers as the report does)."""

    def __init__(self, report) -> None:
        self.report, self.name, self.asked = report, report.name, []

    def run(self, *, page: PageRequest, **options):
        self.asked.append((page.page, page.page_size))
        return self.report.run(page=page, **options)


def test_a_county_run_is_kept_whole_and_a_wider_one_page_by_page(world):
    """A county's list is run whole once and its pages cut from it; a city's or a province's page is
    asked of the report itself (its list can be far longer than the cache keeps, and running it
    whole first is the slow way to one page), and each page is kept."""
    cache = ReportCache(ttl=600)
    for region, first_run in (("620822", (1, cache.max_rows)), ("6208", (1, 2)), ("62", (1, 2))):
        report = Recording(REPORTS["unpaired"])
        first = cache.run(report, world.store, region, PageRequest(1, 2))
        assert cache.run(report, world.store, region, PageRequest(1, 2)) == first
        cache.run(report, world.store, region, PageRequest(2, 2))
        assert report.asked == ([first_run] if region == "620822" else [first_run, (2, 2)]), region
