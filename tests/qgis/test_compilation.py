"""The compilation engine against brute force, and PostGIS aggregation against numpy."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest
from conftest import TODAY
from pg_oracle import postgis_chart_data, postgis_grid_counts

from est_weekly_plugin.analysis.compilation import (
    CompilationEngine,
    chart_data,
    columns_from_batch,
    density_spec_for,
    grid_counts,
)
from est_weekly_plugin.analysis.density import density_grid
from est_weekly_plugin.analysis.filters import CompilationFilter
from est_weekly_plugin.analysis.trends import week_label, week_monday
from est_weekly_plugin.domain.model import date_from_day
from est_weekly_plugin.domain.reference import default_categories, default_organisations, municipality
from est_weekly_plugin.store.demo import demo_batch

CATS = [c.code for c in default_categories()]
ORGS = [o.code for o in default_organisations()]
SQUARE = "POLYGON((355500 6212000, 358000 6212000, 358000 6215500, 355500 6215500, 355500 6212000))"
FILTERS = [
    CompilationFilter(),
    CompilationFilter(categories=["skadegorelse", "klotter"], weekdays=[4, 5, 6], hour_start=22, hour_end=4),
    CompilationFilter(categories=["skadegorelse"]).with_preset("last_4_weeks", TODAY),
    CompilationFilter(organisations=["polisen"], districts=["soder", "centrum"], hour_start=8, hour_end=17),
    CompilationFilter(place_wkt=SQUARE, weekdays=[0]),
]


@pytest.fixture(scope="module")
def columns():
    return columns_from_batch(demo_batch(30_000, end_date=TODAY - dt.timedelta(days=1)), CATS, ORGS)


@pytest.mark.parametrize("index", range(len(FILTERS)))
def test_engine_equals_brute_force(columns, index: int) -> None:
    f = FILTERS[index]
    engine = CompilationEngine(columns)
    spec = density_spec_for(municipality()["urban_core"], max_pixels=200_000)
    result = engine.compute(f, density=spec, hotspots=True, week="2026-W47")
    mask = f.mask(columns)
    assert result.count == int(mask.sum())
    subset = columns.subset(mask)
    reference = chart_data(subset, week="2026-W47")
    assert np.array_equal(result.charts.category_counts, reference.category_counts)
    assert np.array_equal(result.charts.organisation_counts, reference.organisation_counts)
    assert np.array_equal(result.charts.weekday_counts, reference.weekday_counts)
    assert np.allclose(result.charts.weekday_hour, reference.weekday_hour)
    if f.date_from is None and f.date_to is None:
        assert result.charts.lead_weeks == 0
        assert result.charts.week_labels == reference.week_labels
        assert np.array_equal(result.charts.week_counts, reference.week_counts)
        assert np.allclose(result.charts.weekly_average, reference.weekly_average, equal_nan=True)
    else:
        _assert_trend_with_lead(columns, f, result.charts)
    direct = density_grid(subset.x, subset.y, extent=spec.extent, pixel_size=spec.pixel_size, radius=spec.radius)
    assert np.allclose(result.density.values, direct.values, atol=1e-6 * max(direct.values.max(), 1))
    assert result.hotspots is not None


def _assert_trend_with_lead(columns, f: CompilationFilter, charts) -> None:
    """Brute force: the chosen weeks plus the 4 before, counted with the filter minus its dates,
    and each week's average over the 4 weeks before it."""
    undated = CompilationFilter.from_dict({**f.to_dict(), "date_from": None, "date_to": None})
    per_week = Counter(week_label(date_from_day(int(d))) for d in columns.day[undated.mask(columns)])
    start = max(f.date_from or date_from_day(int(columns.day.min())), date_from_day(int(columns.day.min())))
    end = f.date_to or date_from_day(int(columns.day.max()))
    first = week_monday(start) - dt.timedelta(weeks=4)
    n = (week_monday(end) - first).days // 7 + 1
    labels = [week_label(first + dt.timedelta(weeks=k)) for k in range(-4, n)]
    counts = [per_week[label] for label in labels]
    assert charts.lead_weeks == 4
    assert charts.week_labels == labels[4:]
    assert charts.week_labels[4] == week_label(start)  # the first chosen week comes after the 4 lead-in weeks
    assert charts.week_counts.tolist() == counts[4:]
    assert np.allclose(charts.weekly_average, [sum(counts[k:k + 4]) / 4 for k in range(n)])
    # Inside the range (whole weeks) the trend agrees with the dated selection.
    dated = Counter(week_label(date_from_day(int(d))) for d in columns.day[f.mask(columns)])
    for label, count in zip(charts.week_labels[4:], charts.week_counts[4:].tolist()):
        if week_monday(label) >= start and week_monday(label) + dt.timedelta(days=6) <= end:
            assert count == dated[label]


def test_trend_with_a_date_filter_shows_the_weeks_before(columns) -> None:
    engine = CompilationEngine(columns)
    f = CompilationFilter(categories=["klotter"], weekdays=[4, 5],
                          date_from=dt.date(2026, 9, 7), date_to=dt.date(2026, 9, 27))  # weeks 37–39
    charts = engine.compute(f).charts
    assert charts.week_labels == [f"2026-W{w}" for w in range(33, 40)]
    _assert_trend_with_lead(columns, f, charts)
    assert np.isfinite(charts.weekly_average).all()


def test_large_selection_uses_complement_and_matches(columns) -> None:
    engine = CompilationEngine(columns)
    spec = density_spec_for(municipality()["urban_core"], max_pixels=100_000)
    f = CompilationFilter(categories=[c for c in CATS if c != "nedskrapning"])
    result = engine.compute(f, density=spec)
    subset = columns.subset(f.mask(columns))
    assert result.count > len(columns) / 2
    direct = density_grid(subset.x, subset.y, extent=spec.extent, pixel_size=spec.pixel_size, radius=spec.radius)
    # The binning-corrected kernel leaves tiny negative lobes (≤ 1e-4 of the peak) that the
    # complement path clamps to zero.
    assert np.allclose(result.density.values, np.maximum(direct.values, 0), atol=1e-4 * direct.values.max())


