"""The review panel driven like a reviewer would, on both backends: queue, corrections, decisions, audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import make_event
from gui_helpers import (
    CENTRE,
    choose,
    click,
    click_map,
    dispose,
    fill_form,
    lose_connection,
    make_session,
    partner_login,
    pixel_to_store,
    prepared_canvas,
    shown,
    type_into,
)
from qgis.core import Qgis, QgsApplication, QgsProject
from qgis.PyQt.QtCore import QDate, QPoint, Qt
from qgis.PyQt.QtGui import QImage
from qgis.PyQt.QtWidgets import QApplication

from est_weekly_plugin.domain import i18n
from est_weekly_plugin.domain.duplicates import possible_duplicates, within_window
from est_weekly_plugin.domain.model import Role, Status
from est_weekly_plugin.domain.reference import default_categories
from est_weekly_plugin.gui.reporting.reporting_dock import ReportingDock
from est_weekly_plugin.gui.review.review_panel import ReviewPanel
from est_weekly_plugin.maps.layers import events_layer

YESTERDAY = dt.date.today() - dt.timedelta(days=1)


@pytest.fixture
def canvas(qgis_canvas, qgis_new_project) -> Iterator:
    yield from prepared_canvas(qgis_canvas)


@pytest.fixture
def session(store):
    return make_session(store, user="granskare.gun")


@pytest.fixture
def panel(qgis_iface, canvas, session) -> Iterator[ReviewPanel]:
    yield from shown(ReviewPanel(qgis_iface, session), 420, 1100)


@pytest.fixture
def layer(store, monkeypatch):
    """The compilation's events layer (approved only), as the plugin adds it."""
    info = getattr(store, "info", None)
    if info is not None:  # the layer URI carries no password by design; libpq reads it from the environment
        monkeypatch.setenv("PGPASSWORD", info.password)
    events = events_layer(store)
    QgsProject.instance().addMapLayer(events)
    yield events
    QgsProject.instance().removeMapLayer(events.id())


def submit(store, **changes):
    values = {"event_date": YESTERDAY, **changes}
    return store.submit(make_event(**values), actor=changes.get("reporter", "anna.andersson"))


def approved_fids(store) -> set[int]:
    return set(store.load_columns().fid.tolist())


# ---------------------------------------------------------------------- end to end: report, review, compile
def test_report_on_the_map_then_approve_with_corrections(qgis_iface, canvas, session, panel, layer):
    store = session.store
    reporter_session = make_session(store, role=Role.REPORTER, user="anna.andersson")
    dock = ReportingDock(qgis_iface, reporter_session)
    try:
        fill_form(dock.form, category="klotter", organisation="bevakning")
        click_map(dock.form, canvas, QPoint(420, 310))
        click(dock.submit_button)
        dock.form.pick_button.setChecked(False)
    finally:
        dispose(dock)
    reporter_session.events_changed.connect(session.events_changed)  # one plugin, one session in real use
    session.events_changed.emit()

    changed: list[bool] = []
    session.events_changed.connect(lambda: changed.append(True))
    assert panel.queue.rowCount() == 1
    assert panel.queue.item(0, 1).text() == "Graffiti"
    panel.select_report(store.events()[0].uuid)
    event = panel.current
    assert panel.editor.isEnabled()
    # on PostGIS both names are the database login, on a GeoPackage the local user names
    assert f"From {reporter_session.user} " in panel.report_info.text()
    assert "version 1" in panel.report_info.text()
    assert panel.canvas.extent().width() < 2000  # zoomed in on the report

    # correct the category and move the point on the map
    choose(panel.form.category, "skadegorelse")
    click(panel.form.pick_button)
    target = QPoint(380, 260)
    click_map(panel.form, canvas, target)
    moved = pixel_to_store(canvas, target)
    assert panel.form.point == pytest.approx(moved, abs=0.01)
    assert layer.featureCount() == 0
    click(panel.approve_button)

    stored = store.get(event.uuid)
    assert stored.status == Status.APPROVED and stored.reviewer == session.user
    assert stored.category == "skadegorelse"
    assert (stored.x, stored.y) == pytest.approx(moved, abs=0.01)
    log = store.audit_log(event.uuid)
    assert [e.action for e in log] == ["submit", "approve"]
    assert log[1].actor == session.user
    assert log[1].changes["category"] == ["klotter", "skadegorelse"]
    assert "Approved (Vandalism)" in panel.status.text()  # the saved category, not the reported one
    assert log[1].changes["status"] == ["submitted", "approved"]
    assert "x" in log[1].changes and "y" in log[1].changes
    assert approved_fids(store) == {stored.fid}  # in the compilation at once
    assert changed and layer.featureCount() == 1  # the events layer was reloaded
    assert panel.queue.rowCount() == 0
    assert any("Approved" in m for m in qgis_iface.messageBar().get_messages(Qgis.Success))


