"""Compilation charts (pyqtgraph): bars by category, organisation and weekday, the aoristic
weekday × hour matrix and the weekly trend with its 4-week average.

Why pyqtgraph: it redraws a million-event selection's aggregates in milliseconds (the
charts only ever see counts, never events) and exports the same scene to PNG and SVG, so
the dock, the meeting layout and the PDF report share one look. Every chart emits a signal
when a bar, cell or week is clicked; the dock turns that into a narrower (undoable) filter.

The meeting PDF draws the same charts without widgets (``report.charts``), in the same colours.
"""

from __future__ import annotations

import html
import math
import textwrap
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
from qgis.PyQt.QtCore import QPointF, QRectF, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QFont, QFontMetrics
from qgis.PyQt.QtWidgets import QWidget

from est_weekly_plugin._vendor import pyqtgraph as pg
from est_weekly_plugin._vendor.pyqtgraph import exporters  # noqa: F401 - registers ImageExporter / SVGExporter on pg.exporters

from ...analysis.compilation import ChartData
from ...domain.i18n import tr
from ...domain.model import Category, Organisation
from ...report.charts import ACCENT, AVERAGE, FONT_FAMILY, GRID, HIGHLIGHT, MATRIX_COLOURS, TEXT, count_text, short_week

SUBTITLE_CHARS = 64  # characters per subtitle line


def _font(size: float, bold: bool = False) -> QFont:
    font = QFont(FONT_FAMILY)
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


