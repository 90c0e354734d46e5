"""The shared PostGIS database enforces every EST rule itself: plain SQL as each role, no plugin.

Each test connects with psycopg2 as a real login of one organisation and role — as psql,
ogr2ogr or QGIS without the plugin would — and tries what that role may and may not do. Every
forbidden action must be refused (or filtered away) by PostgreSQL, and every change, also one
made this way, must be in the audit log that the database writes.
"""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg2
import pytest

pytestmark = pytest.mark.postgis

PASSWORD = "Lösen-för-test-1"
LOGINS = {  # login suffix: (organisation, role)
    "rep_polis": ("polisen", "reporter"),
    "rep_vakt": ("bevakning", "reporter"),
    "granskare1": ("slf_trygghet", "reviewer"),
    "granskare2": ("slf_trygghet", "reviewer"),
    "tittare": ("sbf", "viewer"),
    "admin1": ("slf_trygghet", "admin"),
}
INSERT = ("INSERT INTO est.events (geom, uuid, category, organisation, reporter, event_date, description, status) "
          "VALUES (ST_SetSRID(ST_MakePoint(356500, 6213700), 3006), %s, 'klotter', %s, %s, %s, %s, %s)")


@pytest.fixture(scope="module")
def roles_db(pg_cluster):
    """A fresh EST database with one login per role (created by the schema owner through est.create_login)."""
    import pgcluster

    from est_weekly_plugin.store import PostgisStore

    name = "est_roles"
    info = pgcluster.connection_info(pg_cluster, name, fresh=True)
    prefix = "t" + uuid.uuid4().hex[:6] + "_"
    store = PostgisStore.create(info)
    owner = psycopg2.connect(**pg_cluster.dsn(name))
    owner.autocommit = True
    with owner.cursor() as cursor:
        for suffix, (organisation, role) in LOGINS.items():
            cursor.execute("SELECT est.create_login(%s, %s, %s, %s)", (prefix + suffix, organisation, role, PASSWORD))
    store.close()
    yield {"dsn": pg_cluster.dsn(name), "prefix": prefix, "owner": owner, "info": info}
    with owner.cursor() as cursor:
        cursor.execute("DROP SCHEMA est CASCADE")
        cursor.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (prefix + "%",))
        for (role,) in cursor.fetchall():
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')
    owner.close()


@pytest.fixture
def connect(roles_db):
    opened = []

    def as_login(suffix: str):
        conn = psycopg2.connect(**{**roles_db["dsn"], "user": roles_db["prefix"] + suffix, "password": PASSWORD})
        conn.autocommit = True
        opened.append(conn)
        return conn

    yield as_login
    for conn in opened:
        conn.close()


def run(conn, sql: str, params: tuple = ()):
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def refused(conn, sql: str, params: tuple = (), expect: str = "") -> str:
    """Run *sql*; the database must refuse it. Returns the error text."""
    with pytest.raises(psycopg2.Error) as caught:
        run(conn, sql, params)
    text = str(caught.value)
    assert caught.value.pgcode == "42501", text  # insufficient_privilege: a grant, a policy or an EST rule
    assert expect in text, text
    return text


def report(conn, organisation: str, description: str = "Taggar på elskåp", status: str = "submitted",
           reporter: str = "") -> str:
    new = str(uuid.uuid4())
    run(conn, INSERT, (new, organisation, reporter, dt.date(2026, 11, 20), description, status))
    return new


def event_row(owner, event_uuid: str) -> dict:
    with owner.cursor() as cursor:
        cursor.execute("SELECT status, reporter, organisation, reviewer, description, version FROM est.events "
                       "WHERE uuid = %s", (event_uuid,))
        status, reporter, organisation, reviewer, description, version = cursor.fetchone()
    return dict(status=status, reporter=reporter, organisation=organisation, reviewer=reviewer,
                description=description, version=version)


def audit(owner, event_uuid: str) -> list[tuple]:
    return run(owner, "SELECT action, actor, login FROM est.audit_log WHERE subject_key = %s ORDER BY id",
               (event_uuid,))


