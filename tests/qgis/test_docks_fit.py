"""Every dock is usable at QGIS's default dock width on a 1280 × 800 and a 1600 × 1000 screen, in
Swedish and in English: no button clipped ("Skicka rappor"), no table column collapsed to "I…",
nothing reachable only by scrolling sideways, the review queue shows ten rows. Screenshots of
each are written to tests/output for a person to look at."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TODAY, make_event
from gui_helpers import make_session
from qgis.PyQt.QtCore import QPoint
from qgis.PyQt.QtWidgets import QAbstractButton, QApplication, QScrollArea, QTableWidget

from est_weekly_plugin.domain import i18n
from est_weekly_plugin.domain.model import Role, Status
from est_weekly_plugin.store.demo import demo_batch

# (screen, dock width × height): QGIS gives a dock about a quarter of a 1280 px screen
SCREENS = {"1280x800": (320, 700), "1600x1000": (400, 900)}


def _dock(kind: str, qgis_iface, session):  # noqa: ANN001, ANN202
    if kind == "reporting":
        from est_weekly_plugin.gui.reporting.reporting_dock import ReportingDock

        return ReportingDock(qgis_iface, session)
    if kind == "review":
        from est_weekly_plugin.gui.review.review_panel import ReviewPanel

        return ReviewPanel(qgis_iface, session)
    if kind == "compilation":
        from est_weekly_plugin.gui.compilation.compilation_dock import CompilationDock

        return CompilationDock(qgis_iface, session, today=TODAY)
    from est_weekly_plugin.gui.meeting.meeting_panel import MeetingPanel

    return MeetingPanel(qgis_iface, session)


def _visible(widget) -> bool:  # noqa: ANN001
    return widget.isVisibleTo(widget.window())


def _clipped_buttons(dock) -> list[str]:  # noqa: ANN001
    """Buttons narrower than their text needs, or lying past the dock's right edge."""
    problems = []
    for button in dock.findChildren(QAbstractButton):
        if not _visible(button) or not button.text().strip():
            continue
        if button.width() < button.sizeHint().width() - 1:
            problems.append(f"{button.text()!r} {button.width()} < {button.sizeHint().width()}")
        right = button.mapTo(dock, QPoint(button.width(), 0)).x()
        if right > dock.width() + 1:
            problems.append(f"{button.text()!r} ends at {right} past the dock's {dock.width()}")
    return problems


def _collapsed_columns(dock) -> list[str]:  # noqa: ANN001
    problems = []
    for table in dock.findChildren(QTableWidget):
        if not _visible(table) or table.columnCount() == 0:
            continue
        header = table.horizontalHeader()
        from qgis.PyQt.QtCore import Qt

        shown = sum(header.sectionSize(c) for c in range(table.columnCount()) if not table.isColumnHidden(c))
        if table.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff and \
                shown > table.viewport().width() + 1:
            problems.append(f"{table.objectName()}: columns {shown} px in {table.viewport().width()} px, no scroll bar")
        for column in range(table.columnCount()):
            if table.isColumnHidden(column):
                continue
            item = table.horizontalHeaderItem(column)
            text = item.text() if item is not None else ""
            # the header's text and the style's margins on both sides: narrower and Qt elides it ("I…")
            margin = header.style().pixelMetric(header.style().PixelMetric.PM_HeaderMargin, None, header)
            needed = header.fontMetrics().horizontalAdvance(text) + 2 * margin
            if text and header.sectionSize(column) < min(needed, 120):
                problems.append(f"{table.objectName() or 'table'} column {text!r}: {header.sectionSize(column)} px")
    return problems


def _too_wide(dock, width: int) -> list[str]:  # noqa: ANN001
    """The dock cannot be as narrow as QGIS makes it: name the widest parts."""
    if dock.width() <= width + 2:
        return []
    from qgis.PyQt.QtWidgets import QWidget

    wide = sorted(((w.minimumSizeHint().width(), type(w).__name__, w.objectName()) for w in dock.findChildren(QWidget)
                   if w.minimumSizeHint().width() > width - 40), reverse=True)[:8]
    return [f"dock is {dock.width()} px wide, asked for {width}: {wide}"]


def _sideways(dock) -> list[str]:  # noqa: ANN001
    return [f"{area.objectName() or 'scroll area'} scrolls sideways" for area in dock.findChildren(QScrollArea)
            if _visible(area) and area.horizontalScrollBar().maximum() > 0]


@pytest.fixture
def filled_store(gpkg_store):  # noqa: ANN001, ANN201
    gpkg_store.insert_batch(demo_batch(3_000, end_date=TODAY - dt.timedelta(days=1), seed=2), today=TODAY)
    for i in range(14):  # a review queue longer than ten rows
        gpkg_store.submit(make_event(description=f"Rapport {i}", event_date=TODAY - dt.timedelta(days=2)),
                          actor="anna.andersson", today=TODAY)
    return gpkg_store


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("kind", ["reporting", "review", "compilation", "meeting"])
def test_every_dock_fits_the_default_dock_width(kind, screen, lang, qgis_iface, qgis_new_project, filled_store,
                                                output_dir) -> None:
    i18n.set_language(lang)
    session = make_session(filled_store, role=Role.ADMIN if kind != "reporting" else Role.REPORTER)
    dock = _dock(kind, qgis_iface, session)
    width, height = SCREENS[screen]
    try:
        dock.resize(width, height)
        dock.show()
        if kind == "compilation":
            assert dock.wait_until_idle()
        for _ in range(3):
            QApplication.processEvents()
        problems = _too_wide(dock, width) + _clipped_buttons(dock) + _collapsed_columns(dock) + _sideways(dock)
        dock.grab().save(str(output_dir / f"dock_{kind}_{screen}_{lang}.png"))
        assert not problems, problems
        from qgis.PyQt.QtWidgets import QDateEdit

        for edit in dock.findChildren(QDateEdit):  # enabled or not, never Qt's 2000-01-01
            assert not _visible(edit) or edit.date().year() != 2000, edit.objectName()
        if kind == "review":
            queue = dock.queue
            assert queue.rowCount() >= 14
            assert queue.viewport().height() >= 10 * queue.rowHeight(0), "the queue shows fewer than 10 rows"
            below = dock.queue_count.mapTo(dock, QPoint(0, 0)).y()
            assert below >= queue.mapTo(dock, QPoint(0, queue.height())).y() - 1, "the count is drawn over the queue"
    finally:
        i18n.set_language("en")
        dock.close()
        dock.deleteLater()
        QApplication.processEvents()


def test_a_reviewed_event_is_not_in_the_queue_of_the_fit_test(filled_store) -> None:
    """The fixture's queue really is the submitted reports (the fit test counts on it)."""
    assert len(filled_store.events(Status.SUBMITTED)) >= 14
