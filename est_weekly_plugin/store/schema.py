"""Versioned schema of the EST store, for GeoPackage (SQLite) and PostGIS alike.

Each migration is a list of SQL statements per dialect; ``migrate`` applies the missing ones
inside one transaction together with the ``schema_version`` row, so a failed migration leaves
the database exactly as it was. A database newer than this plugin is refused, never downgraded.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import schema_changes, schema_import, schema_privacy, schema_security, schema_security_gpkg

GPKG = "gpkg"
POSTGIS = "postgis"

DEFAULT_EPSG = 3006
PG_SCHEMA = "est"

STATUS_VALUES = "('submitted','approved','rejected','withdrawn')"
# SQLite rebuilds an IN-list's lookup table every time an INSERT runs (3 µs a row in bulk
# inserts); the same rule written with OR costs almost nothing.
_GPKG_STATUS_CHECK = " OR ".join(f"status = {value}" for value in STATUS_VALUES.strip("()").split(","))

# Database roles on PostGIS; the plugin maps membership to its Role enum.
PG_ROLES = ("est_viewer", "est_reporter", "est_reviewer", "est_admin")


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    gpkg: tuple[str, ...]
    postgis: tuple[str, ...]
    formatted: bool = True  # False: final SQL, not passed through str.format


def _gpkg_rtree(table: str, column: str, pk: str = "fid") -> tuple[str, ...]:
    """The GeoPackage R-tree extension for one geometry column, as GDAL and QGIS expect it.

    The triggers call ST_IsEmpty/ST_MinX…; GDAL registers them, and so does our own
    SQLite connection (see gpkg.py).
    """
    rt = f"rtree_{table}_{column}"
    bbox = f"NEW.{column}"
    values = f"(NEW.{pk}, ST_MinX({bbox}), ST_MaxX({bbox}), ST_MinY({bbox}), ST_MaxY({bbox}))"
    return (
        f"CREATE VIRTUAL TABLE {rt} USING rtree(id, minx, maxx, miny, maxy)",
        gpkg_rtree_insert_trigger(table, column, pk),
        f"""CREATE TRIGGER {rt}_update1 AFTER UPDATE OF {column} ON {table}
            WHEN OLD.{pk} = NEW.{pk} AND (NEW.{column} NOTNULL AND NOT ST_IsEmpty(NEW.{column}))
            BEGIN INSERT OR REPLACE INTO {rt} VALUES {values}; END""",
        f"""CREATE TRIGGER {rt}_update2 AFTER UPDATE OF {column} ON {table}
            WHEN OLD.{pk} = NEW.{pk} AND (NEW.{column} ISNULL OR ST_IsEmpty(NEW.{column}))
            BEGIN DELETE FROM {rt} WHERE id = OLD.{pk}; END""",
        f"""CREATE TRIGGER {rt}_update3 AFTER UPDATE ON {table}
            WHEN OLD.{pk} != NEW.{pk} AND (NEW.{column} NOTNULL AND NOT ST_IsEmpty(NEW.{column}))
            BEGIN DELETE FROM {rt} WHERE id = OLD.{pk}; INSERT OR REPLACE INTO {rt} VALUES {values}; END""",
        f"""CREATE TRIGGER {rt}_update4 AFTER UPDATE ON {table}
            WHEN OLD.{pk} != NEW.{pk} AND (NEW.{column} ISNULL OR ST_IsEmpty(NEW.{column}))
            BEGIN DELETE FROM {rt} WHERE id IN (OLD.{pk}, NEW.{pk}); END""",
        f"""CREATE TRIGGER {rt}_delete AFTER DELETE ON {table} WHEN old.{column} NOT NULL
            BEGIN DELETE FROM {rt} WHERE id = OLD.{pk}; END""",
        f"""INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)
            VALUES ('{table}', '{column}', 'gpkg_rtree_index',
                    'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')""",
    )


def gpkg_rtree_insert_trigger(table: str, column: str, pk: str = "fid") -> str:
    """The insert trigger alone: bulk inserts drop it and fill the R-tree in one pass."""
    rt = f"rtree_{table}_{column}"
    bbox = f"NEW.{column}"
    return f"""CREATE TRIGGER {rt}_insert AFTER INSERT ON {table}
        WHEN (NEW.{column} NOT NULL AND NOT ST_IsEmpty(NEW.{column}))
        BEGIN INSERT OR REPLACE INTO {rt} VALUES
        (NEW.{pk}, ST_MinX({bbox}), ST_MaxX({bbox}), ST_MinY({bbox}), ST_MaxY({bbox})); END"""


def gpkg_feature_count_triggers(table: str) -> tuple[str, str]:
    """The triggers GDAL uses to keep ``gpkg_ogr_contents.feature_count`` current."""
    return (
        f"""CREATE TRIGGER "trigger_insert_feature_count_{table}" AFTER INSERT ON "{table}" BEGIN
            UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1
            WHERE lower(table_name) = lower('{table}'); END""",
        f"""CREATE TRIGGER "trigger_delete_feature_count_{table}" AFTER DELETE ON "{table}" BEGIN
            UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1
            WHERE lower(table_name) = lower('{table}'); END""",
    )


def _gpkg_contents(table: str, data_type: str, description: str, geometry: str | None = None) -> tuple[str, ...]:
    statements = [
        f"""INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id)
            VALUES ('{table}', '{data_type}', '{table}', '{description}',
                    strftime('%Y-%m-%dT%H:%M:%fZ','now'), {"{srid}" if geometry else "0"})"""
    ]
    if geometry:
        statements.append(
            f"""INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m)
                VALUES ('{table}', 'geom', '{geometry}', {{srid}}, 0, 0)"""
        )
    return tuple(statements)


_GPKG_CORE = (
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
        ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
        ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system')""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
        description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
        scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
    "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES ({srs_name}, {srid}, 'EPSG', {srid}, {srs_wkt}, '')",
)

_EVENT_COLUMNS_GPKG = """
        uuid TEXT NOT NULL,
        category TEXT NOT NULL REFERENCES categories(code),
        organisation TEXT NOT NULL REFERENCES organisations(code),
        reporter TEXT NOT NULL DEFAULT '',
        event_date DATE NOT NULL,
        time_from TEXT,
        time_to TEXT,
        place_name TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'submitted' CHECK (""" + _GPKG_STATUS_CHECK + """),
        reviewer TEXT,
        reviewed_at DATETIME,
        review_reason TEXT,
        duplicate_of TEXT,
        created_at DATETIME NOT NULL,
        updated_at DATETIME NOT NULL,
        version INTEGER NOT NULL DEFAULT 1"""

_V1_GPKG = (
    *_GPKG_CORE,
    """CREATE TABLE schema_version (
        version INTEGER PRIMARY KEY, description TEXT NOT NULL, plugin_version TEXT NOT NULL,
        applied_at DATETIME NOT NULL)""",
    "CREATE TABLE est_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE categories (
        code TEXT PRIMARY KEY, label_sv TEXT NOT NULL, label_en TEXT NOT NULL, colour TEXT NOT NULL,
        description_sv TEXT NOT NULL DEFAULT '', description_en TEXT NOT NULL DEFAULT '',
        active BOOLEAN NOT NULL DEFAULT 1, sort_order INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE organisations (
        code TEXT PRIMARY KEY, name_sv TEXT NOT NULL, name_en TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT '', active BOOLEAN NOT NULL DEFAULT 1)""",
    "CREATE TABLE events (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT," + _EVENT_COLUMNS_GPKG + ")",
    """CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL DEFAULT 'event',
        subject_uuid TEXT NOT NULL, action TEXT NOT NULL,
        actor TEXT NOT NULL, at DATETIME NOT NULL, reason TEXT, changes TEXT NOT NULL DEFAULT '{{}}')""",
    "CREATE INDEX audit_log_subject ON audit_log (subject_uuid)",
    "CREATE UNIQUE INDEX events_uuid ON events (uuid)",
    "CREATE INDEX events_status_date ON events (status, event_date)",
    "CREATE INDEX events_category ON events (category)",
    "CREATE INDEX events_organisation ON events (organisation)",
    *_gpkg_contents("events", "features", "EST events", geometry="POINT"),
    *_gpkg_contents("categories", "attributes", "EST event categories"),
    *_gpkg_contents("organisations", "attributes", "EST reporting organisations"),
    *_gpkg_contents("audit_log", "attributes", "EST review and audit log"),
    *_gpkg_rtree("events", "geom"),
    # GDAL's feature-count cache: QGIS relies on it to count features under a subset filter.
    """CREATE TABLE gpkg_ogr_contents (table_name TEXT NOT NULL PRIMARY KEY, feature_count INTEGER DEFAULT NULL)""",
    "INSERT INTO gpkg_ogr_contents VALUES ('events', 0)",
    *gpkg_feature_count_triggers("events"),
)

