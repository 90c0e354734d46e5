"""The meeting PDF's charts, drawn headless with QPainter on a QImage.

Why not the dock's pyqtgraph widgets: the PDF is built in a worker thread (a QgsTask) and by
Processing, where no widget may exist. A QImage and a QPainter are safe in any thread, so the
report draws its three charts here — categories, the aoristic weekday × hour matrix and the
weekly trend — from the same ``ChartData`` the dock shows, in the same colours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from qgis.PyQt.QtCore import QPointF, QRectF, Qt
from qgis.PyQt.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from ..analysis.compilation import ChartData, chart_data
from ..domain.i18n import format_number, tr
from ..domain.model import Category, EventColumns

FONT_FAMILY = "DejaVu Sans"
TEXT = "#2b2b2b"
GRID = "#d0d4d9"
ACCENT = "#1f4e79"  # EST blue: bars without a category colour, the trend line
AVERAGE = "#e6550d"
HIGHLIGHT = "#c51b8a"
LEAD_SHADE = QColor(31, 78, 121, 22)  # the weeks before the chosen dates, on the trend
MATRIX_COLOURS = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
MARGIN = 12.0


def chart_font(pixels: float, bold: bool = False) -> QFont:
    """Fonts in pixels, so a chart looks the same at any screen or worker-thread DPI."""
    font = QFont(FONT_FAMILY)
    font.setPixelSize(max(int(round(pixels)), 6))
    font.setBold(bold)
    return font


def count_text(value: float, lang: str | None = None) -> str:
    """Counts as integers; aoristic sums to one decimal — in *lang*'s number format."""
    return format_number(value, lang, 0 if abs(value - round(value)) < 1e-9 else 1)


def short_week(label: str) -> str:
    """ "2026-W47" → "v. 47" / "W47": the year is in the title, the axis needs the number."""
    return tr("compilation.chart.week_tick", week=label[-2:].lstrip("0"))


def nice_step(peak: float, ticks: int = 5) -> float:
    """A 1-2-5 step that gives about *ticks* grid lines up to *peak*."""
    raw = max(peak, 1.0) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def ramp_colour(share: float) -> QColor:
    """The matrix's colour for a value at *share* (0–1) of the peak."""
    share = min(max(share, 0.0), 1.0) * (len(MATRIX_COLOURS) - 1)
    low = int(math.floor(share))
    high = min(low + 1, len(MATRIX_COLOURS) - 1)
    a, b, t = QColor(MATRIX_COLOURS[low]), QColor(MATRIX_COLOURS[high]), share - low
    return QColor(*(round(getattr(a, c)() + (getattr(b, c)() - getattr(a, c)()) * t) for c in ("red", "green", "blue")))


class ChartImage:
    """A white image with a painter, a title (and optional subtitle) and the plot area below it."""

    def __init__(self, size: tuple[int, int], title: str, subtitle: str = "", lang: str | None = None) -> None:
        self.width, self.height = size
        self.lang = lang
        self.scale = max(self.height / 420.0, 0.6)  # text grows with the picture frame
        self.image = QImage(self.width, self.height, QImage.Format.Format_ARGB32)
        self.image.fill(QColor("white"))
        self.painter = QPainter(self.image)
        self.painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        top = MARGIN
        top += self.text(QRectF(MARGIN, top, self.width - 2 * MARGIN, 40), title, 17, bold=True)
        if subtitle:
            top += self.text(QRectF(MARGIN, top, self.width - 2 * MARGIN, 40), subtitle, 12, colour="#5a6570")
        self.top = top + 6

    def font(self, pixels: float, bold: bool = False) -> QFont:
        return chart_font(pixels * self.scale, bold)

    def text(self, rect: QRectF, text: str, pixels: float, *, bold: bool = False, colour: str = TEXT,
             align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop) -> float:
        """Draw *text* in *rect*; returns the height it took."""
        font = self.font(pixels, bold)
        self.painter.setFont(font)
        self.painter.setPen(QColor(colour))
        self.painter.drawText(rect, int(align), text)
        return QFontMetricsF(font).height()

    def text_width(self, text: str, pixels: float, bold: bool = False) -> float:
        return QFontMetricsF(self.font(pixels, bold)).horizontalAdvance(text)

    def save(self, path: Path) -> Path:
        self.painter.end()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.image.save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        return path


