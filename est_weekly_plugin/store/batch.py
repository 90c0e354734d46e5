"""Many events at once, as columns: the fast path for imports and the demo generator.

Bulk inserts validate with numpy masks instead of a Python call per row and encode rows in
vectorised form; the first bad row is then explained by the same per-event rules
(``validation.problems``) that the reporting dock uses, so messages never differ.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..domain.errors import ValidationError
from ..domain.model import PRECISION_CODES, Event, Precision, Status, minute_of_day
from ..domain.validation import MAX_LENGTHS, MAX_SPAN_OVER_MIDNIGHT, OLDEST_ACCEPTED_YEARS, ValidationContext, problems

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TIME_TEXT = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)], dtype=object)


def random_uuids(count: int, rng: np.random.Generator | None = None) -> list[str]:
    """*count* version-4 UUID strings, vectorised (and reproducible with a seeded *rng*)."""
    rng = rng or np.random.default_rng()
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.empty((count, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    text = np.full((count, 36), ord("-"), dtype=np.uint8)
    for start, stop, out in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        text[:, out:out + stop - start] = digits[:, start:stop]
    return np.ascontiguousarray(text).view("S36").ravel().astype("U36").tolist()


def _known(values: np.ndarray, allowed: set[str]) -> np.ndarray:
    """Which values are in *allowed* (a set lookup per value beats np.isin's sort of strings)."""
    return np.fromiter(map(allowed.__contains__, values.tolist()), dtype=bool, count=len(values))


@dataclass
class EventBatch:
    """Columns of new events. ``minute_*`` are minutes after midnight, -1 when absent."""

    x: np.ndarray
    y: np.ndarray
    category: np.ndarray
    organisation: np.ndarray
    event_date: np.ndarray  # datetime64[D]
    minute_from: np.ndarray
    minute_to: np.ndarray
    place_name: list[str]
    description: list[str]
    reporter: list[str]
    status: np.ndarray
    uuid: list[str] = field(default_factory=list)
    reviewer: list[str | None] | None = None
    review_reason: list[str | None] | None = None
    reviewed_at: np.ndarray | None = None  # datetime64[ms], NaT where not reviewed
    created_at: np.ndarray | None = None  # datetime64[ms]
    personal_data: list[str] | None = None  # privacy flags per row (imports scan their free text)
    source_id: list[str | None] | None = None  # the source's own id per row (imports; unique per source)
    location_precision: np.ndarray | None = None  # Precision values per row (object); None: all 'point'

    def __post_init__(self) -> None:
        if not self.uuid:
            self.uuid = random_uuids(len(self))

    def __len__(self) -> int:
        return int(len(self.x))

    @classmethod
    def from_events(cls, events: Sequence[Event]) -> EventBatch:
        def ts(values: list[dt.datetime | None]) -> np.ndarray:
            return np.array(
                [np.datetime64(v.astimezone(dt.timezone.utc).replace(tzinfo=None), "ms") if v else np.datetime64("NaT", "ms")
                 for v in values],
                dtype="datetime64[ms]",
            )

        return cls(
            x=np.array([e.x for e in events], dtype=np.float64),
            y=np.array([e.y for e in events], dtype=np.float64),
            category=np.array([e.category or "" for e in events], dtype=object),
            organisation=np.array([e.organisation or "" for e in events], dtype=object),
            event_date=np.array([e.event_date or "NaT" for e in events], dtype="datetime64[D]"),
            minute_from=np.array([minute_of_day(e.time_from) for e in events], dtype=np.int16),
            minute_to=np.array([minute_of_day(e.time_to) for e in events], dtype=np.int16),
            place_name=[e.place_name or "" for e in events],
            description=[e.description or "" for e in events],
            reporter=[e.reporter or "" for e in events],
            status=np.array([Status(e.status).value for e in events], dtype=object),
            uuid=[str(e.uuid) for e in events],
            reviewer=[e.reviewer for e in events],
            review_reason=[e.review_reason for e in events],
            reviewed_at=ts([e.reviewed_at for e in events]),
            created_at=ts([e.created_at for e in events]) if any(e.created_at for e in events) else None,
        )

    def slice(self, start: int, stop: int) -> EventBatch:
        def cut(value: object) -> object:
            return None if value is None else value[start:stop]

        return EventBatch(
            x=self.x[start:stop], y=self.y[start:stop], category=self.category[start:stop],
            organisation=self.organisation[start:stop], event_date=self.event_date[start:stop],
            minute_from=self.minute_from[start:stop], minute_to=self.minute_to[start:stop],
            place_name=self.place_name[start:stop], description=self.description[start:stop],
            reporter=self.reporter[start:stop], status=self.status[start:stop], uuid=self.uuid[start:stop],
            reviewer=cut(self.reviewer), review_reason=cut(self.review_reason),
            reviewed_at=cut(self.reviewed_at), created_at=cut(self.created_at),
            personal_data=cut(self.personal_data), source_id=cut(self.source_id),
            location_precision=cut(self.location_precision),
        )

    def event(self, index: int) -> Event:
        """Row *index* as an Event (to explain a validation failure)."""
        def time(minute: int) -> dt.time | None:
            return None if minute < 0 else dt.time(int(minute) // 60, int(minute) % 60)

        date = self.event_date[index]
        return Event(
            category=str(self.category[index]), organisation=str(self.organisation[index]),
            event_date=None if np.isnat(date) else date.astype(dt.date),
            x=float(self.x[index]), y=float(self.y[index]),
            time_from=time(self.minute_from[index]), time_to=time(self.minute_to[index]),
            place_name=self.place_name[index], description=self.description[index], reporter=self.reporter[index],
            status=Status(self.status[index]), uuid=self.uuid[index],
            review_reason=self.review_reason[index] if self.review_reason else None,
            location_precision=Precision(self.location_precision[index] if self.location_precision is not None
                                         else "point"),
            source_id=self.source_id[index] if self.source_id else None,
        )

    # ------------------------------------------------------------------ validation
    def first_invalid_row(self, context: ValidationContext) -> int | None:
        """Index of the first row that breaks a rule, found with numpy masks."""
        n = len(self)
        if n == 0:
            return None
        bad = ~_known(self.category, context.categories - context.inactive_categories)
        bad |= ~_known(self.organisation, context.organisations)
        finite = np.isfinite(self.x) & np.isfinite(self.y)
        bad |= ~finite
        e = context.extent
        bad |= ~((self.x >= e.xmin) & (self.x <= e.xmax) & (self.y >= e.ymin) & (self.y <= e.ymax))
        today = np.datetime64(context.today, "D")
        oldest = np.datetime64(context.today.replace(year=context.today.year - OLDEST_ACCEPTED_YEARS), "D")
        bad |= np.isnat(self.event_date) | (self.event_date > today) | (self.event_date < oldest)
        mf, mt = self.minute_from.astype(np.int32), self.minute_to.astype(np.int32)
        bad |= (mf < 0) & (mt >= 0)
        bad |= (mt >= 0) & (mt < mf) & ((mt - mf) % 1440 > MAX_SPAN_OVER_MIDNIGHT)
        bad |= (mf >= 1440) | (mt >= 1440)
        bad |= ~_known(self.status, {s.value for s in Status})
        if self.location_precision is not None:
            bad |= ~_known(self.location_precision, set(PRECISION_CODES))
        for name, values in (("place_name", self.place_name), ("description", self.description),
                             ("reporter", self.reporter), ("review_reason", self.review_reason)):
            if values is None:
                continue
            texts = values if None not in values else [v or "" for v in values]
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
            bad |= lengths > MAX_LENGTHS[name]
            if _CONTROL.search("".join(texts)):
                bad |= np.fromiter((bool(_CONTROL.search(t)) for t in texts), dtype=bool, count=n)
        indexes = np.flatnonzero(bad)
        return int(indexes[0]) if len(indexes) else None

    def check(self, context: ValidationContext) -> None:
        """Raise ``ValidationError`` for the first bad row, in the same words as the dock."""
        index = self.first_invalid_row(context)
        if index is None:
            return
        found = problems(self.event(index), context)
        if not found:  # a rule only the vectorised check knows (status, minutes out of range)
            from ..domain.errors import Problem

            found = [Problem("row", "row_invalid", {"row": index + 1})]
        raise ValidationError(found, row=index)
