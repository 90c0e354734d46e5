"""Hot-spot analysis on a regular grid: counts, Getis-Ord Gi*, and emerging/fading cells.

Why a grid and Gi*: a meeting needs "where is it unusually concentrated", not a pretty
blur. Gi* compares the events in a cell *and its neighbours* with the whole area and gives
a z-score with a known null distribution, so "hot at 95 %" means something.

Grids (``grid=``):

* ``"square"`` (default): cells of ``cell_size`` metres aligned to multiples of the cell
  size (so grids of different weeks line up); the neighbourhood is the queen window of
  ``rings`` rings ((2·rings + 1)² cells, self included).
* ``"hex"``: *pointy-top* hexagons whose centre-to-centre spacing (flat-to-flat width)
  is ``cell_size``; the neighbourhood is every cell within ``rings`` hex steps
  (7 cells for one ring, self included). Stored in axial coordinates (q, r).

Gi* uses binary weights over **every** cell of the grid extent, empty cells included (the
statistic needs the zeros). Two-sided p-values come from the normal distribution;
classes are hot/cold at 99 / 95 / 90 % after a false-discovery-rate correction for testing
every cell (Benjamini–Hochberg, as ArcGIS's Hot Spot Analysis offers): without it a city grid of
thousands of cells shows hundreds of "significant" cells in pure noise. Below ``MIN_EVENTS``
events nothing is tested at all (counts and density only) — stated in the UI and the PDF.
Contiguous hot cells are one hot-spot *area* (``analysis.hotspot_areas``).

Emerging/fading (``emerging_hotspots``): per cell the current count c and the previous
count b are compared with a conditional binomial test. If the cell's share of the events
did not change, then given m = c + b, c ~ Binomial(m, π) with π = C / (C + B) from the area
totals — so a city-wide rise does not make every cell "emerging". Two-sided exact p-value
(sum of outcomes no more likely than the observed one); cells with fewer than
``min_events`` events in both periods together are not tested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..domain.model import EventColumns
from ..domain.reference import District
from ..domain.reference import districts as reference_districts
from .filters import hour_totals

SQRT3 = math.sqrt(3.0)
CLASS_KEYS = {
    3: "hot99",
    2: "hot95",
    1: "hot90",
    0: "none",
    -1: "cold90",
    -2: "cold95",
    -3: "cold99",
}
HOUR_BANDS = ((0, 4), (4, 8), (8, 12), (12, 16), (16, 20), (20, 24))

_erfc = np.vectorize(math.erfc, otypes=[float])


def normal_cdf(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF via math.erfc (accurate in the tails, no scipy needed)."""
    z = np.asarray(z, dtype=np.float64)
    return 0.5 * _erfc(-z / math.sqrt(2.0))


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """P(|Z| ≥ |z|) for a standard normal Z."""
    z = np.asarray(z, dtype=np.float64)
    return _erfc(np.abs(z) / math.sqrt(2.0)) if z.size else np.zeros(z.shape)


MIN_EVENTS = 30  # fewer events in the study area: no significance is claimed
FDR = "fdr"  # Benjamini–Hochberg false-discovery-rate correction (the default)
NO_CORRECTION = "none"
_LEVELS = ((1, 0.10), (2, 0.05), (3, 0.01))


def significance_class(z: np.ndarray, p: np.ndarray, correction: str = FDR) -> np.ndarray:
    """+3/+2/+1 hot at 99/95/90 %, −1/−2/−3 cold, 0 not significant (int8), every cell of *p*
    one test; with FDR a cell is significant at a level when its p is at or below that level's
    Benjamini–Hochberg threshold."""
    p = np.asarray(p, dtype=np.float64)
    if correction == FDR:
        thresholds = [fdr_threshold(p.ravel(), alpha) for _, alpha in _LEVELS]
    elif correction == NO_CORRECTION:
        thresholds = [alpha - 1e-15 for _, alpha in _LEVELS]
    else:
        raise ValueError(f"unknown correction {correction!r}")
    level = np.zeros(p.shape, dtype=np.int8)
    for (code, _), threshold in zip(_LEVELS, thresholds):
        level[p <= threshold] = code
    return (np.sign(z) * level).astype(np.int8)


