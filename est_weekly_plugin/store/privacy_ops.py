"""Privacy operations of the store: redaction, retention and pseudonymisation, access requests,
recorded exports and small-count suppression — one interface, both backends.

On PostGIS each step is one of the database's own functions (``est.redact_event_text``,
``est.pseudonymise_events``, ``est.log_export``), the only ways any role can change the audit
log. On a GeoPackage the same steps run here, inside one transaction, with the redaction flag
that opens the SQLite triggers for it.
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from typing import Any

from ..domain.errors import EstError
from ..domain.model import Event, Status
from .schema_privacy import MARKER

RETENTION_KEY = "retention_months"
SUPPRESS_KEY = "suppress_below"
DEFAULT_RETENTION_MONTHS = 24
DEFAULT_SUPPRESS_BELOW = 3
_TEXT_FIELDS = ("description", "place_name", "review_reason")
PSEUDONYMISED_FIELDS = ("description", "review_reason", "reporter")  # places stay: they are what EST is about


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day *months* earlier (the last day of a shorter month)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for candidate in range(day.day, 27, -1):
        try:
            return dt.date(year, month + 1, candidate)
        except ValueError:
            continue
    return dt.date(year, month + 1, min(day.day, 28))


class PrivacyOps(ABC):
    """Mixed into EventStore (needs its transaction, settings and audit hooks)."""

    # ------------------------------------------------------------------ settings
    def setting(self, key: str, default: str | None = None) -> str | None:
        rows = self._query(f"SELECT value FROM {self._table('est_settings')} WHERE key = ?", (key,))  # type: ignore[attr-defined]
        return rows[0][0] if rows else default

    def set_setting(self, key: str, value: str | None, actor: str = "EST Weekly") -> None:
        """Administrators: one database setting (audited like every change)."""
        with self.transaction() as cursor:  # type: ignore[attr-defined]
            self._audit_context(cursor, actor)  # type: ignore[attr-defined]
            self._put_setting(cursor, key, value)

    def _put_setting(self, cursor: Any, key: str, value: str | None) -> None:
        """One setting inside the caller's transaction; None removes it."""
        table = self._table("est_settings")  # type: ignore[attr-defined]
        cursor.execute(self._sql(f"DELETE FROM {table} WHERE key = ?"), (key,))  # type: ignore[attr-defined]
        if value is not None:
            cursor.execute(self._sql(f"INSERT INTO {table} (key, value) VALUES (?, ?)"), (key, value))  # type: ignore[attr-defined]

    def retention_months(self) -> dict[str, int]:
        """How long free text and reporter identity are kept: ``{"*": months, category: months}``."""
        try:
            stored = json.loads(self.setting(RETENTION_KEY) or "{}")
        except ValueError:
            stored = {}
        result = {"*": DEFAULT_RETENTION_MONTHS}
        result.update({str(k): int(v) for k, v in stored.items() if str(v).isdigit() and int(v) > 0})
        return result

    def set_retention_months(self, months: int, per_category: dict[str, int] | None = None,
                             actor: str = "EST Weekly") -> None:
        values = {"*": int(months), **{k: int(v) for k, v in (per_category or {}).items()}}
        if any(v < 1 or v > 240 for v in values.values()):
            raise EstError("bad_value", field=RETENTION_KEY, value=str(values)[:40])
        self.set_setting(RETENTION_KEY, json.dumps(values), actor)

    def suppress_below(self) -> int:
        """Counts under this many events are not shown in exports and partner-facing summaries."""
        value = self.setting(SUPPRESS_KEY) or ""
        return int(value) if value.isdigit() else DEFAULT_SUPPRESS_BELOW

    # ------------------------------------------------------------------ redaction
    def redact(self, uuid: str, expected_version: int, reviewer: str, part: str | None = None,
               marker: str = MARKER) -> Event:
        """Remove *part* (or the whole description) from a report and from every audit entry of it."""
        with self.transaction() as cursor:  # type: ignore[attr-defined]
            self._audit_context(cursor, reviewer)  # type: ignore[attr-defined]
            self._redact(cursor, str(uuid), int(expected_version), part or "", marker, reviewer)
        return self.get(uuid)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ retention
    def pseudonymise(self, today: dt.date | None = None, actor: str = "EST Weekly") -> int:
        """Past the retention limit: reporter identity → the organisation alone, free text removed,
        in the events and their history. Counts, categories, places and times stay."""
        today = today or dt.date.today()
        limits = self.retention_months()
        categories = [c.code for c in self.categories()]  # type: ignore[attr-defined]
        done = 0
        with self.transaction() as cursor:  # type: ignore[attr-defined]
            self._audit_context(cursor, actor)  # type: ignore[attr-defined]
            for code in categories:
                before = months_before(today, limits.get(code, limits["*"]))
                done += self._pseudonymise(cursor, code, before, actor)
        return done

    # ------------------------------------------------------------------ access and sharing
    def subject_access(self, login: str) -> dict[str, Any]:
        """Everything linked to one login, machine-readable: reports filed, reviews made, audit entries."""
        def events(column: str) -> list[dict[str, Any]]:
            rows = self._query(self._select_events_sql() + f" WHERE {column} = ? ORDER BY fid", (login,))  # type: ignore[attr-defined]
            return [_event_record(self._row_to_event(row)) for row in rows]  # type: ignore[attr-defined]

        audit = self._query(  # type: ignore[attr-defined]
            f"SELECT subject, subject_key, action, actor, at, reason, changes FROM {self._table('audit_log')} "  # type: ignore[attr-defined]
            "WHERE actor = ? OR login = ? ORDER BY id", (login, login))
        return {
            "login": login,
            "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "reports_filed": events("reporter"),
            "reviews_made": events("reviewer"),
            "audit_entries": [
                {"subject": r[0], "key": r[1], "action": r[2], "actor": r[3], "at": str(r[4]), "reason": r[5],
                 "changes": r[6] if isinstance(r[6], dict) else json.loads(r[6] or "{}")}
                for r in audit
            ],
        }

    def record_export(self, actor: str, what: str, filter_text: str, rows: int) -> None:
        """An export in the audit log: who exported what, with which filter, how many rows."""
        with self.transaction() as cursor:  # type: ignore[attr-defined]
            self._audit_context(cursor, actor)  # type: ignore[attr-defined]
            self._log_export(cursor, what[:200], filter_text[:2000], int(rows), actor)

    # ------------------------------------------------------------------ dialect hooks
    @abstractmethod
    def _redact(self, cursor: Any, uuid: str, version: int, part: str, marker: str, actor: str) -> None:
        """Replace the text in the event and its audit entries; audit that it happened."""

    @abstractmethod
    def _pseudonymise(self, cursor: Any, category: str, before: dt.date, actor: str) -> int:
        """Pseudonymise the category's events before *before*; returns how many changed."""

    @abstractmethod
    def _log_export(self, cursor: Any, what: str, filter_text: str, rows: int, actor: str) -> None:
        """Write the export's audit row."""


