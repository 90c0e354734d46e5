"""Schema v4: who a login is, what it may do, and an audit log the database writes itself.

PostGIS is shared by partner organisations and reached by any client (psql, ogr2ogr, QGIS
without the plugin, QField), so every rule lives in PostgreSQL: memberships (login →
organisation + role), grants, row-level security with one policy per command, triggers for the
status state machine and the fields the database sets from the session, and statement-level
audit triggers (transition tables, so a million-row COPY costs one INSERT … SELECT). The audit
log is append-only for every role; only SECURITY DEFINER trigger functions write it.

A GeoPackage gets the same audit and state-machine triggers in SQLite (schema_security_gpkg), so no change made through
the plugin or another SQLite client escapes the log — but a file has no logins, so there the role
is a local choice and not a security boundary.

These statements are final SQL (``schema.statements`` does not format them).

The functions called for every row (who is connected, the triggers) carry no ``SET search_path``:
that clause costs a configuration save/restore and re-planning per call (200 µs a row). They
name every table and PostGIS function with its schema instead, and partner logins cannot create
objects anywhere (PostgreSQL 15 grants no CREATE on ``public``), so no lookup can be hijacked.
The rarely called login functions keep a pinned ``search_path``.
"""

from __future__ import annotations

S = "est"

# Fields of an event the audit log records (from → to); the same names on both backends.
AUDITED_EVENT_FIELDS = ("category", "organisation", "event_date", "time_from", "time_to", "x", "y", "place_name",
                        "description", "status", "review_reason", "duplicate_of", "source", "source_id")
_SNAPSHOT_FIELDS = AUDITED_EVENT_FIELDS[:10] + ("source", "source_id")

ROLES = ("reporter", "reviewer", "viewer", "admin")
# Above this many rows in one statement an insert is a bulk load, audited row by row with a lean entry.
BULK_AUDIT_ROWS = 1000

# ---------------------------------------------------------------------------------------------
# PostGIS
# ---------------------------------------------------------------------------------------------
_PG_TABLES = ("events", "audit_log", "categories", "organisations", "est_settings", "schema_version",
              "meetings", "priorities", "memberships", "sources")

