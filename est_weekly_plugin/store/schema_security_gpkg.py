"""Schema v4 for a GeoPackage: the same audit and state-machine triggers as PostGIS, in SQLite.

A file has no logins, so this is traceability, not a security boundary: no change made through
the plugin or through another SQLite client escapes the log (changes from outside EST Weekly are
logged as such). The triggers are plain SQL, so any SQLite client can still write the file.
"""

from __future__ import annotations

from .schema_security import _SNAPSHOT_FIELDS, AUDITED_EVENT_FIELDS

# The plugin writes who acts (and why) into est_audit_context at the start of its transaction and
# deletes the row before committing, so a change by any other SQLite client is logged as such.
OUTSIDE_ACTOR = "(outside EST Weekly)"
_CTX = "(SELECT {0} FROM est_audit_context WHERE id = 1)"
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


# Plain SQL only (any SQLite client can run these triggers): the point is kept as the hex of its
# GeoPackage blob under "geom", which the store decodes into x and y when it reads the log.
_GPKG_EVENT_FIELDS = tuple(name for name in AUDITED_EVENT_FIELDS if name not in ("x", "y")) + ("geom",)
_GPKG_SNAPSHOT_FIELDS = tuple(name for name in _SNAPSHOT_FIELDS if name not in ("x", "y")) + ("geom",)


def _gpkg_event_value(prefix: str, name: str) -> str:
    return f"hex({prefix}.geom)" if name == "geom" else f"{prefix}.{name}"


def _gpkg_event_snapshot(prefix: str) -> str:
    pairs = ", ".join(f"'{name}', json_array(NULL, {_gpkg_event_value(prefix, name)})"
                      for name in _GPKG_SNAPSHOT_FIELDS)
    return f"json_object({pairs})"


def _gpkg_diff(pairs: list[tuple[str, str, str]]) -> str:
    """JSON {name: [old, new]} of the pairs whose values differ (json_group_object over a UNION)."""
    arms = " UNION ALL ".join(
        f"SELECT '{name}' AS k, json_array({old}, {new}) AS v WHERE {old} IS NOT {new}" for name, old, new in pairs
    )
    return f"(SELECT coalesce(json_group_object(k, json(v)), '{{}}') FROM ({arms}))"


_GPKG_AUDIT_COLUMNS = "subject, subject_uuid, subject_key, action, actor, at, reason, changes, organisation"
_GPKG_ACTOR = f"coalesce({_CTX.format('actor')}, '{OUTSIDE_ACTOR}')"


def _gpkg_event_insert_values(prefix: str) -> str:
    """The audit values of a new event row named *prefix* ('NEW' in the trigger, a table alias in bulk)."""
    return (
        f"'event', {prefix}.uuid, {prefix}.uuid, CASE WHEN {prefix}.source = 'form' THEN 'submit' ELSE 'import' END, "
        f"{_GPKG_ACTOR}, {_NOW}, coalesce({_CTX.format('reason')}, {prefix}.review_reason), "
        f"{_gpkg_event_snapshot(prefix)}, {prefix}.organisation"
    )


def gpkg_event_audit_after_fid() -> str:
    """Audit rows for every event with fid > ? — how a bulk insert audits row by row, set-based.

    Lean, as on PostGIS: what entered and from where; the values are the event's own row.
    """
    # Parameters: actor, timestamp, fid. Ordered by uuid so the index on the key grows in order
    # (random uuids inserted in fid order cost 15 µs a row in index page splits).
    return (f"INSERT INTO audit_log ({_GPKG_AUDIT_COLUMNS}) "
            "SELECT 'event', e.uuid, e.uuid, CASE WHEN e.source = 'form' THEN 'submit' ELSE 'import' END, ?1, ?2, "
            "e.review_reason, json_object('status', json_array(NULL, e.status), 'source', json_array(NULL, e.source), "
            "'source_id', json_array(NULL, e.source_id)), e.organisation "
            "FROM events AS e WHERE e.fid > ?3 ORDER BY e.fid")


GPKG_EVENT_AUDIT_INSERT_TRIGGER = f"""CREATE TRIGGER est_audit_events_insert AFTER INSERT ON events BEGIN
    INSERT INTO audit_log ({_GPKG_AUDIT_COLUMNS}) VALUES ({_gpkg_event_insert_values('NEW')}); END"""


def _gpkg_event_triggers() -> tuple[str, ...]:
    diff = _gpkg_diff([(n, _gpkg_event_value("OLD", n), _gpkg_event_value("NEW", n)) for n in _GPKG_EVENT_FIELDS])
    action = ("CASE WHEN OLD.status = NEW.status AND NEW.status = 'approved' THEN 'correct' "
              "WHEN OLD.status = NEW.status THEN 'edit' WHEN NEW.status = 'approved' THEN 'approve' "
              "WHEN NEW.status = 'rejected' AND NEW.duplicate_of IS NOT NULL THEN 'duplicate' "
              "WHEN NEW.status = 'rejected' THEN 'reject' WHEN NEW.status = 'withdrawn' THEN 'withdraw' "
              "ELSE 'status' END")
    columns, actor = _GPKG_AUDIT_COLUMNS, _GPKG_ACTOR
    return (
        GPKG_EVENT_AUDIT_INSERT_TRIGGER,
        f"""CREATE TRIGGER est_audit_events_update AFTER UPDATE ON events BEGIN
            INSERT INTO audit_log ({columns}) VALUES ('event', NEW.uuid, NEW.uuid, {action}, {actor}, {_NOW},
                coalesce({_CTX.format('reason')}, CASE WHEN OLD.status <> NEW.status THEN NEW.review_reason END),
                {diff}, NEW.organisation); END""",
        f"""CREATE TRIGGER est_audit_events_delete AFTER DELETE ON events BEGIN
            INSERT INTO audit_log ({columns}) VALUES ('event', OLD.uuid, OLD.uuid, 'delete', {actor}, {_NOW},
                {_CTX.format('reason')}, json_object('status', json_array(OLD.status, NULL)), OLD.organisation); END""",
        # The status state machine, as on PostGIS.
        """CREATE TRIGGER est_events_status_machine BEFORE UPDATE OF status ON events
            WHEN NOT (OLD.status = NEW.status AND NEW.status IN ('submitted','approved')
                      OR OLD.status = 'submitted' AND NEW.status IN ('approved','rejected','withdrawn'))
            BEGIN SELECT RAISE(ABORT, 'est:status_transition'); END""",
        """CREATE TRIGGER est_audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'est:audit_append_only'); END""",
        """CREATE TRIGGER est_audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'est:audit_append_only'); END""",
    )


