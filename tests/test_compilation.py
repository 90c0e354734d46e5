"""The compilation engine against brute force, and PostGIS aggregation against numpy."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import TODAY

from est_weekly_plugin.core.compilation import (
    CompilationEngine,
    chart_data,
    columns_from_batch,
    density_spec_for,
    grid_counts,
    postgis_chart_data,
    postgis_grid_counts,
)
from est_weekly_plugin.core.demo import demo_batch
from est_weekly_plugin.core.density import density_grid
from est_weekly_plugin.core.filters import CompilationFilter
from est_weekly_plugin.core.reference import default_categories, default_organisations, municipality

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
    assert result.charts.week_labels == reference.week_labels
    assert np.array_equal(result.charts.week_counts, reference.week_counts)
    assert np.allclose(result.charts.weekly_average, reference.weekly_average, equal_nan=True)
    direct = density_grid(subset.x, subset.y, extent=spec.extent, pixel_size=spec.pixel_size, radius=spec.radius)
    assert np.allclose(result.density.values, direct.values, atol=1e-6 * max(direct.values.max(), 1))
    assert result.hotspots is not None


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
    charts = postgis_chart_data(pg_store, f, columns.category_codes, columns.organisation_codes, week="2026-W47")
    reference = chart_data(subset, week="2026-W47")
    assert np.array_equal(charts.category_counts, reference.category_counts)
    assert np.array_equal(charts.organisation_counts, reference.organisation_counts)
    assert np.array_equal(charts.weekday_counts, reference.weekday_counts)
    assert np.allclose(charts.weekday_hour, reference.weekday_hour)
    assert np.array_equal(charts.week_counts, reference.week_counts)
