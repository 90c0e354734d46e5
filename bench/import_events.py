"""Import benchmark: a guard company's 1 000 000-row spreadsheet (CSV) into a fresh GeoPackage in a
QgsTask, against GDAL's own CSV → GeoPackage conversion (what ``ogr2ogr`` / "Convert format" does) of
the same file in the same run.

Run: ``.venv/bin/python -m bench.import_events [--rows 1000000] [--encoding cp1252]``. Prints the
phases (read, plan, write), rows/s, peak memory and the ratio to GDAL. Not a test: numbers depend on
the machine. Target: >= 50 000 rows/s end to end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

TODAY = dt.date(2026, 11, 23)
CATEGORIES = ("Skadegörelse", "Klotter", "Nedskräpning", "Brand", "Ordningsstörning", "Narkotika")
HEADER = "Rapportnr;Händelse;Datum;Klockslag;Plats;Notering;Östlig;Nordlig"
PLACES = ("Söder, Möllevångsgatan", "Stortorget", "Råå hamn", "Drottninghög centrum", "Knutpunkten")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_csv(path: Path, rows: int, encoding: str, seed: int = 14) -> None:
    """A guard company's export: Swedish column names, ';' separator, decimal commas, Windows-1252 or UTF-8."""
    rng = np.random.default_rng(seed)
    x = rng.normal(356600, 1800, rows).clip(345000, 373000)
    y = rng.normal(6213500, 2500, rows).clip(6201000, 6241000)
    days = (np.datetime64(TODAY - dt.timedelta(days=1)) - rng.integers(0, 700, rows).astype("timedelta64[D]"))
    dates = np.datetime_as_string(days, unit="D")
    minutes = rng.integers(0, 1440, rows)
    category = rng.integers(0, len(CATEGORIES), rows)
    place = rng.integers(0, len(PLACES), rows)
    # decimal commas in the coordinates, as Excel writes them on a Swedish Windows
    east = np.char.replace(np.char.mod("%.1f", x), ".", ",").tolist()
    north = np.char.replace(np.char.mod("%.1f", y), ".", ",").tolist()
    with path.open("w", encoding=encoding, newline="") as handle:
        handle.write(HEADER + "\r\n")
        for start in range(0, rows, 100_000):
            handle.write("".join(
                f"V-{i};{CATEGORIES[category[i]]};{dates[i]};{minutes[i] // 60:02d}:{minutes[i] % 60:02d};"
                f"{PLACES[place[i]]};Rond {i % 97}, åtgärd noterad;{east[i]};{north[i]}\r\n"
                for i in range(start, min(start + 100_000, rows))))


def gdal_convert(csv: Path, target: Path) -> float:
    """GDAL's own comparable work: the CSV (points from its coordinate columns) into a GeoPackage."""
    from osgeo import gdal

    gdal.UseExceptions()
    gdal.SetConfigOption("OGR_SQLITE_SYNCHRONOUS", "OFF")  # as our import into an empty file
    started = time.perf_counter()
    gdal.VectorTranslate(str(target), str(csv), format="GPKG", layerName="events",
                         options=["-oo", "X_POSSIBLE_NAMES=Östlig", "-oo", "Y_POSSIBLE_NAMES=Nordlig",
                                  "-a_srs", "EPSG:3006", "-gt", "100000"])
    seconds = time.perf_counter() - started
    gdal.SetConfigOption("OGR_SQLITE_SYNCHRONOUS", None)
    return seconds


def phases(work: Path, csv: Path) -> None:
    """Read, plan and write measured one by one (the same code the task runs)."""
    from est_weekly_plugin.store import GeoPackageStore
    from est_weekly_plugin.store.importing import guess_profile, prepare_import, read_source
    from est_weekly_plugin.store.importing.engine import write_import

    store = GeoPackageStore.create(work / "phases.gpkg")
    mark = time.perf_counter()
    table = read_source(csv)
    read_s = time.perf_counter() - mark
    profile = guess_profile(table.column_names)
    profile.organisation = "bevakning"
    mark = time.perf_counter()
    plan = prepare_import(store, table, profile, today=TODAY)
    plan_s = time.perf_counter() - mark
    mark = time.perf_counter()
    summary = write_import(store, plan, today=TODAY)
    write_s = time.perf_counter() - mark
    audited = store._query("SELECT count(*) FROM audit_log WHERE subject = 'event'")[0][0]
    store.close()
    print(f"phases: read {read_s:.2f} s, plan {plan_s:.2f} s, write {write_s:.2f} s "
          f"({summary.new:,} new, {summary.problems} problem rows, {audited:,} audit rows)")


def run_task(task: object) -> None:
    from qgis.core import QgsApplication, QgsTask
    from qgis.PyQt.QtCore import QCoreApplication

    QgsApplication.taskManager().addTask(task)
    while task.status() not in (QgsTask.TaskStatus.Complete, QgsTask.TaskStatus.Terminated):
        QCoreApplication.processEvents()
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--encoding", default="cp1252", choices=("cp1252", "utf-8"))
    parser.add_argument("--task-only", action="store_true", help="skip the phase timings (peak memory of the task alone)")
    args = parser.parse_args()

    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from est_weekly_plugin.store import GeoPackageStore
    from est_weekly_plugin.store.importing import ImportTask, guess_profile

    work = Path(tempfile.mkdtemp(prefix="est-import-bench-"))
    csv = work / "vakter.csv"
    started = time.perf_counter()
    write_csv(csv, args.rows, args.encoding)
    print(f"generated {args.rows:,} rows ({csv.stat().st_size / 1e6:.0f} MB, {args.encoding}) "
          f"in {time.perf_counter() - started:.1f} s")

    if not args.task_only:
        phases(work, csv)
    profile = guess_profile(HEADER.split(";"))
    profile.organisation = "bevakning"

    # the whole import as the wizard runs it: a QgsTask on its own connection
    target = work / "task.gpkg"
    GeoPackageStore.create(target).close()
    task = ImportTask("bench", lambda: GeoPackageStore.open(target), path=str(csv), profile=profile, today=TODAY)
    mark = time.perf_counter()
    run_task(task)
    task_s = time.perf_counter() - mark
    assert task.summary is not None and task.summary.new == args.rows, task.error
    rate = args.rows / task_s
    print(f"import task: {task_s:.2f} s, {rate:,.0f} rows/s (target >= 50 000), peak RSS {peak_rss_mb():.0f} MB")

    gdal_s = gdal_convert(csv, work / "gdal.gpkg")
    print(f"GDAL CSV -> GeoPackage (ogr2ogr, no validation, no audit): {gdal_s:.2f} s, "
          f"{args.rows / gdal_s:,.0f} rows/s; EST import / GDAL = {task_s / gdal_s:.2f}")
    app.exitQgis()


if __name__ == "__main__":
    main()
