"""Reading a file or a project layer into plain text columns, with what a stock QGIS has: GDAL/OGR.

Why OGR and not geopandas: OGR is the library QGIS's own "ogr" provider reads with, and it ships
with every QGIS (osgeo is part of it), so CSV, Excel, GeoPackage, GeoJSON and Shapefile read the
same on Windows as here. Large files go through OGR's Arrow stream (GDAL >= 3.6): whole columns as
numpy arrays, no Python loop over a million features. Layers already in the project are read
feature by feature through QGIS itself.

A CSV is decoded in the user's encoding: strict UTF-8 first, else Windows-1252 (Excel's "CSV" on a
Swedish Windows). Everything comes back as text; the mapping step parses dates and numbers so it
can report each bad value with its row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...domain.errors import EstError

# What the wizard offers; "auto" is strict UTF-8 when the bytes allow, else Windows-1252.
ENCODINGS = ("auto", "utf-8", "cp1252")
FILE_FILTER = "*.csv *.txt *.xlsx *.gpkg *.geojson *.json *.shp"
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_BLANKS = (" ", "\t", "\r", "\n", "\u00a0")


@dataclass
class SourceTable:
    """A source's rows as text columns (one list of str per column) and, when it has geometries,
    each row's point (a polygon's centroid) in the source's CRS; NaN where a row has none."""

    name: str
    columns: dict[str, list[str]]
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    crs: str = ""  # authority id of the geometries ("EPSG:4326"), "" without geometries
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    row_offset: int = 1  # the number the user sees for the first row (2 in a spreadsheet: after its header)

    def __len__(self) -> int:
        first = next(iter(self.columns.values()), None)
        return len(first) if first is not None else (0 if self.x is None else int(self.x.size))

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    @property
    def has_geometry(self) -> bool:
        return self.x is not None

    def head(self, count: int) -> SourceTable:
        """The first *count* rows (the wizard's preview works on these)."""
        cut = slice(0, count)
        return SourceTable(self.name, {k: v[cut] for k, v in self.columns.items()},
                           None if self.x is None else self.x[cut], None if self.y is None else self.y[cut],
                           self.crs, self.encoding, list(self.notes), self.row_offset)


