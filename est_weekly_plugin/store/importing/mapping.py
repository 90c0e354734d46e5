"""From a source's text columns to EST event columns, with every problem row and its reason.

Nothing is dropped silently: each row is either mapped or carries the first reason it cannot be
imported (empty row, wrong encoding, no or unmatched location, outside the municipality, a bad
or future date, a bad time, an unknown category or organisation, text too long, a source id that
occurs twice). The rules are those of the reporting form (``domain.validation``), checked with
numpy masks over all rows, so the batch insert afterwards finds nothing to refuse.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...domain.model import Precision
from ...domain.validation import MAX_LENGTHS, OLDEST_ACCEPTED_YEARS, ValidationContext
from . import parsing
from .profiles import CRS_AUTO, LOCATION_ADDRESS, LOCATION_GEOMETRY, LOCATION_LATLON_TEXT, ImportProfile
from .reading import SourceTable

# A locator turns an address or place name into (x, y, precision) in the store's CRS, or None.
# It comes from the caller (maps.places is above the store), so the store never imports the map layer.
Locator = Callable[[str], "tuple[float, float, str] | None"]

# Why a row is not imported, most basic first (a row reports only its first reason).
REASONS = ("empty_row", "encoding", "duplicate_in_file", "bad_date", "future_date", "old_date", "bad_time",
           "unknown_category", "unknown_organisation", "no_location", "address_unmatched", "outside", "too_long")
_MOJIBAKE = re.compile("[\ufffd]|Ã[\u0080-\u00bf¤¥¶]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class MappedRows:
    """Every row of the source as event columns; ``reason`` 0 for a good row, else 1 + index in REASONS."""

    category: np.ndarray
    organisation: np.ndarray
    event_date: np.ndarray
    minute_from: np.ndarray
    minute_to: np.ndarray
    place_name: list[str]
    description: list[str]
    source_id: list[str]
    x: np.ndarray
    y: np.ndarray
    precision: np.ndarray
    reason: np.ndarray
    detail: dict[int, str] = field(default_factory=dict)  # the offending value of a problem row
    crs: str = ""

    def __len__(self) -> int:
        return int(self.reason.size)

    def flag(self, mask: np.ndarray, reason: str, values: Sequence[Any] | Callable[[int], str] | None = None) -> None:
        """Mark rows of *mask* that have no reason yet with *reason* (and their offending value: a sequence,
        or a function of the row index, evaluated for the flagged rows only)."""
        new = mask & (self.reason == 0)
        self.reason[new] = REASONS.index(reason) + 1
        if values is not None:
            for index in np.flatnonzero(new)[:10_000].tolist():
                self.detail[index] = str(values(index) if callable(values) else values[index])[:80]

    @property
    def good(self) -> np.ndarray:
        return self.reason == 0


def map_rows(table: SourceTable, profile: ImportProfile, context: ValidationContext, *, epsg: int,
             categories: dict[str, str], organisations: dict[str, str], locator: Locator | None = None) -> MappedRows:
    """Map every row of *table* with *profile*; *categories*/*organisations*: lower-case code or label → code."""
    n = len(table)
    empty = [""] * n
    column = lambda target: table.columns.get(profile.column(target), empty)  # noqa: E731
    rows = MappedRows(
        category=np.empty(n, object), organisation=np.empty(n, object), event_date=np.full(n, parsing.NO_DATE),
        minute_from=np.full(n, -1, np.int16), minute_to=np.full(n, -1, np.int16),
        place_name=column("place_name"), description=_joined(table, profile.columns("description"), n),
        source_id=column("source_id"), x=np.full(n, np.nan), y=np.full(n, np.nan),
        precision=np.full(n, profile.precision, object), reason=np.zeros(n, np.int8))
    _check_rows(rows, table)
    _map_source_ids(rows, table, profile)
    _map_when(rows, profile, column, context)
    _map_codes(rows, column("category"), profile.category_values, categories, profile.default_category, "category")
    organisation_values = column("organisation") if profile.column("organisation") else [profile.organisation] * n
    _map_codes(rows, organisation_values, profile.organisation_values, organisations, profile.organisation,
               "organisation")
    _map_location(rows, table, profile, column, epsg, locator)
    e = context.extent
    inside = (rows.x >= e.xmin) & (rows.x <= e.xmax) & (rows.y >= e.ymin) & (rows.y <= e.ymax)
    rows.flag(~inside, "outside", lambda i: f"{rows.x[i]:.1f}, {rows.y[i]:.1f}")
    _check_texts(rows)
    return rows


def _joined(table: SourceTable, columns: list[str], n: int) -> list[str]:
    parts = [table.columns[c] for c in columns if c in table.columns]
    if not parts:
        return [""] * n
    if len(parts) == 1:
        return parts[0]
    return ["\n".join(p for p in values if p) for values in zip(*parts)]


def _check_rows(rows: MappedRows, table: SourceTable) -> None:
    """Empty rows, and rows whose text shows the wrong encoding (replacement characters, "Ã¶" for "ö")."""
    n = len(rows)
    filled = np.zeros(n, bool)
    for values in table.columns.values():
        filled |= np.fromiter(map(bool, values), dtype=bool, count=n)
    if table.x is not None:
        filled |= np.isfinite(table.x)
    rows.flag(~filled, "empty_row")
    suspicious = [name for name, values in table.columns.items()
                  if any(mark in (joined := "".join(values)) for mark in ("\ufffd", "Ã")) and _MOJIBAKE.search(joined)]
    for name in suspicious:
        values = table.columns[name]
        rows.flag(np.fromiter((bool(_MOJIBAKE.search(v)) for v in values), dtype=bool, count=n), "encoding", values)


def _map_source_ids(rows: MappedRows, table: SourceTable, profile: ImportProfile) -> None:
    """The source's own ids; without an id column, a fingerprint of the row's values (so the same file
    imported twice still adds nothing). An id twice in one file: the second is a problem row."""
    ids = list(rows.source_id)
    if not profile.column("source_id") or not any(ids):
        fingerprint = zip(*table.columns.values()) if table.columns else ([] for _ in range(len(rows)))
        hashed = [hashlib.blake2b("\x1f".join(values).encode("utf-8"), digest_size=12).hexdigest()
                  for values in fingerprint]
        ids = [f"#{h}" for h in hashed] if hashed else [""] * len(rows)
        if table.x is not None and not table.columns:
            ids = [f"#{x:.3f},{y:.3f}" for x, y in zip(table.x.tolist(), table.y.tolist())]
    rows.source_id = ids if profile.column("source_id") and not any(len(v) > 200 for v in ids) else \
        [value.strip()[:200] for value in ids]
    if len(set(rows.source_id)) == len(rows.source_id):  # the common case: every id once
        return
    seen: set[str] = set()
    repeated = np.zeros(len(rows), bool)
    for index, value in enumerate(rows.source_id):
        if value in seen:
            repeated[index] = True
        seen.add(value)
    rows.flag(repeated, "duplicate_in_file", rows.source_id)


def _map_when(rows: MappedRows, profile: ImportProfile, column: Callable[[str], list[str]],
              context: ValidationContext) -> None:
    """Date and time (or span) from a date column + time columns, or from one date-time column."""
    if profile.column("datetime") and not profile.column("date"):
        raw = column("datetime")
        parsed = parsing.by_distinct(raw, parsing.parse_datetime)
        dates = [d for d, _m in parsed]
        rows.minute_from[:] = [m for _d, m in parsed]
    else:
        raw = column("date")
        dates = parsing.by_distinct(raw, parsing.parse_date)
        spans = parsing.by_distinct(column("time_from"), parsing.parse_span)
        rows.minute_from[:] = [start for start, _end in spans]
        rows.minute_to[:] = [end for _start, end in spans]
        if profile.column("time_to"):
            rows.minute_to[:] = parsing.by_distinct(column("time_to"), parsing.parse_minute)
    rows.event_date = _dates(dates)
    today = np.datetime64(context.today, "D")
    oldest = np.datetime64(context.today.replace(year=context.today.year - OLDEST_ACCEPTED_YEARS), "D")
    rows.flag(np.isnat(rows.event_date), "bad_date", raw)
    rows.flag(rows.event_date > today, "future_date", raw)
    rows.flag(rows.event_date < oldest, "old_date", raw)
    bad_time = (rows.minute_from == parsing.BAD) | (rows.minute_to == parsing.BAD) | \
               ((rows.minute_from < 0) & (rows.minute_to >= 0))
    rows.flag(bad_time, "bad_time", column("time_from") if profile.column("time_from") else raw)
    rows.minute_from[rows.minute_from < 0] = -1
    rows.minute_to[(rows.minute_to < 0) | (rows.minute_from < 0)] = -1


def _dates(dates: list) -> np.ndarray:
    """datetime64[D] of parsed dates (None → NaT), converted once per distinct date."""
    day = {d: (d.toordinal() - 719163 if d is not None else np.iinfo(np.int64).min) for d in set(dates)}
    return np.array([day[d] for d in dates], dtype=np.int64).astype("datetime64[D]")


def _map_codes(rows: MappedRows, values: list[str], mapping: dict[str, str], known: dict[str, str],
               default: str, target: str) -> None:
    """Source values → codes: the profile's value mapping first, then the codes and labels themselves."""
    lowered = {key.strip().lower(): code for key, code in mapping.items()}

    fallback = known.get(default.strip().lower(), "") if default else ""

    def code(value: str) -> str:
        key = value.strip().lower()
        if key in lowered:
            return known.get(lowered[key].strip().lower(), "")
        return known.get(key, fallback) if key else fallback

    codes = parsing.by_distinct(values, code)
    array = np.array(codes, dtype=object) if codes else np.zeros(0, object)
    setattr(rows, target, array)
    rows.flag(array == "", f"unknown_{target}", values)


def _map_location(rows: MappedRows, table: SourceTable, profile: ImportProfile, column: Callable[[str], list[str]],
                  epsg: int, locator: Locator | None) -> None:
    store_crs = f"EPSG:{epsg}"
    if profile.location == LOCATION_GEOMETRY and table.x is not None:
        x, y, crs = table.x, table.y, table.crs or store_crs
    elif profile.location == LOCATION_LATLON_TEXT:
        x, y = parsing.parse_latlon(column("latlon"))
        crs = "EPSG:4326"
    elif profile.location == LOCATION_ADDRESS:
        x, y, crs = np.full(len(rows), np.nan), np.full(len(rows), np.nan), store_crs
    else:
        x, y = parsing.parse_numbers(column("x")), parsing.parse_numbers(column("y"))
        crs = parsing.detect_crs(x, y, store_crs) if profile.crs in (CRS_AUTO, "") else profile.crs
    rows.crs = crs
    rows.x, rows.y = transform(np.asarray(x, np.float64), np.asarray(y, np.float64), crs, store_crs)
    missing = ~(np.isfinite(rows.x) & np.isfinite(rows.y))
    if missing.any() and profile.column("address") and locator is not None:
        _locate(rows, column("address"), missing, locator)
        missing = ~(np.isfinite(rows.x) & np.isfinite(rows.y))
        rows.flag(missing & np.array([bool(a) for a in column("address")], dtype=bool), "address_unmatched",
                  column("address"))
    rows.flag(missing, "no_location")


def _locate(rows: MappedRows, addresses: list[str], missing: np.ndarray, locator: Locator) -> None:
    """Rows without coordinates placed by their address (once per distinct address)."""
    found: dict[str, Any] = {}
    for index in np.flatnonzero(missing).tolist():
        text = addresses[index].strip()
        if not text:
            continue
        if text not in found:
            found[text] = locator(text)
        hit = found[text]
        if hit is not None:
            rows.x[index], rows.y[index] = hit[0], hit[1]
            rows.precision[index] = Precision(hit[2]).value if len(hit) > 2 else Precision.POINT.value


def transform(x: np.ndarray, y: np.ndarray, source: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates from *source* to *target* CRS with OSR (x = easting/longitude in both)."""
    if source == target or not x.size:
        return x.astype(np.float64), y.astype(np.float64)
    from osgeo import osr

    osr.UseExceptions()
    source_ref, target_ref = osr.SpatialReference(), osr.SpatialReference()
    source_ref.SetFromUserInput(source)
    target_ref.SetFromUserInput(target)
    for reference in (source_ref, target_ref):
        reference.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    finite = np.isfinite(x) & np.isfinite(y)
    out_x, out_y = np.full(x.size, np.nan), np.full(y.size, np.nan)
    if finite.any():
        points = np.column_stack([x[finite], y[finite]])
        moved = np.array(osr.CoordinateTransformation(source_ref, target_ref).TransformPoints(points),
                         dtype=np.float64)
        out_x[finite], out_y[finite] = moved[:, 0], moved[:, 1]
    bad = ~(np.isfinite(out_x) & np.isfinite(out_y)) | (np.abs(out_x) > 1e9)
    out_x[bad], out_y[bad] = np.nan, np.nan
    return out_x, out_y


def _check_texts(rows: MappedRows) -> None:
    """Text longer than the form allows is a problem row (never cut); control characters become spaces."""
    for name, values in (("place_name", rows.place_name), ("description", rows.description)):
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(rows))
        rows.flag(lengths > MAX_LENGTHS[name], "too_long", [v[:60] for v in values] if (lengths > MAX_LENGTHS[name]).any()
                  else None)
        if _CONTROL.search("".join(values)):
            setattr(rows, name, [_CONTROL.sub(" ", v) for v in values])
