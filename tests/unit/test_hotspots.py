"""Gi* hot spots: planted clusters are found, uniform noise gives about the nominal rate of
false positives, Gi* matches a direct per-cell computation, and emerging cells are found."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qgis.core import QgsGeometry, QgsPointXY

from est_weekly_plugin.analysis.hotspot_areas import area_outline, label_areas
from est_weekly_plugin.analysis.hotspots import (
    binomial_two_sided_p,
    emerging_hotspots,
    getis_ord_gi_star,
    hotspot_analysis,
    make_grid,
    normal_cdf,
    significance_class,
    two_sided_p,
)
from est_weekly_plugin.domain.model import EventColumns

CATS = ["samlingsplats", "skadegorelse", "klotter", "narkotika"]
ORGS = ["slf_trygghet", "polisen"]
EXTENT = (356000.0, 6208000.0, 361000.0, 6213000.0)  # 5 km × 5 km, 50 × 50 cells of 100 m


def columns(x, y, category=None, weekday=None, minute_from=None, minute_to=None) -> EventColumns:
    n = len(x)
    mf = np.full(n, -1, np.int16) if minute_from is None else np.asarray(minute_from, np.int16)
    mt = mf.copy() if minute_to is None else np.asarray(minute_to, np.int16)
    return EventColumns(
        fid=np.arange(n, dtype=np.int64), x=np.asarray(x, float), y=np.asarray(y, float),
        category=np.zeros(n, np.int16) if category is None else np.asarray(category, np.int16),
        organisation=np.zeros(n, np.int16), day=np.full(n, 20000, np.int32),
        weekday=np.zeros(n, np.int8) if weekday is None else np.asarray(weekday, np.int8),
        minute_from=mf, minute_to=mt, category_codes=CATS, organisation_codes=ORGS,
    )


def uniform(n, rng):
    return rng.uniform(EXTENT[0], EXTENT[2], n), rng.uniform(EXTENT[1], EXTENT[3], n)


def test_normal_cdf_and_p_values():
    assert normal_cdf(np.array([0.0, 1.959963985, -1.644853627])) == pytest.approx([0.5, 0.975, 0.05], abs=1e-7)
    assert two_sided_p(np.array([1.959963985, -2.575829304, 0.0])) == pytest.approx([0.05, 0.01, 1.0], abs=1e-7)
    assert two_sided_p(np.array([8.0]))[0] == pytest.approx(1.2442e-15, rel=1e-3)


def test_planted_cluster_is_a_significant_hot_spot():
    rng = np.random.default_rng(42)
    bx, by = uniform(2500, rng)
    cx = 358550.0 + rng.normal(0, 60, 150)
    cy = 6210550.0 + rng.normal(0, 60, 150)
    cat = np.concatenate([rng.integers(0, 4, 2500), np.where(rng.random(150) < 0.8, 2, 1)])
    wd = np.concatenate([rng.integers(0, 7, 2500), np.full(150, 5)])
    mf = np.concatenate([np.full(2500, -1), np.full(150, 22 * 60)])
    mt = np.concatenate([np.full(2500, -1), np.full(150, 23 * 60 + 30)])
    cols = columns(np.concatenate([bx, cx]), np.concatenate([by, cy]), cat, wd, mf, mt)
    result = hotspot_analysis(cols, cell_size=100.0, rings=1, extent=EXTENT)
    assert result.counts.shape == (50, 50)
    assert result.counts.sum() == len(cols)
    top = result.hotspots[0]
    assert top.rank == 1
    assert math.hypot(top.x - 358550.0, top.y - 6210550.0) < 150.0
    assert top.significance == 3 and top.p < 1e-6 and top.z > 10
    assert top.categories[0][0] == "klotter"
    assert top.weekday == 5
    assert top.hour_band == (20, 24)
    assert top.district  # a district name from districts.csv
    # The hot spot is an area: the contiguous hot cells around the cluster, outlined as one ring.
    assert top.cells > 1 and top.polygon[0] == top.polygon[-1] and len(top.polygon) >= 5
    outline = QgsGeometry.fromPolygonXY([[QgsPointXY(x, y) for x, y in top.polygon]])
    assert outline.contains(QgsPointXY(358550.0, 6210550.0))
    assert outline.area() == pytest.approx(top.cells * 100.0 * 100.0, rel=1e-3)
    inside = [outline.contains(QgsPointXY(x, y)) for x, y in zip(cols.x, cols.y)]
    assert top.count == sum(inside) and top.count >= 120  # most of the 150 planted events
    # Cells on the cluster are hot at 99 %; the ranked list has one entry per area.
    row, col, _ = result.grid.cell_of(np.array([358550.0]), np.array([6210550.0]))
    assert result.classes[row[0], col[0]] == 3
    others = [h for h in result.hotspots[1:] if math.hypot(h.x - top.x, h.y - top.y) < 150.0]
    assert not others
    records = result.cells_wkt()
    assert records and all(r["wkt"].startswith("POLYGON((") for r in records)


def test_uniform_noise_false_positive_rate():
    rng = np.random.default_rng(7)
    rates = []
    for _ in range(8):
        x, y = uniform(12500, rng)  # 5 events per cell on average
        result = hotspot_analysis(columns(x, y), cell_size=100.0, rings=1, extent=EXTENT)
        rates.append(float((result.p[result.grid.valid] < 0.05).mean()))
    mean = float(np.mean(rates))
    # Nominal 5 % (measured ≈ 5.1 %); counts are discrete, so allow 3–7 %.
    assert 0.03 < mean < 0.07, rates


def test_with_the_fdr_correction_noise_flags_areas_at_most_at_the_nominal_rate():
    rng = np.random.default_rng(17)
    patterns, flagged, uncorrected = 40, 0, 0
    for _ in range(patterns):
        x, y = uniform(2500, rng)  # one event per cell on average, like a busy week
        result = hotspot_analysis(columns(x, y), cell_size=100.0, rings=1, extent=EXTENT)
        assert result.correction == "fdr" and result.tested
        flagged += bool(result.hotspots)
        uncorrected += bool((significance_class(result.z, result.p, "none") > 0).any())
    # Benjamini–Hochberg under no clustering at all: P(any area at 90 %) ≤ 10 %.
    assert flagged / patterns <= 0.10, flagged
    assert uncorrected == patterns  # without a correction every pattern shows "hot spots"


def test_too_few_events_give_counts_but_no_significance():
    rng = np.random.default_rng(2)
    x = 358550.0 + rng.normal(0, 30, 12)  # a tight little cluster of 12 events
    y = 6210550.0 + rng.normal(0, 30, 12)
    result = hotspot_analysis(columns(x, y), cell_size=100.0, rings=1, extent=EXTENT)
    assert result.counts.sum() == 12 and result.z.max() > 5  # the statistic is there …
    assert not result.tested and result.min_events == 30  # … but not claimed
    assert (result.classes == 0).all() and result.hotspots == []


def test_every_area_is_one_place_even_when_two_cells_touch_at_a_corner():
    grid = make_grid(EXTENT, 100.0)
    hot = np.zeros(grid.shape, dtype=bool)
    hot[10, 10] = hot[11, 11] = True  # corner to corner
    hot[30, 30] = hot[30, 31] = hot[31, 30] = True
    labels, count = label_areas(hot, grid)
    assert count == 2 and labels[10, 10] == labels[11, 11] != labels[30, 30]
    ring = area_outline(grid, [(10, 10), (11, 11)])
    assert ring[0] == ring[-1] and QgsGeometry.fromPolygonXY([[QgsPointXY(*p) for p in ring]]).area() == \
        pytest.approx(20_000.0, rel=1e-3)


def test_gi_star_equals_direct_formula():
    rng = np.random.default_rng(3)
    grid = make_grid((0, 0, 999, 699), 100.0)
    counts = rng.poisson(3.0, grid.shape).astype(float)
    z = getis_ord_gi_star(counts, grid, rings=2)
    n = counts.size
    mean = counts.mean()
    s = math.sqrt((counts**2).mean() - mean**2)
    for r, c in [(0, 0), (3, 4), (6, 9), (2, 0)]:
        window = counts[max(r - 2, 0) : r + 3, max(c - 2, 0) : c + 3]
        w = window.size
        expected = (window.sum() - mean * w) / (s * math.sqrt((n * w - w * w) / (n - 1)))
        assert z[r, c] == pytest.approx(expected)


def test_hexagon_grid():
    rng = np.random.default_rng(11)
    bx, by = uniform(3000, rng)
    cx = 357300.0 + rng.normal(0, 50, 120)
    cy = 6211200.0 + rng.normal(0, 50, 120)
    cols = columns(np.concatenate([bx, cx]), np.concatenate([by, cy]))
    result = hotspot_analysis(cols, cell_size=100.0, grid="hex", extent=EXTENT)
    assert result.counts.sum() == len(cols)  # every point falls in a valid hexagon
    assert len(result.grid.stencil(1)) == 7
    top = result.hotspots[0]
    assert math.hypot(top.x - 357300.0, top.y - 6211200.0) < 120.0
    # A hexagon's polygon: vertices at circumradius 100/√3 around its centre.
    ring = np.array(result.grid.polygon(top.row, top.col)[:-1])
    hx, hy = result.grid.centre(np.array(top.row), np.array(top.col))
    assert np.hypot(ring[:, 0] - hx, ring[:, 1] - hy) == pytest.approx([100 / math.sqrt(3)] * 6)
    assert top.cells >= 2 and len(top.polygon) > 7  # the area: several hexagons, one outline
    # Points map to the hexagon whose centre is nearest.
    px, py = uniform(2000, rng)
    row, col, inside = result.grid.cell_of(px, py)
    hx, hy = result.grid.centre(row, col)
    d_own = np.hypot(px - hx, py - hy)
    assert (d_own <= 100 / math.sqrt(3) + 1e-6).all()


def test_binomial_p_values_exact():
    # Binomial(10, 0.5): P(X ≤ 1) + P(X ≥ 9) = 22/1024.
    assert binomial_two_sided_p(np.array([1, 9, 5]), np.array([10, 10, 10]), 0.5) == pytest.approx(
        [22 / 1024, 22 / 1024, 1.0]
    )
    # Binomial(4, 0.25), k = 4: only outcome 4 is as unlikely → 0.25⁴.
    assert binomial_two_sided_p(np.array([4]), np.array([4]), 0.25)[0] == pytest.approx(0.25**4)


def test_emerging_and_fading_cells():
    rng = np.random.default_rng(5)
    px, py = uniform(3000, rng)
    cx, cy = uniform(3000, rng)
    # A new cluster this period; an old one that disappeared.
    cx = np.concatenate([cx, 357050.0 + rng.normal(0, 25, 40)])
    cy = np.concatenate([cy, 6209050.0 + rng.normal(0, 25, 40)])
    px = np.concatenate([px, 360050.0 + rng.normal(0, 25, 40)])
    py = np.concatenate([py, 6212050.0 + rng.normal(0, 25, 40)])
    result = emerging_hotspots(columns(cx, cy), columns(px, py), cell_size=100.0, extent=EXTENT)
    up = result.grid.cell_of(np.array([357050.0]), np.array([6209050.0]))
    down = result.grid.cell_of(np.array([360050.0]), np.array([6212050.0]))
    assert result.trend[up[0][0], up[1][0]] == 1
    assert result.trend[down[0][0], down[1][0]] == -1
    assert result.share == pytest.approx(0.5)
    # Elsewhere (same process in both periods) few cells are flagged.
    assert (result.trend != 0).sum() < 30
    assert all(r["trend"] in (1, -1) for r in result.cells_wkt())


def test_city_wide_rise_is_not_emerging():
    rng = np.random.default_rng(9)
    before = columns(*uniform(2000, rng))
    after = columns(*uniform(4000, rng))  # twice as many everywhere
    result = emerging_hotspots(after, before, extent=EXTENT)
    assert result.share == pytest.approx(2 / 3)
    assert (result.trend != 0).sum() < 0.02 * result.trend.size


def test_empty_inputs():
    empty = columns([], [])
    result = hotspot_analysis(empty)
    assert result.hotspots == [] and result.counts.size == 0
    with_extent = hotspot_analysis(empty, extent=EXTENT)
    assert with_extent.counts.sum() == 0 and not with_extent.z.any() and with_extent.hotspots == []
    assert emerging_hotspots(empty, empty).trend.size == 0
    assert (emerging_hotspots(empty, empty, extent=EXTENT).trend == 0).all()
