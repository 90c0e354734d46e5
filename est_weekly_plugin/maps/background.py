"""The background map a municipality chooses once: on the canvas and under every map of the meeting PDF.

Why stored with the database: every coordinator and every scheduled ``qgis_process`` run should
print the same streets and shoreline under the heat map without configuring anything. The
background is any layer QGIS can open — an XYZ or WMS/WMTS service (OpenStreetMap, the
municipality's own map service), a local file, a layer of the project — kept as its source,
provider and attribution, which the PDF prints beside the map.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from typing import Any

from qgis.core import QgsMapLayer, QgsRasterLayer, QgsVectorLayer

from ..domain.reference import districts, municipality
from .layers import LAYER_PROPERTY, geopackage_writer

BACKGROUND_KEY = "map_background"  # est_settings: JSON of :class:`Background`
ROLE = "background"
_PROVIDERS = ("wms", "gdal", "ogr", "postgres", "wfs", "arcgismapserver", "arcgisfeatureserver")

_OPEN_LOCK = threading.Lock()


@dataclass(frozen=True)
class Background:
    """A layer by its source: what QGIS needs to open it again anywhere."""

    name: str
    source: str
    provider: str  # QGIS provider key: "wms" (also XYZ/WMTS), "gdal", "ogr", …
    attribution: str = ""

    @classmethod
    def openstreetmap(cls) -> Background:
        """OpenStreetMap's standard tiles (online; their tile policy applies)."""
        url = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        return cls("OpenStreetMap", f"type=xyz&url={url}&zmax=19&zmin=0", "wms", "© OpenStreetMap contributors")

    @classmethod
    def of_layer(cls, layer: QgsMapLayer, attribution: str = "") -> Background:
        """A layer of the project as a background (its source, so other projects can open it)."""
        rights = "; ".join(layer.metadata().rights()) if layer.metadata().rights() else ""
        return cls(layer.name(), layer.source(), layer.providerType(), attribution or layer.attribution() or rights)

    @classmethod
    def of(cls, store: Any) -> Background | None:
        """The database's background, or None when none was chosen (or the setting is unreadable)."""
        try:
            data = json.loads(store.setting(BACKGROUND_KEY) or "null")
            if not isinstance(data, dict):
                return None
            background = cls(**{key: str(data.get(key, "")) for key in ("name", "source", "provider", "attribution")})
        except (ValueError, TypeError):
            return None
        return background if background.source and background.provider in _PROVIDERS else None

    def save(self, store: Any, actor: str = "EST Weekly") -> None:
        if self.provider not in _PROVIDERS:
            raise ValueError(f"provider must be one of {_PROVIDERS}")
        store.set_setting(BACKGROUND_KEY, json.dumps(asdict(self), ensure_ascii=False), actor)

    @staticmethod
    def clear(store: Any, actor: str = "EST Weekly") -> None:
        store.set_setting(BACKGROUND_KEY, None, actor)

    def layer(self) -> QgsMapLayer | None:
        """A new layer of it, owned by the calling thread (the canvas's on the GUI thread, the PDF's in
        the report task), or None when it cannot be opened (offline, file gone)."""
        if self.provider in ("ogr", "postgres", "wfs", "arcgisfeatureserver"):
            # QGIS's OGR provider can deadlock when two threads open the same GeoPackage at once
            # (QGIS PR #58337, still open): the plugin's threads take turns
            with _OPEN_LOCK:
                layer: QgsMapLayer = QgsVectorLayer(self.source, self.name, self.provider)
        else:
            layer = QgsRasterLayer(self.source, self.name, self.provider)
        if not layer.isValid():
            return None
        layer.setCustomProperty(LAYER_PROPERTY, ROLE)
        if self.attribution:
            layer.setAttribution(self.attribution)
        return layer


def schematic_districts(path: str, epsg: int = 3006) -> Background:
    """A local, schematic background for the demo and the tests: the district areas (Voronoi cells
    of the shipped district points, clipped to the municipality), written to a GeoPackage."""
    from qgis.core import QgsFeature, QgsField, QgsFields, QgsGeometry, QgsPointXY, QgsRectangle, QgsWkbTypes
    from qgis.PyQt.QtCore import QVariant

    xmin, ymin, xmax, ymax = municipality()["extent"]
    frame = QgsGeometry.fromRect(QgsRectangle(xmin, ymin, xmax, ymax))
    points = [(d.name, QgsPointXY(d.x, d.y)) for d in districts()]
    cells = QgsGeometry.fromMultiPointXY([p for _, p in points]).voronoiDiagram(frame)
    fields = QgsFields()
    fields.append(QgsField("name", QVariant.String))
    writer = geopackage_writer(path, fields, QgsWkbTypes.Polygon, epsg, "districts")
    for part in cells.asGeometryCollection():
        name = next((n for n, p in points if part.contains(QgsGeometry.fromPointXY(p))), "")
        feature = QgsFeature(fields)
        feature.setGeometry(part.intersection(frame))
        feature.setAttributes([name])
        writer.addFeature(feature)
    del writer
    background = Background("Stadsdelar (schematisk demo-bakgrund)", f"{path}|layername=districts", "ogr",
                            "EST Weekly demo: schematic district areas")
    _save_quiet_style(QgsVectorLayer(background.source, background.name, "ogr"))
    return background


def _save_quiet_style(layer: QgsVectorLayer) -> None:
    """A pale fill and grey borders, stored in the GeoPackage as its default style, so QGIS (and the
    PDF, which labels the districts itself) draw it quietly under the heat map."""
    from qgis.core import QgsFillSymbol, QgsSingleSymbolRenderer

    layer.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple(
        {"color": "242,239,233,255", "outline_color": "180,180,180,255", "outline_width": "0.3"})))
    layer.saveStyleToDatabase("default", "EST Weekly demo background", True, "")
