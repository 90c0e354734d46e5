"""Compilation filters against a brute-force per-event count on the same random data."""

from __future__ import annotations

import datetime as dt
import json
import time

import numpy as np
import pytest

from est_weekly_plugin.analysis.filters import (
    CompilationFilter,
    date_preset,
    hour_totals,
    hour_weights,
    hour_window_share,
    nearest_district_index,
    points_in_polygon,
    weekday_hour_matrix,
)
from est_weekly_plugin.domain.i18n import tr
from est_weekly_plugin.domain.model import EventColumns, date_from_day, day_number
from est_weekly_plugin.domain.reference import districts as load_districts

CATS = ["samlingsplats", "skadegorelse", "klotter", "narkotika", "brand"]
ORGS = ["slf_trygghet", "sbf", "polisen", "vakt"]


def random_columns(n: int, seed: int = 1) -> EventColumns:
    rng = np.random.default_rng(seed)
    first = day_number(dt.date(2026, 9, 1))
    day = rng.integers(first, first + 100, n).astype(np.int32)
    minute_from = rng.integers(0, 1440, n)
    length = rng.choice([0, 0, 30, 90, 180, 360, 600], n)
    minute_to = (minute_from + length) % 1440
    unknown = rng.random(n) < 0.1
    minute_from[unknown] = -1
    minute_to[unknown] = -1
    return EventColumns(
        fid=np.arange(n, dtype=np.int64),
        x=rng.uniform(354000, 362000, n),
        y=rng.uniform(6204000, 6220000, n),
        category=rng.integers(0, len(CATS), n).astype(np.int16),
        organisation=rng.integers(0, len(ORGS), n).astype(np.int16),
        day=day,
        weekday=((day.astype(np.int64) + 3) % 7).astype(np.int8),
        minute_from=minute_from.astype(np.int16),
        minute_to=minute_to.astype(np.int16),
        category_codes=list(CATS),
        organisation_codes=list(ORGS),
    )


def _share_brute(start: int, end: int, hour_start: int, hour_end: int) -> float:
    """Minute by minute: the share of [start, end) (wrapping) inside the hour window."""
    if start < 0:
        return 0.0

    def inside(minute: int) -> bool:
        h = (minute % 1440) / 60.0
        if hour_start < hour_end:
            return hour_start <= h < hour_end
        return h >= hour_start or h < hour_end

    if end == start:
        return 1.0 if inside(start) else 0.0
    length = (end - start) % 1440
    return sum(inside(start + k) for k in range(length)) / length


def _brute_codes(cols: EventColumns, f: CompilationFilter, i: int) -> bool:
    """Organisation and category, one event at a time."""
    if f.organisations and cols.organisation_codes[cols.organisation[i]] not in f.organisations:
        return False
    return not (f.categories and cols.category_codes[cols.category[i]] not in f.categories)


def _brute_when(cols: EventColumns, f: CompilationFilter, i: int) -> bool:
    """Weekday, dates and the hour window's share, one event at a time."""
    date = date_from_day(int(cols.day[i]))
    if (f.weekdays and date.weekday() not in f.weekdays) or (f.date_from and date < f.date_from) \
            or (f.date_to and date > f.date_to):
        return False
    if f.hour_start is None:
        return True
    return _share_brute(int(cols.minute_from[i]), int(cols.minute_to[i]), f.hour_start, f.hour_end) >= f.hour_min_share


def _brute_inside(ring: list, px: float, py: float) -> bool:
    """Even-odd ray casting, the textbook way."""
    inside = False
    for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1]):
        if (ay > py) != (by > py) and px < ax + (py - ay) * (bx - ax) / (by - ay):
            inside = not inside
    return inside


def _brute_where(cols: EventColumns, f: CompilationFilter, i: int, districts: list, ring: list | None) -> bool:
    """Nearest district and the drawn place, one event at a time."""
    if f.districts:
        dist = [(cols.x[i] - d.x) ** 2 + (cols.y[i] - d.y) ** 2 for d in districts]
        if districts[int(np.argmin(dist))].code not in f.districts:
            return False
    return ring is None or _brute_inside(ring, cols.x[i], cols.y[i])


def _brute_mask(cols: EventColumns, f: CompilationFilter) -> np.ndarray:
    """The filter's meaning spelled out event by event: the oracle the vectorised mask must equal."""
    districts = load_districts()
    ring = None
    if f.place_wkt:
        ring = [tuple(map(float, p.split())) for p in f.place_wkt.split("((")[1].split("))")[0].split(",")]
    return np.array([_brute_codes(cols, f, i) and _brute_when(cols, f, i) and _brute_where(cols, f, i, districts, ring)
                     for i in range(len(cols))], dtype=bool)


PLACE = "POLYGON((355000 6208000, 360500 6207000, 361000 6214000, 357500 6216500, 355500 6212000, 355000 6208000))"

