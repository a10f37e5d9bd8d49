"""Monitoring benchmark: every report on a store holding a synthetic preset, on either engine.

    .venv/bin/python bench/report_bench.py --store .bench/province            # embedded
    .venv/bin/python bench/report_bench.py --store bolt://127.0.0.1:7699      # Neo4j
    .venv/bin/python bench/report_bench.py --store DIR_OR_URI --load          # load the province first
    .venv/bin/python bench/report_bench.py --store DIR --load --preset county --changes 500
    .venv/bin/python bench/report_bench.py --store DIR --load --preset city   # a smaller society
    .venv/bin/python bench/report_bench.py --store DIR --through-cache        # as REST and GraphQL ask

For each report: the median of ``--runs`` timings of the first page (50 rows) scoped to one county,
and scoped to the whole province; ``coverage`` is timed for the calendar year up to the preset's
as-of date. The first run of each is a warm-up and not counted. Prints a Markdown table.

The reports are for the preset's as-of date. A store loaded today has recorded nothing since, so
they take the path of a report for today. ``--changes N`` records the load on the as-of date
instead, then changes N households (category and flags), N persons (grade) and N/10 cadres
(在岗) today: the reports then read the state of the as-of date (the past path). ``--today`` asks
the reports for today instead (the current day's path proper, which reads the households' kept
pairing counts); ``coverage``'s period still starts on 1 January of the as-of year, so it sums
the same ledger; ``--period-start`` sets that first day (a period within today's year, say, whose
service rates the counties' tallies of the year answer, where one across years is counted person
by person).

``--through-cache`` asks each page through the service's report cache (``api/report_cache.py``),
empty at each run, as the first REST, GraphQL or console request for a list does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.report_cache import ReportCache  # noqa: E402
from graph_schema import models  # noqa: E402
from graph_schema.access.models import Scope  # noqa: E402
from graph_schema.cadre.service import list_cadres, upsert_cadres  # noqa: E402
from graph_schema.enums import DisabilityGrade, MonitoringCategory  # noqa: E402
from graph_schema.household.service import list_households, members_in, upsert_households, upsert_persons  # noqa: E402
from graph_schema.monitoring.catalogue import REPORTS  # noqa: E402
from graph_schema.pagination import PageRequest  # noqa: E402
from graph_schema.store import open_store  # noqa: E402
from importers import synth  # noqa: E402

AS_OF = dt.date(2024, 12, 31)  # the synthetic preset's as-of date


def median_ms(run, runs: int) -> tuple[float, int]:
    """Median wall time in ms over ``runs`` calls after one warm-up, and the total the report gave."""
    total = run().total
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), total


def change(store, county: str, n: int) -> None:
    """Change ``n`` (at most 1,000) households of ``county``, as many of their members and a tenth
    as many of its cadres, through the services (recorded now)."""
    page = PageRequest(1, min(n, 1000))
    households = list_households(store=store, region=county, page=page).items
    upsert_households(store=store, households=[h.model_copy(update={
        "tekun": not h.tekun, "dibao": not h.dibao,
        "monitoring": None if h.monitoring else MonitoringCategory.MARGINAL})
        for h in households])
    members = store.read(lambda tx: members_in(tx, [h.household_no for h in households]))
    persons = [p for found in members.values() for p in found][:n]
    upsert_persons(store=store, persons=[p.model_copy(update={"grade": DisabilityGrade(5 - int(p.grade)),
                                                              "cert_no": f"{p.cert_no[:19]}{5 - int(p.grade)}"})
                                         for p in persons])
    cadres = list_cadres(store=store, page=PageRequest(1, max(1, page.page_size // 10)),
                         scope=Scope(prefix=county)).items
    upsert_cadres(store=store, cadres=[c.model_copy(update={"on_duty": not c.on_duty}) for c in cadres])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--load", action="store_true", help="load the synthetic preset into an empty store")
    parser.add_argument("--reports", help="comma-separated report names (default: all)")
    parser.add_argument("--preset", default="province", choices=sorted(synth.PRESETS), help="what --load loads")
    parser.add_argument("--today", action="store_true", help="ask the reports for today, not the as-of date")
    parser.add_argument("--period-start", type=dt.date.fromisoformat,
                        help="the first day of the ranged reports' period (default: 1 January of the as-of year)")
    parser.add_argument("--through-cache", action="store_true", help="ask through an empty report cache")
    parser.add_argument("--changes", type=int, default=0,
                        help="load on the as-of date and change this many records today (the past path)")
    args = parser.parse_args()
    store = open_store(args.store)
    if args.load:
        started = time.perf_counter()
        clock = models.now
        if args.changes:  # the load is recorded on the as-of date
            models.now = lambda: dt.datetime.combine(AS_OF, dt.time(12)).astimezone()
        try:
            synth.load(store, synth.generate(args.preset, as_of=AS_OF))
        finally:
            models.now = clock
        print(f"loaded the {args.preset} preset in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    county = store.query("MATCH (r:Region) WHERE r.level = 'county' RETURN r.code AS code "
                         "ORDER BY code LIMIT 1")[0]["code"][:6]
    if args.changes:
        change(store, county, args.changes)
    print(f"{dt.date.today()} · {platform.system()} · 2 cores · {store.dialect.value} · county {county} · "
          f"runs {args.runs} (median, after one warm-up)"
          f"{' · through an empty report cache' if args.through_cache else ''}"
          f"{f' · past path: {args.changes} changes since the as-of date' if args.changes else ''}"
          f"{' · asked for today' if args.today else ''}\n")
    print("| report | county page 1 (ms) | rows in county | province page 1 (ms) | rows in province |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in args.reports.split(",") if args.reports else REPORTS:
        report = REPORTS[name]
        options = {"as_of": models.today() if args.today else AS_OF} | (
            {"period_start": args.period_start or dt.date(AS_OF.year, 1, 1)} if report.ranged else {})
        cells = []
        for region in (county, "62"):
            if args.through_cache:
                run = lambda: ReportCache(ttl=30).run(report, store, region, PageRequest(1, 50), **options)  # noqa: E731
            else:
                run = lambda: report.run(store=store, region=region, page=PageRequest(1, 50), **options)  # noqa: E731
            ms, total = median_ms(run, args.runs)
            cells += [f"{ms:,.0f}", f"{total:,}"]
        print(f"| {name} | {' | '.join(cells)} |", flush=True)
    store.close()


if __name__ == "__main__":
    main()
