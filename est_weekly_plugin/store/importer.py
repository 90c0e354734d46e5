"""Import events from files (CSV, Excel, GeoPackage, Shapefile, GeoJSON …) into the store.

geopandas is optional in a stock QGIS (e.g. on Windows): it is looked for only when an import
starts, and its absence is a clear message in the user's language, never an error at plugin
load. Rows are mapped by column name (Swedish or English), category labels are accepted as
well as codes, coordinates are reprojected from the file's CRS, and the whole file goes in
through ``insert_batch``: validated first, all rows or none.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
from qgis.core import QgsTask

from ..domain.errors import EstError
from ..domain.model import Status
from ..domain.privacy import scan_texts
from . import EventStore
from .batch import EventBatch

# Accepted column names (lower case) for each event field.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "category": ("category", "kategori", "händelsetyp"),
    "organisation": ("organisation", "organization", "rapporterande organisation", "org"),
    "event_date": ("event_date", "date", "datum"),
    "time_from": ("time_from", "time", "tid", "tid_från", "tid_fran", "från", "fran"),
    "time_to": ("time_to", "tid_till", "till"),
    "place_name": ("place_name", "place", "plats", "platsnamn"),
    "description": ("description", "beskrivning", "text"),
    "reporter": ("reporter", "rapportör", "rapportor"),
    "status": ("status",),
    "x": ("x", "e", "easting", "e_sweref99tm", "lon", "lng", "longitude"),
    "y": ("y", "n", "northing", "n_sweref99tm", "lat", "latitude"),
}
_DEGREE_COLUMNS = {"lon", "lng", "longitude", "lat", "latitude"}


def geopandas_available() -> bool:
    try:
        import geopandas  # noqa: F401
    except ImportError:
        return False
    return True


def _require_geopandas() -> Any:
    try:
        import geopandas
    except ImportError as error:
        raise EstError("geopandas_missing") from error
    return geopandas


def _find(columns: list[str], field: str) -> str | None:
    lower = {c.lower().strip(): c for c in columns}
    for alias in COLUMN_ALIASES[field]:
        if alias in lower:
            return lower[alias]
    return None


def read_events_file(path: str | Path, store: EventStore, *, layer: str | None = None,
                     default_status: Status = Status.SUBMITTED) -> EventBatch:
    """The rows of *path* as an EventBatch in the store's CRS (not yet validated or written)."""
    geopandas = _require_geopandas()
    import pandas

    path = Path(path)
    if not path.exists():
        raise EstError("file_missing", path=str(path))
    epsg = store.settings.epsg
    try:
        if path.suffix.lower() in (".csv", ".txt"):
            frame = pandas.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
        elif path.suffix.lower() in (".xlsx", ".xls"):
            frame = pandas.read_excel(path, dtype=str)
        else:
            frame = geopandas.read_file(path, layer=layer)
    except Exception as error:  # noqa: BLE001 - any reader failure is a broken file for the user
        raise EstError("import_unreadable", path=path.name, detail=str(error).splitlines()[0][:160]) from error

    if isinstance(frame, geopandas.GeoDataFrame) and frame.geometry is not None and len(frame):
        if frame.crs is not None and frame.crs.to_epsg() != epsg:
            frame = frame.to_crs(epsg=epsg)
        x, y = frame.geometry.x.to_numpy(float), frame.geometry.y.to_numpy(float)
    else:
        x_column, y_column = _find(list(frame.columns), "x"), _find(list(frame.columns), "y")
        if x_column is None or y_column is None:
            raise EstError("import_no_coordinates", path=path.name)
        x = pandas.to_numeric(frame[x_column].astype(str).str.replace(",", "."), errors="coerce").to_numpy(float)
        y = pandas.to_numeric(frame[y_column].astype(str).str.replace(",", "."), errors="coerce").to_numpy(float)
        if x_column.lower() in _DEGREE_COLUMNS:
            x, y = _from_wgs84(x, y, epsg)
    return _batch(frame, x, y, store, default_status)


def _from_wgs84(lon: np.ndarray, lat: np.ndarray, epsg: int) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    transformer = Transformer.from_crs(4326, epsg, always_xy=True)
    return transformer.transform(lon, lat)


def _text(frame: Any, field: str, size: int) -> list[str]:
    column = _find(list(frame.columns), field)
    if column is None:
        return [""] * size
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() for v in frame[column]]


def _minutes(values: list[str]) -> np.ndarray:
    minutes = np.full(len(values), -1, dtype=np.int16)
    for index, value in enumerate(values):
        if value:
            try:
                parsed = dt.time.fromisoformat(value.replace(".", ":").zfill(5)[:5])
            except ValueError as error:
                raise EstError("bad_value", field=f"tid (rad {index + 1})", value=value[:20]) from error
            minutes[index] = parsed.hour * 60 + parsed.minute
    return minutes


