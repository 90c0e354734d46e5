"""Schema v5: privacy by design — personal-data flags, redaction that reaches the history,
retention and pseudonymisation, recorded exports.

The audit log is append-only for every role (v4). The one controlled exception is a redaction
or a pseudonymisation: SECURITY DEFINER functions that first put the transaction's id into
``est.redaction_tokens`` (a table no login can write), which the append-only and event triggers
accept as the only permission to rewrite text. What was removed is never written anywhere; that
a redaction happened — by whom, when, how many entries — is itself audited.

A GeoPackage gets the same steps through the store (a flag in ``est_audit_context`` opens the
SQLite triggers for that transaction) — traceability, not a security boundary.
"""

from __future__ import annotations

S = "est"
MARKER = "[uppgift borttagen]"
PSEUDONYM_MARKER = ""

_PG_V5_TABLES = (
    f"ALTER TABLE {S}.events ADD COLUMN personal_data text NOT NULL DEFAULT ''",
    f"""CREATE TABLE {S}.redaction_tokens (txid bigint PRIMARY KEY)""",
    f"REVOKE ALL ON {S}.redaction_tokens FROM PUBLIC",
    f"""CREATE OR REPLACE FUNCTION {S}.in_redaction() RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
        AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM {S}.redaction_tokens WHERE txid = txid_current()); END $$""",
    # text values inside the audit log's {{field: [from, to]}} with *removed* replaced
    f"""CREATE OR REPLACE FUNCTION {S}.scrub(changes jsonb, removed text, marker text) RETURNS jsonb
        LANGUAGE sql IMMUTABLE AS $$
        SELECT coalesce(jsonb_object_agg(key, CASE WHEN jsonb_typeof(value) = 'array'
                                                   AND key IN ('description', 'place_name', 'review_reason') THEN
            (SELECT jsonb_agg(CASE WHEN jsonb_typeof(x) = 'string' THEN to_jsonb(replace(x #>> '{{}}', removed, marker))
                                   ELSE x END) FROM jsonb_array_elements(value) x)
            ELSE value END), '{{}}'::jsonb)
        FROM jsonb_each(changes) $$""",
    # the given fields' text values emptied (pseudonymisation)
    f"""CREATE OR REPLACE FUNCTION {S}.blank(changes jsonb, fields text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
        SELECT coalesce(jsonb_object_agg(key, CASE WHEN key = ANY(fields) AND jsonb_typeof(value) = 'array' THEN
            (SELECT jsonb_agg(CASE WHEN jsonb_typeof(x) = 'string' THEN '""'::jsonb ELSE x END)
             FROM jsonb_array_elements(value) x) ELSE value END), '{{}}'::jsonb)
        FROM jsonb_each(changes) $$""",
)

_PG_V5_GUARDS = (
    # The append-only rule with its one controlled exception.
    f"""CREATE OR REPLACE FUNCTION {S}.audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND {S}.in_redaction() THEN RETURN NEW; END IF;
            RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'est:audit_append_only';
        END $$""",
)

_REVIEWER_CHECK = f"""
        IF {S}.my_role() IS DISTINCT FROM 'reviewer' AND NOT ({S}.my_organisation() IS NULL AND {S}.is_maintainer()) THEN
            PERFORM {S}.refuse('not_reviewer');  -- reviewers, and the schema owner's own jobs
        END IF;"""
_ADMIN_CHECK = f"""
        IF {S}.my_role() IS DISTINCT FROM 'admin' THEN PERFORM {S}.refuse('not_admin'); END IF;"""

