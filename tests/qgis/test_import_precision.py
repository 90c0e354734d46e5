"""Area-precision events (the police's municipality centroids) are counted in the compilation's numbers
but never enter the heat map or the hot-spot statistics, and are never drawn as points."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from conftest import TODAY

from est_weekly_plugin.analysis.compilation import CompilationEngine, columns_from_batch, density_spec_for
from est_weekly_plugin.analysis.filters import CompilationFilter
from est_weekly_plugin.domain.model import PRECISION_CODES, Status
from est_weekly_plugin.domain.reference import default_categories, default_organisations, municipality
from est_weekly_plugin.store.demo import demo_batch
from est_weekly_plugin.store.importing import import_file

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
CATS = [c.code for c in default_categories()]
ORGS = [o.code for o in default_organisations()]


def with_area_events(count: int = 400):  # noqa: ANN201
    """Demo events, plus *count* events at Helsingborg's centroid with municipality precision."""
    columns = columns_from_batch(demo_batch(6000, end_date=TODAY - dt.timedelta(days=1)), CATS, ORGS)
    area = columns.subset(np.arange(count))
    area.x[:], area.y[:] = 356399.0, 6213648.0
    area.fid = area.fid + 10_000_000
    area.precision = np.full(count, PRECISION_CODES["municipality"], np.uint8)
    return type(columns).concatenate([columns, area]), columns


def test_area_events_are_counted_but_not_in_density_or_hotspots():
    both, placed_only = with_area_events()
    spec = density_spec_for(municipality()["urban_core"], max_pixels=60_000)
    with_area = CompilationEngine(both).compute(CompilationFilter(), density=spec, hotspots=True)
    without = CompilationEngine(placed_only).compute(CompilationFilter(), density=spec, hotspots=True)
    assert with_area.count == without.count + 400  # counted …
    assert with_area.charts.total == without.charts.total + 400
    assert np.allclose(with_area.density.values, without.density.values)  # … but no heat at the centroid
    assert np.array_equal(with_area.hotspots.counts, without.hotspots.counts)
    assert [(s.row, s.col) for s in with_area.hotspots.hotspots] == [(s.row, s.col) for s in without.hotspots.hotspots]
    selection = CompilationFilter(categories=["klotter"])  # a small selection takes the direct density path
    small_with = CompilationEngine(both).compute(selection, density=spec)
    small_without = CompilationEngine(placed_only).compute(selection, density=spec)
    assert np.allclose(small_with.density.values, small_without.density.values)


def test_area_events_are_never_drawn(qgis_app, qgis_new_project):
    from qgis.core import QgsProject

    from est_weekly_plugin.gui.compilation.compilation_layer import CompilationLayers

    both, placed_only = with_area_events(50)
    engine = CompilationEngine(both)
    result = engine.compute(CompilationFilter(categories=["klotter"]))
    layers = CompilationLayers(QgsProject.instance())
    layers.update_points(engine.selected(result), default_categories())
    drawn = {f["fid"] for f in layers.points.getFeatures()}
    area_fids = set(both.fid[both.precision >= 2].tolist())
    assert drawn and not drawn & area_fids
    assert len(drawn) == len(engine.selected(result, placed_only=True))


def test_precision_survives_the_columnar_reads_of_both_stores(store):
    store.set_source_trusted("police", True)
    import_file(store, DATA / "polisen_handelser.json", today=TODAY)
    store.set_source_trusted("open311", True)
    import_file(store, DATA / "open311_requests.csv", today=TODAY)
    columns = store.load_columns(Status.APPROVED)
    assert len(columns) == 5
    assert sorted(columns.precision.tolist()) == [0, 0, 3, 3, 3]
    assert len(columns.placed()) == 2
    token = store.change_token()
    event = next(e for e in store.events() if e.source_id == "612345")
    store.update_event(event.uuid, event.version, "granskare", as_reporter=False, x=356950.0, y=6214850.0,
                       location_precision="point", today=TODAY)
    delta = store.approved_changes(token, columns.category_codes, columns.organisation_codes)
    assert delta is not None and delta.columns.precision.tolist() == [0]


def test_the_events_layer_leaves_area_events_out(gpkg_store, qgis_app):
    from est_weekly_plugin.maps.layers import events_layer

    import_file(gpkg_store, DATA / "polisen_handelser.json", today=TODAY)
    import_file(gpkg_store, DATA / "open311_requests.csv", today=TODAY)
    layer = events_layer(gpkg_store, Status.SUBMITTED)
    assert layer.featureCount() == 2 and gpkg_store.count(Status.SUBMITTED) == 5


def test_area_events_neither_name_a_hotspot_nor_look_like_duplicates(store):
    """A municipality's centroid is no place: hot-spot naming and the duplicate search compare real places only."""
    import datetime as dt

    from est_weekly_plugin.domain.model import Event

    store.set_source_trusted("police", True)
    import_file(store, DATA / "polisen_handelser.json", today=TODAY)  # three events at Helsingborg's centroid
    centroid = next(e for e in store.events() if e.source == "police")
    store.submit(Event(category="skadegorelse", organisation="sbf", event_date=dt.date(2026, 11, 21),
                       x=centroid.x + 20, y=centroid.y, place_name="Stadshuset"), "anna", today=TODAY)
    assert store.common_place_name(centroid.x, centroid.y, 300, dt.date(2026, 11, 1), TODAY) == ""
    near = store.events_near(centroid.x, centroid.y, 100, dt.date(2026, 11, 19), TODAY, category="skadegorelse")
    assert [e.place_name for e in near] == ["Stadshuset"]