_PG_HELPERS = (
    # Who is connected. session_user: the login that connected, whatever SET ROLE did since.
    # PL/pgSQL, not SQL: a non-inlined SQL function is planned again on every call (170 µs a row
    # in a trigger); PL/pgSQL keeps its plans.
    f"""CREATE OR REPLACE FUNCTION {S}.is_maintainer() RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
        AS $$ BEGIN
        RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = session_user AND rolsuper)
            OR pg_catalog.pg_has_role(session_user,
                   (SELECT nspowner FROM pg_catalog.pg_namespace WHERE nspname = '{S}'), 'MEMBER');
        END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.my_role() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
        AS $$ DECLARE found text; BEGIN
        SELECT m.role INTO found FROM {S}.memberships m WHERE m.login = session_user AND m.active;
        IF found IS NULL AND {S}.is_maintainer() THEN found := 'admin'; END IF;
        RETURN found;
        END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.my_organisation() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
        AS $$ BEGIN
        RETURN (SELECT m.organisation FROM {S}.memberships m WHERE m.login = session_user AND m.active);
        END $$""",
    # The actor an audit row names: the login; a maintainer (schema owner, superuser: the
    # plugin's own bulk jobs and the demo) may name the person it acts for in est.actor.
    f"""CREATE OR REPLACE FUNCTION {S}.audit_actor() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
        AS $$ BEGIN
        IF {S}.my_organisation() IS NULL AND {S}.is_maintainer() THEN
            RETURN coalesce(nullif(current_setting('est.actor', true), ''), session_user::text);
        END IF;
        RETURN session_user::text;
        END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.setting(name text) RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
        AS $$ BEGIN RETURN (SELECT s.value FROM {S}.est_settings s WHERE s.key = name); END $$""",
    # The fid range of the approved events, for splitting a columnar read in halves: an index
    # lookup on the table instead of a scan through the compilation view. Reveals two numbers.
    f"""CREATE OR REPLACE FUNCTION {S}.approved_fid_range(OUT low bigint, OUT high bigint) LANGUAGE plpgsql STABLE
        SECURITY DEFINER AS $$ BEGIN
        SELECT min(e.fid), max(e.fid) INTO low, high FROM {S}.events e;
        END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.refuse(code text, detail text DEFAULT '') RETURNS void LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'est:' || code, DETAIL = detail; END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.jsonb_diff(before jsonb, after jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
        SELECT coalesce(jsonb_object_agg(key, jsonb_build_array(o.value, n.value)), '{{}}'::jsonb)
        FROM jsonb_each(coalesce(after, '{{}}'::jsonb)) n
        FULL JOIN jsonb_each(coalesce(before, '{{}}'::jsonb)) o USING (key)
        WHERE o.value IS DISTINCT FROM n.value
          AND NOT (o.value IS NULL AND n.value = 'null'::jsonb)
          AND NOT (n.value IS NULL AND o.value = 'null'::jsonb) $$""",
    # PostGIS's functions are named with the schema the extension lives in, found at migration time,
    # so the audit never depends on a client's search_path.
    f"""DO $do$ DECLARE g text := (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'postgis');
    BEGIN
        EXECUTE format($f$CREATE OR REPLACE FUNCTION {S}.event_json(e {S}.events) RETURNS jsonb LANGUAGE sql STABLE AS $b$
            SELECT jsonb_build_object(
                'category', e.category, 'organisation', e.organisation, 'event_date', e.event_date,
                'time_from', to_char(e.time_from, 'HH24:MI'), 'time_to', to_char(e.time_to, 'HH24:MI'),
                'x', round(%1$s.ST_X(e.geom)::numeric, 3), 'y', round(%1$s.ST_Y(e.geom)::numeric, 3),
                'place_name', e.place_name, 'description', e.description, 'status', e.status,
                'review_reason', e.review_reason, 'duplicate_of', e.duplicate_of,
                'source', e.source, 'source_id', e.source_id) $b$$f$, g);
        -- a new event's audit snapshot built directly ({{field: [null, value]}}), no diff: bulk loads stay fast
        EXECUTE format($f$CREATE OR REPLACE FUNCTION {S}.event_snapshot(e {S}.events) RETURNS jsonb LANGUAGE sql STABLE AS $b$
            SELECT jsonb_strip_nulls(jsonb_build_object(
                'category', jsonb_build_array(NULL, e.category), 'organisation', jsonb_build_array(NULL, e.organisation),
                'event_date', jsonb_build_array(NULL, e.event_date),
                'time_from', CASE WHEN e.time_from IS NOT NULL THEN jsonb_build_array(NULL, to_char(e.time_from, 'HH24:MI')) END,
                'time_to', CASE WHEN e.time_to IS NOT NULL THEN jsonb_build_array(NULL, to_char(e.time_to, 'HH24:MI')) END,
                'x', jsonb_build_array(NULL, round(%1$s.ST_X(e.geom)::numeric, 3)),
                'y', jsonb_build_array(NULL, round(%1$s.ST_Y(e.geom)::numeric, 3)),
                'place_name', jsonb_build_array(NULL, e.place_name), 'description', jsonb_build_array(NULL, e.description),
                'status', jsonb_build_array(NULL, e.status), 'source', jsonb_build_array(NULL, e.source),
                'source_id', CASE WHEN e.source_id IS NOT NULL THEN jsonb_build_array(NULL, e.source_id) END)) $b$$f$, g);
    END $do$""",
    f"""CREATE OR REPLACE FUNCTION {S}.event_action(before text, after text, duplicate uuid) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN before = after AND after = 'approved' THEN 'correct'
                    WHEN before = after THEN 'edit'
                    WHEN after = 'approved' THEN 'approve'
                    WHEN after = 'rejected' AND duplicate IS NOT NULL THEN 'duplicate'
                    WHEN after = 'rejected' THEN 'reject'
                    WHEN after = 'withdrawn' THEN 'withdraw'
                    ELSE 'status' END $$""",
)

