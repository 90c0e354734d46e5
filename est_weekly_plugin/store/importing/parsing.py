"""Parsing the text of other systems: dates, times, date-times, numbers with decimal commas, "lat,lng".

Values repeat a lot in a week's file (dates, times, categories), so each distinct text is parsed
once and the result looked up per row: a million rows cost a few dictionary lookups each.
Every parser returns a "bad" marker instead of raising, so the caller can report the row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")
NO_DATE = np.datetime64("NaT", "D")
BAD = -2  # a time that could not be read (-1 is "no time")

_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(?:[:.]\d{2}(?:\.\d+)?)?$")
_COMPACT_TIME = re.compile(r"^(\d{2})(\d{2})$")
_SPAN = re.compile(r"^\s*(\S+)\s*[-–—]\s*(\S+)\s*$")
_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def by_distinct(values: Sequence[str], parse: Callable[[str], T]) -> list[T]:
    """*parse* applied once per distinct value, looked up per row."""
    lookup = {value: parse(value) for value in set(values)}
    return [lookup[value] for value in values]


def parse_date(text: str) -> dt.date | None:
    """ISO (2026-11-20, 2026/11/20, 2026.11.20) or day first (20/11/2026, 20.11.2026); None if not a date."""
    text = text.strip()
    match = _ISO_DATE.match(text)
    try:
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        match = _DAY_FIRST.match(text)
        if match:
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return None


def parse_minute(text: str) -> int:
    """Minutes after midnight of "22:15", "22.15", "2215", "22:15:00", "22"; -1 empty, ``BAD`` unreadable."""
    text = text.strip()
    if not text:
        return -1
    match = _TIME.match(text) or _COMPACT_TIME.match(text)
    if not match:
        return BAD
    hours, minutes = int(match[1]), int(match[2] or 0)
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        return BAD
    return (hours % 24) * 60 + minutes


def parse_span(text: str) -> tuple[int, int]:
    """A time or a span in one cell ("22:00-23:30", "22–23"): (from, to) minutes; to -1 for a moment."""
    match = _SPAN.match(text)
    if match and parse_minute(match[1]) >= 0:
        return parse_minute(match[1]), parse_minute(match[2])
    return parse_minute(text), -1


def _local_zone() -> dt.tzinfo | None:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Stockholm")
    except Exception:  # noqa: BLE001 - no time-zone database (Windows without tzdata): the system's zone
        return None


_STOCKHOLM = _local_zone()


def parse_datetime(text: str) -> tuple[dt.date | None, int]:
    """(date, minute) of a date-time: "2026-11-20 22:15:00 +01:00" (police), "2026-11-20T21:15:00Z"
    (Open311, UTC), "2026-11-20 22:15". With a zone it becomes Swedish local time; a date alone
    gives minute -1 (time unknown)."""
    text = text.strip()
    date = parse_date(text)
    if date is None:
        return None, -1
    rest = text[10:].lstrip("T ").strip()
    if not rest:
        return date, -1
    zone = _ZONE.search(rest)
    if zone:
        try:
            parsed = dt.datetime.fromisoformat(f"{date.isoformat()}T{_normalise_zone(rest)}")
        except ValueError:
            return date, BAD
        local = parsed.astimezone(_STOCKHOLM) if _STOCKHOLM is not None else parsed.astimezone()
        return local.date(), local.hour * 60 + local.minute
    return date, parse_minute(rest)


def _normalise_zone(rest: str) -> str:
    """"22:15:00 +01:00" / "21:15:00Z" / "22:15+0100" → what ``fromisoformat`` reads."""
    rest = rest.replace(" ", "")
    if rest.endswith("Z"):
        rest = rest[:-1] + "+00:00"
    if re.search(r"[+-]\d{4}$", rest):
        rest = f"{rest[:-2]}:{rest[-2:]}"
    return rest


def parse_numbers(values: Sequence[str]) -> np.ndarray:
    """Floats of text with a decimal point or comma (and spaces as thousands separators); NaN if not a number."""
    try:
        return np.array(values, dtype=np.float64)  # the common case, in C
    except ValueError:
        pass
    # decimal commas, blanks: cleaned on one joined string, converted in C again
    cleaned = "\n".join(values).replace("\u00a0", "").replace(" ", "").replace(",", ".").split("\n")
    try:
        return np.array([text or "nan" for text in cleaned], dtype=np.float64)
    except ValueError:
        pass
    result = np.full(len(values), np.nan)
    for index, text in enumerate(values):
        cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            result[index] = float(cleaned) if cleaned else np.nan
        except ValueError:
            continue
    return result


def parse_latlon(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) of "lat,lng" text (the police's location.gps: "56.046467,12.694512")."""
    lat, lon = np.full(len(values), np.nan), np.full(len(values), np.nan)
    for index, text in enumerate(values):
        parts = text.replace(";", ",").split(",")
        if len(parts) != 2:
            continue
        try:
            lat[index], lon[index] = float(parts[0]), float(parts[1])
        except ValueError:
            continue
    return lon, lat


def detect_crs(x: np.ndarray, y: np.ndarray, default: str) -> str:
    """The CRS coordinates look like in southern Sweden: WGS 84 degrees, SWEREF 99 TM, SWEREF 99 13 30
    (Skåne's local zone), RT 90 2.5 gon V; *default* (the store's CRS) when they fit none."""
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return default
    mx, my = float(np.median(x[finite])), float(np.median(y[finite]))
    if 5 <= mx <= 30 and 50 <= my <= 72:
        return "EPSG:4326"
    if 6_000_000 <= my <= 7_800_000:
        if 200_000 <= mx <= 1_000_000:
            return "EPSG:3006"
        if 50_000 < mx < 200_000:
            return "EPSG:3008"
        if 1_200_000 <= mx <= 1_900_000:
            return "EPSG:3021"
    return default
