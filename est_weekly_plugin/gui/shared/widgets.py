"""Small widgets every EST dock shares: labels and buttons, code combos, field errors and report tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, Union

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QIcon, QPainter, QPixmap
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...domain.model import Category, Event, Organisation

ERROR_STYLE = "color: #b00020;"
HINT_STYLE = "color: #6b6b6b;"
# Problems that only say "not filled in yet": shown as a grey hint until the user touches the field.
W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str) -> W:
    """*widget* with its object name set (what tests and style sheets find it by)."""
    widget.setObjectName(name)
    return widget


def hint_label(name: str | None = None, text: str = "") -> QLabel:
    """A grey, wrapped explanation (role note, what a list shows, …)."""
    label = QLabel(text)
    if name is not None:
        label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(HINT_STYLE)
    return label


def push_button(text: str, name: str, slot: Callable[..., Any]) -> QPushButton:
    """A named push button that runs *slot* when clicked."""
    button = named(QPushButton(text), name)
    button.clicked.connect(slot)
    return button


# What vertical() and horizontal() take: a widget, a nested layout, (widget, stretch factor), or None for a stretch.
LayoutItem = Union[QWidget, QLayout, tuple, None]


def add_items(layout: QBoxLayout, *items: LayoutItem) -> QBoxLayout:
    """Put *items* into *layout* in order (e.g. ``add_items(QVBoxLayout(group_box), …)``); returns it."""
    for item in items:
        if item is None:
            layout.addStretch(1)
        elif isinstance(item, tuple):
            layout.addWidget(*item)
        elif isinstance(item, QLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item)
    return layout


def vertical(*items: LayoutItem, spacing: int | None = None) -> QWidget:
    """A widget stacking *items* top to bottom, without margins of its own."""
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    if spacing is not None:
        layout.setSpacing(spacing)
    add_items(layout, *items)
    return widget


def horizontal(*items: LayoutItem) -> QHBoxLayout:
    """A layout placing *items* side by side (a row of buttons, a footer)."""
    layout = QHBoxLayout()
    add_items(layout, *items)
    return layout


def scroll_area(content: QWidget) -> QScrollArea:
    """*content* scrolling vertically only, without a frame: a dock's body at any dock height."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(content)
    return scroll


def swatch(colour: str, size: int = 14) -> QIcon:
    """A filled square in a category's colour, so the list matches the map legend."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QColor(60, 60, 60))
    painter.setBrush(QColor(colour))
    painter.drawRect(1, 1, size - 3, size - 3)
    painter.end()
    return QIcon(pixmap)


class CodeCombo(QComboBox):
    """A combo of coded items (code in the item data) with an optional empty first choice."""

    def __init__(self, placeholder: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._placeholder = placeholder
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)

    def _reset(self) -> None:
        self.clear()
        if self._placeholder is not None:
            self.addItem(self._placeholder, None)

    def code(self) -> str:
        value = self.currentData()
        return str(value) if value else ""

    def set_code(self, code: str | None) -> None:
        index = self.findData(code) if code else (0 if self._placeholder is not None else -1)
        if index < 0 and code:
            # A code that is no longer offered (inactive category): show it rather than lose it.
            self.addItem(code, code)
            index = self.count() - 1
        self.setCurrentIndex(index)

    def set_items(self, items: Iterable[tuple[QIcon | None, str, str, str]]) -> None:
        """Offer ``(icon, label, code, tooltip)`` items, keeping the current choice; emits nothing."""
        current = self.code()
        self.blockSignals(True)
        self._reset()
        for icon, label, code, tooltip in items:
            if icon is None:
                self.addItem(label, code)
            else:
                self.addItem(icon, label, code)
            self.setItemData(self.count() - 1, tooltip, Qt.ItemDataRole.ToolTipRole)
        self.set_code(current or None)
        self.blockSignals(False)


class CategoryCombo(CodeCombo):
    """Categories in the user's language, each with its map colour."""

    def set_categories(self, categories: Iterable[Category], lang: str | None = None) -> None:
        self.set_items((swatch(c.colour), c.label(lang), c.code, c.description(lang)) for c in categories)

    def icon_of(self, code: str) -> QIcon:
        """The colour swatch of a category (the first item's when the code is not offered)."""
        return self.itemIcon(max(self.findData(code), 0))


