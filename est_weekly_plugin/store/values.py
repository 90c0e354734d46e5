"""Values as the store reads and writes them, and the store's own checks: dates and times from
either driver, the audit log's value form, the database's refusals in the user's words."""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..domain import privacy
from ..domain.errors import EstError, PermissionDenied
from ..domain.model import PRECISION_CODES, Event, EventColumns, Precision, Status

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
    "location_precision",
    "source",
    "source_id",
)


def utc_now() -> dt.datetime:
    """Now in UTC, to the millisecond (what both backends store)."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


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


def check_actor(actor: str) -> None:
    """Actor names (logins, local user names) are short plain text: no control characters."""
    text = str(actor or "")
    if not text.strip() or len(text) > 100 or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise EstError("bad_actor", value=text[:40].encode("unicode_escape").decode("ascii"))


def require_uuid(value: str) -> None:
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


def as_time(value: Any) -> dt.time | None:
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
    if isinstance(value, (Status, Precision)):
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
             organisation: Any, categories: list[str], organisations: list[str],
             precision: Any = None) -> EventColumns:
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
        precision=None if precision is None else np.asarray(precision, dtype=np.uint8),
    )


def columns_of_events(events: Sequence[Event], categories: list[str], organisations: list[str]) -> EventColumns:
    """EventColumns from Event objects (few events, or files another program wrote).

    Raises KeyError when an event's category or organisation is not in the given lists.
    """
    from ..domain.model import day_number, minute_of_day

    ordered = sorted(events, key=lambda e: e.fid or 0)
    index_cat = {code: i for i, code in enumerate(categories)}
    index_org = {code: i for i, code in enumerate(organisations)}
    return columns_from_arrays(
        np.array([e.fid for e in ordered], dtype=np.int64), np.array([e.x for e in ordered], dtype=np.float64),
        np.array([e.y for e in ordered], dtype=np.float64),
        np.array([day_number(e.event_date) for e in ordered], dtype=np.int32),
        np.array([minute_of_day(e.time_from) + 1 for e in ordered], dtype=np.int32),
        np.array([minute_of_day(e.time_to or e.time_from) + 1 for e in ordered], dtype=np.int32),
        np.array([index_cat[e.category] for e in ordered], dtype=np.int16),
        np.array([index_org[e.organisation] for e in ordered], dtype=np.int16),
        categories, organisations,
        np.array([PRECISION_CODES[Precision(e.location_precision).value] for e in ordered], dtype=np.uint8),
    )


def mark_precision(columns: EventColumns, fids: np.ndarray, codes: np.ndarray) -> None:
    """Set ``columns.precision`` of the events *fids* to *codes* (fids not in the columns are ignored)."""
    order = np.argsort(columns.fid, kind="stable")
    sorted_fid = columns.fid[order]
    position = np.searchsorted(sorted_fid, fids)
    inside = position < sorted_fid.size
    hit = np.zeros(fids.size, dtype=bool)
    hit[inside] = sorted_fid[position[inside]] == fids[inside]
    columns.precision[order[position[hit]]] = codes[hit]
