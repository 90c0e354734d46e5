"""The weekly compilation engine: one filter in, counts, chart data and heat map out.

Why an engine: the map, the counts and the charts must always show the same events, and a
filter change at a million events must feel instant. So the approved events are loaded
once as numpy columns (:class:`EventColumns`), a :class:`CompilationFilter` becomes one
boolean mask, and every view is a ``bincount`` or an FFT over that mask — no per-feature
Python, no re-reading of the database. Work that does not depend on the filter (district
of each event, its ISO week, the binned pixel of each event) is computed once and cached.

On PostGIS the heat map can instead be aggregated in the database
(:func:`postgis_grid_counts`): the filter becomes a parametrised ``WHERE`` and only grid
counts travel to the client, never a million points.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .density import DensityGrid, density_grid
from .filters import CompilationFilter, nearest_district_index, weekday_hour_matrix
from .model import Category, EventColumns, Organisation, date_from_day, day_number
from .reference import District, districts
from .trends import events_per_week, iso_week_monday_day, week_label, week_monday

TREND_WEEKS = 26  # weeks shown in the weekly trend line
BASELINE_WEEKS = 4


# --------------------------------------------------------------------------- chart data
@dataclass
class ChartData:
    """Everything the charts draw for one selection of events (all plain numpy).

    ``weekly_average[k]`` is the mean of the ``BASELINE_WEEKS`` weeks *before* week k (NaN
    where fewer weeks are known), the same baseline as :func:`core.trends.weekly_trends`.
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


def rolling_baseline(counts: np.ndarray, weeks: int = BASELINE_WEEKS) -> np.ndarray:
    """Mean of the *weeks* values before each position; NaN until enough history exists."""
    counts = np.asarray(counts, dtype=np.float64)
    out = np.full(counts.shape, np.nan)
    if counts.size > weeks:
        cum = np.concatenate([[0.0], np.cumsum(counts)])
        out[weeks:] = (cum[weeks:-1] - cum[: -weeks - 1]) / weeks
    return out


def weekly_window(columns: EventColumns, week: Optional[str], weeks: int = TREND_WEEKS) -> Tuple[dt.date, dt.date]:
    """(first, last) Monday of the trend line: *weeks* weeks ending with *week* (or the data's last week)."""
    if week:
        last = week_monday(week)
    elif len(columns):
        last = date_from_day(int(iso_week_monday_day(columns.day.max())))
    else:
        last = week_monday(dt.date.today())
    first = last - dt.timedelta(days=7 * (weeks - 1 + BASELINE_WEEKS))
    return first, last


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
