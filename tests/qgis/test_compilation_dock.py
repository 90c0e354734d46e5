"""The compilation dock driven through its real widgets, with screenshots."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest
from conftest import TODAY
from qgis.core import QgsMapRendererParallelJob, QgsProject, QgsRasterLayer, QgsRectangle, QgsVectorLayer
from qgis.PyQt.QtCore import QSize, Qt
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtWidgets import QApplication

from est_weekly_plugin.domain.settings import PROJECT_SCOPE
from est_weekly_plugin.gui.compilation.compilation_dock import CompilationDock
from est_weekly_plugin.gui.compilation.compilation_layer import (
    EVENTS_QML,
    HEATMAP_QML,
    HOTSPOT_CELLS_QML,
    STYLE_PROPERTY,
    CompilationLayers,
    style_path,
)
from est_weekly_plugin.gui.compilation.controller import FILTER_ENTRY
from est_weekly_plugin.gui.shared.session import EstSession
from est_weekly_plugin.maps.layers import LAYER_PROPERTY
from est_weekly_plugin.store.demo import demo_batch


@pytest.fixture
def dock(qgis_iface, qgis_new_project, gpkg_store):
    # pytest-qgis's new project keeps project entries; a real new project has none (no saved filter)
    QgsProject.instance().removeEntry(PROJECT_SCOPE, FILTER_ENTRY)
    gpkg_store.insert_batch(demo_batch(20_000, end_date=TODAY - dt.timedelta(days=1), seed=11), today=TODAY)
    session = EstSession()
    session.set_store(gpkg_store)
    canvas = qgis_iface.mapCanvas()
    from qgis.core import QgsCoordinateReferenceSystem

    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3006"))
    canvas.setExtent(QgsRectangle(353500, 6208000, 363500, 6219000))
    widget = CompilationDock(qgis_iface, session, today=TODAY)
    widget.resize(560, 1400)
    widget.show()
    assert widget.wait_until_idle()
    yield widget
    widget.shutdown()
    widget.hide()


def _tick(list_widget, code: str) -> None:
    for i in range(list_widget.count()):
        item = list_widget.item(i)
        if item.data(Qt.ItemDataRole.UserRole) == code:
            item.setCheckState(Qt.CheckState.Checked)
            return
    raise AssertionError(code)


@pytest.mark.slow  # over five seconds: left out of make test-fast
def test_dock_filters_charts_layers_and_undo(dock, qgis_iface, output_dir) -> None:
    panel = dock.panel
    # It opens on the last four complete weeks, not on years of events.
    assert dock.filter.preset == "last_4_weeks" and (dock.filter.date_from, dock.filter.date_to) == \
        (dt.date(2026, 10, 26), dt.date(2026, 11, 22))
    opened = dock.result.count
    panel.preset.setCurrentIndex(panel.preset.findData("all"))
    assert dock.wait_until_idle()
    total = dock.result.count
    assert total > 15_000 and 0 < opened < total / 5
    _tick(panel.categories, "skadegorelse")
    assert dock.wait_until_idle()
    vandalism = dock.result.count
    assert 0 < vandalism < total
    assert dock.charts_tab.category_chart.values.sum() == vandalism
    panel.preset.setCurrentIndex(panel.preset.findData("last_4_weeks"))
    assert dock.wait_until_idle()
    assert "Vandalism" in panel.summary.text() and "weeks 44–47" in panel.summary.text()
    four_weeks = dock.result.count
    assert four_weeks < vandalism
    # The trend shows the 4 chosen weeks and the 4 before them (same filter without dates).
    charts = dock.result.charts
    assert charts.lead_weeks == 4 and charts.week_labels == [f"2026-W{w}" for w in range(40, 48)]
    trend = dock.charts_tab.trend_chart
    assert "2026-W44–2026-W47" in trend.subtitle and "4 weeks before" in trend.subtitle
    # the chosen weeks are shaded apart from the four before them
    assert trend.range_region.isVisible() and trend.range_region.getRegion() == pytest.approx((3.5, 7.5))
    # Who reported it: a click on the organisation chart's top bar narrows the filter …
    organisations = dock.charts_tab.organisation_chart
    top, top_count = organisations.keys[0], int(organisations.values[0])
    organisations.barClicked.emit(top)
    assert dock.wait_until_idle()
    assert dock.filter.organisations == [top]
    assert dock.result.count == top_count < four_weeks  # the events that bar counted
    # … and undo restores it.
    dock.undo_button.click()
    assert dock.wait_until_idle()
    assert dock.filter.organisations == [] and dock.result.count == four_weeks
    # Matrix click → weekday and hour.
    dock.charts_tab.matrix_chart.cellClicked.emit(5, 22)
    assert dock.wait_until_idle()
    assert dock.filter.weekdays == [5] and (dock.filter.hour_start, dock.filter.hour_end) == (22, 23)
    dock.controller.undo_stack.undo()
    assert dock.wait_until_idle()
    # The filter is in the project, and a saved filter reloads.
    stored, ok = QgsProject.instance().readEntry(PROJECT_SCOPE, FILTER_ENTRY, "")
    assert ok and json.loads(stored)["categories"] == ["skadegorelse"]
    dock.save_filter("vandalism 4w")
    panel.clear_button.click()
    assert dock.wait_until_idle() and dock.result.count == total
    dock.controller.load_filter("vandalism 4w")
    assert dock.wait_until_idle() and dock.result.count == four_weeks
    # Layers follow the filter.
    roles = {layer.customProperty(LAYER_PROPERTY): layer for layer in QgsProject.instance().mapLayers().values()}
    assert roles["compilation_points"].featureCount() == four_weeks
    assert roles["compilation_heatmap"].isValid()
    # … styled from the QML files in resources/styles, the Gi* cells included.
    assert roles["compilation_points"].customProperty(STYLE_PROPERTY) == EVENTS_QML
    assert roles["compilation_heatmap"].customProperty(STYLE_PROPERTY) == HEATMAP_QML
    cells = roles["compilation_hotspot_cells"]
    assert cells.customProperty(STYLE_PROPERTY) == HOTSPOT_CELLS_QML
    significant = dock.result.hotspots.cells_wkt(only_significant=True)
    assert cells.featureCount() == len(significant)
    assert {f["class"] for f in cells.getFeatures()} == {r["class"] for r in significant}
    shader = roles["compilation_heatmap"].renderer().shader().rasterShaderFunction()
    assert shader.colorRampItemList()[-1].value == pytest.approx(dock.result.density_max)
    # Screenshots: the dock's charts tab and the canvas with the heat map.
    dock.tabs.setCurrentIndex(1)
    dock.grab().save(str(output_dir / "compilation_dock_charts.png"))
    dock.tabs.setCurrentIndex(0)
    dock.grab().save(str(output_dir / "compilation_dock_filters.png"))
    panel.clear_button.click()
    assert dock.wait_until_idle()
    canvas = qgis_iface.mapCanvas()
    canvas.setLayers([roles["compilation_points"], roles["compilation_heatmap"]])
    _render(canvas, output_dir / "compilation_canvas_heatmap.png")
    # Street scale: 10 m pixels around Knutpunkten.
    canvas.setExtent(QgsRectangle(355700, 6212800, 356900, 6213800))
    dock.controller.recompute()
    assert dock.wait_until_idle()
    assert dock.result.density_spec.pixel_size == 10.0
    _render(canvas, output_dir / "compilation_canvas_heatmap_street.png")


def test_filter_tab_fits_a_560_px_dock(dock, output_dir) -> None:
    dock.tabs.setCurrentIndex(0)
    dock.resize(560, 1000)
    QApplication.processEvents()
    scroll = dock.filter_scroll
    assert dock.width() == 560
    assert dock.panel.minimumSizeHint().width() <= scroll.viewport().width()
    assert not scroll.horizontalScrollBar().isVisible()
    dock.grab().save(str(output_dir / "compilation_dock_filters_560.png"))


def test_qml_styles_load_and_follow_the_database(qgis_new_project, tmp_path) -> None:
    from est_weekly_plugin.domain.reference import default_categories

    for name, layer in ((EVENTS_QML, QgsVectorLayer("Point?crs=EPSG:3006&field=category:string", "e", "memory")),
                        (HOTSPOT_CELLS_QML, QgsVectorLayer("Polygon?crs=EPSG:3006&field=class:integer", "h",
                                                           "memory"))):
        message, ok = layer.loadNamedStyle(str(style_path(name)))
        assert ok, message
    events = QgsVectorLayer("Point?crs=EPSG:3006&field=category:string", "e", "memory")
    events.loadNamedStyle(str(style_path(EVENTS_QML)))
    csv = {c.code: (c.colour.lower(), c.label_sv) for c in default_categories()}
    styled = {str(c.value()): (c.symbol().color().name(), c.label()) for c in events.renderer().categories()}
    assert styled == csv and len(styled) == 14
    hot = QgsVectorLayer("Polygon?crs=EPSG:3006&field=class:integer", "h", "memory")
    hot.loadNamedStyle(str(style_path(HOTSPOT_CELLS_QML)))
    classes = {int(c.value()): QColor(c.symbol().color()) for c in hot.renderer().categories()}
    assert sorted(classes) == [-3, -2, -1, 0, 1, 2, 3]
    assert classes[0].alpha() == 0  # not significant: transparent
    reds = [classes[k] for k in (3, 2, 1)]
    assert all(c.red() > c.blue() for c in reds) and reds[0].lightness() < reds[1].lightness() < reds[2].lightness()
    assert all(classes[k].blue() > classes[k].red() for k in (-1, -2, -3))
    import numpy as np

    from est_weekly_plugin.analysis.density import write_geotiff
    from est_weekly_plugin.maps.styles import HEAT_STOPS

    path = tmp_path / "h.tif"
    write_geotiff(np.ones((4, 4)), (0, 1, 0, 4, 0, -1), 3006, path, compress=False)
    raster = QgsRasterLayer(str(path), "h", "gdal")
    message, ok = raster.loadNamedStyle(str(style_path(HEATMAP_QML)))
    assert ok, message
    items = raster.renderer().shader().rasterShaderFunction().colorRampItemList()
    assert [(i.value, i.color.name(), i.color.alpha()) for i in items] == \
        [(s, c.name(), c.alpha()) for s, c in HEAT_STOPS]
    assert all(i.label for i in items)  # a legend
    # A database with its own categories: the renderer is built from the database, not the QML.
    layers = CompilationLayers(QgsProject.instance())
    own = [dataclasses.replace(c, colour="#123456") if c.code == "klotter" else c for c in default_categories()]
    layer = layers.update_points(None, own, "en")
    assert layer.customProperty(STYLE_PROPERTY) == ""
    assert {str(c.value()): c.symbol().color().name() for c in layer.renderer().categories()}["klotter"] == "#123456"
    layer = layers.update_points(None, list(default_categories()), "en")
    assert layer.customProperty(STYLE_PROPERTY) == EVENTS_QML
    assert {str(c.value()): c.label() for c in layer.renderer().categories()}["klotter"] == "Graffiti"
    layers.remove()


def test_dock_without_store(qgis_iface, qgis_new_project) -> None:
    session = EstSession()
    dock = CompilationDock(qgis_iface, session)
    assert dock.engine is None and "Open an EST database" in dock.page_message.text()
    assert dock.stack.currentWidget() is dock.message_page
    dock.controller.recompute()  # nothing to compute on: no task, no result
    assert not dock.controller.tasks.running and dock.result is None and dock.wait_until_idle()
    dock.shutdown()



def _canvas_point(canvas, x: float, y: float):
    from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY

    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:3006"),
                                       canvas.mapSettings().destinationCrs(), QgsProject.instance())
    return transform.transform(QgsPointXY(x, y))


def test_hotspot_click_zooms_the_canvas(dock, qgis_iface) -> None:
    from qgis.core import QgsCoordinateReferenceSystem

    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    canvas.setExtent(QgsRectangle(1390000, 7480000, 1400000, 7490000))  # far from the hot spots
    assert dock.hotspots_tab.list.count() >= 3
    spot = dock.result.hotspots.hotspots[2]
    assert not canvas.extent().contains(_canvas_point(canvas, spot.x, spot.y))
    dock.tabs.setCurrentIndex(2)
    dock.hotspots_tab.list.setCurrentRow(2)
    extent = canvas.extent()
    assert extent.contains(_canvas_point(canvas, spot.x, spot.y))
    # the hot-spot area and ~300 m around it, not the city
    corners = [_canvas_point(canvas, x, y) for x, y in spot.polygon]
    area = QgsRectangle(min(p.x() for p in corners), min(p.y() for p in corners),
                        max(p.x() for p in corners), max(p.y() for p in corners))
    assert extent.contains(area)
    assert min(extent.width(), extent.height()) < min(area.width(), area.height()) + 2_000
    # The extent change recomputes; the list keeps its selection without zooming again.
    assert dock.wait_until_idle()
    assert dock.hotspots_tab.list.currentRow() == 2


def test_trends_tab_and_emerging_cells(dock, qgis_iface, output_dir) -> None:
    _tick(dock.panel.categories, "skadegorelse")
    _tick(dock.panel.categories, "klotter")
    assert dock.wait_until_idle()
    assert sorted(dock.filter.categories) == ["klotter", "skadegorelse"]
    trends = dock.result.trends
    assert trends is not None and trends.week == "2026-W47"
    table = dock.trends_tab.table
    assert table.rowCount() > 0 and table.columnCount() == 5
    names = {table.item(i, 0).text() for i in range(table.rowCount())}
    assert "Vandalism" in names and "Graffiti" in names
    for index in range(1, dock.trends_tab.group.count()):
        dock.trends_tab.group.setCurrentIndex(index)
        assert dock.trends_tab.table.rowCount() > 0
    # Rising rows are highlighted.
    for i in range(table.rowCount()):
        rising = float(table.item(i, 3).data(Qt.ItemDataRole.UserRole)) > 0
        assert (table.item(i, 0).background().color().name() == "#fbd9c4") == rising
    # Emerging cells: the demo's new hot spot at Dalhems skatepark.
    emerging = dock.trends_tab.emerging_list
    cells = [emerging.item(i).data(Qt.ItemDataRole.UserRole) for i in range(emerging.count())]
    near = [i for i, c in enumerate(cells) if isinstance(c, dict) and int(c["trend"]) > 0
            and abs(c["x"] - 359710) <= 150 and abs(c["y"] - 6216590) <= 150]
    assert near, cells
    assert "Dalhem" in emerging.item(near[0]).text()
    dock.tabs.setCurrentIndex(3)
    emerging.setCurrentRow(near[0])
    canvas = qgis_iface.mapCanvas()
    assert canvas.extent().contains(_canvas_point(canvas, cells[near[0]]["x"], cells[near[0]]["y"]))
    assert dock.wait_until_idle()
    dock.grab().save(str(output_dir / "compilation_dock_trends.png"))


def test_trend_texts_in_swedish() -> None:
    from est_weekly_plugin.domain.i18n import catalogue, tr

    assert tr("compilation.dock.trends", "sv") == "Trender"
    assert tr("compilation.trends.col.change", "sv") == "Förändring"
    assert set(catalogue("sv")) == set(catalogue("en"))


def _render(canvas, path) -> None:
    """The canvas's layers rendered through its map settings (sharper than grab() offscreen)."""
    settings = canvas.mapSettings()
    settings.setOutputSize(QSize(1000, 800))
    settings.setBackgroundColor(QColor("#eef2f5"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(str(path))


@pytest.mark.parametrize("saved", [
    "{not json", "[1, 2, 3]", json.dumps({"hour_end": 99}), json.dumps({"hour_start": "kl. 22"}),
    json.dumps({"date_from": "igår"}), json.dumps({"place_wkt": "POLYGON((nonsense"}),
    json.dumps({"categories": "'; DROP TABLE events; --", "hour_min_share": 7}),
])
def test_an_unreadable_saved_filter_gives_a_message_and_the_default(qgis_iface, qgis_new_project, gpkg_store,
                                                                   saved) -> None:
    """A hand-edited or older project: a clear message and the default filter, never an exception."""
    from est_weekly_plugin.analysis.filters import default_filter

    QgsProject.instance().writeEntry(PROJECT_SCOPE, FILTER_ENTRY, saved)
    session = EstSession()
    session.set_store(gpkg_store)
    messages: list = []
    session.message.connect(lambda text, level: messages.append((text, level)))
    widget = CompilationDock(qgis_iface, session)
    try:
        assert widget.wait_until_idle()
        assert widget.filter == default_filter(widget.today) and widget.filter.preset == "last_4_weeks"
        assert messages and "could not be read" in messages[0][0] and messages[0][1] == 1
    finally:
        widget.shutdown()


def test_an_export_is_recorded_in_the_audit_log(dock, tmp_path) -> None:
    """Who exported what, with which filter: a published lägesbild can be traced."""
    _tick(dock.panel.categories, "klotter")
    assert dock.wait_until_idle()
    dock.controller.export_events(tmp_path / "klotter.csv")
    assert dock.wait_until_idle(timeout_ms=20_000)
    from qgis.PyQt.QtWidgets import QApplication as _App

    for _ in range(50):  # the task's finished() reaches the GUI thread through the event loop
        _App.processEvents()
        if dock.session.store.audit_log(subject="export"):
            break
    entry = dock.session.store.audit_log(subject="export")[-1]
    assert entry.changes["rows"] == dock.result.count and "Graffiti" in entry.changes["filter"]
    assert entry.subject_uuid == "klotter.csv"


@pytest.mark.postgis
def test_on_postgis_the_same_engine_gives_hotspots_trends_and_exports(qgis_iface, qgis_new_project, pg_store,
                                                                      gpkg_store, tmp_path, monkeypatch) -> None:
    """PostGIS used to drop the hot-spot and emerging analysis; now both backends run one engine."""
    monkeypatch.setenv("PGPASSWORD", pg_store.info.password)  # QGIS's layers carry no password
    batch = demo_batch(20_000, end_date=TODAY - dt.timedelta(days=1), seed=11)
    QgsProject.instance().removeEntry(PROJECT_SCOPE, FILTER_ENTRY)  # not the filter an earlier test left
    results = {}
    for name, store in (("postgis", pg_store), ("gpkg", gpkg_store)):
        store.insert_batch(batch, today=TODAY)
        session = EstSession()
        session.set_store(store)
        widget = CompilationDock(qgis_iface, session, today=TODAY)
        widget.resize(560, 1400)
        widget.show()
        try:
            assert widget.wait_until_idle()
            _tick(widget.panel.categories, "skadegorelse")
            _tick(widget.panel.categories, "klotter")
            assert widget.wait_until_idle()
            assert widget.hotspots_tab.list.count() >= 3 and widget.result.hotspots is not None
            assert widget.trends_tab.emerging_list.count() >= 0 and widget.result.count > 0
            widget.controller.export_events(tmp_path / f"{name}.csv")
            assert widget.wait_until_idle(timeout_ms=20_000)
            results[name] = (widget.result.count, [widget.hotspots_tab.list.item(i).text()
                                                   for i in range(widget.hotspots_tab.list.count())],
                             (tmp_path / f"{name}.csv").read_text(encoding="utf-8-sig").count("\n"))
        finally:
            widget.shutdown()
            widget.hide()
    assert results["postgis"] == results["gpkg"]  # same counts, same ranked hot-spots, same export


def test_the_dock_says_who_is_looking(dock) -> None:
    text = dock.role_label.text()
    assert text.startswith(f"{dock.session.user} · ") and f" · {dock.session.role.name.title()[:5]}" in text
    assert "not a security boundary" in text  # a GeoPackage: the role is a local choice


@pytest.mark.parametrize("backend", ["gpkg", "postgis"])
def test_another_users_approval_shows_without_a_manual_reload(backend, request, qgis_iface, qgis_new_project,
                                                              monkeypatch) -> None:
    from conftest import make_event

    from est_weekly_plugin.domain.model import Status

    store = request.getfixturevalue("gpkg_store" if backend == "gpkg" else "pg_store")
    if backend == "postgis":
        monkeypatch.setenv("PGPASSWORD", store.info.password)
    store.insert_batch(demo_batch(3_000, end_date=TODAY - dt.timedelta(days=1), seed=5), today=TODAY)
    session = EstSession()
    session.set_store(store)
    widget = CompilationDock(qgis_iface, session)
    widget.show()
    try:
        assert widget.wait_until_idle()
        before = widget.result.count
        assert not widget.controller.poll_changes()  # nothing changed
        other = store.reopen()  # another reviewer's QGIS, on its own connection
        try:
            saved = other.submit(make_event(event_date=TODAY - dt.timedelta(days=2)), actor="bo", today=TODAY)
            other.review(saved.uuid, saved.version, "granskare.gun", Status.APPROVED, today=TODAY)
        finally:
            other.close()
        loads = []
        real_load = type(store).load_columns
        monkeypatch.setattr(type(store), "load_columns", lambda self, *a, **k: loads.append(1) or real_load(self, *a, **k))
        first_token = widget.engine.change_token
        assert widget.controller.poll_changes()
        assert widget.wait_until_idle()
        assert widget.result.count == before + 1
        assert loads == [] and widget.engine.change_token != first_token  # merged, not reloaded
        assert saved.fid in widget.engine.columns.fid
        size = len(widget.engine)
        again = store.reopen()
        try:  # a correction elsewhere: the event changes category in place
            event = again.get(saved.uuid)
            again.update_event(event.uuid, event.version, "granskare.gun", as_reporter=False, category="narkotika")
        finally:
            again.close()
        assert widget.controller.poll_changes() and widget.wait_until_idle()
        assert loads == [] and len(widget.engine) == size  # changed in place
        narcotics = widget.engine.columns.category_codes.index("narkotika")
        assert widget.engine.columns.category[np.searchsorted(widget.engine.columns.fid, saved.fid)] == narcotics
    finally:
        widget.shutdown()


def test_an_unfinished_week_is_labelled_and_never_compared(qgis_iface, qgis_new_project, gpkg_store) -> None:
    """One approved Monday report must not read "Week 49: 0 events, down 100 %" for every row."""
    from est_weekly_plugin.analysis.filters import CompilationFilter

    gpkg_store.insert_batch(demo_batch(6_000, end_date=dt.date(2026, 11, 30), seed=3), today=dt.date(2026, 12, 1))
    session = EstSession()
    session.set_store(gpkg_store)
    widget = CompilationDock(qgis_iface, session, today=dt.date(2026, 12, 1))  # a Tuesday of week 49
    widget.show()
    try:
        assert widget.wait_until_idle()
        assert widget.filter.date_to == dt.date(2026, 11, 29)  # the last complete week, W48
        assert widget.result.trends.week == "2026-W48" and not widget.result.trends.unfinished
        assert widget.result.charts.week_labels[-1] == "2026-W48"
        widget.set_filter(CompilationFilter())  # all events: still the last complete week
        assert widget.wait_until_idle()
        assert widget.result.trends.week == "2026-W48" and widget.result.charts.week_labels[-1] == "2026-W48"
        widget.set_filter(CompilationFilter(date_from=dt.date(2026, 11, 30), date_to=dt.date(2026, 12, 6)))
        assert widget.wait_until_idle()  # the user picks the unfinished week: counted, not compared
        assert widget.result.trends.unfinished and "is not over yet" in widget.trends_tab.summary.text()
        changes = {widget.trends_tab.table.item(row, 3).text() for row in range(widget.trends_tab.table.rowCount())}
        assert changes <= {"–"}
        for edit in (widget.panel.date_from, widget.panel.date_to):
            assert edit.date().year() == 2026  # never Qt's 2000-01-01 in the date fields
    finally:
        widget.shutdown()


def test_the_map_shows_the_selection_with_a_legend_that_says_what_it_shows(qgis_iface, qgis_new_project,
                                                                           gpkg_store) -> None:
    from qgis.core import QgsLayerTreeModel

    from est_weekly_plugin.maps.layers import events_layer

    gpkg_store.insert_batch(demo_batch(4_000, end_date=TODAY - dt.timedelta(days=1), seed=9), today=TODAY)
    everything = events_layer(gpkg_store)
    QgsProject.instance().addMapLayer(everything)
    root = QgsProject.instance().layerTreeRoot()
    session = EstSession()
    session.set_store(gpkg_store)
    widget = CompilationDock(qgis_iface, session, today=TODAY)
    widget.show()
    try:
        assert widget.wait_until_idle()
        # the unfiltered layer of all approved events no longer buries the filtered points …
        assert not root.findLayer(everything.id()).itemVisibilityChecked()
        roles = {layer.customProperty(LAYER_PROPERTY): layer for layer in QgsProject.instance().mapLayers().values()}
        points, heat = roles["compilation_points"], roles["compilation_heatmap"]
        assert points.hasScaleBasedVisibility() and points.minimumScale() > 0  # kept after styling
        scratch = [layer for layer in QgsProject.instance().mapLayers().values() if layer.providerType() == "memory"]
        assert scratch and all(layer.customProperty("skipMemoryLayersCheck") == 1 for layer in scratch)
        model = QgsLayerTreeModel(root)
        texts = [node.data(Qt.ItemDataRole.DisplayRole) for node in model.layerLegendNodes(root.findLayer(heat.id()))]
        assert texts[0] == "Event density" and "Band 1" not in " ".join(str(t) for t in texts)
        legend = heat.renderer().shader().rasterShaderFunction().legendSettings()
        assert (legend.minimumLabel(), legend.maximumLabel()) == ("low", "high")
    finally:
        widget.close()
        widget.shutdown()
    assert root.findLayer(everything.id()).itemVisibilityChecked()  # … and is back when the dock closes


def test_a_role_that_may_not_compile_is_told_so(qgis_iface, qgis_new_project, gpkg_store) -> None:
    from gui_helpers import make_session

    from est_weekly_plugin.domain.model import Role

    session = make_session(gpkg_store, role=Role.REPORTER)
    widget = CompilationDock(qgis_iface, session, today=TODAY)
    try:
        assert widget.stack.currentWidget() is widget.message_page and widget.engine is None
        assert "may not see the compilation" in widget.page_message.text()
        session.set_local_role(Role.VIEWER)  # a viewer may: the dock follows in a turn of its own
        widget.settle()
        assert widget.stack.currentWidget() is widget.content_page
        assert widget.wait_until_idle() and widget.result is not None
    finally:
        widget.shutdown()
