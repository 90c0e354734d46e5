"""The "EST Weekly" Processing provider (id ``est_weekly``).

Registered by the plugin's ``initProcessing`` so that ``qgis_process`` (which never calls
``initGui``) sees it too: ``qgis_process run est_weekly:meetingpdf -- DATABASE=… WEEK=2026-W47``.
"""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..domain.i18n import tr
from ..domain.paths import resource
from .algorithms import ALGORITHMS


class EstProcessingProvider(QgsProcessingProvider):
    def id(self) -> str:  # noqa: A003 - QGIS's name
        return "est_weekly"

    def name(self) -> str:
        return "EST Weekly"

    def longName(self) -> str:  # noqa: N802
        return tr("processing.provider.long_name")

    def icon(self) -> QIcon:
        return QIcon(str(resource("icons", "est_weekly.svg")))

    def loadAlgorithms(self) -> None:  # noqa: N802
        from .import_events import ImportEvents

        for algorithm in (*ALGORITHMS, ImportEvents):
            self.addAlgorithm(algorithm())
