"""Ctrl+K: the locator finds EST places, the compilation's hot-spot areas and approved events by
their words — hostile text included — and a choice zooms the map there."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TODAY, make_event
from qgis_shell import ShellInterface

from est_weekly_plugin.analysis.hotspots import HotSpot
from est_weekly_plugin.domain.model import Status


@pytest.fixture
def shell(qgis_iface, qgis_canvas):  # noqa: ANN001, ANN201
    from qgis.PyQt.QtWidgets import QMainWindow

    return ShellInterface(qgis_canvas, qgis_iface.messageBar(), QMainWindow())


def _spot() -> HotSpot:
    ring = [(356200.0, 6213200.0), (356400.0, 6213200.0), (356400.0, 6213400.0), (356200.0, 6213400.0),
            (356200.0, 6213200.0)]
    return HotSpot(rank=1, x=356300.0, y=6213300.0, polygon=ring, count=42, window_count=42, z=9.0, p=0.0,
                   significance=3, categories=[("narkotika", 20)], weekday=4, weekday_share=0.4, hour_band=(20, 24),
                   hour_band_share=0.5, district="Centrum", cells=4, name="Knutpunkten")


def test_the_locator_finds_places_hotspot_areas_and_events(shell, qgis_new_project, gpkg_store) -> None:
    from qgis.core import QgsCoordinateReferenceSystem, QgsPointXY

    from est_weekly_plugin.plugin import EstWeeklyPlugin

    saved = gpkg_store.submit(make_event(place_name="Kullagatan 10, vid porten", description="Klotter på dörren 100%_"),
                              actor="bo", today=TODAY)
    gpkg_store.review(saved.uuid, saved.version, "granskare.gun", Status.APPROVED, today=TODAY)
    hidden = gpkg_store.submit(make_event(place_name="Kullagatan 12", event_date=TODAY - dt.timedelta(days=1)),
                               actor="bo", today=TODAY)  # not approved: never found
    plugin = EstWeeklyPlugin(shell)
    plugin.initGui()
    try:
        assert shell.locator_filters == [plugin.locator]
        plugin._use(lambda: gpkg_store)
        plugin.locator._hotspots = lambda: [_spot()]  # what the compilation shows now
        search = plugin.locator.clone()  # as QGIS does before each search
        texts = {r.displayString: r for r in search.results("kullagatan")}
        assert any("Kullagatan 10" in t for t in texts) and not any("Kullagatan 12" in t for t in texts)
        assert hidden.uuid  # (submitted only)
        assert [r.group for r in search.results("Knutpunkten") if "Knutpunkten" in r.displayString] == \
            ["EST hot-spot areas"]
        assert [r.displayString for r in search.results("Drottninghög")][0] == "Drottninghög"  # a district
        assert any("Kullagatan 10" in r.displayString for r in search.results("100%_"))  # data, not a pattern
        for literal in ("%", "_"):  # only the report that holds the character itself
            found = [r.displayString for r in search.results(literal) if r.group == "EST approved events"]
            assert len(found) == 1 and "Kullagatan 10" in found[0], literal
        for hostile in ("'; DROP TABLE events; --", "\\\\", "ö' OR '1'='1"):
            assert not [r for r in search.results(hostile) if r.group == "EST approved events"], hostile
        assert gpkg_store.count() == 2  # nothing dropped
        canvas = shell.mapCanvas()
        canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3006"))
        event_result = next(r for r in texts.values() if "Kullagatan 10" in r.displayString)
        plugin.locator.triggerResult(event_result)
        extent = canvas.extent()
        assert extent.contains(QgsPointXY(saved.x, saved.y)) and min(extent.width(), extent.height()) < 1000
    finally:
        plugin.unload()
    assert shell.locator_filters == []
