"""Schema v7: events from other systems — how precisely each is placed, and saved import profiles.

``location_precision`` says what an event's point stands for: the place itself (``point``), a
street (an address matched only to its street), or an area (``district``, ``municipality``; the
police's open events give the centroid of a municipality). Area events are counted in the
compilation but never drawn as points nor used in density or hot-spot statistics. The field is
audited like the others (snapshot on insert, from → to on every change, the lean bulk rows too).

``import_profiles`` keeps the wizard's field mapping, value mapping, location mode and CRS per
named source, shared by everyone: readable by every login, written by administrators and the
safety unit (reviewers) through ``est.save_import_profile`` (which also creates the source, never
trusted: only an administrator marks a source trusted). Both backends, one transaction, final SQL.
"""

from __future__ import annotations

from .schema_changes import PG_V6
from .schema_privacy import _gpkg_quiet_event_update, _pg_trigger_exceptions
from .schema_security import _PG_HELPERS
from .schema_security_gpkg import _GPKG_ACTOR, _GPKG_AUDIT_COLUMNS, GPKG_EVENT_AUDIT_INSERT_TRIGGER

S = "est"
PRECISIONS = ("point", "street", "district", "municipality")
_PG_CHECK = "location_precision IN ('point','street','district','municipality')"
_GPKG_CHECK = " OR ".join(f"location_precision = '{value}'" for value in PRECISIONS)  # see schema._GPKG_STATUS_CHECK
# Sources the ready-made profiles write as; never trusted until an administrator says so.
SEEDED_SOURCES = (("police", "Polisen – öppna händelser (polisen.se)"), ("open311", "Felanmälan (Open311 GeoReport v2)"))


def _replaced(text: str, old: str, new: str) -> str:
    result = text.replace(old, new, 1)
    assert result != text, f"earlier schema source changed: {old[:60]}"
    return result


def _pg_event_json() -> str:
    """v4's event_json/event_snapshot with the precision (a snapshot names it only when not 'point')."""
    source = next(statement for statement in _PG_HELPERS if "event_snapshot" in statement)
    source = _replaced(source, "'source', e.source, 'source_id', e.source_id) $b$$f$",
                       "'source', e.source, 'source_id', e.source_id, "
                       "'location_precision', e.location_precision) $b$$f$")
    return _replaced(source, "jsonb_build_array(NULL, e.source_id) END)) $b$$f$",
                     "jsonb_build_array(NULL, e.source_id) END, 'location_precision', "
                     "CASE WHEN e.location_precision <> 'point' THEN jsonb_build_array(NULL, e.location_precision) END"
                     ")) $b$$f$")


def _pg_insert_guard() -> str:
    """v5's insert guard: a client that sends NULL for the precision (QGIS, QField) means a point."""
    insert = _pg_trigger_exceptions()[0]
    return _replaced(insert, "NEW.personal_data := coalesce(NEW.personal_data, '');",
                     "NEW.personal_data := coalesce(NEW.personal_data, '');\n"
                     "        NEW.location_precision := coalesce(NEW.location_precision, 'point');")


def _pg_bulk_audits() -> tuple[str, str, str]:
    """The lean bulk audit rows (trigger and owner's loader) and the compilation view, with the precision."""
    _insert, _update, audit, view = _pg_trigger_exceptions()
    audit = _replaced(audit, "'source_id', jsonb_build_array(NULL, n.source_id)), n.organisation",
                      "'source_id', jsonb_build_array(NULL, n.source_id),\n"
                      "                                      'location_precision', "
                      "jsonb_build_array(NULL, n.location_precision)), n.organisation")
    loader = next(statement for statement in PG_V6 if "FUNCTION est.audit_loaded_events" in statement)
    for old, new in (
            ("SELECT d.status, d.source, jsonb_build_object(", "SELECT d.status, d.source, d.precision, jsonb_build_object("),
            ("'source_id', jsonb_build_array(NULL, NULL::text)) AS changes",
             "'source_id', jsonb_build_array(NULL, NULL::text),\n"
             "                                                          'location_precision', "
             "jsonb_build_array(NULL, d.precision)) AS changes"),
            ("coalesce(source, '') AS source\n", "coalesce(source, '') AS source, location_precision AS precision\n"),
            ("AND k.source = coalesce(e.source, '')", "AND k.source = coalesce(e.source, '') "
                                                      "AND k.precision = e.location_precision")):
        loader = _replaced(loader, old, new)
    view = _replaced(view, "e.source, e.source_id, e.personal_data\n",
                     "e.source, e.source_id, e.personal_data, e.location_precision\n")
    return audit, loader, view


_PG_PROFILES = (
    f"""CREATE TABLE {S}.import_profiles (
        name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100 AND name !~ '[[:cntrl:]]'),
        source text NOT NULL REFERENCES {S}.sources(code), profile jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        updated_at timestamptz NOT NULL DEFAULT now(), updated_by text NOT NULL DEFAULT session_user)""",
    *(f"""CREATE TRIGGER audit_{op.lower()} AFTER {op} ON {S}.import_profiles REFERENCING {ref}
          FOR EACH STATEMENT EXECUTE FUNCTION {S}.audit_rows('import_profile', 'name')"""
      for op, ref in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                      ("DELETE", "OLD TABLE AS old_rows"))),
    # Reviewers (the safety unit) and administrators keep the profiles; a new source comes with its first
    # profile, untrusted. SECURITY DEFINER: reviewers may not write the sources table directly.
    f"""CREATE OR REPLACE FUNCTION {S}.save_import_profile(name text, source text, source_name text, profile jsonb)
        RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
        IF {S}.my_role() IS NULL OR {S}.my_role() NOT IN ('admin', 'reviewer') THEN
            PERFORM {S}.refuse('not_admin');
        END IF;
        INSERT INTO {S}.sources (code, name) VALUES (source, source_name) ON CONFLICT (code) DO NOTHING;
        INSERT INTO {S}.import_profiles (name, source, profile) VALUES (name, source, profile)
        ON CONFLICT ON CONSTRAINT import_profiles_pkey DO UPDATE
            SET source = EXCLUDED.source, profile = EXCLUDED.profile, updated_at = now(), updated_by = session_user;
    END $$""",
    f"REVOKE ALL ON {S}.import_profiles FROM PUBLIC",
    f"GRANT SELECT ON {S}.import_profiles TO est_viewer",
    f"GRANT INSERT, UPDATE, DELETE ON {S}.import_profiles TO est_admin",
    f"REVOKE ALL ON FUNCTION {S}.save_import_profile(text, text, text, jsonb) FROM PUBLIC",
    f"GRANT EXECUTE ON FUNCTION {S}.save_import_profile(text, text, text, jsonb) TO est_reviewer, est_admin",
)

