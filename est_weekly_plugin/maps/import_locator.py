"""Placing imported rows by their address or place name, with what the user configured.

The import engine (``store.importing``) sits below the map layer, so it takes this locator as a
plain callable: text → (x, y, precision) in the store's CRS, or None. A house address found in the
address layer is a point; a street alone is the middle of its addresses (precision ``street``: drawn,
marked); a configured place is a point; a district name is an area (``district``: counted, not drawn).
"""

from __future__ import annotations

from collections.abc import Callable

from qgis.core import QgsProject, QgsVectorLayer

from ..domain.model import Precision
from ..domain.settings import EstSettings
from .places import AddressSource, configured_layer, fold, search_addresses, search_districts, search_layer

Located = tuple[float, float, str]
_STREET_HOUSES = 200  # houses read to place a street by its middle


def _exact(matches: list, text: str) -> list:
    wanted = fold(text)
    return [match for match in matches if fold(match.name) == wanted]


def address_locator(settings: EstSettings, epsg: int, project: QgsProject | None = None) -> Callable[[str], Located | None]:
    """A locator over the configured address source, place layer and the shipped districts.

    Safe to call in a worker thread (the import plans in a task): it opens its own copy of the
    project's place layer, by its source, in the thread that first uses it — never the project's.
    """
    addresses = AddressSource(settings.address_source, settings.address_provider, settings.address_street_field,
                              settings.address_number_field) if settings.address_source else None
    configured = configured_layer(settings.place_layer_id, settings.place_field, project)
    place_source = (configured.source(), configured.providerType()) if configured is not None \
        and configured.providerType() != "memory" else None
    own: dict[str, QgsVectorLayer | None] = {}

    def place_layer() -> QgsVectorLayer | None:
        if place_source is None:  # a memory layer cannot be reopened: the project's own (small, read-only here)
            return configured
        if "layer" not in own:
            own["layer"] = QgsVectorLayer(place_source[0], "places", place_source[1])
        return own["layer"]

    def locate(text: str) -> Located | None:
        text = text.split(",")[0].strip() if "," in text and addresses is not None else text.strip()
        if addresses is not None:
            houses = search_addresses(addresses, text, epsg, limit=_STREET_HOUSES)
            numbered = [h for h in houses if any(ch.isdigit() for ch in h.name)]
            if len(houses) == 1 or (numbered and any(ch.isdigit() for ch in text)):
                return houses[0].x, houses[0].y, Precision.POINT.value
            street = [h for h in houses if fold(h.name).startswith(fold(text))]
            if street:
                return (sum(h.x for h in street) / len(street), sum(h.y for h in street) / len(street),
                        Precision.STREET.value)
        places = place_layer()
        if places is not None:
            hit = _exact(search_layer(places, settings.place_field, text, epsg, limit=5), text)
            if hit:
                return hit[0].x, hit[0].y, Precision.POINT.value
        district = _exact(search_districts(text, epsg, limit=3), text)
        return (district[0].x, district[0].y, Precision.DISTRICT.value) if district else None

    return locate
