"""The report form: what a reporter fills in and a reviewer corrects (step 1 of the EST cycle).

The form only gathers values and shows problems; what is valid is decided by
``domain.validation.problems`` and where a place is by ``maps.places`` — the same rules the
store enforces, so what the form accepts the store accepts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from qgis.core import QgsCoordinateReferenceSystem
from qgis.gui import QgsMapCanvas
from qgis.PyQt.QtCore import QDate, Qt, QTime, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from ...domain.errors import Problem
from ...domain.i18n import tr
from ...domain.model import Category, Event, Organisation
from ...domain.validation import ValidationContext, problems
from ...maps.places import PlaceMatch, parse_coordinates, search_places
from ..shared.map_tools import PlaceMarker, PointPickTool
from ..shared.online_places import OnlinePlaceSearch
from ..shared.privacy_widgets import PersonalDataWarning
from ..shared.widgets import CategoryCombo, FieldError, OrganisationCombo, fit_rows, hint_label, named, vertical

MISSING_CODES = frozenset({"category_missing", "organisation_missing", "place_missing", "date_missing"})
# Which error label shows a problem of which Event field.
FIELD_OF_PROBLEM = {
    "category": "category", "organisation": "organisation", "event_date": "event_date", "time_from": "time",
    "time_to": "time", "place": "place", "place_name": "place_name", "description": "description",
}


def time_of(edit: QTimeEdit) -> dt.time:
    value = edit.time()
    return dt.time(value.hour(), value.minute())


class TimeModeWidget(QWidget):
    """When it happened: at a time, between two times, or time unknown ("found in the morning")."""

    changed = pyqtSignal()
    AT, SPAN, UNKNOWN = "at", "span", "unknown"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = named(QComboBox(), "time_mode")
        self.mode.addItem(tr("reporting.time.at"), self.AT)
        self.mode.addItem(tr("reporting.time.span"), self.SPAN)
        self.mode.addItem(tr("reporting.time.unknown"), self.UNKNOWN)
        self.time_from = named(QTimeEdit(), "time_from")
        self.time_to = named(QTimeEdit(), "time_to")
        for edit in (self.time_from, self.time_to):
            edit.setDisplayFormat("HH:mm")
            edit.timeChanged.connect(self.changed)
        self.dash = QLabel("–")
        self.hint = hint_label("time_unknown_hint", tr("reporting.time.unknown_hint"))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.mode, 1)
        row.addWidget(self.time_from)
        row.addWidget(self.dash)
        row.addWidget(self.time_to)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.hint)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self._mode_changed()

    def set_mode(self, mode: str) -> None:
        self.mode.setCurrentIndex(self.mode.findData(mode))

    def current_mode(self) -> str:
        return str(self.mode.currentData())

    def _mode_changed(self) -> None:
        mode = self.current_mode()
        self.time_from.setVisible(mode != self.UNKNOWN)
        self.dash.setVisible(mode == self.SPAN)
        self.time_to.setVisible(mode == self.SPAN)
        self.hint.setVisible(mode == self.UNKNOWN)
        self.changed.emit()

    def times(self) -> tuple[dt.time | None, dt.time | None]:
        mode = self.current_mode()
        if mode == self.UNKNOWN:
            return None, None
        if mode == self.AT:
            return time_of(self.time_from), None
        return time_of(self.time_from), time_of(self.time_to)

    def set_times(self, start: dt.time | None, end: dt.time | None) -> None:
        self.blockSignals(True)
        if start is not None:
            self.time_from.setTime(QTime(start.hour, start.minute))
            if end is not None:
                self.time_to.setTime(QTime(end.hour, end.minute))
        self.set_mode(self.UNKNOWN if start is None else self.AT if end is None else self.SPAN)
        self.blockSignals(False)
        self.changed.emit()


def now_rounded(now: dt.datetime | None = None) -> dt.time:
    """The current time, floored to five minutes: a sensible default a reporter rarely needs to change."""
    now = now or dt.datetime.now()
    return dt.time(now.hour, now.minute - now.minute % 5)


def field_block(widget: QWidget, error: FieldError) -> QWidget:
    """The field with its error label right underneath it."""
    return vertical(widget, error, spacing=2)


# Returns the configured place layer and its name field, or (None, "") for the shipped districts.
PlaceSource = Callable[[], tuple]


class EventForm(QWidget):
    """Category, organisation, date, time, place, place name and description — validated as typed.

    ``changed`` fires on every edit; ``valid`` tells whether the store would accept the report.
    The form never writes: the dock or panel that owns it decides what to do with ``event()``.
    """

    changed = pyqtSignal()

    def __init__(self, canvas: QgsMapCanvas, place_source: PlaceSource | None = None, review_mode: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self._place_source = place_source or (lambda: (None, "", None))
        self._context: ValidationContext | None = None
        self._epsg = 3006
        self._touched: set[str] = set()
        self._auto_place_name = ""
        self._problems: list[Problem] = []
        self.base_event: Event | None = None

        self.category = named(CategoryCombo(tr("reporting.choose")), "category")
        self.organisation = named(OrganisationCombo(tr("reporting.choose")), "organisation")
        self.organisation.setEnabled(not review_mode)
        self.event_date = named(QDateEdit(), "event_date")
        self.event_date.setCalendarPopup(True)
        self.event_date.setDisplayFormat("yyyy-MM-dd")
        self.event_date.setDate(QDate.currentDate())
        self.time = named(TimeModeWidget(), "time")
        self.time.set_times(now_rounded(), None)

        self.marker = PlaceMarker(canvas)
        self.tool = PointPickTool(canvas, self.marker)
        self.tool.picked.connect(self._picked_on_map)
        self.tool.deactivated.connect(lambda: self.pick_button.setChecked(False))
        self.pick_button = named(QPushButton(tr("review.move_on_map" if review_mode else "reporting.pick_on_map")),
                                 "pick_on_map")
        self.pick_button.setCheckable(True)
        self.pick_button.setToolTip(tr("reporting.pick_on_map.tip"))
        self.pick_button.toggled.connect(self._pick_toggled)
        self.place_search = named(QLineEdit(), "place_search")
        self.place_search.setPlaceholderText(tr("reporting.place_search.placeholder"))
        self.place_search.setClearButtonEnabled(True)
        self.place_search.textEdited.connect(self._search)
        self.online = OnlinePlaceSearch(self)  # Nominatim, when the user turned it on
        self.online.found.connect(self._online_found)
        self.place_search.returnPressed.connect(self._take_first_result)
        self.place_results = named(QListWidget(), "place_results")
        self.place_results.hide()
        self.place_results.itemActivated.connect(self._result_chosen)
        self.place_results.itemClicked.connect(self._result_chosen)
        self.place_label = hint_label("place_coordinates", tr("reporting.place.none"))
        place_box = vertical(self.pick_button, self.place_search, self.place_results, self.place_label, spacing=3)

        self.place_name = named(QLineEdit(), "place_name")
        self.place_name.setPlaceholderText(tr("reporting.place_name.placeholder"))
        self.description = named(QPlainTextEdit(), "description")
        self.description.setPlaceholderText(tr("reporting.description.placeholder"))
        self.description.setTabChangesFocus(True)
        self.description.setMinimumHeight(60)
        self.description.setMaximumHeight(110)
        self.description.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

        # Personal data: a one-line reminder, and a warning naming what the scan finds as one types.
        self.privacy_hint = hint_label("places_not_people", tr("privacy.places_not_people"))
        self.privacy_hint.setVisible(not review_mode)  # the reviewer gets the stored flags instead
        self.privacy_warning = PersonalDataWarning()
        self.errors = {name: FieldError(name) for name in
                       ("category", "organisation", "event_date", "time", "place", "place_name", "description",
                        "general")}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(4)
        rows = (("category", self.category), ("organisation", self.organisation), ("event_date", self.event_date),
                ("time", self.time), ("place", place_box), ("place_name", self.place_name),
                ("description", self.description))
        self.labels: dict[str, QLabel] = {}
        for name, widget in rows:
            label = QLabel(tr(f"reporting.label.{name}"))
            label.setBuddy(widget)
            self.labels[name] = label
            form.addRow(label, field_block(widget, self.errors[name]))
        form.addRow(self.privacy_hint)
        form.addRow(self.privacy_warning)
        form.addRow(self.errors["general"])

        self.category.currentIndexChanged.connect(lambda: self._edited("category"))
        self.organisation.currentIndexChanged.connect(lambda: self._edited("organisation"))
        self.event_date.dateChanged.connect(lambda: self._edited("event_date"))
        self.time.changed.connect(lambda: self._edited("time"))
        self.place_name.textChanged.connect(lambda: self._edited("place_name"))
        self.description.textChanged.connect(lambda: self._edited("description"))

    # ------------------------------------------------------------------ reference data
    def set_reference(self, categories: list[Category], organisations: list[Organisation],
                      context: ValidationContext, epsg: int) -> None:
        """What the form offers and checks against (the open store's lists, extent and CRS)."""
        self._context = context
        self._epsg = int(epsg)
        self.marker.set_epsg(epsg)
        self.category.set_categories(categories)
        self.organisation.set_organisations(organisations)
        self.validate()

    # ------------------------------------------------------------------ values
    @property
    def point(self) -> tuple[float, float] | None:
        return self.marker.point

    def to_event(self, reporter: str = "") -> Event:
        """The report as typed (possibly invalid); keeps identity fields of an event being edited."""
        start, end = self.time.times()
        x, y = self.point or (float("nan"), float("nan"))
        values = dict(
            category=self.category.code(), organisation=self.organisation.code(),
            event_date=self.event_date.date().toPyDate(), x=x, y=y, time_from=start, time_to=end,
            place_name=self.place_name.text().strip(), description=self.description.toPlainText().strip(),
        )
        if self.base_event is not None:
            return self.base_event.with_changes(**values)
        return Event(reporter=reporter, **values)

    def changes(self) -> dict[str, object]:
        """Fields that differ from the event being edited (what an update or correction sends)."""
        if self.base_event is None:
            return {}
        current = self.to_event()
        names = ("category", "organisation", "event_date", "time_from", "time_to", "x", "y", "place_name",
                 "description")
        return {name: getattr(current, name) for name in names
                if getattr(current, name) != getattr(self.base_event, name)}

    def set_event(self, event: Event | None) -> None:
        """Show a stored report for editing (None: back to an empty new report)."""
        self.base_event = event
        if event is None:
            self.clear(keep_organisation=True, keep_date=True)
            return
        for widget in (self.category, self.organisation, self.event_date, self.place_name, self.description):
            widget.blockSignals(True)
        self.category.set_code(event.category)
        self.organisation.set_code(event.organisation)
        self.event_date.setDate(QDate(event.event_date.year, event.event_date.month, event.event_date.day))
        self.place_name.setText(event.place_name)
        self.description.setPlainText(event.description)
        for widget in (self.category, self.organisation, self.event_date, self.place_name, self.description):
            widget.blockSignals(False)
        self.time.set_times(event.time_from, event.time_to)
        self.set_place(event.x, event.y, centre=False)
        self._touched = set(FIELD_OF_PROBLEM.values())
        self.validate()

    def clear(self, keep_organisation: bool = True, keep_date: bool = True) -> None:
        """Empty the form for the next report; organisation and date usually stay (same reporter, same day)."""
        self.base_event = None
        self.pick_button.setChecked(False)
        self.category.set_code(None)
        if not keep_organisation:
            self.organisation.set_code(None)
        if not keep_date:
            self.event_date.setDate(QDate.currentDate())
        self.time.set_times(now_rounded(), None)
        self.place_name.clear()
        self.description.clear()
        self.place_search.clear()
        self.place_results.clear()
        self.place_results.hide()
        self.marker.hide()
        self._auto_place_name = ""
        self._show_place()
        self._touched.clear()
        self.validate()

    # ------------------------------------------------------------------ place
    def set_place(self, x: float, y: float, name: str | None = None, centre: bool = True) -> None:
        """Put the report at (x, y) in the store CRS; *name* fills an empty (or auto-filled) place name."""
        self.marker.show(x, y)
        if name and (not self.place_name.text().strip() or self.place_name.text() == self._auto_place_name):
            self._auto_place_name = name
            self.place_name.setText(name)
        if centre:
            self.centre_on_point()
        self._show_place()
        self._edited("place")

    def centre_on_point(self) -> None:
        """Bring the point into view if it is not (a place found by name may be anywhere)."""
        where = self.marker.canvas_point()
        if where is not None and not self.canvas.extent().contains(where):
            self.canvas.setCenter(where)
            self.canvas.refresh()

    def _show_place(self) -> None:
        point = self.point
        self.place_label.setVisible(point is not None)  # without a point the field's hint says what to do
        if point is None:
            self.place_label.setText(tr("reporting.place.none"))
            return
        crs = QgsCoordinateReferenceSystem(f"EPSG:{self._epsg}")
        self.place_label.setText(tr("reporting.place.at", x=f"{point[0]:.0f}", y=f"{point[1]:.0f}",
                                    crs=crs.description() or crs.authid()))

    def _picked_on_map(self, x: float, y: float) -> None:
        self._show_place()
        self._edited("place")

    def _pick_toggled(self, checked: bool) -> None:
        if checked:
            self.canvas.setMapTool(self.tool)
        elif self.canvas.mapTool() is self.tool:
            self.canvas.unsetMapTool(self.tool)

    def _search(self, text: str) -> None:
        """Matches for what is typed: coordinates first, then places of the configured layer or districts."""
        self.place_results.clear()
        text = text.strip()
        if not text:
            self.place_results.hide()
            return
        extent = self._context.extent if self._context else None
        parsed = parse_coordinates(text, self._epsg, extent)
        if parsed is not None:
            item = QListWidgetItem(tr("reporting.place.coordinates", x=f"{parsed.x:.0f}", y=f"{parsed.y:.0f}"))
            item.setData(Qt.ItemDataRole.UserRole, PlaceMatch("", parsed.x, parsed.y, "coordinates"))
            self.place_results.addItem(item)
        layer, field, addresses, geocoder = (tuple(self._place_source()) + (None, None))[:4]
        self.online.geocoder = geocoder
        self.online.search(text, self._epsg, extent)
        for match in search_places(text, self._epsg, layer, field, limit=8, addresses=addresses):
            source = {"districts": tr("reporting.districts"), "addresses": tr("reporting.addresses")}.get(match.source,
                                                                                                          match.source)
            item = QListWidgetItem(match.name)
            item.setToolTip(tr("reporting.place.from", source=source))
            item.setData(Qt.ItemDataRole.UserRole, match)
            self.place_results.addItem(item)
        if self.place_results.count() == 0:
            item = QListWidgetItem(tr("reporting.place.no_match"))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.place_results.addItem(item)
        fit_rows(self.place_results, self.place_results.count())
        self.place_results.show()

    def _online_found(self, text: str, matches: list) -> None:
        """Answers from the online geocoder, under the local ones (for the text still typed)."""
        if self.place_search.text().strip() != text.strip() or not matches:
            return
        if self.place_results.count() == 1 and not self.place_results.item(0).flags() & Qt.ItemFlag.ItemIsEnabled:
            self.place_results.clear()  # "no matching place" was only the local answer
        for match in matches:
            item = QListWidgetItem(match.name)
            item.setToolTip(tr("reporting.place.from", source=tr("reporting.online")))
            item.setData(Qt.ItemDataRole.UserRole, match)
            self.place_results.addItem(item)
        fit_rows(self.place_results, self.place_results.count())
        self.place_results.show()

    def _take_first_result(self) -> None:
        if self.place_results.count() and self.place_results.item(0).flags() & Qt.ItemFlag.ItemIsEnabled:
            self._result_chosen(self.place_results.item(0))

    def _result_chosen(self, item: QListWidgetItem) -> None:
        match = item.data(Qt.ItemDataRole.UserRole)
        if not isinstance(match, PlaceMatch):
            return
        self.place_results.hide()
        self.set_place(match.x, match.y, name=match.name or None)

    # ------------------------------------------------------------------ validation
    def _edited(self, field: str) -> None:
        self._touched.add(field)
        self.validate()
        self.changed.emit()

    def touch_all(self) -> None:
        """Show every problem as an error (e.g. when the user tries to send anyway)."""
        self._touched = set(FIELD_OF_PROBLEM.values())
        self.validate()

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)

    @property
    def valid(self) -> bool:
        return self._context is not None and not self._problems

    def validate(self) -> list[Problem]:
        """Check the form as the store would and show each reason beside its field."""
        if self._context is None:
            self._problems = []
            return []
        context = replace(self._context, today=dt.date.today(), now=None)
        self._problems = problems(self.to_event(), context)
        self.privacy_warning.check(self.place_name.text(), self.description.toPlainText())
        by_field: dict[str, list[Problem]] = {name: [] for name in self.errors}
        for problem in self._problems:
            by_field[FIELD_OF_PROBLEM.get(problem.field, "general")].append(problem)
        for name, found in by_field.items():
            hint_only = bool(found) and all(p.code in MISSING_CODES for p in found) and name not in self._touched
            self.errors[name].show_messages([p.message() for p in found], error=not hint_only)
        return self.problems

    def show_problems(self, found: list[Problem]) -> None:
        """Show problems the store reported (e.g. the reference data changed since the form loaded)."""
        self.touch_all()
        for problem in found:
            label = self.errors[FIELD_OF_PROBLEM.get(problem.field, "general")]
            if problem.message() not in label.text():
                label.show_messages([m for m in (label.text(), problem.message()) if m])

    # ------------------------------------------------------------------ lifetime
    def stop_picking(self, hide_marker: bool = False) -> None:
        """Stop capturing map clicks (the owner is hidden or shows something else); maybe hide the marker too."""
        self.pick_button.setChecked(False)
        if hide_marker:
            self.marker.hide()

    def release_canvas(self) -> None:
        """Leave the canvas as found: our tool off, our marker gone."""
        if self.canvas.mapTool() is self.tool:
            self.canvas.unsetMapTool(self.tool)
        self.marker.remove()


