"""Regenerate the shipped meeting templates ``resources/layouts/est_meeting_a3.qpt`` and ``…_a4.qpt``.

A development tool, not shipped code: the ``.qpt`` files are the single source of the meeting layout
(GIS staff edit copies of them in the layout designer). Run ``python -m scripts.make_templates`` after
changing the item positions below, then look at the PDF before committing the templates.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsFillSymbol,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemMapOverview,
    QgsLayoutItemPage,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutSize,
    QgsLegendStyle,
    QgsPrintLayout,
    QgsProject,
    QgsReadWriteContext,
    QgsSymbolLayerUtils,
    QgsUnitTypes,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QFont

from est_weekly_plugin.report.data import PAPER_SIZES, PAPERS
from est_weekly_plugin.report.template import (
    EST_BLUE,
    FONT,
    _label,
    _map,
    _picture,
    _place,
    _table,
    _text_format,
    builtin_template,
)

PRIORITY_COLOUR = "#c51b8a"


# Positions (x, y, w, h in mm) of the built-in templates' items; page index first.
_A3 = {
    "est_title": (0, (10, 8, 400, 11)),
    "est_subtitle": (0, (10, 19.5, 400, 10)),
    "est_main_map": (0, (10, 31, 228, 163)),
    "est_inset_map": (0, (12, 33, 44, 56)),
    "est_no_events": (0, (40, 100, 168, 20)),
    "est_legend": (0, (92, 195, 146, 13.5)),
    "est_scalebar": (0, (10, 195.5, 78, 9)),
    "est_north_arrow": (0, (228, 33, 8, 12)),
    "est_heading_charts": (0, (246, 31, 164, 6)),
    "est_chart_categories": (0, (246, 37, 164, 58)),
    "est_chart_weekday_hour": (0, (246, 96, 164, 48)),
    "est_chart_weekly_trend": (0, (246, 146, 164, 48)),
    "est_heading_hotspots": (0, (10, 209, 228, 6)),
    "est_hotspot_table": (0, (10, 215, 228, 66)),
    "est_heading_followup": (0, (246, 198, 164, 6)),
    "est_followup_table": (0, (246, 204, 164, 36)),
    "est_heading_next": (0, (246, 242, 164, 6)),
    "est_next_table": (0, (246, 248, 164, 36)),
    "est_footer": (0, (10, 286, 400, 6)),
}


_A4 = {
    "est_title": (0, (10, 8, 190, 10)),
    "est_subtitle": (0, (10, 18, 190, 12)),
    "est_main_map": (0, (10, 31, 190, 140)),
    "est_inset_map": (0, (12, 33, 36, 46)),
    "est_no_events": (0, (20, 90, 170, 20)),
    "est_legend": (0, (82, 172, 118, 13.5)),
    "est_scalebar": (0, (10, 172.5, 68, 9)),
    "est_north_arrow": (0, (190, 33, 8, 12)),
    "est_heading_hotspots": (0, (10, 186, 190, 6)),
    "est_hotspot_table": (0, (10, 192, 190, 66)),
    "est_footer": (0, (10, 286, 190, 6)),
    "est_heading_charts": (1, (10, 10, 190, 6)),
    "est_chart_categories": (1, (10, 17, 190, 70)),
    "est_chart_weekday_hour": (1, (10, 89, 93, 56)),
    "est_chart_weekly_trend": (1, (107, 89, 93, 56)),
    "est_heading_followup": (1, (10, 150, 190, 6)),
    "est_followup_table": (1, (10, 156, 190, 60)),
    "est_heading_next": (1, (10, 220, 190, 6)),
    "est_next_table": (1, (10, 226, 190, 58)),
    "est_footer_2": (1, (10, 286, 190, 6)),
}


def _add_text_or_picture(layout: QgsPrintLayout, item_id: str, rect: tuple, page: int, paper: str) -> None:
    """Titles, headings, footers, the no-events notice, chart pictures and tables, by their id."""
    if item_id == "est_title":
        _label(layout, item_id, rect, 18 if paper == "A3" else 14, bold=True, colour=EST_BLUE, page=page)
    elif item_id.startswith("est_heading"):
        _label(layout, item_id, rect, 10.5, bold=True, colour=EST_BLUE, page=page)
    elif item_id in ("est_subtitle",):
        _label(layout, item_id, rect, 9.5 if paper == "A3" else 8.5, page=page)
    elif item_id.startswith("est_footer"):
        _label(layout, item_id, rect, 6.5, colour="#5a6570", page=page)
    elif item_id == "est_no_events":
        label = _label(layout, item_id, rect, 16, bold=True, colour="#8a1c1c", page=page)
        label.setHAlign(Qt.AlignmentFlag.AlignHCenter)
        label.setVAlign(Qt.AlignmentFlag.AlignVCenter)
        label.setBackgroundEnabled(True)
        label.setBackgroundColor(QColor(255, 255, 255, 225))
        label.setFrameEnabled(True)
    elif item_id.startswith("est_chart"):
        _picture(layout, item_id, rect, page)
    elif item_id.endswith("_table"):
        _table(layout, item_id, rect, page)


def _add_legend(layout: QgsPrintLayout, main: QgsLayoutItemMap, item_id: str, rect: tuple, page: int) -> None:
    """The legend: heat ramp, hot-spots and priorities in three columns."""
    legend = QgsLayoutItemLegend(layout)
    legend.setId(item_id)
    legend.setLinkedMap(main)
    legend.setBackgroundEnabled(False)
    legend.setFrameEnabled(False)
    legend.setAutoUpdateModel(False)
    legend.setResizeToContents(False)
    legend.setColumnCount(3)
    legend.setSymbolWidth(5)
    legend.setSymbolHeight(3.5)
    legend.setBoxSpace(0.5)
    for style, size, bold in ((QgsLegendStyle.Style.Title, 8.0, True),
                              (QgsLegendStyle.Style.Group, 7.5, True),
                              (QgsLegendStyle.Style.Subgroup, 7.5, False),
                              (QgsLegendStyle.Style.SymbolLabel, 7.5, False)):
        font = QFont(FONT)
        font.setPointSizeF(size)
        font.setBold(bold)
        legend.rstyle(style).setFont(font)
    legend.rstyle(QgsLegendStyle.Style.Title).setMargin(QgsLegendStyle.Side.Bottom, 1.0)
    # Small margins: the heat ramp and its low/high labels must fit the legend's height.
    legend.rstyle(QgsLegendStyle.Style.Symbol).setMargin(QgsLegendStyle.Side.Top, 1.0)
    legend.rstyle(QgsLegendStyle.Style.SymbolLabel).setMargin(QgsLegendStyle.Side.Top, 1.0)
    _place(layout, legend, rect, page)


def _add_scalebar(layout: QgsPrintLayout, main: QgsLayoutItemMap, item_id: str, rect: tuple, page: int) -> None:
    """A 2 km scale bar in four segments."""
    bar = QgsLayoutItemScaleBar(layout)
    bar.setId(item_id)
    bar.setStyle("Single Box")
    bar.setLinkedMap(main)
    bar.setUnits(QgsUnitTypes.DistanceUnit.DistanceKilometers)
    bar.setMapUnitsPerScaleBarUnit(1000.0)
    bar.setUnitLabel("km")
    bar.setNumberOfSegments(4)
    bar.setNumberOfSegmentsLeft(0)
    bar.setUnitsPerSegment(0.5)
    bar.setTextFormat(_text_format(7.0))
    _place(layout, bar, rect, page)


def _add_north_arrow(layout: QgsPrintLayout, main: QgsLayoutItemMap, item_id: str, rect: tuple, page: int) -> None:
    """QGIS's own north arrow, linked to the main map."""
    arrow = QgsLayoutItemPicture(layout)
    arrow.setId(item_id)
    arrow.setPicturePath(QgsSymbolLayerUtils.svgSymbolNameToPath(
        "arrows/NorthArrow_02.svg", QgsProject.instance().pathResolver()))
    arrow.setLinkedMap(main)
    arrow.setNorthMode(QgsLayoutItemPicture.NorthMode.GridNorth)
    _place(layout, arrow, rect, page)


