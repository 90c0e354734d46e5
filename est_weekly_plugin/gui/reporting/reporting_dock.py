"""Step 1 of the weekly report: any partner's reporter files an event, and follows it in "My reports".

Written for people without GIS training: one column of plain fields, each problem explained
right under its field, Submit enabled only when the store would accept the report, and a lost
connection never loses what was typed.
"""

from __future__ import annotations

from typing import Any

from qgis.PyQt.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from ...domain.i18n import format_date, tr
from ...domain.model import Event, Role, Status
from ..shared.dock_base import SUCCESS_STYLE, EstDock, message_page
from ..shared.session import EstSession
from ..shared.widgets import (
    add_items,
    event_table,
    hint_label,
    horizontal,
    named,
    push_button,
    scroll_area,
    select_event,
    selected_event,
    set_event_rows,
)
from .event_form import EventForm

# message_page and SUCCESS_STYLE live in dock_base now; still importable from here for older callers.
__all__ = ["MY_REPORTS_LIMIT", "SUCCESS_STYLE", "ReportingDock", "message_page", "status_text"]

MY_REPORTS_LIMIT = 50


def status_text(event: Event) -> str:
    """What "My reports" says about a report: its status and, when rejected, the reviewer's reason."""
    status = tr(f"status.{event.status.value}")
    if event.status == Status.REJECTED:
        if event.duplicate_of:
            return tr("reporting.status.duplicate", status=status)
        if event.review_reason:
            return tr("reporting.status.with_reason", status=status, reason=event.review_reason)
    return status


