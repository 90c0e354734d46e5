"""What the GUI tests share: sessions, a prepared map canvas, a user's clicks and typing, shown docks.

Imported by ``test_reporting_dock.py`` and ``test_review_panel.py`` (and open to the tests of
the other docks). Fixtures stay in the test modules (``conftest.py`` holds only the store
fixtures) but are one line each: ``yield from prepared_canvas(...)`` / ``yield from shown(...)``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject, QgsRectangle
from qgis.PyQt.QtCore import QDate, QEvent, QPoint, Qt, QTime
from qgis.PyQt.QtGui import QKeyEvent
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication, QWidget

from est_weekly_plugin.domain.model import Role
from est_weekly_plugin.domain.settings import EstSettings
from est_weekly_plugin.gui.reporting.event_form import TimeModeWidget
from est_weekly_plugin.gui.shared.session import EstSession

CANVAS_CRS = "EPSG:3857"  # deliberately not the store CRS: every point must be transformed
CENTRE = (356500.0, 6213700.0)  # SWEREF 99 TM, central Helsingborg


def make_session(store, role: Role = Role.ADMIN, user: str = "anna.andersson") -> EstSession:
    """A session on *store* whose settings never touch the real QGIS profile."""
    session = EstSession()
    session.settings = EstSettings(local_role=role.value, user_name=user)
    session.settings.save = lambda: None  # keep the test profile clean
    session.set_store(store)
    return session


def prepare_canvas(canvas, half_size: float = 1500.0) -> None:
    """Canvas in Web Mercator around central Helsingborg, at its real widget size."""
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem(CANVAS_CRS))
    box = QgsRectangle(CENTRE[0] - half_size, CENTRE[1] - half_size, CENTRE[0] + half_size, CENTRE[1] + half_size)
    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:3006"),
                                       QgsCoordinateReferenceSystem(CANVAS_CRS), QgsProject.instance())
    window = canvas.window()
    window.resize(800, 600)
    canvas.resize(800, 600)
    window.show()  # offscreen, but the viewport only gets its real size once shown
    QApplication.processEvents()
    canvas.setExtent(transform.transformBoundingBox(box))
    canvas.refresh()
    QApplication.processEvents()


def store_to_pixel(canvas, x: float, y: float) -> QPoint:
    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:3006"),
                                       canvas.mapSettings().destinationCrs(), QgsProject.instance())
    pixel = canvas.getCoordinateTransform().transform(transform.transform(QgsPointXY(x, y)))
    return QPoint(round(pixel.x()), round(pixel.y()))


def pixel_to_store(canvas, pixel: QPoint) -> tuple[float, float]:
    point = canvas.getCoordinateTransform().toMapCoordinates(pixel.x(), pixel.y())
    transform = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(),
                                       QgsCoordinateReferenceSystem("EPSG:3006"), QgsProject.instance())
    result = transform.transform(point)
    return result.x(), result.y()


def click_map(form, canvas, pixel: QPoint) -> None:
    """Arm the form's map tool with its button, then click the canvas like a user."""
    if not form.pick_button.isChecked():
        QTest.mouseClick(form.pick_button, Qt.MouseButton.LeftButton)
    assert canvas.mapTool() is form.tool
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pixel)
    QApplication.processEvents()


def choose(combo, code: str) -> None:
    index = combo.findData(code)
    assert index >= 0, code
    combo.setCurrentIndex(index)


def type_into(widget, text: str) -> None:
    """Type like a keyboard does, one key event per character (QTest.keyClicks cannot type "åäö")."""
    widget.setFocus()
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def fill_form(form, category: str = "klotter", organisation: str | None = "polisen", date: dt.date | None = None,
              start: dt.time | None = dt.time(1, 0), end: dt.time | None = dt.time(2, 30),
              place_name: str = "Gustav Adolfs torg", description: str = "Nya taggar på elskåp – åäö") -> None:
    choose(form.category, category)
    if organisation is not None:  # None: leave what the dock chose (a partner login's own organisation)
        choose(form.organisation, organisation)
    date = date or dt.date.today() - dt.timedelta(days=1)
    form.event_date.setDate(QDate(date.year, date.month, date.day))
    if start is None:
        form.time.set_mode(TimeModeWidget.UNKNOWN)
    else:
        form.time.set_mode(TimeModeWidget.SPAN if end else TimeModeWidget.AT)
        form.time.time_from.setTime(QTime(start.hour, start.minute))
        if end:
            form.time.time_to.setTime(QTime(end.hour, end.minute))
    form.place_name.clear()
    type_into(form.place_name, place_name)
    form.description.clear()
    type_into(form.description, description)


def lose_connection(store) -> object:
    """Cut the store off its database (file gone / server down); returns what brings it back."""
    from est_weekly_plugin.store import GeoPackageStore

    if isinstance(store, GeoPackageStore):
        store._conn.close()
        return lambda: setattr(store, "_conn", GeoPackageStore._connect(store.path))
    info = store.info
    store.info = dataclasses.replace(info, host="127.0.0.1", port=9)  # nothing listens there
    store._conn.close()
    return lambda: setattr(store, "info", info)  # the store reconnects by itself on next use


def click(button) -> None:
    """Click an enabled button like a user (a disabled one is a test failure, not a silent no-op)."""
    assert button.isEnabled(), button.objectName()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


# ---------------------------------------------------------------------- fixtures and dock lifetime
def prepared_canvas(qgis_canvas) -> Iterator:
    """For a ``canvas`` fixture: the canvas prepared as :func:`prepare_canvas`; no map tool left afterwards."""
    prepare_canvas(qgis_canvas)
    yield qgis_canvas
    if qgis_canvas.mapTool() is not None:
        qgis_canvas.unsetMapTool(qgis_canvas.mapTool())


Dock = TypeVar("Dock", bound=QWidget)


def dispose(widget, close: bool = False) -> None:
    """Leave the canvas as found (the dock's map tool and marker), then let Qt delete the dock."""
    widget.form.release_canvas()
    if close:
        widget.close()
    widget.deleteLater()


def shown(widget: Dock, width: int, height: int) -> Iterator[Dock]:
    """For a dock fixture: the dock shown at *width* × *height*; closed and disposed of afterwards."""
    widget.resize(width, height)
    widget.show()
    QApplication.processEvents()
    yield widget
    dispose(widget, close=True)


@contextmanager
def partner_login(pg_store, login: str, organisation: str, role: Role) -> Iterator:
    """The plugin's store logged in as a real EST login of *organisation* (created by the schema
    owner through the database's own function); the login is dropped afterwards."""
    from est_weekly_plugin.store import PostgisStore

    with pg_store.transaction() as cursor:
        cursor.execute(f'DROP ROLE IF EXISTS "{login}"')
    password = pg_store.create_login(login, organisation, role)
    store = PostgisStore.open(dataclasses.replace(pg_store.info, user=login, password=password))
    try:
        yield store
    finally:
        store.close()
        with pg_store.transaction() as cursor:
            cursor.execute(f'DROP OWNED BY "{login}"')
            cursor.execute(f'DROP ROLE "{login}"')
