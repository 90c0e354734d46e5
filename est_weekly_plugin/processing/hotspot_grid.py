"""*Hot-spot grid (Getis-Ord Gi*)* (``est_weekly:hotspotgrid``): the week's grid cells with their Gi* z, p and
class, ranked as the dock ranks the hot spots — from the one weekly analysis."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
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

from ..analysis.weekly import AnalysisSettings, analyse_week
from ..domain.i18n import tr
from .base import EstAlgorithm, metres

FIELDS = (("week", QVariant.String), ("rank", QVariant.Int), ("row", QVariant.Int), ("col", QVariant.Int),
          ("count", QVariant.Double), ("z", QVariant.Double), ("p", QVariant.Double),
          ("class", QVariant.Int), ("class_key", QVariant.String))


class HotspotGrid(EstAlgorithm):
    CELL = "CELL_SIZE"
    RINGS = "RINGS"
    SIGNIFICANT = "ONLY_SIGNIFICANT"
    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "hotspotgrid"

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        self._add_common()
        self.addParameter(metres(self.CELL, tr("processing.hotspotgrid.cell_size"), None, 10.0, optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            self.RINGS, tr("processing.hotspotgrid.rings"), QgsProcessingParameterNumber.Type.Integer, 1, minValue=1, maxValue=5))
        self.addParameter(QgsProcessingParameterBoolean(self.SIGNIFICANT, tr("processing.hotspotgrid.only_significant"), True))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, tr("processing.hotspotgrid.output"), QgsProcessing.SourceType.TypeVectorPolygon))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        store = self._open(parameters, context)
        try:
            # the one weekly analysis, with the database's study area (a cell size given here wins)
            settings = AnalysisSettings.of(store)
            if parameters.get(self.CELL) not in (None, ""):
                settings = replace(settings, cell_size=self.parameterAsDouble(parameters, self.CELL, context))
            settings = replace(settings, rings=self.parameterAsInt(parameters, self.RINGS, context))
            weekly = analyse_week(store, self._week(parameters, context), self._filter(parameters, context),
                                  settings=settings)
            self._record(store, f"{self.name()} {weekly.week}", weekly.filter, weekly.count)
            week, selected, epsg = weekly.week, weekly.week_columns, store.settings.epsg
        finally:
            store.close()
        feedback.pushInfo(tr("processing.common.selected", week=week, selected=weekly.count, total=weekly.total))
        result = weekly.result.hotspots
        ranks = {(spot.row, spot.col): spot.rank for spot in weekly.hotspots}
        fields = QgsFields()
        for name, kind in FIELDS:
            fields.append(QgsField(name, kind))
        sink, dest = self.parameterAsSink(parameters, self.OUTPUT, context, fields, QgsWkbTypes.Type.Polygon,
                                          QgsCoordinateReferenceSystem(f"EPSG:{epsg}"))
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        records = result.cells_wkt(self.parameterAsBool(parameters, self.SIGNIFICANT, context)) \
            if len(selected) and result is not None else []
        for index, record in enumerate(records):
            if feedback.isCanceled():
                break
            feature = QgsFeature(fields)
            feature.setGeometry(QgsGeometry.fromWkt(record["wkt"]))
            feature.setAttributes([week, ranks.get((record["row"], record["col"])), record["row"], record["col"],
                                   record["count"], record["z"], record["p"], record["class"], record["class_key"]])
            sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
            feedback.setProgress(100 * (index + 1) / max(len(records), 1))
        return {self.OUTPUT: dest}