_GPKG_OTHER_AUDITED = {
    # table: (subject, key, [columns], json columns)
    "meetings": ("meeting", "uuid", ["iso_week", "meeting_date", "organisations", "notes"], {"organisations"}),
    "priorities": ("priority", "uuid", ["meeting_id", "kind", "rank", "name", "categories", "radius_m", "responsible",
                                        "action", "time_focus", "status", "follow_up_comment"],
                   {"categories", "responsible"}),
    "categories": ("category", "code", ["label_sv", "label_en", "colour", "description_sv", "description_en",
                                        "active", "sort_order"], set()),
    "organisations": ("organisation", "code", ["name_sv", "name_en", "kind", "active"], set()),
    "est_settings": ("setting", "key", ["value"], set()),
}


def _gpkg_row_triggers(table: str) -> tuple[str, ...]:
    subject, key, names, json_columns = _GPKG_OTHER_AUDITED[table]

    def value(prefix: str, name: str) -> str:
        return f"json({prefix}.{name})" if name in json_columns else f"{prefix}.{name}"

    uuid, old_uuid = f"NEW.{key}", f"OLD.{key}"  # subject_uuid is NOT NULL text in a GeoPackage: the key
    columns = "subject, subject_uuid, subject_key, action, actor, at, reason, changes"
    actor = f"coalesce({_CTX.format('actor')}, '{OUTSIDE_ACTOR}')"
    reason = _CTX.format("reason")
    created = _gpkg_diff([(n, "NULL", value("NEW", n)) for n in names])
    changed = _gpkg_diff([(n, value("OLD", n), value("NEW", n)) for n in names])
    deleted = _gpkg_diff([(n, value("OLD", n), "NULL") for n in names])
    follow_up = ("CASE WHEN " + " AND ".join(f"OLD.{n} IS NEW.{n}" for n in names if n not in ("status", "follow_up_comment"))
                 + " THEN 'follow_up' ELSE 'edit' END") if table == "priorities" else "'edit'"
    return (
        f"""CREATE TRIGGER est_audit_{table}_insert AFTER INSERT ON {table} BEGIN
            INSERT INTO audit_log ({columns}) VALUES ('{subject}', {uuid}, NEW.{key}, 'create', {actor}, {_NOW},
            {reason}, {created}); END""",
        f"""CREATE TRIGGER est_audit_{table}_update AFTER UPDATE ON {table} BEGIN
            INSERT INTO audit_log ({columns}) VALUES ('{subject}', {uuid}, NEW.{key}, {follow_up}, {actor}, {_NOW},
            {reason}, {changed}); END""",
        f"""CREATE TRIGGER est_audit_{table}_delete AFTER DELETE ON {table} BEGIN
            INSERT INTO audit_log ({columns}) VALUES ('{subject}', {old_uuid}, OLD.{key}, 'delete', {actor}, {_NOW},
            {reason}, {deleted}); END""",
    )


GPKG_V4 = (
    # The same name as PostGIS's compilation view; a file has no logins, so nothing is masked.
    "CREATE VIEW approved_events AS SELECT * FROM events WHERE status = 'approved'",
    "CREATE TABLE est_audit_context (id INTEGER PRIMARY KEY CHECK (id = 1), actor TEXT, reason TEXT)",
    "CREATE TABLE sources (code TEXT PRIMARY KEY, name TEXT NOT NULL, organisation TEXT REFERENCES organisations(code), "
    "trusted BOOLEAN NOT NULL DEFAULT 0)",
    "INSERT INTO sources (code, name) VALUES ('form', 'EST Weekly reporting form'), ('import', 'File import')",
    "ALTER TABLE events ADD COLUMN source TEXT NOT NULL DEFAULT 'form'",  # SQLite: no REFERENCES with a default
    "ALTER TABLE events ADD COLUMN source_id TEXT",
    "CREATE UNIQUE INDEX events_source_id ON events (source, source_id) WHERE source_id IS NOT NULL",
    "ALTER TABLE audit_log ADD COLUMN subject_key TEXT",
    "ALTER TABLE audit_log ADD COLUMN login TEXT",
    "ALTER TABLE audit_log ADD COLUMN organisation TEXT",
    "UPDATE audit_log SET subject_key = subject_uuid",
    "UPDATE audit_log SET organisation = (SELECT e.organisation FROM events e WHERE e.uuid = audit_log.subject_uuid) "
    "WHERE subject = 'event'",
    "CREATE INDEX audit_log_key ON audit_log (subject, subject_key)",
    "DROP INDEX IF EXISTS audit_log_subject",  # reads go by (subject, key) now
    *_gpkg_event_triggers(),
    *(statement for table in _GPKG_OTHER_AUDITED for statement in _gpkg_row_triggers(table)),
)
