"""Headless map images of the EST data: the hot-spot heat map over the city, rendered by QGIS.

Used by ``make demo`` and the meeting report; runs without a window (offscreen Qt).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from qgis.core import (
    QgsColorRampLegendNodeSettings,
    QgsColorRampShader,
    QgsCoordinateReferenceSystem,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRectangle,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QRectF, QSize, Qt
from qgis.PyQt.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter

from ..analysis.density import density_grid
from ..analysis.hotspots import HotSpot
from ..domain.i18n import format_percent, tr
from ..domain.model import EventColumns, day_number
from ..domain.reference import districts
from .layers import point_label_layer, simple_labeling

HEAT_STOPS = ((0.0, QColor(255, 255, 178, 0)), (0.04, QColor(255, 237, 160, 120)), (0.15, QColor(254, 178, 76, 190)),
              (0.4, QColor(253, 141, 60, 215)), (0.7, QColor(240, 59, 32, 235)), (1.0, QColor(189, 0, 38, 250)))


@dataclass
class MapResult:
    path: Path
    events: int
    hotspots: list[HotSpot]
    period: tuple[dt.date, dt.date]


def heatmap_renderer(layer: QgsRasterLayer, maximum: float) -> QgsSingleBandPseudoColorRenderer:
    """Transparent where nothing happens, yellow → dark red towards the densest place."""
    ramp = QgsColorRampShader(0.0, maximum)
    ramp.setColorRampType(QgsColorRampShader.Interpolated)
    ramp.setColorRampItemList([
        QgsColorRampShader.ColorRampItem(stop * maximum, colour, format_percent(stop * 100)) for stop, colour in HEAT_STOPS
    ])
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    renderer.setClassificationMin(0.0)
    renderer.setClassificationMax(maximum)
    return renderer


def label_heat_legend(renderer: QgsSingleBandPseudoColorRenderer, low: str, high: str) -> None:
    """The heat ramp's legend says what it shows — "low → high" density, one continuous bar — not
    the raster's 0–1 numbers."""
    function = renderer.shader().rasterShaderFunction()
    if not isinstance(function, QgsColorRampShader):
        return
    legend = QgsColorRampLegendNodeSettings()
    legend.setUseContinuousLegend(True)
    legend.setMinimumLabel(low)
    legend.setMaximumLabel(high)
    legend.setOrientation(Qt.Orientation.Horizontal)
    function.setLegendSettings(legend)


def _label_layer(name: str, points: list[tuple[float, float, str]], epsg: int, size: float, colour: str,
                 marker: bool) -> QgsVectorLayer:
    """Ranked hot-spot markers (filled circles with white numbers) or plain district names."""
    layer = point_label_layer(name, epsg, points)
    symbol = layer.renderer().symbol()
    if marker:
        symbol.setColor(QColor(colour))
        symbol.setSize(size)
    else:
        symbol.setOpacity(0.0)
    layer.setLabeling(simple_labeling(colour if marker else "#ffffff", "#ffffff" if marker else "#303030",
                                      8.5 if marker else size, 1.2 if marker else 0.8, marker))
    layer.setLabelsEnabled(True)
    return layer


def render_hotspot_map(columns: EventColumns, out: Path, *, period: tuple[dt.date, dt.date],
                       extent: tuple[float, float, float, float], hotspots: Sequence[HotSpot], epsg: int = 3006,
                       title: str = "", size: tuple[int, int] = (1600, 1200), lang: str | None = None,
                       category_labels: dict[str, str] | None = None) -> MapResult:
    """Heat map (quartic KDE, 200 m) + the ranked *hotspots* (from the one weekly analysis) +
    district names for *period*, as PNG."""
    first, last = period
    in_period = (columns.day >= day_number(first)) & (columns.day <= day_number(last))
    selected = columns.subset(in_period).placed()  # area events never enter the heat map
    xmin, ymin, xmax, ymax = extent
    grid = density_grid(selected.x, selected.y, extent=extent, pixel_size=10.0, radius=200.0)
    work = Path(tempfile.mkdtemp(prefix="est-map-"))
    raster_path = grid.to_geotiff(str(work / "density.tif"), epsg)
    raster = QgsRasterLayer(raster_path, tr("map.heatmap", lang), "gdal")
    positive = grid.values[grid.values > 0]
    peak = float(np.quantile(positive, 0.998)) if positive.size else 1.0
    raster.setRenderer(heatmap_renderer(raster, max(peak, 1e-9)))
    spots = _label_layer("hotspots", [(h.x, h.y, str(h.rank)) for h in list(hotspots)], epsg, 5.5, "#08306b", True)
    names = _label_layer("districts", [(d.x, d.y, d.name) for d in districts()], epsg, 8, "#303030", False)

    settings = QgsMapSettings()
    settings.setLayers([spots, names, raster])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(f"EPSG:{epsg}"))
    settings.setOutputSize(QSize(*size))
    settings.setOutputDpi(120)
    settings.setBackgroundColor(QColor("#eef2f5"))
    settings.setExtent(QgsRectangle(xmin, ymin, xmax, ymax))
    settings.setFlag(QgsMapSettings.Antialiasing, True)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    _decorate(image, title, len(selected), list(hotspots), lang, category_labels or {})
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(out), "PNG")
    return MapResult(out, len(selected), list(hotspots), period)


def _decorate(image: QImage, title: str, count: int, hotspots: list[HotSpot], lang: str | None,
              category_labels: dict[str, str]) -> None:
    """Title strip, heat legend and the top hot-spots list painted onto the rendered map."""
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    width = image.width()
    painter.fillRect(QRectF(0, 0, width, 70), QColor(31, 78, 121, 235))
    painter.setPen(QColor("white"))
    painter.setFont(QFont("DejaVu Sans", 20, QFont.Weight.Bold))
    painter.drawText(QRectF(20, 6, width - 40, 36), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), title)
    painter.setFont(QFont("DejaVu Sans", 11))
    painter.drawText(QRectF(20, 40, width - 40, 24), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                     tr("map.subtitle", lang, count=count))
    box = QRectF(20, image.height() - 86 - 22 * min(len(hotspots), 5), 560, 76 + 22 * min(len(hotspots), 5))
    painter.fillRect(box, QColor(255, 255, 255, 225))
    painter.setPen(QColor("#202020"))
    painter.setFont(QFont("DejaVu Sans", 10, QFont.Weight.Bold))
    painter.drawText(QRectF(box.left() + 12, box.top() + 6, 400, 20), int(Qt.AlignmentFlag.AlignLeft),
                     tr("map.legend", lang))
    gradient = QLinearGradient(box.left() + 12, 0, box.left() + 252, 0)
    for stop, colour in HEAT_STOPS:
        gradient.setColorAt(stop, QColor(colour.red(), colour.green(), colour.blue(), max(colour.alpha(), 60)))
    painter.fillRect(QRectF(box.left() + 12, box.top() + 30, 240, 14), gradient)
    painter.setFont(QFont("DejaVu Sans", 9))
    painter.drawText(QRectF(box.left() + 260, box.top() + 27, 170, 20), int(Qt.AlignmentFlag.AlignLeft),
                     tr("map.legend_scale", lang))
    for index, spot in enumerate(hotspots[:5]):
        top_categories = ", ".join(category_labels.get(code, code) for code, _ in spot.categories[:2])
        painter.drawText(QRectF(box.left() + 12, box.top() + 54 + 22 * index, 540, 20), int(Qt.AlignmentFlag.AlignLeft),
                         tr("map.hotspot_line", lang, rank=spot.rank, district=spot.label, count=spot.count,
                            categories=top_categories))
    painter.end()
