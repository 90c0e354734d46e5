"""Background work of the compilation as QgsTasks: load the events, recompute a filter, export.

Why tasks: loading a million events or exporting them takes seconds and must never freeze
QGIS. ``run()`` works on plain data only (numpy, the store connection) and never touches
widgets, layers or the project; results are handed over in ``finished()`` on the main
thread through a callback. The caller keeps a reference to every running task (QGIS does
not), and a newer recompute supersedes an older one: the old one is cancelled and its
result ignored even if it finishes first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Callable, Optional

from qgis.core import QgsApplication, QgsTask

from ..domain.errors import EstError
from ..domain.model import Status
from .compilation import Cancelled, CompilationEngine, CompilationResult, DensitySpec
from .filters import CompilationFilter
from .weekly import AnalysisSettings, engine_for, name_areas

LOG = logging.getLogger(__name__)


def function_task(description: str, work: Callable[[QgsTask], Any],
                  done: Callable[[Any, Optional[BaseException]], None],
                  flags: QgsTask.Flags = QgsTask.Flag.CanCancel) -> QgsTask:
    """QGIS's own ``QgsTask.fromFunction`` with the plugin's conventions: *work(task)* runs in a
    worker thread; *done(result, error)* runs on the main thread, never for a cancelled task
    (its result is stale, and one cancelled before it ran reports "Task canceled"); a failure is logged
    and handed over as ``done(None, error)``."""
    holder: list[QgsTask] = []

    def finished(exception: Optional[BaseException] = None, boxed: Optional[tuple[Any]] = None) -> None:
        task = holder[0]
        if isinstance(exception, Cancelled) or task.isCanceled():  # superseded or stopped: its answer is stale
            return
        if exception is not None:
            LOG.error("%s failed: %s", description, exception, exc_info=exception)
        try:
            done(None if exception is not None or boxed is None else boxed[0], exception)
        except Exception:  # noqa: BLE001 - QgsTaskWrapper would swallow it silently
            LOG.exception("%s: handling the result failed", description)
            raise

    # a one-tuple is never falsy: QgsTaskWrapper drops a falsy result (0, an empty engine)
    task = QgsTask.fromFunction(description, lambda task: (work(task),), on_finished=finished, flags=flags)
    holder.append(task)
    return task


def load_engine_task(store: Any, done: Callable[[Any, Optional[BaseException]], None]) -> QgsTask:
    """Load the approved events as columns and warm the engine's caches — on GeoPackage and on
    PostGIS alike (binary COPY through the compilation view, so the login's row-level rules
    apply), on a connection of the task's own."""

    def work(task: QgsTask) -> Any:
        task.setProgress(5)
        own = store.reopen()  # inside the task: an unreachable database is reported as such
        try:
            return _load_engine(own, task)
        finally:
            own.close()

    return function_task("EST: load approved events", work, done)


def _load_engine(store: Any, task: QgsTask) -> CompilationEngine:
    token = store.change_token()  # before the read: every later change comes back in a delta
    columns = store.load_columns(Status.APPROVED)
    settings = AnalysisSettings.of(store)
    task.setProgress(70)
    engine = engine_for(columns, settings)
    engine.warm_up()
    engine.change_token = token
    task.setProgress(100)
    return engine


class KeptConnection:
    """A connection of its own for one kind of recurring background work (the refresh every few
    seconds): opened by the first task, reused by the next — connecting and logging in cost more
    than the refresh itself — and used by one task at a time."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._own: Any = None
        self._lock = threading.Lock()
        self._closing = False

    @contextmanager
    def use(self) -> Iterator[Any]:
        with self._lock:
            if self._closing:
                raise Cancelled()
            if self._own is None:
                self._own = self.store.reopen()
            try:
                yield self._own
            except EstError:  # e.g. a lost connection: the next task opens a new one
                self._close()
                raise
            finally:
                if self._closing:
                    self._close()

    def _close(self) -> None:
        own, self._own = self._own, None
        if own is not None:
            with suppress(Exception):
                own.close()

    def close(self) -> None:
        """Close it now, or when the task using it ends (never waits: called on the main thread)."""
        self._closing = True
        if self._lock.acquire(blocking=False):
            try:
                self._close()
            finally:
                self._lock.release()


def refresh_engine_task(connection: KeptConnection, engine: CompilationEngine,
                        done: Callable[[Any, Optional[BaseException]], None]) -> QgsTask:
    """Bring *engine* up to date with what changed since it was read (someone's approval,
    rejection, correction or redaction) by merging the delta; a full load when a delta will not do
    (many changes, a new category or organisation)."""

    def work(task: QgsTask) -> CompilationEngine:
        with connection.use() as own:
            delta = None
            if engine.change_token is not None:
                delta = own.approved_changes(engine.change_token, engine.columns.category_codes,
                                             engine.columns.organisation_codes)
            if delta is None:
                return _load_engine(own, task)
            return engine.with_changes(delta)

    return function_task("EST: refresh approved events", work, done)


def recompute_task(engine: Any, compilation_filter: CompilationFilter, density: Optional[DensitySpec],
                   done: Callable[[Optional[CompilationResult], Optional[BaseException]], None], *,
                   week: Optional[str] = None, hotspots: bool = True,
                   names: Optional[KeptConnection] = None,
                   prepare: Optional[Callable[[CompilationResult], Any]] = None) -> QgsTask:
    """One filter change: counts, chart data, heat map and Gi* hot-spot areas (named through
    *names*, a connection of the task's own, as the weekly service names them). *prepare* turns
    the result into what the interface shows (``result.view``) here in the worker, so the GUI
    thread only hands it over — building tens of thousands of map features there would freeze QGIS."""

    def work(task: QgsTask) -> CompilationResult:
        result = engine.compute(compilation_filter, week=week, density=density, hotspots=hotspots,
                                is_cancelled=task.isCanceled)
        if names is not None and result.hotspots is not None and result.hotspots.hotspots:
            with names.use() as store:
                name_areas(store, result)
        if prepare is not None and not task.isCanceled():
            result.view = prepare(result)
        return result

    return function_task("EST: compile", work, done)


class TaskKeeper:
    """Holds a reference to every task it started until QGIS reports it completed or terminated
    (a task collected by Python mid-run crashes QGIS) — a cancelled task that still runs stays
    referenced — and cancels the previous task of the same kind when a newer one starts."""

    def __init__(self) -> None:
        self.running: dict[str, QgsTask] = {}  # the current task of each kind
        self.alive: set[QgsTask] = set()  # every task QGIS has not finished with
        self.generation: dict[str, int] = {}

    def start(self, kind: str, task: QgsTask) -> int:
        previous = self.running.get(kind)
        if previous is not None:
            previous.cancel()
        generation = self.generation.get(kind, 0) + 1
        self.generation[kind] = generation
        self.running[kind] = task
        self.alive.add(task)
        task.taskCompleted.connect(lambda: self._forget(kind, task))
        task.taskTerminated.connect(lambda: self._forget(kind, task))
        QgsApplication.taskManager().addTask(task)
        return generation

    def _forget(self, kind: str, task: QgsTask) -> None:
        self.alive.discard(task)
        if self.running.get(kind) is task:
            del self.running[kind]

    def is_current(self, kind: str, generation: int) -> bool:
        return self.generation.get(kind) == generation

    def cancel_all(self) -> None:
        """Cancel everything; the tasks stay referenced until QGIS says they ended."""
        for task in list(self.alive):
            task.cancel()
        self.running.clear()