def _event_record(event: Event) -> dict[str, Any]:
    return {
        "uuid": event.uuid, "category": event.category, "organisation": event.organisation,
        "event_date": event.event_date.isoformat() if event.event_date else None,
        "time_from": event.time_from.strftime("%H:%M") if event.time_from else None,
        "time_to": event.time_to.strftime("%H:%M") if event.time_to else None,
        "x": event.x, "y": event.y, "place_name": event.place_name, "description": event.description,
        "reporter": event.reporter, "status": Status(event.status).value, "reviewer": event.reviewer,
        "review_reason": event.review_reason,
        "created_at": event.created_at.isoformat() if event.created_at else None,
    }


def scrub_changes(changes: dict[str, Any], removed: str, marker: str) -> dict[str, Any]:
    """The free-text values of one audit entry with *removed* replaced (GeoPackage side)."""
    result = {}
    for key, value in changes.items():
        if key in _TEXT_FIELDS and isinstance(value, list):
            value = [v.replace(removed, marker) if isinstance(v, str) else v for v in value]
        result[key] = value
    return result


def blank_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """An audit entry with its free text and reporter identity emptied (pseudonymisation)."""
    return {key: ([("" if isinstance(v, str) else v) for v in value]
                  if key in PSEUDONYMISED_FIELDS and isinstance(value, list) else value)
            for key, value in changes.items()}
