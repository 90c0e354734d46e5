"""*Privacy and retention…*: what an administrator decides about personal data, in one place.

How long free text and reporter identity are kept (per category if needed), below how many
events a count is not shown to partners, whether viewers may read descriptions; and the two
actions that follow: pseudonymise what is past the limit now, and answer a data-subject access
request with everything linked to one login.
"""

from __future__ import annotations

import json
from pathlib import Path

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...domain.errors import EstError
from ...domain.i18n import tr
from ...store import EventStore, PostgisStore
from .widgets import hint_label, horizontal, named, push_button

VIEWER_DESCRIPTIONS = "viewer_descriptions"


class PrivacyDialog(QDialog):
    def __init__(self, store: EventStore, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.actor = store, actor
        self.setWindowTitle(tr("privacy.dialog.title"))
        self.setObjectName("EstWeeklyPrivacy")
        limits = store.retention_months()
        self.months = named(QSpinBox(), "retention_months")
        self.months.setRange(1, 240)
        self.months.setSuffix(tr("privacy.dialog.months_suffix"))
        self.months.setValue(limits["*"])
        self.categories = named(QTableWidget(0, 2), "category_months")
        self.categories.setHorizontalHeaderLabels([tr("privacy.dialog.category"), tr("privacy.dialog.months")])
        self.categories.verticalHeader().setVisible(False)
        self.categories.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.categories.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.categories.setMinimumHeight(160)
        self._spins: dict[str, QSpinBox] = {}
        for category in store.categories():
            row = self.categories.rowCount()
            self.categories.insertRow(row)
            self.categories.setItem(row, 0, QTableWidgetItem(category.label()))
            spin = QSpinBox()
            spin.setRange(0, 240)
            spin.setSpecialValueText(tr("privacy.dialog.default"))
            spin.setValue(limits.get(category.code, 0))
            self.categories.setCellWidget(row, 1, spin)
            self._spins[category.code] = spin
        self.suppress = named(QSpinBox(), "suppress_below")
        self.suppress.setRange(1, 50)
        self.suppress.setValue(store.suppress_below())
        self.viewer_descriptions = named(QCheckBox(tr("privacy.dialog.viewer_descriptions")), "viewer_descriptions")
        self.viewer_descriptions.setChecked(store.setting(VIEWER_DESCRIPTIONS) == "true")
        self.viewer_descriptions.setVisible(isinstance(store, PostgisStore))

        keep = QGroupBox(tr("privacy.dialog.keep"))
        form = QFormLayout(keep)
        form.addRow(hint_label("keep_hint", tr("privacy.dialog.keep_hint")))
        form.addRow(tr("privacy.dialog.retention"), self.months)
        form.addRow(self.categories)
        share = QGroupBox(tr("privacy.dialog.share"))
        share_form = QFormLayout(share)
        share_form.addRow(tr("privacy.dialog.suppress"), self.suppress)
        share_form.addRow(self.viewer_descriptions)

        self.pseudonymise_button = push_button(tr("privacy.dialog.pseudonymise"), "pseudonymise", self.pseudonymise)
        self.access_login = named(QLineEdit(), "access_login")
        self.access_login.setPlaceholderText(tr("privacy.dialog.access_placeholder"))
        self.access_button = push_button(tr("privacy.dialog.access"), "subject_access", self.ask_subject_access)
        self.message = named(hint_label(), "message")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(keep)
        layout.addWidget(share)
        layout.addLayout(horizontal(self.pseudonymise_button, None))
        layout.addLayout(horizontal((self.access_login, 1), self.access_button))
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(560, 640)

    def per_category(self) -> dict[str, int]:
        return {code: spin.value() for code, spin in self._spins.items() if spin.value() > 0}

    def save(self) -> bool:
        try:
            self.store.set_retention_months(self.months.value(), self.per_category(), actor=self.actor)
            self.store.set_setting("suppress_below", str(self.suppress.value()), actor=self.actor)
            if isinstance(self.store, PostgisStore):
                self.store.set_setting(VIEWER_DESCRIPTIONS, "true" if self.viewer_descriptions.isChecked() else None,
                                       actor=self.actor)
        except EstError as error:
            self.message.setText(error.message())
            return False
        self.message.setText(tr("privacy.dialog.saved"))
        return True

    def confirm(self, text: str) -> bool:
        """Ask before something that cannot be undone (tests replace this)."""
        answer = QMessageBox.question(self, tr("privacy.dialog.title"), text)
        return answer == QMessageBox.StandardButton.Yes

    def pseudonymise(self) -> int | None:
        if not self.save() or not self.confirm(tr("privacy.dialog.pseudonymise_confirm")):
            return None
        try:
            done = self.store.pseudonymise(actor=self.actor)
        except EstError as error:
            self.message.setText(error.message())
            return None
        self.message.setText(tr("privacy.dialog.pseudonymised", count=done))
        return done

    def ask_subject_access(self) -> None:
        login = self.access_login.text().strip()
        if not login:
            return
        path, _ = QFileDialog.getSaveFileName(self, tr("privacy.dialog.access"), f"{login}.json", "JSON (*.json)")
        if path:
            self.subject_access(login, Path(path))

    def subject_access(self, login: str, path: Path) -> bool:
        """Everything linked to *login*, as JSON for an access request (and the export is audited)."""
        try:
            data = self.store.subject_access(login)
            path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
            count = len(data["reports_filed"]) + len(data["reviews_made"]) + len(data["audit_entries"])
            self.store.record_export(self.actor, f"subject access: {login}", path.name, count)
        except (EstError, OSError) as error:
            self.message.setText(error.message() if isinstance(error, EstError) else str(error))
            return False
        self.message.setText(tr("privacy.dialog.access_done", login=login, count=count, path=str(path)))
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return True
