"""*Manage logins…*: an administrator creates, resets, re-roles and disables partner logins.

Every button calls one of the database's own functions (``est.create_login`` …), so the dialog
can do exactly what a database administrator can do with psql, and nothing more. A new or reset
password is generated here, shown once with a copy button, and never stored.
"""

from __future__ import annotations

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QGuiApplication
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...domain.errors import EstError
from ...domain.i18n import tr
from ...domain.model import Login, Role
from ...store import PostgisStore
from .widgets import OrganisationCombo, hint_label, horizontal, named, push_button

ROLES = (Role.REPORTER, Role.REVIEWER, Role.VIEWER, Role.ADMIN)


def role_combo() -> QComboBox:
    combo = QComboBox()
    for role in ROLES:
        combo.addItem(tr(f"role.{role.value}"), role.value)
    return combo


class PasswordDialog(QDialog):
    """Shows a new password once: selectable, with a copy button, and the reminder that it is not kept."""

    def __init__(self, login: str, password: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("logins.password_title"))
        self.password = named(QLineEdit(password), "password")
        self.password.setReadOnly(True)
        self.password.selectAll()
        copy = push_button(tr("logins.copy"), "copy_password",
                           lambda: QGuiApplication.clipboard().setText(self.password.text()))
        note = hint_label("password_note", tr("logins.password_note", login=login))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(horizontal(self.password, copy))
        layout.addWidget(buttons)


class NewLoginDialog(QDialog):
    def __init__(self, store: PostgisStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("logins.new_title"))
        self.login = named(QLineEdit(), "new_login")
        self.login.setPlaceholderText(tr("logins.login_placeholder"))
        self.display_name = named(QLineEdit(), "display_name")
        self.display_name.setMaxLength(200)
        self.organisation = named(OrganisationCombo(), "organisation")
        self.organisation.set_organisations(sorted(store.organisations(active_only=True), key=lambda o: o.name()))
        self.role = named(role_combo(), "role")
        self.error = named(hint_label(), "error")
        self.error.setStyleSheet("color: #b00020;")
        form = QFormLayout()
        form.addRow(tr("logins.login"), self.login)
        form.addRow(tr("logins.display_name"), self.display_name)
        form.addRow(tr("logins.organisation"), self.organisation)
        form.addRow(tr("logins.role"), self.role)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)


class LoginsDialog(QDialog):
    """The list of EST logins of a PostGIS database with the administrator's operations."""

    def __init__(self, store: PostgisStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle(tr("logins.title"))
        self.setObjectName("EstWeeklyLogins")
        self.last_password: str | None = None  # tests read it; never written anywhere
        self.table = named(QTableWidget(0, 5), "logins")
        self.table.setHorizontalHeaderLabels([tr(f"logins.col.{c}") for c in
                                              ("login", "display_name", "organisation", "role", "active")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.new_button = push_button(tr("logins.new"), "new", self.new_login)
        self.reset_button = push_button(tr("logins.reset"), "reset", self.reset_password)
        self.role = named(role_combo(), "change_role")
        self.role_button = push_button(tr("logins.change_role"), "apply_role", self.change_role)
        self.active_button = push_button(tr("logins.disable"), "toggle_active", self.toggle_active)
        self.message = named(hint_label(), "message")
        intro = hint_label("intro", tr("logins.intro"))
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addLayout(horizontal(self.new_button, self.reset_button, self.active_button))
        layout.addLayout(horizontal(QLabel(tr("logins.role")), self.role, self.role_button))
        layout.addWidget(self.message)
        layout.addWidget(close)
        self.resize(720, 460)
        self.refresh()

    # ------------------------------------------------------------------ list
    def refresh(self, select: str | None = None) -> None:
        names = {o.code: o.name() for o in self.store.organisations()}
        self.logins: list[Login] = self.store.logins()
        self.table.setRowCount(len(self.logins))
        for row, login in enumerate(self.logins):
            values = (login.login, login.display_name, names.get(login.organisation or "", login.organisation or ""),
                      tr(f"role.{login.role.value}") if login.role else "",
                      tr("logins.yes") if login.active else tr("logins.no"))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, login.login)
                self.table.setItem(row, column, item)
            if login.login == select:
                self.table.selectRow(row)
        self._selection_changed()

    def selected(self) -> Login | None:
        rows = self.table.selectionModel().selectedRows()
        return self.logins[rows[0].row()] if rows else None

    def select_login(self, name: str) -> None:
        for row, login in enumerate(self.logins):
            if login.login == name:
                self.table.selectRow(row)

    def _selection_changed(self) -> None:
        login = self.selected()
        for button in (self.reset_button, self.role_button, self.active_button):
            button.setEnabled(login is not None)
        if login is not None:
            self.role.setCurrentIndex(max(0, self.role.findData(login.role.value if login.role else "")))
            self.active_button.setText(tr("logins.disable") if login.active else tr("logins.enable"))

    # ------------------------------------------------------------------ operations
    def _run(self, operation: object, done_key: str, login: str, **params: object) -> bool:
        try:
            result = operation()  # type: ignore[operator]
        except EstError as error:
            self.message.setText(error.message())
            return False
        self.message.setText(tr(done_key, login=login, **params))
        self.refresh(select=login)
        if isinstance(result, str):
            self.last_password = result
            self.show_password(login, result)
        return True

    def show_password(self, login: str, password: str) -> None:
        """Modal in QGIS; tests replace it to read the dialog without blocking."""
        PasswordDialog(login, password, self).exec()

    def new_login(self) -> bool:
        dialog = NewLoginDialog(self.store, self)
        return bool(dialog.exec()) and self.create_from(dialog)

    def create_from(self, dialog: NewLoginDialog) -> bool:
        name = dialog.login.text().strip()
        return self._run(lambda: self.store.create_login(name, dialog.organisation.code(),
                                                         Role(dialog.role.currentData()),
                                                         dialog.display_name.text().strip()),
                         "logins.created", name)

    def reset_password(self) -> bool:
        login = self.selected()
        return login is not None and self._run(lambda: self.store.reset_login_password(login.login),
                                               "logins.reset_done", login.login)

    def change_role(self) -> bool:
        login = self.selected()
        role = Role(self.role.currentData())
        return login is not None and self._run(lambda: self.store.set_login_role(login.login, role),
                                               "logins.role_done", login.login, role=tr(f"role.{role.value}"))

    def toggle_active(self) -> bool:
        login = self.selected()
        if login is None:
            return False
        key = "logins.disabled" if login.active else "logins.enabled"
        return self._run(lambda: self.store.set_login_active(login.login, not login.active), key, login.login)
