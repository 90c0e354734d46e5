"""Filling the meeting layout for one week: maps, legend, texts, tables and charts.

Layers go into the layout's own project (kept alive by it), so the same code fills a layout for a
headless export in the report task and one the user opens in the layout designer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFillSymbol,
    QgsGeometry,
    QgsLayerTreeLayer,
    QgsLayout,
    QgsLayoutFrame,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemManualTable,
    QgsLayoutItemMap,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutTableColumn,
    QgsMapLayer,
    QgsMapLayerLegendUtils,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsPathResolver,
    QgsPrintLayout,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsSingleSymbolRenderer,
    QgsSymbolLayerUtils,
    QgsTableCell,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSizeF

from ..analysis.hotspots import HotSpot
from ..domain.i18n import format_date, tr
from ..domain.meetings import Priority
from ..domain.reference import districts
from ..domain.week import IsoWeek
from ..maps.layers import point_label_layer, scratch_layer, simple_labeling
from ..maps.styles import heatmap_renderer, label_heat_legend
from .charts import render_report_charts
from .data import ReportData, _names, _signed, _status
from .pages import priority_pages
from .template import WIDTH_PROPERTY, load_template

T = TypeVar("T")
HOTSPOT_COLOUR = "#08306b"
PRIORITY_COLOUR = "#c51b8a"


# Length and height (mm) of the heat-map colour ramp in the legend.
HEAT_RAMP_SIZE_MM = (24.0, 2.0)


def _hotspot_layer(data: ReportData, spots: Sequence[HotSpot]) -> QgsVectorLayer:
    layer = point_label_layer(tr("report.legend.hotspots", data.lang), data.epsg,
                         [(s.x, s.y, str(s.rank)) for s in spots])
    layer.setRenderer(QgsSingleSymbolRenderer(QgsMarkerSymbol.createSimple(
        {"name": "circle", "color": HOTSPOT_COLOUR, "size": "5.2", "outline_color": "255,255,255",
         "outline_width": "0.4"})))
    layer.setLabeling(simple_labeling(HOTSPOT_COLOUR, "#ffffff", 8.0, 0.3, True))
    layer.setLabelsEnabled(True)
    return layer


def _district_layer(data: ReportData) -> QgsVectorLayer:
    layer = point_label_layer("districts", data.epsg, [(d.x, d.y, d.name) for d in districts()])
    layer.renderer().symbol().setOpacity(0.0)
    layer.setLabeling(simple_labeling("#ffffff", "#4a5560", 7.0, 0.8, False))
    layer.setLabelsEnabled(True)
    return layer


def _priority_layer(data: ReportData, priorities: Sequence[Priority]) -> QgsVectorLayer:
    layer = scratch_layer(f"Polygon?crs=EPSG:{data.epsg}&field=label:string(120)",
                          tr("report.legend.priorities", data.lang))
    features = []
    for priority in priorities:
        area = priority.area_wkt()
        if not area:
            continue
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromWkt(area))
        prefix = "F" if priority.kind == "focus" else "P"
        feature.setAttribute("label", f"{prefix}{priority.rank} {priority.name}")
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    layer.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple(
        {"color": "197,27,138,30", "outline_color": PRIORITY_COLOUR, "outline_width": "0.7",
         "outline_style": "dash"})))
    layer.setLabeling(simple_labeling("#ffffff", PRIORITY_COLOUR, 7.5, 0.8, True,
                                QgsPalLayerSettings.Placement.OverPoint))
    layer.setLabelsEnabled(True)
    return layer


def _heat_layer(path: Path | None, maximum: float, name: str, low: str = "", high: str = ""
                ) -> QgsRasterLayer | None:
    if path is None:
        return None
    layer = QgsRasterLayer(str(path), name, "gdal")
    if not layer.isValid():
        return None
    renderer = heatmap_renderer(layer, maximum)
    label_heat_legend(renderer, low, high)
    layer.setRenderer(renderer)
    return layer


def _set_text(layout: QgsLayout, item_id: str, text: str) -> None:
    item = layout.itemById(item_id)
    if isinstance(item, QgsLayoutItemLabel):
        item.setText(text)


def _set_table(layout: QgsLayout, item_id: str, headers: Sequence[str], rows: Sequence[Sequence[str]],
               widths: Sequence[float], empty: str) -> None:
    frame = layout.itemById(item_id)
    if not isinstance(frame, QgsLayoutFrame) or not isinstance(frame.multiFrame(), QgsLayoutItemManualTable):
        return
    table: QgsLayoutItemManualTable = frame.multiFrame()
    if not rows:
        # One full-width cell with the message: an empty table would shrink its frame to nothing.
        headers, rows, widths = [""], [[empty]], [float(sum(widths))]
    columns = []
    for header, width in zip(headers, widths):
        column = QgsLayoutTableColumn(header)
        column.setWidth(width)
        columns.append(column)
    table.setHeaders(columns)
    table.setIncludeTableHeader(bool(headers[0]))
    table.setColumnWidths(list(widths))
    table.setTableContents([[QgsTableCell(_wrap(value, width)) for value, width in zip(row, widths)]
                            for row in rows])
    table.setEmptyTableMessage(empty)
    table.refresh()


def _wrap(text: str, width_mm: float, char_mm: float = 1.5) -> str:
    """Break *text* into lines that fit a column of *width_mm* (7.5 pt DejaVu Sans ≈ 1.5 mm a character)."""
    import textwrap

    chars = max(int(width_mm / char_mm), 4)
    return "\n".join(textwrap.wrap(str(text), chars, break_long_words=True)) if len(str(text)) > chars else str(text)


def render_charts(data: ReportData, week_size: tuple[int, int] = (900, 420),
                  trend_size: tuple[int, int] = (900, 320)) -> dict[str, Path]:
    """The compilation charts as PNGs (headless QPainter: safe in the report's worker thread).

    Category bars and the weekday × hour matrix show the week; the trend shows the weeks
    before it too (same filter without its dates).
    """
    data.charts = render_report_charts(data.week_columns, data.history_columns, data.categories,
                                       data.work_dir / "charts", lang=data.lang, week=data.week,
                                       week_size=week_size, trend_size=trend_size)
    return data.charts


@dataclass
class LayoutLayers:
    """The layers one filled layout draws; all live in the layout's project."""

    hotspots: QgsVectorLayer
    priorities: QgsVectorLayer
    districts: QgsVectorLayer
    heat: QgsRasterLayer | None
    overview_heat: QgsRasterLayer | None
    background: QgsMapLayer | None

    def added(self) -> list[QgsMapLayer]:
        return [layer for layer in (self.heat, self.overview_heat, self.hotspots, self.priorities, self.districts)
                if layer is not None]


def build_layout(data: ReportData, project: QgsProject) -> tuple[QgsPrintLayout, list[str], list[QgsMapLayer]]:
    """Fill the template for *data*; layers are added to *project* (kept alive by it)."""
    return run_to_end(layout_stages(data, project))


def run_to_end(stages: Generator[None, None, T]) -> T:
    """All steps of a step-by-step build at once (a worker thread, a script): its result."""
    while True:
        try:
            next(stages)
        except StopIteration as finished:
            return finished.value


def layout_stages(data: ReportData, project: QgsProject
                  ) -> Generator[None, None, tuple[QgsPrintLayout, list[str], list[QgsMapLayer]]]:
    """:func:`build_layout` in steps of well under 100 ms each, so the layout designer's copy can be
    built on the GUI thread one step per turn of the event loop; returns what build_layout does."""
    lang = data.lang
    options = data.options
    layout, warnings = load_template(project, options.paper, options.template, lang)
    layout.setName(tr("report.layout_name", lang, week=data.week))
    warnings += html_label_warnings(layout, lang)
    yield
    layers = _layout_layers(data, project)
    _fill_maps(layout, data, layers)
    _fill_legend(layout, data, layers)
    yield
    _fill_decorations(layout, data)
    _fill_texts(layout, data)
    _fill_charts(layout, data)
    yield
    _fill_tables(layout, data)
    yield
    added = layers.added()
    if options.atlas:
        added += yield from priority_pages(layout, data, layers.hotspots, layers.priorities, layers.districts,
                                           layers.background)
    layout.refresh()
    return layout, warnings, added


def html_label_warnings(layout: QgsPrintLayout, lang: str) -> list[str]:
    """QGIS draws no HTML-mode label off the GUI thread (the PDF is exported in a task): say which of
    a user's template would come out empty, so it can be set to plain text in the designer."""
    return [tr("report.html_label", lang, id=item.id() or item.displayName())
            for item in layout.items() if isinstance(item, QgsLayoutItemLabel)
            and item.mode() == QgsLayoutItemLabel.Mode.ModeHtml]


def _layout_layers(data: ReportData, project: QgsProject) -> LayoutLayers:
    lang = data.lang
    layers = LayoutLayers(
        hotspots=_hotspot_layer(data, [row.spot for row in data.hotspots]),
        priorities=_priority_layer(data, data.next_priorities), districts=_district_layer(data),
        heat=_heat_layer(data.heat_path, data.heat_max, tr("report.legend.heat", lang), tr("report.legend.low", lang),
                         tr("report.legend.high", lang)),
        overview_heat=_heat_layer(data.overview_heat_path, data.overview_heat_max, tr("report.legend.heat", lang)),
        background=data.background.layer() if data.background else None)
    added = layers.added()
    if layers.background is not None and project.mapLayer(layers.background.id()) is None:
        added.append(layers.background)  # kept alive by the project like the layout's other layers
    project.addMapLayers(added, False)
    return layers


def _fill_maps(layout: QgsPrintLayout, data: ReportData, layers: LayoutLayers) -> None:
    crs = QgsCoordinateReferenceSystem(f"EPSG:{data.epsg}")
    background = [layers.background] if layers.background else []
    main = layout.itemById("est_main_map")
    main.setCrs(crs)
    main.setLayers([layers.hotspots, layers.priorities, layers.districts, *([layers.heat] if layers.heat else []),
                    *background])
    main.setKeepLayerSet(True)
    main.zoomToExtent(QgsRectangle(*data.map_extent))
    inset = layout.itemById("est_inset_map")
    if isinstance(inset, QgsLayoutItemMap):
        inset.setCrs(crs)
        inset.setLayers([layers.districts, *([layers.overview_heat] if layers.overview_heat else []), *background])
        inset.setKeepLayerSet(True)
        inset.zoomToExtent(QgsRectangle(*data.municipality_extent))


def _fill_legend(layout: QgsPrintLayout, data: ReportData, layers: LayoutLayers) -> None:
    legend = layout.itemById("est_legend")
    if not isinstance(legend, QgsLayoutItemLegend):
        return
    legend.setAutoUpdateModel(False)
    root = legend.model().rootGroup()
    root.removeAllChildren()
    shown = [layers.heat, layers.hotspots] + ([layers.priorities] if data.next_priorities else [])
    for layer in shown:
        if layer is None:
            continue
        node = QgsLayerTreeLayer(layer)
        root.addChildNode(node)
        if layer is layers.heat:
            _heat_legend_ramp(legend, node)
    legend.setTitle("")
    legend.refresh()


def _heat_legend_ramp(legend: QgsLayoutItemLegend, node: QgsLayerTreeLayer) -> None:
    """Keep the colour ramp, drop the "Band 1 (Gray)" line above it (nodes exist only now)."""
    legend.model().refreshLayerLegend(node)
    nodes = legend.model().layerLegendNodes(node, False)
    keep = [i for i, item in enumerate(nodes) if type(item).__name__ != "QgsSimpleLegendNode"]
    if keep and len(keep) < len(nodes):
        QgsMapLayerLegendUtils.setLegendNodeOrder(node, keep)
    for index in keep:
        # A ramp long enough for "low" and "high" not to run into each other.
        QgsMapLayerLegendUtils.setLegendNodeSymbolSize(node, index, QSizeF(*HEAT_RAMP_SIZE_MM))
    legend.model().refreshLayerLegend(node)


def _fill_decorations(layout: QgsPrintLayout, data: ReportData) -> None:
    bar = layout.itemById("est_scalebar")
    if isinstance(bar, QgsLayoutItemScaleBar):
        bar.applyDefaultSize(bar.units())
    arrow = layout.itemById("est_north_arrow")
    if isinstance(arrow, QgsLayoutItemPicture) and not Path(arrow.picturePath()).is_file():
        # Templates store the SVG's absolute path; resolve it again on this machine (Windows, macOS).
        arrow.setPicturePath(QgsSymbolLayerUtils.svgSymbolNameToPath("arrows/NorthArrow_02.svg", QgsPathResolver()))
    no_events = layout.itemById("est_no_events")
    if no_events is not None:
        no_events.setVisibility(data.event_count == 0)
        _set_text(layout, "est_no_events", tr("report.no_events", data.lang, week=data.week))


def _fill_texts(layout: QgsPrintLayout, data: ReportData) -> None:
    lang = data.lang
    week_number = data.monday.isocalendar()[1]
    _set_text(layout, "est_title", tr("report.title", lang, municipality=data.municipality, week=week_number,
                                      year=data.monday.isocalendar()[0]))
    meeting = tr("report.meeting_on", lang, date=format_date(data.meeting_date, lang)) if data.meeting_date else ""
    _set_text(layout, "est_subtitle", "\n".join(part for part in (
        tr("report.subtitle", lang, first=format_date(data.monday, lang), last=format_date(data.sunday, lang),
           count=data.event_count, filter=data.filter_sentence), meeting) if part))
    generated = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    footer = tr("report.footer", lang, generated=generated, cell=int(data.cell_size))
    if data.background is not None and data.background.attribution:
        footer += " · " + tr("report.background", lang, attribution=data.background.attribution)
    _set_text(layout, "est_footer", footer)
    _set_text(layout, "est_footer_2", footer)
    _set_text(layout, "est_heading_charts", tr("report.heading.charts", lang, week=week_number))
    _set_text(layout, "est_heading_hotspots", tr("report.heading.hotspots", lang, top=data.options.top))
    _set_text(layout, "est_heading_followup", tr("report.heading.followup", lang, week=week_number))
    _set_text(layout, "est_heading_next", tr("report.heading.next", lang, week=IsoWeek.of(data.week).next().number))


def _fill_charts(layout: QgsPrintLayout, data: ReportData) -> None:
    if not data.charts:
        render_charts(data, _pixels(layout, "est_chart_categories", (900, 420)),
                      _pixels(layout, "est_chart_weekly_trend", (900, 320)))
    for key, item_id in (("categories", "est_chart_categories"), ("weekday_hour", "est_chart_weekday_hour"),
                         ("weekly_trend", "est_chart_weekly_trend")):
        picture = layout.itemById(item_id)
        if isinstance(picture, QgsLayoutItemPicture) and key in data.charts:
            picture.setPicturePath(str(data.charts[key]))


def _fill_tables(layout: QgsPrintLayout, data: ReportData) -> None:
    lang = data.lang
    _set_table(layout, "est_hotspot_table", [tr(f"report.col.{c}", lang) for c in (
        "rank", "place", "district", "count", "change", "categories")],
        [[str(r.spot.rank), r.place, r.spot.district, str(r.count), _signed(r.change, lang), r.categories]
         for r in data.hotspots], _widths(layout, "est_hotspot_table", (7, 26, 15, 9, 11, 32)),
        data.hotspot_note or tr("report.no_hotspots", lang))
    _set_table(layout, "est_followup_table", [tr(f"report.col.{c}", lang) for c in (
        "rank", "priority", "responsible", "count", "change", "status")],
        [[_priority_code(u.priority), u.priority.name, _names(u.priority.responsible, data.organisation_labels),
          str(u.current), _signed(u.change, lang), _status(u.priority.status, lang)
          + (f": {u.priority.follow_up_comment}" if u.priority.follow_up_comment else "")]
         for u in data.follow_ups], _widths(layout, "est_followup_table", (7, 27, 22, 9, 10, 25)),
        tr("report.no_previous", lang))
    _set_table(layout, "est_next_table", [tr(f"report.col.{c}", lang) for c in (
        "rank", "priority", "responsible", "action", "time_focus")],
        [[_priority_code(p), p.name + (f" ({_names(p.categories, data.category_labels)})" if p.categories else ""),
          _names(p.responsible, data.organisation_labels), p.action, p.time_focus]
         for p in data.next_priorities], _widths(layout, "est_next_table", (7, 30, 22, 26, 15)),
        tr("report.no_next", lang))


def _priority_code(priority: Priority) -> str:
    """"F1" for a focus area, "P2" for a hot-spot priority: the codes the meeting uses."""
    return f"{'F' if priority.kind == 'focus' else 'P'}{priority.rank}"


def _pixels(layout: QgsLayout, item_id: str, default: tuple[int, int]) -> tuple[int, int]:
    """Chart size in pixels for a picture frame: 5 px per mm keeps chart text readable on paper."""
    item = layout.itemById(item_id)
    if item is None:
        return default
    size = item.sizeWithUnits()
    return max(int(size.width() * 5), 300), max(int(size.height() * 5), 200)


def _widths(layout: QgsLayout, item_id: str, shares: Sequence[float]) -> list[float]:
    """Column widths in mm from relative shares, fitted to the table frame's width."""
    frame = layout.itemById(item_id)
    width = 200.0
    if frame is not None:
        try:
            width = float(frame.customProperty(WIDTH_PROPERTY, frame.rect().width()))
        except (TypeError, ValueError):
            width = frame.rect().width()
    total = float(sum(shares))
    usable = max(width - 2 * 0.9 * len(shares) - 0.5, 10.0 * len(shares))
    return [usable * share / total for share in shares]
