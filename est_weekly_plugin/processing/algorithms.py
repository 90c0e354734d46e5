"""EST Weekly Processing algorithms: density raster, hot-spot grid (Gi*), weekly summary, meeting PDF.

Every algorithm reads the EST store itself (a GeoPackage path or a PostGIS connection saved
in QGIS), selects one ISO week with the same filter the compilation dock uses, and calls the
same core functions as the plugin — so the Graphical Modeler, ``qgis_process`` and the
panels give identical numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterProviderConnection,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..analysis.density import density_grid
from ..analysis.filters import CompilationFilter
from ..analysis.weekly import AnalysisSettings, analyse_week
from ..domain.errors import EstError
from ..domain.i18n import SUPPORTED_LANGUAGES, format_number, language, tr
from ..domain.model import EventColumns
from ..domain.reference import default_categories, default_organisations
from ..domain.settings import project_source
from ..domain.week import IsoWeek
from ..store import EventStore, GeoPackageStore, PgConnectionInfo, PostgisStore

LANGUAGES = list(SUPPORTED_LANGUAGES)
LANGUAGE_NAMES = ["Svenska", "English"]  # each language in its own name (autonyms): not translated
PAPERS = ["A3", "A4"]
PROCESSING_ACTOR = "EST Weekly (Processing)"  # on PostGIS the audit log names the login as well


def last_full_week(today: dt.date | None = None) -> str:
    """The latest complete ISO week: what a Monday meeting looks at."""
    return IsoWeek.last_complete(today).label


def metres(name: str, description: str, default: float | None, minimum: float, *,
           optional: bool = False) -> QgsProcessingParameterNumber:
    """A distance in whole metres: shown as "200", not "200.000000"."""
    parameter = QgsProcessingParameterNumber(name, description, QgsProcessingParameterNumber.Type.Double, default,
                                             optional, minimum)
    parameter.setMetadata({"widget_wrapper": {"decimals": 0}})
    return parameter


class EstAlgorithm(QgsProcessingAlgorithm):
    """Common inputs: where the events are, which week, which categories and organisations."""

    DATABASE = "DATABASE"
    CONNECTION = "CONNECTION"
    WEEK = "WEEK"
    CATEGORIES = "CATEGORIES"
    ORGANISATIONS = "ORGANISATIONS"
    LANGUAGE = "LANGUAGE"

    def group(self) -> str:
        return "EST Weekly"  # the product's name, the same in every language

    def displayName(self) -> str:  # noqa: N802
        return tr(f"processing.{self.name()}.name")

    def shortHelpString(self) -> str:  # noqa: N802
        return tr(f"processing.{self.name()}.help")

    def groupId(self) -> str:  # noqa: N802
        return "est_weekly"

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802
        return type(self)()

    def _add_common(self, weekly: bool = True) -> None:
        """Where the events are (the project's EST database preselected) and the language (QGIS's own);
        for a weekly algorithm also the week and the categories and organisations, picked by name."""
        kind, value = project_source()
        self.addParameter(QgsProcessingParameterFile(
            self.DATABASE, tr("processing.common.database"), extension="gpkg", optional=True,
            defaultValue=value if kind == "gpkg" else None))
        self.addParameter(QgsProcessingParameterProviderConnection(
            self.CONNECTION, tr("processing.common.connection"), "postgres", optional=True,
            defaultValue=value if kind == "postgis" else None))
        if weekly:
            self.addParameter(QgsProcessingParameterString(
                self.WEEK, tr("processing.common.week"), optional=True))
            self._category_codes = [c.code for c in default_categories()]
            self._organisation_codes = [o.code for o in default_organisations()]
            self.addParameter(QgsProcessingParameterEnum(
                self.CATEGORIES, tr("processing.common.categories"),
                options=[c.label() for c in default_categories()], allowMultiple=True, optional=True))
            self.addParameter(QgsProcessingParameterEnum(
                self.ORGANISATIONS, tr("processing.common.organisations"),
                options=[o.name() for o in default_organisations()], allowMultiple=True, optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            self.LANGUAGE, tr("processing.common.language"), options=LANGUAGE_NAMES,
            defaultValue=LANGUAGES.index(language()) if language() in LANGUAGES else 0))

    def _open(self, parameters: dict[str, Any], context: QgsProcessingContext) -> EventStore:
        path = self.parameterAsFile(parameters, self.DATABASE, context)
        connection = self.parameterAsString(parameters, self.CONNECTION, context)
        try:
            if path:
                return GeoPackageStore.open(path)
            if connection:
                return PostgisStore.open(PgConnectionInfo.from_qgis_connection(connection))
        except EstError as error:
            raise QgsProcessingException(error.message()) from error
        raise QgsProcessingException(tr("processing.error.no_store"))

    def _week(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str:
        text = self.parameterAsString(parameters, self.WEEK, context).strip()
        try:
            return IsoWeek.of(text).label if text else last_full_week()
        except ValueError as error:
            raise QgsProcessingException(tr("processing.error.invalid_week", week=text)) from error

    def _filter(self, parameters: dict[str, Any], context: QgsProcessingContext) -> CompilationFilter:
        return CompilationFilter(categories=self._chosen(parameters, self.CATEGORIES, context, self._category_codes),
                                 organisations=self._chosen(parameters, self.ORGANISATIONS, context,
                                                            self._organisation_codes))

    def _chosen(self, parameters: dict[str, Any], name: str, context: QgsProcessingContext,
                codes: list[str]) -> list[str]:
        """The codes picked in a multi-select list; none picked is no restriction (QGIS 3.22 would
        hand back the first option for an empty optional list)."""
        if parameters.get(name) in (None, "", []):
            return []
        return [codes[i] for i in self.parameterAsEnums(parameters, name, context) if 0 <= i < len(codes)]

    def _lang(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str:
        return LANGUAGES[self.parameterAsEnum(parameters, self.LANGUAGE, context)]

    def _week_columns(self, store: EventStore, parameters: dict[str, Any], context: QgsProcessingContext,
                      feedback: QgsProcessingFeedback) -> tuple[str, EventColumns]:
        """The week's events under the filter, from the one weekly analysis (as the dock and the PDF)."""
        weekly = analyse_week(store, self._week(parameters, context), self._filter(parameters, context))
        feedback.pushInfo(tr("processing.common.selected", week=weekly.week, selected=weekly.count, total=weekly.total))
        self._record(store, f"{self.name()} {weekly.week}", weekly.filter, weekly.count)
        return weekly.week, weekly.week_columns

    def _record(self, store: EventStore, what: str, selection: CompilationFilter, rows: int) -> None:
        """Every export is in the audit log: who (the login, or Processing), what, which filter."""
        store.record_export(PROCESSING_ACTOR, what, selection.describe(), rows)


