"""The event store: the same behaviour on GeoPackage and PostGIS, against real databases."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import pytest
from conftest import TODAY, make_event

from est_weekly_plugin.domain import i18n
from est_weekly_plugin.domain.errors import ConflictError, EstError, ValidationError
from est_weekly_plugin.domain.model import Status, day_number, minute_of_day
from est_weekly_plugin.domain.reference import default_categories
from est_weekly_plugin.store import schema
from est_weekly_plugin.store.batch import EventBatch
from est_weekly_plugin.store.demo import demo_batch


def test_new_store_is_ready(store):
    assert store.schema_version() == schema.LATEST_VERSION
    codes = [c.code for c in store.categories()]
    assert codes == [c.code for c in default_categories()]
    assert len(codes) == 14
    skadegorelse = next(c for c in store.categories() if c.code == "skadegorelse")
    assert (skadegorelse.label_sv, skadegorelse.label_en, skadegorelse.colour) == ("Skadegörelse", "Vandalism", "#a63603")
    assert "polisen" in {o.code for o in store.organisations()}
    assert store.settings.epsg == 3006
    assert store.settings.municipality == "Helsingborg"
    assert store.count() == 0


def test_every_field_round_trips(store):
    event = make_event(place_name="Öresundsgatan – Råå", description="Åtta ägg, ölflaskor & \"citat\" 'apostrof'\nrad två")
    saved = store.submit(event, actor="anna.andersson", today=TODAY)
    again = store.get(saved.uuid)
    for name in ("category", "organisation", "event_date", "time_from", "time_to", "place_name", "description",
                 "reporter", "uuid"):
        assert getattr(again, name) == getattr(event, name), name
    assert (again.x, again.y) == (event.x, event.y)
    assert again.status == Status.SUBMITTED and again.version == 1
    assert again.created_at is not None and again.created_at.tzinfo is not None
    unknown_time = store.submit(make_event(time_from=None, time_to=None), actor="bo", today=TODAY)
    assert store.get(unknown_time.uuid).time_unknown
    point_in_time = store.submit(make_event(time_to=None), actor="bo", today=TODAY)
    assert store.get(point_in_time.uuid).time_to is None


def test_submit_writes_audit_entry(store):
    saved = store.submit(make_event(), actor="anna", today=TODAY)
    log = store.audit_log(saved.uuid)
    assert [entry.action for entry in log] == ["submit"]
    assert log[0].actor == "anna"
    assert log[0].changes["category"] == [None, "klotter"]


BAD_INPUTS = [
    (dict(category=""), "category", "Choose a category."),
    (dict(category="inte_en_kategori"), "category", "Unknown category “inte_en_kategori”."),
    (dict(organisation="okänd"), "organisation", "Unknown organisation “okänd”."),
    (dict(x=12.69, y=56.04), "place", "look like longitude/latitude"),
    (dict(x=400000.0, y=6213700.0), "place", "outside the municipality"),
    (dict(x=float("nan")), "place", "Place the event on the map"),
    (dict(event_date=dt.date(2026, 12, 24)), "event_date", "The date 2026-12-24 is in the future."),
    (dict(time_from=dt.time(10, 0), time_to=dt.time(1, 0)), "time_to", "The end time 01:00 is before the start time 10:00."),
    (dict(time_from=None, time_to=dt.time(1, 0)), "time_from", "An end time needs a start time."),
    (dict(description="x" * 2001), "description", "too long (2001 characters, at most 2000)"),
    (dict(place_name="Torget\x00\x1b[31m"), "place_name", "control characters"),
]


@pytest.mark.parametrize(("changes", "field", "text"), BAD_INPUTS, ids=[b[1] + str(i) for i, b in enumerate(BAD_INPUTS)])
def test_bad_input_is_refused_and_nothing_written(store, changes, field, text):
    store.submit(make_event(), actor="anna", today=TODAY)
    with pytest.raises(ValidationError) as caught:
        store.submit(make_event(**changes), actor="anna", today=TODAY)
    assert field in {p.field for p in caught.value.problems}
    assert text in caught.value.message("en")
    assert store.count() == 1
    assert len(store.audit_log(subject="event")) == 1


def test_messages_exist_in_swedish(store):
    with pytest.raises(ValidationError) as caught:
        store.submit(make_event(x=12.69, y=56.04, event_date=dt.date(2027, 1, 1)), actor="anna", today=TODAY)
    swedish = caught.value.message("sv")
    assert "ser ut som longitud/latitud" in swedish
    assert "ligger i framtiden" in swedish
    i18n.set_language("sv")
    assert "kan inte sparas" in str(caught.value)


def test_hostile_strings_are_data(store):
    hostile = "'; DROP TABLE events; -- \" OR 1=1 /* ${x} %s {0} <script>"
    saved = store.submit(make_event(description=hostile, place_name="Robert'); DROP TABLE--"), actor="x", today=TODAY)
    assert store.get(saved.uuid).description == hostile
    assert store.events(category="klotter' OR '1'='1") == []
    assert store.events(reporter="%") == []
    with pytest.raises(EstError) as caught:
        store.get("' OR 1=1 --")
    assert caught.value.code == "not_found"
    assert store.count() == 1


def test_review_approve_with_correction_is_audited(store):
    saved = store.submit(make_event(), actor="anna", today=TODAY)
    approved = store.review(saved.uuid, saved.version, "granskare", Status.APPROVED,
                            corrections={"category": "skadegorelse", "x": 356510.0}, today=TODAY)
    assert approved.status == Status.APPROVED and approved.version == 2
    assert approved.category == "skadegorelse" and approved.reviewer == "granskare"
    entry = store.audit_log(saved.uuid)[-1]
    assert entry.action == "approve" and entry.actor == "granskare"
    assert entry.changes["category"] == ["klotter", "skadegorelse"]
    assert entry.changes["x"] == [356500.0, 356510.0]
    assert entry.changes["status"] == ["submitted", "approved"]
    columns = store.load_columns()
    assert len(columns) == 1 and columns.category_codes[columns.category[0]] == "skadegorelse"


def test_reject_needs_reason_and_never_reaches_compilation(store):
    saved = store.submit(make_event(), actor="anna", today=TODAY)
    with pytest.raises(EstError) as caught:
        store.review(saved.uuid, saved.version, "granskare", Status.REJECTED, reason="  ")
    assert caught.value.code == "reason_required"
    rejected = store.review(saved.uuid, saved.version, "granskare", Status.REJECTED, reason="Utanför uppdraget")
    assert rejected.review_reason == "Utanför uppdraget"
    assert len(store.load_columns()) == 0
    with pytest.raises(EstError) as again:
        store.review(saved.uuid, rejected.version, "granskare", Status.APPROVED)
    assert again.value.code == "not_reviewable"


def test_concurrent_review_is_refused(store):
    saved = store.submit(make_event(), actor="anna", today=TODAY)
    store.update_event(saved.uuid, saved.version, "anna", description="Ändrad av rapportören", today=TODAY)
    with pytest.raises(ConflictError) as caught:
        store.review(saved.uuid, saved.version, "granskare", Status.APPROVED, today=TODAY)
    assert "changed this report meanwhile" in caught.value.message("en")
    assert store.get(saved.uuid).status == Status.SUBMITTED


def test_duplicate_is_rejected_with_link(store):
    kept = store.submit(make_event(), actor="anna", today=TODAY)
    double = store.submit(make_event(organisation="bevakning", x=356530.0), actor="bo", today=TODAY)
    near = store.events_near(double.x, double.y, 100, TODAY - dt.timedelta(days=7), TODAY,
                             category="klotter", exclude_uuid=double.uuid)
    assert [e.uuid for e in near] == [kept.uuid]
    marked = store.review(double.uuid, double.version, "granskare", Status.REJECTED, duplicate_of=kept.uuid)
    assert marked.duplicate_of == kept.uuid and marked.status == Status.REJECTED
    assert store.audit_log(double.uuid)[-1].action == "duplicate"


def test_reporter_may_edit_and_withdraw_only_before_review(store):
    saved = store.submit(make_event(), actor="anna", today=TODAY)
    edited = store.update_event(saved.uuid, saved.version, "anna", place_name="Ny plats", today=TODAY)
    assert edited.version == 2 and edited.place_name == "Ny plats"
    withdrawn = store.withdraw(edited.uuid, edited.version, "anna")
    assert withdrawn.status == Status.WITHDRAWN
    other = store.submit(make_event(), actor="anna", today=TODAY)
    approved = store.review(other.uuid, other.version, "granskare", Status.APPROVED)
    with pytest.raises(EstError) as caught:
        store.update_event(other.uuid, approved.version, "anna", description="efteråt", today=TODAY)
    assert caught.value.code == "not_editable"
    with pytest.raises(EstError):
        store.withdraw(other.uuid, approved.version, "anna")


def test_bulk_approve_is_all_or_nothing(store):
    first = store.submit(make_event(), actor="anna", today=TODAY)
    second = store.submit(make_event(), actor="anna", today=TODAY)
    with pytest.raises(ConflictError):
        store.approve_many([(first.uuid, first.version), (second.uuid, second.version + 5)], "granskare")
    assert store.count(Status.APPROVED) == 0
    assert store.approve_many([(first.uuid, first.version), (second.uuid, second.version)], "granskare") == 2
    assert store.count(Status.APPROVED) == 2


def test_bulk_insert_with_one_bad_row_writes_nothing(store):
    batch = demo_batch(30_000, end_date=TODAY - dt.timedelta(days=1))
    batch.category[29_999] = "okänd"
    with pytest.raises(ValidationError) as caught:
        store.insert_batch(batch, today=TODAY)
    assert caught.value.row == 29_999
    assert "Row 30000" in caught.value.message("en")
    assert store.count() == 0


def test_interrupted_bulk_insert_leaves_no_partial_rows(store):
    store.submit(make_event(), actor="anna", today=TODAY)
    batch = demo_batch(50_000, end_date=TODAY - dt.timedelta(days=1))
    calls = []

    def cancel_after_first_chunk(fraction: float) -> bool:
        calls.append(fraction)
        return False

    with pytest.raises(EstError) as caught:
        store.insert_batch(batch, today=TODAY, chunk=20_000, progress=cancel_after_first_chunk)
    assert caught.value.code == "cancelled"
    assert calls == [0.4]
    assert store.count() == 1
    assert len(store.load_columns(status=None)) == 1


def test_load_columns_matches_events(store):
    batch = demo_batch(25_000, end_date=TODAY - dt.timedelta(days=1), seed=7)
    assert store.insert_batch(batch, today=TODAY) == 25_000
    columns = store.load_columns()
    approved = store.events(Status.APPROVED)
    assert len(columns) == len(approved) == int((batch.status == "approved").sum())
    by_fid = {e.fid: e for e in approved}
    order = np.argsort(columns.fid)
    for i in order[:: max(1, len(order) // 400)]:
        event = by_fid[int(columns.fid[i])]
        assert (columns.x[i], columns.y[i]) == (event.x, event.y)
        assert columns.day[i] == day_number(event.event_date)
        assert columns.weekday[i] == event.event_date.weekday()
        assert columns.minute_from[i] == minute_of_day(event.time_from)
        expected_to = minute_of_day(event.time_to) if event.time_to else minute_of_day(event.time_from)
        assert columns.minute_to[i] == expected_to
        assert columns.category_codes[columns.category[i]] == event.category
        assert columns.organisation_codes[columns.organisation[i]] == event.organisation
    assert len(store.load_columns(Status.SUBMITTED)) == int((batch.status == "submitted").sum())
    assert len(store.load_columns(status=None)) == 25_000


def test_small_batch_of_events(store):
    events = [make_event(description=f"händelse {i}") for i in range(5)]
    assert store.insert_many(events, today=TODAY) == 5
    assert sorted(e.description for e in store.events()) == sorted(e.description for e in events)


def test_empty_store_loads_empty_columns(store):
    columns = store.load_columns()
    assert len(columns) == 0 and columns.category_codes


# ---------------------------------------------------------------------- GeoPackage specifics
def test_geopackage_is_a_valid_qgis_layer(gpkg_store, qgis_app):
    from qgis.core import QgsVectorLayer

    gpkg_store.insert_batch(demo_batch(30_000, end_date=TODAY - dt.timedelta(days=1)), today=TODAY)
    assert gpkg_store._query("SELECT rtreecheck('rtree_events_geom')")[0][0] == "ok"
    assert gpkg_store._query("SELECT count(*) FROM rtree_events_geom")[0][0] == 30_000
    layer = QgsVectorLayer(f"{gpkg_store.path}|layername=events", "events", "ogr")
    assert layer.isValid()
    assert layer.featureCount() == 30_000
    assert layer.crs().authid() == "EPSG:3006"
    layer.setSubsetString("status = 'approved' AND category = 'klotter'")
    expected = gpkg_store._query("SELECT count(*) FROM events WHERE status='approved' AND category='klotter'")[0][0]
    assert layer.featureCount() == expected > 0
    assert layer.hasSpatialIndex() == layer.SpatialIndexPresent
    # Editing in QGIS (through OGR) keeps the index and our reader working.
    saved = gpkg_store.submit(make_event(), actor="anna", today=TODAY)
    assert gpkg_store._query("SELECT count(*) FROM rtree_events_geom WHERE id = ?", (saved.fid,))[0][0] == 1
    assert gpkg_store._query("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name='events'")[0][0] == 30_001


def test_broken_and_foreign_files_get_clear_messages(tmp_path, qgis_app):
    from osgeo import ogr

    from est_weekly_plugin.store import GeoPackageStore

    missing = tmp_path / "finns_inte.gpkg"
    with pytest.raises(EstError) as caught:
        GeoPackageStore.open(missing)
    assert "does not exist" in caught.value.message("en") and "finns inte" in caught.value.message("sv")

    garbage = tmp_path / "trasig.gpkg"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(EstError) as caught:
        GeoPackageStore.open(garbage)
    assert caught.value.code == "not_gpkg"

    plain_sqlite = tmp_path / "plain.gpkg"
    sqlite3.connect(plain_sqlite).execute("CREATE TABLE t (a)").connection.close()
    with pytest.raises(EstError) as caught:
        GeoPackageStore.open(plain_sqlite)
    assert caught.value.code == "not_gpkg"

    other = tmp_path / "annan.gpkg"
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(other))
    dataset.CreateLayer("vägar", geom_type=ogr.wkbLineString)
    dataset = None
    with pytest.raises(EstError) as caught:
        GeoPackageStore.open(other)
    assert caught.value.code == "not_est_store"
    assert "not an EST database" in caught.value.message("en")

    truncated = tmp_path / "avkortad.gpkg"
    good = GeoPackageStore.create(tmp_path / "bra.gpkg")
    good.close()
    truncated.write_bytes((tmp_path / "bra.gpkg").read_bytes()[:5000])
    with pytest.raises(EstError):
        GeoPackageStore.open(truncated)

    with pytest.raises(EstError) as caught:
        GeoPackageStore.create(tmp_path / "bra.gpkg")
    assert caught.value.code == "exists"


def _v1_event(store):
    """A report as a version-1 database held it (written with version 1's columns only)."""
    event = make_event()
    with store.transaction() as cursor:
        cursor.execute(store._sql(
            f"INSERT INTO {store._table('events')} (geom, uuid, category, organisation, reporter, event_date, "
            f"place_name, description, status, created_at, updated_at) VALUES ({store._point_param_sql()}, "
            "?, ?, ?, ?, ?, ?, ?, 'submitted', ?, ?)"),
            (*store._point_params(event.x, event.y), event.uuid, event.category, event.organisation, "anna",
             store._date_param(event.event_date), event.place_name, event.description,
             store._timestamp(dt.datetime.now(dt.timezone.utc)), store._timestamp(dt.datetime.now(dt.timezone.utc))))
    return event


def test_geopackage_migrates_from_version_1(tmp_path):
    from est_weekly_plugin.store import GeoPackageStore

    path = tmp_path / "gammal.gpkg"
    old = GeoPackageStore.create(path, schema_version=1)
    assert old.schema_version() == 1
    saved = _v1_event(old)
    old.close()
    upgraded = GeoPackageStore.open(path)
    assert upgraded.schema_version() == schema.LATEST_VERSION
    assert upgraded.get(saved.uuid).description == saved.description
    tables = {r[0] for r in upgraded._query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"meetings", "priorities"} <= tables
    versions = [r[0] for r in upgraded._query("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, schema.LATEST_VERSION + 1))


def test_newer_geopackage_is_refused_unchanged(tmp_path):
    from est_weekly_plugin.store import GeoPackageStore

    path = tmp_path / "framtid.gpkg"
    store = GeoPackageStore.create(path)
    store._conn.execute("INSERT INTO schema_version VALUES (99, 'from the future', '9.0', '2030-01-01')")
    store.close()
    before = path.read_bytes()
    with pytest.raises(EstError) as caught:
        GeoPackageStore.open(path)
    assert caught.value.code == "schema_newer"
    assert "version 99" in caught.value.message("en") and "uppdatera tillägget" in caught.value.message("sv")
    assert path.read_bytes() == before


def test_failed_migration_leaves_database_unchanged(tmp_path, monkeypatch):
    from est_weekly_plugin.store import GeoPackageStore

    path = tmp_path / "v1.gpkg"
    GeoPackageStore.create(path, schema_version=1).close()
    broken = schema.Migration(2, "broken", ("CREATE TABLE meetings (id INTEGER)", "THIS IS NOT SQL"), ())
    monkeypatch.setattr(schema, "MIGRATIONS", (schema.MIGRATIONS[0], broken))
    monkeypatch.setattr(schema, "LATEST_VERSION", 2)
    with pytest.raises(EstError) as caught:
        GeoPackageStore.open(path)
    assert caught.value.code == "migration_failed"
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "meetings" not in tables


# ---------------------------------------------------------------------- PostGIS specifics
@pytest.mark.postgis
def test_postgis_migrates_from_version_1(pg_info):
    from est_weekly_plugin.store import PostgisStore

    old = PostgisStore.create(pg_info, schema_version=1)
    saved = _v1_event(old)
    old.close()
    upgraded = PostgisStore.open(pg_info)
    assert upgraded.schema_version() == schema.LATEST_VERSION
    assert upgraded.get(saved.uuid).place_name == saved.place_name
    assert upgraded.database_role() is not None
    upgraded.close()


@pytest.mark.postgis
def test_postgis_newer_schema_is_refused(pg_store, pg_info):
    from est_weekly_plugin.store import PostgisStore

    with pg_store.transaction() as cursor:
        cursor.execute("INSERT INTO est.schema_version (version, description, plugin_version) VALUES (42, 'x', '9')")
    with pytest.raises(EstError) as caught:
        PostgisStore.open(pg_info)
    assert caught.value.code == "schema_newer"


@pytest.mark.postgis
def test_unreachable_database_says_so(pg_info):
    from est_weekly_plugin.domain.errors import DatabaseUnavailable
    from est_weekly_plugin.store import PostgisStore

    pg_info.port = 1  # nothing listens there
    with pytest.raises(DatabaseUnavailable) as caught:
        PostgisStore.open(pg_info)
    assert "cannot be reached" in caught.value.message("en")
    assert "går inte att nå" in caught.value.message("sv")


@pytest.mark.postgis
def test_lost_connection_writes_nothing_and_recovers(pg_store, pg_cluster, pg_database):
    import psycopg2

    from est_weekly_plugin.domain.errors import DatabaseUnavailable

    pg_store.submit(make_event(), actor="anna", today=TODAY)
    pid = pg_store._query("SELECT pg_backend_pid()")[0][0]
    admin = psycopg2.connect(**pg_cluster.dsn(pg_database))
    admin.autocommit = True
    admin.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))
    admin.close()
    with pytest.raises(DatabaseUnavailable):
        pg_store.submit(make_event(description="under avbrottet"), actor="anna", today=TODAY)
    # The next call reconnects; the failed report was not written.
    assert pg_store.count() == 1
    assert [e.description for e in pg_store.events()] == [make_event().description]


@pytest.mark.postgis
def test_postgis_layer_opens_in_qgis_without_password(pg_store, qgis_app):
    from qgis.core import QgsVectorLayer

    pg_store.insert_batch(EventBatch.from_events([make_event(), make_event()]), today=TODAY)
    uri, provider = pg_store.layer_uri()
    assert "password" not in uri
    layer = QgsVectorLayer(uri.replace("user=", f"password='{pg_store.info.password}' user="), "events", provider)
    assert layer.isValid()
    assert layer.featureCount() == 2


@pytest.mark.postgis
def test_connect_through_saved_connection_and_authcfg(pg_info, qgis_app):
    """Credentials from QGIS's authentication manager; the saved connection holds no password."""
    from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsSettings, QgsVectorLayer

    from est_weekly_plugin.domain.model import Role
    from est_weekly_plugin.store import PgConnectionInfo, PostgisStore

    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        assert manager.setMasterPassword("est-test-master", True)
    config = QgsAuthMethodConfig()
    config.setName("EST test login")
    config.setMethod("Basic")
    config.setConfig("username", pg_info.user)
    config.setConfig("password", pg_info.password)
    stored = manager.storeAuthenticationConfig(config)
    assert stored[0] if isinstance(stored, tuple) else stored
    settings = QgsSettings()
    prefix = "PostgreSQL/connections/EST test"
    for key, value in {"host": pg_info.host, "port": str(pg_info.port), "database": pg_info.dbname,
                       "authcfg": config.id(), "saveUsername": "false", "savePassword": "false"}.items():
        settings.setValue(f"{prefix}/{key}", value)
    info = PgConnectionInfo.from_qgis_connection("EST test")
    assert info.password == "" and info.authcfg == config.id()
    store = PostgisStore.create(info)
    try:
        assert store.database_role() == Role.ADMIN
        uri, provider = store.layer_uri()
        assert f"authcfg={config.id()}" in uri and "password" not in uri
        assert QgsVectorLayer(uri, "events", provider).isValid()
    finally:
        store.close()
        settings.remove(prefix)
    with pytest.raises(EstError) as caught:
        PgConnectionInfo.from_qgis_connection("finns inte")
    assert caught.value.code == "no_connection"


def test_a_span_across_midnight_is_accepted(store):
    """23:00–02:00 is one evening's event; the filters already treat such spans."""
    saved = store.submit(make_event(time_from=dt.time(23, 0), time_to=dt.time(2, 0)), actor="anna", today=TODAY)
    again = store.get(saved.uuid)
    assert (again.time_from, again.time_to) == (dt.time(23, 0), dt.time(2, 0))


def test_a_locked_geopackage_says_what_holds_it_in_the_users_language(gpkg_store):
    import sqlite3

    from est_weekly_plugin.domain.errors import DatabaseUnavailable

    other = sqlite3.connect(str(gpkg_store.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program in the middle of a write
    other.execute("INSERT INTO est_settings (key, value) VALUES ('x', 'y')")
    gpkg_store._conn.execute("PRAGMA busy_timeout = 200")
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            gpkg_store.submit(make_event(), actor="anna", today=TODAY)
        assert "is locked: another program is writing to it right now" in caught.value.message("en")
        assert "är låst: ett annat program skriver i den just nu" in caught.value.message("sv")
        assert "Nothing was written" in caught.value.message("en")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert gpkg_store.count() == 0


def test_a_geopackage_on_a_network_share_is_recognised(tmp_path):
    from pathlib import Path

    from est_weekly_plugin.store.gpkg import network_share

    assert network_share(Path("//fileserver/est/est.gpkg"))
    assert not network_share(tmp_path / "est.gpkg")


@pytest.mark.postgis
def test_postgis_v3_logins_keep_their_role_after_the_upgrade(pg_info):
    """Logins that held an EST database role before memberships existed get one (safety unit)."""
    import dataclasses

    from est_weekly_plugin.domain.model import Role
    from est_weekly_plugin.store import PostgisStore

    old = PostgisStore.create(pg_info, schema_version=3)
    with old.transaction() as cursor:
        cursor.execute("DROP ROLE IF EXISTS gammal_granskare")
        cursor.execute("CREATE ROLE gammal_granskare LOGIN PASSWORD 'Gammalt-lösen-1' IN ROLE est_reviewer")
    old.close()
    upgraded = PostgisStore.open(pg_info)
    try:
        login = PostgisStore.open(dataclasses.replace(pg_info, user="gammal_granskare", password="Gammalt-lösen-1"))
        me = login.whoami()
        login.close()
        assert (me.role, me.organisation) == (Role.REVIEWER, "slf_trygghet")
    finally:
        with upgraded.transaction() as cursor:
            cursor.execute("DROP OWNED BY gammal_granskare")
            cursor.execute("DROP ROLE gammal_granskare")
        upgraded.close()


def test_times_at_the_edges_of_the_day_load_exactly(store):
    for time_from, time_to in ((dt.time(0, 0), dt.time(23, 59)), (None, None), (dt.time(23, 59), None)):
        saved = store.submit(make_event(time_from=time_from, time_to=time_to), actor="bo", today=TODAY)
        store.review(saved.uuid, saved.version, "granskare.gun", Status.APPROVED, today=TODAY)
    columns = store.load_columns()
    assert sorted(zip(columns.minute_from.tolist(), columns.minute_to.tolist())) == [(-1, -1), (0, 1439), (1439, 1439)]


def test_codes_read_by_hash_fall_back_when_two_codes_share_one():
    from est_weekly_plugin.store.pg_copy import code_positions

    hashes = np.array([7, -3, 7, 99])
    assert code_positions(hashes, [-3, 7]).tolist() == [1, 0, 1, -1]
    assert code_positions(hashes, [7, 7]) is None


def test_text_search_finds_approved_events_by_their_words_and_treats_input_as_data(store):
    saved = store.submit(make_event(place_name="Kullagatan 10", description="Klotter, 100%_ nytt"), actor="bo",
                         today=TODAY)
    store.review(saved.uuid, saved.version, "granskare.gun", Status.APPROVED, today=TODAY)
    store.submit(make_event(place_name="Kullagatan 12"), actor="bo", today=TODAY)  # not approved
    assert [e.uuid for e in store.search_approved("KULLAGATAN")] == [saved.uuid]
    assert [e.uuid for e in store.search_approved("100%_")] == [saved.uuid]
    for hostile in ("'; DROP TABLE events; --", "\\", "x' OR '1'='1", "%%%", "_a_"):
        assert store.search_approved(hostile) == [], hostile
    assert store.count() == 2
