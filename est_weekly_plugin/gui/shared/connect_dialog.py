"""Connect to the EST database on PostGIS through a saved QGIS connection (no password typed here)."""

from __future__ import annotations

from qgis.core import QgsSettings
from qgis.gui import QgsAuthConfigSelect
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ...domain.i18n import tr
from ...domain.settings import EstSettings
from ...store import PgConnectionInfo


def saved_connections() -> list[str]:
    """Names of the PostgreSQL connections saved in QGIS's Data Source Manager."""
    settings = QgsSettings()
    settings.beginGroup("PostgreSQL/connections")
    try:
        return sorted(settings.childGroups())
    finally:
        settings.endGroup()


class ConnectPostgisDialog(QDialog):
    def __init__(self, settings: EstSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("dialog.connect_postgis"))
        self.connection = QComboBox()
        self.connection.setObjectName("connection")
        self.connection.addItems(saved_connections())
        if settings.last_postgis_connection:
            self.connection.setCurrentText(settings.last_postgis_connection)
        self.auth = QgsAuthConfigSelect(self, "postgres")
        self.auth.setConfigId(settings.last_postgis_authcfg)
        self.create = QCheckBox(tr("dialog.create_schema"))
        self.create.setObjectName("create_schema")
        hint = QLabel(tr("dialog.connect_hint"))
        hint.setWordWrap(True)
        form = QFormLayout()
        form.addRow(tr("dialog.saved_connection"), self.connection)
        form.addRow(tr("dialog.authcfg"), self.auth)
        form.addRow("", self.create)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.connection.count() > 0)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def connection_info(self) -> PgConnectionInfo:
        info = PgConnectionInfo.from_qgis_connection(self.connection.currentText())
        if self.auth.configId():
            info.authcfg = self.auth.configId()
        return info

    def create_schema(self) -> bool:
        return self.create.isChecked()
