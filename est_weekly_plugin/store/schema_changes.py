"""Schema v6: a change feed, so the compilation stays current without reloading a million events.

Every audit row of an event (v4: written by the database, for every client) now also records the
transaction that wrote it (``xact``, a 64-bit ``xid8`` that never wraps). A client remembers the
oldest transaction still running when it last read (``pg_snapshot_xmin``); every event changed
since is then exactly the audit rows whose transaction is that one or newer — transactions that
committed out of order included, which an ``updated_at`` or id watermark would miss.

``est.changed_event_fids`` reveals only the internal numbers of changed events; what a login may
see of them is read through the compilation view, where row-level security applies.
A GeoPackage has one writer at a time, so its audit ids already commit in order (no migration).
"""

from __future__ import annotations

S = "est"

PG_V6 = (
    f"ALTER TABLE {S}.audit_log ADD COLUMN xact xid8",  # older rows: NULL, never "changed since"
    f"ALTER TABLE {S}.audit_log ALTER COLUMN xact SET DEFAULT pg_current_xact_id()",
    f"CREATE INDEX audit_log_event_xact ON {S}.audit_log (xact) WHERE subject = 'event'",
    # planned at each call with the token's value (EXECUTE … USING): a generic plan for "xact >= $1"
    # would scan the whole log
    f"""CREATE OR REPLACE FUNCTION {S}.changed_event_fids(since xid8) RETURNS SETOF bigint
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            RETURN QUERY EXECUTE 'SELECT DISTINCT e.fid FROM {S}.audit_log a JOIN {S}.events e ON e.uuid = a.subject_uuid
                                  WHERE a.subject = ''event'' AND a.xact >= $1' USING since;
        END $$""",
    # The owner's bulk audit (v4) builds each row's {status, source} snapshot once per distinct pair
    # instead of once per row: the same rows, a third of the time at a million events.
    f"""CREATE OR REPLACE FUNCTION {S}.audit_loaded_events(after_fid bigint) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE written bigint; actor text := {S}.audit_actor(); reason text := nullif(current_setting('est.reason', true), '');
    BEGIN
        INSERT INTO {S}.audit_log (subject, subject_uuid, subject_key, action, actor, login, reason, changes,
                                   organisation)
        SELECT 'event', e.uuid, e.uuid::text, CASE WHEN e.source = 'form' THEN 'submit' ELSE 'import' END,
               actor, session_user, coalesce(reason, e.review_reason),
               CASE WHEN e.source_id IS NULL THEN k.changes
                    ELSE k.changes || jsonb_build_object('source_id', jsonb_build_array(NULL, e.source_id)) END,
               e.organisation
        FROM {S}.events e
        JOIN (SELECT d.status, d.source, jsonb_build_object('status', jsonb_build_array(NULL, d.status),
                                                          'source', jsonb_build_array(NULL, d.source),
                                                          'source_id', jsonb_build_array(NULL, NULL::text)) AS changes
              FROM (SELECT DISTINCT coalesce(status, '') AS status, coalesce(source, '') AS source
                    FROM {S}.events WHERE fid > after_fid) d) k
          ON k.status = coalesce(e.status, '') AND k.source = coalesce(e.source, '')
        WHERE e.fid > after_fid ORDER BY e.fid;
        GET DIAGNOSTICS written = ROW_COUNT;
        RETURN written;
    END $$""",
    f"REVOKE ALL ON FUNCTION {S}.audit_loaded_events(bigint) FROM PUBLIC",
    f"REVOKE ALL ON FUNCTION {S}.changed_event_fids(xid8) FROM PUBLIC",
    f"GRANT EXECUTE ON FUNCTION {S}.changed_event_fids(xid8) TO est_viewer",
)

GPKG_V6: tuple[str, ...] = ()
