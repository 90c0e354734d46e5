"""The compilation's trends tab: the week against its baseline, by group, and the emerging cells.

The summary says how the last week of the filter compares with the weeks before it (or that
the week is not over yet: then it is counted, never compared); the table ranks categories,
organisations or districts by their change (sortable by number, rising rows highlighted); the
list holds the grid cells that emerge or fade, and choosing one asks for a zoom like a hot-spot.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Optional, Sequence

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QBrush, QColor
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...analysis.compilation import CompilationResult
from ...domain.i18n import format_number, tr
from .hotspots_tab import CellList

RISING = QColor("#fbd9c4")  # background of the trend rows that rose
TREND_GROUPS = ("categories", "organisations", "districts")
COLUMNS = ("name", "current", "baseline", "change", "percent")
CHANGE_COLUMN = 3


class SortItem(QTableWidgetItem):
    """A table cell that sorts by a number (UserRole) rather than by its text."""

    def __init__(self, text: str, key: float) -> None:
        super().__init__(text)
        self.setData(Qt.ItemDataRole.UserRole, float(key))
        self.setTextAlignment(int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter))

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        if mine is None or theirs is None:
            return super().__lt__(other)
        return float(mine) < float(theirs)


def change_text(row: Any) -> str:
    """A row's change in words: "up 12 %", "down 5 %", "unchanged" or "no baseline"."""
    if row.relative is None:
        return tr("compilation.trends.no_baseline")
    percent = abs(round(row.relative * 100))
    if percent == 0:
        return tr("compilation.trends.unchanged")
    return tr("compilation.trends.up" if row.relative > 0 else "compilation.trends.down", percent=percent)


def trend_cells(row: Any, name: str, compared: bool) -> list:
    """The five cells of one table row (an unfinished week has counts, no change)."""
    percent = "–" if row.relative is None else f"{format_number(row.relative * 100, 0, sign=True)} %"
    relative = row.relative if row.relative is not None else (1e9 if row.current else 0.0)
    return [
        QTableWidgetItem(name),
        SortItem(str(row.current), row.current),
        SortItem(format_number(row.baseline), row.baseline),
        SortItem(format_number(row.change, sign=True) if compared else "–", row.change if compared else 0.0),
        SortItem(percent if compared else "–", relative if compared else 0.0),
    ]


def emerging_items(result: CompilationResult) -> list:
    """One line per emerging (▲, highlighted) or fading (▼) cell; a placeholder when a report has none."""
    items = []
    for cell in result.emerging_cells:
        rising = int(cell["trend"]) > 0
        trend = tr("compilation.hotspots.trend.emerging" if rising else "compilation.hotspots.trend.fading")
        item = QListWidgetItem(("▲ " if rising else "▼ ") + tr(
            "compilation.trends.cell_line", trend=trend, district=cell.get("district", ""),
            current=cell["current"], previous=cell["previous"], p=format_number(float(cell['p']), None, 3)))
        item.setData(Qt.ItemDataRole.UserRole, cell)
        if rising:
            item.setBackground(QBrush(RISING))
        items.append(item)
    if result.trends is not None and not result.emerging_cells:
        placeholder = QListWidgetItem(tr("compilation.trends.no_cells"))
        placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
        items.append(placeholder)
    return items


class TrendsTab(QWidget):
    """Summary, group choice, the sortable trend table, the emerging cells and the method."""

    def __init__(self, today: dt.date, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.today = today
        self.result: Optional[CompilationResult] = None
        self._names: Dict[str, Dict[str, str]] = {group: {} for group in TREND_GROUPS}
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        self.summary = QLabel(tr("compilation.trends.no_data"))
        self.summary.setWordWrap(True)
        box.addWidget(self.summary)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("compilation.trends.group")))
        self.group = QComboBox()
        self.group.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.group.setMinimumContentsLength(10)
        for key in TREND_GROUPS:
            self.group.addItem(tr(f"compilation.trends.by_{key}"), key)
        self.group.currentIndexChanged.connect(lambda _index: self.fill_table())
        row.addWidget(self.group, 1)
        box.addLayout(row)
        self.table = self._table()
        box.addWidget(self.table, 3)
        self.emerging_title = QLabel()
        self.emerging_title.setWordWrap(True)
        box.addWidget(self.emerging_title)
        self.emerging_list = CellList()
        self.emerging_list.setToolTip(tr("compilation.hotspots.emerging_method"))
        self.zoomRequested = self.emerging_list.zoomRequested
        box.addWidget(self.emerging_list, 2)
        self.note = QLabel()
        self.note.setWordWrap(True)
        box.addWidget(self.note)

    @staticmethod
    def _table() -> QTableWidget:
        table = QTableWidget(0, len(COLUMNS))
        table.setHorizontalHeaderLabels([tr(f"compilation.trends.col.{key}") for key in COLUMNS])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().setVisible(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        table.setSortingEnabled(True)
        return table

    def set_reference(self, categories: Sequence[Any], organisations: Sequence[Any]) -> None:
        """The names the table shows for codes (districts carry their own names)."""
        self._names = {"categories": {c.code: c.label() for c in categories},
                       "organisations": {o.code: o.name() for o in organisations},
                       "districts": {}}

    def show_result(self, result: CompilationResult) -> None:
        self.result = result
        self._show_texts(result.trends)
        self.fill_table()
        self.emerging_list.refill(emerging_items(result))

    def _show_texts(self, report: Any) -> None:
        if report is None:
            self.summary.setText(tr("compilation.trends.no_data"))
            self.emerging_title.setText("")
            self.note.setText("")
            return
        from ...analysis.trends import week_label

        total = report.total
        if report.unfinished:  # counted so far, never compared as if the week were over
            self.summary.setText(tr("compilation.trends.unfinished", week=report.week,
                                    current=total.current, date=self.today.isoformat()))
        else:
            self.summary.setText(tr(
                "compilation.trends.summary", week=report.week, current=total.current,
                first=report.baseline_labels[0], last=report.baseline_labels[-1],
                baseline=format_number(total.baseline), change=change_text(total)))
        weeks = len(report.baseline_labels)
        previous = report.monday - dt.timedelta(weeks=weeks)
        self.emerging_title.setText(tr(
            "compilation.trends.emerging_title",
            first=week_label(report.monday - dt.timedelta(weeks=weeks - 1)), last=report.week,
            prev_first=week_label(previous - dt.timedelta(weeks=weeks - 1)), prev_last=week_label(previous)))
        self.note.setText(tr("compilation.trends.method", week=report.week) + " "
                          + tr("compilation.hotspots.emerging_method"))

    def fill_table(self) -> None:
        """The rows of the chosen group that had events, the largest rise first."""
        table = self.table
        table.setSortingEnabled(False)
        table.setRowCount(0)
        report = self.result.trends if self.result is not None else None
        if report is None:
            table.setSortingEnabled(True)
            return
        group = self.group.currentData() or TREND_GROUPS[0]
        names = self._names.get(group, {})
        rows = [r for r in getattr(report, group) if r.current or r.baseline]
        weeks = ", ".join(report.baseline_labels + [report.week])
        compared = not report.unfinished
        table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            tip = tr("compilation.trends.weekly_tip", weeks=weeks, counts=", ".join(str(v) for v in r.weekly))
            for column, cell in enumerate(trend_cells(r, names.get(r.key, r.name), compared)):
                cell.setToolTip(tip)
                if compared and r.change > 0:
                    cell.setBackground(QBrush(RISING))
                table.setItem(i, column, cell)
        table.setSortingEnabled(True)
        table.sortItems(CHANGE_COLUMN, Qt.SortOrder.DescendingOrder)
