"""The reporting dock driven like a reporter would: real widgets, real map clicks, both backends."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_helpers import (
    CENTRE,
    choose,
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
from qgis.core import Qgis, QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject
from qgis.PyQt.QtCore import QDate, QPoint, Qt, QTime
from qgis.PyQt.QtGui import QImage, QMouseEvent
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication

from est_weekly_plugin.domain import i18n
from est_weekly_plugin.domain.model import Role, Status
from est_weekly_plugin.domain.reference import default_categories
from est_weekly_plugin.gui.reporting.reporting_dock import ReportingDock
from est_weekly_plugin.gui.shared.session import EstSession
from est_weekly_plugin.gui.shared.widgets import ERROR_STYLE, HINT_STYLE


@pytest.fixture
def canvas(qgis_canvas, qgis_new_project) -> Iterator:
    yield from prepared_canvas(qgis_canvas)


@pytest.fixture
def session(store) -> EstSession:
    return make_session(store)


@pytest.fixture
def dock(qgis_iface, canvas, session) -> Iterator[ReportingDock]:
    yield from shown(ReportingDock(qgis_iface, session), 380, 900)


def success_messages(iface) -> list[str]:
    return iface.messageBar().get_messages(Qgis.Success)


# ---------------------------------------------------------------------- reporting end to end
def test_submit_by_clicking_the_map(dock, canvas, session, qgis_iface):
    store = session.store
    form = dock.form
    assert not dock.submit_button.isEnabled()  # empty form: nothing to send
    fill_form(form)
    assert not dock.submit_button.isEnabled()  # still no place
    pixel = QPoint(430, 280)
    click_map(form, canvas, pixel)
    expected = pixel_to_store(canvas, pixel)
    assert form.point == pytest.approx(expected, abs=0.01)
    assert form.marker.visible
    assert "E 3" in form.place_label.text()
    assert dock.submit_button.isEnabled(), dock.form.problems

    before = len(success_messages(qgis_iface))
    QTest.mouseClick(dock.submit_button, Qt.MouseButton.LeftButton)

    events = store.events()
    assert len(events) == 1
    event = events[0]
    assert event.status == Status.SUBMITTED
    assert (event.category, event.organisation) == ("klotter", "polisen")
    assert (event.x, event.y) == pytest.approx(expected, abs=0.01)  # stored in the store CRS, not canvas CRS
    assert (event.time_from, event.time_to) == (dt.time(1, 0), dt.time(2, 30))
    assert event.place_name == "Gustav Adolfs torg"
    assert event.description == "Nya taggar på elskåp – åäö"
    assert event.reporter == session.user
    assert [entry.action for entry in store.audit_log(event.uuid)] == ["submit"]

    # confirmation, a clean form that keeps organisation and date, and the report under "My reports"
    assert len(success_messages(qgis_iface)) == before + 1
    assert "Report submitted" in success_messages(qgis_iface)[-1]
    assert form.category.code() == ""
    assert form.organisation.code() == "polisen"
    assert form.event_date.date().toPyDate() == event.event_date
    assert form.place_name.text() == "" and form.description.toPlainText() == ""
    assert form.point is None and not form.marker.visible
    assert not dock.submit_button.isEnabled()
    assert session.settings.organisation == "polisen"
    assert dock.my_reports.rowCount() == 1
    assert dock.my_reports.item(0, 2).text() == "Submitted"
    assert dock.my_reports.item(0, 1).text() == "Graffiti"
    assert "Gustav Adolfs torg" in dock.my_reports.item(0, 1).toolTip()


def test_marker_can_be_dragged_and_replaced(dock, canvas):
    form = dock.form
    fill_form(form)
    first = QPoint(400, 300)
    click_map(form, canvas, first)
    # press on the marker, drag it, release elsewhere: the point follows
    target = QPoint(470, 340)
    viewport = canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, first)
    assert form.tool.dragging
    move = QMouseEvent(QMouseEvent.Type.MouseMove, target, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, move)
    assert form.marker.point == pytest.approx(pixel_to_store(canvas, target), abs=0.01)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target)
    assert not form.tool.dragging
    assert form.point == pytest.approx(pixel_to_store(canvas, target), abs=0.01)
    # a click somewhere else simply re-places it
    again = QPoint(200, 150)
    click_map(form, canvas, again)
    assert form.point == pytest.approx(pixel_to_store(canvas, again), abs=0.01)
    # switching the map tool off leaves the marker where it is
    QTest.mouseClick(form.pick_button, Qt.MouseButton.LeftButton)
    assert canvas.mapTool() is not form.tool
    assert form.marker.visible


def test_place_from_district_search_then_submit(dock, session):
    form = dock.form
    fill_form(form, place_name="")
    form.place_name.clear()
    type_into(form.place_search, "drottning")
    assert form.place_results.isVisible()
    assert form.place_results.item(0).text() == "Drottninghög"
    QTest.keyClick(form.place_search, Qt.Key.Key_Return)
    assert form.point == (359122.0, 6215144.0)
    assert form.place_name.text() == "Drottninghög"  # an empty place name is filled from the match
    assert not form.place_results.isVisible()
    QTest.mouseClick(dock.submit_button, Qt.MouseButton.LeftButton)
    stored = session.store.events()[0]
    assert (stored.x, stored.y, stored.place_name) == (359122.0, 6215144.0, "Drottninghög")


def test_place_from_a_configured_address_layer(dock, session):
    from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=adress:string", "Adresser", "memory")
    feature = QgsFeature(layer.fields())
    feature.setAttributes(["Kullagatan 3"])
    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(12.6950, 56.0466)))
    layer.dataProvider().addFeatures([feature])
    QgsProject.instance().addMapLayer(layer)
    session.settings.place_layer_id = layer.id()
    session.settings.place_field = "adress"
    form = dock.form
    fill_form(form)
    type_into(form.place_search, "kulla")
    item = form.place_results.item(0)
    assert item.text() == "Kullagatan 3"
    assert "Adresser" in item.toolTip()
    form.place_results.itemClicked.emit(item)
    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                       QgsCoordinateReferenceSystem("EPSG:3006"), QgsProject.instance())
    expected = transform.transform(QgsPointXY(12.6950, 56.0466))
    assert form.point == pytest.approx((expected.x(), expected.y()), abs=0.01)
    assert form.place_name.text() == "Gustav Adolfs torg"  # a name the user typed is never replaced
    QgsProject.instance().removeMapLayer(layer.id())


def test_typed_coordinates(dock):
    form = dock.form
    fill_form(form)
    type_into(form.place_search, "56.04 N 12.69 E")
    assert form.place_results.item(0).text().startswith("Coordinates: E 356094, N 6212938")
    QTest.keyClick(form.place_search, Qt.Key.Key_Return)
    assert form.point == pytest.approx((356093.83, 6212938.14), abs=0.5)
    assert dock.submit_button.isEnabled(), dock.form.problems
    form.place_search.clear()
    type_into(form.place_search, "Ingenstans")
    assert form.place_results.item(0).text() == "No matching place or coordinates"
    assert not form.place_results.item(0).flags() & Qt.ItemFlag.ItemIsEnabled


def test_time_unknown_is_stored_without_times(dock, canvas, session):
    form = dock.form
    fill_form(form, start=None)
    assert form.time.hint.isVisible() and not form.time.time_from.isVisible()
    click_map(form, canvas, QPoint(400, 300))
    QTest.mouseClick(dock.submit_button, Qt.MouseButton.LeftButton)
    stored = session.store.events()[0]
    assert (stored.time_from, stored.time_to) == (None, None)


# ---------------------------------------------------------------------- validation beside each field
def _set_outside(form):
    type_into(form.place_search, "300000, 6100000")
    QTest.keyClick(form.place_search, Qt.Key.Key_Return)


def _set_degrees(form):
    form.set_place(12.69, 56.04)


TOMORROW = dt.date.today() + dt.timedelta(days=1)
CASES = [
    ("category", lambda f: f.category.setCurrentIndex(0), "Choose a category."),
    ("organisation", lambda f: f.organisation.setCurrentIndex(0), "Choose the reporting organisation."),
    ("event_date", lambda f: f.event_date.setDate(QDate(TOMORROW.year, TOMORROW.month, TOMORROW.day)),
     f"The date {TOMORROW.isoformat()} is in the future."),
    ("event_date", lambda f: f.event_date.setDate(QDate(2001, 1, 1)), "The date is more than 10 years ago."),
    ("time", lambda f: f.time.time_to.setTime(QTime(0, 30)), "The end time 00:30 is before the start time 01:00."),
    ("place", _set_outside, "The place (300000, 6100000) is outside the municipality."),
    ("place", _set_degrees, "look like longitude/latitude in degrees"),
    ("place_name", lambda f: f.place_name.setText("x" * 201), "The text in place is too long (201 characters"),
    ("description", lambda f: f.description.setPlainText("a\x07b"),
     "The text in description contains control characters"),
    ("description", lambda f: f.description.setPlainText("y" * 2001),
     "The text in description is too long (2001 characters, at most 2000)."),
]


@pytest.mark.parametrize(("field", "spoil", "message"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_every_problem_is_shown_beside_its_field(dock, field, spoil, message):
    form = dock.form
    fill_form(form)
    form.set_place(*CENTRE)
    assert dock.submit_button.isEnabled(), dock.form.problems
    assert not any(label.isVisible() for label in form.errors.values())
    spoil(form)
    label = form.errors[field]
    assert label.isVisible()
    assert message in label.text()
    assert label.styleSheet() == ERROR_STYLE
    assert not dock.submit_button.isEnabled()
    others = [name for name, other in form.errors.items() if other.isVisible() and name != field]
    assert others == []
    # the error sits right under its own field, in the same block
    assert label.parentWidget() is form.labels[field].buddy().parentWidget() or field in ("time", "place")


def test_time_in_the_future_today(dock):
    form = dock.form
    fill_form(form, date=dt.date.today(), start=dt.time(23, 59), end=None)
    form.set_place(*CENTRE)
    now = dt.datetime.now()
    if now.hour < 23:
        assert "The time 23:59 today has not happened yet." in form.errors["time"].text()
        assert not dock.submit_button.isEnabled()
    else:  # the last hour of the day: validation deliberately lets it pass
        assert dock.submit_button.isEnabled(), dock.form.problems


def test_missing_values_are_hints_until_touched(dock):
    form = dock.form
    hint = form.errors["category"]
    assert hint.isVisible() and hint.text() == "Choose a category."
    assert hint.styleSheet() == HINT_STYLE  # grey, not an accusation on an empty form
    assert form.errors["place"].styleSheet() == HINT_STYLE
    choose(form.category, "klotter")
    form.category.setCurrentIndex(0)
    assert hint.styleSheet() == ERROR_STYLE  # touched and emptied again: now an error


def test_swedish_messages(store, qgis_iface, canvas):
    i18n.set_language("sv")
    session = make_session(store)
    widget = ReportingDock(qgis_iface, session)
    try:
        form = widget.form
        assert widget.windowTitle() == "EST – Rapportera händelse"
        assert widget.submit_button.text() == "Skicka rapport"
        assert form.labels["organisation"].text() == "Rapporterande organisation"
        assert form.category.itemText(form.category.findData("skadegorelse")) == "Skadegörelse"
        fill_form(form)
        form.time.time_to.setTime(QTime(0, 30))
        assert form.errors["time"].text() == ("Sluttiden 00:30 är före starttiden 01:00. "
                                              "En period över midnatt får vara högst 12 timmar.")
        assert form.errors["place"].text() == "Placera händelsen på kartan (eller ange koordinater)."
    finally:
        dispose(widget)


# ---------------------------------------------------------------------- lost connection
def test_lost_connection_keeps_the_report_in_the_form(dock, canvas, session, qgis_iface):
    form = dock.form
    fill_form(form)
    click_map(form, canvas, QPoint(410, 290))
    point = form.point
    restore = lose_connection(session.store)
    QTest.mouseClick(dock.submit_button, Qt.MouseButton.LeftButton)
    assert dock.status.isVisible()
    assert "Not sent" in dock.status.text() and "cannot be reached" in dock.status.text()
    assert "still in the form" in dock.status.text()
    assert any("Not sent" in m for m in qgis_iface.messageBar().get_messages(Qgis.Warning))
    # nothing typed is lost
    assert form.category.code() == "klotter"
    assert form.place_name.text() == "Gustav Adolfs torg"
    assert form.description.toPlainText() == "Nya taggar på elskåp – åäö"
    assert form.point == point
    assert dock.submit_button.isEnabled()  # ready to try again
    # the connection is back: the same click sends the same report, once
    restore()
    QTest.mouseClick(dock.submit_button, Qt.MouseButton.LeftButton)
    events = session.store.events()
    assert len(events) == 1 and events[0].description == "Nya taggar på elskåp – åäö"
    assert "Report submitted" in dock.status.text()


# ---------------------------------------------------------------------- my reports: edit, withdraw, review outcome
def _submit_one(dock, **changes) -> None:
    fill_form(dock.form, **changes)
    dock.form.set_place(*CENTRE)
    QTest.mouseClick(dock.submit_button, Qt.MouseButton.LeftButton)


def test_edit_and_withdraw_only_until_reviewed(dock, session):
    store = session.store
    _submit_one(dock, description="första")
    _submit_one(dock, description="andra", category="brand")
    first, second = store.events(oldest_first=True)
    assert dock.my_reports.rowCount() == 2

    # edit the first: the form shows it, Save changes writes version 2
    assert dock.select_report(first.uuid)
    assert dock.edit_button.isEnabled() and dock.withdraw_button.isEnabled()
    QTest.mouseClick(dock.edit_button, Qt.MouseButton.LeftButton)
    assert dock.edit_banner.isVisible()
    assert dock.submit_button.text() == "Save changes"
    assert dock.form.description.toPlainText() == "första"
    dock.form.description.setPlainText("första, rättad")
    QTest.mouseClick(dock.submit_button, Qt.MouseButton.LeftButton)
    edited = store.get(first.uuid)
    assert (edited.description, edited.version, edited.status) == ("första, rättad", 2, Status.SUBMITTED)
    assert [e.action for e in store.audit_log(first.uuid)] == ["submit", "edit"]
    assert not dock.edit_banner.isVisible() and dock.submit_button.text() == "Submit report"
    assert len(store.events()) == 2  # an edit is not a new report

    # the reviewer approves the first; the reporter can no longer touch it
    store.review(first.uuid, 2, "granskare", Status.APPROVED)
    session.events_changed.emit()
    assert dock.select_report(first.uuid)
    assert not dock.edit_button.isEnabled() and not dock.withdraw_button.isEnabled()
    dock.edit_selected()  # even if forced, the fresh state refuses
    assert "can no longer be changed" in dock.status.text()

    # withdraw the second
    dock.confirm = lambda _text: True
    assert dock.select_report(second.uuid)
    QTest.mouseClick(dock.withdraw_button, Qt.MouseButton.LeftButton)
    assert store.get(second.uuid).status == Status.WITHDRAWN
    texts = {dock.my_reports.item(r, 0).data(Qt.ItemDataRole.UserRole).uuid: dock.my_reports.item(r, 2).text()
             for r in range(dock.my_reports.rowCount())}
    assert texts == {first.uuid: "Approved", second.uuid: "Withdrawn"}


def test_edit_refused_when_reviewed_meanwhile(dock, session):
    store = session.store
    _submit_one(dock)
    event = store.events()[0]
    dock.select_report(event.uuid)
    dock.edit_selected()
    store.review(event.uuid, event.version, "granskare", Status.REJECTED, reason="Inte ett EST-ärende")
    dock.form.description.setPlainText("ändrad")
    QTest.mouseClick(dock.submit_button, Qt.MouseButton.LeftButton)
    assert "changed this report meanwhile" in dock.status.text() or "no longer be changed" in dock.status.text()
    assert store.get(event.uuid).description != "ändrad"
    assert dock.form.description.toPlainText() == "ändrad"  # kept, nothing lost


def test_rejection_reason_is_shown_to_the_reporter(dock, session):
    store = session.store
    _submit_one(dock)
    event = store.events()[0]
    store.review(event.uuid, event.version, "granskare", Status.REJECTED, reason="Inte ett EST-ärende")
    session.events_changed.emit()
    assert dock.my_reports.item(0, 2).text() == "Rejected: Inte ett EST-ärende"


# ---------------------------------------------------------------------- states: no store, roles
def test_no_store_and_roles(gpkg_store, qgis_iface, canvas):
    session = make_session(None)
    widget = ReportingDock(qgis_iface, session)
    try:
        assert widget.stack.currentWidget() is widget.message_page
        assert "No EST database is open" in widget.page_message.text()
        session.settings.local_role = Role.VIEWER.value
        session.set_store(gpkg_store)
        widget.settle()
        assert widget.stack.currentWidget() is widget.message_page
        assert widget.page_message.text().startswith("Your role (Viewer) may not report events.")
        session.set_local_role(Role.REPORTER)
        widget.settle()
        assert widget.stack.currentWidget() is widget.form_page
        assert "not a security boundary" in widget.role_label.text()
        session.set_store(None)
        widget.settle()
        assert widget.stack.currentWidget() is widget.message_page
    finally:
        session.store = None
        dispose(widget)


def test_remembered_organisation_is_preselected(gpkg_store, qgis_iface, canvas):
    session = make_session(gpkg_store)
    session.settings.organisation = "bevakning"
    widget = ReportingDock(qgis_iface, session)
    try:
        assert widget.form.organisation.code() == "bevakning"
    finally:
        dispose(widget)


# ---------------------------------------------------------------------- screenshots
@pytest.mark.parametrize("lang", ["en", "sv"])
def test_screenshot(gpkg_store, qgis_iface, canvas, output_dir: Path, lang):
    i18n.set_language(lang)
    session = make_session(gpkg_store)
    widget = ReportingDock(qgis_iface, session)
    try:
        widget.resize(400, 1180)
        widget.show()
        fill_form(widget.form, description="Nya taggar på elskåp vid busshållplatsen")
        widget.form.set_place(*CENTRE)
        QTest.mouseClick(widget.submit_button, Qt.MouseButton.LeftButton)
        event = gpkg_store.events()[0]
        gpkg_store.review(event.uuid, event.version, "granskare", Status.REJECTED,
                          reason="Inte ett EST-ärende" if lang == "sv" else "Not an EST matter")
        fill_form(widget.form, category="brand", start=dt.time(1, 0), end=dt.time(0, 30))
        type_into(widget.form.place_search, "drott")
        session.events_changed.emit()
        QApplication.processEvents()
        path = output_dir / f"reporting_dock_{lang}.png"
        assert widget.grab().save(str(path))
        # what the picture must show: the rejected report with its reason, in the category's colour
        image = QImage(str(path))
        assert (image.width(), image.height()) == (400, 1180)
        assert widget.my_reports.rowCount() == 1
        assert ("Inte ett EST-ärende" if lang == "sv" else "Not an EST matter") in widget.my_reports.item(0, 2).text()
        klotter = next(c.colour for c in default_categories() if c.code == "klotter").lower()
        assert klotter in {image.pixelColor(x, y).name() for x in range(0, 400, 2) for y in range(0, 1180, 2)}
    finally:
        dispose(widget, close=True)


@pytest.mark.postgis
def test_a_partner_login_reports_for_its_own_organisation(pg_store, qgis_iface, canvas, output_dir):
    """On PostGIS the dock shows login · organisation · role from the database and fixes the organisation."""
    with partner_login(pg_store, "lisa_vakt", "bevakning", Role.REPORTER) as store:
        session = make_session(store, role=Role.ADMIN)  # the local setting means nothing on PostGIS
        session.settings.organisation = "polisen"  # … and neither does a remembered organisation
        widget = ReportingDock(qgis_iface, session)
        widget.resize(380, 900)
        widget.show()
        try:
            assert widget.role_label.text() == ("lisa_vakt · North Security Company (demo) · Reporter — "
                                                "from the database, which enforces it.")
            assert widget.form.organisation.code() == "bevakning" and not widget.form.organisation.isEnabled()
            fill_form(widget.form, organisation=None)
            click_map(widget.form, canvas, QPoint(420, 300))
            QTest.mouseClick(widget.submit_button, Qt.MouseButton.LeftButton)
            mine = store.events()
            assert len(mine) == 1 and (mine[0].reporter, mine[0].organisation) == ("lisa_vakt", "bevakning")
            assert [(e.action, e.actor, e.login) for e in pg_store.audit_log(mine[0].uuid)] == [
                ("submit", "lisa_vakt", "lisa_vakt")]
            widget.grab().save(str(output_dir / "reporting_dock_postgis_reporter_en.png"))
        finally:
            dispose(widget, close=True)
            session.set_store(None)


def test_the_form_says_places_not_people_and_names_what_it_found(dock, canvas, session):
    form = dock.form
    assert form.privacy_hint.text().startswith("EST reports describe places and behaviour, not people")
    assert not form.privacy_warning.isVisible()
    fill_form(form, description="Mannen med personnummer 19800101-1234 och bilen ABC 123")
    click_map(form, canvas, QPoint(420, 300))
    warning = form.privacy_warning.text()
    assert form.privacy_warning.isVisible()
    assert "personal identity number “19800101-1234”" in warning and "car registration “ABC 123”" in warning
    assert dock.submit_button.isEnabled()  # a warning, not a refusal
    QTest.mouseClick(dock.submit_button, Qt.MouseButton.LeftButton)
    stored = session.store.events()[-1]
    assert stored.personal_data == "personnummer,registration"


def _address_points(path) -> str:
    """A local address layer like a municipality's: street and house number in two fields."""
    from qgis.core import QgsFeature, QgsField, QgsFields, QgsGeometry, QgsWkbTypes
    from qgis.PyQt.QtCore import QVariant

    from est_weekly_plugin.maps.layers import geopackage_writer

    fields = QgsFields()
    fields.append(QgsField("gatunamn", QVariant.String))
    fields.append(QgsField("nummer", QVariant.String))
    writer = geopackage_writer(str(path), fields, QgsWkbTypes.Point, 3006)
    for street, number, x, y in (("Kullagatan", "8", 356380.0, 6213720.0), ("Kullagatan", "10", 356395.0, 6213745.0),
                                 ("Kullagatan", "10A", 356398.0, 6213751.0), ("Drottninggatan", "10", 356100.0, 6213500.0)):
        feature = QgsFeature(fields)
        feature.setAttributes([street, number])
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        writer.addFeature(feature)
    del writer
    return str(path)


