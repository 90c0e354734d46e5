"""Weekly trends: events per ISO week, and this week against the four weeks before it.

The meeting asks "is this week unusual?". A single previous week is noisy, so the
baseline is the average of the previous ``baseline_weeks`` (default 4) ISO weeks, per
category, per organisation and per district (each event belongs to the nearest district
point). Everything is vectorised with ``np.bincount`` over (group, week) pairs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..domain.model import EventColumns, date_from_day, day_number
from ..domain.reference import District
from ..domain.reference import districts as reference_districts
from ..domain.week import IsoWeek
from .filters import nearest_district_index


def iso_week_monday_day(days: np.ndarray) -> np.ndarray:
    """Day number of the Monday of each day's ISO week (1970-01-01 was a Thursday)."""
    days = np.asarray(days, dtype=np.int64)
    return days - (days + 3) % 7


def iso_week_keys(days: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(ISO year, ISO week) per day number, vectorised: the week belongs to the year of
    its Thursday."""
    days = np.asarray(days, dtype=np.int64)
    thursday = iso_week_monday_day(days) + 3
    year_start = thursday.astype("datetime64[D]").astype("datetime64[Y]")
    year = year_start.astype(np.int64) + 1970
    week = (thursday - year_start.astype("datetime64[D]").astype(np.int64)) // 7 + 1
    return year, week


def week_label(date_or_day: Union[dt.date, int]) -> str:
    """"2026-W47" for a date or a day number (see :class:`domain.week.IsoWeek`)."""
    date = date_or_day if isinstance(date_or_day, dt.date) else date_from_day(int(date_or_day))
    return IsoWeek.of(date).label


def week_monday(week: Union[str, dt.date]) -> dt.date:
    """Monday of an ISO week given as "2026-W47" or as any date inside it."""
    return IsoWeek.of(week).monday


@dataclass
class WeeklySeries:
    labels: List[str]  # "2026-W44", … one per consecutive ISO week
    mondays: List[dt.date]
    counts: np.ndarray  # events per week


def events_per_week(
    columns: EventColumns,
    first: Optional[Union[str, dt.date]] = None,
    last: Optional[Union[str, dt.date]] = None,
    weights: Optional[np.ndarray] = None,
) -> WeeklySeries:
    """Events per consecutive ISO week from *first* to *last* (default: the data's span);
    weeks without events are included with zero."""
    if len(columns) == 0 and (first is None or last is None):
        return WeeklySeries([], [], np.zeros(0))
    mondays = iso_week_monday_day(columns.day)
    start = day_number(week_monday(first)) if first is not None else int(mondays.min())
    end = day_number(week_monday(last)) if last is not None else int(mondays.max())
    n_weeks = max((end - start) // 7 + 1, 0)
    index = (mondays - start) // 7
    keep = (index >= 0) & (index < n_weeks)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[keep]
    counts = np.bincount(index[keep], w, minlength=n_weeks).astype(np.float64)
    week_mondays = [date_from_day(start + 7 * k) for k in range(n_weeks)]
    return WeeklySeries([week_label(m) for m in week_mondays], week_mondays, counts)


@dataclass
class TrendRow:
    key: str  # category / organisation / district code ("" for the total)
    name: str
    current: int
    baseline: float  # mean per week over the baseline weeks
    change: float  # current − baseline
    relative: Optional[float]  # change / baseline; None when the baseline is zero
    weekly: List[int] = field(default_factory=list)  # baseline weeks then current, oldest first


@dataclass
class TrendReport:
    week: str  # "2026-W47"
    monday: dt.date
    baseline_labels: List[str]
    total: TrendRow
    categories: List[TrendRow]
    organisations: List[TrendRow]
    districts: List[TrendRow]
    unfinished: bool = False  # the week is not over yet: shown, never compared as if complete

    def as_dict(self) -> Dict[str, object]:
        def rows(items: Sequence[TrendRow]) -> List[Dict[str, object]]:
            return [r.__dict__.copy() for r in items]

        return {
            "week": self.week,
            "monday": self.monday.isoformat(),
            "baseline_labels": list(self.baseline_labels),
            "total": self.total.__dict__.copy(),
            "categories": rows(self.categories),
            "organisations": rows(self.organisations),
            "districts": rows(self.districts),
        }


def _rows(
    group: np.ndarray,
    slot: np.ndarray,
    keys: Sequence[str],
    names: Sequence[str],
    slots: int,
    baseline_weeks: int,
) -> List[TrendRow]:
    """Per group: counts in each slot (0 … baseline_weeks−1 = baseline, last = current)."""
    n_groups = len(keys)
    valid = (group >= 0) & (group < n_groups)
    table = np.bincount(group[valid] * slots + slot[valid], minlength=n_groups * slots).reshape(n_groups, slots)
    out: List[TrendRow] = []
    for g in range(n_groups):
        current = int(table[g, -1])
        baseline = float(table[g, :baseline_weeks].mean()) if baseline_weeks else 0.0
        change = current - baseline
        out.append(
            TrendRow(
                key=keys[g],
                name=names[g],
                current=current,
                baseline=baseline,
                change=change,
                relative=(change / baseline) if baseline > 0 else None,
                weekly=[int(v) for v in table[g]],
            )
        )
    return out


def weekly_trends(
    columns: EventColumns,
    week: Union[str, dt.date],
    *,
    baseline_weeks: int = 4,
    districts: Optional[Sequence[District]] = None,
    category_names: Optional[Dict[str, str]] = None,
    organisation_names: Optional[Dict[str, str]] = None,
) -> TrendReport:
    """This ISO week against the mean of the *baseline_weeks* weeks before it.

    Rows are listed for every known category/organisation/district (zero rows included,
    so the table shape does not change from week to week), sorted by current count.
    """
    if baseline_weeks < 1:
        raise ValueError("baseline_weeks must be at least 1")
    monday = week_monday(week)
    start = day_number(monday) - 7 * baseline_weeks
    slots = baseline_weeks + 1
    slot = (np.asarray(columns.day, dtype=np.int64) - start) // 7
    inside = (slot >= 0) & (slot < slots)
    events = columns.subset(inside)
    slot = slot[inside]
    known = tuple(reference_districts() if districts is None else districts)

    total = _rows(np.zeros(len(events), dtype=np.int64), slot, [""], [""], slots, baseline_weeks)[0]
    cat_codes = list(columns.category_codes)
    org_codes = list(columns.organisation_codes)
    categories = _rows(
        events.category.astype(np.int64), slot, cat_codes,
        [(category_names or {}).get(c, c) for c in cat_codes], slots, baseline_weeks,
    )
    organisations = _rows(
        events.organisation.astype(np.int64), slot, org_codes,
        [(organisation_names or {}).get(c, c) for c in org_codes], slots, baseline_weeks,
    )
    district_index = nearest_district_index(events.x, events.y, known).astype(np.int64)
    district_rows = _rows(
        district_index, slot, [d.code for d in known], [d.name for d in known], slots, baseline_weeks
    )

    def ranked(rows: List[TrendRow]) -> List[TrendRow]:
        return sorted(rows, key=lambda r: (-r.current, -r.baseline, r.key))

    return TrendReport(
        week=week_label(monday),
        monday=monday,
        baseline_labels=[week_label(monday - dt.timedelta(days=7 * k)) for k in range(baseline_weeks, 0, -1)],
        total=total,
        categories=ranked(categories),
        organisations=ranked(organisations),
        districts=ranked(district_rows),
    )
