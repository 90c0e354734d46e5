"""Meetings and priorities on both backends: round trips, versions, audit rows, follow-up."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from est_weekly_plugin.analysis.follow_up import follow_up, follow_ups, priority_mask
from est_weekly_plugin.domain.errors import ConflictError, EstError
from est_weekly_plugin.domain.meetings import Priority, next_week, previous_week, priority_from_hotspot
from est_weekly_plugin.domain.model import EventColumns, day_number
from est_weekly_plugin.store.meetings import MeetingRepository

KNUTPUNKTEN = "POLYGON((356130 6213180, 356330 6213180, 356330 6213380, 356130 6213380, 356130 6213180))"


def test_week_arithmetic_crosses_years() -> None:
    assert previous_week("2027-W01") == "2026-W53"
    assert next_week("2026-W53") == "2027-W01"
    assert previous_week("2026-W48") == "2026-W47"


def test_meeting_round_trip_and_audit(store) -> None:
    repo = MeetingRepository(store)
    meeting = repo.create_meeting("2026-W47", "anna", meeting_date=dt.date(2026, 11, 23),
                                  organisations=["polisen", "kommunen"], notes="Möte på Rådhuset – åäö")
    assert meeting.iso_week == "2026-W47"
    assert meeting.organisations == ("polisen", "kommunen")
    assert meeting.meeting_date == dt.date(2026, 11, 23)
    assert repo.meeting("2026-W47") == meeting
    with pytest.raises(EstError) as error:
        repo.create_meeting("2026-W47", "anna")
    assert error.value.code == "meeting_exists"
    changed = repo.update_meeting(meeting, "bo", notes="Ny anteckning")
    assert changed.version == 2 and changed.notes == "Ny anteckning"
    with pytest.raises(ConflictError):
        repo.update_meeting(meeting, "cecilia", notes="stale")  # still version 1
    log = store.audit_log(meeting.uuid)
    assert [(e.action, e.subject) for e in log] == [("create", "meeting"), ("edit", "meeting")]
    assert log[1].changes["notes"] == ["Möte på Rådhuset – åäö", "Ny anteckning"]


def test_priorities_polygon_point_and_focus(store) -> None:
    repo = MeetingRepository(store)
    meeting = repo.ensure_meeting("2026-W47", "anna")
    area = repo.add_priority(meeting, Priority(
        kind="hotspot", rank=1, name="Knutpunkten norra entrén", wkt=KNUTPUNKTEN,
        categories=("narkotika", "samlingsplats"), responsible=("polisen", "kommunen"),
        action="Gemensam kvällsrunda", time_focus="fre–lör 20–02"), "anna")
    point = repo.add_priority(meeting, Priority(kind="hotspot", rank=2, name="Stortorget", wkt="POINT(356420 6213760)",
                                                radius_m=150.0, responsible=("polisen",)), "anna")
    focus = repo.add_priority(meeting, Priority(kind="focus", rank=1, name="Klotter i skolor",
                                                categories=("klotter",)), "anna")
    listed = repo.priorities(meeting)
    assert [p.name for p in listed] == ["Knutpunkten norra entrén", "Stortorget", "Klotter i skolor"]
    assert area.wkt.startswith("Polygon") and "356130" in area.wkt
    assert area.categories == ("narkotika", "samlingsplats") and area.responsible == ("polisen", "kommunen")
    assert point.radius_m == 150.0 and point.wkt.startswith("Point")
    assert focus.wkt is None
    assert repo.next_rank(meeting, "hotspot") == 3
    circle = point.area_wkt()
    assert circle is not None and circle.startswith("Polygon")
    with pytest.raises(EstError):
        repo.add_priority(meeting, Priority(kind="hotspot", rank=1, name="No place"), "anna")
    with pytest.raises(EstError):
        repo.add_priority(meeting, Priority(kind="other", rank=1, name="x"), "anna")


def test_follow_up_status_is_versioned_and_audited(store) -> None:
    repo = MeetingRepository(store)
    meeting = repo.ensure_meeting("2026-W47", "anna")
    priority = repo.add_priority(meeting, Priority(kind="focus", rank=1, name="Nedskräpning",
                                                   categories=("nedskrapning",)), "anna")
    done = repo.set_follow_up(priority, "done", "Städat, inga nya rapporter", "bo")
    assert done.status == "done" and done.version == 2
    with pytest.raises(ConflictError):
        repo.set_follow_up(priority, "dropped", "stale", "cecilia")
    with pytest.raises(EstError):
        repo.set_follow_up(done, "open", "", "bo")
    moved = repo.update_priority(done, "bo", wkt="POINT(356000 6213000)", radius_m=80.0)
    assert moved.wkt.startswith("Point") and moved.version == 3
    actions = [e.action for e in store.audit_log(priority.uuid)]
    assert actions == ["create", "follow_up", "edit"]
    repo.delete_priority(moved, "bo", reason="dubblett")
    assert repo.priorities(meeting) == []
    assert store.audit_log(priority.uuid)[-1].action == "delete"


def _columns(points: list[tuple[float, float, str, dt.date]]) -> EventColumns:
    codes = ["klotter", "narkotika"]
    return EventColumns(
        fid=np.arange(len(points)), x=np.array([p[0] for p in points], float), y=np.array([p[1] for p in points], float),
        category=np.array([codes.index(p[2]) for p in points], np.int16),
        organisation=np.zeros(len(points), np.int16),
        day=np.array([day_number(p[3]) for p in points], np.int32),
        weekday=np.array([p[3].weekday() for p in points], np.int8),
        minute_from=np.full(len(points), 600, np.int16), minute_to=np.full(len(points), 600, np.int16),
        category_codes=codes, organisation_codes=["polisen"],
    )


def test_follow_up_counts_place_and_category_against_baseline() -> None:
    week48 = dt.date(2026, 11, 24)
    inside, outside = (356200.0, 6213250.0), (358000.0, 6215000.0)
    points = [(*inside, "narkotika", week48)] * 3 + [(*inside, "klotter", week48)] + [(*outside, "narkotika", week48)]
    # baseline: 8 events over W44–W47 → mean 2
    for k in range(1, 5):
        points += [(*inside, "narkotika", week48 - dt.timedelta(days=7 * k))] * 2
    columns = _columns(points)
    priority = Priority(kind="hotspot", rank=1, name="K", wkt=KNUTPUNKTEN, categories=("narkotika",))
    result = follow_up(priority, columns, "2026-W48")
    assert (result.current, result.baseline, result.change) == (3, 2.0, 1.0)
    assert result.weekly == [2, 2, 2, 2, 3]
    circle = Priority(kind="hotspot", rank=1, name="C", wkt="POINT(356200 6213250)", radius_m=50.0)
    assert follow_up(circle, columns, "2026-W48").current == 4  # both categories


def test_repository_follow_ups_use_previous_meeting(gpkg_store) -> None:
    repo = MeetingRepository(gpkg_store)
    w47 = repo.ensure_meeting("2026-W47", "anna")
    repo.add_priority(w47, Priority(kind="hotspot", rank=1, name="K", wkt=KNUTPUNKTEN), "anna")
    columns = _columns([(356200.0, 6213250.0, "klotter", dt.date(2026, 11, 25))])
    ups = follow_ups(repo, "2026-W48", columns)
    assert [(u.priority.name, u.current) for u in ups] == [("K", 1)]
    assert follow_ups(repo, "2026-W47", columns) == []


def test_promote_hotspot_in_one_step(gpkg_store) -> None:
    from est_weekly_plugin.analysis.hotspots import HotSpot

    spot = HotSpot(rank=1, x=356250.0, y=6213250.0, polygon=[(356200, 6213200), (356300, 6213200), (356300, 6213300),
                   (356200, 6213300), (356200, 6213200)], count=12, window_count=30, z=6.1, p=0.0, significance=3,
                   categories=[("narkotika", 12), ("samlingsplats", 9), ("alkohol", 2)], weekday=4,
                   weekday_share=0.3, hour_band=(20, 24), hour_band_share=0.5, district="Centrum")
    promoted_area = priority_from_hotspot(spot, rank=3)
    assert promoted_area.wkt.startswith("POLYGON((356200.00 6213200.00") and promoted_area.radius_m is None
    inside = _columns([(356250.0, 6213250.0, "narkotika", dt.date(2026, 11, 20)),
                       (356350.0, 6213250.0, "narkotika", dt.date(2026, 11, 20))])
    assert priority_mask(promoted_area, inside).tolist() == [True, False]  # exactly the area's outline
    assert priority_from_hotspot(spot, rank=3, radius_m=150.0).wkt == "POINT(356250.00 6213250.00)"
    repo = MeetingRepository(gpkg_store)
    meeting = repo.ensure_meeting("2026-W47", "anna")
    promoted = repo.promote_hotspot(meeting, spot, "anna")
    assert (promoted.rank, promoted.name, promoted.categories) == (1, "Centrum", ("narkotika", "samlingsplats"))
    assert repo.promote_hotspot(meeting, spot, "anna", name="Knutpunkten").rank == 2
