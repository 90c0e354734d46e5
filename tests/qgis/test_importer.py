"""Importing events from real files (the former geopandas importer's cases, now through GDAL/OGR):
CSV with Swedish columns and labels, a WGS84 GeoPackage, bad rows, unreadable files, status columns."""

from __future__ import annotations

import pytest
from conftest import TODAY

from est_weekly_plugin.domain.errors import EstError
from est_weekly_plugin.domain.model import Status
from est_weekly_plugin.store.importing import import_file, prepare_import, read_source

CSV = """kategori;organisation;datum;tid;tid_till;plats;beskrivning;e;n
Skadegörelse;Polisen – lokalpolisområde Helsingborg;2026-11-20;22:15;23:00;Söder;Krossad ruta;356890;6212400
klotter;bevakning;2026-11-21;;;Stortorget;Tagg på bänk, ”citat”;356420,5;6213760,5
Nedskräpning;sbf;2026-11-19;07:30;;Råå hamn;Skräp vid kajen;359205;6208937
"""


def test_csv_with_swedish_columns_and_labels(store, tmp_path):
    path = tmp_path / "rapporter.csv"
    path.write_text(CSV, encoding="utf-8")
    assert import_file(store, path, today=TODAY).new == 3
    events = sorted(store.events(Status.SUBMITTED), key=lambda e: e.event_date)
    assert [e.category for e in events] == ["nedskrapning", "skadegorelse", "klotter"]
    assert [e.organisation for e in events] == ["sbf", "polisen", "bevakning"]
    assert events[1].time_from.strftime("%H:%M") == "22:15" and events[1].time_to.strftime("%H:%M") == "23:00"
    assert events[2].time_unknown and events[2].x == 356420.5
    assert events[2].description == "Tagg på bänk, ”citat”"


def test_wgs84_geopackage_is_reprojected(store, tmp_path):
    from osgeo import ogr, osr

    path = tmp_path / "wgs84.gpkg"
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("händelser", wgs84, ogr.wkbPoint)
    for name in ("category", "organisation", "event_date", "time_from", "place_name", "description"):
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTString))
    feature = ogr.Feature(layer.GetLayerDefn())
    for name, value in (("category", "narkotika"), ("organisation", "polisen"), ("event_date", "2026-11-22"),
                        ("time_from", "21:00"), ("place_name", "Knutpunkten"), ("description", "Misstänkt försäljning")):
        feature.SetField(name, value)
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POINT (12.6946 56.0437)"))
    layer.CreateFeature(feature)
    source = None  # noqa: F841 - closing writes the file
    assert import_file(store, path, today=TODAY).new == 1
    event = store.events()[0]
    assert 355_500 < event.x < 357_000 and 6_212_500 < event.y < 6_214_000


def test_bad_rows_are_reported_and_only_good_rows_written(store, tmp_path):
    path = tmp_path / "fel.csv"
    path.write_text(CSV + "Okänd kategori;polisen;2026-11-20;10:00;;X;Y;356500;6213700\n", encoding="utf-8")
    summary = import_file(store, path, today=TODAY)
    assert (summary.new, summary.problems) == (3, 1)
    assert summary.problem_rows[0].row == 5 and "Okänd kategori" in summary.problem_rows[0].text("en")
    degrees = tmp_path / "grader.csv"
    degrees.write_text("kategori;organisation;datum;x;y\nklotter;polisen;2026-11-20;12.69;56.04\n", encoding="utf-8")
    assert import_file(store, degrees, today=TODAY).new == 1  # lon/lat detected and reprojected
    assert store.count() == 4


def test_unreadable_and_coordinate_less_files(gpkg_store, tmp_path):
    broken = tmp_path / "trasig.gpkg"
    broken.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(EstError) as caught:
        read_source(broken)
    assert caught.value.code == "import_unreadable" and "trasig.gpkg" in caught.value.message("sv")
    plain = tmp_path / "utan.csv"
    plain.write_text("kategori;organisation;datum\nklotter;polisen;2026-11-20\n", encoding="utf-8")
    plan = prepare_import(gpkg_store, read_source(plain), today=TODAY)
    assert [p.reason for p in plan.problems()] == ["no_location"] and plan.counts()["new"] == 0
    with pytest.raises(EstError) as caught:
        read_source(tmp_path / "finns_inte.csv")
    assert caught.value.code == "file_missing"


def test_a_status_column_is_never_honoured(store, tmp_path):
    """An imported row never arrives approved by its own say: only a trusted source enters approved."""
    path = tmp_path / "polisen.csv"
    path.write_text("kategori;organisation;datum;x;y;status\n"
                    "klotter;polisen;2026-11-20;356500;6213700;godkänd\n", encoding="utf-8")
    import_file(store, path, today=TODAY)
    assert store.count(Status.SUBMITTED) == 1 and store.count(Status.APPROVED) == 0
    assert [e.action for e in store.audit_log(subject="event")] == ["import"]
    store.set_source_trusted("import", True)
    path.write_text("kategori;organisation;datum;x;y;status\n"
                    "klotter;polisen;2026-11-21;356500;6213700;inskickad\n", encoding="utf-8")
    import_file(store, path, today=TODAY)
    assert store.count(Status.APPROVED) == 1


def test_imported_free_text_is_scanned_for_personal_data(store, tmp_path):
    path = tmp_path / "vakter.csv"
    path.write_text(
        "kategori;organisation;datum;x;y;beskrivning\n"
        "klotter;bevakning;2026-11-20;356500;6213700;Taggar på elskåp\n"
        "klotter;bevakning;2026-11-20;356510;6213710;Ring 070-123 45 67\n"
        "klotter;bevakning;2026-11-20;356520;6213720;Bil ABC 123 igen\n", encoding="utf-8")
    import_file(store, path, today=TODAY)
    flags = {e.description: e.personal_data for e in store.events()}
    assert flags == {"Taggar på elskåp": "", "Ring 070-123 45 67": "phone", "Bil ABC 123 igen": "registration"}
