"""The weekly compilation engine: one filter in, counts, chart data and heat map out.

Why an engine: the map, the counts and the charts must always show the same events, and a
filter change at a million events must feel instant. So the approved events are loaded
once as numpy columns (:class:`EventColumns`), a :class:`CompilationFilter` becomes one
boolean mask, and every view is a ``bincount`` or an FFT over that mask — no per-feature
Python, no re-reading of the database. Work that does not depend on the filter (district
of each event, its ISO week, the binned pixel of each event) is computed once and cached.

PostGIS uses this same engine (the approved events read once through binary COPY, row-level
rules applied). The tests check its numbers against the same filter written as SQL over the
PostGIS compilation view (``tests/pg_oracle.py``), so the filter has one meaning.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..domain.model import AREA_PRECISION_CODE, PRECISION_CODES, ColumnsDelta, EventColumns, date_from_day, day_number
from ..domain.reference import District, districts, municipality
from .column_merge import merge_columns, sorted_by_fid
from .density import DensityGrid, density_grid
from .filters import CompilationFilter, nearest_district_index, weekday_hour_matrix
from .hotspots import EmergingResult, HotspotResult, emerging_hotspots, hotspot_analysis
from .trends import TrendReport, events_per_week, iso_week_monday_day, week_label, week_monday, weekly_trends

TREND_WEEKS = 26  # weeks shown in the weekly trend line
BASELINE_WEEKS = 4


# --------------------------------------------------------------------------- chart data
@dataclass
class ChartData:
    """Everything the charts draw for one selection of events (all plain numpy).

    ``weekly_average[k]`` is the mean of the ``BASELINE_WEEKS`` weeks *before* week k (NaN
    where fewer weeks are known), the same baseline as :func:`analysis.trends.weekly_trends`.
    """

    category_codes: List[str]
    category_counts: np.ndarray
    organisation_codes: List[str]
    organisation_counts: np.ndarray
    weekday_counts: np.ndarray  # (7,)
    weekday_hour: np.ndarray  # (7, 24) aoristic
    unknown_time: int  # events left out of the hour matrix
    week_labels: List[str]
    week_counts: np.ndarray
    weekly_average: np.ndarray
    total: int
    # With a date filter the trend shows the chosen weeks plus ``lead_weeks`` (= BASELINE_WEEKS)
    # weeks before them, counted with the same filter without its dates; 0 without a date filter.
    lead_weeks: int = 0


def rolling_baseline(counts: np.ndarray, weeks: int = BASELINE_WEEKS) -> np.ndarray:
    """Mean of the *weeks* values before each position; NaN until enough history exists."""
    counts = np.asarray(counts, dtype=np.float64)
    out = np.full(counts.shape, np.nan)
    if counts.size > weeks:
        cum = np.concatenate([[0.0], np.cumsum(counts)])
        out[weeks:] = (cum[weeks:-1] - cum[: -weeks - 1]) / weeks
    return out


def weekly_window(columns: EventColumns, week: Optional[str], weeks: int = TREND_WEEKS,
                  today: Optional[dt.date] = None) -> Tuple[dt.date, dt.date]:
    """(first, last) Monday of the trend line: *weeks* weeks ending with *week*, else with the data's
    last complete week on *today* (an unfinished week would drop the line towards zero)."""
    if week:
        last = week_monday(week)
    elif len(columns):
        last = date_from_day(int(iso_week_monday_day(columns.day.max())))
        if today is not None and last + dt.timedelta(days=6) >= today:
            last = min(last, week_monday(today)) - dt.timedelta(days=7)
    else:
        last = week_monday(today or dt.date.today()) - dt.timedelta(days=7)
    first = last - dt.timedelta(days=7 * (weeks - 1 + BASELINE_WEEKS))
    return first, last


def date_range_window(columns: EventColumns, date_from: Optional[dt.date],
                      date_to: Optional[dt.date]) -> Tuple[dt.date, dt.date]:
    """(first, last) Monday of the trend line for a date filter: the weeks of the chosen range
    (an open end is the data's first/last day, a range reaching past the data is cut to it)
    plus the ``BASELINE_WEEKS`` weeks before it, so the first chosen week already has its
    4-week average drawn from weeks the chart shows."""
    if len(columns):
        return _range_mondays(date_from, date_to, int(columns.day.min()), int(columns.day.max()))
    return _range_mondays(date_from, date_to, None, None)


def _range_mondays(date_from: Optional[dt.date], date_to: Optional[dt.date], first_day: Optional[int],
                   last_day: Optional[int]) -> Tuple[dt.date, dt.date]:
    if first_day is not None and last_day is not None:
        data_first, data_last = date_from_day(first_day), date_from_day(last_day)
    else:
        data_first = data_last = date_to or date_from or dt.date.today()
    start = max(date_from, data_first) if date_from is not None else data_first
    end = date_to if date_to is not None else data_last
    if start > end:
        start = end
    first = week_monday(start) - dt.timedelta(days=7 * BASELINE_WEEKS)
    return first, week_monday(end)


def chart_data(
    columns: EventColumns,
    *,
    week: Optional[str] = None,
    weeks: int = TREND_WEEKS,
    weekday_hour: Optional[np.ndarray] = None,
) -> ChartData:
    """Counts by category, organisation, weekday; the aoristic weekday × hour matrix; the trend.

    The trend series starts ``BASELINE_WEEKS`` weeks earlier than shown so the first shown
    week already has its 4-week average; those lead-in weeks are dropped from the result.
    """
    n_cat = len(columns.category_codes)
    n_org = len(columns.organisation_codes)
    category_counts = np.bincount(columns.category.astype(np.int64), minlength=n_cat)[:n_cat]
    organisation_counts = np.bincount(columns.organisation.astype(np.int64), minlength=n_org)[:n_org]
    weekday_counts = np.bincount(columns.weekday.astype(np.int64), minlength=7)[:7]
    matrix = weekday_hour_matrix(columns) if weekday_hour is None else weekday_hour
    unknown = int(np.count_nonzero(columns.minute_from < 0))
    first, last = weekly_window(columns, week, weeks)
    series = events_per_week(columns, first, last)
    average = rolling_baseline(series.counts)
    return ChartData(
        category_codes=list(columns.category_codes),
        category_counts=category_counts,
        organisation_codes=list(columns.organisation_codes),
        organisation_counts=organisation_counts,
        weekday_counts=weekday_counts,
        weekday_hour=matrix,
        unknown_time=unknown,
        week_labels=series.labels[BASELINE_WEEKS:],
        week_counts=series.counts[BASELINE_WEEKS:],
        weekly_average=average[BASELINE_WEEKS:],
        total=len(columns),
    )


def columns_from_batch(
    batch: Any, category_codes: Sequence[str], organisation_codes: Sequence[str], approved_only: bool = True
) -> EventColumns:
    """EventColumns straight from an :class:`EventBatch` (demo data, tests, benchmarks) —
    the same columns ``load_columns`` would return after inserting the batch, minus fids."""
    status = np.asarray(batch.status).astype(str)
    keep = status == "approved" if approved_only else np.ones(len(batch), dtype=bool)
    cat_index = {c: i for i, c in enumerate(category_codes)}
    org_index = {o: i for i, o in enumerate(organisation_codes)}
    category = np.array([cat_index.get(str(c), -1) for c in np.asarray(batch.category)[keep]], dtype=np.int16)
    organisation = np.array([org_index.get(str(o), -1) for o in np.asarray(batch.organisation)[keep]],
                            dtype=np.int16)
    day = np.asarray(batch.event_date).astype("datetime64[D]").astype(np.int64)[keep]
    return EventColumns(
        fid=np.flatnonzero(keep).astype(np.int64) + 1,
        x=np.asarray(batch.x, dtype=np.float64)[keep],
        y=np.asarray(batch.y, dtype=np.float64)[keep],
        category=category,
        organisation=organisation,
        day=day.astype(np.int32),
        weekday=((day + 3) % 7).astype(np.int8),
        minute_from=np.asarray(batch.minute_from, dtype=np.int16)[keep],
        minute_to=np.asarray(batch.minute_to, dtype=np.int16)[keep],
        category_codes=list(category_codes),
        organisation_codes=list(organisation_codes),
    )


# --------------------------------------------------------------------------- the engine
Extent = Tuple[float, float, float, float]


@dataclass(frozen=True)
class DensitySpec:
    """Where and how fine the heat map is computed."""

    extent: Extent
    pixel_size: float = 10.0
    radius: float = 200.0
    kernel: str = "quartic"


def density_spec_for(extent: Sequence[float], *, radius: float = 200.0, max_pixels: int = 1_000_000,
                     min_pixel: float = 10.0) -> DensitySpec:
    """A heat-map grid for a view: 10 m pixels at street scale, coarser when the view is large,
    so one filter change never convolves more than *max_pixels* (the FFT cost is per pixel).
    Pixel sizes are whole metres (1, 2, 2.5, 5 × 10^k) so grids line up between views."""
    xmin, ymin, xmax, ymax = (float(v) for v in extent)
    area = max((xmax - xmin) * (ymax - ymin), 1.0)
    needed = max(min_pixel, math.sqrt(area / max_pixels))
    exponent = 10 ** math.floor(math.log10(needed))
    pixel = next(step * exponent for step in (1, 2, 2.5, 5, 10) if step * exponent >= needed - 1e-9)
    return DensitySpec((xmin, ymin, xmax, ymax), float(pixel), float(radius))


@dataclass
class CompilationResult:
    """Everything one filter produces; ``index`` are positions into the engine's columns."""

    filter: CompilationFilter
    count: int
    charts: ChartData
    index: Optional[np.ndarray] = None  # None when aggregated in the database
    density: Optional[DensityGrid] = None
    density_spec: Optional[DensitySpec] = None
    hotspots: Optional[HotspotResult] = None
    trends: Optional[TrendReport] = None  # latest week vs the 4 before (filter without its dates)
    emerging: Optional[EmergingResult] = None  # latest 4 weeks vs the 4 before, per cell
    emerging_cells: List[Dict[str, object]] = field(default_factory=list)  # + "x", "y", "district"
    timings: Dict[str, float] = field(default_factory=dict)
    view: Any = None  # what the interface prepared from it in the worker (e.g. the map's features)

    @property
    def density_max(self) -> float:
        """The heat map's colour scale top: the 99.8th percentile of non-zero pixels, so one
        extreme pixel does not wash out the rest of the city."""
        if self.density is None:
            return 1.0
        values = self.density.values
        positive = values[values > values.max() * 1e-6] if values.size else values
        return float(np.quantile(positive, 0.998)) if positive.size else 1.0


def _profile_keys(c: EventColumns) -> np.ndarray:
    """One integer per (weekday, start minute, end minute): the aoristic profile of an event."""
    return (c.weekday.astype(np.int64) * 1441 + (c.minute_from.astype(np.int64) + 1)) * 1441 \
        + (c.minute_to.astype(np.int64) + 1)


class Cancelled(Exception):
    """Raised inside a computation when its task was cancelled or superseded."""


def filter_key(compilation_filter: CompilationFilter) -> str:
    return json.dumps(compilation_filter.to_dict(), sort_keys=True)


class CompilationEngine:
    """Approved events in memory; one :meth:`compute` per filter change.

    Why the caches: the nearest district of every event, the ISO week of every event and the
    distinct (weekday, start, end) time profiles do not depend on the filter. With them a
    filter change is one mask plus ``bincount``s; the aoristic matrix is spread over the few
    thousand distinct profiles (weighted by how many selected events share each) instead of
    over a million events.
    """

    def __init__(self, columns: EventColumns, *, district_list: Optional[Sequence[District]] = None,
                 hotspot_extent: Optional[Sequence[float]] = None, hotspot_cell: float = 100.0,
                 hotspot_rings: int = 1) -> None:
        self.columns = sorted_by_fid(columns)  # a change delta merges by binary search on fid
        self.districts = tuple(districts() if district_list is None else district_list)
        # the study area and cell size of Gi* (analysis.weekly.AnalysisSettings: one per database)
        self.hotspot_extent = tuple(hotspot_extent or municipality()["urban_core"])
        self.hotspot_cell = float(hotspot_cell)
        self.hotspot_rings = int(hotspot_rings)
        # Caches are built lazily; two compute tasks (a superseded one still running) take turns.
        self._lock = threading.RLock()
        self._district_index: Optional[np.ndarray] = None
        self._profiles: Optional[Tuple[EventColumns, np.ndarray]] = None
        self._weeks: Optional[Tuple[int, np.ndarray]] = None
        self._masks: OrderedDict[str, np.ndarray] = OrderedDict()
        self._full_density: Dict[DensitySpec, DensityGrid] = {}
        self.change_token: Optional[int] = None  # the store's token taken before these columns were read
        self.today = dt.date.today()  # which weeks are complete

    def __len__(self) -> int:
        return len(self.columns)

    # -- filter-independent caches ----------------------------------------------------
    @property
    def district_index(self) -> np.ndarray:
        if self._district_index is None:
            index = nearest_district_index(self.columns.x, self.columns.y, self.districts)
            index[self.columns.precision == PRECISION_CODES["municipality"]] = -1  # a centroid is no district
            self._district_index = index
        return self._district_index

    def _profile_table(self) -> Tuple[EventColumns, np.ndarray]:
        if self._profiles is None:
            c = self.columns
            unique, inverse = np.unique(_profile_keys(c), return_inverse=True)
            minute_to = (unique % 1441 - 1).astype(np.int16)
            minute_from = ((unique // 1441) % 1441 - 1).astype(np.int16)
            weekday = (unique // (1441 * 1441)).astype(np.int8)
            zeros = np.zeros(unique.size)
            profiles = EventColumns(
                fid=np.zeros(unique.size, np.int64), x=zeros, y=zeros, category=np.zeros(unique.size, np.int16),
                organisation=np.zeros(unique.size, np.int16), day=np.zeros(unique.size, np.int32),
                weekday=weekday, minute_from=minute_from, minute_to=minute_to,
                category_codes=c.category_codes, organisation_codes=c.organisation_codes,
            )
            self._profiles = (profiles, inverse.astype(np.int64).ravel())
        return self._profiles

    def _week_table(self) -> Tuple[int, np.ndarray]:
        if self._weeks is None:
            mondays = iso_week_monday_day(self.columns.day)
            first = int(mondays.min()) if mondays.size else 0
            self._weeks = (first, ((mondays - first) // 7).astype(np.int64))
        return self._weeks

    def with_changes(self, delta: ColumnsDelta) -> CompilationEngine:
        """A new engine with *delta* merged (changed events leave, those approved now come in),
        its filter-independent caches carried over rather than rebuilt: an approval made
        elsewhere shows in tens of milliseconds at a million events."""
        with self._lock:
            columns, plan = merge_columns(self.columns, delta)
            engine = CompilationEngine(columns, district_list=self.districts, hotspot_extent=self.hotspot_extent,
                                       hotspot_cell=self.hotspot_cell, hotspot_rings=self.hotspot_rings)
            engine.today = self.today
            added = sorted_by_fid(delta.columns)
            if self._district_index is not None:
                engine._district_index = plan.apply(self._district_index,
                                                    nearest_district_index(added.x, added.y, self.districts))
            if self._weeks is not None:
                first, index = self._weeks
                mondays = iso_week_monday_day(added.day).astype(np.int64)
                if not mondays.size or mondays.min() >= first:
                    engine._weeks = (first, plan.apply(index, (mondays - first) // 7))
            if self._profiles is not None:
                profiles, inverse = self._profiles
                keys, wanted = _profile_keys(profiles), _profile_keys(added)
                at = np.minimum(np.searchsorted(keys, wanted), max(keys.size - 1, 0))
                if keys.size and bool(np.all(keys[at] == wanted)):  # else a new time profile: rebuilt lazily
                    engine._profiles = (profiles, plan.apply(inverse, at.astype(np.int64)))
        engine.change_token = delta.token
        return engine

    def warm_up(self) -> None:
        """Build the caches (done once in the loading task, not on the first filter change)."""
        self._profile_table()
        self._week_table()
        _ = self.district_index

    # -- per filter ----------------------------------------------------------------------
    def mask(self, compilation_filter: CompilationFilter) -> np.ndarray:
        key = filter_key(compilation_filter)
        cached = self._masks.get(key)
        if cached is not None:
            self._masks.move_to_end(key)
            return cached
        district_index = self.district_index if compilation_filter.districts else None
        mask = compilation_filter.mask(self.columns, self.districts, district_index=district_index)
        self._masks[key] = mask
        while len(self._masks) > 8:
            self._masks.popitem(last=False)
        return mask

    def chart_data(self, mask: np.ndarray, week: Optional[str] = None, weeks: int = TREND_WEEKS, *,
                   trend_mask: Optional[np.ndarray] = None,
                   date_range: Optional[Tuple[Optional[dt.date], Optional[dt.date]]] = None) -> ChartData:
        """Same content as :func:`chart_data` on the selected events, from the caches.

        With *date_range* (the filter's dates) the trend covers the chosen weeks plus the
        ``BASELINE_WEEKS`` weeks before them, counted over *trend_mask* (the same filter
        without its dates), so the 4-week average is meaningful from the first chosen week.
        """
        c = self.columns
        index = np.flatnonzero(mask)
        n_cat, n_org = len(c.category_codes), len(c.organisation_codes)
        profiles, inverse = self._profile_table()
        profile_counts = np.bincount(inverse[index], minlength=len(profiles)).astype(np.float64)
        matrix = weekday_hour_matrix(profiles, profile_counts)
        unknown = float(profile_counts[profiles.minute_from < 0].sum())
        first_monday, week_index = self._week_table()
        lead = 0
        if date_range is not None:
            trend_index = np.flatnonzero(mask if trend_mask is None else trend_mask)
            shown_first, shown_last = date_range_window(c, *date_range)
            shown_first -= dt.timedelta(days=7 * BASELINE_WEEKS)  # lead-in for the first shown average
            lead = BASELINE_WEEKS
        else:
            trend_index = index
            shown_first, shown_last = weekly_window(c, week, weeks, self.today)
        per_week = np.bincount(week_index[trend_index],
                               minlength=int(week_index.max(initial=0)) + 1).astype(np.float64)
        start = (day_number(shown_first) - first_monday) // 7
        stop = (day_number(shown_last) - first_monday) // 7 + 1
        window = np.zeros(stop - start)
        lo, hi = max(start, 0), min(stop, per_week.size)
        if hi > lo:
            window[lo - start: hi - start] = per_week[lo:hi]
        average = rolling_baseline(window)
        labels = [week_label(shown_first + dt.timedelta(days=7 * k)) for k in range(stop - start)]
        return ChartData(
            category_codes=list(c.category_codes),
            category_counts=np.bincount(c.category[index].astype(np.int64), minlength=n_cat)[:n_cat],
            organisation_codes=list(c.organisation_codes),
            organisation_counts=np.bincount(c.organisation[index].astype(np.int64), minlength=n_org)[:n_org],
            weekday_counts=np.bincount(c.weekday[index].astype(np.int64), minlength=7)[:7],
            weekday_hour=matrix,
            unknown_time=int(round(unknown)),
            week_labels=labels[BASELINE_WEEKS:],
            week_counts=window[BASELINE_WEEKS:],
            weekly_average=average[BASELINE_WEEKS:],
            total=int(index.size),
            lead_weeks=lead,
        )

    def compute(
        self,
        compilation_filter: CompilationFilter,
        *,
        week: Optional[str] = None,
        density: Optional[DensitySpec] = None,
        hotspots: bool = False,
        hotspot_cell: Optional[float] = None,
        is_cancelled: Optional[Callable[[], bool]] = None,
    ) -> CompilationResult:
        """Counts, chart data, and (when asked) the heat map and the Gi* hot spots for a filter.

        *is_cancelled* is polled between the steps so a superseded filter stops early. One call
        at a time per engine: the lazily built caches are never built twice at once.
        """
        with self._lock:
            return self._compute(compilation_filter, week=week, density=density, hotspots=hotspots,
                                 hotspot_cell=hotspot_cell, is_cancelled=is_cancelled)

    def _compute(self, compilation_filter: CompilationFilter, *, week: Optional[str], density: Optional[DensitySpec],
                 hotspots: bool, hotspot_cell: Optional[float],
                 is_cancelled: Optional[Callable[[], bool]]) -> CompilationResult:
        def check() -> None:
            if is_cancelled is not None and is_cancelled():
                raise Cancelled()

        hotspot_cell = self.hotspot_cell if hotspot_cell is None else float(hotspot_cell)
        timings: Dict[str, float] = {}
        started = time.perf_counter()
        mask = self.mask(compilation_filter)
        index = np.flatnonzero(mask)
        timings["filter"] = time.perf_counter() - started
        check()
        mark = time.perf_counter()
        f = compilation_filter
        undated = f
        if f.date_from is not None or f.date_to is not None:
            undated = CompilationFilter.from_dict({**f.to_dict(), "date_from": None, "date_to": None})
            charts = self.chart_data(mask, week, trend_mask=self.mask(undated), date_range=(f.date_from, f.date_to))
        else:
            charts = self.chart_data(mask, week)
        timings["charts"] = time.perf_counter() - mark
        result = CompilationResult(compilation_filter, int(index.size), charts, index=index, density_spec=density,
                                   timings=timings)
        check()
        if density is not None:
            mark = time.perf_counter()
            result.density = self.density(mask, index, density)
            timings["density"] = time.perf_counter() - mark
        check()
        if hotspots:
            mark = time.perf_counter()
            result.hotspots = hotspot_analysis(self.columns.subset(index).placed(), cell_size=hotspot_cell,
                                               rings=self.hotspot_rings, extent=self.hotspot_extent,
                                               districts=self.districts, baseline=self._baseline(f, undated))
            timings["hotspots"] = time.perf_counter() - mark
            check()
            mark = time.perf_counter()
            trend_mask = self.mask(undated) if f.date_from is not None or f.date_to is not None else mask
            self.trend_analysis(result, trend_mask, hotspot_cell)
            timings["trends"] = time.perf_counter() - mark
        timings["total"] = time.perf_counter() - started
        return result

    def _baseline(self, f: CompilationFilter, undated: CompilationFilter) -> Optional[EventColumns]:
        """The same filter over the ``BASELINE_WEEKS`` periods of equal length before its dates
        (the 4 weeks before a week): what each hot-spot area's change is measured against."""
        if f.date_from is None or f.date_to is None:
            return None
        span = (f.date_to - f.date_from).days + 1
        end = day_number(f.date_from)
        days = self.columns.day
        return self.columns.subset(self.mask(undated) & (days >= end - BASELINE_WEEKS * span) & (days < end)).placed()

    def latest_week(self, compilation_filter: CompilationFilter) -> Optional[dt.date]:
        """Monday of the week the trend is about: the week of the filter's end date (the user's
        choice, complete or not), else the last complete week on ``today`` that has events."""
        if not len(self.columns):
            return None
        last = date_from_day(int(self.columns.day.max()))
        end = compilation_filter.date_to
        if end is not None:  # the chosen week, even one without events yet (not beyond today)
            return week_monday(min(end, self.today))
        monday = week_monday(last)
        if monday + dt.timedelta(days=6) >= self.today:
            monday = min(monday, week_monday(self.today)) - dt.timedelta(days=7)
        return monday

    def trend_analysis(self, result: CompilationResult, trend_mask: np.ndarray, cell_size: float = 100.0,
                       baseline_weeks: int = BASELINE_WEEKS) -> None:
        """Fill *result*'s trends (latest week vs the *baseline_weeks* before) and emerging/fading
        cells (latest *baseline_weeks* weeks vs the same number before) over the events of
        *trend_mask* — the filter without its dates, so the baseline weeks are counted too.
        Names are the codes; the dock labels them in the user's language."""
        monday = self.latest_week(result.filter)
        if monday is None:
            return
        selected = self.columns.subset(np.flatnonzero(trend_mask))
        result.trends = weekly_trends(selected, monday, baseline_weeks=baseline_weeks, districts=self.districts)
        result.trends.unfinished = monday + dt.timedelta(days=6) >= self.today
        end = day_number(monday) + 7
        split = end - 7 * baseline_weeks
        start = split - 7 * baseline_weeks
        day = np.asarray(selected.day, dtype=np.int64)
        current = selected.subset((day >= split) & (day < end))
        previous = selected.subset((day >= start) & (day < split))
        emerging = emerging_hotspots(current.placed(), previous.placed(), cell_size=cell_size, extent=self.hotspot_extent)
        result.emerging = emerging
        cells = emerging.cells_wkt()
        if cells:
            rows = np.array([c["row"] for c in cells])
            cols = np.array([c["col"] for c in cells])
            xs, ys = emerging.grid.centre(rows, cols)
            nearest = nearest_district_index(np.asarray(xs, float), np.asarray(ys, float), self.districts)
            for cell, x, y, k in zip(cells, xs, ys, nearest):
                cell["x"], cell["y"] = float(x), float(y)
                cell["district"] = self.districts[int(k)].name if k >= 0 else ""
                cell["polygon"] = emerging.grid.polygon(int(cell["row"]), int(cell["col"]))
        # Strongest change first: emerging by rise, then fading by fall.
        cells.sort(key=lambda c: (-int(c["trend"]), -abs(int(c["current"]) - int(c["previous"])), float(c["p"])))
        result.emerging_cells = cells

    def density(self, mask: np.ndarray, index: np.ndarray, spec: DensitySpec) -> DensityGrid:
        """Heat map of the selected events. The KDE is linear in the points, so a selection of
        more than half of the events is computed as (all events) − (the rest), with the
        all-events grid cached per spec: no filter change bins more than half a million points."""
        def grid(points: np.ndarray) -> DensityGrid:
            return density_grid(self.columns.x[points], self.columns.y[points], extent=spec.extent,
                                pixel_size=spec.pixel_size, radius=spec.radius, kernel=spec.kernel)

        placed = self.columns.precision < AREA_PRECISION_CODE  # area events never enter the heat map
        mask = mask & placed
        index = np.flatnonzero(mask)
        n = int(placed.sum())
        if index.size * 2 <= n:
            return grid(index)
        full = self._full_density.get(spec)
        if full is None:
            full = grid(np.flatnonzero(placed))
            self._full_density = {spec: full}
        if index.size == n:
            return full
        rest = grid(np.flatnonzero(placed & ~mask))
        values = full.values - rest.values
        np.maximum(values, 0.0, out=values)  # FFT round-off must not give negative density
        return DensityGrid(values, full.x_min, full.y_max, full.pixel_size)

    def selected(self, result: CompilationResult, *, placed_only: bool = False) -> EventColumns:
        """The selected events' columns (exports: all; the points layer: *placed_only*, no area events)."""
        index = result.index if result.index is not None else np.zeros(0, np.int64)
        selected = self.columns.subset(index)
        return selected.placed() if placed_only else selected


# --------------------------------------------------------------------------- grid counts
def grid_counts(x: np.ndarray, y: np.ndarray, extent: Sequence[float], cell: float) -> np.ndarray:
    """Events per square cell, rows from the south (``floor((coord − origin) / cell)``):
    the numpy twin of :func:`postgis_grid_counts`, with the same arithmetic."""
    xmin, ymin, xmax, ymax = (float(v) for v in extent)
    cols = max(int(math.ceil((xmax - xmin) / cell - 1e-9)), 1)
    rows = max(int(math.ceil((ymax - ymin) / cell - 1e-9)), 1)
    c = np.floor((np.asarray(x) - xmin) / cell).astype(np.int64)
    r = np.floor((np.asarray(y) - ymin) / cell).astype(np.int64)
    inside = (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
    return np.bincount(r[inside] * cols + c[inside], minlength=rows * cols).reshape(rows, cols)
