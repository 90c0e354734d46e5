"""Writing events: reports, edits, withdrawals, review decisions and all-or-nothing bulk inserts —
the same for both backends, over the dialect hooks of :class:`store.base.EventStore`.

The database decides too (PostGIS: row-level security, the state machine and the audit log in
triggers); these checks give the user the reason before the database would refuse.
"""

from __future__ import annotations

import datetime as dt
import gc
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..domain.errors import ConflictError, EstError
from ..domain.model import EDITABLE_FIELDS, Event, Precision, Status
from ..domain.validation import check
from .batch import EventBatch
from .values import EVENT_FIELDS, personal_data_flags, require_uuid, utc_now


class EventWriting(ABC):
    """Mixed into EventStore (which supplies transactions, SQL dialect hooks and the audit context)."""

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
            Precision(event.location_precision).value,
            event.source or "form",
            event.source_id,
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
        require_uuid(uuid)
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
        _require_editable(changes)
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
        _require_editable(corrections)
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


def _require_editable(changes: dict[str, Any]) -> None:
    """Only the fields a reporter or reviewer may change (the rest the database sets)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise EstError("bad_value", field=", ".join(sorted(unknown)), value="")
