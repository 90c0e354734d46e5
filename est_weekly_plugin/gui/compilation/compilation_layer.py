"""The compilation's layers in the project: the hot-spot heat map (raster), the significant
Gi* cells and the filtered, category-coloured points, in one layer-tree group with a legend.

Styles come from the QML files in ``resources/styles/`` (``events_by_category.qml``,
``heatmap.qml``, ``hotspot_cells.qml``), so a GIS officer can restyle the meeting map in QGIS
and ship the QML; the code only rescales the heat map to the current colour-scale top and
relabels categories in the user's language. A database whose categories differ from the 14
defaults gets its renderer built from the database instead.

Why a GeoTIFF per update: QGIS styles, legends, prints and identifies a raster layer like any
other, so the heat map behaves in layouts exactly like the rest of the map. The file is
uncompressed (writing it takes a few milliseconds) and the layer is pointed at a new file
on each update so GDAL's cache never shows a stale heat map. Points are a memory layer of
the selected events, capped at ``POINTS_LIMIT`` so a city-wide million never freezes the
canvas — above it the heat map is the honest view and the legend says so.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsColorRampShader,
    QgsFeature,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsMapLayerLegendUtils,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QVariant

from ...analysis.compilation import CompilationResult
from ...domain.i18n import format_number, tr
from ...domain.model import PRECISION_CODES, Category, EventColumns, date_from_day
from ...domain.paths import resource
from ...domain.reference import default_categories
from ...maps.layers import LAYER_PROPERTY, category_renderer, find_layers, scratch_layer
from ...maps.styles import heatmap_renderer, label_heat_legend
from ..shared.turns import in_next_turn

POINTS_LIMIT = 50_000
POINTS_PER_TURN = 3_000  # about 10 ms of the GUI thread's time each
POINTS_MIN_SCALE = 40_000.0  # 1:40 000 and closer
HEATMAP_ROLE = "compilation_heatmap"
POINTS_ROLE = "compilation_points"
HOTSPOT_CELLS_ROLE = "compilation_hotspot_cells"
STYLE_PROPERTY = "est_weekly/style"  # the QML file a layer's style was loaded from
EVENTS_QML = "events_by_category.qml"
HEATMAP_QML = "heatmap.qml"
HOTSPOT_CELLS_QML = "hotspot_cells.qml"


def style_path(name: str) -> Path:
    return resource("styles", name)


def load_style(layer: QgsMapLayer, name: str) -> bool:
    """Load ``resources/styles/<name>`` into *layer*; remembers the file in a custom property."""
    _message, ok = layer.loadNamedStyle(str(style_path(name)))
    layer.setCustomProperty(STYLE_PROPERTY, name if ok else "")
    return bool(ok)


def is_default_categories(categories: Sequence[Category]) -> bool:
    """True when the database's categories are the 14 defaults (codes, order and colours)."""
    wanted = [(c.code, c.colour.lower()) for c in default_categories()]
    return [(c.code, c.colour.lower()) for c in categories] == wanted


