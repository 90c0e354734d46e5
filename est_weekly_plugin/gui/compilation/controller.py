"""The compilation's state and work, without a widget: the one current filter, the engine, the result.

Why this shape: the filter panel, the charts, the counts and the map layers must always show
the same events, so there is exactly one current :class:`CompilationFilter`. Every change — a
widget, a chart click, undo/redo, a saved filter — goes through :meth:`set_filter`, is pushed on
an undo stack, written to the project and sent to the engine in a QgsTask; a newer change
supersedes a running one and stale results are dropped. The controller holds no analysis logic
(that lives in ``analysis.compilation``, tested headless) and no widget: it tells the view by
signals and asks it through callables (the density grid of the visible map, is the dock shown,
how a filter reads in the user's words).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Dict, Optional

from qgis.core import QgsGeometry, QgsProject, QgsTask
from qgis.PyQt.QtCore import QCoreApplication, QElapsedTimer, QObject, QTimer, pyqtSignal
from qgis.PyQt.QtWidgets import QUndoCommand, QUndoStack  # QtWidgets in Qt5, but no widget

from ...analysis import exports
from ...analysis.compilation import CompilationResult, DensitySpec
from ...analysis.filters import CompilationFilter, default_filter, with_current_dates
from ...analysis.tasks import KeptConnection, TaskKeeper, function_task, load_engine_task, recompute_task, refresh_engine_task
from ...domain.errors import EstError
from ...domain.i18n import format_number, tr
from ...domain.settings import PROJECT_SCOPE

FILTER_ENTRY = "compilation/filter"
SAVED_ENTRY = "compilation/saved_filters"
WATCH_INTERVAL_MS = 10_000  # how often the dock looks for other users' changes
DEBOUNCE_MS = 40  # a burst of widget changes computes once
EXTENT_DEBOUNCE_MS = 150  # panning the map recomputes the heat map's grid once it settles


class FilterCommand(QUndoCommand):
    """One filter change on the undo stack (chart clicks and panel edits alike)."""

    def __init__(self, controller: CompilationController, before: CompilationFilter,
                 after: CompilationFilter) -> None:
        super().__init__(after.describe())
        self.controller, self.before, self.after = controller, before, after

    def redo(self) -> None:
        self.controller.apply_filter(self.after)

    def undo(self) -> None:
        self.controller.apply_filter(self.before)


class CompilationController(QObject):
    """Engine, filter, undo history, project entries, result and exports of the compilation.

    Signals: ``filterApplied(filter)`` whenever the current filter changes (set, undone, redone,
    loaded), ``resultReady(result)`` for each result of the current filter, and
    ``statusChanged(text, is_error)`` for the status line (never timing figures: they are for
    the log, see ``last_latency_ms``).
    """

    filterApplied = pyqtSignal(object)  # CompilationFilter
    resultReady = pyqtSignal(object)  # CompilationResult
    statusChanged = pyqtSignal(str, bool)  # text, is an error

    def __init__(self, session: Any, today: dt.date, *,
                 density_spec: Callable[[], Optional[DensitySpec]] = lambda: None,
                 is_visible: Callable[[], bool] = lambda: True,
                 describe: Callable[[CompilationFilter], str] = lambda f: f.describe(),
                 prepare_view: Optional[Callable[[CompilationResult], Any]] = None,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.session = session
        self.today = today  # which weeks are complete, what "last week" means
        self.density_spec = density_spec
        self.is_visible = is_visible
        self.describe = describe
        self.prepare_view = prepare_view  # runs in the computing task's worker: see recompute_task
        self.engine: Any = None
        self.result: Optional[CompilationResult] = None
        self.filter = default_filter(today)  # the last four complete weeks, not two years
        self.categories: list = []
        self.organisations: list = []
        self.tasks = TaskKeeper()
        self.undo_stack = QUndoStack(self)
        self.last_latency_ms: Optional[float] = None
        self._clock = QElapsedTimer()
        self._connection: Optional[KeptConnection] = None  # the refresh task's own connection
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.recompute)
        # Other users' approvals: a cheap change marker polled every few seconds; a change reloads
        # the events in a background task (the filter, the undo history and the map stay).
        self._marker: Optional[int] = None
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_INTERVAL_MS)
        self._watch.timeout.connect(self.poll_changes)
        self._watch.start()

    def _status(self, text: str, error: bool = False) -> None:
        self.statusChanged.emit(text, error)

    # -- store ---------------------------------------------------------------------------
    def leave(self) -> None:
        """Forget the previous store's engine, tasks and connection."""
        self.tasks.cancel_all()
        self.engine = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def load(self, store: Any) -> None:
        """The reference lists of *store* and the project's filter (an ``EstError`` is the caller's)."""
        self.categories = store.categories()
        self.organisations = store.organisations()
        text, ok = QgsProject.instance().readEntry(PROJECT_SCOPE, FILTER_ENTRY, "")
        if ok and text:
            self.filter = self.readable_filter(text)

    def start_loading(self) -> None:
        """(Re)load the approved events of the session's store in a task; no store → idle."""
        self.leave()
        store = self.session.store
        if store is None:
            return
        self._connection = KeptConnection(store)
        self._status(tr("compilation.dock.loading"))
        try:
            self._marker = store.change_marker()
        except EstError:
            self._marker = None

        def done(engine: Any, error: Optional[BaseException]) -> None:
            if error is not None or engine is None:
                self._status(tr("compilation.dock.load_failed", error=str(error or "")), True)
                return
            self._use_engine(engine)

        self.tasks.start("load", load_engine_task(store, done))

    def _use_engine(self, engine: Any) -> None:
        """A loaded or refreshed engine becomes the controller's; the current filter is computed on it."""
        engine.today = self.today
        self.engine = engine
        self.recompute()

    def poll_changes(self) -> bool:
        """Merge what someone (here or elsewhere) changed since the last read; True if there was something."""
        store = self.session.store
        if store is None or self.tasks.running or not self.is_visible():
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
        if self.engine is None or self.engine.change_token is None or self._connection is None:
            self.start_loading()
            return

        def done(engine: Any, error: Optional[BaseException]) -> None:
            if error is not None or engine is None:  # e.g. a lost connection: the next poll tries again
                self._marker = None
                return
            self._use_engine(engine)

        self.tasks.start("load", refresh_engine_task(self._connection, self.engine, done))

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

    def narrow_to_week(self, week: str) -> None:
        """A click on a week of the trend: that week, Monday to Sunday."""
        from ...analysis.trends import week_monday

        monday = week_monday(week)
        self.narrow(date_from=monday.isoformat(), date_to=(monday + dt.timedelta(days=6)).isoformat(),
                    preset="custom")

    def apply_filter(self, compilation_filter: CompilationFilter) -> None:
        """The undo stack's way in: show, remember in the project and compute *compilation_filter*."""
        self.filter = compilation_filter
        self.filterApplied.emit(compilation_filter)
        QgsProject.instance().writeEntry(PROJECT_SCOPE, FILTER_ENTRY, json.dumps(compilation_filter.to_dict()))
        self._clock.start()
        self._debounce.start(DEBOUNCE_MS)

    def saved_filters(self) -> Dict[str, dict]:
        text, _ok = QgsProject.instance().readEntry(PROJECT_SCOPE, SAVED_ENTRY, "{}")
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}

    def save_filter(self, name: str) -> list:
        """Keep the current filter in the project under *name*; the saved names (none saved: empty name)."""
        saved = self.saved_filters()
        if not name:
            return list(saved)
        saved[name] = self.filter.to_dict()
        QgsProject.instance().writeEntry(PROJECT_SCOPE, SAVED_ENTRY, json.dumps(saved))
        return list(saved)

    def load_filter(self, name: str) -> None:
        data = self.saved_filters().get(name)
        if data is not None:
            self.set_filter(self.readable_filter(data))

    def readable_filter(self, saved: Any) -> CompilationFilter:
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

    # -- computing -----------------------------------------------------------------------
    def extent_changed(self) -> None:
        """The map moved: the heat map's grid follows once it settles (only once there is a result)."""
        if self.engine is not None and self.result is not None:
            self._debounce.start(EXTENT_DEBOUNCE_MS)

    def recompute(self) -> None:
        """Start the computation for the current filter; supersedes any running one."""
        if self.engine is None:
            return
        if not self._clock.isValid():
            self._clock.start()
        self._status(tr("compilation.dock.computing"))
        holder: Dict[str, int] = {}

        def done(result: Optional[CompilationResult], error: Optional[BaseException]) -> None:
            if not self.tasks.is_current("compute", holder.get("generation", -1)):
                return  # superseded by a newer filter
            if error is not None or result is None:
                self._status(tr("compilation.dock.failed", error=str(error or "")), True)
                return
            self.show_result(result)

        task = recompute_task(self.engine, self.filter, self.density_spec(), done, names=self._connection,
                              prepare=self.prepare_view)
        holder["generation"] = self.tasks.start("compute", task)

    def show_result(self, result: CompilationResult) -> None:
        """*result* becomes current: the view fills in, the status line says how many and which."""
        self.result = result
        self.resultReady.emit(result)
        self.last_latency_ms = float(self._clock.elapsed()) if self._clock.isValid() else None
        self._clock.invalidate()
        self._status(tr("compilation.dock.status", count=format_number(result.count, 0),
                        summary=self.describe(result.filter)))  # timings are for the log, not the user

    def selected(self, result: CompilationResult) -> Any:
        """The events of *result* as the map layers show them."""
        return self.engine.selected(result) if self.engine is not None else None

    def wait_until_idle(self, timeout_ms: int = 60_000) -> bool:
        """Process events until no task runs (tests, benchmarks, scripts)."""
        clock = QElapsedTimer()
        clock.start()
        while (self.tasks.running or self._debounce.isActive()) and clock.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
        return not self.tasks.running

    # -- exports ---------------------------------------------------------------------------
    def filtered_fids(self) -> list:
        """The fids of the events the active filter selects (the map's and charts' events)."""
        if self.result is None or self.engine is None:
            return []
        return [int(v) for v in self.engine.columns.fid[self.result.index]]

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
        """CSV or GeoPackage (by suffix) of the hot-spot areas, small counts suppressed as the store says."""
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
        """The heat map as a GeoTIFF."""
        path = Path(path)
        result = self.result
        epsg = int(self.session.store.settings.epsg)

        def work(_task: Any) -> int:
            if result is None or result.density is None:
                return 0
            exports.export_density_geotiff(result.density, path, epsg)
            return 1

        return self._start_export(work, path)

    def _start_export(self, work: Any, path: Path) -> QgsTask:
        described = self.describe(self.filter)

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

    # -- teardown --------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop what runs (the dock closes); the engine and the result stay."""
        self.tasks.cancel_all()

    def shutdown(self) -> None:
        """Cancel tasks, stop the timers and close the kept connection."""
        self.tasks.cancel_all()
        self._debounce.stop()
        self._watch.stop()
        if self._connection is not None:
            self._connection.close()