# ---------------------------------------------------------------------------------------------- reporter
def test_reporter_files_only_as_itself_for_its_own_organisation(roles_db, connect):
    owner, p = roles_db["owner"], roles_db["prefix"]
    polis = connect("rep_polis")
    # tries to file as approved, under another person's name: the database sets both from the session
    filed = report(polis, "polisen", status="approved", reporter="någon.annan")
    row = event_row(owner, filed)
    assert (row["status"], row["reporter"], row["reviewer"]) == ("submitted", p + "rep_polis", None)
    assert audit(owner, filed) == [("submit", p + "rep_polis", p + "rep_polis")]
    refused(polis, INSERT, (str(uuid.uuid4()), "bevakning", "", dt.date(2026, 11, 20), "x", "submitted"),
            expect="est:other_organisation")


def test_reporter_cannot_approve_or_touch_review_fields(roles_db, connect):
    owner = roles_db["owner"]
    polis = connect("rep_polis")
    own = report(polis, "polisen")
    refused(polis, "UPDATE est.events SET status = 'approved' WHERE uuid = %s", (own,), expect="est:not_reviewer")
    refused(polis, "UPDATE est.events SET reviewer = 'x', reviewed_at = now() WHERE uuid = %s", (own,),
            expect="est:review_fields")
    refused(polis, "UPDATE est.events SET reporter = 'someone' WHERE uuid = %s", (own,), expect="est:fixed_field")
    refused(polis, "UPDATE est.events SET organisation = 'bevakning' WHERE uuid = %s", (own,))
    assert event_row(owner, own)["status"] == "submitted"


def test_reporter_sees_own_organisation_and_the_masked_compilation(roles_db, connect):
    owner, p = roles_db["owner"], roles_db["prefix"]
    polis, vakt, reviewer = connect("rep_polis"), connect("rep_vakt"), connect("granskare1")
    secret = report(vakt, "bevakning", description="Vakternas ogranskade text")
    approved = report(vakt, "bevakning", description="Godkänd text från vakterna")
    run(reviewer, "UPDATE est.events SET status = 'approved' WHERE uuid = %s", (approved,))
    mine = report(polis, "polisen")
    visible = {r[0] for r in run(polis, "SELECT uuid::text FROM est.events")}
    assert mine in visible and secret not in visible and approved not in visible
    assert run(polis, "SELECT count(*) FROM est.events WHERE organisation = 'bevakning'") == [(0,)]
    compiled = run(polis, "SELECT reporter, description, status FROM est.approved_events WHERE uuid = %s", (approved,))
    assert compiled == [("", "", "approved")]  # the event counts, the people and free text stay with their owner
    assert run(vakt, "SELECT reporter FROM est.approved_events WHERE uuid = %s", (approved,)) == [(p + "rep_vakt",)]
    assert run(polis, "SELECT count(*) FROM est.approved_events WHERE uuid = %s", (secret,)) == [(0,)]
    # and the audit log: only the history of its own organisation's reports
    logged = {r[0] for r in run(polis, "SELECT DISTINCT subject_key FROM est.audit_log")}
    assert mine in logged and secret not in logged and approved not in logged
    assert run(owner, "SELECT count(*) FROM est.audit_log WHERE subject_key = %s", (secret,)) == [(1,)]


