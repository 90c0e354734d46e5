"""An import as a QGIS task: progress in QGIS's task bar, a cancel that leaves nothing written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from qgis.core import QgsTask

from ...domain.errors import EstError
from .engine import ImportPlan, ImportSummary, prepare_import, write_import
from .mapping import Locator
from .profiles import ImportProfile
from .reading import SourceTable, read_source

# Reading and mapping take this share of the bar; the all-or-nothing write the rest.
_READ_SHARE, _PLAN_SHARE = 35.0, 45.0


class ImportTask(QgsTask):
    """Read (unless given a table), plan and write in a worker thread, on the task's own store connection.

    ``run()`` touches no widgets, layers or project; the caller reads ``summary``/``error`` when the
    task manager reports completion. Cancelling rolls the transaction back: nothing is written.
    """

    def __init__(self, description: str, open_store: Callable[[], Any], *, path: str | None = None,
                 table: SourceTable | None = None, profile: ImportProfile | None = None, encoding: str = "auto",
                 layer: str | None = None, locator: Locator | None = None, today: dt.date | None = None,
                 plan: ImportPlan | None = None) -> None:
        """*plan*: a plan made on the main thread (the wizard's preview, its address matches included) is
        written as it is; otherwise the task reads and plans itself."""
        super().__init__(description, QgsTask.Flag.CanCancel)
        self.open_store, self.path, self.table, self.profile = open_store, path, table, profile
        self.encoding, self.layer, self.locator, self.today = encoding, layer, locator, today
        self.plan: ImportPlan | None = plan
        self.summary: ImportSummary | None = None
        self.error: EstError | None = None

    def _write_progress(self, fraction: float) -> bool:
        self.setProgress(_PLAN_SHARE + (100.0 - _PLAN_SHARE) * fraction)
        return not self.isCanceled()

    def run(self) -> bool:
        store = None
        try:
            store = self.open_store()  # inside: an unreachable database is reported as such
            if self.plan is None:
                table = self.table
                if table is None:
                    table = read_source(self.path, layer=self.layer, encoding=self.encoding,
                                        is_cancelled=self.isCanceled)
                self.setProgress(_READ_SHARE)
                self.plan = prepare_import(store, table, self.profile, locator=self.locator, today=self.today)
            if self.isCanceled():
                raise EstError("cancelled")
            self.setProgress(_PLAN_SHARE)
            self.summary = write_import(store, self.plan, progress=self._write_progress, today=self.today)
            return True
        except EstError as error:
            self.error = error
            return False
        finally:
            if store is not None:
                store.close()