def test_reject_needs_a_reason_and_never_reaches_the_compilation(panel, session, layer):
    store = session.store
    event = submit(store)
    session.events_changed.emit()
    panel.select_report(event.uuid)
    click(panel.reject_button)
    assert panel.reason_error.isVisible()
    assert panel.reason_error.text() == "A reason is required to reject a report."
    assert store.get(event.uuid).status == Status.SUBMITTED
    type_into(panel.reason, "Inte ett EST-ärende")
    assert not panel.reason_error.isVisible()
    click(panel.reject_button)
    stored = store.get(event.uuid)
    assert (stored.status, stored.review_reason) == (Status.REJECTED, "Inte ett EST-ärende")
    log = store.audit_log(event.uuid)
    assert [e.action for e in log] == ["submit", "reject"] and log[1].reason == "Inte ett EST-ärende"
    assert approved_fids(store) == set()
    assert layer.featureCount() == 0


def test_queue_is_oldest_first_and_filterable(panel, session):
    store = session.store
    first = submit(store, organisation="polisen", category="klotter")
    second = submit(store, organisation="bevakning", category="brand", event_date=YESTERDAY - dt.timedelta(days=5))
    third = submit(store, organisation="bevakning", category="klotter")
    session.events_changed.emit()

    def queued() -> list[str]:
        return [e.uuid for e in (panel.queue.item(r, 0).data(Qt.ItemDataRole.UserRole)
                                 for r in range(panel.queue.rowCount()))]

    assert queued() == [first.uuid, second.uuid, third.uuid]
    assert panel.queue_count.text() == "3 reports waiting, oldest first"
    choose(panel.filter_organisation, "bevakning")
    assert queued() == [second.uuid, third.uuid]
    choose(panel.filter_category, "klotter")
    assert queued() == [third.uuid]
    panel.filter_organisation.setCurrentIndex(0)
    panel.filter_category.setCurrentIndex(0)
    old = YESTERDAY - dt.timedelta(days=2)
    panel.filter_to.setDate(QDate(old.year, old.month, old.day))
    assert queued() == [second.uuid]
    panel.filter_to.clear()
    panel.filter_from.setDate(QDate(YESTERDAY.year, YESTERDAY.month, YESTERDAY.day))
    assert queued() == [first.uuid, third.uuid]


def test_concurrent_review_is_refused_with_versions(panel, session, qgis_iface):
    store = session.store
    event = submit(store)
    session.events_changed.emit()
    panel.select_report(event.uuid)
    panel.form.description.setPlainText("Min rättelse")
    # meanwhile another reviewer corrects the same report (still submitted, version 2)
    store.update_event(event.uuid, event.version, "granskare.bo", as_reporter=False, description="Bos rättelse")
    click(panel.approve_button)
    assert panel.status.isVisible()
    text = panel.status.text()
    assert "changed this report meanwhile" in text and "version 2" in text and "version 1" in text
    assert any("meanwhile" in m for m in qgis_iface.messageBar().get_messages(Qgis.Warning))
    stored = store.get(event.uuid)
    assert (stored.status, stored.description, stored.version) == (Status.SUBMITTED, "Bos rättelse", 2)
    assert [e.action for e in store.audit_log(event.uuid)] == ["submit", "edit"]
    # the panel now shows the current version; a new decision goes through
    assert panel.current.version == 2 and panel.form.description.toPlainText() == "Bos rättelse"
    click(panel.approve_button)
    assert store.get(event.uuid).status == Status.APPROVED


