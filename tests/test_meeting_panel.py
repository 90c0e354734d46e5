"""The meeting dock: no store, create the week's meeting, promote a hot-spot, follow up, export the PDF."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import QComboBox

from est_weekly_plugin.core.demo import demo_batch
from est_weekly_plugin.core.meetings import MeetingRepository, Priority
from est_weekly_plugin.core.model import Role
from est_weekly_plugin.gui.meeting_panel import MeetingPanel
from est_weekly_plugin.gui.session import EstSession


@pytest.fixture
def session(gpkg_store, qgis_app):
    gpkg_store.insert_batch(demo_batch(15_000, seed=3, end_date=dt.date(2026, 11, 22)), today=dt.date(2026, 11, 23))
    session = EstSession()
    session.settings.local_role = Role.ADMIN.value
    session.store = gpkg_store
    yield session
    session.store = None


def test_without_a_store_the_panel_says_so(qgis_iface) -> None:
    panel = MeetingPanel(qgis_iface, EstSession())
    assert "Open an EST database" in panel.status.text()
    assert not panel.priority_box.isEnabled() and panel.export_pdf(path="/tmp/x.pdf") is None


def test_meeting_priorities_and_follow_up(qgis_iface, session) -> None:
    repo = MeetingRepository(session.store)
    before = repo.create_meeting("2026-W46", "anna")
    repo.add_priority(before, Priority(kind="hotspot", rank=1, name="Knutpunkten", wkt="POINT(356230 6213280)",
                                       radius_m=150.0), "anna")
    panel = MeetingPanel(qgis_iface, session)
    panel.week_edit.setText("2026-W47")
    panel.reload()
    assert "No meeting for 2026-W47" in panel.status.text()
    assert panel.create_meeting() and panel.meeting is not None
    assert panel.hotspot_combo.count() > 0
    assert panel.promote_selected()
    panel.name_edit.setText("Klotter i centrum")
    panel.categories_edit.setText("klotter")
    assert panel.add_focus()
    panel.name_edit.clear()
    assert panel.add_hotspot_at(356420.0, 6213760.0) is False  # no name given → refused with a message
    panel.name_edit.setText("Stortorget")
    assert panel.add_hotspot_at(356420.0, 6213760.0)
    assert panel.priority_table.rowCount() == 3
    assert "name" in panel.status.text() or panel.status.text()
    assert [p.kind for p in panel.priorities] == ["hotspot", "hotspot", "focus"]
    # follow-up of last week's priority
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
    panel.reload()
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
