"""One event store, two backends: everything that is the same for GeoPackage and PostGIS.

The backends supply a DB-API connection and a few dialect hooks (placeholders, how a point is
written and read, the columnar loader); validation, auditing, review rules and optimistic
concurrency live here once, so both backends behave the same by construction.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
import uuid as uuid_module
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import privacy, schema
from ..batch import EventBatch
from ..errors import ConflictError, DatabaseUnavailable, EstError, PermissionDenied, SchemaError
from ..model import EDITABLE_FIELDS, Category, Event, EventColumns, Organisation, Status
from ..reference import default_categories, default_organisations, municipality
from ..validation import Extent, ValidationContext, check
from .privacy_ops import PrivacyOps

PLUGIN_VERSION_KEY = "plugin_version"
AUDIT_SCHEMA_VERSION = 4  # from this schema on, the database's triggers write the audit log
SETUP_ACTOR = "EST Weekly (setup)"  # who the audit log names for a new database's reference data

# The event columns in the order every SELECT in this module uses (geometry comes first,
# through the dialect's point expression).
EVENT_FIELDS = (
    "fid",
    "uuid",
    "category",
    "organisation",
    "reporter",
    "event_date",
    "time_from",
    "time_to",
    "place_name",
    "description",
    "status",
    "reviewer",
    "reviewed_at",
    "review_reason",
    "duplicate_of",
    "created_at",
    "updated_at",
    "version",
    "personal_data",
)


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


def utc_now() -> dt.datetime:
    """Now in UTC, to the millisecond (what both backends store)."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class EventStore(PrivacyOps, ABC):
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
    def load_columns(self, status: Status | None = Status.APPROVED) -> EventColumns:
        """All events of *status* as numpy columns, without a per-row Python loop."""

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
        from ..version import plugin_version

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
            cursor.execute(self._sql(f"DELETE FROM {self._table('est_settings')} WHERE key = ?"), (key,))
            cursor.execute(
                self._sql(f"INSERT INTO {self._table('est_settings')} (key, value) VALUES (?, ?)"), (key, value)
            )
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
        return [Organisation(*row[:4], active=bool(row[4])) for row in rows]

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
            time_from=_as_time(values["time_from"]),
            time_to=_as_time(values["time_to"]),
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
        )

    def get(self, uuid: str) -> Event:
        _require_uuid(uuid)
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
        sql += " AND status <> 'withdrawn' ORDER BY event_date, fid"
        events = [self._row_to_event(row) for row in self._query(sql, params)]
        return [e for e in events if (e.x - x) ** 2 + (e.y - y) ** 2 <= radius_m**2]

    def approved_events_by_fid(self, fids: Sequence[int]) -> list[Event]:
        """Approved events by fid, as this login may see them (the compilation view): exports."""
        part = [int(v) for v in fids]
        if not part:
            return []
        sql = f"{self._select_events_sql('approved_events')} WHERE fid IN ({', '.join('?' for _ in part)}) ORDER BY fid"
        return [self._row_to_event(row) for row in self._query(sql, part)]

    def common_place_name(self, x: float, y: float, half: float, date_from: dt.date, date_to: dt.date) -> str:
        """The place name reporters used most often for approved events within a square of
        2 × *half* around a point and between two dates ("" when none): names a hot-spot."""
        rows = self._query(
            f"SELECT place_name, count(*) AS n FROM {self._table('approved_events')} WHERE {self._near_sql()} "
            "AND event_date BETWEEN ? AND ? AND place_name <> '' "
            "GROUP BY place_name ORDER BY n DESC, place_name LIMIT 1",
            (*self._near_params(x, y, half), self._date_param(date_from), self._date_param(date_to)),
        )
        return str(rows[0][0]) if rows else ""

    @abstractmethod
    def _near_sql(self) -> str: ...

    @abstractmethod
    def _near_params(self, x: float, y: float, radius: float) -> tuple[Any, ...]: ...

    # ------------------------------------------------------------------ writing events
    def _row_values(self, event: Event, now: dt.datetime) -> tuple[Any, ...]:
        """The INSERT parameters of *event* in the order of ``_insert_sql``."""
        return (
            *self._point_params(event.x, event.y),
            str(event.uuid),
            event.category,
            event.organisation,
            event.reporter or "",
            self._date_param(event.event_date),
            self._time_param(event.time_from),
            self._time_param(event.time_to),
            event.place_name or "",
            event.description or "",
            Status(event.status).value,
            event.reviewer,
            self._timestamp(event.reviewed_at) if event.reviewed_at else None,
            event.review_reason,
            event.duplicate_of,
            self._timestamp(event.created_at or now),
            self._timestamp(event.updated_at or now),
            int(event.version or 1),
            personal_data_flags(event),
        )

    def _insert_sql(self) -> str:
        columns = ("geom", *EVENT_FIELDS[1:])
        params = [self._point_param_sql()] + ["?"] * (len(columns) - 1)
        return self._sql(
            f"INSERT INTO {self._table('events')} ({', '.join(columns)}) VALUES ({', '.join(params)})"
        )

    def submit(self, event: Event, actor: str, today: dt.date | None = None) -> Event:
        """Store a new report as *submitted* (validated first; audited)."""
        check(event, self.validation_context(today))
        now = utc_now()
        event = event.with_changes(
            status=Status.SUBMITTED, reporter=event.reporter or actor, created_at=now, updated_at=now, version=1,
            reviewer=None, reviewed_at=None, review_reason=None, duplicate_of=None,
        )
        with self.transaction() as cursor:
            self._audit_context(cursor, actor)
            # RETURNING: what the database stored (on PostGIS it sets reporter, organisation, times).
            cursor.execute(self._insert_sql() + f" RETURNING {self._point_select_sql()}, {', '.join(EVENT_FIELDS)}",
                           self._row_values(event, now))
            row = cursor.fetchone()
        return self._row_to_event(row)

    def insert_many(self, events: Iterable[Event], **options: Any) -> int:
        """Insert Event objects in one transaction (see ``insert_batch``)."""
        return self.insert_batch(EventBatch.from_events(list(events)), **options)

    def insert_batch(
        self, batch: EventBatch, *, validate: bool = True, today: dt.date | None = None,
        progress: Callable[[float], bool | None] | None = None, chunk: int = 100_000, actor: str = "import",
        source: str = "form",
    ) -> int:
        """Insert many events in one transaction: all of them, or (on any error) none.

        Imports and the demo generator use this. ``progress(fraction)`` may return False to
        cancel, which rolls everything back.
        """
        if validate:
            batch.check(self.validation_context(today))
        now = np.datetime64(utc_now().replace(tzinfo=None), "ms")
        total = len(batch)
        # A million row tuples would trigger hundreds of cyclic-GC passes that find nothing.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._bulk_source = source  # the rows' source (sources table): imports say which
            return self._insert_chunks(batch, total, now, progress, chunk, actor)
        finally:
            if collecting:
                gc.enable()

    def _insert_chunks(self, batch: EventBatch, total: int, now: np.datetime64,
                       progress: Callable[[float], bool | None] | None, chunk: int, actor: str) -> int:
        with self._bulk_session(total), self.transaction() as cursor:
            self._audit_context(cursor, actor)
            self._before_bulk(cursor, total)
            for start in range(0, total, chunk):
                rows = self._prepare_bulk(batch.slice(start, min(start + chunk, total)), now)
                self._bulk_insert(cursor, rows, now)
                if progress is not None and progress(min(start + chunk, total) / max(total, 1)) is False:
                    raise EstError("cancelled")
            self._after_bulk(cursor, total)
        return total

    def _prepare_bulk(self, batch: EventBatch, now: np.datetime64) -> Any:
        """Turn a chunk into what ``_bulk_insert`` writes (no database work here)."""
        return batch

    @abstractmethod
    def _bulk_insert(self, cursor: Any, rows: Any, now: np.datetime64) -> None:
        """Write one prepared chunk inside the current transaction."""

    @contextmanager
    def _bulk_session(self, rows: int) -> Iterator[None]:
        """Connection settings around a bulk insert of *rows* (outside its transaction)."""
        yield

    def _before_bulk(self, cursor: Any, rows: int) -> None:
        """Prepare a bulk insert inside its transaction (GeoPackage suspends indexes)."""

    def _after_bulk(self, cursor: Any, rows: int) -> None:
        """Finish a bulk insert inside the same transaction."""

    def _locked_event(self, cursor: Any, uuid: str, expected_version: int) -> Event:
        """Read the event for update and refuse if someone changed it since *expected_version*."""
        _require_uuid(uuid)
        cursor.execute(self._sql(self._select_events_sql() + " WHERE uuid = ?" + self._for_update()), (str(uuid),))
        row = cursor.fetchone()
        if row is None:
            raise EstError("not_found", uuid=uuid)
        current = self._row_to_event(row)
        if current.version != expected_version:
            raise ConflictError(
                "conflict", actor=current.reviewer or current.reporter, found=current.version, expected=expected_version
            )
        return current

    def _for_update(self) -> str:
        return ""

    def _write_event(self, cursor: Any, before: Event, after: Event, actor: str,
                     reason: str | None, now: dt.datetime) -> None:
        """UPDATE guarded by the version number, plus the audit row — one transaction."""
        assignments = ", ".join(f"{name} = ?" for name in EVENT_FIELDS[1:] if name not in ("uuid", "fid"))
        self._audit_context(cursor, actor, reason)
        values = self._row_values(after, now)
        point, rest = values[: len(self._point_params(0, 0))], values[len(self._point_params(0, 0)) + 1:]
        cursor.execute(
            self._sql(
                f"UPDATE {self._table('events')} SET geom = {self._point_param_sql()}, {assignments} "
                "WHERE uuid = ? AND version = ?"
            ),
            (*point, *rest, str(before.uuid), before.version),
        )
        if cursor.rowcount != 1:
            raise ConflictError("conflict", actor="?", found="?", expected=before.version)

    def update_event(self, uuid: str, expected_version: int, actor: str, *, as_reporter: bool = True,
                     today: dt.date | None = None, **changes: Any) -> Event:
        """Change a report's fields (reporter before review, or reviewer while correcting)."""
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise EstError("bad_value", field=", ".join(sorted(unknown)), value="")
        context = self.validation_context(today)
        now = utc_now()
        with self.transaction() as cursor:
            before = self._locked_event(cursor, uuid, expected_version)
            if as_reporter and before.status != Status.SUBMITTED:
                raise EstError("not_editable", status=before.status.value)
            after = before.with_changes(**changes, updated_at=now, version=before.version + 1)
            check(after, context)
            self._write_event(cursor, before, after, actor, None, now)
        return self.get(uuid)

    def withdraw(self, uuid: str, expected_version: int, actor: str) -> Event:
        """The reporter takes back a report that has not been reviewed yet."""
        now = utc_now()
        with self.transaction() as cursor:
            before = self._locked_event(cursor, uuid, expected_version)
            if before.status != Status.SUBMITTED:
                raise EstError("not_editable", status=before.status.value)
            after = before.with_changes(status=Status.WITHDRAWN, updated_at=now, version=before.version + 1)
            self._write_event(cursor, before, after, actor, None, now)
        return self.get(uuid)

    def review(self, uuid: str, expected_version: int, reviewer: str, decision: Status, *,
               reason: str | None = None, corrections: dict[str, Any] | None = None,
               duplicate_of: str | None = None, today: dt.date | None = None) -> Event:
        """Approve or reject (with a reason) a submitted report, optionally correcting it first."""
        decision = Status(decision)
        if decision not in (Status.APPROVED, Status.REJECTED):
            raise EstError("bad_value", field="decision", value=decision.value)
        if decision == Status.REJECTED and not (reason or "").strip() and not duplicate_of:
            raise EstError("reason_required")
        if duplicate_of is not None and str(duplicate_of) == str(uuid):
            raise EstError("duplicate_self")
        corrections = dict(corrections or {})
        unknown = set(corrections) - set(EDITABLE_FIELDS)
        if unknown:
            raise EstError("bad_value", field=", ".join(sorted(unknown)), value="")
        context = self.validation_context(today)
        now = utc_now()
        with self.transaction() as cursor:
            before = self._locked_event(cursor, uuid, expected_version)
            if before.status != Status.SUBMITTED:
                raise EstError("not_reviewable", status=before.status.value)
            if duplicate_of is not None:
                self._locked_event(cursor, duplicate_of, self._current_version(cursor, duplicate_of))
            after = before.with_changes(
                **corrections, status=decision, reviewer=reviewer, reviewed_at=now,
                review_reason=(reason or None), duplicate_of=duplicate_of,
                updated_at=now, version=before.version + 1,
            )
            check(after, context)
            self._write_event(cursor, before, after, reviewer, reason, now)
        return self.get(uuid)

    def _current_version(self, cursor: Any, uuid: str) -> int:
        cursor.execute(self._sql(f"SELECT version FROM {self._table('events')} WHERE uuid = ?"), (str(uuid),))
        row = cursor.fetchone()
        if row is None:
            raise EstError("not_found", uuid=uuid)
        return int(row[0])

    def approve_many(self, items: Sequence[tuple[str, int]], reviewer: str) -> int:
        """Bulk approve ``(uuid, version)`` pairs: all of them or, on a conflict, none."""
        now = utc_now()
        with self.transaction() as cursor:
            for uuid, version in items:
                before = self._locked_event(cursor, uuid, version)
                if before.status != Status.SUBMITTED:
                    raise EstError("not_reviewable", status=before.status.value)
                after = before.with_changes(status=Status.APPROVED, reviewer=reviewer, reviewed_at=now,
                                            updated_at=now, version=before.version + 1)
                self._write_event(cursor, before, after, reviewer, None, now)
        return len(items)

    # ------------------------------------------------------------------ audit
    def _audit_context(self, cursor: Any, actor: str, reason: str | None = None) -> None:
        """Tell the database's audit triggers who acts and why, for the rest of this transaction.

        The triggers write the audit row themselves (from → to computed by the database), so a
        change made with psql or another SQLite client is logged like one made here. On PostGIS
        the actor is the login unless the connection is the schema's owner (see the README).
        """
        _check_actor(actor)
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