def test_review_of_a_report_decided_meanwhile_is_refused(panel, session):
    store = session.store
    event = submit(store)
    session.events_changed.emit()
    panel.select_report(event.uuid)
    store.review(event.uuid, event.version, "granskare.bo", Status.APPROVED)
    type_into(panel.reason, "Dubbelt")
    click(panel.reject_button)
    assert "version 2" in panel.status.text()
    stored = store.get(event.uuid)
    assert (stored.status, stored.reviewer) == (Status.APPROVED, "granskare.bo")
    assert panel.queue.rowCount() == 0


def test_duplicates_shown_and_marked(panel, session):
    store = session.store
    settings = session.settings
    settings.duplicate_distance_m = 100.0
    settings.duplicate_window_h = 24.0
    x, y = CENTRE
    kept = submit(store, organisation="polisen", x=x, y=y, time_from=dt.time(22, 0), time_to=None)
    store.review(kept.uuid, kept.version, "granskare.bo", Status.APPROVED)
    current = submit(store, organisation="bevakning", x=x + 40, y=y + 30, time_from=dt.time(23, 30), time_to=None)
    submit(store, organisation="bevakning", x=x + 400, y=y)  # too far
    submit(store, organisation="bevakning", x=x + 10, y=y, category="brand")  # other category
    submit(store, organisation="bevakning", x=x + 10, y=y, event_date=YESTERDAY - dt.timedelta(days=3))  # too long ago
    other = submit(store, organisation="sbf", x=x - 20, y=y, time_from=None, time_to=None)  # time unknown, same day
    session.events_changed.emit()
    panel.select_report(current.uuid)
    shown = {panel.duplicates.item(r, 0).data(Qt.ItemDataRole.UserRole).uuid
             for r in range(panel.duplicates.rowCount())}
    assert shown == {kept.uuid, other.uuid}
    assert panel.duplicates_group.title() == "Possible duplicates (2)"
    assert panel.duplicates_hint.text() == "Reports of the same category within 100 m and 24 h, from any organisation."
    row = next(r for r in range(2) if panel.duplicates.item(r, 0).data(Qt.ItemDataRole.UserRole).uuid == kept.uuid)
    assert panel.duplicates.item(row, 0).text().endswith("\nPolice – Helsingborg local police area")
    assert panel.duplicates.item(row, 1).text() == "50 m"
    assert panel.duplicates.item(row, 2).text() == "Approved"
    panel.duplicates.selectRow(row)
    # both reports on the map: the open one (placement marker) and the selected duplicate beside it
    assert panel.form.marker.visible and panel.duplicate_marker.visible
    assert panel.duplicate_marker.point == pytest.approx((x, y))
    both = [panel.form.marker.canvas_point(), panel.duplicate_marker.canvas_point()]
    assert all(panel.canvas.extent().contains(point) for point in both)
    panel.hide()  # a panel out of sight leaves no marker on the map …
    assert not panel.form.marker.visible and not panel.duplicate_marker.visible
    panel.show()  # … and brings them back
    assert panel.form.marker.visible and panel.duplicate_marker.visible
    assert not panel.other_is_duplicate.isEnabled()  # an approved report is not re-decided here
    click(panel.this_is_duplicate)
    stored = store.get(current.uuid)
    assert (stored.status, stored.duplicate_of) == (Status.REJECTED, kept.uuid)
    assert "Duplicate of the report by" in stored.review_reason
    assert [e.action for e in store.audit_log(current.uuid)] == ["submit", "duplicate"]
    assert store.get(kept.uuid).status == Status.APPROVED

    # the other direction: the selected (submitted) one is the duplicate of the open report
    panel.select_report(other.uuid)
    assert panel.current.uuid == other.uuid
    shown = [panel.duplicates.item(r, 0).data(Qt.ItemDataRole.UserRole).uuid
             for r in range(panel.duplicates.rowCount())]
    assert kept.uuid in shown and current.uuid not in shown  # rejected reports are not offered
    # moving the point away on the map empties the list
    panel.form.set_place(x + 5000, y + 5000, centre=False)
    assert panel.duplicates.rowCount() == 0 and panel.duplicates_group.title() == "Possible duplicates (0)"