_PG_TABLES_V4 = (
    f"""CREATE TABLE {S}.memberships (
        login text PRIMARY KEY CHECK (login ~ '^[a-z][a-z0-9_.-]{{2,62}}$'),
        organisation text NOT NULL REFERENCES {S}.organisations(code),
        role text NOT NULL CHECK (role IN ('reporter','reviewer','viewer','admin')),
        display_name text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200 AND display_name !~ '[[:cntrl:]]'),
        active boolean NOT NULL DEFAULT true, password_set_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(), created_by text NOT NULL DEFAULT session_user)""",
    f"""CREATE TABLE {S}.sources (
        code text PRIMARY KEY CHECK (code ~ '^[a-z0-9_.-]{{1,64}}$'), name text NOT NULL,
        organisation text REFERENCES {S}.organisations(code), trusted boolean NOT NULL DEFAULT false)""",
    f"INSERT INTO {S}.sources (code, name) VALUES ('form', 'EST Weekly reporting form'), ('import', 'File import')",
    f"ALTER TABLE {S}.events ADD COLUMN source text NOT NULL DEFAULT 'form' REFERENCES {S}.sources(code)",
    f"ALTER TABLE {S}.events ADD COLUMN source_id text",
    f"CREATE UNIQUE INDEX events_source_id ON {S}.events (source, source_id) WHERE source_id IS NOT NULL",
    f"ALTER TABLE {S}.events ALTER COLUMN reporter SET DEFAULT session_user",
    f"ALTER TABLE {S}.events DROP CONSTRAINT IF EXISTS events_status_check",
    f"""ALTER TABLE {S}.events ADD CONSTRAINT events_status_check
        CHECK (status IN ('submitted','approved','rejected','withdrawn'))""",
    f"ALTER TABLE {S}.audit_log ALTER COLUMN subject_uuid DROP NOT NULL",
    f"ALTER TABLE {S}.audit_log ADD COLUMN subject_key text",
    f"ALTER TABLE {S}.audit_log ADD COLUMN login text NOT NULL DEFAULT session_user",
    f"ALTER TABLE {S}.audit_log ADD COLUMN organisation text",
    f"UPDATE {S}.audit_log SET subject_key = subject_uuid::text",
    f"""UPDATE {S}.audit_log a SET organisation = e.organisation FROM {S}.events e
        WHERE a.subject = 'event' AND e.uuid = a.subject_uuid""",
    f"CREATE INDEX audit_log_key ON {S}.audit_log (subject, subject_key)",
    f"DROP INDEX IF EXISTS {S}.audit_log_subject",  # reads go by (subject, key) now
    # Existing logins that hold an EST role keep it, with the safety unit as organisation.
    f"""INSERT INTO {S}.memberships (login, organisation, role)
        SELECT r.rolname, (SELECT code FROM {S}.organisations ORDER BY (code = 'slf_trygghet') DESC, code LIMIT 1),
               CASE WHEN pg_has_role(r.oid, 'est_admin', 'MEMBER') THEN 'admin'
                    WHEN pg_has_role(r.oid, 'est_reviewer', 'MEMBER') THEN 'reviewer'
                    WHEN pg_has_role(r.oid, 'est_reporter', 'MEMBER') THEN 'reporter' ELSE 'viewer' END
        FROM pg_roles r
        WHERE r.rolcanlogin AND NOT r.rolsuper AND r.rolname ~ '^[a-z][a-z0-9_.-]{{2,62}}$'
          AND pg_has_role(r.oid, 'est_viewer', 'MEMBER') AND EXISTS (SELECT 1 FROM {S}.organisations)""",
)

