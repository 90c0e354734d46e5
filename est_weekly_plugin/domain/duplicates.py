"""When two reports may be the same event: same category, close in place and in time, any organisation.

One rule for the review panel (the possible duplicates of the open report) and the import (rows
that resemble events already stored are flagged in its summary); the distance and the time window
are the administrator's settings (``EstSettings.duplicate_distance_m`` / ``duplicate_window_h``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from .model import Event, Status


def time_interval(event: Event) -> tuple[dt.datetime, dt.datetime]:
    """When the event may have happened: a moment, a span (past midnight continues), or the whole day."""
    day = dt.datetime.combine(event.event_date, dt.time(0, 0))
    if event.time_from is None:
        return day, day + dt.timedelta(days=1)
    start = dt.datetime.combine(event.event_date, event.time_from)
    if event.time_to is None:
        return start, start
    end = dt.datetime.combine(event.event_date, event.time_to)
    if end < start:
        end += dt.timedelta(days=1)
    return start, end


def within_window(a: Event, b: Event, hours: float) -> bool:
    """True when the two events' possible times come within *hours* of each other."""
    a_start, a_end = time_interval(a)
    b_start, b_end = time_interval(b)
    gap = max(b_start - a_end, a_start - b_end, dt.timedelta(0))
    return gap <= dt.timedelta(hours=hours)


def minute_intervals(day: np.ndarray, minute_from: np.ndarray, minute_to: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``time_interval`` for columns: start and end in minutes since 1970 (unknown time: the whole day;
    ``minute_to`` -1 or equal to the start: a moment; an end before the start continues past midnight)."""
    base = np.asarray(day, dtype=np.int64) * 1440
    start_minute = np.asarray(minute_from, dtype=np.int64)
    end_minute = np.asarray(minute_to, dtype=np.int64)
    unknown = start_minute < 0
    start = np.where(unknown, base, base + start_minute)
    end = np.where(end_minute < 0, start, base + end_minute)
    end = np.where(~unknown & (end_minute >= 0) & (end_minute < start_minute), end + 1440, end)
    end = np.where(unknown, base + 1440, end)
    return start, end


def possible_duplicates(store: Any, event: Event, distance_m: float, window_h: float) -> list[Event]:
    """Other unrejected reports of the same category near *event* in place and time, any organisation.

    *store* is any EST store (``events_near``); the domain names no backend.
    """
    days = max(1, math.ceil(window_h / 24.0))
    near = store.events_near(event.x, event.y, distance_m, event.event_date - dt.timedelta(days=days),
                             event.event_date + dt.timedelta(days=days), category=event.category,
                             exclude_uuid=event.uuid)
    return [other for other in near if other.status in (Status.SUBMITTED, Status.APPROVED)
            and within_window(event, other, window_h)]
