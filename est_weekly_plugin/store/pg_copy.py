"""PostgreSQL's COPY formats, by columns: binary COPY rows decoded by numpy (the columnar read)
and COPY text built block by block from an EventBatch (the bulk insert)."""

from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np

from ..domain.model import EventColumns
from .batch import EventBatch
from .values import columns_from_arrays

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_out(cursor: Any, sql: str) -> bytes:
    buffer = io.BytesIO()
    cursor.copy_expert(sql, buffer, size=1 << 20)
    return buffer.getvalue()


def decode_raw_rows(data: bytes) -> np.ndarray | None:
    """The rows of ``_raw_columns_sql``'s COPY; None when they are not fixed-width as expected."""
    body = len(data) - len(COPY_HEADER) - 2
    if body <= 0:
        return np.empty(0, dtype=_RAW_ROW)
    if body % _RAW_ROW.itemsize or not data.startswith(COPY_HEADER):
        return None
    rows = np.frombuffer(data, dtype=_RAW_ROW, offset=len(COPY_HEADER), count=body // _RAW_ROW.itemsize)
    expected = {"nfields": 7, "fid_len": 8, "geom_len": 25, "order": 1, "type": 0x20000001, "day_len": 4,
                "mf_len": 8, "mt_len": 8, "cat_len": 4, "org_len": 4}
    if any((rows[name] != value).any() for name, value in expected.items()):
        return None
    return rows


# ---------------------------------------------------------------------- COPY text, built by columns
_HEX_DIGITS = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
_EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")])
_COPY_SPECIAL = ("\\", "\t", "\n", "\r")
_COPY_BLOCK_ROWS = 8192


def _ewkb_hex(x: np.ndarray, y: np.ndarray, srid: int) -> list[str]:
    """Points as hex EWKB (exact doubles, cheap for the server to parse), built with numpy."""
    points = np.empty(len(x), dtype=_EWKB_POINT)
    points["order"], points["type"], points["srid"] = 1, 0x20000001, srid  # little-endian, Point with SRID
    points["x"], points["y"] = x, y
    raw = points.view(np.uint8).reshape(len(x), _EWKB_POINT.itemsize)
    text = np.empty((len(x), 2 * _EWKB_POINT.itemsize), dtype=np.uint8)
    text[:, 0::2] = _HEX_DIGITS[raw >> 4]
    text[:, 1::2] = _HEX_DIGITS[raw & 0x0F]
    return text.view(f"S{text.shape[1]}").ravel().astype(f"U{text.shape[1]}").tolist()


def _copy_text(values: Any, n: int) -> list[str]:
    """Free text for COPY: None becomes \\N; escaping only when some value needs it."""
    if values is None:
        return ["\\N"] * n
    if not isinstance(values, list):
        values = values.tolist()
    try:
        joined = "".join(filter(None, values))  # None (NULL) and "" need no escaping
    except TypeError:  # something that is not text yet
        values = [None if v is None else str(v) for v in values]
        joined = "".join(filter(None, values))
    if any(special in joined for special in _COPY_SPECIAL):
        return ["\\N" if v is None else v.translate(_ESCAPES) for v in values]
    if None in values:
        return ["\\N" if v is None else v for v in values]
    return values


def _timestamps(values: np.ndarray) -> list[str]:
    """datetime64 (UTC) as ISO text with Z; NaT becomes \\N."""
    text = np.datetime_as_string(values.astype("datetime64[ms]"), unit="ms").astype(object)
    missing = np.isnat(values)
    text[~missing] += "Z"
    text[missing] = "\\N"
    return text.tolist()


def _copy_columns(batch: EventBatch, now: np.datetime64, srid: int) -> list[list[str]]:
    """The COPY columns of *batch* as lists of ready-escaped text (see ``_bulk_insert``'s column list)."""
    from .batch import TIME_TEXT

    n = len(batch)
    created = _timestamps(batch.created_at if batch.created_at is not None else np.full(n, now))
    reviewed = _timestamps(batch.reviewed_at) if batch.reviewed_at is not None else ["\\N"] * n
    times = np.append(TIME_TEXT, "\\N")  # index -1 (no time) picks \N

    def time_text(minutes: np.ndarray) -> list[str]:
        minutes = np.asarray(minutes, dtype=np.int32)
        return times[np.where(minutes >= 0, np.clip(minutes, 0, 1439), -1)].tolist()

    return [
        _ewkb_hex(np.asarray(batch.x, dtype=np.float64), np.asarray(batch.y, dtype=np.float64), srid),
        _copy_text(batch.uuid, n), _copy_text(batch.category, n), _copy_text(batch.organisation, n),
        _copy_text(batch.reporter, n), np.datetime_as_string(batch.event_date, unit="D").tolist(),
        time_text(batch.minute_from), time_text(batch.minute_to), _copy_text(batch.place_name, n),
        _copy_text(batch.description, n), _copy_text(batch.status, n), _copy_text(batch.reviewer, n),
        reviewed, _copy_text(batch.review_reason, n), created, created,
    ]


class CopyText:
    """A file for ``copy_expert`` that encodes *batch* block by block as the COPY reads it.

    PostgreSQL parses one block while Python builds the next, so the two overlap on two cores.
    """

    def __init__(self, batch: EventBatch, now: np.datetime64, srid: int, source: str) -> None:
        self._batch, self._now, self._srid = batch, now, srid
        self._source = source.translate(_ESCAPES)
        self._next = 0

    def read(self, size: int = -1) -> str:
        start, total = self._next, len(self._batch)
        if start >= total:
            return ""
        stop = self._next = min(start + _COPY_BLOCK_ROWS, total)
        columns = _copy_columns(self._batch.slice(start, stop), self._now, self._srid)
        columns.append([self._source] * (stop - start))
        flags = self._batch.personal_data
        columns.append(["" for _ in range(stop - start)] if flags is None else list(flags[start:stop]))
        part = self._batch.slice(start, stop)
        columns.append(_copy_text(part.source_id, stop - start))
        columns.append(["point"] * (stop - start) if part.location_precision is None
                       else _copy_text(part.location_precision, stop - start))
        return "\n".join(map("\t".join, zip(*columns))) + "\n"


def _field(name: str, kind: str) -> list[tuple[str, str]]:
    return [(f"{name}_len", ">i4"), (name, kind)]


# One binary COPY tuple: field count, then (length, value) per field — fixed width here.
COPY_ROW = np.dtype(
    [("nfields", ">i2")] + _field("fid", ">i8") + _field("x", ">f8") + _field("y", ">f8") + _field("day", ">i4")
    + _field("mf", ">i2") + _field("mt", ">i2") + _field("cat", ">i2") + _field("org", ">i2")
)


# One row of ``_raw_columns_sql``: fid, EWKB point (little-endian, with SRID), date (days since
# 2000-01-01), start and end as ``time`` (microseconds after midnight; 24:00 stands for unknown),
# category and organisation as ``hashtext`` values (mapped to list positions by the client).
PG_EPOCH_DAYS = 10957  # 2000-01-01 − 1970-01-01
UNKNOWN_TIME_SQL = "time '24:00'"
_MICROSECONDS_PER_MINUTE = 60_000_000
_RAW_ROW = np.dtype(
    [("nfields", ">i2"), ("fid_len", ">i4"), ("fid", ">i8"), ("geom_len", ">i4"), ("order", "u1"), ("type", "<u4"),
     ("srid", "<u4"), ("x", "<f8"), ("y", "<f8"), ("day_len", ">i4"), ("day", ">i4"),
     ("mf_len", ">i4"), ("mf", ">i8"), ("mt_len", ">i4"), ("mt", ">i8"),
     ("cat_len", ">i4"), ("cat", ">i4"), ("org_len", ">i4"), ("org", ">i4")]
)


def minutes_plus_one(microseconds: np.ndarray) -> np.ndarray:
    """Minute of the day + 1 from ``time`` microseconds; 0 (unknown) for the 24:00 stand-in."""
    minutes = microseconds // _MICROSECONDS_PER_MINUTE
    return np.where(minutes >= 1440, 0, minutes + 1)


CODE_HASHES_SQL = "SELECT hashtext(code) FROM unnest(%s::text[]) WITH ORDINALITY AS t (code, i) ORDER BY i"


def columns_from_raw(raw: np.ndarray, hashes: list[int], categories: list[str],
                     organisations: list[str]) -> EventColumns | None:
    """EventColumns from decoded raw rows (*hashes*: ``CODE_HASHES_SQL`` of categories + organisations);
    None when two codes share a hash."""
    category = code_positions(raw["cat"].astype(np.int64), hashes[:len(categories)])
    organisation = code_positions(raw["org"].astype(np.int64), hashes[len(categories):])
    if category is None or organisation is None:
        return None
    return columns_from_arrays(raw["fid"], raw["x"], raw["y"], raw["day"].astype(np.int32) + PG_EPOCH_DAYS,
                               minutes_plus_one(raw["mf"]), minutes_plus_one(raw["mt"]), category, organisation,
                               categories, organisations)


def code_positions(hashes: np.ndarray, code_hashes: list[int]) -> np.ndarray | None:
    """Each row's position in the code list from its ``hashtext``; -1 for a code not in the list.
    None when two codes of the list share a hash (then the caller reads codes another way)."""
    known = np.asarray(code_hashes, dtype=np.int64)
    if np.unique(known).size != known.size:
        return None
    if not known.size:
        return np.full(hashes.shape, -1, dtype=np.int16)
    order = np.argsort(known)
    ordered = known[order]
    at = np.minimum(np.searchsorted(ordered, hashes), known.size - 1)
    return np.where(ordered[at] == hashes, order[at], -1).astype(np.int16)
