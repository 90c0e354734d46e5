"""Exports of the compilation: the filtered events (CSV, GeoPackage), the hot-spot cells
(CSV, GeoPackage) and the density raster (GeoTIFF).

Why fids: the engine holds only the numeric columns; an export must contain the full
reports (place, description, reviewer …) exactly as stored, so rows are fetched by fid in
chunks with the store's own SELECT — the same rows the review panel shows, and never more
than the active filter selected. Files are written with GDAL/OGR directly inside one
transaction (QgsVectorFileWriter is ~20× slower per feature).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Sequence

import numpy as np

from ..domain.model import Event
from .density import DensityGrid
from .hotspots import HotspotResult

CHUNK = 2000
# No reporter or reviewer identity ever leaves in an export: events describe places, not people.
EVENT_COLUMNS = ("fid", "uuid", "x", "y", "category", "organisation", "event_date", "time_from", "time_to",
                 "place_name", "description", "status", "reviewed_at")
Progress = Optional[Callable[[float], bool]]  # fraction done → False to cancel


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that Excel or LibreOffice will never run as a formula (CSV injection).

    Text starting with = + - @ tab or carriage return gets a leading apostrophe, as OWASP advises;
    numbers stay numbers.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def events_by_fid(store: Any, fids: Sequence[int], progress: Progress = None) -> Iterator[Event]:
    """The stored events with these fids, in fid order, fetched *CHUNK* at a time."""
    ordered = np.unique(np.asarray(fids, dtype=np.int64))
    for start in range(0, ordered.size, CHUNK):
        part = [int(v) for v in ordered[start: start + CHUNK]]
        yield from store.approved_events_by_fid(part)
        if progress is not None and progress((start + len(part)) / max(ordered.size, 1)) is False:
            return


def _value(event: Event, column: str) -> Any:
    value = getattr(event, column)
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat(timespec="minutes") if isinstance(value, (dt.time, dt.datetime)) else value.isoformat()
    return value.value if hasattr(value, "value") else value


def export_events_csv(store: Any, fids: Sequence[int], path: Path | str, progress: Progress = None) -> int:
    """CSV (UTF-8 with BOM so Excel shows å ä ö) of the events; returns the row count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EVENT_COLUMNS)
        for event in events_by_fid(store, fids, progress):
            writer.writerow([spreadsheet_safe(_value(event, c)) for c in EVENT_COLUMNS])
            written += 1
    return written


def _ogr_layer(path: Path, name: str, epsg: int, geometry: int, fields: List[tuple]) -> tuple:
    from osgeo import ogr, osr

    path.parent.mkdir(parents=True, exist_ok=True)
    driver = ogr.GetDriverByName("GPKG")
    if path.exists():
        path.unlink()
    dataset = driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(int(epsg))
    layer = dataset.CreateLayer(name, srs, geometry)
    for field_name, kind in fields:
        layer.CreateField(ogr.FieldDefn(field_name, kind))
    return dataset, layer


def export_events_gpkg(store: Any, fids: Sequence[int], path: Path | str, epsg: int,
                       progress: Progress = None) -> int:
    """GeoPackage point layer "events" with every stored attribute; returns the row count."""
    from osgeo import ogr

    path = Path(path)
    fields = [(c, ogr.OFTString) for c in EVENT_COLUMNS if c not in ("fid", "x", "y")]
    fields.insert(0, ("est_fid", ogr.OFTInteger64))
    dataset, layer = _ogr_layer(path, "events", epsg, ogr.wkbPoint, fields)
    definition = layer.GetLayerDefn()
    written = 0
    layer.StartTransaction()
    for event in events_by_fid(store, fids, progress):
        feature = ogr.Feature(definition)
        feature.SetField("est_fid", int(event.fid or 0))
        for column in EVENT_COLUMNS:
            if column not in ("fid", "x", "y"):
                feature.SetField(column, str(_value(event, column)))
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(float(event.x), float(event.y))
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
        written += 1
    layer.CommitTransaction()
    dataset.FlushCache()
    del layer, dataset  # closes the file
    return written


HOTSPOT_COLUMNS = ("row", "col", "count", "z", "p", "class", "class_key")


def hotspot_records(result: HotspotResult, only_significant: bool = False, suppress_below: int = 0) -> List[dict]:
    """Cells with events or a significant class (empty insignificant cells carry no news).

    *suppress_below*: a cell with fewer events than this keeps its place and class but not its
    count (None), as official statistics do, so a published map cannot single out a household.
    """
    records = [r for r in result.cells_wkt(only_significant=only_significant) if r["count"] > 0 or r["class"] != 0]
    for record in records:
        if 0 < record["count"] < suppress_below:
            record["count"] = None
    return records


def suppressed_text(value: Any, suppress_below: int) -> Any:
    """How a suppressed count reads in a table: "<3"."""
    return f"<{suppress_below}" if value is None else value


def export_hotspots_csv(result: HotspotResult, path: Path | str, only_significant: bool = False,
                        suppress_below: int = 0) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = hotspot_records(result, only_significant, suppress_below)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HOTSPOT_COLUMNS, "wkt"])
        for record in records:
            row = [suppressed_text(record[c], suppress_below) if c == "count" else record[c] for c in HOTSPOT_COLUMNS]
            writer.writerow([spreadsheet_safe(value) for value in row] + [record["wkt"]])
    return len(records)


def export_hotspots_gpkg(result: HotspotResult, path: Path | str, epsg: int, only_significant: bool = False,
                         suppress_below: int = 0) -> int:
    """Polygon layer "hotspot_cells" (Gi* z, p, class per cell)."""
    from osgeo import ogr

    types = {"row": ogr.OFTInteger, "col": ogr.OFTInteger, "count": ogr.OFTReal, "z": ogr.OFTReal,
             "p": ogr.OFTReal, "class": ogr.OFTInteger, "class_key": ogr.OFTString}
    dataset, layer = _ogr_layer(Path(path), "hotspot_cells", epsg, ogr.wkbPolygon,
                                [(c, types[c]) for c in HOTSPOT_COLUMNS])
    definition = layer.GetLayerDefn()
    records = hotspot_records(result, only_significant, suppress_below)
    layer.StartTransaction()
    for record in records:
        feature = ogr.Feature(definition)
        for column in HOTSPOT_COLUMNS:
            if record[column] is None:
                feature.SetFieldNull(column)  # a suppressed small count
            else:
                feature.SetField(column, record[column])
        feature.SetGeometry(ogr.CreateGeometryFromWkt(str(record["wkt"])))
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    dataset.FlushCache()
    del layer, dataset  # closes the file
    return len(records)


def export_density_geotiff(grid: DensityGrid, path: Path | str, epsg: int) -> Path:
    """The heat map's values (float32, same grid as QGIS's KDE) as a GeoTIFF."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return Path(grid.to_geotiff(str(path), epsg))
