"""Step 3 of the weekly report: the compilation dock (filters, charts, hot-spots, trends, exports).

The dock is the view and the wiring. What is computed, undone, remembered in the project and
exported belongs to :class:`~.controller.CompilationController` (no widgets); each tab is a
class of its own (the :class:`~.filter_panel.FilterPanel`, :class:`~.charts_tab.ChartsTab`,
:class:`~.hotspots_tab.HotspotsTab`, :class:`~.trends_tab.TrendsTab`). The dock joins them to
the map canvas — the polygon the user draws, the outline of the place filter, zooming to a
hot-spot, the filtered layers — and, like every EST dock, to the session through
:class:`~..shared.dock_base.EstDock` (no database, role not allowed, status line).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Optional

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication, QElapsedTimer
from qgis.PyQt.QtWidgets import QFileDialog, QHBoxLayout, QMenu, QScrollArea, QTabWidget, QToolButton, QVBoxLayout, QWidget

from ...analysis.compilation import CompilationResult, DensitySpec, density_spec_for
from ...analysis.filters import CompilationFilter
from ...domain.i18n import tr
from ...domain.reference import districts
from ..shared.dock_base import EstDock
from ..shared.turns import in_next_turn
from ..shared.widgets import ERROR_STYLE
from .charts_tab import ChartsTab
from .compilation_layer import CompilationLayers, prepare_features
from .controller import CompilationController
from .filter_panel import FilterPanel
from .hotspots_tab import HotspotsTab
from .polygon_tool import AreaBand, PolygonDrawTool
from .trends_tab import TrendsTab

ZOOM_BUFFER_M = 300.0  # margin around a hot-spot cell when zooming to it
# The export menu: key (its text), file pattern, the controller's export.
EXPORTS = (("events_csv", "CSV (*.csv)", "export_events"), ("events_gpkg", "GeoPackage (*.gpkg)", "export_events"),
           ("hotspots_csv", "CSV (*.csv)", "export_hotspots"),
           ("hotspots_gpkg", "GeoPackage (*.gpkg)", "export_hotspots"),
           ("density_tif", "GeoTIFF (*.tif)", "export_density"))


class CompilationDock(EstDock):
    """Filters, charts, hot-spots, trends and exports of the approved events; follows the session's store."""

    permission = "compile"
    not_allowed_key = "compilation.not_allowed"
    no_store_key = "compilation.dock.no_store"

    def __init__(self, iface: Any, session: Any, parent: Optional[QWidget] = None, *,
                 today: Optional[dt.date] = None) -> None:
        super().__init__(tr("compilation.dock.title"), "EstCompilationDock", iface, session, parent)
        self.today = today or dt.date.today()  # which weeks are complete, what "last week" means
        self.panel = FilterPanel(self.today)
        self.controller = CompilationController(session, self.today, density_spec=self.density_spec,
                                                is_visible=self.isVisible, describe=self.panel.describe,
                                                prepare_view=self._prepare_view, parent=self)
        self.layers: Optional[CompilationLayers] = None
        self.draw_tool: Optional[PolygonDrawTool] = None
        self.area_band: Optional[AreaBand] = None
        self._tool_before_drawing: Any = None
        self._shut_down = False  # a store change still queued for this dock is then ignored
        self._result_serial = 0  # which result the steps of _show_result belong to
        self._showing = False  # a result's steps are still being shown
        self.set_content(self._build())
        self._connect()
        if self.canvas is not None:
            self.canvas.extentsChanged.connect(self.controller.extent_changed)
        self.follow_session()

    # -- what the tests and the plugin read ------------------------------------------------
    @property
    def result(self) -> Optional[CompilationResult]:
        return self.controller.result

    @property
    def filter(self) -> CompilationFilter:
        return self.controller.filter

    @property
    def engine(self) -> Any:
        return self.controller.engine

    def set_filter(self, compilation_filter: CompilationFilter) -> None:
        """Make *compilation_filter* current (undoable)."""
        self.controller.set_filter(compilation_filter)

    def wait_until_idle(self, timeout_ms: int = 60_000) -> bool:
        """Process events until no task of this dock runs and the map has all its points (tests, scripts)."""
        clock = QElapsedTimer()
        clock.start()
        idle = self.controller.wait_until_idle(timeout_ms)
        while self._still_showing() and clock.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
        return idle and not self._still_showing()

    def _still_showing(self) -> bool:
        return self._showing or (self.layers is not None and self.layers.adding_points)

    # -- widgets ---------------------------------------------------------------------------
    def _build(self) -> QWidget:
        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(4, 4, 4, 4)
        stack = self.controller.undo_stack
        self.undo_button = self._tool_button("/mActionUndo.svg", "compilation.dock.undo", stack.undo)
        self.redo_button = self._tool_button("/mActionRedo.svg", "compilation.dock.redo", stack.redo)
        stack.canUndoChanged.connect(self.undo_button.setEnabled)
        stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.export_button = QToolButton()
        self.export_button.setText(tr("compilation.dock.export"))
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for key, pattern, export in EXPORTS:
            menu.addAction(tr(f"compilation.export.{key}"),
                           lambda _checked=False, k=key, p=pattern, e=export: self._ask_export(k, p, e))
        menu.addAction(tr("compilation.export.charts"), lambda _checked=False: self._ask_charts())
        self.export_button.setMenu(menu)
        bar = QHBoxLayout()
        for widget in (self.undo_button, self.redo_button, self.export_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        # who is looking: login · organisation · role (a viewer's compilation hides people and free text)
        layout.addWidget(self.role_label)
        layout.addLayout(bar)
        layout.addWidget(self.status)

        self.tabs = QTabWidget()
        self.filter_scroll = QScrollArea()
        self.filter_scroll.setWidgetResizable(True)
        self.filter_scroll.setWidget(self.panel)
        self.charts_tab = ChartsTab()
        self.hotspots_tab = HotspotsTab()
        self.trends_tab = TrendsTab(self.today)
        for page, key in ((self.filter_scroll, "filters"), (self.charts_tab, "charts"),
                          (self.hotspots_tab, "hotspots"), (self.trends_tab, "trends")):
            self.tabs.addTab(page, tr(f"compilation.dock.{key}"))
        layout.addWidget(self.tabs)
        return root

    @staticmethod
    def _tool_button(icon: str, tip_key: str, slot: Any) -> QToolButton:
        button = QToolButton()
        button.setIcon(QgsApplication.getThemeIcon(icon))
        button.setToolTip(tr(tip_key))
        button.clicked.connect(slot)
        button.setEnabled(False)
        return button

    def _connect(self) -> None:
        controller = self.controller
        self.panel.filterChanged.connect(controller.set_filter)
        self.panel.placeRequested.connect(self._place_requested)
        self.panel.saveRequested.connect(self.save_filter)
        self.panel.loadRequested.connect(controller.load_filter)
        self.charts_tab.narrowRequested.connect(lambda changes: controller.narrow(**changes))
        self.charts_tab.weekRequested.connect(controller.narrow_to_week)
        for tab in (self.hotspots_tab, self.trends_tab):
            tab.zoomRequested.connect(
                lambda cell: self.zoom_to_cell(cell.get("polygon") or [], float(cell["x"]), float(cell["y"])))
        controller.filterApplied.connect(self._filter_applied)
        controller.resultReady.connect(self._show_result)
        controller.statusChanged.connect(lambda text, error: self.set_status(text, ERROR_STYLE if error else ""))

    # -- store (EstDock's hooks) -------------------------------------------------------------
    def refresh_store(self, reports_later: bool = False) -> None:
        """As every dock, but never once shut down (a store change may still be queued for it)."""
        if not self._shut_down:
            super().refresh_store(reports_later)

    def leave_store(self) -> None:
        self.controller.leave()

    def load_store(self, store: Any) -> None:
        """Reference lists and the project's filter; the events load once the content shows."""
        controller = self.controller
        controller.load(store)
        self.panel.set_reference(controller.categories, controller.organisations, districts())
        self.trends_tab.set_reference(controller.categories, controller.organisations)
        self._filter_applied(controller.filter)
        self.panel.set_saved_names(list(controller.saved_filters()))
        if self.layers is None:
            self.layers = CompilationLayers(QgsProject.instance(), int(store.settings.epsg))

    def store_shown(self) -> None:
        self.controller.start_loading()

    def refresh_events(self) -> None:
        """Reports changed: merge them into the engine (a full load when there is none)."""
        if self.session.store is not None and self.stack.currentWidget() is self.content_page:
            self.controller.refresh()

    def poll_changes(self) -> bool:
        """Merge what someone (here or elsewhere) changed since the last read; True if there was something."""
        return self.controller.poll_changes()

    def save_filter(self, name: str) -> None:
        """Keep the current filter in the project under *name* (offered in the panel's list)."""
        if name:
            self.panel.set_saved_names(self.controller.save_filter(name))

    # -- the controller's news ---------------------------------------------------------------
    def _filter_applied(self, compilation_filter: CompilationFilter) -> None:
        self.panel.set_filter(compilation_filter)
        self._show_area(compilation_filter.place_wkt)

    def _show_result(self, result: CompilationResult) -> None:
        """Charts, hot-spot list, trends and map layers for *result* (GUI thread), each in a turn of the
        event loop of its own so QGIS repaints between them; a newer result stops the older one's."""
        controller = self.controller
        steps: list[Callable[[], object]] = [
            lambda: self.charts_tab.show_result(result, controller.categories, controller.organisations),
            lambda: self.hotspots_tab.show_result(result, controller.engine, controller.categories),
            lambda: self.trends_tab.show_result(result),
        ]
        if self.layers is not None:
            layers = self.layers
            steps.append(lambda: layers.update(result, controller.selected(result), controller.categories))
        self._result_serial += 1
        self._showing = True
        self._show_steps(steps, self._result_serial)

    def _show_steps(self, steps: list[Callable[[], object]], serial: int) -> None:
        if serial != self._result_serial or self._shut_down:
            return
        steps.pop(0)()
        if steps:
            in_next_turn(lambda: self._show_steps(steps, serial))
        else:
            self._showing = False

    def _prepare_view(self, result: CompilationResult) -> Any:
        """In the computing task's worker: the map's features of *result*, ready to hand over."""
        return prepare_features(result, self.controller.selected(result))

    def density_spec(self) -> Optional[DensitySpec]:
        """The heat map grid for the current view: the canvas extent (in the store CRS) cut
        to the municipality, so street scale gets 10 m pixels and the city coarser ones."""
        store = self.session.store
        if store is None:
            return None
        box = store.settings.extent
        view = QgsRectangle(box.xmin, box.ymin, box.xmax, box.ymax)
        canvas = self.canvas
        if canvas is not None:
            extent = canvas.extent()
            source = canvas.mapSettings().destinationCrs()
            target = QgsCoordinateReferenceSystem(f"EPSG:{int(store.settings.epsg)}")
            if source.isValid() and source != target:
                extent = QgsCoordinateTransform(source, target, QgsProject.instance()).transformBoundingBox(extent)
            if not extent.isEmpty() and extent.intersects(view):
                view = extent.intersect(view)
        return density_spec_for((view.xMinimum(), view.yMinimum(), view.xMaximum(), view.yMaximum()))

    # -- exports ---------------------------------------------------------------------------
    def _ask_export(self, key: str, pattern: str, export: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr(f"compilation.export.{key}"), "", pattern)
        if path:
            getattr(self.controller, export)(path)

    def _ask_charts(self) -> None:
        directory = QFileDialog.getExistingDirectory(self, tr("compilation.export.charts"))
        if directory:
            self.charts_tab.export_charts(directory, ".png")
            self.charts_tab.export_charts(directory, ".svg")

    # -- the place filter from the map -----------------------------------------------------
    def _epsg(self) -> int:
        store = self.session.store
        return int(store.settings.epsg) if store is not None else 3006

    def _place_requested(self, kind: str) -> None:
        if self.canvas is None or self.session.store is None:
            self.panel.draw_place.setChecked(False)
            return
        if kind == "draw":
            if self.panel.draw_place.isChecked():
                self.start_drawing()
            else:
                self.stop_drawing()
            return
        geometry, source = self._map_place(kind)
        if geometry is None:
            self.session.message.emit(tr("compilation.dock.select_polygon"), 1)
            return
        target = QgsCoordinateReferenceSystem(f"EPSG:{self._epsg()}")
        if source != target:
            geometry.transform(QgsCoordinateTransform(source, target, QgsProject.instance()))
        self.panel.set_place(geometry.asWkt(2))

    def _map_place(self, kind: str) -> tuple[Optional[QgsGeometry], Any]:
        """The map's extent ("extent") or the selected polygons of the active layer, with their CRS."""
        if kind == "extent":
            return QgsGeometry.fromRect(self.canvas.extent()), self.canvas.mapSettings().destinationCrs()
        layer = self.iface.activeLayer()
        if isinstance(layer, QgsVectorLayer) and layer.selectedFeatureCount() \
                and layer.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry:
            return QgsGeometry.unaryUnion([f.geometry() for f in layer.selectedFeatures()]), layer.crs()
        return None, None

    def start_drawing(self) -> Optional[PolygonDrawTool]:
        """Make the polygon tool the canvas's tool; the finished polygon becomes the place filter."""
        canvas = self.canvas
        if canvas is None:
            self.panel.draw_place.setChecked(False)
            return None
        if self.draw_tool is None:
            self.draw_tool = PolygonDrawTool(canvas, self._epsg())
            self.draw_tool.finished.connect(self._drawn)
            self.draw_tool.cancelled.connect(self.stop_drawing)
            self.draw_tool.deactivated.connect(lambda: self.panel.draw_place.setChecked(False))
        self.draw_tool.epsg = self._epsg()
        if canvas.mapTool() is not self.draw_tool:
            self._tool_before_drawing = canvas.mapTool()
            canvas.setMapTool(self.draw_tool)
        self.panel.draw_place.setChecked(True)
        canvas.setFocus()
        self.set_status(tr("compilation.dock.draw_hint"), "")
        return self.draw_tool

    def stop_drawing(self) -> None:
        """Give the canvas back the tool it had before drawing."""
        canvas = self.canvas
        self.panel.draw_place.setChecked(False)
        if canvas is None or self.draw_tool is None or canvas.mapTool() is not self.draw_tool:
            return
        previous = self._tool_before_drawing
        self._tool_before_drawing = None
        if previous is not None:
            canvas.setMapTool(previous)
        else:
            canvas.unsetMapTool(self.draw_tool)

    def _drawn(self, wkt: str) -> None:
        self.stop_drawing()
        self.panel.set_place(wkt)

    def _show_area(self, wkt: Optional[str]) -> None:
        """Outline the place filter's polygon on the canvas while it applies; none → cleared."""
        if self.canvas is None:
            return
        if self.area_band is None:
            if not wkt:
                return
            self.area_band = AreaBand(self.canvas, self._epsg())
        self.area_band.epsg = self._epsg()
        self.area_band.show(wkt)

    def zoom_to_cell(self, polygon: Any, x: float, y: float) -> bool:
        """Zoom the canvas to a grid cell (store CRS) with a ~300 m margin and flash it."""
        canvas = self.canvas
        if canvas is None:
            return False
        ring = [QgsPointXY(float(px), float(py)) for px, py in polygon]
        cell = QgsGeometry.fromPolygonXY([ring]) if len(ring) >= 3 else QgsGeometry.fromPointXY(QgsPointXY(x, y))
        source = QgsCoordinateReferenceSystem(f"EPSG:{self._epsg()}")
        target = canvas.mapSettings().destinationCrs()
        area = cell.buffer(ZOOM_BUFFER_M, 8)
        shown = QgsGeometry(cell)
        if target.isValid() and source != target:
            transform = QgsCoordinateTransform(source, target, QgsProject.instance())
            area.transform(transform)
            shown.transform(transform)
        else:
            target = source
        canvas.setExtent(area.boundingBox())
        canvas.refresh()
        if hasattr(canvas, "flashGeometries"):  # QGIS ≥ 3.10; a stub iface may lack it
            try:
                canvas.flashGeometries([shown], target)
            except (TypeError, AttributeError):
                pass
        return True

    # -- teardown --------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Cancel tasks, give the map back and free the chart scenes before Qt deletes the widgets."""
        self._shut_down = True
        self.controller.shutdown()
        if self.layers is not None:
            self.layers.restore_unfiltered()
        for signal, slot in ((self.session.store_changed, self.store_changed_later),
                             (self.session.events_changed, self.refresh_events)):
            try:
                signal.disconnect(slot)
            except (TypeError, RuntimeError):
                pass
        if self.canvas is not None:
            try:
                self.canvas.extentsChanged.disconnect(self.controller.extent_changed)
            except (TypeError, RuntimeError):
                pass
        self.stop_drawing()
        if self.draw_tool is not None:
            self.draw_tool.remove()
            self.draw_tool = None
        if self.area_band is not None:
            self.area_band.remove()
            self.area_band = None
        self.charts_tab.clear()

    def deleteLater(self) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().deleteLater()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.controller.cancel()
        if self.layers is not None:
            self.layers.restore_unfiltered()  # the layer of all approved events is the map again
        super().closeEvent(event)
