"""Finding a place for a report: search a place layer (or the shipped districts), read typed coordinates.

Headless (no widgets) so the reporting dock and the review panel share it and tests run it
without a window. Every result is in the store's CRS, whatever CRS the source layer or the
typed coordinates use, because that is the only CRS the store accepts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsExpression,
    QgsFeatureRequest,
    QgsPointXY,
    QgsProject,
    QgsVectorLayer,
    QgsWkbTypes,
)

from ..domain.reference import districts
from ..domain.validation import Extent

WGS84 = "EPSG:4326"
# Layer search asks the provider for more rows than it shows, so the ranking can put
# prefix matches first even when the provider returns contains-matches in file order.
_LAYER_FETCH = 200
# Features read when the fast ILIKE search found nothing and names are compared diacritic-folded.
_FOLDED_SCAN_LIMIT = 50_000


@dataclass(frozen=True)
class PlaceMatch:
    """One hit of a place search, already in the store CRS."""

    name: str
    x: float
    y: float
    source: str  # "districts", a layer name, or "coordinates"


@dataclass(frozen=True)
class ParsedCoordinates:
    """Typed coordinates turned into a point in the store CRS; ``source_crs`` says how they were read."""

    x: float
    y: float
    source_crs: str


def fold(text: str) -> str:
    """Lower case without diacritics, so "drottninghog" finds "Drottninghög"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def _rank(name: str, query: str) -> int | None:
    """0 exact, 1 prefix, 2 word prefix, 3 contains, None no match (all diacritic-insensitive)."""
    folded, wanted = fold(name), fold(query)
    if not wanted:
        return None
    if folded == wanted:
        return 0
    if folded.startswith(wanted):
        return 1
    if any(word.startswith(wanted) for word in re.split(r"[\s,\-/()]+", folded)):
        return 2
    if wanted in folded:
        return 3
    return None


def _ranked(candidates: list[PlaceMatch], query: str, limit: int) -> list[PlaceMatch]:
    scored = [(rank, match.name.casefold(), match) for match in candidates
              if (rank := _rank(match.name, query)) is not None]
    scored.sort(key=lambda item: (item[0], item[1]))
    return [match for _rank_value, _name, match in scored[:limit]]


def transform_point(x: float, y: float, source: QgsCoordinateReferenceSystem | str, epsg: int) -> tuple[float, float]:
    """(x, y) from *source* into ``EPSG:<epsg>`` (the store CRS)."""
    source_crs = source if isinstance(source, QgsCoordinateReferenceSystem) else QgsCoordinateReferenceSystem(source)
    target = QgsCoordinateReferenceSystem(f"EPSG:{int(epsg)}")
    if source_crs == target:
        return float(x), float(y)
    transform = QgsCoordinateTransform(source_crs, target, QgsProject.instance())
    point = transform.transform(QgsPointXY(float(x), float(y)))
    return point.x(), point.y()


def search_districts(query: str, epsg: int, limit: int = 10) -> list[PlaceMatch]:
    """The shipped Helsingborg district points (EPSG:3006) whose name matches *query*."""
    candidates = []
    for district in districts():
        x, y = transform_point(district.x, district.y, "EPSG:3006", epsg)
        candidates.append(PlaceMatch(district.name, x, y, "districts"))
    return _ranked(candidates, query, limit)


def search_layer(layer: QgsVectorLayer, field: str, query: str, epsg: int, limit: int = 10) -> list[PlaceMatch]:
    """Features of a point (or any) layer whose *field* matches *query*, as points in the store CRS.

    The provider filters with ILIKE (fast on big address layers); non-point features use their
    centroid so a street or block layer works too.
    """
    wanted = query.strip()
    if not wanted or layer is None or not layer.isValid() or layer.fields().indexOf(field) < 0:
        return []
    pattern = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    expression = f"{QgsExpression.quotedColumnRef(field)} ILIKE {QgsExpression.quotedString(pattern)}"
    request = QgsFeatureRequest().setFilterExpression(expression).setLimit(_LAYER_FETCH)
    candidates = _layer_matches(layer, field, request, epsg)
    if not candidates:
        # ILIKE does not fold diacritics ("malmo" vs "Malmö"): scan the names once, folded.
        scan = QgsFeatureRequest().setLimit(_FOLDED_SCAN_LIMIT)
        candidates = _layer_matches(layer, field, scan, epsg, lambda name: _rank(name, wanted) is not None)
    return _ranked(candidates, wanted, limit)


