"""Step 3 of the weekly report: the compilation dock (filters, charts, hot-spots, exports).

Why this shape: the filter panel, the charts, the counts and the map layers must always
show the same events, so there is exactly one current :class:`CompilationFilter`. Every
change — a widget, a chart click, undo/redo, a saved filter — goes through ``set_filter``,
is pushed on an undo stack, written to the project and sent to the engine in a QgsTask; a
newer change supersedes a running one and stale results are dropped. The dock holds no
analysis logic: that lives in ``analysis.compilation`` and is tested headless.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Dict, Optional

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsTask,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import QCoreApplication, QElapsedTimer, Qt, QTimer
from qgis.PyQt.QtGui import QBrush, QColor
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QUndoCommand,
    QUndoStack,
    QVBoxLayout,
    QWidget,
)

from ...analysis import exports
from ...analysis.compilation import CompilationResult, DensitySpec, density_spec_for
from ...analysis.filters import CompilationFilter, default_filter, with_current_dates
from ...analysis.hotspot_areas import change_text, method_note
from ...analysis.tasks import KeptConnection, TaskKeeper, function_task, load_engine_task, recompute_task, refresh_engine_task
from ...domain.errors import EstError
from ...domain.i18n import format_number, tr
from ...domain.reference import districts
from ...domain.settings import PROJECT_SCOPE
from ..shared.widgets import hint_label
from .charts import (
    BarChart,
    MatrixChart,
    TrendChart,
    export_chart,
    fill_category_chart,
    fill_matrix_chart,
    fill_organisation_chart,
    fill_trend_chart,
    fill_weekday_chart,
)
from .compilation_layer import CompilationLayers
from .filter_panel import FilterPanel
from .polygon_tool import AreaBand, PolygonDrawTool

FILTER_ENTRY = "compilation/filter"
SAVED_ENTRY = "compilation/saved_filters"
ZOOM_BUFFER_M = 300.0  # margin around a hot-spot cell when zooming to it
RISING = QColor("#fbd9c4")  # background of the trend rows that rose
TREND_GROUPS = ("categories", "organisations", "districts")


class SortItem(QTableWidgetItem):
    """A table cell that sorts by a number (UserRole) rather than by its text."""

    def __init__(self, text: str, key: float) -> None:
        super().__init__(text)
        self.setData(Qt.ItemDataRole.UserRole, float(key))
        self.setTextAlignment(int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter))

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        if mine is None or theirs is None:
            return super().__lt__(other)
        return float(mine) < float(theirs)


class FilterCommand(QUndoCommand):
    """One filter change on the undo stack (chart clicks and panel edits alike)."""

    def __init__(self, dock: CompilationDock, before: CompilationFilter, after: CompilationFilter) -> None:
        super().__init__(after.describe())
        self.dock, self.before, self.after = dock, before, after

    def redo(self) -> None:
        self.dock._apply_filter(self.after)

    def undo(self) -> None:
        self.dock._apply_filter(self.before)


WATCH_INTERVAL_MS = 10_000  # how often the dock looks for other users' changes


class CompilationDock(QgsDockWidget):
    """Filters, charts, hot-spots and exports of the approved events; follows the session's store."""

    def __init__(self, iface: Any, session: Any, parent: Optional[QWidget] = None, *,
                 today: Optional[dt.date] = None) -> None:
        super().__init__(tr("compilation.dock.title"), parent)
        self.setObjectName("EstCompilationDock")
        self.iface = iface
        self.session = session
        self.engine: Any = None
        self._refresh_connection: Optional[KeptConnection] = None  # the refresh task's own connection
        self.result: Optional[CompilationResult] = None
        self.today = today or dt.date.today()  # which weeks are complete, what "last week" means
        self.filter = default_filter(self.today)  # the last four complete weeks, not two years
        self.tasks = TaskKeeper()
        self.undo_stack = QUndoStack(self)
        self.layers: Optional[CompilationLayers] = None
        self.last_latency_ms: Optional[float] = None
        self._clock = QElapsedTimer()
        self._categories: list = []
        self._organisations: list = []
        self.draw_tool: Optional[PolygonDrawTool] = None
        self.area_band: Optional[AreaBand] = None
        self._tool_before_drawing: Any = None
        self._build()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(40)
        self._debounce.timeout.connect(self.recompute)
        # Other users' approvals: a cheap change marker polled every few seconds; a change reloads
        # the events in a background task (the filter, the undo history and the map stay).
        self._marker: Optional[int] = None
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_INTERVAL_MS)
        self._watch.timeout.connect(self.poll_changes)
        self._watch.start()
        session.store_changed.connect(self.reload)
        session.events_changed.connect(self.refresh)
        if iface is not None and iface.mapCanvas() is not None:
            iface.mapCanvas().extentsChanged.connect(self._extent_changed)
        self.reload()

    # -- widgets -----------------------------------------------------------------------
    def _build(self) -> None:
        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.undo_button = QToolButton()
        self.undo_button.setIcon(QgsApplication.getThemeIcon("/mActionUndo.svg"))
        self.undo_button.setToolTip(tr("compilation.dock.undo"))
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.redo_button = QToolButton()
        self.redo_button.setIcon(QgsApplication.getThemeIcon("/mActionRedo.svg"))
        self.redo_button.setToolTip(tr("compilation.dock.redo"))
        self.redo_button.clicked.connect(self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        self.export_button = QToolButton()
        self.export_button.setText(tr("compilation.dock.export"))
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for key, handler in (("events_csv", self._ask_events_csv), ("events_gpkg", self._ask_events_gpkg),
                             ("hotspots_csv", self._ask_hotspots_csv), ("hotspots_gpkg", self._ask_hotspots_gpkg),
                             ("density_tif", self._ask_density), ("charts", self._ask_charts)):
            menu.addAction(tr(f"compilation.export.{key}"), handler)
        self.export_button.setMenu(menu)
        self.status = QLabel(tr("compilation.dock.no_store"))
        self.status.setWordWrap(True)
        for widget in (self.undo_button, self.redo_button, self.export_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        # who is looking: login · organisation · role (a viewer's compilation hides people and free text)
        self.role_label = hint_label("role_note")
        layout.addWidget(self.role_label)
        layout.addLayout(bar)
        layout.addWidget(self.status)

        self.tabs = QTabWidget()
        self.panel = FilterPanel(self.today)
        self.filter_scroll = QScrollArea()
        self.filter_scroll.setWidgetResizable(True)
        self.filter_scroll.setWidget(self.panel)
        self.tabs.addTab(self.filter_scroll, tr("compilation.dock.filters"))

        charts = QWidget()
        charts_layout = QVBoxLayout(charts)
        self.category_chart = BarChart(horizontal=True)
        self.organisation_chart = BarChart(horizontal=True)
        self.weekday_chart = BarChart(horizontal=False)
        self.matrix_chart = MatrixChart()
        self.trend_chart = TrendChart()
        self.charts = [self.trend_chart, self.category_chart, self.organisation_chart, self.weekday_chart,
                       self.matrix_chart]
        for chart, height in zip(self.charts, (260, 380, 300, 240, 280)):
            chart.setMinimumHeight(height)
            chart.setMinimumWidth(240)  # fits QGIS's default dock width
            charts_layout.addWidget(chart)
        self.unknown_note = QLabel()
        self.unknown_note.setWordWrap(True)
        charts_layout.addWidget(self.unknown_note)
        charts_scroll = QScrollArea()
        charts_scroll.setWidgetResizable(True)
        charts_scroll.setWidget(charts)
        self.tabs.addTab(charts_scroll, tr("compilation.dock.charts"))

        self.hotspot_list = QListWidget()
        self.hotspot_list.setWordWrap(True)
        self.hotspot_list.itemSelectionChanged.connect(lambda: self._zoom_to_item(self.hotspot_list.currentItem()))
        self.hotspot_list.itemActivated.connect(self._zoom_to_item)
        self.hotspot_note = QLabel()  # the method and correction, or why nothing is significant
        self.hotspot_note.setWordWrap(True)
        self.hotspot_note.setStyleSheet("color: palette(mid);")
        hotspot_page = QWidget()
        hotspot_box = QVBoxLayout(hotspot_page)
        hotspot_box.setContentsMargins(0, 0, 0, 0)
        hotspot_box.addWidget(self.hotspot_list, 1)
        hotspot_box.addWidget(self.hotspot_note)
        self.tabs.addTab(hotspot_page, tr("compilation.dock.hotspots"))
        self.tabs.addTab(self._build_trends(), tr("compilation.dock.trends"))
        layout.addWidget(self.tabs)
        self.setWidget(root)

        self.panel.filterChanged.connect(self.set_filter)
        self.panel.placeRequested.connect(self._place_requested)
        self.panel.saveRequested.connect(self.save_filter)
        self.panel.loadRequested.connect(self.load_filter)
        self.category_chart.barClicked.connect(lambda code: self.narrow(categories=[code]))
        self.organisation_chart.barClicked.connect(lambda code: self.narrow(organisations=[code]))
        self.weekday_chart.barClicked.connect(lambda day: self.narrow(weekdays=[int(day)]))
        self.matrix_chart.cellClicked.connect(
            lambda day, hour: self.narrow(weekdays=[day], hour_start=hour, hour_end=hour + 1))
        self.trend_chart.weekClicked.connect(self._week_clicked)

    def _build_trends(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(2, 2, 2, 2)
        self.trend_summary = QLabel(tr("compilation.trends.no_data"))
        self.trend_summary.setWordWrap(True)
        box.addWidget(self.trend_summary)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("compilation.trends.group")))
        self.trend_group = QComboBox()
        self.trend_group.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.trend_group.setMinimumContentsLength(10)
        for key in TREND_GROUPS:
            self.trend_group.addItem(tr(f"compilation.trends.by_{key}"), key)
        self.trend_group.currentIndexChanged.connect(lambda _index: self._fill_trend_table())
        row.addWidget(self.trend_group, 1)
        box.addLayout(row)
        self.trend_table = QTableWidget(0, 5)
        self.trend_table.setHorizontalHeaderLabels([tr(f"compilation.trends.col.{key}") for key in
                                                    ("name", "current", "baseline", "change", "percent")])
        self.trend_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.trend_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.trend_table.verticalHeader().setVisible(False)
        header = self.trend_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.trend_table.setSortingEnabled(True)
        box.addWidget(self.trend_table, 3)
        self.emerging_title = QLabel()
        self.emerging_title.setWordWrap(True)
        box.addWidget(self.emerging_title)
        self.emerging_list = QListWidget()
        self.emerging_list.setWordWrap(True)
        self.emerging_list.setToolTip(tr("compilation.hotspots.emerging_method"))
        self.emerging_list.itemSelectionChanged.connect(
            lambda: self._zoom_to_item(self.emerging_list.currentItem()))
        self.emerging_list.itemActivated.connect(self._zoom_to_item)
        box.addWidget(self.emerging_list, 2)
        self.trend_note = QLabel()
        self.trend_note.setWordWrap(True)
        box.addWidget(self.trend_note)
        return page

    # -- store ---------------------------------------------------------------------------
    def reload(self) -> None:
        """(Re)load the approved events of the session's store in a task; no store → idle."""
        self.tasks.cancel_all()
        self.engine = None
        store = self.session.store
        if self._refresh_connection is not None:
            self._refresh_connection.close()
        self._refresh_connection = KeptConnection(store) if store is not None else None
        self.role_label.setText(self.session.role_note() if store is not None else "")
        if store is None:
            self.status.setText(tr("compilation.dock.no_store"))
            return
        self._categories = store.categories()
        self._organisations = store.organisations()
        self.panel.set_reference(self._categories, self._organisations, districts())
        self._restore_project_state()
        if self.layers is None:
            self.layers = CompilationLayers(QgsProject.instance(), int(store.settings.epsg))
        self.status.setText(tr("compilation.dock.loading"))
        try:
            self._marker = store.change_marker()
        except EstError:
            self._marker = None

        def done(engine: Any, error: Optional[BaseException]) -> None:
            if error is not None or engine is None:
                self.status.setText(tr("compilation.dock.load_failed", error=str(error or "")))
                return
            self._use_engine(engine)

        self.tasks.start("load", load_engine_task(store, done))

    def _use_engine(self, engine: Any) -> None:
        """A loaded or refreshed engine becomes the dock's; the current filter is computed on it."""
        engine.today = self.today
        self.engine = engine
        self.recompute()

    def poll_changes(self) -> bool:
        """Merge what someone (here or elsewhere) changed since the last read; True if there was something."""
        store = self.session.store
        if store is None or self.tasks.running or not self.isVisible():
            return False
        try:
            marker = store.change_marker()
        except EstError:  # a lost connection: the next poll tries again
            return False
        if marker == self._marker:
            return False
        self._marker = marker
        self.refresh()
        return True

    def refresh(self) -> None:
        """Merge what changed since the engine read the events (a full load when there is no engine)."""
        if self.engine is None or self.engine.change_token is None or self._refresh_connection is None:
            self.reload()
            return

        def done(engine: Any, error: Optional[BaseException]) -> None:
            if error is not None or engine is None:  # e.g. a lost connection: the next poll tries again
                self._marker = None
                return
            self._use_engine(engine)

        self.tasks.start("load", refresh_engine_task(self._refresh_connection, self.engine, done))

    # -- filter ----------------------------------------------------------------------------
    def set_filter(self, compilation_filter: CompilationFilter) -> None:
        """Make *compilation_filter* current (undoable)."""
        if compilation_filter.to_dict() == self.filter.to_dict():
            return
        self.undo_stack.push(FilterCommand(self, self.filter, compilation_filter))

    def narrow(self, **changes: Any) -> None:
        """A chart click: the current filter with some criteria replaced."""
        data = self.filter.to_dict()
        data.update(changes)
        self.set_filter(CompilationFilter.from_dict(data))

    def _week_clicked(self, week: str) -> None:
        from ...analysis.trends import week_monday

        monday = week_monday(week)
        self.narrow(date_from=monday.isoformat(), date_to=(monday + dt.timedelta(days=6)).isoformat(),
                    preset="custom")

    def _apply_filter(self, compilation_filter: CompilationFilter) -> None:
        self.filter = compilation_filter
        self.panel.set_filter(compilation_filter)
        self._show_area(compilation_filter.place_wkt)
        QgsProject.instance().writeEntry(PROJECT_SCOPE, FILTER_ENTRY, json.dumps(compilation_filter.to_dict()))
        self._clock.start()
        self._debounce.start()

    def _restore_project_state(self) -> None:
        text, ok = QgsProject.instance().readEntry(PROJECT_SCOPE, FILTER_ENTRY, "")
        if ok and text:
            self.filter = self._readable_filter(text)
        self.panel.set_filter(self.filter)
        self._show_area(self.filter.place_wkt)
        self.panel.set_saved_names(list(self.saved_filters()))

    def saved_filters(self) -> Dict[str, dict]:
        text, _ok = QgsProject.instance().readEntry(PROJECT_SCOPE, SAVED_ENTRY, "{}")
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}

    def save_filter(self, name: str) -> None:
        if not name:
            return
        saved = self.saved_filters()
        saved[name] = self.filter.to_dict()
        QgsProject.instance().writeEntry(PROJECT_SCOPE, SAVED_ENTRY, json.dumps(saved))
        self.panel.set_saved_names(list(saved))

    def load_filter(self, name: str) -> None:
        data = self.saved_filters().get(name)
        if data is not None:
            self.set_filter(self._readable_filter(data))

    def _readable_filter(self, saved: Any) -> CompilationFilter:
        """A filter saved in the project, or — if it cannot be read (hand-edited, another version,
        hostile) — the default filter and a message; never an exception."""
        try:
            data = json.loads(saved) if isinstance(saved, str) else saved
            compilation_filter = CompilationFilter.from_dict(data)
            if compilation_filter.place_wkt and QgsGeometry.fromWkt(compilation_filter.place_wkt).isNull():
                raise ValueError("place")
            return with_current_dates(compilation_filter, self.today)  # "last week" means last week today
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            self.session.message.emit(tr("compilation.saved_filter_unreadable"), 1)  # Qgis.Warning
            return default_filter(self.today)

    def _place_requested(self, kind: str) -> None:
        if self.iface is None or self.session.store is None:
            self.panel.draw_place.setChecked(False)
            return
        if kind == "draw":
            if self.panel.draw_place.isChecked():
                self.start_drawing()
            else:
                self.stop_drawing()
            return
        target = QgsCoordinateReferenceSystem(f"EPSG:{int(self.session.store.settings.epsg)}")
        geometry: Optional[QgsGeometry] = None
        if kind == "extent":
            canvas = self.iface.mapCanvas()
            geometry = QgsGeometry.fromRect(canvas.extent())
            source = canvas.mapSettings().destinationCrs()
        else:
            layer = self.iface.activeLayer()
            if isinstance(layer, QgsVectorLayer) and layer.selectedFeatureCount() \
                    and layer.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry:
                geometry = QgsGeometry.unaryUnion([f.geometry() for f in layer.selectedFeatures()])
                source = layer.crs()
            else:
                self.session.message.emit(tr("compilation.dock.select_polygon"), 1)
                return
        if source != target:
            geometry.transform(QgsCoordinateTransform(source, target, QgsProject.instance()))
        self.panel.set_place(geometry.asWkt(2))

    # -- drawing the place -------------------------------------------------------------
    def _canvas(self) -> Any:
        return self.iface.mapCanvas() if self.iface is not None else None

    def _epsg(self) -> int:
        store = self.session.store
        return int(store.settings.epsg) if store is not None else 3006

    def start_drawing(self) -> Optional[PolygonDrawTool]:
        """Make the polygon tool the canvas's tool; the finished polygon becomes the place filter."""
        canvas = self._canvas()
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
        self.status.setText(tr("compilation.dock.draw_hint"))
        return self.draw_tool

    def stop_drawing(self) -> None:
        """Give the canvas back the tool it had before drawing."""
        canvas = self._canvas()
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
        canvas = self._canvas()
        if canvas is None:
            return
        if self.area_band is None:
            if not wkt:
                return
            self.area_band = AreaBand(canvas, self._epsg())
        self.area_band.epsg = self._epsg()
        self.area_band.show(wkt)

    # -- zooming to a cell ----------------------------------------------------------------
    def _zoom_to_item(self, item: Optional[QListWidgetItem]) -> None:
        if item is None or not item.isSelected():
            return
        cell = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(cell, dict):
            self.zoom_to_cell(cell.get("polygon") or [], float(cell["x"]), float(cell["y"]))

    def zoom_to_cell(self, polygon: Any, x: float, y: float) -> bool:
        """Zoom the canvas to a grid cell (store CRS) with a ~300 m margin and flash it."""
        canvas = self._canvas()
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

    @staticmethod
    def _selected_key(widget: QListWidget) -> Any:
        item = widget.currentItem()
        if item is None or not item.isSelected():
            return None
        cell = item.data(Qt.ItemDataRole.UserRole)
        return (round(float(cell["x"]), 1), round(float(cell["y"]), 1)) if isinstance(cell, dict) else None

    @staticmethod
    def _reselect(widget: QListWidget, key: Any) -> None:
        """Select the cell selected before a refill again, without zooming (signals blocked)."""
        if key is None:
            return
        for i in range(widget.count()):
            cell = widget.item(i).data(Qt.ItemDataRole.UserRole)
            if isinstance(cell, dict) and (round(float(cell["x"]), 1), round(float(cell["y"]), 1)) == key:
                widget.setCurrentRow(i)
                return

    # -- trends ----------------------------------------------------------------------------
    def _trend_names(self) -> Dict[str, Dict[str, str]]:
        return {"categories": {c.code: c.label() for c in self._categories},
                "organisations": {o.code: o.name() for o in self._organisations},
                "districts": {}}

    def _fill_trend_table(self) -> None:
        table = self.trend_table
        table.setSortingEnabled(False)
        table.setRowCount(0)
        report = self.result.trends if self.result is not None else None
        if report is None:
            table.setSortingEnabled(True)
            return
        group = self.trend_group.currentData() or TREND_GROUPS[0]
        names = self._trend_names().get(group, {})
        rows = [r for r in getattr(report, group) if r.current or r.baseline]
        weeks = ", ".join(report.baseline_labels + [report.week])
        table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            percent = "–" if r.relative is None else f"{format_number(r.relative * 100, 0, sign=True)} %"
            compared = not report.unfinished  # an unfinished week has counts, no change
            cells = [
                QTableWidgetItem(names.get(r.key, r.name)),
                SortItem(str(r.current), r.current),
                SortItem(format_number(r.baseline), r.baseline),
                SortItem(format_number(r.change, sign=True) if compared else "–", r.change if compared else 0.0),
                SortItem(percent if compared else "–",
                         (r.relative if r.relative is not None else (1e9 if r.current else 0.0)) if compared else 0.0),
            ]
            tip = tr("compilation.trends.weekly_tip", weeks=weeks, counts=", ".join(str(v) for v in r.weekly))
            for column, cell in enumerate(cells):
                cell.setToolTip(tip)
                if compared and r.change > 0:
                    cell.setBackground(QBrush(RISING))
                table.setItem(i, column, cell)
        table.setSortingEnabled(True)
        table.sortItems(3, Qt.SortOrder.DescendingOrder)

    def _show_trends(self, result: CompilationResult) -> None:
        report = result.trends
        if report is None:
            self.trend_summary.setText(tr("compilation.trends.no_data"))
            self.emerging_title.setText("")
            self.trend_note.setText("")
        else:
            total = report.total
            if report.unfinished:  # counted so far, never compared as if the week were over
                self.trend_summary.setText(tr("compilation.trends.unfinished", week=report.week,
                                              current=total.current, date=self.today.isoformat()))
            else:
                self.trend_summary.setText(tr(
                    "compilation.trends.summary", week=report.week, current=total.current,
                    first=report.baseline_labels[0], last=report.baseline_labels[-1],
                    baseline=format_number(total.baseline), change=self._change_text(total)))
            previous = report.monday - dt.timedelta(weeks=len(report.baseline_labels))
            from ...analysis.trends import week_label

            self.emerging_title.setText(tr(
                "compilation.trends.emerging_title",
                first=week_label(report.monday - dt.timedelta(weeks=len(report.baseline_labels) - 1)),
                last=report.week,
                prev_first=week_label(previous - dt.timedelta(weeks=len(report.baseline_labels) - 1)),
                prev_last=week_label(previous)))
            self.trend_note.setText(tr("compilation.trends.method", week=report.week) + " "
                                    + tr("compilation.hotspots.emerging_method"))
        self._fill_trend_table()
        key = self._selected_key(self.emerging_list)
        self.emerging_list.blockSignals(True)
        self.emerging_list.clear()
        for cell in result.emerging_cells:
            trend = tr("compilation.hotspots.trend.emerging" if int(cell["trend"]) > 0
                       else "compilation.hotspots.trend.fading")
            item = QListWidgetItem(("▲ " if int(cell["trend"]) > 0 else "▼ ") + tr(
                "compilation.trends.cell_line", trend=trend, district=cell.get("district", ""),
                current=cell["current"], previous=cell["previous"], p=f"{float(cell['p']):.3f}"))
            item.setData(Qt.ItemDataRole.UserRole, cell)
            if int(cell["trend"]) > 0:
                item.setBackground(QBrush(RISING))
            self.emerging_list.addItem(item)
        if report is not None and not result.emerging_cells:
            placeholder = QListWidgetItem(tr("compilation.trends.no_cells"))
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.emerging_list.addItem(placeholder)
        self._reselect(self.emerging_list, key)
        self.emerging_list.blockSignals(False)

    @staticmethod
    def _change_text(row: Any) -> str:
        if row.relative is None:
            return tr("compilation.trends.no_baseline")
        percent = abs(round(row.relative * 100))
        if percent == 0:
            return tr("compilation.trends.unchanged")
        return tr("compilation.trends.up" if row.relative > 0 else "compilation.trends.down", percent=percent)

    # -- computing -----------------------------------------------------------------------
    def density_spec(self) -> Optional[DensitySpec]:
        """The heat map grid for the current view: the canvas extent (in the store CRS) cut
        to the municipality, so street scale gets 10 m pixels and the city coarser ones."""
        store = self.session.store
        if store is None:
            return None
        box = store.settings.extent
        view = QgsRectangle(box.xmin, box.ymin, box.xmax, box.ymax)
        if self.iface is not None and self.iface.mapCanvas() is not None:
            canvas = self.iface.mapCanvas()
            extent = canvas.extent()
            source = canvas.mapSettings().destinationCrs()
            target = QgsCoordinateReferenceSystem(f"EPSG:{int(store.settings.epsg)}")
            if source.isValid() and source != target:
                extent = QgsCoordinateTransform(source, target, QgsProject.instance()).transformBoundingBox(extent)
            if not extent.isEmpty() and extent.intersects(view):
                view = extent.intersect(view)
        return density_spec_for((view.xMinimum(), view.yMinimum(), view.xMaximum(), view.yMaximum()))

    def _extent_changed(self) -> None:
        if self.engine is not None and self.result is not None:
            self._debounce.start(150)

    def recompute(self) -> None:
        """Start the computation for the current filter; supersedes any running one."""
        if self.engine is None:
            return
        if not self._clock.isValid():
            self._clock.start()
        self.status.setText(tr("compilation.dock.computing"))
        holder: Dict[str, int] = {}

        def done(result: Optional[CompilationResult], error: Optional[BaseException]) -> None:
            if not self.tasks.is_current("compute", holder.get("generation", -1)):
                return  # superseded by a newer filter
            if error is not None or result is None:
                self.status.setText(tr("compilation.dock.failed", error=str(error or "")))
                return
            self.show_result(result)

        task = recompute_task(self.engine, self.filter, self.density_spec(), done, names=self._refresh_connection)
        holder["generation"] = self.tasks.start("compute", task)

    def show_result(self, result: CompilationResult) -> None:
        """Charts, counts, hot-spot list and map layers for *result* (main thread)."""
        self.result = result
        data = result.charts
        f = result.filter
        fill_trend_chart(self.trend_chart, data, week=None)
        fill_category_chart(self.category_chart, data, self._categories, selected=f.categories)
        fill_organisation_chart(self.organisation_chart, data, self._organisations, selected=f.organisations)
        fill_weekday_chart(self.weekday_chart, data, selected=f.weekdays)
        fill_matrix_chart(self.matrix_chart, data)
        self.unknown_note.setText(tr("compilation.aoristic.unknown_excluded", count=data.unknown_time)
                                  + " " + tr("compilation.aoristic.method"))
        key = self._selected_key(self.hotspot_list)
        self.hotspot_list.blockSignals(True)
        self.hotspot_list.clear()
        labels = {c.code: c.label() for c in self._categories}
        weekdays = tr("compilation.weekdays.short").split(",")
        if result.hotspots is not None:
            for spot in result.hotspots.hotspots:
                band = f"{spot.hour_band[0]:02d}–{spot.hour_band[1] % 24:02d}" if spot.hour_band else "–"
                item = QListWidgetItem(tr(
                    "compilation.dock.hotspot_line", rank=spot.rank, place=spot.label, count=spot.count,
                    change=change_text(spot), categories=", ".join(labels.get(c, c) for c, _ in spot.categories[:2]),
                    weekday=weekdays[spot.weekday] if spot.weekday is not None else "–", hours=band))
                item.setData(Qt.ItemDataRole.UserRole, {"x": spot.x, "y": spot.y, "polygon": list(spot.polygon)})
                item.setToolTip(tr("compilation.dock.hotspot_zoom"))
                self.hotspot_list.addItem(item)
        self._reselect(self.hotspot_list, key)
        self.hotspot_list.blockSignals(False)
        engine = self.engine
        self.hotspot_note.setText(method_note(result.hotspots, engine.hotspot_cell, engine.hotspot_rings)
                                  if engine is not None else "")
        self._show_trends(result)
        if self.layers is not None:
            selected = self.engine.selected(result)
            self.layers.update(result, selected, self._categories)
        self.last_latency_ms = float(self._clock.elapsed()) if self._clock.isValid() else None
        self._clock.invalidate()
        self.status.setText(tr("compilation.dock.status", count=format_number(result.count, 0),
                               summary=self.panel.describe(f)))  # timings are for the log, not the user

    def wait_until_idle(self, timeout_ms: int = 60_000) -> bool:
        """Process events until no task of this dock runs (tests, benchmarks, scripts)."""
        clock = QElapsedTimer()
        clock.start()
        while (self.tasks.running or self._debounce.isActive()) and clock.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
        return not self.tasks.running

    # -- exports ---------------------------------------------------------------------------
    def _selected_fids(self) -> Any:
        if self.result is None or self.engine is None:
            return []
        return self.engine.columns.fid[self.result.index]

    def filtered_fids(self) -> list:
        """The fids of the events the active filter selects (the map's and charts' events)."""
        return [int(v) for v in self._selected_fids()]

    def export_events(self, path: Path | str) -> QgsTask:
        """CSV or GeoPackage (by suffix) of the filtered events, in a task."""
        path = Path(path)
        store = self.session.store
        fids = self.filtered_fids()
        epsg = int(store.settings.epsg)

        def work(task: Any) -> int:
            progress = lambda fraction: (task.setProgress(100 * fraction), not task.isCanceled())[1]  # noqa: E731
            if path.suffix.lower() == ".gpkg":
                return exports.export_events_gpkg(store, fids, path, epsg, progress)
            return exports.export_events_csv(store, fids, path, progress)

        return self._start_export(work, path)

    def export_hotspots(self, path: Path | str) -> QgsTask:
        path = Path(path)
        result = self.result
        epsg = int(self.session.store.settings.epsg)
        suppress = self.session.store.suppress_below()

        def work(_task: Any) -> int:
            if result is None or result.hotspots is None:
                return 0
            if path.suffix.lower() == ".gpkg":
                return exports.export_hotspots_gpkg(result.hotspots, path, epsg, suppress_below=suppress)
            return exports.export_hotspots_csv(result.hotspots, path, suppress_below=suppress)

        return self._start_export(work, path)

    def export_density(self, path: Path | str) -> QgsTask:
        path = Path(path)
        result = self.result
        epsg = int(self.session.store.settings.epsg)

        def work(_task: Any) -> int:
            if result is None or result.density is None:
                return 0
            exports.export_density_geotiff(result.density, path, epsg)
            return 1

        return self._start_export(work, path)

    def export_charts(self, directory: Path | str, suffix: str = ".png") -> list:
        directory = Path(directory)
        names = ("weekly_trend", "categories", "organisations", "weekdays", "weekday_hour")
        return [export_chart(chart, directory / f"{name}{suffix}") for name, chart in zip(names, self.charts)]

    def _start_export(self, work: Any, path: Path) -> QgsTask:
        described = self.panel.summary.text()

        def done(count: Any, error: Optional[BaseException]) -> None:
            if error is not None:
                self.session.message.emit(tr("compilation.export.failed", error=str(error)), 2)
                return
            self.session.message.emit(tr("compilation.export.done", count=count, path=str(path)), 0)
            store = self.session.store
            if store is not None:  # who exported what, with which filter: in the audit log
                try:
                    store.record_export(self.session.user, path.name, described, int(count or 0))
                except EstError as refused:
                    self.session.message.emit(refused.message(), 1)

        task = function_task(f"EST: export {path.name}", work, done)
        self.tasks.start(f"export:{path}", task)
        return task

    def _ask(self, title_key: str, pattern: str) -> Optional[str]:
        path, _ = QFileDialog.getSaveFileName(self, tr(title_key), "", pattern)
        return path or None

    def _ask_events_csv(self) -> None:
        if path := self._ask("compilation.export.events_csv", "CSV (*.csv)"):
            self.export_events(path)

    def _ask_events_gpkg(self) -> None:
        if path := self._ask("compilation.export.events_gpkg", "GeoPackage (*.gpkg)"):
            self.export_events(path)

    def _ask_hotspots_csv(self) -> None:
        if path := self._ask("compilation.export.hotspots_csv", "CSV (*.csv)"):
            self.export_hotspots(path)

    def _ask_hotspots_gpkg(self) -> None:
        if path := self._ask("compilation.export.hotspots_gpkg", "GeoPackage (*.gpkg)"):
            self.export_hotspots(path)

    def _ask_density(self) -> None:
        if path := self._ask("compilation.export.density_tif", "GeoTIFF (*.tif)"):
            self.export_density(path)

    def _ask_charts(self) -> None:
        directory = QFileDialog.getExistingDirectory(self, tr("compilation.export.charts"))
        if directory:
            self.export_charts(directory, ".png")
            self.export_charts(directory, ".svg")

    # -- teardown --------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Cancel tasks and free the chart scenes before Qt deletes the widgets."""
        self.tasks.cancel_all()
        if self.layers is not None:
            self.layers.restore_unfiltered()
        self._debounce.stop()
        self._watch.stop()
        if self._refresh_connection is not None:
            self._refresh_connection.close()
        for signal, slot in ((self.session.store_changed, self.reload), (self.session.events_changed, self.refresh)):
            try:
                signal.disconnect(slot)
            except (TypeError, RuntimeError):
                pass
        canvas = self._canvas()
        if canvas is not None:
            try:
                canvas.extentsChanged.disconnect(self._extent_changed)
            except (TypeError, RuntimeError):
                pass
        self.stop_drawing()
        if self.draw_tool is not None:
            self.draw_tool.remove()
            self.draw_tool = None
        if self.area_band is not None:
            self.area_band.remove()
            self.area_band = None
        for chart in self.charts:
            chart.scene().clear()

    def deleteLater(self) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().deleteLater()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.tasks.cancel_all()
        if self.layers is not None:
            self.layers.restore_unfiltered()  # the layer of all approved events is the map again
        super().closeEvent(event)
