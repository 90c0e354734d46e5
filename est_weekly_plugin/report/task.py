"""The meeting PDF as a QgsTask: a progress bar in QGIS's task manager, the UI stays responsive.

``run()`` (worker thread) does the heavy, thread-safe part — loading the events, the hot-spot
analysis, the heat-map rasters — and touches no widget, project or layer. ``finished()``
(main thread) draws the charts and fills and exports the layout, as QGIS's own layout
designer exports in the main thread. Whoever starts the task keeps a reference to it until
``done``/``failed`` is emitted, so it cannot be garbage-collected mid-run.
"""

from __future__ import annotations

import logging
from pathlib import Path

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from ..domain.errors import EstError
from ..domain.i18n import tr
from ..store.base import EventStore
from .data import ReportData, ReportOptions, compute_report
from .export import generate_report

LOG = logging.getLogger(__name__)


class ReportTask(QgsTask):
    """Export the meeting PDF of ``options.week`` to *out*; emits ``done(path, pages, warnings)``."""

    done = pyqtSignal(str, int, list)
    failed = pyqtSignal(str)

    def __init__(self, store: EventStore, options: ReportOptions, out: Path) -> None:
        super().__init__(tr("report.task", options.lang, week=options.week), QgsTask.Flag.CanCancel)
        self.store = store
        self.options = options
        self.out = Path(out)
        self.data: ReportData | None = None
        self.error: str | None = None

    def _progress(self, fraction: float, _text: str) -> None:
        self.setProgress(min(fraction, 1.0) * 80.0)
        if self.isCanceled():
            raise EstError("cancelled")

    def run(self) -> bool:
        try:
            own = self.store.reopen()  # the worker thread's own connection, never the GUI's
            try:
                self.data = compute_report(own, self.options, progress=self._progress)
            finally:
                own.close()
        except EstError as error:
            self.error = error.message(self.options.lang)
            return False
        except Exception as error:  # noqa: BLE001 - reported to the user instead of killing the task manager
            LOG.exception("meeting report failed")
            self.error = str(error)
            return False
        return True

    def finished(self, result: bool) -> None:  # noqa: FBT001 - QGIS's signature
        if not result or self.data is None:
            self.failed.emit(self.error or tr("report.cancelled", self.options.lang))
            return
        try:
            report = generate_report(self.store, self.options, self.out, data=self.data)
        except EstError as error:
            self.failed.emit(error.message(self.options.lang))
            return
        except Exception as error:  # noqa: BLE001
            LOG.exception("meeting report export failed")
            self.failed.emit(str(error))
            return
        self.done.emit(str(report.path), report.pages, list(report.warnings))
