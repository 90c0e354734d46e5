"""Last week's priorities and how they went: the follow-up table of the meeting panel.

One row per priority of the week before: rank, name, this week's count near it and the
change (read-only), a status combo and an editable comment. :func:`changed_follow_ups` reads
back only the rows the user changed, so saving writes (and audits) nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QAbstractItemView, QComboBox, QTableWidget

from ...domain.i18n import format_number, tr
from ...domain.meetings import STATUSES, FollowUp
from ..shared.widgets import add_event_row, event_table, named

# Columns of the follow-up table; the status column holds a combo, the comment is editable.
COLUMNS = ("rank", "name", "count", "change", "status", "comment")
STATUS_COLUMN, COMMENT_COLUMN = 4, 5


def follow_up_table() -> QTableWidget:
    """The empty table: the comment column stretches and is edited by typing or a double-click."""
    table = event_table("follow_up", [tr(f"meeting.panel.col.{key}") for key in COLUMNS],
                        stretch_column=COMMENT_COLUMN)
    table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                          | QAbstractItemView.EditTrigger.EditKeyPressed
                          | QAbstractItemView.EditTrigger.AnyKeyPressed)
    return table


def fill_follow_ups(table: QTableWidget, follow_ups: Sequence[FollowUp]) -> None:
    """One row per follow-up; only the comment is editable, the status is chosen in a combo."""
    table.setRowCount(0)
    for item in follow_ups:
        row = add_event_row(table, item.priority, [
            str(item.priority.rank), item.priority.name, str(item.current), format_number(item.change, sign=True), "",
            item.priority.follow_up_comment], item.priority.name)
        for column in range(table.columnCount()):
            if column != COMMENT_COLUMN:
                cell = table.item(row, column)
                cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
        combo = named(QComboBox(), "follow_status")
        for status in STATUSES:
            combo.addItem(tr(f"meeting.status.{status}"), status)
        combo.setCurrentIndex(max(combo.findData(item.priority.status), 0))
        table.setCellWidget(row, STATUS_COLUMN, combo)


def changed_follow_ups(table: QTableWidget, follow_ups: Sequence[FollowUp]) -> list[tuple[FollowUp, str, str]]:
    """``(follow-up, status, comment)`` of the rows whose status or comment the user changed."""
    changed = []
    for row, item in enumerate(follow_ups):
        combo = table.cellWidget(row, STATUS_COLUMN)
        status = combo.currentData() if isinstance(combo, QComboBox) else item.priority.status
        comment = table.item(row, COMMENT_COLUMN).text()
        if status != item.priority.status or comment != item.priority.follow_up_comment:
            changed.append((item, status, comment))
    return changed
