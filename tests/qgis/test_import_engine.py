"""The import's promises on a real GeoPackage and PostGIS: submitted for review (approved only from a
trusted source), audited row by row, never twice, near-duplicates flagged, all or nothing, cancellable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import TODAY

from est_weekly_plugin.domain.errors import EstError
from est_weekly_plugin.domain.model import Event, Precision, Status
from est_weekly_plugin.store.importing import (
    ImportTask,
    guess_profile,
    import_file,
    prepare_import,
    read_source,
    write_import,
)
from est_weekly_plugin.store.importing.profiles import ImportProfile

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def guards(table):  # noqa: ANN001, ANN201
    profile = guess_profile(table.column_names)
    profile.organisation = "bevakning"
    return profile


def test_second_import_of_the_same_files_adds_nothing(store):
    first = [import_file(store, DATA / name, today=TODAY) for name in ("polisen_handelser.json", "open311_requests.json")]
    table = read_source(DATA / "vakter_cp1252.csv")
    first.append(write_import(store, prepare_import(store, table, guards(table), today=TODAY), today=TODAY))
    count, audited = store.count(), len(store.audit_log(subject="event"))
    assert [s.new for s in first] == [3, 2, 4] and count == 9 and audited == 9
    again = [import_file(store, DATA / name, today=TODAY) for name in ("polisen_handelser.json", "open311_requests.json")]
    again.append(write_import(store, prepare_import(store, table, guards(table), today=TODAY), today=TODAY))
    assert [(s.new, s.already) for s in again] == [(0, 3), (0, 2), (0, 4)]
    assert "0 new, 3 already imported, 2 problem rows" in again[0].message("en")
    assert "0 nya, 4 redan importerade, 4 problemrader" in again[2].message("sv")
    assert store.count() == count and len(store.audit_log(subject="event")) == audited


def test_rows_enter_submitted_with_source_and_audit(store):
    import_file(store, DATA / "polisen_handelser.json", today=TODAY)
    events = store.events()
    assert {e.status for e in events} == {Status.SUBMITTED} and {e.source for e in events} == {"police"}
    entries = store.audit_log(subject="event")
    assert {e.action for e in entries} == {"import"} and len(entries) == 3
    changes = entries[0].changes
    assert changes["source"] == [None, "police"] and changes["location_precision"] == [None, "municipality"]
    assert changes["source_id"][1] in {"612345", "612301", "612288"}


def test_a_trusted_source_enters_approved(store):
    store.set_source_trusted("open311", True)
    import_file(store, DATA / "open311_requests.csv", today=TODAY)
    events = store.events()
    assert {e.status for e in events} == {Status.APPROVED}
    assert {e.review_reason for e in events} == {"trusted source: open311"}


def test_placing_an_area_event_is_an_audited_correction(store):
    import_file(store, DATA / "polisen_handelser.json", today=TODAY)
    event = next(e for e in store.events() if e.source_id == "612345")
    placed = store.review(event.uuid, event.version, "granskare", Status.APPROVED, today=TODAY,
                          corrections={"x": 356950.0, "y": 6214850.0, "location_precision": Precision.POINT})
    assert placed.location_precision == Precision.POINT and placed.x == 356950.0
    change = store.audit_log(event.uuid)[-1]
    assert change.action == "approve" and change.changes["location_precision"] == ["municipality", "point"]


def test_near_duplicates_of_stored_events_are_flagged_across_organisations(store):
    store.submit(Event(category="klotter", organisation="polisen", event_date=dt.date(2026, 11, 21),
                       x=356430.0, y=6213700.0, time_from=dt.time(9, 30)), "polis", today=TODAY)
    table = read_source(DATA / "open311_requests.csv")
    plan = prepare_import(store, table, guess_profile(table.column_names), today=TODAY)
    states = {row["source_id"]: row["state"] for row in plan.preview()}
    # the Open311 graffiti report 60 m and 30 minutes from the police's; the litter report has no match
    assert states == {"HBG-2026-10421": "near", "HBG-2026-10422": "new", "HBG-2026-10423": "problem"}
    summary = write_import(store, plan, today=TODAY)
    assert summary.near_duplicates == 1 and summary.new == 2  # flagged for the reviewer, still imported


def test_problem_rows_are_listed_before_anything_is_written(gpkg_store):
    table = read_source(DATA / "vakter_cp1252.csv")
    plan = prepare_import(gpkg_store, table, guards(table), today=TODAY)
    assert gpkg_store.count() == 0  # planning writes nothing
    assert plan.problem_counts() == {"bad_time": 1, "unknown_category": 1, "outside": 1, "empty_row": 1}
    assert plan.counts() == {"new": 4, "already": 0, "problems": 4, "near": 0, "total": 8}
    preview = plan.preview(5)
    assert preview[0]["category"] == "skadegorelse" and preview[0]["time"] == "22:15–23:00"
    assert preview[4]["state"] == "problem" and "xx:yy" in preview[4]["problem"]


def test_bad_dates_future_dates_and_duplicated_ids(gpkg_store, tmp_path):
    path = tmp_path / "vakter.csv"
    path.write_text("id;kategori;datum;e;n\n1;Klotter;2026-11-20;356500;6213700\n1;Klotter;2026-11-21;356500;6213700\n"
                    "2;Klotter;igår;356500;6213700\n3;Klotter;2027-01-01;356500;6213700\n"
                    "4;Klotter;2001-01-01;356500;6213700\n5;Klotter;2026-11-20;;\n", encoding="utf-8")
    table = read_source(path)
    plan = prepare_import(gpkg_store, table, guards(table), today=TODAY)
    assert [(p.row, p.reason) for p in plan.problems()] == [
        (3, "duplicate_in_file"), (4, "bad_date"), (5, "future_date"), (6, "old_date"), (7, "no_location")]


def test_cancel_leaves_nothing_written(store):
    table = read_source(DATA / "open311_requests.json")
    plan = prepare_import(store, table, guess_profile(table.column_names), today=TODAY)
    with pytest.raises(EstError) as caught:
        write_import(store, plan, today=TODAY, progress=lambda fraction: False)
    assert caught.value.code == "cancelled"
    assert store.count() == 0 and store.audit_log(subject="event") == []


def test_unknown_source_is_refused_with_a_clear_message(gpkg_store):
    table = read_source(DATA / "open311_requests.json")
    profile = ImportProfile(name="Okänd", source="nowhere")
    with pytest.raises(EstError) as caught:
        prepare_import(gpkg_store, table, profile, today=TODAY)
    assert "nowhere" in caught.value.message("en") and "Spara importprofilen" in caught.value.message("sv")


def test_profiles_are_saved_per_source_and_reused(store):
    table = read_source(DATA / "vakter_cp1252.csv")
    profile = guards(table)
    profile.name, profile.source, profile.source_name = "Bevakning Nord", "bevakning_nord", "Bevakningsbolag Nord"
    profile.category_values["Okänd händelse"] = "ovrigt"
    store.save_import_profile(profile.name, profile.source, profile.source_name, profile.to_json())
    saved = ImportProfile.from_json(store.import_profiles()["Bevakning Nord"])
    assert saved.fields == profile.fields and saved.category_values["Okänd händelse"] == "ovrigt"
    assert {"code": "bevakning_nord", "name": "Bevakningsbolag Nord", "organisation": None,
            "trusted": False} in store.sources()
    summary = write_import(store, prepare_import(store, table, saved, today=TODAY), today=TODAY)
    assert summary.new == 5 and {e.source for e in store.events()} == {"bevakning_nord"}
    saved.crs = "EPSG:3006"
    store.save_import_profile(saved.name, saved.source, saved.source_name, saved.to_json())  # replaced, not added
    assert len(store.import_profiles()) == 1 and store.import_profiles()["Bevakning Nord"]["crs"] == "EPSG:3006"


def test_import_task_progress_and_cancel(gpkg_store, qgis_app):
    from qgis.core import QgsApplication, QgsTask
    from qgis.PyQt.QtCore import QCoreApplication

    from est_weekly_plugin.store import GeoPackageStore

    def run(task: ImportTask) -> None:
        QgsApplication.taskManager().addTask(task)
        while task.status() not in (QgsTask.TaskStatus.Complete, QgsTask.TaskStatus.Terminated):
            QCoreApplication.processEvents()

    task = ImportTask("Import", lambda: GeoPackageStore.open(gpkg_store.path), path=str(DATA / "open311_requests.csv"),
                      today=TODAY)
    run(task)
    assert task.error is None and task.summary is not None and task.summary.new == 2 and gpkg_store.count() == 2
    cancelled = ImportTask("Import", lambda: GeoPackageStore.open(gpkg_store.path),
                           path=str(DATA / "polisen_handelser.json"), today=TODAY)
    cancelled.cancel()
    run(cancelled)
    assert cancelled.summary is None and gpkg_store.count() == 2


def test_on_postgis_reviewers_keep_profiles_reporters_import_but_never_approve(pg_store):
    """The role model: every login reads the profiles; reviewers and administrators save them; a reporter's
    import enters submitted even from a trusted source of another organisation, and nobody skips the audit."""
    from gui_helpers import partner_login

    from est_weekly_plugin.domain.errors import PermissionDenied
    from est_weekly_plugin.domain.model import Role

    with partner_login(pg_store, "granskare.imp", "slf_trygghet", Role.REVIEWER) as reviewer:
        reviewer.save_import_profile("Vakter", "vakter_nord", "Bevakning Nord", {"organisation": "bevakning"})
    pg_store.set_source_trusted("open311", True)
    with pg_store.transaction() as cursor:
        cursor.execute("UPDATE est.sources SET organisation = 'sbf' WHERE code = 'open311'")
    with partner_login(pg_store, "vakt.imp", "bevakning", Role.REPORTER) as reporter:
        assert "Vakter" in reporter.import_profiles()
        with pytest.raises(PermissionDenied):
            reporter.save_import_profile("Egen", "egen", "Egen källa", {})
        table = read_source(DATA / "vakter_cp1252.csv")
        assert write_import(reporter, prepare_import(reporter, table, guards(table), today=TODAY), today=TODAY).new == 4
        open311 = read_source(DATA / "open311_requests.csv")
        profile = guess_profile(open311.column_names)
        profile.organisation = "bevakning"  # a reporter files for its own organisation only
        write_import(reporter, prepare_import(reporter, open311, profile, today=TODAY), today=TODAY)
    statuses = {(e.source, e.status) for e in pg_store.events()}
    assert statuses == {("import", Status.SUBMITTED), ("open311", Status.SUBMITTED)}
    audit = pg_store.audit_log(subject="event")
    assert len(audit) == 6 and {entry.login for entry in audit} == {"vakt.imp"}
