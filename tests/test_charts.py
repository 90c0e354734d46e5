"""Charts: headless PNGs for the report, chart contents, clicks and PNG/SVG export."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import TODAY
from qgis.PyQt.QtGui import QImage

from est_weekly_plugin.analysis.compilation import chart_data, columns_from_batch
from est_weekly_plugin.domain import i18n
from est_weekly_plugin.domain.reference import default_categories, default_organisations
from est_weekly_plugin.gui.compilation.charts import (
    BarChart,
    MatrixChart,
    TrendChart,
    export_chart,
    fill_category_chart,
    fill_matrix_chart,
    fill_trend_chart,
    render_compilation_charts,
)
from est_weekly_plugin.store.demo import demo_batch

CATEGORIES = list(default_categories())


@pytest.fixture(scope="module")
def columns():
    return columns_from_batch(demo_batch(8_000, end_date=TODAY - dt.timedelta(days=1)),
                              [c.code for c in CATEGORIES], [o.code for o in default_organisations()])


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_render_compilation_charts_writes_pngs(qgis_app, columns, output_dir, lang: str) -> None:
    i18n.set_language(lang)
    paths = render_compilation_charts(columns, CATEGORIES, output_dir / f"charts_{lang}", lang=lang, week="2026-W47",
                                      size=(900, 500))
    assert set(paths) == {"categories", "weekday_hour", "weekly_trend"}
    for path in paths.values():
        image = QImage(str(path))
        assert (image.width(), image.height()) == (900, 500)
        assert image.pixelColor(5, 5).name() == "#ffffff"  # white background, not transparent


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