# What a status column may say. Imported rows enter as submitted for the reviewer; "approved" is
# honoured only when an administrator marked the import source as trusted.
_IMPORT_STATUSES = {"": None, "submitted": Status.SUBMITTED, "inskickad": Status.SUBMITTED,
                    "approved": Status.APPROVED, "godkänd": Status.APPROVED, "godkand": Status.APPROVED}


def _statuses(values: list[str], default_status: Status, trusted: bool) -> list[str]:
    unknown = [(row, value) for row, value in enumerate(values) if value.strip().lower() not in _IMPORT_STATUSES]
    if unknown:
        rows = ", ".join(str(row + 2) for row, _value in unknown[:20]) + (" …" if len(unknown) > 20 else "")
        shown = ", ".join(sorted({value for _row, value in unknown})[:5])
        raise EstError("import_bad_status", rows=rows, values=shown[:120], count=len(unknown))
    result = []
    for value in values:
        status = _IMPORT_STATUSES[value.strip().lower()] or default_status
        result.append(status.value if trusted or status != Status.APPROVED else Status.SUBMITTED.value)
    return result


def _batch(frame: Any, x: np.ndarray, y: np.ndarray, store: EventStore, default_status: Status) -> EventBatch:
    trusted = store.source_trusted("import")
    import pandas

    size = len(frame)
    by_label: dict[str, str] = {}
    for category in store.categories():
        for key in (category.code, category.label_sv, category.label_en):
            by_label[key.lower()] = category.code
    organisations: dict[str, str] = {}
    for organisation in store.organisations():
        for key in (organisation.code, organisation.name_sv, organisation.name_en):
            organisations[key.lower()] = organisation.code
    categories = np.array([by_label.get(v.lower(), v) for v in _text(frame, "category", size)], dtype=object)
    orgs = np.array([organisations.get(v.lower(), v) for v in _text(frame, "organisation", size)], dtype=object)
    raw_dates = pandas.to_datetime(pandas.Series(_text(frame, "event_date", size)), errors="coerce", dayfirst=False)
    statuses = np.array(_statuses(_text(frame, "status", size), default_status, trusted), dtype=object)
    return EventBatch(
        x=np.asarray(x, dtype=np.float64), y=np.asarray(y, dtype=np.float64), category=categories, organisation=orgs,
        event_date=raw_dates.to_numpy().astype("datetime64[D]"),
        minute_from=_minutes(_text(frame, "time_from", size)), minute_to=_minutes(_text(frame, "time_to", size)),
        place_name=_text(frame, "place_name", size), description=_text(frame, "description", size),
        reporter=_text(frame, "reporter", size), status=statuses,
        personal_data=_scan(frame, size),
    )


def _scan(frame: Any, size: int) -> list[str]:
    """Privacy flags of every row: its place name, description and every other text column."""
    known = {column for aliases in COLUMN_ALIASES.values() for column in aliases}
    extra = [c for c in frame.columns if str(c).lower() not in known and frame[c].dtype == object]
    rows = [_text(frame, "place_name", size), _text(frame, "description", size)]
    rows += [[str(v) if v is not None else "" for v in frame[c].tolist()] for c in extra]
    return scan_texts(["\n".join(parts) for parts in zip(*rows)])


def import_events(path: str | Path, store: EventStore, *, layer: str | None = None,
                  progress: Any = None, today: dt.date | None = None) -> int:
    """Read and insert a whole file, all rows or none; returns how many were written."""
    batch = read_events_file(path, store, layer=layer)
    return store.insert_batch(batch, today=today, progress=progress, source="import")


class ImportTask(QgsTask):
    """Background import with QGIS's progress bar and cancel button.

    ``run()`` only touches the store through its own connection (opened here from the source
    description), never widgets or the project; the caller reacts in ``finished``.
    """

    def __init__(self, path: str | Path, open_store: Any, description: str) -> None:
        super().__init__(description, QgsTask.CanCancel)
        self.path = Path(path)
        self.open_store = open_store
        self.written = 0
        self.error: EstError | None = None

    def run(self) -> bool:
        store = None
        try:
            store = self.open_store()  # inside: an unreachable database is reported as such
            def progress(fraction: float) -> bool:
                self.setProgress(100 * fraction)
                return not self.isCanceled()

            self.written = import_events(self.path, store, progress=progress)
            return True
        except EstError as error:
            self.error = error
            return False
        finally:
            if store is not None:
                store.close()
