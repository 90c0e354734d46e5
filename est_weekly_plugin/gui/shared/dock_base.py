"""What every EST dock shares: the session it follows, its message pages, status line and store calls.

A dock built on :class:`EstDock` shows one of two pages in ``self.stack``: a centred message
(no database open, the role may not use this dock, the store could not be read) or the dock's
own content. It follows ``session.store_changed`` by itself; a subclass says which permission
it needs and fills in two hooks::

    class CompilationDock(EstDock):
        permission = "compile"
        not_allowed_key = "compilation.not_allowed"   # formatted with role=…

        def __init__(self, iface, session, parent=None):
            super().__init__(tr("compilation.dock.title"), "EstWeeklyCompilationDock", iface, session, parent)
            content = QWidget()
            layout = QVBoxLayout(content)
            layout.addWidget(self.role_label)      # the base makes these two labels;
            layout.addWidget(self.status)          # the subclass places them
            ...
            self.set_content(content)
            self.follow_session()                  # connect the signals and show the right page

        def load_store(self, store):               # may raise EstError: shown as the message page
            ...
        def refresh_events(self):                  # reports changed (and the store was shown)
            ...

Store calls the user asked for go through :meth:`EstDock.run_store_action` (status line and
message bar), background reads through :meth:`EstDock.try_store` (status line only): both turn
an ``EstError`` into the words the user reads, so no dock needs its own ``except`` ladder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from qgis.core import Qgis
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QCloseEvent, QHideEvent
from qgis.PyQt.QtWidgets import QLabel, QMessageBox, QStackedWidget, QVBoxLayout, QWidget

from ...domain.errors import ConflictError, DatabaseUnavailable, EstError, ValidationError
from ...domain.i18n import tr
from ...maps.places import AddressSource, configured_layer, online_geocoder
from .session import EstSession

if TYPE_CHECKING:  # the form is the reporting step's; a dock only holds one
    from ..reporting.event_form import EventForm
from .widgets import ERROR_STYLE, hint_label

SUCCESS_STYLE = "color: #1b5e20;"
# How long (seconds) a dock's message stays in QGIS's message bar.
MESSAGE_SECONDS = 6

T = TypeVar("T")


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


def status_label() -> QLabel:
    """The dock's status line: plain text (never rich text from the database), hidden while empty."""
    label = QLabel()
    label.setObjectName("status")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.hide()
    return label


