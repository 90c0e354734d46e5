"""Events from other systems, the store's side: precision in columnar reads, the sources' own ids
(re-importing adds nothing) and the shared import profiles.

Mixed into :class:`store.base.EventStore`; the import engine (``store.importing``) uses only these
public methods, so it works the same on a GeoPackage and on PostGIS.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..domain.errors import EstError
from ..domain.model import PRECISION_CODES, EventColumns, Status
from .values import mark_precision, utc_now

# Events whose point is a place (not an area's centroid): what is compared, named and drawn by position.
PLACED_SQL = "coalesce(location_precision, 'point') IN ('point', 'street')"
_SOURCE_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.-")


class SourceOps:
    """Sources, source ids, import profiles and the precision of columnar reads."""

    dialect: str

    @abstractmethod
    def _load_columns(self, status: Status | None = Status.APPROVED) -> EventColumns: ...

    def load_columns(self, status: Status | None = Status.APPROVED) -> EventColumns:
        """All events of *status* as numpy columns, without a per-row Python loop, with each event's
        location precision (area events are few: read by a second small query on a partial index)."""
        columns = self._load_columns(status)
        if not len(columns):
            return columns
        table = "approved_events" if status == Status.APPROVED else "events"
        where, params = ("location_precision <> 'point'", ()) if status is None else \
            ("location_precision <> 'point' AND status = ?", (Status(status).value,))
        rows = self._query(f"SELECT fid, location_precision FROM {self._table(table)} WHERE {where}", params)
        if rows:
            mark_precision(columns, np.array([int(row[0]) for row in rows], dtype=np.int64),
                           np.array([PRECISION_CODES[row[1]] for row in rows], dtype=np.uint8))
        return columns

    # ------------------------------------------------------------------ sources
    def sources(self) -> list[dict[str, Any]]:
        """Every event source: code, name, organisation, trusted."""
        rows = self._query(f"SELECT code, name, organisation, trusted FROM {self._table('sources')} ORDER BY code")
        return [{"code": r[0], "name": r[1], "organisation": r[2], "trusted": bool(r[3])} for r in rows]

    def existing_source_ids(self, source: str, ids: Iterable[str] | None = None) -> set[str]:
        """The source ids of *source* already stored (all of them, or those among *ids*)."""
        table = self._table("events")
        if ids is None:
            rows = self._query(f"SELECT source_id FROM {table} WHERE source = ? AND source_id IS NOT NULL", (source,))
            return {row[0] for row in rows}
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            rows = self._query(f"SELECT source_id FROM {table} WHERE source = ? AND source_id IN "
                               f"({', '.join('?' for _ in part)})", (source, *part))
            found.update(row[0] for row in rows)
        return found

    # ------------------------------------------------------------------ import profiles
    def import_profiles(self) -> dict[str, dict[str, Any]]:
        """Saved import profiles by name (each a JSON object with its ``source``)."""
        rows = self._query(f"SELECT name, source, profile FROM {self._table('import_profiles')} ORDER BY name")
        result = {}
        for name, source, profile in rows:
            data = profile if isinstance(profile, dict) else json.loads(profile or "{}")
            result[name] = {**data, "name": name, "source": source}
        return result

    def save_import_profile(self, name: str, source: str, source_name: str, profile: dict[str, Any]) -> None:
        """Save (or replace) a named profile; its source is created, untrusted, when new.

        On PostGIS only administrators and reviewers (the safety unit) may (``est.save_import_profile``).
        """
        name, source = name.strip(), source.strip()
        if not name or len(name) > 100 or not source or not set(source) <= _SOURCE_CODE_CHARS or len(source) > 64:
            raise EstError("bad_value", field="profile", value=f"{name[:40]} / {source[:40]}")
        payload = json.dumps(profile, ensure_ascii=False, sort_keys=True)
        with self.transaction() as cursor:
            self._audit_context(cursor, self._local_actor())
            self._save_profile(cursor, name, source, source_name.strip() or source, payload)

    def _save_profile(self, cursor: Any, name: str, source: str, source_name: str, payload: str) -> None:
        cursor.execute(self._sql(f"INSERT INTO {self._table('sources')} (code, name) VALUES (?, ?) "
                                 "ON CONFLICT (code) DO NOTHING"), (source, source_name))
        cursor.execute(self._sql(
            f"INSERT INTO {self._table('import_profiles')} (name, source, profile, updated_at, updated_by) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET source = excluded.source, "
            "profile = excluded.profile, updated_at = excluded.updated_at, updated_by = excluded.updated_by"),
            (name, source, payload, self._timestamp(utc_now()), self._local_actor()))