_V1_PG = (
    "CREATE EXTENSION IF NOT EXISTS postgis",
    f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {PG_SCHEMA}.schema_version (
        version integer PRIMARY KEY, description text NOT NULL, plugin_version text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())""",
    f"CREATE TABLE {PG_SCHEMA}.est_settings (key text PRIMARY KEY, value text NOT NULL)",
    f"""CREATE TABLE {PG_SCHEMA}.categories (
        code text PRIMARY KEY, label_sv text NOT NULL, label_en text NOT NULL, colour text NOT NULL,
        description_sv text NOT NULL DEFAULT '', description_en text NOT NULL DEFAULT '',
        active boolean NOT NULL DEFAULT true, sort_order integer NOT NULL DEFAULT 0)""",
    f"""CREATE TABLE {PG_SCHEMA}.organisations (
        code text PRIMARY KEY, name_sv text NOT NULL, name_en text NOT NULL,
        kind text NOT NULL DEFAULT '', active boolean NOT NULL DEFAULT true)""",
    f"""CREATE TABLE {PG_SCHEMA}.events (
        fid bigserial PRIMARY KEY,
        geom geometry(Point, {{srid}}) NOT NULL,
        uuid uuid NOT NULL UNIQUE,
        category text NOT NULL REFERENCES {PG_SCHEMA}.categories(code),
        organisation text NOT NULL REFERENCES {PG_SCHEMA}.organisations(code),
        reporter text NOT NULL DEFAULT '',
        event_date date NOT NULL,
        time_from time,
        time_to time,
        place_name text NOT NULL DEFAULT '',
        description text NOT NULL DEFAULT '',
        status text NOT NULL DEFAULT 'submitted' CHECK (status IN {STATUS_VALUES}),
        reviewer text,
        reviewed_at timestamptz,
        review_reason text,
        duplicate_of uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1)""",
    f"""CREATE TABLE {PG_SCHEMA}.audit_log (
        id bigserial PRIMARY KEY, subject text NOT NULL DEFAULT 'event',
        subject_uuid uuid NOT NULL, action text NOT NULL,
        actor text NOT NULL, at timestamptz NOT NULL DEFAULT now(), reason text,
        changes jsonb NOT NULL DEFAULT '{{{{}}}}'::jsonb)""",
    f"CREATE INDEX audit_log_subject ON {PG_SCHEMA}.audit_log (subject_uuid)",
    f"CREATE INDEX events_status_date ON {PG_SCHEMA}.events (status, event_date)",
    f"CREATE INDEX events_category ON {PG_SCHEMA}.events (category)",
    f"CREATE INDEX events_organisation ON {PG_SCHEMA}.events (organisation)",
    f"CREATE INDEX events_geom ON {PG_SCHEMA}.events USING gist (geom)",
)

# v2: the weekly meeting and its priorities (filled by the meeting issue).
_V2_GPKG = (
    """CREATE TABLE meetings (
        id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, iso_week TEXT NOT NULL UNIQUE,
        meeting_date DATE,
        organisations TEXT NOT NULL DEFAULT '[]', notes TEXT NOT NULL DEFAULT '',
        created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, version INTEGER NOT NULL DEFAULT 1)""",
    """CREATE TABLE priorities (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, geom GEOMETRY, uuid TEXT NOT NULL UNIQUE,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('focus','hotspot')), rank INTEGER NOT NULL,
        name TEXT NOT NULL, categories TEXT NOT NULL DEFAULT '[]', radius_m REAL,
        responsible TEXT NOT NULL DEFAULT '[]', action TEXT NOT NULL DEFAULT '',
        time_focus TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','continue','done','dropped')),
        follow_up_comment TEXT NOT NULL DEFAULT '',
        created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, version INTEGER NOT NULL DEFAULT 1)""",
    "CREATE INDEX priorities_meeting ON priorities (meeting_id, kind, rank)",
    *_gpkg_contents("meetings", "attributes", "EST weekly meetings"),
    *_gpkg_contents("priorities", "features", "EST meeting priorities", geometry="GEOMETRY"),
)

_V2_PG = (
    f"""CREATE TABLE {PG_SCHEMA}.meetings (
        id bigserial PRIMARY KEY, uuid uuid NOT NULL UNIQUE, iso_week text NOT NULL UNIQUE, meeting_date date,
        organisations jsonb NOT NULL DEFAULT '[]'::jsonb, notes text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1)""",
    f"""CREATE TABLE {PG_SCHEMA}.priorities (
        fid bigserial PRIMARY KEY, geom geometry(Geometry, {{srid}}), uuid uuid NOT NULL UNIQUE,
        meeting_id bigint NOT NULL REFERENCES {PG_SCHEMA}.meetings(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('focus','hotspot')), rank integer NOT NULL,
        name text NOT NULL, categories jsonb NOT NULL DEFAULT '[]'::jsonb, radius_m double precision,
        responsible jsonb NOT NULL DEFAULT '[]'::jsonb, action text NOT NULL DEFAULT '',
        time_focus text NOT NULL DEFAULT '',
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','continue','done','dropped')),
        follow_up_comment text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1)""",
    f"CREATE INDEX priorities_meeting ON {PG_SCHEMA}.priorities (meeting_id, kind, rank)",
)

# v3: roles. On PostGIS the database enforces them (row-level security builds on these);
# on a GeoPackage the role is a local setting and not a security boundary.
_V3_PG = (
    *(
        f"""DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}')
             THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"""
        for role in PG_ROLES
    ),
    "GRANT est_viewer TO est_reporter",
    "GRANT est_viewer TO est_reviewer",
    "GRANT est_reporter, est_reviewer TO est_admin",
    f"GRANT USAGE ON SCHEMA {PG_SCHEMA} TO est_viewer",
    f"GRANT SELECT ON ALL TABLES IN SCHEMA {PG_SCHEMA} TO est_viewer",
    f"GRANT INSERT, UPDATE ON {PG_SCHEMA}.events, {PG_SCHEMA}.audit_log TO est_reporter",
    f"GRANT UPDATE ON {PG_SCHEMA}.events TO est_reviewer",
    f"GRANT INSERT ON {PG_SCHEMA}.audit_log TO est_reviewer",
    f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {PG_SCHEMA} TO est_reporter, est_reviewer",
    f"GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {PG_SCHEMA} TO est_admin",
    f"GRANT INSERT, UPDATE, DELETE ON {PG_SCHEMA}.meetings, {PG_SCHEMA}.priorities TO est_reviewer",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events, categories, organisations, audit log, settings", _V1_GPKG, _V1_PG),
    Migration(2, "weekly meetings and priorities", _V2_GPKG, _V2_PG),
    Migration(3, "database roles for reporter, reviewer, viewer, administrator", (), _V3_PG),
    Migration(4, "logins and organisations, row-level security, database-written audit log, sources",
              schema_security_gpkg.GPKG_V4, schema_security.PG_V4, formatted=False),
    Migration(5, "personal-data flags, redaction reaching the history, retention, recorded exports",
              schema_privacy.GPKG_V5, schema_privacy.PG_V5, formatted=False),
    Migration(6, "a change feed: each event's audit row names its transaction (the compilation stays current)",
              schema_changes.GPKG_V6, schema_changes.PG_V6, formatted=False),
    Migration(7, "events from other systems: location precision, shared import profiles, police and Open311 sources",
              schema_import.GPKG_V7, schema_import.PG_V7, formatted=False),
    # "My reports" reads a reporter's latest reports at every database open: without this index, a scan of all events
    Migration(8, "an index of each reporter's reports, newest first",
              ("CREATE INDEX events_reporter_created ON events (reporter, created_at)",),
              (f"CREATE INDEX events_reporter_created ON {PG_SCHEMA}.events (reporter, created_at)",)),
)

LATEST_VERSION = MIGRATIONS[-1].version


def statements(migration: Migration, dialect: str, **values: str) -> list[str]:
    """The migration's SQL for *dialect*, with ``{srid}`` etc. filled in."""
    raw = migration.gpkg if dialect == GPKG else migration.postgis
    return [sql.format(**values) for sql in raw] if migration.formatted else list(raw)
