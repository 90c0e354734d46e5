"""Store benchmark: bulk insert and cold columnar load of N events, against QGIS's own paths.

Run: ``.venv/bin/python -m bench.store [--events 1000000] [--no-postgis]``. Prints absolute
times, rates, the ratio against QGIS doing the same work in the same run, and memory.
Not a test: numbers depend on the machine.
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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def qgis_per_feature_load(uri: str, provider: str) -> tuple[float, int]:
    """QGIS's own path: getFeatures() over the approved events into the same numpy columns."""
    from qgis.core import QgsFeatureRequest, QgsVectorLayer

    started = time.perf_counter()
    layer = QgsVectorLayer(uri, "events", provider)
    layer.setSubsetString("status = 'approved'")
    names = ["category", "organisation", "event_date", "time_from", "time_to"]
    request = QgsFeatureRequest().setSubsetOfAttributes(names, layer.fields())
    xs, ys, cats, orgs, dates, tfs, tts = [], [], [], [], [], [], []
    for feature in layer.getFeatures(request):
        point = feature.geometry().asPoint()
        xs.append(point.x())
        ys.append(point.y())
        cats.append(feature["category"])
        orgs.append(feature["organisation"])
        dates.append(feature["event_date"])
        tfs.append(feature["time_from"])
        tts.append(feature["time_to"])
    np.array(xs), np.array(ys)
    _, cat_index = np.unique(np.array(cats, dtype=object).astype(str), return_inverse=True)
    _, org_index = np.unique(np.array(orgs, dtype=object).astype(str), return_inverse=True)
    return time.perf_counter() - started, len(xs)


def qgis_writer(batch, path: Path) -> float:
    """QGIS's own writing path: QgsVectorFileWriter.addFeatures into a GeoPackage."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransformContext,
        QgsFeature,
        QgsField,
        QgsFields,
        QgsGeometry,
        QgsPointXY,
        QgsVectorFileWriter,
        QgsWkbTypes,
    )
    from qgis.PyQt.QtCore import QVariant

    fields = QgsFields()
    for name in ("uuid", "category", "organisation", "event_date", "place_name", "description", "status"):
        fields.append(QgsField(name, QVariant.String))
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    started = time.perf_counter()
    writer = QgsVectorFileWriter.create(str(path), fields, QgsWkbTypes.Point,
                                        QgsCoordinateReferenceSystem("EPSG:3006"), QgsCoordinateTransformContext(),
                                        options)
    dates = np.datetime_as_string(batch.event_date, unit="D").tolist()
    features = []
    for i in range(len(batch)):
        feature = QgsFeature(fields)
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(batch.x[i], batch.y[i])))
        feature.setAttributes([batch.uuid[i], batch.category[i], batch.organisation[i], dates[i],
                               batch.place_name[i], batch.description[i], batch.status[i]])
        features.append(feature)
        if len(features) == 50_000:
            writer.addFeatures(features)
            features = []
    writer.addFeatures(features)
    del writer
    return time.perf_counter() - started


def run_backend(label: str, create, batch, qgis_uri_of) -> dict[str, float]:  # noqa: ANN001
    store = create()
    started = time.perf_counter()
    store.insert_batch(batch, today=TODAY)
    insert = time.perf_counter() - started
    store.close()
    store = create(open_only=True)
    started = time.perf_counter()
    columns = store.load_columns()
    cold = time.perf_counter() - started
    warm = min(_timed(store.load_columns) for _ in range(3))
    uri, provider = qgis_uri_of(store)
    qgis_load, qgis_count = qgis_per_feature_load(uri, provider)
    assert qgis_count == len(columns), (qgis_count, len(columns))
    nbytes = sum(getattr(columns, f).nbytes for f in ("fid", "x", "y", "category", "organisation", "day",
                                                       "weekday", "minute_from", "minute_to"))
    store.close()
    print(f"\n[{label}] {len(batch):,} events")
    print(f"  bulk insert          {insert:7.2f} s   {len(batch) / insert:>10,.0f} events/s")
    print(f"  cold load → numpy    {cold:7.3f} s   ({len(columns):,} approved; warm {warm:.3f} s; {nbytes / 2**20:.0f} MB)")
    print(f"  QGIS getFeatures()   {qgis_load:7.3f} s   → ours is {qgis_load / cold:.1f}× faster (cold), "
          f"{qgis_load / warm:.1f}× (warm)")
    return {"insert": insert, "cold": cold, "warm": warm, "qgis": qgis_load}


def _timed(function) -> float:  # noqa: ANN001
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--no-postgis", action="store_true")
    parser.add_argument("--no-writer", action="store_true", help="skip QGIS's QgsVectorFileWriter comparison")
    args = parser.parse_args()

    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from est_weekly_plugin.store import GeoPackageStore, PostgisStore
    from est_weekly_plugin.store.demo import demo_batch

    work = Path(tempfile.mkdtemp(prefix="est-bench-"))
    started = time.perf_counter()
    batch = demo_batch(args.events, end_date=TODAY - dt.timedelta(days=1))
    print(f"EST Weekly store benchmark — {args.events:,} demo events, {os.cpu_count()} cores")
    print(f"  demo generator       {time.perf_counter() - started:7.2f} s")

    path = work / "bench.gpkg"

    def gpkg(open_only: bool = False):  # noqa: ANN202
        return GeoPackageStore.open(path) if open_only else GeoPackageStore.create(path)

    result = run_backend("GeoPackage", gpkg, batch, lambda s: s.layer_uri())
    if not args.no_writer:
        writer = qgis_writer(batch, work / "qgis_writer.gpkg")
        print(f"  QGIS QgsVectorFileWriter.addFeatures {writer:7.2f} s ({len(batch) / writer:,.0f} events/s, "
              f"7 attributes) → ours is {writer / result['insert']:.1f}× faster with 18 columns, indexes and R-tree")

    if not args.no_postgis:
        import pgcluster

        cluster = pgcluster.start()
        try:
            info = pgcluster.connection_info(cluster, "bench", fresh=True)
            os.environ["PGPASSWORD"] = cluster.password  # only for QGIS's comparison layer

            def postgis(open_only: bool = False):  # noqa: ANN202
                return PostgisStore.open(info) if open_only else PostgisStore.create(info)

            run_backend("PostGIS", postgis, batch, lambda s: s.layer_uri())
        finally:
            cluster.stop()
    print(f"\npeak memory (RSS) {peak_rss_mb():.0f} MB")
    app.exitQgis()


if __name__ == "__main__":
    main()
