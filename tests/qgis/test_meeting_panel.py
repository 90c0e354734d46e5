"""The meeting dock: no store, create the week's meeting, promote a hot-spot, follow up, export the PDF."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from qgis.core import (
    QgsApplication,
    QgsLayoutFrame,
    QgsLayoutItemLegend,
    QgsLayoutItemManualTable,
    QgsLayoutItemMap,
    QgsLayoutItemPicture,
    QgsProject,
)
from qgis.PyQt.QtCore import QPoint, Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QComboBox

from est_weekly_plugin.domain.meetings import Priority
from est_weekly_plugin.domain.model import Role
from est_weekly_plugin.gui.meeting.meeting_panel import MeetingPanel
from est_weekly_plugin.gui.meeting.pickers import CheckList, format_time_focus, parse_time_focus
from est_weekly_plugin.gui.shared.session import EstSession
from est_weekly_plugin.store.demo import demo_batch
from est_weekly_plugin.store.meetings import MeetingRepository


@pytest.fixture
def session(gpkg_store, qgis_app):
    gpkg_store.insert_batch(demo_batch(15_000, seed=3, end_date=dt.date(2026, 11, 22)), today=dt.date(2026, 11, 23))
    session = EstSession()
    session.settings.local_role = Role.ADMIN.value
    session.store = gpkg_store
    yield session
    session.store = None


def check(widget: CheckList, label: str) -> None:
    """Tick the item showing *label* the way a user does: a click on its check box."""
    widget.window().show()
    item = next(widget.item(row) for row in range(widget.count()) if widget.item(row).text() == label)
    widget.scrollToItem(item)
    rect = widget.visualItemRect(item)
    QTest.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(rect.left() + 10, rect.center().y()))
    assert item.checkState() == Qt.CheckState.Checked, label


def test_without_a_store_the_panel_says_so(qgis_iface) -> None:
    panel = MeetingPanel(qgis_iface, EstSession())
    assert panel.stack.currentWidget() is panel.message_page
    assert "Open an EST database" in panel.page_message.text()
    assert panel.export_pdf(path="/tmp/x.pdf") is None and panel.open_designer() is None


def test_a_role_without_meeting_permission_is_told_so(qgis_iface, session) -> None:
    session.settings.local_role = Role.VIEWER.value
    session.store_changed.emit()
    panel = MeetingPanel(qgis_iface, session)
    assert panel.stack.currentWidget() is panel.message_page
    assert "may not prepare the weekly meeting" in panel.page_message.text()


def test_meeting_priorities_and_follow_up(qgis_iface, session) -> None:
    repo = MeetingRepository(session.store)
    before = repo.create_meeting("2026-W46", "anna")
    repo.add_priority(before, Priority(kind="hotspot", rank=1, name="Knutpunkten", wkt="POINT(356230 6213280)",
                                       radius_m=150.0), "anna")
    panel = MeetingPanel(qgis_iface, session)
    assert panel.stack.currentWidget() is panel.content_page
    panel.week_edit.setText("2026-W47")
    panel.refresh_events()
    assert "No meeting for 2026-W47" in panel.summary.text()
    assert panel.create_meeting() and panel.meeting is not None
    assert "Meeting 2026-W47: 0 priorities" in panel.summary.text()
    assert panel.analysis.running  # every event is read and analysed in a task: the panel never waits on it
    assert panel.wait_until_idle()
    assert panel.hotspot_combo.count() > 0
    assert panel.promote_selected()
    panel.name_edit.setText("Klotter i centrum")
    check(panel.categories_list, "Graffiti")
    assert panel.add_focus()
    panel.name_edit.clear()
    assert panel.add_hotspot_at(356420.0, 6213760.0) is False  # no name given → refused with a message
    assert panel.status.isVisibleTo(panel) and panel.status.text()
    panel.name_edit.setText("Stortorget")
    assert panel.add_hotspot_at(356420.0, 6213760.0)
    assert panel.priority_table.rowCount() == 3 and not panel.status.text()
    assert [p.kind for p in panel.priorities] == ["hotspot", "hotspot", "focus"]
    # follow-up of last week's priority
    assert panel.wait_until_idle()
    assert panel.follow_table.rowCount() == 1
    combo = panel.follow_table.cellWidget(0, 4)
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData("done"))
    panel.follow_table.item(0, 5).setText("Lugnt denna vecka")
    assert panel.save_follow_ups()
    saved = repo.priorities(before)[0]
    assert (saved.status, saved.follow_up_comment) == ("done", "Lugnt denna vecka")
    assert [e.action for e in session.store.audit_log(saved.uuid)] == ["create", "follow_up"]


def test_export_runs_as_a_task_with_progress(qgis_iface, session, tmp_path: Path) -> None:
    panel = MeetingPanel(qgis_iface, session)
    panel.week_edit.setText("2026-W47")
    panel.refresh_events()
    finished: list[tuple[str, int]] = []
    task = panel.export_pdf(path=str(tmp_path / "meeting.pdf"))
    assert task is not None and not panel.progress.isHidden()
    task.done.connect(lambda path, pages, _warnings: finished.append((path, pages)))
    deadline = time.time() + 120
    while not finished and panel.task is not None and time.time() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.02)
    assert finished == [(str(tmp_path / "meeting.pdf"), 1)]
    assert panel.last_pdf == tmp_path / "meeting.pdf" and panel.progress.isHidden()
    assert "meeting.pdf" in panel.status.text()
    entry = session.store.audit_log(subject="export")[-1]  # recorded by the task, off the GUI thread
    assert (entry.action, entry.changes["rows"], entry.changes["filter"]) == ("export", 1, "meeting 2026-W47")


def test_pickers_show_labels_colours_and_store_codes(qgis_iface, session) -> None:
    """Categories, responsible organisations and time focus are picked, never typed as codes."""
    repo = MeetingRepository(session.store)
    meeting = repo.create_meeting("2026-W47", "anna")
    panel = MeetingPanel(qgis_iface, session)
    panel.week_edit.setText("2026-W47")
    panel.refresh_events()
    labels = [panel.categories_list.item(row).text() for row in range(panel.categories_list.count())]
    assert "Graffiti" in labels and "klotter" not in labels  # English labels, no codes
    graffiti = panel.categories_list.item(labels.index("Graffiti"))
    colour = graffiti.icon().pixmap(14, 14).toImage().pixelColor(7, 7)
    assert colour.name() == "#756bb1"  # the category's map colour
    check(panel.categories_list, "Graffiti")
    check(panel.categories_list, "Vandalism")
    check(panel.responsible_list, "Police – Helsingborg local police area")
    check(panel.responsible_list, "Social Services")
    time = panel.time_focus
    time.first_day.setCurrentIndex(time.first_day.findText("Fri"))
    time.last_day.setCurrentIndex(time.last_day.findText("Sat"))
    time.hours_check.setChecked(True)
    time.hour_from.setValue(20)
    time.hour_to.setValue(2)
    assert time.preview.text() == "Stored as: fri–sat 20–02"
    panel.name_edit.setText("Dalhem")
    assert panel.add_focus()
    saved = repo.priorities(meeting)[0]
    assert set(saved.categories) == {"klotter", "skadegorelse"}
    assert saved.responsible == ("polisen", "social")
    assert saved.time_focus == "fri–sat 20–02"
    assert panel.priority_table.item(0, 3).text() == "Police – Helsingborg local police area, Social Services"
    # the meeting's organisations
    check(panel.organisations_list, "Social Services")
    assert panel.save_meeting()
    assert repo.meeting("2026-W47").organisations == ("social",)
    assert panel.organisations_list.codes() == ("social",)


def test_time_focus_text_keeps_the_stored_format() -> None:
    assert format_time_focus(4, 5, (18, 23), "sv") == "fre–lör 18–23"
    assert format_time_focus(4, 4, (20, 2), "sv") == "fre 20–02"
    assert format_time_focus(0, 4, None, "sv") == "mån–fre"
    assert format_time_focus(None, None, (22, 4), "sv") == "22–04"
    assert format_time_focus(None, 3, None, "sv") == ""
    assert parse_time_focus("fre–lör 20–02", "sv") == (4, 5, (20, 2))
    assert parse_time_focus("", "sv") == (None, None, None)


def test_time_focus_widget_reads_back_what_it_wrote(qgis_iface, session) -> None:
    panel = MeetingPanel(qgis_iface, session)
    time = panel.time_focus
    assert time.text() == "" and not time.last_day.isEnabled() and not time.hour_from.isEnabled()
    time.set_text("sat–sun 22–04")
    assert time.first_day.currentText() == "Sat" and time.last_day.currentText() == "Sun"
    assert time.hours_check.isChecked() and (time.hour_from.value(), time.hour_to.value()) == (22, 4)
    assert time.text() == "sat–sun 22–04"


def test_open_in_layout_designer_adds_the_filled_layout(qgis_iface, session) -> None:
    """The designer action puts the meeting layout (maps, legend, charts, tables) into the project."""
    project = QgsProject.instance()
    manager = project.layoutManager()
    before = len([layout for layout in manager.layouts() if layout.name() != "EST meeting 2026-W47"])
    panel = MeetingPanel(qgis_iface, session)
    panel.week_edit.setText("2026-W47")
    panel.refresh_events()
    assert panel.open_designer() is not None  # a task: QGIS stays responsive while the layout is made
    assert panel.wait_until_idle()
    layout = panel.designer_layout
    try:
        assert layout is not None and not panel.status.text()
        assert manager.layoutByName("EST meeting 2026-W47") is layout
        assert len(manager.layouts()) == before + 1
        items = layout.items()
        maps = {item.id() for item in items if isinstance(item, QgsLayoutItemMap)}
        assert {"est_main_map", "est_inset_map"} <= maps
        legend = layout.itemById("est_legend")
        assert isinstance(legend, QgsLayoutItemLegend) and legend.model().rootGroup().children()
        pictures = {item.id() for item in items if isinstance(item, QgsLayoutItemPicture)}
        assert {"est_chart_categories", "est_chart_weekday_hour", "est_chart_weekly_trend"} <= pictures
        tables = {item.id() for item in items
                  if isinstance(item, QgsLayoutFrame) and isinstance(item.multiFrame(), QgsLayoutItemManualTable)}
        assert {"est_hotspot_table", "est_followup_table", "est_next_table"} <= tables
        main = layout.itemById("est_main_map")
        assert main.layers(), "the main map shows the week's layers"
        # opening again replaces the layout of the same name rather than adding another
        assert panel.open_designer() is not None and panel.wait_until_idle()
        again = panel.designer_layout
        assert again is not layout and manager.layoutByName("EST meeting 2026-W47") is again
        assert len(manager.layouts()) == before + 1
    finally:
        for existing in manager.layouts():
            if existing.name() == "EST meeting 2026-W47":
                manager.removeLayout(existing)
        for group in project.layerTreeRoot().findGroups():
            if group.name() == "EST meeting 2026-W47":
                project.layerTreeRoot().removeChildNode(group)
