"""The ISO week as a value: the key of the whole EST cycle (the report for week W, the meeting
that reviews it, its priorities and their follow-up), instead of week ↔ date conversions
spread over filters, trends, meetings and Processing."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Union

_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    number: int

    @classmethod
    def of(cls, value: Union[IsoWeek, str, dt.date]) -> IsoWeek:
        """The week of a label ("2026-W47"), of a date inside it, or the week itself."""
        if isinstance(value, IsoWeek):
            return value
        if isinstance(value, dt.date):
            year, number, _ = value.isocalendar()
            return cls(year, number)
        match = _LABEL.match(str(value).strip())
        if not match:
            raise ValueError(f"not an ISO week label like 2026-W47: {value!r}")
        week = cls(int(match.group(1)), int(match.group(2)))
        week.monday  # noqa: B018 - refuses "2026-W54"
        return week

    @classmethod
    def last_complete(cls, today: dt.date | None = None) -> IsoWeek:
        """The latest ISO week that has ended: what a Monday meeting looks at."""
        return cls.of((today or dt.date.today()) - dt.timedelta(days=7))

    @property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def shifted(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.monday + dt.timedelta(weeks=weeks))

    def previous(self) -> IsoWeek:
        return self.shifted(-1)

    def next(self) -> IsoWeek:
        return self.shifted(1)

    def __contains__(self, day: dt.date) -> bool:
        return self.monday <= day <= self.sunday

    def __str__(self) -> str:
        return self.label
