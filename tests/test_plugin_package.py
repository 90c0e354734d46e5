"""The built ZIP installs into an empty QGIS profile and loads, starts and unloads cleanly."""

from __future__ import annotations

import configparser
import sys
import zipfile

import pytest
from qgis_shell import ShellInterface

from scripts import package


@pytest.fixture
def shell(qgis_iface, qgis_canvas):  # noqa: ANN001, ANN201
    from qgis.PyQt.QtWidgets import QMainWindow

    window = QMainWindow()  # the session's canvas is not reparented: it outlives this window
    return ShellInterface(qgis_canvas, qgis_iface.messageBar(), window)


@pytest.fixture
def installed_plugin(tmp_path):  # noqa: ANN001, ANN201
    """The ZIP unpacked into a fresh profile; the source tree's package is hidden meanwhile."""
    archive = package.build(tmp_path / "dist")
    plugins = tmp_path / "profiles" / "default" / "python" / "plugins"
    package.deploy(archive, plugins)
    hidden = {name: module for name, module in sys.modules.items() if name.startswith("est_weekly_plugin")}
    for name in hidden:
        del sys.modules[name]
    sys.path.insert(0, str(plugins))
    yield plugins
    sys.path.remove(str(plugins))
    for name in [n for n in sys.modules if n.startswith("est_weekly_plugin")]:
        del sys.modules[name]
    sys.modules.update(hidden)


def test_zip_contents_and_metadata(tmp_path):
    archive = package.build(tmp_path)
    names = zipfile.ZipFile(archive).namelist()
    assert "est_weekly_plugin/__init__.py" in names
    assert "est_weekly_plugin/metadata.txt" in names
    assert "est_weekly_plugin/resources/data/categories.csv" in names
    assert "est_weekly_plugin/resources/i18n/core.sv.json" in names
    assert "est_weekly_plugin/ext_libs/pyqtgraph/__init__.py" in names
    assert not [n for n in names if "/tests/" in n or n.endswith(".pyc") or "__pycache__" in n]
    metadata = configparser.ConfigParser(interpolation=None)
    metadata.read_string(zipfile.ZipFile(archive).read("est_weekly_plugin/metadata.txt").decode("utf-8"))
    general = metadata["general"]
    for key in ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
                "repository", "tracker", "tags", "icon", "changelog"):
        assert general.get(key), key
    assert general["qgisMinimumVersion"] == "3.22"
    assert f"est_weekly_plugin/{general['icon']}" in names


def test_plugin_loads_starts_and_unloads_through_qgis_utils(installed_plugin, shell, qgis_new_project):
    import qgis.utils
    from qgis.core import Qgis

    qgis.utils.iface = shell
    qgis.utils.plugin_paths = [str(installed_plugin)]
    qgis.utils.updateAvailablePlugins()
    assert "est_weekly_plugin" in qgis.utils.available_plugins
    assert qgis.utils.loadPlugin("est_weekly_plugin")
    loaded_from = sys.modules["est_weekly_plugin"].__file__
    assert loaded_from.startswith(str(installed_plugin))
    minimum = qgis.utils.pluginMetadata("est_weekly_plugin", "qgisMinimumVersion")
    assert int(minimum.replace(".", "")) * 100 <= Qgis.QGIS_VERSION_INT
    assert qgis.utils.startPlugin("est_weekly_plugin")
    from qgis.core import QgsApplication

    provider = QgsApplication.processingRegistry().providerById("est_weekly")
    assert provider is not None and len(provider.algorithms()) >= 4

    menu = shell.plugin_submenu("&EST Weekly")
    assert menu is not None
    texts = [a.text() for a in menu.actions()]
    # The installed copy follows the language QGIS runs in ("C" here): English, as QGIS does.
    assert "New EST database…" in texts and "Connect to EST on PostGIS…" in texts
    toolbar = [t for t in shell.toolbars() if t.objectName() == "EstWeeklyToolbar"]
    assert len(toolbar) == 1 and len(toolbar[0].actions()) == len(texts)
    assert all(not a.icon().isNull() for a in toolbar[0].actions())

    assert qgis.utils.unloadPlugin("est_weekly_plugin")
    assert shell.plugin_submenu("&EST Weekly") is None
    from qgis.PyQt.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not [t for t in shell.toolbars() if t.objectName() == "EstWeeklyToolbar"]
    assert "est_weekly_plugin" not in qgis.utils.plugins
    assert QgsApplication.processingRegistry().providerById("est_weekly") is None


def test_plugin_opens_a_database_and_adds_the_styled_layer(shell, qgis_new_project, tmp_path):
    from qgis.core import Qgis, QgsProject

    from est_weekly_plugin.maps.layers import find_layers
    from est_weekly_plugin.plugin import EstWeeklyPlugin
    from est_weekly_plugin.store import GeoPackageStore

    GeoPackageStore.create(tmp_path / "demo.gpkg").close()
    plugin = EstWeeklyPlugin(shell)
    plugin.initGui()
    try:
        assert plugin.open_source(f"gpkg:{tmp_path / 'demo.gpkg'}")
        layers = find_layers("events", QgsProject.instance())
        assert len(layers) == 1 and layers[0].isValid()
        assert layers[0].subsetString() == "status = 'approved' AND coalesce(location_precision, 'point') IN ('point', 'street')"
        assert len(layers[0].renderer().categories()) == 14
        source, _ = QgsProject.instance().readEntry("est_weekly", "source", "")
        assert source == f"gpkg:{tmp_path / 'demo.gpkg'}"
        assert not plugin.open_source(f"gpkg:{tmp_path / 'saknas.gpkg'}")
        shown = " ".join(shell.messageBar().get_messages(Qgis.Critical))
        assert "saknas.gpkg does not exist" in shown
        assert plugin.session.store is not None  # the working database stays open
    finally:
        plugin.unload()
