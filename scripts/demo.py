"""`make demo`: build the demo EST GeoPackage, the week's hot-spot map and the meeting PDF, headless.

Creates two years of deterministic Helsingborg demo events (seeded), renders the latest full
ISO week's heat map with the ranked hot-spots, records the demo meetings (last week's
priorities with their follow-up, next week's priorities promoted from the top hot-spots) and
exports the meeting PDF through the Processing algorithm ``est_weekly:meetingpdf`` — the
same code path as the Toolbox, the Modeler and ``qgis_process``. Prints where the outputs are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="output", help="output folder (default: output/)")
    parser.add_argument("--events", type=int, default=200_000, help="number of demo events (up to 1 000 000)")
    parser.add_argument("--seed", type=int, default=48)
    parser.add_argument("--lang", choices=("sv", "en"), default="sv")
    args = parser.parse_args()

    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from est_weekly_plugin.analysis.trends import week_label
    from est_weekly_plugin.analysis.weekly import analyse_week
    from est_weekly_plugin.domain import i18n
    from est_weekly_plugin.domain.reference import municipality
    from est_weekly_plugin.maps.background import schematic_districts
    from est_weekly_plugin.maps.styles import render_hotspot_map
    from est_weekly_plugin.store import GeoPackageStore
    from est_weekly_plugin.store.demo import demo_batch

    i18n.set_language(args.lang)
    out = (ROOT / args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    today = dt.date.today()
    last_sunday = today - dt.timedelta(days=today.weekday() + 1)
    database = out / "est_demo.gpkg"
    database.unlink(missing_ok=True)

    started = time.perf_counter()
    store = GeoPackageStore.create(database)
    batch = demo_batch(min(args.events, 1_000_000), seed=args.seed, end_date=today - dt.timedelta(days=1))
    store.insert_batch(batch, today=today)
    written = time.perf_counter() - started
    # the background every map of the meeting stands on: chosen once, stored with the database (a local,
    # schematic layer here so the demo runs offline; a municipality picks its own map service)
    background_path = out / "demo_background.gpkg"
    background_path.unlink(missing_ok=True)
    schematic_districts(str(background_path)).save(store)
    columns = store.load_columns()
    print(f"Demo database: {database}  ({store.count()} events, {len(columns)} approved, written in {written:.1f} s)")

    first = last_sunday - dt.timedelta(days=6)
    town = municipality()
    title = i18n.tr("map.title", municipality=town["name"], week=week_label(first), first=first.isoformat(),
                    last=last_sunday.isoformat())
    weekly = analyse_week(store, week_label(first), columns=columns)  # the same ranks as the dock and the PDF
    result = render_hotspot_map(columns, out / "est_demo_map.png", period=(first, last_sunday),
                                extent=weekly.settings.study_area, hotspots=weekly.hotspots[:10], title=title,
                                category_labels={c.code: c.label() for c in store.categories()})
    print(f"Hot-spot map:  {result.path}  (week {week_label(first)}, {result.events} events, "
          f"{len(result.hotspots)} hot-spots)")
    for spot in result.hotspots[:5]:
        print(f"  {spot.rank}. {spot.label} ({spot.district}): {spot.count} events, peak z = {spot.z:.1f}")
    week = week_label(first)
    _demo_meetings(store, week, result.hotspots)
    store.close()
    pdf = _meeting_pdf(database, week, out / "est_demo_meeting.pdf", args.lang)
    print(f"Meeting PDF:   {pdf}")
    app.exitQgis()


_PROVIDERS: list = []


def _demo_meetings(store, week: str, hotspots) -> None:
    """Last week's meeting with two priorities (one followed up) and this week's, promoted from hot-spots."""
    from est_weekly_plugin.domain.meetings import Priority, previous_week
    from est_weekly_plugin.store.meetings import MeetingRepository

    repo = MeetingRepository(store)
    before = repo.ensure_meeting(previous_week(week), "demo")
    if not repo.priorities(before):
        knut = repo.add_priority(before, Priority(
            kind="hotspot", rank=1, name="Knutpunkten norra entrén", wkt="POINT(356230 6213280)", radius_m=150.0,
            categories=("narkotika", "samlingsplats"), responsible=("polisen", "slf_trygghet", "social"),
            action="Gemensam kvällsrunda polis och fältassistenter", time_focus="fre–lör 20–02"), "demo")
        repo.set_follow_up(knut, "continue", "Färre samlingar men narkotika kvar", "demo")
        repo.add_priority(before, Priority(kind="focus", rank=1, name="Klotter", categories=("klotter",),
                                           responsible=("sbf",), action="Sanering inom 24 timmar"), "demo")
    meeting = repo.ensure_meeting(week, "demo")
    if not repo.priorities(meeting):
        for spot in hotspots[:2]:
            repo.promote_hotspot(meeting, spot, "demo")


def _meeting_pdf(database: Path, week: str, out: Path, lang: str) -> Path:
    """The meeting PDF via the Processing algorithm (registered on the spot, like qgis_process does)."""
    sys.path.append("/usr/share/qgis/python/plugins")
    import processing
    from processing.core.Processing import Processing
    from qgis.core import QgsApplication

    from est_weekly_plugin.processing.provider import EstProcessingProvider

    Processing.initialize()
    if QgsApplication.processingRegistry().providerById("est_weekly") is None:
        _PROVIDERS.append(EstProcessingProvider())  # Python must keep the provider alive
        QgsApplication.processingRegistry().addProvider(_PROVIDERS[-1])
    result = processing.run("est_weekly:meetingpdf", {
        "DATABASE": str(database), "WEEK": week, "LANGUAGE": 0 if lang == "sv" else 1, "PAPER": 0,
        "PRIORITY_PAGES": True, "OUTPUT": str(out),
    })
    return Path(result["OUTPUT"])


if __name__ == "__main__":
    main()
