"""The plugin's user settings: typed defaults, stored through QgsSettings under one prefix."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, fields

PREFIX = "est_weekly"


@dataclass
class EstSettings:
    """What a user's QGIS remembers between sessions (never a password)."""

    last_geopackage: str = ""
    last_postgis_connection: str = ""
    last_postgis_authcfg: str = ""
    local_role: str = "admin"  # GeoPackage only: a convenience, not a security boundary
    user_name: str = ""
    organisation: str = ""  # remembered between reports
    duplicate_distance_m: float = 100.0
    duplicate_window_h: float = 24.0
    place_layer_id: str = ""
    place_field: str = ""
    # the municipality's address points, by source (so every project finds them): see maps.places
    address_source: str = ""
    address_provider: str = ""
    address_street_field: str = ""  # the street, or the whole address when there is no number field
    address_number_field: str = ""
    online_geocoder: bool = False  # also ask OpenStreetMap's Nominatim (QGIS's own geocoder) when online

    @classmethod
    def load(cls) -> EstSettings:
        from qgis.core import QgsSettings

        stored = QgsSettings()
        values = {}
        for item in fields(cls):
            default = item.default
            raw = stored.value(f"{PREFIX}/{item.name}", default)
            try:
                if isinstance(default, bool):  # QgsSettings may hand back "false", which bool() calls true
                    values[item.name] = str(raw).lower() in ("1", "true", "yes") if raw is not None else default
                else:
                    values[item.name] = type(default)(raw) if raw is not None else default
            except (TypeError, ValueError):
                values[item.name] = default
        return cls(**values)

    def save(self) -> None:
        from qgis.core import QgsSettings

        stored = QgsSettings()
        for item in fields(self):
            stored.setValue(f"{PREFIX}/{item.name}", getattr(self, item.name))

    def effective_user(self) -> str:
        """The name written as reporter/reviewer on a GeoPackage (PostGIS uses the login)."""
        if self.user_name:
            return self.user_name
        try:
            return getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name in some service contexts
            return "qgis"


# What a QGIS project remembers of EST Weekly (QgsProject entries under one scope).
PROJECT_SCOPE = PREFIX
SOURCE_ENTRY = "source"  # "gpkg:<path>" or "postgis:<saved connection name>"


def project_source(project: object = None) -> tuple[str, str]:
    """(kind, value) of the EST database the project uses — ("gpkg", path), ("postgis", connection
    name) or ("", "") — so Processing can offer the open database without being told."""
    from qgis.core import QgsProject

    text, found = (project or QgsProject.instance()).readEntry(PROJECT_SCOPE, SOURCE_ENTRY, "")
    kind, _, value = (text or "").partition(":") if found else ("", "", "")
    return (kind, value) if kind in ("gpkg", "postgis") and value else ("", "")


def remember_project_source(kind: str, value: str, project: object = None) -> None:
    from qgis.core import QgsProject

    (project or QgsProject.instance()).writeEntry(PROJECT_SCOPE, SOURCE_ENTRY, f"{kind}:{value}")
