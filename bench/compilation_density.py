"""Benchmark: our binned-FFT kernel density and Gi* vs QGIS's heat-map algorithm.

Run: ``.venv/bin/python -m bench.compilation_density`` (offscreen). Synthetic Helsingborg
events clustered around the district points (seeded), 100 000 and 1 000 000 points,
quartic kernel, 200 m radius, 10 m pixels, the same grid for both (QGIS's extent rule).
The GeoPackage QGIS reads is written beforehand with osgeo.ogr and is not timed.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from osgeo import gdal, ogr, osr  # noqa: E402

from est_weekly_plugin.analysis.density import density_grid  # noqa: E402
from est_weekly_plugin.analysis.hotspots import hotspot_analysis  # noqa: E402
from est_weekly_plugin.domain.model import EventColumns  # noqa: E402
from est_weekly_plugin.domain.reference import districts as load_districts  # noqa: E402

gdal.UseExceptions()


def synthetic_points(n: int, seed: int = 2026) -> tuple[np.ndarray, np.ndarray]:
    """80 % of events around district points (σ 150–500 m), 20 % spread over the urban core."""
    rng = np.random.default_rng(seed)
    districts = load_districts()
    dx = np.array([d.x for d in districts])
    dy = np.array([d.y for d in districts])
    sigma = rng.uniform(150, 500, dx.size)
    clustered = int(n * 0.8)
    which = rng.integers(0, dx.size, clustered)
    spread = n - clustered
    x = dx[which] + rng.normal(0, 1, clustered) * sigma[which]
    y = dy[which] + rng.normal(0, 1, clustered) * sigma[which]
    x = np.concatenate([x, rng.uniform(353500, 365500, spread)])
    y = np.concatenate([y, rng.uniform(6204000, 6216000, spread)])
    # Keep the city at ~12 km × 12 km like the performance anchors in facts.md.
    x = np.clip(x, 353500, 365500)
    y = np.clip(y, 6204000, 6216000)
    return x, y


def write_gpkg(path: str, x: np.ndarray, y: np.ndarray) -> None:
    driver = ogr.GetDriverByName("GPKG")
    dataset = driver.CreateDataSource(path)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3006)
    layer = dataset.CreateLayer("events", srs, ogr.wkbPoint)
    definition = layer.GetLayerDefn()
    layer.StartTransaction()
    for xi, yi in zip(x.tolist(), y.tolist()):
        feature = ogr.Feature(definition)
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(xi, yi)
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    dataset = None


def columns_for(x: np.ndarray, y: np.ndarray) -> EventColumns:
    n = x.size
    rng = np.random.default_rng(1)
    return EventColumns(
        fid=np.arange(n, dtype=np.int64), x=x, y=y, category=rng.integers(0, 8, n).astype(np.int16),
        organisation=np.zeros(n, np.int16), day=np.full(n, 20775, np.int32),
        weekday=rng.integers(0, 7, n).astype(np.int8), minute_from=np.full(n, -1, np.int16),
        minute_to=np.full(n, -1, np.int16), category_codes=[f"c{i}" for i in range(8)], organisation_codes=["o"],
    )


def timed(func, repeat: int = 5):
    """(first-call seconds, best of *repeat* seconds, result)."""
    start = time.perf_counter()
    result = func()
    first = time.perf_counter() - start
    best = first
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return first, best, result


def peak_memory(func) -> float:
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def start_qgis():
    sys.path.append("/usr/share/qgis/python/plugins")
    from qgis.analysis import QgsNativeAlgorithms
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    if QgsApplication.processingRegistry().providerById("native") is None:
        QgsApplication.processingRegistry().addProvider(QgsNativeAlgorithms())
    return app


def run_qgis(gpkg: str, target: str) -> float:
    import processing

    start = time.perf_counter()
    processing.run(
        "qgis:heatmapkerneldensityestimation",
        {"INPUT": f"{gpkg}|layername=events", "RADIUS": 200.0, "PIXEL_SIZE": 10.0, "KERNEL": 0,
         "OUTPUT_VALUE": 0, "DECAY": 0.0, "OUTPUT": target},
    )
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--no-qgis", action="store_true", help="time only our code")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    app = None if args.no_qgis else start_qgis()
    print(f"{'points':>9} | {'ours first':>10} | {'ours best':>9} | {'QGIS':>7} | {'ratio':>6} | "
          f"{'max|diff|/peak':>14} | {'peak MiB':>8} | {'Gi* 100 m':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            x, y = synthetic_points(n)
            first, best, grid = timed(lambda x=x, y=y: density_grid(x, y, radius=200.0, pixel_size=10.0))
            mib = peak_memory(lambda x=x, y=y: density_grid(x, y, radius=200.0, pixel_size=10.0))
            cols = columns_for(x, y)
            _, gi_best, _ = timed(lambda cols=cols: hotspot_analysis(cols, cell_size=100.0, rings=1), repeat=3)
            qgis_s, ratio, diff = float("nan"), float("nan"), float("nan")
            if app is not None:
                gpkg = os.path.join(tmp, f"points_{n}.gpkg")
                write_gpkg(gpkg, x, y)
                target = os.path.join(tmp, f"qgis_{n}.tif")
                qgis_s = run_qgis(gpkg, target)
                ratio = qgis_s / best
                dataset = gdal.Open(target)  # keep the dataset alive while its band is used
                band = dataset.GetRasterBand(1)
                expected = band.ReadAsArray().astype(np.float64)
                expected[expected == band.GetNoDataValue()] = 0.0
                dataset = None
                if expected.shape == grid.values.shape:
                    diff = float(np.abs(expected - grid.values).max() / expected.max())
            print(f"{n:>9} | {first * 1e3:>8.0f}ms | {best * 1e3:>7.0f}ms | {qgis_s:>6.2f}s | {ratio:>5.0f}× | "
                  f"{diff:>14.2e} | {mib:>8.0f} | {gi_best * 1e3:>7.0f}ms", flush=True)
    print(f"grid {grid.rows} × {grid.cols} pixels; CPU cores {os.cpu_count()}; "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if app is not None:
        app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
