"""*Import events*: a file (police events, Open311, a spreadsheet, any vector file) or a layer into the
EST database, with a saved or ready-made profile — the wizard's import for models and ``qgis_process``:

``qgis_process run est_weekly:importevents -- DATABASE=/data/est.gpkg INPUT=polisen.json PROFILE=police``

Problem rows are listed in the log, rows already imported are skipped (source + source id), and the
rest is written in one transaction; cancelling writes nothing.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
)

from ..domain.errors import EstError
from ..domain.i18n import tr
from ..domain.settings import EstSettings
from ..maps.import_locator import address_locator
from ..store.importing import ImportProfile, all_profiles, guess_profile, prepare_import, read_layer, read_source
from ..store.importing.engine import write_import
from ..store.importing.reading import ENCODINGS
from .base import EstAlgorithm


class ImportEvents(EstAlgorithm):
    INPUT = "INPUT"
    LAYER = "LAYER"
    PROFILE = "PROFILE"
    ORGANISATION = "ORGANISATION"
    ENCODING = "ENCODING"
    DRY_RUN = "DRY_RUN"
    NEW, ALREADY, PROBLEMS, NEAR = "NEW", "ALREADY", "PROBLEMS", "NEAR"

    def name(self) -> str:
        return "importevents"

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        self._add_common(weekly=False)
        self.addParameter(QgsProcessingParameterFile(self.INPUT, tr("processing.importevents.input"), optional=True))
        self.addParameter(QgsProcessingParameterVectorLayer(self.LAYER, tr("processing.importevents.layer"),
                                                            optional=True))
        self.addParameter(QgsProcessingParameterString(self.PROFILE, tr("processing.importevents.profile"),
                                                       optional=True))
        self.addParameter(QgsProcessingParameterString(self.ORGANISATION, tr("processing.importevents.organisation"),
                                                       optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.ENCODING, tr("processing.importevents.encoding"),
                                                     options=list(ENCODINGS), defaultValue=0))
        self.addParameter(QgsProcessingParameterBoolean(self.DRY_RUN, tr("processing.importevents.dry_run"), False))
        for output in (self.NEW, self.ALREADY, self.PROBLEMS, self.NEAR):
            self.addOutput(QgsProcessingOutputNumber(output, tr(f"processing.importevents.{output.lower()}")))

    def _profile(self, store: Any, name: str, table: Any) -> ImportProfile:
        """A saved profile or a ready-made one by name or source code; else guessed from the columns."""
        if not name:
            return guess_profile(table.column_names, table.has_geometry)
        for profile in all_profiles(store):
            if name in (profile.name, profile.source):
                return profile.with_columns(table.column_names) if profile.source == "import" else profile
        raise QgsProcessingException(tr("processing.importevents.no_profile", name=name))

    def _table(self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Any:
        path = self.parameterAsFile(parameters, self.INPUT, context)
        layer = self.parameterAsVectorLayer(parameters, self.LAYER, context)
        encoding = ENCODINGS[self.parameterAsEnum(parameters, self.ENCODING, context)]
        if path:
            return read_source(path, encoding=encoding, is_cancelled=feedback.isCanceled)
        if layer is not None:
            return read_layer(layer, is_cancelled=feedback.isCanceled)
        raise QgsProcessingException(tr("processing.importevents.no_input"))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        store = self._open(parameters, context)
        try:
            table = self._table(parameters, context, feedback)
            feedback.setProgress(30)
            profile = self._profile(store, self.parameterAsString(parameters, self.PROFILE, context).strip(), table)
            organisation = self.parameterAsString(parameters, self.ORGANISATION, context).strip()
            if organisation:
                profile.organisation = organisation
            plan = prepare_import(store, table, profile, locator=address_locator(EstSettings.load(), store.settings.epsg,
                                                                                  context.project()))
            for problem in plan.problems():
                feedback.reportError(tr("processing.importevents.problem", row=problem.row, reason=problem.text()))
            counts = plan.counts()
            if not self.parameterAsBool(parameters, self.DRY_RUN, context):
                write_import(store, plan, progress=lambda f: feedback.setProgress(40 + 60 * f) or not feedback.isCanceled())
        except EstError as error:
            raise QgsProcessingException(error.message()) from error
        finally:
            store.close()
        feedback.pushInfo(tr("import.summary", new=counts["new"], already=counts["already"],
                             problems=counts["problems"], near=counts["near"]))
        return {self.NEW: counts["new"], self.ALREADY: counts["already"], self.PROBLEMS: counts["problems"],
                self.NEAR: counts["near"]}