def _layer_matches(layer: QgsVectorLayer, field: str, request: QgsFeatureRequest, epsg: int,
                   keep: Callable[[str], bool] | None = None) -> list[PlaceMatch]:
    request.setSubsetOfAttributes([field], layer.fields())
    found = []
    source_crs = layer.crs()
    for feature in layer.getFeatures(request):
        geometry = feature.geometry()
        name = feature[field]
        if geometry is None or geometry.isEmpty() or name is None or (keep is not None and not keep(str(name))):
            continue
        if geometry.type() != QgsWkbTypes.PointGeometry or geometry.isMultipart():
            geometry = geometry.centroid()
        point = geometry.asPoint()
        x, y = transform_point(point.x(), point.y(), source_crs, epsg)
        found.append(PlaceMatch(str(name), x, y, layer.name()))
    return found


def configured_layer(layer_id: str, field: str, project: QgsProject | None = None) -> QgsVectorLayer | None:
    """The place layer named in the settings, or None when unset, gone, or lacking the field."""
    if not layer_id or not field:
        return None
    layer = (project or QgsProject.instance()).mapLayer(layer_id)
    if not isinstance(layer, QgsVectorLayer) or not layer.isValid() or layer.fields().indexOf(field) < 0:
        return None
    return layer


@dataclass(frozen=True)
class AddressSource:
    """The municipality's address points, by source and fields: "Kullagatan 10" is found by street
    and house number (or in one field holding the whole address)."""

    source: str
    provider: str
    street_field: str
    number_field: str = ""

    def layer(self) -> QgsVectorLayer | None:
        """Opened for each search (a few milliseconds): a layer kept in a module would outlive QGIS."""
        layer = QgsVectorLayer(self.source, "addresses", self.provider)
        return layer if layer.isValid() and layer.fields().indexOf(self.street_field) >= 0 else None

_HOUSE_NUMBER = re.compile(r"^(?P<street>.*?\D)\s*(?P<number>\d+\s*[A-Za-z]?)\s*$")


def search_addresses(source: AddressSource, query: str, epsg: int, limit: int = 10) -> list[PlaceMatch]:
    """Addresses matching *query*: "Kullagatan 10" → that house; "Kullagatan" → the street's houses."""
    layer = source.layer()
    wanted = query.strip()
    if layer is None or not wanted:
        return []
    parsed = _HOUSE_NUMBER.match(wanted) if source.number_field else None
    if parsed is None or layer.fields().indexOf(source.number_field) < 0:
        return search_layer(layer, source.street_field, wanted, epsg, limit)
    street, number = parsed.group("street").strip(" ,"), parsed.group("number").replace(" ", "")
    expression = (f"{QgsExpression.quotedColumnRef(source.street_field)} ILIKE {QgsExpression.quotedString(street)} "
                  f"AND upper(to_string({QgsExpression.quotedColumnRef(source.number_field)})) = "
                  f"{QgsExpression.quotedString(number.upper())}")
    request = QgsFeatureRequest().setFilterExpression(expression).setLimit(limit)
    request.setSubsetOfAttributes([source.street_field, source.number_field], layer.fields())
    found = []
    for feature in layer.getFeatures(request):
        geometry = feature.geometry()
        if geometry is None or geometry.isEmpty():
            continue
        point = geometry.centroid().asPoint()
        x, y = transform_point(point.x(), point.y(), layer.crs(), epsg)
        found.append(PlaceMatch(f"{feature[source.street_field]} {feature[source.number_field]}", x, y, "addresses"))
    return found


def search_places(query: str, epsg: int, layer: QgsVectorLayer | None = None, field: str = "",
                  limit: int = 10, addresses: AddressSource | None = None) -> list[PlaceMatch]:
    """Places matching *query*: addresses first (when configured), then the configured place layer
    when there is one, else the shipped districts."""
    found = search_addresses(addresses, query, epsg, limit) if addresses is not None else []
    if layer is not None and field:
        found += search_layer(layer, field, query, epsg, limit)
    else:
        found += search_districts(query, epsg, limit)
    return found[:limit]


