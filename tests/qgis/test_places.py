"""Place search and typed coordinates: everything ends up in the store CRS, whatever came in."""

from __future__ import annotations

import pytest
from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsProject, QgsVectorLayer

from est_weekly_plugin.domain.reference import municipality
from est_weekly_plugin.domain.validation import Extent
from est_weekly_plugin.maps.places import (
    configured_layer,
    fold,
    parse_coordinates,
    search_districts,
    search_layer,
    search_places,
    transform_point,
)

EXTENT = Extent(*municipality()["extent"])
# 56.04 N 12.69 E in SWEREF 99 TM (EPSG:3006), from PROJ.
LAT_LON_3006 = (356093.83, 6212938.14)


@pytest.fixture
def address_layer(qgis_app):
    """A small address layer in WGS 84 (not the store CRS), with Swedish names."""
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=namn:string&field=nr:integer", "Adresser", "memory")
    rows = [("Drottninggatan 1", 12.6935, 56.0440), ("Drottninggatan 14", 12.6942, 56.0452),
            ("Kullagatan 3", 12.6950, 56.0466), ("Södra Storgatan 7", 12.6960, 56.0420),
            ("Malmövägen 2", 12.7100, 56.0300), (None, 12.7, 56.04)]
    features = []
    for name, lon, lat in rows:
        feature = QgsFeature(layer.fields())
        feature.setAttributes([name, 1])
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(lon, lat)))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(layer)
    yield layer
    QgsProject.instance().removeMapLayer(layer.id())


def test_fold_ignores_case_and_diacritics():
    assert fold("  Drottninghög ") == "drottninghog"
    assert fold("ÅÄÖ") == "aao"


def test_districts_rank_prefix_before_contains_and_fold_diacritics():
    names = [match.name for match in search_districts("drottning", 3006)]
    assert names[0] == "Drottninghög"
    assert [m.name for m in search_districts("drottninghog", 3006)] == ["Drottninghög"]
    assert search_districts("", 3006) == []
    assert search_districts("xyzzy", 3006) == []
    soder = search_districts("Söder", 3006)[0]
    assert (soder.x, soder.y) == (356887.0, 6212410.0)
    assert soder.source == "districts"


def test_districts_are_transformed_into_another_store_crs():
    soder = search_districts("Söder", 3857)[0]
    lon_lat = transform_point(soder.x, soder.y, "EPSG:3857", 4326)
    assert lon_lat[0] == pytest.approx(12.70, abs=0.02)
    assert lon_lat[1] == pytest.approx(56.03, abs=0.02)


def test_layer_search_transforms_into_store_crs_and_ranks(address_layer):
    matches = search_layer(address_layer, "namn", "drottning", 3006)
    assert [m.name for m in matches] == ["Drottninggatan 1", "Drottninggatan 14"]
    x, y = transform_point(12.6935, 56.0440, "EPSG:4326", 3006)
    assert (matches[0].x, matches[0].y) == pytest.approx((x, y))
    assert 350000 < matches[0].x < 360000 and 6210000 < matches[0].y < 6216000
    assert matches[0].source == "Adresser"
    # word prefix ("storg" in "Södra Storgatan") and a diacritic-free query for "Malmövägen"
    assert [m.name for m in search_layer(address_layer, "namn", "storg", 3006)] == ["Södra Storgatan 7"]
    assert [m.name for m in search_layer(address_layer, "namn", "malmovagen", 3006)] == ["Malmövägen 2"]
    # characters that mean something to LIKE are taken literally
    assert search_layer(address_layer, "namn", "%", 3006) == []
    assert search_layer(address_layer, "missing_field", "drott", 3006) == []


def test_configured_layer_falls_back_to_districts(address_layer):
    assert configured_layer(address_layer.id(), "namn") is address_layer
    assert configured_layer(address_layer.id(), "nope") is None
    assert configured_layer("no-such-layer", "namn") is None
    assert configured_layer("", "") is None
    assert search_places("kulla", 3006, address_layer, "namn")[0].name == "Kullagatan 3"
    assert search_places("stattena", 3006)[0].name == "Stattena"


@pytest.mark.parametrize(
    "text",
    ["356500, 6213700", "356500 6213700", "356500,6213700", "356500;6213700", "6213700, 356500",
     "356500.0, 6213700.0"],
)
def test_store_crs_metres_in_either_order(text):
    parsed = parse_coordinates(text, 3006, EXTENT)
    assert (parsed.x, parsed.y) == (356500.0, 6213700.0)
    assert parsed.source_crs == "EPSG:3006"


@pytest.mark.parametrize(
    "text",
    ["56.04 N 12.69 E", "56.04N, 12.69E", "N 56.04 E 12.69", "12.69 E 56.04 N", "56,04 N 12,69 Ö",
     "N 56°2'24\" E 12°41'24\"", "56° 2.4' N, 12° 41.4' E", "56.04, 12.69", "12.69, 56.04", "56,04 12,69"],
)
def test_wgs84_degrees_in_many_spellings(text):
    parsed = parse_coordinates(text, 3006, EXTENT)
    assert parsed is not None, text
    assert parsed.source_crs == "EPSG:4326"
    assert (parsed.x, parsed.y) == pytest.approx(LAT_LON_3006, abs=0.5)


def test_southern_and_western_hemispheres_are_negative():
    parsed = parse_coordinates("33.9 S 18.4 W", 4326)
    assert (parsed.x, parsed.y) == pytest.approx((-18.4, -33.9))


@pytest.mark.parametrize("text", ["", "   ", "Drottninggatan 12", "1 2 3", "56.04 N 57.0 N", "N 95 E 12",
                                  "abc, def"])
def test_not_coordinates(text):
    assert parse_coordinates(text, 3006, EXTENT) is None


def test_without_extent_first_reading_wins():
    parsed = parse_coordinates("12.69, 56.04", 3006)
    # latitude first by convention: 12.69 N 56.04 E is far outside Sweden, and validation will say so
    assert not EXTENT.contains(parsed.x, parsed.y)
