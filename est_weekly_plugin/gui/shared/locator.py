"""The QGIS locator (Ctrl+K) finds EST places, the compilation's hot-spot areas and approved events.

Type ``est Knutpunkten`` (or just ``Knutpunkten``): districts and places, the hot-spot areas the
compilation shows now, and approved events whose place name or description holds the words. A
choice zooms the map there and flashes it. The search runs in QGIS's locator thread, so it reads
plain data only: the districts, a snapshot of the hot-spot areas taken when the search starts, and
the database on a connection of its own.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeedback,
    QgsGeometry,
    QgsLocatorContext,
    QgsLocatorFilter,
    QgsLocatorResult,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
)

from ...analysis.hotspots import HotSpot
from ...domain.errors import EstError
from ...domain.i18n import format_date, tr
from ...maps.places import fold, search_districts

ZOOM_HALF_SIZE_M = 300.0
EVENT_LIMIT = 15


class EstLocatorFilter(QgsLocatorFilter):
    def __init__(self, session: Any, canvas: Any, hotspots: Callable[[], list[HotSpot]]) -> None:
        super().__init__()
        self.session = session
        self.canvas = canvas
        self._hotspots = hotspots
        self._snapshot: list[HotSpot] = []
        self._store: Any = None
        self._epsg = 3006

    # -- what QGIS asks of a filter ------------------------------------------------------
    def clone(self) -> EstLocatorFilter:
        """Called on the main thread before each search: take what the thread will read."""
        copy = EstLocatorFilter(self.session, self.canvas, self._hotspots)
        copy._snapshot = list(self._hotspots() or [])
        copy._store = self.session.store
        copy._epsg = int(self.session.store.settings.epsg) if self.session.store is not None else 3006
        return copy

    def name(self) -> str:
        return "est_weekly"

    def displayName(self) -> str:  # noqa: N802 - QGIS's name
        return tr("locator.name")

    def prefix(self) -> str:
        return "est"

    def priority(self) -> QgsLocatorFilter.Priority:
        return QgsLocatorFilter.Priority.Medium

    def fetchResults(self, string: str, context: QgsLocatorContext, feedback: QgsFeedback) -> None:  # noqa: N802
        text = (string or "").strip()
        if len(text) < 2:
            return
        for result in self.results(text, feedback):
            self.resultFetched.emit(result)

    def triggerResult(self, result: QgsLocatorResult) -> None:  # noqa: N802 - QGIS's name
        data = result.userData
        self.zoom_to(data)

    # -- the search (plain data; the locator's thread) --------------------------------------
    def results(self, text: str, feedback: Optional[QgsFeedback] = None) -> list[QgsLocatorResult]:
        found: list[QgsLocatorResult] = []
        for place in search_districts(text, self._epsg, limit=5):
            found.append(self._result(place.name, tr("locator.group.places"), {"x": place.x, "y": place.y}))
        wanted = fold(text)
        for spot in self._snapshot:
            if wanted in fold(f"{spot.name} {spot.district}"):
                label = tr("locator.hotspot", rank=spot.rank, place=spot.label, count=spot.count)
                found.append(self._result(label, tr("locator.group.hotspots"),
                                          {"x": spot.x, "y": spot.y, "polygon": list(spot.polygon)}))
        if feedback is not None and feedback.isCanceled():
            return found
        for event in self._events(text):
            label = tr("locator.event", date=format_date(event.event_date), place=event.place_name or "–",
                       category=event.category)
            found.append(self._result(label, tr("locator.group.events"), {"x": event.x, "y": event.y}))
        return found

    def _events(self, text: str) -> list[Any]:
        if self._store is None:
            return []
        try:
            own = self._store.reopen()  # the locator's thread: never the GUI's connection
        except EstError:
            return []
        try:
            return own.search_approved(text, limit=EVENT_LIMIT)
        except EstError:
            return []
        finally:
            own.close()

    def _result(self, text: str, group: str, data: dict[str, Any]) -> QgsLocatorResult:
        result = QgsLocatorResult(self, text, data)
        result.group = group
        return result

    # -- the choice (main thread) -----------------------------------------------------------
    def zoom_to(self, data: dict[str, Any]) -> None:
        """Zoom the map to a found point (or area) and flash it."""
        if self.canvas is None or not isinstance(data, dict):
            return
        store_crs = QgsCoordinateReferenceSystem(f"EPSG:{self._epsg}")
        transform = QgsCoordinateTransform(store_crs, self.canvas.mapSettings().destinationCrs(), QgsProject.instance())
        ring = data.get("polygon") or []
        if len(ring) >= 4:
            geometry = QgsGeometry.fromPolygonXY([[QgsPointXY(x, y) for x, y in ring]])
            extent = geometry.boundingBox()
            extent.grow(max(extent.width(), extent.height()) * 0.5)
        else:
            geometry = QgsGeometry.fromPointXY(QgsPointXY(float(data["x"]), float(data["y"])))
            extent = QgsRectangle(data["x"] - ZOOM_HALF_SIZE_M, data["y"] - ZOOM_HALF_SIZE_M,
                                  data["x"] + ZOOM_HALF_SIZE_M, data["y"] + ZOOM_HALF_SIZE_M)
        self.canvas.setExtent(transform.transformBoundingBox(extent))
        self.canvas.refresh()
        geometry.transform(transform)
        self.canvas.flashGeometries([geometry])
