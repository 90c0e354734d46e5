"""The weekly meeting PDF: a print layout filled for one ISO week and filter, exported headless.

Three steps, so each runs where it may:

1. :func:`compute_report` (plain numpy + SQL, thread-safe): the week's events under the
   filter, the heat-map raster, ranked hot-spots with their change against the 4-week
   average, the follow-up of last meeting's priorities and next week's priorities.
2. :func:`render_charts` (main thread: pyqtgraph widgets draw the compilation charts).
3. :func:`build_layout` + :func:`export_pdf` (main thread, like QGIS's own layout designer):
   the layout comes from a ``.qpt`` template whose items are found by id (``est_main_map``,
   ``est_title`` …), so GIS staff can move, restyle or drop items in the designer and save
   their own template; a missing or broken template falls back to the built-in one with a
   warning. After page 1 (and page 2 on A4) one page per priority area follows with a
   zoomed map and its own numbers.

The Processing algorithm, the meeting panel (through a QgsTask) and ``make demo`` all go
through :func:`generate_report`.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFillSymbol,
    QgsGeometry,
    QgsLayerTreeLayer,
    QgsLayout,
    QgsLayoutExporter,
    QgsLayoutFrame,
    QgsLayoutItem,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemManualTable,
    QgsLayoutItemMap,
    QgsLayoutItemMapOverview,
    QgsLayoutItemPage,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutMultiFrame,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsLayoutTable,
    QgsLayoutTableColumn,
    QgsLegendStyle,
    QgsMapLayer,
    QgsMapLayerLegendUtils,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsPointXY,
    QgsPrintLayout,
    QgsProject,
    QgsRasterLayer,
    QgsReadWriteContext,
    QgsRectangle,
    QgsSingleSymbolRenderer,
    QgsSymbolLayerUtils,
    QgsTableCell,
    QgsTextFormat,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSizeF, Qt
from qgis.PyQt.QtGui import QColor, QFont
from qgis.PyQt.QtXml import QDomDocument

from ..analysis.density import density_grid
from ..analysis.filters import CompilationFilter, points_in_polygon
from ..analysis.follow_up import follow_up, priority_mask
from ..analysis.hotspot_areas import method_note
from ..analysis.hotspots import HotSpot
from ..analysis.trends import week_monday
from ..analysis.weekly import analyse_week
from ..domain.i18n import format_number, language, tr
from ..domain.meetings import FollowUp, Priority, previous_week
from ..domain.model import Category, EventColumns, day_number
from ..domain.paths import resource
from ..domain.reference import districts, municipality
from ..domain.week import IsoWeek
from ..maps.background import Background
from ..maps.layers import category_renderer, point_label_layer, scratch_layer, simple_labeling
from ..maps.styles import heatmap_renderer, label_heat_legend
from ..store.base import EventStore
from ..store.meetings import MeetingRepository

LOG = logging.getLogger(__name__)
PAPERS = ("A3", "A4")
PAPER_SIZES = {"A3": (420.0, 297.0), "A4": (210.0, 297.0)}  # width × height in mm (landscape A3, portrait A4)
FONT = "DejaVu Sans"
EST_BLUE = "#1f4e79"
HOTSPOT_COLOUR = "#08306b"
PRIORITY_COLOUR = "#c51b8a"
# Length and height (mm) of the heat-map colour ramp in the legend.
HEAT_RAMP_SIZE_MM = (24.0, 2.0)
BASELINE_WEEKS = 4
TOP_HOTSPOTS = 10
REQUIRED_ITEMS = ("est_main_map",)
WIDTH_PROPERTY = "est_width_mm"
ProgressCallback = Callable[[float, str], None]


# =========================================================================== data
@dataclass
class ReportOptions:
    """What to print: the week, the filter (its dates are replaced by the week), paper, language."""

    week: str
    filter: CompilationFilter = field(default_factory=CompilationFilter)
    paper: str = "A3"
    lang: str | None = None
    template: Path | None = None  # a user's .qpt; None → the built-in one for the paper
    atlas: bool = True  # one page per priority area after the overview
    top: int = TOP_HOTSPOTS
    background_layer: QgsMapLayer | None = None

    def __post_init__(self) -> None:
        self.week = IsoWeek.of(self.week).label
        if self.paper not in PAPERS:
            raise ValueError(f"paper must be one of {PAPERS}")


@dataclass
class HotspotRow:
    """One line of the top-10 table."""

    spot: HotSpot
    place: str
    count: int  # events in the hot-spot area this week
    baseline: float  # mean per week over the 4 weeks before, same area
    categories: str

    @property
    def change(self) -> float:
        return self.count - self.baseline


@dataclass
class ReportData:
    """Everything the layout shows, computed without touching Qt widgets or a project."""

    options: ReportOptions
    lang: str
    municipality: str
    epsg: int
    monday: dt.date
    sunday: dt.date
    filter_sentence: str
    week_columns: EventColumns  # the week's events under the filter
    history_columns: EventColumns  # all weeks under the filter without its dates (trend chart)
    hotspots: list[HotspotRow]
    follow_ups: list[FollowUp]
    next_priorities: list[Priority]
    categories: list[Category]
    category_labels: dict[str, str]
    organisation_labels: dict[str, str]
    map_extent: tuple[float, float, float, float]
    municipality_extent: tuple[float, float, float, float]
    work_dir: Path
    heat_path: Path | None = None
    heat_max: float = 1.0
    overview_heat_path: Path | None = None
    overview_heat_max: float = 1.0
    charts: dict[str, Path] = field(default_factory=dict)
    meeting_date: dt.date | None = None
    meeting_organisations: tuple[str, ...] = ()
    cell_size: float = 100.0  # Gi*'s cell (the database's analysis settings)
    hotspot_note: str = ""  # the method and correction, or why no significance is claimed
    background: Background | None = None  # the database's background map (opened on the main thread)

    @property
    def week(self) -> str:
        return self.options.week

    @property
    def event_count(self) -> int:
        return len(self.week_columns)


@dataclass
class ReportResult:
    path: Path
    pages: int
    warnings: list[str]
    data: ReportData


# =========================================================================== step 1: numbers
def compute_report(store: EventStore, options: ReportOptions, *, columns: EventColumns | None = None,
                   progress: ProgressCallback | None = None, work_dir: Path | None = None) -> ReportData:
    """The week's numbers and rasters (thread-safe: numpy, SQL and GeoTIFF files only)."""
    lang = options.lang or language()
    report = progress or (lambda _fraction, _text: None)
    report(0.02, tr("report.progress.loading", lang))
    columns = store.load_columns() if columns is None else columns
    monday = week_monday(options.week)
    sunday = IsoWeek.of(monday).sunday
    base = replace(options.filter, date_from=None, date_to=None, preset="custom")
    history = columns.subset(base.mask(columns))
    in_week = (history.day >= day_number(monday)) & (history.day <= day_number(sunday))
    week_columns = history.subset(in_week)
    categories = store.categories()
    category_labels = {c.code: c.label(lang) for c in categories}
    organisation_labels = {o.code: o.name(lang) for o in store.organisations()}
    sentence = replace(base, date_from=monday, date_to=sunday).describe(lang, category_labels, organisation_labels)
    town = municipality()
    settings = store.settings
    epsg = int(settings.epsg)
    full = (settings.extent.xmin, settings.extent.ymin, settings.extent.xmax, settings.extent.ymax)

    report(0.25, tr("report.progress.hotspots", lang))
    # the one weekly analysis: the same study area, cell size and ranks as the dock and Processing
    weekly = analyse_week(store, options.week, options.filter, columns=columns)
    spots = weekly.hotspots[: options.top]
    rows = _hotspot_rows(spots, category_labels)

    repo = MeetingRepository(store)
    meeting = repo.meeting(options.week)
    previous = repo.meeting(previous_week(options.week))
    follow_ups = [follow_up(p, history, options.week, BASELINE_WEEKS) for p in repo.priorities(previous)] \
        if previous else []
    next_priorities = repo.priorities(meeting) if meeting else []

    extent = _map_extent(spots, next_priorities, town["urban_core"], full)
    data = ReportData(
        options=options, lang=lang, municipality=settings.municipality or town["name"], epsg=epsg, monday=monday,
        sunday=sunday, filter_sentence=sentence, week_columns=week_columns, history_columns=history, hotspots=rows,
        follow_ups=follow_ups, next_priorities=next_priorities, categories=categories,
        category_labels=category_labels, organisation_labels=organisation_labels, map_extent=extent,
        municipality_extent=full, work_dir=Path(work_dir or tempfile.mkdtemp(prefix="est-report-")),
        meeting_date=meeting.meeting_date if meeting else None,
        meeting_organisations=meeting.organisations if meeting else (), cell_size=weekly.settings.cell_size,
        hotspot_note=method_note(weekly.result.hotspots, weekly.settings.cell_size, weekly.settings.rings, lang),
        background=Background.of(store),
    )
    data.work_dir.mkdir(parents=True, exist_ok=True)
    report(0.5, tr("report.progress.density", lang))
    _write_heat_rasters(data)
    report(0.7, tr("report.progress.layout", lang))
    return data


