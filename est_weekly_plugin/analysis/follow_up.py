"""Follow-up of last meeting's priorities: the events in each priority's place and categories this
week against the weeks before — the same counting the meeting panel and the PDF show."""

from __future__ import annotations

import numpy as np

from ..domain.meetings import FollowUp, Priority, previous_week
from ..domain.model import EventColumns, day_number
from ..domain.week import IsoWeek
from ..store.meetings import MeetingRepository
from .filters import points_in_polygon
from .trends import week_monday


def priority_mask(priority: Priority, columns: EventColumns) -> np.ndarray:
    """Events in the priority's place (if any) and categories (if any)."""
    keep = np.ones(len(columns), dtype=bool)
    if priority.categories:
        wanted = [i for i, code in enumerate(columns.category_codes) if code in set(priority.categories)]
        keep &= np.isin(columns.category, np.array(wanted, dtype=np.int16)) if wanted else False
    area = priority.area_wkt()
    if area and keep.any():
        index = np.flatnonzero(keep)
        keep[index] = points_in_polygon(columns.x[index], columns.y[index], area)
    return keep


def follow_up(priority: Priority, columns: EventColumns, week: str, baseline_weeks: int = 4) -> FollowUp:
    """Events of the priority in *week* against the mean of the *baseline_weeks* before it."""
    monday = day_number(week_monday(week))
    start = monday - 7 * baseline_weeks
    inside = (columns.day >= start) & (columns.day < monday + 7)
    subset = columns.subset(inside)
    mask = priority_mask(priority, subset)
    slots = (subset.day[mask].astype(np.int64) - start) // 7
    weekly = np.bincount(slots, minlength=baseline_weeks + 1)[: baseline_weeks + 1]
    return FollowUp(priority, IsoWeek.of(week).label, int(weekly[-1]),
                    float(weekly[:-1].mean()) if baseline_weeks else 0.0, [int(v) for v in weekly])


def follow_ups(repo: MeetingRepository, iso_week: str, columns: EventColumns, baseline_weeks: int = 4) -> list[FollowUp]:
    """The follow-up shown at the meeting of *iso_week*: last meeting's priorities in this week."""
    previous = repo.meeting(previous_week(iso_week))
    if previous is None:
        return []
    return [follow_up(p, columns, iso_week, baseline_weeks) for p in repo.priorities(previous)]
