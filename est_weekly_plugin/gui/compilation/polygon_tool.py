"""Drawing the compilation's place filter: a polygon clicked on the map, and the area shown while it applies.

Why two objects: :class:`PolygonDrawTool` only lives while the user draws (left-click adds a
vertex, right-click or double-click finishes, Esc cancels) and hands its owner a WKT in the
store CRS; :class:`AreaBand` shows the *filter's* polygon, whatever made it (drawn, map extent,
selected polygon, undo), and follows canvas CRS changes. The owner never sees canvas coordinates.
"""

from __future__ import annotations

import contextlib
from typing import List, Optional

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsWkbTypes,
)
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapToolEmitPoint, QgsRubberBand
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QCursor, QKeyEvent

DRAW_STROKE = QColor(197, 27, 138)
DRAW_FILL = QColor(197, 27, 138, 40)
AREA_STROKE = QColor(31, 78, 121)
AREA_FILL = QColor(31, 78, 121, 25)


def _store_crs(epsg: int) -> QgsCoordinateReferenceSystem:
    return QgsCoordinateReferenceSystem(f"EPSG:{int(epsg)}")


def _canvas_crs(canvas: QgsMapCanvas, epsg: int) -> QgsCoordinateReferenceSystem:
    crs = canvas.mapSettings().destinationCrs()
    return crs if crs.isValid() else _store_crs(epsg)


def _band(canvas: QgsMapCanvas, stroke: QColor, fill: QColor, width: float) -> QgsRubberBand:
    band = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.PolygonGeometry)
    band.setStrokeColor(stroke)
    band.setFillColor(fill)
    band.setWidth(width)
    return band


class PolygonDrawTool(QgsMapToolEmitPoint):
    """Click the vertices of an area; ``finished`` carries the polygon as WKT in the store CRS."""

    finished = pyqtSignal(str)
    cancelled = pyqtSignal()

    def __init__(self, canvas: QgsMapCanvas, epsg: int = 3006) -> None:
        super().__init__(canvas)
        self.epsg = int(epsg)
        self.vertices: List[QgsPointXY] = []  # canvas CRS
        self._after_double_click = False
        self.band = _band(canvas, DRAW_STROKE, DRAW_FILL, 2)
        self.setCursor(QCursor(Qt.CursorShape.CrossCursor))

    # -- mouse and keys --------------------------------------------------------------
    def canvasPressEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 - Qt's name
        event.accept()  # vertices are added on release, so a press never emits a point

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._after_double_click:  # the release that ends a double-click starts no new area
            self._after_double_click = False
            return
        if event.button() == Qt.MouseButton.RightButton:
            self.finish()
        elif event.button() == Qt.MouseButton.LeftButton:
            self.add_vertex(self.toMapCoordinates(event.pos()))

    def canvasDoubleClickEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 - Qt's name
        # Qt sends press, release, double-click, release: the first release added the vertex
        # already (add_vertex ignores the repeat) and the last release is swallowed.
        if event.button() == Qt.MouseButton.LeftButton:
            self.add_vertex(self.toMapCoordinates(event.pos()))
            self.finish()
            self._after_double_click = True

    def canvasMoveEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self.vertices:
            self._redraw(self.toMapCoordinates(event.pos()))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
            event.accept()
        elif event.key() in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete) and self.vertices:
            self.vertices.pop()
            self._redraw()
            event.accept()
        else:
            event.ignore()

    def deactivate(self) -> None:
        self.reset()
        super().deactivate()

    # -- drawing -----------------------------------------------------------------------
    def add_vertex(self, point: QgsPointXY) -> None:
        if self.vertices and self.vertices[-1] == point:
            return  # a double-click's second press lands on the same pixel
        self.vertices.append(QgsPointXY(point))
        self._redraw()

    def reset(self) -> None:
        self.vertices = []
        self._after_double_click = False
        self.band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)

    def cancel(self) -> None:
        self.reset()
        self.cancelled.emit()

    def finish(self) -> None:
        """Close the polygon; fewer than three vertices is not an area and cancels."""
        if len(self.vertices) < 3:
            self.cancel()
            return
        geometry = self.polygon()
        self.reset()
        self.finished.emit(geometry.asWkt(2))

    def polygon(self) -> QgsGeometry:
        """The drawn polygon in the store CRS (made valid when the user crossed an edge)."""
        geometry = QgsGeometry.fromPolygonXY([self.vertices + [self.vertices[0]]])
        source = _canvas_crs(self.canvas(), self.epsg)
        target = _store_crs(self.epsg)
        if source != target:
            geometry.transform(QgsCoordinateTransform(source, target, QgsProject.instance()))
        if not geometry.isGeosValid():
            geometry = geometry.makeValid()
        return geometry

    def _redraw(self, floating: Optional[QgsPointXY] = None) -> None:
        points = self.vertices + ([floating] if floating is not None else [])
        self.band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        for index, point in enumerate(points):
            self.band.addPoint(point, index == len(points) - 1)

    def remove(self) -> None:
        """Take the drawing band off the canvas for good (the owner is closing)."""
        self.reset()
        with contextlib.suppress(RuntimeError):
            self.canvas().scene().removeItem(self.band)


class AreaBand:
    """The place filter's polygon (WKT in the store CRS) outlined on the canvas."""

    def __init__(self, canvas: QgsMapCanvas, epsg: int = 3006) -> None:
        self.canvas = canvas
        self.epsg = int(epsg)
        self.wkt: Optional[str] = None
        self.band = _band(canvas, AREA_STROKE, AREA_FILL, 2)
        self.band.setLineStyle(Qt.PenStyle.DashLine)
        canvas.destinationCrsChanged.connect(self._redraw)

    def show(self, wkt: Optional[str]) -> None:
        self.wkt = wkt or None
        self._redraw()

    def clear(self) -> None:
        self.show(None)

    @property
    def visible(self) -> bool:
        return self.wkt is not None and self.band.numberOfVertices() > 0

    def _redraw(self) -> None:
        self.band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        if not self.wkt:
            return
        geometry = QgsGeometry.fromWkt(self.wkt)
        if geometry.isNull():
            return
        self.band.setToGeometry(geometry, _store_crs(self.epsg))  # the band transforms to the canvas CRS

    def remove(self) -> None:
        with contextlib.suppress(TypeError, RuntimeError):
            self.canvas.destinationCrsChanged.disconnect(self._redraw)
        self.band.reset(QgsWkbTypes.GeometryType.PolygonGeometry)
        with contextlib.suppress(RuntimeError):
            self.canvas.scene().removeItem(self.band)
