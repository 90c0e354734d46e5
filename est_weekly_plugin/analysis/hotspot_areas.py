"""Hot-spot areas: contiguous significant cells merged into one place a meeting can act on.

Why areas, not cells: a cluster of ten significant cells around Knutpunkten is one place. Listing
its cells (or the local maxima inside it) puts the same place in the top list several times and
hands the meeting a 100 m square as a "focus area". An area is a connected set of hot cells
(neighbours share an edge or a corner; on a hex grid, an edge), ranked by its strongest cell,
described by the events inside it, and outlined by the union of its cells.
"""

from __future__ import annotations

from collections import deque
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from qgis.core import Qgis, QgsGeometry, QgsPointXY

from ..domain.i18n import format_number, tr
from ..domain.model import EventColumns
from ..domain.reference import District
from .filters import nearest_district_index
from .hotspots import Grid, HotSpot, HotspotResult, describe_events

MIN_AREA_EVENTS = 3  # an area listed as a hot spot holds at least this many events


def label_areas(hot: np.ndarray, grid: Grid) -> Tuple[np.ndarray, int]:
    """(labels, n): each hot cell's area number 1…n (0 elsewhere), by breadth-first search."""
    labels = np.zeros(hot.shape, dtype=np.int32)
    steps = [(dr, dc) for dr, dc in grid.stencil(1) if (dr, dc) != (0, 0)]
    count = 0
    for start in zip(*np.nonzero(hot)):
        if labels[start]:
            continue
        count += 1
        labels[start] = count
        queue = deque([start])
        while queue:
            r, c = queue.popleft()
            for dr, dc in steps:
                nr, nc = r + dr, c + dc
                if 0 <= nr < grid.rows and 0 <= nc < grid.cols and hot[nr, nc] and not labels[nr, nc]:
                    labels[nr, nc] = count
                    queue.append((nr, nc))
    return labels, count


def area_outline(grid: Grid, cells: Sequence[Tuple[int, int]]) -> List[Tuple[float, float]]:
    """The outer ring of the union of *cells* (cells touching only at a corner are joined)."""
    parts = [QgsGeometry.fromPolygonXY([[QgsPointXY(x, y) for x, y in grid.polygon(int(r), int(c))]])
             for r, c in cells]
    union = QgsGeometry.unaryUnion(parts)
    # grown by 1/10 000 of a cell (1 cm for 100 m cells) so cells meeting at a corner are one ring
    joined = union.buffer(grid.cell_size * 1e-4, 1, Qgis.EndCapStyle.Flat, Qgis.JoinStyle.Miter, 2.0)
    if joined.isEmpty():
        joined = union
    if joined.isMultipart():
        polygons = joined.asMultiPolygon()
        ring = max(polygons, key=lambda polygon: QgsGeometry.fromPolygonXY(polygon).area())[0]
    else:
        ring = joined.asPolygon()[0]
    return [(round(point.x(), 3), round(point.y(), 3)) for point in ring]


def hotspot_areas(
    result: HotspotResult,
    columns: EventColumns,
    row: np.ndarray,
    col: np.ndarray,
    inside: np.ndarray,
    top: int,
    districts: Sequence[District],
    baseline: Optional[EventColumns] = None,
    baseline_periods: int = 4,
) -> List[HotSpot]:
    """The *top* hot-spot areas, strongest first; *baseline* (the same filter over the
    *baseline_periods* periods before) gives each area its change against their average."""
    grid = result.grid
    labels, count = label_areas((result.classes > 0) & grid.valid, grid)
    if count == 0 or top <= 0:
        return []
    event_label = np.zeros(len(columns), dtype=np.int32)
    event_label[inside] = labels[row[inside], col[inside]]
    previous = _baseline_counts(grid, labels, count, baseline)
    peaks = _area_peaks(result, labels, count)
    spots: List[HotSpot] = []
    sizes = np.bincount(event_label, minlength=count + 1)
    for area, (peak_r, peak_c) in sorted(peaks.items(), key=lambda item: -result.z[item[1]]):
        if sizes[area] < MIN_AREA_EVENTS:
            continue  # a significant neighbourhood around one or two events: nothing a meeting can act on
        members = event_label == area
        cells = list(zip(*np.nonzero(labels == area)))
        events = columns.subset(members)
        spot = describe_events(len(spots) + 1, int(peak_r), int(peak_c), result, events)
        spot.polygon = area_outline(grid, cells)
        spot.count = spot.window_count = len(events)
        spot.cells = len(cells)
        spot.x, spot.y = float(events.x.mean()), float(events.y.mean())
        if previous is not None:
            spot.previous_average = float(previous[area]) / max(baseline_periods, 1)
        spots.append(spot)
        if len(spots) >= top:
            break
    _name_districts(spots, districts)
    return spots


def _area_peaks(result: HotspotResult, labels: np.ndarray, count: int) -> Dict[int, Tuple[int, int]]:
    """The strongest (highest z) cell of each area."""
    peaks: Dict[int, Tuple[int, int]] = {}
    flat = labels.ravel()
    z = result.z.ravel()
    for index in np.argsort(-z, kind="stable"):
        area = int(flat[index])
        if area and area not in peaks:
            peaks[area] = divmod(int(index), result.grid.cols)
            if len(peaks) == count:
                break
    return peaks


def _baseline_counts(grid: Grid, labels: np.ndarray, count: int,
                     baseline: Optional[EventColumns]) -> Optional[np.ndarray]:
    if baseline is None:
        return None
    b_row, b_col, b_inside = grid.cell_of(baseline.x, baseline.y)
    areas = labels[b_row[b_inside], b_col[b_inside]]
    return np.bincount(areas, minlength=count + 1).astype(np.float64)


def _name_districts(spots: List[HotSpot], districts: Sequence[District]) -> None:
    if not spots or not districts:
        return
    nearest = nearest_district_index(np.array([s.x for s in spots]), np.array([s.y for s in spots]), districts)
    for spot, index in zip(spots, nearest):
        spot.district = districts[int(index)].name if index >= 0 else ""


def change_text(spot: HotSpot, lang: Optional[str] = None) -> str:
    """" (+30 % against the 4 periods before)" for a list line; "" without a baseline."""
    if spot.previous_average is None:
        return ""
    if spot.change is None:
        return tr("compilation.hotspots.change_new", lang)
    return tr("compilation.hotspots.change", lang, change=format_number(spot.change, 0, sign=True, lang=lang))


def method_note(result: Optional[HotspotResult], cell: float, rings: int, lang: Optional[str] = None) -> str:
    """What the hot-spot list rests on, or why it shows no significance (dock and PDF say the same)."""
    if result is None:
        return ""
    if not result.tested:
        return tr("compilation.hotspots.too_few", lang, count=result.events, minimum=result.min_events)
    method = tr("compilation.hotspots.method", lang, cell=format_number(cell, 0, lang=lang), rings=rings)
    return method if result.hotspots else tr("compilation.hotspots.none_significant", lang) + " " + method