PG_V7 = (
    f"""ALTER TABLE {S}.events ADD COLUMN location_precision text NOT NULL DEFAULT 'point'
        CONSTRAINT events_location_precision_check CHECK ({_PG_CHECK})""",
    f"""CREATE INDEX events_area_precision ON {S}.events (fid) WHERE location_precision <> 'point'""",
    *(f"INSERT INTO {S}.sources (code, name) VALUES ('{code}', '{name}') ON CONFLICT (code) DO NOTHING"
      for code, name in SEEDED_SOURCES),
    _pg_event_json(),
    _pg_insert_guard(),
    *_pg_bulk_audits(),
    *_PG_PROFILES,
)

# ---------------------------------------------------------------------------------------------
# GeoPackage
# ---------------------------------------------------------------------------------------------
# The insert audit trigger of the latest schema: gpkg.py drops and re-creates it around bulk inserts.
GPKG_EVENT_AUDIT_INSERT_TRIGGER_V7 = _replaced(
    GPKG_EVENT_AUDIT_INSERT_TRIGGER, "json_object('category'",
    "json_object('location_precision', json_array(NULL, NEW.location_precision), 'category'")


def gpkg_event_audit_after_fid() -> str:
    """Lean audit rows for every event with fid > ?3 (parameters: actor, timestamp, fid), with the precision."""
    # the JSON text is concatenated (json_quote per value): a fifth quicker than json_object at a million rows
    changes = " || ".join(
        [f"'{{\"{name}\":[null,' || json_quote(e.{name}) || ']'" if i == 0 else
         f"',\"{name}\":[null,' || json_quote(e.{name}) || ']'"
         for i, name in enumerate(("status", "source", "source_id", "location_precision"))] + ["'}'"])
    return (f"INSERT INTO audit_log ({_GPKG_AUDIT_COLUMNS}) "
            "SELECT 'event', e.uuid, e.uuid, CASE WHEN e.source = 'form' THEN 'submit' ELSE 'import' END, ?1, ?2, "
            f"e.review_reason, {changes}, e.organisation FROM events AS e WHERE e.fid > ?3 ORDER BY e.fid")


def _gpkg_update_trigger() -> str:
    """v5's (quiet while redacting) update audit trigger, diffing the precision too."""
    arm = ("SELECT 'location_precision' AS k, json_array(OLD.location_precision, NEW.location_precision) AS v "
           "WHERE OLD.location_precision IS NOT NEW.location_precision UNION ALL ")
    return _replaced(_gpkg_quiet_event_update(), "SELECT 'category' AS k", arm + "SELECT 'category' AS k")


GPKG_V7 = (
    # nullable in a file: QGIS and QField write NULL for a field they do not know (SQLite cannot turn it into
    # the default in a trigger); every read takes NULL as 'point'
    f"ALTER TABLE events ADD COLUMN location_precision TEXT DEFAULT 'point' CHECK ({_GPKG_CHECK})",
    "CREATE INDEX events_area_precision ON events (fid) WHERE location_precision <> 'point'",
    *(f"INSERT OR IGNORE INTO sources (code, name) VALUES ('{code}', '{name}')" for code, name in SEEDED_SOURCES),
    "DROP TRIGGER est_audit_events_insert",
    GPKG_EVENT_AUDIT_INSERT_TRIGGER_V7,
    "DROP TRIGGER est_audit_events_update",
    _gpkg_update_trigger(),
    """CREATE TABLE import_profiles (name TEXT PRIMARY KEY, source TEXT NOT NULL REFERENCES sources(code),
        profile TEXT NOT NULL DEFAULT '{}', updated_at DATETIME NOT NULL, updated_by TEXT NOT NULL DEFAULT '')""",
    f"""CREATE TRIGGER est_audit_import_profiles_insert AFTER INSERT ON import_profiles BEGIN
        INSERT INTO audit_log (subject, subject_uuid, subject_key, action, actor, at, changes)
        VALUES ('import_profile', NEW.name, NEW.name, 'create', {_GPKG_ACTOR}, strftime('%Y-%m-%dT%H:%M:%fZ','now'),
                json_object('source', json_array(NULL, NEW.source), 'profile', json_array(NULL, json(NEW.profile)))); END""",
    f"""CREATE TRIGGER est_audit_import_profiles_update AFTER UPDATE ON import_profiles BEGIN
        INSERT INTO audit_log (subject, subject_uuid, subject_key, action, actor, at, changes)
        VALUES ('import_profile', NEW.name, NEW.name, 'edit', {_GPKG_ACTOR}, strftime('%Y-%m-%dT%H:%M:%fZ','now'),
                json_object('profile', json_array(json(OLD.profile), json(NEW.profile)))); END""",
)