class DensityRaster(EstAlgorithm):
    RADIUS = "RADIUS"
    PIXEL = "PIXEL_SIZE"
    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "densityraster"

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        self._add_common()
        self.addParameter(metres(self.RADIUS, tr("processing.densityraster.radius"), 200.0, 10.0))
        self.addParameter(metres(self.PIXEL, tr("processing.densityraster.pixel_size"), 10.0, 1.0))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("processing.densityraster.output")))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        store = self._open(parameters, context)
        try:
            _week, selected = self._week_columns(store, parameters, context, feedback)
            extent = store.settings.extent
            epsg = store.settings.epsg
        finally:
            store.close()
        radius = self.parameterAsDouble(parameters, self.RADIUS, context)
        pixel = self.parameterAsDouble(parameters, self.PIXEL, context)
        feedback.setProgress(40)
        selected = selected.placed()  # area events never enter the heat map
        grid = density_grid(selected.x, selected.y, pixel_size=pixel, radius=radius,
                            extent=None if len(selected) else (extent.xmin, extent.ymin, extent.xmax, extent.ymax))
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        grid.to_geotiff(output, epsg)
        feedback.setProgress(100)
        return {self.OUTPUT: output}


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
        for name, kind in (("week", QVariant.String), ("rank", QVariant.Int), ("row", QVariant.Int), ("col", QVariant.Int),
                           ("count", QVariant.Double), ("z", QVariant.Double), ("p", QVariant.Double),
                           ("class", QVariant.Int), ("class_key", QVariant.String)):
            fields.append(QgsField(name, kind))
        from qgis.core import QgsCoordinateReferenceSystem

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
        for name, kind in (("week", QVariant.String), ("grouping", QVariant.String), ("code", QVariant.String),
                           ("name", QVariant.String), ("current", QVariant.Int), ("baseline", QVariant.Double),
                           ("change", QVariant.Double), ("relative", QVariant.Double),
                           ("suppressed", QVariant.Bool)):
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


class MeetingPdf(EstAlgorithm):
    PAPER = "PAPER"
    ATLAS = "PRIORITY_PAGES"
    TEMPLATE = "TEMPLATE"
    OUTPUT = "OUTPUT"
    PAGES = "PAGES"

    def name(self) -> str:
        return "meetingpdf"

    def flags(self) -> QgsProcessingAlgorithm.Flags:
        # The charts are drawn by Qt widgets and the layout is exported like QGIS's designer does:
        # both belong in the main thread.
        return super().flags() | QgsProcessingAlgorithm.Flag.FlagNoThreading

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
        from ..report.meeting_report import ReportOptions, generate_report

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


def _algorithms() -> tuple[type[EstAlgorithm], ...]:
    from .pseudonymise import PseudonymiseOldEvents

    return (DensityRaster, HotspotGrid, WeeklySummary, MeetingPdf, PseudonymiseOldEvents)


ALGORITHMS = _algorithms()
