"""The GeoPackage backend's bulk insert: a large batch (an import, the demo) in one transaction.

Small batches go through the ordinary triggers and indexes. Large ones drop the secondary indexes
and the R-tree trigger, insert, then rebuild both in bulk — all inside the one transaction, so a
failure still leaves the file exactly as it was. A mixin of :class:`GeoPackageStore`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np

from . import rtree, schema, schema_import, schema_security_gpkg
from .batch import TIME_TEXT, EventBatch
from .gpkg_codec import (
    FLAGS_LE_NO_ENVELOPE,
    POINT_BLOB,
    decode_point,
    timestamps,
)
from .values import utc_now


class GpkgBulkWrite:
    """Bulk-insert hooks of the store (see ``EventWriting.insert_batch``) for a GeoPackage."""

    # ------------------------------------------------------------------ bulk insert
    # Small batches go through the ordinary triggers and indexes. Large ones drop the
    # secondary indexes and the R-tree trigger, insert, then rebuild both in bulk — all inside
    # the one transaction, so a failure still leaves the file exactly as it was.
    _BULK_THRESHOLD = 20_000

    @contextmanager
    def _bulk_session(self, rows: int) -> Iterator[None]:
        if rows < self._BULK_THRESHOLD:
            yield
            return
        # Categories and organisations were validated already; SQLite only lets this pragma
        # change outside a transaction.
        self._conn.execute("PRAGMA foreign_keys = OFF")
        self._conn.execute("PRAGMA threads = 2")  # sorter threads for the index rebuilds
        # index rebuilds and the audit's INSERT … SELECT sort in memory, not through 2 MB of cache and temp files
        self._conn.execute("PRAGMA cache_size = -262144")
        self._conn.execute("PRAGMA temp_store = MEMORY")
        # Into an empty table (a new database, a first import) there is nothing an OS crash
        # could lose, so the commit skips its fsync; otherwise every write stays durable.
        empty = self._conn.execute("SELECT NOT EXISTS (SELECT 1 FROM events)").fetchone()[0]
        if empty:
            self._conn.execute("PRAGMA synchronous = OFF")
        try:
            yield
        finally:
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA cache_size = -2000")
            self._conn.execute("PRAGMA temp_store = DEFAULT")

    def _before_bulk(self, cursor: Any, rows: int) -> None:
        self._suspended_indexes: list[str] = []
        self._bulk_points: list[tuple[np.ndarray, np.ndarray]] = []
        cursor.execute("SELECT count(*) FROM events")
        self._bulk_into_empty = cursor.fetchone()[0] == 0
        if rows < self._BULK_THRESHOLD:
            return
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql NOT NULL")
        for name, sql in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
            self._suspended_indexes.append(sql)
        cursor.execute("DROP TRIGGER IF EXISTS rtree_events_geom_insert")
        cursor.execute("DROP TRIGGER IF EXISTS trigger_insert_feature_count_events")
        # Audited row by row all the same, but in one INSERT … SELECT after the batch (_after_bulk).
        cursor.execute("SELECT coalesce(max(fid), 0) FROM events")
        self._audit_after_fid = int(cursor.fetchone()[0])
        cursor.execute("DROP TRIGGER IF EXISTS est_audit_events_insert")
        # The audit log's key index too, when the batch is large beside the log (rebuilt after).
        cursor.execute("SELECT coalesce(max(id) - min(id), 0), (SELECT sql FROM sqlite_master WHERE type = 'index' "
                       "AND name = 'audit_log_key') FROM audit_log")
        audit_rows, self._audit_index = cursor.fetchone()
        if self._audit_index and rows * 3 >= audit_rows:
            cursor.execute("DROP INDEX audit_log_key")
        else:
            self._audit_index = None

    def _prepare_bulk(self, batch: EventBatch, now: np.datetime64) -> Iterator[tuple[Any, ...]]:
        n = len(batch)
        self._bulk_points.append((batch.x, batch.y))
        blobs = np.zeros(n, dtype=POINT_BLOB)
        blobs["magic"], blobs["flags"], blobs["srid"] = b"GP", FLAGS_LE_NO_ENVELOPE, self.srid
        blobs["order"], blobs["type"], blobs["x"], blobs["y"] = 1, 1, batch.x, batch.y
        geoms = blobs.view("V29").tolist()
        dates = np.datetime_as_string(batch.event_date, unit="D").tolist()
        created = timestamps(batch.created_at if batch.created_at is not None else np.full(n, now))
        reviewed = timestamps(batch.reviewed_at) if batch.reviewed_at is not None else [None] * n
        time_from = np.where(batch.minute_from >= 0, TIME_TEXT[np.clip(batch.minute_from, 0, 1439)], None).tolist()
        time_to = np.where(batch.minute_to >= 0, TIME_TEXT[np.clip(batch.minute_to, 0, 1439)], None).tolist()
        nothing = [None] * n
        return zip(
            geoms, batch.uuid, batch.category.tolist(), batch.organisation.tolist(), batch.reporter, dates,
            time_from, time_to, batch.place_name, batch.description, batch.status.tolist(),
            batch.reviewer or nothing, reviewed, batch.review_reason or nothing, created, created,
            itertools.repeat(getattr(self, "_bulk_source", "form")),
            batch.personal_data if batch.personal_data is not None else itertools.repeat(""),
            batch.source_id or itertools.repeat(None),
            batch.location_precision.tolist() if batch.location_precision is not None else itertools.repeat("point"),
        )

    _ROWS_PER_STATEMENT = 40  # a quarter faster than a row per statement; 40 × 20 variables < SQLite's old 999

    @staticmethod
    def _insert_rows_sql(count: int) -> str:
        row = "(" + ", ".join(["?"] * 16) + ", 1, ?, ?, ?, ?)"
        return ("INSERT INTO events (geom, uuid, category, organisation, reporter, event_date, time_from, time_to, "
                "place_name, description, status, reviewer, reviewed_at, review_reason, created_at, updated_at, "
                "version, source, personal_data, source_id, location_precision) VALUES " + ", ".join([row] * count))

    def _bulk_insert(self, cursor: Any, rows: Iterator[tuple[Any, ...]], now: np.datetime64) -> None:
        rows, step = list(rows), self._ROWS_PER_STATEMENT
        whole = len(rows) - len(rows) % step
        if whole:
            cursor.executemany(self._insert_rows_sql(step),
                               (tuple(itertools.chain.from_iterable(rows[i:i + step])) for i in range(0, whole, step)))
        if whole < len(rows):
            cursor.executemany(self._insert_rows_sql(1), rows[whole:])

    def _after_bulk(self, cursor: Any, rows: int) -> None:
        if self._suspended_indexes:
            fids, x, y = self._inserted_points(cursor) if self._bulk_into_empty else self._all_points(cursor)
            size = rtree.node_size(self._conn, "rtree_events_geom")
            # The R-tree is packed by numpy in a thread while SQLite (GIL released) rebuilds
            # the indexes; then both are written in this transaction.
            with ThreadPoolExecutor(1) as pool:
                packed = pool.submit(rtree.plan, fids, x, x, y, y, size)
                for sql in self._suspended_indexes:
                    cursor.execute(sql)
                rtree.write(self._conn, "rtree_events_geom", packed.result(), size)
            cursor.execute(schema.gpkg_rtree_insert_trigger("events", "geom"))
            cursor.execute(schema.gpkg_feature_count_triggers("events")[0])
            cursor.execute("SELECT actor FROM est_audit_context WHERE id = 1")
            row = cursor.fetchone()
            cursor.execute(schema_import.gpkg_event_audit_after_fid(),
                           (row[0] if row else schema_security_gpkg.OUTSIDE_ACTOR, self._timestamp(utc_now()),
                            self._audit_after_fid))
            if self._audit_index:
                cursor.execute(self._audit_index)
            cursor.execute(schema_import.GPKG_EVENT_AUDIT_INSERT_TRIGGER_V7)
            cursor.execute("UPDATE gpkg_ogr_contents SET feature_count = (SELECT count(*) FROM events) "
                           "WHERE table_name = 'events'")
        if self._bulk_points:
            # The layer extent grows by the batch's own extent (no scan of the R-tree).
            x = np.concatenate([part[0] for part in self._bulk_points])
            y = np.concatenate([part[1] for part in self._bulk_points])
            cursor.execute(
                "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now'), "
                "min_x = min(coalesce(min_x, :x0), :x0), max_x = max(coalesce(max_x, :x1), :x1), "
                "min_y = min(coalesce(min_y, :y0), :y0), max_y = max(coalesce(max_y, :y1), :y1) "
                "WHERE table_name = 'events'",
                {"x0": float(x.min()), "x1": float(x.max()), "y0": float(y.min()), "y1": float(y.max())},
            )
        self._bulk_points = []

    def _inserted_points(self, cursor: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """fid, x, y of a bulk insert into an empty table, from the batch itself.

        Valid when the new fids are one consecutive run (always, for one INSERT statement per
        row in a single writer's transaction); checked, else the points are read back.
        """
        cursor.execute("SELECT min(fid), max(fid) FROM events")  # both O(1) on the rowid
        first, last = cursor.fetchone()
        x = np.concatenate([part[0] for part in self._bulk_points]) if self._bulk_points else np.zeros(0)
        if first is None or last - first + 1 != len(x):  # the table was empty: the run is all ours
            return self._all_points(cursor)
        y = np.concatenate([part[1] for part in self._bulk_points])
        return np.arange(first, last + 1, dtype=np.int64), x.astype(np.float64), y.astype(np.float64)

    def _all_points(self, cursor: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """fid, x, y of every event, read with two SQL aggregates (see ``load_columns``)."""
        previous = self._conn.text_factory
        self._conn.text_factory = bytes
        try:
            cursor.execute("SELECT count(*), group_concat(fid), group_concat(geom, ''), sum(length(geom)) FROM events")
            count, fid_text, geoms, length = cursor.fetchone()
        finally:
            self._conn.text_factory = previous
        if not count:
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        fids = np.array(fid_text.split(b","), dtype=np.int64)
        if length == 29 * count:
            raw = np.frombuffer(geoms, dtype=np.uint8).reshape(count, 29)
            xy = np.ascontiguousarray(raw[:, 13:29]).view("<f8")
            return fids, xy[:, 0].copy(), xy[:, 1].copy()
        cursor.execute("SELECT geom FROM events ORDER BY fid")
        pairs = np.array([decode_point(row[0]) for row in cursor.fetchall()], dtype=np.float64)
        return fids, pairs[:, 0], pairs[:, 1]

