"""The EST event store: one interface (``EventStore``), GeoPackage and PostGIS behind it."""

from .base import AuditEntry, EventStore, StoreSettings
from .gpkg import GeoPackageStore

__all__ = ["AuditEntry", "EventStore", "GeoPackageStore", "StoreSettings"]
