"""What the weekly compilation looks at: a filter over events, as vectorised numpy masks.

One filter object drives the map, the charts and the report, is saved in the QGIS project
(by name) and describes itself in one readable sentence for the meeting.

Time-of-day rules (shown to users via ``tr("compilation.aoristic.method")``):

* An event with a time span (``minute_to`` ≠ ``minute_from``) is spread *aoristically*:
  each hour gets the share of the span that falls in it (a 3-hour span counts 1/3 in each
  hour). A span whose end is earlier than its start runs past midnight into the next day
  (and the next weekday).
* Events with an unknown time are left out of hour-of-day charts by default (spreading
  them over 24 h would flatten real peaks); ``unknown="spread"`` spreads them evenly.
* The hour filter (e.g. 22–04, wrapping past midnight) keeps a span event when at least
  ``hour_min_share`` (default one half) of its span lies inside the window; a point in time
  when it lies inside; an event with unknown time never passes an hour filter.
* Weekday and date filters use the event's date (the start of its span).

Codes given by users (organisations, categories, districts) are data: they are looked up
in the known lists and an unknown code simply matches nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..domain.i18n import tr
from ..domain.model import EventColumns, day_number
from ..domain.reference import District
from ..domain.reference import districts as reference_districts

MINUTES_PER_DAY = 1440
PRESETS = ("last_week", "last_4_weeks", "this_week", "last_tertial", "custom")


# --------------------------------------------------------------------------- districts
# Districts come from ``domain.reference`` (one list for place search, demo data and filters).

def nearest_district_index(
    x: np.ndarray, y: np.ndarray, districts: Optional[Sequence[District]] = None, chunk: int = 262_144
) -> np.ndarray:
    """Index of the nearest district point per event (a Voronoi split of the city); -1 if none."""
    districts = reference_districts() if districts is None else districts
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out = np.full(x.shape[0], -1, dtype=np.int16)
    if not districts or x.size == 0:
        return out
    dx = np.array([d.x for d in districts])
    dy = np.array([d.y for d in districts])
    for start in range(0, x.size, chunk):
        part = slice(start, start + chunk)
        dist2 = (x[part, None] - dx[None, :]) ** 2 + (y[part, None] - dy[None, :]) ** 2
        out[part] = np.argmin(dist2, axis=1)
    return out


# --------------------------------------------------------------------------- time of day
def _span(columns: EventColumns) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start minute, span length in minutes (0 = point in time) and known-time mask."""
    start = columns.minute_from.astype(np.int64)
    end = columns.minute_to.astype(np.int64)
    known = start >= 0
    end = np.where(end < 0, start, end)
    length = np.where(known, (end - start) % MINUTES_PER_DAY, 0)
    return np.where(known, start, 0), length, known


def _spread_minutes(
    offset: np.ndarray, length: np.ndarray, weight: np.ndarray, period: int
) -> np.ndarray:
    """Per-minute weight over a cyclic *period*: each event spreads *weight* evenly over
    [offset, offset + length) (difference array + cumsum); points put it on one minute."""
    point = length == 0
    dens = np.zeros(period + 2 * MINUTES_PER_DAY + 1)
    if point.any():
        dens_point = np.bincount(offset[point], weight[point], minlength=period + 2 * MINUTES_PER_DAY)
    else:
        dens_point = np.zeros(period + 2 * MINUTES_PER_DAY)
    span = ~point
    if span.any():
        rate = weight[span] / length[span]
        dens += np.bincount(offset[span], rate, minlength=dens.size)
        dens -= np.bincount(offset[span] + length[span], rate, minlength=dens.size)
    per_minute = np.cumsum(dens)[:-1] + dens_point
    folded = per_minute[:period].copy()
    rest = per_minute[period:]
    for start in range(0, rest.size, period):
        piece = rest[start : start + period]
        folded[: piece.size] += piece
    return folded


def hour_totals(
    columns: EventColumns, weights: Optional[np.ndarray] = None, unknown: str = "exclude"
) -> np.ndarray:
    """Aoristic events per hour of day, shape (24,). See the module notes for the rules."""
    return weekday_hour_matrix(columns, weights, unknown).sum(axis=0)