class CompilationLayers:
    """Creates and updates the compilation group; safe to call with layers removed by the user."""

    def __init__(self, project: Optional[QgsProject] = None, epsg: int = 3006) -> None:
        self.project = project or QgsProject.instance()
        self.epsg = epsg
        self.work = Path(tempfile.mkdtemp(prefix="est-compilation-"))
        self._serial = 0
        self.heatmap: Optional[QgsRasterLayer] = None
        self.points: Optional[QgsVectorLayer] = None
        self.hotspot_cells: Optional[QgsVectorLayer] = None
        self.points_truncated = False
        self._points_serial = 0  # which update_points call the points being added in turns belong to
        self.adding_points = False  # prepared points still going in, a few thousand per turn
        self._points_style: Optional[tuple] = None
        self._hidden: List[str] = []  # layers of all approved events unticked while the compilation shows

    # -- layer tree ----------------------------------------------------------------------
    def group(self) -> QgsLayerTreeGroup:
        root = self.project.layerTreeRoot()
        name = tr("compilation.layer.group")
        group = root.findGroup(name)
        return group if group is not None else root.insertGroup(0, name)

    def _alive(self, layer: Optional[object]) -> bool:
        return layer is not None and self.project.mapLayer(layer.id()) is not None  # type: ignore[attr-defined]

    # -- updates -----------------------------------------------------------------------
    def update(self, result: CompilationResult, selected: Optional[EventColumns], categories: Sequence[Category],
               lang: Optional[str] = None) -> None:
        """Show *result*: the heat map raster and (if given and not too many) the points."""
        if result.density is not None:
            self.update_heatmap(result, lang)
        self.update_hotspot_cells(result, lang)
        prepared = result.view if isinstance(result.view, PreparedFeatures) else None
        self.update_points(selected, categories, lang, prepared.points if prepared is not None else None)
        self.hide_unfiltered()

    def hide_unfiltered(self) -> None:
        """Untick the layer of all approved events while the compilation shows its selection, so the
        filtered points are not buried under hundreds of thousands of unfiltered ones."""
        root = self.project.layerTreeRoot()
        for layer in find_layers("events", self.project):
            node = root.findLayer(layer.id())
            if node is not None and node.itemVisibilityChecked():
                node.setItemVisibilityChecked(False)
                self._hidden.append(layer.id())

    def restore_unfiltered(self) -> None:
        """Tick again what :meth:`hide_unfiltered` unticked (the compilation closes)."""
        root = self.project.layerTreeRoot()
        for layer_id in self._hidden:
            node = root.findLayer(layer_id)
            if node is not None:
                node.setItemVisibilityChecked(True)
        self._hidden = []

    def update_heatmap(self, result: CompilationResult, lang: Optional[str] = None) -> QgsRasterLayer:
        assert result.density is not None
        self._serial += 1
        path = self.work / f"heatmap_{self._serial % 2}.tif"
        grid = result.density
        grid.to_geotiff(str(path), self.epsg, compress=False)  # rewritten at each filter change: speed over size
        name = tr("compilation.layer.heatmap", lang)
        if not self._alive(self.heatmap):
            layer = QgsRasterLayer(str(path), name, "gdal")
            layer.setCustomProperty(LAYER_PROPERTY, HEATMAP_ROLE)
            self.project.addMapLayer(layer, False)
            self.group().addLayer(layer)
            self.heatmap = layer
        else:
            self.heatmap.setDataSource(str(path), name, "gdal")  # type: ignore[union-attr]
        layer = self.heatmap
        assert layer is not None
        _style_heatmap(layer, max(result.density_max, 1e-9))
        renderer = layer.renderer()
        if isinstance(renderer, QgsSingleBandPseudoColorRenderer):
            label_heat_legend(renderer, tr("map.legend_low", lang), tr("map.legend_high", lang))
        node = self.project.layerTreeRoot().findLayer(layer.id())
        if node is not None:  # the raster's own first legend line reads "Band 1 (Gray)"
            QgsMapLayerLegendUtils.setLegendNodeUserLabel(node, 0, tr("map.legend", lang))
        from qgis.core import QgsBilinearRasterResampler

        layer.resampleFilter().setZoomedInResampler(QgsBilinearRasterResampler())
        layer.triggerRepaint()
        return layer

    def update_points(self, selected: Optional[EventColumns], categories: Sequence[Category],
                      lang: Optional[str] = None, features: Optional[List[QgsFeature]] = None
                      ) -> Optional[QgsVectorLayer]:
        name = tr("compilation.layer.points", lang)
        selected = selected.placed() if selected is not None else None  # area events are never drawn
        if not self._alive(self.points):
            layer = scratch_layer(f"Point?crs=EPSG:{self.epsg}", name)
            layer.dataProvider().addAttributes(point_fields().toList())
            layer.updateFields()
            layer.setCustomProperty(LAYER_PROPERTY, POINTS_ROLE)
            # Points from street scale on; at city scale the heat map is the readable view.
            layer.setScaleBasedVisibility(True)
            layer.setMinimumScale(POINTS_MIN_SCALE)
            self.project.addMapLayer(layer, False)
            self.group().insertLayer(0, layer)
            self.points = layer
            self._points_style = None  # a new layer: style it
        layer = self.points
        assert layer is not None
        self._style_points(layer, categories, lang)
        # a style file carries its own scale range: points stay a street-scale view
        layer.setScaleBasedVisibility(True)
        layer.setMinimumScale(POINTS_MIN_SCALE)
        provider = layer.dataProvider()
        provider.truncate()
        count = 0 if selected is None else len(selected)
        self.points_truncated = count > POINTS_LIMIT
        self._points_serial += 1
        if selected is not None and 0 < count <= POINTS_LIMIT:
            if features is None:
                provider.addFeatures(point_features(selected))
            else:
                self._add_in_turns(layer, features, self._points_serial)
        layer.setName(name if not self.points_truncated else tr("compilation.layer.points_hidden", lang,
                                                                  limit=format_number(POINTS_LIMIT, lang, 0)))
        layer.updateExtents()
        layer.triggerRepaint()
        return layer

    def _add_in_turns(self, layer: QgsVectorLayer, features: List[QgsFeature], serial: int, start: int = 0) -> None:
        """Hand prepared points to the layer a few thousand per turn of the event loop: tens of
        thousands at once would freeze QGIS. A newer result (another *serial*) stops the rest."""
        if serial != self._points_serial or not self._alive(layer):
            return
        end = min(start + POINTS_PER_TURN, len(features))
        layer.dataProvider().addFeatures(features[start:end])
        self.adding_points = end < len(features)
        if self.adding_points:
            in_next_turn(lambda: self._add_in_turns(layer, features, serial, end))
        else:
            layer.updateExtents()
            layer.triggerRepaint()

    def _style_points(self, layer: QgsVectorLayer, categories: Sequence[Category], lang: Optional[str]) -> None:
        """The QML for the default categories (labels in *lang*), else a renderer from the database."""
        key = (tuple((c.code, c.colour, c.label(lang)) for c in categories), lang)
        if key == self._points_style:
            return  # unchanged: keep what the user may have adjusted in the layer's properties
        self._points_style = key
        if is_default_categories(categories) and load_style(layer, EVENTS_QML):
            renderer = layer.renderer()
            if isinstance(renderer, QgsCategorizedSymbolRenderer):
                labels = {c.code: c.label(lang) for c in categories}
                for index, category in enumerate(renderer.categories()):
                    renderer.updateCategoryLabel(index, labels.get(str(category.value()), category.label()))
            return
        layer.setRenderer(category_renderer(list(categories), lang))
        layer.setCustomProperty(STYLE_PROPERTY, "")

    def update_hotspot_cells(self, result: CompilationResult, lang: Optional[str] = None) -> QgsVectorLayer:
        """The significant Gi* cells of *result* (hot and cold), styled by ``hotspot_cells.qml``."""
        name = tr("compilation.layer.hotspot_cells", lang)
        if not self._alive(self.hotspot_cells):
            layer = scratch_layer(f"Polygon?crs=EPSG:{self.epsg}", name)
            layer.dataProvider().addAttributes(cell_fields().toList())
            layer.updateFields()
            layer.setCustomProperty(LAYER_PROPERTY, HOTSPOT_CELLS_ROLE)
            load_style(layer, HOTSPOT_CELLS_QML)
            self.project.addMapLayer(layer, False)
            group = self.group()
            # Above the heat map, below the points.
            index = 1 if self._alive(self.points) else 0
            group.insertLayer(index, layer)
            self.hotspot_cells = layer
        layer = self.hotspot_cells
        assert layer is not None
        provider = layer.dataProvider()
        provider.truncate()
        prepared = result.view if isinstance(result.view, PreparedFeatures) else None
        provider.addFeatures(prepared.cells if prepared is not None else cell_features(result))
        layer.setName(name)
        layer.updateExtents()
        layer.triggerRepaint()
        return layer

    def remove(self) -> None:
        self.restore_unfiltered()
        for layer in (self.points, self.hotspot_cells, self.heatmap):
            if self._alive(layer):
                self.project.removeMapLayer(layer.id())  # type: ignore[union-attr]
        self.points = self.heatmap = self.hotspot_cells = None


