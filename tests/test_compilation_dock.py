"""The compilation dock driven through its real widgets, with screenshots."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import TODAY
from qgis.core import QgsMapRendererParallelJob, QgsProject, QgsRectangle
from qgis.PyQt.QtCore import QSize, Qt
from qgis.PyQt.QtGui import QColor

from est_weekly_plugin.core.demo import demo_batch
from est_weekly_plugin.core.layers import LAYER_PROPERTY
from est_weekly_plugin.gui.compilation_dock import FILTER_ENTRY, PROJECT_SCOPE, CompilationDock
from est_weekly_plugin.gui.session import EstSession


@pytest.fixture
def dock(qgis_iface, qgis_new_project, gpkg_store):
    gpkg_store.insert_batch(demo_batch(20_000, end_date=TODAY - dt.timedelta(days=1), seed=11), today=TODAY)
    session = EstSession()
    session.set_store(gpkg_store)
    canvas = qgis_iface.mapCanvas()
    from qgis.core import QgsCoordinateReferenceSystem

    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3006"))
    canvas.setExtent(QgsRectangle(353500, 6208000, 363500, 6219000))
    widget = CompilationDock(qgis_iface, session)
    widget.today = TODAY
    widget.panel.today = TODAY
    widget.resize(560, 1400)
    widget.show()
    assert widget.wait_until_idle()
    yield widget
    widget.shutdown()
    widget.hide()


def _tick(list_widget, code: str) -> None:
    for i in range(list_widget.count()):
        item = list_widget.item(i)
        if item.data(Qt.ItemDataRole.UserRole) == code:
            item.setCheckState(Qt.CheckState.Checked)
            return
    raise AssertionError(code)


def test_dock_filters_charts_layers_and_undo(dock, qgis_iface, output_dir) -> None:
    total = dock.result.count
    assert total > 15_000
    panel = dock.panel
    _tick(panel.categories, "skadegorelse")
    assert dock.wait_until_idle()
    vandalism = dock.result.count
    assert 0 < vandalism < total
    assert dock.category_chart.values.sum() == vandalism
    panel.preset.setCurrentIndex(panel.preset.findData("last_4_weeks"))
    assert dock.wait_until_idle()
    assert "Vandalism" in panel.summary.text() and "weeks 44–47" in panel.summary.text()
    four_weeks = dock.result.count
    assert four_weeks < vandalism
    # Who reported it: a click on the organisation chart's top bar narrows the filter …
    top = dock.organisation_chart.keys[0]
    dock.organisation_chart.barClicked.emit(top)
    assert dock.wait_until_idle()
    assert dock.filter.organisations == [top]
    assert dock.result.count == int(dock.organisation_chart.values.max()) or dock.result.count <= four_weeks
    # … and undo restores it.
    dock.undo_button.click()
    assert dock.wait_until_idle()
    assert dock.filter.organisations == [] and dock.result.count == four_weeks
    # Matrix click → weekday and hour.
    dock.matrix_chart.cellClicked.emit(5, 22)
    assert dock.wait_until_idle()
    assert dock.filter.weekdays == [5] and (dock.filter.hour_start, dock.filter.hour_end) == (22, 23)
    dock.undo_stack.undo()
    assert dock.wait_until_idle()
    # The filter is in the project, and a saved filter reloads.
    stored, ok = QgsProject.instance().readEntry(PROJECT_SCOPE, FILTER_ENTRY, "")
    assert ok and json.loads(stored)["categories"] == ["skadegorelse"]
    dock.save_filter("vandalism 4w")
    panel.clear_button.click()
    assert dock.wait_until_idle() and dock.result.count == total
    dock.load_filter("vandalism 4w")
    assert dock.wait_until_idle() and dock.result.count == four_weeks
    # Layers follow the filter.
    roles = {layer.customProperty(LAYER_PROPERTY): layer for layer in QgsProject.instance().mapLayers().values()}
    assert roles["compilation_points"].featureCount() == four_weeks
    assert roles["compilation_heatmap"].isValid()
    # Screenshots: the dock's charts tab and the canvas with the heat map.
    dock.tabs.setCurrentIndex(1)
    dock.grab().save(str(output_dir / "compilation_dock_charts.png"))
    dock.tabs.setCurrentIndex(0)
    dock.grab().save(str(output_dir / "compilation_dock_filters.png"))
    panel.clear_button.click()
    assert dock.wait_until_idle()
    canvas = qgis_iface.mapCanvas()
    canvas.setLayers([roles["compilation_points"], roles["compilation_heatmap"]])
    settings = canvas.mapSettings()
    settings.setOutputSize(QSize(1000, 800))
    settings.setBackgroundColor(QColor("#eef2f5"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(str(output_dir / "compilation_canvas_heatmap.png"))
    # Street scale: 10 m pixels around Knutpunkten.
    canvas.setExtent(QgsRectangle(355700, 6212800, 356900, 6213800))
    dock.recompute()
    assert dock.wait_until_idle()
    assert dock.result.density_spec.pixel_size == 10.0
    settings = canvas.mapSettings()
    settings.setOutputSize(QSize(1000, 800))
    settings.setBackgroundColor(QColor("#eef2f5"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(str(output_dir / "compilation_canvas_heatmap_street.png"))


def test_dock_without_store(qgis_iface, qgis_new_project) -> None:
    session = EstSession()
    dock = CompilationDock(qgis_iface, session)
    assert dock.engine is None and "Open an EST database" in dock.status.text()
    dock.recompute()
    dock.shutdown()

