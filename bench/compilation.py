"""Benchmark: a filter change in the compilation vs QGIS's own path, on 1 000 000 approved events.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.compilation`` (``--n``, ``--postgis``,
``--no-density``). Measured in one run on the same GeoPackage:

* ours: ``CompilationEngine.compute`` (mask, counts, chart data incl. the aoristic matrix,
  the weekly trend, the heat-map KDE) plus writing the heat-map GeoTIFF the layer shows;
* QGIS: ``setSubsetString`` with the same filter + ``featureCount()`` + rendering the layer
  with a ``QgsHeatmapRenderer`` (200 m) into an image of the same pixel size and extent;
* the density raster at 10 m against ``qgis:heatmapkerneldensityestimation`` (delegated to
  ``bench.compilation_density``, 100 000 and 1 000 000 points side by side);
* memory: process RSS after QGIS started vs after loading and computing (peak RSS);
* with ``--postgis``: the same engine loaded from PostGIS (binary COPY through the compilation view)
  on a throw-away cluster: load time and filter changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.compilation_density import start_qgis  # noqa: E402

TODAY = dt.date(2026, 11, 23)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def filters():
    from est_weekly_plugin.analysis.filters import CompilationFilter

    return [
        ("vandalism+graffiti, Fri–Sun", CompilationFilter(categories=["skadegorelse", "klotter"], weekdays=[4, 5, 6])),
        ("drugs, police", CompilationFilter(categories=["narkotika"], organisations=["polisen"])),
        ("all but littering", CompilationFilter(categories=["samlingsplats", "skadegorelse", "klotter", "narkotika",
                                                             "ordningsstorning", "brand", "hot_vald", "stold_inbrott",
                                                             "fordon", "otrygg_plats", "alkohol", "sprutor",
                                                             "ovrigt"])),
        ("disorder+alcohol, Sat", CompilationFilter(categories=["ordningsstorning", "alkohol"], weekdays=[5])),
        ("vandalism, last 4 weeks", CompilationFilter(categories=["skadegorelse"]).with_preset("last_4_weeks", TODAY)),
        ("everything", CompilationFilter()),
    ]


def qgis_subset(f) -> str:
    """The same filter as an OGR/SQLite subset string (only what these bench filters use)."""
    parts = ["status = 'approved'"]
    if f.categories:
        parts.append("category IN (" + ", ".join(f"'{c}'" for c in f.categories) + ")")
    if f.organisations:
        parts.append("organisation IN (" + ", ".join(f"'{o}'" for o in f.organisations) + ")")
    if f.weekdays:
        sqlite_days = [str((d + 1) % 7) for d in f.weekdays]  # SQLite %w: 0 = Sunday
        parts.append("strftime('%w', event_date) IN (" + ", ".join(f"'{d}'" for d in sqlite_days) + ")")
    if f.date_from:
        parts.append(f"event_date >= '{f.date_from.isoformat()}'")
    if f.date_to:
        parts.append(f"event_date <= '{f.date_to.isoformat()}'")
    return " AND ".join(parts)


def render_qgis_heatmap(layer, spec) -> float:
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsHeatmapRenderer,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsRectangle,
        QgsUnitTypes,
    )
    from qgis.PyQt.QtCore import QSize

    renderer = QgsHeatmapRenderer()
    renderer.setRadius(200.0)
    renderer.setRadiusUnit(QgsUnitTypes.RenderUnit.RenderMapUnits)
    layer.setRenderer(renderer)
    xmin, ymin, xmax, ymax = spec.extent
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3006"))
    settings.setOutputSize(QSize(int(round((xmax - xmin) / spec.pixel_size)), int(round((ymax - ymin) / spec.pixel_size))))
    settings.setExtent(QgsRectangle(xmin, ymin, xmax, ymax))
    start = time.perf_counter()
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    return time.perf_counter() - start


def bench_refresh(store, engine, layer=None) -> None:  # noqa: ANN001
    """One approval made on another connection, then the engine brought up to date: merging the
    change delta vs a full reload (and QGIS re-reading its layer to count the same)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import make_event

    from est_weekly_plugin.analysis.tasks import KeptConnection
    from est_weekly_plugin.analysis.weekly import AnalysisSettings, engine_for
    from est_weekly_plugin.domain.model import Status

    engine.change_token = store.change_token()
    connection = KeptConnection(store)  # the dock's refresh task keeps its own connection like this
    with connection.use():
        pass
    merges, reloads, counts = [], [], []
    for attempt in range(5):
        other = store.reopen()
        saved = other.submit(make_event(event_date=TODAY - dt.timedelta(days=2)), actor="bo", today=TODAY)
        other.review(saved.uuid, saved.version, "granskare.gun", Status.APPROVED, today=TODAY)
        other.close()
        start = time.perf_counter()
        with connection.use() as own:  # what the refresh task does, on its own connection
            delta = own.approved_changes(engine.change_token, engine.columns.category_codes,
                                         engine.columns.organisation_codes)
        merged = engine.with_changes(delta)
        merges.append(time.perf_counter() - start)
        start = time.perf_counter()
        merged.compute(filters()[0][1])  # the count the dock shows next
        counts.append(time.perf_counter() - start)
        assert len(merged) == len(engine) + 1, (len(merged), len(engine))
        engine = merged
        if attempt < 2:
            start = time.perf_counter()
            fresh = engine_for(store.load_columns(), AnalysisSettings.of(store))
            fresh.warm_up()
            fresh.compute(filters()[0][1])
            reloads.append(time.perf_counter() - start)
            assert len(fresh) == len(merged)
    qgis = ""
    if layer is not None:
        start = time.perf_counter()
        layer.setSubsetString("status = 'approved'")
        layer.dataProvider().reloadData()
        count = layer.featureCount()
        qgis = f"; QGIS reloadData + featureCount {(time.perf_counter() - start) * 1e3:.0f} ms ({count:,})"
    connection.close()
    print(f"  refresh after one approval elsewhere: {statistics.median(merges) * 1e3:.0f} ms median "
          f"(worst {max(merges) * 1e3:.0f} ms; change delta read on the task's own connection + merge), "
          f"then the first count {statistics.median(counts) * 1e3:.0f} ms; a full reload + count "
          f"{min(reloads):.2f} s → {min(reloads) / statistics.median(merges):.0f}× {qgis}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--postgis", action="store_true")
    parser.add_argument("--no-density", action="store_true", help="skip the KDE-vs-QGIS raster comparison")
    args = parser.parse_args(argv)
    app = start_qgis()
    from qgis.core import QgsVectorLayer

    from est_weekly_plugin.analysis.compilation import CompilationEngine, density_spec_for
    from est_weekly_plugin.analysis.density import write_geotiff
    from est_weekly_plugin.domain.reference import municipality
    from est_weekly_plugin.store import GeoPackageStore
    from est_weekly_plugin.store.demo import demo_batch

    base_rss = rss_mb()
    print(f"QGIS started: RSS {base_rss:.0f} MiB; CPU cores {os.cpu_count()}")
    batch = demo_batch(args.n, end_date=TODAY - dt.timedelta(days=1))
    batch.status = np.full(len(batch), "approved", dtype=object)
    work = Path(tempfile.mkdtemp(prefix="est-bench-"))
    start = time.perf_counter()
    store = GeoPackageStore.create(work / "bench.gpkg")
    store.insert_batch(batch, today=TODAY)
    print(f"inserted {len(batch):,} approved demo events into a GeoPackage in {time.perf_counter() - start:.1f} s")
    del batch
    rss_before = rss_mb()

    start = time.perf_counter()
    engine = CompilationEngine(store.load_columns())
    engine.warm_up()
    load_s = time.perf_counter() - start
    spec = density_spec_for(municipality()["urban_core"])
    start = time.perf_counter()
    engine.compute(filters()[-1][1], density=spec)
    first_s = time.perf_counter() - start
    print(f"first load {load_s:.2f} s (columns + caches), first compute {first_s * 1e3:.0f} ms; "
          f"heat-map grid {int((spec.extent[2] - spec.extent[0]) / spec.pixel_size)} × "
          f"{int((spec.extent[3] - spec.extent[1]) / spec.pixel_size)} at {spec.pixel_size:g} m")

    uri, provider = store.layer_uri("events")
    layer = QgsVectorLayer(uri, "events", provider)
    print(f"\n{'filter':<28} | {'events':>9} | {'ours':>8} | {'QGIS subset+count':>17} | {'QGIS heat render':>16} "
          f"| {'ratio':>6}")
    ours_all, ratios = [], []
    for name, f in filters():
        times = []
        for _ in range(3):
            engine._masks.clear()  # a new filter each time: no mask cache
            start = time.perf_counter()
            result = engine.compute(f, density=spec)
            write_geotiff(result.density.values, result.density.transform(), 3006, work / "heat.tif", compress=False)
            times.append(time.perf_counter() - start)
        ours = min(times)
        ours_all.append(max(times))
        start = time.perf_counter()
        layer.setSubsetString(qgis_subset(f))
        count = layer.featureCount()
        subset_s = time.perf_counter() - start
        render_s = render_qgis_heatmap(layer, spec)
        ratio = (subset_s + render_s) / ours
        ratios.append(ratio)
        assert count == result.count, (name, count, result.count)
        print(f"{name:<28} | {result.count:>9,} | {ours * 1e3:>6.0f}ms | {subset_s * 1e3:>15.0f}ms | "
              f"{render_s * 1e3:>14.0f}ms | {ratio:>5.0f}×", flush=True)
    print(f"ours: worst {max(ours_all) * 1e3:.0f} ms, median {statistics.median(ours_all) * 1e3:.0f} ms per filter "
          f"change (counts + charts + heat map + GeoTIFF); QGIS/ours min {min(ratios):.0f}×, "
          f"median {statistics.median(ratios):.0f}×")
    bench_refresh(store, engine, layer)
    print(f"memory: RSS after QGIS start {base_rss:.0f} MiB, before load {rss_before:.0f} MiB, "
          f"now {rss_mb():.0f} MiB, peak {peak_rss_mb():.0f} MiB → engine ≈ {rss_mb() - rss_before:.0f} MiB "
          f"above QGIS + store")

    if args.postgis:
        sys.path.insert(0, str(ROOT / "tests"))
        import pgcluster

        from est_weekly_plugin.store import PostgisStore

        cluster = pgcluster.start()
        try:
            info = pgcluster.connection_info(cluster, "est_bench", fresh=True)
            pg = PostgisStore.create(info)
            batch = demo_batch(args.n, end_date=TODAY - dt.timedelta(days=1))
            batch.status = np.full(len(batch), "approved", dtype=object)
            pg.insert_batch(batch, today=TODAY)
            print("\nPostGIS: the same in-memory engine, loaded through binary COPY (row-level rules apply)")
            for attempt in ("cold", "warm"):
                start = time.perf_counter()
                pg_columns = pg.load_columns()
                print(f"  load {len(pg_columns):,} approved events ({attempt}): {time.perf_counter() - start:.2f} s")
            rss_pg = rss_mb()
            pg_engine = CompilationEngine(pg_columns)
            pg_engine.warm_up()
            pg_times = []
            for name, f in filters():
                times = []
                for _ in range(3):  # as on the GeoPackage above: a new filter each time, no mask cache
                    pg_engine._masks.clear()
                    start = time.perf_counter()
                    result = pg_engine.compute(f, density=spec)
                    times.append(time.perf_counter() - start)
                pg_times.append(max(times))
                print(f"  {name:<28} {result.count:>9,} events  {min(times) * 1e3:>6.0f} ms (worst of 3: "
                      f"{max(times) * 1e3:.0f} ms)")
            print(f"  filter change on PostGIS: worst {max(pg_times) * 1e3:.0f} ms, median "
                  f"{statistics.median(pg_times) * 1e3:.0f} ms; engine ≈ {rss_mb() - rss_pg:.0f} MiB")
            os.environ["PGPASSWORD"] = cluster.password  # only for QGIS's comparison layer
            pg_uri, pg_provider = pg.layer_uri("events")
            bench_refresh(pg, pg_engine, QgsVectorLayer(pg_uri, "events", pg_provider))
            pg.close()
        finally:
            cluster.stop()

    del layer
    store.close()
    if not args.no_density:
        # QGIS cannot be initialised twice in one process: the raster comparison (its own
        # QgsApplication + Processing) runs as a child, side by side in this same run.
        print("\nDensity raster (quartic, 200 m, 10 m pixels) vs qgis:heatmapkerneldensityestimation:", flush=True)
        subprocess.run([sys.executable, "-m", "bench.compilation_density", "--sizes", "100000,1000000"],
                       cwd=str(ROOT), check=True)
    sys.stdout.flush()
    del app
    # QGIS 3.22's exitQgis() segfaults here after Processing was initialised; the numbers are
    # printed, so leave without running QGIS's teardown.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
