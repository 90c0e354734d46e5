"""The import wizard: a file or project layer → profile and field mapping → location → preview → import.

Each step is a page of a QWizard. Nothing is written before the last page: the preview lists every
problem row and its reason, rows already imported and possible duplicates; the import then runs as a
QgsTask (progress, cancel) on its own store connection and ends with "n new, m already imported,
k problem rows". The mapping is kept as a named profile per source, so next week's file is one click.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from qgis.core import QgsApplication, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QCoreApplication, QElapsedTimer
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ...analysis.tasks import TaskKeeper, function_task
from ...domain.errors import EstError
from ...domain.i18n import tr
from ...domain.model import Precision
from ...maps.import_locator import address_locator
from ...store.importing import ImportPlan, ImportProfile, ImportTask, all_profiles, guess_profile, prepare_import
from ...store.importing.profiles import CRS_AUTO, LOCATION_MODES, builtin_profiles
from ...store.importing.reading import ENCODINGS, FILE_FILTER, SourceTable, layer_names, read_layer, read_source

MAPPED_FIELDS = ("category", "organisation", "date", "time_from", "time_to", "datetime", "place_name",
                 "description", "source_id")
LOCATION_FIELDS = ("x", "y", "latlon", "address")
CRS_CHOICES = (CRS_AUTO, "EPSG:3006", "EPSG:4326", "EPSG:3008", "EPSG:3021")
PREVIEW_ROWS = 20
MAX_VALUES = 200  # distinct category values offered for mapping
PREVIEW_COLUMNS = ("row", "state", "category", "organisation", "date", "time", "place_name", "precision", "problem")


def _combo(items: list[tuple[str, str]], name: str) -> QComboBox:
    """A combo box of (label, data) items."""
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)  # long labels never widen the wizard
    for label, data in items:
        combo.addItem(label, data)
    return combo


def _select(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    combo.setCurrentIndex(max(index, 0))


def _clear_cell_widgets(table: QTableWidget, column: int) -> None:
    """Remove a column's combo boxes now (Qt deletes them later; hidden, they are never drawn stale)."""
    for row in range(table.rowCount()):
        widget = table.cellWidget(row, column)
        if widget is not None:
            widget.hide()
            table.removeCellWidget(row, column)


def _mapping_table(name: str, headers: list[str]) -> QTableWidget:
    """Two columns: a label sized to its text, a combo box taking the rest."""
    table = _table(name, headers)
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    return table


