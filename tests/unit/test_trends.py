"""Weekly trends: ISO week labels, per-week counts and this week vs the previous four."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from est_weekly_plugin.analysis.trends import events_per_week, iso_week_keys, week_label, week_monday, weekly_trends
from est_weekly_plugin.domain.model import EventColumns, date_from_day, day_number
from est_weekly_plugin.domain.reference import districts as load_districts

CATS = ["skadegorelse", "klotter", "brand"]
ORGS = ["polisen", "sbf"]


def make(days, category=None, organisation=None, x=None, y=None) -> EventColumns:
    days = np.asarray(days, np.int32)
    n = days.size
    soder = next(d for d in load_districts() if d.code == "soder")
    return EventColumns(
        fid=np.arange(n, dtype=np.int64),
        x=np.full(n, soder.x) if x is None else np.asarray(x, float),
        y=np.full(n, soder.y) if y is None else np.asarray(y, float),
        category=np.zeros(n, np.int16) if category is None else np.asarray(category, np.int16),
        organisation=np.zeros(n, np.int16) if organisation is None else np.asarray(organisation, np.int16),
        day=days, weekday=((days.astype(np.int64) + 3) % 7).astype(np.int8),
        minute_from=np.full(n, -1, np.int16), minute_to=np.full(n, -1, np.int16),
        category_codes=CATS, organisation_codes=ORGS,
    )


def test_iso_week_keys_match_python_over_years():
    days = np.arange(day_number(dt.date(2019, 12, 20)), day_number(dt.date(2027, 1, 10)))
    year, week = iso_week_keys(days)
    for d, y, w in zip(days, year, week):
        iso = date_from_day(int(d)).isocalendar()
        assert (iso[0], iso[1]) == (y, w)
    assert week_label(dt.date(2026, 11, 19)) == "2026-W47"
    assert week_label(dt.date(2027, 1, 1)) == "2026-W53"
    assert week_monday("2026-W47") == dt.date(2026, 11, 16)
    assert week_monday(dt.date(2026, 11, 22)) == dt.date(2026, 11, 16)
    with pytest.raises(ValueError):
        week_monday("47")


def test_events_per_week_includes_empty_weeks():
    d = day_number(dt.date(2026, 11, 2))  # Monday of W45
    cols = make([d, d + 6, d + 14, d + 15, d + 16])
    series = events_per_week(cols)
    assert series.labels == ["2026-W45", "2026-W46", "2026-W47"]
    assert series.counts.tolist() == [2, 0, 3]
    wider = events_per_week(cols, "2026-W44", "2026-W48")
    assert wider.counts.tolist() == [0, 2, 0, 3, 0]
    assert events_per_week(make([])).labels == []


def test_weekly_trends_numbers():
    rng = np.random.default_rng(2)
    monday = dt.date(2026, 11, 16)  # W47
    base = day_number(monday)
    # Baseline weeks W43–W46 with 4, 6, 8, 2 klotter events (mean 5); this week 9.
    days, cats = [], []
    for k, count in enumerate([4, 6, 8, 2]):
        start = base - 7 * (4 - k)
        days += list(start + rng.integers(0, 7, count))
        cats += [1] * count
    days += list(base + rng.integers(0, 7, 9))
    cats += [1] * 9
    # Two skadegörelse events this week, none before; one event a week too early (W42).
    days += [base + 1, base + 2, base - 35]
    cats += [0, 0, 0]
    # One fire event in Råå this week.
    raa = next(d for d in load_districts() if d.code == "raa")
    x = [None] * len(days) + [raa.x + 40.0]
    y = [None] * len(days) + [raa.y - 30.0]
    days += [base + 3]
    cats += [2]
    soder = next(d for d in load_districts() if d.code == "soder")
    xs = np.array([soder.x if v is None else v for v in x])
    ys = np.array([soder.y if v is None else v for v in y])
    orgs = np.array([i % 2 for i in range(len(days))])
    cols = make(days, cats, orgs, xs, ys)
    report = weekly_trends(cols, "2026-W47", category_names={"klotter": "Klotter"})
    assert report.week == "2026-W47" and report.monday == monday
    assert report.baseline_labels == ["2026-W43", "2026-W44", "2026-W45", "2026-W46"]
    by_cat = {r.key: r for r in report.categories}
    assert by_cat["klotter"].current == 9
    assert by_cat["klotter"].baseline == pytest.approx(5.0)
    assert by_cat["klotter"].change == pytest.approx(4.0)
    assert by_cat["klotter"].relative == pytest.approx(0.8)
    assert by_cat["klotter"].weekly == [4, 6, 8, 2, 9]
    assert by_cat["klotter"].name == "Klotter"
    assert by_cat["skadegorelse"].current == 2 and by_cat["skadegorelse"].relative is None
    assert report.categories[0].key == "klotter"  # ranked by current count
    assert report.total.current == 12 and report.total.baseline == pytest.approx(5.0)
    by_district = {r.key: r for r in report.districts}
    assert by_district["raa"].current == 1 and by_district["soder"].current == 11
    assert len(report.districts) == len(load_districts())
    by_org = {r.key: r for r in report.organisations}
    assert by_org["polisen"].current + by_org["sbf"].current == 12
    assert report.as_dict()["total"]["current"] == 12


def test_empty_trends():
    report = weekly_trends(make([]), dt.date(2026, 11, 18))
    assert report.week == "2026-W47"
    assert report.total.current == 0 and report.total.relative is None
    assert all(r.current == 0 for r in report.categories + report.districts)
