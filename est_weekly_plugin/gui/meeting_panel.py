"""The weekly meeting dock: the week's meeting, its ranked priorities, last week's follow-up, the PDF.

Thin by design: every change goes through ``MeetingRepository`` (versioned, audited) and
the PDF through ``ReportTask`` (a QgsTask with a progress bar), so the panel holds no rules.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from qgis.core import Qgis, QgsApplication, QgsGeometry, QgsPointXY
from qgis.gui import QgsDockWidget, QgsMapToolEmitPoint
from qgis.PyQt.QtCore import QDate, Qt
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import EstError
from ..core.filters import CompilationFilter
from ..core.hotspots import HotSpot, hotspot_analysis
from ..core.i18n import tr
from ..core.meetings import FollowUp, Meeting, MeetingRepository, Priority
from ..core.model import day_number
from ..core.report import ReportOptions, compute_report, open_in_designer
from ..core.tasks_report import ReportTask
from ..core.trends import week_label, week_monday
from .session import EstSession


def _codes(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


class MeetingPanel(QgsDockWidget):
    """Create the week's meeting, set priorities (drawn or promoted), follow up, export the PDF."""

    def __init__(self, iface: Any, session: EstSession, parent: QWidget | None = None) -> None:
        super().__init__(tr("meeting.panel.title"), parent)
        self.iface = iface
        self.session = session
        self.meeting: Meeting | None = None
        self.priorities: list[Priority] = []
        self.follow_ups: list[FollowUp] = []
        self.hotspots: list[HotSpot] = []
        self.task: ReportTask | None = None
        self.map_tool: QgsMapToolEmitPoint | None = None
        self.last_pdf: Path | None = None
        self._build()
        session.store_changed.connect(self.reload)
        session.events_changed.connect(self.reload)
        self.reload()

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        top = QHBoxLayout()
        self.week_edit = QLineEdit(week_label(dt.date.today() - dt.timedelta(days=7)))
        self.week_edit.setObjectName("week")
        self.week_edit.editingFinished.connect(self.reload)
        top.addWidget(QLabel(tr("meeting.panel.week")))
        top.addWidget(self.week_edit)
        self.create_button = self._button(tr("meeting.panel.create"), "create", self.create_meeting)
        top.addWidget(self.create_button)
        layout.addLayout(top)

        self.meeting_box = QGroupBox(tr("meeting.panel.meeting"))
        form = QFormLayout(self.meeting_box)
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.organisations_edit = QLineEdit()
        self.organisations_edit.setObjectName("organisations")
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setObjectName("notes")
        self.notes_edit.setMaximumHeight(60)
        form.addRow(tr("meeting.panel.date"), self.date_edit)
        form.addRow(tr("meeting.panel.organisations"), self.organisations_edit)
        form.addRow(tr("meeting.panel.notes"), self.notes_edit)
        form.addRow(self._button(tr("meeting.panel.save"), "save_meeting", self.save_meeting))
        layout.addWidget(self.meeting_box)

        self.priority_box = QGroupBox(tr("meeting.panel.priorities"))
        box = QVBoxLayout(self.priority_box)
        self.priority_table = self._table("priorities", ["kind", "rank", "name", "responsible", "action",
                                                         "time_focus"])
        box.addWidget(self.priority_table)
        add_form = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("priority_name")
        self.categories_edit = QLineEdit()
        self.categories_edit.setObjectName("priority_categories")
        self.responsible_edit = QLineEdit()
        self.responsible_edit.setObjectName("priority_responsible")
        self.action_edit = QLineEdit()
        self.action_edit.setObjectName("priority_action")
        self.time_edit = QLineEdit()
        self.time_edit.setObjectName("priority_time")
        self.radius_spin = QDoubleSpinBox()
        self.radius_spin.setRange(10, 5000)
        self.radius_spin.setValue(150)
        self.radius_spin.setSuffix(" m")
        for key, widget in (("name", self.name_edit), ("categories", self.categories_edit),
                            ("responsible", self.responsible_edit), ("action", self.action_edit),
                            ("time_focus", self.time_edit), ("radius", self.radius_spin)):
            add_form.addRow(tr(f"meeting.panel.field.{key}"), widget)
        box.addLayout(add_form)
        buttons = QHBoxLayout()
        buttons.addWidget(self._button(tr("meeting.panel.add_focus"), "add_focus", self.add_focus))
        buttons.addWidget(self._button(tr("meeting.panel.pick_point"), "pick_point", self.start_picking))
        buttons.addWidget(self._button(tr("meeting.panel.remove"), "remove", self.remove_selected))
        box.addLayout(buttons)
        promote = QHBoxLayout()
        self.hotspot_combo = QComboBox()
        self.hotspot_combo.setObjectName("hotspots")
        promote.addWidget(self.hotspot_combo, 1)
        promote.addWidget(self._button(tr("meeting.panel.promote"), "promote", self.promote_selected))
        box.addLayout(promote)
        layout.addWidget(self.priority_box)

        self.follow_box = QGroupBox(tr("meeting.panel.follow_up"))
        follow = QVBoxLayout(self.follow_box)
        self.follow_table = self._table("follow_up", ["rank", "name", "count", "change", "status", "comment"])
        follow.addWidget(self.follow_table)
        follow.addWidget(self._button(tr("meeting.panel.save_follow_up"), "save_follow_up", self.save_follow_ups))
        layout.addWidget(self.follow_box)

        self.export_box = QGroupBox(tr("meeting.panel.export"))
        export = QHBoxLayout(self.export_box)
        self.paper_combo = QComboBox()
        self.paper_combo.setObjectName("paper")
        self.paper_combo.addItem(tr("meeting.panel.a3"), "A3")
        self.paper_combo.addItem(tr("meeting.panel.a4"), "A4")
        self.atlas_check = QCheckBox(tr("meeting.panel.atlas"))
        self.atlas_check.setChecked(True)
        export.addWidget(self.paper_combo)
        export.addWidget(self.atlas_check)
        export.addWidget(self._button(tr("meeting.panel.export_pdf"), "export_pdf", self.export_pdf))
        export.addWidget(self._button(tr("meeting.panel.designer"), "designer", self.open_designer))
        self.progress = QProgressBar()
        self.progress.setObjectName("progress")
        self.progress.setVisible(False)
        layout.addWidget(self.export_box)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        self.setWidget(body)

    def _button(self, text: str, name: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _table(self, name: str, keys: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(keys))
        table.setObjectName(name)
        table.setHorizontalHeaderLabels([tr(f"meeting.panel.col.{key}") for key in keys])
        table.horizontalHeader().setStretchLastSection(True)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        table.verticalHeader().setVisible(False)
        return table

    # ------------------------------------------------------------------ state
    @property
    def repo(self) -> MeetingRepository | None:
        return MeetingRepository(self.session.store) if self.session.store is not None else None

    @property
    def week(self) -> str:
        try:
            return week_label(week_monday(self.week_edit.text()))
        except ValueError:
            return week_label(dt.date.today() - dt.timedelta(days=7))

    def _message(self, text: str, level: Qgis.MessageLevel = Qgis.MessageLevel.Info) -> None:
        self.status.setText(text)
        self.session.message.emit(text, int(level))

    def reload(self) -> None:
        """Show the week's meeting, priorities, follow-up and hot-spots (or why nothing can be shown)."""
        repo = self.repo
        editable = repo is not None and self.session.may("meeting")
        for widget in (self.meeting_box, self.priority_box, self.follow_box, self.export_box, self.create_button):
            widget.setEnabled(repo is not None)
        if repo is None:
            self.status.setText(tr("meeting.panel.no_store"))
            self.meeting = None
            self.priorities, self.follow_ups, self.hotspots = [], [], []
            self._fill_tables()
            return
        self.meeting = repo.meeting(self.week)
        self.create_button.setEnabled(editable and self.meeting is None)
        self.meeting_box.setEnabled(editable and self.meeting is not None)
        self.priority_box.setEnabled(editable and self.meeting is not None)
        self.follow_box.setEnabled(editable)
        if self.meeting is not None:
            self.date_edit.setDate(QDate(self.meeting.meeting_date or week_monday(self.week) + dt.timedelta(days=7)))
            self.organisations_edit.setText(", ".join(self.meeting.organisations))
            self.notes_edit.setPlainText(self.meeting.notes)
            self.priorities = repo.priorities(self.meeting)
            self.status.setText(tr("meeting.panel.status", week=self.week, count=len(self.priorities)))
        else:
            self.priorities = []
            self.status.setText(tr("meeting.panel.no_meeting", week=self.week))
        columns = self.session.store.load_columns()
        self.follow_ups = repo.follow_ups(self.week, columns)
        monday = week_monday(self.week)
        in_week = (columns.day >= day_number(monday)) & (columns.day <= day_number(monday) + 6)
        week_columns = columns.subset(in_week)
        settings = self.session.store.settings
        self.hotspots = hotspot_analysis(
            week_columns, extent=(settings.extent.xmin, settings.extent.ymin, settings.extent.xmax,
                                  settings.extent.ymax)).hotspots if len(week_columns) else []
        self._fill_tables()

    def _fill_tables(self) -> None:
        self.priority_table.setRowCount(0)
        for priority in self.priorities:
            self._add_row(self.priority_table, [tr(f"meeting.kind.{priority.kind}"), str(priority.rank),
                                                priority.name, ", ".join(priority.responsible), priority.action,
                                                priority.time_focus])
        self.follow_table.setRowCount(0)
        for item in self.follow_ups:
            row = self._add_row(self.follow_table, [str(item.priority.rank), item.priority.name, str(item.current),
                                                    f"{item.change:+.1f}", "", item.priority.follow_up_comment])
            combo = QComboBox()
            for status in ("open", "continue", "done", "dropped"):
                combo.addItem(tr(f"meeting.status.{status}"), status)
            combo.setCurrentIndex(max(combo.findData(item.priority.status), 0))
            self.follow_table.setCellWidget(row, 4, combo)
            comment = self.follow_table.item(row, 5)
            comment.setFlags(comment.flags() | Qt.ItemFlag.ItemIsEditable)
        self.hotspot_combo.clear()
        for spot in self.hotspots:
            self.hotspot_combo.addItem(tr("meeting.panel.hotspot_item", rank=spot.rank, district=spot.district,
                                          count=spot.window_count), spot.rank)

    @staticmethod
    def _add_row(table: QTableWidget, values: list[str]) -> int:
        row = table.rowCount()
        table.insertRow(row)
        for column, value in enumerate(values):
            item = QTableWidgetItem(value)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            table.setItem(row, column, item)
        return row

    def _guard(self, action: Any) -> bool:
        """Run a store change; errors (conflicts, validation) reach the user in their language."""
        try:
            action()
        except EstError as error:
            self._message(error.message(), Qgis.MessageLevel.Warning)
            self.reload()
            return False
        self.reload()
        return True

    # ------------------------------------------------------------------ actions
    def create_meeting(self) -> bool:
        repo = self.repo
        if repo is None:
            return False
        return self._guard(lambda: repo.create_meeting(self.week, self.session.user))

    def save_meeting(self) -> bool:
        repo, meeting = self.repo, self.meeting
        if repo is None or meeting is None:
            return False
        return self._guard(lambda: repo.update_meeting(
            meeting, self.session.user, meeting_date=self.date_edit.date().toPyDate(),
            organisations=_codes(self.organisations_edit.text()), notes=self.notes_edit.toPlainText()))

    def _new_priority(self, kind: str, wkt: str | None = None) -> Priority:
        repo, meeting = self.repo, self.meeting
        assert repo is not None and meeting is not None
        return Priority(kind=kind, rank=repo.next_rank(meeting, kind), name=self.name_edit.text().strip(), wkt=wkt,
                        radius_m=self.radius_spin.value() if wkt and wkt.upper().startswith("POINT") else None,
                        categories=_codes(self.categories_edit.text()),
                        responsible=_codes(self.responsible_edit.text()), action=self.action_edit.text().strip(),
                        time_focus=self.time_edit.text().strip())

    def add_focus(self) -> bool:
        repo, meeting = self.repo, self.meeting
        if repo is None or meeting is None:
            return False
        return self._guard(lambda: repo.add_priority(meeting, self._new_priority("focus"), self.session.user))

    def add_hotspot_at(self, x: float, y: float) -> bool:
        """A hot-spot priority around a point picked on the map (store CRS), with the chosen radius."""
        repo, meeting = self.repo, self.meeting
        if repo is None or meeting is None:
            return False
        wkt = QgsGeometry.fromPointXY(QgsPointXY(x, y)).asWkt(2)
        return self._guard(lambda: repo.add_priority(meeting, self._new_priority("hotspot", wkt), self.session.user))

    def start_picking(self) -> None:
        canvas = self.iface.mapCanvas() if self.iface is not None else None
        if canvas is None:
            return
        self.map_tool = QgsMapToolEmitPoint(canvas)

        def picked(point: QgsPointXY, _button: Any) -> None:
            from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject

            transform = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(),
                                               QgsCoordinateReferenceSystem(f"EPSG:{self.session.store.settings.epsg}"),
                                               QgsProject.instance())
            target = transform.transform(point)
            canvas.unsetMapTool(self.map_tool)
            self.add_hotspot_at(target.x(), target.y())

        self.map_tool.canvasClicked.connect(picked)
        canvas.setMapTool(self.map_tool)
        self._message(tr("meeting.panel.pick_hint"))

    def promote_selected(self) -> bool:
        """One click: the chosen hot-spot of the week becomes the next-ranked priority."""
        repo, meeting = self.repo, self.meeting
        index = self.hotspot_combo.currentIndex()
        if repo is None or meeting is None or not 0 <= index < len(self.hotspots):
            return False
        spot = self.hotspots[index]
        name = self.name_edit.text().strip() or None
        return self._guard(lambda: repo.promote_hotspot(meeting, spot, self.session.user, name=name))

    def remove_selected(self) -> bool:
        repo = self.repo
        rows = sorted({index.row() for index in self.priority_table.selectedIndexes()})
        if repo is None or not rows:
            return False
        chosen = [self.priorities[r] for r in rows if r < len(self.priorities)]

        def remove() -> None:
            for priority in chosen:
                repo.delete_priority(priority, self.session.user)

        return self._guard(remove)

    def save_follow_ups(self) -> bool:
        repo = self.repo
        if repo is None:
            return False

        def save() -> None:
            for row, item in enumerate(self.follow_ups):
                combo = self.follow_table.cellWidget(row, 4)
                status = combo.currentData() if isinstance(combo, QComboBox) else item.priority.status
                comment = self.follow_table.item(row, 5).text()
                if status != item.priority.status or comment != item.priority.follow_up_comment:
                    if status == "open":
                        repo.update_priority(item.priority, self.session.user, status=status,
                                             follow_up_comment=comment)
                    else:
                        repo.set_follow_up(item.priority, status, comment, self.session.user)

        return self._guard(save)

    # ------------------------------------------------------------------ report
    def report_options(self) -> ReportOptions:
        return ReportOptions(week=self.week, filter=CompilationFilter(), paper=self.paper_combo.currentData(),
                             atlas=self.atlas_check.isChecked())

    def export_pdf(self, path: str | None = None) -> ReportTask | None:
        """Start the PDF export as a QgsTask; the progress bar follows it, the path is reported at the end."""
        store = self.session.store
        if store is None or self.task is not None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, tr("meeting.panel.export_pdf"),
                                                  str(Path.home() / f"EST_{self.week}.pdf"), "PDF (*.pdf)")
            if not path:
                return None
        task = ReportTask(store, self.report_options(), Path(path))
        task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        task.done.connect(self._export_done)
        task.failed.connect(self._export_failed)
        self.task = task
        self.progress.setValue(0)
        self.progress.setVisible(True)
        QgsApplication.taskManager().addTask(task)
        return task

    def _export_done(self, path: str, pages: int, warnings: list) -> None:
        self.task = None
        self.progress.setVisible(False)
        self.last_pdf = Path(path)
        for warning in warnings:
            self._message(warning, Qgis.MessageLevel.Warning)
        self._message(tr("meeting.panel.exported", path=path, pages=pages), Qgis.MessageLevel.Success)

    def _export_failed(self, message: str) -> None:
        self.task = None
        self.progress.setVisible(False)
        self._message(message, Qgis.MessageLevel.Critical)

    def open_designer(self) -> Any:
        """Open the filled layout in QGIS's layout designer to adjust it or save it as a template."""
        store = self.session.store
        if store is None:
            return None
        try:
            data = compute_report(store, self.report_options())
            return open_in_designer(data, self.iface)
        except EstError as error:
            self._message(error.message(), Qgis.MessageLevel.Warning)
            return None
