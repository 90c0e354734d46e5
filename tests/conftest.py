"""Shared fixtures: real QGIS (pytest-qgis, offscreen), real GeoPackage files, a real PostGIS.

The PostGIS cluster is started once per test session on loopback. Under ``CI=true`` a cluster
that cannot start is an error, never a skip.

Three folders, three markers: ``tests/unit`` (numpy and Python: seconds), ``tests/qgis`` (the real
QGIS, GeoPackage files; many tests also run on PostGIS) and ``tests/postgis`` (PostGIS only). Every
test that touches the PostGIS cluster — a PostGIS-only test or the PostGIS half of a test run on
both backends — is marked ``postgis`` automatically, so ``pytest -m "not postgis"`` is the fast path.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append("/usr/share/qgis/python/plugins")  # Debian's Processing plugin

import pgcluster  # noqa: E402

from est_weekly_plugin.domain import i18n  # noqa: E402

TODAY = dt.date(2026, 11, 23)
OUTPUT = ROOT / "tests" / "output"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder in ("unit", "qgis", "postgis"):
            item.add_marker(getattr(pytest.mark, folder))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "pg_cluster" in getattr(item, "fixturenames", ()) or "postgis" in params.values():
            item.add_marker(pytest.mark.postgis)


@pytest.fixture(autouse=True)
def english_by_default() -> Iterator[None]:
    """Tests read messages in English unless they switch to Swedish themselves."""
    i18n.set_language("en")
    yield
    i18n.set_language(None)


@pytest.fixture(autouse=True)
def project_without_est_entries(qgis_app) -> None:  # noqa: ANN001
    """Each test starts from a project that remembers no EST database, filter or saved filter
    (pytest-qgis's new project keeps custom entries, so one test's would leak into the next)."""
    from qgis.core import QgsProject

    from est_weekly_plugin.domain.settings import PROJECT_SCOPE

    QgsProject.instance().removeEntry(PROJECT_SCOPE, "/")


@pytest.fixture(scope="session", autouse=True)
def qgis_log_to_python(qgis_app) -> None:  # noqa: ANN001
    """Forward QGIS's message log into Python logging so failures show QGIS's own words."""
    from qgis.core import QgsApplication

    logger = logging.getLogger("qgis")

    def forward(message: str, tag: str, level: int) -> None:
        logger.warning("%s: %s", tag, message) if level >= 1 else logger.info("%s: %s", tag, message)

    QgsApplication.messageLog().messageReceived.connect(forward)


@pytest.fixture(scope="session", autouse=True)
def qgis_teardown_guard(qgis_app) -> Iterator[None]:  # noqa: ANN001
    """pytest-qgis ends the session by disconnecting ``legendLayersAdded`` from ``processEvents``
    and errors when that connection is gone (seen once in a few runs, after every test passed).
    Torn down before it (it depends on ``qgis_app``): leave exactly one connection to remove."""
    yield
    from qgis.core import QgsProject

    signal = QgsProject.instance().legendLayersAdded
    try:
        signal.disconnect(qgis_app.processEvents)
    except TypeError:
        pass
    signal.connect(qgis_app.processEvents)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgcluster.Cluster]:
    existing = pgcluster.from_environment()
    if existing is not None:
        yield existing
        return
    cluster = pgcluster.start()  # raises (test error) if PostgreSQL cannot start
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_database(pg_cluster: pgcluster.Cluster) -> str:
    pgcluster.create_database(pg_cluster, "est_test")
    return "est_test"


@pytest.fixture
def pg_info(pg_cluster: pgcluster.Cluster, pg_database: str):  # noqa: ANN201
    """Connection info for an empty database (the EST schema is dropped before each test)."""
    import psycopg2

    conn = psycopg2.connect(**pg_cluster.dsn(pg_database))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS est CASCADE")
    conn.close()
    return pgcluster.connection_info(pg_cluster, pg_database)


@pytest.fixture
def gpkg_store(tmp_path: Path):  # noqa: ANN201
    from est_weekly_plugin.store import GeoPackageStore

    store = GeoPackageStore.create(tmp_path / "est.gpkg")
    yield store
    store.close()


@pytest.fixture
def pg_store(pg_info):  # noqa: ANN001, ANN201
    from est_weekly_plugin.store import PostgisStore

    store = PostgisStore.create(pg_info)
    yield store
    store.close()


@pytest.fixture(params=["gpkg", "postgis"])
def store(request: pytest.FixtureRequest):  # noqa: ANN201
    """The same test against both backends."""
    return request.getfixturevalue("gpkg_store" if request.param == "gpkg" else "pg_store")


def make_event(**changes: object):  # noqa: ANN201
    """A valid report in central Helsingborg; tests change what they test."""
    from est_weekly_plugin.domain.model import Event

    values: dict[str, object] = dict(
        category="klotter", organisation="polisen", event_date=dt.date(2026, 11, 20), x=356500.0, y=6213700.0,
        time_from=dt.time(22, 0), time_to=dt.time(23, 30), place_name="Söder, Gustav Adolfs torg",
        description="Nya taggar på elskåp – åäö ÅÄÖ", reporter="anna.andersson",
    )
    values.update(changes)
    return Event(**values)
