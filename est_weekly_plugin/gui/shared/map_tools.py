"""Placing a report on the map: a visible marker the user clicks into place and can drag again.

Shared by the reporting dock (where did it happen?) and the review panel (move the point). The
tool speaks the store's CRS to its owner and the canvas CRS to the canvas, so a project in any
CRS works and the owner never sees a canvas coordinate.
"""

from __future__ import annotations

import contextlib

from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool, QgsVertexMarker
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QCursor

# How close (pixels) a press must be to the marker to drag it rather than place it anew.
DRAG_TOLERANCE_PX = 12


PLACEMENT_COLOUR = QColor(11, 61, 145)  # dark blue: no event category uses it
DUPLICATE_COLOUR = QColor(230, 120, 0)


class PlaceMarker:
    """A crosshair in a ring at a point given in the store CRS — a placement, not an event: the
    event dots are filled circles in category colours — that survives CRS changes of the canvas."""

    def __init__(self, canvas: QgsMapCanvas, colour: QColor | None = None) -> None:
        self.canvas = canvas
        self._marker: QgsVertexMarker | None = None
        self._cross: QgsVertexMarker | None = None
        self._store_point: tuple[float, float] | None = None
        self._epsg = 3006
        self._colour = colour or PLACEMENT_COLOUR
        self._concealed = False
        canvas.destinationCrsChanged.connect(self._reposition)

    def set_epsg(self, epsg: int) -> None:
        self._epsg = int(epsg)
        self._reposition()

    @property
    def point(self) -> tuple[float, float] | None:
        """The marker's position in the store CRS, or None when hidden."""
        return self._store_point

    def show(self, x: float, y: float) -> None:
        self._store_point = (float(x), float(y))
        if self._marker is None:
            ring = QgsVertexMarker(self.canvas)
            ring.setIconType(QgsVertexMarker.IconType.ICON_CIRCLE)
            ring.setIconSize(22)
            ring.setPenWidth(3)
            ring.setColor(self._colour)
            ring.setFillColor(QColor(255, 255, 255, 150))
            cross = QgsVertexMarker(self.canvas)
            cross.setIconType(QgsVertexMarker.IconType.ICON_CROSS)
            cross.setIconSize(34)
            cross.setPenWidth(2)
            cross.setColor(self._colour)
            self._marker, self._cross = ring, cross
        self._reposition()
        self._set_visible(not self._concealed)

    def hide(self) -> None:
        self._store_point = None
        self._set_visible(False)

    def conceal(self, concealed: bool) -> None:
        """Off the map while the owner is out of sight, back when it shows again (the point is kept)."""
        self._concealed = concealed
        self._set_visible(not concealed and self._store_point is not None)

    def _set_visible(self, visible: bool) -> None:
        for item in (self._marker, self._cross):
            if item is not None:
                item.setVisible(visible)

    @property
    def visible(self) -> bool:
        return self._marker is not None and self._marker.isVisible()

    def remove(self) -> None:
        """Take the marker off the canvas for good (the owner is closing)."""
        with contextlib.suppress(TypeError):
            self.canvas.destinationCrsChanged.disconnect(self._reposition)
        for item in (self._marker, self._cross):
            if item is not None:
                self.canvas.scene().removeItem(item)
        self._marker = self._cross = None
        self._store_point = None

    def canvas_point(self) -> QgsPointXY | None:
        if self._store_point is None:
            return None
        return self.to_canvas(*self._store_point)

    def to_canvas(self, x: float, y: float) -> QgsPointXY:
        return self._transform(True).transform(QgsPointXY(x, y))

    def to_store(self, point: QgsPointXY) -> tuple[float, float]:
        result = self._transform(False).transform(point)
        return result.x(), result.y()

    def _transform(self, to_canvas: bool) -> QgsCoordinateTransform:
        store_crs = QgsCoordinateReferenceSystem(f"EPSG:{self._epsg}")
        canvas_crs = self.canvas.mapSettings().destinationCrs()
        if not canvas_crs.isValid():
            canvas_crs = store_crs
        source, target = (store_crs, canvas_crs) if to_canvas else (canvas_crs, store_crs)
        return QgsCoordinateTransform(source, target, QgsProject.instance())

    def _reposition(self) -> None:
        if self._store_point is None:
            return
        for item in (self._marker, self._cross):
            if item is not None:
                item.setCenter(self.to_canvas(*self._store_point))
                item.updatePosition()


class PointPickTool(QgsMapTool):
    """Click to place the marker; press on it and drag to move it. Emits the point in the store CRS."""

    picked = pyqtSignal(float, float)

    def __init__(self, canvas: QgsMapCanvas, marker: PlaceMarker) -> None:
        super().__init__(canvas)
        self.marker = marker
        self._dragging = False
        self._cursor = QCursor(Qt.CursorShape.CrossCursor)
        self.setCursor(self._cursor)

    @property
    def dragging(self) -> bool:
        return self._dragging

    def _near_marker(self, event: QgsMapMouseEvent) -> bool:
        where = self.marker.canvas_point()
        if where is None:
            return False
        pixel = self.toCanvasCoordinates(where)
        return (pixel - event.pos()).manhattanLength() <= DRAG_TOLERANCE_PX

    def canvasPressEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.LeftButton and self._near_marker(event):
            self._dragging = True
            self.canvas().setCursor(QCursor(Qt.CursorShape.ClosedHandCursor))

    def canvasMoveEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._dragging:
            self.marker.show(*self.marker.to_store(event.mapPoint()))

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._dragging:
            self._dragging = False
            self.canvas().setCursor(self._cursor)
        x, y = self.marker.to_store(event.mapPoint())
        self.marker.show(x, y)
        self.picked.emit(x, y)

    def deactivate(self) -> None:
        self._dragging = False
        super().deactivate()
