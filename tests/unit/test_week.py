"""The ISO week as a value."""

from __future__ import annotations

import datetime as dt

import pytest

from est_weekly_plugin.domain.week import IsoWeek


def test_weeks_across_the_year_boundary():
    week = IsoWeek.of("2026-W53")
    assert (week.monday, week.sunday) == (dt.date(2026, 12, 28), dt.date(2027, 1, 3))
    assert week.next().label == "2027-W01" and IsoWeek.of("2027-W01").previous() == week
    assert IsoWeek.of(dt.date(2027, 1, 3)) == week and dt.date(2027, 1, 1) in week


def test_the_last_complete_week_and_bad_labels():
    assert IsoWeek.last_complete(dt.date(2026, 11, 23)).label == "2026-W47"  # a Monday: last week
    assert IsoWeek.last_complete(dt.date(2026, 11, 29)).label == "2026-W47"  # a Sunday: still last week
    for bad in ("2025-W53", "vecka 47", "2026-W7"):
        with pytest.raises(ValueError):
            IsoWeek.of(bad)
