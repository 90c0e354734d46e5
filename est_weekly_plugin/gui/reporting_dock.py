"""Step 1 of the weekly report: any partner's reporter files an event, and follows it in "My reports".

Written for people without GIS training: one column of plain fields, each problem explained
right under its field, Submit enabled only when the store would accept the report, and a lost
connection never loses what was typed.
"""

from __future__ import annotations

from typing import Any

from qgis.core import Qgis
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QCloseEvent, QHideEvent
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import DatabaseUnavailable, EstError, ValidationError
from ..core.i18n import tr
from ..core.model import Event, Status
from ..core.places import configured_layer
from .session import EstSession
from .widgets import ERROR_STYLE, HINT_STYLE, EventForm

MY_REPORTS_LIMIT = 50
SUCCESS_STYLE = "color: #1b5e20;"


def status_text(event: Event) -> str:
    """What "My reports" says about a report: its status and, when rejected, the reviewer's reason."""
    status = tr(f"status.{event.status.value}")
    if event.status == Status.REJECTED:
        if event.duplicate_of:
            return tr("reporting.status.duplicate", status=status)
        if event.review_reason:
            return tr("reporting.status.with_reason", status=status, reason=event.review_reason)
    return status


def message_page(name: str) -> tuple[QWidget, QLabel]:
    """A page with one centred, wrapped explanation (no database, role not allowed, …)."""
    page = QWidget()
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setMargin(16)
    layout = QVBoxLayout(page)
    layout.addStretch(1)
    layout.addWidget(label)
    layout.addStretch(2)
    return page, label


