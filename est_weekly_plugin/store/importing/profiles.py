"""Import profiles: how a source's columns and values become EST events, saved by name per source.

A profile is plain data (JSON in the store's ``import_profiles`` table), so next week's file from
the same source imports with one choice. Three ready-made profiles cover real sources:

* ``police`` — the Swedish Police's open events API (``polisen.se/api/events``) saved as a file:
  id, datetime, name, summary, url, type, location.name, location.gps ("lat,lng"). Its point is the
  centroid of a municipality or county, not the event's place: rows enter with precision
  ``municipality`` (counted, never drawn, not in hot-spots).
* ``open311`` — Open311 GeoReport v2 service requests, the format of many municipal fault-report
  systems: service_request_id, service_code/service_name, description, status,
  requested_datetime, address, lat, long.
* ``generic`` — a guard company's or property owner's spreadsheet; columns found by their usual
  Swedish or English names, the rest mapped in the wizard.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ...domain.model import Precision

# Where an event's place comes from.
LOCATION_GEOMETRY = "geometry"  # the layer's own geometries (GeoPackage, GeoJSON, Shapefile, a project layer)
LOCATION_XY = "xy"  # two coordinate columns in a chosen (or detected) CRS
LOCATION_LATLON_TEXT = "latlon_text"  # one "lat,lng" column (the police's location.gps)
LOCATION_ADDRESS = "address"  # an address or place name matched against the configured address/place layer
LOCATION_MODES = (LOCATION_GEOMETRY, LOCATION_XY, LOCATION_LATLON_TEXT, LOCATION_ADDRESS)
CRS_AUTO = "auto"

# The event fields a source column can fill.
TARGET_FIELDS = ("category", "organisation", "date", "time_from", "time_to", "datetime", "place_name",
                 "description", "source_id", "x", "y", "latlon", "address")

# Usual column names (lower case) per field: a new spreadsheet is mapped without clicking.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "category": ("category", "kategori", "händelsetyp", "händelse", "typ", "type", "service_name", "ärendetyp"),
    "organisation": ("organisation", "organization", "rapporterande organisation", "org", "organisation_kod"),
    "date": ("event_date", "date", "datum", "händelsedatum"),
    "time_from": ("time_from", "time", "tid", "tid_från", "tid_fran", "från", "fran", "klockslag", "starttid"),
    "time_to": ("time_to", "tid_till", "till", "sluttid"),
    "datetime": ("datetime", "requested_datetime", "tidpunkt", "datum_tid"),
    "place_name": ("place_name", "place", "plats", "platsnamn", "location.name", "objekt", "fastighet"),
    "description": ("description", "beskrivning", "text", "summary", "notering", "kommentar", "anteckning"),
    "source_id": ("source_id", "id", "ärendenummer", "ärendenr", "arendenummer", "service_request_id", "rapportnummer",
                  "rapportnr", "löpnummer"),
    "x": ("x", "e", "easting", "e_sweref99tm", "lon", "lng", "long", "longitude", "östlig"),
    "y": ("y", "n", "northing", "n_sweref99tm", "lat", "latitude", "nordlig"),
    "latlon": ("location.gps", "gps", "latlon", "koordinater"),
    "address": ("address", "adress", "gatuadress"),
}


@dataclass
class ImportProfile:
    """Field mapping, category value mapping, location mode and CRS of one source."""

    name: str
    source: str  # code in the sources table (the rows' source; unique with each row's source id)
    source_name: str = ""
    fields: dict[str, str | list[str]] = field(default_factory=dict)  # target → column (description: columns)
    category_values: dict[str, str] = field(default_factory=dict)  # source value (any case) → category code
    organisation: str = ""  # fixed organisation code when no column says it
    organisation_values: dict[str, str] = field(default_factory=dict)
    location: str = LOCATION_XY
    crs: str = CRS_AUTO  # of x/y columns: "EPSG:3006", "EPSG:4326" … or auto-detected
    precision: str = Precision.POINT.value  # what every row's point stands for (address matches say their own)
    default_category: str = ""  # for values not in the mapping ("" = a problem row)
    builtin: bool = False

    def column(self, target: str) -> str:
        value = self.fields.get(target, "")
        return value[0] if isinstance(value, list) and value else (value if isinstance(value, str) else "")

    def columns(self, target: str) -> list[str]:
        value = self.fields.get(target, [])
        return [c for c in value if c] if isinstance(value, list) else ([value] if value else [])

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("builtin")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportProfile:
        known = {name for name in cls.__dataclass_fields__ if name != "builtin"}
        return cls(**{key: value for key, value in data.items() if key in known})

    def with_columns(self, columns: list[str]) -> ImportProfile:
        """This profile with every unmapped field mapped by its usual column name, when *columns* have it."""
        found = dict(self.fields)
        by_lower = {c.lower().strip(): c for c in columns}
        for target, aliases in COLUMN_ALIASES.items():
            if found.get(target) and all(c in columns for c in ([found[target]] if isinstance(found[target], str)
                                                                 else found[target])):
                continue
            match = next((by_lower[a] for a in aliases if a in by_lower), "")
            if match:
                found[target] = match
            elif target in found:
                found.pop(target)
        if found.get("description") and isinstance(found["description"], str):
            found["description"] = [found["description"]]
        profile = ImportProfile.from_json({**self.to_json(), "fields": found})
        if self.location == LOCATION_XY and not (found.get("x") and found.get("y")):
            profile.location = LOCATION_LATLON_TEXT if found.get("latlon") else (
                LOCATION_ADDRESS if found.get("address") else LOCATION_XY)
        return profile


# The police's event types (polisen.se) that are EST categories; the rest are problem rows until mapped.
POLICE_CATEGORIES = {
    "skadegörelse": "skadegorelse", "brand": "brand", "klotter": "klotter",
    "narkotikabrott": "narkotika", "stöld": "stold_inbrott", "inbrott": "stold_inbrott",
    "stöld/inbrott": "stold_inbrott", "inbrott, försök": "stold_inbrott", "cykelstöld": "stold_inbrott",
    "misshandel": "hot_vald", "misshandel, grov": "hot_vald", "olaga hot": "hot_vald", "rån": "hot_vald",
    "rån, försök": "hot_vald", "våld/hot mot tjänsteman": "hot_vald", "knivlagen": "hot_vald",
    "bråk": "ordningsstorning", "ordningslagen": "ordningsstorning", "ofog barn/ungdom": "ordningsstorning",
    "fylleri/lob": "alkohol", "rattfylleri": "alkohol", "motorfordon, stöld": "fordon",
    "trafikbrott": "fordon", "övrigt": "ovrigt", "sammanfattning natt": "ovrigt",
}

OPEN311_CATEGORIES = {
    "klotter": "klotter", "graffiti": "klotter", "skadegörelse": "skadegorelse", "vandalism": "skadegorelse",
    "nedskräpning": "nedskrapning", "skräp": "nedskrapning", "litter": "nedskrapning",
    "belysning": "otrygg_plats", "trasig belysning": "otrygg_plats", "gatubelysning": "otrygg_plats",
    "street light": "otrygg_plats", "sprutor": "sprutor", "kanyler": "sprutor", "övergivet fordon": "fordon",
    "abandoned vehicle": "fordon", "buskage": "otrygg_plats",
}


def police_profile() -> ImportProfile:
    return ImportProfile(
        name="Polisen – händelser", source="police", source_name="Polisen – öppna händelser (polisen.se)",
        fields={"source_id": "id", "datetime": "datetime", "category": "type", "place_name": "location.name",
                "description": ["name", "summary", "url"], "latlon": "location.gps"},
        category_values=dict(POLICE_CATEGORIES), organisation="polisen", location=LOCATION_LATLON_TEXT,
        crs="EPSG:4326", precision=Precision.MUNICIPALITY.value, builtin=True)


def open311_profile() -> ImportProfile:
    return ImportProfile(
        name="Open311 – felanmälan", source="open311", source_name="Felanmälan (Open311 GeoReport v2)",
        fields={"source_id": "service_request_id", "datetime": "requested_datetime", "category": "service_name",
                "place_name": "address", "description": ["description"], "x": "long", "y": "lat",
                "address": "address"},
        category_values=dict(OPEN311_CATEGORIES), organisation="sbf", location=LOCATION_XY, crs="EPSG:4326",
        builtin=True)


def generic_profile() -> ImportProfile:
    return ImportProfile(name="Kalkylblad", source="import", source_name="File import", location=LOCATION_XY,
                         crs=CRS_AUTO, builtin=True)


def builtin_profiles() -> list[ImportProfile]:
    return [police_profile(), open311_profile(), generic_profile()]


def all_profiles(store: Any) -> list[ImportProfile]:
    """The ready-made profiles, then the store's saved ones (a saved one may replace a ready-made name)."""
    saved = [ImportProfile.from_json(data) for data in store.import_profiles().values()]
    names = {profile.name for profile in saved}
    return [p for p in builtin_profiles() if p.name not in names] + saved


def guess_profile(table_columns: list[str], has_geometry: bool = False) -> ImportProfile:
    """The ready-made profile a file's columns look like (police, Open311), else the generic one
    (placed by the file's own geometries when it has them and no coordinate columns)."""
    columns = set(table_columns)
    if {"id", "datetime", "type", "location.gps"} <= columns:
        return police_profile()
    if {"service_request_id", "requested_datetime"} <= columns:
        return open311_profile().with_columns(table_columns)
    profile = generic_profile().with_columns(table_columns)
    if has_geometry and not (profile.column("x") and profile.column("y")):
        profile.location = LOCATION_GEOMETRY
    return profile
