"""The weekly EST meeting as data: meetings, ranked priorities and their follow-up.

Why a meeting is keyed by the ISO week it *reviews*: the report for week W (the compilation of
W's events), the meeting that discusses it and the priorities it sets share one key, so the PDF
for W finds everything without date arithmetic. The meeting of 2026-W47 is held early in W48;
its priorities apply to the week after (W48). At the next meeting (2026-W48) each of those
priorities gets its follow-up: events in its place and categories during W48 against the mean
of the ``baseline_weeks`` weeks before (W44–W47), and a status (continue / done / dropped)
with a comment.

A priority is either a *focus area* (categories, optionally within a place) or a *hot-spot*
(a polygon, or a point with a radius, with a name such as "Knutpunkten north entrance").
Counting a priority's events is the analysis's work (``analysis.follow_up``); storing them is
the store's work (``store.meetings.MeetingRepository``, both backends);
every write is guarded by a ``version`` (optimistic concurrency, like events) and audited by
the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .week import IsoWeek

KINDS = ("focus", "hotspot")
STATUSES = ("open", "continue", "done", "dropped")


@dataclass(frozen=True)
class Meeting:
    """One weekly meeting: the ISO week it reviews, when it met, who took part, notes."""

    iso_week: str
    meeting_date: dt.date | None = None
    organisations: tuple[str, ...] = ()
    notes: str = ""
    uuid: str = ""
    id: int | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    version: int = 1

    @property
    def monday(self) -> dt.date:
        return IsoWeek.of(self.iso_week).monday

    @property
    def sunday(self) -> dt.date:
        return IsoWeek.of(self.iso_week).sunday


@dataclass(frozen=True)
class Priority:
    """A ranked focus area or hot-spot agreed for the week after the meeting.

    ``wkt`` is the place in the store CRS: a polygon, or a point that ``radius_m`` turns
    into a circle. A focus area may have no place (then it is city-wide).
    """

    kind: str
    rank: int
    name: str
    wkt: str | None = None
    radius_m: float | None = None
    categories: tuple[str, ...] = ()
    responsible: tuple[str, ...] = ()
    action: str = ""
    time_focus: str = ""
    status: str = "open"
    follow_up_comment: str = ""
    uuid: str = ""
    meeting_id: int | None = None
    fid: int | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    version: int = 1

    def area_wkt(self) -> str | None:
        """The place as a polygon WKT (a point with a radius becomes a 48-segment circle)."""
        if not self.wkt:
            return None
        from qgis.core import QgsGeometry, QgsWkbTypes

        geometry = QgsGeometry.fromWkt(self.wkt)
        if geometry.isNull():
            return None
        if geometry.type() == QgsWkbTypes.GeometryType.PointGeometry:
            geometry = geometry.buffer(float(self.radius_m or 50.0), 12)
        elif geometry.type() == QgsWkbTypes.GeometryType.LineGeometry:
            geometry = geometry.buffer(float(self.radius_m or 25.0), 8)
        return geometry.asWkt(2)


@dataclass(frozen=True)
class FollowUp:
    """What happened in a priority's place and categories in the week it applied to."""

    priority: Priority
    week: str
    current: int
    baseline: float  # mean per week over the baseline weeks
    weekly: list[int] = field(default_factory=list)  # baseline weeks, then the current week

    @property
    def change(self) -> float:
        return self.current - self.baseline

    @property
    def relative(self) -> float | None:
        return self.change / self.baseline if self.baseline > 0 else None


def previous_week(iso_week: str) -> str:
    return IsoWeek.of(iso_week).previous().label


def next_week(iso_week: str) -> str:
    return IsoWeek.of(iso_week).next().label


def priority_from_hotspot(spot: Any, *, rank: int, name: str | None = None, radius_m: float | None = None,
                          category_codes: Sequence[str] | None = None) -> Priority:
    """Promote a ranked hot-spot area of the compilation to a priority in one step.

    The place is the area's outline (the contiguous significant cells), so the follow-up counts
    the same events the hot-spot counted; with *radius_m* a circle around the area's centre instead.
    """
    codes = tuple(category_codes) if category_codes is not None else tuple(code for code, _n in spot.categories[:2])
    label = name or getattr(spot, "name", "") or spot.district or f"#{spot.rank}"
    ring = list(spot.polygon or [])
    if radius_m is None and len(ring) >= 4:
        wkt = "POLYGON((" + ", ".join(f"{x:.2f} {y:.2f}" for x, y in ring) + "))"
        return Priority(kind="hotspot", rank=rank, name=label, wkt=wkt, radius_m=None, categories=codes)
    radius = float(radius_m if radius_m is not None else 150.0)
    return Priority(kind="hotspot", rank=rank, name=label, wkt=f"POINT({spot.x:.2f} {spot.y:.2f})", radius_m=radius,
                    categories=codes)


# ------------------------------------------------------------------------------ repository
