"""The PostGIS backend: the GIS department's shared database.

Credentials come from a saved QGIS PostgreSQL connection, a QGIS authentication
configuration (authcfg) or a pg_service entry — never from a project file or plain setting.
Bulk writes use COPY; columnar reads use binary COPY decoded by numpy.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import schema
from ..batch import EventBatch
from ..errors import DatabaseUnavailable, EstError, SchemaError
from ..model import EventColumns, Role, Status
from ..reference import municipality
from ..validation import Extent
from .base import EventStore, StoreSettings, columns_from_arrays

S = schema.PG_SCHEMA
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


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


class PostgisStore(EventStore):
    dialect = schema.POSTGIS

    def __init__(self, connection: Any, info: PgConnectionInfo) -> None:
        super().__init__(connection, f"PostGIS {info.dbname or info.service}@{info.host or 'service'}")
        self.info = info

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

    def _lock_for_migration(self, cursor: Any) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('est_weekly_migration'))")

    def _json_param_sql(self) -> str:
        return "?::jsonb"

    def _is_connection_error(self, error: Exception) -> bool:
        import psycopg2

        return isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError))

    def _near_sql(self) -> str:
        return f"ST_DWithin(geom, ST_SetSRID(ST_MakePoint(?, ?), {int(self.settings.epsg)}), ?)"

    def _near_params(self, x: float, y: float, radius: float) -> tuple[Any, ...]:
        return (float(x), float(y), float(radius))

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
        """The strongest EST role the login holds (the database enforces it)."""
        rows = self._query(
            "SELECT r.rolname FROM pg_roles r WHERE r.rolname = ANY(?) AND pg_has_role(current_user, r.oid, 'member')",
            (list(schema.PG_ROLES),),
        )
        held = {row[0] for row in rows}
        if self._query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0]:
            held.add("est_admin")
        for role in (Role.ADMIN, Role.REVIEWER, Role.REPORTER, Role.VIEWER):
            if f"est_{role.value}" in held:
                return role
        return None

    # ------------------------------------------------------------------ bulk insert (COPY)
    def _bulk_insert(self, cursor: Any, batch: EventBatch, now: np.datetime64) -> None:
        n = len(batch)
        srid = int(self.settings.epsg)
        created = batch.created_at if batch.created_at is not None else np.full(n, now)
        created_text = [t + "Z" for t in np.datetime_as_string(created.astype("datetime64[ms]"), unit="ms").tolist()]
        reviewed_text = (
            [None if t == "NaT" else t + "Z" for t in np.datetime_as_string(batch.reviewed_at, unit="ms").tolist()]
            if batch.reviewed_at is not None else [None] * n
        )
        geoms = [f"SRID={srid};POINT({x!r} {y!r})" for x, y in zip(batch.x.tolist(), batch.y.tolist())]
        dates = np.datetime_as_string(batch.event_date, unit="D").tolist()
        from ..batch import TIME_TEXT

        tf = np.where(batch.minute_from >= 0, TIME_TEXT[np.clip(batch.minute_from, 0, 1439)], None).tolist()
        tt = np.where(batch.minute_to >= 0, TIME_TEXT[np.clip(batch.minute_to, 0, 1439)], None).tolist()
        nothing = [None] * n
        columns = (geoms, batch.uuid, batch.category.tolist(), batch.organisation.tolist(), batch.reporter, dates,
                   tf, tt, batch.place_name, batch.description, batch.status.tolist(), batch.reviewer or nothing,
                   reviewed_text, batch.review_reason or nothing, created_text, created_text)
        buffer = io.StringIO()
        buffer.writelines(
            "\t".join("\\N" if v is None else str(v).translate(_ESCAPES) for v in row) + "\n" for row in zip(*columns)
        )
        buffer.seek(0)
        cursor.copy_expert(
            f"COPY {S}.events (geom, uuid, category, organisation, reporter, event_date, time_from, time_to, "
            "place_name, description, status, reviewer, reviewed_at, review_reason, created_at, updated_at) "
            "FROM STDIN",
            buffer,
        )

    # ------------------------------------------------------------------ columnar read (binary COPY)
    def load_columns(self, status: Status | None = Status.APPROVED) -> EventColumns:
        """All events of *status* as numpy columns: one binary COPY, decoded as a record array."""
        categories = [c.code for c in self.categories()]
        organisations = [o.code for o in self.organisations()]
        with self._cursor() as cursor:
            where = cursor.mogrify("WHERE status = %s", (Status(status).value,)).decode() if status else ""
            cat_array = cursor.mogrify("%s::text[]", (categories,)).decode()
            org_array = cursor.mogrify("%s::text[]", (organisations,)).decode()
            minute = "coalesce((extract(hour from {c}) * 60 + extract(minute from {c}))::int4, {d})::int2"
            mf = minute.format(c="time_from", d="-1")
            mt = minute.format(c="time_to", d=mf)
            sql = (
                f"COPY (SELECT fid, ST_X(geom), ST_Y(geom), (event_date - DATE '1970-01-01')::int4, {mf}, {mt}, "
                f"(coalesce(array_position({cat_array}, category), 0) - 1)::int2, "
                f"(coalesce(array_position({org_array}, organisation), 0) - 1)::int2 "
                f"FROM {S}.events {where}) TO STDOUT WITH (FORMAT binary)"
            )
            buffer = io.BytesIO()
            cursor.copy_expert(sql, buffer)
        data = buffer.getbuffer()
        if len(data) <= len(_COPY_HEADER) + 2:
            return EventColumns.empty(categories, organisations)
        rows = np.frombuffer(data[len(_COPY_HEADER): len(data) - 2], dtype=_COPY_ROW)
        return columns_from_arrays(rows["fid"], rows["x"], rows["y"], rows["day"], rows["mf"].astype(np.int32) + 1,
                                   rows["mt"].astype(np.int32) + 1, rows["cat"], rows["org"], categories, organisations)


def _field(name: str, kind: str) -> list[tuple[str, str]]:
    return [(f"{name}_len", ">i4"), (name, kind)]


# One binary COPY tuple: field count, then (length, value) per field — fixed width here.
_COPY_ROW = np.dtype(
    [("nfields", ">i2")] + _field("fid", ">i8") + _field("x", ">f8") + _field("y", ">f8") + _field("day", ">i4")
    + _field("mf", ">i2") + _field("mt", ">i2") + _field("cat", ">i2") + _field("org", ">i2")
)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else repr(error)
