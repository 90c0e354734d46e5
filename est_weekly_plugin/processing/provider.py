"""The "EST Weekly" Processing provider (id ``est_weekly``).

Registered by the plugin's ``initProcessing`` so that ``qgis_process`` (which never calls
``initGui``) sees it too: ``qgis_process run est_weekly:meetingpdf -- DATABASE=… WEEK=2026-W47``.
"""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..domain.i18n import tr
from ..domain.paths import resource
from .base import EstAlgorithm
from .density_raster import DensityRaster
from .hotspot_grid import HotspotGrid
from .import_events import ImportEvents
from .meeting_pdf import MeetingPdf
from .pseudonymise import PseudonymiseOldEvents
from .weekly_summary import WeeklySummary

# One algorithm per module; a new one is imported above and added here (its id and name come from the class).
ALGORITHMS: tuple[type[EstAlgorithm], ...] = (
    DensityRaster,
    HotspotGrid,
    WeeklySummary,
    MeetingPdf,
    PseudonymiseOldEvents,
    ImportEvents,
)


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
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())