def create_default_layout(project: QgsProject, paper: str) -> QgsPrintLayout:
    """The built-in meeting layout, built in code (the shipped .qpt files are saved from this)."""
    width, height = PAPER_SIZES[paper]
    spec = _A3 if paper == "A3" else _A4
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    layout.setName(f"EST meeting {paper}")
    collection = layout.pageCollection()
    for page in collection.pages():
        page.setPageSize(QgsLayoutSize(width, height, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    for _ in range(max(page for page, _rect in spec.values())):
        page = QgsLayoutItemPage(layout)
        page.setPageSize(QgsLayoutSize(width, height, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
        collection.addPage(page)
    main = _map(layout, "est_main_map", spec["est_main_map"][1])
    inset = _map(layout, "est_inset_map", spec["est_inset_map"][1])
    inset.setFrameStrokeColor(QColor("#404040"))
    overview = QgsLayoutItemMapOverview("est_main_extent", inset)
    inset.overviews().addOverview(overview)
    overview.setLinkedMap(main)
    overview.setFrameSymbol(QgsFillSymbol.createSimple(
        {"color": "0,0,0,0", "outline_color": PRIORITY_COLOUR, "outline_width": "0.5"}))
    builders = {"est_legend": _add_legend, "est_scalebar": _add_scalebar, "est_north_arrow": _add_north_arrow}
    for item_id, (page, rect) in spec.items():
        if item_id in ("est_main_map", "est_inset_map"):
            continue
        if item_id in builders:
            builders[item_id](layout, main, item_id, rect, page)
        else:
            _add_text_or_picture(layout, item_id, rect, page, paper)
    return layout


def write_builtin_templates() -> list[Path]:
    """Regenerate ``resources/layouts/est_meeting_a3.qpt`` and ``…_a4.qpt`` from the code above."""
    written = []
    project = QgsProject()
    for paper in PAPERS:
        layout = create_default_layout(project, paper)
        path = builtin_template(paper)
        path.parent.mkdir(parents=True, exist_ok=True)
        layout.saveAsTemplate(str(path), QgsReadWriteContext())
        written.append(path)
    return written


if __name__ == "__main__":
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    for path in write_builtin_templates():
        print(path)