class ReportingDock(QgsDockWidget):
    """The reporting form and the reporter's own reports, following the session's store and role."""

    def __init__(self, iface: Any, session: EstSession, parent: QWidget | None = None) -> None:
        super().__init__(tr("reporting.title"), parent)
        self.setObjectName("EstWeeklyReportingDock")
        self.iface = iface
        self.session = session
        self.canvas = iface.mapCanvas()
        self._editing: Event | None = None

        self.stack = QStackedWidget()
        self.message_page, self.page_message = message_page("page_message")
        self.stack.addWidget(self.message_page)

        self.role_label = QLabel()
        self.role_label.setObjectName("role_note")
        self.role_label.setWordWrap(True)
        self.role_label.setStyleSheet(HINT_STYLE)
        self.edit_banner = QLabel()
        self.edit_banner.setObjectName("edit_banner")
        self.edit_banner.setWordWrap(True)
        self.edit_banner.setStyleSheet("background: #fff4ce; padding: 4px;")
        self.edit_banner.hide()
        self.form = EventForm(self.canvas, place_source=self._place_source)
        self.form.changed.connect(self._update_buttons)
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.hide()
        self.submit_button = QPushButton(tr("reporting.submit"))
        self.submit_button.setObjectName("submit")
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self.submit)
        self.clear_button = QPushButton(tr("reporting.clear"))
        self.clear_button.setObjectName("clear")
        self.clear_button.clicked.connect(self.clear_form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        buttons.addWidget(self.submit_button)

        self.my_reports = QTableWidget(0, 3)
        self.my_reports.setObjectName("my_reports")
        self.my_reports.setHorizontalHeaderLabels(
            [tr("reporting.column.date"), tr("reporting.column.category"), tr("reporting.column.status")])
        self.my_reports.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.my_reports.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.my_reports.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.my_reports.verticalHeader().hide()
        self.my_reports.setWordWrap(True)
        self.my_reports.setMinimumHeight(120)
        self.my_reports.setMaximumHeight(240)
        header = self.my_reports.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.my_reports.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.my_reports.itemSelectionChanged.connect(self._update_buttons)
        self.my_reports.itemDoubleClicked.connect(lambda _item: self.edit_selected())
        self.edit_button = QPushButton(tr("reporting.edit"))
        self.edit_button.setObjectName("edit")
        self.edit_button.clicked.connect(self.edit_selected)
        self.withdraw_button = QPushButton(tr("reporting.withdraw"))
        self.withdraw_button.setObjectName("withdraw")
        self.withdraw_button.clicked.connect(self.withdraw_selected)
        self.my_hint = QLabel(tr("reporting.my_reports.hint"))
        self.my_hint.setWordWrap(True)
        self.my_hint.setStyleSheet(HINT_STYLE)
        own_buttons = QHBoxLayout()
        own_buttons.addWidget(self.edit_button)
        own_buttons.addWidget(self.withdraw_button)
        own_buttons.addStretch(1)
        own_group = QGroupBox(tr("reporting.my_reports"))
        own_layout = QVBoxLayout(own_group)
        own_layout.addWidget(self.my_reports)
        own_layout.addLayout(own_buttons)
        own_layout.addWidget(self.my_hint)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.role_label)
        layout.addWidget(self.edit_banner)
        layout.addWidget(self.form)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addSpacing(6)
        layout.addWidget(own_group)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        self.form_page = scroll
        self.stack.addWidget(self.form_page)
        self.setWidget(self.stack)

        session.store_changed.connect(self.refresh_store)
        session.events_changed.connect(self.refresh_my_reports)
        self.refresh_store()

    # ------------------------------------------------------------------ store and role
    def _place_source(self) -> tuple[Any, str]:
        settings = self.session.settings
        layer = configured_layer(settings.place_layer_id, settings.place_field)
        return (layer, settings.place_field) if layer is not None else (None, "")

    def refresh_store(self) -> None:
        """Follow the session: no database, a role without reporting, or the form for this store."""
        self._editing = None
        store = self.session.store
        if store is None:
            self._show_page(tr("reporting.no_store"))
            return
        if not self.session.may("report"):
            self._show_page(tr("reporting.not_allowed", role=tr(f"role.{self.session.role.value}")))
            return
        try:
            self.form.set_reference(store.categories(active_only=True), store.organisations(active_only=True),
                                    store.validation_context(), store.settings.epsg)
        except EstError as error:
            self._show_page(error.message())
            return
        self.form.clear(keep_organisation=False, keep_date=False)
        if self.session.settings.organisation:
            self.form.organisation.set_code(self.session.settings.organisation)
            self.form.validate()
        self.role_label.setText(self.session.role_note())
        self.edit_banner.hide()
        self.submit_button.setText(tr("reporting.submit"))
        self.clear_button.setText(tr("reporting.clear"))
        self._set_status("")
        self.stack.setCurrentWidget(self.form_page)
        self.refresh_my_reports()

    def _show_page(self, text: str) -> None:
        self.form.pick_button.setChecked(False)
        self.form.marker.hide()
        self.page_message.setText(text)
        self.stack.setCurrentWidget(self.message_page)

    # ------------------------------------------------------------------ submitting
    def _update_buttons(self) -> None:
        self.submit_button.setEnabled(self.session.store is not None and self.form.valid)
        selected = self.selected_report()
        editable = selected is not None and selected.status == Status.SUBMITTED
        self.edit_button.setEnabled(editable)
        self.withdraw_button.setEnabled(editable)

    def _set_status(self, text: str, style: str = ERROR_STYLE) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)
        self.status.setVisible(bool(text))

    def _push(self, text: str, level: int) -> None:
        bar = self.iface.messageBar() if self.iface is not None else None
        if bar is not None:
            bar.pushMessage(tr("plugin.name"), text, level, 6)

    def submit(self) -> Event | None:
        """Send the report (or the edit); on any failure the form keeps everything typed."""
        store = self.session.store
        if store is None or not self.session.may("report"):
            return None
        if not self.form.valid:
            self.form.touch_all()
            self._update_buttons()
            return None
        try:
            user = self.session.user  # on PostGIS this asks the (possibly lost) login
            if self._editing is not None:
                saved = store.update_event(self._editing.uuid, self._editing.version, user, as_reporter=True,
                                           **self.form.changes())
            else:
                saved = store.submit(self.form.to_event(reporter=user), actor=user)
        except ValidationError as error:
            self.form.show_problems(error.problems)
            self._set_status(error.message())
            return None
        except DatabaseUnavailable as error:
            text = tr("reporting.kept_in_form", reason=error.message())
            self._set_status(text)
            self._push(text, Qgis.Warning)
            return None
        except EstError as error:
            self._set_status(error.message())
            self._push(error.message(), Qgis.Warning)
            return None
        was_edit = self._editing is not None
        self.session.settings.organisation = saved.organisation
        self.session.settings.save()
        self._finish_editing()
        self.form.clear(keep_organisation=True, keep_date=True)
        text = tr("reporting.updated" if was_edit else "reporting.submitted",
                  category=self._category_label(saved.category), date=saved.event_date.isoformat())
        self._set_status(text, SUCCESS_STYLE)
        self._push(text, Qgis.Success)
        self.refresh_my_reports()
        self.session.events_changed.emit()
        return saved

    def clear_form(self) -> None:
        """Start over (or leave an edit) — organisation and date stay for the next report."""
        self._finish_editing()
        self.form.clear(keep_organisation=True, keep_date=True)
        self._set_status("")
        self._update_buttons()

    def _category_label(self, code: str) -> str:
        index = self.form.category.findData(code)
        return self.form.category.itemText(index) if index >= 0 else code

    # ------------------------------------------------------------------ my reports
    def refresh_my_reports(self) -> None:
        """The reporter's latest reports with their status, newest first."""
        store = self.session.store
        self.my_reports.setRowCount(0)
        if store is None or not self.session.may("view_own"):
            self._update_buttons()
            return
        try:
            events = store.events(reporter=self.session.user, oldest_first=False, limit=MY_REPORTS_LIMIT)
        except EstError as error:
            self._set_status(error.message())
            self._update_buttons()
            return
        for row, event in enumerate(events):
            self.my_reports.insertRow(row)
            values = (event.event_date.isoformat(), self._category_label(event.category), status_text(event))
            place = event.place_name or f"{event.x:.0f}, {event.y:.0f}"
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(f"{place}\n{event.description}\n{status_text(event)}".strip())
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, event)
                self.my_reports.setItem(row, column, item)
            self.my_reports.item(row, 1).setIcon(self.form.category.itemIcon(
                max(self.form.category.findData(event.category), 0)))
        self._update_buttons()

    def selected_report(self) -> Event | None:
        rows = self.my_reports.selectionModel().selectedRows() if self.my_reports.selectionModel() else []
        if not rows:
            return None
        return self.my_reports.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)

    def select_report(self, uuid: str) -> bool:
        for row in range(self.my_reports.rowCount()):
            if self.my_reports.item(row, 0).data(Qt.ItemDataRole.UserRole).uuid == uuid:
                self.my_reports.selectRow(row)
                return True
        return False

    def edit_selected(self) -> None:
        """Load the selected own report into the form, if it is still waiting for review."""
        selected = self.selected_report()
        store = self.session.store
        if selected is None or store is None:
            return
        try:
            current = store.get(selected.uuid)
        except EstError as error:
            self._set_status(error.message())
            return
        if current.status != Status.SUBMITTED:
            self._set_status(tr("error.not_editable", status=tr(f"status.{current.status.value}")))
            self.refresh_my_reports()
            return
        self._editing = current
        self.form.set_event(current)
        self.edit_banner.setText(tr("reporting.editing", date=current.event_date.isoformat(),
                                    category=self._category_label(current.category)))
        self.edit_banner.show()
        self.submit_button.setText(tr("reporting.save_changes"))
        self.clear_button.setText(tr("reporting.cancel_edit"))
        self._set_status("")
        self._update_buttons()

    def _finish_editing(self) -> None:
        self._editing = None
        self.form.base_event = None
        self.edit_banner.hide()
        self.submit_button.setText(tr("reporting.submit"))
        self.clear_button.setText(tr("reporting.clear"))

    def confirm(self, text: str) -> bool:
        """Ask before something that cannot be undone (tests replace this)."""
        answer = QMessageBox.question(self, tr("plugin.name"), text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def withdraw_selected(self) -> None:
        """Take back the selected own report while it is still unreviewed."""
        selected = self.selected_report()
        store = self.session.store
        if selected is None or store is None or selected.status != Status.SUBMITTED:
            return
        if not self.confirm(tr("reporting.withdraw.confirm", date=selected.event_date.isoformat(),
                               category=self._category_label(selected.category))):
            return
        try:
            store.withdraw(selected.uuid, selected.version, self.session.user)
        except EstError as error:
            self._set_status(error.message())
            self.refresh_my_reports()
            return
        if self._editing is not None and self._editing.uuid == selected.uuid:
            self.clear_form()
        self._set_status(tr("reporting.withdrawn"), SUCCESS_STYLE)
        self.refresh_my_reports()
        self.session.events_changed.emit()

    # ------------------------------------------------------------------ lifetime
    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt's name
        """A hidden form must not keep capturing map clicks."""
        self.form.pick_button.setChecked(False)
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.form.pick_button.setChecked(False)
        self.form.marker.hide()
        super().closeEvent(event)