def _hotspot_rows(spots: Sequence[HotSpot], labels: dict[str, str]) -> list[HotspotRow]:
    """Per hot-spot area, as the one weekly analysis found, named and measured it: this week's events,
    the mean of the 4 weeks before, the place reporters named most often there (else its district)."""
    return [HotspotRow(spot=spot, place=spot.name or spot.district, count=spot.count,
                       baseline=spot.previous_average or 0.0,
                       categories=", ".join(labels.get(code, code) for code, _n in spot.categories[:2]))
            for spot in spots]


def _map_extent(spots: Sequence[HotSpot], priorities: Sequence[Priority], urban: Sequence[float],
                full: Sequence[float]) -> tuple[float, float, float, float]:
    """Around the hot-spots and priority areas (500 m margin, at least 4 × 3 km); else the urban core."""
    xs: list[float] = [s.x for s in spots]
    ys: list[float] = [s.y for s in spots]
    for priority in priorities:
        area = priority.area_wkt()
        if area:
            box = QgsGeometry.fromWkt(area).boundingBox()
            xs += [box.xMinimum(), box.xMaximum()]
            ys += [box.yMinimum(), box.yMaximum()]
    if not xs:
        return tuple(float(v) for v in urban)  # type: ignore[return-value]
    xmin, xmax, ymin, ymax = min(xs) - 500, max(xs) + 500, min(ys) - 500, max(ys) + 500
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    width, height = max(xmax - xmin, 4000.0), max(ymax - ymin, 3000.0)
    return (max(cx - width / 2, full[0]), max(cy - height / 2, full[1]), min(cx + width / 2, full[2]),
            min(cy + height / 2, full[3]))