# ---------------------------------------------------------------------- typed coordinates
_DOT_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_COMMA_NUMBER = r"[-+]?\d+(?:,\d+)?"
_PLAIN_DOT = re.compile(rf"^\s*({_DOT_NUMBER})\s*(?:[,;]\s*|\s+)({_DOT_NUMBER})\s*$")
_PLAIN_COMMA = re.compile(rf"^\s*({_COMMA_NUMBER})\s*(?:;\s*|\s+)({_COMMA_NUMBER})\s*$")
_NUMBER = r"\d+(?:[.,]\d+)?"
# One angle with its hemisphere letter before or after: 56.04 N, N 56°2'24", 12,69 Ö …
_ANGLE_BODY = (
    rf"(?P<deg>{_NUMBER})\s*°?\s*(?:(?P<min>{_NUMBER})\s*['′]\s*)?(?:(?P<sec>{_NUMBER})\s*(?:\"|″|''))?"
)
_ANGLE_FORMS = (re.compile(rf"(?P<h>[NSEWÖVO])\s*{_ANGLE_BODY}"), re.compile(rf"{_ANGLE_BODY}\s*(?P<h>[NSEWÖVO])"))
_HEMISPHERE = {"N": ("lat", 1), "S": ("lat", -1), "E": ("lon", 1), "Ö": ("lon", 1), "O": ("lon", 1),
               "W": ("lon", -1), "V": ("lon", -1)}


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _hemisphere_angles(text: str) -> tuple[float, float] | None:
    """(lat, lon) from two angles that each carry a hemisphere letter, else None."""
    values: dict[str, float] = {}
    position = 0
    compact = text.upper().strip()
    while position < len(compact):
        if compact[position] in " ,;\t":
            position += 1
            continue
        match = next((m for form in _ANGLE_FORMS if (m := form.match(compact, position))), None)
        if match is None:
            return None
        letter = match.group("h")
        axis, sign = _HEMISPHERE[letter]
        if axis in values:
            return None
        angle = _number(match.group("deg"))
        angle += _number(match.group("min")) / 60 if match.group("min") else 0.0
        angle += _number(match.group("sec")) / 3600 if match.group("sec") else 0.0
        values[axis] = sign * angle
        position = match.end()
    if set(values) != {"lat", "lon"} or abs(values["lat"]) > 90 or abs(values["lon"]) > 180:
        return None
    return values["lat"], values["lon"]


def _plain_pair(text: str) -> tuple[float, float] | None:
    for pattern in (_PLAIN_DOT, _PLAIN_COMMA):
        match = pattern.match(text)
        if match:
            return _number(match.group(1)), _number(match.group(2))
    return None


def _pick(candidates: list[tuple[float, float]], extent: Extent | None) -> tuple[float, float]:
    """The first reading inside the extent, else the first (validation then says why it is wrong)."""
    if extent is not None:
        for x, y in candidates:
            if extent.contains(x, y):
                return x, y
    return candidates[0]


def parse_coordinates(text: str, epsg: int, extent: Extent | None = None) -> ParsedCoordinates | None:
    """Read typed coordinates into the store CRS, or None if *text* is not coordinates.

    Accepts store-CRS metres ("356500, 6213700", either order) and WGS 84 degrees, with
    hemisphere letters ("56.04 N 12.69 E", "N 56°2'24\" E 12°41'24\"", Swedish Ö/V) or as a
    bare pair ("56.04, 12.69", latitude first unless only the other order lies in *extent*).
    """
    if not text or not text.strip():
        return None
    angles = _hemisphere_angles(text)
    if angles is not None:
        lat, lon = angles
        x, y = transform_point(lon, lat, WGS84, epsg)
        return ParsedCoordinates(x, y, WGS84)
    pair = _plain_pair(text)
    if pair is None:
        return None
    a, b = pair
    degrees = abs(a) <= 180 and abs(b) <= 180
    if degrees and int(epsg) != 4326:
        readings = []
        for lat, lon in ((a, b), (b, a)):
            if abs(lat) <= 90:
                readings.append(transform_point(lon, lat, WGS84, epsg))
        if not readings:
            return None
        x, y = _pick(readings, extent)
        return ParsedCoordinates(x, y, WGS84)
    x, y = _pick([(a, b), (b, a)], extent)
    return ParsedCoordinates(x, y, f"EPSG:{int(epsg)}")


# ---------------------------------------------------------------------- online geocoding
def online_geocoder() -> object | None:
    """QGIS's own Nominatim geocoder (OpenStreetMap; QGIS 3.20 and later), limited to Sweden, or
    None where this QGIS has none. It keeps Nominatim's one-request-a-second policy itself."""
    try:
        from qgis.core import QgsNominatimGeocoder
    except ImportError:
        return None
    return QgsNominatimGeocoder("se")


def geocode(geocoder: object, query: str, epsg: int, extent: Extent | None = None, limit: int = 5,
            feedback: object = None) -> list[PlaceMatch]:
    """Places a geocoder finds for *query*, in the store CRS, those inside *extent* only (blocking:
    call it from a task). Network or service errors give no matches, never an exception."""
    from qgis.core import QgsGeocoderContext

    wanted = query.strip()
    if not wanted:
        return []
    try:
        results = geocoder.geocodeString(wanted, QgsGeocoderContext(QgsProject.instance().transformContext()),
                                         feedback)
    except Exception:  # noqa: BLE001 - offline, refused, malformed answer: the local search stands alone
        return []
    found = []
    for result in results or []:
        if not result.isValid() or result.geometry().isEmpty():
            continue
        point = result.geometry().centroid().asPoint()
        x, y = transform_point(point.x(), point.y(), result.crs(), epsg)
        if extent is None or extent.contains(x, y):
            found.append(PlaceMatch(result.identifier(), x, y, "online"))
        if len(found) >= limit:
            break
    return found
