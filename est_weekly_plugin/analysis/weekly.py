"""One weekly analysis: the numbers the compilation dock, the meeting panel, the meeting PDF and
the Processing algorithms show for a week and a filter.

Gi* z-scores depend on the study area and the cell size, so every caller must use the same
ones, or the dock, the panel, the PDF and a scheduled ``qgis_process`` run rank different
hot-spots for the same week. They are one definition stored with the database
(:class:`AnalysisSettings`, editable by an administrator), and every caller goes through
:func:`analyse_week` — or builds its :class:`CompilationEngine` with :func:`engine_for`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any, Optional, Sequence

from ..domain.errors import EstError
from ..domain.model import EventColumns
from ..domain.reference import municipality
from ..domain.week import IsoWeek
from .compilation import CompilationEngine, CompilationResult
from .filters import CompilationFilter
from .hotspots import HotSpot
from .trends import TrendReport, weekly_trends

STUDY_AREA_KEY = "analysis_study_area"  # JSON [xmin, ymin, xmax, ymax] in the store's CRS
CELL_SIZE_KEY = "analysis_cell_size"  # metres
DEFAULT_CELL_SIZE = 100.0
TOP_HOTSPOTS = 10


@dataclass(frozen=True)
class AnalysisSettings:
    """Where Gi* is computed and at which cell size: one definition per database."""

    study_area: tuple[float, float, float, float]
    cell_size: float = DEFAULT_CELL_SIZE
    rings: int = 1  # Gi*'s neighbourhood: the cell and this many rings around it

    @classmethod
    def of(cls, store: Any) -> AnalysisSettings:
        """The store's settings; the urban core and 100 m where an administrator set nothing."""
        area: Sequence[float] = municipality()["urban_core"]
        try:
            stored = json.loads(store.setting(STUDY_AREA_KEY) or "null")
            if isinstance(stored, list) and len(stored) == 4 and stored[0] < stored[2] and stored[1] < stored[3]:
                area = [float(v) for v in stored]
        except (ValueError, TypeError):
            pass
        try:
            cell = float(store.setting(CELL_SIZE_KEY) or DEFAULT_CELL_SIZE)
        except ValueError:
            cell = DEFAULT_CELL_SIZE
        return cls(tuple(float(v) for v in area), cell if 10.0 <= cell <= 2000.0 else DEFAULT_CELL_SIZE)

    def save(self, store: Any, actor: str = "EST Weekly") -> None:
        store.set_setting(STUDY_AREA_KEY, json.dumps(list(self.study_area)), actor)
        store.set_setting(CELL_SIZE_KEY, str(float(self.cell_size)), actor)


def engine_for(columns: EventColumns, settings: AnalysisSettings) -> CompilationEngine:
    """The compilation engine with the database's study area and cell size."""
    return CompilationEngine(columns, hotspot_extent=settings.study_area, hotspot_cell=settings.cell_size,
                             hotspot_rings=settings.rings)


@dataclass
class WeeklyResult:
    """One ISO week under one filter: counts, charts, hot-spots, trends, emerging places."""

    week: str
    monday: dt.date
    filter: CompilationFilter  # the caller's filter with the week's dates
    result: CompilationResult
    week_columns: EventColumns
    settings: AnalysisSettings
    total: int = 0  # approved events this login may see, all weeks
    trends: Optional[TrendReport] = None  # exactly this week against the weeks before

    @property
    def count(self) -> int:
        return self.result.count

    @property
    def hotspots(self) -> list[HotSpot]:
        """The ranked hot-spots (Gi*), best first."""
        return list(self.result.hotspots.hotspots) if self.result.hotspots is not None else []


def week_filter(week: str, compilation_filter: Optional[CompilationFilter] = None) -> CompilationFilter:
    """*compilation_filter* restricted to the ISO *week* (its own dates are replaced)."""
    iso = IsoWeek.of(week)
    return replace(compilation_filter or CompilationFilter(), date_from=iso.monday, date_to=iso.sunday,
                   preset="custom")


def analyse_week(store: Any, week: str, compilation_filter: Optional[CompilationFilter] = None, *,
                 columns: Optional[EventColumns] = None, engine: Optional[CompilationEngine] = None,
                 settings: Optional[AnalysisSettings] = None, baseline_weeks: int = 4,
                 names: Optional[dict[str, dict[str, str]]] = None) -> WeeklyResult:
    """Everything the cycle shows for *week* under *compilation_filter* — the one entry point.

    *engine* (or *columns*) saves a reload when the caller has the approved events already.
    The trend table compares exactly *week* with the *baseline_weeks* before it; *names*
    ({"category": {code: label}, "organisation": …}) labels its rows.
    """
    settings = settings or AnalysisSettings.of(store)
    if engine is None:
        engine = engine_for(store.load_columns() if columns is None else columns, settings)
    iso = IsoWeek.of(week)
    selection = week_filter(iso.label, compilation_filter)
    result = engine.compute(selection, week=iso.label, hotspots=True)
    undated = replace(selection, date_from=None, date_to=None)
    names = names or {}
    trends = weekly_trends(engine.columns.subset(engine.mask(undated)), iso.label, baseline_weeks=baseline_weeks,
                           districts=engine.districts, category_names=names.get("category"),
                           organisation_names=names.get("organisation"))
    name_areas(store, result)
    return WeeklyResult(iso.label, iso.monday, selection, result, engine.columns.subset(result.index), settings,
                        len(engine.columns), trends)


_ALL_DATES = (dt.date(1900, 1, 1), dt.date(2999, 12, 31))


def name_areas(store: Any, result: CompilationResult) -> None:
    """Name each hot-spot area by the place reporters named most often inside it (in the filter's
    dates). Two areas with one name are one place: the weaker folds into the stronger, so the list
    never shows a place twice. Areas without a place name keep their district."""
    if result.hotspots is None or not result.hotspots.hotspots:
        return
    first = result.filter.date_from or _ALL_DATES[0]
    last = result.filter.date_to or _ALL_DATES[1]
    kept: list[HotSpot] = []
    for spot in result.hotspots.hotspots:
        xs = [x for x, _ in spot.polygon] or [spot.x]
        ys = [y for _, y in spot.polygon] or [spot.y]
        half = max(max(xs) - min(xs), max(ys) - min(ys), 1.0) / 2.0
        try:
            name = store.common_place_name((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, half, first, last)
        except EstError:  # a name is a nicety: the area keeps its district
            name = ""
        spot.name = name.split(",")[0].strip()
        same = next((s for s in kept if spot.name and s.name == spot.name), None)
        if same is None:
            spot.rank = len(kept) + 1
            kept.append(spot)
            continue
        same.count += spot.count
        same.window_count = same.count
        same.cells += spot.cells
        if same.previous_average is not None and spot.previous_average is not None:
            same.previous_average += spot.previous_average
    result.hotspots.hotspots = kept
