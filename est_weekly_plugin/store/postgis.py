"""The PostGIS backend: the GIS department's shared database.

Credentials come from a saved QGIS PostgreSQL connection, a QGIS authentication
configuration (authcfg) or a pg_service entry — never from a project file or plain setting.
Bulk writes use COPY; columnar reads use binary COPY decoded by numpy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..domain.errors import DatabaseUnavailable, EstError, SchemaError
from ..domain.model import Role
from ..domain.reference import municipality
from ..domain.validation import Extent
from . import schema
from .base import SETUP_ACTOR, EventStore, StoreSettings
from .batch import EventBatch
from .pg_columns import PgColumnarRead
from .pg_copy import CopyText
from .pg_logins import PgLogins
from .values import parse_wkt

S = schema.PG_SCHEMA


@dataclass
class PgConnectionInfo:
    """How to reach the database. ``authcfg`` is resolved through QGIS's authentication manager."""

    host: str = ""
    port: int | str = ""
    dbname: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    service: str = ""
    sslmode: str = ""
    authcfg: str = ""
    connection_name: str = ""

    def libpq_params(self) -> dict[str, Any]:
        params = {"host": self.host, "port": self.port, "dbname": self.dbname, "user": self.user,
                  "password": self.password, "service": self.service, "sslmode": self.sslmode}
        if self.authcfg:
            user, password = _credentials_from_authcfg(self.authcfg)
            params["user"], params["password"] = user or params["user"], password
        return {k: v for k, v in params.items() if v not in ("", None)}

    def qgis_uri(self, table: str, key: str = "fid", geometry: str | None = "geom") -> str:
        """A QGIS data source for *table* without any password in it."""
        from qgis.core import QgsDataSourceUri

        uri = QgsDataSourceUri()
        if self.service:
            uri.setConnection(self.service, self.dbname, self.user, "", QgsDataSourceUri.SslPrefer, self.authcfg)
        else:
            uri.setConnection(self.host, str(self.port), self.dbname, self.user, "",
                              QgsDataSourceUri.SslPrefer, self.authcfg)
        uri.setDataSource(S, table, geometry, "", key)
        return uri.uri(False)

    @classmethod
    def from_qgis_connection(cls, name: str) -> PgConnectionInfo:
        """The saved PostgreSQL connection *name* of QGIS's Data Source Manager."""
        from qgis.core import QgsSettings

        settings = QgsSettings()
        prefix = f"PostgreSQL/connections/{name}"
        if not settings.contains(f"{prefix}/database") and not settings.contains(f"{prefix}/service"):
            raise EstError("no_connection", name=name)

        def value(key: str) -> str:
            return str(settings.value(f"{prefix}/{key}", "") or "")

        save_user = value("saveUsername").lower() in ("true", "1")
        save_password = value("savePassword").lower() in ("true", "1")
        return cls(host=value("host"), port=value("port"), dbname=value("database"),
                   user=value("username") if save_user or not value("authcfg") else "",
                   password=value("password") if save_password else "",
                   service=value("service"), sslmode="", authcfg=value("authcfg"), connection_name=name)


def _credentials_from_authcfg(authcfg: str) -> tuple[str, str]:
    from qgis.core import QgsApplication, QgsAuthMethodConfig

    config = QgsAuthMethodConfig()
    ok = QgsApplication.authManager().loadAuthenticationConfig(authcfg, config, True)
    if not ok or not config.isValid():
        raise EstError("auth_failed", authcfg=authcfg)
    return config.config("username", ""), config.config("password", "")


