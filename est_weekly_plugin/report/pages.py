"""One page per priority area: the week's events of the area on the background, its outline and numbers."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsGeometry,
    QgsLayoutItemPage,
    QgsLayoutItemScaleBar,
    QgsMapLayer,
    QgsPointXY,
    QgsPrintLayout,
    QgsUnitTypes,
    QgsVectorLayer,
)

from ..analysis.filters import points_in_polygon
from ..analysis.follow_up import follow_up, priority_mask
from ..domain.i18n import tr
from ..domain.meetings import Priority
from ..domain.model import EventColumns
from ..maps.layers import category_renderer, scratch_layer
from .data import BASELINE_WEEKS, ReportData, _names, _number, _signed
from .template import EST_BLUE, _label, _map, _place, _text_format


def priority_pages(layout: QgsPrintLayout, data: ReportData, hotspot_layer: QgsVectorLayer,
                   priority_layer: QgsVectorLayer, district_layer: QgsVectorLayer,
                   background: QgsMapLayer | None) -> Generator[None, None, list[QgsMapLayer]]:
    """One page per priority area: the week's events of the area as category-coloured points on the
    background with the area's outline, and its numbers — every one of them from the same selection
    as the follow-up (``priority_mask``), so they add up. Yields after each page (the designer's copy
    is built on the GUI thread a step at a time); returns the layers it added."""
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
            tr("report.priority_page.count", lang, count=outcome.current, baseline=_number(outcome.baseline, lang),
               change=_signed(outcome.change, lang)),
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
        yield
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
