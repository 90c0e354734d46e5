"""The place filter drawn on the map: real mouse events on the canvas viewport, counted against brute force."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TODAY
from gui_helpers import click, pixel_to_store, prepare_canvas, prepared_canvas
from qgis.core import QgsGeometry, QgsProject
from qgis.PyQt.QtCore import QPoint, Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication

from est_weekly_plugin.analysis.filters import CompilationFilter
from est_weekly_plugin.gui.compilation.compilation_dock import CompilationDock
from est_weekly_plugin.gui.compilation.polygon_tool import PolygonDrawTool
from est_weekly_plugin.gui.shared.session import EstSession
from est_weekly_plugin.store.demo import demo_batch

# A concave pentagon-ish outline in canvas pixels (800 × 600 canvas around central Helsingborg).
OUTLINE = [QPoint(160, 140), QPoint(620, 110), QPoint(700, 430), QPoint(420, 300), QPoint(180, 500)]


@pytest.fixture
def canvas(qgis_canvas):
    yield from prepared_canvas(qgis_canvas)


@pytest.fixture
def dock(qgis_iface, qgis_new_project, gpkg_store):
    # pytest-qgis's new project keeps project entries; a real new project has none (no saved filter).
    QgsProject.instance().clear()
    gpkg_store.insert_batch(demo_batch(20_000, end_date=TODAY - dt.timedelta(days=1), seed=5), today=TODAY)
    session = EstSession()
    session.set_store(gpkg_store)
    prepare_canvas(qgis_iface.mapCanvas())
    widget = CompilationDock(qgis_iface, session, today=TODAY)
    widget.resize(560, 1200)
    widget.show()
    assert widget.wait_until_idle()
    widget.set_filter(CompilationFilter())  # all events: the drawn area is the only criterion
    assert widget.wait_until_idle()
    yield widget
    widget.shutdown()
    widget.hide()
    canvas = qgis_iface.mapCanvas()
    if canvas.mapTool() is not None:
        canvas.unsetMapTool(canvas.mapTool())


def _left(canvas, pixel: QPoint) -> None:
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pixel)
    QApplication.processEvents()


def _inside(x: float, y: float, ring: list[tuple[float, float]]) -> bool:
    """Plain even–odd ray casting, one point at a time: the brute force the engine is checked against."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def test_drawn_area_filters_like_brute_force(dock, qgis_iface) -> None:
    canvas = qgis_iface.mapCanvas()
    total = dock.result.count
    click(dock.panel.draw_place)
    assert dock.panel.draw_place.isChecked() and isinstance(canvas.mapTool(), PolygonDrawTool)
    for pixel in OUTLINE:
        _left(canvas, pixel)
    assert dock.draw_tool.band.numberOfVertices() >= len(OUTLINE)
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, QPoint(400, 50))
    QApplication.processEvents()
    assert dock.wait_until_idle()
    # Drawing is over: the tool is gone, the button is up, the area is the filter and is outlined.
    assert canvas.mapTool() is not dock.draw_tool and not dock.panel.draw_place.isChecked()
    wkt = dock.filter.place_wkt
    assert wkt and QgsGeometry.fromWkt(wkt).type() == 2
    assert dock.area_band is not None and dock.area_band.visible
    # Brute force over the polygon the filter holds (its own vertices, in the store CRS).
    ring = [(p.x(), p.y()) for p in QgsGeometry.fromWkt(wkt).asPolygon()[0]]
    columns = dock.engine.columns
    expected = sum(_inside(x, y, ring) for x, y in zip(columns.x.tolist(), columns.y.tolist()))
    assert 0 < expected < total
    assert dock.result.count == expected
    # The drawn polygon is in the store CRS (SWEREF 99 TM), not the canvas's Web Mercator.
    bbox = QgsGeometry.fromWkt(wkt).boundingBox()
    assert 340_000 < bbox.xMinimum() < 370_000 and 6_200_000 < bbox.yMinimum() < 6_230_000
    # "Clear all" drops the area and its outline.
    click(dock.panel.clear_button)
    assert dock.wait_until_idle()
    assert dock.filter.place_wkt is None and dock.result.count == total
    assert not dock.area_band.visible and dock.area_band.band.numberOfVertices() == 0
    # Undo brings the area (and its outline) back.
    dock.controller.undo_stack.undo()
    assert dock.wait_until_idle()
    assert dock.filter.place_wkt == wkt and dock.area_band.visible and dock.result.count == expected


def test_double_click_finishes_and_escape_cancels(canvas) -> None:
    tool = PolygonDrawTool(canvas, 3006)
    canvas.setMapTool(tool)
    finished: list[str] = []
    cancelled: list[bool] = []
    tool.finished.connect(finished.append)
    tool.cancelled.connect(lambda: cancelled.append(True))
    for pixel in OUTLINE[:2]:
        _left(canvas, pixel)
    # A user's double-click: press, release, double-click, release (QTest's mouseDClick sends only the third).
    _left(canvas, OUTLINE[2])
    QTest.mouseDClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, OUTLINE[2])
    QTest.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, OUTLINE[2])
    QApplication.processEvents()
    assert len(finished) == 1 and not cancelled
    polygon = QgsGeometry.fromWkt(finished[0]).asPolygon()[0]
    assert len(polygon) == 4  # three vertices, closed: the double-click added no duplicate
    for (x, y), pixel in zip(((p.x(), p.y()) for p in polygon), OUTLINE[:3]):
        ex, ey = pixel_to_store(canvas, pixel)
        assert abs(x - ex) < 0.05 and abs(y - ey) < 0.05
    assert tool.vertices == [] and tool.band.numberOfVertices() == 0
    # Esc throws the half-drawn area away; nothing is emitted as a place.
    for pixel in OUTLINE[:3]:
        _left(canvas, pixel)
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    QApplication.processEvents()
    assert cancelled == [True] and len(finished) == 1 and tool.vertices == []
    # Finishing with fewer than three vertices is not an area: it cancels.
    _left(canvas, OUTLINE[0])
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, OUTLINE[1])
    assert cancelled == [True, True] and len(finished) == 1
    canvas.unsetMapTool(tool)
    tool.remove()
