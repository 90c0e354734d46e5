"""The compilation's charts tab: trend, categories, organisations, weekdays and the weekday × hour matrix.

A click on a bar, a matrix cell or a week asks for the current filter to be narrowed
(``narrowRequested`` with the criteria to replace, ``weekRequested`` with the ISO week); the
dock passes it to the controller, so a chart click is undoable like any other change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from ...analysis.compilation import CompilationResult
from ...domain.i18n import tr
from .charts import (
    BarChart,
    MatrixChart,
    TrendChart,
    export_chart,
    fill_category_chart,
    fill_matrix_chart,
    fill_organisation_chart,
    fill_trend_chart,
    fill_weekday_chart,
)

# The charts in the tab's order, with their minimum heights and their file names when exported.
CHART_HEIGHTS = (260, 380, 300, 240, 280)
CHART_NAMES = ("weekly_trend", "categories", "organisations", "weekdays", "weekday_hour")
CHART_MIN_WIDTH = 240  # fits QGIS's default dock width


class ChartsTab(QScrollArea):
    """Five charts of the current result, one under the other, and what the aoristic counts leave out."""

    narrowRequested = pyqtSignal(dict)  # the criteria a click replaces in the current filter
    weekRequested = pyqtSignal(str)  # an ISO week of the trend ("2026-W47")

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        page = QWidget()
        layout = QVBoxLayout(page)
        self.category_chart = BarChart(horizontal=True)
        self.organisation_chart = BarChart(horizontal=True)
        self.weekday_chart = BarChart(horizontal=False)
        self.matrix_chart = MatrixChart()
        self.trend_chart = TrendChart()
        self.charts = [self.trend_chart, self.category_chart, self.organisation_chart, self.weekday_chart,
                       self.matrix_chart]
        for chart, height in zip(self.charts, CHART_HEIGHTS):
            chart.setMinimumHeight(height)
            chart.setMinimumWidth(CHART_MIN_WIDTH)
            layout.addWidget(chart)
        self.unknown_note = QLabel()
        self.unknown_note.setWordWrap(True)
        layout.addWidget(self.unknown_note)
        self.setWidget(page)
        self.category_chart.barClicked.connect(lambda code: self.narrowRequested.emit({"categories": [code]}))
        self.organisation_chart.barClicked.connect(lambda code: self.narrowRequested.emit({"organisations": [code]}))
        self.weekday_chart.barClicked.connect(lambda day: self.narrowRequested.emit({"weekdays": [int(day)]}))
        self.matrix_chart.cellClicked.connect(lambda day, hour: self.narrowRequested.emit(
            {"weekdays": [day], "hour_start": hour, "hour_end": hour + 1}))
        self.trend_chart.weekClicked.connect(self.weekRequested.emit)

    def show_result(self, result: CompilationResult, categories: Sequence[Any],
                    organisations: Sequence[Any]) -> None:
        """Fill every chart from *result*, the filter's own choices highlighted."""
        data = result.charts
        f = result.filter
        fill_trend_chart(self.trend_chart, data, week=None)
        fill_category_chart(self.category_chart, data, categories, selected=f.categories)
        fill_organisation_chart(self.organisation_chart, data, organisations, selected=f.organisations)
        fill_weekday_chart(self.weekday_chart, data, selected=f.weekdays)
        fill_matrix_chart(self.matrix_chart, data)
        self.unknown_note.setText(tr("compilation.aoristic.unknown_excluded", count=data.unknown_time)
                                  + " " + tr("compilation.aoristic.method"))

    def export_charts(self, directory: Path | str, suffix: str = ".png") -> list:
        """Each chart as an image file in *directory* (PNG or SVG by *suffix*)."""
        directory = Path(directory)
        return [export_chart(chart, directory / f"{name}{suffix}") for name, chart in zip(CHART_NAMES, self.charts)]

    def clear(self) -> None:
        """Free the chart scenes before Qt deletes the widgets."""
        for chart in self.charts:
            chart.scene().clear()
