"""Each kind of source reads through GDAL/OGR in a stock QGIS: the police's events, Open311, a guard
company's Windows-1252 spreadsheet, Excel, GeoPackage, GeoJSON, Shapefile, a layer in the project."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TODAY

from est_weekly_plugin.domain.model import Precision, Status
from est_weekly_plugin.store.importing import guess_profile, import_file, prepare_import, read_layer, read_source
from est_weekly_plugin.store.importing.profiles import LOCATION_ADDRESS, LOCATION_GEOMETRY

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def guard_profile(columns: list[str]):  # noqa: ANN201
    profile = guess_profile(columns)
    profile.organisation = "bevakning"
    return profile


def test_police_events_enter_with_municipality_precision(store):
    summary = import_file(store, DATA / "polisen_handelser.json", today=TODAY)
    assert (summary.new, summary.already, summary.problems) == (3, 0, 2)
    reasons = {problem.row: problem.reason for problem in summary.problem_rows}
    assert reasons == {4: "unknown_category", 5: "outside"}  # a traffic accident; an event in Malmö
    events = {e.source_id: e for e in store.events()}
    assert set(events) == {"612345", "612301", "612288"}
    vandalism = events["612345"]
    assert vandalism.source == "police" and vandalism.category == "skadegorelse" and vandalism.organisation == "polisen"
    assert vandalism.location_precision == Precision.MUNICIPALITY and vandalism.status == Status.SUBMITTED
    assert vandalism.event_date == dt.date(2026, 11, 21) and vandalism.time_from == dt.time(23, 40)
    assert "Furutorpsgatan" in vandalism.description
    assert 355_500 < vandalism.x < 357_500 and 6_212_500 < vandalism.y < 6_214_500  # Helsingborg's centroid


def test_open311_json_and_csv(store):
    summary = import_file(store, DATA / "open311_requests.json", today=TODAY)
    assert (summary.new, summary.problems) == (2, 2)
    assert {p.reason for p in summary.problem_rows} == {"no_location", "unknown_category"}
    light = next(e for e in store.events() if e.source_id == "HBG-2026-10412")
    # requested 21:15 UTC is 22:15 in Helsingborg; lat/long reprojected to SWEREF 99 TM
    assert light.time_from == dt.time(22, 15) and light.category == "otrygg_plats" and light.organisation == "sbf"
    assert 356_000 < light.x < 357_500 and light.source == "open311" and light.location_precision == Precision.POINT
    csv = import_file(store, DATA / "open311_requests.csv", today=TODAY)
    assert (csv.new, csv.problems) == (2, 1) and csv.problem_rows[0].row == 4
    assert csv.problem_rows[0].reason == "bad_date" and "2026-13-40" in csv.problem_rows[0].text("en")
    assert next(e for e in store.events() if e.source_id == "HBG-2026-10421").description == 'Tag på fasad, "stor"'


def test_guard_spreadsheet_in_windows_1252(gpkg_store):
    table = read_source(DATA / "vakter_cp1252.csv")
    assert table.encoding == "cp1252" and "Händelse" in table.column_names
    profile = guard_profile(table.column_names)
    assert profile.fields["x"] == "Östlig" and profile.fields["category"] == "Händelse"
    plan = prepare_import(gpkg_store, table, profile, today=TODAY)
    assert plan.counts()["new"] == 4
    assert [(p.row, p.reason) for p in plan.problems()] == [
        (6, "bad_time"), (7, "unknown_category"), (8, "outside"), (9, "empty_row")]
    assert "xx:yy" in plan.problems()[0].text("sv") and "Okänd händelse" in plan.problems()[1].text("en")
    from est_weekly_plugin.store.importing import write_import

    write_import(gpkg_store, plan, today=TODAY)
    events = {e.source_id: e for e in gpkg_store.events()}
    first = events["V-1001"]
    assert first.place_name == "Söder, Möllevångsgatan" and first.x == 356890.5  # decimal comma
    assert (first.time_from, first.time_to) == (dt.time(22, 15), dt.time(23, 0))  # a span in one cell
    assert events["V-1002"].description == "Tagg på bänk, ”citat”" and events["V-1002"].time_from == dt.time(2, 30)
    assert events["V-1004"].time_from == dt.time(19, 5) and events["V-1003"].time_unknown


def test_wrong_encoding_is_a_problem_row(gpkg_store):
    table = read_source(DATA / "vakter_cp1252.csv", encoding="utf-8")  # the user insists: not detected
    plan = prepare_import(gpkg_store, table, guard_profile(table.column_names), today=TODAY)
    assert {p.reason for p in plan.problems()} >= {"encoding"}
    utf8 = DATA / "open311_requests.csv"
    assert read_source(utf8).encoding == "utf-8"
    garbled = read_source(utf8, encoding="cp1252")  # UTF-8 read as Windows-1252: "Ã¤" for "ä"
    plan = prepare_import(gpkg_store, garbled, guess_profile(garbled.column_names), today=TODAY)
    assert [p.reason for p in plan.problems()][:2] == ["encoding", "encoding"]


def test_excel_workbook(gpkg_store, tmp_path):
    from osgeo import ogr

    path = tmp_path / "vakter.xlsx"
    source = ogr.GetDriverByName("XLSX").CreateDataSource(str(path))
    layer = source.CreateLayer("Rapporter")
    for name in ("Rapportnr", "Kategori", "Datum", "Tid", "Plats", "E", "N"):
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTString))
    for values in (("X-1", "Klotter", "2026-11-20", "21:00", "Västra hamnen", "356200", "6213900"),
                   ("X-2", "Skadegörelse", "2026-11-21", "", "Tågaborg", "355900", "6215200")):
        feature = ogr.Feature(layer.GetLayerDefn())
        for index, value in enumerate(values):
            feature.SetField(index, value)
        layer.CreateFeature(feature)
    source = None  # noqa: F841 - closing writes the workbook
    table = read_source(path)
    assert table.column_names[:3] == ["Rapportnr", "Kategori", "Datum"] and len(table) == 2
    summary = import_file(gpkg_store, path, guard_profile(table.column_names), today=TODAY)
    assert summary.new == 2
    assert {e.source_id: e.category for e in gpkg_store.events()} == {"X-1": "klotter", "X-2": "skadegorelse"}


@pytest.mark.parametrize("driver,suffix", [("GPKG", ".gpkg"), ("GeoJSON", ".geojson"), ("ESRI Shapefile", ".shp")])
def test_files_with_geometries_in_wgs84(gpkg_store, tmp_path, driver, suffix):
    from osgeo import ogr, osr

    path = tmp_path / f"händelser{suffix}"
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    source = ogr.GetDriverByName(driver).CreateDataSource(str(path))
    layer = source.CreateLayer("handelser", wgs84, ogr.wkbPoint, options=["ENCODING=UTF-8"] if suffix == ".shp" else [])
    for name in ("kategori", "datum", "plats"):
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTString))
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("kategori", "Narkotika")
    feature.SetField("datum", "2026-11-22")
    feature.SetField("plats", "Knutpunkten, Järnvägsgatan")
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POINT (12.6946 56.0437)"))
    layer.CreateFeature(feature)
    source = None  # noqa: F841
    table = read_source(path)
    profile = guard_profile(table.column_names)
    profile.location = LOCATION_GEOMETRY
    assert import_file(gpkg_store, path, profile, today=TODAY).new == 1
    event = gpkg_store.events()[0]
    assert 355_500 < event.x < 357_000 and 6_212_500 < event.y < 6_214_000
    assert event.place_name == "Knutpunkten, Järnvägsgatan" and event.source_id.startswith("#")  # fingerprint


def test_a_layer_already_in_the_project(gpkg_store, qgis_app):
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:3006&field=typ:string&field=datum:date&field=nr:integer", "väktare", "memory")
    feature = QgsFeature(layer.fields())
    from qgis.PyQt.QtCore import QDate

    feature.setAttributes(["Klotter", QDate(2026, 11, 20), 17])
    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(356420.0, 6213760.0)))
    layer.dataProvider().addFeatures([feature])
    table = read_layer(layer)
    assert table.crs == "EPSG:3006" and table.columns["datum"] == ["2026-11-20"] and table.columns["nr"] == ["17"]
    profile = guard_profile(table.column_names)
    profile.location = LOCATION_GEOMETRY
    profile.fields["source_id"] = "nr"
    plan = prepare_import(gpkg_store, table, profile, today=TODAY)
    assert plan.counts()["new"] == 1 and plan.rows.source_id == ["17"]


def test_addresses_matched_by_the_callers_locator_and_unmatched_reported(gpkg_store, tmp_path):
    path = tmp_path / "adresser.csv"
    path.write_text("id;kategori;datum;adress\n1;Klotter;2026-11-20;Drottninggatan 12\n"
                    "2;Klotter;2026-11-20;Furutorpsgatan\n3;Klotter;2026-11-20;Okändvägen 99\n", encoding="utf-8")
    table = read_source(path)
    profile = guard_profile(table.column_names)
    assert profile.location == LOCATION_ADDRESS
    places = {"drottninggatan 12": (356300.0, 6213400.0, "point"), "furutorpsgatan": (356900.0, 6214500.0, "street")}
    plan = prepare_import(gpkg_store, table, profile, today=TODAY, locator=lambda text: places.get(text.lower()))
    assert [(p.row, p.reason, p.value) for p in plan.problems()] == [(4, "address_unmatched", "Okändvägen 99")]
    assert list(plan.rows.precision[:2]) == ["point", "street"]


def test_no_geopandas_needed(gpkg_store, monkeypatch):
    monkeypatch.setitem(sys.modules, "geopandas", None)  # as in a stock QGIS on Windows
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert import_file(gpkg_store, DATA / "open311_requests.csv", today=TODAY).new == 2


@pytest.mark.parametrize("name", ["vakter_cp1252.csv", "open311_requests.csv"])
def test_older_gdal_without_arrow_reads_the_same(monkeypatch, name):
    """GDAL before 3.6 (older QGIS installers) has no Arrow stream: features are read one by one, same result."""
    from osgeo import ogr

    fast = read_source(DATA / name)
    monkeypatch.delattr(ogr.Layer, "GetArrowStreamAsNumPy")
    slow = read_source(DATA / name)
    assert slow.columns == fast.columns and slow.encoding == fast.encoding


@pytest.mark.parametrize("kind", ["csv_cp1252", "gpkg"])
def test_reading_agrees_with_geopandas(tmp_path, kind):
    """geopandas is not needed in QGIS, but it is an independent reader: the plugin's OGR reading must find
    the same rows, the same text (å ä ö included) and the same points as geopandas does."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyproj's note about its data directory
        import geopandas
        from shapely.geometry import Point

    from est_weekly_plugin.store.importing.reading import read_source

    if kind == "csv_cp1252":
        path = DATA / "vakter_cp1252.csv"
        frame = geopandas.read_file(path, encoding="cp1252", engine="pyogrio")
    else:
        path = tmp_path / "points.gpkg"
        frame = geopandas.GeoDataFrame({"namn": ["Knutpunkten", "Råå hamn", "Söder"], "typ": ["a", "b", "c"]},
                                       geometry=[Point(356500, 6213700), Point(353900, 6206800), Point(357100, 6212400)],
                                       crs="EPSG:3006")
        frame.to_file(path, layer="points", driver="GPKG")
        frame = geopandas.read_file(path, layer="points")
    table = read_source(path)
    assert len(table) == len(frame)
    for column in (c for c in frame.columns if c != "geometry"):
        expected = ["" if value is None or value != value else str(value) for value in frame[column]]
        assert table.columns[column] == expected, column
    if kind == "gpkg":
        assert np.allclose(table.x, frame.geometry.x) and np.allclose(table.y, frame.geometry.y)
        assert table.crs == "EPSG:3006"