FILTERS = [
    CompilationFilter(),
    CompilationFilter(categories=["skadegorelse", "klotter"]),
    CompilationFilter(organisations=["polisen"], weekdays=[4, 5, 6]),
    CompilationFilter(hour_start=22, hour_end=4),
    CompilationFilter(hour_start=8, hour_end=17, weekdays=[0, 1, 2, 3, 4], categories=["brand"]),
    CompilationFilter(date_from=dt.date(2026, 10, 26), date_to=dt.date(2026, 11, 22)),
    CompilationFilter(districts=["soder", "centrum", "raa"], hour_start=20, hour_end=2),
    CompilationFilter(place_wkt=PLACE, categories=["narkotika", "samlingsplats"]),
    CompilationFilter(
        organisations=["sbf", "vakt"], categories=["skadegorelse"], weekdays=[5, 6], hour_start=23,
        hour_end=5, date_from=dt.date(2026, 9, 15), districts=["soder", "norr", "eneborg"], place_wkt=PLACE,
    ),
    CompilationFilter(categories=["no_such_code"]),
    CompilationFilter(categories=["klotter", "'; DROP TABLE events; --"]),
]


@pytest.mark.parametrize("index", range(len(FILTERS)))
def test_mask_matches_brute_force(qgis_app, index):
    cols = random_columns(20000 if index == 8 else 3000, seed=index + 10)
    f = FILTERS[index]
    fast = f.mask(cols)
    slow = _brute_mask(cols, f)
    assert fast.sum() == slow.sum()
    assert np.array_equal(fast, slow)
    assert fast.any() == (index != 9)


def test_filters_select_something_and_unknown_codes_match_nothing(qgis_app):
    cols = random_columns(20000, seed=3)
    assert FILTERS[0].mask(cols).all()
    assert 0 < FILTERS[8].mask(cols).sum() < 60
    assert FILTERS[9].mask(cols).sum() == 0
    only_klotter = CompilationFilter(categories=["klotter"]).mask(cols)
    assert np.array_equal(FILTERS[10].mask(cols), only_klotter)


def test_hour_window_across_midnight_exact():
    cols = random_columns(0)
    starts = [23 * 60, 21 * 60, 3 * 60 + 30, 12 * 60, 21 * 60, -1, 22 * 60]
    ends = [1 * 60, 23 * 60, 3 * 60 + 30, 13 * 60, 3 * 60, -1, 22 * 60]
    n = len(starts)
    cols = EventColumns(
        fid=np.arange(n), x=np.zeros(n), y=np.zeros(n), category=np.zeros(n, np.int16),
        organisation=np.zeros(n, np.int16), day=np.zeros(n, np.int32), weekday=np.zeros(n, np.int8),
        minute_from=np.array(starts, np.int16), minute_to=np.array(ends, np.int16),
        category_codes=CATS, organisation_codes=ORGS,
    )
    share = hour_window_share(cols, 22, 4)
    # 23–01 inside; 21–23: half; 03:30 point inside; 12–13 outside; 21–03: 5 of 6 h; unknown 0;
    # 22:00 point inside (start of the window is included).
    assert share.tolist() == pytest.approx([1.0, 0.5, 1.0, 0.0, 5 / 6, 0.0, 1.0])
    f = CompilationFilter(hour_start=22, hour_end=4)
    assert f.mask(cols).tolist() == [True, True, True, False, True, False, True]
    strict = CompilationFilter(hour_start=22, hour_end=4, hour_min_share=0.9)
    assert strict.mask(cols).tolist() == [True, False, True, False, False, False, True]


def _single(start: int, end: int, weekday: int = 0) -> EventColumns:
    return EventColumns(
        fid=np.arange(1), x=np.zeros(1), y=np.zeros(1), category=np.zeros(1, np.int16),
        organisation=np.zeros(1, np.int16), day=np.zeros(1, np.int32), weekday=np.array([weekday], np.int8),
        minute_from=np.array([start], np.int16), minute_to=np.array([end], np.int16),
        category_codes=CATS, organisation_codes=ORGS,
    )


def test_aoristic_weights_exact_values():
    three_hours = _single(20 * 60, 23 * 60)
    totals = hour_totals(three_hours)
    assert totals[20:23].tolist() == pytest.approx([1 / 3] * 3)
    assert totals.sum() == pytest.approx(1.0)
    half_hours = _single(22 * 60 + 30, 1 * 60 + 30, weekday=6)  # Sunday 22:30 – Monday 01:30
    matrix = weekday_hour_matrix(half_hours)
    assert matrix[6, 22] == pytest.approx(1 / 6)
    assert matrix[6, 23] == pytest.approx(1 / 3)
    assert matrix[0, 0] == pytest.approx(1 / 3)
    assert matrix[0, 1] == pytest.approx(1 / 6)
    assert matrix.sum() == pytest.approx(1.0)
    point = _single(7 * 60 + 59, 7 * 60 + 59)
    assert hour_totals(point)[7] == 1.0
    unknown = _single(-1, -1, weekday=2)
    assert hour_totals(unknown).sum() == 0.0
    spread = weekday_hour_matrix(unknown, unknown="spread")
    assert spread[2].tolist() == pytest.approx([1 / 24] * 24)
    assert spread.sum() == pytest.approx(1.0)