def test_kullagatan_10_is_found_among_the_municipalitys_addresses(dock, session, tmp_path, qgis_new_project):
    from qgis.core import QgsVectorLayer

    from est_weekly_plugin.gui.shared.places_dialog import PlacesDialog

    layer = QgsVectorLayer(_address_points(tmp_path / "adresser.gpkg"), "Adresspunkter", "ogr")
    QgsProject.instance().addMapLayer(layer)
    dialog = PlacesDialog(session.settings)
    dialog.address_layer.setLayer(layer)
    dialog.street_field.setField("gatunamn")
    dialog.number_field.setField("nummer")
    dialog.accept()
    assert session.settings.address_source == layer.source() and session.settings.address_number_field == "nummer"
    QgsProject.instance().removeMapLayer(layer.id())  # found by its source, not by a layer of the project
    form = dock.form
    fill_form(form)
    type_into(form.place_search, "Kullagatan 10")
    first = form.place_results.item(0)
    assert first.text() == "Kullagatan 10" and "addresses" in first.toolTip()
    assert form.place_results.count() >= 1 and "Drottninggatan" not in first.text()
    form.place_results.itemClicked.emit(first)
    assert form.point == pytest.approx((356395.0, 6213745.0), abs=0.01)
    form.place_search.clear()
    type_into(form.place_search, "kullagatan 10a")
    assert form.place_results.item(0).text() == "Kullagatan 10A"