def test_vandalism_rise_question_is_answerable(columns) -> None:
    """"Where and when did vandalism rise in the last four weeks, and who reported it?\""""
    engine = CompilationEngine(columns)
    f = CompilationFilter(categories=["skadegorelse", "klotter"]).with_preset("last_4_weeks", TODAY)
    result = engine.compute(f, week="2026-W47", hotspots=True)
    assert result.charts.week_labels[-1] == "2026-W47"
    assert result.charts.organisation_counts.sum() == result.count
    districts = [spot.district for spot in result.hotspots.hotspots[:5]]
    assert "Dalhem" in " ".join(districts) or result.hotspots.hotspots, districts


@pytest.mark.postgis
@pytest.mark.parametrize("index", range(len(FILTERS)))
def test_postgis_grid_counts_equal_numpy(pg_store, index: int) -> None:
    batch = demo_batch(6_000, end_date=TODAY - dt.timedelta(days=1), seed=7)
    pg_store.insert_batch(batch, today=TODAY)
    columns = pg_store.load_columns()
    f = FILTERS[index]
    extent = municipality()["urban_core"]
    subset = columns.subset(f.mask(columns))
    expected = grid_counts(subset.x, subset.y, extent, 250.0)
    got = postgis_grid_counts(pg_store, f, extent, 250.0)
    assert expected.sum() > 0 or index == 4
    assert np.array_equal(got, expected)
    charts = postgis_chart_data(pg_store, f, columns.category_codes, columns.organisation_codes, week="2026-W47",
                                first_day=int(columns.day.min()), last_day=int(columns.day.max()))
    reference = chart_data(subset, week="2026-W47")
    engine = CompilationEngine(columns).compute(f, week="2026-W47").charts
    assert charts.week_labels == engine.week_labels and charts.lead_weeks == engine.lead_weeks
    assert np.array_equal(charts.week_counts, engine.week_counts)
    assert np.allclose(charts.weekly_average, engine.weekly_average, equal_nan=True)
    if f.date_from is not None:
        reference.week_counts = engine.week_counts  # the date-filter trend is checked against the engine above
    assert np.array_equal(charts.category_counts, reference.category_counts)
    assert np.array_equal(charts.organisation_counts, reference.organisation_counts)
    assert np.array_equal(charts.weekday_counts, reference.weekday_counts)
    assert np.allclose(charts.weekday_hour, reference.weekday_hour)
    assert np.array_equal(charts.week_counts, reference.week_counts)


HOSTILE = ["'; DROP TABLE est.events; --", "klotter' OR '1'='1", "%", "_", "\\", "${x} %s {0}", "skadegorelse\x00",
           "ÅÄÖ", ""]


@pytest.mark.postgis
def test_the_filter_has_one_meaning_in_numpy_and_sql_on_hostile_input(pg_store) -> None:
    """Hostile codes in every list of the filter: the SQL WHERE (parametrised) and the numpy mask
    select the same events — the real ones a code names, nothing for codes nobody has."""
    batch = demo_batch(4_000, end_date=TODAY - dt.timedelta(days=1), seed=13)
    pg_store.insert_batch(batch, today=TODAY)
    columns = pg_store.load_columns()
    extent = municipality()["urban_core"]
    for text in HOSTILE:
        for f in (CompilationFilter(categories=[text, "klotter"]), CompilationFilter(organisations=[text]),
                  CompilationFilter(districts=[text, "soder"]), CompilationFilter(categories=[text], weekdays=[4])):
            expected = grid_counts(*(lambda s: (s.x, s.y))(columns.subset(f.mask(columns))), extent, 250.0)
            assert np.array_equal(postgis_grid_counts(pg_store, f, extent, 250.0), expected), (text, f)
    assert pg_store.count() == len(batch)  # nothing was dropped or rewritten


def test_two_compute_tasks_on_one_engine_agree_with_one(columns) -> None:
    """A superseded task still running while the next starts: the caches are built once, right."""
    from concurrent.futures import ThreadPoolExecutor

    filters = [FILTERS[1], FILTERS[3], FILTERS[0], FILTERS[1]]
    alone = [CompilationEngine(columns).compute(f, hotspots=True).count for f in filters]
    shared = CompilationEngine(columns)  # cold caches, hit from four threads at once
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda f: shared.compute(f, hotspots=True).count, filters))
    assert together == alone


def test_the_task_keeper_holds_a_cancelled_task_until_qgis_is_done_with_it(qgis_app) -> None:
    import time

    from qgis.core import QgsApplication

    from est_weekly_plugin.analysis.tasks import TaskKeeper, function_task

    keeper = TaskKeeper()
    finished = []
    slow = function_task("slow", lambda task: [time.sleep(0.05) for _ in range(10) if not task.isCanceled()],
                         lambda result, error: finished.append("slow"))
    keeper.start("compute", slow)
    started = time.time()
    while slow.status() != slow.TaskStatus.Running and time.time() - started < 10:
        QgsApplication.processEvents()
        time.sleep(0.005)
    newer = function_task("newer", lambda task: 1, lambda result, error: finished.append("newer"))
    keeper.start("compute", newer)  # cancels the slow one, which may still be running
    assert slow in keeper.alive and keeper.running["compute"] is newer
    deadline = time.time() + 10
    while keeper.alive and time.time() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.01)
    assert not keeper.alive and "newer" in finished
