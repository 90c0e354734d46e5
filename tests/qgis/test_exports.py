"""Exports honour the active filter, on both backends."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
from conftest import TODAY
from osgeo import gdal, ogr

from est_weekly_plugin.analysis import exports
from est_weekly_plugin.analysis.compilation import CompilationEngine, density_spec_for
from est_weekly_plugin.analysis.filters import CompilationFilter
from est_weekly_plugin.domain.reference import municipality
from est_weekly_plugin.store.demo import demo_batch


def test_exports_honour_the_filter(store, tmp_path) -> None:
    store.insert_batch(demo_batch(3_000, end_date=TODAY - dt.timedelta(days=1), seed=5), today=TODAY)
    engine = CompilationEngine(store.load_columns())
    columns = engine.columns  # result.index counts into the engine's own (fid-ordered) columns
    f = CompilationFilter(categories=["skadegorelse", "klotter"], weekdays=[4, 5, 6])
    result = engine.compute(f, density=density_spec_for(municipality()["urban_core"], max_pixels=50_000),
                            hotspots=True)
    fids = columns.fid[result.index]
    assert 0 < len(fids) < len(columns)

    count = exports.export_events_csv(store, fids, tmp_path / "events.csv")
    with open(tmp_path / "events.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert count == len(rows) == result.count
    assert {r["category"] for r in rows} <= {"skadegorelse", "klotter"}
    assert all(dt.date.fromisoformat(r["event_date"]).weekday() in (4, 5, 6) for r in rows)
    assert {r["status"] for r in rows} == {"approved"}
    assert sorted(int(r["fid"]) for r in rows) == sorted(int(v) for v in fids)

    assert exports.export_events_gpkg(store, fids, tmp_path / "events.gpkg", 3006) == result.count
    dataset = ogr.Open(str(tmp_path / "events.gpkg"))
    layer = dataset.GetLayerByName("events")
    assert layer.GetFeatureCount() == result.count
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "3006"
    del layer, dataset

    cells = exports.export_hotspots_gpkg(result.hotspots, tmp_path / "cells.gpkg", 3006)
    dataset = ogr.Open(str(tmp_path / "cells.gpkg"))
    layer = dataset.GetLayerByName("hotspot_cells")
    assert layer.GetFeatureCount() == cells > 0
    total = sum(feature.GetField("count") for feature in layer)
    assert total == result.count - int(np.count_nonzero(
        ~((columns.x[result.index] >= 353500) & (columns.x[result.index] < 363500)
          & (columns.y[result.index] >= 6204000) & (columns.y[result.index] < 6222500))))
    del layer, dataset
    assert exports.export_hotspots_csv(result.hotspots, tmp_path / "cells.csv") == cells

    path = exports.export_density_geotiff(result.density, tmp_path / "density.tif", 3006)
    raster = gdal.Open(str(path))
    band = raster.GetRasterBand(1).ReadAsArray()
    assert np.allclose(band, result.density.values.astype(np.float32))
    assert raster.GetGeoTransform()[1] == result.density.pixel_size


def test_csv_cells_never_run_as_formulas(store, tmp_path) -> None:
    from conftest import make_event

    from est_weekly_plugin.domain.model import Status

    hostile = ["=HYPERLINK(\"http://x\",\"klicka\")", "+46 70 1", "-2+3", "@SUM(A1)", "\tflik", "\rvagn"]
    fids = []
    for text in hostile:
        saved = store.submit(make_event(place_name=text.strip() or "x", description=text.replace("\r", " ")),
                             actor="anna", today=TODAY)
        approved = store.review(saved.uuid, saved.version, "granskare", Status.APPROVED)
        fids.append(approved.fid)
    exports.export_events_csv(store, fids, tmp_path / "events.csv")
    with open(tmp_path / "events.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    cells = [value for row in rows for value in row.values()]
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in cells)
    assert "'=HYPERLINK(\"http://x\",\"klicka\")" in {r["description"] for r in rows}
    assert exports.spreadsheet_safe(-3.5) == -3.5  # numbers stay numbers


def test_small_counts_are_suppressed_in_hotspot_exports(tmp_path) -> None:
    from est_weekly_plugin.analysis.compilation import columns_from_batch
    from est_weekly_plugin.analysis.hotspots import hotspot_analysis

    batch = demo_batch(400, end_date=TODAY - dt.timedelta(days=1), seed=9)
    from est_weekly_plugin.domain.reference import default_categories, default_organisations

    columns = columns_from_batch(batch, [c.code for c in default_categories()], [o.code for o in default_organisations()],
                                 approved_only=False)
    result = hotspot_analysis(columns, cell_size=250.0, extent=(353500, 6204000, 363500, 6222500))
    plain = exports.hotspot_records(result)
    assert any(0 < r["count"] < 3 for r in plain)
    exports.export_hotspots_csv(result, tmp_path / "cells.csv", suppress_below=3)
    with open(tmp_path / "cells.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    counts = [r["count"] for r in rows]
    assert "<3" in counts and not any(c in ("1", "2", "1.0", "2.0") for c in counts)
    assert max(float(c) for c in counts if c != "<3") >= 3
    exports.export_hotspots_gpkg(result, tmp_path / "cells.gpkg", 3006, suppress_below=3)
    dataset = ogr.Open(str(tmp_path / "cells.gpkg"))
    layer = dataset.GetLayerByName("hotspot_cells")
    values = [feature.GetField("count") for feature in layer]
    assert None in values and not any(v is not None and 0 < v < 3 for v in values)
    del layer, dataset