def test_selected_duplicate_of_the_open_report(panel, session):
    store = session.store
    x, y = CENTRE
    first = submit(store, organisation="polisen", x=x, y=y)
    second = submit(store, organisation="bevakning", x=x + 30, y=y)
    session.events_changed.emit()
    panel.select_report(first.uuid)
    assert panel.duplicates.rowCount() == 1
    panel.duplicates.selectRow(0)
    click(panel.other_is_duplicate)
    assert store.get(second.uuid).status == Status.REJECTED
    assert store.get(second.uuid).duplicate_of == first.uuid
    assert store.get(first.uuid).status == Status.SUBMITTED


def test_bulk_approve(panel, session, layer):
    store = session.store
    events = [submit(store, x=CENTRE[0] + 200 * i) for i in range(4)]
    session.events_changed.emit()
    panel.confirm = lambda _text: True
    panel.queue.selectRow(0)
    for row in (1, 2):
        panel.queue.selectionModel().select(panel.queue.model().index(row, 0),
                                            panel.queue.selectionModel().SelectionFlag.Select
                                            | panel.queue.selectionModel().SelectionFlag.Rows)
    assert not panel.editor.isEnabled()  # several selected: nothing open for correction
    assert panel.approve_selected_button.text() == "Approve selected (3)"
    click(panel.approve_selected_button)
    statuses = [store.get(e.uuid).status for e in events]
    assert statuses == [Status.APPROVED] * 3 + [Status.SUBMITTED]
    assert approved_fids(store) == {store.get(e.uuid).fid for e in events[:3]}
    assert layer.featureCount() == 3
    assert panel.queue.rowCount() == 1
    assert all([a.action for a in store.audit_log(e.uuid)] == ["submit", "approve"] for e in events[:3])


def test_invalid_correction_blocks_approve(panel, session):
    store = session.store
    event = submit(store)
    session.events_changed.emit()
    panel.select_report(event.uuid)
    assert panel.approve_button.isEnabled()
    panel.form.set_place(300000.0, 6100000.0, centre=False)
    assert "outside the municipality" in panel.form.errors["place"].text()
    assert not panel.approve_button.isEnabled()
    assert panel.reject_button.isEnabled()  # rejecting needs no valid corrections


def test_reporter_and_viewer_never_see_review_actions(gpkg_store, qgis_iface, canvas):
    session = make_session(None)
    widget = ReviewPanel(qgis_iface, session)
    try:
        assert "No EST database is open" in widget.page_message.text()
        session.settings.local_role = Role.REPORTER.value
        session.set_store(gpkg_store)
        widget.settle()
        assert widget.stack.currentWidget() is widget.message_page
        assert widget.page_message.text() == "Your role (Reporter) may not review reports."
        assert not widget.approve_button.isVisibleTo(widget)
        session.set_local_role(Role.VIEWER)
        widget.settle()
        assert widget.page_message.text() == "Your role (Viewer) may not review reports."
        session.set_local_role(Role.REVIEWER)
        widget.settle()
        assert widget.stack.currentIndex() == 1
        assert "not a security boundary" in widget.role_label.text()
    finally:
        session.store = None
        dispose(widget)


def test_postgis_role_comes_from_the_login(pg_store, pg_cluster, pg_database, qgis_iface, canvas):
    """A reporter login gets no review actions, whatever the local setting says."""
    with partner_login(pg_store, "est_test_reporter", "polisen", Role.REPORTER) as reporter_store:
        session = make_session(reporter_store, role=Role.ADMIN)  # the local setting is ignored on PostGIS
        widget = ReviewPanel(qgis_iface, session)
        try:
            assert session.role == Role.REPORTER and session.user == "est_test_reporter"
            assert widget.page_message.text() == "Your role (Reporter) may not review reports."
            assert session.role_note() == ("est_test_reporter · Police – Helsingborg local police area · Reporter — "
                                           "from the database, which enforces it.")
        finally:
            dispose(widget)
            session.set_store(None)