def test_reporter_edits_and_withdraws_only_unreviewed_reports_of_its_organisation(roles_db, connect):
    owner = roles_db["owner"]
    polis, vakt, reviewer = connect("rep_polis"), connect("rep_vakt"), connect("granskare1")
    own = report(polis, "polisen")
    other = report(vakt, "bevakning")
    assert run(polis, "UPDATE est.events SET description = 'Rättad' WHERE uuid = %s", (own,)) == 1
    assert event_row(owner, own)["version"] == 2  # the database counts versions, not the client
    assert run(polis, "UPDATE est.events SET description = 'Kapad' WHERE uuid = %s", (other,)) == 0
    assert event_row(owner, other)["description"] == "Taggar på elskåp"
    run(reviewer, "UPDATE est.events SET status = 'approved' WHERE uuid = %s", (own,))
    assert run(polis, "UPDATE est.events SET description = 'Efteråt' WHERE uuid = %s", (own,)) == 0
    withdrawn = report(polis, "polisen")
    assert run(polis, "UPDATE est.events SET status = 'withdrawn' WHERE uuid = %s", (withdrawn,)) == 1
    assert run(polis, "UPDATE est.events SET status = 'submitted' WHERE uuid = %s", (withdrawn,)) == 0
    assert event_row(owner, withdrawn)["status"] == "withdrawn"
    assert [a[0] for a in audit(owner, withdrawn)] == ["submit", "withdraw"]


def test_nobody_deletes_reports(roles_db, connect):
    for login in ("rep_polis", "granskare1", "admin1", "tittare"):
        refused(connect(login), "DELETE FROM est.events")


# ---------------------------------------------------------------------------------------------- reviewer
def test_reviewer_decides_as_itself_never_on_its_own_report(roles_db, connect):
    owner, p = roles_db["owner"], roles_db["prefix"]
    polis, reviewer = connect("rep_polis"), connect("granskare1")
    filed = report(polis, "polisen")
    run(reviewer, "UPDATE est.events SET status = 'approved', reviewer = 'chefen' WHERE uuid = %s", (filed,))
    row = event_row(owner, filed)
    assert (row["status"], row["reviewer"]) == ("approved", p + "granskare1")
    assert audit(owner, filed)[-1] == ("approve", p + "granskare1", p + "granskare1")
    own = report(reviewer, "slf_trygghet")
    refused(reviewer, "UPDATE est.events SET status = 'approved' WHERE uuid = %s", (own,), expect="est:own_report")
    run(connect("granskare2"), "UPDATE est.events SET status = 'rejected', review_reason = 'Dubblett' WHERE uuid = %s",
        (own,))
    assert event_row(owner, own)["status"] == "rejected"


def test_status_follows_one_state_machine(roles_db, connect):
    owner = roles_db["owner"]
    polis, reviewer = connect("rep_polis"), connect("granskare1")
    approved = report(polis, "polisen")
    run(reviewer, "UPDATE est.events SET status = 'approved' WHERE uuid = %s", (approved,))
    for target in ("submitted", "rejected", "withdrawn"):
        refused(reviewer, "UPDATE est.events SET status = %s WHERE uuid = %s", (target, approved),
                expect="est:status_transition")
    rejected = report(polis, "polisen")
    run(reviewer, "UPDATE est.events SET status = 'rejected', review_reason = 'Inte EST' WHERE uuid = %s", (rejected,))
    refused(reviewer, "UPDATE est.events SET status = 'approved' WHERE uuid = %s", (rejected,),
            expect="est:status_transition")
    # the schema owner is held to the same machine
    with pytest.raises(psycopg2.Error):
        run(owner, "UPDATE est.events SET status = 'submitted' WHERE uuid = %s", (approved,))


def test_correcting_an_approved_event_needs_a_reviewer_and_a_reason(roles_db, connect):
    owner, p = roles_db["owner"], roles_db["prefix"]
    polis, reviewer = connect("rep_polis"), connect("granskare1")
    event = report(polis, "polisen")
    run(reviewer, "UPDATE est.events SET status = 'approved' WHERE uuid = %s", (event,))
    refused(reviewer, "UPDATE est.events SET category = 'skadegorelse' WHERE uuid = %s", (event,),
            expect="est:correction_reason")
    reviewer.autocommit = False
    with reviewer.cursor() as cursor:
        cursor.execute("SET LOCAL est.reason = 'Fel kategori'")
        cursor.execute("UPDATE est.events SET category = 'skadegorelse' WHERE uuid = %s", (event,))
    reviewer.commit()
    last = run(owner, "SELECT action, actor, reason, changes FROM est.audit_log WHERE subject_key = %s ORDER BY id DESC "
                      "LIMIT 1", (event,))[0]
    assert last[:3] == ("correct", p + "granskare1", "Fel kategori")
    assert last[3]["category"] == ["klotter", "skadegorelse"]