def test_aoristic_totals_match_per_event_weights():
    cols = random_columns(2000, seed=5)
    weights = hour_weights(cols)
    known = cols.minute_from >= 0
    assert weights[known].sum(axis=1) == pytest.approx(np.ones(known.sum()))
    assert weights[~known].sum() == 0.0
    assert hour_totals(cols) == pytest.approx(weights.sum(axis=0))
    assert weekday_hour_matrix(cols).sum() == pytest.approx(known.sum())
    # Brute force on one event: a 6-hour span from 21:00.
    brute = np.zeros(24)
    for minute in range(21 * 60, 27 * 60):
        brute[(minute // 60) % 24] += 1 / 360
    assert hour_weights(_single(21 * 60, 3 * 60))[0] == pytest.approx(brute)
    assert len(tr("compilation.aoristic.method", "sv")) > 50


def test_date_presets():
    today = dt.date(2026, 11, 25)  # Wednesday, ISO week 48
    assert date_preset("last_week", today) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert date_preset("last_4_weeks", today) == (dt.date(2026, 10, 26), dt.date(2026, 11, 22))
    assert date_preset("this_week", today) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert date_preset("last_tertial", today) == (dt.date(2026, 5, 1), dt.date(2026, 8, 31))
    assert date_preset("last_tertial", dt.date(2027, 2, 3)) == (dt.date(2026, 9, 1), dt.date(2026, 12, 31))
    assert date_preset("last_tertial", dt.date(2026, 6, 1)) == (dt.date(2026, 1, 1), dt.date(2026, 4, 30))
    f = CompilationFilter(categories=["klotter"]).with_preset("last_4_weeks", today)
    assert (f.date_from, f.date_to, f.preset) == (dt.date(2026, 10, 26), dt.date(2026, 11, 22), "last_4_weeks")
    with pytest.raises(ValueError):
        date_preset("next_year", today)


def test_roundtrip_json():
    f = FILTERS[8]
    data = json.loads(json.dumps(f.to_dict()))
    assert CompilationFilter.from_dict(data) == f
    assert CompilationFilter.from_dict({}) == CompilationFilter()
    assert CompilationFilter.from_dict({"weekdays": [9, 2], "categories": "klotter"}).weekdays == [2]


def test_describe_swedish_and_english():
    f = CompilationFilter(
        categories=["skadegorelse"], weekdays=[4, 5, 6], hour_start=22, hour_end=4, districts=["soder"],
        date_from=dt.date(2026, 10, 26), date_to=dt.date(2026, 11, 22),
    )
    sv = f.describe("sv", categories={"skadegorelse": "Skadegörelse och klotter"})
    en = f.describe("en", categories={"skadegorelse": "Vandalism and graffiti"})
    assert sv == "Skadegörelse och klotter, fre–sön 22–04, Söder, vecka 44–47"
    assert en == "Vandalism and graffiti, Fri–Sun 22–04, Söder, weeks 44–47"
    two = CompilationFilter(categories=["a", "b", "c"], weekdays=[0, 2], date_from=dt.date(2026, 11, 16),
                            date_to=dt.date(2026, 11, 22))
    assert two.describe("sv") == "a, b och c, mån, ons, vecka 47"
    assert CompilationFilter(weekdays=[5, 6, 0]).describe("en") == "All categories, Sat–Mon"


def test_empty_columns():
    cols = random_columns(0)
    assert FILTERS[8].mask(cols).shape == (0,)
    assert hour_totals(cols).tolist() == [0.0] * 24
    assert weekday_hour_matrix(cols).shape == (7, 24)
    assert hour_weights(cols).shape == (0, 24)


def test_polygon_with_hole_and_speed(qgis_app):
    wkt = "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (4 4, 6 4, 6 6, 4 6, 4 4))"
    inside = points_in_polygon(np.array([1.0, 5.0, 11.0, 9.0]), np.array([1.0, 5.0, 5.0, 9.5]), wkt)
    assert inside.tolist() == [True, False, False, True]
    multi = "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 1, 0 0)), ((5 5, 6 5, 6 6, 5 6, 5 5)))"
    assert points_in_polygon(np.array([0.5, 5.5, 3.0]), np.array([0.5, 5.5, 3.0]), multi).tolist() == [
        True, True, False,
    ]
    rng = np.random.default_rng(0)
    x = rng.uniform(350000, 366000, 1_000_000)
    y = rng.uniform(6200000, 6222000, 1_000_000)
    start = time.perf_counter()
    result = points_in_polygon(x, y, PLACE)
    elapsed = time.perf_counter() - start
    assert 0.05 < result.mean() < 0.2
    assert elapsed < 3.0
    assert nearest_district_index(x[:10], y[:10]).min() >= 0
