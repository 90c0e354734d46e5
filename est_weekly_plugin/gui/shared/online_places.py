"""Place search online (QGIS's Nominatim geocoder) beside the local one, without freezing the form.

Why a task and a pause: a geocoder answers over the network (hundreds of milliseconds, or never
when offline) and Nominatim asks for at most one request a second. So the form asks only when
typing has paused and runs the request in a QgsTask; an answer for text the user has since changed
is dropped.
"""

from __future__ import annotations

from typing import Any, Optional

from qgis.core import QgsApplication, QgsTask
from qgis.PyQt.QtCore import QObject, QTimer, pyqtSignal

from ...analysis.tasks import function_task
from ...maps.places import geocode

PAUSE_MS = 700
MIN_CHARS = 4


class OnlinePlaceSearch(QObject):
    """Emits ``found(text, matches)`` for the latest text typed, from *geocoder* in the background."""

    found = pyqtSignal(str, list)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.geocoder: Any = None  # None: online search is off
        self._pending: tuple[str, int, Any] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start)
        self._tasks: set[QgsTask] = set()  # referenced until QGIS is done with them

    def search(self, text: str, epsg: int, extent: Any) -> None:
        self._pending = None
        self._timer.stop()
        if self.geocoder is None or len(text.strip()) < MIN_CHARS:
            return
        self._pending = (text, epsg, extent)
        self._timer.start(PAUSE_MS)

    def _start(self) -> None:
        if self._pending is None:
            return
        text, epsg, extent = self._pending
        geocoder = self.geocoder

        def done(matches: Any, _error: Optional[BaseException]) -> None:
            if self._pending is not None and self._pending[0] == text:  # still what the user asks for
                self.found.emit(text, list(matches or []))

        task = function_task("EST: search places online", lambda t: geocode(geocoder, text, epsg, extent), done)
        self._tasks.add(task)
        task.taskCompleted.connect(lambda: self._tasks.discard(task))
        task.taskTerminated.connect(lambda: self._tasks.discard(task))
        QgsApplication.taskManager().addTask(task)

    def busy(self) -> bool:
        return bool(self._tasks) or self._timer.isActive()
