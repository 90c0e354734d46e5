"""The GeoPackage backend: a single file, written with SQLite transactions.

SQLite (through Python's sqlite3) gives real transactions, fast bulk inserts and columnar reads
without OGR's per-feature overhead; the file stays a standard GeoPackage that QGIS and GDAL open
as a layer (``gpkg_contents``, ``gpkg_geometry_columns``, R-tree spatial index).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import schema
from ..errors import DatabaseUnavailable, EstError, SchemaError
from ..model import EventColumns, Status
from ..reference import municipality
from ..validation import Extent
from .base import EventStore, StoreSettings, columns_from_arrays

_HEADER = struct.Struct("<2sBBi")  # magic, version, flags, srs_id
_POINT = struct.Struct("<BIdd")  # WKB: byte order, type, x, y
_FLAGS_LE_NO_ENVELOPE = 0b00000001
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = {0x47504B47, 0x47503130}  # 'GPKG', 'GP10'


def encode_point(x: float, y: float, srid: int) -> bytes:
    """A GeoPackage geometry blob for a 2-D point (no envelope, little-endian)."""
    return _HEADER.pack(b"GP", 0, _FLAGS_LE_NO_ENVELOPE, srid) + _POINT.pack(1, 1, x, y)


def _geometry_wkb(blob: bytes) -> memoryview:
    if blob is None or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    flags = blob[3]
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111, 0)
    return memoryview(blob)[8 + envelope:]


def decode_point(blob: bytes) -> tuple[float, float]:
    wkb = _geometry_wkb(blob)
    little = wkb[0] == 1
    x, y = struct.unpack_from("<dd" if little else ">dd", wkb, 5)
    return x, y


def _envelope(blob: bytes) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a point blob — what the R-tree triggers need."""
    if blob is None:
        return None
    try:
        x, y = decode_point(blob)
    except (ValueError, struct.error):
        return None
    return (x, x, y, y)


def _register_gpkg_functions(conn: sqlite3.Connection) -> None:
    """ST_* functions the GeoPackage R-tree triggers call (GDAL defines them in its own driver)."""
    conn.create_function("ST_IsEmpty", 1, lambda g: 1 if _envelope(g) is None else 0, deterministic=True)
    for index, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(
            name, 1, lambda g, i=index: (_envelope(g) or (None,) * 4)[i], deterministic=True
        )


