"""The weekly meeting dock: the week's meeting, its ranked priorities, last week's follow-up, the PDF.

Thin by design: every change goes through ``MeetingRepository`` (versioned, audited) and
the PDF through ``ReportTask`` (a QgsTask with a progress bar), so the panel holds no rules.
What every dock shares (no database, role not allowed, status line, message bar, store errors)
comes from :class:`~..shared.dock_base.EstDock`; the priority's pickers (categories,
organisations, time focus) live in :mod:`.pickers`, the follow-up table in :mod:`.follow_up_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
)
from qgis.gui import QgsMapToolEmitPoint
from qgis.PyQt.QtCore import QCoreApplication, QDate, QElapsedTimer, Qt
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from ...analysis.filters import CompilationFilter
from ...analysis.follow_up import follow_ups
from ...analysis.hotspots import HotSpot
from ...analysis.tasks import TaskKeeper, function_task
from ...analysis.weekly import analyse_week
from ...domain.errors import EstError
from ...domain.i18n import language, tr
from ...domain.meetings import FollowUp, Meeting, Priority
from ...domain.week import IsoWeek
from ...report.data import ReportOptions
from ...report.export import designer_stages
from ...report.task import DesignerDataTask, ReportTask
from ...store.meetings import MeetingRepository
from ..shared.dock_base import EstDock
from ..shared.session import EstSession
from ..shared.turns import in_next_turn
from ..shared.widgets import (
    add_event_row,
    add_items,
    event_table,
    hint_label,
    horizontal,
    named,
    push_button,
    scroll_area,
    selected_events,
    vertical,
)
from .follow_up_table import changed_follow_ups, fill_follow_ups, follow_up_table
from .pickers import CategoryList, OrganisationList, TimeFocusWidget


class MeetingPanel(EstDock):
    """Create the week's meeting, set priorities (drawn or promoted), follow up, export the PDF."""

    permission = "meeting"
    not_allowed_key = "meeting.panel.not_allowed"
    no_store_key = "meeting.panel.no_store"

    def __init__(self, iface: Any, session: EstSession, parent: QWidget | None = None) -> None:
        super().__init__(tr("meeting.panel.title"), "EstWeeklyMeetingPanel", iface, session, parent)
        self.meeting: Meeting | None = None
        self.priorities: list[Priority] = []
        self.follow_ups: list[FollowUp] = []
        self.hotspots: list[HotSpot] = []
        self.analysis = TaskKeeper()  # the week's follow-up and hot-spots, computed in the background
        self.task: ReportTask | None = None
        self.designer_task: DesignerDataTask | None = None  # until the layout is in the project
        self.designer_layout: Any = None
        self.map_tool: QgsMapToolEmitPoint | None = None
        self.last_pdf: Path | None = None
        self.set_content(scroll_area(self._build()))
        self.follow_session()

    # ------------------------------------------------------------------ widgets
    def _build(self) -> QWidget:
        self.summary = hint_label("summary")
        self.week_edit = named(QLineEdit(IsoWeek.last_complete().label), "week")
        self.week_edit.editingFinished.connect(self.refresh_events)
        self.create_button = push_button(tr("meeting.panel.create"), "create", lambda: self.create_meeting())

        self.meeting_box = QGroupBox(tr("meeting.panel.meeting"))
        self.date_edit = named(QDateEdit(), "meeting_date")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.organisations_list = named(OrganisationList(), "organisations")
        self.notes_edit = named(QPlainTextEdit(), "notes")
        self.notes_edit.setMaximumHeight(60)
        form = self._form(QFormLayout(self.meeting_box), (("date", self.date_edit),
                                                          ("organisations", self.organisations_list),
                                                          ("notes", self.notes_edit)))
        form.addRow(horizontal(None, push_button(tr("meeting.panel.save"), "save_meeting",
                                                 lambda: self.save_meeting())))

        self.priority_box = QGroupBox(tr("meeting.panel.priorities"))
        self.priority_table = event_table("priorities", self._headers(
            ("kind", "rank", "name", "responsible", "action", "time_focus")), stretch_column=2, multi_select=True)
        self.name_edit = named(QLineEdit(), "priority_name")
        self.categories_list = named(CategoryList(), "priority_categories")
        self.responsible_list = named(OrganisationList(), "priority_responsible")
        self.action_edit = named(QLineEdit(), "priority_action")
        self.time_focus = named(TimeFocusWidget(), "priority_time")
        self.radius_spin = named(QDoubleSpinBox(), "priority_radius")
        self.radius_spin.setRange(10, 5000)
        self.radius_spin.setDecimals(0)
        self.radius_spin.setValue(150)
        self.radius_spin.setSuffix(" m")
        fields = QFormLayout()
        self._form(fields, (("name", self.name_edit), ("categories", self.categories_list),
                            ("responsible", self.responsible_list), ("action", self.action_edit),
                            ("time_focus", self.time_focus), ("radius", self.radius_spin)))
        self.hotspot_combo = named(QComboBox(), "hotspots")
        # a button a row, the hot-spot list on a row of its own: QGIS's default dock width is about 300 px
        add_items(QVBoxLayout(self.priority_box), self.priority_table, fields,
            horizontal(push_button(tr("meeting.panel.add_focus"), "add_focus", lambda: self.add_focus()), None),
            horizontal(push_button(tr("meeting.panel.pick_point"), "pick_point", lambda: self.start_picking()), None),
            horizontal(None, push_button(tr("meeting.panel.remove"), "remove", lambda: self.remove_selected())),
            self.hotspot_combo,
            horizontal(None, push_button(tr("meeting.panel.promote"), "promote", lambda: self.promote_selected())))

        self.follow_box = QGroupBox(tr("meeting.panel.follow_up"))
        self.follow_table = follow_up_table()
        add_items(QVBoxLayout(self.follow_box), self.follow_table, horizontal(
            None, push_button(tr("meeting.panel.save_follow_up"), "save_follow_up", lambda: self.save_follow_ups())))

        self.export_box = QGroupBox(tr("meeting.panel.export"))
        self.paper_combo = named(QComboBox(), "paper")
        self.paper_combo.addItem(tr("meeting.panel.a3"), "A3")
        self.paper_combo.addItem(tr("meeting.panel.a4"), "A4")
        self.atlas_check = named(QCheckBox(tr("meeting.panel.atlas")), "atlas")
        self.atlas_check.setChecked(True)
        self.progress = named(QProgressBar(), "progress")
        self.progress.setVisible(False)
        add_items(QVBoxLayout(self.export_box), self.paper_combo, self.atlas_check, horizontal(
            push_button(tr("meeting.panel.export_pdf"), "export_pdf", lambda: self.export_pdf()), None),
            horizontal(push_button(tr("meeting.panel.designer"), "designer", lambda: self.open_designer()), None),
            self.progress)

        return vertical(self.role_label, self.status, self.summary,
                        horizontal(QLabel(tr("meeting.panel.week")), (self.week_edit, 1), self.create_button),
                        self.meeting_box, self.priority_box, self.follow_box, self.export_box, None)

    @staticmethod
    def _headers(keys: Sequence[str]) -> list[str]:
        return [tr(f"meeting.panel.col.{key}") for key in keys]

    @staticmethod
    def _form(form: QFormLayout, rows: Sequence[tuple[str, QWidget]]) -> QFormLayout:
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, widget in rows:
            label = QLabel(tr(f"meeting.panel.field.{key}"))
            label.setBuddy(widget)
            form.addRow(label, widget)
        return form

    # ------------------------------------------------------------------ state
    @property
    def repo(self) -> MeetingRepository | None:
        return MeetingRepository(self.session.store) if self.session.store is not None else None

    @property
    def week(self) -> str:
        try:
            return IsoWeek.of(self.week_edit.text()).label
        except ValueError:
            return IsoWeek.last_complete().label

    def load_store(self, store: Any) -> None:
        """The pickers for this store: its categories and organisations in the user's language."""
        lang = language()
        self.categories_list.set_categories(store.categories(active_only=True), lang)
        organisations = store.organisations(active_only=True)
        self.organisations_list.set_organisations(organisations, lang)
        self.responsible_list.set_organisations(organisations, lang)

    def leave_store(self) -> None:
        self.release_map(hide_marker=True)
        self.meeting = None
        self.priorities, self.follow_ups, self.hotspots = [], [], []
        self._fill_tables()

    def refresh_events(self) -> None:
        """Show the week's meeting, priorities, follow-up and hot-spots."""
        store, repo = self.session.store, self.repo
        if store is None or repo is None or not self.session.may(self.permission):
            return
        loaded = self.try_store(lambda: self._load(store, repo))
        if loaded is None:
            self.meeting = None
            self.priorities, self.follow_ups, self.hotspots = [], [], []
        else:
            self._analyse(store)
        self.create_button.setEnabled(self.meeting is None)
        self.meeting_box.setEnabled(self.meeting is not None)
        self.priority_box.setEnabled(self.meeting is not None)
        if self.meeting is not None:
            self.summary.setText(tr("meeting.panel.status", week=self.week, count=len(self.priorities)))
        else:
            self.summary.setText(tr("meeting.panel.no_meeting", week=self.week))
        self._fill_tables()

    def _load(self, store: Any, repo: MeetingRepository) -> bool:
        self.meeting = repo.meeting(self.week)
        if self.meeting is not None:
            self.date_edit.setDate(QDate(self.meeting.meeting_date or IsoWeek.of(self.week).next().monday))
            self.organisations_list.set_codes(self.meeting.organisations)
            self.notes_edit.setPlainText(self.meeting.notes)
            self.priorities = repo.priorities(self.meeting)
        else:
            self.priorities = []
            # the meeting that would be created: the Monday after the week (never Qt's 2000-01-01)
            self.date_edit.setDate(QDate(IsoWeek.of(self.week).next().monday))
        return True

    def _analyse(self, store: Any) -> None:
        """The follow-up counts and the week's hot-spot areas need every approved event: read and
        analysed in a task on a connection of its own, so the panel never freezes the map."""
        week = self.week

        def work(task: Any) -> tuple[list[FollowUp], list[HotSpot]]:
            own = store.reopen()
            try:
                columns = own.load_columns()
                task.setProgress(50)
                outcomes = follow_ups(MeetingRepository(own), week, columns)
                # the one weekly analysis: the same hot-spots as the dock, the PDF and Processing
                return outcomes, analyse_week(own, week, columns=columns).hotspots
            finally:
                own.close()

        def done(result: Any, error: Any) -> None:
            if error is not None or result is None or week != self.week:
                if error is not None:
                    self.set_status(error.message() if isinstance(error, EstError) else str(error))
                return
            self.follow_ups, self.hotspots = result
            self._fill_tables()

        self.analysis.start("analyse", function_task(f"EST: meeting {week}", work, done))

    def wait_until_idle(self, timeout_ms: int = 60_000) -> bool:
        """Process events until the analysis, a PDF export and the designer's layout are done (tests, scripts)."""
        clock = QElapsedTimer()
        clock.start()
        while self.busy() and clock.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
        return not self.busy()

    def busy(self) -> bool:
        """The week's analysis, a PDF export or the designer's layout is still on its way."""
        return self.analysis.running or self.task is not None or self.designer_task is not None

    def _names(self) -> dict[str, str]:
        """Organisation names as the pickers show them, by code."""
        widget = self.responsible_list
        return {str(widget.item(row).data(Qt.ItemDataRole.UserRole)): widget.item(row).text()
                for row in range(widget.count())}

    def _fill_tables(self) -> None:
        names = self._names()
        self.priority_table.setRowCount(0)
        for priority in self.priorities:
            add_event_row(self.priority_table, priority, [
                tr(f"meeting.kind.{priority.kind}"), str(priority.rank), priority.name,
                ", ".join(names.get(code, code) for code in priority.responsible), priority.action,
                priority.time_focus], priority.name)
        fill_follow_ups(self.follow_table, self.follow_ups)
        self.hotspot_combo.clear()
        for spot in self.hotspots:
            self.hotspot_combo.addItem(tr("meeting.panel.hotspot_item", rank=spot.rank, district=spot.label,
                                          count=spot.count), spot.rank)

    def _change(self, action: Callable[[], Any]) -> bool:
        """Run a store change (errors reach the user in their language), then show the new state."""
        ok, _result = self.run_store_action(action, "meeting.panel.kept")
        if ok:
            self.set_status("")
        self.refresh_events()
        return ok

    # ------------------------------------------------------------------ actions
    def create_meeting(self) -> bool:
        repo = self.repo
        if repo is None:
            return False
        return self._change(lambda: repo.create_meeting(self.week, self.session.user))

    def save_meeting(self) -> bool:
        repo, meeting = self.repo, self.meeting
        if repo is None or meeting is None:
            return False
        return self._change(lambda: repo.update_meeting(
            meeting, self.session.user, meeting_date=self.date_edit.date().toPyDate(),
            organisations=self.organisations_list.codes(), notes=self.notes_edit.toPlainText()))

    def _new_priority(self, repo: MeetingRepository, meeting: Meeting, kind: str, wkt: str | None = None) -> Priority:
        return Priority(kind=kind, rank=repo.next_rank(meeting, kind), name=self.name_edit.text().strip(), wkt=wkt,
                        radius_m=self.radius_spin.value() if wkt and wkt.upper().startswith("POINT") else None,
                        categories=self.categories_list.codes(), responsible=self.responsible_list.codes(),
                        action=self.action_edit.text().strip(), time_focus=self.time_focus.text())

    def add_focus(self) -> bool:
        repo, meeting = self.repo, self.meeting
        if repo is None or meeting is None:
            return False
        return self._change(lambda: repo.add_priority(meeting, self._new_priority(repo, meeting, "focus"),
                                                      self.session.user))

    def add_hotspot_at(self, x: float, y: float) -> bool:
        """A hot-spot priority around a point picked on the map (store CRS), with the chosen radius."""
        repo, meeting = self.repo, self.meeting
        if repo is None or meeting is None:
            return False
        wkt = QgsGeometry.fromPointXY(QgsPointXY(x, y)).asWkt(2)
        return self._change(lambda: repo.add_priority(meeting, self._new_priority(repo, meeting, "hotspot", wkt),
                                                      self.session.user))

    def start_picking(self) -> None:
        """The next click on the map becomes a hot-spot priority (the map tool is released after it)."""
        if self.canvas is None or self.session.store is None:
            return
        self.release_map(hide_marker=False)
        self.map_tool = QgsMapToolEmitPoint(self.canvas)
        self.map_tool.canvasClicked.connect(self._picked)
        self.canvas.setMapTool(self.map_tool)
        self.set_status(tr("meeting.panel.pick_hint"), "")

    def _picked(self, point: QgsPointXY, _button: Any) -> None:
        store = self.session.store
        self.release_map(hide_marker=False)
        if store is None:
            return
        transform = QgsCoordinateTransform(self.canvas.mapSettings().destinationCrs(),
                                           QgsCoordinateReferenceSystem(f"EPSG:{store.settings.epsg}"),
                                           QgsProject.instance())
        target = transform.transform(point)
        self.add_hotspot_at(target.x(), target.y())

    def release_map(self, hide_marker: bool) -> None:
        super().release_map(hide_marker)
        if self.map_tool is not None and self.canvas is not None and self.canvas.mapTool() is self.map_tool:
            self.canvas.unsetMapTool(self.map_tool)

    def promote_selected(self) -> bool:
        """One click: the chosen hot-spot of the week becomes the next-ranked priority."""
        repo, meeting = self.repo, self.meeting
        index = self.hotspot_combo.currentIndex()
        if repo is None or meeting is None or not 0 <= index < len(self.hotspots):
            return False
        spot = self.hotspots[index]
        name = self.name_edit.text().strip() or None
        return self._change(lambda: repo.promote_hotspot(meeting, spot, self.session.user, name=name))

    def remove_selected(self) -> bool:
        repo = self.repo
        chosen: list[Priority] = list(selected_events(self.priority_table))  # rows hold priorities
        if repo is None or not chosen:
            return False

        def remove() -> None:
            for priority in chosen:
                repo.delete_priority(priority, self.session.user)

        return self._change(remove)

    def save_follow_ups(self) -> bool:
        repo = self.repo
        if repo is None:
            return False

        def save() -> None:
            for item, status, comment in changed_follow_ups(self.follow_table, self.follow_ups):
                if status == "open":
                    repo.update_priority(item.priority, self.session.user, status=status, follow_up_comment=comment)
                else:
                    repo.set_follow_up(item.priority, status, comment, self.session.user)

        return self._change(save)

    # ------------------------------------------------------------------ report
    def report_options(self) -> ReportOptions:
        return ReportOptions(week=self.week, filter=CompilationFilter(), paper=self.paper_combo.currentData(),
                             atlas=self.atlas_check.isChecked())

    def export_pdf(self, path: str | None = None) -> ReportTask | None:
        """Start the PDF export as a QgsTask; the progress bar follows it, the path is reported at the end."""
        store = self.session.store
        if store is None or self.task is not None or not self.session.may(self.permission):
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, tr("meeting.panel.export_pdf"),
                                                  str(Path.home() / f"EST_{self.week}.pdf"), "PDF (*.pdf)")
            if not path:
                return None
        task = ReportTask(store, self.report_options(), Path(path), actor=self.session.user)  # audited by the task
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
            self.push_message(warning, Qgis.Warning)
        self.report_success(tr("meeting.panel.exported", path=path, pages=pages))

    def _export_failed(self, message: str) -> None:
        self.task = None
        self.progress.setVisible(False)
        self.set_status(message)
        self.push_message(message, Qgis.Critical)

    def open_designer(self) -> DesignerDataTask | None:
        """Put the filled layout into the project and open QGIS's layout designer (adjust, save as template).

        The numbers and charts come from a task; the layout joins the user's project on the GUI
        thread in short steps, one per turn of the event loop, so QGIS never freezes for it.
        """
        store = self.session.store
        if store is None or self.designer_task is not None or not self.session.may(self.permission):
            return None
        task = DesignerDataTask(store, self.report_options())
        task.ready.connect(self._designer_data_ready)
        task.failed.connect(self._designer_failed)
        self.designer_task = task
        self.designer_layout = None
        QgsApplication.taskManager().addTask(task)
        return task

    def _designer_data_ready(self, data: Any) -> None:
        stages = designer_stages(data, self.iface)
        in_next_turn(lambda: self._next_designer_stage(stages))  # not in the turn that ended the task

    def _next_designer_stage(self, stages: Any) -> None:
        try:
            next(stages)
        except StopIteration as finished:
            self.designer_task = None
            self.designer_layout = finished.value
            return
        except EstError as error:
            self._designer_failed(error.message())
            return
        in_next_turn(lambda: self._next_designer_stage(stages))

    def _designer_failed(self, message: str) -> None:
        self.designer_task = None
        self.set_status(message)
        self.push_message(message, Qgis.Warning)
