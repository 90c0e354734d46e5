"""The meeting PDF's numbers: one week under one filter, computed without Qt widgets or a project.

:func:`compute_report` runs in the report task's worker thread: the week's events, the heat-map
rasters, the ranked hot-spot areas from the one weekly analysis, the follow-up of last meeting's
priorities and next week's priorities. Everything the layout later shows comes from here.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from qgis.core import (
    QgsGeometry,
)

from ..analysis.density import density_grid
from ..analysis.filters import CompilationFilter
from ..analysis.follow_up import follow_up
from ..analysis.hotspot_areas import method_note
from ..analysis.hotspots import HotSpot
from ..analysis.trends import week_monday
from ..analysis.weekly import analyse_week
from ..domain.i18n import format_number, language, tr
from ..domain.meetings import FollowUp, Priority, previous_week
from ..domain.model import Category, EventColumns, day_number
from ..domain.reference import municipality
from ..domain.week import IsoWeek
from ..maps.background import Background
from ..store.base import EventStore
from ..store.meetings import MeetingRepository

PAPERS = ("A3", "A4")


PAPER_SIZES = {"A3": (420.0, 297.0), "A4": (210.0, 297.0)}  # width × height in mm (landscape A3, portrait A4)


BASELINE_WEEKS = 4


TOP_HOTSPOTS = 10


ProgressCallback = Callable[[float, str], None]


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
    background: Background | None = None  # the database's background map (each layout opens its own layer)

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
        # uncompressed: a scratch file, and GDAL holds the GIL while it deflates (QGIS would stall meanwhile)
        path = Path(grid.to_geotiff(str(data.work_dir / f"{name}.tif"), data.epsg, compress=False))
        positive = grid.values[grid.values > 0]
        peak = float(np.quantile(positive, 0.998)) if positive.size else 1.0
        if name == "heat":
            data.heat_path, data.heat_max = path, max(peak, 1e-12)
        else:
            data.overview_heat_path, data.overview_heat_max = path, max(peak, 1e-12)


def _number(value: float, lang: str | None = None) -> str:
    return format_number(value, lang, 0 if abs(value - round(value)) < 0.05 else 1)


def _signed(value: float, lang: str | None = None) -> str:
    text = _number(abs(value), lang)
    return "±0" if abs(value) < 0.05 else ("+" if value > 0 else "−") + text


def _names(codes: Sequence[str], labels: dict[str, str]) -> str:
    return ", ".join(labels.get(code, code) for code in codes)


def _status(status: str, lang: str) -> str:
    return tr(f"meeting.status.{status}", lang)
