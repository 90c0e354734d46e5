"""`make demo`: build the demo EST GeoPackage and the week's hot-spot map, headless.

Creates two years of deterministic Helsingborg demo events (seeded), then renders the latest
full ISO week's heat map with the ranked hot-spots. Prints where the outputs are.
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
    from est_weekly_plugin.core import i18n
    from est_weekly_plugin.core.demo import demo_batch
    from est_weekly_plugin.core.maps import render_hotspot_map
    from est_weekly_plugin.core.reference import municipality
    from est_weekly_plugin.core.store import GeoPackageStore
    from est_weekly_plugin.core.trends import week_label

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
    columns = store.load_columns()
    print(f"Demo database: {database}  ({store.count()} events, {len(columns)} approved, written in {written:.1f} s)")

    first = last_sunday - dt.timedelta(days=6)
    town = municipality()
    title = i18n.tr("map.title", municipality=town["name"], week=week_label(first), first=first.isoformat(),
                    last=last_sunday.isoformat())
    result = render_hotspot_map(columns, out / "est_demo_map.png", period=(first, last_sunday),
                                extent=tuple(town["urban_core"]), title=title,
                                category_labels={c.code: c.label() for c in store.categories()})
    print(f"Hot-spot map:  {result.path}  (week {week_label(first)}, {result.events} events, "
          f"{len(result.hotspots)} hot-spots)")
    for spot in result.hotspots[:5]:
        print(f"  {spot.rank}. {spot.district}: {spot.window_count} events, z = {spot.z:.1f}")
    store.close()
    app.exitQgis()


if __name__ == "__main__":
    main()
