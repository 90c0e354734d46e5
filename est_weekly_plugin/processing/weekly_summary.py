"""*Weekly summary table* (``est_weekly:weeklysummary``): the week's counts against the baseline, in total and by
category, organisation and district — small counts suppressed for partners by default."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterNumber,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..analysis.weekly import analyse_week
from ..domain.i18n import format_number, tr
from .base import PROCESSING_ACTOR, EstAlgorithm

FIELDS = (("week", QVariant.String), ("grouping", QVariant.String), ("code", QVariant.String),
          ("name", QVariant.String), ("current", QVariant.Int), ("baseline", QVariant.Double),
          ("change", QVariant.Double), ("relative", QVariant.Double), ("suppressed", QVariant.Bool))


class WeeklySummary(EstAlgorithm):
    BASELINE = "BASELINE_WEEKS"
    SUPPRESS = "SUPPRESS_SMALL_COUNTS"
    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "weeklysummary"

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        self._add_common()
        self.addParameter(QgsProcessingParameterNumber(
            self.BASELINE, tr("processing.weeklysummary.baseline_weeks"), QgsProcessingParameterNumber.Type.Integer, 4,
            minValue=1, maxValue=52))
        self.addParameter(QgsProcessingParameterBoolean(
            self.SUPPRESS, tr("processing.weeklysummary.suppress"), defaultValue=True))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, tr("processing.weeklysummary.output"), QgsProcessing.SourceType.TypeVector))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        lang = self._lang(parameters, context)
        store = self._open(parameters, context)
        try:
            categories = {c.code: c.label(lang) for c in store.categories()}
            organisations = {o.code: o.name(lang) for o in store.organisations()}
            weekly = analyse_week(store, self._week(parameters, context), self._filter(parameters, context),
                                  baseline_weeks=self.parameterAsInt(parameters, self.BASELINE, context),
                                  names={"category": categories, "organisation": organisations})
            # a partner-facing table: counts under the database's threshold are not shown
            suppress = store.suppress_below() if self.parameterAsBool(parameters, self.SUPPRESS, context) else 0
            store.record_export(PROCESSING_ACTOR, f"weeklysummary {weekly.week}",
                                weekly.filter.describe(lang, categories=categories, organisations=organisations),
                                weekly.count)
        finally:
            store.close()
        report = weekly.trends
        fields = QgsFields()
        for name, kind in FIELDS:
            fields.append(QgsField(name, kind))
        sink, dest = self.parameterAsSink(parameters, self.OUTPUT, context, fields, QgsWkbTypes.Type.NoGeometry)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        groups = [("total", [report.total]), ("category", report.categories),
                  ("organisation", report.organisations), ("district", report.districts)]
        for grouping, rows in groups:
            for row in rows:
                feature = QgsFeature(fields)
                small = 0 < row.current < suppress or 0 < row.baseline < suppress
                feature.setAttributes([report.week, grouping, row.key, row.name or "",
                                       None if small else int(row.current), None if small else float(row.baseline),
                                       None if small else float(row.change),
                                       None if small or row.relative is None else float(row.relative), small])
                sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
        feedback.pushInfo(tr("processing.weeklysummary.info", week=report.week, count=report.total.current,
                             baseline=format_number(float(report.total.baseline), lang=lang)))
        return {self.OUTPUT: dest}
