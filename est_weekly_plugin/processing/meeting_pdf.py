"""*Export weekly meeting PDF* (``est_weekly:meetingpdf``): the same meeting report the plugin prints, for the
Modeler and ``qgis_process``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
)

from ..domain.errors import EstError
from ..domain.i18n import tr
from .base import PROCESSING_ACTOR, EstAlgorithm

PAPERS = ["A3", "A4"]


class MeetingPdf(EstAlgorithm):
    PAPER = "PAPER"
    ATLAS = "PRIORITY_PAGES"
    TEMPLATE = "TEMPLATE"
    OUTPUT = "OUTPUT"
    PAGES = "PAGES"

    def name(self) -> str:
        return "meetingpdf"

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        self._add_common()
        self.addParameter(QgsProcessingParameterEnum(
            self.PAPER, tr("processing.meetingpdf.paper"),
            options=[tr("processing.meetingpdf.paper_a3"), tr("processing.meetingpdf.paper_a4")], defaultValue=0))
        self.addParameter(QgsProcessingParameterBoolean(self.ATLAS, tr("processing.meetingpdf.priority_pages"), True))
        self.addParameter(QgsProcessingParameterFile(self.TEMPLATE, tr("processing.meetingpdf.template"),
                                                     extension="qpt", optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, tr("processing.meetingpdf.output"), tr("processing.meetingpdf.file_filter")))
        self.addOutput(QgsProcessingOutputNumber(self.PAGES, tr("processing.meetingpdf.pages")))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        from ..report.data import ReportOptions
        from ..report.export import generate_report

        template = self.parameterAsFile(parameters, self.TEMPLATE, context)
        options = ReportOptions(
            week=self._week(parameters, context), filter=self._filter(parameters, context),
            paper=PAPERS[self.parameterAsEnum(parameters, self.PAPER, context)], lang=self._lang(parameters, context),
            template=Path(template) if template else None,
            atlas=self.parameterAsBool(parameters, self.ATLAS, context),
        )
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)

        def progress(fraction: float, text: str) -> None:
            feedback.setProgressText(text)
            feedback.setProgress(100 * fraction)

        store = self._open(parameters, context)
        try:
            result = generate_report(store, options, Path(output), progress=progress)
            store.record_export(PROCESSING_ACTOR, f"meetingpdf {options.week}", Path(output).name,
                                result.data.event_count)
        except EstError as error:
            raise QgsProcessingException(error.message()) from error
        finally:
            store.close()
        for warning in result.warnings:
            feedback.reportError(warning, False)
        feedback.pushInfo(tr("processing.meetingpdf.info", path=result.path, pages=result.pages,
                             events=result.data.event_count, week=options.week))
        return {self.OUTPUT: str(result.path), self.PAGES: result.pages}