def detect_encoding(path: str | Path) -> str:
    """'utf-8' when the whole file is valid UTF-8 (a BOM included), else 'cp1252'."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def read_source(path: str | Path, *, layer: str | None = None, encoding: str = "auto",
                is_cancelled: Callable[[], bool] | None = None) -> SourceTable:
    """The rows of a file: JSON feeds (police, Open311), GeoJSON, CSV, Excel, GeoPackage, Shapefile."""
    path = Path(path)
    if not path.exists():
        raise EstError("file_missing", path=str(path))
    suffix = path.suffix.lower()
    if suffix == ".json" or suffix == ".geojson":
        records = _json_records(path)
        if records is not None:
            return _table_from_records(path.stem, records)
    chosen = encoding
    if suffix in _TEXT_SUFFIXES:
        chosen = detect_encoding(path) if encoding == "auto" else encoding
    return _read_ogr(path, layer, chosen, is_cancelled)


def _json_records(path: Path) -> list[dict[str, Any]] | None:
    """A JSON array of objects (the police's events API, Open311 GeoReport v2); None for GeoJSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise EstError("import_unreadable", path=path.name, detail=str(error)[:160]) from error
    if isinstance(data, dict) and data.get("type") in ("FeatureCollection", "Feature"):
        return None
    if isinstance(data, dict):  # some services wrap the list: {"service_requests": [...]}
        data = next((value for value in data.values() if isinstance(value, list)), None)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise EstError("import_unreadable", path=path.name, detail="JSON: no list of records")
    return data


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """{"location": {"name": …}} → {"location.name": …}; values as text."""
    flat: dict[str, str] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = "" if value is None else str(value)
    return flat


def _table_from_records(name: str, records: list[dict[str, Any]]) -> SourceTable:
    flat = [_flatten(record) for record in records]
    names = list(dict.fromkeys(key for row in flat for key in row))
    return SourceTable(name, {key: [row.get(key, "") for row in flat] for key in names})


def _open_options(path: Path) -> tuple[str, list[str]]:
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        return (f"CSV:{path}" if suffix != ".csv" else str(path)), ["AUTODETECT_TYPE=NO", "EMPTY_STRING_AS_NULL=NO"]
    return str(path), []


# Excel and ODS: the first row names the columns and every cell is read as text (GDAL 3.6 takes these
# as configuration options only; thread-local, so a read in a task changes nothing elsewhere)
_SPREADSHEET_OPTIONS = {"OGR_XLSX_HEADERS": "FORCE", "OGR_XLSX_FIELD_TYPES": "STRING",
                        "OGR_ODS_HEADERS": "FORCE", "OGR_ODS_FIELD_TYPES": "STRING"}


def _read_ogr(path: Path, layer: str | None, encoding: str,
              is_cancelled: Callable[[], bool] | None) -> SourceTable:
    from osgeo import gdal

    gdal.UseExceptions()
    memory = ""
    utf8 = encoding.lower().replace("-", "") in ("utf8", "utf8sig")
    if path.suffix.lower() in _TEXT_SUFFIXES and (not utf8 or detect_encoding(path) != "utf-8"):
        # OGR hands text over as bytes and its Arrow export needs valid UTF-8 (column names included):
        # the file is re-encoded once, in GDAL's in-memory file system (undecodable bytes become "�",
        # which the mapping reports as a wrong encoding)
        memory = f"/vsimem/est_import_{id(path)}.csv"
        gdal.FileFromMemBuffer(memory, path.read_bytes().decode(encoding, errors="replace").encode("utf-8"))
    previous = {key: gdal.GetThreadLocalConfigOption(key, None) for key in _SPREADSHEET_OPTIONS}
    try:
        for key, value in _SPREADSHEET_OPTIONS.items():  # the drivers read them lazily: kept for the whole read
            gdal.SetThreadLocalConfigOption(key, value)
        table = _read_dataset(Path(memory) if memory else path, path.name, layer, is_cancelled)
    finally:
        for key, value in previous.items():
            gdal.SetThreadLocalConfigOption(key, value)
        if memory:
            gdal.Unlink(memory)
    table.name = path.stem
    table.encoding = encoding
    table.row_offset = 2 if path.suffix.lower() in (*_TEXT_SUFFIXES, ".xlsx", ".ods") else 1
    return table


def _read_dataset(path: Path, shown: str, layer: str | None, is_cancelled: Callable[[], bool] | None) -> SourceTable:
    from osgeo import gdal

    name, options = _open_options(path)
    try:
        dataset = gdal.OpenEx(name, gdal.OF_VECTOR | gdal.OF_READONLY, open_options=options)
    except RuntimeError as error:
        raise EstError("import_unreadable", path=shown, detail=str(error).splitlines()[0][:160]) from error
    if dataset is None or dataset.GetLayerCount() == 0:
        raise EstError("import_unreadable", path=shown, detail="no layer")
    source = dataset.GetLayerByName(layer) if layer else dataset.GetLayer(0)
    if source is None:
        raise EstError("import_unreadable", path=shown, detail=f"no layer {layer}")
    try:
        return _read_ogr_layer(source, path.stem, is_cancelled)
    except RuntimeError as error:
        raise EstError("import_unreadable", path=shown, detail=str(error).splitlines()[0][:160]) from error


def layer_names(path: str | Path) -> list[str]:
    """The layers of a multi-layer file (GeoPackage), for the wizard's choice."""
    from osgeo import gdal

    gdal.UseExceptions()
    path = Path(path)
    if path.suffix.lower() in (".json", ".geojson") + _TEXT_SUFFIXES:
        return []
    try:
        dataset = gdal.OpenEx(str(path), gdal.OF_VECTOR | gdal.OF_READONLY)
    except RuntimeError:
        return []
    return [dataset.GetLayer(i).GetName() for i in range(dataset.GetLayerCount())]


def _arrow_batches(source: Any, fields: list[str], geometry_name: str, has_geometry: bool,
                   is_cancelled: Callable[[], bool] | None) -> tuple[dict[str, list[np.ndarray]], list[np.ndarray]]:
    """Whole columns through OGR's Arrow stream (GDAL >= 3.6), else feature by feature (older GDAL)."""
    parts: dict[str, list[np.ndarray]] = {f: [] for f in fields}
    wkb: list[np.ndarray] = []
    if not hasattr(source, "GetArrowStreamAsNumPy"):
        return _feature_batches(source, fields, has_geometry, is_cancelled)
    for batch in source.GetArrowStreamAsNumPy(options=["USE_MASKED_ARRAYS=NO", "INCLUDE_FID=NO"]):
        if is_cancelled is not None and is_cancelled():
            raise EstError("cancelled")
        for column in fields:
            parts[column].append(batch[column])
        if has_geometry:
            wkb.append(batch[geometry_name])
    return parts, wkb


def _feature_batches(source: Any, fields: list[str], has_geometry: bool,
                     is_cancelled: Callable[[], bool] | None) -> tuple[dict[str, list[np.ndarray]], list[np.ndarray]]:
    values: dict[str, list[Any]] = {f: [] for f in fields}
    wkb: list[Any] = []
    for number, feature in enumerate(source):
        if number % 10_000 == 0 and is_cancelled is not None and is_cancelled():
            raise EstError("cancelled")
        for index, column in enumerate(fields):
            values[column].append(feature.GetFieldAsString(index) if feature.IsFieldSetAndNotNull(index) else "")
        if has_geometry:
            geometry = feature.GetGeometryRef()
            wkb.append(bytes(geometry.ExportToWkb(1)) if geometry is not None else None)
    parts = {column: [np.array(v, dtype=object)] for column, v in values.items()}
    return parts, [np.array(wkb, dtype=object)] if has_geometry else []


def _read_ogr_layer(source: Any, name: str, is_cancelled: Callable[[], bool] | None) -> SourceTable:
    """All features of an OGR layer: text columns + points."""
    definition = source.GetLayerDefn()
    fields = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
    geometry_name = source.GetGeometryColumn() or "wkb_geometry"
    has_geometry = definition.GetGeomFieldCount() > 0
    parts, wkb = _arrow_batches(source, fields, geometry_name, has_geometry, is_cancelled)
    columns = {column: _decode(parts.pop(column), "utf-8") for column in fields}  # each raw column freed once decoded
    table = SourceTable(name, columns)
    if has_geometry:
        table.x, table.y = _points(np.concatenate(wkb) if wkb else np.zeros(0, object))
        reference = source.GetSpatialRef()
        table.crs = _authid(reference)
    return table


def _authid(reference: Any) -> str:
    if reference is None:
        return ""
    reference.AutoIdentifyEPSG()
    code, authority = reference.GetAuthorityCode(None), reference.GetAuthorityName(None)
    return f"{authority}:{code}" if code and authority else reference.ExportToWkt()


def _decode(parts: list[np.ndarray], encoding: str) -> list[str]:
    """One text column from Arrow batches: bytes decoded once per distinct value when values repeat."""
    if not parts:
        return []
    values = np.concatenate(parts) if len(parts) > 1 else parts[0]
    if values.dtype.kind == "U":
        return values.tolist()
    if values.dtype.kind != "S" and values.dtype != object:
        return [str(v) for v in values.tolist()]
    raw = values.tolist()
    if values.dtype.kind == "S" and raw:
        # the whole column in three C calls: join, decode, split (text never holds NUL; checked by the count)
        texts = b"\x00".join(raw).decode(encoding, errors="replace").split("\x00")
        if len(texts) == len(raw):
            return [t.strip() for t in texts] if _padded(texts) else texts
    distinct = set(raw)
    if len(distinct) * 4 < len(raw):  # categories, dates, organisations: decode each value once
        lookup = {value: _text(value, encoding) for value in distinct}
        return [lookup[value] for value in raw]
    return [_text(value, encoding) for value in raw]


def _padded(texts: list[str]) -> bool:
    """Whether some value starts or ends with a blank (substring searches over the joined column: fast)."""
    joined = "\x00" + "\x00".join(texts) + "\x00"
    return any(f"\x00{blank}" in joined or f"{blank}\x00" in joined for blank in _BLANKS)


def _text(value: Any, encoding: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode(encoding, errors="replace").strip()
    return str(value).strip()


def _points(wkb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x, y of WKB geometries: 2D little-endian points decoded by numpy, anything else by OGR
    (a line's or polygon's centroid stands for it; NaN for an empty geometry)."""
    n = wkb.size
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    lengths = np.fromiter((len(g) if g is not None else 0 for g in wkb.tolist()), dtype=np.int64, count=n)
    simple = lengths == 21
    if simple.any():
        raw = np.frombuffer(b"".join(wkb[simple].tolist()), dtype=np.uint8).reshape(-1, 21)
        little_point = (raw[:, 0] == 1) & (raw[:, 1] == 1) & (raw[:, 2:5] == 0).all(axis=1)
        xy = np.ascontiguousarray(raw[:, 5:21]).view("<f8")
        index = np.flatnonzero(simple)
        x[index[little_point]], y[index[little_point]] = xy[little_point, 0], xy[little_point, 1]
        simple[index[~little_point]] = False
    from osgeo import ogr

    for i in np.flatnonzero(~simple & (lengths > 0)).tolist():
        geometry = ogr.CreateGeometryFromWkb(bytes(wkb[i]))
        if geometry is not None and not geometry.IsEmpty():
            centre = geometry.Centroid() if geometry.GetGeometryType() != ogr.wkbPoint else geometry
            x[i], y[i] = centre.GetX(), centre.GetY()
    return x, y


def read_layer(layer: Any, is_cancelled: Callable[[], bool] | None = None) -> SourceTable:
    """A vector layer already in the project (any provider QGIS reads), feature by feature."""
    fields = [f.name() for f in layer.fields()]
    columns: dict[str, list[str]] = {name: [] for name in fields}
    xs: list[float] = []
    ys: list[float] = []
    spatial = layer.isSpatial()
    for number, feature in enumerate(layer.getFeatures()):
        if number % 10_000 == 0 and is_cancelled is not None and is_cancelled():
            raise EstError("cancelled")
        for name, value in zip(fields, feature.attributes()):
            columns[name].append(_attribute_text(value))
        if spatial:
            geometry = feature.geometry()
            point = None if geometry.isNull() or geometry.isEmpty() else geometry.centroid().asPoint()
            xs.append(point.x() if point is not None else float("nan"))
            ys.append(point.y() if point is not None else float("nan"))
    table = SourceTable(layer.name(), columns)
    if spatial:
        table.x, table.y = np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)
        table.crs = layer.crs().authid() or layer.crs().toWkt()
    return table


def _attribute_text(value: Any) -> str:
    """A QGIS attribute as text (NULL → "", dates as ISO)."""
    if value is None or (hasattr(value, "isNull") and value.isNull()):
        return ""
    if hasattr(value, "toString") and hasattr(value, "isValid"):  # QDate, QDateTime, QTime
        from qgis.PyQt.QtCore import Qt

        return value.toString(Qt.DateFormat.ISODate)
    return str(value).strip()