class OrganisationCombo(CodeCombo):
    """Reporting organisations in the user's language."""

    def set_organisations(self, organisations: Iterable[Organisation], lang: str | None = None) -> None:
        self.set_items((None, o.name(lang), o.code, o.name(lang)) for o in organisations)


class FieldError(QLabel):
    """The reason a field is not valid, shown right under it (hidden when there is none)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"error_{name}")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.is_error = False
        self.hide()

    def show_messages(self, messages: list[str], error: bool = True) -> None:
        self.is_error = bool(messages) and error
        self.setText("\n".join(messages))
        self.setStyleSheet(ERROR_STYLE if error else HINT_STYLE)
        self.setVisible(bool(messages))


def fit_rows(view: QAbstractItemView, rows: int, minimum: int = 1, maximum: int = 5) -> None:
    """Make a list or table exactly as tall as its rows (within limits): no empty box under one hit."""
    shown = max(minimum, min(rows, maximum))
    row_height = view.sizeHintForRow(0) if rows else view.fontMetrics().height() + 8
    header = getattr(view, "horizontalHeader", None)
    extra = header().sizeHint().height() if header is not None and header().isVisible() else 0
    view.setFixedHeight(shown * row_height + extra + 2 * view.frameWidth() + 2)


def event_table(name: str, headers: Sequence[str], stretch_column: int, multi_select: bool = False,
                word_wrap: bool = False) -> QTableWidget:
    """A read-only table of reports, one row each, selected by whole rows; the report is row data."""
    table = named(QTableWidget(0, len(headers)), name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi_select
                           else QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.setWordWrap(word_wrap)
    if word_wrap:
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)
    # in a narrow dock the stretching column would shrink to a sliver ("N…"): no column narrower than
    # its header needs; the table scrolls sideways inside itself instead
    header.setMinimumSectionSize(min(header_text_width(header, headers[stretch_column]) + 4, 120))
    return table


def header_text_width(header: QHeaderView, text: str) -> int:
    """What a header section needs to show *text* whole: the text and the style's margins."""
    margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    return header.fontMetrics().horizontalAdvance(text) + 2 * margin


def add_event_row(table: QTableWidget, event: Event, values: Sequence[str], tooltip: str) -> int:
    """Append a row showing *values* for *event* (kept as the first cell's data); returns the row."""
    row = table.rowCount()
    table.insertRow(row)
    for column, value in enumerate(values):
        item = QTableWidgetItem(value)
        item.setToolTip(tooltip)
        if column == 0:
            item.setData(Qt.ItemDataRole.UserRole, event)
        table.setItem(row, column, item)
    return row


def set_event_rows(table: QTableWidget, rows: Sequence[tuple[Any, Sequence[str], str, QIcon | None]]) -> None:
    """Replace the table's rows with (event, values, tooltip, icon of the second column) in one pass:
    one resize and one repaint for hundreds of reports, not one per row."""
    table.setUpdatesEnabled(False)
    sorting = table.isSortingEnabled()
    table.setSortingEnabled(False)
    try:
        table.setRowCount(0)
        table.setRowCount(len(rows))
        for row, (event, values, tooltip, icon) in enumerate(rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(tooltip)
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, event)
                elif column == 1 and icon is not None:
                    item.setIcon(icon)
                table.setItem(row, column, item)
    finally:
        table.setSortingEnabled(sorting)
        table.setUpdatesEnabled(True)


def event_in_row(table: QTableWidget, row: int) -> Event:
    """The report a row of an :func:`event_table` shows."""
    return table.item(row, 0).data(Qt.ItemDataRole.UserRole)


def selected_events(table: QTableWidget) -> list[Event]:
    """The reports of the selected rows, top to bottom."""
    model = table.selectionModel()
    rows = sorted(index.row() for index in model.selectedRows()) if model is not None else []
    return [event_in_row(table, row) for row in rows]


def selected_event(table: QTableWidget) -> Event | None:
    """The report of the (first) selected row, or None."""
    selected = selected_events(table)
    return selected[0] if selected else None


def select_event(table: QTableWidget, uuid: str) -> bool:
    """Select the row of the report *uuid*; False when the table does not show it."""
    for row in range(table.rowCount()):
        if event_in_row(table, row).uuid == uuid:
            table.selectRow(row)
            return True
    return False