def _style_heatmap(layer: QgsRasterLayer, maximum: float) -> None:
    """``heatmap.qml`` (stops as fractions of the colour-scale top) scaled to *maximum*; the
    code-built renderer with the same stops if the file cannot be read."""
    if not load_style(layer, HEATMAP_QML) or not isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer):
        layer.setRenderer(heatmap_renderer(layer, maximum))
        return
    renderer = layer.renderer()
    function = renderer.shader().rasterShaderFunction()
    if not isinstance(function, QgsColorRampShader):
        layer.setRenderer(heatmap_renderer(layer, maximum))
        return
    items = [QgsColorRampShader.ColorRampItem(item.value * maximum, item.color, item.label)
             for item in function.colorRampItemList()]
    function.setColorRampItemList(items)
    function.setMinimumValue(0.0)
    function.setMaximumValue(maximum)
    renderer.setClassificationMin(0.0)
    renderer.setClassificationMax(maximum)


@dataclass
class PreparedFeatures:
    """The map's features of one result, made in the computing task's worker thread."""

    points: Optional[List[QgsFeature]]  # None: too many to draw (or none selected)
    cells: List[QgsFeature]


def prepare_features(result: CompilationResult, selected: Optional[EventColumns]) -> PreparedFeatures:
    """What :meth:`CompilationLayers.update` adds, built off the GUI thread (QgsFeature and
    QgsGeometry are plain values: safe in any thread)."""
    selected = selected.placed() if selected is not None else None  # area events are never drawn
    count = 0 if selected is None else len(selected)
    points = point_features(selected) if selected is not None and 0 < count <= POINTS_LIMIT else None
    return PreparedFeatures(points, cell_features(result))


