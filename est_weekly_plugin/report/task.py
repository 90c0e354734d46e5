"""The meeting PDF and the layout designer's copy as QgsTasks: QGIS stays responsive meanwhile.

Everything the PDF needs is made inside ``run()`` (the worker thread): the worker's own database
connection, the numbers, the headless charts, a ``QgsProject`` of its own with its layers, the
layout and the export — nothing of the user's project or of the GUI thread is touched (QGIS's rule
for tasks). ``finished()`` only reports. One export runs at a time (the meeting panel sees to it):
QGIS's OGR provider can deadlock when two threads open the same GeoPackage at once.

The designer's copy must join the user's project, which lives on the GUI thread: its task computes
the numbers and draws the charts in the worker, and the panel then builds the layout in short
steps (``export.designer_stages``), one per turn of the event loop.
"""

from __future__ import annotations

import logging
from pathlib import Path

from qgis.core import QgsProject, QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from ..domain.errors import EstError
from ..domain.i18n import tr
from ..store.base import EventStore
from .data import ReportData, ReportOptions, compute_report
from .export import export_pdf
from .fill import build_layout

LOG = logging.getLogger(__name__)


class _ReportWork(QgsTask):
    """The shared part: the week's numbers on the worker's own connection, with progress and cancel."""

    failed = pyqtSignal(str)

    def __init__(self, description: str, store: EventStore, options: ReportOptions) -> None:
        super().__init__(description, QgsTask.Flag.CanCancel)
        self.store = store
        self.options = options
        self.data: ReportData | None = None
        self.error: str | None = None

    def _progress(self, fraction: float, _text: str) -> None:
        self.setProgress(min(fraction, 1.0) * 70.0)
        self._check_cancel()

    def _check_cancel(self) -> None:
        if self.isCanceled():
            raise EstError("cancelled")

    def run(self) -> bool:
        try:
            own = self.store.reopen()  # the worker thread's own connection, never the GUI's
            try:
                self.data = compute_report(own, self.options, progress=self._progress)
                self._check_cancel()
                self.work(own)
            finally:
                own.close()
        except EstError as error:
            self.error = tr("report.cancelled", self.options.lang) if error.code == "cancelled" \
                else error.message(self.options.lang)
            return False
        except Exception as error:  # noqa: BLE001 - reported to the user instead of killing the task manager
            LOG.exception("meeting report failed")
            self.error = str(error)
            return False
        return True

    def work(self, store: EventStore) -> None:
        """What follows the numbers, still in the worker thread (*store*: its own connection)."""


class ReportTask(_ReportWork):
    """Export the meeting PDF of ``options.week`` to *out*; emits ``done(path, pages, warnings)``."""

    done = pyqtSignal(str, int, list)

    def __init__(self, store: EventStore, options: ReportOptions, out: Path, actor: str | None = None) -> None:
        super().__init__(tr("report.task", options.lang, week=options.week), store, options)
        self.out = Path(out)
        self.actor = actor  # given: the export goes into the audit log, from the worker too
        self.pages = 0
        self.warnings: list[str] = []

    def work(self, store: EventStore) -> None:
        assert self.data is not None
        self.setProgress(75)
        project = QgsProject()  # the worker's own, never the user's
        layout, warnings, _layers = build_layout(self.data, project)
        self._check_cancel()
        self.setProgress(85)
        self.pages, more = export_pdf(layout, self.out)
        self.warnings = warnings + more
        del layout
        project.clear()
        if self.actor is not None:  # who exported which week: the audit log (a commit the GUI need not wait for)
            try:
                store.record_export(self.actor, self.out.name, f"meeting {self.options.week}", self.pages)
            except EstError as refused:
                self.warnings.append(refused.message(self.options.lang))

    def finished(self, result: bool) -> None:  # noqa: FBT001 - QGIS's signature
        if result:
            self.done.emit(str(self.out), self.pages, list(self.warnings))
        else:
            self.failed.emit(self.error or tr("report.cancelled", self.options.lang))


class DesignerDataTask(_ReportWork):
    """The numbers and charts of the designer's copy; emits ``ready(data)`` for the GUI thread to build
    the layout from (charts drawn at the template's sizes, so the GUI thread never draws one)."""

    ready = pyqtSignal(object)

    def __init__(self, store: EventStore, options: ReportOptions) -> None:
        super().__init__(tr("report.designer_task", options.lang, week=options.week), store, options)

    def work(self, store: EventStore) -> None:
        assert self.data is not None
        project = QgsProject()  # a scratch layout in the worker sizes and draws the charts
        build_layout(self.data, project)
        project.clear()

    def finished(self, result: bool) -> None:  # noqa: FBT001 - QGIS's signature
        if result and self.data is not None:
            self.ready.emit(self.data)
        else:
            self.failed.emit(self.error or tr("report.cancelled", self.options.lang))