def test_lost_connection_keeps_corrections(panel, session):
    store = session.store
    event = submit(store)
    session.events_changed.emit()
    panel.select_report(event.uuid)
    panel.form.description.setPlainText("Rättad text")
    restore = lose_connection(store)
    click(panel.approve_button)
    assert "Not saved" in panel.status.text() and "corrections are still in the form" in panel.status.text()
    assert panel.form.description.toPlainText() == "Rättad text"
    restore()
    click(panel.approve_button)
    stored = store.get(event.uuid)
    assert (stored.status, stored.description) == (Status.APPROVED, "Rättad text")


# ---------------------------------------------------------------------- duplicate rules (pure)
def test_time_window_rules():
    base = make_event(event_date=dt.date(2026, 11, 20), time_from=dt.time(22, 0), time_to=None)
    assert within_window(base, make_event(event_date=dt.date(2026, 11, 21), time_from=dt.time(21, 0),
                                          time_to=None), 24)
    assert not within_window(base, make_event(event_date=dt.date(2026, 11, 21), time_from=dt.time(23, 0),
                                              time_to=None), 24)
    # a span past midnight reaches into the next day
    span = make_event(event_date=dt.date(2026, 11, 20), time_from=dt.time(23, 0), time_to=dt.time(2, 0))
    assert within_window(span, make_event(event_date=dt.date(2026, 11, 21), time_from=dt.time(5, 0),
                                          time_to=None), 3)
    # unknown time covers the whole day
    unknown = make_event(event_date=dt.date(2026, 11, 21), time_from=None, time_to=None)
    assert within_window(base, unknown, 2) and not within_window(base, unknown, 1.5)
    assert not within_window(base, make_event(event_date=dt.date(2026, 11, 23), time_from=None, time_to=None), 24)


def test_possible_duplicates_uses_store_distance(store):
    x, y = CENTRE
    event = submit(store, x=x, y=y)
    near = submit(store, x=x + 99, y=y)
    submit(store, x=x + 101, y=y)
    found = possible_duplicates(store, store.get(event.uuid), 100, 24)
    assert [e.uuid for e in found] == [near.uuid]
    assert np.isfinite(found[0].x)


# ---------------------------------------------------------------------- screenshots
@pytest.mark.parametrize("lang", ["en", "sv"])
def test_screenshot(gpkg_store, qgis_iface, canvas, output_dir: Path, lang):
    i18n.set_language(lang)
    session = make_session(gpkg_store, user="granskare.gun")
    x, y = CENTRE
    current = submit(gpkg_store, organisation="bevakning", x=x, y=y, reporter="vakt.olle")
    submit(gpkg_store, organisation="polisen", x=x + 40, y=y + 20, reporter="anna.andersson")
    submit(gpkg_store, organisation="sbf", category="brand", x=x + 900, y=y - 300, reporter="sbf.karin",
           time_from=None, time_to=None)
    widget = ReviewPanel(qgis_iface, session)
    try:
        widget.resize(440, 1500)
        widget.show()
        widget.select_report(current.uuid)
        widget.history_group.setCollapsed(False)
        widget.reject_button.click()  # no reason yet: shows the reason error
        widget.bottom_scroll.verticalScrollBar().setValue(0)
        QApplication.processEvents()
        path = output_dir / f"review_panel_{lang}.png"
        assert widget.grab().save(str(path))
        # what the picture must show: the reason's error, the nearby report as a possible duplicate
        image = QImage(str(path))
        assert (image.width(), image.height()) == (440, 1500)
        assert widget.reason_error.isVisible() and widget.reason_error.text()
        assert widget.duplicates.rowCount() == 1  # the police report 45 m away; the fire 950 m away is not
        klotter = next(c.colour for c in default_categories() if c.code == "klotter").lower()
        assert klotter in {image.pixelColor(x, y).name() for x in range(0, 440, 2) for y in range(0, 1500, 2)}
    finally:
        dispose(widget, close=True)


