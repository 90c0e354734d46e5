"""Benchmark: the weekly meeting PDF for a city-wide week of 100 000 events (target ≤ 10 s on 2 cores).

Run: ``.venv/bin/python -m bench.report`` (offscreen). The demo generator's events are moved
into one ISO week (keeping their weekday and time) on top of a normal two-year history, and
three priorities are set, so the PDF has the overview page and three priority pages. Timed:
everything from loading the events out of the GeoPackage to the written PDF, phase by phase,
through the same ``generate_report`` the Processing algorithm, the panel and ``make demo`` use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WEEK = "2026-W47"


def build_store(path: Path, week_events: int, history_events: int):
    from est_weekly_plugin.analysis.trends import week_monday
    from est_weekly_plugin.domain.meetings import Priority
    from est_weekly_plugin.store import GeoPackageStore
    from est_weekly_plugin.store.demo import demo_batch
    from est_weekly_plugin.store.meetings import MeetingRepository

    store = GeoPackageStore.create(path)
    end = dt.date(2026, 11, 15)
    store.insert_batch(demo_batch(history_events, seed=1, end_date=end), validate=False)
    week = demo_batch(week_events, seed=2, end_date=end)
    monday = np.datetime64(week_monday(WEEK))
    weekday = (week.event_date.astype("datetime64[D]").astype(np.int64) + 3) % 7
    week.event_date = monday + weekday.astype("timedelta64[D]")
    from est_weekly_plugin.store.batch import random_uuids

    week.uuid = random_uuids(len(week), np.random.default_rng(9))
    store.insert_batch(week, validate=False)
    repo = MeetingRepository(store)
    meeting = repo.create_meeting(WEEK, "bench")
    for rank, (name, x, y) in enumerate((("Knutpunkten", 356230, 6213280), ("Stortorget", 356420, 6213760),
                                         ("Drottninghög", 359122, 6215144)), start=1):
        repo.add_priority(meeting, Priority(kind="hotspot", rank=rank, name=name, wkt=f"POINT({x} {y})",
                                            radius_m=200.0), "bench")
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=106_000,
                        help="events generated into the printed week (about 95 % of them approved)")
    parser.add_argument("--history", type=int, default=100_000, help="events over the two years before")
    parser.add_argument("--paper", choices=("A3", "A4"), default="A3")
    args = parser.parse_args()

    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from est_weekly_plugin.report.data import ReportOptions, compute_report
    from est_weekly_plugin.report.export import generate_report

    work = Path(tempfile.mkdtemp(prefix="est-bench-report-"))
    store = build_store(work / "bench.gpkg", args.events, args.history)
    phases: list[tuple[str, float]] = []
    last = [time.perf_counter(), "start"]

    def progress(fraction: float, text: str) -> None:
        now = time.perf_counter()
        phases.append((str(last[1]), now - float(last[0])))
        last[0], last[1] = now, text

    options = ReportOptions(week=WEEK, paper=args.paper, lang="sv")
    started = time.perf_counter()
    data = compute_report(store, options, progress=progress)
    result = generate_report(store, options, work / "meeting.pdf", data=data, progress=progress)
    total = time.perf_counter() - started
    print(f"Meeting PDF {args.paper}: {data.event_count} events in {WEEK}, {result.pages} pages, "
          f"{result.path.stat().st_size // 1024} KiB, {total:.2f} s on {os.cpu_count()} cores (target ≤ 10 s)")
    for text, seconds in phases:
        print(f"  {seconds:6.2f} s  {text}")
    store.close()
    app.exitQgis()
    if total > 10.0:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