class _Chart(pg.PlotWidget):
    """A white, quiet plot with readable axes: the common look of every EST chart."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent=parent, background="w")
        self.setAntialiasing(True)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        self.setMouseEnabled(x=False, y=False)
        item.layout.setContentsMargins(8, 6, 16, 8)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(GRID))
            axis.setTextPen(pg.mkPen(TEXT))
            axis.setStyle(tickFont=_font(9), tickTextOffset=6, autoExpandTextSpace=True)
            axis.label.setFont(_font(9.5))
        self._title_key = ""
        self.subtitle = ""

    def dispose(self) -> None:
        """Free the scene before the widget goes: pyqtgraph items otherwise raise
        "unable to convert a QVariant" from itemChange while Qt tears the scene down."""
        self.scene().clear()
        self.hide()
        self.deleteLater()

    def set_title(self, text: str, subtitle: str = "") -> None:
        """A bold title; an optional smaller subtitle line under it says what the chart shows."""
        self.subtitle = subtitle
        if subtitle:
            # Wrapped by hand: a long line would widen the plot past a 560 px dock.
            lines = "<br>".join(html.escape(line) for line in textwrap.wrap(subtitle, SUBTITLE_CHARS))
            text = (f"{html.escape(text)}<br><span style='font-size: 8.5pt; font-weight: normal; color: #555;'>"
                    f"{lines}</span>")
        item = self.getPlotItem()
        item.setTitle(text, color=TEXT, size="12pt", bold=True)
        item.titleLabel.item.setFont(_font(12, bold=True))
        # PlotItem.setTitle fixes the title row at 30 px: grow it to the wrapped subtitle.
        height = max(30.0, item.titleLabel.item.boundingRect().height() + 4)
        item.titleLabel.setMaximumHeight(height)
        item.layout.setRowFixedHeight(0, height)

    def set_axis_label(self, axis: str, text: str) -> None:
        self.getPlotItem().setLabel(axis, text, color=TEXT, **{"font-size": "10pt"})

    def _view_point(self, scene_pos: QPointF) -> Optional[QPointF]:
        view = self.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(scene_pos):
            return None
        return view.mapSceneToView(scene_pos)


class BarChart(_Chart):
    """Bars with value labels; horizontal (long category names stay readable) or vertical.

    ``barClicked`` sends the clicked bar's key (a category/organisation code or a weekday).
    """

    barClicked = pyqtSignal(str)

    def __init__(self, horizontal: bool = True, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.horizontal = horizontal
        self.keys: List[str] = []
        self.labels: List[str] = []
        self.values = np.zeros(0)
        # Kept and updated, never removed: removing pyqtgraph items from a scene makes PyQt5 raise
        # "unable to convert a QVariant back to a Python object" in their itemChange.
        self._bars: Optional[pg.BarGraphItem] = None
        self._texts: List[pg.TextItem] = []
        self.scene().sigMouseClicked.connect(self._clicked)
        self.getPlotItem().showGrid(x=horizontal, y=not horizontal, alpha=0.25)

    def set_bars(
        self,
        keys: Sequence[str],
        labels: Sequence[str],
        values: Sequence[float],
        colours: Optional[Sequence[str]] = None,
        *,
        value_label: str = "",
        selected: Sequence[str] = (),
    ) -> None:
        """Replace the bars. Horizontal bars run top to bottom in the given order."""
        item = self.getPlotItem()
        self.keys, self.labels = list(keys), list(labels)
        self.values = np.asarray(values, dtype=np.float64)
        n = len(self.keys)
        colours = list(colours) if colours else [ACCENT] * n
        chosen = set(selected)
        brushes = [pg.mkBrush(QColor(c)) for c in colours]
        pens = [pg.mkPen(HIGHLIGHT if k in chosen else QColor(c).darker(130), width=2.5 if k in chosen else 1)
                for k, c in zip(self.keys, colours)]
        positions = np.arange(n, dtype=np.float64)
        peak = float(self.values.max()) if n and self.values.max() > 0 else 1.0
        if self.horizontal:
            shape = dict(x0=np.zeros(n), y=positions, height=0.7, width=self.values, x=None, y0=None)
            ticks = [list(zip(positions, self.labels))]
            left = item.getAxis("left")
            left.setTicks(ticks)
            # A fixed axis width from the longest label: pyqtgraph's auto-expansion only grows
            # after a paint, so a chart filled before it is shown would drop its labels.
            metrics = QFontMetrics(_font(9))
            limit = 210  # long organisation names are elided, never allowed to push the bars out
            shown = [metrics.elidedText(text, Qt.TextElideMode.ElideRight, limit) for text in self.labels]
            left.setTicks([list(zip(positions, shown))])
            left.setWidth(max((metrics.horizontalAdvance(text) for text in shown), default=20) + 16)
            item.getAxis("bottom").setTicks(None)
            item.getViewBox().invertY(True)
            item.setYRange(-0.6, max(n - 0.4, 0.6), padding=0)
            item.setXRange(0, peak * 1.28, padding=0)
            self.set_axis_label("bottom", value_label)
            item.setLabel("left", "")
            item.getAxis("left").showLabel(False)
        else:
            shape = dict(x=positions, y0=np.zeros(n), width=0.7, height=self.values, x0=None, y=None)
            item.getAxis("bottom").setTicks([list(zip(positions, self.labels))])
            item.getAxis("left").setTicks(None)
            item.getViewBox().invertY(False)
            item.setXRange(-0.6, max(n - 0.4, 0.6), padding=0)
            item.setYRange(0, peak * 1.15, padding=0)
            self.set_axis_label("left", value_label)
        if self._bars is None:
            self._bars = pg.BarGraphItem(brushes=brushes, pens=pens, **shape)
            item.addItem(self._bars)
        else:
            self._bars.setOpts(brushes=brushes, pens=pens, **shape)
        self._set_value_labels(positions)

    def _set_value_labels(self, positions: np.ndarray) -> None:
        """One count beside (or above) each bar; labels left from a longer list are hidden."""
        item = self.getPlotItem()
        while len(self._texts) < len(positions):
            text = pg.TextItem("", color=TEXT, anchor=(0, 0.5) if self.horizontal else (0.5, 1))
            text.setFont(_font(8.5))
            item.addItem(text)
            self._texts.append(text)
        for index, text in enumerate(self._texts):
            shown = index < len(positions)
            text.setVisible(shown)
            if shown:
                value, position = self.values[index], positions[index]
                text.setText(count_text(value))
                text.setPos(*((value, position) if self.horizontal else (position, value)))

    def key_at(self, scene_pos: QPointF) -> Optional[str]:
        """The key of the bar (row or column band) under a scene position."""
        point = self._view_point(scene_pos)
        if point is None or not self.keys:
            return None
        index = int(round(point.y() if self.horizontal else point.x()))
        return self.keys[index] if 0 <= index < len(self.keys) else None

    def _clicked(self, event: object) -> None:
        key = self.key_at(event.scenePos())  # type: ignore[attr-defined]
        if key is not None:
            self.barClicked.emit(key)


class MatrixChart(_Chart):
    """Weekday (rows, Monday at the top) × hour (columns) heat matrix with a colour bar."""

    cellClicked = pyqtSignal(int, int)  # weekday 0 = Monday, hour 0–23

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.matrix = np.zeros((7, 24))
        self.image = pg.ImageItem(axisOrder="row-major")
        item = self.getPlotItem()
        item.addItem(self.image)
        item.getViewBox().invertY(True)
        self.image.setImage(self.matrix, levels=(0.0, 1.0), autoLevels=False)
        self.image.setRect(QRectF(0, 0, 24, 7))
        item.setXRange(0, 24, padding=0)
        item.setYRange(0, 7, padding=0)
        item.getAxis("bottom").setTicks([[(h + 0.5, f"{h:02d}") for h in range(0, 24, 2)]])
        self.colour_map = pg.ColorMap(np.linspace(0, 1, len(MATRIX_COLOURS)), [QColor(c) for c in MATRIX_COLOURS])
        self.colour_bar = pg.ColorBarItem(colorMap=self.colour_map, interactive=False, width=14)
        self.colour_bar.setImageItem(self.image, insert_in=item)
        self.colour_bar.axis.setStyle(tickFont=_font(8.5))
        self.colour_bar.axis.setTextPen(pg.mkPen(TEXT))
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_matrix(self, matrix: np.ndarray, weekday_names: Sequence[str]) -> None:
        self.matrix = np.asarray(matrix, dtype=np.float64)
        peak = float(self.matrix.max()) if self.matrix.size and self.matrix.max() > 0 else 1.0
        self.image.setImage(self.matrix, levels=(0.0, peak), autoLevels=False)
        self.image.setRect(QRectF(0, 0, 24, 7))
        self.colour_bar.setLevels((0.0, peak))
        self.getPlotItem().getAxis("left").setTicks([[(d + 0.5, name) for d, name in enumerate(weekday_names)]])

    def cell_at(self, scene_pos: QPointF) -> Optional[Tuple[int, int]]:
        point = self._view_point(scene_pos)
        if point is None:
            return None
        hour, day = int(math.floor(point.x())), int(math.floor(point.y()))
        return (day, hour) if 0 <= hour < 24 and 0 <= day < 7 else None

    def _clicked(self, event: object) -> None:
        cell = self.cell_at(event.scenePos())  # type: ignore[attr-defined]
        if cell is not None:
            self.cellClicked.emit(*cell)


class TrendChart(_Chart):
    """Events per ISO week as a line, the previous-4-weeks average dashed, one week highlighted."""

    weekClicked = pyqtSignal(str)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.labels: List[str] = []
        item = self.getPlotItem()
        item.showGrid(x=False, y=True, alpha=0.25)
        self.legend = item.addLegend(offset=(-10, 8), labelTextColor=TEXT, labelTextSize="9pt",
                                     brush=pg.mkBrush(255, 255, 255, 220), pen=pg.mkPen(GRID))
        self.counts_curve = item.plot([], [], pen=pg.mkPen(ACCENT, width=2.5), symbol="o", symbolSize=6,
                                      symbolBrush=ACCENT, symbolPen=pg.mkPen("w"), name="")
        self.average_curve = item.plot([], [], pen=pg.mkPen(AVERAGE, width=2, style=Qt.PenStyle.DashLine), name="")
        self.marker = pg.ScatterPlotItem(size=14, brush=pg.mkBrush(HIGHLIGHT), pen=pg.mkPen("w", width=1.5))
        item.addItem(self.marker)
        # The chosen date range, shaded when the line also shows the weeks before it.
        self.range_region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(31, 78, 121, 22),
                                                pen=pg.mkPen(None))
        self.range_region.setZValue(-10)
        self.range_region.hide()
        item.addItem(self.range_region)
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_series(self, labels: Sequence[str], counts: np.ndarray, average: np.ndarray,
                   highlight: Optional[str] = None, *, counts_name: str = "", average_name: str = "",
                   range_start: int = 0) -> None:
        """*range_start* > 0: the first *range_start* weeks precede the chosen dates (shaded apart)."""
        self.labels = list(labels)
        x = np.arange(len(self.labels), dtype=np.float64)
        counts = np.asarray(counts, dtype=np.float64)
        average = np.asarray(average, dtype=np.float64)
        self.counts_curve.setData(x, counts)
        finite = np.isfinite(average)
        self.average_curve.setData(x[finite], average[finite])
        self.legend.clear()
        self.legend.addItem(self.counts_curve, counts_name)
        self.legend.addItem(self.average_curve, average_name)
        if 0 < range_start < len(self.labels):
            self.range_region.setRegion((range_start - 0.5, len(self.labels) - 0.5))
            self.range_region.show()
        else:
            self.range_region.hide()
        if highlight in self.labels:
            index = self.labels.index(highlight)
            self.marker.setData([x[index]], [counts[index]])
        else:
            self.marker.setData([], [])
        step = max(1, int(math.ceil(len(self.labels) / 13)))
        ticks = [(float(i), short_week(self.labels[i])) for i in range(len(self.labels) - 1, -1, -step)]
        item = self.getPlotItem()
        item.getAxis("bottom").setTicks([ticks])
        peak = float(np.nanmax(np.concatenate([counts, average[finite], [1.0]])))
        item.setXRange(-0.5, max(len(self.labels) - 0.5, 0.5), padding=0)
        item.setYRange(0, peak * 1.3, padding=0)

    def week_at(self, scene_pos: QPointF) -> Optional[str]:
        point = self._view_point(scene_pos)
        if point is None or not self.labels:
            return None
        index = int(round(point.x()))
        return self.labels[index] if 0 <= index < len(self.labels) else None

    def _clicked(self, event: object) -> None:
        week = self.week_at(event.scenePos())  # type: ignore[attr-defined]
        if week is not None:
            self.weekClicked.emit(week)






# --------------------------------------------------------------------------- filling the charts
def fill_category_chart(chart: BarChart, data: ChartData, categories: Sequence[Category],
                        lang: Optional[str] = None, selected: Sequence[str] = ()) -> None:
    """Categories in the database's order (the legend's order), coloured as on the map."""
    counts = dict(zip(data.category_codes, data.category_counts.tolist()))
    known = [c for c in categories if c.active or counts.get(c.code, 0)]
    chart.set_bars([c.code for c in known], [c.label(lang) for c in known], [counts.get(c.code, 0) for c in known],
                   [c.colour for c in known], value_label=tr("compilation.chart.events", lang), selected=selected)
    chart.set_title(tr("compilation.chart.categories", lang, total=count_text(data.total)))


def fill_organisation_chart(chart: BarChart, data: ChartData, organisations: Sequence[Organisation],
                            lang: Optional[str] = None, selected: Sequence[str] = ()) -> None:
    """Organisations sorted by count (the question is "who reports most")."""
    counts = dict(zip(data.organisation_codes, data.organisation_counts.tolist()))
    names = {o.code: o.name(lang) for o in organisations}
    codes = [o.code for o in organisations if o.active or counts.get(o.code, 0)]
    codes += [c for c in data.organisation_codes if c not in codes and counts.get(c, 0)]
    codes.sort(key=lambda c: (-counts.get(c, 0), names.get(c, c)))
    chart.set_bars(codes, [names.get(c, c) for c in codes], [counts.get(c, 0) for c in codes],
                   value_label=tr("compilation.chart.events", lang), selected=selected)
    chart.set_title(tr("compilation.chart.organisations", lang))


def fill_weekday_chart(chart: BarChart, data: ChartData, lang: Optional[str] = None,
                       selected: Sequence[int] = ()) -> None:
    names = tr("compilation.weekdays.short", lang).split(",")
    chart.set_bars([str(d) for d in range(7)], names, data.weekday_counts.tolist(),
                   value_label=tr("compilation.chart.events", lang), selected=[str(d) for d in selected])
    chart.set_title(tr("compilation.chart.weekdays", lang))


def fill_matrix_chart(chart: MatrixChart, data: ChartData, lang: Optional[str] = None) -> None:
    chart.set_matrix(data.weekday_hour, tr("compilation.weekdays.short", lang).split(","))
    chart.set_title(tr("compilation.chart.weekday_hour", lang))
    chart.set_axis_label("bottom", tr("compilation.chart.hour", lang))


def fill_trend_chart(chart: TrendChart, data: ChartData, lang: Optional[str] = None,
                     week: Optional[str] = None) -> None:
    """The trend line; with a date filter it also shows the 4 weeks before the chosen range
    (same filter without dates) so the first chosen week's 4-week average is visible, and
    the subtitle says so."""
    lead = int(getattr(data, "lead_weeks", 0) or 0)
    chart.set_series(data.week_labels, data.week_counts, data.weekly_average, week,
                     counts_name=tr("compilation.chart.per_week", lang),
                     average_name=tr("compilation.chart.average", lang), range_start=lead)
    span = ""
    if data.week_labels:
        span = f"{data.week_labels[0]} – {data.week_labels[-1]}"
    subtitle = ""
    if lead and len(data.week_labels) > lead:
        subtitle = tr("compilation.chart.trend_with_lead", lang, first=data.week_labels[lead],
                      last=data.week_labels[-1])
    chart.set_title(tr("compilation.chart.weekly_trend", lang, span=span), subtitle)
    chart.set_axis_label("left", tr("compilation.chart.events", lang))
    chart.set_axis_label("bottom", tr("compilation.chart.iso_week", lang))


# --------------------------------------------------------------------------- export
def export_chart(plot_widget: pg.PlotWidget, path: Path | str, width: Optional[int] = None) -> Path:
    """Write a chart as PNG or SVG (by suffix): the same scene the dock shows.

    PNGs are written at the widget's size (or *width* pixels wide, scaled), so fonts come
    out at the size they were designed for.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    item = plot_widget.getPlotItem() if isinstance(plot_widget, pg.PlotWidget) else plot_widget
    suffix = path.suffix.lower()
    if suffix == ".svg":
        exporter = pg.exporters.SVGExporter(item)
    elif suffix == ".png":
        exporter = pg.exporters.ImageExporter(item)
        rect = item.sceneBoundingRect()
        target = int(width or round(rect.width()))
        exporter.parameters()["width"] = max(target, 1)
        exporter.parameters()["height"] = max(int(round(rect.height() * target / max(rect.width(), 1))), 1)
        exporter.parameters()["background"] = QColor("white")
        exporter.parameters()["antialias"] = True
    else:
        raise ValueError(f"charts export as .png or .svg, not {path.suffix!r}")
    exporter.export(str(path))
    return path