class ReportingDock(EstDock):
    """The reporting form and the reporter's own reports, following the session's store and role."""

    permission = "report"
    not_allowed_key = "reporting.not_allowed"
    form: EventForm

    def __init__(self, iface: Any, session: EstSession, parent: QWidget | None = None) -> None:
        super().__init__(tr("reporting.title"), "EstWeeklyReportingDock", iface, session, parent)
        self._editing: Event | None = None

        self.edit_banner = named(QLabel(), "edit_banner")
        self.edit_banner.setWordWrap(True)
        self.edit_banner.setStyleSheet("background: #fff4ce; padding: 4px;")
        self.edit_banner.hide()
        self.form = EventForm(self.canvas, place_source=self.place_source)
        self.form.changed.connect(self._update_buttons)
        self.submit_button = push_button(tr("reporting.submit"), "submit", self.submit)
        self.submit_button.setDefault(True)
        self.clear_button = push_button(tr("reporting.clear"), "clear", self.clear_form)

        self.my_reports = event_table(
            "my_reports", [tr("reporting.column.date"), tr("reporting.column.category"), tr("reporting.column.status")],
            stretch_column=2, word_wrap=True)
        self.my_reports.setMinimumHeight(120)
        self.my_reports.setMaximumHeight(240)
        self.my_reports.itemSelectionChanged.connect(self._update_buttons)
        self.my_reports.itemDoubleClicked.connect(lambda _item: self.edit_selected())
        self.edit_button = push_button(tr("reporting.edit"), "edit", self.edit_selected)
        self.withdraw_button = push_button(tr("reporting.withdraw"), "withdraw", self.withdraw_selected)
        self.my_hint = hint_label(text=tr("reporting.my_reports.hint"))
        own_group = QGroupBox(tr("reporting.my_reports"))
        add_items(QVBoxLayout(own_group), self.my_reports, horizontal(self.edit_button, self.withdraw_button, None),
                  self.my_hint)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.role_label)
        layout.addWidget(self.edit_banner)
        layout.addWidget(self.form)
        layout.addWidget(self.status)
        layout.addLayout(horizontal(self.clear_button, None, self.submit_button))
        layout.addSpacing(6)
        layout.addWidget(own_group)
        layout.addStretch(1)
        self.form_page = scroll_area(content)
        self.set_content(self.form_page)
        self.follow_session()

    # ------------------------------------------------------------------ store and role
    def leave_store(self) -> None:
        self._editing = None

    def load_store(self, store: Any) -> None:
        """The form for this store: its lists and extent, empty but for the remembered organisation."""
        self.form.set_reference(store.categories(active_only=True), store.organisations(active_only=True),
                                store.validation_context(), store.settings.epsg)
        self.form.clear(keep_organisation=False, keep_date=False)
        login = self.session.login
        # A reporter on PostGIS reports for its own organisation only (the database refuses others).
        fixed = login.organisation if login.enforced and login.role == Role.REPORTER else None
        remembered = fixed or self.session.settings.organisation
        if remembered:
            self.form.organisation.set_code(remembered)
            self.form.validate()
        self.form.organisation.setEnabled(fixed is None)
        self._finish_editing()

    def refresh_events(self) -> None:
        self.refresh_my_reports()

    # ------------------------------------------------------------------ submitting
    def _update_buttons(self) -> None:
        self.submit_button.setEnabled(self.session.store is not None and self.form.valid)
        selected = self.selected_report()
        editable = selected is not None and selected.status == Status.SUBMITTED
        self.edit_button.setEnabled(editable)
        self.withdraw_button.setEnabled(editable)

    def submit(self) -> Event | None:
        """Send the report (or the edit); on any failure the form keeps everything typed."""
        store = self.session.store
        if store is None or not self.session.may("report"):
            return None
        if not self.form.valid:
            self.form.touch_all()
            self._update_buttons()
            return None
        editing = self._editing

        def send() -> Event:
            user = self.session.user  # on PostGIS this asks the (possibly lost) login
            if editing is not None:
                return store.update_event(editing.uuid, editing.version, user, as_reporter=True, **self.form.changes())
            return store.submit(self.form.to_event(reporter=user), actor=user)

        sent, saved = self.run_store_action(send, "reporting.kept_in_form")
        if not sent or saved is None:
            return None
        was_edit = self._editing is not None
        self.session.settings.organisation = saved.organisation
        self.session.settings.save()
        self._finish_editing()
        self.form.clear(keep_organisation=True, keep_date=True)
        text = tr("reporting.updated" if was_edit else "reporting.submitted",
                  category=self._category_label(saved.category), date=format_date(saved.event_date))
        self.report_success(text)
        self.refresh_my_reports()
        self.session.events_changed.emit()
        return saved

    def clear_form(self) -> None:
        """Start over (or leave an edit) — organisation and date stay for the next report."""
        self._finish_editing()
        self.form.clear(keep_organisation=True, keep_date=True)
        self.set_status("")
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
        events = self.try_store(
            lambda: store.events(reporter=self.session.user, oldest_first=False, limit=MY_REPORTS_LIMIT))
        rows = []
        for event in events or []:
            values = (format_date(event.event_date), self._category_label(event.category), status_text(event))
            place = event.place_name or f"{event.x:.0f}, {event.y:.0f}"
            rows.append((event, values, f"{place}\n{event.description}\n{status_text(event)}".strip(),
                         self.form.category.icon_of(event.category)))
        set_event_rows(self.my_reports, rows)
        self._update_buttons()

    def selected_report(self) -> Event | None:
        return selected_event(self.my_reports)

    def select_report(self, uuid: str) -> bool:
        return select_event(self.my_reports, uuid)

    def edit_selected(self) -> None:
        """Load the selected own report into the form, if it is still waiting for review."""
        selected = self.selected_report()
        store = self.session.store
        if selected is None or store is None:
            return
        current = self.try_store(lambda: store.get(selected.uuid))
        if current is None:
            return
        if current.status != Status.SUBMITTED:
            self.set_status(tr("error.not_editable", status=tr(f"status.{current.status.value}")))
            self.refresh_my_reports()
            return
        self._editing = current
        self.form.set_event(current)
        self.edit_banner.setText(tr("reporting.editing", date=format_date(current.event_date),
                                    category=self._category_label(current.category)))
        self.edit_banner.show()
        self.submit_button.setText(tr("reporting.save_changes"))
        self.clear_button.setText(tr("reporting.cancel_edit"))
        self.set_status("")
        self._update_buttons()

    def _finish_editing(self) -> None:
        self._editing = None
        self.form.base_event = None
        self.edit_banner.hide()
        self.submit_button.setText(tr("reporting.submit"))
        self.clear_button.setText(tr("reporting.clear"))

    def withdraw_selected(self) -> None:
        """Take back the selected own report while it is still unreviewed."""
        selected = self.selected_report()
        store = self.session.store
        if selected is None or store is None or selected.status != Status.SUBMITTED:
            return
        if not self.confirm(tr("reporting.withdraw.confirm", date=format_date(selected.event_date),
                               category=self._category_label(selected.category))):
            return
        if self.try_store(lambda: store.withdraw(selected.uuid, selected.version, self.session.user)) is None:
            self.refresh_my_reports()
            return
        if self._editing is not None and self._editing.uuid == selected.uuid:
            self.clear_form()
        self.set_status(tr("reporting.withdrawn"), SUCCESS_STYLE)
        self.refresh_my_reports()
        self.session.events_changed.emit()