# ---------------------------------------------------------------------- helpers
# Rules the database refuses with 'est:<code>' (triggers on both backends, see schema_security).
_REFUSALS = ("status_transition", "audit_append_only", "no_report_role", "other_organisation", "fixed_field",
             "review_fields", "not_reviewer", "own_report", "correction_reason", "not_admin", "bad_login",
             "bad_role", "weak_password", "login_exists", "no_such_login", "own_admin")


def database_refusal(error: Exception) -> PermissionDenied | None:
    """The database's own refusal (a trigger's 'est:…', row-level security, a missing grant) in the user's words."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    for code in _REFUSALS:
        if f"est:{code}" in first:
            return PermissionDenied(f"db_{code}")
    if getattr(error, "pgcode", None) == "42501":  # insufficient_privilege: grants or row-level security
        return PermissionDenied("db_refused", detail=first[:200])
    return None


def parse_wkt(wkt: str) -> Any:
    """A QgsGeometry from WKT, or the user's "bad value" error (a priority's area)."""
    from qgis.core import QgsGeometry

    geometry = QgsGeometry.fromWkt(wkt)
    if geometry.isNull() or geometry.isEmpty():
        raise EstError("bad_value", field="geometry", value=str(wkt)[:40])
    return geometry


def personal_data_flags(event: Event) -> str:
    """What the privacy scan finds in the report's free text (stored with it; reviewers see it)."""
    return privacy.flags(f"{event.place_name or ''}\n{event.description or ''}")