class EstDock(QgsDockWidget):
    """A dock that follows the session's store and role and speaks to the user in one consistent way.

    Class attributes a subclass sets:

    ``permission``
        What ``session.may`` must allow for the content page to show (empty: any open store).
    ``not_allowed_key``
        The text shown when it does not, formatted with ``role`` (the role's name).
    ``no_store_key``
        The text shown while no database is open.

    Attributes the base provides: ``iface``, ``session``, ``canvas``, ``stack`` (message page
    first, then the content), ``message_page`` / ``page_message`` (the page and its label),
    ``role_label`` and ``status`` (to be placed in the content by the subclass), and ``form``
    (the dock's :class:`EventForm`, or None: its map tool is released whenever the dock shows a
    message, is hidden or is closed).
    """

    permission = ""
    not_allowed_key = ""
    no_store_key = "reporting.no_store"

    def __init__(self, title: str, object_name: str, iface: Any, session: EstSession,
                 parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setObjectName(object_name)
        self.iface = iface
        self.session = session
        self.canvas = iface.mapCanvas()
        self.form: EventForm | None = None
        self.role_label = hint_label("role_note")
        self.status = status_label()
        self.stack = QStackedWidget()
        self.message_page, self.page_message = message_page("page_message")
        self.stack.addWidget(self.message_page)
        self.content_page: QWidget | None = None
        self.setWidget(self.stack)

    def set_content(self, widget: QWidget) -> None:
        """The page shown while a store is open and the role may use the dock."""
        self.content_page = widget
        self.stack.addWidget(widget)

    def follow_session(self) -> None:
        """Keep in step with the session (store or role changed, events changed) and show the right page now."""
        self.session.store_changed.connect(self.store_changed_later)
        self.session.events_changed.connect(self.refresh_events)
        self.refresh_store()

    def store_changed_later(self) -> None:
        """Read the new store in a turn of the event loop of this dock's own: with every dock open,
        opening a database then freezes QGIS for the longest dock's read, never for their sum."""
        self._store_refresh_pending = True
        self.session.run_in_turn(self._refresh_store_now)

    def _refresh_store_now(self, later: bool = True) -> None:
        if getattr(self, "_store_refresh_pending", False):
            self._store_refresh_pending = False
            self.refresh_store(reports_later=later)

    def _show_reports_now(self, store: Any) -> None:
        if self.session.store is store and self.stack.currentWidget() is self.content_page:
            self.store_shown()

    def settle(self) -> None:
        """Apply a store change at once rather than in later turns of the event loop (tests, scripts)."""
        self._refresh_store_now(later=False)

    # ------------------------------------------------------------------ store and role
    def refresh_store(self, reports_later: bool = False) -> None:
        """Follow the session: no database, a role without ``permission``, or the content for this store.

        *reports_later*: the reports are read in a turn of their own after the content page shows
        (a database being opened: the dock's reference lists and its reports are two short freezes)."""
        self.leave_store()
        store = self.session.store
        if store is None:
            self.show_message(tr(self.no_store_key))
            return
        if self.permission and not self.session.may(self.permission):
            self.show_message(tr(self.not_allowed_key, role=tr(f"role.{self.session.role.value}")))
            return
        try:
            self.load_store(store)
        except EstError as error:
            self.show_message(error.message())
            return
        self.role_label.setText(self.session.role_note())
        self.set_status("")
        self.stack.setCurrentWidget(self.content_page)
        if reports_later:
            self.session.run_in_turn(lambda: self._show_reports_now(store))
        else:
            self.store_shown()

    def leave_store(self) -> None:
        """Hook: forget what belonged to the previous store (an open report, an edit); runs first."""

    def load_store(self, store: Any) -> None:
        """Hook: fill the content from *store* (reference lists, …); an ``EstError`` shows as the message page."""

    def store_shown(self) -> None:
        """Hook: the content page is now current for a usable store; by default :meth:`refresh_events`."""
        self.refresh_events()

    def refresh_events(self) -> None:
        """Hook: reload what shows reports (connected to ``session.events_changed``; may run without a store)."""

    def show_message(self, text: str) -> None:
        """Show the message page with *text* instead of the content."""
        self.release_map(hide_marker=True)
        self.page_message.setText(text)
        self.stack.setCurrentWidget(self.message_page)

    def place_source(self) -> tuple[Any, str]:
        """(place layer, its name field, address source, online geocoder): the configured place layer or
        (None, "") for the shipped districts, the municipality's addresses and QGIS's Nominatim
        geocoder when configured (else None)."""
        settings = self.session.settings
        layer = configured_layer(settings.place_layer_id, settings.place_field)
        addresses = AddressSource(settings.address_source, settings.address_provider, settings.address_street_field,
                                  settings.address_number_field) if settings.address_source else None
        if settings.online_geocoder and getattr(self, "_geocoder", None) is None:
            self._geocoder = online_geocoder()
        geocoder = getattr(self, "_geocoder", None) if settings.online_geocoder else None
        return ((layer, settings.place_field) if layer is not None else (None, "")) + (addresses, geocoder)

    # ------------------------------------------------------------------ speaking to the user
    def set_status(self, text: str, style: str = ERROR_STYLE) -> None:
        """The dock's own status line (an error unless *style* says otherwise); empty hides it."""
        self.status.setText(text)
        self.status.setStyleSheet(style)
        self.status.setVisible(bool(text))

    def push_message(self, text: str, level: int) -> None:
        """Tell the user in QGIS's message bar too (for what they may miss in the dock)."""
        bar = self.iface.messageBar() if self.iface is not None else None
        if bar is not None:
            bar.pushMessage(tr("plugin.name"), text, level, MESSAGE_SECONDS)

    def report_success(self, text: str) -> None:
        """A change went through: green in the status line and in the message bar."""
        self.set_status(text, SUCCESS_STYLE)
        self.push_message(text, Qgis.Success)

    def confirm(self, text: str) -> bool:
        """Ask before something that cannot be undone (tests replace this)."""
        answer = QMessageBox.question(self, tr("plugin.name"), text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ store calls
    def run_store_action(self, action: Callable[[], T], kept_message_key: str) -> tuple[bool, T | None]:
        """Run a store call that changes something; ``(True, result)``, or ``(False, None)`` once explained.

        Whatever the store refuses is said in the status line, and — but for the problems of a
        ``ValidationError``, which are shown beside their fields of ``form`` — in the message bar:
        a lost connection with *kept_message_key* (formatted with ``reason``: what was typed is
        kept), a conflict followed by :meth:`on_conflict`, anything else in the error's own words.
        Success is for the caller to report (see :meth:`report_success`).
        """
        try:
            return True, action()
        except ValidationError as error:
            if self.form is not None:
                self.form.show_problems(error.problems)
            self.set_status(error.message())
        except ConflictError as error:
            self.set_status(error.message())
            self.push_message(error.message(), Qgis.Warning)
            self.on_conflict(error)
        except DatabaseUnavailable as error:
            text = tr(kept_message_key, reason=error.message())
            self.set_status(text)
            self.push_message(text, Qgis.Warning)
        except EstError as error:
            self.set_status(error.message())
            self.push_message(error.message(), Qgis.Warning)
        return False, None

    def on_conflict(self, error: ConflictError) -> None:
        """Hook: someone else changed the record meanwhile (e.g. reload and show the current state)."""

    def try_store(self, action: Callable[[], T]) -> T | None:
        """Run a store call quietly: on an ``EstError`` say why in the status line only and return None."""
        try:
            return action()
        except EstError as error:
            self.set_status(error.message())
            return None

    # ------------------------------------------------------------------ lifetime
    def release_map(self, hide_marker: bool) -> None:
        """Stop capturing map clicks for ``form`` (and take its marker off the map when asked)."""
        if self.form is not None:
            self.form.stop_picking(hide_marker=hide_marker)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt's name
        """A hidden dock must not keep capturing map clicks, nor leave its marker on the map
        (the point itself is kept and shows again with the dock)."""
        self.release_map(hide_marker=False)
        for marker in self.markers():
            marker.conceal(True)
        super().hideEvent(event)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        for marker in self.markers():
            marker.conceal(False)
        super().showEvent(event)

    def markers(self) -> list[Any]:
        """The dock's markers on the map (the form's placement; subclasses add theirs)."""
        form = getattr(self, "form", None)
        return [form.marker] if form is not None else []

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.release_map(hide_marker=True)
        super().closeEvent(event)