class PostgisStore(PgLogins, PgColumnarRead, EventStore):
    dialect = schema.POSTGIS

    def __init__(self, connection: Any, info: PgConnectionInfo) -> None:
        super().__init__(connection, f"PostGIS {info.dbname or info.service}@{info.host or 'service'}")
        self.info = info
        self._reader: Any = None  # second connection of parallel reads

    # ------------------------------------------------------------------ opening
    @staticmethod
    def _connect(info: PgConnectionInfo) -> Any:
        import psycopg2

        try:
            conn = psycopg2.connect(connect_timeout=10, application_name="EST Weekly", **info.libpq_params())
        except psycopg2.OperationalError as error:
            raise DatabaseUnavailable("db_unreachable", detail=_first_line(error)) from error
        conn.autocommit = True  # transactions are explicit (BEGIN … COMMIT), reads never linger
        return conn

    @classmethod
    def create(cls, info: PgConnectionInfo, *, epsg: int = schema.DEFAULT_EPSG, municipality_name: str | None = None,
               extent: Extent | None = None, seed: bool = True, schema_version: int | None = None) -> PostgisStore:
        """Create the EST schema in an existing database (needs rights to create a schema).

        ``schema_version`` stops at an older schema (migration tests and tooling).
        """
        store = cls(cls._connect(info), info)
        town = municipality()
        store._settings = StoreSettings(municipality_name or town["name"], extent or Extent(*town["extent"]), epsg)
        try:
            if store._schema_exists():
                raise EstError("exists", path=f"{store.description} ({S})")
            store._conn.cursor().execute(f"CREATE SCHEMA IF NOT EXISTS {S}")
            store._conn.cursor().execute(
                f"CREATE TABLE IF NOT EXISTS {S}.schema_version (version integer PRIMARY KEY, "
                "description text NOT NULL, plugin_version text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            store._migrate(0, schema_version or schema.LATEST_VERSION)
            with store.transaction() as cursor:
                if (schema_version or schema.LATEST_VERSION) >= 4:
                    store._audit_context(cursor, SETUP_ACTOR)
                store._write_settings(cursor, store._settings)
                if seed:
                    store._seed_reference_data(cursor)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def open(cls, info: PgConnectionInfo, *, migrate: bool = True) -> PostgisStore:
        store = cls(cls._connect(info), info)
        try:
            if not store._schema_exists():
                raise SchemaError("not_est_store", path=store.description)
            if migrate:
                store._check_and_migrate()
            elif store.schema_version() > schema.LATEST_VERSION:
                raise SchemaError("schema_newer", found=store.schema_version(), supported=schema.LATEST_VERSION)
        except BaseException:
            store.close()
            raise
        return store

    def reopen(self) -> PostgisStore:
        """The same database and login on a connection of its own: what a background task works on
        (a psycopg2 connection shared between threads shares one transaction)."""
        return PostgisStore.open(self.info, migrate=False)

    def _schema_exists(self) -> bool:
        rows = self._query("SELECT to_regclass(?) IS NOT NULL", (f"{S}.schema_version",))
        return bool(rows[0][0])

    def _reconnect_if_lost(self) -> None:
        if getattr(self._conn, "closed", 0):
            self._conn = self._connect(self.info)

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        self._reconnect_if_lost()
        with super()._cursor() as cursor:
            yield cursor

    # ------------------------------------------------------------------ dialect hooks
    def _table(self, name: str) -> str:
        return f"{S}.{name}"

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def _point_param_sql(self) -> str:
        return f"ST_SetSRID(ST_MakePoint(?, ?), {int(self.settings.epsg)})"

    def _point_params(self, x: float, y: float) -> tuple[Any, ...]:
        return (float(x), float(y))

    def _point_select_sql(self) -> str:
        return "ST_X(geom), ST_Y(geom)"

    def _point_width(self) -> int:
        return 2

    def _decode_point(self, values: Sequence[Any]) -> tuple[float, float]:
        return float(values[0]), float(values[1])

    def _begin(self, cursor: Any) -> None:
        cursor.execute("BEGIN")

    def _commit(self) -> None:
        self._conn.cursor().execute("COMMIT")

    def _rollback(self) -> None:
        try:
            if not self._conn.closed:
                self._conn.cursor().execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - a lost connection has rolled back already
            pass

    def _for_update(self) -> str:
        return " FOR UPDATE"

    # geometry of meetings' priorities (any type), as WKT both ways
    def _geometry_param_sql(self) -> str:
        return f"ST_GeomFromText(?, {int(self.settings.epsg)})"

    def _geometry_param(self, wkt: str | None) -> Any:
        return parse_wkt(wkt).asWkt(3) if wkt else None

    def _geometry_select_sql(self) -> str:
        return "ST_AsText(geom)"

    def _decode_geometry(self, value: Any) -> str | None:
        if value is None:
            return None
        from qgis.core import QgsGeometry

        parsed = QgsGeometry.fromWkt(str(value))  # normalised to QGIS's WKT, as on GeoPackage
        return parsed.asWkt(3) if not parsed.isNull() else None

    # ------------------------------------------------------------------ privacy (the database's own functions)
    def _redact(self, cursor: Any, uuid: str, version: int, part: str, marker: str, actor: str) -> None:
        cursor.execute(f"SELECT {S}.redact_event_text(%s, %s, %s, %s)", (uuid, version, part, marker))

    def _pseudonymise(self, cursor: Any, category: str, before: dt.date, actor: str) -> int:
        cursor.execute(f"SELECT {S}.pseudonymise_events(%s, %s)", (category, before))
        return int(cursor.fetchone()[0] or 0)

    def change_marker(self) -> int:
        return int(self._query(f"SELECT {S}.change_marker()")[0][0] or 0)

    def change_token(self) -> int:
        """The oldest transaction still running: every change by it or a newer one is "since"."""
        return int(self._query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8")[0][0])

    def _log_export(self, cursor: Any, what: str, filter_text: str, rows: int, actor: str) -> None:
        cursor.execute(f"SELECT {S}.log_export(%s, %s, %s)", (what, filter_text, rows))

    def _set_audit_context(self, cursor: Any, actor: str, reason: str | None) -> None:
        # Transaction-local: est.actor counts only for the schema owner's own jobs; a login is itself.
        cursor.execute("SELECT set_config('est.actor', %s, true), set_config('est.reason', %s, true)",
                       (actor, reason or ""))

    def _lock_for_migration(self, cursor: Any) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('est_weekly_migration'))")

    def _json_param_sql(self) -> str:
        return "?::jsonb"

    def _save_profile(self, cursor: Any, name: str, source: str, source_name: str, payload: str) -> None:
        # the database checks the role: reviewers may save profiles but not write sources directly
        cursor.execute(f"SELECT {S}.save_import_profile(%s, %s, %s, %s::jsonb)", (name, source, source_name, payload))

    def _is_connection_error(self, error: Exception) -> bool:
        import psycopg2

        return isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError))

    def _near_sql(self) -> str:  # the square around a point, edges included (as on a GeoPackage)
        return f"geom && ST_MakeEnvelope(?, ?, ?, ?, {int(self.settings.epsg)})"

    def _near_params(self, x: float, y: float, radius: float) -> tuple[Any, ...]:
        return (float(x) - radius, float(y) - radius, float(x) + radius, float(y) + radius)

    def _date_param(self, value: dt.date) -> Any:
        return value

    def _time_param(self, value: dt.time | None) -> Any:
        return value

    def _timestamp(self, value: dt.datetime) -> Any:
        return value

    def layer_uri(self, table: str = "events") -> tuple[str, str]:
        geometry = None if table in ("categories", "organisations", "audit_log", "meetings") else "geom"
        key = "fid" if geometry else ("code" if table in ("categories", "organisations") else "id")
        return self.info.qgis_uri(table, key=key, geometry=geometry), "postgres"

    def database_role(self) -> Role | None:
        """The EST role of the login, from the database's memberships (the database enforces it)."""
        return self.whoami().role

    # ------------------------------------------------------------------ bulk insert (COPY)
    # Large batches rebuild the secondary indexes and foreign keys once instead of updating them
    # row by row (several times faster), all inside the insert's transaction, so a failure or a
    # cancel leaves the table exactly as it was. Only when the batch is large compared with the
    # table, the login owns it and the table lock comes quickly; otherwise the plain COPY is used.
    _REBUILD_MIN_ROWS = 20_000
    _REBUILD_LOCK_TIMEOUT = "5s"
    _MAINTENANCE_WORK_MEM = 256 * 1024 * 1024

    def _before_bulk(self, cursor: Any, rows: int) -> None:
        self._suspended: list[str] = []
        if rows < self._REBUILD_MIN_ROWS:
            return
        cursor.execute(
            "SELECT pg_has_role(c.relowner, 'USAGE'), c.reltuples::float8, pg_relation_size(c.oid)::float8, "
            "current_setting('lock_timeout'), pg_size_bytes(current_setting('maintenance_work_mem')) "
            "FROM pg_class c WHERE c.oid = %s::regclass",
            (f"{S}.events",),
        )
        owner, reltuples, size, lock_timeout, work_mem = cursor.fetchone()
        existing = reltuples if reltuples >= 0 else size / 8192 * 30  # never analysed: ~30 rows a page
        if not owner or rows * 3 < existing:
            return
        # Readers would queue behind a DROP INDEX waiting for a long-running reader: try briefly,
        # else insert row by row. Rolling back to the savepoint also restores lock_timeout.
        cursor.execute("SAVEPOINT est_bulk_lock")
        cursor.execute(f"SET LOCAL lock_timeout = '{self._REBUILD_LOCK_TIMEOUT}'")
        try:
            cursor.execute(f"LOCK TABLE {S}.events IN ACCESS EXCLUSIVE MODE")
        except Exception as error:
            if getattr(error, "pgcode", None) != "55P03":  # lock_not_available
                raise
            cursor.execute("ROLLBACK TO SAVEPOINT est_bulk_lock")
            return
        cursor.execute("RELEASE SAVEPOINT est_bulk_lock")
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", (lock_timeout,))
        if work_mem < self._MAINTENANCE_WORK_MEM:
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)",
                           (f"{self._MAINTENANCE_WORK_MEM // 1024}kB",))
        drop, restore = self._suspendable_indexes(cursor)
        # The owner's own load: the row trigger only guards partner logins (it returns each row
        # unchanged for the owner), so it rests like the indexes, inside this transaction.
        # The audit is written set-based after the COPY (est.audit_loaded_events), one row per
        # event as the statement trigger would; nobody else can insert meanwhile (the table lock).
        cursor.execute(f"SELECT coalesce(max(fid), 0) FROM {S}.events")
        self._audit_after_fid = int(cursor.fetchone()[0])
        for trigger in ("events_before_insert", "audit_insert"):
            drop.append(f"ALTER TABLE {S}.events DISABLE TRIGGER {trigger}")
            restore.append(f"ALTER TABLE {S}.events ENABLE TRIGGER {trigger}")
        for statement in drop:
            cursor.execute(statement)
        self._suspended = restore

    def _suspendable_indexes(self, cursor: Any) -> tuple[list[str], list[str]]:
        """(drop, recreate) statements for the events table's secondary indexes and foreign keys.

        Definitions come from the catalogue, so exactly what exists is recreated (with its name,
        tablespace and options). Left alone: the primary key, indexes other tables' foreign keys
        use, invalid, clustered or replica-identity indexes and commented objects.
        """
        table = f"{S}.events"
        cursor.execute(
            """SELECT quote_ident(ic.relname), pg_get_indexdef(i.indexrelid), quote_ident(con.conname),
                      pg_get_constraintdef(con.oid), quote_ident(ts.spcname), ic.reloptions IS NOT NULL
               FROM pg_index i
               JOIN pg_class ic ON ic.oid = i.indexrelid
               LEFT JOIN pg_tablespace ts ON ts.oid = ic.reltablespace
               LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                    AND con.contype IN ('p', 'u', 'x')
               WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND i.indisvalid AND i.indisready
                 AND i.indislive AND NOT i.indisclustered AND NOT i.indisreplident
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
                 AND NOT EXISTS (SELECT 1 FROM pg_description d WHERE d.objoid IN (i.indexrelid, con.oid))
                 AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.refclassid = 'pg_class'::regclass
                                 AND dep.refobjid = i.indexrelid AND dep.classid <> 'pg_constraint'::regclass)
               ORDER BY ic.relname""",
            (table,),
        )
        drop: list[str] = []
        constraints: list[str] = []
        indexes: list[str] = []
        for name, index_def, constraint, constraint_def, tablespace, options in cursor.fetchall():
            if constraint is not None:
                if tablespace or options:  # ADD CONSTRAINT … UNIQUE would not bring these back
                    continue
                drop.append(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
                constraints.append(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {constraint_def}")
            else:
                drop.append(f"DROP INDEX {S}.{name}")
                indexes.append(index_def + (f" TABLESPACE {tablespace}" if tablespace else ""))
        cursor.execute(
            """SELECT quote_ident(con.conname), pg_get_constraintdef(con.oid) FROM pg_constraint con
               WHERE con.conrelid = %s::regclass AND con.contype = 'f'
                 AND has_table_privilege(con.confrelid, 'REFERENCES')
                 AND NOT EXISTS (SELECT 1 FROM pg_description d WHERE d.objoid = con.oid)
               ORDER BY con.conname""",
            (table,),
        )
        foreign = cursor.fetchall()
        drop = [f"ALTER TABLE {table} DROP CONSTRAINT {name}" for name, _ in foreign] + drop
        foreign_keys = [f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}" for name, definition in foreign]
        return drop, constraints + indexes + foreign_keys

    def _after_bulk(self, cursor: Any, rows: int) -> None:
        if getattr(self, "_suspended", []):
            self._write_bulk_audit(cursor, rows)
        for statement in getattr(self, "_suspended", []):
            cursor.execute(statement)
        self._suspended = []

    _AUDIT_INDEXES = ("audit_log_key", "audit_log_event_ids", "audit_log_event_xact")

    def _write_bulk_audit(self, cursor: Any, rows: int) -> None:
        """One audit row per loaded event, set-based; the log's secondary indexes are rebuilt once
        after when the load is large beside the log and the log can be locked at once."""
        cursor.execute("SELECT c.reltuples::float8, current_setting('lock_timeout'), "
                       "array(SELECT pg_get_indexdef(to_regclass(n)) FROM unnest(%s::text[]) AS n "
                       "WHERE to_regclass(n) IS NOT NULL) FROM pg_class c WHERE c.oid = %s::regclass",
                       ([f"{S}.{name}" for name in self._AUDIT_INDEXES], f"{S}.audit_log"))
        existing, lock_timeout, index_defs = cursor.fetchone()
        rebuild = bool(index_defs) and rows * 3 >= max(existing, 0)
        if rebuild:
            cursor.execute("SAVEPOINT est_audit_lock")
            cursor.execute(f"SET LOCAL lock_timeout = '{self._REBUILD_LOCK_TIMEOUT}'")
            try:
                cursor.execute(f"LOCK TABLE {S}.audit_log IN ACCESS EXCLUSIVE MODE")
                cursor.execute("RELEASE SAVEPOINT est_audit_lock")
                for name in self._AUDIT_INDEXES:
                    cursor.execute(f"DROP INDEX IF EXISTS {S}.{name}")
            except Exception as error:
                if getattr(error, "pgcode", None) != "55P03":  # lock_not_available
                    raise
                cursor.execute("ROLLBACK TO SAVEPOINT est_audit_lock")
                rebuild = False
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", (lock_timeout,))
        cursor.execute(f"SELECT {S}.audit_loaded_events(%s)", (self._audit_after_fid,))
        if rebuild:
            for index_def in index_defs:
                cursor.execute(index_def)

    _BULK_COLUMNS = ("geom, uuid, category, organisation, reporter, event_date, time_from, time_to, place_name, "
                     "description, status, reviewer, reviewed_at, review_reason, created_at, updated_at, source, "
                     "personal_data, source_id, location_precision")

    def _bulk_insert(self, cursor: Any, batch: EventBatch, now: np.datetime64) -> None:
        rows = CopyText(batch, now, int(self.settings.epsg), getattr(self, "_bulk_source", "form"))
        cursor.execute(f"SELECT row_security_active('{S}.events')")
        if not cursor.fetchone()[0]:
            cursor.copy_expert(f"COPY {S}.events ({self._BULK_COLUMNS}) FROM STDIN", rows, size=1 << 20)
            return
        # A partner login: PostgreSQL refuses COPY into a table under row-level security, so the rows go
        # through a temporary table and one INSERT … SELECT (policies, triggers and audit all apply).
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS est_bulk_rows ON COMMIT DROP AS "
                       f"SELECT {self._BULK_COLUMNS} FROM {S}.events WITH NO DATA")
        cursor.copy_expert(f"COPY est_bulk_rows ({self._BULK_COLUMNS}) FROM STDIN", rows, size=1 << 20)
        cursor.execute(f"INSERT INTO {S}.events ({self._BULK_COLUMNS}) SELECT {self._BULK_COLUMNS} FROM est_bulk_rows")
        cursor.execute("TRUNCATE est_bulk_rows")

    def close(self) -> None:
        self._abandon_reader()
        super().close()


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else repr(error)
