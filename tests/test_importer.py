"""Importing events from real files: CSV with Swedish columns, a WGS84 GeoPackage, bad rows."""

from __future__ import annotations

import sys

import pytest
from conftest import TODAY

from est_weekly_plugin.domain.errors import EstError, ValidationError
from est_weekly_plugin.domain.model import Status
from est_weekly_plugin.store.importer import ImportTask, import_events, read_events_file

CSV = """kategori;organisation;datum;tid;tid_till;plats;beskrivning;e;n
Skadegörelse;Polisen – lokalpolisområde Helsingborg;2026-11-20;22:15;23:00;Söder;Krossad ruta;356890;6212400
klotter;bevakning;2026-11-21;;;Stortorget;Tagg på bänk, ”citat”;356420,5;6213760,5
Nedskräpning;sbf;2026-11-19;07:30;;Råå hamn;Skräp vid kajen;359205;6208937
"""


def test_csv_with_swedish_columns_and_labels(store, tmp_path):
    path = tmp_path / "rapporter.csv"
    path.write_text(CSV, encoding="utf-8")
    assert import_events(path, store, today=TODAY) == 3
    events = sorted(store.events(Status.SUBMITTED), key=lambda e: e.event_date)
    assert [e.category for e in events] == ["nedskrapning", "skadegorelse", "klotter"]
    assert [e.organisation for e in events] == ["sbf", "polisen", "bevakning"]
    assert events[1].time_from.strftime("%H:%M") == "22:15" and events[1].time_to.strftime("%H:%M") == "23:00"
    assert events[2].time_unknown and events[2].x == 356420.5
    assert events[2].description == "Tagg på bänk, ”citat”"


def test_wgs84_geopackage_is_reprojected(store, tmp_path):
    import geopandas
    from shapely.geometry import Point

    frame = geopandas.GeoDataFrame(
        {"category": ["narkotika"], "organisation": ["polisen"], "event_date": ["2026-11-22"],
         "time_from": ["21:00"], "place_name": ["Knutpunkten"], "description": ["Misstänkt försäljning"]},
        geometry=[Point(12.6946, 56.0437)], crs="EPSG:4326",
    )
    path = tmp_path / "wgs84.gpkg"
    frame.to_file(path, layer="händelser", driver="GPKG")
    assert import_events(path, store, today=TODAY) == 1
    event = store.events()[0]
    assert 355_500 < event.x < 357_000 and 6_212_500 < event.y < 6_214_000


def test_bad_row_writes_nothing(store, tmp_path):
    path = tmp_path / "fel.csv"
    path.write_text(CSV + "Okänd kategori;polisen;2026-11-20;10:00;;X;Y;356500;6213700\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_events(path, store, today=TODAY)
    assert caught.value.row == 3 and "Unknown category" in caught.value.message("en")
    degrees = tmp_path / "grader.csv"
    degrees.write_text("kategori;organisation;datum;x;y\nklotter;polisen;2026-11-20;12.69;56.04\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_events(degrees, store, today=TODAY)
    assert "longitude/latitude" in caught.value.message("en")
    assert store.count() == 0


def test_unreadable_and_coordinate_less_files(gpkg_store, tmp_path):
    broken = tmp_path / "trasig.gpkg"
    broken.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(EstError) as caught:
        read_events_file(broken, gpkg_store)
    assert caught.value.code == "import_unreadable" and "trasig.gpkg" in caught.value.message("sv")
    plain = tmp_path / "utan.csv"
    plain.write_text("kategori;datum\nklotter;2026-11-20\n", encoding="utf-8")
    with pytest.raises(EstError) as caught:
        read_events_file(plain, gpkg_store)
    assert caught.value.code == "import_no_coordinates"


def test_missing_geopandas_is_a_clear_message(gpkg_store, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "geopandas", None)  # as in a stock QGIS without it
    with pytest.raises(EstError) as caught:
        read_events_file(tmp_path / "x.csv", gpkg_store)
    assert caught.value.code == "geopandas_missing"
    assert "geopandas" in caught.value.message("sv") and "Installera" in caught.value.message("sv")


def test_import_task_runs_in_the_task_manager(gpkg_store, tmp_path, qgis_app):
    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QCoreApplication

    from est_weekly_plugin.store import GeoPackageStore

    path = tmp_path / "rapporter.csv"
    path.write_text(CSV, encoding="utf-8")
    task = ImportTask(path, lambda: GeoPackageStore.open(gpkg_store.path), "Import")
    QgsApplication.taskManager().addTask(task)
    while QgsApplication.taskManager().countActiveTasks():
        QCoreApplication.processEvents()
    assert task.written == 3 and task.error is None
    assert gpkg_store.count() == 3


def test_unknown_status_names_the_rows_and_writes_nothing(store, tmp_path):
    from est_weekly_plugin.domain.errors import EstError

    path = tmp_path / "vakter.csv"
    path.write_text(
        "kategori;organisation;datum;x;y;status\n"
        "klotter;bevakning;2026-11-20;356500;6213700;inskickad\n"
        "klotter;bevakning;2026-11-20;356510;6213710;klar\n"
        "klotter;bevakning;2026-11-20;356520;6213720;approved\n"
        "klotter;bevakning;2026-11-20;356530;6213730;???\n", encoding="utf-8")
    with pytest.raises(EstError) as caught:
        import_events(path, store, today=TODAY)
    message = caught.value.message("en")
    assert "rows 3, 5" in message and "klar" in message
    assert "rader 3, 5" in caught.value.message("sv")
    assert store.count() == 0


def test_imported_rows_enter_as_submitted_unless_the_source_is_trusted(store, tmp_path):
    from est_weekly_plugin.domain.model import Status

    path = tmp_path / "polisen.csv"
    path.write_text("kategori;organisation;datum;x;y;status\n"
                    "klotter;polisen;2026-11-20;356500;6213700;godkänd\n", encoding="utf-8")
    import_events(path, store, today=TODAY)
    assert store.count(Status.SUBMITTED) == 1 and store.count(Status.APPROVED) == 0
    assert [e.action for e in store.audit_log(subject="event")] == ["import"]
    store.set_source_trusted("import", True)
    import_events(path, store, today=TODAY)
    assert store.count(Status.APPROVED) == 1


def test_imported_free_text_is_scanned_for_personal_data(store, tmp_path):
    path = tmp_path / "vakter.csv"
    path.write_text(
        "kategori;organisation;datum;x;y;beskrivning;anteckning\n"
        "klotter;bevakning;2026-11-20;356500;6213700;Taggar på elskåp;\n"
        "klotter;bevakning;2026-11-20;356510;6213710;Ring 070-123 45 67;\n"
        "klotter;bevakning;2026-11-20;356520;6213720;Bil parkerad;ABC 123 igen\n", encoding="utf-8")
    import_events(path, store, today=TODAY)
    flags = {e.description: e.personal_data for e in store.events()}
    assert flags == {"Taggar på elskåp": "", "Ring 070-123 45 67": "phone", "Bil parkerad": "registration"}
