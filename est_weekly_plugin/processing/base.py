"""What every EST Weekly Processing algorithm shares: the common inputs and how they are read.

Every algorithm reads the EST store itself (a GeoPackage path or a PostGIS connection saved
in QGIS), selects one ISO week with the same filter the compilation dock uses, and calls the
same core functions as the plugin — so the Graphical Modeler, ``qgis_process`` and the
panels give identical numbers. The inputs: the EST database (the project's open database
preselected) or a saved PostGIS connection, the week, the categories and organisations
picked by name, and the language (QGIS's own by default); distances in whole metres.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterProviderConnection,
    QgsProcessingParameterString,
)

from ..analysis.filters import CompilationFilter
from ..analysis.weekly import analyse_week
from ..domain.errors import EstError
from ..domain.i18n import SUPPORTED_LANGUAGES, language, tr
from ..domain.model import EventColumns
from ..domain.reference import default_categories, default_organisations
from ..domain.settings import project_source
from ..domain.week import IsoWeek
from ..store import EventStore, GeoPackageStore, PgConnectionInfo, PostgisStore

LANGUAGES = list(SUPPORTED_LANGUAGES)
LANGUAGE_NAMES = ["Svenska", "English"]  # each language in its own name (autonyms): not translated
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


def database_parameter(name: str) -> QgsProcessingParameterFile:
    """The EST GeoPackage, the project's open one preselected."""
    kind, value = project_source()
    return QgsProcessingParameterFile(name, tr("processing.common.database"), extension="gpkg", optional=True,
                                      defaultValue=value if kind == "gpkg" else None)


def connection_parameter(name: str) -> QgsProcessingParameterProviderConnection:
    """A PostGIS connection saved in QGIS, the project's preselected if its EST database is on PostGIS."""
    kind, value = project_source()
    return QgsProcessingParameterProviderConnection(name, tr("processing.common.connection"), "postgres",
                                                    optional=True, defaultValue=value if kind == "postgis" else None)


def category_parameter(name: str) -> QgsProcessingParameterEnum:
    """Categories picked by name (in the current language); none picked is all."""
    return QgsProcessingParameterEnum(name, tr("processing.common.categories"),
                                      options=[c.label() for c in default_categories()], allowMultiple=True,
                                      optional=True)


def organisation_parameter(name: str) -> QgsProcessingParameterEnum:
    """Organisations picked by name (in the current language); none picked is all."""
    return QgsProcessingParameterEnum(name, tr("processing.common.organisations"),
                                      options=[o.name() for o in default_organisations()], allowMultiple=True,
                                      optional=True)


def language_parameter(name: str) -> QgsProcessingParameterEnum:
    """The output's language, QGIS's own by default."""
    return QgsProcessingParameterEnum(name, tr("processing.common.language"), options=LANGUAGE_NAMES,
                                      defaultValue=LANGUAGES.index(language()) if language() in LANGUAGES else 0)


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
        self.addParameter(database_parameter(self.DATABASE))
        self.addParameter(connection_parameter(self.CONNECTION))
        if weekly:
            self.addParameter(QgsProcessingParameterString(
                self.WEEK, tr("processing.common.week"), optional=True))
            self._category_codes = [c.code for c in default_categories()]
            self._organisation_codes = [o.code for o in default_organisations()]
            self.addParameter(category_parameter(self.CATEGORIES))
            self.addParameter(organisation_parameter(self.ORGANISATIONS))
        self.addParameter(language_parameter(self.LANGUAGE))

    def _open(self, parameters: dict[str, Any], context: QgsProcessingContext) -> EventStore:
        path = self.parameterAsFile(parameters, self.DATABASE, context)
        connection = self.parameterAsString(parameters, self.CONNECTION, context)
        try:
            # a chosen PostGIS connection wins: the file parameter comes prefilled with the open database
            if connection:
                return PostgisStore.open(PgConnectionInfo.from_qgis_connection(connection))
            if path:
                return GeoPackageStore.open(path)
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
