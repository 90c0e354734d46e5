"""The "EST Weekly" Processing provider: every algorithm through processing.run, and the meeting PDF
through ``qgis_process`` with the plugin deployed from its ZIP into a throw-away QGIS profile."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from est_weekly_plugin.store import GeoPackageStore
from est_weekly_plugin.store.demo import demo_batch

WEEK = "2026-W47"


@pytest.fixture(scope="module")
def database(tmp_path_factory, qgis_app) -> Path:
    path = tmp_path_factory.mktemp("processing") / "est.gpkg"
    store = GeoPackageStore.create(path)
    store.insert_batch(demo_batch(20_000, seed=7, end_date=dt.date(2026, 11, 22)), today=dt.date(2026, 11, 23))
    store.close()
    return path


@pytest.fixture(scope="module")
def provider(qgis_app):
    from processing.core.Processing import Processing
    from qgis.core import QgsApplication

    from est_weekly_plugin.processing.provider import EstProcessingProvider

    Processing.initialize()
    registry = QgsApplication.processingRegistry()
    existing = registry.providerById("est_weekly")
    if existing is not None:
        registry.removeProvider(existing)
    provider = EstProcessingProvider()
    registry.addProvider(provider)
    yield provider
    registry.removeProvider(provider)


def test_provider_lists_the_algorithms(provider) -> None:
    ids = sorted(a.id() for a in provider.algorithms())
    assert ids == ["est_weekly:densityraster", "est_weekly:hotspotgrid", "est_weekly:importevents",
                   "est_weekly:meetingpdf", "est_weekly:pseudonymise", "est_weekly:weeklysummary"]
    for algorithm in provider.algorithms():
        assert algorithm.shortHelpString() and algorithm.group() == "EST Weekly"


SWEDISH_NAMES = {"densityraster": "Täthetsraster (vecka)", "hotspotgrid": "Brännpunktsrutnät (Getis-Ord Gi*)",
                 "weeklysummary": "Veckosammanställning", "meetingpdf": "Exportera veckomötets PDF"}
ENGLISH_NAMES = {"densityraster": "Density raster (week)", "hotspotgrid": "Hot-spot grid (Getis-Ord Gi*)",
                 "weeklysummary": "Weekly summary table", "meetingpdf": "Export weekly meeting PDF"}


def _fresh_instances(provider) -> dict:
    """New weekly algorithm objects, built (parameters and all) in the language that is current now."""
    instances = {}
    for algorithm in provider.algorithms():
        if algorithm.name() not in ENGLISH_NAMES:  # the retention job has no week
            continue
        instance = algorithm.createInstance()
        instance.initAlgorithm({})
        instances[instance.name()] = instance
    return instances


def _descriptions(instance) -> dict[str, str]:
    return {p.name(): p.description() for p in instance.parameterDefinitions()}


def test_algorithms_speak_swedish(provider) -> None:
    from est_weekly_plugin.domain import i18n

    i18n.set_language("sv")
    instances = _fresh_instances(provider)
    assert {name: a.displayName() for name, a in instances.items()} == SWEDISH_NAMES
    assert provider.longName() == "EST Weekly – Effektiv Samordning för Trygghet"
    for name, instance in instances.items():
        descriptions = _descriptions(instance)
        assert descriptions["DATABASE"] == "EST-GeoPackage"
        assert descriptions["LANGUAGE"] == "Språk"
        assert descriptions["WEEK"].startswith("ISO-vecka")
        assert instance.shortHelpString() == i18n.tr(f"processing.{name}.help", "sv")
        assert instance.shortHelpString() != i18n.tr(f"processing.{name}.help", "en")
    assert _descriptions(instances["densityraster"])["RADIUS"] == "Radie (m)"
    assert _descriptions(instances["hotspotgrid"])["ONLY_SIGNIFICANT"] == "Endast signifikanta celler"
    assert _descriptions(instances["weeklysummary"])["BASELINE_WEEKS"] == "Jämförelseveckor"
    meeting = instances["meetingpdf"]
    assert _descriptions(meeting)["PRIORITY_PAGES"] == "En sida per prioriterat område"
    assert meeting.parameterDefinition("PAPER").options() == ["A3 liggande", "A4 stående"]
    assert meeting.outputDefinition("PAGES").description() == "Sidor"
    # ids and parameter names are the same in every language
    assert sorted(instances) == sorted(ENGLISH_NAMES)


def test_algorithms_speak_english(provider) -> None:
    from est_weekly_plugin.domain import i18n

    i18n.set_language("en")
    instances = _fresh_instances(provider)
    assert {name: a.displayName() for name, a in instances.items()} == ENGLISH_NAMES
    for instance in instances.values():
        descriptions = _descriptions(instance)
        assert descriptions["DATABASE"] == "EST GeoPackage" and descriptions["LANGUAGE"] == "Language"
    assert _descriptions(instances["hotspotgrid"])["RINGS"] == "Neighbourhood rings"
    assert instances["meetingpdf"].parameterDefinition("PAPER").options() == ["A3 landscape", "A4 portrait"]


def test_processing_errors_in_the_users_language(provider, database, tmp_path) -> None:
    import processing
    from qgis.core import QgsProcessingException

    from est_weekly_plugin.domain import i18n

    i18n.set_language("sv")
    with pytest.raises(QgsProcessingException, match="Ange en EST-GeoPackage"):
        processing.run("est_weekly:weeklysummary", {"WEEK": WEEK, "OUTPUT": "memory:"})
    with pytest.raises(QgsProcessingException, match="ingen ISO-vecka"):
        processing.run("est_weekly:weeklysummary", {"DATABASE": str(database), "WEEK": "vecka 47",
                                                    "OUTPUT": "memory:"})
    with pytest.raises(QgsProcessingException, match="missing.gpkg finns inte"):  # EstError.message()
        processing.run("est_weekly:weeklysummary", {"DATABASE": str(tmp_path / "missing.gpkg"), "WEEK": WEEK,
                                                    "OUTPUT": "memory:"})


def test_density_raster(provider, database, tmp_path) -> None:
    import processing
    from qgis.core import QgsRasterLayer

    result = processing.run("est_weekly:densityraster", {"DATABASE": str(database), "WEEK": WEEK,
                                                         "CATEGORIES": [1, 2],  # vandalism and graffiti, by position
                                                         "OUTPUT": str(tmp_path / "density.tif")})
    layer = QgsRasterLayer(result["OUTPUT"], "density")
    assert layer.isValid() and layer.crs().authid() == "EPSG:3006"
    stats = layer.dataProvider().bandStatistics(1)
    assert stats.maximumValue > 0


def test_hotspot_grid_and_weekly_summary(provider, database) -> None:
    import processing
    from qgis.core import NULL

    cells = processing.run("est_weekly:hotspotgrid", {"DATABASE": str(database), "WEEK": WEEK,
                                                      "OUTPUT": "memory:"})["OUTPUT"]
    assert cells.featureCount() > 0
    assert {f["class"] for f in cells.getFeatures()} <= {-3, -2, -1, 1, 2, 3}
    assert max(f["z"] for f in cells.getFeatures()) > 3
    summary = processing.run("est_weekly:weeklysummary", {"DATABASE": str(database), "WEEK": WEEK,
                                                          "LANGUAGE": 0, "SUPPRESS_SMALL_COUNTS": False,
                                                          "OUTPUT": "memory:"})["OUTPUT"]
    rows = {(f["grouping"], f["code"]): f for f in summary.getFeatures()}
    total = rows[("total", "")]
    assert total["week"] == WEEK and total["current"] == sum(
        f["current"] for f in summary.getFeatures() if f["grouping"] == "category")
    assert rows[("category", "skadegorelse")]["name"] == "Skadegörelse"
    # the partner-facing default: no count under 3 is shown
    shared = processing.run("est_weekly:weeklysummary", {"DATABASE": str(database), "WEEK": WEEK,
                                                         "OUTPUT": "memory:"})["OUTPUT"]
    small = [(f["grouping"], f["code"]) for f in summary.getFeatures() if 0 < f["current"] < 3]
    assert small, "the demo week has small counts to suppress"
    by_key = {(f["grouping"], f["code"]): f for f in shared.getFeatures()}
    for key in small:
        assert by_key[key]["suppressed"] and by_key[key]["current"] in (None, NULL)
    assert not any(f["current"] not in (None, NULL) and 0 < f["current"] < 3 for f in shared.getFeatures())


def test_meeting_pdf_algorithm(provider, database, tmp_path) -> None:
    import processing

    result = processing.run("est_weekly:meetingpdf", {"DATABASE": str(database), "WEEK": WEEK, "PAPER": 1,
                                                      "OUTPUT": str(tmp_path / "meeting.pdf")})
    assert result["PAGES"] == 2  # A4: overview + charts/priorities, no priorities yet
    assert Path(result["OUTPUT"]).stat().st_size > 20_000


def test_missing_database_is_a_processing_error(provider) -> None:
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException):
        processing.run("est_weekly:weeklysummary", {"WEEK": WEEK, "OUTPUT": "memory:"})


def _qgis_process() -> str:
    # Debian's /usr/bin/qgis_process wrapper adds QGIS_OPTS=--noversioncheck from /etc/default/qgis,
    # which qgis_process 3.22 rejects; the binary beside it takes the same arguments.
    for name in ("qgis_process.bin", "qgis_process"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("qgis_process is not installed (Debian package qgis)")


@pytest.mark.slow  # over five seconds: left out of make test-fast
def test_qgis_process_runs_the_deployed_plugin(database, tmp_path) -> None:
    from scripts.package import build, deploy

    config = tmp_path / "config"
    archive = build(tmp_path / "dist")
    deploy(archive, config / "profiles" / "default" / "python" / "plugins")
    env = {**os.environ, "QGIS_CUSTOM_CONFIG_PATH": str(config), "QT_QPA_PLATFORM": "offscreen"}
    listing = subprocess.run([_qgis_process(), "list"], env=env, capture_output=True, text=True, timeout=180)
    assert "est_weekly:meetingpdf" in listing.stdout, listing.stdout[-2000:] + listing.stderr[-2000:]
    out = tmp_path / "meeting.pdf"
    run = subprocess.run([_qgis_process(), "--json", "run", "est_weekly:meetingpdf", "--",
                          f"DATABASE={database}", f"WEEK={WEEK}", "PAPER=0", "LANGUAGE=0", f"OUTPUT={out}"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout[run.stdout.index("{"):])["results"]
    assert results["PAGES"] == 1 and Path(results["OUTPUT"]) == out and out.stat().st_size > 20_000
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Helsingborg – EST vecka 47, 2026" in text


def test_pseudonymise_runs_as_a_processing_algorithm(provider, tmp_path) -> None:
    """The retention rule can be scheduled: reporter identity and free text go, the counts stay."""
    from processing import run
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    path = tmp_path / "gallring.gpkg"
    store = GeoPackageStore.create(path)
    store.insert_batch(demo_batch(2_000, seed=3, end_date=dt.date(2026, 11, 22)), today=dt.date(2026, 11, 23))
    approved_before = len(store.load_columns())
    store.close()
    result = run("est_weekly:pseudonymise", {"DATABASE": str(path), "TODAY": "2027-11-23"},
                 context=QgsProcessingContext(), feedback=QgsProcessingFeedback())
    assert result["EVENTS"] > 0
    store = GeoPackageStore.open(path)
    try:
        assert len(store.load_columns()) == approved_before
        old = store.events(date_to=dt.date(2025, 11, 22))
        assert old and all(e.reporter == "" and e.description == "" for e in old)
        assert store.audit_log(subject="retention")[-1].actor == "EST Weekly (Processing)"
    finally:
        store.close()


def test_processing_exports_are_recorded_in_the_audit_log(provider, database) -> None:
    import processing

    processing.run("est_weekly:hotspotgrid", {"DATABASE": str(database), "WEEK": WEEK, "OUTPUT": "memory:"})
    store = GeoPackageStore.open(database)
    try:
        entry = store.audit_log(subject="export")[-1]
        assert (entry.subject_uuid, entry.actor) == (f"hotspotgrid {WEEK}", "EST Weekly (Processing)")
        assert entry.changes["rows"] > 0
    finally:
        store.close()


def test_processing_speaks_the_users_language_and_knows_the_open_database(provider, database) -> None:
    """QGIS's language by default, the project's EST database preselected, categories and
    organisations picked by name, saved PostGIS connections offered, metres without decimals."""
    from qgis.core import QgsProcessingParameterProviderConnection, QgsProject

    from est_weekly_plugin.domain import i18n
    from est_weekly_plugin.domain.reference import default_categories
    from est_weekly_plugin.domain.settings import remember_project_source

    remember_project_source("gpkg", str(database))
    i18n.set_language("sv")
    try:
        instance = _fresh_instances(provider)["densityraster"]
        assert instance.parameterDefinition("LANGUAGE").defaultValue() == 0  # Svenska
        assert instance.parameterDefinition("DATABASE").defaultValue() == str(database)
        categories = instance.parameterDefinition("CATEGORIES")
        assert categories.allowMultiple() and categories.options() == [c.label("sv") for c in default_categories()]
        assert "Klotter" in categories.options()
        assert isinstance(instance.parameterDefinition("CONNECTION"), QgsProcessingParameterProviderConnection)
        assert instance.parameterDefinition("RADIUS").metadata()["widget_wrapper"]["decimals"] == 0
        i18n.set_language("en")
        assert _fresh_instances(provider)["densityraster"].parameterDefinition("LANGUAGE").defaultValue() == 1
    finally:
        i18n.set_language("en")
        QgsProject.instance().removeEntry("est_weekly", "source")
