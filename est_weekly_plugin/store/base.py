"""One event store, two backends: everything that is the same for GeoPackage and PostGIS.

The backends supply a DB-API connection and a few dialect hooks (placeholders, how a point is
written and read, the columnar loader); validation, auditing, review rules and optimistic
concurrency live here once, so both backends behave the same by construction.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..domain.errors import DatabaseUnavailable, EstError, SchemaError
from ..domain.i18n import sort_key
from ..domain.model import Category, Event, EventColumns, Organisation, Precision, Status
from ..domain.reference import default_categories, default_organisations, municipality
from ..domain.validation import Extent, ValidationContext
from . import schema
from .changes import ChangeFeed
from .privacy_ops import PrivacyOps
from .sources import PLACED_SQL, SourceOps
from .values import (
    EVENT_FIELDS,
    as_date,
    as_datetime,
    as_time,
    check_actor,
    database_refusal,
    require_uuid,
    utc_now,
)
from .writing import EventWriting

PLUGIN_VERSION_KEY = "plugin_version"
AUDIT_SCHEMA_VERSION = 4  # from this schema on, the database's triggers write the audit log
SETUP_ACTOR = "EST Weekly (setup)"  # who the audit log names for a new database's reference data



@dataclass(frozen=True)
class AuditEntry:
    """One audit row: who did what to which event, meeting or priority, from → to."""

    subject_uuid: str
    action: str
    actor: str
    at: dt.datetime
    reason: str | None
    changes: dict[str, list[Any]]
    subject: str = "event"
    login: str | None = None  # PostGIS: the database login that made the change, whoever it acted for


@dataclass(frozen=True)
class StoreSettings:
    """Per-database settings: which municipality, its extent, the CRS."""

    municipality: str
    extent: Extent
    epsg: int


class EventStore(EventWriting, PrivacyOps, ChangeFeed, SourceOps, ABC):
    """The EST database: events, reference data, review, audit log and columnar reads."""

    dialect: str = ""

    def __init__(self, connection: Any, description: str) -> None:
        self._conn = connection
        self.description = description
        self._settings: StoreSettings | None = None
        self._audits: bool | None = None
        self._reference: tuple[float, frozenset[str], frozenset[str], frozenset[str]] | None = None

    # ------------------------------------------------------------------ dialect hooks
    @abstractmethod
    def _table(self, name: str) -> str:
        """Fully qualified table name."""

    @abstractmethod
    def _sql(self, sql: str) -> str:
        """Turn the module's ``?`` placeholders into the driver's."""

    @abstractmethod
    def _point_param_sql(self) -> str:
        """SQL placeholder expression that becomes a point from ``_point_params``."""

    @abstractmethod
    def _point_params(self, x: float, y: float) -> tuple[Any, ...]: ...

    @abstractmethod
    def _point_select_sql(self) -> str:
        """SQL expression(s) selecting the point; ``_decode_point`` reads them back."""

    @abstractmethod
    def _decode_point(self, values: Sequence[Any]) -> tuple[float, float]: ...

    @abstractmethod
    def _point_width(self) -> int:
        """How many result columns ``_point_select_sql`` yields."""

    @abstractmethod
    def _is_connection_error(self, error: Exception) -> bool: ...

    @abstractmethod
    def _load_columns(self, status: Status | None = Status.APPROVED) -> EventColumns:
        """All events of *status* as numpy columns (precision not yet set: see ``load_columns``)."""

    @abstractmethod
    def _geometry_param_sql(self) -> str: ...

    @abstractmethod
    def _geometry_param(self, wkt: str | None) -> Any: ...

    @abstractmethod
    def _geometry_select_sql(self) -> str: ...

    @abstractmethod
    def _decode_geometry(self, value: Any) -> str | None: ...

    @abstractmethod
    def change_marker(self) -> int:
        """A number that grows whenever an event changes, whoever changed it (one cheap query):
        the compilation polls it so another user's approval shows without a manual reload."""

    @abstractmethod
    def reopen(self) -> EventStore:
        """A new connection to the same database (and login): background tasks work on their own."""

    @abstractmethod
    def layer_uri(self, table: str = "events") -> tuple[str, str]:
        """(uri, provider key) to open *table* as a QGIS layer."""

    # ------------------------------------------------------------------ basics
    def close(self) -> None:
        try:
            self._conn.close()
        except Exception:  # noqa: BLE001 - closing a dead connection is not an error
            pass

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        try:
            cursor = self._conn.cursor()
        except Exception as error:  # noqa: BLE001
            raise self._translate(error) from error
        try:
            yield cursor
        except EstError:
            raise
        except Exception as error:  # noqa: BLE001
            raise self._translate(error) from error
        finally:
            try:
                cursor.close()
            except Exception:  # noqa: BLE001, S110
                pass

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor whose work is committed together, or rolled back on any error."""
        with self._cursor() as cursor:
            try:
                self._begin(cursor)
                yield cursor
            except BaseException:
                self._rollback()
                raise
            else:
                try:
                    self._commit()
                except Exception as error:  # noqa: BLE001
                    self._rollback()
                    raise self._translate(error) from error

    def _commit(self) -> None:
        self._conn.commit()

    def _begin(self, cursor: Any) -> None:
        """Start a transaction (SQLite needs it explicit; psycopg2 opens one itself)."""

    def _rollback(self) -> None:
        try:
            self._conn.rollback()
        except Exception:  # noqa: BLE001 - a lost connection has rolled back already
            pass

    def _translate(self, error: Exception) -> EstError:
        if isinstance(error, EstError):
            return error
        refusal = database_refusal(error)
        if refusal is not None:
            return refusal
        if self._is_connection_error(error):
            return DatabaseUnavailable("db_unreachable", detail=str(error).strip().splitlines()[0][:200])
        return EstError("db_error", detail=str(error).strip().splitlines()[0][:200] if str(error) else repr(error))

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._cursor() as cursor:
            cursor.execute(self._sql(sql), tuple(params))
            return cursor.fetchall()

    # ------------------------------------------------------------------ schema
    def schema_version(self) -> int:
        rows = self._query(f"SELECT max(version) FROM {self._table('schema_version')}")
        return int(rows[0][0] or 0)

    def _check_and_migrate(self) -> None:
        """Bring the schema up to date, or refuse a database written by a newer plugin."""
        found = self.schema_version()
        if found > schema.LATEST_VERSION:
            raise SchemaError("schema_newer", found=found, supported=schema.LATEST_VERSION)
        if found < schema.LATEST_VERSION:
            self._migrate(found, schema.LATEST_VERSION)

    def _migrate(self, current: int, target: int) -> None:
        from ..domain.version import plugin_version

        values = self._migration_values()
        for migration in schema.MIGRATIONS:
            if not current < migration.version <= target:
                continue
            try:
                with self.transaction() as cursor:
                    self._lock_for_migration(cursor)
                    # Someone else may have migrated while we waited for the lock.
                    cursor.execute(f"SELECT max(version) FROM {self._table('schema_version')}")
                    if (cursor.fetchone()[0] or 0) >= migration.version:
                        continue
                    for statement in schema.statements(migration, self.dialect, **values):
                        cursor.execute(statement)
                    cursor.execute(
                        self._sql(
                            f"INSERT INTO {self._table('schema_version')} "
                            "(version, description, plugin_version, applied_at) VALUES (?, ?, ?, ?)"
                        ),
                        (migration.version, migration.description, plugin_version(), self._timestamp(utc_now())),
                    )
            except EstError as error:
                if isinstance(error, DatabaseUnavailable):
                    raise
                detail = error.params.get("detail", error.code)
                raise SchemaError("migration_failed", version=migration.version, detail=detail) from error
        self._audits = None

    def _migration_values(self) -> dict[str, str]:
        return {"srid": str(self.settings.epsg)}

    def _lock_for_migration(self, cursor: Any) -> None:
        """Serialise concurrent migrations (PostGIS takes an advisory lock)."""

    # ------------------------------------------------------------------ settings
    @property
    def settings(self) -> StoreSettings:
        if self._settings is None:
            values = dict(self._query(f"SELECT key, value FROM {self._table('est_settings')}"))
            town = municipality()
            extent = json.loads(values["extent"]) if "extent" in values else town["extent"]
            self._settings = StoreSettings(
                municipality=values.get("municipality", town["name"]),
                extent=Extent(*extent),
                epsg=int(values.get("epsg", schema.DEFAULT_EPSG)),
            )
        return self._settings

    def _write_settings(self, cursor: Any, settings: StoreSettings) -> None:
        extent = settings.extent
        values = {
            "municipality": settings.municipality,
            "extent": json.dumps([extent.xmin, extent.ymin, extent.xmax, extent.ymax]),
            "epsg": str(settings.epsg),
        }
        for key, value in values.items():
            self._put_setting(cursor, key, value)
        self._settings = settings

    def _seed_reference_data(self, cursor: Any) -> None:
        for category in default_categories():
            self._upsert_category(cursor, category)
        for organisation in default_organisations():
            self._upsert_organisation(cursor, organisation)

    # ------------------------------------------------------------------ reference data
    def categories(self, active_only: bool = False) -> list[Category]:
        where = " WHERE active" if active_only else ""
        rows = self._query(
            "SELECT code, label_sv, label_en, colour, description_sv, description_en, active, sort_order "
            f"FROM {self._table('categories')}{where} ORDER BY sort_order, code"
        )
        return [Category(*row[:6], active=bool(row[6]), sort_order=int(row[7])) for row in rows]

    def organisations(self, active_only: bool = False) -> list[Organisation]:
        where = " WHERE active" if active_only else ""
        rows = self._query(
            f"SELECT code, name_sv, name_en, kind, active FROM {self._table('organisations')}{where} ORDER BY code"
        )
        organisations = [Organisation(*row[:4], active=bool(row[4])) for row in rows]
        return sorted(organisations, key=lambda o: sort_key(o.name()))  # every list shows them by name

    def save_category(self, category: Category) -> None:
        with self.transaction() as cursor:
            self._audit_context(cursor, self._local_actor())
            self._upsert_category(cursor, category)
        self._reference = None

    def save_organisation(self, organisation: Organisation) -> None:
        with self.transaction() as cursor:
            self._audit_context(cursor, self._local_actor())
            self._upsert_organisation(cursor, organisation)
        self._reference = None

    def _upsert_category(self, cursor: Any, c: Category) -> None:
        table = self._table("categories")
        cursor.execute(self._sql(f"DELETE FROM {table} WHERE code = ? AND NOT EXISTS "
                                 f"(SELECT 1 FROM {self._table('events')} WHERE category = ?)"), (c.code, c.code))
        cursor.execute(
            self._sql(
                f"INSERT INTO {table} (code, label_sv, label_en, colour, description_sv, description_en, active, "
                "sort_order) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
                "label_sv = excluded.label_sv, label_en = excluded.label_en, colour = excluded.colour, "
                "description_sv = excluded.description_sv, description_en = excluded.description_en, "
                "active = excluded.active, sort_order = excluded.sort_order"
            ),
            (c.code, c.label_sv, c.label_en, c.colour, c.description_sv, c.description_en, c.active, c.sort_order),
        )

    def _upsert_organisation(self, cursor: Any, o: Organisation) -> None:
        cursor.execute(
            self._sql(
                f"INSERT INTO {self._table('organisations')} (code, name_sv, name_en, kind, active) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name_sv = excluded.name_sv, "
                "name_en = excluded.name_en, kind = excluded.kind, active = excluded.active"
            ),
            (o.code, o.name_sv, o.name_en, o.kind, o.active),
        )

    def source_trusted(self, code: str) -> bool:
        """Whether an administrator marked the event source *code* as trusted (its rows may enter approved)."""
        rows = self._query(f"SELECT trusted FROM {self._table('sources')} WHERE code = ?", (code,))
        return bool(rows and rows[0][0])

    def set_source_trusted(self, code: str, trusted: bool) -> None:
        """Administrators: let rows of source *code* enter as approved (audited, like every change)."""
        with self.transaction() as cursor:
            self._audit_context(cursor, self._local_actor())
            cursor.execute(self._sql(f"UPDATE {self._table('sources')} SET trusted = ? WHERE code = ?"),
                           (bool(trusted), code))

    def _local_actor(self) -> str:
        return "EST Weekly"

    # Reference data changes a few times a year; every report validates against it. Kept for a
    # short while so a report costs one round trip less (the database's foreign keys still decide).
    _REFERENCE_SECONDS = 30.0

    def validation_context(self, today: dt.date | None = None) -> ValidationContext:
        now = time.monotonic()
        if self._reference is None or now - self._reference[0] > self._REFERENCE_SECONDS:
            categories = self.categories()
            self._reference = (now, frozenset(c.code for c in categories),
                               frozenset(c.code for c in categories if not c.active),
                               frozenset(o.code for o in self.organisations()))
        _loaded, codes, inactive, organisations = self._reference
        settings = self.settings
        return ValidationContext(
            categories=set(codes),
            inactive_categories=set(inactive),
            organisations=set(organisations),
            extent=settings.extent,
            projected=settings.epsg != 4326,
            today=today or dt.date.today(),
        )

    # ------------------------------------------------------------------ reading events
    def _select_events_sql(self, table: str = "events") -> str:
        """SELECT of whole events; *table* ``approved_events`` is the compilation as this login may see it."""
        return f"SELECT {self._point_select_sql()}, {', '.join(EVENT_FIELDS)} FROM {self._table(table)}"

    def _row_to_event(self, row: Sequence[Any]) -> Event:
        width = self._point_width()
        x, y = self._decode_point(row[:width])
        values = dict(zip(EVENT_FIELDS, row[width:]))
        return Event(
            category=values["category"],
            organisation=values["organisation"],
            event_date=as_date(values["event_date"]),
            x=x,
            y=y,
            time_from=as_time(values["time_from"]),
            time_to=as_time(values["time_to"]),
            place_name=values["place_name"] or "",
            description=values["description"] or "",
            reporter=values["reporter"] or "",
            status=Status(values["status"]),
            uuid=str(values["uuid"]),
            reviewer=values["reviewer"],
            reviewed_at=as_datetime(values["reviewed_at"]),
            review_reason=values["review_reason"],
            duplicate_of=str(values["duplicate_of"]) if values["duplicate_of"] else None,
            created_at=as_datetime(values["created_at"]),
            updated_at=as_datetime(values["updated_at"]),
            version=int(values["version"]),
            fid=int(values["fid"]),
            personal_data=values["personal_data"] or "",
            location_precision=Precision(values["location_precision"] or "point"),
            source=values["source"] or "form",
            source_id=values["source_id"],
        )

    def get(self, uuid: str) -> Event:
        require_uuid(uuid)
        rows = self._query(self._select_events_sql() + " WHERE uuid = ?", (str(uuid),))
        if not rows:
            raise EstError("not_found", uuid=uuid)
        return self._row_to_event(rows[0])

    def events(
        self,
        status: Status | Sequence[Status] | None = None,
        *,
        reporter: str | None = None,
        organisation: str | None = None,
        category: str | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        oldest_first: bool = True,
        limit: int | None = None,
    ) -> list[Event]:
        """Events matching every given condition; the review queue and "My reports" use this."""
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            statuses = [status] if isinstance(status, Status) else list(status)
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(Status(s).value for s in statuses)
        for column, value in (("reporter", reporter), ("organisation", organisation), ("category", category)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if date_from is not None:
            where.append("event_date >= ?")
            params.append(self._date_param(date_from))
        if date_to is not None:
            where.append("event_date <= ?")
            params.append(self._date_param(date_to))
        sql = self._select_events_sql()
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY created_at {'ASC' if oldest_first else 'DESC'}, fid"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._row_to_event(row) for row in self._query(sql, params)]

    def count(self, status: Status | None = None) -> int:
        if status is None:
            rows = self._query(f"SELECT count(*) FROM {self._table('events')}")
        else:
            rows = self._query(f"SELECT count(*) FROM {self._table('events')} WHERE status = ?", (status.value,))
        return int(rows[0][0])

    def events_near(
        self, x: float, y: float, radius_m: float, date_from: dt.date, date_to: dt.date,
        category: str | None = None, exclude_uuid: str | None = None,
    ) -> list[Event]:
        """Events within *radius_m* of a point and a date window: the reviewer's duplicate check."""
        sql = self._select_events_sql() + " WHERE " + self._near_sql() + " AND event_date BETWEEN ? AND ?"
        params: list[Any] = [*self._near_params(x, y, radius_m), self._date_param(date_from), self._date_param(date_to)]
        if category is not None:
            sql += " AND category = ?"
            params.append(category)
        if exclude_uuid is not None:
            sql += " AND uuid <> ?"
            params.append(str(exclude_uuid))
        sql += f" AND status <> 'withdrawn' AND {PLACED_SQL} ORDER BY event_date, fid"
        events = [self._row_to_event(row) for row in self._query(sql, params)]
        return [e for e in events if (e.x - x) ** 2 + (e.y - y) ** 2 <= radius_m**2]

    def approved_events_by_fid(self, fids: Sequence[int]) -> list[Event]:
        """Approved events by fid, as this login may see them (the compilation view): exports."""
        wanted = sorted({int(v) for v in fids})
        events: list[Event] = []
        for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
            part = wanted[start:start + 500]
            sql = f"{self._select_events_sql('approved_events')} WHERE fid IN ({', '.join('?' for _ in part)}) ORDER BY fid"
            events.extend(self._row_to_event(row) for row in self._query(sql, part))
        return events

    def search_approved(self, text: str, limit: int = 20) -> list[Event]:
        """Approved events (as this login may see them) whose place name or description holds
        *text*, case-insensitively, newest first: the locator's event search. *text* is data, never
        a pattern: % and _ match themselves."""
        wanted = text.strip().lower()
        if not wanted:
            return []
        pattern = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql = (f"{self._select_events_sql('approved_events')} WHERE lower(place_name) LIKE ? ESCAPE '\\' "
               "OR lower(description) LIKE ? ESCAPE '\\' ORDER BY event_date DESC, fid DESC LIMIT ?")
        return [self._row_to_event(row) for row in self._query(sql, (pattern, pattern, int(limit)))]

    def common_place_name(self, x: float, y: float, half: float, date_from: dt.date, date_to: dt.date) -> str:
        """The place name reporters used most often for approved events within a square of
        2 × *half* around a point and between two dates ("" when none): names a hot-spot."""
        rows = self._query(
            f"SELECT place_name, count(*) AS n FROM {self._table('approved_events')} WHERE {self._near_sql()} "
            f"AND event_date BETWEEN ? AND ? AND place_name <> '' AND {PLACED_SQL} "
            "GROUP BY place_name ORDER BY n DESC, min(fid) LIMIT 1",  # a tie: the name reported first
            (*self._near_params(x, y, half), self._date_param(date_from), self._date_param(date_to)),
        )
        return str(rows[0][0]) if rows else ""

    @abstractmethod
    def _near_sql(self) -> str: ...

    @abstractmethod
    def _near_params(self, x: float, y: float, radius: float) -> tuple[Any, ...]: ...

    # ------------------------------------------------------------------ audit
    def _audit_context(self, cursor: Any, actor: str, reason: str | None = None) -> None:
        """Tell the database's audit triggers who acts and why, for the rest of this transaction.

        The triggers write the audit row themselves (from → to computed by the database), so a
        change made with psql or another SQLite client is logged like one made here. On PostGIS
        the actor is the login unless the connection is the schema's owner (see the README).
        """
        check_actor(actor)
        if self._audits is None:  # schema v4 brought the database-written log; older ones are migrated on open
            self._audits = self.schema_version() >= AUDIT_SCHEMA_VERSION
        if self._audits:
            self._set_audit_context(cursor, actor, (reason or "").strip() or None)

    @abstractmethod
    def _set_audit_context(self, cursor: Any, actor: str, reason: str | None) -> None: ...

    def _json_param_sql(self) -> str:
        return "?"

    def audit_log(self, uuid: str | None = None, *, subject: str | None = None) -> list[AuditEntry]:
        """Audit rows, oldest first: of one event/meeting/priority (*uuid*), or of one kind of subject.

        *uuid* is also a key for subjects without a uuid (a category code, a login).
        """
        sql = (f"SELECT subject_key, action, actor, at, reason, changes, subject, login "
               f"FROM {self._table('audit_log')}")
        where: list[str] = []
        params: list[Any] = []
        if uuid is not None:
            where.append("subject_key = ?")
            params.append(str(uuid))
        if subject is not None:
            where.append("subject = ?")
            params.append(subject)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._query(sql + " ORDER BY id", params)
        return [
            AuditEntry(str(r[0]), r[1], r[2], as_datetime(r[3]), r[4],
                       self._audit_changes(r[5] if isinstance(r[5], dict) else json.loads(r[5])), r[6], r[7])
            for r in rows
        ]

    def _audit_changes(self, changes: dict[str, Any]) -> dict[str, Any]:
        """The audit log's changes as the user reads them (GeoPackage turns its point blobs into x, y)."""
        return changes

    # ------------------------------------------------------------------ value conversion
    def _date_param(self, value: dt.date) -> Any:
        return value.isoformat()

    def _time_param(self, value: dt.time | None) -> Any:
        return None if value is None else value.strftime("%H:%M")

    def _timestamp(self, value: dt.datetime) -> Any:
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