def point_fields() -> QgsFields:
    fields = QgsFields()
    for name, kind in (("fid", QVariant.LongLong), ("category", QVariant.String), ("organisation", QVariant.String),
                       ("event_date", QVariant.String), ("time", QVariant.String), ("precision", QVariant.String)):
        fields.append(QgsField(name, kind))
    return fields


def cell_fields() -> QgsFields:
    fields = QgsFields()
    for name, kind in (("class", QVariant.Int), ("class_key", QVariant.String), ("count", QVariant.Double),
                       ("z", QVariant.Double), ("p", QVariant.Double)):
        fields.append(QgsField(name, kind))
    return fields


def cell_features(result: CompilationResult) -> List[QgsFeature]:
    """The significant Gi* cells (hot and cold) of *result*."""
    if result.hotspots is None:
        return []
    fields = cell_fields()
    features = []
    for record in result.hotspots.cells_wkt(only_significant=True):
        feature = QgsFeature(fields)
        feature.setGeometry(QgsGeometry.fromWkt(str(record["wkt"])))
        feature.setAttributes([record["class"], record["class_key"], record["count"], record["z"], record["p"]])
        features.append(feature)
    return features


def point_features(columns: EventColumns) -> List[QgsFeature]:
    """One point per selected event, with what its label and identify show."""
    fields = point_fields()
    features: List[QgsFeature] = []
    categories = columns.category_codes
    organisations = columns.organisation_codes
    precision_names = {code: name for name, code in PRECISION_CODES.items()}
    for fid, x, y, cat, org, day, start, end, precision in zip(
        columns.fid.tolist(), columns.x.tolist(), columns.y.tolist(), columns.category.tolist(),
        columns.organisation.tolist(), columns.day.tolist(), columns.minute_from.tolist(), columns.minute_to.tolist(),
        columns.precision.tolist(),
    ):
        feature = QgsFeature(fields)
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        time = "" if start < 0 else f"{start // 60:02d}:{start % 60:02d}"
        if start >= 0 and end >= 0 and end != start:
            time += f"–{end // 60:02d}:{end % 60:02d}"
        feature.setAttributes([fid, categories[cat] if 0 <= cat < len(categories) else "",
                               organisations[org] if 0 <= org < len(organisations) else "",
                               date_from_day(day).isoformat(), time, precision_names.get(precision, "")])
        features.append(feature)
    return features