def _write_heat_rasters(data: ReportData) -> None:
    """Heat map of the week for the main map (fine) and the whole municipality (coarse inset)."""
    cols = data.week_columns.placed()  # area events (a municipality's centroid) never enter the heat map
    if not len(cols):
        return
    for name, extent, target_px, radius in (("heat", data.map_extent, 1400, 200.0),
                                            ("overview", data.municipality_extent, 500, 400.0)):
        width = extent[2] - extent[0]
        pixel = max(10.0, width / target_px)
        grid = density_grid(cols.x, cols.y, extent=extent, pixel_size=pixel, radius=radius)
        path = Path(grid.to_geotiff(str(data.work_dir / f"{name}.tif"), data.epsg))
        positive = grid.values[grid.values > 0]
        peak = float(np.quantile(positive, 0.998)) if positive.size else 1.0
        if name == "heat":
            data.heat_path, data.heat_max = path, max(peak, 1e-12)
        else:
            data.overview_heat_path, data.overview_heat_max = path, max(peak, 1e-12)


# =========================================================================== step 2: charts
def render_charts(data: ReportData, week_size: tuple[int, int] = (900, 420),
                  trend_size: tuple[int, int] = (900, 320)) -> dict[str, Path]:
    """The compilation charts as PNGs (pyqtgraph; must run in the main thread).

    Category bars and the weekday × hour matrix show the week; the trend shows the weeks
    before it too (same filter without its dates).
    """
    from ..gui.compilation.charts import render_compilation_charts

    week_charts = render_compilation_charts(data.week_columns, data.categories, data.work_dir / "week",
                                            lang=data.lang, week=data.week, size=week_size)
    trend = render_compilation_charts(data.history_columns, data.categories, data.work_dir / "history",
                                      lang=data.lang, week=data.week, size=trend_size)
    data.charts = {"categories": week_charts["categories"], "weekday_hour": week_charts["weekday_hour"],
                   "weekly_trend": trend["weekly_trend"]}
    return data.charts


# =========================================================================== templates
def builtin_template(paper: str) -> Path:
    return resource("layouts", f"est_meeting_{paper.lower()}.qpt")


def load_template(project: QgsProject, paper: str, template: Path | None = None,
                  lang: str | None = None) -> tuple[QgsPrintLayout, list[str]]:
    """The layout from the user's template, else the built-in one (with a warning why)."""
    warnings: list[str] = []
    if template is not None:
        layout, problem = _layout_from_qpt(project, Path(template))
        if layout is not None:
            return layout, warnings
        warnings.append(tr("report.template_fallback", lang, path=str(template), problem=problem))
    layout, problem = _layout_from_qpt(project, builtin_template(paper))
    if layout is None:
        warnings.append(tr("report.template_fallback", lang, path=str(builtin_template(paper)), problem=problem))
        layout = create_default_layout(project, paper)
    return layout, warnings