def weekday_hour_matrix(
    columns: EventColumns, weights: Optional[np.ndarray] = None, unknown: str = "exclude"
) -> np.ndarray:
    """Aoristic events per weekday (rows, Monday first) and hour (columns), shape (7, 24).

    A span past midnight continues on the next weekday (Sunday → Monday). With
    ``unknown="spread"`` an event of unknown time counts 1/24 in each hour of its weekday.
    """
    if unknown not in ("exclude", "spread"):
        raise ValueError("unknown must be 'exclude' or 'spread'")
    n = len(columns)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if n == 0:
        return np.zeros((7, 24))
    start, length, known = _span(columns)
    weekday = columns.weekday.astype(np.int64)
    offset = weekday * MINUTES_PER_DAY + start
    if unknown == "spread":
        offset = np.where(known, offset, weekday * MINUTES_PER_DAY)
        length = np.where(known, length, MINUTES_PER_DAY)
        use = np.ones(n, dtype=bool)
    else:
        use = known
    minutes = _spread_minutes(offset[use], length[use], w[use], 7 * MINUTES_PER_DAY)
    return minutes.reshape(7, 24, 60).sum(axis=2)


def hour_weights(columns: EventColumns, unknown: str = "exclude") -> np.ndarray:
    """Per-event aoristic shares per hour, shape (n, 24); rows sum to 1 (0 for excluded
    unknown times). Memory is n × 24 floats: for charts prefer :func:`hour_totals`."""
    n = len(columns)
    out = np.zeros((n, 24))
    if n == 0:
        return out
    start, length, known = _span(columns)
    hours = np.arange(48) * 60
    end = start + length
    overlap = np.minimum(end[:, None], hours[None, :] + 60) - np.maximum(start[:, None], hours[None, :])
    np.clip(overlap, 0, None, out=overlap)
    spans = length > 0
    out[spans] = (overlap[spans, :24] + overlap[spans, 24:]) / length[spans, None]
    points = known & ~spans
    out[np.flatnonzero(points), start[points] // 60] = 1.0
    if unknown == "spread":
        out[~known] = 1.0 / 24.0
    else:
        out[~known] = 0.0
    return out


def _window_minutes(hour_start: int, hour_end: int) -> np.ndarray:
    """Boolean per minute of the day: inside [start, end) hours, wrapping past midnight."""
    minute = np.arange(MINUTES_PER_DAY)
    lo, hi = hour_start * 60, hour_end * 60
    if lo == hi % MINUTES_PER_DAY and hour_end != hour_start:
        return np.ones(MINUTES_PER_DAY, dtype=bool)
    if lo < hi:
        return (minute >= lo) & (minute < hi)
    return (minute >= lo) | (minute < hi)


def hour_window_share(columns: EventColumns, hour_start: int, hour_end: int) -> np.ndarray:
    """Share of each event's span inside the hour window (0…1); points 0 or 1; unknown → 0."""
    start, length, known = _span(columns)
    inside = _window_minutes(hour_start, hour_end)
    cum = np.concatenate([[0], np.cumsum(np.concatenate([inside, inside]))])
    share = np.where(length > 0, (cum[start + length] - cum[start]) / np.maximum(length, 1), inside[start])
    return np.where(known, share, 0.0)


# --------------------------------------------------------------------------- presets
def iso_week_monday(date: dt.date) -> dt.date:
    return date - dt.timedelta(days=date.weekday())


def default_filter(today: dt.date) -> CompilationFilter:
    """What the compilation opens on: the last four complete ISO weeks — not years of events,
    which at street scale are a solid wall of heat map, and never an unfinished week."""
    first, last = date_preset("last_4_weeks", today)
    return CompilationFilter(date_from=first, date_to=last, preset="last_4_weeks")


def with_current_dates(compilation_filter: CompilationFilter, today: dt.date) -> CompilationFilter:
    """A saved filter whose dates come from a preset ("last week" …), re-read for *today*."""
    if compilation_filter.preset in ("custom", ""):
        return compilation_filter
    first, last = date_preset(compilation_filter.preset, today)
    return replace(compilation_filter, date_from=first, date_to=last)


def date_preset(name: str, today: dt.date) -> Tuple[dt.date, dt.date]:
    """(first, last) day, inclusive, of a preset relative to *today*.

    last_week: the previous ISO week; last_4_weeks: the four complete ISO weeks before this
    one; this_week: Monday of this ISO week to its Sunday; last_tertial: the last complete
    tertial (Jan–Apr, May–Aug, Sep–Dec) before the one *today* is in.
    """
    monday = iso_week_monday(today)
    if name == "last_week":
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    if name == "last_4_weeks":
        return monday - dt.timedelta(days=28), monday - dt.timedelta(days=1)
    if name == "this_week":
        return monday, monday + dt.timedelta(days=6)
    if name == "last_tertial":
        index = (today.month - 1) // 4  # 0, 1, 2
        year = today.year
        index -= 1
        if index < 0:
            index, year = 2, year - 1
        first = dt.date(year, 4 * index + 1, 1)
        last = dt.date(year + 1, 1, 1) if index == 2 else dt.date(year, 4 * index + 5, 1)
        return first, last - dt.timedelta(days=1)
    raise ValueError(f"unknown date preset {name!r}; one of {PRESETS[:-1]}")


# --------------------------------------------------------------------------- the filter
def _codes(values: Any) -> List[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [str(v) for v in values]


@dataclass
class CompilationFilter:
    """A selection of events. Empty lists and ``None`` mean "no restriction"."""

    organisations: List[str] = field(default_factory=list)
    categories: List[str] = field(default_factory=list)
    weekdays: List[int] = field(default_factory=list)  # 0 = Monday … 6 = Sunday
    hour_start: Optional[int] = None  # 0–23; with hour_end, [start, end) hours; 22–4 wraps
    hour_end: Optional[int] = None  # 1–24
    date_from: Optional[dt.date] = None  # inclusive
    date_to: Optional[dt.date] = None  # inclusive
    place_wkt: Optional[str] = None  # polygon in the store CRS
    districts: List[str] = field(default_factory=list)
    preset: str = "custom"
    hour_min_share: float = 0.5

    def __post_init__(self) -> None:
        self.organisations = _codes(self.organisations)
        self.categories = _codes(self.categories)
        self.districts = _codes(self.districts)
        self.weekdays = sorted({int(d) for d in self.weekdays if 0 <= int(d) <= 6})
        if self.preset not in PRESETS:
            raise ValueError(f"unknown date preset {self.preset!r}")
        for name in ("hour_start", "hour_end"):
            value = getattr(self, name)
            if value is not None and not 0 <= int(value) <= 24:
                raise ValueError(f"{name} must be within 0–24")
        if (self.hour_start is None) != (self.hour_end is None):
            raise ValueError("give both hour_start and hour_end, or neither")

    # -- application -------------------------------------------------------------------
    def with_preset(self, preset: str, today: dt.date) -> CompilationFilter:
        """A copy with the dates of *preset* (relative to *today*) filled in."""
        data = self.to_dict()
        data["preset"] = preset
        if preset != "custom":
            first, last = date_preset(preset, today)
            data["date_from"], data["date_to"] = first.isoformat(), last.isoformat()
        return CompilationFilter.from_dict(data)

    def mask(
        self,
        columns: EventColumns,
        districts: Optional[Sequence[District]] = None,
        district_index: Optional[np.ndarray] = None,
    ) -> np.ndarray:
        """Boolean mask of the events passing every criterion (all vectorised).

        *district_index* (each event's nearest-district index into *districts*, as from
        :func:`nearest_district_index`) lets a caller that filters repeatedly compute the
        Voronoi assignment once instead of on every filter change.
        """
        n = len(columns)
        keep = np.ones(n, dtype=bool)
        if n == 0:
            return keep
        if self.organisations:
            keep &= _isin_codes(columns.organisation, columns.organisation_codes, self.organisations)
        if self.categories:
            keep &= _isin_codes(columns.category, columns.category_codes, self.categories)
        if self.weekdays:
            keep &= np.isin(columns.weekday, np.array(self.weekdays, dtype=np.int8))
        if self.date_from is not None:
            keep &= columns.day >= day_number(self.date_from)
        if self.date_to is not None:
            keep &= columns.day <= day_number(self.date_to)
        if self.hour_start is not None and self.hour_end is not None:
            index = np.flatnonzero(keep)
            share = hour_window_share(columns.subset(index), int(self.hour_start), int(self.hour_end))
            keep[index] = share >= self.hour_min_share - 1e-12
        if self.districts:
            known = reference_districts() if districts is None else tuple(districts)
            wanted = [i for i, d in enumerate(known) if d.code in set(self.districts)]
            index = np.flatnonzero(keep)
            if district_index is not None:
                nearest = np.asarray(district_index)[index]
            else:
                nearest = nearest_district_index(columns.x[index], columns.y[index], known)
            keep[index] = np.isin(nearest, wanted) if wanted else False
        if self.place_wkt:
            index = np.flatnonzero(keep)
            keep[index] = points_in_polygon(columns.x[index], columns.y[index], self.place_wkt)
        return keep

    # -- persistence ---------------------------------------------------------------------
    def to_dict(self) -> Dict[str, Any]:
        """Plain JSON-serialisable form (for the QGIS project and named filters)."""
        return {
            "organisations": list(self.organisations),
            "categories": list(self.categories),
            "weekdays": list(self.weekdays),
            "hour_start": self.hour_start,
            "hour_end": self.hour_end,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "place_wkt": self.place_wkt,
            "districts": list(self.districts),
            "preset": self.preset,
            "hour_min_share": self.hour_min_share,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompilationFilter:
        """Inverse of :meth:`to_dict`; unknown keys are ignored, types are checked."""

        def date_or_none(value: Any) -> Optional[dt.date]:
            return dt.date.fromisoformat(str(value)) if value else None

        def int_or_none(value: Any) -> Optional[int]:
            return None if value is None or value == "" else int(value)

        if not isinstance(data, Mapping):
            raise TypeError("a saved filter is a JSON object")
        wkt = data.get("place_wkt")
        weekdays = [int(d) for d in data.get("weekdays") or []]
        hours = [int_or_none(data.get(key)) for key in ("hour_start", "hour_end")]
        share = float(data.get("hour_min_share", 0.5))
        if any(h is not None and not 0 <= h <= 24 for h in hours) or not 0.0 <= share <= 1.0 \
                or (wkt is not None and not isinstance(wkt, str)):
            raise ValueError("a saved filter value is out of range")
        return cls(
            organisations=_codes(data.get("organisations")),
            categories=_codes(data.get("categories")),
            weekdays=weekdays,
            hour_start=hours[0],
            hour_end=hours[1],
            date_from=date_or_none(data.get("date_from")),
            date_to=date_or_none(data.get("date_to")),
            place_wkt=str(wkt) if wkt else None,
            districts=_codes(data.get("districts")),
            preset=str(data.get("preset") or "custom"),
            hour_min_share=share,
        )

    # -- description -------------------------------------------------------------------
    def describe(
        self,
        lang: Optional[str] = None,
        categories: Optional[Mapping[str, str]] = None,
        organisations: Optional[Mapping[str, str]] = None,
        districts: Optional[Mapping[str, str]] = None,
    ) -> str:
        """One sentence for the meeting, e.g. "Vandalism, Fri–Sun 22–04, Söder, weeks 44–47".

        The mappings give code → label in *lang*; unknown codes are shown as given.
        """
        parts: List[str] = []
        if self.categories:
            names = [(categories or {}).get(c, c) for c in self.categories]
            parts.append(_join(names, lang))
        else:
            parts.append(tr("compilation.filter.all_categories", lang))
        if self.organisations:
            names = [(organisations or {}).get(c, c) for c in self.organisations]
            parts.append(tr("compilation.filter.reported_by", lang, names=_join(names, lang)))
        time_part = " ".join(p for p in (self._describe_weekdays(lang), self._describe_hours()) if p)
        if time_part:
            parts.append(time_part)
        if self.districts:
            district_names = (
                districts if districts is not None else {d.code: d.name for d in reference_districts()}
            )
            parts.append(_join([district_names.get(c, c) for c in self.districts], lang))
        if self.place_wkt:
            parts.append(tr("compilation.filter.in_area", lang))
        dates = self._describe_dates(lang)
        if dates:
            parts.append(dates)
        return ", ".join(parts)

    def _describe_weekdays(self, lang: Optional[str]) -> str:
        days = self.weekdays
        if not days or len(days) == 7:
            return ""
        names = tr("compilation.weekdays.short", lang).split(",")
        run = _cyclic_run(days)
        if run is not None and len(days) >= 3:
            return f"{names[run[0]]}–{names[run[1]]}"
        return ", ".join(names[d] for d in days)

    def _describe_hours(self) -> str:
        if self.hour_start is None or self.hour_end is None:
            return ""
        return f"{int(self.hour_start):02d}–{int(self.hour_end) % 24:02d}"

    def _describe_dates(self, lang: Optional[str]) -> str:
        first, last = self.date_from, self.date_to
        if first is None and last is None:
            return ""
        if first is None or last is None:
            key = "compilation.filter.from_date" if last is None else "compilation.filter.to_date"
            return tr(key, lang, date=(first or last).isoformat())  # type: ignore[union-attr]
        whole_weeks = first.weekday() == 0 and last.weekday() == 6 and last >= first
        if whole_weeks:
            y1, w1, _ = first.isocalendar()
            y2, w2, _ = last.isocalendar()
            if (y1, w1) == (y2, w2):
                return tr("compilation.filter.week", lang, week=w1)
            if y1 == y2:
                return tr("compilation.filter.weeks", lang, first=w1, last=w2)
            return tr("compilation.filter.weeks", lang, first=f"{w1}/{y1}", last=f"{w2}/{y2}")
        return tr("compilation.filter.dates", lang, first=first.isoformat(), last=last.isoformat())


def _cyclic_run(days: Sequence[int]) -> Optional[Tuple[int, int]]:
    """(first, last) if *days* form one contiguous run on the weekly cycle (Fri–Mon too)."""
    present = set(days)
    for begin in days:
        if (begin - 1) % 7 not in present:
            run = [begin]
            while (run[-1] + 1) % 7 in present and len(run) < len(present):
                run.append((run[-1] + 1) % 7)
            return (begin, run[-1]) if len(run) == len(present) else None
    return None


def _join(names: Sequence[str], lang: Optional[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {tr('compilation.filter.and', lang)} {names[-1]}"


def _isin_codes(index_column: np.ndarray, known_codes: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    """Events whose code is in *wanted*; codes not in *known_codes* match nothing."""
    wanted_set = set(wanted)
    indexes = [i for i, code in enumerate(known_codes) if code in wanted_set]
    if not indexes:
        return np.zeros(index_column.shape[0], dtype=bool)
    lookup = np.zeros(max(len(known_codes), 1), dtype=bool)
    lookup[indexes] = True
    valid = (index_column >= 0) & (index_column < lookup.size)
    return valid & lookup[np.clip(index_column, 0, lookup.size - 1)]


# --------------------------------------------------------------------------- polygons
def polygon_rings(wkt: str) -> List[np.ndarray]:
    """All rings (outer and holes) of a (multi)polygon WKT as (k, 2) arrays."""
    from qgis.core import QgsGeometry

    geometry = QgsGeometry.fromWkt(str(wkt))
    if geometry.isNull() or geometry.isEmpty():
        raise ValueError("the place is not a valid polygon WKT")
    polygons = geometry.asMultiPolygon() if geometry.isMultipart() else [geometry.asPolygon()]
    rings = [
        np.array([(p.x(), p.y()) for p in ring]) for polygon in polygons for ring in polygon if len(ring) >= 3
    ]
    if not rings:
        raise ValueError("the place is not a polygon")
    return rings


def points_in_polygon(x: np.ndarray, y: np.ndarray, wkt: str) -> np.ndarray:
    """Even–odd ray casting over all rings, vectorised over the points inside the bbox.

    Holes and multipolygon parts come out right with the even–odd rule. Points exactly on
    an edge may fall either way (as with any ray casting).
    """
    rings = polygon_rings(wkt)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    inside = np.zeros(x.shape[0], dtype=bool)
    allpts = np.vstack(rings)
    xmin, ymin = allpts.min(axis=0)
    xmax, ymax = allpts.max(axis=0)
    candidates = np.flatnonzero((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
    if candidates.size == 0:
        return inside
    px = x[candidates]
    py = y[candidates]
    odd = np.zeros(candidates.size, dtype=bool)
    for ring in rings:
        x1, y1 = ring[:, 0], ring[:, 1]
        x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
        for ax, ay, bx, by in zip(x1, y1, x2, y2):
            if ay == by:
                continue
            crosses = (ay > py) != (by > py)
            if not crosses.any():
                continue
            hit = np.flatnonzero(crosses)
            xcross = ax + (py[hit] - ay) * (bx - ax) / (by - ay)
            odd[hit[px[hit] < xcross]] ^= True
    inside[candidates] = odd
    return inside