def _table(name: str, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    return table


class SourcePage(QWizardPage):
    """Step 1: a file (CSV, Excel, GeoPackage, GeoJSON, Shapefile, a police or Open311 JSON) or a project layer."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle(tr("import.wizard.source.title"))
        self.setSubTitle(tr("import.wizard.source.subtitle"))
        self.from_file = QRadioButton(tr("import.wizard.source.file"))
        self.from_layer = QRadioButton(tr("import.wizard.source.layer"))
        self.from_file.setChecked(True)
        self.path = QLineEdit()
        self.path.setObjectName("import_path")
        browse = QPushButton(tr("import.wizard.browse"))
        browse.clicked.connect(self._browse)
        self.file_layer = QComboBox()
        self.encoding = _combo([(tr(f"import.encoding.{e}"), e) for e in ENCODINGS], "import_encoding")
        self.project_layer = _combo([(layer.name(), layer.id()) for layer in QgsProject.instance().mapLayers().values()
                                     if isinstance(layer, QgsVectorLayer)], "import_project_layer")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow(self.from_file)
        form.addRow(tr("import.wizard.source.path"), row)
        form.addRow(tr("import.wizard.source.file_layer"), self.file_layer)
        form.addRow(tr("import.wizard.source.encoding"), self.encoding)
        form.addRow(self.from_layer)
        form.addRow(tr("import.wizard.source.project_layer"), self.project_layer)
        form.addRow(self.error)
        self.path.textChanged.connect(self._path_changed)
        self.from_layer.setEnabled(self.project_layer.count() > 0)
        self.read: SourceTable | None = None  # what the reading task found, until the wizard moves on

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("dialog.import_events"), "", f"{tr('import.wizard.files')} "
                                              f"({FILE_FILTER})")
        if path:
            self.path.setText(path)

    def _path_changed(self, text: str) -> None:
        self.file_layer.clear()
        names = layer_names(text) if Path(text).is_file() else []
        self.file_layer.addItems(names)
        self.file_layer.setEnabled(len(names) > 1)
        self.from_file.setChecked(True)

    def validatePage(self) -> bool:  # noqa: N802 - Qt's name
        """Read the source in a task (the mapping shows its columns), then go on; a bad file is said
        here, in the user's words. A million rows take seconds: QGIS stays responsive meanwhile."""
        if self.read is not None:  # the task has read it: on to the mapping
            self.owner.set_table(self.read)
            self.read = None
            return True
        if self.owner.tasks.running:
            return False
        try:
            work = self._reader()
        except EstError as error:
            self.error.setText(error.message())
            return False
        self.error.setText(tr("import.wizard.reading"))
        self.error.setStyleSheet("")
        self.owner.tasks.start("read", function_task(tr("import.wizard.reading"), work, self._read_done))
        return False

    def _reader(self) -> Callable[[Any], SourceTable]:
        """What the task runs: a file read by OGR, or a project layer opened again by its source in
        the worker (a memory layer, which cannot be, is read here and now)."""
        if not self.from_layer.isChecked():
            path, name, encoding = self.path.text().strip(), self.file_layer.currentText() or None, \
                self.encoding.currentData()
            return lambda task: read_source(path, layer=name, encoding=encoding, is_cancelled=task.isCanceled)
        layer = QgsProject.instance().mapLayer(self.project_layer.currentData())
        if not isinstance(layer, QgsVectorLayer):
            raise EstError("import_unreadable", path="?", detail=tr("import.wizard.no_layer"))
        if layer.providerType() == "memory":
            table = read_layer(layer)
            return lambda _task: table
        source, provider, name = layer.source(), layer.providerType(), layer.name()

        def read_copy(task: Any) -> SourceTable:
            table = read_layer(QgsVectorLayer(source, name, provider), is_cancelled=task.isCanceled)
            table.name = name
            return table

        return read_copy

    def _read_done(self, table: SourceTable | None, error: BaseException | None) -> None:
        self.error.setStyleSheet("color: #b00020")
        if error is not None or table is None:
            self.error.setText(error.message() if isinstance(error, EstError) else str(error or ""))
            return
        self.error.clear()
        self.read = table
        self.owner.next()


class MappingPage(QWizardPage):
    """Step 2: a profile, the organisation, source columns → event fields, source values → categories."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle(tr("import.wizard.mapping.title"))
        self.setSubTitle(tr("import.wizard.mapping.subtitle"))
        self.profile = QComboBox()
        self.profile.setObjectName("import_profile")
        self.organisation = QComboBox()
        self.organisation.setObjectName("import_organisation")
        self.fields = _mapping_table("import_fields", [tr("import.wizard.field"), tr("import.wizard.column")])
        self.values = _mapping_table("import_values", [tr("import.wizard.value"), tr("import.wizard.category")])
        self.profile_name = QLineEdit()
        self.profile_name.setObjectName("import_profile_name")
        self.source_code = QLineEdit()
        self.source_code.setObjectName("import_source_code")
        self.save = QPushButton(tr("import.wizard.save_profile"))
        self.save.setObjectName("import_save_profile")
        self.save.clicked.connect(self.save_profile)
        self.saved = QLabel()
        top = QFormLayout()
        top.addRow(tr("import.wizard.profile"), self.profile)
        top.addRow(tr("import.wizard.organisation"), self.organisation)
        tables = QHBoxLayout()
        tables.addWidget(self.fields, 1)
        tables.addWidget(self.values, 1)
        save_row = QHBoxLayout()
        for widget in (QLabel(tr("import.wizard.profile_name")), self.profile_name,
                       QLabel(tr("import.wizard.source_code")), self.source_code, self.save):
            save_row.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(tables, 1)
        layout.addLayout(save_row)
        layout.addWidget(self.saved)
        self.profile.currentIndexChanged.connect(self._profile_chosen)
        self._profiles: list[ImportProfile] = []

    def initializePage(self) -> None:  # noqa: N802
        store, table = self.owner.store, self.owner.table
        self._profiles = all_profiles(store)
        guessed = guess_profile(table.column_names, table.has_geometry)
        self.organisation.clear()
        self.organisation.addItem(tr("import.wizard.organisation_from_column"), "")
        for organisation in store.organisations(active_only=True):
            self.organisation.addItem(organisation.name(), organisation.code)
        self.profile.blockSignals(True)
        self.profile.clear()
        for profile in self._profiles:
            self.profile.addItem(self._label(profile), profile.name)
        self.profile.blockSignals(False)
        _select(self.profile, guessed.name)
        self._show(guessed if guessed.source != "import" else guessed)

    @staticmethod
    def _label(profile: ImportProfile) -> str:
        """A ready-made profile in the user's language; a saved one by the name it was saved under."""
        builtin = {p.name: p.source for p in builtin_profiles()}
        return tr(f"import.profile.builtin.{builtin[profile.name]}") if profile.name in builtin else profile.name

    def _profile_chosen(self) -> None:
        chosen = next((p for p in self._profiles if p.name == self.profile.currentData()), None)
        if chosen is not None:
            table = self.owner.table
            self._show(chosen.with_columns(table.column_names) if chosen.source == "import" else chosen)

    def _show(self, profile: ImportProfile) -> None:
        """Fill the page from *profile* (the wizard keeps it as the current one)."""
        self.owner.profile = profile
        columns = [""] + self.owner.table.column_names
        _clear_cell_widgets(self.fields, 1)
        self.fields.setRowCount(len(MAPPED_FIELDS))
        for row, target in enumerate(MAPPED_FIELDS):
            self.fields.setItem(row, 0, QTableWidgetItem(tr(f"import.field.{target}")))
            combo = _combo([(c or "—", c) for c in columns], f"import_field_{target}")
            _select(combo, profile.column(target))
            combo.currentIndexChanged.connect(self._refresh_values)
            self.fields.setCellWidget(row, 1, combo)
        _select(self.organisation, profile.organisation)
        self.profile_name.setText(profile.name if not profile.builtin or profile.source != "import" else "")
        self.source_code.setText(profile.source)
        self._refresh_values()

    def _column_of(self, target: str) -> str:
        combo = self.fields.cellWidget(MAPPED_FIELDS.index(target), 1)
        return combo.currentData() if combo is not None else ""

    def _refresh_values(self) -> None:
        """The category column's distinct values, each with the category it becomes."""
        column = self._column_of("category")
        values = self.owner.table.columns.get(column, [])
        distinct = sorted({v for v in values if v})[:MAX_VALUES]
        categories = [(tr("import.wizard.unmapped"), "")] + [(c.label(), c.code) for c in
                                                             self.owner.store.categories(active_only=True)]
        known = self.owner.profile.category_values
        lowered = {k.lower(): v for k, v in known.items()}
        codes = {c.code for c in self.owner.store.categories()}
        by_label = {c.label_sv.lower(): c.code for c in self.owner.store.categories()}
        _clear_cell_widgets(self.values, 1)
        self.values.setRowCount(len(distinct))
        for row, value in enumerate(distinct):
            self.values.setItem(row, 0, QTableWidgetItem(value))
            combo = _combo(categories, f"import_value_{row}")
            key = value.lower()
            _select(combo, lowered.get(key) or (key if key in codes else by_label.get(key, "")))
            self.values.setCellWidget(row, 1, combo)

    def current_profile(self) -> ImportProfile:
        """The profile as the page shows it now."""
        profile = ImportProfile.from_json(self.owner.profile.to_json())
        fields: dict[str, Any] = {k: v for k, v in profile.fields.items() if k in LOCATION_FIELDS}
        for target in MAPPED_FIELDS:
            column = self._column_of(target)
            if column:
                fields[target] = [column] if target == "description" else column
        profile.fields = fields
        profile.organisation = self.organisation.currentData() or ""
        values = dict(profile.category_values)
        for row in range(self.values.rowCount()):
            code = self.values.cellWidget(row, 1).currentData()
            if code:
                values[self.values.item(row, 0).text()] = code
        profile.category_values = values
        profile.name = self.profile_name.text().strip() or profile.name
        profile.source = self.source_code.text().strip() or profile.source
        return profile

    def save_profile(self) -> bool:
        profile = self.current_profile()
        try:
            self.owner.store.save_import_profile(profile.name, profile.source, profile.source_name or profile.name,
                                                 {**profile.to_json(), **self.owner.location_json()})
        except EstError as error:
            self.saved.setText(error.message())
            return False
        self.saved.setText(tr("import.wizard.profile_saved", name=profile.name, source=profile.source))
        self.owner.saved_profile = True  # the location page saves its part too
        return True

    def validatePage(self) -> bool:  # noqa: N802
        self.owner.profile = self.current_profile()
        return True


class LocationPage(QWizardPage):
    """Step 3: where each row is — its geometry, x/y in a CRS, a "lat,lng" column, or an address."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle(tr("import.wizard.location.title"))
        self.setSubTitle(tr("import.wizard.location.subtitle"))
        self.mode = _combo([(tr(f"import.location.{m}"), m) for m in LOCATION_MODES], "import_location_mode")
        self.columns = {target: QComboBox() for target in LOCATION_FIELDS}
        self.crs = _combo([(tr("import.wizard.crs_auto") if c == CRS_AUTO else c, c) for c in CRS_CHOICES],
                          "import_crs")
        self.crs.setEditable(True)
        self.precision = _combo([(tr(f"import.precision.{p.value}"), p.value) for p in Precision], "import_precision")
        hint = QLabel(tr("import.wizard.location.hint"))
        hint.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(tr("import.wizard.location.mode"), self.mode)
        for target, combo in self.columns.items():
            combo.setObjectName(f"import_column_{target}")
            form.addRow(tr(f"import.field.{target}"), combo)
        form.addRow(tr("import.wizard.crs"), self.crs)
        form.addRow(tr("import.wizard.precision"), self.precision)
        form.addRow(hint)

    def initializePage(self) -> None:  # noqa: N802
        profile, table = self.owner.profile, self.owner.table
        for target, combo in self.columns.items():
            combo.clear()
            for column in [""] + table.column_names:
                combo.addItem(column or "—", column)
            _select(combo, profile.column(target))
        _select(self.mode, profile.location)
        index = self.crs.findData(profile.crs)
        if index < 0:
            self.crs.addItem(profile.crs, profile.crs)
        _select(self.crs, profile.crs)
        _select(self.precision, profile.precision)

    def validatePage(self) -> bool:  # noqa: N802
        profile = self.owner.profile
        for target, combo in self.columns.items():
            profile.fields[target] = combo.currentData() or ""
        profile.location = self.mode.currentData()
        text = self.crs.currentText().strip()
        profile.crs = self.crs.currentData() if self.crs.currentText() == self.crs.itemText(self.crs.currentIndex()) \
            and self.crs.currentData() else (text or CRS_AUTO)
        profile.precision = self.precision.currentData()
        if self.owner.saved_profile:  # the profile was saved on the previous page: keep its location as well
            try:
                self.owner.store.save_import_profile(profile.name, profile.source, profile.source_name or profile.name,
                                                     profile.to_json())
            except EstError:
                pass  # the mapping page already said why it could not be saved
        return True


class PreviewPage(QWizardPage):
    """Step 4: the first rows after mapping, and every problem row with its reason — nothing written yet."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle(tr("import.wizard.preview.title"))
        self.setSubTitle(tr("import.wizard.preview.subtitle"))
        self.counts = QLabel()
        self.counts.setObjectName("import_counts")
        self.counts.setWordWrap(True)
        self.rows = _table("import_preview", [tr(f"import.preview.{c}") for c in PREVIEW_COLUMNS])
        self.problems = _table("import_problems", [tr("import.preview.row"), tr("import.preview.problem")])
        layout = QVBoxLayout(self)
        layout.addWidget(self.counts)
        layout.addWidget(self.rows, 3)
        layout.addWidget(QLabel(tr("import.wizard.preview.problems")))
        layout.addWidget(self.problems, 2)

    def initializePage(self) -> None:  # noqa: N802
        """Plan the import in a task on a connection of its own (parse, place, check every row, look
        for what is already stored and for near-duplicates); the page fills in when it is done."""
        owner = self.owner
        owner.plan = None
        self.rows.setRowCount(0)
        self.problems.setRowCount(0)
        self.counts.setText(tr("import.wizard.planning"))
        reopen, table, profile, locator = owner.store.reopen, owner.table, owner.profile, owner.locator

        def work(_task: Any) -> ImportPlan:
            own = reopen()
            try:
                return prepare_import(own, table, profile, locator=locator)
            finally:
                own.close()

        owner.tasks.start("plan", function_task(tr("import.wizard.planning"), work, self._planned))
        self.completeChanged.emit()

    def _planned(self, plan: ImportPlan | None, error: BaseException | None) -> None:
        if error is not None or plan is None:
            self.counts.setText(error.message() if isinstance(error, EstError) else str(error or ""))
            return
        self.owner.plan = plan
        self._fill(plan)
        self.completeChanged.emit()

    def _fill(self, plan: ImportPlan) -> None:
        counts = plan.counts()
        self.counts.setText(tr("import.wizard.preview.counts", total=counts["total"], new=counts["new"],
                               already=counts["already"], problems=counts["problems"], near=counts["near"]))
        preview = plan.preview(PREVIEW_ROWS)
        store = self.owner.store
        labels = {c.code: c.label() for c in store.categories()}  # organisations by code: their names are long
        self.rows.setRowCount(len(preview))
        for row, values in enumerate(preview):
            for column, key in enumerate(PREVIEW_COLUMNS):
                text = tr(f"import.state.{values[key]}") if key == "state" else (
                    tr(f"import.precision.{values[key]}") if key == "precision" else str(labels.get(values[key], values[key])))
                self.rows.setItem(row, column, QTableWidgetItem(text))
        problems = plan.problems()
        self.problems.setRowCount(len(problems))
        for row, problem in enumerate(problems):
            self.problems.setItem(row, 0, QTableWidgetItem(str(problem.row)))
            self.problems.setItem(row, 1, QTableWidgetItem(problem.text()))
        self.rows.resizeColumnsToContents()

    def isComplete(self) -> bool:  # noqa: N802
        return self.owner.plan is not None


class RunPage(QWizardPage):
    """Step 5: the import as a QGIS task (progress, cancel), then what it did."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle(tr("import.wizard.run.title"))
        self.progress = QProgressBar()
        self.progress.setObjectName("import_progress")
        self.cancel = QPushButton(tr("import.wizard.cancel_import"))
        self.cancel.setObjectName("import_cancel")
        self.result = QLabel()
        self.result.setObjectName("import_result")
        self.result.setWordWrap(True)
        layout = QVBoxLayout(self)
        for widget in (self.progress, self.cancel, self.result):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.cancel.clicked.connect(lambda: self.owner.task is not None and self.owner.task.cancel())
        self.done = False

    def initializePage(self) -> None:  # noqa: N802
        self.done = False
        self.result.clear()
        self.owner.start_task(self)

    def finished(self, ok: bool) -> None:
        task = self.owner.task
        self.done = True
        self.cancel.setEnabled(False)
        if ok and task is not None and task.summary is not None:
            self.progress.setValue(100)
            self.result.setText(task.summary.message())
        else:
            self.result.setText(task.error.message() if task is not None and task.error else tr("error.cancelled"))
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return self.done


class ImportWizard(QWizard):
    """File or layer → mapping → location → preview → import (see the module docstring)."""

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EstImportWizard")
        self.setWindowTitle(tr("dialog.import_events"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.session = session
        self.store = session.store
        self.table: SourceTable | None = None
        self.profile: ImportProfile | None = None
        self.plan: ImportPlan | None = None
        self.task: ImportTask | None = None
        self.tasks = TaskKeeper()  # reading the source and planning the import
        self.saved_profile = False
        self.locator = address_locator(session.settings, self.store.settings.epsg)
        self.source_page, self.mapping_page = SourcePage(self), MappingPage(self)
        self.location_page, self.preview_page, self.run_page = LocationPage(self), PreviewPage(self), RunPage(self)
        for page in (self.source_page, self.mapping_page, self.location_page, self.preview_page, self.run_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.CommitButton, tr("import.wizard.import"))
        self.preview_page.setCommitPage(True)
        self.resize(760, 560)

    def set_table(self, table: SourceTable) -> None:
        self.table = table

    def wait_until_idle(self, timeout_ms: int = 120_000) -> bool:
        """Process events until the wizard's reading, planning or import task is done (tests, scripts)."""
        clock = QElapsedTimer()
        clock.start()
        while (self.tasks.running or (self.task is not None and not self.run_page.done)) \
                and clock.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
        return not self.tasks.running

    def location_json(self) -> dict[str, Any]:
        """The location part of the profile as the wizard knows it (saved with the mapping)."""
        profile = self.profile
        if profile is None:
            return {}
        return {"location": profile.location, "crs": profile.crs, "precision": profile.precision}

    def start_task(self, page: RunPage) -> None:
        """Run the import in QGIS's task manager on a connection of its own."""
        store = self.store
        self.task = ImportTask(tr("task.import", file=self.table.name if self.table else ""), store.reopen,
                               plan=self.plan)
        self.task.progressChanged.connect(lambda value: page.progress.setValue(int(value)))
        self.task.taskCompleted.connect(lambda: self._finished(page, True))
        self.task.taskTerminated.connect(lambda: self._finished(page, False))
        QgsApplication.taskManager().addTask(self.task)

    def _finished(self, page: RunPage, ok: bool) -> None:
        page.finished(ok)
        if ok:
            self.session.events_changed.emit()
