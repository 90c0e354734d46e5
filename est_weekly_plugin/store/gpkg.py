"""The GeoPackage backend: a single file, written with SQLite transactions.

SQLite (through Python's sqlite3) gives real transactions, fast bulk inserts and columnar reads
without OGR's per-feature overhead; the file stays a standard GeoPackage that QGIS and GDAL open
as a layer (``gpkg_contents``, ``gpkg_geometry_columns``, R-tree spatial index).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import struct
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..domain.errors import DatabaseUnavailable, EstError, SchemaError
from ..domain.model import EventColumns, Status
from ..domain.reference import municipality
from ..domain.validation import Extent
from . import schema
from .base import SETUP_ACTOR, EventStore, StoreSettings
from .gpkg_bulk import GpkgBulkWrite
from .gpkg_codec import (
    CHAR_INDEX,
    CODE_CHARS,
    GPKG_APPLICATION_IDS,
    POINT_TAIL,
    SQLITE_MAGIC,
    code_case,
    days_from_iso,
    decode_geometry,
    decode_point,
    encode_geometry,
    encode_point,
    minutes,
    network_share,
    register_gpkg_functions,
)
from .privacy_ops import blank_changes, scrub_changes
from .values import columns_from_arrays, columns_of_events, utc_now


class GeoPackageStore(GpkgBulkWrite, EventStore):
    dialect = schema.GPKG

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        super().__init__(connection, str(path))
        self.path = path
        self._srid: int | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, path: str | Path, *, epsg: int = schema.DEFAULT_EPSG, municipality_name: str | None = None,
               extent: Extent | None = None, seed: bool = True, schema_version: int | None = None) -> GeoPackageStore:
        """A new, ready EST GeoPackage: schema, default categories and organisations.

        ``schema_version`` stops at an older schema (migration tests and tooling).
        """
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
            store._create_schema(settings, seed=seed, target=schema_version)
        except BaseException:
            conn.close()
            path.unlink(missing_ok=True)
            raise
        return store

    def _create_schema(self, settings: StoreSettings, *, seed: bool, target: int | None = None) -> None:
        """Apply migrations up to *target* (latest by default) on an empty file."""
        from ..domain.version import plugin_version

        values = self._migration_values()
        with self.transaction() as cursor:
            for migration in schema.MIGRATIONS:
                if target is not None and migration.version > target:
                    break
                for statement in schema.statements(migration, self.dialect, **values):
                    cursor.execute(statement)
                cursor.execute(
                    "INSERT INTO schema_version (version, description, plugin_version, applied_at) VALUES (?,?,?,?)",
                    (migration.version, migration.description, plugin_version(),
                     self._timestamp(dt.datetime.now(dt.timezone.utc))),
                )
            if target is None or target >= 4:  # the audit log is written by the database from v4 on
                self._audit_context(cursor, SETUP_ACTOR)
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

    def reopen(self) -> GeoPackageStore:
        """The same file on a connection of its own: what a background task works on."""
        return GeoPackageStore.open(self.path, migrate=False)

    @staticmethod
    def _check_file(path: Path) -> None:
        try:
            with open(path, "rb") as handle:
                header = handle.read(100)
        except OSError as error:
            raise DatabaseUnavailable("db_unreachable", detail=str(error)) from error
        if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
            raise SchemaError("not_gpkg", path=str(path))
        application_id = struct.unpack(">I", header[68:72])[0]
        if application_id not in GPKG_APPLICATION_IDS:
            raise SchemaError("not_gpkg", path=str(path))

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=15, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as error:
            raise DatabaseUnavailable("db_unreachable", detail=str(error)) from error
        register_gpkg_functions(conn)
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
        """The square around a point, edges included: the R-tree (float32 bounds, rounded outwards)
        finds the candidates, the exact coordinates decide."""
        return ("fid IN (SELECT id FROM rtree_events_geom WHERE minx <= ?1 AND maxx >= ?2 AND miny <= ?3 "
                "AND maxy >= ?4) AND ST_MinX(geom) BETWEEN ?2 AND ?1 AND ST_MinY(geom) BETWEEN ?4 AND ?3")

    def _near_params(self, x: float, y: float, radius: float) -> tuple[Any, ...]:
        return (x + radius, x - radius, y + radius, y - radius)

    # geometry of meetings' priorities (any type) — the store's codec, used by store.meetings
    def _geometry_param_sql(self) -> str:
        return "?"

    def _geometry_param(self, wkt: str | None) -> Any:
        return encode_geometry(wkt, int(self.settings.epsg)) if wkt else None

    def _geometry_select_sql(self) -> str:
        return "geom"

    def _decode_geometry(self, value: Any) -> str | None:
        return None if value is None else decode_geometry(value)

    def _audit_changes(self, changes: dict[str, Any]) -> dict[str, Any]:
        if "geom" not in changes:
            return changes
        changes = dict(changes)
        points = [None if value is None else decode_point(bytes.fromhex(value)) for value in changes.pop("geom")]
        for axis, name in enumerate(("x", "y")):
            values = [None if point is None else round(point[axis], 3) for point in points]
            if values[0] != values[1]:
                changes[name] = values
        return changes

    # ------------------------------------------------------------------ privacy (same steps as PostGIS's functions)
    def _redact(self, cursor: Any, uuid: str, version: int, part: str, marker: str, actor: str) -> None:
        event = self._locked_event(cursor, uuid, version)
        removed = part or event.description
        if not removed:
            return
        cursor.execute("UPDATE est_audit_context SET redaction = 1")
        cursor.execute(
            "UPDATE events SET description = replace(description, ?1, ?2), place_name = replace(place_name, ?1, ?2), "
            "review_reason = replace(review_reason, ?1, ?2), personal_data = '', version = version + 1, "
            "updated_at = ?3 WHERE uuid = ?4", (removed, marker, self._timestamp(utc_now()), uuid))
        cursor.execute("SELECT id, changes, reason FROM audit_log WHERE subject = 'event' AND subject_key = ?", (uuid,))
        scrubbed = 0
        for audit_id, changes, reason in cursor.fetchall():
            before = json.loads(changes or "{}")
            after = scrub_changes(before, removed, marker)
            new_reason = reason.replace(removed, marker) if reason else reason
            if after != before or new_reason != reason:
                cursor.execute("UPDATE audit_log SET changes = ?, reason = ? WHERE id = ?",
                               (json.dumps(after, ensure_ascii=False), new_reason, audit_id))
                scrubbed += 1
        self._insert_audit(cursor, "event", uuid, "redact", actor, {"entries_redacted": scrubbed}, event.organisation)
        cursor.execute("UPDATE est_audit_context SET redaction = 0")

    def _pseudonymise(self, cursor: Any, category: str, before: dt.date, actor: str) -> int:
        cursor.execute("SELECT uuid, reporter, organisation FROM events WHERE category = ? AND event_date < ? "
                       "AND (reporter <> '' OR description <> '' OR review_reason IS NOT NULL)",
                       (category, before.isoformat()))
        affected = cursor.fetchall()
        if not affected:
            return 0
        cursor.execute("UPDATE est_audit_context SET redaction = 1")
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS est_pseudonymised (uuid TEXT PRIMARY KEY, reporter TEXT, "
                       "organisation TEXT)")
        cursor.execute("DELETE FROM est_pseudonymised")
        cursor.executemany("INSERT INTO est_pseudonymised VALUES (?, ?, ?)", affected)
        cursor.execute("UPDATE events SET reporter = '', description = '', review_reason = NULL, personal_data = '', "
                       "version = version + 1, updated_at = ? WHERE uuid IN (SELECT uuid FROM est_pseudonymised)",
                       (self._timestamp(utc_now()),))
        cursor.execute("SELECT a.id, a.changes, a.actor, a.login, p.reporter, p.organisation FROM audit_log a "
                       "JOIN est_pseudonymised p ON p.uuid = a.subject_key WHERE a.subject = 'event'")
        updates = []
        for audit_id, changes, who, login, reporter, organisation in cursor.fetchall():
            renamed = organisation if reporter and who == reporter else who
            updates.append((json.dumps(blank_changes(json.loads(changes or "{}")), ensure_ascii=False), renamed,
                            organisation if reporter and login == reporter else login, audit_id))
        cursor.executemany("UPDATE audit_log SET changes = ?, reason = NULL, actor = ?, login = ? WHERE id = ?", updates)
        self._insert_audit(cursor, "retention", category, "pseudonymise", actor,
                           {"events": len(affected), "before": before.isoformat()}, None)
        cursor.execute("UPDATE est_audit_context SET redaction = 0")
        return len(affected)

    def change_marker(self) -> int:
        return int(self._query("SELECT coalesce(max(id), 0) FROM audit_log")[0][0] or 0)

    def change_token(self) -> int:
        """The newest audit row: SQLite has one writer at a time, so ids commit in order."""
        return self.change_marker()

    def _changed_event_fids(self, token: int) -> list[int]:
        rows = self._query("SELECT DISTINCT e.fid FROM audit_log a JOIN events e ON e.uuid = a.subject_uuid "
                           "WHERE a.id > ? AND +a.subject = 'event'", (int(token),))  # + : by id range, not by subject
        return [int(row[0]) for row in rows]

    def _log_export(self, cursor: Any, what: str, filter_text: str, rows: int, actor: str) -> None:
        self._insert_audit(cursor, "export", what, "export", actor, {"filter": filter_text, "rows": rows}, None)

    def _insert_audit(self, cursor: Any, subject: str, key: str, action: str, actor: str, changes: dict[str, Any],
                      organisation: str | None) -> None:
        """An audit row the store writes itself (a redaction, a retention run, an export)."""
        cursor.execute("INSERT INTO audit_log (subject, subject_uuid, subject_key, action, actor, at, changes, "
                       "organisation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (subject, key, key, action, actor, self._timestamp(utc_now()),
                        json.dumps(changes, ensure_ascii=False), organisation))

    def _set_audit_context(self, cursor: Any, actor: str, reason: str | None) -> None:
        cursor.execute("INSERT OR REPLACE INTO est_audit_context (id, actor, reason) VALUES (1, ?, ?)", (actor, reason))
        self._context_set = True

    def _commit(self) -> None:
        # The context never outlives the transaction: another SQLite client's change is logged as such.
        if getattr(self, "_context_set", False):
            self._conn.execute("DELETE FROM est_audit_context")
            self._context_set = False
        self._conn.commit()

    def _rollback(self) -> None:
        self._context_set = False
        super()._rollback()

    def layer_uri(self, table: str = "events") -> tuple[str, str]:
        if table == "approved_events":  # a file has no logins: the view is the table with a filter
            return f"{self.path}|layername=events|subset=status = 'approved'", "ogr"
        return f"{self.path}|layername={table}", "ogr"

    @property
    def on_network_share(self) -> bool:
        """A GeoPackage on a network drive: SQLite's locking is unreliable there for concurrent editing."""
        return network_share(self.path)

    def _translate(self, error: Exception) -> EstError:
        text = str(error).lower()
        if isinstance(error, sqlite3.OperationalError) and "locked" in text:
            journal = any(Path(f"{self.path}{suffix}").exists() for suffix in ("-journal", "-wal"))
            return DatabaseUnavailable("db_locked_writer" if journal else "db_locked_reader", path=self.path.name)
        return super()._translate(error)

    # ------------------------------------------------------------------ columnar read
    def _load_columns(self, status: Status | None = Status.APPROVED) -> EventColumns:
        """All events of *status* as numpy columns, without a Python loop over rows.

        SQLite concatenates each column over all rows into one byte string (raw point bytes,
        ISO dates, HH:MM times, one character per category and organisation), so Python gets a
        handful of objects instead of millions of rows, and numpy decodes them. The columns
        are read by two queries in parallel threads (SQLite releases the GIL while it works);
        both must report the same row set, else the read is repeated.
        """
        categories = [c.code for c in self.categories()]
        organisations = [o.code for o in self.organisations()]
        if len(categories) > len(CODE_CHARS) or len(organisations) > len(CODE_CHARS):
            return self._load_columns_slow(status, categories, organisations)
        where = "WHERE +status = ?" if status is not None else ""
        params = (Status(status).value,) if status is not None else ()
        queries = (
            "SELECT count(*), sum(fid), group_concat(fid), group_concat(substr(geom, 4, 26), ''), "
            f"group_concat(event_date, ''), group_concat(coalesce(time_to, '-----'), '') FROM events {where}",
            "SELECT count(*), sum(fid), group_concat(coalesce(time_from, '-----'), ''), "
            f"group_concat({code_case('category', categories)}, ''), "
            f"group_concat({code_case('organisation', organisations)}, '') FROM events {where}",
        )
        for _attempt in range(3):
            with ThreadPoolExecutor(2) as pool:
                first, second = pool.map(lambda sql: self._aggregate_readonly(sql, params), queries)
            if first[:2] == second[:2]:
                break
        else:
            return self._load_columns_slow(status, categories, organisations)
        count = int(first[0] or 0)
        if not count:
            return EventColumns.empty(categories, organisations)
        _, _, fid_text, geoms, dates, times_to = first
        _, _, times_from, category_chars, organisation_chars = second
        expected = {len(geoms): 26 * count, len(dates): 10 * count, len(times_to): 5 * count,
                    len(times_from): 5 * count, len(category_chars): count, len(organisation_chars): count}
        points = np.frombuffer(geoms, dtype=POINT_TAIL) if len(geoms) == 26 * count else None
        if any(k != v for k, v in expected.items()) or points is None or (points["flags"] != 1).any() \
                or (points["order"] != 1).any():
            # Points with envelopes, big-endian or odd dates: written by another program.
            return self._load_columns_slow(status, categories, organisations)
        minute_from = minutes(np.frombuffer(times_from, dtype=np.uint8).reshape(count, 5))
        to_raw = np.frombuffer(times_to, dtype=np.uint8).reshape(count, 5)
        minute_to = np.where(to_raw[:, 0] == ord("-"), minute_from, minutes(to_raw))
        return columns_from_arrays(
            np.array(fid_text.split(b","), dtype=np.int64), points["x"], points["y"],
            days_from_iso(np.frombuffer(dates, dtype=np.uint8).reshape(count, 10)),
            minute_from + 1, minute_to + 1,
            CHAR_INDEX[np.frombuffer(category_chars, dtype=np.uint8)],
            CHAR_INDEX[np.frombuffer(organisation_chars, dtype=np.uint8)],
            categories, organisations,
        )

    def _aggregate(self, conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
        previous = conn.text_factory
        conn.text_factory = bytes
        try:
            return conn.execute(sql, params).fetchone()
        except sqlite3.Error as error:
            raise self._translate(error) from error
        finally:
            conn.text_factory = previous

    def _aggregate_readonly(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=15)
        conn.execute("PRAGMA mmap_size = 4294967296")
        try:
            return self._aggregate(conn, sql, params)
        finally:
            conn.close()

    def _load_columns_slow(self, status: Status | None, categories: list[str],
                           organisations: list[str]) -> EventColumns:
        """Row by row, for files where another program wrote points with envelopes or big-endian."""
        return columns_of_events(self.events(status), categories, organisations)