class GeoPackageStore(EventStore):
    dialect = schema.GPKG

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        super().__init__(connection, str(path))
        self.path = path
        self._srid: int | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, path: str | Path, *, epsg: int = schema.DEFAULT_EPSG, municipality_name: str | None = None,
               extent: Extent | None = None, seed: bool = True) -> GeoPackageStore:
        """A new, ready EST GeoPackage: schema, default categories and organisations."""
        path = Path(path)
        if path.exists():
            raise EstError("exists", path=str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        town = municipality()
        settings = StoreSettings(
            municipality=municipality_name or town["name"],
            extent=extent or Extent(*town["extent"]),
            epsg=epsg,
        )
        conn = cls._connect(path)
        store = cls(conn, path)
        try:
            conn.execute("PRAGMA application_id = 1196444487")  # 'GPKG'
            conn.execute("PRAGMA user_version = 10300")  # GeoPackage 1.3
            store._settings = settings
            store._create_schema(settings, seed=seed)
        except BaseException:
            conn.close()
            path.unlink(missing_ok=True)
            raise
        return store

    def _create_schema(self, settings: StoreSettings, *, seed: bool, target: int | None = None) -> None:
        """Apply migrations up to *target* (latest by default) on an empty file."""
        from ..version import plugin_version

        values = self._migration_values()
        with self.transaction() as cursor:
            for migration in schema.MIGRATIONS:
                if target is not None and migration.version > target:
                    break
                for statement in schema.statements(migration, self.dialect, **values):
                    cursor.execute(statement)
                cursor.execute(
                    "INSERT INTO schema_version (version, description, plugin_version, applied_at) VALUES (?,?,?,?)",
                    (migration.version, migration.description, plugin_version(), self._timestamp(dt.datetime.now(dt.timezone.utc))),
                )
            self._write_settings(cursor, settings)
            if seed:
                self._seed_reference_data(cursor)

    def _migration_values(self) -> dict[str, str]:
        from osgeo import osr

        epsg = self.settings.epsg
        reference = osr.SpatialReference()
        reference.ImportFromEPSG(epsg)
        quote = lambda text: "'" + text.replace("'", "''") + "'"  # noqa: E731
        return {
            "srid": str(epsg),
            "srs_name": quote(reference.GetName() or f"EPSG:{epsg}"),
            "srs_wkt": quote(reference.ExportToWkt()),
        }

    @classmethod
    def open(cls, path: str | Path, *, migrate: bool = True) -> GeoPackageStore:
        """Open an existing EST GeoPackage, upgrading its schema if it is older."""
        path = Path(path)
        if not path.exists():
            raise DatabaseUnavailable("file_missing", path=str(path))
        cls._check_file(path)
        conn = cls._connect(path)
        store = cls(conn, path)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"schema_version", "events", "est_settings"} <= tables:
                raise SchemaError("not_est_store", path=str(path))
            if migrate:
                store._check_and_migrate()
            elif store.schema_version() > schema.LATEST_VERSION:
                raise SchemaError("schema_newer", found=store.schema_version(), supported=schema.LATEST_VERSION)
        except sqlite3.DatabaseError as error:
            conn.close()
            raise SchemaError("not_gpkg", path=str(path)) from error
        except BaseException:
            conn.close()
            raise
        return store

    @staticmethod
    def _check_file(path: Path) -> None:
        try:
            with open(path, "rb") as handle:
                header = handle.read(100)
        except OSError as error:
            raise DatabaseUnavailable("db_unreachable", detail=str(error)) from error
        if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
            raise SchemaError("not_gpkg", path=str(path))
        application_id = struct.unpack(">I", header[68:72])[0]
        if application_id not in _GPKG_APPLICATION_IDS:
            raise SchemaError("not_gpkg", path=str(path))

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=15, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as error:
            raise DatabaseUnavailable("db_unreachable", detail=str(error)) from error
        _register_gpkg_functions(conn)
        return conn

    # ------------------------------------------------------------------ dialect hooks
    def _table(self, name: str) -> str:
        return name

    def _sql(self, sql: str) -> str:
        return sql

    @property
    def srid(self) -> int:
        if self._srid is None:
            self._srid = self.settings.epsg
        return self._srid

    def _point_param_sql(self) -> str:
        return "?"

    def _point_params(self, x: float, y: float) -> tuple[Any, ...]:
        return (encode_point(float(x), float(y), self.srid),)

    def _point_select_sql(self) -> str:
        return "geom"

    def _point_width(self) -> int:
        return 1

    def _decode_point(self, values: Sequence[Any]) -> tuple[float, float]:
        return decode_point(values[0])

    def _begin(self, cursor: Any) -> None:
        cursor.execute("BEGIN IMMEDIATE")

    def _is_connection_error(self, error: Exception) -> bool:
        text = str(error).lower()
        return isinstance(error, sqlite3.OperationalError) and (
            "locked" in text or "unable to open" in text or "disk i/o" in text or "readonly" in text
        ) or isinstance(error, sqlite3.ProgrammingError) and "closed" in text

    def _near_sql(self) -> str:
        return "fid IN (SELECT id FROM rtree_events_geom WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)"

    def _near_params(self, x: float, y: float, radius: float) -> tuple[Any, ...]:
        return (x + radius, x - radius, y + radius, y - radius)

    def layer_uri(self, table: str = "events") -> tuple[str, str]:
        return f"{self.path}|layername={table}", "ogr"

    # ------------------------------------------------------------------ bulk insert
    def _before_bulk(self, cursor: Any) -> None:
        # Per-row R-tree triggers would call back into Python for every point; the index is
        # filled in one pass instead, inside the same transaction.
        cursor.execute("DROP TRIGGER IF EXISTS rtree_events_geom_insert")
        cursor.execute("SELECT coalesce(max(fid), 0) FROM events")
        self._bulk_first_fid = int(cursor.fetchone()[0]) + 1

    def _bulk_insert_rows(self, rows: list[tuple[Any, ...]]) -> None:
        self._conn.executemany(self._insert_sql(), rows)

    def _after_bulk(self, cursor: Any) -> None:
        fids, x, y = self._points_since(cursor, self._bulk_first_fid)
        cursor.executemany(
            "INSERT OR REPLACE INTO rtree_events_geom VALUES (?, ?, ?, ?, ?)",
            zip(fids.tolist(), x.tolist(), x.tolist(), y.tolist(), y.tolist()),
        )
        cursor.execute(schema.gpkg_rtree_insert_trigger("events", "geom"))
        cursor.execute(
            "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now'), "
            "min_x = (SELECT min(minx) FROM rtree_events_geom), max_x = (SELECT max(maxx) FROM rtree_events_geom), "
            "min_y = (SELECT min(miny) FROM rtree_events_geom), max_y = (SELECT max(maxy) FROM rtree_events_geom) "
            "WHERE table_name = 'events'"
        )

    def _points_since(self, cursor: Any, first_fid: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cursor.execute("SELECT fid, geom FROM events WHERE fid >= ? ORDER BY fid", (first_fid,))
        rows = cursor.fetchall()
        if not rows:
            empty = np.zeros(0)
            return empty.astype(np.int64), empty, empty
        fids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        x, y = _points_from_blobs([r[1] for r in rows])
        return fids, x, y

    # ------------------------------------------------------------------ columnar read
    def load_columns(self, status: Status | None = Status.APPROVED) -> EventColumns:
        """All events of *status* as numpy columns, in two SQL aggregates.

        SQLite concatenates the point coordinates (raw bytes) and the other fields (hex) into
        one value each, so Python touches two objects instead of millions of rows.
        """
        categories = [c.code for c in self.categories()]
        organisations = [o.code for o in self.organisations()]
        cat_lut = _rowid_lut(self._query("SELECT rowid, code FROM categories"), categories)
        org_lut = _rowid_lut(self._query("SELECT rowid, code FROM organisations"), organisations)
        where = "WHERE e.status = ?" if status is not None else ""
        params = (Status(status).value,) if status is not None else ()
        minute = "(CAST(substr({c},1,2) AS INTEGER)*60 + CAST(substr({c},4,2) AS INTEGER))"
        minute_from = "coalesce(" + minute.format(c="e.time_from") + ", -1)"
        minute_to = "coalesce(" + minute.format(c="e.time_to") + ", " + minute_from + ")"
        sql = f"""
            SELECT count(*),
                   group_concat(substr(e.geom, 14, 16), ''),
                   group_concat(printf('%016x%04x%04x%04x%04x%04x', e.fid,
                        CAST(julianday(e.event_date) - 2440587.5 AS INTEGER),
                        {minute_from} + 1, {minute_to} + 1, c.rowid, o.rowid), ''),
                   sum(length(e.geom) <> 29 OR substr(e.geom, 4, 1) <> X'01')
            FROM events e JOIN categories c ON c.code = e.category
                          JOIN organisations o ON o.code = e.organisation
            {where}"""
        previous = self._conn.text_factory
        self._conn.text_factory = bytes
        try:
            with self._cursor() as cursor:
                cursor.execute(sql, params)
                count, coords, packed, irregular = cursor.fetchone()
        finally:
            self._conn.text_factory = previous
        if not count:
            return EventColumns.empty(categories, organisations)
        if irregular:
            return self._load_columns_slow(status, categories, organisations, cat_lut, org_lut)
        xy = np.frombuffer(coords, dtype="<f8").reshape(count, 2)
        fields = np.frombuffer(bytes.fromhex(packed.decode("ascii")), dtype=np.dtype(
            [("fid", ">i8"), ("day", ">u2"), ("mf", ">u2"), ("mt", ">u2"), ("cat", ">u2"), ("org", ">u2")]
        ))
        return columns_from_arrays(fields["fid"], xy[:, 0], xy[:, 1], fields["day"], fields["mf"], fields["mt"],
                        cat_lut[fields["cat"]], org_lut[fields["org"]], categories, organisations)

    def _load_columns_slow(self, status: Status | None, categories: list[str], organisations: list[str],
                           cat_lut: np.ndarray, org_lut: np.ndarray) -> EventColumns:
        """Row by row, for files where another program wrote points with envelopes or big-endian."""
        events = self.events(status)
        index_cat = {code: i for i, code in enumerate(categories)}
        index_org = {code: i for i, code in enumerate(organisations)}
        from ..model import day_number, minute_of_day

        mf = np.array([minute_of_day(e.time_from) + 1 for e in events])
        mt = np.array([minute_of_day(e.time_to or e.time_from) + 1 for e in events])
        return columns_from_arrays(
            np.array([e.fid for e in events]), np.array([e.x for e in events]), np.array([e.y for e in events]),
            np.array([day_number(e.event_date) for e in events]), mf, mt,
            np.array([index_cat[e.category] for e in events]), np.array([index_org[e.organisation] for e in events]),
            categories, organisations,
        )


def _rowid_lut(rows: list[tuple[int, Any]], codes: list[str]) -> np.ndarray:
    """rowid → position of the code in *codes*."""
    position = {code: i for i, code in enumerate(codes)}
    lut = np.full(max((r[0] for r in rows), default=0) + 1, -1, dtype=np.int16)
    for rowid, code in rows:
        code = code.decode() if isinstance(code, bytes) else code
        lut[rowid] = position.get(code, -1)
    return lut


def _points_from_blobs(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    joined = b"".join(blobs)
    if len(joined) == 29 * len(blobs):
        raw = np.frombuffer(joined, dtype=np.uint8).reshape(-1, 29)
        xy = np.ascontiguousarray(raw[:, 13:29]).view("<f8")
        return xy[:, 0].copy(), xy[:, 1].copy()
    pairs = np.array([decode_point(b) for b in blobs], dtype=np.float64)
    return pairs[:, 0], pairs[:, 1]
