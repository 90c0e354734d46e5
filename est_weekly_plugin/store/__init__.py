"""The EST event store: one interface (``EventStore``), GeoPackage and PostGIS behind it."""

from __future__ import annotations

from pathlib import Path

from .base import AuditEntry, EventStore, StoreSettings
from .gpkg import GeoPackageStore
from .postgis import PgConnectionInfo, PostgisStore

__all__ = ["AuditEntry", "EventStore", "GeoPackageStore", "PgConnectionInfo", "PostgisStore", "StoreSettings",
           "open_store"]


def open_store(source: str | Path | PgConnectionInfo) -> EventStore:
    """Open a GeoPackage path or a PostGIS connection as an EST store (migrating if older)."""
    if isinstance(source, PgConnectionInfo):
        return PostgisStore.open(source)
    return GeoPackageStore.open(source)