_PG_V5_FUNCTIONS = (
    f"""CREATE OR REPLACE FUNCTION {S}.redact_event_text(event uuid, expected_version integer, removed text,
            marker text DEFAULT '{MARKER}') RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $$
    DECLARE e {S}.events; scrubbed integer;
    BEGIN {_REVIEWER_CHECK}
        SELECT * INTO e FROM {S}.events WHERE uuid = event FOR UPDATE;
        IF NOT FOUND THEN PERFORM {S}.refuse('no_such_event'); END IF;
        IF e.version <> expected_version THEN PERFORM {S}.refuse('conflict'); END IF;
        IF coalesce(removed, '') = '' THEN removed := e.description; END IF;
        IF removed = '' THEN RETURN 0; END IF;
        INSERT INTO {S}.redaction_tokens VALUES (txid_current()) ON CONFLICT DO NOTHING;
        UPDATE {S}.events SET description = replace(description, removed, marker),
               place_name = replace(place_name, removed, marker),
               review_reason = replace(review_reason, removed, marker),
               personal_data = '', version = version + 1, updated_at = now()
        WHERE uuid = event;
        UPDATE {S}.audit_log SET changes = {S}.scrub(changes, removed, marker), reason = replace(reason, removed, marker)
        WHERE subject = 'event' AND subject_key = event::text
          AND (strpos(changes::text, to_jsonb(removed)::text) > 0 OR strpos(changes::text, removed) > 0
               OR strpos(coalesce(reason, ''), removed) > 0);
        GET DIAGNOSTICS scrubbed = ROW_COUNT;
        INSERT INTO {S}.audit_log (subject, subject_uuid, subject_key, action, actor, login, changes, organisation)
        VALUES ('event', event, event::text, 'redact', {S}.audit_actor(), session_user,
                jsonb_build_object('entries_redacted', scrubbed), e.organisation);
        DELETE FROM {S}.redaction_tokens WHERE txid = txid_current();
        RETURN scrubbed;
    END $$""",
    # Past the retention limit: reporter identity becomes the organisation alone, free text goes —
    # in the events and in their history. Counts, categories, places and times stay.
    f"""CREATE OR REPLACE FUNCTION {S}.pseudonymise_events(category_code text, before date) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE done integer;
    BEGIN {_ADMIN_CHECK}
        INSERT INTO {S}.redaction_tokens VALUES (txid_current()) ON CONFLICT DO NOTHING;
        CREATE TEMP TABLE IF NOT EXISTS est_pseudonymised (uuid uuid, reporter text, organisation text) ON COMMIT DROP;
        DELETE FROM est_pseudonymised;
        WITH changed AS (
            UPDATE {S}.events e SET reporter = '', description = '', review_reason = NULL, personal_data = '',
                   version = e.version + 1, updated_at = now()
            FROM (SELECT fid, reporter AS old_reporter FROM {S}.events
                  WHERE (category_code IS NULL OR category = category_code) AND event_date < before
                    AND (reporter <> '' OR description <> '' OR review_reason IS NOT NULL)) old
            WHERE e.fid = old.fid
            RETURNING e.uuid, old.old_reporter, e.organisation)
        INSERT INTO est_pseudonymised SELECT * FROM changed;
        GET DIAGNOSTICS done = ROW_COUNT;
        UPDATE {S}.audit_log a SET changes = {S}.blank(a.changes, ARRAY['description', 'review_reason', 'reporter']),
               reason = NULL,
               actor = CASE WHEN a.actor = p.reporter AND p.reporter <> '' THEN p.organisation ELSE a.actor END,
               login = CASE WHEN a.login = p.reporter AND p.reporter <> '' THEN p.organisation ELSE a.login END
        FROM est_pseudonymised p WHERE a.subject = 'event' AND a.subject_key = p.uuid::text;
        IF done > 0 THEN
            INSERT INTO {S}.audit_log (subject, subject_key, action, actor, login, changes)
            VALUES ('retention', coalesce(category_code, '*'), 'pseudonymise', {S}.audit_actor(), session_user,
                    jsonb_build_object('events', done, 'before', before));
        END IF;
        DELETE FROM {S}.redaction_tokens WHERE txid = txid_current();
        RETURN done;
    END $$""",
    # Exports are recorded: who exported what, with which filter, how many rows.
    f"""CREATE OR REPLACE FUNCTION {S}.log_export(what text, filter_text text, row_count integer) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
        IF {S}.my_role() IS NULL THEN PERFORM {S}.refuse('no_report_role'); END IF;
        INSERT INTO {S}.audit_log (subject, subject_key, action, actor, login, changes, organisation)
        VALUES ('export', left(what, 200), 'export', {S}.audit_actor(), session_user,
                jsonb_build_object('filter', left(filter_text, 2000), 'rows', row_count), {S}.my_organisation());
    END $$""",
    # A number that grows with every change to an event, for any login (the compilation polls it to
    # show other users' approvals): the audit log's newest event row. Reveals one integer.
    f"""CREATE OR REPLACE FUNCTION {S}.change_marker() RETURNS bigint LANGUAGE plpgsql STABLE SECURITY DEFINER
        AS $$ BEGIN RETURN (SELECT coalesce(max(id), 0) FROM {S}.audit_log WHERE subject = 'event'); END $$""",
    f"CREATE INDEX audit_log_event_ids ON {S}.audit_log (id) WHERE subject = 'event'",
    f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {S} FROM PUBLIC",  # new functions start executable by PUBLIC
    f"GRANT EXECUTE ON FUNCTION {S}.redact_event_text(uuid, integer, text, text) TO est_reviewer",
    f"GRANT EXECUTE ON FUNCTION {S}.pseudonymise_events(text, date) TO est_admin",
    f"""GRANT EXECUTE ON FUNCTION {S}.log_export(text, text, integer), {S}.in_redaction(), {S}.change_marker()
        TO est_viewer""",
)