# The event rules a policy cannot express: fields the database sets from the session, the
# status state machine, who may review what.
_PG_EVENT_GUARD = (
    f"""CREATE OR REPLACE FUNCTION {S}.events_before_insert() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER AS $$
    DECLARE org text := {S}.my_organisation(); role text; trusted boolean;
    BEGIN
        -- what a client left out (QGIS and QField send NULL for fields they do not know)
        NEW.source := coalesce(NEW.source, 'form');
        NEW.status := coalesce(NEW.status, 'submitted');
        NEW.place_name := coalesce(NEW.place_name, '');
        NEW.description := coalesce(NEW.description, '');
        NEW.uuid := coalesce(NEW.uuid, gen_random_uuid());
        NEW.created_at := coalesce(NEW.created_at, now());
        NEW.updated_at := coalesce(NEW.updated_at, now());
        NEW.version := coalesce(NEW.version, 1);
        NEW.reporter := coalesce(NEW.reporter, session_user);
        IF org IS NULL AND {S}.is_maintainer() THEN
            RETURN NEW;  -- the owner's own jobs (demo, migrations); it could disable triggers anyway
        END IF;
        role := {S}.my_role();
        IF role IS NULL OR role IN ('viewer', 'admin') THEN PERFORM {S}.refuse('no_report_role'); END IF;
        IF NEW.organisation IS NULL THEN NEW.organisation := org; END IF;
        IF role = 'reporter' AND NEW.organisation IS DISTINCT FROM org THEN
            PERFORM {S}.refuse('other_organisation', NEW.organisation);
        END IF;
        NEW.reporter := session_user;
        NEW.created_at := now(); NEW.updated_at := now(); NEW.version := 1;
        NEW.duplicate_of := NULL;
        SELECT s.trusted AND (s.organisation IS NULL OR s.organisation = org OR role = 'reviewer')
          INTO trusted FROM {S}.sources s WHERE s.code = NEW.source;
        IF NEW.status = 'approved' AND coalesce(trusted, false) THEN
            NEW.reviewer := session_user; NEW.reviewed_at := now();
            NEW.review_reason := 'trusted source: ' || NEW.source;
        ELSE
            NEW.status := 'submitted'; NEW.reviewer := NULL; NEW.reviewed_at := NULL; NEW.review_reason := NULL;
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.events_before_update() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER AS $$
    DECLARE role text := {S}.my_role(); maintainer boolean := {S}.is_maintainer()
        AND NOT EXISTS (SELECT 1 FROM {S}.memberships WHERE login = session_user AND active);
    BEGIN
        IF NOT (OLD.status = NEW.status AND NEW.status IN ('submitted','approved')
                OR OLD.status = 'submitted' AND NEW.status IN ('approved','rejected','withdrawn')) THEN
            PERFORM {S}.refuse('status_transition', OLD.status || ' → ' || NEW.status);
        END IF;
        IF NEW.uuid <> OLD.uuid OR NEW.fid <> OLD.fid OR NEW.created_at <> OLD.created_at
           OR NEW.source IS DISTINCT FROM OLD.source OR NEW.source_id IS DISTINCT FROM OLD.source_id THEN
            PERFORM {S}.refuse('fixed_field');
        END IF;
        IF maintainer THEN
            RETURN NEW;
        END IF;
        IF NEW.reporter <> OLD.reporter THEN PERFORM {S}.refuse('fixed_field', 'reporter'); END IF;
        NEW.updated_at := now();
        NEW.version := OLD.version + 1;
        IF OLD.status = 'submitted' AND NEW.status IN ('submitted','withdrawn') THEN
            IF role NOT IN ('reporter','reviewer') THEN PERFORM {S}.refuse('no_report_role'); END IF;
            IF NEW.organisation <> OLD.organisation AND role = 'reporter' THEN
                PERFORM {S}.refuse('other_organisation', NEW.organisation);
            END IF;
            IF (NEW.reviewer, NEW.reviewed_at, NEW.review_reason, NEW.duplicate_of)
               IS DISTINCT FROM (OLD.reviewer, OLD.reviewed_at, OLD.review_reason, OLD.duplicate_of) THEN
                PERFORM {S}.refuse('review_fields');
            END IF;
            RETURN NEW;
        END IF;
        -- a decision (approve, reject) or a correction of an approved event
        IF role IS DISTINCT FROM 'reviewer' THEN PERFORM {S}.refuse('not_reviewer'); END IF;
        IF OLD.reporter = session_user THEN PERFORM {S}.refuse('own_report'); END IF;
        IF OLD.status = 'approved' AND nullif(current_setting('est.reason', true), '') IS NULL
           AND NEW.review_reason IS NOT DISTINCT FROM OLD.review_reason THEN
            PERFORM {S}.refuse('correction_reason');
        END IF;
        NEW.reviewer := session_user;
        NEW.reviewed_at := now();
        RETURN NEW;
    END $$""",
    f"""CREATE TRIGGER events_before_insert BEFORE INSERT ON {S}.events
        FOR EACH ROW EXECUTE FUNCTION {S}.events_before_insert()""",
    f"""CREATE TRIGGER events_before_update BEFORE UPDATE ON {S}.events
        FOR EACH ROW EXECUTE FUNCTION {S}.events_before_update()""",
)