def category_chart(data: ChartData, categories: Sequence[Category], lang: str | None,
                   size: tuple[int, int]) -> ChartImage:
    """Horizontal bars per category, in the database's order and the map's colours, with their counts."""
    counts = dict(zip(data.category_codes, data.category_counts.tolist()))
    shown = [c for c in categories if c.active or counts.get(c.code, 0)]
    chart = ChartImage(size, tr("compilation.chart.categories", lang, total=count_text(data.total, lang)), lang=lang)
    labels = [c.label(lang) for c in shown]
    label_width = min(max((chart.text_width(text, 12) for text in labels), default=0.0) + 8, chart.width * 0.4)
    value_width = chart.text_width(count_text(max(counts.values(), default=0), lang), 11) + 10
    left, right = MARGIN + label_width, chart.width - MARGIN - value_width
    row = (chart.height - chart.top - MARGIN) / max(len(shown), 1)
    peak = max((counts.get(c.code, 0) for c in shown), default=0) or 1
    for index, category in enumerate(shown):
        y = chart.top + index * row
        value = counts.get(category.code, 0)
        chart.text(QRectF(MARGIN, y, label_width - 8, row), labels[index], 12,
                   align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        length = (right - left) * value / peak
        chart.painter.fillRect(QRectF(left, y + row * 0.15, length, row * 0.7), QColor(category.colour or ACCENT))
        chart.text(QRectF(left + length + 4, y, value_width, row), count_text(value, lang), 11,
                   align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    chart.painter.setPen(QPen(QColor(GRID), 1))
    chart.painter.drawLine(QPointF(left, chart.top), QPointF(left, chart.height - MARGIN))
    return chart


def matrix_chart(data: ChartData, lang: str | None, size: tuple[int, int]) -> ChartImage:
    """The aoristic weekday × hour matrix: Monday at the top, hours left to right, a colour bar at the right."""
    chart = ChartImage(size, tr("compilation.chart.weekday_hour", lang), lang=lang)
    names = tr("compilation.weekdays.short", lang).split(",")
    matrix = np.asarray(data.weekday_hour, dtype=np.float64).reshape(7, 24)
    peak = float(matrix.max()) if matrix.size and matrix.max() > 0 else 1.0
    left = MARGIN + max(chart.text_width(name, 12) for name in names) + 8
    bar_width = 14 * chart.scale
    peak_text = count_text(peak, lang)
    right = chart.width - MARGIN - bar_width - chart.text_width(peak_text, 11) - 12
    axis = 2.4 * chart.font(12).pixelSize()
    cell_w, cell_h = (right - left) / 24, (chart.height - chart.top - MARGIN - axis) / 7
    for day in range(7):
        y = chart.top + day * cell_h
        chart.text(QRectF(MARGIN, y, left - MARGIN - 8, cell_h), names[day] if day < len(names) else "", 12,
                   align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for hour in range(24):
            chart.painter.fillRect(QRectF(left + hour * cell_w, y, cell_w + 0.5, cell_h + 0.5),
                                   ramp_colour(matrix[day, hour] / peak))
    bottom = chart.top + 7 * cell_h
    for hour in range(0, 24, 2):
        chart.text(QRectF(left + hour * cell_w - 10, bottom + 2, cell_w + 20, axis / 2), f"{hour:02d}", 11,
                   align=Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    chart.text(QRectF(left, bottom + axis / 2, right - left, axis / 2), tr("compilation.chart.hour", lang), 12,
               align=Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    bar_left = right + 8
    for step in range(100):
        y = bottom - (step + 1) * (bottom - chart.top) / 100
        chart.painter.fillRect(QRectF(bar_left, y, bar_width, (bottom - chart.top) / 100 + 0.5),
                               ramp_colour(step / 99))
    chart.text(QRectF(bar_left + bar_width + 4, chart.top - 6, 80, 20), peak_text, 11)
    chart.text(QRectF(bar_left + bar_width + 4, bottom - 14, 80, 20), "0", 11)
    return chart


def trend_chart(data: ChartData, lang: str | None, week: str | None, size: tuple[int, int]) -> ChartImage:
    """Events per ISO week, the 4-week average dashed, *week* marked, the weeks before the dates shaded."""
    labels = list(data.week_labels)
    lead = int(getattr(data, "lead_weeks", 0) or 0)
    span = f"{labels[0]} – {labels[-1]}" if labels else ""
    subtitle = tr("compilation.chart.trend_with_lead", lang, first=labels[lead], last=labels[-1]) \
        if lead and len(labels) > lead else ""
    chart = ChartImage(size, tr("compilation.chart.weekly_trend", lang, span=span), subtitle, lang)
    counts = np.asarray(data.week_counts, dtype=np.float64)
    average = np.asarray(data.weekly_average, dtype=np.float64)
    finite = np.isfinite(average)
    peak = float(np.nanmax(np.concatenate([counts, average[finite], [1.0]]))) * 1.15
    step = nice_step(peak)
    left = MARGIN + chart.text_width(count_text(math.ceil(peak / step) * step, lang), 11) + 10
    axis = 2.4 * chart.font(12).pixelSize()
    plot = QRectF(left, chart.top, chart.width - MARGIN - left, chart.height - chart.top - MARGIN - axis)
    n = max(len(labels), 1)

    def point(index: float, value: float) -> QPointF:
        return QPointF(plot.left() + (index + 0.5) * plot.width() / n, plot.bottom() - value / peak * plot.height())

    _trend_grid(chart, plot, peak, step)
    if 0 < lead < len(labels):
        chart.painter.fillRect(QRectF(point(lead - 0.5, 0).x(), plot.top(), plot.right() - point(lead - 0.5, 0).x(),
                                      plot.height()), LEAD_SHADE)
    _polyline(chart, [point(i, v) for i, v in enumerate(counts)], QPen(QColor(ACCENT), 2.5 * chart.scale))
    dashed = QPen(QColor(AVERAGE), 2 * chart.scale)
    dashed.setStyle(Qt.PenStyle.DashLine)
    _polyline(chart, [point(i, v) for i, v in enumerate(average) if finite[i]], dashed)
    chart.painter.setPen(QPen(QColor("white"), 1))
    chart.painter.setBrush(QBrush(QColor(ACCENT)))
    for i, value in enumerate(counts):
        chart.painter.drawEllipse(point(i, value), 3.5 * chart.scale, 3.5 * chart.scale)
    if week in labels:
        chart.painter.setBrush(QBrush(QColor(HIGHLIGHT)))
        chart.painter.drawEllipse(point(labels.index(week), counts[labels.index(week)]), 7 * chart.scale, 7 * chart.scale)
    every = max(1, math.ceil(len(labels) / 13))
    for i in range(len(labels) - 1, -1, -every):
        x = point(i, 0).x()
        chart.text(QRectF(x - 40, plot.bottom() + 3, 80, axis / 2), short_week(labels[i]), 11,
                   align=Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    chart.text(QRectF(plot.left(), plot.bottom() + axis / 2, plot.width(), axis / 2),
               tr("compilation.chart.iso_week", lang), 12, align=Qt.AlignmentFlag.AlignHCenter)
    _trend_legend(chart, plot, lang)
    return chart


def _trend_grid(chart: ChartImage, plot: QRectF, peak: float, step: float) -> None:
    chart.painter.setPen(QPen(QColor(GRID), 1))
    value = 0.0
    while value <= peak:
        y = plot.bottom() - value / peak * plot.height()
        chart.painter.setPen(QPen(QColor(GRID), 1))
        chart.painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        chart.text(QRectF(MARGIN, y - 9, plot.left() - MARGIN - 6, 18), count_text(value, chart.lang), 11,
                   align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        value += step


def _polyline(chart: ChartImage, points: list[QPointF], pen: QPen) -> None:
    if len(points) < 2:
        return
    path = QPainterPath(points[0])
    for p in points[1:]:
        path.lineTo(p)
    chart.painter.setPen(pen)
    chart.painter.setBrush(Qt.BrushStyle.NoBrush)
    chart.painter.drawPath(path)


def _trend_legend(chart: ChartImage, plot: QRectF, lang: str | None) -> None:
    entries = ((tr("compilation.chart.per_week", lang), ACCENT, Qt.PenStyle.SolidLine),
               (tr("compilation.chart.average", lang), AVERAGE, Qt.PenStyle.DashLine))
    line = 1.5 * chart.font(11).pixelSize()
    width = max(chart.text_width(text, 11) for text, _c, _s in entries) + 44
    box = QRectF(plot.right() - width - 6, plot.top() + 4, width, line * len(entries) + 8)
    chart.painter.setPen(QPen(QColor(GRID), 1))
    chart.painter.setBrush(QBrush(QColor(255, 255, 255, 220)))
    chart.painter.drawRect(box)
    for index, (text, colour, style) in enumerate(entries):
        y = box.top() + 4 + index * line + line / 2
        pen = QPen(QColor(colour), 2 * chart.scale)
        pen.setStyle(style)
        chart.painter.setPen(pen)
        chart.painter.drawLine(QPointF(box.left() + 6, y), QPointF(box.left() + 30, y))
        chart.text(QRectF(box.left() + 36, y - line / 2, width - 38, line), text, 11,
                   align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


def render_report_charts(week_columns: EventColumns, history_columns: EventColumns, categories: Sequence[Category],
                         out_dir: Path, *, lang: str | None, week: str, week_size: tuple[int, int] = (900, 420),
                         trend_size: tuple[int, int] = (900, 320)) -> dict[str, Path]:
    """The PDF's three charts as PNGs: the week's categories and weekday × hour, and the trend of all
    weeks under the filter (its dates left out) up to *week*. Safe in a worker thread."""
    out_dir = Path(out_dir)
    week_data = chart_data(week_columns, week=week)
    history = chart_data(history_columns, week=week)
    return {
        "categories": category_chart(week_data, categories, lang, week_size).save(out_dir / "categories.png"),
        "weekday_hour": matrix_chart(week_data, lang, week_size).save(out_dir / "weekday_hour.png"),
        "weekly_trend": trend_chart(history, lang, week, trend_size).save(out_dir / "weekly_trend.png"),
    }
