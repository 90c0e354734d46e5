"""Meetings and priorities in the EST database — the store's side of ``domain.meetings``.

One repository for both backends: SQL through the store's placeholders, geometry through the
adapters' codec (``_geometry_param_sql`` / ``_geometry_param`` / ``_geometry_select_sql`` /
``_decode_geometry``), every write guarded by a ``version`` and audited by the database.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid as uuid_module
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from ..domain.errors import ConflictError, EstError
from ..domain.meetings import KINDS, STATUSES, Meeting, Priority, priority_from_hotspot
from ..domain.week import IsoWeek
from .base import EventStore
from .values import as_date, as_datetime, utc_now

_MEETING_FIELDS = ("id", "uuid", "iso_week", "meeting_date", "organisations", "notes", "created_at", "updated_at",
                   "version")
_PRIORITY_FIELDS = ("fid", "uuid", "meeting_id", "kind", "rank", "name", "categories", "radius_m", "responsible",
                    "action", "time_focus", "status", "follow_up_comment", "created_at", "updated_at", "version")
_PRIORITY_EDITABLE = ("kind", "rank", "name", "categories", "radius_m", "responsible", "action", "time_focus",
                      "status", "follow_up_comment", "wkt")


class MeetingRepository:
    """Meetings and priorities in an EST store (GeoPackage or PostGIS), audited and versioned."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    # -- dialect helpers ----------------------------------------------------------------
    def _t(self, name: str) -> str:
        return self.store._table(name)

    def _json_sql(self) -> str:
        return self.store._json_param_sql()

    def _write(self, actor: str, sql: str, params: Sequence[Any], reason: str | None = None) -> int:
        """One audited statement in its own transaction; returns how many rows it changed."""
        with self.store.transaction() as cursor:
            self.store._audit_context(cursor, actor, reason)
            cursor.execute(self.store._sql(sql), tuple(params))
            return int(cursor.rowcount)

    # -- meetings -------------------------------------------------------------------------
    def _meeting_from_row(self, row: Sequence[Any]) -> Meeting:
        values = dict(zip(_MEETING_FIELDS, row))
        organisations = values["organisations"]
        if isinstance(organisations, str):
            organisations = json.loads(organisations or "[]")
        return Meeting(
            iso_week=values["iso_week"], meeting_date=as_date(values["meeting_date"]),
            organisations=tuple(organisations or ()), notes=values["notes"] or "", uuid=str(values["uuid"]),
            id=int(values["id"]), created_at=as_datetime(values["created_at"]),
            updated_at=as_datetime(values["updated_at"]), version=int(values["version"]),
        )

    def meeting(self, iso_week: str) -> Meeting | None:
        """The meeting that reviews *iso_week*, if one was created."""
        week = IsoWeek.of(iso_week).label
        rows = self.store._query(f"SELECT {', '.join(_MEETING_FIELDS)} FROM {self._t('meetings')} WHERE iso_week = ?",
                                 (week,))
        return self._meeting_from_row(rows[0]) if rows else None

    def meetings(self) -> list[Meeting]:
        rows = self.store._query(f"SELECT {', '.join(_MEETING_FIELDS)} FROM {self._t('meetings')} ORDER BY iso_week")
        return [self._meeting_from_row(row) for row in rows]

    def create_meeting(self, iso_week: str, actor: str, *, meeting_date: dt.date | None = None,
                       organisations: Iterable[str] = (), notes: str = "") -> Meeting:
        """Create the meeting of *iso_week* (one per week; a second one is refused)."""
        week = IsoWeek.of(iso_week).label
        if self.meeting(week) is not None:
            raise EstError("meeting_exists", week=week)
        meeting_date = meeting_date or IsoWeek.of(week).next().monday
        now = utc_now()
        new_uuid = str(uuid_module.uuid4())
        orgs = list(organisations)
        self._write(actor,
            f"INSERT INTO {self._t('meetings')} (uuid, iso_week, meeting_date, organisations, notes, "
            f"created_at, updated_at, version) VALUES (?, ?, ?, {self._json_sql()}, ?, ?, ?, 1)",
            (new_uuid, week, self.store._date_param(meeting_date), json.dumps(orgs, ensure_ascii=False), notes,
             self.store._timestamp(now), self.store._timestamp(now)))
        return self.meeting(week)  # type: ignore[return-value]

    def ensure_meeting(self, iso_week: str, actor: str) -> Meeting:
        """The week's meeting, created on first use (the panel and the report use this)."""
        return self.meeting(iso_week) or self.create_meeting(iso_week, actor)

    def update_meeting(self, meeting: Meeting, actor: str, **changes: Any) -> Meeting:
        """Change date, organisations or notes; refused if someone changed it since *meeting* was read."""
        unknown = set(changes) - {"meeting_date", "organisations", "notes"}
        if unknown:
            raise EstError("bad_value", field=", ".join(sorted(unknown)), value="")
        after = replace(meeting, **{k: (tuple(v) if k == "organisations" else v) for k, v in changes.items()})
        now = utc_now()
        changed = self._write(actor,
            f"UPDATE {self._t('meetings')} SET meeting_date = ?, organisations = {self._json_sql()}, "
            "notes = ?, updated_at = ?, version = version + 1 WHERE uuid = ? AND version = ?",
            (self.store._date_param(after.meeting_date) if after.meeting_date else None,
             json.dumps(list(after.organisations), ensure_ascii=False), after.notes, self.store._timestamp(now),
             meeting.uuid, meeting.version))
        if changed != 1:
            raise ConflictError("conflict", actor="?", found="?", expected=meeting.version)
        return self.meeting(meeting.iso_week)  # type: ignore[return-value]

    # -- priorities -----------------------------------------------------------------------
    def _priority_select(self) -> str:
        return (f"SELECT {self.store._geometry_select_sql()}, {', '.join(_PRIORITY_FIELDS)} FROM {self._t('priorities')}")

    def _priority_from_row(self, row: Sequence[Any]) -> Priority:
        values = dict(zip(_PRIORITY_FIELDS, row[1:]))

        def codes(value: Any) -> tuple[str, ...]:
            return tuple(json.loads(value or "[]") if isinstance(value, str) else (value or ()))

        return Priority(
            kind=values["kind"], rank=int(values["rank"]), name=values["name"], wkt=self.store._decode_geometry(row[0]),
            radius_m=float(values["radius_m"]) if values["radius_m"] is not None else None,
            categories=codes(values["categories"]), responsible=codes(values["responsible"]),
            action=values["action"] or "", time_focus=values["time_focus"] or "", status=values["status"],
            follow_up_comment=values["follow_up_comment"] or "", uuid=str(values["uuid"]),
            meeting_id=int(values["meeting_id"]), fid=int(values["fid"]),
            created_at=as_datetime(values["created_at"]), updated_at=as_datetime(values["updated_at"]),
            version=int(values["version"]),
        )

    def priorities(self, meeting: Meeting, kind: str | None = None) -> list[Priority]:
        """The meeting's priorities: focus areas first, then hot-spots, each by rank."""
        sql = self._priority_select() + " WHERE meeting_id = ?"
        params: list[Any] = [meeting.id]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        rows = self.store._query(sql + " ORDER BY kind DESC, rank, fid", params)
        return [self._priority_from_row(row) for row in rows]

    def priority(self, uuid: str) -> Priority:
        try:
            uuid_module.UUID(str(uuid))
        except ValueError:
            raise EstError("not_found", uuid=str(uuid)[:40]) from None
        rows = self.store._query(self._priority_select() + " WHERE uuid = ?", (str(uuid),))
        if not rows:
            raise EstError("not_found", uuid=uuid)
        return self._priority_from_row(rows[0])

    @staticmethod
    def _check(priority: Priority) -> None:
        if priority.kind not in KINDS:
            raise EstError("bad_value", field="kind", value=priority.kind)
        if priority.status not in STATUSES:
            raise EstError("bad_value", field="status", value=priority.status)
        if not priority.name.strip():
            raise EstError("bad_value", field="name", value="")
        if priority.rank < 1:
            raise EstError("bad_value", field="rank", value=str(priority.rank))
        if priority.kind == "hotspot" and not priority.wkt:
            raise EstError("bad_value", field="geometry", value="")
        if priority.radius_m is not None and priority.radius_m <= 0:
            raise EstError("bad_value", field="radius_m", value=str(priority.radius_m))

    def add_priority(self, meeting: Meeting, priority: Priority, actor: str) -> Priority:
        """Store a new priority of *meeting* (validated; audited)."""
        self._check(priority)
        now = utc_now()
        new_uuid = str(uuid_module.uuid4())
        self._write(actor,
            f"INSERT INTO {self._t('priorities')} (geom, uuid, meeting_id, kind, rank, name, categories, "
            "radius_m, responsible, action, time_focus, status, follow_up_comment, created_at, updated_at, "
            f"version) VALUES ({self.store._geometry_param_sql()}, ?, ?, ?, ?, ?, {self._json_sql()}, ?, "
            f"{self._json_sql()}, ?, ?, ?, ?, ?, ?, 1)",
            (self.store._geometry_param(priority.wkt), new_uuid, meeting.id, priority.kind, int(priority.rank),
             priority.name.strip(), json.dumps(list(priority.categories)), priority.radius_m,
             json.dumps(list(priority.responsible), ensure_ascii=False), priority.action, priority.time_focus,
             priority.status, priority.follow_up_comment, self.store._timestamp(now), self.store._timestamp(now)))
        return self.priority(new_uuid)

    def update_priority(self, priority: Priority, actor: str, reason: str | None = None,
                        **changes: Any) -> Priority:
        """Change a priority read at ``priority.version``; a concurrent change is a conflict."""
        unknown = set(changes) - set(_PRIORITY_EDITABLE)
        if unknown:
            raise EstError("bad_value", field=", ".join(sorted(unknown)), value="")
        for key in ("categories", "responsible"):
            if key in changes:
                changes[key] = tuple(changes[key])
        after = replace(priority, **changes)
        self._check(after)
        now = utc_now()
        changed = self._write(actor,
            f"UPDATE {self._t('priorities')} SET geom = {self.store._geometry_param_sql()}, kind = ?, rank = ?, "
            f"name = ?, categories = {self._json_sql()}, radius_m = ?, responsible = {self._json_sql()}, "
            "action = ?, time_focus = ?, status = ?, follow_up_comment = ?, updated_at = ?, "
            "version = version + 1 WHERE uuid = ? AND version = ?",
            (self.store._geometry_param(after.wkt), after.kind, int(after.rank), after.name.strip(),
             json.dumps(list(after.categories)), after.radius_m,
             json.dumps(list(after.responsible), ensure_ascii=False), after.action, after.time_focus,
             after.status, after.follow_up_comment, self.store._timestamp(now), priority.uuid, priority.version),
            reason=reason)
        if changed != 1:
            raise ConflictError("conflict", actor="?", found="?", expected=priority.version)
        return self.priority(priority.uuid)

    def set_follow_up(self, priority: Priority, status: str, comment: str, actor: str) -> Priority:
        """Record the outcome of a priority at the next meeting: continue, done or dropped."""
        if status not in ("continue", "done", "dropped"):
            raise EstError("bad_value", field="status", value=status)
        return self.update_priority(priority, actor, status=status, follow_up_comment=comment)

    def delete_priority(self, priority: Priority, actor: str, reason: str | None = None) -> None:
        """Remove a priority (the audit row keeps what it was)."""
        changed = self._write(actor, f"DELETE FROM {self._t('priorities')} WHERE uuid = ? AND version = ?",
                              (priority.uuid, priority.version), reason=reason)
        if changed != 1:
            raise ConflictError("conflict", actor="?", found="?", expected=priority.version)

    def next_rank(self, meeting: Meeting, kind: str) -> int:
        ranks = [p.rank for p in self.priorities(meeting, kind)]
        return max(ranks, default=0) + 1

    def promote_hotspot(self, meeting: Meeting, spot: Any, actor: str, *, name: str | None = None,
                        category_codes: Sequence[str] | None = None) -> Priority:
        """One click: a compilation hot-spot becomes the next-ranked hot-spot priority."""
        priority = priority_from_hotspot(spot, rank=self.next_rank(meeting, "hotspot"), name=name,
                                         category_codes=category_codes)
        return self.add_priority(meeting, priority, actor)

