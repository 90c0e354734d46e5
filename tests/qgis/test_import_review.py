"""Imported reports in the review queue: their source shown; an area event (the police's municipality
centroid) said to be unplaced, the street its summary names offered, and placing it makes it a point."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TODAY
from gui_helpers import click, click_map, make_session, pixel_to_store, prepared_canvas, shown
from qgis.PyQt.QtCore import QPoint

from est_weekly_plugin.domain.model import Precision, Status
from est_weekly_plugin.domain.street_names import street_names
from est_weekly_plugin.gui.review.review_panel import ReviewPanel
from est_weekly_plugin.store.importing import import_file

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


@pytest.fixture
def canvas(qgis_canvas, qgis_new_project) -> Iterator:
    yield from prepared_canvas(qgis_canvas)


@pytest.fixture
def panel(qgis_iface, canvas, store) -> Iterator[ReviewPanel]:
    import_file(store, DATA / "polisen_handelser.json", today=TODAY)
    import_file(store, DATA / "open311_requests.json", today=TODAY)
    yield from shown(ReviewPanel(qgis_iface, make_session(store, user="granskare.gun")), 420, 1100)


def test_the_queue_names_each_reports_source(panel):
    organisations = [panel.queue.item(row, 2).text() for row in range(panel.queue.rowCount())]
    assert len(organisations) == 5
    assert sum("Polisen – öppna händelser" in text for text in organisations) == 3
    assert sum("Open311" in text for text in organisations) == 2


def test_an_area_event_asks_to_be_placed_then_counts_as_a_point(panel, canvas):
    store = panel.session.store
    vandalism = next(e for e in store.events() if e.source_id == "612345")
    assert panel.select_report(vandalism.uuid)
    hint = panel.placement_hint.text()
    assert panel.placement_hint.isVisible() and "612345" in hint
    assert "Furutorpsgatan" in hint and "municipality" in hint
    click(panel.form.pick_button)
    target = QPoint(400, 300)
    click_map(panel.form, canvas, target)
    assert panel.approve()
    placed = store.get(vandalism.uuid)
    x, _y = pixel_to_store(canvas, target)
    assert placed.status == Status.APPROVED and placed.location_precision == Precision.POINT
    assert abs(placed.x - x) < 5
    assert store.audit_log(vandalism.uuid)[-1].changes["location_precision"] == ["municipality", "point"]


def test_an_area_event_without_a_street_is_only_said_unplaced(panel):
    store = panel.session.store
    assault = next(e for e in store.events() if e.source_id == "612288")
    panel.select_report(assault.uuid)
    assert "Not placed" in panel.placement_hint.text() and "names" not in panel.placement_hint.text()
    open311 = next(e for e in store.events() if e.source == "open311")
    panel.select_report(open311.uuid)
    assert "Not placed" not in panel.placement_hint.text() and "Open311" in panel.placement_hint.text()


def test_swedish_street_names_in_free_text():
    assert street_names("Fönsterrutor krossade vid en skola på Furutorpsgatan.") == ["Furutorpsgatan"]
    assert street_names("Bråk på Gustav Adolfs torg 3 och vid Drottninggatan 12 i natt") == [
        "Gustav Adolfs torg 3", "Drottninggatan 12"]
    assert street_names("En man misshandlad i centrala Helsingborg.") == []