# ---------------------------------------------------------------------------------------------- viewer
def test_viewer_reads_approved_events_only_without_people_or_free_text(roles_db, connect):
    owner = roles_db["owner"]
    polis, reviewer, viewer = connect("rep_polis"), connect("granskare1"), connect("tittare")
    pending = report(polis, "polisen")
    approved = report(polis, "polisen", description="Synlig först när admin tillåter")
    run(reviewer, "UPDATE est.events SET status = 'approved' WHERE uuid = %s", (approved,))
    refused(viewer, "SELECT count(*) FROM est.events", expect="permission denied")
    refused(viewer, "SELECT count(*) FROM est.audit_log", expect="permission denied")
    rows = run(viewer, "SELECT uuid::text, reporter, description, reviewer FROM est.approved_events")
    assert approved in {r[0] for r in rows} and pending not in {r[0] for r in rows}
    assert {r[1:] for r in rows} == {("", "", None)}
    refused(viewer, INSERT, (str(uuid.uuid4()), "sbf", "", dt.date(2026, 11, 20), "x", "submitted"))
    refused(viewer, "UPDATE est.meetings SET notes = 'x'")
    admin = connect("admin1")
    run(admin, "INSERT INTO est.est_settings (key, value) VALUES ('viewer_descriptions', 'true')")
    try:
        assert run(viewer, "SELECT description FROM est.approved_events WHERE uuid = %s", (approved,)) == [
            ("Synlig först när admin tillåter",)]
    finally:
        run(admin, "DELETE FROM est.est_settings WHERE key = 'viewer_descriptions'")
    assert run(owner, "SELECT actor FROM est.audit_log WHERE subject = 'setting' AND subject_key = "
                      "'viewer_descriptions' ORDER BY id") == [(roles_db["prefix"] + "admin1",)] * 2


# ---------------------------------------------------------------------------------------------- audit log
@pytest.mark.parametrize("login", ["rep_polis", "granskare1", "admin1"])
def test_audit_log_is_append_only_for_every_role(roles_db, connect, login):
    conn = connect(login)
    refused(conn, "INSERT INTO est.audit_log (subject, subject_key, action, actor) VALUES ('event', 'x', 'fake', 'x')")
    refused(conn, "UPDATE est.audit_log SET actor = 'someone else'")
    refused(conn, "DELETE FROM est.audit_log")
    refused(conn, "TRUNCATE est.audit_log")


def test_even_the_owner_cannot_rewrite_the_log_without_dropping_triggers(roles_db):
    owner = roles_db["owner"]
    for sql in ("UPDATE est.audit_log SET actor = 'x'", "DELETE FROM est.audit_log", "TRUNCATE est.audit_log"):
        with pytest.raises(psycopg2.Error) as caught:
            run(owner, sql)
        assert "est:audit_append_only" in str(caught.value)


def test_a_psql_change_by_the_owner_is_audited(roles_db, connect):
    owner = roles_db["owner"]
    event = report(connect("rep_polis"), "polisen")
    run(owner, "UPDATE est.events SET place_name = 'Ändrad i psql' WHERE uuid = %s", (event,))
    action, actor, login = audit(owner, event)[-1]
    assert (action, actor, login) == ("edit", "est_test", "est_test")
    changes = run(owner, "SELECT changes FROM est.audit_log WHERE subject_key = %s ORDER BY id DESC LIMIT 1",
                  (event,))[0][0]
    assert changes == {"place_name": ["", "Ändrad i psql"]}