def _check_actor(actor: str) -> None:
    """Actor names (logins, local user names) are short plain text: no control characters."""
    text = str(actor or "")
    if not text.strip() or len(text) > 100 or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise EstError("bad_actor", value=text[:40].encode("unicode_escape").decode("ascii"))


def _require_uuid(value: str) -> None:
    """Ids are UUIDs; anything else (a typo, a hostile string) simply does not exist."""
    try:
        uuid_module.UUID(str(value))
    except ValueError:
        raise EstError("not_found", uuid=str(value)[:40]) from None


def as_date(value: Any) -> dt.date | None:
    """A DATE from either driver (text on GeoPackage, date on PostGIS); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_time(value: Any) -> dt.time | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    hours, minutes = str(value).split(":")[:2]
    return dt.time(int(hours), int(minutes))


def as_datetime(value: Any) -> dt.datetime | None:
    """A timestamp from either driver, always timezone-aware (UTC when none was stored)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    text = str(value).replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def audit_value(value: Any) -> Any:
    """A field value as the audit log's JSON keeps it (ISO dates, enum values, lists)."""
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Status):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float):
        return round(value, 3)
    return value


def changed_fields(before: Any, after: Any, names: Sequence[str]) -> dict[str, list[Any]]:
    """from → to of every named field that changed: what the audit log keeps."""
    return {
        name: [audit_value(getattr(before, name)), audit_value(getattr(after, name))]
        for name in names
        if audit_value(getattr(before, name)) != audit_value(getattr(after, name))
    }


def columns_from_arrays(fid: Any, x: Any, y: Any, day: Any, mf_plus1: Any, mt_plus1: Any, category: Any,
             organisation: Any, categories: list[str], organisations: list[str]) -> EventColumns:
    """EventColumns from loader arrays; minutes arrive shifted by one so -1 (unknown) fits unsigned."""
    day = np.asarray(day, dtype=np.int32)
    return EventColumns(
        fid=np.asarray(fid, dtype=np.int64),
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        category=np.asarray(category, dtype=np.int16),
        organisation=np.asarray(organisation, dtype=np.int16),
        day=day,
        weekday=((day + 3) % 7).astype(np.int8),  # 1970-01-01 was a Thursday
        minute_from=(np.asarray(mf_plus1, dtype=np.int32) - 1).astype(np.int16),
        minute_to=(np.asarray(mt_plus1, dtype=np.int32) - 1).astype(np.int16),
        category_codes=categories,
        organisation_codes=organisations,
    )