def fdr_threshold(p: np.ndarray, alpha: float) -> float:
    """The largest p-value p_(k) with p_(k) ≤ k/m · alpha (−1 when none): every p at or below it
    is significant with the false discovery rate held at *alpha* (Benjamini & Hochberg 1995)."""
    ordered = np.sort(np.asarray(p, dtype=np.float64).ravel())
    if not ordered.size:
        return -1.0
    passing = np.nonzero(ordered <= alpha * np.arange(1, ordered.size + 1) / ordered.size)[0]
    return float(ordered[passing[-1]]) if passing.size else -1.0


# --------------------------------------------------------------------------- grid
@dataclass(frozen=True)
class Grid:
    """A square or pointy-top hexagon grid; arrays are indexed [row, col].

    Square: row/col count from the south-west cell at (x0, y0). Hex: row = r − r0 and
    col = q − q0 in axial coordinates with centre (x, y) = (s·(q + r/2), s·√3/2·r).
    ``valid`` marks the cells that belong to the extent (all of them for squares).
    """

    kind: str
    cell_size: float
    origin_a: int  # square: column of x0 / cell_size; hex: q0
    origin_b: int  # square: row of y0 / cell_size; hex: r0
    rows: int
    cols: int
    valid: np.ndarray

    @property
    def shape(self) -> Tuple[int, int]:
        return (self.rows, self.cols)

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, col, inside) of the cell holding each point."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        s = self.cell_size
        if self.kind == "square":
            col = np.floor(x / s).astype(np.int64) - self.origin_a
            row = np.floor(y / s).astype(np.int64) - self.origin_b
        else:
            q, r = _hex_round(x, y, s)
            col = q - self.origin_a
            row = r - self.origin_b
        inside = (row >= 0) & (row < self.rows) & (col >= 0) & (col < self.cols)
        if inside.any() and self.kind == "hex":
            inside[inside] = self.valid[row[inside], col[inside]]
        return row, col, inside

    def centre(self, row: np.ndarray, col: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        s = self.cell_size
        row = np.asarray(row)
        col = np.asarray(col)
        if self.kind == "square":
            return (col + self.origin_a + 0.5) * s, (row + self.origin_b + 0.5) * s
        q = col + self.origin_a
        r = row + self.origin_b
        return s * (q + r / 2.0), s * SQRT3 / 2.0 * r

    def polygon(self, row: int, col: int) -> List[Tuple[float, float]]:
        """Closed ring of the cell (counter-clockwise)."""
        cx, cy = (float(v) for v in self.centre(np.array(row), np.array(col)))
        h = self.cell_size / 2.0
        if self.kind == "square":
            ring = [(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
        else:
            radius = self.cell_size / SQRT3  # circumradius of a pointy-top hexagon
            ring = [
                (cx + radius * math.cos(math.radians(30 + 60 * k)), cy + radius * math.sin(math.radians(30 + 60 * k)))
                for k in range(6)
            ]
        return ring + [ring[0]]

    def wkt(self, row: int, col: int) -> str:
        return "POLYGON((" + ", ".join(f"{x:.3f} {y:.3f}" for x, y in self.polygon(row, col)) + "))"

    def stencil(self, rings: int) -> List[Tuple[int, int]]:
        """(d_row, d_col) offsets of the neighbourhood, self included."""
        offsets = []
        for dr in range(-rings, rings + 1):
            for dc in range(-rings, rings + 1):
                if self.kind == "hex" and abs(dr + dc) > rings:
                    continue
                offsets.append((dr, dc))
        return offsets

    def cell_area(self) -> float:
        return self.cell_size**2 * (1.0 if self.kind == "square" else SQRT3 / 2.0)


def _hex_round(x: np.ndarray, y: np.ndarray, s: float) -> Tuple[np.ndarray, np.ndarray]:
    """Axial (q, r) of the pointy-top hexagon containing each point (cube rounding)."""
    r_f = y / (s * SQRT3 / 2.0)
    q_f = x / s - r_f / 2.0
    z_f = -q_f - r_f
    q = np.round(q_f)
    r = np.round(r_f)
    z = np.round(z_f)
    dq = np.abs(q - q_f)
    dr = np.abs(r - r_f)
    dz = np.abs(z - z_f)
    fix_q = (dq > dr) & (dq > dz)
    fix_r = ~fix_q & (dr > dz)
    q = np.where(fix_q, -r - z, q)
    r = np.where(fix_r, -q - z, r)
    return q.astype(np.int64), r.astype(np.int64)


def make_grid(
    extent: Sequence[float], cell_size: float = 100.0, kind: str = "square"
) -> Grid:
    """Grid covering *extent* (xmin, ymin, xmax, ymax), aligned to multiples of the cell size."""
    if kind not in ("square", "hex"):
        raise ValueError("grid must be 'square' or 'hex'")
    if cell_size <= 0:
        raise ValueError("cell_size must be positive")
    xmin, ymin, xmax, ymax = (float(v) for v in extent)
    s = float(cell_size)
    if kind == "square":
        # Cells cover [xmin, xmax) × [ymin, ymax): no empty extra row when xmax is a multiple.
        c0, r0 = math.floor(xmin / s), math.floor(ymin / s)
        cols = max(math.ceil(xmax / s) - c0, 1)
        rows = max(math.ceil(ymax / s) - r0, 1)
        return Grid(kind, s, c0, r0, rows, cols, np.ones((rows, cols), dtype=bool))
    # Hex: rows of centres every s·√3/2; a cell belongs if its centre lies in the extent
    # grown by half a cell (so every point of the extent is in some valid cell).
    dy = s * SQRT3 / 2.0
    r0 = math.floor(ymin / dy) - 1
    r1 = math.ceil(ymax / dy) + 1
    q0 = math.floor(xmin / s - r1 / 2.0) - 1
    q1 = math.ceil(xmax / s - r0 / 2.0) + 1
    rows, cols = r1 - r0 + 1, q1 - q0 + 1
    rr, qq = np.mgrid[r0 : r1 + 1, q0 : q1 + 1]
    cx = s * (qq + rr / 2.0)
    cy = dy * rr
    pad = s
    valid = (cx >= xmin - pad / 2) & (cx <= xmax + pad / 2) & (cy >= ymin - pad / 2) & (cy <= ymax + pad / 2)
    return Grid(kind, s, q0, r0, rows, cols, valid)


def neighbour_sum(values: np.ndarray, grid: Grid, rings: int) -> np.ndarray:
    """Σ over each cell's neighbourhood (self included), only valid cells, by shifted adds."""
    pad = rings
    padded = np.zeros((grid.rows + 2 * pad, grid.cols + 2 * pad))
    padded[pad:-pad or None, pad:-pad or None] = np.where(grid.valid, values, 0.0)
    out = np.zeros(grid.shape)
    for dr, dc in grid.stencil(rings):
        out += padded[pad + dr : pad + dr + grid.rows, pad + dc : pad + dc + grid.cols]
    return out


# --------------------------------------------------------------------------- Gi*
@dataclass
class HotSpot:
    rank: int
    x: float
    y: float
    polygon: List[Tuple[float, float]]
    count: int  # events in the cell
    window_count: int  # events in the cell and its neighbours (what Gi* tests)
    z: float
    p: float
    significance: int
    categories: List[Tuple[str, int]]  # top 3 (code, events) in the window
    weekday: Optional[int]  # most common weekday in the window, 0 = Monday
    weekday_share: float
    hour_band: Optional[Tuple[int, int]]  # 4-hour band with most (aoristic) events
    hour_band_share: float
    district: str  # nearest district point's name
    row: int = 0  # the area's strongest cell
    col: int = 0
    cells: int = 1  # cells in the area
    previous_average: Optional[float] = None  # events per period in the baseline periods before
    name: str = ""  # the place reporters named most often in the area (set by the weekly service)

    @property
    def change(self) -> Optional[float]:
        """Change in % against the baseline average; None without a baseline or from zero."""
        if self.previous_average is None or self.previous_average <= 0:
            return None
        return 100.0 * (self.count - self.previous_average) / self.previous_average

    @property
    def label(self) -> str:
        """What a list shows: the place name, else the district."""
        return self.name or self.district


@dataclass
class HotspotResult:
    grid: Grid
    rings: int
    counts: np.ndarray  # events per cell (float for weighted counts)
    z: np.ndarray
    p: np.ndarray
    classes: np.ndarray  # int8, see significance_class
    hotspots: List[HotSpot] = field(default_factory=list)
    correction: str = FDR
    events: int = 0  # events inside the study area
    min_events: int = MIN_EVENTS

    @property
    def tested(self) -> bool:
        """False when there were too few events to claim any significance."""
        return self.events >= self.min_events

    def cells_wkt(self, only_significant: bool = True) -> List[Dict[str, object]]:
        """Cells as records with WKT polygons, for export to a layer or GeoPackage."""
        mask = self.grid.valid & ((self.classes != 0) if only_significant else True)
        records: List[Dict[str, object]] = []
        for row, col in zip(*np.nonzero(mask)):
            records.append(
                {
                    "row": int(row),
                    "col": int(col),
                    "count": float(self.counts[row, col]),
                    "z": float(self.z[row, col]),
                    "p": float(self.p[row, col]),
                    "class": int(self.classes[row, col]),
                    "class_key": CLASS_KEYS[int(self.classes[row, col])],
                    "wkt": self.grid.wkt(int(row), int(col)),
                }
            )
        return records


def getis_ord_gi_star(counts: np.ndarray, grid: Grid, rings: int = 1) -> np.ndarray:
    """Gi* z-scores (binary weights, self included) over all valid cells, zeros included.

    z_i = (Σ_j w_ij x_j − x̄ W_i) / (S √((n W_i − W_i²)/(n − 1))), W_i = neighbours of i.
    """
    valid = grid.valid
    n = int(valid.sum())
    z = np.zeros(grid.shape)
    if n < 2:
        return z
    x = np.where(valid, counts, 0.0).astype(np.float64)
    mean = x[valid].mean()
    s = math.sqrt(max(float((x[valid] ** 2).mean() - mean**2), 0.0))
    if s == 0.0:
        return z
    local = neighbour_sum(x, grid, rings)
    w = neighbour_sum(valid.astype(np.float64), grid, rings)
    denom = s * np.sqrt(np.maximum(n * w - w * w, 0.0) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(valid & (denom > 0), (local - mean * w) / denom, 0.0)


def window_binomial_p(counts: np.ndarray, grid: Grid, rings: int) -> np.ndarray:
    """Two-sided p of each cell's neighbourhood sum under complete spatial randomness: with N
    events spread uniformly over n valid cells, a window of W cells holds Binomial(N, W/n).

    Why beside Gi*'s normal approximation: in a sparse week (about one event per cell) window
    sums are small and their upper tail is far heavier than a normal curve's, so normal p-values
    are too small by orders of magnitude exactly where the multiple-testing correction looks.
    The exact tail is computed once per distinct window size with log-gamma (no scipy).
    """
    valid = grid.valid
    out = np.ones(grid.shape)
    n = int(valid.sum())
    total = int(round(float(np.where(valid, counts, 0.0).sum())))
    if n < 2 or total <= 0:
        return out
    local = np.rint(neighbour_sum(counts, grid, rings)).astype(np.int64)
    sizes = np.rint(neighbour_sum(valid.astype(np.float64), grid, rings)).astype(np.int64)
    for size in np.unique(sizes[valid]):
        prob = float(size) / n
        cells = valid & (sizes == size)
        if prob >= 1.0:
            continue
        observed = np.minimum(local[cells], total)
        spread = math.sqrt(total * prob * (1.0 - prob))
        top = int(min(total, max(int(observed.max()), math.ceil(total * prob + 40.0 * spread + 50.0))))
        # log pmf by the ratio pmf(j+1)/pmf(j) = (N−j)/(j+1) · p/q, summed: no per-value log-gamma
        k = np.arange(top, dtype=np.float64)
        steps = np.log(total - k) - np.log(k + 1.0) + (math.log(prob) - math.log1p(-prob))
        log_pmf = total * math.log1p(-prob) + np.concatenate([[0.0], np.cumsum(steps)])
        pmf = np.exp(log_pmf)
        lower = np.cumsum(pmf)
        upper = np.cumsum(pmf[::-1])[::-1]
        out[cells] = np.minimum(1.0, 2.0 * np.minimum(lower[observed], upper[observed]))
    return out


def grid_counts(
    grid: Grid, x: np.ndarray, y: np.ndarray, weights: Optional[np.ndarray] = None
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Events per cell; also each event's (row, col, inside)."""
    row, col, inside = grid.cell_of(x, y)
    flat = row[inside] * grid.cols + col[inside]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[inside]
    counts = np.bincount(flat, w, minlength=grid.rows * grid.cols).astype(np.float64)
    return counts.reshape(grid.shape), row, col, inside


def _default_extent(x: np.ndarray, y: np.ndarray) -> Tuple[float, float, float, float]:
    """The events' bounding box; the upper edges nudged by 1 µm so the last event is inside."""
    return float(x.min()), float(y.min()), float(x.max()) + 1e-6, float(y.max()) + 1e-6


def hotspot_analysis(
    columns: EventColumns,
    *,
    cell_size: float = 100.0,
    rings: int = 1,
    grid: str = "square",
    extent: Optional[Sequence[float]] = None,
    top: int = 10,
    districts: Optional[Sequence[District]] = None,
    correction: str = FDR,
    min_events: int = MIN_EVENTS,
    baseline: Optional[EventColumns] = None,
) -> HotspotResult:
    """Counts, Gi* z, p and classes per cell, and the *top* hot-spot areas ranked by their peak z.

    Without *extent* the grid covers the events' bounding box. Fewer than *min_events* events in
    the grid → counts and z only, every class 0, no areas. *baseline* (the same filter over the
    4 periods before) gives each area its change.
    """
    from .hotspot_areas import hotspot_areas

    if rings < 1:
        raise ValueError("rings must be at least 1")
    if len(columns) == 0 and extent is None:
        empty = Grid(grid, float(cell_size), 0, 0, 0, 0, np.zeros((0, 0), dtype=bool))
        zeros = np.zeros((0, 0))
        return HotspotResult(empty, rings, zeros, zeros, zeros, zeros.astype(np.int8), [], correction, 0,
                             min_events)
    the_grid = make_grid(extent if extent is not None else _default_extent(columns.x, columns.y), cell_size, grid)
    counts, row, col, inside = grid_counts(the_grid, columns.x, columns.y)
    z = getis_ord_gi_star(counts, the_grid, rings)
    p = np.ones(the_grid.shape)
    # the more cautious of the normal approximation and the exact tail (sparse weeks)
    p[the_grid.valid] = np.maximum(two_sided_p(z[the_grid.valid]),
                                   window_binomial_p(counts, the_grid, rings)[the_grid.valid])
    classes = np.zeros(the_grid.shape, dtype=np.int8)
    events = int(np.count_nonzero(inside))
    if events >= min_events:
        classes[the_grid.valid] = significance_class(z[the_grid.valid], p[the_grid.valid], correction)
    result = HotspotResult(the_grid, rings, counts, z, p, classes, [], correction, events, min_events)
    known = tuple(reference_districts() if districts is None else districts)
    result.hotspots = hotspot_areas(result, columns, row, col, inside, top, known, baseline)
    return result


def describe_events(rank: int, r: int, c: int, result: HotspotResult, events: EventColumns) -> HotSpot:
    """A hot spot at cell (*r*, *c*) described by *events*: top categories, weekday and hours."""
    n = len(events)
    cats = np.bincount(events.category.astype(np.int64), minlength=len(events.category_codes)) if n else []
    top_cats = [
        (events.category_codes[i], int(cats[i])) for i in np.argsort(-np.asarray(cats), kind="stable")[:3]
        if n and cats[i] > 0
    ]
    weekday, weekday_share = None, 0.0
    if n:
        days = np.bincount(events.weekday.astype(np.int64), minlength=7)
        weekday = int(np.argmax(days))
        weekday_share = float(days[weekday] / n)
    hours = hour_totals(events) if n else np.zeros(24)
    band_totals = [hours[a:b].sum() for a, b in HOUR_BANDS]
    total = float(np.sum(hours))
    band, band_share = None, 0.0
    if total > 0:
        best = int(np.argmax(band_totals))
        band, band_share = HOUR_BANDS[best], float(band_totals[best] / total)
    x, y = (float(v) for v in result.grid.centre(np.array(r), np.array(c)))
    return HotSpot(
        rank=rank,
        x=x,
        y=y,
        polygon=result.grid.polygon(r, c),
        count=int(round(result.counts[r, c])),
        window_count=n,
        z=float(result.z[r, c]),
        p=float(result.p[r, c]),
        significance=int(result.classes[r, c]),
        categories=top_cats,
        weekday=weekday,
        weekday_share=weekday_share,
        hour_band=band,
        hour_band_share=band_share,
        district="",
        row=r,
        col=c,
    )


# --------------------------------------------------------------------------- emerging
@dataclass
class EmergingResult:
    grid: Grid
    current: np.ndarray
    previous: np.ndarray
    expected: np.ndarray  # current count expected from the cell's previous share
    p: np.ndarray
    trend: np.ndarray  # int8: +1 emerging (significantly up), −1 fading, 0 otherwise
    share: float  # π = C / (C + B), the area-wide share of the current period

    def cells_wkt(self) -> List[Dict[str, object]]:
        records: List[Dict[str, object]] = []
        for row, col in zip(*np.nonzero(self.trend != 0)):
            records.append(
                {
                    "row": int(row),
                    "col": int(col),
                    "current": int(self.current[row, col]),
                    "previous": int(self.previous[row, col]),
                    "p": float(self.p[row, col]),
                    "trend": int(self.trend[row, col]),
                    "wkt": self.grid.wkt(int(row), int(col)),
                }
            )
        return records


def binomial_two_sided_p(k: np.ndarray, m: np.ndarray, prob: float) -> np.ndarray:
    """Exact two-sided binomial p-values: Σ P(X = j) over j no more likely than k.

    Computed per distinct m with log-gamma (math.lgamma), so it is vectorised over cells.
    """
    k = np.asarray(k, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    out = np.ones(k.shape, dtype=np.float64)
    if prob <= 0.0 or prob >= 1.0:
        return out
    log_p, log_q = math.log(prob), math.log1p(-prob)
    for total in np.unique(m):
        total = int(total)
        if total <= 0:
            continue
        j = np.arange(total + 1)
        log_fact = np.array([math.lgamma(v + 1.0) for v in range(total + 1)])
        log_pmf = log_fact[total] - log_fact - log_fact[::-1] + j * log_p + (total - j) * log_q
        pmf = np.exp(log_pmf)
        here = m == total
        observed = pmf[k[here]]
        # Sorting the pmf lets every cell's sum be a cumulative-sum lookup.
        sorted_pmf = np.sort(pmf)
        cumulative = np.cumsum(sorted_pmf)
        index = np.searchsorted(sorted_pmf, observed * (1.0 + 1e-7), side="right")
        out[here] = np.minimum(cumulative[index - 1], 1.0)
    return out


def emerging_hotspots(
    current: EventColumns,
    previous: EventColumns,
    *,
    cell_size: float = 100.0,
    grid: str = "square",
    extent: Optional[Sequence[float]] = None,
    alpha: float = 0.05,
    min_events: int = 3,
) -> EmergingResult:
    """Cells whose share of events rose (emerging) or fell (fading) significantly between
    the previous and the current period (see the module notes for the test)."""
    xs = np.concatenate([current.x, previous.x])
    ys = np.concatenate([current.y, previous.y])
    if xs.size == 0 and extent is None:
        empty = Grid(grid, float(cell_size), 0, 0, 0, 0, np.zeros((0, 0), dtype=bool))
        zeros = np.zeros((0, 0))
        return EmergingResult(empty, zeros, zeros, zeros, zeros, zeros.astype(np.int8), 0.0)
    the_grid = make_grid(extent if extent is not None else _default_extent(xs, ys), cell_size, grid)
    now = grid_counts(the_grid, current.x, current.y)[0]
    before = grid_counts(the_grid, previous.x, previous.y)[0]
    total_now, total_before = float(now.sum()), float(before.sum())
    share = total_now / (total_now + total_before) if total_now + total_before > 0 else 0.0
    m = (now + before).astype(np.int64)
    tested = the_grid.valid & (m >= max(int(min_events), 1))
    p = np.ones(the_grid.shape)
    p[tested] = binomial_two_sided_p(now[tested].astype(np.int64), m[tested], share)
    expected = m * share
    trend = np.zeros(the_grid.shape, dtype=np.int8)
    significant = tested & (p < alpha)
    trend[significant & (now > expected)] = 1
    trend[significant & (now < expected)] = -1
    return EmergingResult(the_grid, now, before, expected, p, trend, share)