def test_reference_data_changes_are_audited(roles_db, connect):
    owner, p = roles_db["owner"], roles_db["prefix"]
    admin = connect("admin1")
    run(admin, "UPDATE est.categories SET colour = '#000000' WHERE code = 'ovrigt'")
    assert run(owner, "SELECT action, actor, changes -> 'colour' FROM est.audit_log WHERE subject = 'category' "
                      "AND subject_key = 'ovrigt' ORDER BY id DESC LIMIT 1") == [("edit", p + "admin1", ["#bdbdbd", "#000000"])]
    refused(connect("granskare1"), "UPDATE est.categories SET colour = '#ffffff'")
    refused(connect("rep_polis"), "INSERT INTO est.organisations (code, name_sv, name_en) VALUES ('x', 'x', 'x')")


# ---------------------------------------------------------------------------------------------- logins
def test_logins_are_managed_only_by_administrators(roles_db, connect):
    owner, p = roles_db["owner"], roles_db["prefix"]
    refused(connect("granskare1"), "SELECT est.create_login(%s, 'polisen', 'admin', 'Lösenord-1234')",
            (p + "inkräktare",), expect="permission denied")
    admin = connect("admin1")
    run(admin, "SELECT est.create_login(%s, 'polisen', 'reporter', 'Lösenord-1234', 'Ny Polis')", (p + "ny_polis",))
    new = psycopg2.connect(**{**roles_db["dsn"], "user": p + "ny_polis", "password": "Lösenord-1234"})
    try:
        assert run(new, "SELECT est.my_role(), est.my_organisation()") == [("reporter", "polisen")]
        run(admin, "SELECT est.set_login_role(%s, 'viewer')", (p + "ny_polis",))
        assert run(new, "SELECT est.my_role()") == [("viewer",)]
    finally:
        new.close()
    run(admin, "SELECT est.set_login_active(%s, false)", (p + "ny_polis",))
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(**{**roles_db["dsn"], "user": p + "ny_polis", "password": "Lösenord-1234"})
    # a role outside EST (the database superuser) is out of reach, so is one's own admin role
    refused(admin, "SELECT est.set_login_password('est_test', 'Övertagen-12345')", expect="est:no_such_login")
    refused(admin, "SELECT est.set_login_role(%s, 'viewer')", (p + "admin1",), expect="est:own_admin")
    refused(admin, "SELECT est.create_login('x', 'polisen', 'reporter', 'Lösenord-1234')", expect="est:bad_login")
    refused(admin, "INSERT INTO est.memberships (login, organisation, role) VALUES ('lurad', 'polisen', 'admin')")
    # others see only their own membership row; every change to memberships is audited
    assert run(connect("rep_polis"), "SELECT login FROM est.memberships") == [(p + "rep_polis",)]
    actions = run(owner, "SELECT action FROM est.audit_log WHERE subject = 'membership' AND subject_key = %s ORDER BY id",
                  (p + "ny_polis",))
    assert [a[0] for a in actions] == ["create", "edit", "edit"]  # created, role changed, disabled


def test_imports_enter_as_submitted_unless_the_source_is_trusted(roles_db, connect):
    owner = roles_db["owner"]
    admin, polis = connect("admin1"), connect("rep_polis")
    run(admin, "INSERT INTO est.sources (code, name, organisation) VALUES ('polisens_flode', 'Polisens flöde', 'polisen')")
    sql = ("INSERT INTO est.events (geom, uuid, category, organisation, event_date, status, source, source_id) "
           "VALUES (ST_SetSRID(ST_MakePoint(356500, 6213700), 3006), %s, 'klotter', 'polisen', '2026-11-20', "
           "'approved', 'polisens_flode', %s)")
    first = str(uuid.uuid4())
    run(polis, sql, (first, "A-1"))
    assert event_row(owner, first)["status"] == "submitted"
    refused(polis, "SELECT est.set_source_trusted('polisens_flode', true)", expect="permission denied")
    run(admin, "SELECT est.set_source_trusted('polisens_flode', true)")
    second = str(uuid.uuid4())
    run(polis, sql, (second, "A-2"))
    assert event_row(owner, second)["status"] == "approved"
    assert [a[0] for a in audit(owner, second)] == ["import"]
    with pytest.raises(psycopg2.IntegrityError):  # the same source id twice is one event
        run(polis, sql, (str(uuid.uuid4()), "A-2"))


