"""Step 2 of the weekly report: the safety unit reviews the queue, corrects, approves or rejects.

Every decision goes through ``EventStore.review`` (version-checked, audited); a report changed
by someone else meanwhile is refused with the version numbers, never silently overwritten.
Approved reports reach the compilation at once: the panel tells the session and repaints the
events layers.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
)
from qgis.gui import QgsCollapsibleGroupBox, QgsDateEdit
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...domain.duplicates import possible_duplicates
from ...domain.errors import ConflictError, EstError
from ...domain.i18n import format_date, format_distance, format_number, tr
from ...domain.model import Event, Precision, Status
from ...domain.roles import may_decide
from ...domain.street_names import street_names
from ...maps.layers import find_layers
from ..reporting.event_form import EventForm
from ..shared.dock_base import EstDock
from ..shared.map_tools import DUPLICATE_COLOUR, PlaceMarker
from ..shared.privacy_widgets import PersonalDataWarning, describe_flags
from ..shared.session import EstSession
from ..shared.widgets import (
    HINT_STYLE,
    CategoryCombo,
    FieldError,
    OrganisationCombo,
    add_event_row,
    add_items,
    event_table,
    fit_rows,
    header_text_width,
    hint_label,
    horizontal,
    named,
    push_button,
    scroll_area,
    select_event,
    selected_event,
    selected_events,
    set_event_rows,
    vertical,
)

# Half the side of the square the map zooms to around a selected report (store CRS metres).
ZOOM_HALF_SIZE_M = 300.0


def placement_text(event: Event, sources: dict[str, str]) -> str:
    """Where an imported report came from and, for an area event (a municipality's centroid), that it is
    not placed — with the street its text names, so the reviewer can place it (then it counts as a point)."""
    lines = []
    if event.source != "form":
        lines.append(tr("review.source", source=sources.get(event.source, event.source), id=event.source_id or "—"))
    if event.location_precision.is_area:
        streets = street_names(f"{event.description}\n{event.place_name}")
        lines.append(tr("review.area_place_street", precision=tr(f"import.precision.{event.location_precision.value}"),
                        street=", ".join(streets)) if streets else
                     tr("review.area_not_placed", precision=tr(f"import.precision.{event.location_precision.value}")))
    return "\n".join(lines)


def refresh_event_layers() -> None:
    """Make the compilation's layers show the new state at once."""
    for layer in find_layers("events"):
        layer.reload()
        layer.triggerRepaint()


def when_text(event: Event) -> str:
    """Date and time as the reviewer reads it: "2026-11-20 22:00–23:30", or "… (time unknown)"."""
    if event.time_from is None:
        return tr("review.when.unknown", date=format_date(event.event_date))
    text = f"{format_date(event.event_date)} {event.time_from:%H:%M}"
    return f"{text}–{event.time_to:%H:%M}" if event.time_to is not None else text


def _plain(value: float) -> str:
    """A setting as the user typed it: "150", "1,5" (Swedish), no needless decimals."""
    return format_number(value, None, 0 if float(value).is_integer() else 1)


class ReviewPanel(EstDock):
    """The review queue, the open report with its corrections, possible duplicates and history."""

    permission = "review"
    not_allowed_key = "review.not_allowed"
    form: EventForm

    def __init__(self, iface: Any, session: EstSession, parent: QWidget | None = None) -> None:
        super().__init__(tr("review.title"), "EstWeeklyReviewPanel", iface, session, parent)
        self.current: Event | None = None
        self._sources: dict[str, str] = {}
        self._duplicates: list[Event] = []
        self._duplicate_key: tuple[Any, ...] | None = None
        self._names: dict[str, str] = {}
        self.set_content(self._build_main())
        self.follow_session()

    # ------------------------------------------------------------------ layout
    def _build_main(self) -> QWidget:
        self.filter_organisation = named(OrganisationCombo(tr("review.filter.all_organisations")),
                                         "filter_organisation")
        self.filter_category = named(CategoryCombo(tr("review.filter.all_categories")), "filter_category")
        self.filter_from = named(QgsDateEdit(), "filter_from")
        self.filter_to = named(QgsDateEdit(), "filter_to")
        for edit in (self.filter_from, self.filter_to):
            edit.setAllowNull(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setNullRepresentation(tr("review.filter.any_date"))
            edit.clear()
            edit.dateValueChanged.connect(lambda _value: self.refresh_queue())
        self.filter_organisation.currentIndexChanged.connect(lambda _index: self.refresh_queue())
        self.filter_category.currentIndexChanged.connect(lambda _index: self.refresh_queue())
        filters = QGridLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        # one filter a row: two side by side do not fit QGIS's default dock width (about 300 px)
        filters.addWidget(self.filter_organisation, 0, 0, 1, 2)
        filters.addWidget(self.filter_category, 1, 0, 1, 2)
        filters.addWidget(QLabel(tr("review.filter.from")), 2, 0)
        filters.addWidget(self.filter_from, 2, 1)
        filters.addWidget(QLabel(tr("review.filter.to")), 3, 0)
        filters.addWidget(self.filter_to, 3, 1)
        filters.setColumnStretch(1, 1)

        self.queue = event_table(
            "queue", [tr("review.column.received"), tr("review.column.category"), tr("review.column.organisation")],
            stretch_column=2, multi_select=True)
        # ten rows of the queue always in view: a reviewer works down a list, not through a slot
        self.queue.setMinimumHeight(10 * self.queue.verticalHeader().defaultSectionSize()
                                    + self.queue.horizontalHeader().sizeHint().height()
                                    + 2 * self.queue.frameWidth() + 2)
        self.queue.setTextElideMode(Qt.TextElideMode.ElideRight)
        # the category column elides rather than squeeze the organisation's header in a narrow dock
        self.queue.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header = self.queue.horizontalHeader()
        header.setMinimumSectionSize(40)  # the queue never scrolls sideways: its columns are sized here
        header.resizeSection(1, header_text_width(header, tr("review.column.category")) + 6)
        self.queue.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.queue.itemSelectionChanged.connect(self._selection_changed)
        self.queue_count = named(QLabel(), "queue_count")
        self.queue_count.setStyleSheet(HINT_STYLE)
        self.queue_count.setWordWrap(True)
        self.approve_selected_button = push_button(tr("review.approve_selected", count=0), "approve_selected",
                                                   self.approve_selected)
        top = vertical(filters, (self.queue, 1), self.queue_count, horizontal(None, self.approve_selected_button))

        # The open report: who sent it, the correctable fields, the decision.
        self.report_info = hint_label("report_info", tr("review.nothing_selected"))
        self.placement_hint = hint_label("placement_hint")  # an imported report's source; an area to place
        self.placement_hint.hide()
        self.form = EventForm(self.canvas, place_source=self.place_source, review_mode=True)
        self.form.changed.connect(self._form_changed)
        self.reason = named(QLineEdit(), "reason")
        self.reason.setPlaceholderText(tr("review.reason.placeholder"))
        self.reason.textChanged.connect(lambda _text: self.reason_error.show_messages([]))
        self.reason_error = FieldError("reason")
        self.approve_button = push_button(tr("review.approve"), "approve", self.approve)
        self.reject_button = push_button(tr("review.reject"), "reject", self.reject)
        # Personal data: what the scan marked at submission, and redaction that reaches the history.
        self.privacy_flag = PersonalDataWarning()
        self.redact_button = push_button(tr("review.redact"), "redact", self.redact)
        self.redact_button.setToolTip(tr("review.redact.tip"))
        self.editor = QGroupBox(tr("review.report"))
        reason_label = QLabel(tr("review.reason"))
        reason_label.setWordWrap(True)  # a long label in a narrow dock
        add_items(QVBoxLayout(self.editor), self.report_info, self.placement_hint, self.privacy_flag, self.form,
                  horizontal(None, self.redact_button), reason_label, self.reason,
                  self.reason_error, horizontal(self.reject_button, None, self.approve_button))

        self.duplicates_group = named(QGroupBox(tr("review.duplicates", count=0)), "duplicates_group")
        self.duplicates = event_table(
            "duplicates", [tr("review.column.report"), tr("review.column.distance"), tr("review.column.status")],
            stretch_column=0, word_wrap=True)
        self.duplicates.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.duplicates.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.duplicates.itemSelectionChanged.connect(self._update_buttons)
        self.duplicates.itemSelectionChanged.connect(self._show_duplicate)
        self.duplicate_marker = PlaceMarker(self.canvas, DUPLICATE_COLOUR)  # the other report, beside this one
        self.duplicates_hint = hint_label("duplicates_hint")
        self.this_is_duplicate = push_button(tr("review.this_is_duplicate"), "this_is_duplicate",
                                             lambda: self.mark_duplicate(current_is_duplicate=True))
        self.other_is_duplicate = push_button(tr("review.other_is_duplicate"), "other_is_duplicate",
                                              lambda: self.mark_duplicate(current_is_duplicate=False))
        self.this_is_duplicate.setToolTip(tr("review.this_is_duplicate.tip"))
        self.other_is_duplicate.setToolTip(tr("review.other_is_duplicate.tip"))
        add_items(QVBoxLayout(self.duplicates_group), self.duplicates_hint, self.duplicates, self.this_is_duplicate,
                  self.other_is_duplicate)

        self.history_group = named(QgsCollapsibleGroupBox(tr("review.history")), "history_group")
        self.history = named(QListWidget(), "history")
        QVBoxLayout(self.history_group).addWidget(self.history)
        self.history_group.setCollapsed(True)

        self.bottom_scroll = bottom = scroll_area(
            vertical(self.status, self.editor, self.duplicates_group, self.history_group, None))

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([top.minimumSizeHint().height(), 10_000])  # the queue's ten rows first
        # the role note wraps with the dock's width: above the splitter, it never squeezes the queue
        return vertical(self.role_label, (splitter, 1))

    # ------------------------------------------------------------------ store and role
    def leave_store(self) -> None:
        self.current = None

    def load_store(self, store: Any) -> None:
        """The form and filters for this store's categories and organisations (inactive ones stay readable)."""
        categories = store.categories()
        organisations = store.organisations()
        self.form.set_reference([c for c in categories if c.active], organisations, store.validation_context(),
                                store.settings.epsg)
        self._names = {c.code: c.label() for c in categories}
        self._sources = {source["code"]: source["name"] for source in store.sources()}
        self._names.update({f"org:{o.code}": o.name() for o in organisations})
        for combo in (self.filter_organisation, self.filter_category):
            combo.blockSignals(True)
        self.filter_organisation.set_organisations(organisations)
        self.filter_category.set_categories(categories)
        for combo in (self.filter_organisation, self.filter_category):
            combo.blockSignals(False)

    def refresh_events(self) -> None:
        self.refresh_queue()

    # ------------------------------------------------------------------ queue
    def refresh_queue(self) -> None:
        """Submitted reports, oldest first, under the filters; keeps the open report selected if still there."""
        store = self.session.store
        if store is None or not self.session.may("review"):
            return
        keep = self.current.uuid if self.current is not None else None
        events = self.try_store(lambda: store.events(
            status=Status.SUBMITTED, organisation=self.filter_organisation.code() or None,
            category=self.filter_category.code() or None,
            date_from=None if self.filter_from.isNull() else self.filter_from.date().toPyDate(),
            date_to=None if self.filter_to.isNull() else self.filter_to.date().toPyDate(), oldest_first=True))
        if events is None:
            return
        self.queue.blockSignals(True)
        today = dt.date.today()
        received_at = tr("review.received_at", at="{at}")  # formatted once, filled per row
        rows = []
        for event in events:
            local = event.created_at.astimezone() if event.created_at else None
            # short, so the organisation keeps its room in a narrow dock: the time today, else the day
            received = "" if local is None else (f"{local:%H:%M}" if local.date() == today
                                                 else f"{local.day}/{local.month}")
            organisation = self._names.get(f"org:{event.organisation}", event.organisation)
            if event.source != "form":  # imported: the queue says from where
                organisation = f"{organisation} · {self._sources.get(event.source, event.source)}"
            values = (received, self._names.get(event.category, event.category), organisation)
            stamp = f"{local:%Y-%m-%d %H:%M}" if local is not None else ""
            tip = "\n".join(part for part in (stamp and received_at.replace("{at}", stamp), when_text(event),
                                               organisation, event.place_name, event.description) if part)
            rows.append((event, values, tip, self.form.category.icon_of(event.category)))
        set_event_rows(self.queue, rows)
        self.queue.blockSignals(False)
        self.queue_count.setText(tr("review.queue_count", count=len(events)))
        if keep is None or not self.select_report(keep):
            self._open(None)
        self._update_buttons()

    def selected_reports(self) -> list[Event]:
        return selected_events(self.queue)

    def select_report(self, uuid: str) -> bool:
        """Select (and open) a queued report by id; False when it is not in the queue."""
        if not select_event(self.queue, uuid):
            return False
        self._selection_changed()
        return True

    def _selection_changed(self) -> None:
        selected = self.selected_reports()
        if len(selected) == 1:
            if self.current is None or self.current.uuid != selected[0].uuid:
                self._open(selected[0].uuid)
        else:
            self._open(None)
        self._update_buttons()

    def _open(self, uuid: str | None) -> None:
        """Show one report (fresh from the store) for correction and decision, and find it on the map."""
        self.reason.clear()
        self.reason_error.show_messages([])
        self.form.pick_button.setChecked(False)
        store = self.session.store
        event = None
        if uuid is not None and store is not None:
            event = self.try_store(lambda: store.get(uuid))
        self.current = event
        self.editor.setEnabled(event is not None)
        if event is None:
            self.form.set_event(None)
            self.form.marker.hide()
            count = len(self.selected_reports())
            self.report_info.setText(tr("review.many_selected", count=count) if count > 1
                                     else tr("review.nothing_selected"))
            self.history.clear()
            self._show_duplicates([])
            self.duplicate_marker.hide()
            return
        self.form.set_event(event)
        received = event.created_at.astimezone().strftime("%Y-%m-%d %H:%M") if event.created_at else "?"
        self.report_info.setText(tr("review.info", reporter=event.reporter,
                                    organisation=self._names.get(f"org:{event.organisation}", event.organisation),
                                    received=received, version=event.version))
        self.placement_hint.setText(placement_text(event, self._sources))
        self.placement_hint.setVisible(bool(self.placement_hint.text()))
        flagged = describe_flags(event.personal_data)
        self.privacy_flag.setText(tr("privacy.flagged", kinds=flagged) if flagged else "")
        self.privacy_flag.setVisible(bool(flagged))
        self._show_history(event.uuid)
        self._duplicate_key = None
        self._refresh_duplicates()
        self.zoom_to(event.x, event.y)

    def zoom_to(self, x: float, y: float) -> None:
        """Zoom to a report and flash it, whatever the canvas CRS."""
        store = self.session.store
        if store is None:
            return
        store_crs = QgsCoordinateReferenceSystem(f"EPSG:{store.settings.epsg}")
        canvas_crs = self.canvas.mapSettings().destinationCrs()
        box = QgsRectangle(x - ZOOM_HALF_SIZE_M, y - ZOOM_HALF_SIZE_M, x + ZOOM_HALF_SIZE_M, y + ZOOM_HALF_SIZE_M)
        if canvas_crs.isValid() and canvas_crs != store_crs:
            box = QgsCoordinateTransform(store_crs, canvas_crs, QgsProject.instance()).transformBoundingBox(box)
        self.canvas.setExtent(box)
        self.canvas.refresh()
        self.canvas.flashGeometries([QgsGeometry.fromPointXY(QgsPointXY(x, y))], store_crs)

    # ------------------------------------------------------------------ duplicates and history
    def _form_changed(self) -> None:
        self._refresh_duplicates()
        self._update_buttons()

    def _refresh_duplicates(self) -> None:
        """Re-check duplicates when what they depend on (category, place, date, time) changed."""
        store = self.session.store
        if self.current is None or store is None:
            return
        event = self.form.to_event()
        key = (event.category, event.event_date, event.time_from, event.time_to, event.x, event.y)
        if key == self._duplicate_key:
            return
        self._duplicate_key = key
        unplaced = self.current.location_precision.is_area and (event.x, event.y) == (self.current.x, self.current.y)
        if self.form.point is None or not event.category or unplaced:  # an area's centroid is no place to compare
            self._show_duplicates([])
            return
        settings = self.session.settings
        found = self.try_store(
            lambda: possible_duplicates(store, event, settings.duplicate_distance_m, settings.duplicate_window_h))
        self._show_duplicates(found or [])

    def _show_duplicates(self, found: list[Event]) -> None:
        self._duplicates = found
        settings = self.session.settings
        self.duplicates_group.setTitle(tr("review.duplicates", count=len(found)))
        self.duplicates_hint.setText(tr("review.duplicates.hint", distance=_plain(settings.duplicate_distance_m),
                                        hours=_plain(settings.duplicate_window_h)))
        self.duplicates.setRowCount(0)
        point = self.form.point
        for other in found:
            distance = math.hypot(other.x - point[0], other.y - point[1]) if point else 0.0
            organisation = self._names.get(f"org:{other.organisation}", other.organisation)
            values = (f"{when_text(other)}\n{organisation}", format_distance(distance, unit="m"),
                      tr(f"status.{other.status.value}"))
            add_event_row(self.duplicates, other, values, f"{other.place_name}\n{other.description}".strip())
        self.duplicates.setVisible(bool(found))
        fit_rows(self.duplicates, len(found), maximum=4)
        self._update_buttons()

    def selected_duplicate(self) -> Event | None:
        return selected_event(self.duplicates)

    def markers(self) -> list[Any]:
        return [*super().markers(), self.duplicate_marker]

    def release_map(self, hide_marker: bool) -> None:
        super().release_map(hide_marker)
        if hide_marker:
            self.duplicate_marker.hide()

    def _show_duplicate(self) -> None:
        """The selected possible duplicate on the map beside the open report, both in view."""
        other, event = self.selected_duplicate(), self.current
        if other is None or event is None:
            self.duplicate_marker.hide()
            return
        self.duplicate_marker.show(other.x, other.y)
        first = self.duplicate_marker.to_canvas(event.x, event.y)
        second = self.duplicate_marker.to_canvas(other.x, other.y)
        extent = QgsRectangle(first, second)
        extent.grow(max(extent.width(), extent.height(), 100.0) * 0.6)
        if not self.canvas.extent().contains(extent):
            self.canvas.setExtent(extent)
            self.canvas.refresh()

    def _show_history(self, uuid: str) -> None:
        self.history.clear()
        store = self.session.store
        if store is None:
            return
        try:
            entries = store.audit_log(uuid)
        except EstError:
            entries = None
        if not entries:  # an empty list says why it is empty
            item = QListWidgetItem(tr("review.history.empty" if entries is not None else "review.history.unreadable"))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.history.addItem(item)
            fit_rows(self.history, 1, maximum=6)
            return
        for entry in entries:
            at = entry.at.astimezone().strftime("%Y-%m-%d %H:%M") if entry.at else ""
            text = tr("review.history.entry", at=at, action=tr(f"review.action.{entry.action}"), actor=entry.actor)
            if entry.reason:
                text += f" — {entry.reason}"
            item = QListWidgetItem(text)
            changed = [f"{name}: {old} → {new}" for name, (old, new) in entry.changes.items() if old is not None]
            item.setToolTip("\n".join(changed) or text)
            self.history.addItem(item)
        fit_rows(self.history, self.history.count(), maximum=6)

    # ------------------------------------------------------------------ decisions
    def _update_buttons(self) -> None:
        may = self.session.may("review")
        # On PostGIS a reviewer never decides on its own report; say so before the database refuses.
        own = self.current is not None and not may_decide(self.session.login, self.current.reporter)
        open_report = may and self.current is not None and not own
        if own:
            self.set_status(tr("review.own_report"), HINT_STYLE)
        self.approve_button.setEnabled(open_report and self.form.valid)
        self.redact_button.setEnabled(open_report and bool(self.current and self.current.description))
        self.reject_button.setEnabled(open_report)
        count = len(self.selected_reports())
        self.approve_selected_button.setText(tr("review.approve_selected", count=count))
        self.approve_selected_button.setEnabled(may and count > 1)
        other = self.selected_duplicate()
        self.this_is_duplicate.setEnabled(open_report and other is not None)
        self.other_is_duplicate.setEnabled(open_report and other is not None and other.status == Status.SUBMITTED)

    def _run(self, action: Any, done: str) -> bool:
        """Run one store decision; report success, or explain the refusal and show the current state."""
        store = self.session.store
        if store is None:
            return False

        def decide() -> None:
            self.session.require("review")
            action(store, self.session.user)  # on PostGIS the user comes from the (possibly lost) login

        decided, _ = self.run_store_action(decide, "review.kept")
        if not decided:
            return False
        self.report_success(done)
        self._after_change()
        return True

    def on_conflict(self, error: ConflictError) -> None:
        """Someone decided or corrected the report meanwhile: show its current state (or say it is gone)."""
        keep = self.current.uuid if self.current is not None else None
        self.current = None
        self.refresh_queue()
        if keep is not None and not self.select_report(keep):
            self.set_status(error.message())

    def _after_change(self) -> None:
        """Queue, other docks and the map follow a decision; the next report in line opens."""
        row = min((index.row() for index in self.queue.selectionModel().selectedRows()), default=0)
        self.current = None
        self.session.events_changed.emit()  # refreshes this queue too
        refresh_event_layers()
        if self.queue.rowCount():
            self.queue.selectRow(min(row, self.queue.rowCount() - 1))
            self._selection_changed()

    def redact(self) -> bool:
        """Remove the selected part of the description (or all of it) from the report and its history."""
        event = self.current
        store = self.session.store
        if event is None or store is None:
            return False
        part = self.form.description.textCursor().selectedText().replace("\u2029", "\n") or None

        def run() -> None:
            self.session.require("review")
            store.redact(event.uuid, event.version, self.session.user, part=part)

        done, _ = self.run_store_action(run, "review.kept")
        if not done:
            return False
        entries = store.audit_log(event.uuid)[-1].changes.get("entries_redacted", 0)
        self.report_success(tr("review.redacted", count=entries))
        self.session.events_changed.emit()
        self.select_report(event.uuid)
        return True

    def approve(self) -> bool:
        """Approve the open report with the reviewer's corrections."""
        event = self.current
        if event is None:
            return False
        if not self.form.valid:
            self.form.touch_all()
            return False
        corrections = self.form.changes()
        if event.location_precision.is_area and ("x" in corrections or "y" in corrections):
            corrections["location_precision"] = Precision.POINT  # placed by the reviewer: now a point
        reason = self.reason.text().strip() or None
        saved = str(corrections.get("category") or event.category)  # the category as approved, corrected or not
        return self._run(lambda store, user: store.review(event.uuid, event.version, user, Status.APPROVED,
                                                          reason=reason, corrections=corrections),
                         tr("review.approved", category=self._names.get(saved, saved)))

    def reject(self) -> bool:
        """Reject the open report; a reason is required and shown to the reporter."""
        event = self.current
        if event is None:
            return False
        reason = self.reason.text().strip()
        if not reason:
            self.reason_error.show_messages([tr("error.reason_required")])
            self.reason.setFocus()
            return False
        return self._run(lambda store, user: store.review(event.uuid, event.version, user, Status.REJECTED,
                                                          reason=reason),
                         tr("review.rejected", category=self._names.get(event.category, event.category)))

    def mark_duplicate(self, current_is_duplicate: bool = True) -> bool:
        """Reject one of the pair as a duplicate of the other, linking it to the kept report."""
        event, other = self.current, self.selected_duplicate()
        if event is None or other is None:
            return False
        duplicate, kept = (event, other) if current_is_duplicate else (other, event)
        if duplicate.status != Status.SUBMITTED:
            self.set_status(tr("error.not_reviewable", status=tr(f"status.{duplicate.status.value}")))
            return False
        reason = self.reason.text().strip() or tr(
            "review.duplicate_reason", organisation=self._names.get(f"org:{kept.organisation}", kept.organisation),
            date=format_date(kept.event_date), id=kept.uuid[:8])
        return self._run(lambda store, user: store.review(duplicate.uuid, duplicate.version, user, Status.REJECTED,
                                                          reason=reason, duplicate_of=kept.uuid),
                         tr("review.marked_duplicate", id=kept.uuid[:8]))

    def approve_selected(self) -> int:
        """Approve every selected report as it is (no corrections), all or none."""
        selected = self.selected_reports()
        if len(selected) < 2 or not self.confirm(tr("review.approve_selected.confirm", count=len(selected))):
            return 0
        items = [(event.uuid, event.version) for event in selected]
        done = self._run(lambda store, user: store.approve_many(items, user),
                         tr("review.approved_many", count=len(items)))
        return len(items) if done else 0
