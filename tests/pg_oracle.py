"""A test oracle: the compilation filter as SQL over the PostGIS compilation view, and aggregates from it.

The plugin computes in memory (``analysis.compilation``); these compute the same numbers in the
database — the filter's WHERE, grid counts, chart data and a heat map from grid counts — written
independently, so a test that finds both equal shows the filter has one meaning.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from est_weekly_plugin.analysis.compilation import (
    BASELINE_WEEKS,
    TREND_WEEKS,
    ChartData,
    DensitySpec,
    _range_mondays,
    rolling_baseline,
)
from est_weekly_plugin.analysis.density import DensityGrid, density_grid
from est_weekly_plugin.analysis.filters import MINUTES_PER_DAY, CompilationFilter, polygon_rings, weekday_hour_matrix
from est_weekly_plugin.analysis.trends import iso_week_monday_day, week_label, week_monday
from est_weekly_plugin.domain.model import EventColumns, date_from_day, day_number
from est_weekly_plugin.domain.reference import District, districts

_MINUTE_FROM = "(extract(hour FROM e.time_from)::int * 60 + extract(minute FROM e.time_from)::int)"
_MINUTE_TO = "(extract(hour FROM coalesce(e.time_to, e.time_from))::int * 60 " \
             "+ extract(minute FROM coalesce(e.time_to, e.time_from))::int)"


def _hour_window_sql(hour_start: int, hour_end: int, min_share: float) -> Tuple[str, List[Any]]:
    """SQL for "at least *min_share* of the event's span lies in [start, end) hours" with the
    rules of :func:`analysis.filters.hour_window_share` (minute overlaps on a two-day line)."""
    lo, hi = hour_start * 60, hour_end * 60
    if lo == hi % MINUTES_PER_DAY and hour_end != hour_start:
        return "e.time_from IS NOT NULL", []
    if lo < hi:
        windows = [(lo, hi), (lo + MINUTES_PER_DAY, hi + MINUTES_PER_DAY)]
        point = f"({_MINUTE_FROM} >= {lo} AND {_MINUTE_FROM} < {hi})"
    else:
        windows = [(0, hi), (lo, hi + MINUTES_PER_DAY), (lo + MINUTES_PER_DAY, 2 * MINUTES_PER_DAY)]
        point = f"({_MINUTE_FROM} >= {lo} OR {_MINUTE_FROM} < {hi})"
    length = f"(({_MINUTE_TO} - {_MINUTE_FROM} + {MINUTES_PER_DAY}) % {MINUTES_PER_DAY})"
    end = f"({_MINUTE_FROM} + {length})"
    overlap = " + ".join(f"GREATEST(0, LEAST({end}, {b}) - GREATEST({_MINUTE_FROM}, {a}))" for a, b in windows)
    sql = (f"(e.time_from IS NOT NULL AND CASE WHEN {length} = 0 THEN {point} "
           f"ELSE ({overlap})::float8 >= ?::float8 * {length} END)")
    return sql, [float(min_share) - 1e-12]


def _sendable(codes: Sequence[str]) -> List[str]:
    """Codes PostgreSQL can receive: one with a NUL cannot name a stored code (they are validated
    on write), so it matches nothing — as in the numpy mask — and is not sent."""
    return [code for code in codes if "\x00" not in code]


def postgis_where(compilation_filter: CompilationFilter, store: Any,
                  district_list: Optional[Sequence[District]] = None) -> Tuple[str, List[Any]]:
    """The filter as a parametrised WHERE over ``est.events e`` (approved events only).

    Same rules as :meth:`CompilationFilter.mask`: weekday from the date, the aoristic hour
    share, nearest district point (ties to the first district, as ``argmin``), even–odd
    polygon test (``ST_Contains``; points exactly on an edge may differ, as documented).
    """
    f = compilation_filter
    where = ["e.status = 'approved'"]
    params: List[Any] = []
    if f.organisations:
        where.append("e.organisation = ANY(?)")
        params.append(_sendable(f.organisations))
    if f.categories:
        where.append("e.category = ANY(?)")
        params.append(_sendable(f.categories))
    if f.weekdays:
        where.append("(extract(isodow FROM e.event_date)::int - 1) = ANY(?)")
        params.append([int(d) for d in f.weekdays])
    if f.date_from is not None:
        where.append("e.event_date >= ?")
        params.append(f.date_from)
    if f.date_to is not None:
        where.append("e.event_date <= ?")
        params.append(f.date_to)
    if f.hour_start is not None and f.hour_end is not None:
        sql, extra = _hour_window_sql(int(f.hour_start), int(f.hour_end), f.hour_min_share)
        where.append(sql)
        params.extend(extra)
    if f.districts:
        known = tuple(districts() if district_list is None else district_list)
        wanted = [i for i, d in enumerate(known) if d.code in set(f.districts)]
        if not wanted:
            where.append("FALSE")
        else:
            values = ", ".join(f"({i}, {float(d.x)!r}::float8, {float(d.y)!r}::float8)" for i, d in enumerate(known))
            where.append(
                f"(SELECT d.i FROM (VALUES {values}) AS d(i, x, y) ORDER BY "
                "(ST_X(e.geom) - d.x) * (ST_X(e.geom) - d.x) + (ST_Y(e.geom) - d.y) * (ST_Y(e.geom) - d.y), d.i "
                "LIMIT 1) = ANY(?)"
            )
            params.append(wanted)
    if f.place_wkt:
        polygon_rings(f.place_wkt)  # raises on anything that is not a polygon
        where.append("ST_Contains(ST_GeomFromText(?, ?), e.geom)")
        params.extend([f.place_wkt, int(store.settings.epsg)])
    return " AND ".join(where), params


def postgis_grid_counts(store: Any, compilation_filter: CompilationFilter, extent: Sequence[float],
                        cell: float) -> np.ndarray:
    """Events per grid cell counted in PostGIS (only the counts travel): same layout and
    arithmetic as :func:`grid_counts`."""
    xmin, ymin, xmax, ymax = (float(v) for v in extent)
    cols = max(int(math.ceil((xmax - xmin) / cell - 1e-9)), 1)
    rows = max(int(math.ceil((ymax - ymin) / cell - 1e-9)), 1)
    where, params = postgis_where(compilation_filter, store)
    sql = (
        "SELECT floor((ST_X(e.geom) - ?) / ?)::int AS c, floor((ST_Y(e.geom) - ?) / ?)::int AS r, count(*) "
        f"FROM {store._table('approved_events')} e WHERE {where} "
        "AND e.location_precision IN ('point', 'street') "  # area events: counted, never in the heat map
        "AND e.geom && ST_MakeEnvelope(?, ?, ?, ?, ?) GROUP BY 1, 2"
    )
    rows_out = store._query(sql, [xmin, float(cell), ymin, float(cell), *params, xmin, ymin, xmax, ymax,
                                  int(store.settings.epsg)])
    counts = np.zeros((rows, cols), dtype=np.int64)
    if rows_out:
        data = np.array(rows_out, dtype=np.int64)
        inside = (data[:, 0] >= 0) & (data[:, 0] < cols) & (data[:, 1] >= 0) & (data[:, 1] < rows)
        np.add.at(counts, (data[inside, 1], data[inside, 0]), data[inside, 2])
    return counts


def postgis_chart_data(store: Any, compilation_filter: CompilationFilter, category_codes: Sequence[str],
                       organisation_codes: Sequence[str], *, week: Optional[str] = None,
                       last_day: Optional[int] = None, first_day: Optional[int] = None) -> ChartData:
    """Chart data aggregated in PostGIS with one GROUPING SETS query; the aoristic matrix is
    spread on the client over the (weekday, start, end) profiles the database grouped.

    With a date filter the trend is the engine's: the chosen weeks plus the 4 before them,
    counted by a second query with the same filter without its dates."""
    where, params = postgis_where(compilation_filter, store)
    sql = (
        "SELECT GROUPING(e.category, e.organisation, wd, wk, mf, mt) AS g, e.category, e.organisation, wd, wk, "
        "mf, mt, count(*) FROM ("
        f"SELECT e.category, e.organisation, (extract(isodow FROM e.event_date)::int - 1) AS wd, "
        f"(e.event_date - date '1970-01-01') - ((e.event_date - date '1970-01-01') + 3) % 7 AS wk, "
        f"CASE WHEN e.time_from IS NULL THEN -1 ELSE {_MINUTE_FROM} END AS mf, "
        f"CASE WHEN e.time_from IS NULL THEN -1 ELSE {_MINUTE_TO} END AS mt "
        f"FROM {store._table('approved_events')} e WHERE {where}) e "
        "GROUP BY GROUPING SETS ((e.category), (e.organisation), (wk), (wd, mf, mt))"
    )
    rows = store._query(sql, params)
    cat_index = {c: i for i, c in enumerate(category_codes)}
    org_index = {o: i for i, o in enumerate(organisation_codes)}
    cat = np.zeros(len(category_codes), np.int64)
    org = np.zeros(len(organisation_codes), np.int64)
    weekday = np.zeros(7, np.int64)
    weeks: Dict[int, int] = {}
    profiles: List[Tuple[int, int, int, int]] = []
    for _g, category, organisation, wd, wk, mf, mt, count in rows:
        if category is not None and category in cat_index:
            cat[cat_index[category]] += count
        elif organisation is not None and organisation in org_index:
            org[org_index[organisation]] += count
        elif wk is not None:
            weeks[int(wk)] = weeks.get(int(wk), 0) + int(count)
        elif wd is not None:
            profiles.append((int(wd), int(mf), int(mt), int(count)))
            weekday[int(wd)] += count
    table = np.array(profiles, dtype=np.int64).reshape(-1, 4)
    n = table.shape[0]
    profile_columns = EventColumns(
        fid=np.zeros(n, np.int64), x=np.zeros(n), y=np.zeros(n), category=np.zeros(n, np.int16),
        organisation=np.zeros(n, np.int16), day=np.zeros(n, np.int32), weekday=table[:, 0].astype(np.int8),
        minute_from=table[:, 1].astype(np.int16), minute_to=table[:, 2].astype(np.int16),
        category_codes=list(category_codes), organisation_codes=list(organisation_codes),
    )
    matrix = weekday_hour_matrix(profile_columns, table[:, 3].astype(np.float64))
    unknown = int(table[table[:, 1] < 0, 3].sum())
    f = compilation_filter
    lead = 0
    if f.date_from is not None or f.date_to is not None:
        undated = CompilationFilter.from_dict({**f.to_dict(), "date_from": None, "date_to": None})
        undated_where, undated_params = postgis_where(undated, store)
        weeks = {int(wk): int(count) for wk, count in store._query(
            "SELECT (e.event_date - date '1970-01-01') - ((e.event_date - date '1970-01-01') + 3) % 7, count(*) "
            f"FROM {store._table('approved_events')} e WHERE {undated_where} GROUP BY 1", undated_params)}
        shown_first, last = _range_mondays(f.date_from, f.date_to, first_day, last_day)
        first = shown_first - dt.timedelta(days=7 * BASELINE_WEEKS)
        lead = BASELINE_WEEKS
    else:
        if week:
            last = week_monday(week)
        elif last_day is not None:
            last = date_from_day(int(iso_week_monday_day(np.array([last_day]))[0]))
        else:
            last = date_from_day(max(weeks)) if weeks else week_monday(dt.date.today())
        first = last - dt.timedelta(days=7 * (TREND_WEEKS - 1 + BASELINE_WEEKS))
    start = day_number(first)
    length = (day_number(last) - start) // 7 + 1
    window = np.array([weeks.get(start + 7 * k, 0) for k in range(length)], dtype=np.float64)
    labels = [week_label(first + dt.timedelta(days=7 * k)) for k in range(window.size)]
    return ChartData(
        category_codes=list(category_codes), category_counts=cat, organisation_codes=list(organisation_codes),
        organisation_counts=org, weekday_counts=weekday, weekday_hour=matrix, unknown_time=unknown,
        week_labels=labels[BASELINE_WEEKS:], week_counts=window[BASELINE_WEEKS:],
        weekly_average=rolling_baseline(window)[BASELINE_WEEKS:], total=int(cat.sum()), lead_weeks=lead,
    )


def postgis_density(store: Any, compilation_filter: CompilationFilter, spec: DensitySpec) -> DensityGrid:
    """Heat map from database grid counts: counts per pixel-sized cell (grown by the radius so
    events just outside the view still warm its edge) become weighted points at cell centres."""
    xmin, ymin, xmax, ymax = spec.extent
    pad = spec.radius
    outer = (xmin - pad, ymin - pad, xmax + pad, ymax + pad)
    counts = postgis_grid_counts(store, compilation_filter, outer, spec.pixel_size)
    rows, cols = np.nonzero(counts)
    x = outer[0] + (cols + 0.5) * spec.pixel_size
    y = outer[1] + (rows + 0.5) * spec.pixel_size
    return density_grid(x, y, extent=spec.extent, pixel_size=spec.pixel_size, radius=spec.radius,
                        kernel=spec.kernel, weights=counts[rows, cols].astype(np.float64))