def test_a_viewers_export_carries_no_reporter_or_description(roles_db, connect, tmp_path):
    """Through the plugin's own store, logged in as a viewer: the CSV has counts and places, not people."""
    import csv
    import dataclasses

    from est_weekly_plugin.analysis import exports
    from est_weekly_plugin.domain.model import Role
    from est_weekly_plugin.store import PostgisStore

    polis, reviewer = connect("rep_polis"), connect("granskare1")
    event = report(polis, "polisen", description="Fritext som tittare inte ska se")
    run(reviewer, "UPDATE est.events SET status = 'approved' WHERE uuid = %s", (event,))
    info = dataclasses.replace(roles_db["info"], user=roles_db["prefix"] + "tittare", password=PASSWORD)
    store = PostgisStore.open(info)
    try:
        me = store.whoami()
        assert (me.role, me.organisation, me.enforced) == (Role.VIEWER, "sbf", True)
        columns = store.load_columns()  # a viewer reads the compilation through the view
        assert len(columns) >= 1
        exports.export_events_csv(store, columns.fid, tmp_path / "viewer.csv")
    finally:
        store.close()
    with open(tmp_path / "viewer.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(columns)
    assert "reporter" not in rows[0] and "reviewer" not in rows[0]  # no export carries people
    assert {r["description"] for r in rows} == {""}  # a viewer's: no free text either


def test_a_lost_connection_is_reopened_on_the_next_action(roles_db, connect):
    """The server dropped the session (a restart looks the same to a client): say so, then reconnect."""
    import dataclasses

    from est_weekly_plugin.domain.errors import DatabaseUnavailable
    from est_weekly_plugin.store import PostgisStore

    info = dataclasses.replace(roles_db["info"], user=roles_db["prefix"] + "rep_polis", password=PASSWORD)
    store = PostgisStore.open(info)
    try:
        pid = store.whoami() and store._query("SELECT pg_backend_pid()")[0][0]
        run(roles_db["owner"], "SELECT pg_terminate_backend(%s)", (pid,))
        try:
            store.whoami()  # the first action may meet the dead connection: it says so, nothing half-done
        except DatabaseUnavailable as error:
            assert "cannot be reached" in error.message("en")
        assert store.whoami().login == roles_db["prefix"] + "rep_polis"
    finally:
        store.close()


# ---------------------------------------------------------------------------------------------- privacy
def test_only_a_reviewer_redacts_and_only_through_the_function(roles_db, connect):
    owner, p = roles_db["owner"], roles_db["prefix"]
    polis, reviewer = connect("rep_polis"), connect("granskare1")
    secret = "19800101-1234"
    event = report(polis, "polisen", description=f"Mannen {secret} igen")
    run(polis, "UPDATE est.events SET description = %s WHERE uuid = %s", (f"Rättat: {secret}", event))
    version = run(owner, "SELECT version FROM est.events WHERE uuid = %s", (event,))[0][0]
    refused(polis, "SELECT est.redact_event_text(%s, %s, %s)", (event, version, secret), expect="permission denied")
    # the append-only rule cannot be switched off from outside: no token, no GUC trick
    refused(reviewer, "INSERT INTO est.redaction_tokens VALUES (txid_current())", expect="permission denied")
    reviewer.autocommit = False
    with pytest.raises(psycopg2.Error) as caught, reviewer.cursor() as cursor:
        cursor.execute("SET LOCAL est.redaction = 'on'")
        cursor.execute("UPDATE est.audit_log SET reason = 'x' WHERE subject_key = %s", (event,))
    assert caught.value.pgcode == "42501"
    reviewer.rollback()
    reviewer.autocommit = True
    assert run(reviewer, "SELECT est.redact_event_text(%s, %s, %s)", (event, version, secret))[0][0] >= 2
    history = run(owner, "SELECT changes::text, coalesce(reason, '') FROM est.audit_log WHERE subject_key = %s", (event,))
    assert not any(secret in changes or secret in reason for changes, reason in history)
    last = run(owner, "SELECT action, actor FROM est.audit_log WHERE subject_key = %s ORDER BY id DESC LIMIT 1", (event,))
    assert last == [("redact", p + "granskare1")]
    assert secret not in run(owner, "SELECT description FROM est.events WHERE uuid = %s", (event,))[0][0]


def test_only_an_administrator_pseudonymises(roles_db, connect):
    refused(connect("granskare1"), "SELECT est.pseudonymise_events(NULL, '2020-01-01')", expect="permission denied")
    assert run(connect("admin1"), "SELECT est.pseudonymise_events('klotter', '2000-01-01')") == [(0,)]


def test_every_role_records_its_exports_and_nobody_forges_one_directly(roles_db, connect):
    owner, p = roles_db["owner"], roles_db["prefix"]
    viewer = connect("tittare")
    run(viewer, "SELECT est.log_export('lagesbild.csv', 'vecka 47', 40)")
    assert run(owner, "SELECT actor, organisation FROM est.audit_log WHERE subject = 'export' ORDER BY id DESC LIMIT 1") \
        == [(p + "tittare", "sbf")]
    refused(viewer, "INSERT INTO est.audit_log (subject, subject_key, action, actor) VALUES ('export', 'x', 'export', 'x')")


def test_qgis_without_the_plugin_files_a_report_under_the_same_rules(roles_db, qgis_app):
    """A reporter adding a point in plain QGIS (postgres provider), leaving most fields empty."""
    from qgis.core import QgsDataSourceUri, QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    owner, p = roles_db["owner"], roles_db["prefix"]
    info = roles_db["info"]
    uri = QgsDataSourceUri()
    uri.setConnection(info.host, str(info.port), info.dbname, p + "rep_polis", PASSWORD)
    uri.setDataSource("est", "events", "geom", "", "fid")
    layer = QgsVectorLayer(uri.uri(False), "events", "postgres")
    assert layer.isValid()
    feature = QgsFeature(layer.fields())
    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(356600, 6213800)))
    feature["category"], feature["event_date"], feature["status"] = "klotter", "2026-11-20", "approved"
    feature["organisation"], feature["reporter"] = "polisen", "någon.annan"
    ok, _ = layer.dataProvider().addFeatures([feature])
    assert ok, layer.dataProvider().lastError()
    row = run(owner, "SELECT status, reporter, source, personal_data, uuid IS NOT NULL FROM est.events "
                     "WHERE ST_X(geom) = 356600")
    assert row == [("submitted", p + "rep_polis", "form", "", True)]
    # and QGIS cannot file for another organisation either
    other = QgsFeature(layer.fields())
    other.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(356700, 6213800)))
    other["category"], other["event_date"], other["organisation"] = "klotter", "2026-11-20", "bevakning"
    ok, _ = layer.dataProvider().addFeatures([other])
    assert not ok and "est:other_organisation" in layer.dataProvider().lastError()


def test_an_administrator_manages_but_does_not_decide(roles_db, connect):
    """Separation of duties: the administrator reads everything but neither files nor reviews."""
    owner = roles_db["owner"]
    admin, polis = connect("admin1"), connect("rep_polis")
    event = report(polis, "polisen")
    assert run(admin, "SELECT count(*) FROM est.events WHERE uuid = %s", (event,)) == [(1,)]
    assert run(admin, "UPDATE est.events SET status = 'approved' WHERE uuid = %s", (event,)) == 0
    assert event_row(owner, event)["status"] == "submitted"
    refused(admin, INSERT, (str(uuid.uuid4()), "slf_trygghet", "", dt.date(2026, 11, 20), "x", "submitted"),
            expect="est:no_report_role")


def test_every_login_sees_that_something_changed_but_not_what(roles_db, connect):
    polis, viewer = connect("rep_polis"), connect("tittare")
    before = run(viewer, "SELECT est.change_marker()")[0][0]
    report(polis, "polisen")
    assert run(viewer, "SELECT est.change_marker()")[0][0] > before
    refused(viewer, "SELECT max(id) FROM est.audit_log", expect="permission denied")