# Audit triggers: statement level with transition tables, SECURITY DEFINER (nobody else may
# write the log). ``est.reason`` (SET LOCAL) carries a reason; decisions fall back to the
# event's review reason.
_PG_AUDIT = (
    f"""CREATE OR REPLACE FUNCTION {S}.audit_events() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER AS $$
    DECLARE actor text := {S}.audit_actor(); reason text := nullif(current_setting('est.reason', true), '');
    BEGIN
        IF TG_OP = 'INSERT' AND (SELECT count(*) > {BULK_AUDIT_ROWS} FROM new_rows) THEN
            -- a bulk load: one row per event saying what entered and from where. Lossless: the
            -- values are the event's own row, and every later change is diffed from them.
            INSERT INTO {S}.audit_log (subject, subject_uuid, subject_key, action, actor, login, reason, changes,
                                       organisation)
            SELECT 'event', n.uuid, n.uuid::text,
                   CASE WHEN n.source = 'form' THEN 'submit' ELSE 'import' END, actor, session_user,
                   coalesce(reason, n.review_reason),
                   jsonb_build_object('status', jsonb_build_array(NULL, n.status),
                                      'source', jsonb_build_array(NULL, n.source),
                                      'source_id', jsonb_build_array(NULL, n.source_id)), n.organisation
            FROM new_rows n ORDER BY n.fid;
        ELSIF TG_OP = 'INSERT' THEN
            INSERT INTO {S}.audit_log (subject, subject_uuid, subject_key, action, actor, login, reason, changes,
                                       organisation)
            SELECT 'event', n.uuid, n.uuid::text,
                   CASE WHEN n.source = 'form' THEN 'submit' ELSE 'import' END, actor, session_user,
                   coalesce(reason, n.review_reason), {S}.event_snapshot(n), n.organisation
            FROM new_rows n ORDER BY n.fid;
        ELSIF TG_OP = 'UPDATE' THEN
            INSERT INTO {S}.audit_log (subject, subject_uuid, subject_key, action, actor, login, reason, changes,
                                       organisation)
            SELECT 'event', n.uuid, n.uuid::text, {S}.event_action(o.status, n.status, n.duplicate_of), actor,
                   session_user, coalesce(reason, CASE WHEN o.status <> n.status THEN n.review_reason END),
                   {S}.jsonb_diff({S}.event_json(o), {S}.event_json(n)), n.organisation
            FROM old_rows o JOIN new_rows n ON n.fid = o.fid ORDER BY n.fid;
        ELSE
            INSERT INTO {S}.audit_log (subject, subject_uuid, subject_key, action, actor, login, reason, changes,
                                       organisation)
            SELECT 'event', o.uuid, o.uuid::text, 'delete', actor, session_user, reason,
                   {S}.jsonb_diff({S}.event_json(o), NULL), o.organisation
            FROM old_rows o ORDER BY o.fid;
        END IF;
        RETURN NULL;
    END $$""",
    # Everything else: the whole row as JSON (geometry left out), diffed. TG_ARGV: subject, key column.
    f"""CREATE OR REPLACE FUNCTION {S}.audit_rows() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER AS $$
    DECLARE actor text := {S}.audit_actor(); reason text := nullif(current_setting('est.reason', true), '');
            subject text := TG_ARGV[0]; key text := TG_ARGV[1];
            hidden text[] := ARRAY['geom', 'updated_at', 'version', 'created_at'];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO {S}.audit_log (subject, subject_uuid, subject_key, action, actor, login, reason, changes)
            SELECT subject, CASE WHEN key = 'uuid' THEN (j ->> 'uuid')::uuid END, j ->> key, 'create', actor,
                   session_user, reason, {S}.jsonb_diff(NULL, j - hidden)
            FROM (SELECT to_jsonb(n) AS j FROM new_rows n) s;
        ELSIF TG_OP = 'UPDATE' THEN
            INSERT INTO {S}.audit_log (subject, subject_uuid, subject_key, action, actor, login, reason, changes)
            SELECT subject, CASE WHEN key = 'uuid' THEN (n ->> 'uuid')::uuid END, n ->> key,
                   CASE WHEN subject = 'priority' AND (SELECT array_agg(k) FROM jsonb_object_keys(d) k)
                             <@ ARRAY['status', 'follow_up_comment'] THEN 'follow_up' ELSE 'edit' END,
                   actor, session_user, reason, d
            FROM (SELECT o.j AS o, n.j AS n, {S}.jsonb_diff(o.j - hidden, n.j - hidden) AS d
                  FROM (SELECT to_jsonb(r) AS j FROM old_rows r) o
                  JOIN (SELECT to_jsonb(r) AS j FROM new_rows r) n ON n.j -> key = o.j -> key) s;
        ELSE
            INSERT INTO {S}.audit_log (subject, subject_uuid, subject_key, action, actor, login, reason, changes)
            SELECT subject, CASE WHEN key = 'uuid' THEN (j ->> 'uuid')::uuid END, j ->> key, 'delete', actor,
                   session_user, reason, {S}.jsonb_diff(j - hidden, NULL)
            FROM (SELECT to_jsonb(o) AS j FROM old_rows o) s;
        END IF;
        RETURN NULL;
    END $$""",
    # The owner's bulk loads audit set-based from the table (no transition table to materialise):
    # the same lean rows the trigger writes for a bulk statement. Executable by the owner only.
    f"""CREATE OR REPLACE FUNCTION {S}.audit_loaded_events(after_fid bigint) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE written bigint; actor text := {S}.audit_actor(); reason text := nullif(current_setting('est.reason', true), '');
    BEGIN
        INSERT INTO {S}.audit_log (subject, subject_uuid, subject_key, action, actor, login, reason, changes,
                                   organisation)
        SELECT 'event', e.uuid, e.uuid::text, CASE WHEN e.source = 'form' THEN 'submit' ELSE 'import' END,
               actor, session_user, coalesce(reason, e.review_reason),
               jsonb_build_object('status', jsonb_build_array(NULL, e.status),
                                  'source', jsonb_build_array(NULL, e.source),
                                  'source_id', jsonb_build_array(NULL, e.source_id)), e.organisation
        FROM {S}.events e WHERE e.fid > after_fid ORDER BY e.fid;
        GET DIAGNOSTICS written = ROW_COUNT;
        RETURN written;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('est.redaction', true) = 'on' AND TG_OP = 'UPDATE' THEN RETURN NEW; END IF;
            RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'est:audit_append_only';
        END $$""",
    f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON {S}.audit_log
        FOR EACH ROW EXECUTE FUNCTION {S}.audit_log_is_append_only()""",
    f"""CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {S}.audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION {S}.audit_log_is_append_only()""",
)


def _pg_audit_triggers() -> tuple[str, ...]:
    statements: list[str] = []
    tables = [("events", None, None), ("meetings", "meeting", "uuid"), ("priorities", "priority", "uuid"),
              ("categories", "category", "code"), ("organisations", "organisation", "code"),
              ("memberships", "membership", "login"), ("sources", "source", "code"),
              ("est_settings", "setting", "key")]
    for table, subject, key in tables:
        function = f"{S}.audit_events()" if subject is None else f"{S}.audit_rows('{subject}', '{key}')"
        for op, referencing in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                                ("DELETE", "OLD TABLE AS old_rows")):
            statements.append(
                f"CREATE TRIGGER audit_{op.lower()} AFTER {op} ON {S}.{table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}"
            )
    return tuple(statements)


# Row-level security: one policy per command, all written against the membership of the login.
_ME_ROLE = f"(SELECT {S}.my_role())"
_ME_ORG = f"(SELECT {S}.my_organisation())"
_PG_POLICIES = (
    *(f"ALTER TABLE {S}.{table} ENABLE ROW LEVEL SECURITY" for table in ("events", "audit_log", "memberships")),
    f"""CREATE POLICY events_select ON {S}.events FOR SELECT USING (
        {_ME_ROLE} IN ('reviewer','admin') OR ({_ME_ROLE} = 'reporter' AND organisation = {_ME_ORG}))""",
    f"""CREATE POLICY events_insert ON {S}.events FOR INSERT WITH CHECK (
        {_ME_ROLE} = 'reviewer'
        OR ({_ME_ROLE} = 'reporter' AND organisation = {_ME_ORG}))""",  # the insert trigger sets the status
    f"""CREATE POLICY events_update ON {S}.events FOR UPDATE USING (
        {_ME_ROLE} = 'reviewer'
        OR ({_ME_ROLE} = 'reporter' AND organisation = {_ME_ORG} AND status = 'submitted'))
        WITH CHECK ({_ME_ROLE} = 'reviewer'
        OR ({_ME_ROLE} = 'reporter' AND organisation = {_ME_ORG} AND status IN ('submitted','withdrawn')))""",
    f"""CREATE POLICY audit_select ON {S}.audit_log FOR SELECT USING (
        {_ME_ROLE} IN ('reviewer','admin')
        OR ({_ME_ROLE} = 'reporter' AND subject = 'event' AND organisation = {_ME_ORG}))""",
    f"""CREATE POLICY memberships_select ON {S}.memberships FOR SELECT USING (
        login = session_user OR {_ME_ROLE} = 'admin')""",
)

# The compilation as a viewer sees it: approved events, no reporter identity, and free text only
# when an administrator allowed descriptions for viewers (setting viewer_descriptions = 'true').
_SEES_PEOPLE = f"({_ME_ROLE} IN ('reviewer','admin') OR e.organisation = {_ME_ORG})"
_PG_VIEWS = (
    f"""CREATE VIEW {S}.approved_events WITH (security_barrier) AS
        SELECT e.fid, e.geom, e.uuid, e.category, e.organisation,
               CASE WHEN {_SEES_PEOPLE} THEN e.reporter ELSE '' END AS reporter,
               e.event_date, e.time_from, e.time_to, e.place_name,
               CASE WHEN {_SEES_PEOPLE} OR {S}.setting('viewer_descriptions') = 'true'
                    THEN e.description ELSE '' END AS description,
               e.status, CASE WHEN {_SEES_PEOPLE} THEN e.reviewer END AS reviewer, e.reviewed_at,
               CASE WHEN {_SEES_PEOPLE} THEN e.review_reason END AS review_reason, e.duplicate_of,
               e.created_at, e.updated_at, e.version, e.source, e.source_id
        FROM {S}.events e WHERE e.status = 'approved' AND {_ME_ROLE} IS NOT NULL""",
)

_PG_GRANTS = (
    f"REVOKE ALL ON {', '.join(f'{S}.{t}' for t in _PG_TABLES)} FROM est_viewer, est_reporter, est_reviewer, est_admin",
    f"REVOKE ALL ON ALL TABLES IN SCHEMA {S} FROM PUBLIC",
    f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {S} FROM PUBLIC",
    "GRANT est_reporter TO est_reviewer",
    f"GRANT USAGE ON SCHEMA {S} TO est_viewer",
    f"""GRANT SELECT ON {S}.categories, {S}.organisations, {S}.est_settings, {S}.schema_version, {S}.sources,
        {S}.memberships, {S}.approved_events, {S}.meetings, {S}.priorities TO est_viewer""",
    f"""GRANT EXECUTE ON FUNCTION {S}.is_maintainer(), {S}.my_role(), {S}.my_organisation(), {S}.setting(text),
        {S}.jsonb_diff(jsonb, jsonb), {S}.event_action(text, text, uuid), {S}.refuse(text, text),
        {S}.approved_fid_range() TO est_viewer""",
    f"GRANT EXECUTE ON FUNCTION {S}.event_json({S}.events), {S}.event_snapshot({S}.events) TO est_reporter",
    f"GRANT SELECT, INSERT, UPDATE ON {S}.events TO est_reporter",
    f"GRANT SELECT ON {S}.audit_log TO est_reporter",
    f"GRANT USAGE ON SEQUENCE {S}.events_fid_seq TO est_reporter",
    f"GRANT INSERT, UPDATE, DELETE ON {S}.meetings, {S}.priorities TO est_reviewer",
    f"GRANT USAGE ON SEQUENCE {S}.meetings_id_seq, {S}.priorities_fid_seq TO est_reviewer",
    f"""GRANT INSERT, UPDATE, DELETE ON {S}.categories, {S}.organisations, {S}.est_settings, {S}.sources
        TO est_admin""",
)

# Login management: the only way to create, change or disable an EST login. SECURITY DEFINER
# (the schema owner needs CREATEROLE); executable by est_admin only. They never touch a role that
# has no membership row, so a database administrator's own roles are out of their reach.
_LOGIN_CHECK = f"""
        IF {S}.my_role() IS DISTINCT FROM 'admin' THEN PERFORM {S}.refuse('not_admin'); END IF;"""


def _login_exists(function: str) -> str:
    """The guard every login function starts with: only EST logins (with a membership) are touched."""
    return f"""
        IF NOT EXISTS (SELECT 1 FROM {S}.memberships m WHERE m.login = {function}.login) THEN
            PERFORM {S}.refuse('no_such_login', login);
        END IF;"""


_PG_LOGIN_FUNCTIONS = (
    f"""CREATE OR REPLACE FUNCTION {S}.create_login(login text, organisation text, role text, password text,
            display_name text DEFAULT '') RETURNS void LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $$
    BEGIN {_LOGIN_CHECK}
        IF login !~ '^[a-z][a-z0-9_.-]{{2,62}}$' THEN PERFORM {S}.refuse('bad_login', login); END IF;
        IF role NOT IN ('reporter','reviewer','viewer','admin') THEN PERFORM {S}.refuse('bad_role', role); END IF;
        IF length(password) < 12 THEN PERFORM {S}.refuse('weak_password'); END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login) THEN PERFORM {S}.refuse('login_exists', login); END IF;
        INSERT INTO {S}.memberships (login, organisation, role, display_name)
        VALUES (login, organisation, role, coalesce(display_name, ''));
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', login, password, 'est_' || role);
    END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.set_login_password(login text, password text) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN {_LOGIN_CHECK}{_login_exists("set_login_password")}
        IF length(password) < 12 THEN PERFORM {S}.refuse('weak_password'); END IF;
        EXECUTE format('ALTER ROLE %I PASSWORD %L', login, password);
        UPDATE {S}.memberships m SET password_set_at = now() WHERE m.login = set_login_password.login;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.set_login_role(login text, role text, organisation text DEFAULT NULL)
        RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE old text;
    BEGIN {_LOGIN_CHECK}
        SELECT m.role INTO old FROM {S}.memberships m WHERE m.login = set_login_role.login;
        IF old IS NULL THEN PERFORM {S}.refuse('no_such_login', login); END IF;
        IF role NOT IN ('reporter','reviewer','viewer','admin') THEN PERFORM {S}.refuse('bad_role', role); END IF;
        IF login = session_user AND role <> 'admin' THEN PERFORM {S}.refuse('own_admin'); END IF;
        UPDATE {S}.memberships m SET role = set_login_role.role,
               organisation = coalesce(set_login_role.organisation, m.organisation)
        WHERE m.login = set_login_role.login;
        EXECUTE format('REVOKE %I FROM %I', 'est_' || old, login);
        EXECUTE format('GRANT %I TO %I', 'est_' || role, login);
    END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.set_login_active(login text, active boolean) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN {_LOGIN_CHECK}{_login_exists("set_login_active")}
        IF login = session_user AND NOT active THEN PERFORM {S}.refuse('own_admin'); END IF;
        UPDATE {S}.memberships m SET active = set_login_active.active WHERE m.login = set_login_active.login;
        EXECUTE format('ALTER ROLE %I %s', login, CASE WHEN active THEN 'LOGIN' ELSE 'NOLOGIN' END);
    END $$""",
    f"""CREATE OR REPLACE FUNCTION {S}.set_source_trusted(code text, trusted boolean) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN {_LOGIN_CHECK}
        UPDATE {S}.sources s SET trusted = set_source_trusted.trusted WHERE s.code = set_source_trusted.code;
    END $$""",
    f"""GRANT EXECUTE ON FUNCTION {S}.create_login(text, text, text, text, text), {S}.set_login_password(text, text),
        {S}.set_login_role(text, text, text), {S}.set_login_active(text, boolean),
        {S}.set_source_trusted(text, boolean) TO est_admin""",
)

PG_V4 = (*_PG_TABLES_V4, *_PG_HELPERS, *_PG_EVENT_GUARD, *_PG_AUDIT, *_pg_audit_triggers(), *_PG_POLICIES,
         *_PG_VIEWS, *_PG_LOGIN_FUNCTIONS, *_PG_GRANTS)
