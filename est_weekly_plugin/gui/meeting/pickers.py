"""The pickers of a meeting priority: categories and organisations ticked by name, and its time focus.

A priority stores codes (``klotter``, ``polisen``) and a time focus as text ("fre–lör 18–23");
the user never types either: :class:`CategoryList` and :class:`OrganisationList` show labels in
the user's language (categories with their map colour) and :class:`TimeFocusWidget` writes and
reads back the stored text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAbstractItemView, QCheckBox, QLabel, QListWidget, QListWidgetItem, QSpinBox, QVBoxLayout, QWidget

from ...domain.i18n import language, tr
from ...domain.model import Category, Organisation
from ..shared.widgets import CodeCombo, add_items, fit_rows, hint_label, horizontal, named, swatch

# The dash the stored time focus uses between days and between hours ("fre–lör 20–02").
DASH = "–"


def weekday_names(lang: str | None = None) -> list[str]:
    """Monday first, short and lower case as a time focus is written ("mån" … "sön", "mon" … "sun")."""
    return [name.strip().lower() for name in tr("compilation.weekdays.short", lang).split(",")]


def format_time_focus(first_day: int | None, last_day: int | None, hours: tuple[int, int] | None,
                      lang: str | None = None) -> str:
    """The stored time focus: "fre–lör 18–23", "fre 18–23", "fre–lör", "22–04" or "" (any time)."""
    names = weekday_names(lang)
    parts = []
    if first_day is not None:
        days = names[first_day]
        if last_day is not None and last_day != first_day:
            days += DASH + names[last_day]
        parts.append(days)
    if hours is not None:
        parts.append(f"{hours[0]:02d}{DASH}{hours[1]:02d}")
    return " ".join(parts)


def parse_time_focus(text: str, lang: str | None = None) -> tuple[int | None, int | None, tuple[int, int] | None]:
    """``(first day, last day, (from hour, to hour))`` of a stored time focus; what is not there is None."""
    names = weekday_names(lang)
    first = last = None
    hours = None
    for token in text.lower().replace("-", DASH).split():
        found = re.fullmatch(r"(\d{1,2})(?::00)?" + DASH + r"(\d{1,2})(?::00)?", token)
        if found:
            hours = (int(found.group(1)) % 24, int(found.group(2)) % 25)
            continue
        days = [names.index(d) for d in token.split(DASH) if d in names]
        if days:
            first, last = days[0], days[-1]
    return first, last, hours


class CheckList(QListWidget):
    """Several codes chosen by ticking labelled items (icon, label in the user's language, code as data)."""

    changed = pyqtSignal()

    def __init__(self, max_rows: int = 5, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._max_rows = max_rows
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # long names elide; tooltip has all
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.itemChanged.connect(lambda _item: self.changed.emit())
        fit_rows(self, 0, maximum=max_rows)

    def set_items(self, items: Iterable[tuple[QIcon | None, str, str, str]]) -> None:
        """Offer ``(icon, label, code, tooltip)`` items, keeping what was ticked; emits nothing."""
        ticked = self.codes()
        self.blockSignals(True)
        self.clear()
        for icon, label, code, tooltip in items:
            self._add(icon, label, code, tooltip)
        self.blockSignals(False)
        self.set_codes(ticked)

    def _add(self, icon: QIcon | None, label: str, code: str, tooltip: str) -> QListWidgetItem:
        item = QListWidgetItem(label) if icon is None else QListWidgetItem(icon, label)
        item.setData(Qt.ItemDataRole.UserRole, code)
        item.setToolTip(tooltip)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        self.addItem(item)
        fit_rows(self, self.count(), maximum=self._max_rows)
        return item

    def item_of(self, code: str) -> QListWidgetItem | None:
        for row in range(self.count()):
            if self.item(row).data(Qt.ItemDataRole.UserRole) == code:
                return self.item(row)
        return None

    def codes(self) -> tuple[str, ...]:
        """The ticked codes, in list order."""
        return tuple(str(self.item(row).data(Qt.ItemDataRole.UserRole)) for row in range(self.count())
                     if self.item(row).checkState() == Qt.CheckState.Checked)

    def set_codes(self, codes: Sequence[str]) -> None:
        """Tick exactly *codes*; a code no longer offered (inactive) is shown rather than lost."""
        self.blockSignals(True)
        for code in codes:
            if self.item_of(code) is None:
                self._add(None, code, code, code)
        wanted = set(codes)
        for row in range(self.count()):
            item = self.item(row)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in wanted
                               else Qt.CheckState.Unchecked)
        self.blockSignals(False)
        self.changed.emit()


class CategoryList(CheckList):
    """Categories in the user's language, each with its map colour."""

    def set_categories(self, categories: Iterable[Category], lang: str | None = None) -> None:
        self.set_items((swatch(c.colour), c.label(lang), c.code, c.description(lang)) for c in categories)


class OrganisationList(CheckList):
    """Organisations in the user's language."""

    def set_organisations(self, organisations: Iterable[Organisation], lang: str | None = None) -> None:
        self.set_items((None, o.name(lang), o.code, o.name(lang)) for o in organisations)


class TimeFocusWidget(QWidget):
    """When a priority needs attention: a weekday range and an hour range, each optional.

    ``text()`` is what the meeting stores and prints ("fre–lör 18–23"); ``set_text`` reads it back.
    """

    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        names = [name.strip() for name in tr("compilation.weekdays.short").split(",")]  # as the user reads them
        self.first_day = named(CodeCombo(tr("meeting.panel.any_day")), "focus_first_day")
        self.last_day = named(CodeCombo(tr("meeting.panel.same_day")), "focus_last_day")
        for combo in (self.first_day, self.last_day):
            combo.setMinimumContentsLength(5)
            combo.set_items((None, name, str(day), name) for day, name in enumerate(names))
            combo.set_code(None)
            combo.currentIndexChanged.connect(self._update)
        self.hours_check = named(QCheckBox(tr("meeting.panel.hours")), "focus_hours")
        self.hour_from = named(QSpinBox(), "focus_hour_from")
        self.hour_to = named(QSpinBox(), "focus_hour_to")
        self.hour_from.setRange(0, 23)
        self.hour_to.setRange(0, 24)
        self.hour_from.setValue(18)
        self.hour_to.setValue(23)
        for spin in (self.hour_from, self.hour_to):
            spin.valueChanged.connect(self._update)
        self.hours_check.toggled.connect(self._update)
        self.preview = hint_label("focus_preview")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        add_items(layout, horizontal((self.first_day, 1), QLabel(DASH), (self.last_day, 1)),
                  horizontal(self.hours_check, self.hour_from, QLabel(DASH), self.hour_to, None), self.preview)
        self._update()

    def _day(self, combo: CodeCombo) -> int | None:
        return int(combo.code()) if combo.code() else None

    def text(self) -> str:
        first = self._day(self.first_day)
        last = self._day(self.last_day) if first is not None else None
        hours = (self.hour_from.value(), self.hour_to.value()) if self.hours_check.isChecked() else None
        return format_time_focus(first, last, hours, language())

    def set_text(self, text: str) -> None:
        first, last, hours = parse_time_focus(text, language())
        for widget in (self.first_day, self.last_day, self.hours_check, self.hour_from, self.hour_to):
            widget.blockSignals(True)
        self.first_day.set_code(None if first is None else str(first))
        self.last_day.set_code(None if last is None or last == first else str(last))
        self.hours_check.setChecked(hours is not None)
        if hours is not None:
            self.hour_from.setValue(hours[0])
            self.hour_to.setValue(hours[1])
        for widget in (self.first_day, self.last_day, self.hours_check, self.hour_from, self.hour_to):
            widget.blockSignals(False)
        self._update()

    def _update(self) -> None:
        self.last_day.setEnabled(bool(self.first_day.code()))
        self.hour_from.setEnabled(self.hours_check.isChecked())
        self.hour_to.setEnabled(self.hours_check.isChecked())
        text = self.text()
        self.preview.setText(tr("meeting.panel.time_focus_preview", text=text) if text
                             else tr("meeting.panel.any_time"))
        self.changed.emit()