def _layout_from_qpt(project: QgsProject, path: Path) -> tuple[QgsPrintLayout | None, str]:
    if not path.is_file():
        return None, "missing"
    document = QDomDocument()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, str(error)
    ok, message, line, _column = document.setContent(text)
    if not ok:
        return None, f"{message} (line {line})"
    layout = QgsPrintLayout(project)
    _items, ok = layout.loadFromTemplate(document, QgsReadWriteContext())
    if not ok:
        return None, "not a layout template"
    missing = [item for item in REQUIRED_ITEMS if layout.itemById(item) is None]
    if missing:
        return None, "no item " + ", ".join(missing)
    return layout, ""


def _label(layout: QgsLayout, item_id: str, rect: tuple[float, float, float, float], size: float, *,
           bold: bool = False, colour: str = "#202020", page: int = 0) -> QgsLayoutItemLabel:
    label = QgsLayoutItemLabel(layout)
    label.setId(item_id)
    _set_label_format(label, _text_format(size, bold, colour))
    label.setText(item_id)
    _place(layout, label, rect, page)
    return label


def _text_format(size: float, bold: bool = False, colour: str = "#202020") -> QgsTextFormat:
    text_format = QgsTextFormat()
    font = QFont(FONT)
    font.setBold(bold)
    text_format.setFont(font)
    text_format.setSize(size)
    text_format.setSizeUnit(QgsUnitTypes.RenderUnit.RenderPoints)
    text_format.setColor(QColor(colour))
    return text_format


def _set_label_format(label: QgsLayoutItemLabel, text_format: QgsTextFormat) -> None:
    """Label text style: QgsTextFormat on QGIS ≥ 3.24, font and colour on 3.22."""
    if hasattr(label, "setTextFormat"):
        label.setTextFormat(text_format)
    else:
        font = text_format.font()
        font.setPointSizeF(text_format.size())
        label.setFont(font)
        label.setFontColor(text_format.color())


