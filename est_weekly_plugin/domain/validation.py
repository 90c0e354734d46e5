"""Checks a report before anything is written, and says why in the user's language.

Validation runs before every insert and update, for one report from the dock as for a bulk
import: a batch with one bad row writes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from .errors import Problem, ValidationError
from .model import Event

MAX_LENGTHS = {"place_name": 200, "description": 2000, "reporter": 200, "review_reason": 1000}
OLDEST_ACCEPTED_YEARS = 10
# Control characters other than tab and newline have no place in a report; they are how
# hostile strings break CSV exports, terminals and label engines.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Extent:
    xmin: float
    ymin: float
    xmax: float
    ymax: float

    def contains(self, x: float, y: float) -> bool:
        return self.xmin <= x <= self.xmax and self.ymin <= y <= self.ymax


@dataclass
class ValidationContext:
    """What a report is checked against: the store's reference data, extent and clock."""

    categories: set[str]
    organisations: set[str]
    extent: Extent
    projected: bool = True
    today: dt.date = field(default_factory=dt.date.today)
    now: dt.datetime | None = None
    inactive_categories: set[str] = field(default_factory=set)


def problems(event: Event, context: ValidationContext) -> list[Problem]:
    """Every reason *event* cannot be stored (empty when it can)."""
    found: list[Problem] = []
    add = found.append

    if not event.category:
        add(Problem("category", "category_missing"))
    elif event.category not in context.categories:
        add(Problem("category", "category_unknown", {"value": _short(event.category)}))
    elif event.category in context.inactive_categories:
        add(Problem("category", "category_inactive", {"value": event.category}))

    if not event.organisation:
        add(Problem("organisation", "organisation_missing"))
    elif event.organisation not in context.organisations:
        add(Problem("organisation", "organisation_unknown", {"value": _short(event.organisation)}))

    found.extend(_place_problems(event.x, event.y, context))
    found.extend(_time_problems(event, context))

    for name, limit in MAX_LENGTHS.items():
        value = getattr(event, name, None) or ""
        if len(value) > limit:
            add(Problem(name, "text_too_long", {"field": name, "max": limit, "length": len(value)}))
        if _CONTROL.search(value):
            add(Problem(name, "text_control_chars", {"field": name}))
    return found


def _place_problems(x: float, y: float, context: ValidationContext) -> list[Problem]:
    if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
        return [Problem("place", "place_missing")]
    if context.projected and abs(x) <= 180 and abs(y) <= 90:
        return [Problem("place", "place_in_degrees", {"x": round(x, 6), "y": round(y, 6)})]
    if not context.extent.contains(x, y):
        return [Problem("place", "place_outside", {"x": round(x), "y": round(y)})]
    return []


# 23:00–02:00 is a span across midnight; 10:00–01:00 (15 h) is a typo, not an evening.
MAX_SPAN_OVER_MIDNIGHT = 12 * 60


def _span_minutes(event: Event) -> int:
    """Minutes from start to end when the end lies before the start (across midnight), else 0."""
    start = event.time_from.hour * 60 + event.time_from.minute  # type: ignore[union-attr]
    end = event.time_to.hour * 60 + event.time_to.minute  # type: ignore[union-attr]
    return (end - start) % 1440 if end < start else 0


def _time_problems(event: Event, context: ValidationContext) -> list[Problem]:
    found: list[Problem] = []
    if event.event_date is None:
        return [Problem("event_date", "date_missing")]
    if event.event_date > context.today:
        found.append(Problem("event_date", "date_future", {"date": event.event_date.isoformat()}))
    elif event.event_date < context.today.replace(year=context.today.year - OLDEST_ACCEPTED_YEARS):
        found.append(Problem("event_date", "date_too_old", {"years": OLDEST_ACCEPTED_YEARS}))
    if event.time_from is None and event.time_to is not None:
        found.append(Problem("time_from", "time_to_without_from"))
    if event.time_from is not None and event.time_to is not None and _span_minutes(event) > MAX_SPAN_OVER_MIDNIGHT:
        found.append(
            Problem(
                "time_to",
                "time_end_before_start",
                {"start": event.time_from.strftime("%H:%M"), "end": event.time_to.strftime("%H:%M")},
            )
        )
    now = context.now or dt.datetime.now()
    if (
        event.event_date == now.date()
        and event.time_from is not None
        and event.time_from > (now + dt.timedelta(minutes=15)).time()
        and now.hour < 23
    ):
        found.append(Problem("time_from", "time_future", {"time": event.time_from.strftime("%H:%M")}))
    return found


def check(event: Event, context: ValidationContext, row: int | None = None) -> None:
    """Raise ``ValidationError`` listing every problem of *event*."""
    found = problems(event, context)
    if found:
        raise ValidationError(found, row=row)


def _short(value: str, limit: int = 40) -> str:
    value = _CONTROL.sub("?", str(value))
    return value if len(value) <= limit else value[: limit - 1] + "…"
