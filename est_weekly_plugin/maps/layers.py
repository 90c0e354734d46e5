"""QGIS layers of the store: the events layer with category colours, the same for every backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsDataSourceUri,
    QgsFeature,
    QgsGeometry,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsPointXY,
    QgsProject,
    QgsRendererCategory,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor, QFont

from ..domain.i18n import tr
from ..domain.model import Category, Status
from ..store import EventStore
from ..store.sources import PLACED_SQL

LAYER_PROPERTY = "est_weekly/role"


def category_renderer(categories: list[Category], lang: str | None = None) -> QgsCategorizedSymbolRenderer:
    """Points coloured by category, labelled in the user's language, in the categories' order."""
    renderer_categories = []
    for category in categories:
        symbol = QgsMarkerSymbol.createSimple(
            {"name": "circle", "color": category.colour, "size": "2.4", "outline_color": "255,255,255,200",
             "outline_width": "0.2"}
        )
        renderer_categories.append(QgsRendererCategory(category.code, symbol, category.label(lang)))
    return QgsCategorizedSymbolRenderer("category", renderer_categories)


def events_layer(store: EventStore, status: Status | None = Status.APPROVED, name: str | None = None,
                 lang: str | None = None) -> QgsVectorLayer:
    """A styled layer of the store's events (approved only by default), not yet in a project.

    Approved events come from the compilation view, which every login may read (on PostGIS a
    viewer or another organisation's reporter sees them there without people or free text).
    """
    uri, provider = store.layer_uri("approved_events" if status == Status.APPROVED else "events")
    # events placed only to an area (a municipality's centroid) are counted, never drawn as points
    subset = PLACED_SQL if status is None else f"status = '{Status(status).value}' AND {PLACED_SQL}"
    layer = QgsVectorLayer(_with_subset(uri, provider, subset), name or tr("layer.events", lang), provider)
    if not layer.isValid():
        from ..domain.errors import DatabaseUnavailable

        raise DatabaseUnavailable("db_unreachable", detail=uri.split("|")[0])
    if layer.subsetString() != subset:
        layer.setSubsetString(subset)
    layer.setRenderer(category_renderer(store.categories(), lang))
    layer.setCustomProperty(LAYER_PROPERTY, "events")
    return layer


def _with_subset(uri: str, provider: str, subset: str) -> str:
    """The filter in the layer's source: one open on the GUI thread when a database opens, not an open
    and a reopen with a recount of every event (``setSubsetString``)."""
    if provider == "ogr":
        return uri.split("|subset=")[0] + f"|subset={subset}"
    if provider == "postgres":
        source = QgsDataSourceUri(uri)
        source.setSql(subset)
        return source.uri(False)
    return uri


def scratch_layer(uri: str, name: str) -> QgsVectorLayer:
    """A memory layer the plugin rebuilds from the store whenever needed: QGIS is told not to ask
    about saving it when the project closes (``skipMemoryLayersCheck``), there is nothing to lose."""
    layer = QgsVectorLayer(uri, name, "memory")
    layer.setCustomProperty("skipMemoryLayersCheck", 1)
    return layer


def geopackage_writer(path: str, fields: Any, wkb_type: Any, epsg: int, layer_name: str = "") -> Any:
    """A QgsVectorFileWriter for a new GeoPackage layer (demo backgrounds, test data)."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransformContext, QgsVectorFileWriter

    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    if layer_name:
        options.layerName = layer_name
    return QgsVectorFileWriter.create(str(path), fields, wkb_type, QgsCoordinateReferenceSystem(f"EPSG:{int(epsg)}"),
                                      QgsCoordinateTransformContext(), options)


def find_layers(role: str, project: QgsProject | None = None) -> list[QgsVectorLayer]:
    """Layers the plugin added for *role* (e.g. "events"), found by their custom property."""
    project = project or QgsProject.instance()
    return [layer for layer in project.mapLayers().values() if layer.customProperty(LAYER_PROPERTY) == role]


LABEL_FONT = "DejaVu Sans"


def point_label_layer(name: str, epsg: int, rows: Sequence[tuple[float, float, str]]) -> QgsVectorLayer:
    """A memory layer of labelled points (hot-spot ranks, district names) for maps and layouts."""
    layer = scratch_layer(f"Point?crs=EPSG:{epsg}&field=label:string(80)", name)
    features = []
    for x, y, text in rows:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        feature.setAttribute("label", text)
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


def simple_labeling(colour: str, text_colour: str, size: float, buffer_size: float, bold: bool,
                    placement: Any = QgsPalLayerSettings.Placement.OverPoint) -> QgsVectorLayerSimpleLabeling:
    """Labels of the "label" field with a halo in *colour*: readable on the heat map."""
    settings = QgsPalLayerSettings()
    settings.fieldName = "label"
    text = QgsTextFormat()
    font = QFont(LABEL_FONT)
    font.setBold(bold)
    text.setFont(font)
    text.setSize(size)
    text.setColor(QColor(text_colour))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(buffer_size)
    buffer.setColor(QColor(colour))
    text.setBuffer(buffer)
    settings.setFormat(text)
    settings.placement = placement
    return QgsVectorLayerSimpleLabeling(settings)
