"""What the reporter and the reviewer see of the personal-data scan (domain.privacy)."""

from __future__ import annotations

from qgis.PyQt.QtWidgets import QLabel, QWidget

from ...domain.i18n import tr
from ...domain.privacy import KINDS, find_personal_data

WARNING_STYLE = "color: #8a4b00; background: #fff4e0; border: 1px solid #e0b070; border-radius: 3px; padding: 3px;"


def describe_findings(found: list[tuple[str, str]]) -> str:
    """'personal identity number “19800101-1234”, phone number “070-…”' in the user's language."""
    return ", ".join(f"{tr(f'privacy.kind.{kind}')} “{value}”" for kind, value in found[:6])


def describe_flags(flags: str) -> str:
    """Stored flags (``personnummer,phone``) as words."""
    kinds = [kind for kind in (flags or "").split(",") if kind in KINDS]
    return ", ".join(tr(f"privacy.kind.{kind}") for kind in kinds)


class PersonalDataWarning(QLabel):
    """Names what the scan found, as the reporter types; submitting anyway stays possible."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("personal_data_warning")
        self.setWordWrap(True)
        self.setStyleSheet(WARNING_STYLE)
        self.found: list[tuple[str, str]] = []
        self.hide()

    def check(self, *texts: str) -> list[tuple[str, str]]:
        self.found = [item for text in texts for item in find_personal_data(text)]
        self.setText(tr("privacy.warning", found=describe_findings(self.found)) if self.found else "")
        self.setVisible(bool(self.found))
        return self.found
