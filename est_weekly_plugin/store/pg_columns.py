"""Reading PostGIS events as numpy columns: the compilation's full read and its change deltas.

Why binary COPY: the server sends raw fid, EWKB point, date, times and the ``hashtext`` of category
and organisation (no join, almost nothing evaluated per row) and numpy decodes fixed-width rows.
Approved events are read through the compilation view, so each login's row-level rules apply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any

import numpy as np

from ..domain.model import EventColumns, Status
from . import schema
from .pg_copy import CODE_HASHES_SQL, COPY_HEADER, COPY_ROW, UNKNOWN_TIME_SQL, columns_from_raw, copy_out, decode_raw_rows
from .values import columns_from_arrays

S = schema.PG_SCHEMA


def _source(status: Status | None) -> str:
    """Where events of *status* are read: approved ones through the compilation view (row-level rules
    of the login apply — a reporter sees every organisation's approved events there, masked)."""
    return f"{S}.approved_events" if status == Status.APPROVED else f"{S}.events"


class PgColumnarRead:
    """The columnar read and the change feed's PostGIS side (mixed into PostgisStore)."""

    _PARALLEL_MIN_ROWS = 200_000
    _reader: Any = None  # second connection of parallel reads

    def _changed_event_fids(self, token: int) -> list[int]:
        return self._token_and_changed_fids(token)[1]

    def _token_and_changed_fids(self, token: int) -> tuple[int, list[int]]:
        """One round trip: the snapshot's oldest running transaction is the new token, and every change
        by an older one is visible in that same snapshot."""
        rows = self._query(f"SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8, "
                           f"array(SELECT {S}.changed_event_fids(?::text::xid8))", (str(int(token)),))
        return int(rows[0][0]), [int(fid) for fid in rows[0][1]]

    def _code_hashes(self, cursor: Any, codes: list[str]) -> list[int]:
        """The server's ``hashtext`` of each code (immutable: kept for the connection's life)."""
        known = self.__dict__.setdefault("_hashes", {})
        missing = [code for code in codes if code not in known]
        if missing:
            cursor.execute(CODE_HASHES_SQL, (missing,))
            known.update(zip(missing, (int(row[0]) for row in cursor.fetchall())))
        return [known[code] for code in codes]

    def _reader_connection(self) -> Any:
        """A second connection for parallel reads, opened once and kept."""
        reader = self._reader
        if reader is None or reader.closed:
            reader = self._reader = self._connect(self.info)
        return reader

    def _load_columns(self, status: Status | None = Status.APPROVED) -> EventColumns:
        """All events of *status* as numpy columns: binary COPY of raw values, decoded by numpy.

        The server sends raw fid, EWKB point, date, times and the ``hashtext`` of category and
        organisation, so it evaluates almost nothing per row (no join; numpy maps hashes to codes).
        Large tables are read in two halves of the fid range over two connections sharing one
        snapshot (REPEATABLE READ + ``pg_export_snapshot``), so both cores work and the halves agree.
        """
        categories = [c.code for c in self.categories()]
        organisations = [o.code for o in self.organisations()]
        with self._cursor() as cursor:
            hashes = self._code_hashes(cursor, categories + organisations)

            def columns_of(data: bytes) -> EventColumns | None:  # in the thread that read it: overlaps the other half
                raw = decode_raw_rows(data)
                return None if raw is None else columns_from_raw(raw, hashes, categories, organisations)

            parts = self._copy_out_parallel(cursor, self._raw_columns_sql(cursor, status), columns_of)
        if any(part is None for part in parts):  # not plain 2D points with SRID, or two codes with one hash
            return self._load_columns_plain(status, categories, organisations)
        return EventColumns.concatenate(parts) if len(parts) > 1 else parts[0]

    def _approved_columns_by_fid(self, fids: Sequence[int], categories: list[str],
                                 organisations: list[str]) -> EventColumns | None:
        """A delta's columns by the same binary COPY as the full read (through the compilation view)."""
        wanted = sorted({int(fid) for fid in fids})
        with self._cursor() as cursor:
            hashes = self._code_hashes(cursor, categories + organisations)
            head, tail, _ = self._raw_columns_sql(cursor, Status.APPROVED)
            raw = decode_raw_rows(copy_out(cursor, head + cursor.mogrify("e.fid = ANY(%s::int8[])", (wanted,)).decode()
                                           + tail))
        columns = None if raw is None else columns_from_raw(raw, hashes, categories, organisations)
        if columns is None:
            return super()._approved_columns_by_fid(wanted, categories, organisations)
        unknown = (columns.category < 0).any() or (columns.organisation < 0).any()
        return None if unknown else columns

    def _raw_columns_sql(self, cursor: Any, status: Status | None) -> tuple[str, str, str]:
        """COPY … TO STDOUT (FORMAT binary) as (head, tail) around a condition on ``e.fid``."""
        where = cursor.mogrify("e.status = %s AND ", (Status(status).value,)).decode() if status else ""
        source = _source(status)
        if status == Status.APPROVED:
            where = ""  # the view holds approved events only
        head = (
            f"COPY (SELECT e.fid, e.geom, e.event_date, coalesce(e.time_from, {UNKNOWN_TIME_SQL}), "
            f"coalesce(e.time_to, e.time_from, {UNKNOWN_TIME_SQL}), "
            "coalesce(hashtext(e.category), 0), coalesce(hashtext(e.organisation), 0) "
            f"FROM {source} e WHERE {where}"
        )
        return head, ") TO STDOUT WITH (FORMAT binary)", source

    def _copy_out_parallel(self, cursor: Any, sql: tuple[str, str, str], convert: Callable[[bytes], Any]) -> list[Any]:
        """*convert* of *sql*'s COPY output (head, tail around a fid condition; source), in two fid halves on
        two connections when large."""
        head, tail, source = sql
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute(f"SELECT * FROM {S}.approved_fid_range()" if source.endswith("approved_events")
                           else f"SELECT min(fid), max(fid) FROM {source}")
            low, high = cursor.fetchone()
            if low is None or high - low < self._PARALLEL_MIN_ROWS:
                return [convert(copy_out(cursor, f"{head}true{tail}"))]
            middle = (low + high) // 2
            try:
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                reader = self._reader_connection()
                reader_cursor = reader.cursor()
                reader_cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                reader_cursor.execute("SET TRANSACTION SNAPSHOT %s", (snapshot,))
            except Exception:  # noqa: BLE001 - no second connection (limits, standby …): read alone
                self._abandon_reader()
                return [convert(copy_out(cursor, f"{head}true{tail}"))]
            try:
                with ThreadPoolExecutor(1) as pool:  # leaving the block waits for the upper half
                    upper = pool.submit(lambda: convert(copy_out(reader_cursor, f"{head}e.fid > {int(middle)}{tail}")))
                    lower = convert(copy_out(cursor, f"{head}e.fid <= {int(middle)}{tail}"))
                return [lower, upper.result()]
            finally:
                self._end_reader_transaction()
        finally:
            self._rollback()

    def _end_reader_transaction(self) -> None:
        try:
            self._reader.cursor().execute("ROLLBACK")
        except Exception:  # noqa: BLE001
            self._abandon_reader()

    def _abandon_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            with suppress(Exception):  # closing a dead connection is not an error
                reader.close()

    def _load_columns_plain(self, status: Status | None, categories: list[str],
                            organisations: list[str]) -> EventColumns:
        """The general loader: PostGIS takes points apart (any geometry, any byte order)."""
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
                f"FROM {_source(status)} {where}) TO STDOUT WITH (FORMAT binary)"
            )
            data = copy_out(cursor, sql)
        if len(data) <= len(COPY_HEADER) + 2:
            return EventColumns.empty(categories, organisations)
        rows = np.frombuffer(data, dtype=COPY_ROW, offset=len(COPY_HEADER),
                             count=(len(data) - len(COPY_HEADER) - 2) // COPY_ROW.itemsize)
        return columns_from_arrays(rows["fid"], rows["x"], rows["y"], rows["day"], rows["mf"].astype(np.int32) + 1,
                                   rows["mt"].astype(np.int32) + 1, rows["cat"], rows["org"], categories, organisations)