def _pg_trigger_exceptions() -> tuple[str, ...]:
    """v4's event triggers, taught the controlled exception (re-created from their v4 source)."""
    from .schema_security import _PG_AUDIT, _PG_EVENT_GUARD, _PG_VIEWS

    guard_insert, guard_update = _PG_EVENT_GUARD[0], _PG_EVENT_GUARD[1]
    insert = guard_insert.replace(
        "NEW.version := coalesce(NEW.version, 1);",
        "NEW.version := coalesce(NEW.version, 1);\n        NEW.personal_data := coalesce(NEW.personal_data, '');", 1)
    update = guard_update.replace(
        "    BEGIN\n        IF NOT (OLD.status = NEW.status",
        f"    BEGIN\n        IF {S}.in_redaction() THEN RETURN NEW; END IF;  -- redaction, pseudonymisation\n"
        "        IF NOT (OLD.status = NEW.status", 1)
    audit = _PG_AUDIT[0].replace(
        "    BEGIN\n        IF TG_OP = 'INSERT' AND",
        f"    BEGIN\n        IF {S}.in_redaction() THEN RETURN NULL; END IF;  -- the function writes its own row\n"
        "        IF TG_OP = 'INSERT' AND", 1)
    # the compilation view shows the flags too (reviewers see why a report was marked)
    view = _PG_VIEWS[0].replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1).replace(
        "e.source, e.source_id\n", "e.source, e.source_id, e.personal_data\n", 1)
    assert insert != guard_insert and update != guard_update and audit != _PG_AUDIT[0] and "personal_data" in view, \
        "v4 source changed"
    return (insert, update, audit, view)


PG_V5 = (*_PG_V5_TABLES, *_PG_V5_GUARDS, *_pg_trigger_exceptions(), *_PG_V5_FUNCTIONS)

_GPKG_REDACTING = "(SELECT redaction FROM est_audit_context WHERE id = 1) = 1"


def _gpkg_quiet_event_update() -> str:
    """v4's event update audit trigger, silent while a redaction writes its own audit row."""
    from .schema_security_gpkg import _gpkg_event_triggers

    source = _gpkg_event_triggers()[1]
    quiet = source.replace("AFTER UPDATE ON events BEGIN",
                           f"AFTER UPDATE ON events WHEN NOT coalesce({_GPKG_REDACTING}, 0) BEGIN", 1)
    assert quiet != source, "v4 source changed"
    return quiet


# GeoPackage: the flag column, and the redaction flag that opens the SQLite triggers.
GPKG_V5 = (
    "ALTER TABLE events ADD COLUMN personal_data TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE est_audit_context ADD COLUMN redaction INTEGER NOT NULL DEFAULT 0",
    "DROP TRIGGER est_audit_log_no_update",
    "DROP TRIGGER est_audit_events_update",
    _gpkg_quiet_event_update(),
    f"""CREATE TRIGGER est_audit_log_no_update BEFORE UPDATE ON audit_log WHEN NOT coalesce({_GPKG_REDACTING}, 0)
        BEGIN SELECT RAISE(ABORT, 'est:audit_append_only'); END""",
)