def test_plugin_creates_both_docks(gpkg_store, qgis_iface, canvas):
    """The plugin's lazy dock loading finds these classes and they follow its session."""
    from est_weekly_plugin.plugin import EstWeeklyPlugin

    plugin = EstWeeklyPlugin(qgis_iface)
    plugin.session.settings.save = lambda: None
    plugin.initGui()
    try:
        plugin.session.set_store(gpkg_store)
        plugin.toggle_dock("reporting")
        plugin.toggle_dock("review")
        reporting, review = plugin.docks["reporting"], plugin.docks["review"]
        assert isinstance(reporting, ReportingDock) and isinstance(review, ReviewPanel)
        assert reporting.stack.currentWidget() is reporting.form_page
        assert review.stack.currentIndex() == 1
        plugin.session.set_store(None)
        reporting.settle()
        review.settle()
        assert reporting.stack.currentWidget() is reporting.message_page
        assert review.stack.currentWidget() is review.message_page
    finally:
        # (plugin.unload needs interface methods pytest-qgis's mock lacks; clean up what it would)
        for dock in plugin.docks.values():
            dispose(dock)
        plugin.session.store = None
        if plugin.provider is not None:
            QgsApplication.processingRegistry().removeProvider(plugin.provider)


def test_a_reviewer_login_decides_on_others_reports_but_not_its_own(pg_store, qgis_iface, canvas):
    """On PostGIS the panel says why before the database would refuse, and the decision names the login."""
    with partner_login(pg_store, "gun_granskare", "slf_trygghet", Role.REVIEWER) as store:
        others = submit(pg_store)  # filed by someone else
        own = store.submit(make_event(event_date=YESTERDAY, organisation="slf_trygghet"), actor="gun_granskare")
        session = make_session(store)
        widget = ReviewPanel(qgis_iface, session)
        widget.resize(420, 1100)
        widget.show()
        try:
            assert widget.select_report(own.uuid)
            assert not widget.approve_button.isEnabled() and not widget.reject_button.isEnabled()
            assert widget.status.text().startswith("You filed this report yourself")
            assert widget.select_report(others.uuid)
            click(widget.approve_button)
            decided = pg_store.get(others.uuid)
            assert (decided.status, decided.reviewer) == (Status.APPROVED, "gun_granskare")
        finally:
            dispose(widget, close=True)
            session.set_store(None)


def test_personal_data_is_flagged_for_the_reviewer_and_redacted_from_the_history(panel, session, output_dir):
    from qgis.PyQt.QtGui import QTextCursor

    store = session.store
    secret = "070-123 45 67"
    event = submit(store, description=f"Ring Anna Andersson på {secret} om det händer igen")
    session.events_changed.emit()
    assert panel.select_report(event.uuid)
    assert panel.privacy_flag.isVisible()
    assert panel.privacy_flag.text().startswith("Marked at submission as possibly containing personal data: "
                                                "phone number, name.")
    assert panel.form.privacy_warning.isVisible() and secret in panel.form.privacy_warning.text()
    QApplication.processEvents()  # let the layout take the warnings' height
    panel.grab().save(str(output_dir / "review_panel_personal_data_en.png"))
    # select the phone number in the description and redact just that
    text = panel.form.description.toPlainText()
    cursor = panel.form.description.textCursor()
    cursor.setPosition(text.index(secret))
    cursor.setPosition(text.index(secret) + len(secret), QTextCursor.MoveMode.KeepAnchor)
    panel.form.description.setTextCursor(cursor)
    click(panel.redact_button)
    stored = store.get(event.uuid)
    assert secret not in stored.description and "[uppgift borttagen]" in stored.description
    assert "Anna Andersson" in stored.description  # only the selection went
    assert secret not in str([e.changes for e in store.audit_log(event.uuid)])
    assert panel.status.text().startswith("Redacted: the text is gone from the report and from 1 history")
    assert panel.current is not None and panel.current.uuid == event.uuid  # the report stays open


def test_an_empty_history_says_so(panel):
    panel._show_history("00000000-0000-4000-8000-000000000000")
    assert panel.history.count() == 1 and panel.history.item(0).text() == "No changes recorded for this report yet."


def test_closing_the_panel_takes_its_markers_off_the_map(panel, session):
    event = submit(session.store, organisation="polisen")
    session.events_changed.emit()
    panel.select_report(event.uuid)
    assert panel.form.marker.visible
    panel.close()
    assert not panel.form.marker.visible and not panel.duplicate_marker.visible