class _LocalGeocoder:
    """Stands in for Nominatim without the network: QGIS's geocoder interface, answers in WGS 84."""

    def __new__(cls):  # noqa: ANN204 - built as a real QgsGeocoderInterface subclass
        from qgis.core import QgsCoordinateReferenceSystem, QgsGeocoderInterface, QgsGeocoderResult, QgsGeometry

        class Geocoder(QgsGeocoderInterface):
            asked: list = []

            def flags(self):  # noqa: ANN202
                return QgsGeocoderInterface.Flag.GeocodesStrings

            def geocodeString(self, string, context, feedback=None):  # noqa: ANN001, ANN202, N802
                Geocoder.asked.append(string)
                inside = QgsGeocoderResult("Kullagatan, Helsingborg", QgsGeometry.fromPointXY(QgsPointXY(12.6961, 56.0470)),
                                           QgsCoordinateReferenceSystem("EPSG:4326"))
                far = QgsGeocoderResult("Kullagatan, Stockholm", QgsGeometry.fromPointXY(QgsPointXY(18.07, 59.33)),
                                        QgsCoordinateReferenceSystem("EPSG:4326"))
                return [inside, far]

        return Geocoder()


def test_online_places_come_from_qgis_geocoder_in_the_background(dock, session):
    from qgis.core import QgsApplication

    geocoder = _LocalGeocoder()
    dock._geocoder = geocoder
    session.settings.online_geocoder = True
    form = dock.form
    fill_form(form)
    type_into(form.place_search, "Kullagatan")
    assert form.online.busy()  # asked after a pause, in a task: the form stays responsive
    deadline = time.time() + 10
    while form.online.busy() and time.time() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.02)
    texts = [form.place_results.item(i).text() for i in range(form.place_results.count())]
    assert "Kullagatan, Helsingborg" in texts and "Kullagatan, Stockholm" not in texts  # outside the municipality
    assert type(geocoder).asked == ["Kullagatan"]  # once, for the paused text, not per keystroke
    item = next(form.place_results.item(i) for i in range(form.place_results.count())
                if form.place_results.item(i).text() == "Kullagatan, Helsingborg")
    assert "OpenStreetMap" in item.toolTip()
    form.place_results.itemClicked.emit(item)
    assert 356000 < form.point[0] < 357500 and 6213000 < form.point[1] < 6214500
