"""One weekly analysis: the dock, the meeting panel, the meeting PDF and Processing report the same
counts and the same ranked hot-spots for the same week and filter, on both backends."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
from conftest import TODAY

from est_weekly_plugin.analysis.filters import CompilationFilter
from est_weekly_plugin.analysis.weekly import AnalysisSettings, analyse_week, week_filter
from est_weekly_plugin.store import GeoPackageStore
from est_weekly_plugin.store.demo import demo_batch

WEEK = "2026-W47"


def category_indices(*codes: str) -> list[int]:
    """What Processing's category list takes: positions in the list of category names."""
    from est_weekly_plugin.domain.reference import default_categories

    return [i for i, c in enumerate(default_categories()) if c.code in codes]
FILTER = CompilationFilter(categories=["skadegorelse", "klotter"])


@pytest.fixture
def processing_provider(qgis_app):
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing
    from qgis.core import QgsApplication

    from est_weekly_plugin.processing.provider import EstProcessingProvider

    Processing.initialize()
    registry = QgsApplication.processingRegistry()
    if registry.providerById("est_weekly") is not None:
        registry.removeProvider(registry.providerById("est_weekly"))
    provider = EstProcessingProvider()
    registry.addProvider(provider)
    yield provider
    registry.removeProvider(provider)


def _processing_source(store) -> dict:
    """How Processing reaches this store: the file, or a PostgreSQL connection saved in QGIS."""
    if isinstance(store, GeoPackageStore):
        return {"DATABASE": str(store.path)}
    from qgis.core import QgsSettings

    settings, info = QgsSettings(), store.info
    prefix = "PostgreSQL/connections/est_weekly_test"
    for key, value in (("host", info.host), ("port", str(info.port)), ("database", info.dbname),
                       ("username", info.user), ("password", info.password), ("saveUsername", "true"),
                       ("savePassword", "true")):
        settings.setValue(f"{prefix}/{key}", value)
    return {"CONNECTION": "est_weekly_test"}


def ranks(spots) -> list[tuple[int, int]]:
    return [(spot.row, spot.col) for spot in spots]


@pytest.mark.slow  # over five seconds: left out of make test-fast
def test_dock_panel_pdf_and_processing_agree(store, qgis_iface, qgis_new_project, processing_provider) -> None:
    import processing
    from qgis.core import NULL

    from est_weekly_plugin.gui.compilation.compilation_dock import CompilationDock
    from est_weekly_plugin.gui.meeting.meeting_panel import MeetingPanel
    from est_weekly_plugin.gui.shared.session import EstSession
    from est_weekly_plugin.report.data import ReportOptions, compute_report

    store.insert_batch(demo_batch(60_000, end_date=TODAY - dt.timedelta(days=1), seed=11), today=TODAY)
    expected = analyse_week(store, WEEK, FILTER)
    assert expected.count > 20 and len(expected.hotspots) >= 2  # FDR-corrected areas
    assert expected.settings == AnalysisSettings.of(store)

    # the meeting PDF
    data = compute_report(store, ReportOptions(week=WEEK, filter=FILTER))
    assert data.event_count == expected.count
    assert ranks(row.spot for row in data.hotspots) == ranks(expected.hotspots)[:10]

    # Processing (the hot-spot grid carries each ranked cell's rank; the summary the week's total)
    source = _processing_source(store)
    chosen = category_indices("skadegorelse", "klotter")
    cells = processing.run("est_weekly:hotspotgrid", {**source, "WEEK": WEEK, "CATEGORIES": chosen,
                                                       "ONLY_SIGNIFICANT": False, "OUTPUT": "memory:"})["OUTPUT"]
    ranked = sorted((f["rank"], f["row"], f["col"]) for f in cells.getFeatures() if f["rank"] not in (None, NULL))
    assert [(row, col) for _rank, row, col in ranked] == ranks(expected.hotspots)
    summary = processing.run("est_weekly:weeklysummary", {**source, "WEEK": WEEK, "CATEGORIES": chosen,
                                                           "SUPPRESS_SMALL_COUNTS": False, "OUTPUT": "memory:"})["OUTPUT"]
    total = next(f for f in summary.getFeatures() if f["grouping"] == "total")
    assert total["current"] == expected.count

    # the compilation dock with the same week and filter
    session = EstSession()
    session.set_store(store)
    dock = CompilationDock(qgis_iface, session)
    try:
        assert dock.wait_until_idle()
        dock.set_filter(week_filter(WEEK, FILTER))
        assert dock.wait_until_idle()
        assert dock.result.count == expected.count
        assert ranks(dock.result.hotspots.hotspots) == ranks(expected.hotspots)
    finally:
        dock.shutdown()

    # the meeting panel (the whole week, no filter)
    unfiltered = analyse_week(store, WEEK)
    panel = MeetingPanel(qgis_iface, session)
    panel.week_edit.setText(WEEK)
    panel.refresh_events()
    assert panel.wait_until_idle()  # the panel analyses in a task
    assert ranks(panel.hotspots) == ranks(unfiltered.hotspots)


def test_the_study_area_is_one_setting_of_the_database(store) -> None:
    store.insert_batch(demo_batch(8_000, end_date=TODAY - dt.timedelta(days=1), seed=3), today=TODAY)
    default = AnalysisSettings.of(store)
    extent = store.settings.extent
    wide = AnalysisSettings(study_area=(extent.xmin, extent.ymin, extent.xmax, extent.ymax), cell_size=250.0)
    wide.save(store, actor="admin")
    assert AnalysisSettings.of(store) == wide != default
    assert analyse_week(store, WEEK).result.hotspots.grid.cell_size == 250.0
    assert store.audit_log("analysis_cell_size", subject="setting")[-1].actor == "admin"


def test_the_demo_weeks_planted_hot_spots_are_found_as_distinct_named_areas(gpkg_store) -> None:
    from est_weekly_plugin.analysis.hotspot_areas import MIN_AREA_EVENTS
    from est_weekly_plugin.store.demo import HOTSPOTS

    gpkg_store.insert_batch(demo_batch(60_000, seed=48, end_date=dt.date(2026, 11, 22)), today=TODAY)
    weekly = analyse_week(gpkg_store, WEEK)
    spots = weekly.hotspots
    assert weekly.result.hotspots.tested and weekly.result.hotspots.correction == "fdr"
    names = [spot.label for spot in spots]
    assert len(names) == len(set(names))  # no place twice
    assert all(spot.count >= MIN_AREA_EVENTS and spot.cells >= 1 for spot in spots)
    planted = {spot.name for spot in HOTSPOTS}
    assert {"Dalhems skatepark", "Knutpunkten"} <= set(names[:3]) and len(planted & set(names)) >= 4
    top = spots[0]
    assert top.previous_average is not None and top.change is not None  # against the 4 weeks before