def _place(layout: QgsLayout, item: QgsLayoutItem, rect: tuple[float, float, float, float], page: int = 0) -> None:
    x, y, w, h = rect
    layout.addLayoutItem(item)
    item.attemptResize(QgsLayoutSize(w, h, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    item.attemptMove(QgsLayoutPoint(x, y, QgsUnitTypes.LayoutUnit.LayoutMillimeters), True, False, page)


def _table(layout: QgsLayout, item_id: str, rect: tuple[float, float, float, float], page: int = 0
           ) -> QgsLayoutItemManualTable:
    table = QgsLayoutItemManualTable.create(layout)
    layout.addMultiFrame(table)
    frame = QgsLayoutFrame(layout, table)
    frame.setId(item_id)
    # A table frame shrinks to its columns; the width the columns share is kept here
    # (GIS staff can change it in the designer: Item properties → custom property).
    frame.setCustomProperty(WIDTH_PROPERTY, rect[2])
    _place(layout, frame, rect, page)
    table.addFrame(frame)
    table.setResizeMode(QgsLayoutMultiFrame.ResizeMode.UseExistingFrames)
    header, content = QgsTextFormat(), QgsTextFormat()
    for text_format, size, bold in ((header, 8.0, True), (content, 7.5, False)):
        font = QFont(FONT)
        font.setBold(bold)
        text_format.setFont(font)
        text_format.setSize(size)
        text_format.setSizeUnit(QgsUnitTypes.RenderUnit.RenderPoints)
    # Fonts, not text formats: QGIS 3.22 wraps text-format cells at the wrong width.
    for text_format, setter in ((header, table.setHeaderFont), (content, table.setContentFont)):
        font = text_format.font()
        font.setPointSizeF(text_format.size())
        setter(font)
    table.setCellMargin(0.9)
    table.setGridStrokeWidth(0.15)
    table.setGridColor(QColor("#b8c2cc"))
    table.setEmptyTableBehavior(QgsLayoutItemManualTable.EmptyTableMode.ShowMessage)
    # Cells are wrapped by _wrap: QGIS 3.22 wraps table text at a too narrow width.
    table.setWrapBehavior(QgsLayoutTable.WrapBehavior.TruncateText)
    return table


def _picture(layout: QgsLayout, item_id: str, rect: tuple[float, float, float, float], page: int = 0
             ) -> QgsLayoutItemPicture:
    picture = QgsLayoutItemPicture(layout)
    picture.setId(item_id)
    picture.setResizeMode(QgsLayoutItemPicture.ResizeMode.Zoom)
    _place(layout, picture, rect, page)
    return picture


def _map(layout: QgsLayout, item_id: str, rect: tuple[float, float, float, float], page: int = 0
         ) -> QgsLayoutItemMap:
    item = QgsLayoutItemMap(layout)
    item.setId(item_id)
    item.setFrameEnabled(True)
    item.setFrameStrokeColor(QColor("#7a8794"))
    item.setBackgroundColor(QColor("#eef2f5"))
    _place(layout, item, rect, page)
    item.setCrs(QgsCoordinateReferenceSystem(f"EPSG:{municipality()['epsg']}"))
    item.zoomToExtent(QgsRectangle(*municipality()["urban_core"]))
    return item


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
    for item_id, (page, rect) in spec.items():
        if item_id in ("est_main_map", "est_inset_map"):
            continue
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
        elif item_id == "est_legend":
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
        elif item_id == "est_scalebar":
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
        elif item_id == "est_north_arrow":
            arrow = QgsLayoutItemPicture(layout)
            arrow.setId(item_id)
            arrow.setPicturePath(QgsSymbolLayerUtils.svgSymbolNameToPath(
                "arrows/NorthArrow_02.svg", QgsProject.instance().pathResolver()))
            arrow.setLinkedMap(main)
            arrow.setNorthMode(QgsLayoutItemPicture.NorthMode.GridNorth)
            _place(layout, arrow, rect, page)
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


# =========================================================================== step 3: layout
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


def _number(value: float) -> str:
    return format_number(value, 0 if abs(value - round(value)) < 0.05 else 1)


def _signed(value: float) -> str:
    text = _number(abs(value))
    return "±0" if abs(value) < 0.05 else ("+" if value > 0 else "−") + text


def _names(codes: Sequence[str], labels: dict[str, str]) -> str:
    return ", ".join(labels.get(code, code) for code in codes)


def _status(status: str, lang: str) -> str:
    return tr(f"meeting.status.{status}", lang)


def build_layout(data: ReportData, project: QgsProject, *, background: QgsMapLayer | None = None
                 ) -> tuple[QgsPrintLayout, list[str], list[QgsMapLayer]]:
    """Fill the template for *data*; layers are added to *project* (kept alive by it)."""
    lang = data.lang
    options = data.options
    layout, warnings = load_template(project, options.paper, options.template, lang)
    layout.setName(tr("report.layout_name", lang, week=data.week))
    spots = [row.spot for row in data.hotspots]
    heat = _heat_layer(data.heat_path, data.heat_max, tr("report.legend.heat", lang), tr("report.legend.low", lang),
                       tr("report.legend.high", lang))
    overview_heat = _heat_layer(data.overview_heat_path, data.overview_heat_max, tr("report.legend.heat", lang))
    hotspot_layer = _hotspot_layer(data, spots)
    priority_layer = _priority_layer(data, data.next_priorities)
    district_layer = _district_layer(data)
    layers: list[QgsMapLayer] = [layer for layer in (heat, overview_heat, hotspot_layer, priority_layer,
                                                      district_layer) if layer is not None]
    background = background or options.background_layer or (data.background.layer() if data.background else None)
    if background is not None and project.mapLayer(background.id()) is None:
        layers.append(background)  # kept alive by the project like the layout's other layers
    project.addMapLayers(layers, False)
    main_layers = [hotspot_layer, priority_layer, district_layer, *([heat] if heat else []),
                   *([background] if background else [])]
    crs = QgsCoordinateReferenceSystem(f"EPSG:{data.epsg}")

    main = layout.itemById("est_main_map")
    main.setCrs(crs)
    main.setLayers(main_layers)
    main.setKeepLayerSet(True)
    main.zoomToExtent(QgsRectangle(*data.map_extent))
    inset = layout.itemById("est_inset_map")
    if isinstance(inset, QgsLayoutItemMap):
        inset.setCrs(crs)
        inset.setLayers([district_layer, *([overview_heat] if overview_heat else []),
                         *([background] if background else [])])
        inset.setKeepLayerSet(True)
        inset.zoomToExtent(QgsRectangle(*data.municipality_extent))
    legend = layout.itemById("est_legend")
    if isinstance(legend, QgsLayoutItemLegend):
        legend.setAutoUpdateModel(False)
        root = legend.model().rootGroup()
        root.removeAllChildren()
        for layer in (heat, hotspot_layer, priority_layer):
            if layer is not None and (layer is not priority_layer or data.next_priorities):
                node = QgsLayerTreeLayer(layer)
                root.addChildNode(node)
                if layer is heat:
                    # Keep the colour ramp, drop the "Band 1 (Gray)" line above it (nodes exist only now).
                    legend.model().refreshLayerLegend(node)
                    nodes = legend.model().layerLegendNodes(node, False)
                    keep = [i for i, item in enumerate(nodes) if type(item).__name__ != "QgsSimpleLegendNode"]
                    if keep and len(keep) < len(nodes):
                        QgsMapLayerLegendUtils.setLegendNodeOrder(node, keep)
                    for index in keep:
                        # A ramp long enough for "low" and "high" not to run into each other.
                        QgsMapLayerLegendUtils.setLegendNodeSymbolSize(node, index, QSizeF(*HEAT_RAMP_SIZE_MM))
                    legend.model().refreshLayerLegend(node)
        legend.setTitle("")
        legend.refresh()
    bar = layout.itemById("est_scalebar")
    if isinstance(bar, QgsLayoutItemScaleBar):
        bar.applyDefaultSize(bar.units())

    arrow = layout.itemById("est_north_arrow")
    if isinstance(arrow, QgsLayoutItemPicture) and not Path(arrow.picturePath()).is_file():
        # Templates store the SVG's absolute path; resolve it again on this machine (Windows, macOS).
        arrow.setPicturePath(QgsSymbolLayerUtils.svgSymbolNameToPath("arrows/NorthArrow_02.svg",
                                                                    QgsProject.instance().pathResolver()))
    no_events = layout.itemById("est_no_events")
    if no_events is not None:
        no_events.setVisibility(data.event_count == 0)
        _set_text(layout, "est_no_events", tr("report.no_events", lang, week=data.week))

    week_number = data.monday.isocalendar()[1]
    _set_text(layout, "est_title", tr("report.title", lang, municipality=data.municipality, week=week_number,
                                      year=data.monday.isocalendar()[0]))
    meeting = tr("report.meeting_on", lang, date=data.meeting_date.isoformat()) if data.meeting_date else ""
    _set_text(layout, "est_subtitle", "\n".join(part for part in (
        tr("report.subtitle", lang, first=data.monday.isoformat(), last=data.sunday.isoformat(),
           count=data.event_count, filter=data.filter_sentence), meeting) if part))
    generated = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    footer = tr("report.footer", lang, generated=generated, cell=int(data.cell_size))
    if data.background is not None and data.background.attribution:
        footer += " · " + tr("report.background", lang, attribution=data.background.attribution)
    _set_text(layout, "est_footer", footer)
    _set_text(layout, "est_footer_2", footer)
    _set_text(layout, "est_heading_charts", tr("report.heading.charts", lang, week=week_number))
    _set_text(layout, "est_heading_hotspots", tr("report.heading.hotspots", lang, top=options.top))
    _set_text(layout, "est_heading_followup", tr("report.heading.followup", lang, week=week_number))
    _set_text(layout, "est_heading_next", tr("report.heading.next", lang, week=week_number + 1
                                                 if week_number < 52 else 1))
    if not data.charts:
        render_charts(data, _pixels(layout, "est_chart_categories", (900, 420)),
                      _pixels(layout, "est_chart_weekly_trend", (900, 320)))
    for key, item_id in (("categories", "est_chart_categories"), ("weekday_hour", "est_chart_weekday_hour"),
                         ("weekly_trend", "est_chart_weekly_trend")):
        picture = layout.itemById(item_id)
        if isinstance(picture, QgsLayoutItemPicture) and key in data.charts:
            picture.setPicturePath(str(data.charts[key]))

    _set_table(layout, "est_hotspot_table", [tr(f"report.col.{c}", lang) for c in (
        "rank", "place", "district", "count", "change", "categories")],
        [[str(r.spot.rank), r.place, r.spot.district, str(r.count), _signed(r.change), r.categories]
         for r in data.hotspots], _widths(layout, "est_hotspot_table", (7, 26, 15, 9, 11, 32)),
        data.hotspot_note or tr("report.no_hotspots", lang))
    _set_table(layout, "est_followup_table", [tr(f"report.col.{c}", lang) for c in (
        "rank", "priority", "responsible", "count", "change", "status")],
        [[f"{'F' if u.priority.kind == 'focus' else 'P'}{u.priority.rank}", u.priority.name,
          _names(u.priority.responsible, data.organisation_labels), str(u.current), _signed(u.change),
          _status(u.priority.status, lang) + (f": {u.priority.follow_up_comment}" if u.priority.follow_up_comment
                                                else "")]
         for u in data.follow_ups], _widths(layout, "est_followup_table", (7, 27, 22, 9, 10, 25)),
        tr("report.no_previous", lang))
    _set_table(layout, "est_next_table", [tr(f"report.col.{c}", lang) for c in (
        "rank", "priority", "responsible", "action", "time_focus")],
        [[f"{'F' if p.kind == 'focus' else 'P'}{p.rank}", p.name + (f" ({_names(p.categories, data.category_labels)})"
                                                                     if p.categories else ""),
          _names(p.responsible, data.organisation_labels), p.action, p.time_focus]
         for p in data.next_priorities], _widths(layout, "est_next_table", (7, 30, 22, 26, 15)),
        tr("report.no_next", lang))

    if options.atlas:
        layers += _add_priority_pages(layout, data, hotspot_layer, priority_layer, district_layer, background)
    layout.refresh()
    return layout, warnings, layers


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


def _add_priority_pages(layout: QgsPrintLayout, data: ReportData, hotspot_layer: QgsVectorLayer,
                        priority_layer: QgsVectorLayer, district_layer: QgsVectorLayer,
                        background: QgsMapLayer | None) -> list[QgsMapLayer]:
    """One page per priority area: the week's events of the area as category-coloured points on the
    background with the area's outline, and its numbers — every one of them from the same selection
    as the follow-up (``priority_mask``), so they add up. Returns the layers it added."""
    lang = data.lang
    added: list[QgsMapLayer] = []
    collection = layout.pageCollection()
    first = collection.page(0)
    size = first.pageSize()
    width, height = size.width(), size.height()
    portrait = height > width
    for priority in data.next_priorities:
        area = priority.area_wkt()
        if not area:
            continue
        page = QgsLayoutItemPage(layout)
        page.setPageSize(size)
        collection.addPage(page)
        index = collection.pageCount() - 1
        outcome = follow_up(priority, data.history_columns, data.week, BASELINE_WEEKS)
        prefix = "F" if priority.kind == "focus" else "P"
        _label(layout, f"est_priority_title_{index}", (10, 8, width - 20, 11), 16, bold=True, colour=EST_BLUE,
               page=index).setText(tr("report.priority_page.title", lang, rank=f"{prefix}{priority.rank}",
                                      name=priority.name, week=data.week))
        map_rect = (10, 22, width - 20, height * 0.62) if portrait else (10, 22, width * 0.62, height - 40)
        item = _map(layout, f"est_priority_map_{index}", map_rect, page=index)
        item.setCrs(QgsCoordinateReferenceSystem(f"EPSG:{data.epsg}"))
        counted = data.week_columns.subset(priority_mask(priority, data.week_columns))
        points = _event_points(data, counted.placed(), tr("report.priority_page.points", lang))
        layout.project().addMapLayer(points, False)
        added.append(points)
        item.setLayers([priority_layer, points, district_layer, *([background] if background else [])])
        item.setKeepLayerSet(True)
        box = QgsGeometry.fromWkt(area).boundingBox()
        box.grow(max(box.width(), box.height()) * 0.6 + 150)
        item.zoomToExtent(box)
        bar = QgsLayoutItemScaleBar(layout)
        bar.setId(f"est_priority_scalebar_{index}")
        bar.setStyle("Single Box")
        bar.setLinkedMap(item)
        bar.setUnits(QgsUnitTypes.DistanceUnit.DistanceMeters)
        bar.setUnitLabel("m")
        bar.setNumberOfSegments(3)
        bar.setNumberOfSegmentsLeft(0)
        bar.applyDefaultSize(QgsUnitTypes.DistanceUnit.DistanceMeters)
        bar.setTextFormat(_text_format(7.0))
        _place(layout, bar, (map_rect[0], map_rect[1] + map_rect[3] + 1.5, 70, 9), index)
        counts = np.bincount(counted.category.astype(np.int64), minlength=len(counted.category_codes))
        top = [f"{data.category_labels.get(counted.category_codes[i], counted.category_codes[i])}: {int(counts[i])}"
               for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
        others = int(np.count_nonzero(_area_mask(priority, data.week_columns))) - len(counted)
        lines = [
            tr("report.priority_page.count", lang, count=outcome.current, baseline=_number(outcome.baseline),
               change=_signed(outcome.change)),
            tr("report.priority_page.weekly", lang, weeks=" · ".join(str(v) for v in outcome.weekly)),
            "",
            tr("report.priority_page.categories", lang,
               names=_names(priority.categories, data.category_labels) or tr("report.all_categories", lang)),
            tr("report.priority_page.responsible", lang,
               names=_names(priority.responsible, data.organisation_labels) or "–"),
            tr("report.priority_page.action", lang, action=priority.action or "–"),
            tr("report.priority_page.time_focus", lang, time=priority.time_focus or "–"),
            "",
            tr("report.priority_page.in_area", lang),
            *(f"  • {line}" for line in top or [tr("report.priority_page.none", lang)]),
            # the area's events of other categories: named, not mixed into the count above
            *([tr("report.priority_page.other_categories", lang, count=others)] if others > 0 else []),
        ]
        text_rect = (10, map_rect[1] + map_rect[3] + 12, width - 20, height - map_rect[3] - 45) if portrait \
            else (map_rect[0] + map_rect[2] + 8, 22, width - map_rect[2] - 28, height - 40)
        _label(layout, f"est_priority_text_{index}", text_rect, 10.5, page=index).setText("\n".join(lines))
    return added


def _event_points(data: ReportData, events: EventColumns, name: str) -> QgsVectorLayer:
    """*events* as points coloured by category (the categories' own colours and labels)."""
    layer = scratch_layer(f"Point?crs=EPSG:{data.epsg}&field=category:string(40)", name)
    features = []
    for x, y, index in zip(events.x.tolist(), events.y.tolist(), events.category.tolist()):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        feature.setAttributes([events.category_codes[index] if 0 <= index < len(events.category_codes) else ""])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    layer.setRenderer(category_renderer(list(data.categories), data.lang))
    return layer


def _area_mask(priority: Priority, columns: EventColumns) -> np.ndarray:
    area = priority.area_wkt()
    if not area or not len(columns):
        return np.zeros(len(columns), dtype=bool)
    return points_in_polygon(columns.x, columns.y, area)


def export_pdf(layout: QgsLayout, path: Path, dpi: int = 200) -> tuple[int, list[str]]:
    """Export *layout* to a PDF with real text (searchable, copyable); returns (pages, warnings)."""
    settings = QgsLayoutExporter.PdfExportSettings()
    settings.dpi = dpi
    settings.rasterizeWholeImage = False
    settings.forceVectorOutput = False
    settings.textRenderFormat = Qgis.TextRenderFormat.AlwaysText
    settings.appendGeoreference = False
    settings.exportMetadata = True
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    result = QgsLayoutExporter(layout).exportToPdf(str(path), settings)
    if result != QgsLayoutExporter.ExportResult.Success:
        from ..domain.errors import EstError

        raise EstError("report_export_failed", path=str(path), code=int(result))
    return layout.pageCollection().pageCount(), []


def generate_report(store: EventStore, options: ReportOptions, out: Path, *, columns: EventColumns | None = None,
                    progress: ProgressCallback | None = None, data: ReportData | None = None) -> ReportResult:
    """Compute, chart, fill and export: the one path Processing, the panel and ``make demo`` share."""
    data = data or compute_report(store, options, columns=columns, progress=progress)
    if progress:
        progress(0.8, tr("report.progress.export", data.lang))
    project = QgsProject()
    layout, warnings, _layers = build_layout(data, project)
    pages, export_warnings = export_pdf(layout, Path(out))
    if progress:
        progress(1.0, tr("report.progress.done", data.lang))
    for warning in warnings:
        LOG.warning(warning)
    return ReportResult(Path(out), pages, warnings + export_warnings, data)


def open_in_designer(data: ReportData, iface: Any) -> QgsPrintLayout:
    """Add the filled layout (and its layers, in a group) to the user's project and open the designer."""
    project = QgsProject.instance()
    root = project.layerTreeRoot()
    name = tr("report.layer_group", data.lang, week=data.week)
    previous = root.findGroup(name)
    if previous is not None:  # opened again: the new layout replaces the old one and its layers
        project.removeMapLayers([layer.layerId() for layer in previous.findLayers()])
        root.removeChildNode(previous)
    layout, warnings, layers = build_layout(data, project)
    group = root.insertGroup(0, name)
    for layer in layers:
        group.addLayer(layer)
    group.setItemVisibilityChecked(False)
    manager = project.layoutManager()
    existing = manager.layoutByName(layout.name())
    if existing is not None:
        manager.removeLayout(existing)
    manager.addLayout(layout)
    open_designer = getattr(iface, "openLayoutDesigner", None)  # absent on test and headless interfaces
    if callable(open_designer):
        open_designer(layout)
    for warning in warnings:
        LOG.warning(warning)
    return layout
