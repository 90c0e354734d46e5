"""Charts: headless PNGs for the report, chart contents, clicks and PNG/SVG export."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import TODAY
from qgis.PyQt.QtGui import QImage

from est_weekly_plugin.analysis.compilation import chart_data, columns_from_batch
from est_weekly_plugin.domain.model import day_number
from est_weekly_plugin.domain.reference import default_categories, default_organisations
from est_weekly_plugin.gui.compilation.charts import (
    BarChart,
    MatrixChart,
    TrendChart,
    export_chart,
    fill_category_chart,
    fill_matrix_chart,
    fill_trend_chart,
)
from est_weekly_plugin.store.demo import demo_batch

CATEGORIES = list(default_categories())


@pytest.fixture(scope="module")
def columns():
    return columns_from_batch(demo_batch(8_000, end_date=TODAY - dt.timedelta(days=1)),
                              [c.code for c in CATEGORIES], [o.code for o in default_organisations()])


def _colours(image: QImage) -> set[str]:
    """Every colour in a coarse sample of *image* (every 2nd pixel)."""
    return {image.pixelColor(x, y).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_report_charts_are_drawn_headless_in_the_maps_colours(qgis_app, columns, output_dir, lang: str) -> None:
    """The PDF's charts need no widget (they are drawn in the report task's worker thread)."""
    from est_weekly_plugin.report.charts import MATRIX_COLOURS, render_report_charts

    in_week = (columns.day >= day_number(dt.date(2026, 11, 16))) & (columns.day <= day_number(dt.date(2026, 11, 22)))
    paths = render_report_charts(columns.subset(in_week), columns, CATEGORIES, output_dir / f"report_charts_{lang}",
                                 lang=lang, week="2026-W47", week_size=(820, 290), trend_size=(820, 240))
    assert set(paths) == {"categories", "weekday_hour", "weekly_trend"}
    images = {key: QImage(str(path)) for key, path in paths.items()}
    assert (images["categories"].width(), images["categories"].height()) == (820, 290)
    assert (images["weekly_trend"].width(), images["weekly_trend"].height()) == (820, 240)
    for image in images.values():
        assert image.pixelColor(2, 2).name() == "#ffffff"  # white background, not transparent
    counts = np.bincount(columns.subset(in_week).category, minlength=len(columns.category_codes))
    top = columns.category_codes[int(np.argmax(counts))]
    assert next(c.colour for c in CATEGORIES if c.code == top).lower() in _colours(images["categories"])
    assert MATRIX_COLOURS[-1] in _colours(images["weekday_hour"])  # the busiest hour of the week is the darkest
    assert "#c51b8a" in _colours(images["weekly_trend"])  # the report's week is marked on the trend


def test_bar_chart_contents_and_clicks(qgis_app, columns) -> None:
    data = chart_data(columns)
    chart = BarChart(horizontal=True)
    fill_category_chart(chart, data, CATEGORIES, "en")
    chart.resize(700, 500)
    chart.show()
    qgis_app.processEvents()
    counts = dict(zip(data.category_codes, data.category_counts))
    assert chart.keys == [c.code for c in CATEGORIES]
    assert chart.values.tolist() == [counts[c.code] for c in CATEGORIES]
    assert chart.labels[1] == "Vandalism"
    clicked = []
    chart.barClicked.connect(clicked.append)
    view = chart.getPlotItem().getViewBox()
    scene_pos = view.mapViewToScene(view.mapToView(view.mapFromView(view.viewRect().center())))
    scene_pos = view.mapViewToScene(type(scene_pos)(counts["skadegorelse"] / 2, 1))
    assert chart.key_at(scene_pos) == "skadegorelse"
    chart.dispose()


def test_matrix_and_trend(qgis_app, columns, tmp_path) -> None:
    data = chart_data(columns, week="2026-W47")
    matrix = MatrixChart()
    fill_matrix_chart(matrix, data, "en")
    assert matrix.matrix.shape == (7, 24)
    assert np.isclose(matrix.matrix.sum(), data.weekday_hour.sum())
    view = matrix.getPlotItem().getViewBox()
    matrix.resize(700, 400)
    matrix.show()
    qgis_app.processEvents()
    assert matrix.cell_at(view.mapViewToScene(type(view.viewRect().center())(22.5, 5.5))) == (5, 22)
    trend = TrendChart()
    fill_trend_chart(trend, data, "en", week="2026-W47")
    assert trend.labels[-1] == "2026-W47" and len(trend.labels) == 26
    xs, ys = trend.average_curve.getData()
    assert np.isclose(ys[-1], data.week_counts[-5:-1].mean())
    for suffix in (".png", ".svg"):
        path = export_chart(trend, tmp_path / f"trend{suffix}")
        assert path.stat().st_size > 1000
    assert "<svg" in (tmp_path / "trend.svg").read_text(encoding="utf-8")[:2000]
    with pytest.raises(ValueError):
        export_chart(trend, tmp_path / "trend.jpg")
    matrix.dispose()
    trend.dispose()


def test_refilling_the_bars_raises_nothing_and_relabels(qgis_app, columns, monkeypatch) -> None:
    """Chart updates reuse their items: removing pyqtgraph items makes PyQt5 raise from itemChange,
    which QGIS would show as a Python error at every filter change."""
    import sys

    errors: list = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: errors.append(args))
    chart = BarChart(horizontal=True)
    chart.resize(600, 400)
    chart.show()
    first = chart_data(columns)
    fill_category_chart(chart, first, CATEGORIES, "en")
    qgis_app.processEvents()
    fewer = [c for c in CATEGORIES if c.code in ("klotter", "skadegorelse")]
    fill_category_chart(chart, first, fewer, "en")
    qgis_app.processEvents()
    assert errors == []
    shown = [text.textItem.toPlainText() for text in chart._texts if text.isVisible()]
    counts = dict(zip(first.category_codes, first.category_counts.tolist()))
    assert shown == [str(counts[c.code]) for c in fewer]
    chart.dispose()
