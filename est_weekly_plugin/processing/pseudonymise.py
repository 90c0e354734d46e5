"""*Pseudonymise old events*: the retention rule as a Processing algorithm, so it can be scheduled.

e.g. weekly from cron: ``qgis_process run est_weekly:pseudonymise -- DATABASE=/data/est.gpkg``.
Past each category's retention limit (the database's setting, 24 months by default) reporter
identity becomes the organisation alone and free text is removed, in the events and in the audit
log; counts, categories, places and times stay, so the statistics do not change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterString,
)

from ..domain.errors import EstError
from ..domain.i18n import tr
from .base import PROCESSING_ACTOR, EstAlgorithm


class PseudonymiseOldEvents(EstAlgorithm):
    TODAY = "TODAY"
    EVENTS = "EVENTS"

    def name(self) -> str:
        return "pseudonymise"

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        self._add_common(weekly=False)
        self.addParameter(QgsProcessingParameterString(
            self.TODAY, tr("processing.pseudonymise.today"), optional=True))
        self.addOutput(QgsProcessingOutputNumber(self.EVENTS, tr("processing.pseudonymise.events")))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        text = self.parameterAsString(parameters, self.TODAY, context).strip()
        try:
            today = dt.date.fromisoformat(text) if text else dt.date.today()
        except ValueError as error:
            raise QgsProcessingException(tr("processing.pseudonymise.bad_date", date=text)) from error
        store = self._open(parameters, context)
        try:
            limits = store.retention_months()
            done = store.pseudonymise(today=today, actor=PROCESSING_ACTOR)
        except EstError as error:
            raise QgsProcessingException(error.message()) from error
        finally:
            store.close()
        feedback.pushInfo(tr("processing.pseudonymise.info", count=done, months=limits["*"]))
        return {self.EVENTS: done}
