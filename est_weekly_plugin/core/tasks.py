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
from typing import Any, Callable, Optional

from qgis.core import QgsApplication, QgsTask

from .compilation import Cancelled, CompilationResult, DensitySpec
from .filters import CompilationFilter
from .model import Status
from .weekly import AnalysisSettings, engine_for

LOG = logging.getLogger(__name__)


class FunctionTask(QgsTask):
    """Runs *work(task)* in a worker thread; *done(result, error)* on the main thread."""

    def __init__(self, description: str, work: Callable[[QgsTask], Any],
                 done: Callable[[Any, Optional[BaseException]], None],
                 flags: QgsTask.Flags = QgsTask.Flag.CanCancel) -> None:
        super().__init__(description, flags)
        self._work = work
        self._done = done
        self.result: Any = None
        self.error: Optional[BaseException] = None

    def run(self) -> bool:
        try:
            self.result = self._work(self)
        except Cancelled:
            return False
        except Exception as error:  # noqa: BLE001 - reported in finished() on the main thread
            LOG.exception("%s failed", self.description())
            self.error = error
            return False
        return not self.isCanceled()

    def finished(self, ok: bool) -> None:  # noqa: FBT001 - QgsTask's signature
        if self.isCanceled() and self.error is None:
            return
        self._done(self.result if ok else None, self.error)


def load_engine_task(store: Any, done: Callable[[Any, Optional[BaseException]], None]) -> FunctionTask:
    """Load the approved events as columns and warm the engine's caches — on GeoPackage and on
    PostGIS alike (binary COPY through the compilation view, so the login's row-level rules
    apply), on a connection of the task's own."""

    def work(task: QgsTask) -> Any:
        task.setProgress(5)
        own = store.reopen()  # inside the task: an unreachable database is reported as such
        try:
            columns = own.load_columns(Status.APPROVED)
            settings = AnalysisSettings.of(own)
        finally:
            own.close()
        task.setProgress(70)
        engine = engine_for(columns, settings)
        engine.warm_up()
        task.setProgress(100)
        return engine

    return FunctionTask("EST: load approved events", work, done)


def recompute_task(engine: Any, compilation_filter: CompilationFilter, density: Optional[DensitySpec],
                   done: Callable[[Optional[CompilationResult], Optional[BaseException]], None], *,
                   week: Optional[str] = None, hotspots: bool = True) -> FunctionTask:
    """One filter change: counts, chart data, heat map and Gi* hot-spots."""

    def work(task: QgsTask) -> CompilationResult:
        return engine.compute(compilation_filter, week=week, density=density, hotspots=hotspots,
                              is_cancelled=task.isCanceled)

    return FunctionTask("EST: compile", work, done)


class TaskKeeper:
    """Holds a reference to every task it started until QGIS reports it completed or terminated
    (a task collected by Python mid-run crashes QGIS) — a cancelled task that still runs stays
    referenced — and cancels the previous task of the same kind when a newer one starts."""

    def __init__(self) -> None:
        self.running: dict[str, FunctionTask] = {}  # the current task of each kind
        self.alive: set[FunctionTask] = set()  # every task QGIS has not finished with
        self.generation: dict[str, int] = {}

    def start(self, kind: str, task: FunctionTask) -> int:
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

    def _forget(self, kind: str, task: FunctionTask) -> None:
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
